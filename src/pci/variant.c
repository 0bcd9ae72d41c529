/* variant.c - the vfio variant driver for a function: modules.alias "vfio_pci:" lines, libvirt's rule */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "variant.h"

#define N_FIELDS     7
#define ALIAS_PREFIX "alias vfio_pci:"

/* the modalias fields, in order, and how many hex digits the kernel prints for each */
static const char *const field_names[N_FIELDS] = { "v", "d", "sv", "sd", "bc", "sc", "i" };
static const unsigned char field_digits[N_FIELDS] = { 8, 8, 8, 8, 2, 2, 2 };

struct variant_line {
	char field[N_FIELDS][9]; /* "000015B3" or "*" */
	int wildcards;
	char module[DRIVER_NAME_MAX];
	char pattern[96];
	const char *not_vfio; /* set: the module is no VFIO PCI driver, and why; the line is never chosen */
};

struct variant_table {
	struct variant_line *lines;
	size_t n;
};

void variant_table_free(struct variant_table *t)
{
	if (!t)
		return;
	free(t->lines);
	free(t);
}

size_t variant_table_size(const struct variant_table *t)
{
	return t ? t->n : 0;
}

static bool is_upper_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789ABCDEF", s[i]) || !s[i])
			return false;
	return true;
}

/* One field at *s: "*" or exactly the kernel's number of upper-case hex digits */
static int parse_field(const char **s, size_t k, struct variant_line *l)
{
	size_t n = strlen(field_names[k]);

	if (strncmp(*s, field_names[k], n) != 0)
		return -EINVAL;
	*s += n;
	if (**s == '*') {
		memcpy(l->field[k], "*", 2);
		l->wildcards++;
		*s += 1;
		return 0;
	}
	if (!is_upper_hex(*s, field_digits[k]))
		return -EINVAL;
	memcpy(l->field[k], *s, field_digits[k]);
	l->field[k][field_digits[k]] = '\0';
	*s += field_digits[k];
	return 0;
}

static bool module_name_ok(const char *s, size_t n)
{
	return n >= 1 && n < DRIVER_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") >= n;
}

/* "v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci" (after the prefix), the line's end at eol */
static int parse_line(const char *s, const char *eol, struct variant_line *ret)
{
	struct variant_line l = { .wildcards = 0 };
	const char *start = s, *mod;
	size_t n;

	for (size_t k = 0; k < N_FIELDS; k++)
		if (parse_field(&s, k, &l) < 0)
			return -EINVAL;
	if (*s != ' ' || (size_t)(s - start) + strlen("vfio_pci:") >= sizeof(l.pattern))
		return -EINVAL;
	(void)snprintf(l.pattern, sizeof(l.pattern), "vfio_pci:%.*s", (int)(s - start), start);
	mod = s + 1;
	n = (size_t)(eol - mod);
	if (!module_name_ok(mod, n))
		return -EINVAL;
	memcpy(l.module, mod, n);
	l.module[n] = '\0';
	*ret = l;
	return 0;
}

/* Mark every line of module (but vfio_pci's own) as no VFIO driver, for why */
static void mark_module(struct variant_table *t, const char *module, size_t n, const char *why)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->lines[i].module) == n && strncmp(t->lines[i].module, module, n) == 0 &&
		    !streq(t->lines[i].module, "vfio_pci") && !t->lines[i].not_vfio)
			t->lines[i].not_vfio = why;
}

/*
 * A VFIO variant driver matches only through driver_override
 * (PCI_DRIVER_OVERRIDE_DEVICE_VFIO): its aliases are all vfio_pci: ones. A
 * module that also has "alias pci:" lines binds devices by their ids: a
 * host driver (nvidia), whatever vfio_pci: line names it.
 */
static void mark_host_drivers(struct variant_table *t, const char *text)
{
	static const char prefix[] = "alias pci:";

	for (const char *s = text; t->n && *s;) {
		const char *eol = strchrnul(s, '\n'), *mod;

		if (strncmp(s, prefix, strlen(prefix)) == 0 && (mod = memchr(s, ' ', (size_t)(eol - s))) &&
		    (mod = memchr(mod + 1, ' ', (size_t)(eol - mod - 1))))
			mark_module(t, mod + 1, (size_t)(eol - mod - 1),
				    "it has pci: aliases of its own, a host driver and no VFIO variant");
		s = *eol ? eol + 1 : eol;
	}
}

