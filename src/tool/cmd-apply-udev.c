/* cmd-apply-udev.c - apply --udev ADDR: the udev rule's claim, reading what the configuration names, not the host */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "whereabouts.h"
#include "cmd.h"
#include "devlock.h"
#include "journal.h"
#include "state.h"
#include "usage.h"
#include "variant.h"

/*
 * udev runs this for every PCI "add" event: at coldplug once per function
 * of the host, thousands on a large one, and again for each VF created
 * later. So an event reads its own function's ids (one modalias read) and
 * the functions the boot sets name by address, never the whole host; an
 * event whose function is in no set and finds every configured function
 * claimed or bound writes nothing and takes no lock.
 *
 * Why other functions than ADDR: udev handles coldplug events in
 * parallel, and the module 80-drivers.rules loads for one function binds
 * every matching function that has no override yet. The event of the
 * unconfigured twin NIC loads e1000e; had only its own event claimed the
 * configured twin, e1000e could take it first (seen in the VM tier). So
 * each event claims every function of a boot set that is present,
 * driverless and without an override: the first event processed wins the
 * race for all of them, and claims them before its own module is loaded
 * (RUN programs run in order, 80-drivers.rules' "kmod load" after this).
 *
 * A set selected by ids alone names no address: the first event of a boot
 * reads every function once and leaves SWEEP_FILE with a digest of those
 * sets, so later events of the same boot and configuration do not; a
 * function that appears later is claimed by its own event. An SR-IOV set
 * never has its PF claimed (it stays with its host driver, which makes the
 * VFs); its VFs are found from each PF's sriov_offset and sriov_stride.
 */

#define UDEV_LOCK_TRIES	      15 /* x 20 ms: the udev path never waits long for the lock */
#define UDEV_WRITE_TIMEOUT_MS 1000
/* in RUN_DIR */
#define SWEEP_FILE "udev-swept"
#define SAID_FILE  "udev-config-error"

struct cand {
	struct pcifn fn; /* name, ids and class; the override once read */
	const struct devset *set;
	char driver[DRIVER_NAME_MAX]; /* the set's driver; with driver = auto, this function's pick */
	bool own;		      /* the event's own function */
};

struct claimer {
	struct ctx *c;
	const struct config *cfg;
	struct cand *v;
	size_t n, cap;
	bool *console_kept;		/* per set: it holds the boot VGA with the console, and release_console is no */
	bool any_sriov;			/* a boot set is an SR-IOV set: a function may be one of its VFs */
	struct variant_table *variants; /* driver = auto: modules.alias, read once when first needed */
	bool variants_read;
};

static void claimer_free(struct claimer *cl)
{
	for (size_t i = 0; i < cl->n; i++)
		pcifn_clear(&cl->v[i].fn);
	free(cl->v);
	free(cl->console_kept);
	variant_table_free(cl->variants);
}

static bool pending(const struct claimer *cl, const char *name)
{
	for (size_t i = 0; i < cl->n; i++)
		if (streq(cl->v[i].fn.name, name))
			return true;
	return false;
}

static int read_attr_ulong(const struct ctx *c, const char *name, const char *attr, int base, unsigned long *ret);

/* what the udev path reads of identity: f's subsystem, the serial in its slot, where the set's slot is */
static void read_identity(const struct ctx *c, const struct devset *set, struct pcifn *f, struct pcifn *there,
			  struct pciaddr *slot_now, bool *ret_slot)
{
	unsigned long v;

	if (read_attr_ulong(c, f->name, "subsystem_vendor", 16, &v) == 0)
		f->subvendor = (uint16_t)v;
	if (read_attr_ulong(c, f->name, "subsystem_device", 16, &v) == 0)
		f->subdevice = (uint16_t)v;
	*there = (struct pcifn){ .addr = f->addr };
	there->addr.fn = set->addrs[0].kind == SEL_SLOT ? 0 : set->addrs[0].addr.fn;
	pciaddr_format(&there->addr, there->name);
	identity_read_fn_serial(c->root, there);
	*ret_slot = set->slot && identity_read_slot(c->root, set->slot, slot_now) == 0;
}

