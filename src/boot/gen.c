/* gen.c - pure generators: what every boot setup shares (modprobe.d, modules-load.d, arguments, in-place edits) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootops.h"
#include "gen.h"
#include "modalias.h"
#include "util.h"

#define MODULES_MAX 64

/*
 * The rules (README and pcibind(8) say the same):
 *
 * - Only sets with boot = yes reach the boot configuration.
 * - softdep HOST pre: TARGET for each host driver of a configured function:
 *   the driver bound now (its module from sys/bus/pci/drivers/D/module, so
 *   xhci_hcd becomes xhci_pci; none if built in), else, for an unbound or
 *   vfio-bound function, the drivers known for its kind: NVIDIA display
 *   nouveau+nvidia, AMD amdgpu+radeon, Intel i915, QEMU std VGA bochs, HD
 *   audio snd_hda_intel, xHCI xhci_pci, EHCI ehci_pci, NVMe nvme. Other
 *   kinds get no softdep (a note says so); the udev rule still claims them.
 * - options vfio-pci ids= only for sets selected by ids alone (ids with an
 *   address are a guard); disable_vga=1 when a configured function is VGA.
 *   When vfio-pci is built into an installed kernel both go on the kernel
 *   command line (vfio-pci.ids=, vfio-pci.disable_vga=1) as well.
 * - modules-load.d: vfio, vfio_iommu_type1, vfio_pci, never vfio_virqfd:
 *   before 6.2 it is a dependency of vfio_pci (modprobe loads it), since
 *   6.2 it is part of vfio and naming it fails systemd-modules-load.
 * - Kernel command line: intel_iommu=on on Intel unless every installed
 *   kernel has CONFIG_INTEL_IOMMU_DEFAULT_ON=y; nothing on AMD (the AMD
 *   IOMMU is on by default and amd_iommu=on is not a parameter); iommu=pt
 *   if iommu_pt; rd.driver.pre=vfio-pci with dracut and a modular vfio-pci.
 * - allow_unsafe_interrupts only when opted in and remapping is known absent.
 * - A blacklisted driver serving a function no boot set moves is a hazard:
 *   the next boot would leave that function without it.
 * - A file pcibind edits in place is recorded (its text before, the
 *   arguments put in) so that the arguments it no longer wants, and on the
 *   way back all of them, are taken out again: the user's text comes back
 *   byte for byte when nobody touched the file since.
 */

/* ---- validation: what may reach a generated file ---- */

/* key=value with nothing a shell, GRUB's sh, JSON or the kernel's parser would treat specially */
bool gen_is_ours(const char *text)
{
	const char *hit = text ? strstr(text, "# " GEN_HEADER) : NULL;

	return hit && hit - text < 256;
}

static int _printf_(2, 0) vfail(struct gen_error *err, const char *fmt, va_list ap)
{
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -EINVAL;
}

static int _printf_(2, 3) gen_fail(struct gen_error *err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(err, fmt, ap);
	va_end(ap);
	return r;
}

int gen_failf(const struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(g->err, fmt, ap);
	va_end(ap);
	return r;
}

static int check_set_values(const struct config *cfg, const struct devset *set, struct gen_error *err)
{
	const char *drv = devset_driver(cfg, set);
	char a[PCIADDR_STRLEN];

	if (!driver_name_valid(drv))
		return gen_fail(err, "%s:%u: driver of [%s] cannot go into a generated file", set->file, set->line,
				set->name);
	for (size_t i = 0; i < set->n_addrs; i++) {
		struct pciaddr tmp;

		pciaddr_format(&set->addrs[i].addr, a);
		if (pciaddr_parse(a, &tmp) < 0)
			return gen_fail(err, "%s:%u: address of [%s] is invalid", set->file, set->line, set->name);
	}
	return 0;
}

/* ---- notes, hazards, files and commands of the result ---- */

static int _printf_(3, 0) push_unique(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char *s, **nv;

	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		if (streq((*v)[i], s)) {
			free(s);
			return 0;
		}
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = s;
	return 0;
}

int gen_note(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = push_unique(&g->res->notes, &g->res->n_notes, fmt, ap);
	va_end(ap);
	return r;
}

static int _printf_(2, 3) hazard(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = push_unique(&g->res->hazards, &g->res->n_hazards, fmt, ap);
	va_end(ap);
	return r;
}

enum { STAGE_BEFORE, STAGE_MAIN, STAGE_AFTER };

static int add_file(struct gen *g, const char *path, char *text, mode_t mode, unsigned flags, unsigned stage,
		    bool state, const char *prune)
{
	struct gen_result *res = g->res;
	struct gen_file *n;
	char *p = strdup(path);

	n = p ? realloc(res->files, (res->n_files + 1) * sizeof(*n)) : NULL;
	if (!n) {
		free(p);
		free(text);
		return -ENOMEM;
	}
	res->files = n;
	n[res->n_files++] = (struct gen_file){
		.path = p,
		.text = text,
		.mode = mode,
		.owned = flags & GEN_OWNED,
		.initrd = flags & GEN_INITRD,
		.boot = flags & GEN_BOOT,
		.state = state,
		.prune = prune,
		.stage = stage,
	};
	return 0;
}

int gen_file_add(struct gen *g, const char *path, char *text, mode_t mode, unsigned flags)
{
	if (!text)
		return -ENOMEM; /* from the caller's allocation; removal is gen_file_drop */
	return add_file(g, path, text, mode, flags, STAGE_MAIN, false, NULL);
}

int gen_file_drop(struct gen *g, const struct owned_file *o, unsigned flags)
{
	for (size_t i = 0; i < g->res->n_files; i++)
		if (streq(g->res->files[i].path, o->path))
			return 0; /* already decided on */
	return add_file(g, o->path, NULL, 0644, flags | GEN_OWNED, STAGE_MAIN, false, o->prune);
}

