/* config.c - pcibind.conf and conf.d drop-ins through inih, validated, with file:line in every error */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define CONFIG_SIZE_MAX (1u << 20) /* a config file larger than this is not one */
#define LIST_MAX	1024	   /* entries in one address or ids list */
#define SETS_MAX	1024
#define TIMEOUT_MAX	600
#define DRIVER_LEN_MAX	63
#define GLOBAL_SECTION	"pcibind"
#define ADDRESS_FORMS	"DDDD:BB:SS.F or BB:SS.F (one function), DDDD:BB:SS or BB:SS (every function of a slot)"

struct parser;

/*
 * A key: what it accepts is decided by apply(). A list key may go on over
 * indented lines, as inih joins them (Python configparser style).
 */
struct keydef {
	const char *name;
	bool list;
	int (*apply)(struct parser *p, const char *value);
};

enum line_kind {
	LINE_COMMENT, /* blank lines too */
	LINE_SECTION,
	LINE_KEY,
	LINE_CONTINUATION,
};

enum scope {
	SCOPE_NONE, /* before the first section */
	SCOPE_GLOBAL,
	SCOPE_SET,
};

#define SECTION_KEYS_MAX 16

/*
 * inih does not tell a handler the line number or that a section began, so
 * the reader classifies each line as inih will, just before handing it over.
 */
struct parser {
	struct config *cfg;
	struct config_error *err;
	const char *file;
	const char *text; /* not yet read */
	unsigned line;
	enum line_kind kind;
	enum scope scope;
	size_t set; /* index into cfg->sets when SCOPE_SET */
	const struct keydef *keys;
	size_t n_keys;
	unsigned key_line[SECTION_KEYS_MAX]; /* in this section; 0: not yet */
	const struct keydef *prev;	     /* the key an indented line continues */
	unsigned prev_line;
	int error; /* 0, or -EINVAL/-ENOMEM with err filled */
};

static void fill_error(struct config_error *err, const char *file, unsigned line, const char *fmt, va_list ap)
{
	if (!err)
		return;
	(void)snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

static int _printf_(4, 5) error_at(struct config_error *err, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fill_error(err, file, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The first error wins; parsing stops at it. */
static int _printf_(2, 3) fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->error)
		return p->error;
	va_start(ap, fmt);
	fill_error(p->err, p->file, p->line, fmt, ap);
	va_end(ap);
	p->error = -EINVAL;
	return p->error;
}

static int oom(struct parser *p)
{
	(void)fail(p, "out of memory");
	p->error = -ENOMEM;
	return p->error;
}

/* user text for a message: printable, at most 48 characters */
static const char *quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 48) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

#define QUOTE_SIZE 256
#define Q(buf, s)  quote(buf, sizeof(buf), (s), strlen(s))

/* users write "value # comment"; inih only knows "value ; comment" */
static const char *comment_hint(const char *value)
{
	const char *h = strchr(value, '#');

	if (h && h > value && isspace((unsigned char)h[-1]))
		return " ('#' starts a comment only at the start of a line; use ' ; comment')";
	return "";
}

/* ---- the devset being built ---- */

static struct devset *cur_set(struct parser *p)
{
	return &p->cfg->sets[p->set];
}

static const char *set_name(struct parser *p)
{
	return p->scope == SCOPE_SET ? cur_set(p)->name : GLOBAL_SECTION;
}

static void sel_format(const struct selector *s, char *buf)
{
	if (s->kind == SEL_SLOT)
		(void)snprintf(buf, PCIADDR_STRLEN, "%04x:%02x:%02x", (unsigned)s->addr.domain, (unsigned)s->addr.bus,
			       (unsigned)s->addr.dev);
	else
		pciaddr_format(&s->addr, buf);
}

static bool addrs_overlap(const struct selector *a, const struct selector *b)
{
	if (a->kind == SEL_SLOT || b->kind == SEL_SLOT)
		return pciaddr_same_slot(&a->addr, &b->addr);
	return pciaddr_cmp(&a->addr, &b->addr) == 0;
}

static const struct selector *find_overlap(const struct devset *set, size_t n, const struct selector *sel)
{
	for (size_t i = 0; i < n; i++)
		if (addrs_overlap(&set->addrs[i], sel))
			return &set->addrs[i];
	return NULL;
}

static const char *where(const struct devset *set, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s:%u", set->file ? set->file : "?", set->line);
	return buf;
}

/* A function may belong to one set: the first set in cfg (before `upto`) that overlaps sel */
static const struct devset *find_other_set(const struct config *cfg, size_t upto, const struct selector *sel,
					   const struct selector **ret_hit)
{
	for (size_t i = 0; i < upto; i++) {
		const struct selector *hit = find_overlap(&cfg->sets[i], cfg->sets[i].n_addrs, sel);

		if (hit) {
			*ret_hit = hit;
			return &cfg->sets[i];
		}
	}
	return NULL;
}

static int check_new_address(struct parser *p, const struct selector *sel)
{
	const struct devset *set = cur_set(p), *other;
	const struct selector *hit = find_overlap(set, set->n_addrs, sel);
	char a[PCIADDR_STRLEN], b[PCIADDR_STRLEN], w[4200];

	sel_format(sel, a);
	if (hit) {
		sel_format(hit, b);
		if (streq(a, b))
			return fail(p, "%s is listed twice in [%s]", a, set->name);
		return fail(p, "%s and %s overlap in [%s]; list the slot or its functions, not both", b, a, set->name);
	}
	other = find_other_set(p->cfg, p->cfg->n_sets, sel, &hit);
	if (other && other != set) {
		sel_format(hit, b);
		return fail(p, "%s in [%s] is also in [%s] as %s (%s); a function may belong to one set only", a,
			    set->name, other->name, b, where(other, w, sizeof(w)));
	}
	return 0;
}