/* a set that records its device takes nothing at its address that is not that device */
static bool identity_refuses(const struct claimer *cl, const struct devset *set, struct pcifn *f, bool say)
{
	struct pcifn there;
	struct pciaddr slot_now;
	bool slot_read;
	char why[256];

	if (!devset_has_identity(set))
		return false;
	read_identity(cl->c, set, f, &there, &slot_now, &slot_read);
	if (!plan_fn_mismatch(set, f, &there, slot_read ? &slot_now : NULL, why, sizeof(why)))
		return false;
	if (say)
		msg_warn("[%s] expects another device at %s: %s; not claiming it (`pcibind check` says where it is)",
			 set->name, f->name, why);
	return true;
}

/* follow = yes: f is a boot set's function where the set's serial number is now */
static const struct devset *follow_set(const struct claimer *cl, struct pcifn *f, bool say)
{
	for (size_t i = 0; i < cl->cfg->n_sets; i++) {
		const struct devset *set = &cl->cfg->sets[i];
		struct pcifn there;
		struct pciaddr slot_now;
		bool slot_read;
		char dsn[DSN_STRLEN];

		if (!set->boot || !set->follow || devset_selects(set, &f->addr, f->vendor, f->device))
			continue;
		read_identity(cl->c, set, f, &there, &slot_now, &slot_read);
		if (!plan_fn_followed(set, f, &there))
			continue;
		dsn_format(set->serial, dsn);
		if (say)
			msg_warn("[%s]: its device (serial number %s) is at %s now: claiming %s there (follow = yes); "
				 "`pcibind setup --relocate %s` records the new address",
				 set->name, dsn, there.name, f->name, set->name);
		return set;
	}
	return NULL;
}

/* The boot set that takes f, or NULL; a failed ids guard takes nothing (said for the event's own function) */
static const struct devset *boot_set(const struct claimer *cl, struct pcifn *f, bool say)
{
	const struct config *cfg = cl->cfg;

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct devset *set = &cfg->sets[i];
		bool ids_ok = set->n_ids == 0 || set->n_addrs == 0;

		/* an SR-IOV set's PF stays with its host driver: the set claims its VFs (vf_set()) */
		if (!set->boot || devset_is_sriov(set) || !devset_selects(set, &f->addr, f->vendor, f->device))
			continue;
		for (size_t k = 0; k < set->n_ids; k++)
			ids_ok |= set->ids[k].vendor == f->vendor && set->ids[k].device == f->device;
		if (!ids_ok) {
			if (say)
				msg_warn("[%s] expects other ids than %04x:%04x at %s; not claiming it", set->name,
					 f->vendor, f->device, f->name);
			return NULL;
		}
		return identity_refuses(cl, set, f, say) ? NULL : set;
	}
	return follow_set(cl, f, say);
}

static int read_attr_ulong(const struct ctx *c, const char *name, const char *attr, int base, unsigned long *ret)
{
	char rel[128];

	if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/%s", name, attr) < 0)
		return -ENAMETOOLONG;
	return sysroot_read_ulong(c->root, rel, base, ret);
}

/*
 * f as a VF: the boot SR-IOV set that names its PF and wants its number,
 * the number from the PF's sriov_offset and sriov_stride as the kernel
 * placed it (virtfn_devfn()); NULL when f is no such VF.
 */
