/* identity.h - what tells a device apart beyond its address: subsystem ids, serial number, physical slot */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_IDENTITY_H
#define PCIBIND_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcidev.h"
#include "sysroot.h"

/*
 * The PCIe Device Serial Number of a function, from its config space
 * (extended capability 0x0003, the serial's lower dword first). Only root
 * reads past the first 64 bytes (pci_read_config()): a config space that is
 * short or unreadable is "unknown", never "none".
 * Returns 1 with *ret, 0 when the function has no such capability, -errno
 * (-ENODATA: the extended space could not be read) when unknown.
 */
int identity_read_serial(const struct sysroot *r, const char *name, uint64_t *ret);

/* the address of the physical slot name (bus/pci/slots/NAME/address, function 0): 0, -EINVAL, -ENOENT */
int identity_read_slot(const struct sysroot *r, const char *name, struct pciaddr *ret);
/* f's serial number: f->serial_known, has_serial, serial (unknown when its config cannot be read whole) */
void identity_read_fn_serial(const struct sysroot *r, struct pcifn *f);

/*
 * The identity of every function of h: its serial (f->serial_known,
 * f->has_serial) and the physical slot it sits in (f->slot), and the
 * host's slots (h->slots), read from sys/bus/pci/slots/ * /address.
 * Unreadable facts stay unknown; only -ENOMEM fails.
 */
int identity_annotate(const struct sysroot *r, struct pcihost *h);

/* The first function (lowest address) whose serial number is dsn, NULL: none known */
const struct pcifn *identity_find_serial(const struct pcihost *h, uint64_t dsn);
/* The slot of that name, NULL: the host has none */
const struct pcislot *identity_find_slot(const struct pcihost *h, const char *name);

#endif