static int add_address(struct parser *p, const char *tok)
{
	struct devset *set = cur_set(p);
	struct selector sel, *n;
	char q[QUOTE_SIZE];
	int r;

	r = selector_parse(tok, &sel);
	if (r == 0 && sel.kind == SEL_IDS)
		return fail(p, "'%s' in 'address' of [%s] is vendor:device; put it in 'ids ='", Q(q, tok), set->name);
	if (r < 0 || (sel.kind != SEL_FUNCTION && sel.kind != SEL_SLOT))
		return fail(p, "invalid address '%s' in [%s]; expected %s", Q(q, tok), set->name, ADDRESS_FORMS);
	if ((r = check_new_address(p, &sel)) < 0)
		return r;
	if (set->n_addrs >= LIST_MAX)
		return fail(p, "too many addresses in [%s] (at most %d)", set->name, LIST_MAX);
	n = realloc(set->addrs, (set->n_addrs + 1) * sizeof(*n));
	if (!n)
		return oom(p);
	set->addrs = n;
	set->addrs[set->n_addrs++] = sel;
	return 0;
}

/* What a vendor:device list is called in its messages: ids and subsystem share the rest */
struct idlist_words {
	const char *invalid; /* "invalid %s '...' in [set]; expected %s" */
	const char *expected;
	const char *twice; /* "" or "subsystem ": before "VVVV:DDDD is listed twice" */
	const char *many;  /* "too many %s in [set]" */
};

static int add_idpair(struct parser *p, const char *tok, struct pciids **list, size_t *n_list,
		      const struct idlist_words *w)
{
	struct devset *set = cur_set(p);
	struct selector sel;
	struct pciids *n;
	char q[QUOTE_SIZE];

	if (selector_parse(tok, &sel) < 0 || sel.kind != SEL_IDS)
		return fail(p, "invalid %s '%s' in [%s]; expected %s", w->invalid, Q(q, tok), set->name, w->expected);
	for (size_t i = 0; i < *n_list; i++)
		if ((*list)[i].vendor == sel.vendor && (*list)[i].device == sel.device)
			return fail(p, "%s%04x:%04x is listed twice in [%s]", w->twice, sel.vendor, sel.device,
				    set->name);
	if (*n_list >= LIST_MAX)
		return fail(p, "too many %s in [%s] (at most %d)", w->many, set->name, LIST_MAX);
	n = realloc(*list, (*n_list + 1) * sizeof(*n));
	if (!n)
		return oom(p);
	*list = n;
	(*list)[(*n_list)++] = (struct pciids){ sel.vendor, sel.device };
	return 0;
}

static int add_ids(struct parser *p, const char *tok)
{
	static const struct idlist_words w = { "ids", "vendor:device as VVVV:DDDD (e.g. 10de:2204)", "", "ids" };
	struct devset *set = cur_set(p);

	return add_idpair(p, tok, &set->ids, &set->n_ids, &w);
}

/* Entries are separated by commas and/or blanks. */
static int apply_list(struct parser *p, const char *key, const char *value, int (*add)(struct parser *, const char *))
{
	static const char seps[] = " ,\t";
	char tok[128];
	size_t n, count = 0;
	int r;

	if (strchr(value, '#'))
		return fail(p,
			    "'%s' in [%s] contains '#'; '#' starts a comment only at the start of a line, "
			    "use ' ; comment'",
			    key, set_name(p));
	for (const char *s = value + strspn(value, seps); *s; s += n, s += strspn(s, seps), count++) {
		n = strcspn(s, seps);
		(void)snprintf(tok, sizeof(tok), "%.*s", (int)n, s); /* longer is invalid anyway */
		if ((r = add(p, tok)) < 0)
			return r;
	}
	if (count == 0)
		return fail(p, "'%s' in [%s] is empty", key, set_name(p));
	return 0;
}

static int apply_address(struct parser *p, const char *value)
{
	return apply_list(p, "address", value, add_address);
}

static int apply_ids(struct parser *p, const char *value)
{
	return apply_list(p, "ids", value, add_ids);
}

static void identity_line(struct parser *p)
{
	if (!cur_set(p)->identity_line)
		cur_set(p)->identity_line = p->line;
}

static int add_subsys(struct parser *p, const char *tok)
{
	static const struct idlist_words w = { "subsystem", "subsystem vendor:device as SSSS:SSSS (e.g. 1458:403b)",
					       "subsystem ", "subsystem ids" };
	struct devset *set = cur_set(p);

	return add_idpair(p, tok, &set->subsys, &set->n_subsys, &w);
}

static int apply_subsys(struct parser *p, const char *value)
{
	identity_line(p);
	return apply_list(p, "subsystem", value, add_subsys);
}

static int apply_serial(struct parser *p, const char *value)
{
	char q[QUOTE_SIZE];

	identity_line(p);
	if (dsn_parse(value, &cur_set(p)->serial) < 0)
		return fail(p,
			    "invalid serial '%s' in [%s]; expected the Device Serial Number as lspci -vv shows it, "
			    "xx-xx-xx-xx-xx-xx-xx-xx (eight hex pairs)%s",
			    Q(q, value), set_name(p), comment_hint(value));
	cur_set(p)->has_serial = true;
	return 0;
}

static int apply_slot(struct parser *p, const char *value)
{
	char q[QUOTE_SIZE];

	identity_line(p);
	if (!slot_name_valid(value))
		return fail(p,
			    "invalid slot '%s' in [%s]; a slot is the name of a directory in /sys/bus/pci/slots: "
			    "1 to 63 letters, digits, '_', '.', '+' or '-', not starting with '.'%s",
			    Q(q, value), set_name(p), comment_hint(value));
	cur_set(p)->slot = strdup(value);
	return cur_set(p)->slot ? 0 : oom(p);
}

static int parse_driver(struct parser *p, const char *value, char **ret)
{
	char q[QUOTE_SIZE];

	if (!driver_name_valid(value))
		return fail(p,
			    "invalid driver '%s' in [%s]; a driver name is 1 to %d letters, digits, '_' or '-', not "
			    "starting with '-'%s",
			    Q(q, value), set_name(p), DRIVER_LEN_MAX, comment_hint(value));
	*ret = strdup(value);
	return *ret ? 0 : oom(p);
}

static int apply_set_driver(struct parser *p, const char *value)
{
	return parse_driver(p, value, &cur_set(p)->driver);
}

