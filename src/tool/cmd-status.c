/* cmd-status.c - pcibind status: functions by IOMMU group, drivers, configured sets and verdicts */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "describe.h"
#include "json.h"
#include "modalias.h"
#include "names.h"
#include "pcidev.h"
#include "pcitree.h"
#include "plan.h"
#include "usage.h"
#include "variant.h"

#define STATUS_SCHEMA 1
#define CELL_MAX      512
#define DETAIL_MAX    512

/*
 * A function's ids in words and its candidate modules. Functions in a
 * row mostly share their ids (a PF's VFs), and naming them is most of
 * what a line costs: the last function's are kept for the next.
 */
struct fn_words {
	bool valid;
	uint16_t vendor, device, subvendor, subdevice;
	uint32_t class;
	char ids[DESCRIBE_MAX];	      /* describe_ids() */
	char subsystem[DESCRIBE_MAX]; /* describe_subsystem(); "" when there is none */
	char modules[CELL_MAX];	      /* fn_modules() */
};

struct status {
	struct ctx *c;
	struct config *cfg;
	struct pcihost *h;
	struct names *names;
	struct modaliases *mods; /* NULL: modules.alias not found */
	size_t width;		 /* columns of the terminal; 0: not a terminal */
	struct selector *sels;
	size_t n_sels;
	size_t *order; /* indices of the functions shown: by group (none last), then address */
	size_t n_order;
	bool *set_shown;       /* per cfg->sets */
	size_t *vfs_in_use;    /* per function: a PF's VFs on vfio drivers */
	struct fn_words words; /* the last function's, for the next one */
};

static void status_free(struct status *st)
{
	free(st->sels);
	free(st->order);
	free(st->set_shown);
	free(st->vfs_in_use);
	names_free(st->names);
	modaliases_free(st->mods);
	pcihost_free(st->h);
	config_free(st->cfg);
}

/* ---- arguments and state ---- */

static void known_sets(const struct config *cfg, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < cfg->n_sets; i++)
		strappendf(buf, size, "%s%s", i ? ", " : "", cfg->sets[i].name);
}

static int check_name(const struct status *st, const char *arg)
{
	struct selector sel;
	char known[384];

	if (config_find_set(st->cfg, arg))
		return 0;
	known_sets(st->cfg, known, sizeof(known));
	msg_error("invalid selector '%s': no section [%s] in the configuration (%s%s)", arg, arg,
		  known[0] ? "known: " : "it defines none", known);
	sel = (struct selector){ .kind = SEL_NAME };
	(void)snprintf(sel.name, sizeof(sel.name), "%s", arg);
	ctx_hint_selectors(st->c, st->cfg, &sel, 1);
	return EXIT_USAGE;
}

static int parse_selectors(struct status *st, int argc, char **argv)
{
	st->sels = calloc(argc ? (size_t)argc : 1, sizeof(*st->sels));
	if (!st->sels) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	for (int i = 0; i < argc; i++) {
		if (selector_parse_user(argv[i], &st->sels[i]) < 0) {
			msg_error("invalid selector '%s': expected an address (0000:82:00.0, 82:00.0), a slot "
				  "(82:00), vendor:device (10de:2204) or a section name",
				  str_shown(argv[i], (char[96]){ 0 }, 96));
			return EXIT_USAGE;
		}
	}
	st->n_sels = (size_t)argc;
	return 0;
}

static int check_names(const struct status *st, char **argv)
{
	for (size_t i = 0; i < st->n_sels; i++)
		if (st->sels[i].kind == SEL_NAME && check_name(st, argv[i]) != 0)
			return EXIT_USAGE;
	return 0;
}

static void sys_path(const struct ctx *c, const char *rel, char *buf, size_t size)
{
	const char *root = sysroot_path(c->root);

	(void)snprintf(buf, size, "%s%s%s", root, root[0] && root[strlen(root) - 1] == '/' ? "" : "/", rel);
}

static bool config_uses_auto(const struct config *cfg)
{
	if (driver_is_auto(cfg->driver))
		return true;
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (driver_is_auto(cfg->sets[i].driver))
			return true;
	return false;
}

/* the text shows no reset_method and no verdict reads it; one a set asks for is read all the same, for safety */
static bool needs_reset_method(const struct status *st)
{
	if (st->c->json)
		return true;
	for (size_t i = 0; i < st->cfg->n_sets; i++)
		if (st->cfg->sets[i].reset_method)
			return true;
	return false;
}

