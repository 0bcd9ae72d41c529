/* devlock.h - reading attributes whose show() takes the device lock, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_DEVLOCK_H
#define PCIBIND_DEVLOCK_H

#include <stddef.h>

#include "pcidev.h"

#define DEVLOCK_TIMEOUT_MS 500

/*
 * Fill override and sriov_numvfs of fns (read from sys/bus/pci/devices/NAME
 * below the root). A function the kernel keeps locked longer than
 * timeout_ms is marked busy. Returns how many are busy.
 */
int devlock_read(const struct sysroot *r, struct pcifn **fns, size_t n, unsigned timeout_ms);

#endif
