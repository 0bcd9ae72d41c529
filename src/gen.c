/* gen.c - pure generators: modprobe.d, modules-load.d, kernel command line, initramfs, and a line diff */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "util.h"

/*
 * The initramfs scripts, from initramfs/ at build time: one source of truth
 * for what `make install`-less systems get through `pcibind generate`.
 */
#define EMBED(sym, file)                                                                                 \
	__asm__(".section .rodata\n.balign 8\n.global " #sym "\n" #sym ":\n.incbin \"" file "\"\n.byte 0\n" \
		".previous\n");                                                                          \
	extern const char sym[]

EMBED(pcibind_itools_hook, "initramfs/initramfs-tools/hook");
EMBED(pcibind_itools_init_top, "initramfs/initramfs-tools/init-top");
EMBED(pcibind_dracut_setup, "initramfs/dracut/module-setup.sh");
EMBED(pcibind_dracut_early, "initramfs/dracut/pcibind-early.sh");
EMBED(pcibind_mkinitcpio_install, "initramfs/mkinitcpio/install");
EMBED(pcibind_mkinitcpio_hook, "initramfs/mkinitcpio/hook");

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
 * - vfio_virqfd in modules-load.d only if an installed kernel is before 6.2.
 * - Kernel command line: intel_iommu=on on Intel unless every installed
 *   kernel has CONFIG_INTEL_IOMMU_DEFAULT_ON=y; nothing on AMD (the AMD
 *   IOMMU is on by default and amd_iommu=on is not a parameter); iommu=pt
 *   if iommu_pt; rd.driver.pre=vfio-pci with dracut and a modular vfio-pci.
 * - allow_unsafe_interrupts only when opted in and remapping is known absent.
 */

/* ---- text buffers ---- */

struct buf {
	FILE *f;
	char *text;
	size_t len;
};

static int buf_open(struct buf *b)
{
	*b = (struct buf){0};
	b->f = open_memstream(&b->text, &b->len);
	return b->f ? 0 : -ENOMEM;
}

/* the text, owned by the caller, or NULL */
static char *buf_close(struct buf *b)
{
	if (!b->f)
		return NULL;
	if (fclose(b->f) != 0) {
		free(b->text);
		return NULL;
	}
	return b->text;
}

/* ---- validation: what may reach a generated file ---- */

bool gen_module_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n < 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* key=value with nothing a shell, GRUB's sh, JSON or the kernel's parser would treat specially */
bool gen_cmdline_arg_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n < 256 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,:=/+") == n;
}