static int scan(struct status *st)
{
	char path[4096];
	int err = pcihost_scan_with(st->c->root, needs_reset_method(st) ? 0 : PCIHOST_NO_RESET_METHOD, &st->h);

	if (err >= 0)
		err = usage_scan(st->c->root, st->h);
	/* driver = auto's pick is shown for the functions it applies to */
	if (err >= 0 && config_uses_auto(st->cfg))
		err = variant_annotate(st->c->root, st->h, NULL);
	if (err < 0) {
		sys_path(st->c, "sys/bus/pci/devices", path, sizeof(path));
		msg_error("cannot read the PCI functions in %s: %s", path, strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}

/* ---- what is shown ---- */

static bool sel_matches_fn(const struct status *st, const struct selector *sel, const struct pcifn *f)
{
	if (sel->kind == SEL_NAME)
		return devset_selects(config_find_set(st->cfg, sel->name), &f->addr, f->vendor, f->device);
	return selector_matches(sel, &f->addr, f->vendor, f->device);
}

static bool fn_shown(const struct status *st, const struct pcifn *f)
{
	if (!st->n_sels)
		return true;
	for (size_t i = 0; i < st->n_sels; i++)
		if (sel_matches_fn(st, &st->sels[i], f))
			return true;
	return false;
}

static bool set_selects_fn(const struct devset *set, const struct pcifn *f)
{
	return devset_selects(set, &f->addr, f->vendor, f->device);
}

/* groups in numeric order, functions without a group (-1, as unsigned the largest) last */
static int order_cmp(const void *a, const void *b, void *fns)
{
	const struct pcifn *f = fns;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	unsigned gi = (unsigned)f[i].group, gj = (unsigned)f[j].group;

	if (gi != gj)
		return gi < gj ? -1 : 1;
	return i < j ? -1 : i > j; /* fns are sorted by address */
}

/*
 * A selector that matches nothing is an error, as bind makes it, with
 * bind's message: exit 2 after showing what the others matched.
 */
static int check_unmatched(const struct status *st)
{
	int r = 0;

	for (size_t i = 0; i < st->n_sels; i++) {
		struct plan_error e = { { 0 } };
		int err = plan_check_selector(st->h, st->cfg, &st->sels[i], &e);

		if (err == -EINVAL) {
			msg_error("%s", e.msg);
			r = EXIT_USAGE;
		} else if (err < 0) {
			msg_error("out of memory");
			return EXIT_FAILURE_;
		}
	}
	return r;
}

static bool set_shown(const struct status *st, const struct devset *set)
{
	if (!st->n_sels)
		return true;
	for (size_t i = 0; i < st->n_sels; i++)
		if (st->sels[i].kind == SEL_NAME && streq(st->sels[i].name, set->name))
			return true;
	for (size_t i = 0; i < st->n_order; i++)
		if (set_selects_fn(set, &st->h->fns[st->order[i]]))
			return true;
	return false;
}

static int select_shown(struct status *st)
{
	st->order = calloc(st->h->n ? st->h->n : 1, sizeof(*st->order));
	st->set_shown = calloc(st->cfg->n_sets ? st->cfg->n_sets : 1, sizeof(*st->set_shown));
	if (!st->order || !st->set_shown) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < st->h->n; i++)
		if (fn_shown(st, &st->h->fns[i]))
			st->order[st->n_order++] = i;
	qsort_r(st->order, st->n_order, sizeof(*st->order), order_cmp, st->h->fns);
	for (size_t i = 0; i < st->cfg->n_sets; i++)
		st->set_shown[i] = set_shown(st, &st->cfg->sets[i]);
	return 0;
}

/* one pass over the VFs, not one per PF: a host can have hundreds of PFs and thousands of VFs */
static int count_vfs_in_use(struct status *st)
{
	st->vfs_in_use = calloc(st->h->n ? st->h->n : 1, sizeof(*st->vfs_in_use));
	if (!st->vfs_in_use) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < st->h->n; i++) {
		const struct pcifn *vf = &st->h->fns[i], *pf;

		/* the PF whose name its physfn link holds, as pcihost_vfs() pairs them */
		if (vf->is_vf && driver_is_vfio(vf->driver) && (pf = pcihost_physfn(st->h, vf)) &&
		    streq(pf->name, vf->physfn))
			st->vfs_in_use[pf - st->h->fns]++;
	}
	return 0;
}

/* ---- facts shared by both outputs ---- */

static const struct {
	unsigned use;
	const char *word;
} use_words[] = {
	{ USE_CONSOLE, "console" }, { USE_MOUNT, "mount" }, { USE_SWAP, "swap" },
	{ USE_ROUTE, "route" },	    { USE_INPUT, "input" },
};

/* "0000:82:00" for a slot, "0000:82:00.1" for a function */
static void sel_format(const struct selector *s, char *buf)
{
	pciaddr_format(&s->addr, buf);
	if (s->kind == SEL_SLOT) {
		char *dot = strrchr(buf, '.');
		if (dot)
			*dot = '\0';
	}
}

