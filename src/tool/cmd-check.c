/* cmd-check.c - pcibind check: is this host ready for passthrough? one finding per line, with a fix */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootcfg.h"
#include "identity.h"
#include "whereabouts.h"
#include "check-vm.h"
#include "cmd.h"
#include "detect.h"
#include "gen.h"
#include "json.h"
#include "pcidev.h"
#include "pcitree.h"
#include "plan.h"
#include "unitlink.h"
#include "usage.h"

#define CHECK_SCHEMA 1
#define FINDINGS_MAX 128
#define TEXT_MAX     512

enum level { LVL_OK, LVL_INFO, LVL_WARN, LVL_FAIL };
_Static_assert((int)LVL_FAIL == CHECK_FAIL && (int)LVL_WARN == CHECK_WARN && (int)LVL_INFO == CHECK_INFO,
	       "the levels of check-vm.h");

static const char *const level_names[] = { "ok", "info", "warn", "fail" };

struct finding {
	enum level level;
	char what[64];
	char msg[TEXT_MAX];
	char fix[TEXT_MAX];
};

struct check {
	struct ctx *c;
	struct config *cfg;
	struct pcihost *h;
	struct system *sys;
	struct finding f[FINDINGS_MAX];
	size_t n;
};

static void _printf_(5, 6) add(struct check *k, enum level lvl, const char *what, const char *fix, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (k->n >= FINDINGS_MAX)
		return;
	f = &k->f[k->n++];
	f->level = lvl;
	(void)snprintf(f->what, sizeof(f->what), "%s", what);
	(void)snprintf(f->fix, sizeof(f->fix), "%s", fix ? fix : "");
	va_start(ap, fmt);
	(void)vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

static void check_cpu(struct check *k)
{
	const struct system *s = k->sys;

	if (!s->have_cpuinfo)
		add(k, LVL_WARN, "cpu", "run on the host itself", "cannot read /proc/cpuinfo");
	else if (s->vmx || s->svm)
		add(k, LVL_OK, "cpu", NULL, "%s CPU with %s", cpu_vendor_name(s->cpu),
		    s->vmx ? "vmx (VT-x)" : "svm (AMD-V)");
	else
		add(k, LVL_FAIL, "cpu", "enable VT-x / AMD-V (SVM) in the firmware setup",
		    "%s CPU without vmx or svm flags: hardware virtualisation is off or absent",
		    cpu_vendor_name(s->cpu));
}

/* a module parameter as the kernel shows it: 'Y' / 'N' (or a number), '\0' when the module is not loaded */
static char module_param(const struct check *k, const char *module, const char *param)
{
	char rel[256], buf[16];

	(void)snprintf(rel, sizeof(rel), "sys/module/%s/parameters/%s", module, param);
	if (sysroot_read_line(k->c->root, rel, buf, sizeof(buf)) < 0 || !buf[0])
		return '\0';
	return buf[0] == '1' ? 'Y' : buf[0] == '0' ? 'N' : buf[0];
}

/* interrupt remapping, and allow_unsafe_interrupts suggested only when it is not set already */
static void check_irq_remap(struct check *k)
{
	const struct system *s = k->sys;
	char now = module_param(k, "vfio_iommu_type1", "allow_unsafe_interrupts");

	if (s->irq_remap == 1) {
		add(k, LVL_OK, "irq-remap", NULL, "interrupt remapping active (%s)", s->irq_remap_source);
		if (k->cfg->allow_unsafe_interrupts) {
			char fix[TEXT_MAX];

			(void)snprintf(fix, sizeof(fix), "remove it from [pcibind] (%s:%u)",
				       k->cfg->allow_unsafe_interrupts_origin.file,
				       k->cfg->allow_unsafe_interrupts_origin.line);
			add(k, LVL_INFO, "irq-remap", fix,
			    "allow_unsafe_interrupts = yes is not needed with interrupt remapping; generate leaves it "
			    "out");
		}
	} else if (s->irq_remap == 0 && k->cfg->allow_unsafe_interrupts) {
		/* the user accepted the risk: say what it is and whether it is in effect, suggest nothing else */
		add(k, now == 'Y' ? LVL_WARN : LVL_FAIL, "irq-remap",
		    now == 'Y' ? "enable x2APIC / interrupt remapping in the firmware to need it no more"
			       : "`pcibind generate --write`, then reload vfio_iommu_type1 (or reboot)",
		    "no interrupt remapping (%s); allow_unsafe_interrupts = yes lets vfio assign devices anyway, at "
		    "the "
		    "risk that a device in a VM sends interrupts the host takes for its own; %s",
		    s->irq_remap_source,
		    now == 'Y' ? "in effect (vfio_iommu_type1 allow_unsafe_interrupts=Y)"
			       : "not in effect yet (vfio_iommu_type1 has not loaded it)");
	} else if (s->irq_remap == 0) {
		add(k, LVL_WARN, "irq-remap",
		    "enable x2APIC / interrupt remapping in the firmware; or accept the risk with "
		    "allow_unsafe_interrupts = yes",
		    "no interrupt remapping (%s): vfio refuses device assignment without it unless allowed",
		    s->irq_remap_source);
	} else {
		add(k, LVL_INFO, "irq-remap", NULL, "interrupt remapping unknown (%s)", s->irq_remap_source);
	}
}

/* kvm ignore_msrs: what it risks, whether it is in effect, and report_ignored_msrs against log floods */
static void check_kvm(struct check *k)
{
	char ignore = module_param(k, "kvm", "ignore_msrs"), report = module_param(k, "kvm", "report_ignored_msrs");
	bool want = k->cfg->kvm_ignore_msrs;

	if (!ignore) {
		add(k, LVL_INFO, "kvm", NULL, "kvm is not loaded%s",
		    want ? ": ignore_msrs=1 (kvm_ignore_msrs = yes) applies when it loads" : "");
		return;
	}
	if (ignore != 'Y') {
		if (want)
			add(k, LVL_WARN, "kvm", "`pcibind generate --write`, then reload kvm (or reboot)",
			    "kvm_ignore_msrs = yes is not in effect: kvm has ignore_msrs=N");
		else
			add(k, LVL_INFO, "kvm", NULL,
			    "ignore_msrs=N (the default): a guest touching an MSR KVM does not know gets a fault; some "
			    "Windows guests and GPU drivers need kvm_ignore_msrs = yes");
		return;
	}
	add(k, LVL_WARN, "kvm", NULL,
	    "ignore_msrs=Y%s: a guest's accesses to MSRs KVM does not emulate are ignored instead of faulting, which "
	    "some guests need and which hides what a guest does wrong",
	    want ? " (kvm_ignore_msrs = yes)" : " (set outside pcibind)");
	if (report == 'N')
		add(k, LVL_OK, "kvm", NULL, "report_ignored_msrs=N: the ignored accesses are not logged");
	else if (report)
		add(k, LVL_WARN, "kvm", "add `options kvm report_ignored_msrs=0` to a file in /etc/modprobe.d",
		    "report_ignored_msrs=Y: every ignored MSR access is logged, and a busy guest floods the kernel "
		    "log");
}

static void check_iommu(struct check *k)
{
	const struct system *s = k->sys;

	if (s->iommu)
		add(k, LVL_OK, "iommu", NULL, "IOMMU active (/sys/class/iommu and /sys/kernel/iommu_groups)");
	else
		add(k, LVL_FAIL, "iommu",
		    s->cpu == CPU_INTEL
			? "enable VT-d in the firmware setup; `pcibind generate --write` adds intel_iommu=on; reboot"
			: "enable AMD-Vi / IOMMU in the firmware setup; reboot",
		    "no IOMMU active: /sys/kernel/iommu_groups is empty");
	check_irq_remap(k);
}

static void check_boot(struct check *k)
{
	const struct system *s = k->sys;

	add(k, LVL_INFO, "boot-mode", NULL, "%s boot", s->efi ? "EFI" : "legacy BIOS");
	if (s->boot == BOOT_UNKNOWN)
		add(k, LVL_WARN, "bootloader", "add the kernel arguments by hand (`pcibind generate -v` lists them)",
		    "bootloader not recognised");
	else
		add(k, LVL_INFO, "bootloader", NULL, "%s; initramfs: %s", bootloader_name(s->boot),
		    initrd_tool_name(s->initrd));
	if (s->cmdline && strstr(s->cmdline, "amd_iommu=on"))
		add(k, LVL_WARN, "cmdline", "remove amd_iommu=on from the kernel command line",
		    "amd_iommu=on is not a kernel parameter (the AMD IOMMU is on by default)");
}

/* a file of the result that differs from the disk (an owned one not pcibind's counts as left alone) */
static bool out_of_date(const struct check *k, const struct gen_file *f)
{
	_cleanup_free_ char *old = NULL;

	if (f->state)
		return false;
	if (sysroot_read(k->c->root, f->path, &old, NULL) < 0)
		return f->text != NULL;
	if (!f->text)
		return !f->owned || gen_is_ours(old);
	return !streq(old, f->text);
}

/* the arguments generate wants, against the running command line; generated files up to date */
static void check_generated(struct check *k)
{
	struct bootcfg_existing cur;
	struct gen_result res;
	struct gen_error e;
	size_t stale = 0;
	char msg[512];

	if (bootcfg_existing_read(k->c->root, k->sys, &cur, msg, sizeof(msg)) < 0) {
		add(k, LVL_FAIL, "generate", "inspect the file, then remove it", "%s", msg);
		return;
	}
	if (gen_build(k->cfg, k->h, k->sys, &cur.ex, &res, &e) < 0) {
		add(k, LVL_FAIL, "generate", "fix the configuration", "%s", e.msg[0] ? e.msg : "cannot generate");
		bootcfg_existing_clear(&cur);
		return;
	}
	for (size_t i = 0; i < res.n_files; i++)
		stale += out_of_date(k, &res.files[i]);
	for (size_t i = 0; i < res.n_hazards; i++)
		add(k, LVL_FAIL, "generate", "take the driver out of blacklist or move the function at boot", "%s",
		    res.hazards[i]);
	if (stale)
		add(k, LVL_WARN, "generate", "run `pcibind generate` to see them, `pcibind generate --write` to apply",
		    "%zu generated file%s out of date", stale, stale == 1 ? " is" : "s are");
	else
		add(k, LVL_OK, "generate", NULL, "generated files are up to date");
	for (size_t i = 0; i < res.n_args; i++) {
		if (words_contain(k->sys->cmdline, res.args[i]))
			add(k, LVL_OK, "cmdline", NULL, "%s is on the running kernel's command line", res.args[i]);
		else if (k->sys->iommu && streq(res.args[i], "intel_iommu=on"))
			/* the kernel's default (CONFIG_INTEL_IOMMU_DEFAULT_ON) turned it on: not a failure */
			add(k, LVL_WARN, "cmdline",
			    stale ? "`pcibind generate --write` puts it there"
				  : "reboot (the configuration already has it)",
			    "intel_iommu=on is not on the running kernel's command line; the IOMMU is on anyway (the "
			    "kernel's default), the argument keeps it so");
		else
			add(k, LVL_FAIL, "cmdline",
			    stale ? "`pcibind generate --write`, then reboot"
				  : "reboot (the configuration already has it)",
			    "%s is not on the running kernel's command line", res.args[i]);
	}
	gen_result_clear(&res);
	bootcfg_existing_clear(&cur);
}

static void check_modules(struct check *k)
{
	static const char *const names[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
	const struct system *s = k->sys;
	_cleanup_free_ char *dep = NULL, *builtin = NULL;
	char path[4096];
	bool avail;

	if (!s->running[0]) {
		add(k, LVL_INFO, "modules", NULL, "running kernel unknown: vfio modules not checked");
		return;
	}
	(void)snprintf(path, sizeof(path), "lib/modules/%s/modules.dep", s->running);
	(void)sysroot_read(k->c->root, path, &dep, NULL);
	(void)snprintf(path, sizeof(path), "lib/modules/%s/modules.builtin", s->running);
	(void)sysroot_read(k->c->root, path, &builtin, NULL);
	avail = (dep && strstr(dep, "/vfio-pci.ko")) || (builtin && strstr(builtin, "/vfio-pci.ko")) ||
		s->modules_loaded[2];
	if (!avail) {
		add(k, LVL_FAIL, "modules", "install the kernel's modules package",
		    "vfio-pci is neither built into %s nor a module of it", s->running);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		add(k, s->modules_loaded[i] ? LVL_OK : LVL_INFO, "modules",
		    s->modules_loaded[i] ? NULL
					 : "loaded on demand; `pcibind generate --write` lists it in modules-load.d",
		    "%s %s", names[i], s->modules_loaded[i] ? "loaded" : "available, not loaded");
}

/* The VFIO device cdev (/dev/vfio/devices/vfioN, attached through iommufd's /dev/iommu) is what
 * QEMU's -object iommufd and libvirt's <iommufd> open instead of /dev/vfio/N. Only a function on
 * vfio-pci shows it (sys/class/vfio-dev/vfioN/dev); before that the kernel's config tells. */
static void check_cdev(struct check *k)
{
	struct vfio_cdev vc;
	int seen;
	bool iommufd;
	char cfg;

	detect_vfio_cdev(k->c->root, k->sys->running, &vc);
	seen = vc.seen, iommufd = vc.iommufd, cfg = vc.config;

	if (seen == 1 && iommufd)
		add(k, LVL_OK, "vfio-cdev", NULL,
		    "VFIO cdev offered: /dev/vfio/devices/vfioN for each function on vfio-pci, /dev/iommu (iommufd)");
	else if (seen == 1)
		add(k, LVL_INFO, "vfio-cdev", "modprobe iommufd (loaded on demand by a VM manager that uses it)",
		    "VFIO cdev offered (/dev/vfio/devices/vfioN), /dev/iommu absent: iommufd not loaded");
	else if (seen == 0 || cfg == 'n')
		add(k, LVL_INFO, "vfio-cdev",
		    "a kernel built with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV, for iommufd",
		    "no VFIO cdev in %s (%s): VM managers open /dev/vfio/N; iommufd (QEMU -object iommufd, libvirt "
		    "<iommufd>) is not available",
		    k->sys->running[0] ? k->sys->running : "the running kernel",
		    cfg == 'n' ? "CONFIG_VFIO_DEVICE_CDEV not set" : "its vfio-dev devices have no character device");
	else if (cfg == 'y' || iommufd)
		add(k, LVL_INFO, "vfio-cdev", NULL,
		    "VFIO cdev offered by %s (CONFIG_VFIO_DEVICE_CDEV=y); no function on vfio-pci shows it yet",
		    k->sys->running);
	else
		add(k, LVL_INFO, "vfio-cdev", NULL,
		    "VFIO cdev unknown: no function on vfio-pci, no kernel config found");
}

/* which bridge lacks ACS, for a group that holds more than the set */
static void group_why(struct check *k, const struct devset *set, char *buf, size_t size)
{
	struct pcitree *t = NULL;

	buf[0] = '\0';
	if (pcitree_build(k->c->root, k->h, &t) < 0)
		return;
	for (size_t i = 0; i < k->h->n && !buf[0]; i++) {
		const struct pcifn *f = &k->h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device))
			continue;
		for (size_t j = 0; j < k->h->n && !buf[0]; j++) {
			const struct pcifn *o = &k->h->fns[j];

			if (o->group == f->group && j != i && !pcifn_is_bridge(o) &&
			    !devset_selects(set, &o->addr, o->vendor, o->device) && o->driver &&
			    !driver_is_vfio_safe(o->driver))
				(void)pcitree_why_shared(t, i, j, buf, size);
		}
	}
	pcitree_free(t);
}

/* guide step 8: each function of a boot set on its driver now, its group with nothing else in it */
static void check_set_state(struct check *k, const struct devset *set, enum set_verdict v)
{
	const char *target = devset_driver(k->cfg, set);
	char what[80], away[TEXT_MAX] = "", group[TEXT_MAX] = "";
	int g = -1;

	(void)snprintf(what, sizeof(what), "set %s", set->name);
	for (size_t i = 0; i < k->h->n; i++) {
		const struct pcifn *f = &k->h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device) || pcifn_is_bridge(f))
			continue;
		if (!streq_null(f->driver, target))
			(void)snprintf(away + strlen(away), sizeof(away) - strlen(away), "%s%s on %s",
				       away[0] ? ", " : "", f->name, f->driver ? f->driver : "no driver");
		g = f->group;
	}
	if (set->boot && v == VERDICT_READY && away[0])
		add(k, LVL_FAIL, what, "`pcibind apply` binds it now; at boot pcibind.service does (is it enabled?)",
		    "boot = yes, but %s, not %s", away, target);
	if (v != VERDICT_READY && v != VERDICT_BOUND)
		return;
	for (size_t i = 0; g >= 0 && i < k->h->n; i++) {
		const struct pcifn *f = &k->h->fns[i];

		if (f->group == g && pcifn_is_bridge(f))
			(void)snprintf(group + strlen(group), sizeof(group) - strlen(group), "%s%s",
				       group[0] ? ", " : "", f->name);
	}
	if (g >= 0)
		add(k, LVL_OK, what, NULL, "IOMMU group %d holds only the set%s%s%s", g,
		    group[0] ? " and the bridge " : "", group, group[0] ? ", which stays with the host" : "");
}

