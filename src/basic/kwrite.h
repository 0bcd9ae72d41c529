/* kwrite.h - one sysfs write in a child process, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_KWRITE_H
#define PCIBIND_KWRITE_H

#include <sys/types.h>

#include "sysroot.h"

/*
 * Write data to rel (one write(2)). Returns 0, the -errno the kernel gave,
 * or -ETIMEDOUT when the write did not finish in timeout_ms; then the
 * child is left behind (blocked in the kernel) and *ret_stuck is its pid.
 */
int kwrite(const struct sysroot *r, const char *rel, const char *data, unsigned timeout_ms, pid_t *ret_stuck);

#endif