static int parse_bool(struct parser *p, const char *key, const char *value, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };
	char q[QUOTE_SIZE];

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
			*ret = strcasecmp(value, yes[i]) == 0;
			return 0;
		}
	}
	return fail(p, "invalid value '%s' for '%s' in [%s]; use yes or no (also true/false, on/off, 1/0)%s",
		    Q(q, value), key, set_name(p), comment_hint(value));
}

static int apply_boot(struct parser *p, const char *value)
{
	return parse_bool(p, "boot", value, &cur_set(p)->boot);
}

static int apply_follow(struct parser *p, const char *value)
{
	identity_line(p);
	return parse_bool(p, "follow", value, &cur_set(p)->follow);
}

static int apply_release_console(struct parser *p, const char *value)
{
	return parse_bool(p, "release_console", value, &cur_set(p)->release_console);
}

/* Split a list value on commas and blanks; each item checked by valid() */
static int parse_words(struct parser *p, const char *key, const char *value, bool (*valid)(const char *),
		       const char *what, char ***ret, size_t *ret_n)
{
	_cleanup_free_ char *copy = strdup(value);
	char *save = NULL, q[QUOTE_SIZE];

	if (!copy)
		return oom(p);
	for (char *w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
		char **n;

		if (!valid(w))
			return fail(p, "invalid entry '%s' in '%s' of [%s]; %s", Q(q, w), key, set_name(p), what);
		n = realloc(*ret, (*ret_n + 1) * sizeof(*n));
		if (!n)
			return oom(p);
		*ret = n;
		if (!(n[*ret_n] = strdup(w)))
			return oom(p);
		(*ret_n)++;
	}
	if (*ret_n == 0)
		return fail(p, "'%s' in [%s] is empty", key, set_name(p));
	return 0;
}

static int apply_stop_units(struct parser *p, const char *value)
{
	struct devset *set = cur_set(p);

	return parse_words(p, "stop_units", value, unit_name_valid, "a unit name like display-manager.service",
			   &set->stop_units, &set->n_stop_units);
}

static bool reset_method_valid(const char *s)
{
	static const char *const methods[] = { "device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus" };

	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (streq(s, methods[i]))
			return true;
	return false;
}

/* Stored joined by single spaces, as the kernel's reset_method attribute reads */
static int apply_reset_method(struct parser *p, const char *value)
{
	char **words = NULL;
	size_t n = 0, len = 0;
	char *joined;
	int r = parse_words(p, "reset_method", value, reset_method_valid,
			    "methods are device_specific, acpi, flr, af_flr, pm, bus, cxl_bus", &words, &n);

	for (size_t i = 0; r == 0 && i < n; i++)
		len += strlen(words[i]) + 1;
	joined = r == 0 ? calloc(1, len + 1) : NULL;
	for (size_t i = 0; joined && i < n; i++)
		strcat(strcat(joined, i ? " " : ""), words[i]);
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
	if (r < 0)
		return r;
	if (!joined)
		return oom(p);
	free(cur_set(p)->reset_method);
	cur_set(p)->reset_method = joined;
	return 0;
}

/* sriov_numvfs = N: how many VFs each PF of the set gets (sriov_numvfs_store() takes a u16) */
static int apply_sriov_numvfs(struct parser *p, const char *value)
{
	unsigned long v = 0;
	size_t n = strlen(value);
	char q[QUOTE_SIZE];

	if (n == 0 || n > 5 || strspn(value, "0123456789") != n || parse_uint(value, 10, 65535, &v) < 0 || v < 1)
		return fail(p, "invalid sriov_numvfs '%s' in [%s]; it is the number of VFs to create, 1 to 65535%s",
			    Q(q, value), set_name(p), comment_hint(value));
	cur_set(p)->sriov_numvfs = (int)v;
	cur_set(p)->sriov_line = p->line;
	return 0;
}

static int parse_vf_number(const char *s, size_t len, unsigned long *ret)
{
	char buf[8];

	if (len == 0 || len > 5 || strspn(s, "0123456789") < len)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return parse_uint(buf, 10, 65534, ret);
}

static int add_vf(struct parser *p, unsigned long v)
{
	struct devset *set = cur_set(p);
	uint16_t *n;
	size_t i = set->n_vfs;

	/* ranges come in ascending order: the common case is an append */
	if (i && set->vfs[i - 1] >= v)
		for (i = 0; i < set->n_vfs && set->vfs[i] < v; i++)
			;
	if (i < set->n_vfs && set->vfs[i] == v)
		return fail(p, "VF %lu is listed twice in 'vfs' of [%s]", v, set->name);
	if (set->n_vfs >= 65535)
		return fail(p, "too many VFs in 'vfs' of [%s]", set->name);
	n = realloc(set->vfs, (set->n_vfs + 1) * sizeof(*n));
	if (!n)
		return oom(p);
	memmove(n + i + 1, n + i, (set->n_vfs - i) * sizeof(*n));
	n[i] = (uint16_t)v;
	set->vfs = n;
	set->n_vfs++;
	return 0;
}

/* one entry of vfs: "3" or "0-7" */
static int add_vf_range(struct parser *p, const char *tok)
{
	const char *dash = strchr(tok, '-');
	unsigned long lo, hi;
	char q[QUOTE_SIZE];
	int r;

	if (parse_vf_number(tok, dash ? (size_t)(dash - tok) : strlen(tok), &lo) < 0 ||
	    (dash && parse_vf_number(dash + 1, strlen(dash + 1), &hi) < 0) || (dash && hi < lo))
		return fail(p,
			    "invalid entry '%s' in 'vfs' of [%s]; VFs are numbered from 0, as the PF's virtfnN links: "
			    "list them as 0,2 or ranges as 0-3",
			    Q(q, tok), set_name(p));
	if (!dash)
		hi = lo;
	for (unsigned long v = lo; v <= hi; v++)
		if ((r = add_vf(p, v)) < 0)
			return r;
	return 0;
}

static int apply_vfs(struct parser *p, const char *value)
{
	cur_set(p)->vfs_line = p->line;
	return apply_list(p, "vfs", value, add_vf_range);
}

