/* detect.h - what system is below the root: distro, bootloader, initramfs tool, CPU, kernels, IOMMU */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_DETECT_H
#define PCIBIND_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "sysroot.h"

enum bootloader {
	BOOT_UNKNOWN,
	BOOT_GRUB,	     /* /etc/default/grub, update-grub or grub(2)-mkconfig */
	BOOT_PROXMOX_SDBOOT, /* /etc/kernel/cmdline, proxmox-boot-tool refresh */
	BOOT_KERNEL_INSTALL, /* /etc/kernel/cmdline, kernel-install */
	BOOT_GRUBBY,	     /* Fedora BLS: grubby --update-kernel=ALL --args= */
	BOOT_KERNELSTUB,     /* Pop!_OS: /etc/kernelstub/configuration */
};

enum initrd_tool {
	INITRD_NONE,
	INITRD_TOOLS, /* initramfs-tools: update-initramfs */
	INITRD_DRACUT,
	INITRD_MKINITCPIO,
};

enum cpu_vendor {
	CPU_OTHER,
	CPU_INTEL,
	CPU_AMD, /* and Hygon */
};

struct kernel {
	char version[64];
	unsigned major, minor;	    /* 0.0: not parsed */
	bool vfio_pci_builtin;	    /* modules.builtin lists vfio-pci */
	int intel_iommu_default_on; /* CONFIG_INTEL_IOMMU_DEFAULT_ON in boot/config-VER: 1, 0, -1 unknown */
	char image[128];	    /* "/boot/vmlinuz-VER" or "/usr/lib/modules/VER/vmlinuz", "" if none */
};

/* driver name in sysfs -> module that provides it ("xhci_hcd" -> "xhci_pci"); module "" if built in */
struct drvmod {
	char driver[64];
	char module[64];
};

struct system {
	char os_id[32];	   /* os-release ID: debian, ubuntu, fedora, pop, arch, ... */
	char os_like[128]; /* os-release ID_LIKE */
	char os_name[128]; /* PRETTY_NAME */
	bool proxmox;	   /* Proxmox VE (pve-manager, /etc/pve or proxmox-boot-uuids) */
	enum bootloader boot;
	bool grub_dropin;	  /* /etc/default/grub.d/ *.cfg is sourced (Debian's grub-mkconfig) */
	bool proxmox_boot_tool;	  /* /etc/kernel/proxmox-boot-uuids: ESPs kept by proxmox-boot-tool */
	const char *grub_refresh; /* update-grub, grub2-mkconfig -o ..., grub-mkconfig -o ... */
	enum initrd_tool initrd;
	unsigned initrd_packaged; /* 1 << enum initrd_tool: that tool's integration came with pcibind's package */
	int efi;		  /* booted by EFI (sys/firmware/efi): 1, 0 */
	enum cpu_vendor cpu;
	bool vmx, svm; /* CPU flags in proc/cpuinfo */
	bool have_cpuinfo;
	struct kernel *kernels; /* lib/modules/ *, sorted by version */
	size_t n_kernels;
	char running[64]; /* proc/sys/kernel/osrelease, "" if unknown */
	struct drvmod *drvmods;
	size_t n_drvmods;
	int iommu;		    /* sys/class/iommu has a unit and sys/kernel/iommu_groups a group: 1, 0 */
	int irq_remap;		    /* interrupt remapping: 1 on, 0 off, -1 unknown */
	char irq_remap_source[128]; /* where that came from */
	char *cmdline;		    /* proc/cmdline, NULL if unreadable */
	char *bls_options;	    /* grubby: "options" of the first boot/loader/entries/ *.conf, NULL if none */
	bool modules_loaded[3];	    /* vfio, vfio_iommu_type1, vfio_pci in sys/module */
};

int detect_system(const struct sysroot *r, struct system **ret);

/* The VFIO cdev (/dev/vfio/devices/vfioN, bound through iommufd's /dev/iommu) of the running kernel */
struct vfio_cdev {
	int seen;     /* sys/class/vfio-dev: 1 a device with a dev attribute, 0 devices without one, -1 none */
	char config;  /* CONFIG_VFIO_DEVICE_CDEV in the kernel's config: 'y', 'n', 0 no config found */
	bool iommufd; /* dev/iommu */
};
/* running NULL: proc/sys/kernel/osrelease */
void detect_vfio_cdev(const struct sysroot *r, const char *running, struct vfio_cdev *ret);
/* 1 offered, 0 not, -1 unknown */
int vfio_cdev_offered(const struct vfio_cdev *c);
/* for the methods' detect (bootops.h) */
bool detect_exists(const struct sysroot *r, const char *rel);
bool detect_have_tool(const struct sysroot *r, const char *name);
/* os-release ID or one of ID_LIKE is id */
bool system_os_is(const struct system *s, const char *id);
void system_free(struct system *s);
struct modaliases;
/*
 * modules.alias of the kernel the next boot is likely to run: the running
 * one's when it has one, else the newest below lib/modules (an image).
 * -ENOENT when none has one.
 */
int detect_modaliases(const struct sysroot *r, const struct system *s, struct modaliases **ret);

const char *bootloader_name(enum bootloader b);
const char *initrd_tool_name(enum initrd_tool t);
const char *cpu_vendor_name(enum cpu_vendor c);

/* "6.1.0-13-amd64" -> 6, 1; -EINVAL if it does not start with N.N */
int kernel_version_parse(const char *v, unsigned *ret_major, unsigned *ret_minor);

#endif