/* "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko.xz" -> "mlx5_vfio_pci" (kmod's modname_normalize()) */
static void dep_name(const char *path, size_t len, char *buf, size_t size)
{
	const char *base = memrchr(path, '/', len);
	size_t n = 0;

	base = base ? base + 1 : path;
	len -= (size_t)(base - path);
	while (n < len && n + 1 < size && base[n] != '.') {
		buf[n] = base[n] == '-' ? '_' : base[n];
		n++;
	}
	buf[n] = '\0';
}

/*
 * modules.dep: a VFIO variant driver is built on vfio-pci-core and depends
 * on it. Where vfio-pci-core is a module of this kernel, a module listed
 * without that dependency is no VFIO PCI driver.
 */
void variant_table_deps(struct variant_table *t, const char *deps)
{
	bool core = false;

	for (const char *s = deps; t && *s;) {
		const char *eol = strchrnul(s, '\n'), *colon = memchr(s, ':', (size_t)(eol - s));
		char name[DRIVER_NAME_MAX + 16];

		if (colon) {
			dep_name(s, (size_t)(colon - s), name, sizeof(name));
			core |= streq(name, "vfio_pci_core");
		}
		s = *eol ? eol + 1 : eol;
	}
	for (const char *s = deps; t && core && *s;) {
		const char *eol = strchrnul(s, '\n'), *colon = memchr(s, ':', (size_t)(eol - s));
		char name[DRIVER_NAME_MAX + 16];

		if (colon) {
			_cleanup_free_ char *rest = strndup(colon, (size_t)(eol - colon));

			dep_name(s, (size_t)(colon - s), name, sizeof(name));
			if (rest && !strstr(rest, "/vfio-pci-core.ko") && !strstr(rest, "/vfio_pci_core.ko"))
				mark_module(t, name, strlen(name), "it does not depend on vfio-pci-core (modules.dep)");
		}
		s = *eol ? eol + 1 : eol;
	}
}

int variant_table_parse(const char *text, struct variant_table **ret)
{
	struct variant_table *t = calloc(1, sizeof(*t));
	size_t cap = 0;

	if (!t)
		return -ENOMEM;
	for (const char *s = text; *s;) {
		const char *eol = strchrnul(s, '\n');
		struct variant_line l;

		if ((size_t)(eol - s) > strlen(ALIAS_PREFIX) && strncmp(s, ALIAS_PREFIX, strlen(ALIAS_PREFIX)) == 0 &&
		    parse_line(s + strlen(ALIAS_PREFIX), eol, &l) == 0) {
			if (t->n == cap) {
				struct variant_line *nl = realloc(t->lines, (cap = cap ? cap * 2 : 16) * sizeof(*nl));

				if (!nl) {
					variant_table_free(t);
					return -ENOMEM;
				}
				t->lines = nl;
			}
			t->lines[t->n++] = l;
		}
		s = *eol ? eol + 1 : eol;
	}
	mark_host_drivers(t, text);
	*ret = t;
	return 0;
}

/* the function's own modalias fields, as modalias_show() prints them */
static void fn_fields(const struct pcifn *f, char field[N_FIELDS][9])
{
	(void)snprintf(field[0], 9, "%08X", f->vendor);
	(void)snprintf(field[1], 9, "%08X", f->device);
	(void)snprintf(field[2], 9, "%08X", f->subvendor);
	(void)snprintf(field[3], 9, "%08X", f->subdevice);
	(void)snprintf(field[4], 9, "%02X", (unsigned)(f->class >> 16) & 0xff);
	(void)snprintf(field[5], 9, "%02X", (unsigned)(f->class >> 8) & 0xff);
	(void)snprintf(field[6], 9, "%02X", (unsigned)f->class & 0xff);
}

static bool line_matches(const struct variant_line *l, char field[N_FIELDS][9])
{
	for (size_t k = 0; k < N_FIELDS; k++)
		if (!streq(l->field[k], "*") && !streq(l->field[k], field[k]))
			return false;
	return true;
}