/* [pcibind] keys may come from any file but only once: the first place is named */
static int check_origin(struct parser *p, const char *key, const struct config_origin *o)
{
	if (!o->file)
		return 0;
	if (streq(o->file, p->file))
		return fail(p, "'%s' is set twice in [%s]; first at line %u", key, GLOBAL_SECTION, o->line);
	return fail(p, "'%s' is set twice in [%s]; first at %s:%u", key, GLOBAL_SECTION, o->file, o->line);
}

static int set_origin(struct parser *p, struct config_origin *o)
{
	char *f = strdup(p->file);

	if (!f)
		return oom(p);
	free(o->file);
	o->file = f;
	o->line = p->line;
	return 0;
}

static int apply_global_driver(struct parser *p, const char *value)
{
	char *d = NULL;
	int r;

	if ((r = check_origin(p, "driver", &p->cfg->driver_origin)) < 0 || (r = parse_driver(p, value, &d)) < 0)
		return r;
	free(p->cfg->driver);
	p->cfg->driver = d;
	return set_origin(p, &p->cfg->driver_origin);
}

static int apply_timeout(struct parser *p, const char *value)
{
	unsigned long v = 0;
	size_t n = strlen(value);
	char q[QUOTE_SIZE];
	int r;

	if ((r = check_origin(p, "unbind_timeout", &p->cfg->unbind_timeout_origin)) < 0)
		return r;
	if (n == 0 || n > 3 || strspn(value, "0123456789") != n || parse_uint(value, 10, TIMEOUT_MAX, &v) < 0 || v < 1)
		return fail(p, "invalid unbind_timeout '%s'; it is a whole number of seconds from 1 to %d%s",
			    Q(q, value), TIMEOUT_MAX, comment_hint(value));
	p->cfg->unbind_timeout = (unsigned)v;
	return set_origin(p, &p->cfg->unbind_timeout_origin);
}

static int global_bool(struct parser *p, const char *key, const char *value, bool *dst, struct config_origin *o)
{
	int r;

	if ((r = check_origin(p, key, o)) < 0 || (r = parse_bool(p, key, value, dst)) < 0)
		return r;
	return set_origin(p, o);
}

static int apply_iommu_pt(struct parser *p, const char *value)
{
	return global_bool(p, "iommu_pt", value, &p->cfg->iommu_pt, &p->cfg->iommu_pt_origin);
}

static int apply_ignore_msrs(struct parser *p, const char *value)
{
	return global_bool(p, "kvm_ignore_msrs", value, &p->cfg->kvm_ignore_msrs, &p->cfg->kvm_ignore_msrs_origin);
}

static int apply_unsafe_interrupts(struct parser *p, const char *value)
{
	return global_bool(p, "allow_unsafe_interrupts", value, &p->cfg->allow_unsafe_interrupts,
			   &p->cfg->allow_unsafe_interrupts_origin);
}

static int apply_libvirt_all(struct parser *p, const char *value)
{
	return global_bool(p, "libvirt_all_hostdevs", value, &p->cfg->libvirt_all, &p->cfg->libvirt_all_origin);
}

static int apply_blacklist(struct parser *p, const char *value)
{
	int r;

	if ((r = check_origin(p, "blacklist", &p->cfg->blacklist_origin)) < 0 ||
	    (r = parse_words(p, "blacklist", value, driver_name_valid, "a driver name is letters, digits, '_' or '-'",
			     &p->cfg->blacklist, &p->cfg->n_blacklist)) < 0)
		return r;
	return set_origin(p, &p->cfg->blacklist_origin);
}

static const struct keydef set_keys[] = {
	{ "address", true, apply_address },
	{ "ids", true, apply_ids },
	{ "driver", false, apply_set_driver },
	{ "boot", false, apply_boot },
	{ "release_console", false, apply_release_console },
	{ "stop_units", true, apply_stop_units },
	{ "reset_method", false, apply_reset_method },
	{ "sriov_numvfs", false, apply_sriov_numvfs },
	{ "vfs", false, apply_vfs },
	{ "subsystem", true, apply_subsys },
	{ "serial", false, apply_serial },
	{ "slot", false, apply_slot },
	{ "follow", false, apply_follow },
};

static const struct keydef global_keys[] = {
	{ "driver", false, apply_global_driver },
	{ "unbind_timeout", false, apply_timeout },
	{ "iommu_pt", false, apply_iommu_pt },
	{ "kvm_ignore_msrs", false, apply_ignore_msrs },
	{ "allow_unsafe_interrupts", false, apply_unsafe_interrupts },
	{ "blacklist", false, apply_blacklist },
	{ "libvirt_all_hostdevs", false, apply_libvirt_all },
};

_Static_assert(ARRAY_SIZE(set_keys) <= SECTION_KEYS_MAX, "key_line[] too small");

/* ---- keys ---- */

/* Values reach modprobe.d files and kernel command lines: nothing that quotes, escapes or expands. */
static int check_value_safe(struct parser *p, const char *key, const char *value)
{
	for (const char *s = value; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			return fail(p, "value of '%s' contains a newline", key);
		if (strchr("\\\"'$`", c))
			return fail(p, "value of '%s' contains '%c'", key, c);
		if (c == ';')
			return fail(p, "value of '%s' contains ';' (a comment needs a blank before the ';')", key);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, "value of '%s' contains a control character (0x%02x)", key, c);
	}
	return 0;
}

