/* pcitree.h - which bridge each function sits below, and why IOMMU groups are as large as they are */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_PCITREE_H
#define PCIBIND_PCITREE_H

#include <stddef.h>

#include "pcidev.h"
#include "sysroot.h"

#define ROOTBUS_STRLEN 24

struct pcitree {
	const struct pcihost *h;
	long *parent;			 /* per h->fns: index of the upstream bridge, -1 on a root bus */
	char (*rootbus)[ROOTBUS_STRLEN]; /* per h->fns: its root bus ("pci0000:00"), from the sysfs path */
};

/*
 * From each function's sysfs path (sys/bus/pci/devices/ADDR links to
 * devices/pci0000:00/0000:00:01.0/0000:01:00.0, as libpci's parent is
 * found): its parent bridge. A function whose link cannot be read sits on
 * a root bus of its domain.
 */
int pcitree_build(const struct sysroot *r, const struct pcihost *h, struct pcitree **ret);
void pcitree_free(struct pcitree *t);

/* how many levels of bridges are above h->fns[i] */
size_t pcitree_depth(const struct pcitree *t, size_t i);

/*
 * Why f and s share an IOMMU group, as the kernel's pci_device_group()
 * decides it: one sentence into buf naming the multi-function device
 * without ACS between its functions, or the bridge or port whose missing
 * ACS isolation puts what is below it into one group. Returns buf.
 */
const char *pcitree_why_shared(const struct pcitree *t, size_t f, size_t s, char *buf, size_t size);

/*
 * For group g: the function where it starts (the member whose parent is
 * not in the group, the shallowest; -1 if g has no function) and why it
 * has more than one member, as above ("" for a group of one).
 */
long pcitree_group_top(const struct pcitree *t, int g);
const char *pcitree_why_group(const struct pcitree *t, int g, char *buf, size_t size);

#endif