void variant_match(const struct variant_table *t, const struct pcifn *f, struct variant_pick *ret)
{
	const struct variant_line *best = NULL, *skipped = NULL;
	char field[N_FIELDS][9];

	*ret = (struct variant_pick){ .wildcards = -1 };
	fn_fields(f, field);
	for (size_t i = 0; t && i < t->n; i++) {
		const struct variant_line *l = &t->lines[i];

		if (!line_matches(l, field) || (best && l->wildcards >= best->wildcards))
			continue;
		if (!l->not_vfio)
			best = l;
		else if (!skipped || l->wildcards < skipped->wildcards)
			skipped = l;
	}
	if (skipped && (!best || skipped->wildcards < best->wildcards))
		(void)snprintf(ret->why, sizeof(ret->why), "%s's alias %.48s not taken: %s", skipped->module,
			       skipped->pattern, skipped->not_vfio);
	if (!best) {
		if (!ret->why[0])
			(void)snprintf(ret->why, sizeof(ret->why),
				       "no vfio_pci alias in modules.alias matches %04x:%04x", f->vendor, f->device);
		return;
	}
	memcpy(ret->module, best->module, sizeof(ret->module));
	memcpy(ret->alias, best->pattern, sizeof(ret->alias));
	ret->wildcards = best->wildcards;
	/* vfio_pci registers "vfio-pci" on every kernel that has the module */
	if (streq(best->module, "vfio_pci"))
		memcpy(ret->driver, "vfio-pci", sizeof("vfio-pci"));
}

int variant_table_load(const struct sysroot *r, struct variant_table **ret, char *why, size_t size)
{
	_cleanup_free_ char *text = NULL;
	char release[128], rel[256];
	int err;

	err = sysroot_read_line(r, "proc/sys/kernel/osrelease", release, sizeof(release));
	if (err < 0 || !release[0] || !token_is_safe(release, sizeof(release) - 1)) {
		(void)snprintf(why, size, "the running kernel is unknown (no proc/sys/kernel/osrelease)");
		return err < 0 ? err : -EINVAL;
	}
	if ((err = sysroot_pathf(rel, sizeof(rel), "lib/modules/%s/modules.alias", release)) < 0 ||
	    (err = sysroot_read_how(r, rel, SYSROOT_IN_ROOT, MODULES_ALIAS_MAX, &text, NULL)) < 0) {
		(void)snprintf(why, size, "cannot read /%s: %s", rel,
			       err == -EINVAL  ? "not a regular file"
			       : err == -EFBIG ? "larger than 8 MiB"
					       : strerror(-err));
		return err;
	}
	if ((err = variant_table_parse(text, ret)) < 0)
		return err;
	free(text);
	text = NULL;
	/* without modules.dep, the pci: aliases alone tell a host driver */
	if (sysroot_pathf(rel, sizeof(rel), "lib/modules/%s/modules.dep", release) == 0 &&
	    sysroot_read_how(r, rel, SYSROOT_IN_ROOT, MODULES_ALIAS_MAX, &text, NULL) == 0)
		variant_table_deps(*ret, text);
	return 0;
}

int variant_module_driver(const struct sysroot *r, const char *module, char *buf, size_t size)
{
	char rel[256];
	struct dirent *de;
	DIR *d;
	int err = -ENOENT;

	if (!module_name_ok(module, strlen(module)) ||
	    sysroot_pathf(rel, sizeof(rel), "sys/module/%s/drivers", module) < 0 || sysroot_opendir(r, rel, &d) < 0)
		return -ENOENT;
	/* the name goes into driver_override and paths: only what a driver name can be */
	while (err == -ENOENT && (de = readdir(d)))
		if (strncmp(de->d_name, "pci:", 4) == 0 && module_name_ok(de->d_name + 4, strlen(de->d_name + 4)) &&
		    xsnprintf(buf, size, "%s", de->d_name + 4) == 0)
			err = 0;
	closedir(d);
	return err;
}

int variant_annotate(const struct sysroot *r, struct pcihost *h, const bool *want)
{
	struct variant_table *t = NULL;
	char why[sizeof(((struct variant_pick *)0)->why)] = "";
	int err = variant_table_load(r, &t, why, sizeof(why));

	if (err == -ENOMEM)
		return err;
	for (size_t i = 0; i < h->n; i++) {
		struct pcifn *f = &h->fns[i];

		if (want && !want[i])
			continue;
		if (!f->variant && !(f->variant = calloc(1, sizeof(*f->variant)))) {
			variant_table_free(t);
			return -ENOMEM;
		}
		if (!t) {
			*f->variant = (struct variant_pick){ .wildcards = -1 };
			memcpy(f->variant->why, why, sizeof(why));
			continue;
		}
		variant_match(t, f, f->variant);
		if (f->variant->module[0] && !f->variant->driver[0])
			(void)variant_module_driver(r, f->variant->module, f->variant->driver,
						    sizeof(f->variant->driver));
	}
	variant_table_free(t);
	return 0;
}

const char *variant_target(const struct pcifn *f)
{
	if (!f->variant || !f->variant->module[0])
		return "vfio-pci";
	return f->variant->driver[0] ? f->variant->driver : f->variant->module;
}