static bool set_moved(const struct check *k, const struct devset *set)
{
	struct set_whereabouts w;

	if (!devset_has_identity(set))
		return false;
	plan_whereabouts(k->h, k->cfg, set, &w);
	return w.mismatch && w.where == WHERE_MOVED;
}

/*
 * A set whose device moved: the one command that fixes it, NULL when it did
 * not move. It names every moved set: two cards that swapped move together.
 */
static const char *moved_fix(const struct check *k, const struct devset *set, char *buf, size_t size)
{
	if (!set_moved(k, set))
		return NULL;
	(void)snprintf(buf, size, "`pcibind setup --relocate");
	for (size_t i = 0; i < k->cfg->n_sets; i++)
		if (set_moved(k, &k->cfg->sets[i]))
			strappendf(buf, size, " %s", k->cfg->sets[i].name);
	strappendf(buf, size, "`");
	return buf;
}

static void check_sets(struct check *k)
{
	for (size_t i = 0; i < k->cfg->n_sets; i++) {
		const struct devset *set = &k->cfg->sets[i];
		char detail[TEXT_MAX] = "", what[80], why[TEXT_MAX] = "";
		enum set_verdict v = plan_set_verdict(k->h, k->cfg, set, detail, sizeof(detail));
		enum level lvl = v == VERDICT_READY || v == VERDICT_BOUND ? LVL_OK
				 : v == VERDICT_ABSENT			  ? LVL_WARN
									  : LVL_FAIL;

		const char *vn = set_verdict_name(v), *body = detail;
		size_t n = strlen(vn);
		char fixbuf[TEXT_MAX];
		const char *fix = moved_fix(k, set, fixbuf, sizeof(fixbuf));

		if (strncmp(detail, vn, n) == 0 && detail[n] == ':' && detail[n + 1] == ' ')
			body = detail + n + 2; /* plan's detail may start with the verdict's own name */
		if (v == VERDICT_GROUP)
			group_why(k, set, why, sizeof(why));
		(void)snprintf(what, sizeof(what), "set %s", set->name);
		if (fix)
			lvl = LVL_FAIL; /* not claimed where it is until the set says where */
		add(k, lvl, what,
		    lvl == LVL_OK	  ? NULL
		    : fix		  ? fix
		    : v == VERDICT_ABSENT ? "check the address with `pcibind status`"
		    : v == VERDICT_GROUP
			? "add the sibling to the set, or move the card to a slot whose port isolates it "
			  "(`pcibind status --tree` shows the groups)"
			: "see `pcibind status`",
		    "%s: %s%s%s", vn, body, why[0] ? ": " : "", why);
		check_set_state(k, set, v);
	}
	if (!k->cfg->n_sets)
		add(k, LVL_INFO, "sets", "add a device set with `pcibind setup SEL`", "no device sets configured");
}

