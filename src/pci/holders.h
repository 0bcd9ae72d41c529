/* holders.h - the processes that hold a function's device nodes, as /proc shows them */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HOLDERS_H
#define PCIBIND_HOLDERS_H

#include <stddef.h>

#include "pcidev.h"
#include "sysroot.h"

/* Processes holding a function's device nodes (/dev/vfio/N, /dev/dri/..., /dev/nvidia*) */
int holders_describe(const struct sysroot *r, const struct pcifn *f, char *buf, size_t size);

/* A process holding one of a function's VFIO nodes: a VM's QEMU, or whatever else opened the group */
struct holder {
	unsigned long pid;
	char comm[64];
	char node[64]; /* "/dev/vfio/2", "/dev/vfio/devices/vfio0" */
};

/*
 * The processes holding f's VFIO nodes (its group's /dev/vfio/N, its
 * /dev/vfio/devices/vfioX): the first max into ret, how many there are.
 */
int holders_vfio(const struct sysroot *r, const struct pcifn *f, struct holder *ret, size_t max);

#endif
