/* modalias.h - which modules could drive a function: its modalias against modules.alias, as kmod matches it */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_MODALIAS_H
#define PCIBIND_MODALIAS_H

#include <stdbool.h>
#include <stddef.h>

#include "pcidev.h"
#include "sysroot.h"

struct modaliases;

/*
 * The "alias pci:..." lines of lib/modules/RELEASE/modules.alias below the
 * root, and the aliases of the drivers built into the kernel (from
 * modules.builtin.modinfo, as depmod reads them), for
 * the running kernel's RELEASE (proc/sys/kernel/osrelease). -ENOENT when
 * neither file is there; an error reading one is returned.
 */
int modaliases_load(const struct sysroot *r, struct modaliases **ret);
/* the same for a given release (tests) */
int modaliases_load_release(const struct sysroot *r, const char *release, struct modaliases **ret);
void modaliases_free(struct modaliases *m);

/* "pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00", as the kernel's pci_uevent() writes it */
void modalias_of(const struct pcifn *f, char *buf, size_t size);

/*
 * The modules whose aliases match (fnmatch(3), as kmod does), in the order
 * libkmod returns them (depmod's module order, the order of the file),
 * each once; the built-in ones only when no module matches, as kmod looks
 * them up last. Up to max names into ret, pointing into m; the count found.
 */
size_t modaliases_match(const struct modaliases *m, const char *modalias, const char **ret, size_t max);
/* a module with a "pci:" alias of that name ('-' and '_' alike, as kmod takes them) */
bool modaliases_has_module(const struct modaliases *m, const char *module);
/* the same, loadable modules only (what a softdep can order) */
size_t modaliases_match_modules(const struct modaliases *m, const char *modalias, const char **ret, size_t max);

#endif