static int _printf_(2, 3) gen_fail(struct gen_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int check_set_values(const struct config *cfg, const struct devset *set, struct gen_error *err)
{
	const char *drv = devset_driver(cfg, set);
	char a[PCIADDR_STRLEN];

	if (!gen_module_name_ok(drv))
		return gen_fail(err, "%s:%u: driver of [%s] cannot go into a generated file", set->file,
				set->line, set->name);
	for (size_t i = 0; i < set->n_addrs; i++) {
		struct pciaddr tmp;

		pciaddr_format(&set->addrs[i].addr, a);
		if (pciaddr_parse(a, &tmp) < 0)
			return gen_fail(err, "%s:%u: address of [%s] is invalid", set->file, set->line, set->name);
	}
	return 0;
}

/* ---- what the configured devices need ---- */

static const struct {
	const char *driver;
	const char *module;
} known_modules[] = {
	{"xhci_hcd", "xhci_pci"}, {"ehci-pci", "ehci_pci"}, {"ohci-pci", "ohci_pci"},
	{"uhci_hcd", "uhci_hcd"}, {"nvidia", "nvidia"},     {"snd_hda_intel", "snd_hda_intel"},
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
	static const char *const nvidia[] = {"nouveau", "nvidia", NULL}, *const amd[] = {"amdgpu", "radeon", NULL},
				 *const intel[] = {"i915", NULL}, *const bochs[] = {"bochs", NULL},
				 *const hda[] = {"snd_hda_intel", NULL}, *const xhci[] = {"xhci_pci", NULL},
				 *const ehci[] = {"ehci_pci", NULL}, *const nvme[] = {"nvme", NULL},
				 *const none[] = {NULL};
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
	struct gen_result *res;
};

static int _printf_(2, 3) note(struct gen_result *res, const char *fmt, ...)
{
	char *s, **n;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_notes; i++) {
		if (streq(res->notes[i], s)) {
			free(s);
			return 0;
		}
	}
	n = realloc(res->notes, (res->n_notes + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return -ENOMEM;
	}
	res->notes = n;
	n[res->n_notes++] = s;
	return 0;
}

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

/* the host driver of one configured function: the one bound now, else the known ones */
static int fn_host_drivers(struct need *nd, const struct system *sys, const struct pcifn *f, const char *target,
			   struct gen_error *err)
{
	const char *const *known;
	int r;

	if (f->driver && !driver_is_vfio_safe(f->driver) && !streq(f->driver, target)) {
		const char *mod = gen_driver_module(sys, f->driver);

		if (!gen_module_name_ok(f->driver) || (mod[0] && !gen_module_name_ok(mod)))
			return gen_fail(err, "%s: driver name '%s' cannot go into a generated file", f->name,
					f->driver);
		if (!mod[0])
			return note(nd->res,
				    "%s: %s is built into the kernel, so no softdep can order it; the boot unit "
				    "moves the function after boot",
				    f->name, f->driver);
		return add_softdep(nd, mod, target);
	}
	known = gen_known_drivers(f->vendor, f->class);
	if (!known[0])
		return note(nd->res,
			    "%s (%04x:%04x class %06x) has no host driver bound and none known for its kind: no "
			    "softdep for it; the udev rule still claims it",
			    f->name, f->vendor, f->device, f->class);
	for (; *known; known++)
		if ((r = add_softdep(nd, *known, target)) < 0)
			return r;
	return 0;
}

static int add_id(struct need *nd, const struct pciids *id)
{
	size_t i;

	for (i = 0; i < nd->n_ids; i++)
		if (nd->ids[i].vendor == id->vendor && nd->ids[i].device == id->device)
			return 0;
	if (nd->n_ids >= ARRAY_SIZE(nd->ids))
		return 0;
	nd->ids[nd->n_ids++] = *id;
	return 0;
}

static int collect_set(struct need *nd, const struct config *cfg, const struct pcihost *h,
		       const struct system *sys, const struct devset *set, struct gen_error *err)
{
	const char *target = devset_driver(cfg, set);
	size_t hits = 0;
	int r;

	if ((r = check_set_values(cfg, set, err)) < 0)
		return r;
	if (!set->n_addrs && streq(target, "vfio-pci"))
		for (size_t i = 0; i < set->n_ids; i++)
			if ((r = add_id(nd, &set->ids[i])) < 0)
				return r;
	for (size_t i = 0; h && i < h->n; i++) {
		const struct pcifn *f = &h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device) || pcifn_is_bridge(f))
			continue;
		hits++;
		nd->vga |= pcifn_is_vga(f);
		if ((r = fn_host_drivers(nd, sys, f, target, err)) < 0)
			return r;
	}
	if (!hits)
		return note(nd->res, "[%s] (%s:%u) matches no PCI function here: no softdep for it", set->name,
			    set->file, set->line);
	return 0;
}

static int collect(struct need *nd, const struct config *cfg, const struct pcihost *h, const struct system *sys,
		   struct gen_error *err)
{
	size_t boot = 0;
	int r;

