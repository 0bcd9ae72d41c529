/* check-vm.h - is one VM ready for its PCI devices? (cmd-check-vm.c, run by pcibind check) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_CHECK_VM_H
#define PCIBIND_CHECK_VM_H

#include "cmd.h"
#include "config.h"
#include "pcidev.h"

/* the levels of a finding, as cmd-check.c prints them */
enum { CHECK_OK, CHECK_INFO, CHECK_WARN, CHECK_FAIL };

typedef void (*check_add_fn)(void *data, int level, const char *what, const char *fix, const char *msg);

struct check_vm_env {
	struct ctx *c;
	const struct config *cfg;
	const struct pcihost *h; /* scanned, with its uses */
	check_add_fn add;
	void *data;
};

/*
 * check --vm VMID (Proxmox) or --domain NAME|FILE (libvirt): the findings
 * for that VM through add. 0, or an exit status when the VM cannot be read
 * at all (said on stderr).
 */
int check_vm(const struct check_vm_env *e);

/* The plain check: a warning for each VM with PCI devices and no pcibind hook */
void check_vm_hooks(const struct check_vm_env *e);

#endif
