/* tmproot.h - a temporary directory opened as a sysroot, for the unit tests that need a filesystem */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_TMPROOT_H
#define PCIBIND_TMPROOT_H

#include <stdio.h>
#include <stdlib.h>

#include "sysroot.h"

/* mkdtemp /tmp/pcibind-TAG.XXXXXX into dir, opened as a root; NULL on failure */
static inline struct sysroot *tmproot_open(char *dir, size_t size, const char *tag)
{
	struct sysroot *r = NULL;

	if ((size_t)snprintf(dir, size, "/tmp/pcibind-%s.XXXXXX", tag) >= size || !mkdtemp(dir) ||
	    sysroot_open(dir, &r) < 0)
		return NULL;
	return r;
}

/* the root closed and its directory removed */
static inline void tmproot_remove(struct sysroot *r, const char *dir)
{
	char cmd[128];

	sysroot_free(r);
	if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < sizeof(cmd))
		(void)!system(cmd);
}

#endif
