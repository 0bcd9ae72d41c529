/* hook-record.h - what a hook handed to one VM at its start, kept in /run/pcibind/vm until it stops */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HOOK_RECORD_H
#define PCIBIND_HOOK_RECORD_H

#include <stddef.h>

#include "journal.h"
#include "pciaddr.h"
#include "sysroot.h"

/* The functions a hook hands to a VM and back, each with where it came from */
struct hook_devs {
	struct pciaddr *addrs;
	char (*origin)[32]; /* "hostpci0", "hostdev at line 12" */
	size_t n;
};

void hook_devs_free(struct hook_devs *d);
/* The origin of a function moved only because it shares an IOMMU group with a passed one */
#define HOOK_GROUP_ORIGIN "IOMMU group of "
bool hook_origin_is_group(const char *origin);
/* append a unique function; 0 or -ENOMEM */
int hook_devs_add(struct hook_devs *d, const struct pciaddr *a, const char *origin);
bool hook_devs_has(const struct hook_devs *d, const struct pciaddr *a);

#define HOOK_RECORD_SUBDIR "vm"
#define HOOK_RECORD_DIR	   RUN_DIR "/" HOOK_RECORD_SUBDIR
/* a VM hands over at most a few dozen functions; anything longer was not written by pcibind */
#define HOOK_RECORD_MAX (64u << 10)

/*
 * The record of one VM: "run/pcibind/vm/proxmox-100", "run/pcibind/vm/libvirt-win11".
 * A libvirt name is data: bytes other than [A-Za-z0-9_-] are written %XX,
 * a long name is cut and given a hash of the whole. 0 or -ENAMETOOLONG.
 */
int hook_record_path(const char *kind, const char *name, char *buf, size_t size);

/*
 * The functions the record lists, each with origin "recorded at start".
 * -ENOENT: no record. -EBADMSG with *ret_line: a line that is no PCI
 * address (the file was not written by pcibind). -EFBIG: too large.
 */
int hook_record_load(const struct sysroot *r, const char *rel, struct hook_devs *ret, unsigned *ret_line);
/* Replace the record atomically (mode 0600); an empty list removes it */
int hook_record_save(const struct sysroot *r, const char *rel, const struct hook_devs *d, const char *vm);
int hook_record_remove(const struct sysroot *r, const char *rel);

#endif