static const struct keydef *find_key(const struct keydef *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static void key_list(const struct keydef *keys, size_t n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		(void)snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", keys[i].name);
}

static int unknown_key(struct parser *p, const char *name)
{
	bool other = p->scope == SCOPE_SET ? find_key(global_keys, ARRAY_SIZE(global_keys), name)
					   : find_key(set_keys, ARRAY_SIZE(set_keys), name);
	const char *hint = !other		   ? ""
			   : p->scope == SCOPE_SET ? " (it belongs in [pcibind])"
						   : " (it belongs in a device set like [gpu])";
	char q[QUOTE_SIZE], known[128];

	if (strpbrk(name, " \t"))
		return fail(p, "cannot parse '%s'; expected 'key = value' or '[section]'", Q(q, name));
	key_list(p->keys, p->n_keys, known, sizeof(known));
	return fail(p, "unknown key '%s' in [%s]%s; known keys: %s", Q(q, name), set_name(p), hint, known);
}

static int on_key(struct parser *p, const char *name, const char *value)
{
	const struct keydef *k;
	char q[QUOTE_SIZE];
	int r;

	if (p->scope == SCOPE_NONE)
		return fail(p, "key '%s' is outside any section; put it below [pcibind] or a device set like [gpu]",
			    Q(q, name));
	k = find_key(p->keys, p->n_keys, name);
	if (!k)
		return unknown_key(p, name);
	if (p->key_line[k - p->keys])
		return fail(p, "'%s' is set twice in [%s]; first at line %u", name, set_name(p),
			    p->key_line[k - p->keys]);
	p->key_line[k - p->keys] = p->line;
	p->prev = k;
	p->prev_line = p->line;
	if ((r = check_value_safe(p, name, value)) < 0)
		return r;
	return k->apply(p, value);
}

/* inih 55 keeps "; comment" on continuation lines; later versions strip it */
static void strip_inline_comment(char *s)
{
	for (char *c = s; *c; c++) {
		if (*c == ';' && c > s && isspace((unsigned char)c[-1])) {
			*c = '\0';
			break;
		}
	}
	strip_trailing(s);
}

static int on_continuation(struct parser *p, const char *value)
{
	const struct keydef *k = p->prev;
	char buf[4096];
	int r;

	(void)snprintf(buf, sizeof(buf), "%s", value); /* a line fits: inih's buffer is smaller */
	strip_inline_comment(buf);
	if (!k->list)
		return fail(
		    p,
		    "indented line continues '%s' from line %u; only address, ids and stop_units may span lines; "
		    "remove the indentation",
		    k->name, p->prev_line);
	if (buf[0] == '[' || strchr(buf, '='))
		return fail(p, "indented line is read as more entries for '%s' from line %u; remove the indentation",
			    k->name, p->prev_line);
	if ((r = check_value_safe(p, k->name, buf)) < 0)
		return r;
	return k->apply(p, buf);
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;

	if (p->error)
		return 0;
	if (!name || !value) /* a section start, if inih was built to report them: we track those */
		return p->kind == LINE_SECTION;
	if (p->kind == LINE_CONTINUATION && p->prev)
		return on_continuation(p, value) == 0;
	if (p->kind == LINE_KEY)
		return on_key(p, name, value) == 0;
	/* inih and our reader disagree on what this line is */
	return fail(p, "cannot parse this line") == 0;
}

/* ---- sections and lines ---- */

static const struct devset *find_set(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->n_sets; i++)
		if (streq(cfg->sets[i].name, name))
			return &cfg->sets[i];
	return NULL;
}

static int add_set(struct parser *p, const char *name)
{
	struct devset *n;
	char *file;

	if (p->cfg->n_sets >= SETS_MAX)
		return fail(p, "too many sections (at most %d)", SETS_MAX);
	file = strdup(p->file);
	n = file ? realloc(p->cfg->sets, (p->cfg->n_sets + 1) * sizeof(*n)) : NULL;
	if (!n) {
		free(file);
		return oom(p);
	}
	p->cfg->sets = n;
	p->set = p->cfg->n_sets++;
	n[p->set] = (struct devset){ .file = file, .line = p->line };
	memcpy(n[p->set].name, name, strlen(name) + 1);
	return 0;
}

/* name (len bytes, not terminated) into buf as a valid set name */
static int set_name_parse(struct parser *p, const char *name, size_t len, char buf[static SELECTOR_NAME_MAX])
{
	char q[QUOTE_SIZE];
	struct selector sel;

	(void)quote(q, sizeof(q), name, len);
	if (len < SELECTOR_NAME_MAX) {
		memcpy(buf, name, len);
		buf[len] = '\0';
		if (selector_parse(buf, &sel) == 0 && sel.kind != SEL_NAME)
			return fail(p,
				    "section [%s] looks like a PCI address or ids; name the set (e.g. [gpu]) "
				    "and put it in 'address =' or 'ids ='",
				    q);
		if (selector_name_valid(buf))
			return 0;
	}
	return fail(p,
		    "invalid section name [%s]; use a letter or '_' then letters, digits, '_', '.' or '-', "
		    "at most %d characters",
		    q, SELECTOR_NAME_MAX - 1);
}

static void enter_scope(struct parser *p, enum scope scope)
{
	memset(p->key_line, 0, sizeof(p->key_line));
	p->prev = NULL;
	p->scope = scope;
	p->keys = scope == SCOPE_GLOBAL ? global_keys : set_keys;
	p->n_keys = scope == SCOPE_GLOBAL ? ARRAY_SIZE(global_keys) : ARRAY_SIZE(set_keys);
}

static int begin_section(struct parser *p, const char *name, size_t len)
{
	char w[4200], buf[SELECTOR_NAME_MAX];
	const struct devset *old;
	int r;

	if (len == strlen(GLOBAL_SECTION) && strncmp(name, GLOBAL_SECTION, len) == 0) {
		enter_scope(p, SCOPE_GLOBAL);
		return 0;
	}
	if ((r = set_name_parse(p, name, len, buf)) < 0)
		return r;
	if ((old = find_set(p->cfg, buf)))
		return fail(p, "section [%s] is already defined at %s; a set may be defined once", buf,
			    where(old, w, sizeof(w)));
	enter_scope(p, SCOPE_SET);
	return add_set(p, buf);
}

static const char *skip_blank(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* inih's rule: a ';' after a blank starts a comment */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	for (; *s && !strchr(chars, *s) && !(was_space && *s == ';'); s++)
		was_space = isspace((unsigned char)*s);
	return s;
}

