/* pcisim.h - the simulated PCI kernel: model, faults, sysfs tree, shared helpers */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCISIM_H
#define PCISIM_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NAME_LEN 64
#define ADDR_LEN 16
#define SIM_PATH_LEN 1024
/* kernfs hands a store() at most one page; sysfs attributes refuse count >= PAGE_SIZE - 1 */
#define SYSFS_PAGE 4096
#define ID_ANY 0xffffffffu

/* ---- util.c ---- */

struct strbuf {
	char *s;
	size_t len;
	size_t cap;
};

void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_append(struct strbuf *sb, const void *data, size_t len);
void sb_reset(struct strbuf *sb);
/* snprintf that says whether everything fit */
bool str_printf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sb_free(struct strbuf *sb);

void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* "EBUSY" for EBUSY; the number as text for unknown values (static buffer: call under the sim lock) */
const char *errno_name(int err);
/* "EBUSY" or "16" -> 16 */
int errno_parse(const char *s, int *ret);
/* the kernel's sysfs_streq(): equal, ignoring one trailing newline on either side */
bool sysfs_streq(const char *a, const char *b);
/* the kernel's kstrtoul(s, 0, ...): decimal, 0x hex or 0 octal, optional trailing newline */
int kstrtoul(const char *s, unsigned long *ret);
/* strict hex of at most max_digits digits, nothing else */
int parse_hex(const char *s, int max_digits, unsigned long *ret);
/* "vfio-pci" and "vfio_pci" name the same module */
bool modname_eq(const char *a, const char *b);
/* strict "DDDD:BB:SS.F" */
bool addr_valid(const char *s);
/* write a file atomically (temp + rename); -errno */
int write_file_atomic(const char *path, const char *data, size_t len);
int mkdir_p(const char *path, mode_t mode);

/* ---- the model (kernel.c) ---- */

struct sim_id {
	uint32_t vendor, device, subvendor, subdevice;
	uint32_t class, class_mask;
};

enum drv_kind {
	DRV_NORMAL,
	DRV_VFIO, /* probe needs an IOMMU group and a normal header; makes /dev/vfio/N */
};

/* what a driver does for SR-IOV: its sriov_configure callback and its remove() */
enum drv_sriov {
	DRV_SRIOV_DISABLE, /* configures VFs; remove() disables them (igb_remove()) */
	DRV_SRIOV_KEEP,    /* configures VFs; remove() leaves them (nvme_remove(): "driver left SR-IOV enabled") */
	DRV_SRIOV_NONE,    /* no sriov_configure (vfio-pci without enable_sriov=1): writes are ENOENT */
};

struct sim_module {
	char name[NAME_LEN]; /* with '_' like /sys/module */
	char **deps;
	size_t n_deps;
	bool loaded;
	bool boot_loaded;
};

struct sim_driver {
	char name[NAME_LEN];
	struct sim_module *module; /* NULL: built in */
	enum drv_kind kind;
	enum drv_sriov sriov;
	struct sim_id *ids; /* static table */
	size_t n_ids;
	struct sim_id *dyn; /* new_id */
	size_t n_dyn;
	unsigned load_seq; /* registration order; the bus tries drivers in this order */
	unsigned boot_seq;
};

struct sim_sriov {
	int total;
	int num;
	int boot_num; /* the topology's numvfs=, enabled at start */
	unsigned first_devfn, first_bus, stride;
	uint16_t vf_vendor, vf_device;
	int first_group; /* -1: allocate when the VFs appear */
	bool drivers_autoprobe;
};

struct sim_fn {
	char name[ADDR_LEN]; /* "0000:01:00.0" */
	unsigned domain, bus, devfn;
	uint16_t vendor, device, subvendor, subdevice;
	uint32_t class;
	uint8_t revision;
	struct sim_fn *parent; /* upstream bridge, NULL on the root bus */
	int group;             /* -1: none */
	int boot_vga;          /* -1: not a VGA device */
	char *reset_default;   /* NULL: no reset_method attribute */
	char *reset_cur;
	int numa_node;
	unsigned irq;
	bool has_serial;       /* a PCIe Device Serial Number capability at 0x100 */
	uint64_t serial;
	char slot[NAME_LEN];   /* bus/pci/slots/NAME holds it; "" for none */
	struct sim_driver *driver;
	char *override;
	bool present;
	bool from_topology; /* a rescan brings it back after a remove */
	struct sim_sriov *sriov; /* PF */
	struct sim_fn *physfn;   /* VF */
	int vf_index;
	/*
	 * An unbind is waiting in the driver's remove() (a VFIO user holds the
	 * device): the driver link is gone from sysfs, dev->driver is still set,
	 * and the device lock is held, so attributes that take it wait.
	 */
	bool unbinding;
	bool remove_pending; /* removed (hot-unplug) while unbinding: goes when the unbind ends */
	/* the state at start, for the ctl "reset" command */
	struct sim_driver *boot_driver;
	char *boot_override;
	bool boot_present;
};