static const struct devset *vf_set(const struct claimer *cl, const struct pcifn *f)
{
	_cleanup_free_ char *pf = NULL;
	unsigned long offset, stride;
	struct pcifn p;
	struct pciaddr pa;
	char rel[128];
	long d;

	if (!cl->any_sriov || sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/physfn", f->name) < 0 ||
	    sysroot_link_basename(cl->c->root, rel, &pf) < 0 || pciaddr_parse(pf, &pa) < 0 ||
	    pcifn_read_ids(cl->c->root, &pa, &p) < 0)
		return NULL; /* p: ids and class only, nothing allocated */
	if (read_attr_ulong(cl->c, pf, "sriov_offset", 10, &offset) < 0 ||
	    read_attr_ulong(cl->c, pf, "sriov_stride", 10, &stride) < 0)
		return NULL;
	d = ((long)f->addr.bus << 8 | f->addr.dev << 3 | f->addr.fn) - ((long)pa.bus << 8 | pa.dev << 3 | pa.fn) -
	    (long)offset;
	if (d < 0 || (stride ? d % (long)stride : d) != 0)
		return NULL;
	for (size_t i = 0; i < cl->cfg->n_sets; i++) {
		const struct devset *set = &cl->cfg->sets[i];

		if (set->boot && devset_is_sriov(set) && devset_selects(set, &pa, p.vendor, p.device) &&
		    devset_wants_vf(set, stride ? (int)(d / (long)stride) : 0))
			return set;
	}
	return NULL;
}

/* driver = auto: the function's variant from modules.alias (the module's name while it is not loaded) */
static void auto_driver(struct claimer *cl, struct cand *k)
{
	struct variant_pick pick;
	unsigned long v;
	char why[128];

	(void)snprintf(k->driver, sizeof(k->driver), "vfio-pci");
	if (!cl->variants_read) {
		cl->variants_read = true;
		(void)variant_table_load(cl->c->root, &cl->variants, why, sizeof(why));
	}
	if (!cl->variants)
		return;
	if (read_attr_ulong(cl->c, k->fn.name, "subsystem_vendor", 16, &v) == 0)
		k->fn.subvendor = (uint16_t)v;
	if (read_attr_ulong(cl->c, k->fn.name, "subsystem_device", 16, &v) == 0)
		k->fn.subdevice = (uint16_t)v;
	variant_match(cl->variants, &k->fn, &pick);
	if (!pick.module[0])
		return;
	if (!pick.driver[0] && variant_module_driver(cl->c->root, pick.module, pick.driver, sizeof(pick.driver)) < 0)
		(void)snprintf(pick.driver, sizeof(pick.driver), "%s",
			       pick.module); /* the unit loads it, and fixes this */
	(void)snprintf(k->driver, sizeof(k->driver), "%s", pick.driver);
}

static bool fn_has(const struct ctx *c, const char *name, const char *attr)
{
	char rel[128];

	return sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/%s", name, attr) == 0 &&
	       sysroot_exists(c->root, rel) == 0;
}

/*
 * The boot VGA while a console or framebuffer is on it goes only to a set
 * with release_console = yes: apply refuses any other set holding it, as a
 * whole (pcibind(8), "The boot VGA"), so none of that set's functions is
 * claimed here either; a claim would take the display at every boot.
 */
static bool console_on(const struct claimer *cl, const struct cand *k, char *detail, size_t size)
{
	struct pcifn f = k->fn;
	struct pcihost h = { .fns = &f, .n = 1 };
	char rel[128];
	unsigned long v;
	bool on;

	if (!pcifn_is_vga(&k->fn) ||
	    sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/boot_vga", k->fn.name) < 0 ||
	    sysroot_read_ulong(cl->c->root, rel, 10, &v) < 0 || v != 1)
		return false;
	f.boot_vga = 1;
	f.uses = 0;
	f.use_detail = NULL;
	memset(f.use_details, 0, sizeof(f.use_details));
	usage_scan_console(cl->c->root, &h);
	on = f.uses & USE_CONSOLE;
	(void)snprintf(detail, size, "%s", on ? f.use_details[PCIFN_USE_INDEX(USE_CONSOLE)] : "");
	free(f.use_detail);
	for (size_t i = 0; i < PCIFN_N_USES; i++)
		free(f.use_details[i]);
	return on;
}

