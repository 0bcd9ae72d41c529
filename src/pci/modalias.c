/* modalias.c - modules.alias read below a root and matched against a function's modalias, as kmod does */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modalias.h"
#include "util.h"

#define VENDOR_BUCKETS 256

/* one "alias PATTERN MODULE" line; both point into the file's text */
struct alias {
	const char *pattern;
	const char *module;
	struct alias *next;
	size_t order; /* line order in its file */
};

/*
 * Most PCI patterns name their vendor ("pci:v000010DEd*..."): those are
 * bucketed by it, so a lookup tries a few dozen patterns, not thousands.
 */
struct table {
	char *text;
	struct alias *entries;
	size_t n;
	struct alias *by_vendor[VENDOR_BUCKETS];
	struct alias *any_vendor;
};

struct modaliases {
	struct table modules, builtin;
};

/* "pci:v000010DE..." -> 0x10de; -1 when the vendor is a wildcard or malformed */
static long pattern_vendor(const char *p)
{
	unsigned long v = 0;

	if (strncmp(p, "pci:v", 5) != 0)
		return -1;
	for (int i = 5; i < 13; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
					       : -1;

		if (d < 0)
			return -1;
		v = v * 16 + (unsigned long)d;
	}
	return v <= 0xffff ? (long)v : -1;
}

static int add_entry(struct table *t, size_t *cap, const char *pat, const char *mod)
{
	if (t->n == *cap) {
		struct alias *n = realloc(t->entries, (*cap = *cap ? *cap * 2 : 1024) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->entries = n;
	}
	t->entries[t->n] = (struct alias){ pat, mod, NULL, t->n };
	t->n++;
	return 0;
}

/* modules.alias, split in place: "alias pci:PATTERN MODULE" lines; others are skipped */
static int parse_alias(struct table *t, size_t len)
{
	size_t cap = 0;
	char *save = NULL;
	int err;

	if (strlen(t->text) != len)
		return -EINVAL; /* a NUL byte: not the text file depmod writes */
	for (char *l = strtok_r(t->text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *pat, *mod, *end;

		if (strncmp(l, "alias pci:", 10) != 0)
			continue;
		pat = l + 6;
		end = pat + strcspn(pat, " \t");
		if (!*end)
			continue;
		*end++ = '\0';
		mod = end + strspn(end, " \t");
		mod[strcspn(mod, " \t\r")] = '\0';
		if (*mod && (err = add_entry(t, &cap, pat, mod)) < 0)
			return err;
	}
	return 0;
}

/*
 * modules.builtin.modinfo: the kernel's NUL-separated "module.key=value"
 * strings of the built-in drivers, where depmod finds their aliases (it
 * writes them only into the binary modules.builtin.alias.bin)
 */
static int parse_builtin(struct table *t, size_t len)
{
	size_t cap = 0;
	int err;

	for (char *p = t->text, *end = t->text + len; p < end; p += strlen(p) + 1) {
		char *dot = strchr(p, '.');

		if (!dot || dot == p || strncmp(dot, ".alias=pci:", 11) != 0)
			continue; /* not an alias, or no module name */
		*dot = '\0';
		if ((err = add_entry(t, &cap, dot + 7, p)) < 0)
			return err;
	}
	return 0;
}

static void link_buckets(struct table *t)
{
	/* link in reverse so each list is in file order */
	for (size_t i = t->n; i-- > 0;) {
		struct alias *a = &t->entries[i];
		long v = pattern_vendor(a->pattern);
		struct alias **head = v < 0 ? &t->any_vendor : &t->by_vendor[v % VENDOR_BUCKETS];

		a->next = *head;
		*head = a;
	}
}

static int table_load(const struct sysroot *r, const char *release, const char *file, struct table *t)
{
	char rel[512];
	size_t len = 0;
	int err;

	if ((err = xsnprintf(rel, sizeof(rel), "lib/modules/%s/%s", release, file)) < 0)
		return err;
	err = sysroot_read(r, rel, &t->text, &len);
	if (err < 0)
		return err;
	err = streq(file, "modules.alias") ? parse_alias(t, len) : parse_builtin(t, len);
	if (err == 0)
		link_buckets(t);
	return err;
}

static void table_clear(struct table *t)
{
	free(t->text);
	free(t->entries);
}

void modaliases_free(struct modaliases *m)
{
	if (!m)
		return;
	table_clear(&m->modules);
	table_clear(&m->builtin);
	free(m);
}

int modaliases_load_release(const struct sysroot *r, const char *release, struct modaliases **ret)
{
	struct modaliases *m;
	int e1, e2;

	if (!release[0] || strchr(release, '/') || streq(release, "..") || streq(release, "."))
		return -ENOENT;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	e1 = table_load(r, release, "modules.alias", &m->modules);
	e2 = table_load(r, release, "modules.builtin.modinfo", &m->builtin);
	if ((e1 < 0 && e1 != -ENOENT) || (e2 < 0 && e2 != -ENOENT) || (e1 == -ENOENT && e2 == -ENOENT)) {
		modaliases_free(m);
		return e1 != -ENOENT ? e1 : e2;
	}
	*ret = m;
	return 0;
}

int modaliases_load(const struct sysroot *r, struct modaliases **ret)
{
	char release[128];
	int err = sysroot_read_line(r, "proc/sys/kernel/osrelease", release, sizeof(release));

	if (err < 0)
		return err == -ENAMETOOLONG ? -ENOENT : err;
	return modaliases_load_release(r, release, ret);
}

void modalias_of(const struct pcifn *f, char *buf, size_t size)
{
	(void)snprintf(buf, size, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", f->vendor, f->device, f->subvendor,
		       f->subdevice, (unsigned)(f->class >> 16) & 0xff, (unsigned)(f->class >> 8) & 0xff,
		       (unsigned)f->class & 0xff);
}

static long alias_vendor(const char *modalias)
{
	return pattern_vendor(modalias);
}

/* matches of one table, merged from the vendor's bucket and the wildcard list in file order */
static size_t table_match(const struct table *t, const char *modalias, const char **ret, size_t max)
{
	long v = alias_vendor(modalias);
	const struct alias *a = v >= 0 ? t->by_vendor[v % VENDOR_BUCKETS] : NULL, *b = t->any_vendor;
	size_t n = 0;

	while (a || b) {
		const struct alias *e = !b || (a && a->order < b->order) ? a : b;

		if (e == a)
			a = a->next;
		else
			b = b->next;
		if (fnmatch(e->pattern, modalias, 0) != 0)
			continue;
		/* one entry per module: kmod lists a module once for each alias, lspci drops the repeats */
		if (n && streq(ret[n < max ? n - 1 : max - 1], e->module))
			continue;
		if (n < max)
			ret[n] = e->module;
		n++;
	}
	return n;
}

size_t modaliases_match(const struct modaliases *m, const char *modalias, const char **ret, size_t max)
{
	size_t n;

	if (!m || !max)
		return 0;
	n = table_match(&m->modules, modalias, ret, max);
	return n ? n : table_match(&m->builtin, modalias, ret, max);
}

size_t modaliases_match_modules(const struct modaliases *m, const char *modalias, const char **ret, size_t max)
{
	return m && max ? table_match(&m->modules, modalias, ret, max) : 0;
}

static bool module_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

bool modaliases_has_module(const struct modaliases *m, const char *module)
{
	for (size_t i = 0; m && i < m->modules.n; i++)
		if (module_name_eq(m->modules.entries[i].module, module))
			return true;
	return false;
}
