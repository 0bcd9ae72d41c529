/* devlock.h - reading attributes whose show() takes the device lock, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_DEVLOCK_H
#define PCIBIND_DEVLOCK_H

#include <stddef.h>

#include "pcidev.h"

#define DEVLOCK_TIMEOUT_MS 500

/*
 * Fill override and sriov_numvfs of fns (whose names are entries of the
 * sys/bus/pci/devices directory devfd). A function the kernel keeps
 * locked longer than timeout_ms is marked busy. Returns how many are busy.
 */
int devlock_read(int devfd, struct pcifn **fns, size_t n, unsigned timeout_ms);

#endif
