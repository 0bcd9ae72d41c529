/* pcidev.h - the device model read from sysfs (addresses and selectors: pciaddr.h) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_PCIDEV_H
#define PCIBIND_PCIDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "pciaddr.h"
#include "sysroot.h"

/* What the host uses a function for; filled by usage.c */
enum pcifn_use {
	USE_CONSOLE = 1 << 0, /* boot VGA carrying a console or framebuffer */
	USE_MOUNT = 1 << 1,   /* a mounted filesystem lives below it */
	USE_SWAP = 1 << 2,    /* active swap lives below it */
	USE_ROUTE = 1 << 3,   /* a NIC carrying the default route */
	USE_INPUT = 1 << 4,   /* a USB (or other) controller with an input device */
};
#define PCIFN_N_USES 5
/* the index of a use flag in pcifn.use_details */
#define PCIFN_USE_INDEX(flag) ((unsigned)__builtin_ctz(flag))

/* The vfio variant driver the kernel's modules.alias names for a function (variant.c) */
struct variant_pick {
	char module[DRIVER_NAME_MAX]; /* "mlx5_vfio_pci"; "" when no vfio_pci alias matches */
	char driver[DRIVER_NAME_MAX]; /* its PCI driver ("mlx5_vfio_pci", "vfio-pci"), "" while the module is not loaded
				       */
	char alias[96];		      /* the winning "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*" */
	int wildcards;		      /* its number of '*' fields (fewest wins) */
	char why[160];		      /* when module is "": why not ("no modules.alias for 6.1.0-27-amd64") */
};

struct pcifn {
	struct pciaddr addr;
	char name[PCIADDR_STRLEN]; /* formatted address */
	uint16_t vendor, device;
	uint16_t subvendor, subdevice;
	uint32_t class;	    /* 0xCCSSPP */
	char *driver;	    /* NULL: no driver bound */
	char *override;	    /* NULL: "(null)" */
	int group;	    /* IOMMU group, -1: none */
	int boot_vga;	    /* 1, 0, or -1 when the file is absent */
	char *reset_method; /* NULL when the attribute is absent */
	int sriov_numvfs;   /* -1 when not a PF */
	int sriov_totalvfs;
	enum autoprobe sriov_autoprobe;
	int sriov_offset, sriov_stride; /* PF: where its VFs sit (routing ID offset, stride); -1: unknown */
	int vf_index;			/* VF: its number N (the PF's virtfnN link); -1: unknown */
	struct variant_pick *variant;	/* NULL: not looked up (variant_annotate()) */
	bool is_vf;
	bool busy;	    /* the kernel holds its lock (an unbind waiting for a VFIO user): override unknown */
	bool locked_unread; /* driverless, scanned deferred: override and sriov_numvfs not read yet */
	char physfn[PCIADDR_STRLEN];	 /* PF address when is_vf */
	unsigned uses;			 /* enum pcifn_use */
	char *use_detail;		 /* all uses: "/ on nvme0n1p2; swap on nvme0n1p3" ... */
	char *use_details[PCIFN_N_USES]; /* each use's own, by PCIFN_USE_INDEX() */
	/* identity.c, read only when asked (identity_annotate()) */
	bool serial_known; /* the config space was read: has_serial says whether it has one */
	bool has_serial;
	uint64_t serial; /* PCIe Device Serial Number */
	char slot[64];	 /* the physical slot (bus/pci/slots/NAME) whose address is this function's; "" none */
};

/* A physical slot: bus/pci/slots/NAME/address, DDDD:BB:SS */
struct pcislot {
	char name[64];
	struct pciaddr addr; /* fn 0 */
};

struct pcihost {
	struct pcifn *fns; /* sorted by address */
	size_t n;
	bool iommu;	       /* /sys/kernel/iommu_groups holds at least one group */
	struct pcislot *slots; /* identity_annotate(); NULL before */
	size_t n_slots;
	bool identity_read;
};

/* what the journal records of f (struct fnstate: journal.h) */
int fnstate_from_fn(const struct pcifn *f, struct fnstate *ret);

/* Read one function; -ENOENT if it does not exist. */
int pcifn_read(const struct sysroot *r, const struct pciaddr *a, struct pcifn *ret);
/*
 * Only its address, ids and class (one read of modalias, the attributes
 * where it is absent): for the udev rule, which must not read more per event.
 * -ENOENT if it does not exist.
 */
int pcifn_read_ids(const struct sysroot *r, const struct pciaddr *a, struct pcifn *ret);
void pcifn_clear(struct pcifn *f);
/* deep copy */
int pcifn_copy(const struct pcifn *src, struct pcifn *ret);

/* Enumerate every function under sys/bus/pci/devices, sorted. */
int pcihost_scan(const struct sysroot *r, struct pcihost **ret);
/*
 * The same without the attributes of driverless functions that need the
 * guarded child of devlock.c (each marked locked_unread): a caller that
 * acts on a few functions reads them for those with pcihost_read_locked()
 * and spares the fork when they all have drivers.
 */
int pcihost_scan_deferred(const struct sysroot *r, struct pcihost **ret);
enum pcihost_scan_flags {
	PCIHOST_DEFERRED = 1 << 0, /* as pcihost_scan_deferred() */
	/*
	 * every reset_method left NULL, for a caller that neither shows it
	 * nor plans with it: on a host of thousands of VFs (which mostly
	 * have none) that is thousands of failing opens
	 */
	PCIHOST_NO_RESET_METHOD = 1 << 1,
};
int pcihost_scan_with(const struct sysroot *r, unsigned flags, struct pcihost **ret);
/* Read them for h->fns[i] with want[i] (want NULL: every one still unread) */
int pcihost_read_locked(const struct sysroot *r, struct pcihost *h, const bool *want);
/* the functions found busy (of want, NULL: all), read again with a longer deadline (a probe at boot holds the lock for
 * seconds on a slow machine); how many are still busy, or -errno */
int pcihost_reread_busy(const struct sysroot *r, struct pcihost *h, const bool *want, unsigned timeout_ms);
void pcihost_free(struct pcihost *h);
struct pcifn *pcihost_find(const struct pcihost *h, const struct pciaddr *a);
/* The PF of a VF, NULL when it is not one or its PF is not in h */
struct pcifn *pcihost_physfn(const struct pcihost *h, const struct pcifn *vf);
/* The VFs of a PF present in h, in index order, into ret (n at most): their number */
size_t pcihost_vfs(const struct pcihost *h, const struct pcifn *pf, const struct pcifn **ret, size_t n);

static inline bool pcifn_is_bridge(const struct pcifn *f)
{
	return (f->class >> 16) == 0x06 && ((f->class >> 8) & 0xff) != 0x80;
}

static inline bool pcifn_is_vga(const struct pcifn *f)
{
	return (f->class >> 8) == 0x0300;
}

static inline bool pcifn_is_display(const struct pcifn *f)
{
	return (f->class >> 16) == 0x03;
}

#endif