static int classify_section(struct parser *p, const char *s)
{
	const char *end = find_chars_or_comment(s + 1, "]"), *rest;
	char q[QUOTE_SIZE];

	if (*end != ']')
		return fail(p, "section header '%s' has no closing ']'", Q(q, s));
	rest = skip_blank(end + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return fail(p, "unexpected '%s' after the section header", Q(q, rest));
	p->kind = LINE_SECTION;
	return begin_section(p, s + 1, (size_t)(end - s - 1));
}

/* The same decisions, in the same order, as inih's ini_parse_stream() */
static int classify(struct parser *p, char *line)
{
	const char *s = skip_blank(strip_trailing(line));
	const char *sep;

	if (!*s || *s == ';' || *s == '#') {
		p->kind = LINE_COMMENT;
		return 0;
	}
	if (s > line && p->prev) {
		p->kind = LINE_CONTINUATION;
		return 0;
	}
	if (*s == '[')
		return classify_section(p, s);
	sep = find_chars_or_comment(s, "=:");
	if (*sep != '=' && *sep != ':')
		return fail(p, "expected 'key = value' or '[section]', found no '='");
	p->kind = LINE_KEY;
	return 0;
}

/* fgets() for inih over p->text; counts lines and refuses to split a long one */
static char *read_line(char *buf, int size, void *user)
{
	struct parser *p = user;
	size_t n;

	if (p->error || !*p->text)
		return NULL;
	n = strcspn(p->text, "\n");
	p->line++;
	if (size < 3 || n > (size_t)size - 2) {
		(void)fail(p, "line is too long (%zu characters; at most %d)", n, size - 2);
		return NULL;
	}
	memcpy(buf, p->text, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	p->text += n + (p->text[n] == '\n');
	if (p->line == 1 && strncmp(buf, "\xef\xbb\xbf", 3) == 0)
		memmove(buf, buf + 3, n - 1); /* UTF-8 BOM, whatever inih's own setting */
	if (classify(p, buf) < 0)
		return NULL;
	/* classify() trimmed buf in place; inih trims again, which is harmless */
	return buf;
}

int config_parse_text(struct config *cfg, const char *text, const char *filename, struct config_error *err)
{
	struct parser p = { .cfg = cfg, .err = err, .file = filename, .text = text };
	int r;

	if (!cfg || !text || !filename)
		return -EINVAL;
	r = ini_parse_stream(read_line, &p, on_value, &p);
	if (p.error)
		return p.error;
	if (r == -2)
		return -ENOMEM;
	if (r != 0)
		return error_at(err, filename, (unsigned)(r > 0 ? r : 0), "cannot parse this line");
	return 0;
}

/* ---- checks across sets and files ---- */

static bool ids_shared(const struct devset *a, const struct devset *b, struct pciids *ret)
{
	for (size_t i = 0; i < a->n_ids; i++) {
		for (size_t j = 0; j < b->n_ids; j++) {
			if (a->ids[i].vendor == b->ids[j].vendor && a->ids[i].device == b->ids[j].device) {
				*ret = a->ids[i];
				return true;
			}
		}
	}
	return false;
}

/* identity keys describe the device at an address; follow needs the serial number that finds it */
static int check_identity(const struct devset *set, struct config_error *err)
{
	if (!set->n_addrs)
		return error_at(err, set->file, set->identity_line,
				"[%s] records a device (subsystem, serial, slot or follow) but has no address; "
				"they guard an address",
				set->name);
	if (devset_is_sriov(set))
		return error_at(err, set->file, set->identity_line,
				"[%s] is an SR-IOV set; subsystem, serial, slot and follow are for a set's own "
				"functions, not its VFs",
				set->name);
	if (set->follow && !set->has_serial)
		return error_at(err, set->file, set->identity_line,
				"[%s] has follow = yes but no serial; only a Device Serial Number is followed to a "
				"new address",
				set->name);
	return 0;
}

static int check_set(const struct config *cfg, size_t i, struct config_error *err)
{
	const struct devset *set = &cfg->sets[i], *other;
	const struct selector *hit;
	char a[PCIADDR_STRLEN], w[4200];
	struct pciids ids;

	if (!set->n_addrs && !set->n_ids)
		return error_at(err, set->file, set->line,
				"[%s] selects nothing; give it 'address =' (PCI addresses) or 'ids =' (vendor:device)",
				set->name);
	if (devset_has_identity(set) || set->follow) {
		int r = check_identity(set, err);

		if (r < 0)
			return r;
	}
	if (set->n_vfs && !set->sriov_numvfs)
		return error_at(err, set->file, set->vfs_line,
				"[%s] lists vfs but has no sriov_numvfs; say how many VFs its PFs get", set->name);
	if (set->n_vfs && set->vfs[set->n_vfs - 1] >= set->sriov_numvfs)
		return error_at(
		    err, set->file, set->vfs_line,
		    "VF %u in 'vfs' of [%s] does not exist with sriov_numvfs = %d (VFs are numbered 0 to %d)",
		    (unsigned)set->vfs[set->n_vfs - 1], set->name, set->sriov_numvfs, set->sriov_numvfs - 1);
	for (size_t k = 0; k < set->n_addrs; k++) {
		if ((other = find_other_set(cfg, i, &set->addrs[k], &hit))) {
			sel_format(&set->addrs[k], a);
			return error_at(err, set->file, set->line,
					"%s in [%s] is also in [%s] (%s); a function may belong to one set only", a,
					set->name, other->name, where(other, w, sizeof(w)));
		}
	}
	for (size_t j = 0; !set->n_addrs && j < i; j++) {
		other = &cfg->sets[j];
		if (!other->n_addrs && ids_shared(set, other, &ids))
			return error_at(err, set->file, set->line,
					"[%s] selects %04x:%04x like [%s] (%s); a device may belong to one set only",
					set->name, ids.vendor, ids.device, other->name, where(other, w, sizeof(w)));
	}
	return 0;
}

int config_finish(struct config *cfg, struct config_error *err)
{
	int r;

	if (!cfg)
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_sets; i++)
		if ((r = check_set(cfg, i, err)) < 0)
			return r;
	return 0;
}

/* ---- files ---- */

/* the path as the user sees it: the root joined with rel */
static int display_path(const struct sysroot *r, const char *rel, char *buf, size_t size)
{
	const char *root = sysroot_path(r);

	return xsnprintf(buf, size, "%s/%s", streq(root, "/") ? "" : root, rel);
}

static int check_owner_mode(const struct stat *st, const char *path, struct config_error *err)
{
	unsigned mode = (unsigned)st->st_mode & 07777;

	if (st->st_uid != 0 && st->st_uid != geteuid())
		return error_at(err, path, 0, "is owned by uid %u, not root; run chown root: %s", (unsigned)st->st_uid,
				path);
	if (mode & S_IWOTH)
		return error_at(err, path, 0, "is world-writable (mode %04o); run chmod go-w %s", mode, path);
	if (mode & S_IWGRP)
		return error_at(err, path, 0, "is group-writable (mode %04o); run chmod go-w %s", mode, path);
	return 0;
}

/* an errno failure of a call on path: the message names it, the return keeps the errno */
static int errno_at(struct config_error *err, const char *path, int e, const char *what)
{
	(void)error_at(err, path, 0, "%s: %s", what, strerror(-e));
	return e;
}

static int read_all(int fd, const char *path, char **ret, struct config_error *err)
{
	_cleanup_free_ char *buf = malloc(CONFIG_SIZE_MAX + 1);
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	do {
		n = read(fd, buf + len, CONFIG_SIZE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno_at(err, path, -errno, "cannot read");
		len += (size_t)n;
		if (len > CONFIG_SIZE_MAX)
			return error_at(err, path, 0, "is larger than %u bytes; is it the right file?",
					CONFIG_SIZE_MAX);
	} while (n > 0);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		unsigned line = 1;
		for (const char *s = buf; *s; s++)
			line += *s == '\n';
		return error_at(err, path, line, "contains a NUL byte; is it a text file?");
	}
	*ret = buf;
	buf = NULL;
	return 0;
}

/*
 * The configuration is read without a symlink anywhere on the way
 * (SYSROOT_NO_SYMLINKS): a link could point into a directory anyone may
 * write, where the owner and mode checks of its own directories would
 * mean nothing. The message says what to do instead.
 */
static int refuse_link(const char *path, struct config_error *err)
{
	return error_at(err, path, 0,
			"is a symlink, or a directory on its way is; pcibind reads its configuration only from "
			"files in root's own directories: put the file itself there");
}

/* each directory on the way to rel: owned by root, not writable by others; 1 if one is missing */
static int check_dirs(const struct sysroot *r, const char *rel, struct config_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int e;

	for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
		_cleanup_close_ int fd = -1;

		if (xsnprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel) < 0 ||
		    display_path(r, dir, path, sizeof(path)) < 0)
			return errno_at(err, rel, -ENAMETOOLONG, "cannot make the path");
		fd = sysroot_openat_how(r, dir, O_RDONLY | O_DIRECTORY, 0, SYSROOT_NO_SYMLINKS);
		if (fd == -ENOENT)
			return 1; /* no configuration there */
		if (fd == -ELOOP)
			return refuse_link(path, err);
		if (fd < 0)
			return errno_at(err, path, fd, "cannot open");
		if (fstat(fd, &st) < 0)
			return errno_at(err, path, -errno, "cannot stat");
		if ((e = check_owner_mode(&st, path, err)) < 0)
			return e;
	}
	return 0;
}

