/* cmd-setup.c - pcibind setup: from a device to a set claimed at boot in one command, and back */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "whereabouts.h"
#include "atomicfile.h"
#include "bootcfg.h"
#include "bootstate.h"
#include "cmd.h"
#include "confedit.h"
#include "describe.h"
#include "gen.h"
#include "journal.h"
#include "json.h"
#include "names.h"
#include "pcidev.h"
#include "plan.h"
#include "unitlink.h"
#include "usage.h"

#define SETUP_SCHEMA 1
#define UNIT	     "pcibind.service"
/* its links were made by setup (state layer's directory): the way back removes them */
#define SETUP_UNIT_MARK "unit-enabled-by-setup" /* in STATE_LIB_DIR */
/* the first line of a configuration file setup made (there was none) */
#define SETUP_MADE_LINE "# made by `pcibind setup`, which removes it with its last set; see pcibind.conf(5)\n"
#define REASONS_MAX	4
#define TEXT_MAX	1024

struct setup {
	struct ctx *c;
	struct config *cfg;	/* as on disk */
	struct config *new_cfg; /* with the edit */
	struct pcihost *h;
	struct names *names;
	struct selector *sels;
	size_t n_sels;
	bool *picked; /* per h->fns: named by SEL */
	size_t n_picked;
	const struct devset *set; /* the set in cfg the functions are in already, or NULL */
	char name[SELECTOR_NAME_MAX];
	bool boot;
	char rel[PATH_MAX]; /* the file the set is (or goes) in */
	char *old_text;	    /* its text, NULL: absent */
	char *new_text;	    /* after the edit, NULL: to be removed (a drop-in left empty) */
	const char *action; /* create, change, unchanged, remove, absent */
	struct unit_links unit;
	int unit_err;	 /* unit_links_read() */
	int unit_change; /* links to create (> 0) or remove (< 0) */
	int unit_done;	 /* links created or removed */
	bool unit_kept;	 /* no boot set left, but the unit was enabled before setup: left enabled */
	struct bootcfg_summary gen;
	char reasons[REASONS_MAX][TEXT_MAX]; /* why a reboot is needed */
	size_t n_reasons;
	char no_reboot[TEXT_MAX]; /* what to do instead when none is */
	int lock_fd;
	bool remove_boot; /* the last set goes: generate --remove, not --write */
};

static void setup_free(struct setup *s)
{
	lock_release(s->lock_fd);
	free(s->old_text);
	free(s->new_text);
	free(s->picked);
	free(s->sels);
	names_free(s->names);
	pcihost_free(s->h);
	config_free(s->new_cfg);
	config_free(s->cfg);
}