/* plan's detail for ready and bound starts with the verdict's own name: drop it */
static const char *detail_body(const char *verdict, const char *detail)
{
	size_t n = strlen(verdict);

	if (strncmp(detail, verdict, n) == 0 && detail[n] == ':' && detail[n + 1] == ' ')
		return detail + n + 2;
	return detail;
}

/* "0000:82:00 ids=10de:2204,10de:1aef", "ids=8086:1521" */
static void set_selection(const struct devset *set, char *buf, size_t size)
{
	char a[PCIADDR_STRLEN];

	buf[0] = '\0';
	for (size_t i = 0; i < set->n_addrs; i++) {
		sel_format(&set->addrs[i], a);
		strappendf(buf, size, "%s%s", i ? "," : "", a);
	}
	for (size_t i = 0; i < set->n_ids; i++)
		strappendf(buf, size, "%s%04x:%04x",
			   i		  ? ","
			   : set->n_addrs ? " ids="
					  : "ids=",
			   set->ids[i].vendor, set->ids[i].device);
}

/* ---- text ---- */

static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/*
 * One column's text into buf: control characters become '?', and text
 * wider than max columns is cut at a character boundary and ends in "...".
 * Returns its width in columns (UTF-8 characters).
 */
static size_t cell(const char *s, size_t max, char *buf, size_t size)
{
	size_t keep = text_width(s) > max ? max - 3 : (size_t)-1, w = 0, o = 0;

	for (; *s && o + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;
		bool lead = (ch & 0xc0) != 0x80;

		if (lead && w == keep)
			break;
		w += lead;
		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (keep != (size_t)-1) {
		memcpy(buf + o, "...", 3);
		o += 3;
		w += 3;
	}
	buf[o] = '\0';
	return w;
}

static int pad(size_t width, size_t used)
{
	return width > used ? (int)(width - used) : 0;
}

#define LINE_MAX_     4096
#define MODULES_SHOWN 16

/* what cell() keeps of text when no width applies, written as it goes: control characters as '?' */
static void put_whole(const char *s)
{
	size_t left = LINE_MAX_ - 4; /* cell()'s room in a LINE_MAX_ buffer */

	while (*s && left) {
		size_t run = 0;

		while (run < left && (unsigned char)s[run] >= 0x20 && s[run] != 0x7f)
			run++;
		(void)fwrite_unlocked(s, 1, run, stdout); /* errors: ferror() at the end */
		s += run;
		left -= run;
		if (*s && left) {
			(void)putc_unlocked('?', stdout);
			s++;
			left--;
		}
	}
}

/*
 * One line of output: control characters become '?', and on a terminal a
 * line wider than it is cut at a character boundary and ends in "..."
 * (st->width 0: not a terminal, every line whole).
 */
static void emit(const struct status *st, const char *text)
{
	char buf[LINE_MAX_];

	if (st->width) {
		(void)cell(text, st->width, buf, sizeof(buf));
		(void)fputs_unlocked(buf, stdout);
	} else {
		put_whole(text);
	}
	(void)putc_unlocked('\n', stdout);
}

/* A line put together from strings, cut as strappendf() cuts: print_fn()'s lines are most of the output */
struct line {
	char text[LINE_MAX_];
	size_t len;
};

static void line_addn(struct line *l, const char *s, size_t max)
{
	size_t n = strnlen(s, max < sizeof(l->text) - 1 - l->len ? max : sizeof(l->text) - 1 - l->len);

	memcpy(l->text + l->len, s, n);
	l->len += n;
	l->text[l->len] = '\0';
}

static void line_add(struct line *l, const char *s)
{
	line_addn(l, s, (size_t)-1);
}

_printf_(2, 3) static void emitf(const struct status *st, const char *fmt, ...)
{
	char buf[LINE_MAX_];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(st, buf);
}

static void uses_note(const struct pcifn *f, char *buf, size_t size)
{
	bool first = true;

	for (size_t i = 0; i < ARRAY_SIZE(use_words); i++) {
		if (!(f->uses & use_words[i].use))
			continue;
		strappendf(buf, size, "%s%s", first ? "" : "+", use_words[i].word);
		first = false;
	}
	if (!first && f->use_detail)
		strappendf(buf, size, ": %s", f->use_detail);
}

/* ", SR-IOV 4/64 VFs, 2 on vfio drivers, sriov_drivers_autoprobe off" for a PF; ", VF 2 of ADDR" for a VF */
static void sriov_note(const struct status *st, const struct pcifn *f, char *buf, size_t size)
{
	size_t in_use = st->vfs_in_use[f - st->h->fns];

	if (f->is_vf && f->vf_index >= 0)
		strappendf(buf, size, ", VF %d of %s", f->vf_index, f->physfn);
	else if (f->is_vf)
		strappendf(buf, size, ", VF of %s", f->physfn);
	if (f->sriov_numvfs < 0 || f->sriov_totalvfs <= 0)
		return;
	strappendf(buf, size, ", SR-IOV %d/%d VFs", f->sriov_numvfs, f->sriov_totalvfs);
	if (in_use)
		strappendf(buf, size, ", %zu in use (on vfio drivers)", in_use);
	if (f->sriov_autoprobe == AUTOPROBE_OFF)
		strappendf(buf, size, ", sriov_drivers_autoprobe off");
}

/* driver = auto's pick for a function of a set that has it, and why */
static void auto_note(const struct status *st, const struct pcifn *f, char *buf, size_t size)
{
	const struct variant_pick *v = f->variant; /* NULL unless the configuration uses auto */
	const struct devset *set = v ? plan_owner_set(st->h, st->cfg, f) : NULL;

	if (!set || !driver_is_auto(devset_driver(st->cfg, set)))
		return;
	if (v->module[0])
		strappendf(buf, size, ", driver = auto: %s (modules.alias %s, %d wildcards%s)", variant_target(f),
			   v->alias, v->wildcards, v->driver[0] ? "" : ", module not loaded");
	else
		strappendf(buf, size, ", driver = auto: vfio-pci (%s)", v->why);
}

/* "boot VGA, console: fbcon on framebuffer fb0 'efidrmfb'", or "" */
static void fn_notes(const struct status *st, const struct pcifn *f, char *buf, size_t size)
{
	char n[CELL_MAX] = "", uses[CELL_MAX] = "";

	if (f->busy)
		strappendf(n, sizeof(n), ", busy: an unbind is waiting for a process to let go of it");
	if (f->boot_vga == 1)
		strappendf(n, sizeof(n), ", boot VGA");
	sriov_note(st, f, n, sizeof(n));
	auto_note(st, f, n, sizeof(n));
	uses_note(f, uses, sizeof(uses));
	if (uses[0])
		strappendf(n, sizeof(n), ", %s", uses);
	buf[0] = '\0';
	if (n[0])
		strappendf(buf, size, "%s", n + 2);
}

/* "nouveau, nvidia" from modules.alias, as lspci -k's "Kernel modules:"; "" when none or unknown */
static void fn_modules(const struct status *st, const struct pcifn *f, char *buf, size_t size)
{
	const char *mods[MODULES_SHOWN];
	char alias[128];
	size_t n;

	buf[0] = '\0';
	modalias_of(f, alias, sizeof(alias));
	n = modaliases_match(st->mods, alias, mods, ARRAY_SIZE(mods));
	for (size_t i = 0; i < n && i < ARRAY_SIZE(mods); i++)
		strappendf(buf, size, "%s%s", i ? ", " : "", mods[i]);
	if (n > ARRAY_SIZE(mods))
		strappendf(buf, size, ", ...");
}

static const struct fn_words *fn_words(struct status *st, const struct pcifn *f)
{
	struct fn_words *w = &st->words;

	if (w->valid && w->vendor == f->vendor && w->device == f->device && w->subvendor == f->subvendor &&
	    w->subdevice == f->subdevice && w->class == f->class)
		return w;
	*w = (struct fn_words){ .valid = true,
				.vendor = f->vendor,
				.device = f->device,
				.subvendor = f->subvendor,
				.subdevice = f->subdevice,
				.class = f->class };
	(void)describe_ids(st->names, f, w->ids, sizeof(w->ids));
	if (!describe_subsystem(st->names, f, w->subsystem, sizeof(w->subsystem)))
		w->subsystem[0] = '\0';
	fn_modules(st, f, w->modules, sizeof(w->modules));
	return w;
}

/*
 * lspci -k's block: the function, then indented its subsystem, its
 * driver (with the override when one is set, the candidate modules) and
 * what the host uses it for.
 */
static void print_fn(struct status *st, const struct pcifn *f)
{
	const struct fn_words *w = fn_words(st, f);
	char notes[CELL_MAX];
	struct line l;

	/* describe_fn()'s text, cut where its DESCRIBE_MAX buffer cuts it */
	l.len = 0;
	line_add(&l, "  ");
	line_add(&l, f->name);
	line_add(&l, " ");
	line_addn(&l, w->ids, DESCRIBE_MAX - 1 - (l.len - 2));
	emit(st, l.text);
	if (w->subsystem[0]) {
		l.len = 0;
		line_add(&l, "      subsystem: ");
		line_add(&l, w->subsystem);
		emit(st, l.text);
	}
	l.len = 0;
	line_add(&l, "      driver: ");
	line_add(&l, f->driver ? f->driver : "none");
	/* a busy function's override cannot be read until the kernel lets go of it */
	if (f->busy || f->override) {
		line_add(&l, "  override: ");
		line_add(&l, f->busy ? "?" : f->override);
	}
	if (w->modules[0]) {
		line_add(&l, "  modules: ");
		line_add(&l, w->modules);
	}
	emit(st, l.text);
	fn_notes(st, f, notes, sizeof(notes));
	if (notes[0]) {
		l.len = 0;
		line_add(&l, "      ");
		line_add(&l, notes);
		emit(st, l.text);
	}
}

static void print_groups(struct status *st)
{
	int group = -2;

	for (size_t i = 0; i < st->n_order; i++) {
		const struct pcifn *f = &st->h->fns[st->order[i]];

		if (f->group != group) {
			group = f->group;
			if (group >= 0)
				emitf(st, "IOMMU group %d", group);
			else
				emit(st, "no IOMMU group");
		}
		print_fn(st, f);
	}
}

struct set_row {
	char name[CELL_MAX], sel[CELL_MAX], driver[CELL_MAX], verdict[CELL_MAX];
	size_t w_name, w_sel, w_driver;
	bool boot;
};

/* "-> vfio-pci"; "-> auto: mlx5_vfio_pci" when auto picks one driver for all its functions */
static void set_driver_text(const struct status *st, const struct devset *set, char *buf, size_t size)
{
	const char *d = devset_driver(st->cfg, set), *one = NULL;
	bool same = true;

	(void)snprintf(buf, size, "-> %s", d);
	if (!driver_is_auto(d))
		return;
	for (size_t i = 0; i < st->h->n; i++) {
		const struct pcifn *f = &st->h->fns[i];

		if (plan_owner_set(st->h, st->cfg, f) != set)
			continue;
		same &= !one || streq(one, variant_target(f));
		one = one ? one : variant_target(f);
	}
	if (one && same)
		(void)snprintf(buf, size, "-> auto: %s", one);
}

static void set_row(const struct status *st, const struct devset *set, struct set_row *r)
{
	char text[DETAIL_MAX + 64], detail[DETAIL_MAX] = "";
	const char *v = set_verdict_name(plan_set_verdict(st->h, st->cfg, set, detail, sizeof(detail)));
	const char *body = detail_body(v, detail);

	r->boot = set->boot;
	r->w_name = cell(set->name, 64, r->name, sizeof(r->name));
	set_selection(set, text, sizeof(text));
	r->w_sel = cell(text, 80, r->sel, sizeof(r->sel));
	set_driver_text(st, set, text, sizeof(text));
	r->w_driver = cell(text, 80, r->driver, sizeof(r->driver));
	(void)snprintf(text, sizeof(text), "%s%s%s", v, body[0] ? ": " : "", body);
	(void)cell(text, 300, r->verdict, sizeof(r->verdict));
}

static void print_set_rows(const struct status *st, const struct set_row *rows, size_t n)
{
	struct set_row w = { 0 };

	for (size_t i = 0; i < n; i++) {
		w.w_name = rows[i].w_name > w.w_name ? rows[i].w_name : w.w_name;
		w.w_sel = rows[i].w_sel > w.w_sel ? rows[i].w_sel : w.w_sel;
		w.w_driver = rows[i].w_driver > w.w_driver ? rows[i].w_driver : w.w_driver;
	}
	putchar('\n');
	emit(st, "Configured sets");
	for (size_t i = 0; i < n; i++) {
		const struct set_row *r = &rows[i];

		emitf(st, "  %s%*s  %s%*s  %s%*s  boot=%-3s  %s", r->name, pad(w.w_name, r->w_name), "", r->sel,
		      pad(w.w_sel, r->w_sel), "", r->driver, pad(w.w_driver, r->w_driver), "", r->boot ? "yes" : "no",
		      r->verdict);
	}
}

static int print_sets(const struct status *st)
{
	struct set_row *rows = calloc(st->cfg->n_sets ? st->cfg->n_sets : 1, sizeof(*rows));
	size_t n = 0;

	if (!rows) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < st->cfg->n_sets; i++)
		if (st->set_shown[i])
			set_row(st, &st->cfg->sets[i], &rows[n++]);
	if (n)
		print_set_rows(st, rows, n);
	else if (!st->n_sels) {
		putchar('\n');
		emit(st, "Configured sets: none");
	}
	free(rows);
	return 0;
}