/* a set with boot = yes is claimed at boot only with the unit enabled */
static void check_unit(struct check *k)
{
	struct unit_links u = { 0 };
	bool boot = false;
	int err;

	for (size_t i = 0; i < k->cfg->n_sets; i++)
		boot |= k->cfg->sets[i].boot;
	if (!boot)
		return;
	err = unit_links_read(k->c->root, "pcibind.service", &u);
	if (err == -ENOENT)
		add(k, LVL_FAIL, "unit", "install pcibind (`make install`)",
		    "pcibind.service is not installed: the sets with boot = yes are not claimed at boot");
	else if (err < 0)
		add(k, LVL_WARN, "unit", NULL, "cannot read pcibind.service: %s", strerror(-err));
	else if (u.masked)
		add(k, LVL_FAIL, "unit", "`systemctl unmask pcibind.service`", "pcibind.service is masked");
	else if (!unit_links_enabled(&u))
		add(k, LVL_FAIL, "unit", "`systemctl enable pcibind.service` (`pcibind setup` does it)",
		    "pcibind.service is not enabled: the sets with boot = yes are not claimed at boot");
	else
		add(k, LVL_OK, "unit", NULL, "pcibind.service is enabled (%s)", u.links[0]);
}

/* a finding of cmd-check-vm.c */
static void vm_add(void *data, int level, const char *what, const char *fix, const char *msg)
{
	add(data, (enum level)level, what, fix, "%s", msg);
}

