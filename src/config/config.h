/* config.h - /etc/pcibind/pcibind.conf and conf.d, validated */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_CONFIG_H
#define PCIBIND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcidev.h"
#include "sysroot.h"

#define CONFIG_FILE		      "etc/pcibind/pcibind.conf"
#define CONFIG_DROPIN_DIR	      "etc/pcibind/conf.d"
#define CONFIG_DEFAULT_DRIVER	      "vfio-pci"
#define CONFIG_DEFAULT_UNBIND_TIMEOUT 10
/* driver = auto: the vfio variant driver modules.alias names, else vfio-pci (variant.h) */
#define DRIVER_AUTO "auto"

struct pciids {
	uint16_t vendor;
	uint16_t device;
};

/* One [section]: a set of functions handled together. */
struct devset {
	char name[SELECTOR_NAME_MAX];
	char *file; /* where the section was (last) defined */
	unsigned line;
	struct selector *addrs; /* SEL_FUNCTION or SEL_SLOT only */
	size_t n_addrs;
	struct pciids *ids; /* guard when addrs are given, else the selector */
	size_t n_ids;
	char *driver; /* NULL: the global driver */
	bool boot;
	bool release_console; /* single-GPU hosts: free vtconsoles and firmware framebuffers first */
	char **stop_units;    /* systemd units stopped before binding, started after restoring */
	size_t n_stop_units;
	char *reset_method; /* "flr bus" style list set while bound, restored after; NULL: leave */
	int sriov_numvfs;   /* VFs each selected PF gets; the set binds VFs, not the PF; 0: not an SR-IOV set */
	uint16_t *vfs;	    /* the VF numbers it binds, ascending; none listed: all of them */
	size_t n_vfs;
	unsigned sriov_line, vfs_line; /* where the keys were, for errors that span keys */
	/* the recorded identity of the device at the set's (first) address, beyond its ids */
	struct pciids *subsys; /* subsystem vendor:device, each function's among them; n_subsys 0: not recorded */
	size_t n_subsys;
	bool has_serial;
	uint64_t serial; /* PCIe Device Serial Number of the first function */
	char *slot;	 /* the physical slot (bus/pci/slots/NAME) the first address sits in; NULL: not recorded */
	bool follow;	 /* at boot, bind the device where its serial number is found now */
	unsigned identity_line; /* the first identity key, for errors that span keys */
};

/* Where a [pcibind] key was set; file NULL: the built-in default */
struct config_origin {
	char *file;
	unsigned line;
};

struct config {
	char *driver;		 /* [pcibind] driver, default vfio-pci */
	unsigned unbind_timeout; /* seconds, 1..600 */
	struct devset *sets;
	size_t n_sets;
	/* [pcibind] may appear in several files, each key once: where it was */
	struct config_origin driver_origin;
	struct config_origin unbind_timeout_origin;
	/* persistent setup (pcibind generate) and hooks */
	bool iommu_pt;		      /* add iommu=pt to the kernel command line */
	bool kvm_ignore_msrs;	      /* options kvm ignore_msrs=1 */
	bool allow_unsafe_interrupts; /* vfio_iommu_type1, only where interrupt remapping is missing */
	char **blacklist;	      /* host drivers to blacklist outright */
	size_t n_blacklist;
	bool libvirt_all; /* libvirt hook: every PCI hostdev, not only managed='no' */
	struct config_origin iommu_pt_origin, kvm_ignore_msrs_origin, allow_unsafe_interrupts_origin;
	struct config_origin blacklist_origin, libvirt_all_origin;
};

/* Where a config error is; msg is complete ("unknown key 'adress'") */
struct config_error {
	char file[4096];
	unsigned line; /* 0: the whole file */
	char msg[512];
};

/*
 * Load CONFIG_FILE and CONFIG_DROPIN_DIR/ *.conf (lexical order). A missing
 * main file is an empty config. Files must be regular, owned by root (or
 * the caller's euid) and not writable by group or others.
 * On error returns -EINVAL (or -errno) and fills *err.
 */
int config_load(const struct sysroot *r, struct config **ret, struct config_error *err);

/*
 * config_load() as if the file rel (CONFIG_FILE or CONFIG_DROPIN_DIR/NAME.conf)
 * held text (NULL: as if it were absent): an edit checked before it is
 * written. -EINVAL for another rel.
 */
int config_load_text(const struct sysroot *r, const char *rel, const char *text, struct config **ret,
		     struct config_error *err);

/* Parse one file's text into cfg (for tests and fuzzing): 0 or -EINVAL with *err */
int config_parse_text(struct config *cfg, const char *text, const char *filename, struct config_error *err);
/* Checks that span files (a section without address or ids, duplicate addresses) */
int config_finish(struct config *cfg, struct config_error *err);

struct config *config_new(void);
void config_free(struct config *cfg);

const struct devset *config_find_set(const struct config *cfg, const char *name);
/* The driver a set binds to */
const char *devset_driver(const struct config *cfg, const struct devset *set);
/* Does address a (with these ids) belong to the set's selection? Ignores the ids guard. */
bool devset_selects(const struct devset *set, const struct pciaddr *a, uint16_t vendor, uint16_t device);
/* An SR-IOV set: its selection names PFs, and it binds their VFs */
static inline bool devset_is_sriov(const struct devset *set)
{
	return set && set->sriov_numvfs > 0;
}
/* Does an SR-IOV set bind VF number n of its PFs? */
bool devset_wants_vf(const struct devset *set, int n);
/* Does the set record more than vendor:device (subsystem, serial, slot)? */
static inline bool devset_has_identity(const struct devset *set)
{
	return set && (set->n_subsys || set->has_serial || set->slot);
}
static inline bool driver_is_auto(const char *driver)
{
	return driver && strcmp(driver, DRIVER_AUTO) == 0;
}

/* The set a function belongs to: a set's address or ids, or an SR-IOV set's PF and VF number; NULL: none */
const struct devset *config_owner_set(const struct config *cfg, const struct pcihost *h, const struct pcifn *f);

#endif