/* one file's text given by the caller instead of what is on disk (setup checks an edit before writing it) */
struct override {
	const char *rel;
	const char *text; /* NULL: the file is absent */
};

static bool overridden(const struct override *ov, const char *rel)
{
	return ov && ov->rel && streq(ov->rel, rel);
}

static int load_file(const struct sysroot *r, const char *rel, const struct override *ov, struct config *cfg,
		     struct config_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	struct stat st;
	int e;

	if ((e = display_path(r, rel, path, sizeof(path))) < 0)
		return errno_at(err, rel, e, "cannot make the path");
	if (overridden(ov, rel))
		return ov->text ? config_parse_text(cfg, ov->text, path, err) : 0;
	if ((e = check_dirs(r, rel, err)) != 0)
		return e < 0 ? e : 0;
	/* O_NONBLOCK: a FIFO put in place of the file must not hang us; it fails the check below */
	fd = sysroot_openat_how(r, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, SYSROOT_NO_SYMLINKS);
	if (fd == -ENOENT)
		return 0; /* a missing file is no error */
	if (fd == -ELOOP)
		return refuse_link(path, err);
	if (fd < 0)
		return errno_at(err, path, fd, "cannot open");
	if (fstat(fd, &st) < 0)
		return errno_at(err, path, -errno, "cannot stat");
	if (!S_ISREG(st.st_mode))
		return error_at(err, path, 0, "is not a regular file");
	if ((e = check_owner_mode(&st, path, err)) < 0 || (e = read_all(fd, path, &text, err)) < 0)
		return e;
	return config_parse_text(cfg, text, path, err);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool dropin_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && streq(name + n - 5, ".conf");
}

struct names {
	char **v;
	size_t n;
};

static void names_clear(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int names_add(struct names *l, const char *name)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	if (!(v[l->n] = strdup(name)))
		return -ENOMEM;
	l->n++;
	return 0;
}

static int read_dropin_names(DIR *d, const char *path, struct names *l, struct config_error *err)
{
	struct dirent *de;
	struct stat st;
	int e;

	if (fstat(dirfd(d), &st) < 0)
		return errno_at(err, path, -errno, "cannot stat");
	if ((e = check_owner_mode(&st, path, err)) < 0)
		return e;
	for (errno = 0; (de = readdir(d)); errno = 0)
		if (dropin_name(de->d_name) && (e = names_add(l, de->d_name)) < 0)
			return e;
	if (errno)
		return errno_at(err, path, -errno, "cannot read");
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_names);
	return 0;
}

static bool dropin_rel(const char *rel, const char **ret_name)
{
	size_t n = strlen(CONFIG_DROPIN_DIR);

	if (strncmp(rel, CONFIG_DROPIN_DIR "/", n + 1) != 0 || strchr(rel + n + 1, '/') || !dropin_name(rel + n + 1))
		return false;
	*ret_name = rel + n + 1;
	return true;
}

/* the override's drop-in is read even before it is on disk */
static int add_override_name(const struct override *ov, struct names *l)
{
	const char *name;
	int e;

	if (!ov || !ov->rel || !ov->text || !dropin_rel(ov->rel, &name))
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i], name))
			return 0;
	if ((e = names_add(l, name)) < 0)
		return e;
	qsort(l->v, l->n, sizeof(*l->v), cmp_names);
	return 0;
}