/* ---- the tree (--tree): bridges as lspci -tv draws them, each function with its group ---- */

struct tree_walk {
	struct status *st;
	const struct pcitree *t;
	const bool *shown;
	char prefix[512];
};

static void tree_node(struct tree_walk *w, size_t i, bool last)
{
	const struct pcifn *f = &w->st->h->fns[i];
	char cls[256], dev[DESCRIBE_MAX], notes[CELL_MAX], group[24] = "no group";
	size_t len = strlen(w->prefix);

	if (f->group >= 0)
		(void)snprintf(group, sizeof(group), "group %d", f->group);
	fn_notes(w->st, f, notes, sizeof(notes));
	emitf(w->st, "%s%s %s  %s  %s: %s  driver: %s%s%s%s", w->prefix, last ? "\\-" : "+-", f->name, group,
	      describe_class_name(w->st->names, f->class, cls, sizeof(cls)),
	      describe_device(w->st->names, f->vendor, f->device, dev, sizeof(dev)), f->driver ? f->driver : "none",
	      notes[0] ? "  [" : "", notes, notes[0] ? "]" : "");
	if (len + 4 >= sizeof(w->prefix))
		return;
	memcpy(w->prefix + len, last ? "   " : "|  ", 4);
	for (size_t c = 0, n = 0; c < w->st->h->n; c++) {
		size_t next;

		if (w->t->parent[c] != (long)i || !w->shown[c])
			continue;
		/* the last shown child gets the corner */
		for (next = c + 1; next < w->st->h->n && !(w->t->parent[next] == (long)i && w->shown[next]); next++)
			;
		tree_node(w, c, next == w->st->h->n);
		n++;
	}
	w->prefix[len] = '\0';
}