/* ---- reset methods: will a VM that stops get its device back in a state it can start from? ---- */

static bool has_method(const char *methods, const char *m)
{
	size_t n = strlen(m);

	for (const char *p = methods ? methods : ""; *(p += strspn(p, " ")); p += strcspn(p, " "))
		if (strncmp(p, m, n) == 0 && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* Only bus and PM resets: what AMD GPUs of the Polaris, Vega and Navi 1x generations do not come back from */
static bool amd_gpu_reset_bug(const struct pcifn *f, const char *methods)
{
	return f->vendor == 0x1002 && pcifn_is_display(f) && !has_method(methods, "device_specific") &&
	       !has_method(methods, "flr") && !has_method(methods, "af_flr") && !has_method(methods, "acpi");
}

/* A function of the same slot, in the same set, that has a bus reset: it resets f with it */
static const struct pcifn *slot_bus_reset(const struct check *k, const struct devset *set, const struct pcifn *f)
{
	for (size_t i = 0; i < k->h->n; i++) {
		const struct pcifn *s = &k->h->fns[i];

		if (s != f && pciaddr_same_slot(&s->addr, &f->addr) && config_owner_set(k->cfg, k->h, s) == set &&
		    has_method(s->reset_method, "bus"))
			return s;
	}
	return NULL;
}

/* 1 when a finding was added (a problem or a note), 0 when f resets fine */
static int check_reset_fn(struct check *k, const struct devset *set, const struct pcifn *f, bool vendor_reset)
{
	/* a function without a reset_method file has none, whatever its set asks for */
	const char *methods = f->reset_method && set->reset_method ? set->reset_method : f->reset_method;
	const struct pcifn *s;
	char what[80], fix[TEXT_MAX];

	(void)snprintf(what, sizeof(what), "reset %s", f->name);
	if (!methods || !*methods) {
		if ((s = slot_bus_reset(k, set, f)))
			add(k, LVL_INFO, what, NULL,
			    "[%s]: %s has no reset of its own; the bus reset of %s resets it with it", set->name,
			    f->name, s->name);
		else
			add(k, LVL_WARN, what,
			    "give the VM every function of the device, or a device-specific reset module; nothing to "
			    "set in "
			    "pcibind",
			    "[%s]: %s has no usable reset method (%s): the kernel cannot reset it when the VM stops, "
			    "so the "
			    "VM may not start cleanly again, and the device keeps what the last guest left in it",
			    set->name, f->name,
			    methods ? "reset_method is empty: all disabled" : "no reset_method file");
		return 1;
	}
	if (amd_gpu_reset_bug(f, methods)) {
		if (vendor_reset)
			(void)snprintf(
			    fix, sizeof(fix),
			    "vendor-reset is loaded: set reset_method = device_specific in [%s] (since Linux 5.15 "
			    "the kernel uses it only when asked)",
			    set->name);
		else
			(void)snprintf(
			    fix, sizeof(fix),
			    "install and load vendor-reset (github.com/gnif/vendor-reset), then set reset_method = "
			    "device_specific in [%s]",
			    set->name);
		add(k, LVL_WARN, what, fix,
		    "[%s]: %s, an AMD GPU, can only be reset with '%s': AMD GPUs of the Polaris, Vega and Navi 1x "
		    "generations do not come back from a bus or PM reset (the AMD reset bug), so after the VM stops it "
		    "may stay hung until the host reboots",
		    set->name, f->name, methods);
		return 1;
	}
	return 0;
}

static void check_resets(struct check *k)
{
	bool vendor_reset = sysroot_exists(k->c->root, "sys/module/vendor_reset") == 0;

	if (vendor_reset)
		add(k, LVL_INFO, "reset", NULL,
		    "vendor-reset is loaded: it gives the AMD GPUs it knows a device-specific reset (reset_method "
		    "device_specific)");
	for (size_t s = 0; s < k->cfg->n_sets; s++) {
		const struct devset *set = &k->cfg->sets[s];
		char what[80];
		size_t n = 0, noted = 0;

		for (size_t i = 0; i < k->h->n; i++) {
			const struct pcifn *f = &k->h->fns[i];

			if (config_owner_set(k->cfg, k->h, f) != set || pcifn_is_bridge(f))
				continue;
			n++;
			noted += check_reset_fn(k, set, f, vendor_reset);
		}
		(void)snprintf(what, sizeof(what), "reset [%s]", set->name);
		if (n && !noted)
			add(k, LVL_OK, what, NULL, "every function of [%s] has a usable reset method%s", set->name,
			    set->reset_method ? " (the set's reset_method)" : "");
	}
}

static bool ready(const struct check *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->f[i].level == LVL_FAIL)
			return false;
	return true;
}

static void print_text(const struct check *k)
{
	for (size_t i = 0; i < k->n; i++) {
		const struct finding *f = &k->f[i];
		printf("%-4s  %s: %s%s%s\n", level_names[f->level], f->what, f->msg, f->fix[0] ? "; fix: " : "",
		       f->fix);
	}
	printf("%s\n", ready(k) ? "ready" : "not ready");
}

static int print_json(const struct check *k)
{
	struct json j;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", CHECK_SCHEMA);
	json_key_string(&j, "root", sysroot_path(k->c->root));
	if (k->c->vm || k->c->domain)
		json_key_string(&j, k->c->vm ? "vm" : "domain", k->c->vm ? k->c->vm : k->c->domain);
	json_key_bool(&j, "ready", ready(k));
	json_key(&j, "findings");
	json_array_begin(&j);
	for (size_t i = 0; i < k->n; i++) {
		json_object_begin(&j);
		json_key_string(&j, "check", k->f[i].what);
		json_key_string(&j, "status", level_names[k->f[i].level]);
		json_key_string(&j, "message", k->f[i].msg);
		json_key_string(&j, "fix", k->f[i].fix[0] ? k->f[i].fix : NULL);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	return json_finish(&j) < 0 ? EXIT_FAILURE_ : 0;
}

static int scan(struct check *k)
{
	int err = pcihost_scan(k->c->root, &k->h);

	if (err == -ENOENT) {
		k->h = calloc(1, sizeof(*k->h));
		err = k->h ? 0 : -ENOMEM;
	} else if (err == 0) {
		err = usage_scan(k->c->root, k->h);
	}
	if (err == 0 && plan_identity_needed(k->cfg))
		err = identity_annotate(k->c->root, k->h);
	if (err == 0)
		err = detect_system(k->c->root, &k->sys);
	if (err < 0) {
		msg_error("cannot inspect the system below %s: %s", sysroot_path(k->c->root), strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}

/* exit 0: ready (no finding failed), 1: not ready, 2: configuration error */
static int run(struct ctx *c, int argc, char **argv)
{
	struct check *k = calloc(1, sizeof(*k));
	int r;

	if (!k) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	k->c = c;
	if (argc > 0) {
		msg_error("check takes no arguments");
		r = EXIT_USAGE;
	} else if ((r = ctx_load_config(c, &k->cfg)) == 0 && (r = scan(k)) == 0) {
		struct check_vm_env vme = { c, k->cfg, k->h, vm_add, k };

		if (c->vm || c->domain) {
			r = check_vm(&vme);
		} else {
			check_cpu(k);
			check_iommu(k);
			check_boot(k);
			check_modules(k);
			check_cdev(k);
			check_generated(k);
			check_kvm(k);
			check_sets(k);
			check_resets(k);
			check_unit(k);
			check_vm_hooks(&vme);
		}
		if (r == 0 && c->json)
			r = print_json(k);
		else if (r == 0)
			print_text(k);
		if (r == 0)
			r = ready(k) ? EXIT_OK : EXIT_FAILURE_;
	}
	system_free(k->sys);
	pcihost_free(k->h);
	config_free(k->cfg);
	free(k);
	return r;
}

const struct cmd cmd_check = {
	.name = "check",
	.args = "[--vm VMID | --domain NAME|FILE]",
	.help = "is this host (or VM) ready for passthrough? (exit 0 ready, 1 not ready)",
	.run = run,
};
