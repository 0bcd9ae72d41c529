/* cmd-status.c - pcibind status: functions by IOMMU group, drivers, configured sets and verdicts */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "whereabouts.h"
#include "plan.h"
#include "status.h"
#include "usage.h"
#include "variant.h"

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
	/* a set that records its device: where it is (issue 24) */
	if (err >= 0 && plan_identity_needed(st->cfg))
		err = identity_annotate(st->c->root, st->h);
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

bool status_set_selects_fn(const struct devset *set, const struct pcifn *f)
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
		if (status_set_selects_fn(set, &st->h->fns[st->order[i]]))
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

const struct status_use_word status_use_words[STATUS_N_USE_WORDS] = {
	{ USE_CONSOLE, "console" }, { USE_MOUNT, "mount" }, { USE_SWAP, "swap" },
	{ USE_ROUTE, "route" },	    { USE_INPUT, "input" },
};

/* "0000:82:00" for a slot, "0000:82:00.1" for a function */
void status_sel_format(const struct selector *s, char *buf)
{
	pciaddr_format(&s->addr, buf);
	if (s->kind == SEL_SLOT) {
		char *dot = strrchr(buf, '.');
		if (dot)
			*dot = '\0';
	}
}

/* plan's detail for ready and bound starts with the verdict's own name: drop it */
const char *status_detail_body(const char *verdict, const char *detail)
{
	size_t n = strlen(verdict);

	if (strncmp(detail, verdict, n) == 0 && detail[n] == ':' && detail[n + 1] == ' ')
		return detail + n + 2;
	return detail;
}

/* "0000:82:00 ids=10de:2204,10de:1aef", "ids=8086:1521" */
void status_set_selection(const struct devset *set, char *buf, size_t size)
{
	char a[PCIADDR_STRLEN];

	buf[0] = '\0';
	for (size_t i = 0; i < set->n_addrs; i++) {
		status_sel_format(&set->addrs[i], a);
		strappendf(buf, size, "%s%s", i ? "," : "", a);
	}
	for (size_t i = 0; i < set->n_ids; i++)
		strappendf(buf, size, "%s%04x:%04x",
			   i		  ? ","
			   : set->n_addrs ? " ids="
					  : "ids=",
			   set->ids[i].vendor, set->ids[i].device);
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
	r = c->json ? status_print_json(&st) : status_print_text(&st);
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
