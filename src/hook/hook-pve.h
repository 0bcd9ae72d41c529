/* hook-pve.h - Proxmox's own files beside the VM config: PCI mappings, reservations, storages (hook-proxmox.c
 * only) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HOOK_PVE_H
#define PCIBIND_HOOK_PVE_H

#include <stdbool.h>
#include <stddef.h>

#include "hook-proxmox.h"

/* One alternative of a hostpci entry: the functions QEMU gets when it is chosen */
struct pve_alt {
	char *path; /* a mapping entry's "ID;ID" (NULL for host=: the entry's own) */
	struct pciaddr fns[64];
	size_t n;
};

void pve_alts_free(struct pve_alt *alts, size_t n);

/* A complete message into err; returns code */
int pve_errf(char *err, size_t size, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* PVE::JSONSchema pve-configid: a letter, then at least one of [A-Za-z0-9_-] */
bool pve_configid_valid(const char *s);
/* JSONSchema parse_boolean(): 1, 0, or -1 for anything else */
int pve_parse_boolean(const char *s);

/*
 * The alternatives mapping name offers on env->node, each checked as
 * PVE::Mapping::PCI assert_valid() does (one that fails refuses the whole
 * start, as parse_hostpci() dies). 0 with *ret (paths set, fns empty), or
 * -EINVAL/-ENODEV/-ENOMEM with err.
 */
int pve_mapping_alts(const struct pve_env *env, const char *key, const char *name, struct pve_alt **ret, size_t *ret_n,
		     char *err, size_t size);

#endif