int gen_cmd_add(struct gen *g, enum gen_when when, const char *fmt, ...)
{
	struct gen_result *res = g->res;
	struct gen_cmd *n;
	va_list ap;
	char *s;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -ENOMEM;
	n = realloc(res->cmds, (res->n_cmds + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return -ENOMEM;
	}
	res->cmds = n;
	n[res->n_cmds++] = (struct gen_cmd){ s, when };
	return 0;
}

/* files in write order: stable by stage */
static int order_files(struct gen_result *res)
{
	struct gen_file *sorted = calloc(res->n_files + 1, sizeof(*sorted));
	size_t k = 0;

	if (!sorted)
		return -ENOMEM;
	for (unsigned stage = STAGE_BEFORE; stage <= STAGE_AFTER; stage++)
		for (size_t i = 0; i < res->n_files; i++)
			if (res->files[i].stage == stage)
				sorted[k++] = res->files[i];
	free(res->files);
	res->files = sorted;
	return 0;
}

char *gen_script(const char *src)
{
	size_t first = strcspn(src, "\n") + 1;
	char *s;

	if (asprintf(&s, "%.*s# " GEN_HEADER "\n%s", (int)first, src, src + first) < 0)
		return NULL;
	return s;
}

/* ---- what the configured devices need ---- */

static const struct {
	const char *driver;
	const char *module;
} known_modules[] = {
	{ "xhci_hcd", "xhci_pci" }, { "ehci-pci", "ehci_pci" }, { "ohci-pci", "ohci_pci" },
	{ "uhci_hcd", "uhci_hcd" }, { "nvidia", "nvidia" },	{ "snd_hda_intel", "snd_hda_intel" },
};

const char *gen_driver_module(const struct system *sys, const char *driver)
{
	for (size_t i = 0; sys && i < sys->n_drvmods; i++)
		if (streq(sys->drvmods[i].driver, driver))
			return sys->drvmods[i].module;
	for (size_t i = 0; i < ARRAY_SIZE(known_modules); i++)
		if (streq(known_modules[i].driver, driver))
			return known_modules[i].module;
	return driver;
}

const char *const *gen_known_drivers(uint16_t vendor, uint32_t class)
{
	static const char *const nvidia[] = { "nouveau", "nvidia", NULL }, *const amd[] = { "amdgpu", "radeon", NULL },
				 *const intel[] = { "i915", NULL }, *const bochs[] = { "bochs", NULL },
				 *const hda[] = { "snd_hda_intel", NULL }, *const xhci[] = { "xhci_pci", NULL },
				 *const ehci[] = { "ehci_pci", NULL }, *const nvme[] = { "nvme", NULL },
				 *const none[] = { NULL };
	unsigned base = class >> 16, sub = (class >> 8) & 0xff, pi = class & 0xff;

	if (base == 0x03) {
		if (vendor == 0x10de)
			return nvidia;
		if (vendor == 0x1002)
			return amd;
		if (vendor == 0x8086)
			return intel;
		if (vendor == 0x1234)
			return bochs;
	}
	if (base == 0x04 && sub == 0x03)
		return hda;
	if (base == 0x0c && sub == 0x03)
		return pi == 0x30 ? xhci : pi == 0x20 ? ehci : none;
	if (base == 0x01 && sub == 0x08)
		return nvme;
	return none;
}

struct need {
	char *softdep_host[MODULES_MAX]; /* host module -> target, parallel arrays, sorted by host */
	const char *softdep_target[MODULES_MAX];
	size_t n_softdep;
	struct pciids ids[MODULES_MAX * 4]; /* vfio-pci ids of id-selected sets */
	size_t n_ids;
	bool vga;
};

static int add_softdep(struct need *nd, const char *module, const char *target)
{
	size_t i;

	if (!module[0])
		return 0;
	for (i = 0; i < nd->n_softdep; i++)
		if (streq(nd->softdep_host[i], module))
			return 0; /* one softdep per module: the first set's target wins */
	if (nd->n_softdep >= MODULES_MAX)
		return 0;
	for (i = nd->n_softdep; i > 0 && strcmp(nd->softdep_host[i - 1], module) > 0; i--) {
		nd->softdep_host[i] = nd->softdep_host[i - 1];
		nd->softdep_target[i] = nd->softdep_target[i - 1];
	}
	if (!(nd->softdep_host[i] = strdup(module)))
		return -ENOMEM;
	nd->softdep_target[i] = target;
	nd->n_softdep++;
	return 0;
}

/*
 * The modules the kernel would bind to f, from modules.alias, whatever is
 * bound now: what generate writes must not follow the binding (a softdep
 * dropped once the function is on vfio-pci would lose the boot ordering).
 * VFIO drivers have no "pci:" aliases. The count added.
 */
static int alias_host_drivers(struct gen *g, struct need *nd, const struct pcifn *f, const char *target)
{
	const char *mods[8];
	char alias[128];
	size_t n;
	int r;

	if (!g->ex || !g->ex->aliases)
		return 0;
	modalias_of(f, alias, sizeof(alias));
	n = modaliases_match_modules(g->ex->aliases, alias, mods, ARRAY_SIZE(mods));
	for (size_t i = 0; i < n && i < ARRAY_SIZE(mods); i++) {
		if (driver_is_vfio_safe(mods[i]) || streq(mods[i], target) || !driver_name_valid(mods[i]))
			continue;
		if ((r = add_softdep(nd, mods[i], target)) < 0)
			return r;
	}
	return (int)n;
}

/* the host drivers of one configured function: the kernel's pick, the one bound now, the known ones */
static int fn_host_drivers(struct gen *g, struct need *nd, const struct pcifn *f, const char *target)
{
	const char *const *known;
	bool bound = false;
	int r;

	if ((r = alias_host_drivers(g, nd, f, target)) < 0)
		return r;
	bound = r > 0;

	/*
	 * The driver bound now, and the ones known for its kind too: the result
	 * must not change once the function is on its target (a second run
	 * after `pcibind apply` changes nothing).
	 */
	if (f->driver && !driver_is_vfio_safe(f->driver) && !streq(f->driver, target)) {
		const char *mod = gen_driver_module(g->sys, f->driver);

		if (!driver_name_valid(f->driver) || (mod[0] && !driver_name_valid(mod)))
			return gen_failf(g, "%s: driver name '%s' cannot go into a generated file", f->name, f->driver);
		if (!mod[0])
			return gen_note(g,
					"%s: %s is built into the kernel, so no softdep can order it; the boot unit "
					"moves the function after boot",
					f->name, f->driver);
		if ((r = add_softdep(nd, mod, target)) < 0)
			return r;
		bound = true;
	}
	known = gen_known_drivers(f->vendor, f->class);
	if (!known[0] && bound)
		return 0;
	if (!known[0])
		return gen_note(g,
				"%s (%04x:%04x class %06x) has no host driver bound and none known for its kind: no "
				"softdep for it; the udev rule still claims it",
				f->name, f->vendor, f->device, f->class);
	for (; *known; known++)
		if ((r = add_softdep(nd, *known, target)) < 0)
			return r;
	return 0;
}

static void add_id(struct need *nd, const struct pciids *id)
{
	for (size_t i = 0; i < nd->n_ids; i++)
		if (nd->ids[i].vendor == id->vendor && nd->ids[i].device == id->device)
			return;
	if (nd->n_ids < ARRAY_SIZE(nd->ids))
		nd->ids[nd->n_ids++] = *id;
}

static int collect_set(struct gen *g, struct need *nd, const struct devset *set)
{
	const char *target = devset_driver(g->cfg, set);
	const struct pcihost *h = g->h;
	size_t hits = 0;
	int r;

	if ((r = check_set_values(g->cfg, set, g->err)) < 0)
		return r;
	/* an SR-IOV set's VFs are made by pcibind.service at boot; its PF keeps its host driver */
	if (devset_is_sriov(set))
		return gen_note(g, "[%s] (%s:%u) creates its VFs at boot (pcibind.service): no softdep for it",
				set->name, set->file, set->line);
	if (!set->n_addrs && streq(target, "vfio-pci"))
		for (size_t i = 0; i < set->n_ids; i++)
			add_id(nd, &set->ids[i]);
	for (size_t i = 0; h && i < h->n; i++) {
		const struct pcifn *f = &h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device) || pcifn_is_bridge(f))
			continue;
		hits++;
		nd->vga |= pcifn_is_vga(f);
		/* driver = auto picks a variant at run time; the early claim needs vfio-pci first */
		if ((r = fn_host_drivers(g, nd, f, driver_is_auto(target) ? CONFIG_DEFAULT_DRIVER : target)) < 0)
			return r;
	}
	if (!hits)
		return gen_note(g, "[%s] (%s:%u) matches no PCI function here: no softdep for it", set->name, set->file,
				set->line);
	return 0;
}