static void tree_bus(struct tree_walk *w, const char *bus)
{
	const struct pcihost *h = w->st->h;

	emitf(w->st, "%s", bus);
	for (size_t i = 0, next; i < h->n; i = next) {
		for (next = i + 1;
		     next < h->n && !(w->t->parent[next] < 0 && w->shown[next] && streq(w->t->rootbus[next], bus));
		     next++)
			;
		if (w->t->parent[i] < 0 && w->shown[i] && streq(w->t->rootbus[i], bus))
			tree_node(w, i, next == h->n);
	}
}

/* the groups shown with more than one function: who is in them, and why */
static void tree_groups(struct status *st, const struct pcitree *t, const bool *shown)
{
	bool header = false;

	for (size_t i = 0; i < st->n_order; i++) {
		const struct pcifn *f = &st->h->fns[st->order[i]];
		char members[LINE_MAX_ / 2] = "", why[512];
		size_t n = 0;

		if (f->group < 0 || (i && st->h->fns[st->order[i - 1]].group == f->group))
			continue;
		for (size_t k = 0; k < st->h->n; k++)
			if (st->h->fns[k].group == f->group && shown[k])
				strappendf(members, sizeof(members), "%s%s", n++ ? ", " : "", st->h->fns[k].name);
		if (n < 2)
			continue;
		if (!header) {
			putchar('\n');
			emit(st, "IOMMU groups of more than one function");
		}
		header = true;
		emitf(st, "  group %d: %s", f->group, members);
		if (pcitree_why_group(t, f->group, why, sizeof(why))[0])
			emitf(st, "      why: %s", why);
	}
}