enum cdev_kind {
	CDEV_NET,
	CDEV_DISK,
	CDEV_PART,
	CDEV_DRM,
	CDEV_FB,
	CDEV_INPUT,
};

/* A class device; it exists while its function is bound to the driver that made it */
struct sim_cdev {
	enum cdev_kind kind;
	char name[NAME_LEN];
	struct sim_fn *fn;        /* NULL for a platform framebuffer */
	char driver[NAME_LEN];    /* the PCI driver that creates it */
	char devpath[SIM_PATH_LEN / 4]; /* below the function ("net/eth0") or the platform device */
	char devnum[16];          /* "259:1" for disks and partitions */
	char label[128];          /* the "name" attribute of fb and input devices */
	char ev[32];              /* capabilities/ev of input devices */
	struct sim_cdev *disk;    /* partitions */
	int partno;
	struct sim_platdev *plat; /* platform framebuffers */
	bool route4, route6;      /* net: carries the default route */
};

/* A platform device (efi-framebuffer.0) bound to its platform driver (efi-framebuffer) */
struct sim_platdev {
	char name[NAME_LEN];
	char driver[NAME_LEN];
	bool bound;
	bool boot_bound;
};

struct sim_mount {
	char *target;
	char *source; /* block device name or a pseudo source */
	char *fstype;
};

enum fault_kind {
	FAULT_FAIL,
	FAULT_FAILPROBE,
	FAULT_BLOCK,
	FAULT_VANISH,
};

struct fault {
	enum fault_kind kind;
	char target[NAME_LEN]; /* address, driver name (new_id/remove_id) or "*" */
	char op[NAME_LEN];     /* the operation, or the driver for failprobe */
	int err;
	int count;   /* -1: every time */
	int seconds; /* block: -1 forever */
};

/* a write sleeping in a block fault; release/clear set released */
struct block_waiter {
	char target[NAME_LEN];
	bool released;
	struct block_waiter *next;
};

/* which sleeps an attribute makes while its device's lock is held by an unbind */
#define DEVLOCK_SHOW 1u  /* reading it waits (driver_override_show(), sriov_numvfs_show()) */
#define DEVLOCK_STORE 2u /* writing it waits (device_lock() in the store) */

struct sim {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* block/release */
	char *rootdir;       /* absolute */
	char *topology;
	bool iommu;
	char *cmdline;
	bool autoprobe;
	unsigned load_seq;
	struct sim_module **modules;
	size_t n_modules;
	struct sim_driver **drivers;
	size_t n_drivers;
	struct sim_fn **fns; /* sorted by address */
	size_t n_fns;
	struct sim_cdev **cdevs;
	size_t n_cdevs;
	struct sim_platdev **platdevs;
	size_t n_platdevs;
	struct sim_mount *mounts;
	size_t n_mounts;
	char **swaps;
	size_t n_swaps;
	bool has_fbcon;
	bool fbcon_bound;
	struct fault *faults;
	size_t n_faults;
	struct block_waiter *waiters;
	struct strbuf log;
	bool shutting_down;
	unsigned generation; /* bumped by reset: sleeping writes of before end with nothing done */
	bool boot_fbcon;
	unsigned boot_load_seq;
	/* what the host files under rootdir currently show */
	bool *vfio_node;
	size_t n_vfio_node;
	bool vfio_ctl_node;
	struct strbuf route_shown;
};

