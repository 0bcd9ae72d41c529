/* status-text.c - pcibind status as a table: the functions by IOMMU group, then the configured sets */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "status.h"
#include "variant.h"

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
void status_emit(const struct status *st, const char *text)
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

void status_emitf(const struct status *st, const char *fmt, ...)
{
	char buf[LINE_MAX_];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	status_emit(st, buf);
}

static void uses_note(const struct pcifn *f, char *buf, size_t size)
{
	bool first = true;

	for (size_t i = 0; i < ARRAY_SIZE(status_use_words); i++) {
		if (!(f->uses & status_use_words[i].use))
			continue;
		strappendf(buf, size, "%s%s", first ? "" : "+", status_use_words[i].word);
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
	const struct devset *set = v ? config_owner_set(st->cfg, st->h, f) : NULL;

	if (!set || !driver_is_auto(devset_driver(st->cfg, set)))
		return;
	if (v->module[0])
		strappendf(buf, size, ", driver = auto: %s (modules.alias %s, %d wildcards%s)", variant_target(f),
			   v->alias, v->wildcards, v->driver[0] ? "" : ", module not loaded");
	else
		strappendf(buf, size, ", driver = auto: vfio-pci (%s)", v->why);
}

/* "boot VGA, console: fbcon on framebuffer fb0 'efidrmfb'", or "" */
void status_fn_notes(const struct status *st, const struct pcifn *f, char *buf, size_t size)
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
	status_emit(st, l.text);
	if (w->subsystem[0]) {
		l.len = 0;
		line_add(&l, "      subsystem: ");
		line_add(&l, w->subsystem);
		status_emit(st, l.text);
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
	status_emit(st, l.text);
	status_fn_notes(st, f, notes, sizeof(notes));
	if (notes[0]) {
		l.len = 0;
		line_add(&l, "      ");
		line_add(&l, notes);
		status_emit(st, l.text);
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
				status_emitf(st, "IOMMU group %d", group);
			else
				status_emit(st, "no IOMMU group");
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

		if (config_owner_set(st->cfg, st->h, f) != set)
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
	const char *body = status_detail_body(v, detail);

	r->boot = set->boot;
	r->w_name = cell(set->name, 64, r->name, sizeof(r->name));
	status_set_selection(set, text, sizeof(text));
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
	status_emit(st, "Configured sets");
	for (size_t i = 0; i < n; i++) {
		const struct set_row *r = &rows[i];

		status_emitf(st, "  %s%*s  %s%*s  %s%*s  boot=%-3s  %s", r->name, pad(w.w_name, r->w_name), "", r->sel,
			     pad(w.w_sel, r->w_sel), "", r->driver, pad(w.w_driver, r->w_driver), "",
			     r->boot ? "yes" : "no", r->verdict);
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
		status_emit(st, "Configured sets: none");
	}
	free(rows);
	return 0;
}

int status_print_text(struct status *st)
{
	if (st->c->tree)
		return status_print_tree(st);
	if (!st->h->iommu)
		status_emit(st, "no IOMMU groups: the IOMMU is off or absent; vfio-pci cannot be used");
	print_groups(st);
	return print_sets(st);
}
