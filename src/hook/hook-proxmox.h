/* hook-proxmox.h - a Proxmox VM config's hostpciN entries, resolved to the PCI functions qemu-server will
 * pass */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_HOOK_PROXMOX_H
#define PCIBIND_HOOK_PROXMOX_H

#include <stdbool.h>
#include <stddef.h>

#include "hook-record.h"
#include "pcidev.h"
#include "sysroot.h"

#define PVE_VM_CONF_DIR "etc/pve/qemu-server"
#define PVE_VM_CONF_FMT PVE_VM_CONF_DIR "/%s.conf"
#define PVE_PCI_MAPPING "etc/pve/mapping/pci.cfg"
#define PVE_STORAGE_CFG "etc/pve/storage.cfg"
#define PVE_HOSTNAME	"etc/hostname"
/* qemu-server PCI.pm: $PCIID_RESERVATION_FILE under $RUNDIR (/run/qemu-server) */
#define PVE_RESERVATIONS "run/qemu-server/pci-id-reservations"
/* Helpers.pm vm_pidfile_name(): read below /run (it is /var/run), compared as QEMU's -pidfile names it */
#define PVE_PIDFILE_FMT	    "run/qemu-server/%lu.pid"
#define PVE_PIDFILE_ARG_FMT "/var/run/qemu-server/%lu.pid"
/* PCI.pm $hostpci_fmt romfile: "must be located in /usr/share/kvm/" */
#define PVE_ROM_DIR "usr/share/kvm"
/* PCI.pm $MAX_HOSTPCI_DEVICES: the config schema knows hostpci0..hostpci15, nothing above */
#define PVE_HOSTPCI_MAX 16

/* "100".."999999999", digits only, no leading zero: the only VMIDs a path is built from */
bool proxmox_vmid_valid(const char *s);

/* One hostpciN line of the config's current ([main]) section, as qemu-server's schema reads it */
struct pve_hostpci {
	char *value;	   /* as written; NULL: no such key */
	char why[192];	   /* set: the schema rejects the value, and qemu-server starts the VM without it */
	char dropped[320]; /* set: a later line of the key was rejected, this (earlier) value stays */
	char *host;	   /* "ID[;ID...]" or NULL */
	char *mapping;
	char *romfile;
	bool mdev;	 /* mdev=TYPE: a mediated device, the function stays on its host driver */
	char *mdev_type; /* TYPE ("nvidia-35": an NVIDIA vGPU, set through nvidia/current_vgpu_type on >= 6.8)
			  */
	bool keep;	 /* driver=keep: "neither reset nor bound to vfio-pci" */
	bool pcie, x_vga, legacy_igd, rombar_off;
};

/* The keys of [main] a hook and the per-VM check look at; strings NULL when absent */
struct pve_vm {
	struct pve_hostpci hostpci[PVE_HOSTPCI_MAX];
	bool template; /* "template: 1": started only for backups, without its hostpci devices */
	char *hookscript, *bios, *machine, *vga, *efidisk0, *name;
};

/*
 * Parse a VM config the way qemu-server's parse_vm_config() does for the
 * keys above: [main] only (ends at the first "[section]" line), the last
 * valid value of a duplicate key wins (an invalid later one is dropped), a value the schema rejects is kept
 * with why set (qemu-server warns and ignores it). 0 or -ENOMEM.
 */
int proxmox_vm_parse(const char *text, struct pve_vm *ret);
void proxmox_vm_free(struct pve_vm *vm);
/* any hostpciN the schema accepts */
bool proxmox_vm_has_hostpci(const struct pve_vm *vm);
/* machine_type_is_q35(): the machine type names q35 */
bool proxmox_vm_is_q35(const struct pve_vm *vm);

/* One line of PVE_RESERVATIONS: "ID VMID time:EPOCH" or "ID VMID pid:PID" */
struct pve_reservation {
	struct pciaddr addr;
	unsigned long vmid;
	bool by_pid;
	unsigned long long value; /* expiry (epoch seconds) or pid */
	bool live;		  /* by_pid: that VM runs here with that pid (proxmox_reservations_check) */
};

struct pve_reservations {
	struct pve_reservation *r;
	size_t n;
};

/* Lines that do not match qemu-server's pattern are skipped, as it does; the last line of an ID wins. */
int proxmox_reservations_parse(const char *text, struct pve_reservations *ret);
void proxmox_reservations_free(struct pve_reservations *res);
/* Fill live for every pid reservation from run/qemu-server/VMID.pid and /proc (Helpers.pm vm_running_locally)
 */
void proxmox_reservations_check(const struct sysroot *r, struct pve_reservations *res);

/* The VM a process is the QEMU of (its -pidfile is /var/run/qemu-server/VMID.pid, as qemu-server starts it):
 * the VMID, or 0 */
unsigned long proxmox_qemu_vmid(const struct sysroot *r, unsigned long pid);

/* What the choice depends on besides the VM config */
struct pve_env {
	const struct pcihost *h;
	const char *map_text; /* PVE_PCI_MAPPING, NULL: no file */
	const char *node;     /* this node's name */
	unsigned long vmid;
	const struct pve_reservations *res; /* NULL: none */
	long long now;			    /* epoch seconds, for time reservations */
	const struct sysroot *root;	    /* for a mapped device's mdev capability; NULL: none has it */
};

/*
 * The functions qemu-server will give the VM, chosen as PCI.pm's
 * parse_hostpci() and choose_hostpci_devices() do: slots expanded, a
 * mapping's entries for this node checked (PVE::Mapping::PCI assert_valid)
 * and taken as alternatives (the first this VM does not use yet and no
 * other VM has reserved), and refused as its reserve_pci_usage() would.
 * Then every other non-bridge function of each chosen function's IOMMU
 * group, as prepare_pci_device() binds the whole group (origin
 * HOOK_GROUP_ORIGIN "hostpciN"). *ret gets the functions to hand over, *ret_kept (may be NULL) those of
 * driver=keep entries. Errors, with a complete message in err:
 *   -EINVAL  the config or the mapping is one qemu-server refuses to start
 *   -ENODEV  a device is not present, or no longer what the mapping says
 *   -EBUSY   another VM holds a device (or every alternative)
 *   -EAGAIN  another VM's start holds an alternative for now: which device this VM gets cannot be known
 *   -ENOMEM  (no message)
 */
int proxmox_vm_choose(const struct pve_vm *vm, const struct pve_env *env, struct hook_devs *ret,
		      struct hook_devs *ret_kept, char *err, size_t size);

/* This node's name as Proxmox knows it: the host name up to its first dot (/etc/hostname under --root) */
void proxmox_node_name(const struct sysroot *r, char *buf, size_t size);

/* parse + choose without reservations (tests, fuzzing): the functions to hand over */
int proxmox_vm_devices(const char *vm_text, const char *map_text, const char *node, const struct pcihost *h,
		       struct hook_devs *ret, char *err, size_t size);

/*
 * The file a hookscript volume ID ("local:snippets/pcibind-hook") names,
 * relative to the root, through PVE_STORAGE_CFG (a "dir" storage's path;
 * "local" is /var/lib/vz when storage.cfg does not say). 0, -ENOENT (no
 * such storage, or not a directory storage) or -EINVAL.
 */
int proxmox_hookscript_path(const char *volid, const char *storage_cfg, char *buf, size_t size);

#endif
