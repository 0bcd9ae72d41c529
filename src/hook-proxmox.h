/* hook-proxmox.h - a Proxmox VM config's hostpciN entries, resolved to PCI functions */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HOOK_PROXMOX_H
#define PCIBIND_HOOK_PROXMOX_H

#include <stdbool.h>
#include <stddef.h>

#include "pcidev.h"

#define PVE_VM_CONF_FMT "etc/pve/qemu-server/%s.conf"
#define PVE_PCI_MAPPING "etc/pve/mapping/pci.cfg"
#define PVE_HOSTNAME "etc/hostname"

/* The functions a hook hands to a VM and back, each with where it came from */
struct hook_devs {
	struct pciaddr *addrs;
	char (*origin)[32]; /* "hostpci0", "hostdev 2" */
	size_t n;
};

void hook_devs_free(struct hook_devs *d);
/* append a unique function; 0 or -ENOMEM */
int hook_devs_add(struct hook_devs *d, const struct pciaddr *a, const char *origin);

/* "100".."999999999", digits only, no leading zero: the only VMIDs a path is built from */
bool proxmox_vmid_valid(const char *s);

/*
 * The functions of the VM config's [main] section (snapshot sections are
 * ignored): every hostpciN in every form Proxmox accepts. Slots are expanded
 * to the functions h has; an address h lacks, a mapping without an entry
 * for node, a mapped device whose ids differ are errors (-EINVAL, -ENODEV)
 * with a complete message in err. map_text may be NULL (no mapping file).
 */
int proxmox_vm_devices(const char *vm_text, const char *map_text, const char *node, const struct pcihost *h,
		       struct hook_devs *ret, char *err, size_t size);

#endif