	for (size_t i = 0; i < cfg->n_sets; i++) {
		if (!cfg->sets[i].boot)
			continue;
		boot++;
		if ((r = collect_set(nd, cfg, h, sys, &cfg->sets[i], err)) < 0)
			return r;
	}
	for (size_t i = 0; i < cfg->n_blacklist; i++)
		if (!gen_module_name_ok(cfg->blacklist[i]))
			return gen_fail(err, "%s:%u: blacklist entry '%s' cannot go into a generated file",
					cfg->blacklist_origin.file, cfg->blacklist_origin.line, cfg->blacklist[i]);
	if (!boot)
		return note(nd->res, "no set has boot = yes: only the IOMMU and module setup is generated");
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

static bool k_before_6_2(const struct kernel *k)
{
	return k->major && (k->major < 6 || (k->major == 6 && k->minor < 2));
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

static int modprobe_opt_in(FILE *f, const struct config *cfg, const struct system *sys, struct gen_result *res)
{
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
	return note(res, "allow_unsafe_interrupts = yes ignored: interrupt remapping is %s (%s)",
		    sys->irq_remap == 1 ? "active" : "not known to be absent", sys->irq_remap_source);
}

static int gen_modprobe(const struct need *nd, const struct config *cfg, const struct system *sys,
			struct gen_result *res, char **ret)
{
	struct buf b;
	int r;

	if (buf_open(&b) < 0)
		return -ENOMEM;
	fprintf(b.f, "# " GEN_HEADER "\n# (run `pcibind generate --write` after changing it)\n");
	modprobe_vfio(b.f, nd, sys);
	r = modprobe_opt_in(b.f, cfg, sys, res);
	*ret = buf_close(&b);
	return r < 0 ? r : *ret ? 0 : -ENOMEM;
}

static int gen_modules_load(const struct system *sys, char **ret)
{
	struct buf b;

	if (buf_open(&b) < 0)
		return -ENOMEM;
	fprintf(b.f, "# " GEN_HEADER "\nvfio\nvfio_iommu_type1\nvfio_pci\n");
	if (any_kernel(sys, k_before_6_2))
		fprintf(b.f, "# an installed kernel is older than 6.2, where vfio_virqfd still is a module\n"
			     "vfio_virqfd\n");
	*ret = buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

/* ---- kernel command line ---- */

static int push_arg(struct gen_result *res, const char *fmt, ...) _printf_(2, 3);

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
	if (!gen_cmdline_arg_ok(s)) {
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

static int iommu_args(const struct config *cfg, const struct system *sys, struct gen_result *res)
{
	int r = 0;

	if (sys->cpu == CPU_INTEL && (!sys->n_kernels || any_kernel(sys, k_iommu_not_default_on)))
		r = push_arg(res, "intel_iommu=on");
	else if (sys->cpu == CPU_INTEL)
		r = note(res, "every installed kernel has CONFIG_INTEL_IOMMU_DEFAULT_ON=y: no intel_iommu=on");
	else if (sys->cpu == CPU_AMD)
		r = note(res, "AMD: the IOMMU is on by default; amd_iommu=on is not a kernel parameter, so "
			      "nothing is added for it");
	else
		r = note(res, "CPU vendor unknown: no IOMMU argument added");
	if (r == 0 && cfg->iommu_pt)
		r = push_arg(res, "iommu=pt");
	return r;
}

static int cmdline_args(const struct need *nd, const struct config *cfg, const struct system *sys,
			struct gen_result *res)
{
	struct buf b;
	char *ids;
	int r;

	if ((r = iommu_args(cfg, sys, res)) < 0)
		return r;
	if (any_kernel(sys, k_builtin)) {
		if (nd->n_ids) {
			if (buf_open(&b) < 0)
				return -ENOMEM;
			ids_list(nd, b.f);
			if (!(ids = buf_close(&b)))
				return -ENOMEM;
			r = push_arg(res, "vfio-pci.ids=%s", ids);
			free(ids);
		}
		if (r == 0 && nd->vga)
			r = push_arg(res, "vfio-pci.disable_vga=1");
	}
	if (r == 0 && sys->initrd == INITRD_DRACUT && vfio_pci_module(sys))
		r = push_arg(res, "rd.driver.pre=vfio-pci");
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

/* index of our arg with the key of word w (len), or -1 */
static long our_arg(const char *w, size_t len, char *const *args, size_t n)
{
	size_t k = strcspn(w, "=");

	if (k > len)
		k = len;
	for (size_t i = 0; i < n; i++) {
		/* rd.driver.pre may be given several times for different drivers: only ours is ours */
		if (strncmp(args[i], "rd.driver.pre=", 14) == 0) {
			if (len == strlen(args[i]) && strncmp(w, args[i], len) == 0)
				return (long)i;
			continue;
		}
		if (same_key(w, k, args[i], key_len(args[i])))
			return (long)i;
	}
	return -1;
}

char *gen_cmdline_merge(const char *line, char *const *args, size_t n_args)
{
	bool done[64] = {false};
	struct buf b;
	bool first = true;
	const char *p = line ? line : "";

	if (n_args > ARRAY_SIZE(done) || buf_open(&b) < 0)
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
	return buf_close(&b);
}

/* every one of args is a word of line */
static bool cmdline_has_all(const char *line, char *const *args, size_t n_args)
{
	for (size_t i = 0; i < n_args; i++) {
		const char *p = line ? line : "";
		size_t n = strlen(args[i]);
		bool found = false;

		while (!found && *(p += strspn(p, " \t\n"))) {
			size_t len = strcspn(p, " \t\n");

			found = len == n && strncmp(p, args[i], n) == 0;
			p += len;
		}
		if (!found)
			return false;
	}
	return true;
}

/* ---- GRUB ---- */

#define GRUB_KEY    "GRUB_CMDLINE_LINUX_DEFAULT="
#define GRUB_MARKER "# pcibind: GRUB_CMDLINE_LINUX_DEFAULT below is kept up to date by `pcibind generate`"

/* the value of a VAR= line: "..." or '...' or a bare word; NULL if it holds shell syntax we do not edit */
static char *shell_value(const char *v)
{
	size_t n;

	if (*v == '"' || *v == '\'') {
		const char *end = strchr(v + 1, *v);

		if (!end || end[1 + strspn(end + 1, " \t")] != '\0')
			return NULL;
		n = (size_t)(end - v - 1);
		v++;
	} else {
		n = strcspn(v, " \t");
		if (v[n + strspn(v + n, " \t")] != '\0')
			return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strchr("$`\\\"'", v[i]))
			return NULL;
	return strndup(v, n);
}

/* the words of GRUB_CMDLINE_LINUX and _DEFAULT in a /etc/default/grub, for the drop-in to skip */
static char *grub_user_args(const char *text)
{
	struct buf b;
	const char *p = text ? text : "";

	if (buf_open(&b) < 0)
		return NULL;
	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *s = p + strspn(p, " \t");
		_cleanup_free_ char *line = strndup(s, len - (size_t)(s - p));

		if (line && (strncmp(line, "GRUB_CMDLINE_LINUX=", 19) == 0 || strncmp(line, GRUB_KEY, 27) == 0)) {
			_cleanup_free_ char *v = shell_value(strchr(line, '=') + 1);
			if (v)
				fprintf(b.f, " %s", v);
		}
		p += len + (p[len] == '\n');
	}
	return buf_close(&b);
}

static int gen_grub_dropin(const char *grub, char *const *args, size_t n_args, char **ret)
{
	_cleanup_free_ char *user = grub_user_args(grub);
	struct buf b;

	if (!user || buf_open(&b) < 0)
		return -ENOMEM;
	fprintf(b.f, "# " GEN_HEADER "\n# arguments already in /etc/default/grub are not repeated here\n");
	fprintf(b.f, "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT");
	for (size_t i = 0; i < n_args; i++)
		if (!cmdline_has_all(user, &args[i], 1))
			fprintf(b.f, " %s", args[i]);
	fprintf(b.f, "\"\n");
	*ret = buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

/* index of the line start of the last active GRUB_CMDLINE_LINUX_DEFAULT=, or -1 */
static long grub_find_key(const char *text, size_t *ret_len)
{
	long found = -1;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		if (strncmp(p, GRUB_KEY, strlen(GRUB_KEY)) == 0) {
			found = p - text;
			*ret_len = len;
		}
		p += len + (p[len] == '\n');
	}
	return found;
}

static bool has_marker_before(const char *text, long at)
{
	size_t n = strlen(GRUB_MARKER);

	return at >= (long)n + 1 && strncmp(text + at - (long)n - 1, GRUB_MARKER "\n", n + 1) == 0;
}

int gen_grub_edit(const char *text, char *const *args, size_t n_args, char **ret, struct gen_error *err)
{
	_cleanup_free_ char *value = NULL, *merged = NULL, *line = NULL;
	size_t len = 0;
	long at;
	struct buf b;

	text = text ? text : "";
	at = grub_find_key(text, &len);
	if (at >= 0) {
		line = strndup(text + at, len);
		if (!line)
			return -ENOMEM;
		value = shell_value(line + strlen(GRUB_KEY));
		if (!value)
			return gen_fail(err,
					"/etc/default/grub: GRUB_CMDLINE_LINUX_DEFAULT holds shell syntax pcibind "
					"does not edit ($, `, \\ or quotes inside); add %s yourself",
					n_args ? args[0] : "the arguments");
	}
	if (!(merged = gen_cmdline_merge(value, args, n_args)) || buf_open(&b) < 0)
		return -ENOMEM;
	if (at >= 0) {
		bool marked = has_marker_before(text, at);
		fprintf(b.f, "%.*s%s%s\"%s\"%s", (int)at, text, marked ? "" : GRUB_MARKER "\n", GRUB_KEY, merged,
			text + at + len);
	} else {
		size_t n = strlen(text);
		fprintf(b.f, "%s%s%s\n%s\"%s\"\n", text, n && text[n - 1] != '\n' ? "\n" : "", GRUB_MARKER,
			GRUB_KEY, merged);
	}
	*ret = buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

/* ---- kernelstub: "user": { "kernel_options": [ "quiet", "splash" ] } ---- */

static const char *skip_ws(const char *p)
{
	return p + strspn(p, " \t\r\n");
}

/* p at '"': end of the string (after the closing quote), NULL if it has escapes or never ends */
static const char *json_str_end(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20)
			return NULL;
	return *p == '"' ? p + 1 : NULL;
}

/* the value after "key": inside the object whose '{' is at obj; NULL if not there */
static const char *json_find_key(const char *obj, const char *key)
{
	int depth = 0;
	size_t klen = strlen(key);

	for (const char *p = obj; *p; p++) {
		if (*p == '"') {
			const char *end = json_str_end(p);
			if (!end)
				return NULL;
			if (depth == 1 && (size_t)(end - p) == klen + 2 && strncmp(p + 1, key, klen) == 0 &&
			    *skip_ws(end) == ':')
				return skip_ws(skip_ws(end) + 1);
			p = end - 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return NULL;
		}
	}
	return NULL;
}

/* the strings of the array at p ('['), space-separated, and where it ends */
static char *json_str_array(const char *p, const char **ret_end)
{
	struct buf b;

	if (*p != '[' || buf_open(&b) < 0)
		return NULL;
	for (p = skip_ws(p + 1); *p != ']'; p = skip_ws(p)) {
		const char *end = *p == '"' ? json_str_end(p) : NULL;

		if (!end) {
			free(buf_close(&b));
			return NULL;
		}
		fprintf(b.f, " %.*s", (int)(end - p - 2), p + 1);
		p = skip_ws(end);
		if (*p == ',')
			p++;
		else if (*p != ']') {
			free(buf_close(&b));
			return NULL;
		}
	}
	*ret_end = p + 1;
	return buf_close(&b);
}

int gen_kernelstub_edit(const char *text, char *const *args, size_t n_args, char **ret, struct gen_error *err)
{
	const char *top = text ? skip_ws(text) : "", *user, *opts, *end = NULL;
	_cleanup_free_ char *words = NULL, *merged = NULL;
	struct buf b;
	const char *w;

	user = *top == '{' ? json_find_key(top, "user") : NULL;
	opts = user && *user == '{' ? json_find_key(user, "kernel_options") : NULL;
	if (!opts || !(words = json_str_array(opts, &end)))
		return gen_fail(err, "/etc/kernelstub/configuration: no \"user\": {\"kernel_options\": [...]} "
				     "of plain strings to edit; add the arguments with `kernelstub -a`");
	if (!(merged = gen_cmdline_merge(words, args, n_args)) || buf_open(&b) < 0)
		return -ENOMEM;
	fprintf(b.f, "%.*s[", (int)(opts - text), text);
	w = merged;
	for (bool first = true; *w; first = false) {
		size_t len = strcspn(w, " ");
		fprintf(b.f, "%s\n      \"%.*s\"", first ? "" : ",", (int)len, w);
		w += len + (w[len] == ' ');
	}
	fprintf(b.f, "%s]%s", *merged ? "\n    " : "", end);
	*ret = buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

/* ---- the result ---- */

static int add_file(struct gen_result *res, const char *path, char *text, mode_t mode, bool owned, bool initrd,
		    bool boot)
{
	struct gen_file *n;

	if (!text)
		return -ENOMEM;
	n = realloc(res->files, (res->n_files + 1) * sizeof(*n));
	if (!n || !(path = strdup(path))) {
		free(text);
		if (n)
			res->files = n;
		return -ENOMEM;
	}
	res->files = n;
	n[res->n_files++] = (struct gen_file){(char *)path, text, mode, owned, initrd, boot};
	return 0;
}

/* a script from initramfs/ with our header after its #! line */
static char *script(const char *src)
{
	size_t first = strcspn(src, "\n") + 1;
	char *s;

	if (asprintf(&s, "%.*s# " GEN_HEADER "\n%s", (int)first, src, src + first) < 0)
		return NULL;
	return s;
}

static int gen_initrd(const struct system *sys, struct gen_result *res)
{
	int r = 0;

	switch (sys->initrd) {
	case INITRD_TOOLS:
		if ((r = add_file(res, "etc/initramfs-tools/hooks/pcibind", script(pcibind_itools_hook), 0755, true,
				  true, false)) == 0)
			r = add_file(res, "etc/initramfs-tools/scripts/init-top/pcibind",
				     script(pcibind_itools_init_top), 0755, true, true, false);
		return r;
	case INITRD_DRACUT:
		if ((r = add_file(res, "usr/lib/dracut/modules.d/90pcibind/module-setup.sh",
				  script(pcibind_dracut_setup), 0755, true, true, false)) == 0 &&
		    (r = add_file(res, "usr/lib/dracut/modules.d/90pcibind/pcibind-early.sh",
				  script(pcibind_dracut_early), 0755, true, true, false)) == 0)
			r = add_file(res, "etc/dracut.conf.d/pcibind.conf",
				     strdup("# " GEN_HEADER "\nadd_dracutmodules+=\" pcibind \"\n"
					    "force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n"),
				     0644, true, true, false);
		return r;
	case INITRD_MKINITCPIO:
		if ((r = add_file(res, "etc/initcpio/install/pcibind", script(pcibind_mkinitcpio_install), 0644,
				  true, true, false)) == 0 &&
		    (r = add_file(res, "etc/initcpio/hooks/pcibind", script(pcibind_mkinitcpio_hook), 0644, true,
				  true, false)) == 0)
			r = add_file(res, "etc/mkinitcpio.conf.d/pcibind.conf",
				     strdup("# " GEN_HEADER "\n# needs mkinitcpio 35 or later (drop-in directory).\n"
					    "# With the systemd hook, runtime hooks do not run: the udev rule (added by\n"
					    "# the pcibind install hook) and the softdeps in modprobe.d claim early.\n"
					    "MODULES+=(vfio_pci vfio vfio_iommu_type1)\nHOOKS+=(pcibind)\n"),
				     0644, true, true, false);
		return r;
	case INITRD_NONE:
		return note(res, "no initramfs tool found (initramfs-tools, dracut, mkinitcpio): nothing "
				 "generated for the initramfs");
	}
	return 0;
}

static const char *initrd_refresh(enum initrd_tool t)
{
	switch (t) {
	case INITRD_TOOLS:
		return "update-initramfs -u -k all";
	case INITRD_DRACUT:
		return "dracut -f --regenerate-all";
	case INITRD_MKINITCPIO:
		return "mkinitcpio -P";
	case INITRD_NONE:
		break;
	}
	return NULL;
}

static int joined_args(const struct gen_result *res, char **ret)
{
	struct buf b;

	if (buf_open(&b) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_args; i++)
		fprintf(b.f, "%s%s", i ? " " : "", res->args[i]);
	*ret = buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

static int gen_boot_grub(const struct system *sys, const struct gen_existing *ex, struct gen_result *res,
			 struct gen_error *err)
{
	char *text = NULL;
	int r;

	if (sys->grub_dropin) {
		if ((r = gen_grub_dropin(ex->grub, res->args, res->n_args, &text)) < 0)
			return r;
		return add_file(res, "etc/default/grub.d/pcibind.cfg", text, 0644, true, false, true);
	}
	if ((r = gen_grub_edit(ex->grub, res->args, res->n_args, &text, err)) < 0)
		return r;
	return add_file(res, "etc/default/grub", text, 0644, false, false, true);
}

/* /etc/kernel/cmdline is the whole command line: a new one starts from the running one */
static int gen_kernel_cmdline(const struct system *sys, const struct gen_existing *ex, struct gen_result *res)
{
	_cleanup_free_ char *base = NULL;
	char *merged, *text;
	const char *from = ex->kernel_cmdline;

	if (!from) {
		struct buf b;
		const char *p = sys->cmdline ? sys->cmdline : "";

		if (buf_open(&b) < 0)
			return -ENOMEM;
		while (*(p += strspn(p, " \t\n"))) {
			size_t len = strcspn(p, " \t\n");
			if (strncmp(p, "BOOT_IMAGE=", 11) != 0 && strncmp(p, "initrd=", 7) != 0)
				fprintf(b.f, " %.*s", (int)len, p);
			p += len;
		}
		if (!(base = buf_close(&b)))
			return -ENOMEM;
		from = base;
		(void)note(res, "/etc/kernel/cmdline did not exist: it starts from the running kernel's command "
				"line; check root= in it before rebooting");
	}
	if (!(merged = gen_cmdline_merge(from, res->args, res->n_args)))
		return -ENOMEM;
	text = NULL;
	if (asprintf(&text, "%s\n", merged) < 0)
		text = NULL;
	free(merged);
	return add_file(res, "etc/kernel/cmdline", text, 0644, false, false, true);
}

static int gen_boot(const struct system *sys, const struct gen_existing *ex, struct gen_result *res,
		    struct gen_error *err)
{
	_cleanup_free_ char *args = NULL;
	char *text = NULL;
	int r;

	if ((r = joined_args(res, &args)) < 0)
		return r;
	switch (sys->boot) {
	case BOOT_GRUB:
		res->boot_cmd = strdup(sys->proxmox_boot_tool ? "proxmox-boot-tool refresh" : sys->grub_refresh);
		return gen_boot_grub(sys, ex, res, err);
	case BOOT_PROXMOX_SDBOOT:
		res->boot_cmd = strdup("proxmox-boot-tool refresh");
		return gen_kernel_cmdline(sys, ex, res);
	case BOOT_KERNEL_INSTALL:
		res->boot_cmd = strdup("for k in /usr/lib/modules/*/vmlinuz; do v=${k%/vmlinuz}; "
				       "kernel-install add \"${v##*/}\" \"$k\"; done");
		return gen_kernel_cmdline(sys, ex, res);
	case BOOT_GRUBBY:
		if (res->n_args && !cmdline_has_all(sys->bls_options, res->args, res->n_args) &&
		    asprintf(&res->grubby_cmd, "grubby --update-kernel=ALL --args=\"%s\"", args) < 0)
			return -ENOMEM;
		return 0;
	case BOOT_KERNELSTUB:
		if ((r = gen_kernelstub_edit(ex->kernelstub, res->args, res->n_args, &text, err)) < 0)
			return r;
		res->boot_cmd = strdup("kernelstub");
		return add_file(res, "etc/kernelstub/configuration", text, 0644, false, false, true);
	case BOOT_UNKNOWN:
		break;
	}
	if (res->n_args)
		return note(res, "bootloader not recognised: add \"%s\" to the kernel command line yourself", args);
	return 0;
}

int gen_build(const struct config *cfg, const struct pcihost *h, const struct system *sys,
	      const struct gen_existing *ex, struct gen_result *ret, struct gen_error *err)
{
	struct gen_result res = {0};
	struct need nd = {.res = &res};
	char *text = NULL;
	int r;

	err->msg[0] = '\0';
	if ((r = collect(&nd, cfg, h, sys, err)) < 0 || (r = gen_modprobe(&nd, cfg, sys, &res, &text)) < 0 ||
	    (r = add_file(&res, "etc/modprobe.d/pcibind.conf", text, 0644, true, true, false)) < 0 ||
	    (r = gen_modules_load(sys, &text)) < 0 ||
	    (r = add_file(&res, "etc/modules-load.d/pcibind.conf", text, 0644, true, true, false)) < 0 ||
	    (r = cmdline_args(&nd, cfg, sys, &res)) < 0 || (r = gen_initrd(sys, &res)) < 0 ||
	    (r = gen_boot(sys, ex, &res, err)) < 0)
		goto out;
	if (initrd_refresh(sys->initrd) && !(res.initrd_cmd = strdup(initrd_refresh(sys->initrd))))
		r = -ENOMEM;
out:
	need_clear(&nd);
	if (r == -EINVAL && !err->msg[0])
		(void)gen_fail(err, "a value cannot go into a generated file");
	if (r < 0) {
		gen_result_clear(&res);
		return r;
	}
	*ret = res;
	return 0;
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
	for (size_t i = 0; i < res->n_args; i++)
		free(res->args[i]);
	free(res->args);
	for (size_t i = 0; i < res->n_notes; i++)
		free(res->notes[i]);
	free(res->notes);
	free(res->grubby_cmd);
	free(res->initrd_cmd);
	free(res->boot_cmd);
	*res = (struct gen_result){0};
}

/* ---- unified diff: LCS over lines, fine for files of a few hundred lines ---- */

struct lines {
	const char **s;
	size_t *len;
	size_t n;
	bool no_eol; /* the last line has no newline */
};

static int split_lines(const char *text, struct lines *l)
{
	size_t cap = 1;

	*l = (struct lines){0};
	for (const char *p = text ? text : ""; *p; p++)
		cap += *p == '\n';
	l->s = calloc(cap, sizeof(*l->s));
	l->len = calloc(cap, sizeof(*l->len));
	if (!l->s || !l->len)
		return -ENOMEM;
	for (const char *p = text ? text : ""; *p;) {
		size_t len = strcspn(p, "\n");
		l->s[l->n] = p;
		l->len[l->n++] = len;
		l->no_eol = p[len] != '\n';
		p += len + !l->no_eol;
	}
	return 0;
}

static void lines_free(struct lines *l)
{
	free(l->s);
	free(l->len);
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->s[i], b->s[j], a->len[i]) == 0 &&
	       (i + 1 < a->n || j + 1 < b->n || a->no_eol == b->no_eol);
}

enum { OP_SAME, OP_DEL, OP_ADD };

/* edit script from the LCS table; ops has room for a->n + b->n */
static size_t diff_ops(const struct lines *a, const struct lines *b, const unsigned *t, unsigned char *ops)
{
	size_t i = 0, j = 0, n = 0, w = b->n + 1;

	while (i < a->n || j < b->n) {
		if (i < a->n && j < b->n && line_eq(a, i, b, j)) {
			ops[n++] = OP_SAME;
			i++, j++;
		} else if (i < a->n && (j == b->n || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
			ops[n++] = OP_DEL;
			i++;
		} else {
			ops[n++] = OP_ADD;
			j++;
		}
	}
	return n;
}

static void emit_line(FILE *f, char sign, const struct lines *l, size_t i)
{
	fprintf(f, "%c%.*s\n", sign, (int)l->len[i], l->s[i]);
	if (i + 1 == l->n && l->no_eol)
		fprintf(f, "\\ No newline at end of file\n");
}

static void emit_hunks(FILE *f, const struct lines *a, const struct lines *b, const unsigned char *ops, size_t n)
{
	const size_t ctx = 3;
	size_t k = 0, ai = 0, bi = 0;

	while (k < n) {
		size_t start, end, a0, b0, ac = 0, bc = 0, x, y, back;

		while (k < n && ops[k] == OP_SAME)
			k++, ai++, bi++;
		if (k == n)
			break;
		back = ai < ctx ? ai : ctx;
		back = bi < back ? bi : back;
		start = k - back;
		a0 = ai - back;
		b0 = bi - back;
		/* extend while changes are closer than 2*ctx lines apart */
		for (end = k; end < n;) {
			size_t same = 0;
			while (end + same < n && ops[end + same] == OP_SAME)
				same++;
			if (end + same == n || same > 2 * ctx) {
				end += same < ctx ? same : ctx;
				break;
			}
			end += same;
			while (end < n && ops[end] != OP_SAME)
				end++;
		}
		for (size_t q = start; q < end; q++) {
			ac += ops[q] != OP_ADD;
			bc += ops[q] != OP_DEL;
		}
		fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? a0 + 1 : a0, ac, bc ? b0 + 1 : b0, bc);
		x = a0, y = b0;
		for (size_t q = start; q < end; q++) {
			if (ops[q] == OP_SAME)
				emit_line(f, ' ', a, x++), y++;
			else if (ops[q] == OP_DEL)
				emit_line(f, '-', a, x++);
			else
				emit_line(f, '+', b, y++);
		}
		k = end;
		ai = x;
		bi = y;
	}
}

static unsigned *lcs_table(const struct lines *a, const struct lines *b)
{
	size_t w = b->n + 1;
	unsigned *t = calloc((a->n + 1) * w, sizeof(*t));

	if (!t)
		return NULL;
	for (size_t i = a->n; i-- > 0;)
		for (size_t j = b->n; j-- > 0;)
			t[i * w + j] = line_eq(a, i, b, j) ? t[(i + 1) * w + j + 1] + 1
				       : t[(i + 1) * w + j] > t[i * w + j + 1] ? t[(i + 1) * w + j]
									   : t[i * w + j + 1];
	return t;
}

char *gen_diff(const char *path, const char *old, const char *new)
{
	struct lines a = {0}, b = {0};
	unsigned *t = NULL;
	unsigned char *ops = NULL;
	struct buf out;
	char *ret = NULL;

	if (streq_null(old, new) || (old && new && streq(old, new)))
		return strdup("");
	if (split_lines(old, &a) < 0 || split_lines(new, &b) < 0 || !(t = lcs_table(&a, &b)) ||
	    !(ops = malloc(a.n + b.n + 1)) || buf_open(&out) < 0)
		goto out;
	fprintf(out.f, "--- %s%s\n+++ %s%s\n", old ? "a/" : "", old ? path : "/dev/null", new ? "b/" : "",
		new ? path : "/dev/null");
	emit_hunks(out.f, &a, &b, ops, diff_ops(&a, &b, t, ops));
	ret = buf_close(&out);
out:
	free(t);
	free(ops);
	lines_free(&a);
	lines_free(&b);
	return ret;
}