/* text output only: --json prints one document at the end */
_printf_(2, 3) static void say(const struct setup *s, const char *fmt, ...)
{
	va_list ap;

	if (s->c->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- questions: asked only on a terminal; every one has a flag ---- */

static bool interactive(const struct setup *s)
{
	return !s->c->yes && !s->c->json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

/* a y/n answer from the terminal; Enter takes the default, end of input is "no" */
static bool ask(const char *question, bool dflt)
{
	char line[64];

	printf("%s [%s] ", question, dflt ? "Y/n" : "y/N");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	strip_trailing(line);
	if (!line[0])
		return dflt;
	return line[0] == 'y' || line[0] == 'Y';
}

/* ---- what SEL is ---- */

static int parse_selectors(struct setup *s, int argc, char **argv)
{
	bool ids = false, addrs = false;

	if (argc == 0) {
		msg_error("setup needs a SEL: an address (0000:82:00.0), a slot (82:00: the whole card), ids "
			  "(10de:2204) or a set name; `pcibind status` lists them");
		return EXIT_USAGE;
	}
	s->sels = calloc((size_t)argc, sizeof(*s->sels));
	if (!s->sels)
		return EXIT_FAILURE_;
	for (int i = 0; i < argc; i++) {
		if (selector_parse_user(argv[i], &s->sels[i]) < 0) {
			msg_error("invalid selector '%s': expected an address (0000:82:00.0, 82:00.0), a slot (82:00), "
				  "vendor:device (10de:2204) or a section name",
				  str_shown(argv[i], (char[96]){ 0 }, 96));
			return EXIT_USAGE;
		}
		ids |= s->sels[i].kind == SEL_IDS;
		addrs |= s->sels[i].kind == SEL_FUNCTION || s->sels[i].kind == SEL_SLOT;
		if (s->sels[i].kind == SEL_NAME && argc > 1 && !s->c->relocate) {
			msg_error("setup takes one set name, or addresses or ids; '%s' is a name", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (ids && addrs) {
		msg_error("setup takes addresses (a set by address, guarded by the ids found there) or ids (every "
			  "function with them), not both");
		return EXIT_USAGE;
	}
	s->n_sels = (size_t)argc;
	return 0;
}

static int scan(struct setup *s)
{
	int err = pcihost_scan(s->c->root, &s->h);

	if (err >= 0)
		err = usage_scan(s->c->root, s->h);
	if (err >= 0)
		err = identity_annotate(s->c->root, s->h); /* setup records what tells the device apart */
	if (err < 0) {
		msg_error("cannot read the PCI functions below %s: %s", sysroot_path(s->c->root), strerror(-err));
		return EXIT_FAILURE_;
	}
	if (names_new(&s->names) < 0)
		s->names = NULL;
	s->picked = calloc(s->h->n ? s->h->n : 1, sizeof(*s->picked));
	return s->picked ? 0 : EXIT_FAILURE_;
}

static bool fn_selected(const struct setup *s, const struct pcifn *f)
{
	for (size_t i = 0; i < s->n_sels; i++) {
		const struct selector *sel = &s->sels[i];

		if (sel->kind == SEL_NAME
			? devset_selects(config_find_set(s->cfg, sel->name), &f->addr, f->vendor, f->device)
			: selector_matches(sel, &f->addr, f->vendor, f->device))
			return true;
	}
	return false;
}

/* every SEL matches something (bind's message if not), and picked[] is what they match */
static int resolve(struct setup *s)
{
	for (size_t i = 0; i < s->n_sels; i++) {
		struct plan_error e = { { 0 } };
		int err = plan_check_selector(s->h, s->cfg, &s->sels[i], &e);

		if (err == -EINVAL) {
			msg_error("%s", e.msg);
			ctx_hint_selectors(s->c, s->cfg, &s->sels[i], 1);
			return EXIT_USAGE;
		}
		if (err < 0)
			return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < s->h->n; i++)
		if ((s->picked[i] = fn_selected(s, &s->h->fns[i])))
			s->n_picked++;
	return 0;
}

static bool group_picked(const struct setup *s, int g, size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (s->picked[i] && s->h->fns[i].group == g)
			return true;
	return false;
}

static void show_fn(const struct setup *s, const struct pcifn *f, bool picked)
{
	char cls[256], dev[DESCRIBE_MAX];

	say(s, "  %s %s  %s: %s  driver: %s%s", picked ? "*" : " ", f->name,
	    describe_class_name(s->names, f->class, cls, sizeof(cls)),
	    describe_device(s->names, f->vendor, f->device, dev, sizeof(dev)), f->driver ? f->driver : "none",
	    picked		 ? ""
	    : pcifn_is_bridge(f) ? "  (a bridge: stays with the host)"
				 : "  (not selected)");
}

/* the functions SEL names, with the rest of their IOMMU groups ('*': in the set) */
static void show_selection(const struct setup *s)
{
	for (size_t i = 0; i < s->h->n; i++) {
		int g = s->h->fns[i].group;

		if (!s->picked[i] || group_picked(s, g, i))
			continue;
		if (g < 0)
			say(s, "%s:", s->h->iommu ? "no IOMMU group" : "no IOMMU groups: the IOMMU is off now");
		else
			say(s, "IOMMU group %d:", g);
		for (size_t k = 0; k < s->h->n; k++)
			if (g >= 0 ? s->h->fns[k].group == g : s->picked[k])
				show_fn(s, &s->h->fns[k], s->picked[k]);
		if (g < 0 && !s->h->iommu)
			say(s, "  (the groups are known once the IOMMU is on: after the reboot, `pcibind check` says "
			       "whether each group holds only its set)");
	}
}

/* ---- refusals: bind's, except the IOMMU being off, which the setup itself turns on ---- */

static int check_refusals_in(struct setup *s, const struct config *cfg)
{
	struct request req = {
		.verb = VERB_BIND, .driver = s->c->driver, .force = s->c->force, .sels = s->sels, .n_sels = s->n_sels
	};
	struct plan_error e = { { 0 } };
	struct plan *p = NULL;
	int r = plan_make(s->h, cfg, NULL, 0, &req, &p, &e);

	if (r == -EINVAL) {
		msg_error("%s", e.msg);
		return EXIT_USAGE;
	}
	if (r < 0) {
		msg_error("cannot plan: %s", strerror(-r));
		return EXIT_FAILURE_;
	}
	r = msg_refusals(s->c, s->h, p, 1u << REFUSE_NO_IOMMU);
	plan_free(p);
	return r;
}

static int check_refusals(struct setup *s)
{
	return check_refusals_in(s, s->cfg);
}

/* ---- which set ---- */

static bool set_is_selection(const struct setup *s, const struct devset *set)
{
	for (size_t i = 0; i < s->h->n; i++)
		if (s->picked[i] != devset_selects(set, &s->h->fns[i].addr, s->h->fns[i].vendor, s->h->fns[i].device))
			return false;
	return true;
}

static bool set_overlaps(const struct setup *s, const struct devset *set)
{
	for (size_t i = 0; i < s->h->n; i++)
		if (s->picked[i] && devset_selects(set, &s->h->fns[i].addr, s->h->fns[i].vendor, s->h->fns[i].device))
			return true;
	return false;
}

static const char *default_word(const struct pcifn *f)
{
	switch (f->class >> 16) {
	case 0x01:
		return (f->class >> 8) == 0x0108 ? "nvme" : "storage";
	case 0x02:
		return "nic";
	case 0x03:
		return "gpu";
	case 0x04:
		return "audio";
	case 0x0c:
		return (f->class >> 8) == 0x0c03 ? "usb" : "dev";
	default:
		return "dev";
	}
}

/* "gpu", or "gpu2", "gpu3", ... when that is taken */
static void default_name(struct setup *s)
{
	const struct pcifn *f = NULL;

	for (size_t i = 0; i < s->h->n && !f; i++)
		if (s->picked[i] && !pcifn_is_bridge(&s->h->fns[i]))
			f = &s->h->fns[i];
	(void)snprintf(s->name, sizeof(s->name), "%s", f ? default_word(f) : "dev");
	for (unsigned n = 2; config_find_set(s->cfg, s->name) && n < 1000; n++)
		(void)snprintf(s->name, sizeof(s->name), "%s%u", f ? default_word(f) : "dev", n);
}

static int pick_set(struct setup *s)
{
	const struct devset *hit = NULL;
	const char *wanted = s->c->name;

	if (s->sels[0].kind == SEL_NAME)
		hit = config_find_set(s->cfg, s->sels[0].name);
	for (size_t i = 0; !hit && i < s->cfg->n_sets; i++) {
		if (!set_overlaps(s, &s->cfg->sets[i]))
			continue;
		hit = &s->cfg->sets[i];
		for (size_t j = i + 1; j < s->cfg->n_sets; j++)
			if (set_overlaps(s, &s->cfg->sets[j])) {
				msg_error(
				    "the functions are in two sets, [%s] (%s:%u) and [%s] (%s:%u); set up or remove "
				    "one at a time",
				    hit->name, hit->file, hit->line, s->cfg->sets[j].name, s->cfg->sets[j].file,
				    s->cfg->sets[j].line);
				return EXIT_USAGE;
			}
	}
	if (hit && wanted && !streq(wanted, hit->name)) {
		msg_error("they are in [%s] already (%s:%u); `pcibind setup %s` works on that set, `pcibind setup "
			  "--remove %s` takes it out",
			  hit->name, hit->file, hit->line, hit->name, hit->name);
		return EXIT_USAGE;
	}
	if (hit && !set_is_selection(s, hit)) {
		msg_error("[%s] (%s:%u) selects other functions than these; name the set (`pcibind setup %s`) or "
			  "take it out first (`pcibind setup --remove %s`)",
			  hit->name, hit->file, hit->line, hit->name, hit->name);
		return EXIT_USAGE;
	}
	if (!hit && wanted && config_find_set(s->cfg, wanted)) {
		const struct devset *o = config_find_set(s->cfg, wanted);

		msg_error("[%s] exists already (%s:%u) and selects other functions; choose another --name, or "
			  "take it out first (`pcibind setup --remove %s`)",
			  wanted, o->file, o->line, wanted);
		return EXIT_USAGE;
	}
	s->set = hit;
	if (hit)
		memcpy(s->name, hit->name, sizeof(s->name));
	else if (wanted)
		(void)snprintf(s->name, sizeof(s->name), "%s", wanted);
	else
		default_name(s);
	return 0;
}

/* ---- the file and the edit ---- */

static int read_text(const struct setup *s, const char *rel, char **ret)
{
	int err = sysroot_read(s->c->root, rel, ret, NULL);

	if (err == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (err < 0)
		msg_error("cannot read %s/%s: %s", sysroot_is_host(s->c->root) ? "" : sysroot_path(s->c->root), rel,
			  strerror(-err));
	return err < 0 ? EXIT_FAILURE_ : 0;
}

/* the file that defines [name]: the main file, else a drop-in; the main file for a new set */
static int find_file(struct setup *s)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int r;

	(void)snprintf(s->rel, sizeof(s->rel), "%s", CONFIG_FILE);
	if ((r = read_text(s, s->rel, &s->old_text)) != 0 || !s->set || confedit_has_section(s->old_text, s->name))
		return r;
	if (sysroot_opendir(s->c->root, CONFIG_DROPIN_DIR, &d) == 0) {
		while ((de = readdir(d))) {
			char **nn;
			size_t len = strlen(de->d_name);

			if (de->d_name[0] == '.' || len <= 5 || !streq(de->d_name + len - 5, ".conf"))
				continue;
			nn = realloc(names, (n + 1) * sizeof(*nn));
			if (!nn || !(nn[n] = strdup(de->d_name))) {
				free(nn ? nn : names);
				names = NULL;
				n = 0;
				break;
			}
			names = nn;
			n++;
		}
		closedir(d);
	}
	r = EXIT_FAILURE_;
	for (size_t i = 0; i < n; i++) {
		if (r != 0 && xsnprintf(s->rel, sizeof(s->rel), "%s/%s", CONFIG_DROPIN_DIR, names[i]) == 0) {
			free(s->old_text);
			s->old_text = NULL;
			if (read_text(s, s->rel, &s->old_text) == 0 && confedit_has_section(s->old_text, s->name))
				r = 0;
		}
		free(names[i]);
	}
	free(names);
	if (r != 0)
		msg_error("[%s] is in the configuration, but no file below %s/ holds its header as pcibind can edit "
			  "it; edit it by hand",
			  s->name, CONFIG_FILE);
	return r;
}

static void sel_text(const struct selector *sel, char *buf, size_t size)
{
	if (sel->kind == SEL_SLOT)
		(void)snprintf(buf, size, "%04x:%02x:%02x", sel->addr.domain, sel->addr.bus, sel->addr.dev);
	else if (sel->kind == SEL_IDS)
		(void)snprintf(buf, size, "%04x:%04x", sel->vendor, sel->device);
	else
		pciaddr_format(&sel->addr, buf);
}

/* the ids found at the addresses, each once, in address order: the guard */
static void found_ids(const struct setup *s, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->h->n; i++) {
		const struct pcifn *f = &s->h->fns[i];
		bool seen = false;

		if (!s->picked[i])
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = s->picked[k] && s->h->fns[k].vendor == f->vendor && s->h->fns[k].device == f->device;
		if (!seen)
			strappendf(buf, size, "%s%04x:%04x", buf[0] ? "," : "", f->vendor, f->device);
	}
}

/* "added by pcibind setup: NVIDIA Corporation GA102 [GeForce RTX 3090], ..." (the ids are in ids =) */
static void section_comment(const struct setup *s, char *buf, size_t size)
{
	size_t n = 0;

	(void)snprintf(buf, size, "added by pcibind setup:");
	for (size_t i = 0; i < s->h->n; i++) {
		const struct pcifn *f = &s->h->fns[i];
		char v[256], d[256];
		const char *vn, *dn;

		if (!s->picked[i] || strlen(buf) > 160)
			continue;
		vn = names_lookup_vendor(s->names, f->vendor, v, sizeof(v));
		dn = names_lookup_device(s->names, f->vendor, f->device, d, sizeof(d));
		strappendf(buf, size, "%s %s%s%s", n++ ? "," : "", vn ? vn : "", vn && dn ? " " : "", dn ? dn : "");
		if (!vn && !dn)
			strappendf(buf, size, "%04x:%04x", f->vendor, f->device);
	}
	/* the comment is one line of printable text */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* the subsystem ids found at the addresses, each once; "" when none has one */
static void found_subsys(const struct setup *s, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < s->h->n; i++) {
		const struct pcifn *f = &s->h->fns[i];
		bool seen = !f->subvendor && !f->subdevice;

		if (!s->picked[i])
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = s->picked[k] && s->h->fns[k].subvendor == f->subvendor &&
			       s->h->fns[k].subdevice == f->subdevice;
		if (!seen)
			strappendf(buf, size, "%s%04x:%04x", buf[0] ? "," : "", f->subvendor, f->subdevice);
	}
}

/* what tells the device at the first address apart: subsystem, serial number, slot (issue 24) */
static size_t identity_keys(const struct setup *s, struct confedit_key *keys, char *subsys, size_t size,
			    char dsn[static DSN_STRLEN])
{
	struct pciaddr a = s->sels[0].addr;
	const struct pcifn *p;
	size_t n = 0;

	if (s->sels[0].kind == SEL_SLOT)
		a.fn = 0;
	found_subsys(s, subsys, size);
	if (subsys[0])
		keys[n++] = (struct confedit_key){ "subsystem", subsys };
	if (!(p = pcihost_find(s->h, &a)))
		return n;
	if (p->has_serial) {
		dsn_format(p->serial, dsn);
		keys[n++] = (struct confedit_key){ "serial", dsn };
	}
	if (p->slot[0])
		keys[n++] = (struct confedit_key){ "slot", p->slot };
	return n;
}

static int edit(struct setup *s)
{
	char addrs[TEXT_MAX] = "", ids[TEXT_MAX] = "", subsys[TEXT_MAX], dsn[DSN_STRLEN], comment[256];
	struct confedit_key keys[8];
	size_t n = 0;
	int err;

	if (!s->set) {
		for (size_t i = 0; i < s->n_sels; i++) {
			char one[PCIADDR_STRLEN];

			sel_text(&s->sels[i], one, sizeof(one));
			strappendf(s->sels[0].kind == SEL_IDS ? ids : addrs, TEXT_MAX, "%s%s", i ? "," : "", one);
		}
		if (addrs[0]) {
			keys[n++] = (struct confedit_key){ "address", addrs };
			found_ids(s, ids, sizeof(ids));
		}
		keys[n++] = (struct confedit_key){ "ids", ids };
		if (addrs[0])
			n += identity_keys(s, keys + n, subsys, sizeof(subsys), dsn);
	}
	if (!s->set || s->set->boot != s->boot)
		keys[n++] = (struct confedit_key){ "boot", s->boot ? "yes" : "no" };
	if (s->c->driver && (!s->set || !streq_null(s->set->driver, s->c->driver)))
		keys[n++] = (struct confedit_key){ "driver", s->c->driver };
	section_comment(s, comment, sizeof(comment));
	/* a file setup makes says so: the way back removes it once this line is all it holds */
	err = confedit_set(s->old_text ? s->old_text : SETUP_MADE_LINE, s->name, keys, n, comment, &s->new_text);
	if (err < 0) {
		msg_error("cannot edit %s: %s", s->rel, strerror(-err));
		return EXIT_FAILURE_;
	}
	s->action = !s->set ? "create" : streq(s->new_text, s->old_text ? s->old_text : "") ? "unchanged" : "change";
	return 0;
}

/* the edited configuration, read as pcibind will read it; an error names the file and line */
static int check_edit(struct setup *s)
{
	struct config_error e = { 0 };
	int err = config_load_text(s->c->root, s->rel, s->new_text, &s->new_cfg, &e);

	if (err < 0) {
		if (e.line)
			msg_error("%s:%u: %s", e.file, e.line, e.msg);
		else
			msg_error("%s: %s", e.file[0] ? e.file : s->rel, e.msg[0] ? e.msg : strerror(-err));
		msg_error("the configuration would not be valid with this change; nothing was changed");
		return EXIT_USAGE;
	}
	return 0;
}

static bool any_boot_set(const struct config *cfg)
{
	for (size_t i = 0; cfg && i < cfg->n_sets; i++)
		if (cfg->sets[i].boot)
			return true;
	return false;
}

/* ---- the boot unit ---- */

/*
 * Whether setup enabled the unit (it made its links): only then does the
 * last boot set's removal disable it again. Enabled before setup (by the
 * package's postinst, or by hand), it stays as it was.
 */
static bool enabled_by_setup(const struct setup *s)
{
	return state_marked(s->c->root, SETUP_UNIT_MARK);
}

static void plan_unit(struct setup *s)
{
	int n;

	s->unit_err = unit_links_read(s->c->root, UNIT, &s->unit);
	if (!any_boot_set(s->new_cfg)) {
		n = enabled_by_setup(s) ? unit_count_links(s->c->root, UNIT) : 0;
		s->unit_change = n > 0 ? -n : 0;
		s->unit_kept = !n && unit_links_enabled(&s->unit);
		return;
	}
	if (s->unit_err < 0 || s->unit.masked)
		return;
	for (size_t i = 0; i < s->unit.n_links; i++)
		s->unit_change += !s->unit.present[i];
}

/* why the unit cannot be enabled, or NULL */
static const char *unit_problem(const struct setup *s, char *buf, size_t size)
{
	if (!any_boot_set(s->new_cfg))
		return NULL;
	if (s->unit_err == -ENOENT)
		(void)snprintf(buf, size,
			       "%s is not installed below %s (`make install` puts it into "
			       "/usr/lib/systemd/system); install pcibind, then run this again",
			       UNIT, sysroot_path(s->c->root));
	else if (s->unit_err < 0)
		(void)snprintf(buf, size, "cannot read %s: %s", UNIT, strerror(-s->unit_err));
	else if (s->unit.masked)
		(void)snprintf(buf, size,
			       "%s is masked (/etc/systemd/system/%s links to /dev/null); `systemctl "
			       "unmask %s`, then run this again",
			       UNIT, UNIT, UNIT);
	else if (!s->unit.n_links)
		(void)snprintf(buf, size, "%s (%s) has no [Install] WantedBy= to enable it by", UNIT, s->unit.path);
	else
		for (size_t i = 0; i < s->unit.n_links; i++)
			if (s->unit.conflict[i][0]) {
				(void)snprintf(buf, size,
					       "/%s is %s, not the link to %s; remove it, then run this again",
					       s->unit.links[i], s->unit.conflict[i], s->unit.path);
				return buf;
			}
	return s->unit_err < 0 || s->unit.masked || !s->unit.n_links ? buf : NULL;
}

static void show_unit_plan(const struct setup *s, bool done)
{
	if (s->unit_change > 0)
		for (size_t i = 0; i < s->unit.n_links; i++)
			if (!s->unit.present[i])
				say(s, "%s %s: /%s -> %s", done ? "enabled" : "would enable", UNIT, s->unit.links[i],
				    s->unit.path);
	if (s->unit_change < 0)
		say(s, "%s %s: no set has boot = yes (%d link%s in /etc/systemd/system)",
		    done ? "disabled" : "would disable", UNIT, -s->unit_change, s->unit_change == -1 ? "" : "s");
	if (s->unit_kept && (done || s->c->dry_run))
		say(s,
		    "%s stays enabled, as it was before setup (by the package, or by hand): with no set at boot "
		    "it claims nothing",
		    UNIT);
}

/* the mark that setup made the links: written with them, removed with them */
static int mark_unit(const struct setup *s)
{
	return state_mark(s->c->root, SETUP_UNIT_MARK, s->unit_change > 0);
}

static int apply_unit(struct setup *s)
{
	int n, err = 0;

	if (s->unit_change > 0)
		n = unit_enable(s->c->root, &s->unit);
	else if (s->unit_change < 0)
		n = unit_disable(s->c->root, UNIT);
	else {
		show_unit_plan(s, true);
		return 0;
	}
	if (n >= 0 && (err = mark_unit(s)) < 0)
		n = err;
	if (n < 0) {
		msg_error("cannot %s %s: %s", s->unit_change > 0 ? "enable" : "disable", UNIT, strerror(-n));
		return EXIT_FAILURE_;
	}
	s->unit_done = n;
	show_unit_plan(s, true);
	return 0;
}

/* ---- is a reboot needed? ---- */

_printf_(2, 3) static void reason(struct setup *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n_reasons >= REASONS_MAX)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(s->reasons[s->n_reasons++], TEXT_MAX, fmt, ap);
	va_end(ap);
}

/* picked functions on a host driver now (not the set's target), as "0000:02:00.0 (nvidia), ..." */
static size_t on_host_driver(const struct setup *s, const char *target, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->h->n; i++) {
		const struct pcifn *f = &s->h->fns[i];

		if (!s->picked[i] || !f->driver || streq(f->driver, target) || pcifn_is_bridge(f))
			continue;
		strappendf(buf, size, "%s%s (%s)", n++ ? ", " : "", f->name, f->driver);
	}
	return n;
}

static void judge_reboot(struct setup *s)
{
	const struct devset *set = s->c->remove ? NULL : config_find_set(s->new_cfg, s->name);
	const char *target = set ? devset_driver(s->new_cfg, set) : CONFIG_DEFAULT_DRIVER;
	char held[TEXT_MAX];
	size_t n_held = on_host_driver(s, target, held, sizeof(held));

	if (s->c->remove) {
		/* taking a set out needs no reboot: what is bound now stays until restored */
		if (!s->no_reboot[0])
			(void)snprintf(s->no_reboot, sizeof(s->no_reboot), "nothing of it is claimed at boot any more");
		if (s->gen.boot_changed)
			strappendf(s->no_reboot, sizeof(s->no_reboot),
				   "; the kernel command line changed, from the next boot on");
		return;
	}
	if (!s->h->iommu)
		reason(s, "the IOMMU is off now (no IOMMU groups)%s",
		       s->gen.args_missing[0]
			   ? ""
			   : "; if it stays off after the reboot, enable VT-d or AMD-Vi (IOMMU) in the firmware setup");
	if (s->gen.args_missing[0])
		reason(s, "the running kernel lacks %s, which the kernel command line now has", s->gen.args_missing);
	else if (s->gen.boot_changed)
		reason(s, "the kernel command line changed");
	if (set && set->boot && s->gen.initrd_changed && n_held)
		reason(s, "the initramfs changed: from the next boot it claims %s before the host driver can", held);
	if (set && set->boot && n_held)
		(void)snprintf(s->no_reboot, sizeof(s->no_reboot),
			       "`pcibind apply` moves %s to %s now; %s does it at every boot", held, target, UNIT);
	else if (set && set->boot)
		(void)snprintf(s->no_reboot, sizeof(s->no_reboot), "[%s] is on %s already", s->name, target);
	else if (set)
		(void)snprintf(s->no_reboot, sizeof(s->no_reboot),
			       "`pcibind bind %s` hands it to %s when a VM needs it (a VM hook does it at start)",
			       s->name, target);
	else if (!s->no_reboot[0])
		(void)snprintf(s->no_reboot, sizeof(s->no_reboot), "nothing of it is claimed at boot any more");
}

static void show_reboot(const struct setup *s)
{
	char line[REASONS_MAX * TEXT_MAX] = "";

	for (size_t i = 0; i < s->n_reasons; i++)
		strappendf(line, sizeof(line), "%s%s", i ? "; " : "", s->reasons[i]);
	if (s->n_reasons)
		say(s, "reboot: %sneeded: %s", s->c->dry_run ? "would be " : "", line);
	else
		say(s, "reboot: not needed: %s", s->no_reboot);
}

/* ---- the run ---- */

static int show_config_diff(const struct setup *s)
{
	_cleanup_free_ char *d = gen_diff(s->rel, s->old_text, s->new_text);

	if (!d)
		return EXIT_FAILURE_;
	if (!s->c->json)
		fputs(d, stdout);
	return 0;
}

static int write_config(struct setup *s)
{
	int err;

	if (streq(s->action, "unchanged") || streq(s->action, "absent"))
		return 0;
	if (!s->new_text)
		err = unlinkat(sysroot_fd(s->c->root), s->rel, 0) < 0 ? -errno : 0;
	else
		err = atomicfile_write(s->c->root, s->rel, s->new_text, strlen(s->new_text), 0644);
	if (err < 0) {
		msg_error("cannot write /%s: %s%s; nothing was changed", s->rel, strerror(-err),
			  err == -ELOOP ? " (a symlink, there or on the way; pcibind does not write through one)" : "");
		return EXIT_FAILURE_;
	}
	return 0;
}

/* the run lock, once (the configuration may not be read yet: the default deadline) */
static int take_lock(struct setup *s)
{
	char msg[PATH_MAX + 128];
	struct config *dflt = s->cfg ? NULL : config_new();
	int st;

	if (s->lock_fd >= 0)
		return 0;
	if (!s->cfg && !dflt) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	st = ctx_lock(s->c, s->cfg ? s->cfg : dflt, &s->lock_fd, msg, sizeof(msg));
	config_free(dflt);
	if (st)
		msg_error("%s", msg);
	return st;
}

/*
 * generate --write on the new configuration, under setup's lock (setup
 * --remove takes a set out; once no set is left, pcibind's whole boot setup
 * goes, as generate --remove takes it out); show_diff: unless the preview
 * showed it
 */
static int run_generate(struct setup *s, bool show_diff)
{
	bool out = !s->c->json;
	struct bootcfg *bc = NULL;
	int r;

	if ((r = generate_build(s->c, s->new_cfg, s->remove_boot, &bc)) != 0 ||
	    (r = generate_hazards(s->c, bc, true)) != 0)
		goto out;
	if (out && show_diff && (r = generate_print_diff(s->c, bc)) != 0)
		goto out;
	if (out)
		generate_print_args(s->c, bc);
	if (bootcfg_write(bc, s->c->force) < 0) {
		r = EXIT_FAILURE_;
		goto out;
	}
	r = generate_refresh(s->c, bc, false, out);
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_FAILURE_;
	bootcfg_summarise(bc, &s->gen);
out:
	bootcfg_free(bc);
	return r;
}

static bool nothing_changes(const struct setup *s)
{
	return (streq(s->action, "unchanged") || streq(s->action, "absent")) && !s->gen.files_changed &&
	       !s->gen.boot_changed && !s->unit_change;
}

/* the generated files the run changes, each with its diff, as generate --json has them */
static void json_files(struct json *j, const struct bootcfg_summary *sum)
{
	json_key(j, "files");
	json_array_begin(j);
	for (size_t i = 0; i < sum->n_files; i++) {
		json_object_begin(j);
		json_key_string(j, "path", sum->files[i].path);
		json_key_string(j, "action", sum->files[i].action);
		json_key_string(j, "diff", sum->files[i].diff);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_out(const struct setup *s, int status)
{
	struct json j;
	_cleanup_free_ char *d = s->action ? gen_diff(s->rel, s->old_text, s->new_text) : NULL;
	char path[PATH_MAX + 2];

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", SETUP_SCHEMA);
	json_key_string(&j, "root", sysroot_path(s->c->root));
	json_key_bool(&j, "dry_run", s->c->dry_run);
	json_key_string(&j, "set", s->name[0] ? s->name : NULL);
	(void)snprintf(path, sizeof(path), "/%s", s->rel);
	json_key_string(&j, "file", s->rel[0] ? path : NULL);
	json_key_string(&j, "action", s->action);
	json_key_string(&j, "config_diff", d);
	json_key(&j, "functions");
	json_array_begin(&j);
	for (size_t i = 0; s->h && i < s->h->n; i++)
		if (s->picked && s->picked[i])
			json_string(&j, s->h->fns[i].name);
	json_array_end(&j);
	json_key_int(&j, "generated_files_changed", (long long)s->gen.files_changed);
	json_files(&j, &s->gen);
	json_key(&j, "commands");
	json_array_begin(&j);
	for (size_t i = 0; i < s->gen.n_commands && i < ARRAY_SIZE(s->gen.commands); i++)
		json_string(&j, s->gen.commands[i]);
	json_array_end(&j);
	json_key_bool(&j, "boot_setup_removed", s->remove_boot);
	json_key_string(&j, "unit", UNIT);
	json_key_int(&j, "unit_links_changed", s->unit_change);
	json_key_bool(&j, "reboot_needed", s->n_reasons > 0);
	json_key(&j, "reboot_reasons");
	json_array_begin(&j);
	for (size_t i = 0; i < s->n_reasons; i++)
		json_string(&j, s->reasons[i]);
	json_array_end(&j);
	json_key_int(&j, "exit_status", status);
	json_object_end(&j);
	(void)json_finish(&j);
}

/*
 * generate against the edit with nothing written: the look ahead. shown:
 * the rest of the diff, what would run, the hazards; else nothing but
 * the hazards --force does not take away
 */
static int preview(struct setup *s, bool shown)
{
	bool out = shown && !s->c->json;
	struct bootcfg *bc = NULL;
	int r;

	if ((r = generate_build(s->c, s->new_cfg, s->remove_boot, &bc)) != 0)
		return r;
	if (shown || !s->c->force)
		(void)generate_hazards(s->c, bc, false);
	if (out && (r = generate_print_diff(s->c, bc)) != 0)
		goto out;
	if (out)
		generate_print_args(s->c, bc);
	if (out && s->remove_boot)
		generate_print_dirs(bc);
	if (out)
		(void)generate_refresh(s->c, bc, true, true);
	if (fflush(stdout) != 0)
		r = EXIT_FAILURE_;
	bootcfg_summarise(bc, &s->gen);
out:
	bootcfg_free(bc);
	return r;
}

/* generate --write would refuse what the look ahead found (a hazard, not forced) */
static bool generate_refuses(const struct setup *s)
{
	return s->gen.n_hazards && !s->c->force;
}

/* what generate --write would refuse, found before anything is written */
static int refused_by_generate(const struct setup *s)
{
	if (!generate_refuses(s))
		return 0;
	msg_error("setup refuses what `pcibind generate --write` refuses (above) unless --force; nothing was changed");
	return EXIT_REFUSED;
}

/* the line above said what the set is; this one says the rest is as it should be */
static void say_nothing_to_do(const struct setup *s)
{
	bool boot = any_boot_set(s->new_cfg);

	say(s, "nothing to do: the generated files are up to date and %s",
	    boot ? UNIT " is enabled" : "no set needs " UNIT);
}

/* the part both directions share: show, ask, write, generate, the unit, the verdict */
/* under the lock: the file is still as it was read, or another run changed it meanwhile */
static int still_as_read(struct setup *s)
{
	_cleanup_free_ char *now = NULL;
	int r = read_text(s, s->rel, &now);

	if (r != 0)
		return r;
	if (!now == !s->old_text && (!now || streq(now, s->old_text)))
		return 0;
	msg_error("/%s changed while this setup ran (another pcibind setup?); nothing was changed: run it again",
		  s->rel);
	return EXIT_FAILURE_;
}

/* the preview: generate's diff, the unit, the verdict; for a terminal, the question */
static int show_and_ask(struct setup *s, const char *problem)
{
	int r;

	if ((r = preview(s, true)) != 0)
		return r;
	show_unit_plan(s, false);
	judge_reboot(s);
	if (s->c->dry_run) {
		if (problem)
			msg_error("%s", problem);
		show_reboot(s);
		say(s, "dry run: nothing was changed");
		return problem ? EXIT_FAILURE_ : 0;
	}
	if (problem || generate_refuses(s))
		return 0; /* said below, before anything is written */
	if (!nothing_changes(s) && !ask("Make these changes?", false)) {
		say(s, "nothing was changed");
		return EXIT_FAILURE_;
	}
	s->n_reasons = 0;
	return 0;
}

/* the part both directions share: show, ask, write, generate, the unit, the verdict */
static int carry_out(struct setup *s)
{
	bool previewed = s->c->dry_run || interactive(s);
	char why[TEXT_MAX];
	const char *problem;
	int r;

	plan_unit(s);
	problem = unit_problem(s, why, sizeof(why));
	if ((r = show_config_diff(s)) != 0)
		return r;
	if (previewed && ((r = show_and_ask(s, problem)) != 0 || s->c->dry_run))
		return r;
	/* everything that can be checked is checked before the first write */
	if (problem) {
		msg_error("%s; nothing was changed", problem);
		return EXIT_FAILURE_;
	}
	if (!previewed && (r = preview(s, false)) != 0) {
		msg_error("nothing was changed");
		return r;
	}
	if ((r = refused_by_generate(s)) != 0)
		return r;
	if ((r = take_lock(s)) != 0 || (r = still_as_read(s)) != 0 || (r = write_config(s)) != 0)
		return r;
	r = run_generate(s, !previewed);
	if (r != 0) {
		msg_error("/%s is written, and the generated files named above; %s is as it was. Once that is "
			  "fixed, run this setup again",
			  s->rel, UNIT);
		return r;
	}
	if ((r = apply_unit(s)) != 0) {
		msg_error("/%s and the generated files are written; %s is not %s: run `systemctl %s %s`, or this "
			  "setup again once fixed",
			  s->rel, UNIT, s->unit_change > 0 ? "enabled" : "disabled",
			  s->unit_change > 0 ? "enable" : "disable", UNIT);
		return r;
	}
	if (s->remove_boot)
		say(s,
		    "the last set is gone: pcibind's boot setup is taken out too, as `pcibind generate --remove` does");
	judge_reboot(s);
	if (nothing_changes(s))
		say_nothing_to_do(s);
	show_reboot(s);
	return 0;
}

static int load(struct setup *s, int argc, char **argv)
{
	int r;

	if ((r = parse_selectors(s, argc, argv)) != 0 || (r = ctx_check_driver(s->c, s->c->driver)) != 0)
		return r;
	/*
	 * A run that asks nothing holds the lock from before it reads the
	 * configuration: a second setup at the same time waits, then reads what
	 * this one wrote. One that asks takes it after the answer, and finds a
	 * file changed meanwhile (still_as_read()).
	 */
	if (!s->c->dry_run && !interactive(s) && (r = take_lock(s)) != 0)
		return r;
	if ((r = ctx_load_config(s->c, &s->cfg)) != 0 || (r = scan(s)) != 0)
		return r;
	return 0;
}

static int run_setup(struct setup *s)
{
	const struct devset *set;
	int r;

	if ((r = resolve(s)) != 0)
		return r;
	show_selection(s);
	if ((r = check_refusals(s)) != 0 || (r = pick_set(s)) != 0)
		return r;
	s->boot = s->c->boot_given ? s->c->boot : s->set ? s->set->boot : false;
	if (!s->c->boot_given && interactive(s) && !(s->set && s->set->boot))
		s->boot = ask("Claim it at boot, before a host driver takes it (boot = yes)?", true);
	if ((r = find_file(s)) != 0 || (r = edit(s)) != 0 || (r = check_edit(s)) != 0)
		return r;
	set = config_find_set(s->new_cfg, s->name);
	if (!set || !set_is_selection(s, set)) {
		msg_error("[%s] would not select the functions shown; nothing was changed", s->name);
		return EXIT_FAILURE_;
	}
	say(s, "[%s] in /%s: %s (boot = %s)", s->name, s->rel,
	    streq(s->action, "create")	 ? "a new set"
	    : streq(s->action, "change") ? "changed"
					 : "already as asked",
	    set->boot ? "yes" : "no");
	return carry_out(s);
}

/* the functions of the set being taken out that are on a VFIO driver now, for the hint */
static void restore_hint(struct setup *s)
{
	char list[TEXT_MAX] = "";

	for (size_t i = 0; i < s->h->n; i++)
		if (s->picked[i] && s->h->fns[i].driver && driver_is_vfio(s->h->fns[i].driver))
			strappendf(list, sizeof(list), "%s%s", list[0] ? " " : "", s->h->fns[i].name);
	if (list[0])
		(void)snprintf(s->no_reboot, sizeof(s->no_reboot),
			       "%s stay%s on vfio-pci until `pcibind restore %s` or the next boot", list,
			       strchr(list, ' ') ? "" : "s", list);
}

/*
 * What is left once the set is out: only what setup wrote when it made
 * the file (its first line), or, for a drop-in, nothing. A main file that
 * was there empty before setup stays, empty.
 */
static bool made_by_setup(const char *text, const char *rel)
{
	size_t n = strlen(SETUP_MADE_LINE);

	if (!text[0])
		return !streq(rel, CONFIG_FILE);
	return strncmp(text, SETUP_MADE_LINE, n) == 0 && !text[n + strspn(text + n, "\n")];
}

static int run_remove(struct setup *s)
{
	const struct devset *set = NULL;
	int r;

	if (s->sels[0].kind == SEL_NAME) {
		set = config_find_set(s->cfg, s->sels[0].name);
		(void)snprintf(s->name, sizeof(s->name), "%s", s->sels[0].name);
	} else {
		if ((r = resolve(s)) != 0)
			return r;
		for (size_t i = 0; i < s->cfg->n_sets && !set; i++)
			if (set_overlaps(s, &s->cfg->sets[i]))
				set = &s->cfg->sets[i];
	}
	s->set = set;
	if (set) {
		memcpy(s->name, set->name, sizeof(s->name));
		for (size_t i = 0; i < s->h->n; i++)
			s->picked[i] =
			    devset_selects(set, &s->h->fns[i].addr, s->h->fns[i].vendor, s->h->fns[i].device);
		if ((r = find_file(s)) != 0)
			return r;
		if ((r = confedit_remove(s->old_text, s->name, &s->new_text)) < 0) {
			msg_error("cannot take [%s] out of /%s: %s", s->name, s->rel, strerror(-r));
			return EXIT_FAILURE_;
		}
		if (made_by_setup(s->new_text, s->rel)) {
			free(s->new_text);
			s->new_text = NULL; /* a file that held only this set goes: setup made it */
		}
		s->action = "remove";
		say(s, "[%s] in /%s: taken out%s", s->name, s->rel, s->new_text ? "" : " (the file held nothing else)");
	} else {
		/* nothing to take out: nothing regenerated, the unit left as it is */
		s->action = "absent";
		if (s->sels[0].kind == SEL_NAME)
			say(s, "nothing to do: the configuration has no set [%s]", s->name);
		else
			say(s, "nothing to do: no set of the configuration holds these functions");
		return 0;
	}
	if ((r = check_edit(s)) != 0)
		return r;
	restore_hint(s);
	if (!s->new_cfg->n_sets)
		s->remove_boot = !interactive(s) || s->c->dry_run ||
				 ask("No set is left: take pcibind's boot setup out too (kernel arguments, modprobe.d, "
				     "modules-load.d, initramfs)?",
				     true);
	return carry_out(s);
}

/* the set's addresses where its device is now, as the set wrote them (a slot stays a slot) */
static int relocated_text(struct setup *s, const struct devset *set, const struct set_whereabouts *w, char *buf,
			  size_t size)
{
	_cleanup_free_ struct selector *moved = calloc(set->n_addrs, sizeof(*moved));
	int r;

	if (!moved)
		return -ENOMEM;
	if ((r = plan_relocated_addrs(set, w, moved)) < 0)
		return r;
	buf[0] = '\0';
	for (size_t i = 0; i < set->n_addrs; i++) {
		char one[PCIADDR_STRLEN];

		sel_text(&moved[i], one, sizeof(one));
		strappendf(buf, size, "%s%s", i ? "," : "", one);
	}
	for (size_t i = 0; i < s->h->n; i++) {
		const struct pcifn *f = &s->h->fns[i];

		for (size_t k = 0; k < set->n_addrs && !s->picked[i]; k++)
			s->picked[i] = selector_matches(&moved[k], &f->addr, f->vendor, f->device);
		s->n_picked += s->picked[i];
	}
	return 0;
}

/* setup --relocate: one set's addresses rewritten in *text to where its device is; a moved slot's name too */
static int relocate_edit(struct setup *s, const struct devset *set, const struct set_whereabouts *w, char **text)
{
	char addrs[TEXT_MAX], msg[512];
	struct confedit_key keys[2];
	size_t n = 0;
	char *out = NULL;
	int r = relocated_text(s, set, w, addrs, sizeof(addrs));

	if (r == -EXDEV) {
		msg_error("[%s] spans several slots; it is not moved as one: set its addresses in %s:%u by hand",
			  set->name, set->file, set->line);
		return EXIT_USAGE;
	}
	if (r < 0) {
		whereabouts_message(set, w, msg, sizeof(msg));
		msg_error("%s", msg);
		return EXIT_FAILURE_;
	}
	if (!confedit_has_section(*text, set->name)) {
		msg_error("[%s] is in another file than [%s] (%s:%u): relocate it on its own", set->name, s->name,
			  set->file, set->line);
		return EXIT_USAGE;
	}
	keys[n++] = (struct confedit_key){ "address", addrs };
	if (set->slot && w->found->slot[0] && !streq(set->slot, w->found->slot))
		keys[n++] = (struct confedit_key){ "slot", w->found->slot };
	if (confedit_set(*text, set->name, keys, n, NULL, &out) < 0) {
		msg_error("cannot edit /%s", s->rel);
		return EXIT_FAILURE_;
	}
	free(*text);
	*text = out;
	say(s, "[%s] in /%s: moved to %s", set->name, s->rel, w->found->name);
	return 0;
}

/* each SEL a set of the configuration: the ones whose device moved, in *ret (n of them) */
static int relocate_pick(struct setup *s, const struct devset **ret, struct set_whereabouts *w, size_t *ret_n)
{
	char msg[512];
	size_t n = 0;

	for (size_t i = 0; i < s->n_sels; i++) {
		const struct devset *set =
		    s->sels[i].kind == SEL_NAME ? config_find_set(s->cfg, s->sels[i].name) : NULL;

		if (!set) {
			msg_error("setup --relocate takes names of sets of the configuration; '%s' is none",
				  s->sels[i].kind == SEL_NAME ? s->sels[i].name : "an address");
			return EXIT_USAGE;
		}
		plan_whereabouts(s->h, s->cfg, set, &w[n]);
		if (!w[n].mismatch) {
			say(s, "[%s]: nothing to do: its address holds its device", set->name);
			continue;
		}
		whereabouts_message(set, &w[n], msg, sizeof(msg));
		if (w[n].where != WHERE_MOVED) {
			msg_error("%s", msg);
			return EXIT_USAGE;
		}
		say(s, "%s", msg);
		ret[n++] = set;
	}
	*ret_n = n;
	return 0;
}

static int run_relocate(struct setup *s)
{
	_cleanup_free_ const struct devset **sets = calloc(s->n_sels, sizeof(*sets));
	_cleanup_free_ struct set_whereabouts *w = calloc(s->n_sels, sizeof(*w));
	char *text = NULL;
	size_t n = 0;
	int r;

	if (!sets || !w)
		return EXIT_FAILURE_;
	if ((r = relocate_pick(s, sets, w, &n)) != 0)
		return r;
	s->action = "unchanged";
	if (!n)
		return 0;
	s->set = sets[0];
	s->boot = sets[0]->boot;
	memcpy(s->name, sets[0]->name, sizeof(s->name));
	if ((r = find_file(s)) != 0)
		return r;
	if (!(text = strdup(s->old_text ? s->old_text : "")))
		return EXIT_FAILURE_;
	for (size_t i = 0; i < n && r == 0; i++)
		r = relocate_edit(s, sets[i], &w[i], &text);
	s->new_text = text;
	if (r != 0)
		return r;
	s->action = "change";
	if ((r = check_edit(s)) != 0)
		return r;
	show_selection(s);
	if ((r = check_refusals_in(s, s->new_cfg)) != 0)
		return r;
	return carry_out(s);
}

static int run(struct ctx *c, int argc, char **argv)
{
	struct setup s = { .c = c, .lock_fd = -1 };
	int r;

	/* its report and generate's messages on stderr interleave in the order they happen */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	if (c->remove && (c->name || c->boot_given)) {
		msg_error("--remove takes the set named by SEL out; --name and --boot do not go with it");
		return EXIT_USAGE;
	}
	if (c->relocate && (c->remove || c->name || c->boot_given || c->driver)) {
		msg_error("--relocate moves the set SEL names to its device; --remove, --name, --boot and --driver do "
			  "not go with it");
		return EXIT_USAGE;
	}
	if ((r = load(&s, argc, argv)) == 0)
		r = c->relocate ? run_relocate(&s) : c->remove ? run_remove(&s) : run_setup(&s);
	if (c->json && r != EXIT_USAGE)
		json_out(&s, r);
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_FAILURE_;
	bootcfg_summary_free(&s.gen);
	setup_free(&s);
	return r;
}

const struct cmd cmd_setup = {
	.name = "setup",
	.args = "SEL... [--boot]",
	.help = "the whole passthrough setup for SEL; --remove undoes it",
	.usage = "\n"
		 "Shows the functions SEL names with the rest of their IOMMU groups, refuses what bind\n"
		 "would refuse, writes the set into /etc/pcibind/pcibind.conf (comments and order kept),\n"
		 "does what `generate --write` does, enables pcibind.service and says whether a reboot\n"
		 "is needed and why. A second run changes nothing.\n\n"
		 "  --name NAME    the set's name (default: gpu, nic, nvme, usb, ... from the class)\n"
		 "  --boot         claim it at boot (boot = yes); --no-boot: on demand only\n"
		 "  --driver D     bind it to D instead of vfio-pci\n"
		 "  -n, --dry-run  show every change as a diff, change nothing\n"
		 "  -y, --yes      ask nothing (questions are only asked on a terminal)\n"
		 "  -f, --force    set up a function bind would refuse for a use (the console, a mount, ...)\n"
		 "  --remove       take the set named by SEL (a name, or its functions) out, regenerate,\n"
		 "                 and disable pcibind.service when no set is claimed at boot any more\n"
		 "  --relocate     SEL is a set whose recorded device moved: its addresses become where the\n"
		 "                 device is now (`pcibind check` names such sets), then as above\n"
		 "  --json         one JSON document on standard output\n",
	.run = run,
};