/* the drop-in directory, without a symlink on the way; -ENOENT when there is none */
static int open_dropin_dir(const struct sysroot *r, const char *path, DIR **ret, struct config_error *err)
{
	int fd = sysroot_openat_how(r, CONFIG_DROPIN_DIR, O_RDONLY | O_DIRECTORY, 0, SYSROOT_NO_SYMLINKS), e;

	if (fd == -ENOENT)
		return fd;
	if (fd == -ELOOP)
		return refuse_link(path, err);
	if (fd < 0)
		return errno_at(err, path, fd, "cannot open the drop-in directory");
	if (!(*ret = fdopendir(fd))) {
		e = -errno;
		close(fd);
		return errno_at(err, path, e, "cannot open the drop-in directory");
	}
	return 0;
}

static int load_dropins(const struct sysroot *r, const struct override *ov, struct config *cfg,
			struct config_error *err)
{
	_cleanup_(names_clear) struct names l = { 0 };
	char path[PATH_MAX], rel[PATH_MAX];
	DIR *d = NULL;
	int e;

	if ((e = display_path(r, CONFIG_DROPIN_DIR, path, sizeof(path))) < 0)
		return errno_at(err, CONFIG_DROPIN_DIR, e, "cannot make the path");
	if ((e = check_dirs(r, CONFIG_DROPIN_DIR, err)) < 0)
		return e;
	e = e ? -ENOENT : open_dropin_dir(r, path, &d, err);
	if (e < 0 && e != -ENOENT)
		return e;
	if (e == 0) {
		e = read_dropin_names(d, path, &l, err);
		closedir(d);
	}
	if (e == 0 || e == -ENOENT)
		e = add_override_name(ov, &l);
	for (size_t i = 0; e == 0 && i < l.n; i++) {
		if ((e = xsnprintf(rel, sizeof(rel), "%s/%s", CONFIG_DROPIN_DIR, l.v[i])) == 0)
			e = load_file(r, rel, ov, cfg, err);
	}
	return e;
}

static void config_freep(struct config **cfg)
{
	config_free(*cfg);
}

static int load(const struct sysroot *r, const struct override *ov, struct config **ret, struct config_error *err)
{
	_cleanup_(config_freep) struct config *cfg = config_new();
	int e;

	if (!cfg)
		return -ENOMEM;
	if ((e = load_file(r, CONFIG_FILE, ov, cfg, err)) < 0 || (e = load_dropins(r, ov, cfg, err)) < 0 ||
	    (e = config_finish(cfg, err)) < 0)
		return e;
	*ret = cfg;
	cfg = NULL;
	return 0;
}

int config_load(const struct sysroot *r, struct config **ret, struct config_error *err)
{
	return load(r, NULL, ret, err);
}

int config_load_text(const struct sysroot *r, const char *rel, const char *text, struct config **ret,
		     struct config_error *err)
{
	const struct override ov = { rel, text };
	const char *name;

	if (!streq(rel, CONFIG_FILE) && !dropin_rel(rel, &name))
		return -EINVAL;
	return load(r, &ov, ret, err);
}

/* ---- the object ---- */

struct config *config_new(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->driver = strdup(CONFIG_DEFAULT_DRIVER);
	if (!cfg->driver) {
		free(cfg);
		return NULL;
	}
	cfg->unbind_timeout = CONFIG_DEFAULT_UNBIND_TIMEOUT;
	return cfg;
}

static void free_words(char **w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_sets; i++) {
		free(cfg->sets[i].file);
		free(cfg->sets[i].addrs);
		free(cfg->sets[i].ids);
		free(cfg->sets[i].driver);
		free_words(cfg->sets[i].stop_units, cfg->sets[i].n_stop_units);
		free(cfg->sets[i].subsys);
		free(cfg->sets[i].slot);
		free(cfg->sets[i].reset_method);
		free(cfg->sets[i].vfs);
	}
	free_words(cfg->blacklist, cfg->n_blacklist);
	free(cfg->iommu_pt_origin.file);
	free(cfg->kvm_ignore_msrs_origin.file);
	free(cfg->allow_unsafe_interrupts_origin.file);
	free(cfg->blacklist_origin.file);
	free(cfg->libvirt_all_origin.file);
	free(cfg->sets);
	free(cfg->driver);
	free(cfg->driver_origin.file);
	free(cfg->unbind_timeout_origin.file);
	free(cfg);
}

const struct devset *config_find_set(const struct config *cfg, const char *name)
{
	return name ? find_set(cfg, name) : NULL;
}

const char *devset_driver(const struct config *cfg, const struct devset *set)
{
	if (set && set->driver)
		return set->driver;
	return cfg && cfg->driver ? cfg->driver : CONFIG_DEFAULT_DRIVER;
}

bool devset_selects(const struct devset *set, const struct pciaddr *a, uint16_t vendor, uint16_t device)
{
	if (!set)
		return false;
	for (size_t i = 0; i < set->n_addrs; i++)
		if (selector_matches(&set->addrs[i], a, vendor, device))
			return true;
	if (set->n_addrs)
		return false;
	for (size_t i = 0; i < set->n_ids; i++)
		if (set->ids[i].vendor == vendor && set->ids[i].device == device)
			return true;
	return false;
}

bool devset_wants_vf(const struct devset *set, int n)
{
	if (!devset_is_sriov(set) || n < 0 || n >= set->sriov_numvfs)
		return false;
	if (!set->n_vfs)
		return true;
	for (size_t i = 0; i < set->n_vfs; i++)
		if (set->vfs[i] == n)
			return true;
	return false;
}

const struct devset *config_owner_set(const struct config *cfg, const struct pcihost *h, const struct pcifn *f)
{
	const struct pcifn *pf = f->is_vf ? pcihost_physfn(h, f) : NULL;

	for (size_t i = 0; cfg && i < cfg->n_sets; i++) {
		const struct devset *set = &cfg->sets[i];

		if (devset_is_sriov(set)) {
			if (pf && devset_selects(set, &pf->addr, pf->vendor, pf->device) &&
			    devset_wants_vf(set, f->vf_index))
				return set;
		} else if (devset_selects(set, &f->addr, f->vendor, f->device)) {
			return set;
		}
	}
	return NULL;
}