/* What apply would refuse or leave to itself: the function is not claimed here */
static bool not_ours(const struct claimer *cl, const struct cand *k, bool say)
{
	const char *driver = devset_driver(cl->cfg, k->set);
	char detail[256];

	if (driver_is_auto(driver))
		driver = "vfio-pci"; /* a variant is a vfio-pci too: an IOMMU group is needed either way */
	if (pcifn_is_bridge(&k->fn))
		return true; /* a slot's bridge function stays with pcieport */
	if (!k->set->release_console && console_on(cl, k, detail, sizeof(detail))) {
		cl->console_kept[k->set - cl->cfg->sets] = true;
		if (say)
			msg_warn("[%s]: %s is the boot VGA and carries the console (%s); the set is not claimed at "
				 "boot (release_console = yes gives the console up with it)",
				 k->set->name, k->fn.name, detail);
		return true;
	}
	if (fn_has(cl->c, k->fn.name, "driver"))
		return true; /* a built-in or initramfs driver has it: moving it is the unit's work */
	if (driver_is_vfio(driver) && !fn_has(cl->c, k->fn.name, "iommu_group")) {
		/* vfio-pci would not bind it, and the override would keep its host driver off too */
		if (say)
			msg_warn("[%s]: %s has no IOMMU group (is the IOMMU on?); not claiming it for %s", k->set->name,
				 k->fn.name, driver);
		return true;
	}
	return false;
}

/* Note name as one to claim if a boot set takes it and apply would; set: the only set to try, or NULL */
static int consider(struct claimer *cl, const char *name, bool own)
{
	struct cand k = { .own = own };
	struct pciaddr a;
	int err;

	if (pending(cl, name) || pciaddr_parse(name, &a) < 0)
		return 0;
	err = pcifn_read_ids(cl->c->root, &a, &k.fn);
	if (err < 0)
		return 0; /* gone again, or not a function */
	if ((!(k.set = boot_set(cl, &k.fn, own)) && !(k.set = vf_set(cl, &k.fn))) || not_ours(cl, &k, own)) {
		pcifn_clear(&k.fn);
		return 0;
	}
	if (driver_is_auto(devset_driver(cl->cfg, k.set)))
		auto_driver(cl, &k);
	else
		(void)snprintf(k.driver, sizeof(k.driver), "%s", devset_driver(cl->cfg, k.set));
	if (cl->n == cl->cap) {
		size_t cap = cl->cap ? 2 * cl->cap : 8;
		struct cand *v = realloc(cl->v, cap * sizeof(*v));

		if (!v) {
			pcifn_clear(&k.fn);
			return -ENOMEM;
		}
		cl->v = v;
		cl->cap = cap;
	}
	cl->v[cl->n++] = k;
	return 1;
}

/* The VFs an SR-IOV set wants of the PF pf, as far as they exist now */
static int consider_vfs(struct claimer *cl, const struct devset *set, const struct pciaddr *pf)
{
	char name[PCIADDR_STRLEN];
	unsigned long numvfs, offset, stride;
	int err;

	pciaddr_format(pf, name);
	if (read_attr_ulong(cl->c, name, "sriov_numvfs", 10, &numvfs) < 0 ||
	    read_attr_ulong(cl->c, name, "sriov_offset", 10, &offset) < 0 ||
	    read_attr_ulong(cl->c, name, "sriov_stride", 10, &stride) < 0)
		return 0;
	for (unsigned long n = 0; n < numvfs && n < 4096; n++) {
		unsigned long rid = ((unsigned long)pf->bus << 8 | pf->dev << 3 | pf->fn) + offset + n * stride;
		struct pciaddr vf = { .domain = pf->domain,
				      .bus = (uint8_t)(rid >> 8),
				      .dev = (uint8_t)((rid >> 3) & 31),
				      .fn = (uint8_t)(rid & 7) };

		if (rid > 0xffff || !devset_wants_vf(set, (int)n))
			continue;
		pciaddr_format(&vf, name);
		if ((err = consider(cl, name, false)) < 0)
			return err;
	}
	return 0;
}

