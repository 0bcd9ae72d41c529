/* variant.h - the vfio variant driver for a function, as the kernel's modules.alias names it */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_VARIANT_H
#define PCIBIND_VARIANT_H

#include <stdbool.h>

#include "pcidev.h"
#include "sysroot.h"

/* libvirt reads at most this much of modules.alias; so do we */
#define MODULES_ALIAS_MAX (8u << 20)

/*
 * A vfio variant driver (mlx5_vfio_pci, hisi_acc_vfio_pci, ...) matches only
 * through driver_override; depmod lists its ids as "alias vfio_pci:PATTERN
 * MODULE" lines (file2alias.c, PCI_DRIVER_OVERRIDE_DEVICE_VFIO). The rule is
 * libvirt's (virPCIDeviceFindBestVFIOVariant()): of every such line whose
 * seven fields (v d sv sd bc sc i) match the function's modalias, each field
 * equal or "*", the one with the fewest "*" wins, the first of equals. On
 * Linux 6.1 and later vfio_pci itself has the all-"*" line, so a function
 * with no variant gets vfio_pci.
 */
struct variant_table;

/* The vfio_pci: lines of a modules.alias text; lines not in the kernel's format are skipped */
int variant_table_parse(const char *text, struct variant_table **ret);
void variant_table_free(struct variant_table *t);
/*
 * modules.dep's word on which modules are VFIO PCI drivers: where
 * vfio-pci-core is a module, a listed module that does not depend on it
 * is not (its vfio_pci: lines are never chosen). variant_table_parse()
 * already leaves out the lines of a module with pci: aliases (a host driver).
 */
void variant_table_deps(struct variant_table *t, const char *modules_dep);
/* Number of vfio_pci: lines kept */
size_t variant_table_size(const struct variant_table *t);

/* The best line for f, into *ret (module "" and why set when none matches) */
void variant_match(const struct variant_table *t, const struct pcifn *f, struct variant_pick *ret);

/*
 * lib/modules/RELEASE/modules.alias below the root, RELEASE from
 * proc/sys/kernel/osrelease (the running kernel, as uname(2) says on the
 * host): a regular file of at most MODULES_ALIAS_MAX bytes. On failure
 * -errno with why (the file and the reason) filled.
 */
int variant_table_load(const struct sysroot *r, struct variant_table **ret, char *why, size_t size);

/*
 * The PCI driver a loaded module registered: the pci:NAME entry of
 * sys/module/MODULE/drivers. Upstream variants register KBUILD_MODNAME
 * ("mlx5_vfio_pci" registers "mlx5_vfio_pci"); vfio_pci registers "vfio-pci".
 * -ENOENT when the module is not loaded or registered no PCI driver.
 */
int variant_module_driver(const struct sysroot *r, const char *module, char *buf, size_t size);

/*
 * f->variant for every function of h with want[i] (want NULL: all), from
 * one read of modules.alias; driver names of loaded modules filled in.
 * Without a readable modules.alias each pick says why and names no module.
 */
int variant_annotate(const struct sysroot *r, struct pcihost *h, const bool *want);

/* The driver f goes to under "auto": its variant's driver (or module, not loaded yet), else vfio-pci */
const char *variant_target(const struct pcifn *f);

#endif