static int print_tree(struct status *st)
{
	struct pcitree *t = NULL;
	struct tree_walk w = { .st = st };
	bool *shown = calloc(st->h->n ? st->h->n : 1, sizeof(*shown));
	int err = shown ? pcitree_build(st->c->root, st->h, &t) : -ENOMEM;

	if (err < 0) {
		free(shown);
		msg_error("cannot read the PCI topology: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	/* what was asked for, the rest of its groups, and the bridges on the way to them */
	for (size_t i = 0; i < st->n_order; i++) {
		const struct pcifn *f = &st->h->fns[st->order[i]];

		for (size_t k = 0; k < st->h->n; k++)
			if (k == st->order[i] || (f->group >= 0 && st->h->fns[k].group == f->group))
				for (long p = (long)k; p >= 0 && !shown[p]; p = t->parent[p])
					shown[p] = true;
	}
	w.t = t;
	w.shown = shown;
	if (!st->h->iommu)
		emit(st, "no IOMMU groups: the IOMMU is off or absent; vfio-pci cannot be used");
	for (size_t i = 0; i < st->h->n; i++) {
		bool first = true;

		for (size_t k = 0; k < i && first; k++)
			first = !streq(t->rootbus[k], t->rootbus[i]) || !shown[k] || t->parent[k] >= 0;
		if (shown[i] && t->parent[i] < 0 && first)
			tree_bus(&w, t->rootbus[i]);
	}
	tree_groups(st, t, shown);
	pcitree_free(t);
	free(shown);
	return 0;
}

static int print_text(struct status *st)
{
	if (st->c->tree)
		return print_tree(st);
	if (!st->h->iommu)
		emit(st, "no IOMMU groups: the IOMMU is off or absent; vfio-pci cannot be used");
	print_groups(st);
	return print_sets(st);
}

/* ---- JSON (docs/status-json.md) ---- */

static void json_hex4(struct json *j, const char *key, unsigned v)
{
	char buf[8];

	(void)snprintf(buf, sizeof(buf), "%04x", v & 0xffff);
	json_key_string(j, key, buf);
}

static void json_reset_method(struct json *j, const char *methods)
{
	const char *p = methods;

	json_key(j, "reset_method");
	if (!methods) {
		json_null(j);
		return;
	}
	json_array_begin(j);
	while (*p) {
		size_t len = strcspn(p, " \t");

		if (len)
			json_string_len(j, p, len);
		p += len;
		p += strspn(p, " \t");
	}
	json_array_end(j);
}

static void json_ids_names(struct json *j, struct names *nm, const struct pcifn *f)
{
	char buf[256], sub[16];

	json_hex4(j, "class", f->class >> 8);
	json_key_string(j, "class_name", names_lookup_class(nm, f->class, buf, sizeof(buf)));
	json_hex4(j, "vendor", f->vendor);
	json_hex4(j, "device", f->device);
	json_key_string(j, "vendor_name", names_lookup_vendor(nm, f->vendor, buf, sizeof(buf)));
	json_key_string(j, "device_name", names_lookup_device(nm, f->vendor, f->device, buf, sizeof(buf)));
	(void)snprintf(sub, sizeof(sub), "%04x:%04x", f->subvendor, f->subdevice);
	json_key_string(j, "subsystem", f->subvendor || f->subdevice ? sub : NULL);
}

static void json_int_or_null(struct json *j, const char *key, int v)
{
	json_key(j, key);
	if (v >= 0)
		json_int(j, v);
	else
		json_null(j);
}

static void json_vfs(struct json *j, const struct pcihost *h, const struct pcifn *pf)
{
	json_key(j, "vfs");
	json_array_begin(j);
	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *vf = &h->fns[i];

		if (!vf->is_vf || !streq(vf->physfn, pf->name))
			continue;
		json_object_begin(j);
		json_key_string(j, "address", vf->name);
		json_int_or_null(j, "index", vf->vf_index);
		json_key_string(j, "driver", vf->driver);
		json_key_bool(j, "in_use", driver_is_vfio(vf->driver));
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_sriov(struct json *j, const struct pcihost *h, const struct pcifn *f)
{
	json_key(j, "sriov");
	if (f->sriov_numvfs < 0) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key_int(j, "numvfs", f->sriov_numvfs);
	json_int_or_null(j, "totalvfs", f->sriov_totalvfs);
	json_key(j, "drivers_autoprobe");
	if (f->sriov_autoprobe != AUTOPROBE_UNKNOWN)
		json_bool(j, f->sriov_autoprobe == AUTOPROBE_ON);
	else
		json_null(j);
	json_vfs(j, h, f);
	json_object_end(j);
}

static void json_variant(struct json *j, const struct pcifn *f)
{
	const struct variant_pick *v = f->variant;

	json_key(j, "variant");
	if (!v) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key_string(j, "driver", variant_target(f));
	json_key_string(j, "module", v->module[0] ? v->module : NULL);
	json_key_string(j, "alias", v->module[0] ? v->alias : NULL);
	json_int_or_null(j, "wildcards", v->module[0] ? v->wildcards : -1);
	json_key_string(j, "reason", v->module[0] ? NULL : v->why);
	json_object_end(j);
}

static void json_uses(struct json *j, const struct pcifn *f)
{
	json_key(j, "uses");
	json_array_begin(j);
	for (size_t i = 0; i < ARRAY_SIZE(use_words); i++)
		if (f->uses & use_words[i].use)
			json_string(j, use_words[i].word);
	json_array_end(j);
	json_key_string(j, "use_detail", f->use_detail);
}

static void json_modules(struct json *j, const struct modaliases *m, const struct pcifn *f)
{
	const char *mods[MODULES_SHOWN * 4];
	char alias[128];
	size_t n;

	json_key(j, "modules");
	if (!m) {
		json_null(j);
		return;
	}
	modalias_of(f, alias, sizeof(alias));
	n = modaliases_match(m, alias, mods, ARRAY_SIZE(mods));
	json_array_begin(j);
	for (size_t i = 0; i < n && i < ARRAY_SIZE(mods); i++)
		json_string(j, mods[i]);
	json_array_end(j);
}

static void json_fn(struct json *j, struct names *nm, const struct modaliases *m, const struct pcihost *h,
		    const struct pcifn *f)
{
	json_object_begin(j);
	json_key_string(j, "address", f->name);
	json_ids_names(j, nm, f);
	json_key_string(j, "driver", f->driver);
	json_modules(j, m, f);
	json_key_string(j, "driver_override", f->override);
	json_key(j, "iommu_group");
	if (f->group >= 0)
		json_int(j, f->group);
	else
		json_null(j);
	json_key(j, "boot_vga");
	if (f->boot_vga >= 0)
		json_bool(j, f->boot_vga == 1);
	else
		json_null(j);
	json_reset_method(j, f->reset_method);
	json_sriov(j, h, f);
	json_key_string(j, "physfn", f->is_vf ? f->physfn : NULL);
	json_int_or_null(j, "vf_index", f->is_vf ? f->vf_index : -1);
	json_variant(j, f);
	json_uses(j, f);
	json_object_end(j);
}

static void json_group_begin(struct json *j, int group)
{
	json_object_begin(j);
	json_key(j, "group");
	if (group >= 0)
		json_int(j, group);
	else
		json_null(j);
	json_key(j, "functions");
	json_array_begin(j);
}

static void json_groups(struct json *j, struct status *st)
{
	json_key(j, "groups");
	json_array_begin(j);
	for (size_t i = 0; i < st->n_order; i++) {
		const struct pcifn *f = &st->h->fns[st->order[i]];

		if (i == 0 || f->group != st->h->fns[st->order[i - 1]].group) {
			if (i > 0) {
				json_array_end(j);
				json_object_end(j);
			}
			json_group_begin(j, f->group);
		}
		json_fn(j, st->names, st->mods, st->h, f);
	}
	if (st->n_order) {
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_set_selection(struct json *j, const struct devset *set)
{
	char buf[PCIADDR_STRLEN];

	json_key(j, "addresses");
	json_array_begin(j);
	for (size_t i = 0; i < set->n_addrs; i++) {
		sel_format(&set->addrs[i], buf);
		json_string(j, buf);
	}
	json_array_end(j);
	json_key(j, "ids");
	json_array_begin(j);
	for (size_t i = 0; i < set->n_ids; i++) {
		(void)snprintf(buf, sizeof(buf), "%04x:%04x", set->ids[i].vendor, set->ids[i].device);
		json_string(j, buf);
	}
	json_array_end(j);
}

static void json_set_functions(struct json *j, const struct status *st, const struct devset *set)
{
	json_key(j, "functions");
	json_array_begin(j);
	for (size_t i = 0; i < st->h->n; i++)
		if (set_selects_fn(set, &st->h->fns[i]))
			json_string(j, st->h->fns[i].name);
	json_array_end(j);
}

static void json_set(struct json *j, const struct status *st, const struct devset *set)
{
	char detail[DETAIL_MAX] = "";
	const char *v = set_verdict_name(plan_set_verdict(st->h, st->cfg, set, detail, sizeof(detail)));

	json_object_begin(j);
	json_key_string(j, "name", set->name);
	json_key_string(j, "file", set->file);
	json_key_int(j, "line", set->line);
	json_set_selection(j, set);
	json_key_string(j, "driver", devset_driver(st->cfg, set));
	json_key_bool(j, "boot", set->boot);
	json_set_functions(j, st, set);
	json_key_string(j, "verdict", v);
	json_key_string(j, "detail", detail_body(v, detail));
	json_object_end(j);
}

static int print_json(struct status *st)
{
	struct json j;
	int err;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", STATUS_SCHEMA);
	json_key_string(&j, "root", sysroot_path(st->c->root));
	json_key_bool(&j, "iommu", st->h->iommu);
	json_groups(&j, st);
	json_key(&j, "sets");
	json_array_begin(&j);
	for (size_t i = 0; i < st->cfg->n_sets; i++)
		if (st->set_shown[i])
			json_set(&j, st, &st->cfg->sets[i]);
	json_array_end(&j);
	json_object_end(&j);
	err = json_finish(&j);
	if (err < 0) {
		msg_error("cannot write the status: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}

/* ---- the command ---- */

static int flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("cannot write the status: %s", strerror(errno ? errno : EIO));
		return EXIT_FAILURE_;
	}
	return 0;
}

static int run(struct ctx *c, int argc, char **argv)
{
	static char outbuf[64 * 1024];
	struct status st = { .c = c };
	int r, unmatched;

	if ((r = parse_selectors(&st, argc, argv)) != 0 || (r = ctx_load_config(c, &st.cfg)) != 0 ||
	    (r = check_names(&st, argv)) != 0)
		goto out;
	/* pci.ids is parsed while sysfs is scanned */
	if (names_new(&st.names) < 0)
		st.names = NULL; /* every name falls back to its ids */
	names_preload(st.names);
	st.width = msg_term_width();
	/* a listing of thousands of functions into a pipe or file: fewer, larger writes (glibc
	 * takes no size without a buffer; static: stdout outlives run()) */
	if (!st.width)
		(void)setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	(void)modaliases_load(c->root, &st.mods); /* none: no "modules:" */
	if ((r = scan(&st)) != 0 || (r = select_shown(&st)) != 0 || (r = count_vfs_in_use(&st)) != 0)
		goto out;
	unmatched = check_unmatched(&st);
	r = c->json ? print_json(&st) : print_text(&st);
	if (r == 0)
		r = flush_stdout();
	if (r == 0)
		r = unmatched;
out:
	status_free(&st);
	return r;
}

const struct cmd cmd_status = {
	.name = "status",
	.run = run,
	.args = "[SEL...] [--tree]",
	.help = "show functions, drivers, IOMMU groups and verdicts",
};