/* Every function a boot set names by address (a slot's eight at most); an SR-IOV set's wanted VFs */
static int consider_addressed(struct claimer *cl)
{
	char name[PCIADDR_STRLEN];
	int err;

	for (size_t i = 0; i < cl->cfg->n_sets; i++) {
		const struct devset *set = &cl->cfg->sets[i];

		for (size_t s = 0; set->boot && s < set->n_addrs; s++) {
			struct pciaddr a = set->addrs[s].addr;
			unsigned last = set->addrs[s].kind == SEL_SLOT ? 7 : a.fn;

			for (unsigned fn = set->addrs[s].kind == SEL_SLOT ? 0 : a.fn; fn <= last; fn++) {
				a.fn = (uint8_t)fn;
				pciaddr_format(&a, name);
				err = devset_is_sriov(set) ? consider_vfs(cl, set, &a) : consider(cl, name, false);
				if (err < 0)
					return err;
			}
		}
	}
	return 0;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* FNV-1a over the sets selected by ids alone (name, driver, ids): "" when there are none */
static void ids_digest(const struct config *cfg, char *buf, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	bool any = false;

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct devset *set = &cfg->sets[i];
		char id[16];

		if (!set->boot || set->n_addrs || !set->n_ids)
			continue;
		any = true;
		h = fnv1a(fnv1a(fnv1a(h, "["), set->name), "]");
		h = fnv1a(h, devset_driver(cfg, set));
		for (size_t k = 0; k < set->n_ids; k++) {
			(void)snprintf(id, sizeof(id), ",%04x:%04x", set->ids[k].vendor, set->ids[k].device);
			h = fnv1a(h, id);
		}
	}
	buf[0] = '\0';
	if (any)
		(void)snprintf(buf, size, "%016" PRIx64, h);
}

/* The whole host, once per boot and configuration, for the sets selected by ids */
/*
 * SWEEP_FILE: "DIGEST [SET...]", the sets the sweep found holding the boot
 * VGA with its console: a later event that sees only its own function
 * still knows them. 1: this configuration was swept in this boot.
 */
static int swept_already(struct claimer *cl, const char *digest)
{
	_cleanup_free_ char *line = NULL;
	char *save = NULL, *tok;
	const struct devset *set;

	/* a note this run may trust (the one reader of state files); anything else: sweep again */
	if (state_note_read(cl->c->root, SWEEP_FILE, 4096, &line) < 0)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	tok = strtok_r(line, " ", &save);
	if (!tok || !streq(tok, digest))
		return 0;
	while ((tok = strtok_r(NULL, " ", &save)))
		if ((set = config_find_set(cl->cfg, tok)))
			cl->console_kept[set - cl->cfg->sets] = true;
	return 1;
}