static bool moved_at_boot(const struct config *cfg, const struct pcifn *f)
{
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (cfg->sets[i].boot && devset_selects(&cfg->sets[i], &f->addr, f->vendor, f->device))
			return true;
	return false;
}

/* module names: modprobe treats '-' and '_' alike */
static bool same_module(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

/* a blacklisted driver that serves a function no boot set moves: the next boot leaves it driverless */
static int blacklist_hazards(struct gen *g)
{
	const struct config *cfg = g->cfg;
	int r;

	for (size_t i = 0; cfg->n_blacklist && g->h && i < g->h->n; i++) {
		const struct pcifn *f = &g->h->fns[i];
		const char *mod;

		if (!f->driver || moved_at_boot(cfg, f))
			continue;
		mod = gen_driver_module(g->sys, f->driver);
		for (size_t b = 0; b < cfg->n_blacklist; b++) {
			if (!same_module(cfg->blacklist[b], f->driver) && !same_module(cfg->blacklist[b], mod))
				continue;
			r = hazard(g,
				   "blacklist = %s (%s:%u) would take %s (%04x:%04x) from the host at the next "
				   "boot: %s drives it now and no set with boot = yes moves it",
				   cfg->blacklist[b], cfg->blacklist_origin.file, cfg->blacklist_origin.line, f->name,
				   f->vendor, f->device, f->driver);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int collect(struct gen *g, struct need *nd)
{
	const struct config *cfg = g->cfg;
	size_t boot = 0;
	int r;

	for (size_t i = 0; i < cfg->n_sets; i++) {
		if (!cfg->sets[i].boot)
			continue;
		boot++;
		if ((r = collect_set(g, nd, &cfg->sets[i])) < 0)
			return r;
	}
	for (size_t i = 0; i < cfg->n_blacklist; i++)
		if (!driver_name_valid(cfg->blacklist[i]))
			return gen_fail(g->err, "%s:%u: blacklist entry '%s' cannot go into a generated file",
					cfg->blacklist_origin.file, cfg->blacklist_origin.line, cfg->blacklist[i]);
	if ((r = blacklist_hazards(g)) < 0)
		return r;
	if (!boot)
		return gen_note(g, "no set has boot = yes: only the IOMMU and module setup is generated; "
				   "`pcibind generate --remove` takes pcibind's boot setup out");
	return 0;
}

static void need_clear(struct need *nd)
{
	for (size_t i = 0; i < nd->n_softdep; i++)
		free(nd->softdep_host[i]);
}

/* ---- kernel facts ---- */

static bool any_kernel(const struct system *sys, bool (*pred)(const struct kernel *))
{
	for (size_t i = 0; i < sys->n_kernels; i++)
		if (pred(&sys->kernels[i]))
			return true;
	return false;
}

static bool k_builtin(const struct kernel *k)
{
	return k->vfio_pci_builtin;
}

static bool k_module(const struct kernel *k)
{
	return !k->vfio_pci_builtin;
}

static bool k_iommu_not_default_on(const struct kernel *k)
{
	return k->intel_iommu_default_on != 1;
}

/* no kernel found: assume vfio-pci is a module, as every distro kernel builds it */
static bool vfio_pci_module(const struct system *sys)
{
	return !sys->n_kernels || any_kernel(sys, k_module);
}

/* ---- modprobe.d and modules-load.d ---- */

static void ids_list(const struct need *nd, FILE *f)
{
	for (size_t i = 0; i < nd->n_ids; i++)
		fprintf(f, "%s%04x:%04x", i ? "," : "", nd->ids[i].vendor, nd->ids[i].device);
}

static void modprobe_vfio(FILE *f, const struct need *nd, const struct system *sys)
{
	if (!vfio_pci_module(sys)) {
		fprintf(f, "# vfio-pci is built into every installed kernel: its options are on the kernel "
			   "command line\n");
		return;
	}
	if (nd->n_softdep)
		fprintf(f, "\n# load the target driver before the host drivers of the configured devices\n");
	for (size_t i = 0; i < nd->n_softdep; i++)
		fprintf(f, "softdep %s pre: %s\n", nd->softdep_host[i], nd->softdep_target[i]);
	if (nd->n_ids) {
		fprintf(f, "\n# sets selected by ids only (every device with these ids)\noptions vfio-pci ids=");
		ids_list(nd, f);
		fputc('\n', f);
	}
	if (nd->vga)
		fprintf(f, "\n# a configured function is a VGA device: keep vfio-pci out of VGA arbitration\n"
			   "options vfio-pci disable_vga=1\n");
}

static int modprobe_opt_in(FILE *f, struct gen *g)
{
	const struct config *cfg = g->cfg;
	const struct system *sys = g->sys;

	if (cfg->kvm_ignore_msrs)
		fprintf(f, "\n# kvm_ignore_msrs = yes\noptions kvm ignore_msrs=1\n");
	if (cfg->n_blacklist)
		fprintf(f, "\n# blacklist =\n");
	for (size_t i = 0; i < cfg->n_blacklist; i++)
		fprintf(f, "blacklist %s\n", cfg->blacklist[i]);
	if (!cfg->allow_unsafe_interrupts)
		return 0;
	if (sys->irq_remap == 0) {
		fprintf(f, "\n# allow_unsafe_interrupts = yes, and this host has no interrupt remapping\n"
			   "options vfio_iommu_type1 allow_unsafe_interrupts=1\n");
		return 0;
	}
	return gen_note(g, "allow_unsafe_interrupts = yes ignored: interrupt remapping is %s (%s)",
			sys->irq_remap == 1 ? "active" : "not known to be absent", sys->irq_remap_source);
}

static const struct owned_file modprobe_file = { "etc/modprobe.d/pcibind.conf", NULL, false };
static const struct owned_file modules_load_file = { "etc/modules-load.d/pcibind.conf", NULL, false };

static int gen_modprobe(struct gen *g, const struct need *nd)
{
	struct gen_buf b;
	char *text;
	int r;

	if (gen_buf_open(&b) < 0)
		return -ENOMEM;
	fprintf(b.f, "# " GEN_HEADER "\n# (run `pcibind generate --write` after changing it)\n");
	modprobe_vfio(b.f, nd, g->sys);
	r = modprobe_opt_in(b.f, g);
	text = gen_buf_close(&b);
	if (r < 0) {
		free(text);
		return r;
	}
	return text ? gen_file_add(g, modprobe_file.path, text, 0644, GEN_OWNED | GEN_INITRD) : -ENOMEM;
}

static int gen_modules_load(struct gen *g)
{
	char *text = strdup("# " GEN_HEADER "\n"
			    "# vfio_virqfd is not named: before 6.2 vfio_pci depends on it, since 6.2 it is in vfio\n"
			    "vfio\nvfio_iommu_type1\nvfio_pci\n");

	return text ? gen_file_add(g, modules_load_file.path, text, 0644, GEN_OWNED | GEN_INITRD) : -ENOMEM;
}

/* ---- kernel command line ---- */

static int push_arg(struct gen_result *res, const char *fmt, ...) _printf_(2, 3);

int gen_arg_add(struct gen *g, const char *arg)
{
	return push_arg(g->res, "%s", arg);
}

bool gen_vfio_pci_is_module(const struct gen *g)
{
	return vfio_pci_module(g->sys);
}

static int push_arg(struct gen_result *res, const char *fmt, ...)
{
	char *s, **n;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -ENOMEM;
	if (!cmdline_arg_valid(s)) {
		free(s);
		return -EINVAL;
	}
	n = realloc(res->args, (res->n_args + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return -ENOMEM;
	}
	res->args = n;
	n[res->n_args++] = s;
	return 0;
}

static int iommu_args(struct gen *g)
{
	const struct system *sys = g->sys;
	int r = 0;

	if (sys->cpu == CPU_INTEL && (!sys->n_kernels || any_kernel(sys, k_iommu_not_default_on)))
		r = push_arg(g->res, "intel_iommu=on");
	else if (sys->cpu == CPU_INTEL)
		r = gen_note(g, "every installed kernel has CONFIG_INTEL_IOMMU_DEFAULT_ON=y: no intel_iommu=on");
	else if (sys->cpu == CPU_AMD)
		r = gen_note(g, "AMD: the IOMMU is on by default; amd_iommu=on is not a kernel parameter, so "
				"nothing is added for it");
	else
		r = gen_note(g, "CPU vendor unknown: no IOMMU argument added");
	if (r == 0 && g->cfg->iommu_pt)
		r = push_arg(g->res, "iommu=pt");
	return r;
}

static int cmdline_args(struct gen *g, const struct need *nd)
{
	const struct initrd_ops *it;
	struct gen_buf b;
	char *ids;
	int r;

	if ((r = iommu_args(g)) < 0)
		return r;
	if (any_kernel(g->sys, k_builtin)) {
		if (nd->n_ids) {
			if (gen_buf_open(&b) < 0)
				return -ENOMEM;
			ids_list(nd, b.f);
			if (!(ids = gen_buf_close(&b)))
				return -ENOMEM;
			r = push_arg(g->res, "vfio-pci.ids=%s", ids);
			free(ids);
		}
		if (r == 0 && nd->vga)
			r = push_arg(g->res, "vfio-pci.disable_vga=1");
	}
	if (r == 0 && (it = initrd_ops_find(g->sys->initrd)) && it->args)
		r = it->args(g);
	return r;
}

/* "vfio-pci.ids" and "vfio_pci.ids" are one parameter to the kernel */
static size_t key_len(const char *arg)
{
	return strcspn(arg, "=");
}

static bool same_key(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (a[i] != b[i] && !((a[i] == '-' || a[i] == '_') && (b[i] == '-' || b[i] == '_')))
			return false;
	return true;
}

/* ours even when not emitted now: a stale vfio-pci.ids= would claim devices pcibind no longer lists */
static bool always_ours(const char *w, size_t len)
{
	size_t k = strcspn(w, "=");

	if (k > len)
		k = len;
	return same_key(w, k < 8 ? k : 8, "vfio-pci", 8) && k > 8 && w[8] == '.';
}

/* does word w (len) stand for argument arg? rd.driver.pre may be given for several drivers: only ours */
static bool word_is_arg(const char *w, size_t len, const char *arg)
{
	size_t k = strcspn(w, "=");

	if (strncmp(arg, "rd.driver.pre=", 14) == 0)
		return len == strlen(arg) && strncmp(w, arg, len) == 0;
	return same_key(w, k > len ? len : k, arg, key_len(arg));
}

/* index of our arg with the key of word w (len), or -1 */
static long our_arg(const char *w, size_t len, char *const *args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (word_is_arg(w, len, args[i]))
			return (long)i;
	return -1;
}

char *gen_cmdline_merge(const char *line, char *const *args, size_t n_args)
{
	bool done[64] = { false };
	struct gen_buf b;
	bool first = true;
	const char *p = line ? line : "";

	if (n_args > ARRAY_SIZE(done) || gen_buf_open(&b) < 0)
		return NULL;
	while (*(p += strspn(p, " \t\n"))) {
		size_t len = strcspn(p, " \t\n");
		long i = our_arg(p, len, args, n_args);

		if (i >= 0 && !done[i]) {
			fprintf(b.f, "%s%s", first ? "" : " ", args[i]);
			done[i] = true;
			first = false;
		} else if (i < 0 && !always_ours(p, len)) {
			fprintf(b.f, "%s%.*s", first ? "" : " ", (int)len, p);
			first = false;
		}
		p += len;
	}
	for (size_t i = 0; i < n_args; i++)
		if (!done[i]) {
			fprintf(b.f, "%s%s", first ? "" : " ", args[i]);
			first = false;
		}
	return gen_buf_close(&b);
}

const char *gen_cmdline_find_key(const char *line, const char *arg, size_t *ret_len)
{
	for (const char *p = line ? line : ""; *(p += strspn(p, " \t\n"));) {
		size_t len = strcspn(p, " \t\n");

		if (word_is_arg(p, len, arg)) {
			*ret_len = len;
			return p;
		}
		p += len;
	}
	return NULL;
}

char *gen_cmdline_unmerge(const char *line, const char *orig, char *const *args, size_t n_args)
{
	bool done[BOOTSTATE_ARGS_MAX] = { false };
	struct gen_buf b;
	bool first = true;
	const char *p = line ? line : "";

	if (n_args > ARRAY_SIZE(done) || gen_buf_open(&b) < 0)
		return NULL;
	while (*(p += strspn(p, " \t\n"))) {
		size_t len = strcspn(p, " \t\n"), olen = 0;
		long i = our_arg(p, len, args, n_args);
		const char *o = i >= 0 ? gen_cmdline_find_key(orig, args[i], &olen) : NULL;

		if (i < 0) {
			fprintf(b.f, "%s%.*s", first ? "" : " ", (int)len, p);
			first = false;
		} else if (o && !done[i]) {
			fprintf(b.f, "%s%.*s", first ? "" : " ", (int)olen, o);
			first = false;
		}
		if (i >= 0)
			done[i] = true;
		p += len;
	}
	return gen_buf_close(&b);
}

bool gen_cmdline_has_all(const char *line, char *const *args, size_t n_args)
{
	for (size_t i = 0; i < n_args; i++)
		if (!words_contain(line, args[i]))
			return false;
	return true;
}

char *gen_args_line(char *const *args, size_t n_args)
{
	struct gen_buf b;

	if (gen_buf_open(&b) < 0)
		return NULL;
	for (size_t i = 0; i < n_args; i++)
		fprintf(b.f, "%s%s", i ? " " : "", args[i]);
	return gen_buf_close(&b);
}

/* ---- files edited in place, with their record ---- */

const char *gen_existing_text(const struct gen *g, const char *path)
{
	for (const struct gen_text *t = g->ex->edited; t->path; t++)
		if (streq(t->path, path))
			return t->text;
	return NULL;
}

/* text with the arguments merged into its command line */
static int edit_text(const struct gen *g, const struct cmdline_file *cf, const char *text, char *const *args,
		     size_t n_args, char **ret)
{
	_cleanup_free_ char *words = NULL, *merged = NULL;
	int r;

	if ((r = cf->get(g, text, &words)) < 0)
		return r;
	if (!(merged = gen_cmdline_merge(words, args, n_args)))
		return -ENOMEM;
	return cf->set(g, text, merged, true, ret);
}

/* text with args taken out of its command line as the user had them in orig; ours: still pcibind's edit */
static int unedit_text(const struct gen *g, const struct cmdline_file *cf, const char *text, const char *orig,
		       char *const *args, size_t n_args, bool ours, char **ret)
{
	_cleanup_free_ char *words = NULL, *owords = NULL, *kept = NULL;
	int r;

	if ((r = cf->get(g, text, &words)) < 0 || (orig && (r = cf->get(g, orig, &owords)) < 0))
		return r;
	if (!(kept = gen_cmdline_unmerge(words, owords, args, n_args)))
		return -ENOMEM;
	return cf->set(g, text, kept, ours, ret);
}

/* is the file as pcibind left it? (else the user changed it since) */
static int untouched(const struct gen *g, const struct cmdline_file *cf, const struct bootstate_edit *old,
		     const char *cur, bool *ret)
{
	_cleanup_free_ char *was = NULL;
	int r;

	if (old->original && streq(old->original, cur)) { /* a run stopped before its edit */
		*ret = true;
		return 0;
	}
	r = edit_text(g, cf, old->original, old->args, old->n_args, &was);
	if (r == -EINVAL) { /* the original no longer edits: not pcibind's text */
		*ret = false;
		return 0;
	}
	*ret = r == 0 && streq(was, cur);
	return r;
}

/* the arguments pcibind put in that it no longer wants */
static int stale_args(const struct bootstate_edit *old, char *const *args, size_t n_args, char ***ret, size_t *ret_n)
{
	*ret_n = 0;
	*ret = calloc(old->n_args + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < old->n_args; i++) {
		bool wanted = false;

		for (size_t j = 0; j < n_args && !wanted; j++)
			wanted = streq(old->args[i], args[j]);
		if (!wanted)
			(*ret)[(*ret_n)++] = old->args[i];
	}
	return 0;
}

static int record(struct gen *g, const char *path, char *original, char *const *args, size_t n_args)
{
	struct bootstate *s = &g->next;
	struct bootstate_edit *n = realloc(s->edits, (s->n_edits + 1) * sizeof(*n)), *e;

	if (!n) {
		free(original);
		return -ENOMEM;
	}
	s->edits = n;
	e = &n[s->n_edits++];
	*e = (struct bootstate_edit){ .original = original };
	(void)snprintf(e->path, sizeof(e->path), "%s", path);
	if (!(e->args = calloc(n_args + 1, sizeof(*e->args))))
		return -ENOMEM;
	for (; e->n_args < n_args; e->n_args++)
		if (!(e->args[e->n_args] = strdup(args[e->n_args])))
			return -ENOMEM;
	return 0;
}

static bool running_has_any(const struct gen *g, const struct bootstate_edit *old)
{
	for (size_t i = 0; i < old->n_args; i++)
		if (gen_cmdline_has_all(g->sys->cmdline, &old->args[i], 1))
			return true;
	return false;
}

/* give the file back: its original when untouched, else its text without pcibind's arguments */
static int restore(struct gen *g, const struct cmdline_file *cf, const struct bootstate_edit *old)
{
	const char *cur = gen_existing_text(g, cf->path);
	char *text = NULL;
	bool same;
	int r;

	if (!cur)
		return gen_note(g, "/%s is gone: nothing to give back", cf->path);
	if (old->orig_missing) {
		/* its copy is lost: the file as it is now, without what pcibind put in */
		char args[256] = "";

		for (size_t i = 0; i < old->n_args; i++)
			strappendf(args, sizeof(args), "%s%s", i ? " " : "", old->args[i]);
		if ((r = unedit_text(g, cf, cur, NULL, old->args, old->n_args, false, &text)) < 0 ||
		    (r = gen_note(g,
				  "/%s: its original (/" BOOTSTATE_ORIG_DIR "/%s) is missing: pcibind's arguments "
				  "are taken out of the file as it is now, the rest stays as it is; a value it "
				  "replaced (%s) cannot be put back",
				  cf->path, cf->path, args)) < 0) {
			free(text);
			return r;
		}
		return add_file(g, cf->path, text, 0644, GEN_BOOT, STAGE_MAIN, false, NULL);
	}
	if ((r = untouched(g, cf, old, cur, &same)) < 0)
		return r;
	if (same && old->original) {
		if (!(text = strdup(old->original)))
			return -ENOMEM;
	} else if (same && !(cf->running_fallback && running_has_any(g, old))) {
		text = NULL; /* pcibind created it */
	} else {
		if ((r = unedit_text(g, cf, cur, old->original, old->args, old->n_args, false, &text)) < 0)
			return r;
		if (!same && (r = gen_note(g,
					   "/%s changed since pcibind wrote it: only pcibind's arguments are "
					   "taken out of it",
					   cf->path)) < 0) {
			free(text);
			return r;
		}
		if (same && (r = gen_note(g,
					  "/%s is kept without pcibind's arguments: without it the bootloader "
					  "would copy them from the running command line; remove it after a "
					  "reboot if you do not want it",
					  cf->path)) < 0) {
			free(text);
			return r;
		}
	}
	return add_file(g, cf->path, text, 0644, GEN_BOOT, STAGE_MAIN, false, NULL);
}

static bool claim(struct gen *g, const char *path)
{
	for (size_t i = 0; i < g->n_claimed; i++)
		if (streq(g->claimed[i], path))
			return false;
	if (g->n_claimed < ARRAY_SIZE(g->claimed))
		g->claimed[g->n_claimed++] = path;
	return true;
}

/* the edit once the user changed the file since pcibind wrote it: their text minus pcibind's, then ours */
static int edit_touched(struct gen *g, const struct cmdline_file *cf, const struct bootstate_edit *old, const char *cur,
			char **ret_text, char **ret_orig)
{
	_cleanup_free_ char *kept = NULL;
	_cleanup_free_ char **stale = NULL;
	size_t n_stale;
	int r;

	if ((r = stale_args(old, g->res->args, g->res->n_args, &stale, &n_stale)) < 0 ||
	    (r = unedit_text(g, cf, cur, old->original, stale, n_stale, true, &kept)) < 0 ||
	    (r = edit_text(g, cf, kept, g->res->args, g->res->n_args, ret_text)) < 0)
		return r;
	return unedit_text(g, cf, cur, old->original, old->args, old->n_args, false, ret_orig);
}

int gen_edit_cmdline(struct gen *g, const struct cmdline_file *cf)
{
	const struct bootstate_edit *old = bootstate_find(g->ex->state, cf->path);
	const char *cur = gen_existing_text(g, cf->path);
	char *text = NULL, *orig = NULL;
	bool same = false;
	int r;

	(void)claim(g, cf->path);
	if (old && !cur)
		old = NULL; /* the user removed it: start again from nothing */
	if (old && !g->res->n_args)
		return restore(g, cf, old);
	if (!g->res->n_args)
		return 0;  /* nothing to add: the file stays the user's */
	if (!old && cur) { /* every argument in it already: not edited at all, not even marked */
		_cleanup_free_ char *words = NULL;

		if ((r = cf->get(g, cur, &words)) < 0)
			return r;
		if (gen_cmdline_has_all(words, g->res->args, g->res->n_args))
			return 0;
	}
	if (old && !old->orig_missing && (r = untouched(g, cf, old, cur, &same)) < 0)
		return r;
	if (!old || same) {
		const char *base = old ? old->original : cur;

		if ((r = edit_text(g, cf, base, g->res->args, g->res->n_args, &text)) < 0)
			return r;
		if (base && !(orig = strdup(base))) {
			free(text);
			return -ENOMEM;
		}
	} else if ((r = edit_touched(g, cf, old, cur, &text, &orig)) < 0) {
		return r;
	}
	if ((r = gen_file_add(g, cf->path, text, 0644, GEN_BOOT)) < 0) {
		free(orig);
		return r;
	}
	return record(g, cf->path, orig, g->res->args, g->res->n_args);
}

/* ---- the record: before the edits it describes, its cleanup after them ---- */

/* the record while the run writes: what is edited now, and what is still to be given back */
static int union_text(const struct gen *g, char **ret)
{
	const struct bootstate *old = g->ex->state;
	size_t n_old = old ? old->n_edits : 0;
	struct bootstate u = g->next; /* shallow: only the edits array is this function's */
	int err = 0;

	u.edits = calloc(g->next.n_edits + n_old + 1, sizeof(*u.edits));
	if (!u.edits)
		return -ENOMEM;
	for (u.n_edits = 0; u.n_edits < g->next.n_edits; u.n_edits++)
		u.edits[u.n_edits] = g->next.edits[u.n_edits];
	for (size_t i = 0; i < n_old; i++)
		if (!bootstate_find(&g->next, old->edits[i].path))
			u.edits[u.n_edits++] = old->edits[i];
	*ret = bootstate_format(&u, &err);
	free(u.edits);
	return err;
}

static int state_manifest(struct gen *g)
{
	char *mid = NULL, *final = NULL;
	int r = union_text(g, &mid);

	if (r == 0)
		final = bootstate_format(&g->next, &r);
	if (r < 0) {
		free(mid);
		return r;
	}
	if (streq_null(mid, final)) {
		free(mid);
		return add_file(g, BOOTSTATE_FILE, final, 0644, 0, final ? STAGE_BEFORE : STAGE_AFTER, true,
				BOOTSTATE_DIR);
	}
	if ((r = add_file(g, BOOTSTATE_FILE, mid, 0644, 0, STAGE_BEFORE, true, BOOTSTATE_DIR)) < 0) {
		free(final);
		return r;
	}
	return add_file(g, BOOTSTATE_FILE, final, 0644, 0, STAGE_AFTER, true, BOOTSTATE_DIR);
}

/* the originals: kept before the edit, removed once no record names them */
static int state_originals(struct gen *g)
{
	const struct bootstate *old = g->ex->state;
	char path[BOOTSTATE_PATH_MAX + 64];
	int r;

	for (size_t i = 0; i < g->next.n_edits; i++) {
		const struct bootstate_edit *e = &g->next.edits[i];
		char *text;

		if (!e->original)
			continue;
		if ((r = bootstate_orig_path(e->path, path, sizeof(path))) < 0)
			return r;
		if (!(text = strdup(e->original)) ||
		    (r = add_file(g, path, text, 0600, 0, STAGE_BEFORE, true, BOOTSTATE_DIR)) < 0)
			return text ? r : -ENOMEM;
	}
	for (size_t i = 0; old && i < old->n_edits; i++) {
		const struct bootstate_edit *e = bootstate_find(&g->next, old->edits[i].path);

		if (!old->edits[i].original || (e && e->original))
			continue;
		if ((r = bootstate_orig_path(old->edits[i].path, path, sizeof(path))) < 0 ||
		    (r = add_file(g, path, NULL, 0600, 0, STAGE_AFTER, true, BOOTSTATE_DIR)) < 0)
			return r;
	}
	return 0;
}

/* records of files this run did not decide on (another bootloader's, or all on the way back): given back */
static const struct cmdline_file *cmdline_file_of(const char *path)
{
	for (const struct boot_ops *const *m = boot_methods; *m; m++)
		if ((*m)->cmdline && streq((*m)->cmdline->path, path))
			return (*m)->cmdline;
	return NULL;
}

static int restore_unclaimed(struct gen *g)
{
	const struct bootstate *old = g->ex->state;
	int r;

	for (size_t i = 0; old && i < old->n_edits; i++) {
		const struct bootstate_edit *e = &old->edits[i];
		const struct cmdline_file *cf = cmdline_file_of(e->path);

		if (!claim(g, e->path))
			continue;
		if (!cf) { /* a newer pcibind's: keep its record */
			char *orig = e->original ? strdup(e->original) : NULL;

			if ((e->original && !orig) || (r = record(g, e->path, orig, e->args, e->n_args)) < 0)
				return -ENOMEM;
			continue;
		}
		if ((r = restore(g, cf, e)) < 0)
			return r;
	}
	return 0;
}

static int gen_state(struct gen *g)
{
	int r = state_originals(g);

	return r < 0 ? r : state_manifest(g);
}

static int gen_initrd(struct gen *g)
{
	const struct initrd_ops *m = initrd_ops_find(g->sys->initrd);
	int r;

	if (!m)
		return gen_note(g, "no initramfs tool found (initramfs-tools, dracut, mkinitcpio): nothing "
				   "generated for the initramfs");
	if ((r = m->edit(g)) < 0)
		return r;
	return m->refresh ? m->refresh(g) : 0;
}

static int gen_boot(struct gen *g)
{
	const struct boot_ops *m = boot_ops_find(g->sys->boot);
	_cleanup_free_ char *line = NULL;
	int r;

	if (m) {
		if ((r = m->edit(g)) < 0)
			return r;
		return m->refresh ? m->refresh(g) : 0;
	}
	if (!g->res->n_args)
		return 0;
	if (!(line = gen_args_line(g->res->args, g->res->n_args)))
		return -ENOMEM;
	return gen_note(g, "bootloader not recognised: add \"%s\" to the kernel command line yourself", line);
}

static int finish(struct gen *g, int r, struct gen_result *ret)
{
	if (r == 0)
		r = order_files(g->res);
	bootstate_clear(&g->next);
	if (r == -EINVAL && !g->err->msg[0])
		(void)gen_fail(g->err, "a value cannot go into a generated file");
	if (r < 0) {
		gen_result_clear(g->res);
		return r;
	}
	*ret = *g->res;
	return 0;
}

int gen_build(const struct config *cfg, const struct pcihost *h, const struct system *sys,
	      const struct gen_existing *ex, struct gen_result *ret, struct gen_error *err)
{
	struct gen_result res = { 0 };
	struct gen g = { .cfg = cfg, .h = h, .sys = sys, .ex = ex, .res = &res, .err = err };
	struct need nd = { 0 };
	int r;

	err->msg[0] = '\0';
	if ((r = collect(&g, &nd)) == 0 && (r = gen_modprobe(&g, &nd)) == 0 && (r = gen_modules_load(&g)) == 0 &&
	    (r = cmdline_args(&g, &nd)) == 0 && (r = gen_initrd(&g)) == 0 && (r = gen_boot(&g)) == 0 &&
	    (r = restore_unclaimed(&g)) == 0)
		r = gen_state(&g);
	need_clear(&nd);
	return finish(&g, r, ret);
}

/* packaged: the package's own files are there, for dpkg to remove, not generate */
static int drop_owned(struct gen *g, const struct owned_file *o, unsigned flags, bool packaged)
{
	int r;

	for (; o && o->path; o++)
		if (!(packaged && o->packaged) && (r = gen_file_drop(g, o, flags)) < 0)
			return r;
	return 0;
}

static int remove_methods(struct gen *g)
{
	int r;

	for (const struct initrd_ops *const *m = initrd_methods; *m; m++)
		if ((r = drop_owned(g, (*m)->owns, GEN_INITRD, initrd_is_packaged(g, (*m)->id))) < 0 ||
		    ((*m)->remove && (r = (*m)->remove(g)) < 0))
			return r;
	for (const struct boot_ops *const *m = boot_methods; *m; m++)
		if ((r = drop_owned(g, (*m)->owns, GEN_BOOT, false)) < 0 || ((*m)->remove && (r = (*m)->remove(g)) < 0))
			return r;
	return 0;
}

static int remove_refresh(struct gen *g)
{
	const struct initrd_ops *it = initrd_ops_find(g->sys->initrd);
	const struct boot_ops *bo = boot_ops_find(g->sys->boot);
	int r = 0;

	if (it && it->refresh)
		r = it->refresh(g);
	if (r == 0 && bo && bo->refresh)
		r = bo->refresh(g);
	return r;
}

int gen_remove(const struct system *sys, const struct gen_existing *ex, struct gen_result *ret, struct gen_error *err)
{
	struct gen_result res = { 0 };
	struct gen g = { .sys = sys, .ex = ex, .res = &res, .err = err };
	int r;

	err->msg[0] = '\0';
	if ((r = gen_file_drop(&g, &modprobe_file, GEN_INITRD)) == 0 &&
	    (r = gen_file_drop(&g, &modules_load_file, GEN_INITRD)) == 0 && (r = remove_methods(&g)) == 0 &&
	    (r = restore_unclaimed(&g)) == 0 && (r = gen_state(&g)) == 0)
		r = remove_refresh(&g);
	return finish(&g, r, ret);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void gen_result_clear(struct gen_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->n_files; i++) {
		free(res->files[i].path);
		free(res->files[i].text);
	}
	free(res->files);
	strv_free(res->args, res->n_args);
	for (size_t i = 0; i < res->n_cmds; i++)
		free(res->cmds[i].cmd);
	free(res->cmds);
	strv_free(res->notes, res->n_notes);
	strv_free(res->hazards, res->n_hazards);
	*res = (struct gen_result){ 0 };
}