/* kernel.c: everything below is called with sim->lock held */
struct sim *sim_new(void);
struct sim_fn *sim_find_fn(struct sim *sim, const char *name);   /* present ones; sysfs_streq */
struct sim_fn *sim_lookup_fn(struct sim *sim, const char *name); /* present or removed */
struct sim_driver *sim_find_driver(struct sim *sim, const char *name);
struct sim_module *sim_find_module(struct sim *sim, const char *name);
bool sim_driver_loaded(const struct sim_driver *drv);
void sim_sort_fns(struct sim *sim);
bool fn_is_vga(const struct sim_fn *fn);
bool fn_is_bridge_header(const struct sim_fn *fn);
bool fn_multifunction(struct sim *sim, const struct sim_fn *fn);
bool sim_match(const struct sim_driver *drv, const struct sim_fn *fn);
bool sim_id_matches(const struct sim_id *id, const struct sim_fn *fn);
int sim_device_attach(struct sim *sim, struct sim_fn *fn);
void sim_driver_attach(struct sim *sim, struct sim_driver *drv);
void sim_detach(struct sim *sim, struct sim_fn *fn);
void sim_remove_fn(struct sim *sim, struct sim_fn *fn);
void sim_unplug(struct sim *sim, struct sim_fn *fn);
void sim_rescan(struct sim *sim, struct sim_fn *below);
int sim_load(struct sim *sim, const char *name);
int sim_unload(struct sim *sim, const char *name);
int sim_sriov_set(struct sim *sim, struct sim_fn *pf, int num);
bool sim_group_exists(struct sim *sim, int group);
int sim_max_group(struct sim *sim);
bool sim_cdev_active(const struct sim *sim, const struct sim_cdev *c);
/* the driver sysfs shows: none while an unbind is waiting */
struct sim_driver *sim_shown_driver(const struct sim_fn *fn);
/* remember the state at start / go back to it (faults dropped, sleeping writes abandoned) */
void sim_snapshot(struct sim *sim);
void sim_reset(struct sim *sim);
void sim_event(struct sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* the stores of the sysfs attributes that change the model: count or -errno */
ssize_t sim_store_driver_override(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count);
ssize_t sim_store_bind(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count);
ssize_t sim_store_unbind(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count);
ssize_t sim_store_drivers_probe(struct sim *sim, const char *buf, size_t count);
ssize_t sim_store_new_id(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count);
ssize_t sim_store_remove_id(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count);
ssize_t sim_store_reset_method(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count);
ssize_t sim_store_sriov_numvfs(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count);
ssize_t sim_store_remove(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count);

/* ---- topo.c ---- */
int topo_load(struct sim *sim, const char *path);

/* ---- fault.c ---- */
int fault_add(struct sim *sim, const struct fault *f);
void fault_clear(struct sim *sim);
void fault_release(struct sim *sim, const char *target);
bool fault_op_valid(const char *op);
/* consumes one use; 0 when no fault applies */
int fault_take_fail(struct sim *sim, const char *target, const char *op);
int fault_take_probe(struct sim *sim, const char *addr, const char *driver);
bool fault_take_vanish(struct sim *sim, const char *target, const char *op);
/* seconds to block (-1 forever), or -2 when no block applies */
int fault_take_block(struct sim *sim, const char *target, const char *op);
void fault_waiter_add(struct sim *sim, struct block_waiter *w);
void fault_waiter_remove(struct sim *sim, struct block_waiter *w);

/* ---- ctl.c ---- */
int ctl_exec(struct sim *sim, const char *buf, size_t len);
void ctl_show_state(struct sim *sim, struct strbuf *out);

/* ---- hostfiles.c: the plain files under ROOTDIR (proc, dev/vfio) ---- */
int hostfiles_init(struct sim *sim);
void hostfiles_sync(struct sim *sim);

/* ---- sysfs.c: the tree ---- */

enum vtype {
	V_DIR,
	V_FILE,
	V_LINK,
};

struct vnode;

struct attr {
	const char *name;
	mode_t mode;
	void (*show)(struct sim *sim, const struct vnode *v, struct strbuf *out);
	ssize_t (*store)(struct sim *sim, const struct vnode *v, const char *buf, size_t count);
	const char *op; /* fault operation name */
	unsigned devlock; /* DEVLOCK_SHOW | DEVLOCK_STORE */
	bool (*visible)(struct sim *sim, const struct vnode *v);
	size_t size; /* st_size; 0: a page, like sysfs */
	size_t unpriv_size; /* what a reader other than root gets of it (pci_read_config()); 0: all */
};

struct vnode {
	enum vtype type;
	int dk; /* directory kind (sysfs.c) */
	const struct attr *attr;
	struct sim_fn *fn;
	struct sim_driver *drv;
	struct sim_cdev *cdev;
	struct sim_module *mod;
	struct sim_platdev *plat;
	int num;
	char sub[SIM_PATH_LEN / 2]; /* a prefix inside a function or platform device; a class name */
	char path[SIM_PATH_LEN];    /* relative to sys, "" for the root */
	const char *name;           /* last component of path */
	char target[SIM_PATH_LEN];  /* V_LINK */
};

/* -ENOENT, -ENOTDIR or 0 */
int sysfs_resolve(struct sim *sim, const char *path, struct vnode *ret);
typedef void (*sysfs_filler)(void *ctx, const char *name, enum vtype type);
int sysfs_list(struct sim *sim, const struct vnode *dir, sysfs_filler fill, void *ctx);
/* the log line's name for a written file: "bus/pci/devices/ADDR/ATTR" for function attributes */
void sysfs_log_name(const struct vnode *v, char *buf, size_t size);
/* address or driver name a write is aimed at, for fault matching */
void sysfs_fault_target(const struct vnode *v, const char *data, char *buf, size_t size);

/* attrs.c: attribute tables per directory */
extern const struct attr fn_attrs[];
extern const struct attr driver_attrs[];
extern const struct attr bus_pci_attrs[];
extern const struct attr cdev_attrs[];
extern const struct attr cdev_caps_attrs[];
extern const struct attr vtcon_attrs[];
extern const struct attr group_attrs[];
extern const struct attr module_attrs[];
extern const struct attr plat_driver_attrs[];
extern const struct attr platdev_attrs[];
extern const struct attr ctl_attrs[];
extern const struct attr uevent_only_attrs[];
extern const struct attr slot_attrs[];

/* ---- fs.c ---- */
struct fuse_args;
struct fuse_session;
struct fuse_session *fs_session_new(struct sim *sim, struct fuse_args *args);

#endif