static int consider_by_ids(struct claimer *cl, const char *digest)
{
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (!digest[0] || swept_already(cl, digest))
		return 0;
	if (sysroot_opendir(cl->c->root, "sys/bus/pci/devices", &d) < 0)
		return 0;
	while (err >= 0 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			err = consider(cl, de->d_name, false);
	closedir(d);
	return err < 0 ? err : 1;
}

static void note_swept(const struct claimer *cl, const char *digest)
{
	char line[1024];
	size_t len;

	len = (size_t)snprintf(line, sizeof(line), "%s", digest);
	for (size_t i = 0; i < cl->cfg->n_sets; i++)
		if (cl->console_kept[i] && len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", cl->cfg->sets[i].name);
	if (len + 1 >= sizeof(line))
		return; /* not noted: the next event sweeps again */
	line[len++] = '\n';
	line[len] = '\0';
	(void)state_note_write(cl->c->root, SWEEP_FILE, line); /* not noted: the next event sweeps again */
}

/* driver_override of every candidate, in one guarded child (a held device lock cannot hang udev) */
static int read_overrides(struct claimer *cl)
{
	_cleanup_free_ struct pcifn **fns = calloc(cl->n ? cl->n : 1, sizeof(*fns));
	int busy;

	if (!fns)
		return -ENOMEM;
	for (size_t i = 0; i < cl->n; i++)
		fns[i] = &cl->v[i].fn;
	busy = devlock_read(cl->c->root, fns, cl->n, DEVLOCK_TIMEOUT_MS);
	return busy < 0 ? busy : 0;
}

/* The lock, if it comes within a fraction of a second; the overrides are written either way */
static int udev_lock(const struct ctx *c)
{
	int fd = session_lock_briefly(c->root, UDEV_LOCK_TRIES);

	if (fd < 0)
		msg_debug(c, "the lock is busy; writing driver_override without a journal record (apply records it)");
	return fd;
}

/* A boot claim record for each function about to be claimed, before its override is written */
static void record(const struct claimer *cl, const bool *take)
{
	_cleanup_free_ const char **names = calloc(cl->n ? cl->n : 1, sizeof(*names));
	bool unread = false;
	size_t n = 0;
	int err;

	for (size_t i = 0; names && i < cl->n; i++)
		if (take[i])
			names[n++] = cl->v[i].fn.name;
	err = names ? session_record_claims(cl->c->root, names, n, &unread) : -ENOMEM;
	if (unread)
		msg_warn("cannot read the journal %s; the boot claims are not recorded", JOURNAL_FILE);
	else if (err < 0)
		msg_warn("cannot write the journal %s: %s; the boot claims are not recorded", JOURNAL_FILE,
			 strerror(-err));
}

/* a write's failure, said with the set: an exit status */
static int write_status(const struct cand *k, int err, const char *msg)
{
	if (err >= 0)
		return EXIT_OK;
	msg_error("[%s]: %s", k->set->name, msg);
	return err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE_;
}

/*
 * The event's own function, claimed, while its driver is registered: probe
 * it now. At coldplug vfio-pci is not loaded yet (the unit loads it and so
 * binds every claim); a function that appears later would otherwise wait
 * driverless for a probe nobody makes.
 */
static int probe_own(const struct claimer *cl, const struct cand *k)
{
	const char *driver = k->driver;
	char rel[128], msg[256];

	if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/drivers/%s", driver) < 0 ||
	    sysroot_exists(cl->c->root, rel) < 0 || fn_has(cl->c, k->fn.name, "driver"))
		return EXIT_OK;
	return write_status(k, session_probe(cl->c->root, k->fn.name, UDEV_WRITE_TIMEOUT_MS, msg, sizeof(msg)), msg);
}

/*
 * Which candidates to claim: take[i] for an unset override (a set's
 * driver there means claimed already, anything else that someone chose).
 * Returns how many; *ret_own is the event's own function if it is, or
 * will be, claimed.
 */
static size_t choose(const struct claimer *cl, bool *take, const struct cand **ret_own)
{
	size_t n = 0;

	*ret_own = NULL;
	for (size_t i = 0; i < cl->n; i++) {
		const struct cand *k = &cl->v[i];

		if (cl->console_kept[k->set - cl->cfg->sets]) {
			if (k->own)
				msg_warn("[%s]: %s is not claimed at boot: its set holds the boot VGA with the console",
					 k->set->name, k->fn.name);
			continue;
		}
		take[i] = !k->fn.busy && !k->fn.override;
		n += take[i];
		if (k->own && (take[i] || streq_null(k->fn.override, k->driver)))
			*ret_own = k;
	}
	return n;
}

/* Journaled first (under the lock, when it comes), then each override: the worst exit status */
static int write_claims(const struct claimer *cl, const bool *take)
{
	int lock_fd = udev_lock(cl->c), st = EXIT_OK, s;
	char msg[256];

	if (lock_fd >= 0)
		record(cl, take);
	for (size_t i = 0; i < cl->n; i++) {
		if (!take[i])
			continue;
		s = session_claim(cl->c->root, cl->v[i].fn.name, cl->v[i].driver, UDEV_WRITE_TIMEOUT_MS, msg,
				  sizeof(msg));
		if ((s = write_status(&cl->v[i], s, msg)) && !st)
			st = s;
	}
	lock_release(lock_fd);
	return st;
}

static int claim(struct claimer *cl)
{
	_cleanup_free_ bool *take = calloc(cl->n ? cl->n : 1, sizeof(*take));
	const struct cand *own;
	size_t n_take;
	int st = EXIT_OK, err;

	if (!take)
		return EXIT_FAILURE_;
	if ((err = read_overrides(cl)) < 0) {
		msg_error("cannot read driver_override: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	n_take = choose(cl, take, &own);
	if (cl->c->dry_run) {
		for (size_t i = 0; i < cl->n; i++)
			if (take[i])
				printf("%s: (dry run) would claim %s for %s\n", cl->v[i].set->name, cl->v[i].fn.name,
				       cl->v[i].driver);
		return EXIT_OK;
	}
	if (n_take)
		st = write_claims(cl, take);
	if (own && st == EXIT_OK)
		st = probe_own(cl, own);
	return st;
}

/*
 * A broken configuration is said by the first event of a boot only: every
 * PCI event runs this, and the same error hundreds of times buries it. The
 * error said last is kept in SAID_FILE; 1: this one was said already.
 */
static int said_before(const struct ctx *c, const char *msg)
{
	return state_note_once(c->root, SAID_FILE, msg) == 1; /* a note that cannot be had: say it */
}

static int load_config(struct ctx *c, struct config **ret)
{
	struct config_error e = { 0 };
	char msg[sizeof(e.file) + sizeof(e.msg) + 16];
	int err = config_load(c->root, ret, &e);

	if (err == 0) {
		if (!c->dry_run)
			(void)state_note_remove(c->root, SAID_FILE); /* said again if it breaks again */
		return 0;
	}
	if (e.line)
		(void)snprintf(msg, sizeof(msg), "%s:%u: %s", e.file, e.line, e.msg);
	else if (e.file[0])
		(void)snprintf(msg, sizeof(msg), "%s: %s", e.file, e.msg);
	else
		(void)snprintf(msg, sizeof(msg), "cannot load the configuration: %s", strerror(-err));
	if (!c->dry_run && said_before(c, msg)) {
		msg_debug(c, "%s (said by an earlier event)", msg);
		return -1; /* nothing is touched; no second failure for udev to log */
	}
	msg_error("%s; no device is claimed until it is fixed (said once per boot)", msg);
	return EXIT_USAGE;
}

static bool any_boot_set(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (cfg->sets[i].boot)
			return true;
	return false;
}

int apply_udev(struct ctx *c, int argc, char **argv)
{
	struct claimer cl = { .c = c };
	struct config *cfg = NULL;
	char name[PCIADDR_STRLEN], digest[20];
	struct pciaddr a;
	int st, swept = 0;

	if (argc != 1 || pciaddr_parse(argv[0], &a) < 0) {
		msg_error("apply --udev takes one PCI function address (the udev rule passes %%k)");
		return EXIT_USAGE;
	}
	/* udevd keeps a RUN program's stderr at debug level: the kernel log is where this is seen */
	if (!c->dry_run)
		msg_also_kmsg(sysroot_openat(c->root, "dev/kmsg", O_WRONLY | O_APPEND | O_NOCTTY | O_NONBLOCK, 0));
	pciaddr_format(&a, name);
	if ((st = load_config(c, &cfg)))
		return st < 0 ? EXIT_OK : st;
	cl.cfg = cfg;
	for (size_t i = 0; i < cfg->n_sets; i++)
		cl.any_sriov |= cfg->sets[i].boot && devset_is_sriov(&cfg->sets[i]);
	st = EXIT_OK;
	if (!(cl.console_kept = calloc(cfg->n_sets ? cfg->n_sets : 1, sizeof(*cl.console_kept))))
		st = EXIT_FAILURE_;
	else if (any_boot_set(cfg)) {
		ids_digest(cfg, digest, sizeof(digest));
		if (consider(&cl, name, true) < 0 || consider_addressed(&cl) < 0 ||
		    (swept = consider_by_ids(&cl, digest)) < 0)
			st = EXIT_FAILURE_;
		else if (cl.n)
			st = claim(&cl);
		if (swept > 0 && st == EXIT_OK && !c->dry_run)
			note_swept(&cl, digest);
	}
	claimer_free(&cl);
	config_free(cfg);
	return st;
}
