/* hook-pve.c - Proxmox's files beside a VM config, read as pve-common and pve-guest-common read them */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hook-pve.h"
#include "util.h"

int pve_errf(char *err, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return code;
}

void pve_alts_free(struct pve_alt *alts, size_t n)
{
	for (size_t i = 0; alts && i < n; i++)
		free(alts[i].path);
	free(alts);
}

bool pve_configid_valid(const char *s)
{
	if (!isalpha((unsigned char)s[0]) || !s[1])
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

int pve_parse_boolean(const char *s)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* ---- PVE::SectionConfig parse_config(): sections end at an empty line ---- */

typedef int (*sc_prop_fn)(void *data, const char *id, const char *key, const char *value);
/* a header line: true with *ret_id (NULL: the section is skipped), false: not a header */
typedef bool (*sc_header_fn)(void *data, char *line, char **ret_id);

/* "^\s+(\S+)(\s+(.*\S))?\s*$": a property line; value "" when there is none */
static bool prop_line(char *line, char **ret_key, char **ret_value)
{
	char *k = line + strspn(line, " \t"), *v;

	if (k == line || !*k)
		return false;
	v = k + strcspn(k, " \t");
	if (*v) {
		*v++ = '\0';
		v += strspn(v, " \t");
		strip_trailing(v);
	}
	*ret_key = k;
	*ret_value = v;
	return true;
}

/* every property line of every section, with its section's id (NULL: a section whose header was refused) */
static int sc_walk(const char *text, sc_header_fn header, sc_prop_fn fn, void *data)
{
	_cleanup_free_ char *copy = strdup(text);
	char *id = NULL, *next;
	bool in = false;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *line = copy; line && r == 0; line = next) {
		char *key, *value;

		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (line[strspn(line, " \t")] == '#')
			continue; /* comments never end a section */
		if (!*line) {
			in = false;
			continue;
		}
		if (!in) {
			in = header(data, line, &id); /* a line that is no header is ignored */
			continue;
		}
		if (prop_line(line, &key, &value))
			r = fn(data, id, key, value);
	}
	return r;
}

/* PVE::Mapping::PCI parse_section_header(): "^(\S+)\s*$", its id a pve-configid or the section is skipped */
static bool mapping_header(char *line, char **ret_id)
{
	char *end = line + strcspn(line, " \t");

	if (end == line || end[strspn(end, " \t")])
		return false;
	*end = '\0';
	*ret_id = pve_configid_valid(line) ? line : NULL;
	return true;
}

/* ---- property strings (JSONSchema parse_property_string) of a mapping's map lines ---- */

struct map_entry {
	char node[65], id[10], subsys[10], path[1024];
	long iommugroup; /* -1: not given */
};

static bool hexid_valid(const char *s) /* ^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$ */
{
	if (strlen(s) != 9 || s[4] != ':')
		return false;
	for (size_t i = 0; i < 9; i++)
		if (i != 4 && !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* pve-node: a host name without dots, 1 to 64 characters */
static bool node_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64 || s[0] == '-' || s[n - 1] == '-')
		return false;
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")] == '\0';
}

/* Mapping/PCI.pm $PCI_RE with its domain, ';'-separated: "[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(\.[a-f0-9])?"
 */
static bool map_path_valid(const char *s)
{
	for (;;) {
		size_t n = strcspn(s, ";"), d = strspn(s, "0123456789abcdef");
		const char *p = s + d + 1;
		size_t rest = n - d - 1;

		if (d < 4 || d >= n || s[d] != ':' || (rest != 5 && rest != 7))
			return false;
		if (strspn(p, "0123456789abcdef") != 2 || p[2] != ':' || strspn(p + 3, "0123456789abcdef") < 2)
			return false;
		if (rest == 7 && (p[5] != '.' || !strchr("0123456789abcdef", p[6]) || !p[6]))
			return false;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

static int map_key(struct map_entry *e, const char *k, const char *v)
{
	unsigned long g;

	if (streq(k, "node") && node_valid(v))
		return snprintf(e->node, sizeof(e->node), "%s", v), 0;
	if (streq(k, "id") && hexid_valid(v))
		return snprintf(e->id, sizeof(e->id), "%s", v), 0;
	if (streq(k, "subsystem-id") && hexid_valid(v))
		return snprintf(e->subsys, sizeof(e->subsys), "%s", v), 0;
	if (streq(k, "path") && strlen(v) < sizeof(e->path) && map_path_valid(v))
		return snprintf(e->path, sizeof(e->path), "%s", v), 0;
	if (streq(k, "iommugroup") && parse_uint(v, 10, 1u << 30, &g) == 0 && isdigit((unsigned char)*v))
		return e->iommugroup = (long)g, 0;
	if (streq(k, "description"))
		return 0;
	return -EINVAL;
}

/* One map line; -EINVAL when the format refuses it (get_node_mapping() warns and skips it) */
static int map_entry_parse(const char *value, struct map_entry *ret)
{
	_cleanup_free_ char *copy = strdup(value);
	struct map_entry e = { .iommugroup = -1 };
	char *save = NULL, seen[8][16];
	size_t n_seen = 0;

	if (!copy)
		return -ENOMEM;
	for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(part, '=');

		if (!part[strspn(part, " \t")])
			continue;
		if (!eq || eq == part || !eq[1]) /* no default key in $map_fmt */
			return -EINVAL;
		*eq = '\0';
		for (size_t i = 0; i < n_seen; i++)
			if (streq(seen[i], part))
				return -EINVAL;
		if (n_seen < ARRAY_SIZE(seen))
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", part);
		if (map_key(&e, part, eq + 1) < 0)
			return -EINVAL;
	}
	if (!e.node[0] || !e.id[0] || !e.path[0]) /* required */
		return -EINVAL;
	*ret = e;
	return 0;
}

/* ---- PVE::Mapping::PCI: find_on_current_node() and assert_valid() ---- */

struct mapping_walk {
	const char *name, *node;
	struct map_entry *ents;
	size_t n;
	bool found, mdev, mdev_set;
	int r;
};

static int mapping_prop(void *data, const char *id, const char *key, const char *value)
{
	struct mapping_walk *w = data;
	struct map_entry e, *ne;

	if (!id || !streq(id, w->name))
		return 0;
	if (streq(key, "mdev") && !w->mdev_set) { /* a second one is a "duplicate attribute": the first stays */
		w->mdev_set = true;
		w->mdev = pve_parse_boolean(value) == 1;
	}
	if (!streq(key, "map") || map_entry_parse(value, &e) < 0 || !streq(e.node, w->node))
		return 0;
	if (!(ne = realloc(w->ents, (w->n + 1) * sizeof(*ne))))
		return -ENOMEM;
	w->ents = ne;
	w->ents[w->n++] = e;
	return 0;
}

/* A section's header line: the same id later in the file replaces the earlier one */
static bool mapping_header_cb(void *data, char *line, char **ret_id)
{
	struct mapping_walk *w = data;

	if (!mapping_header(line, ret_id))
		return false;
	if (*ret_id && streq(*ret_id, w->name)) {
		w->n = 0;
		w->found = true;
		w->mdev = w->mdev_set = false;
	}
	return true;
}

/* "0x10de" and "10de" alike: assert_valid() strips every "0x" before comparing */
static void strip_0x(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (s[0] == '0' && s[1] == 'x') {
			s++;
			continue;
		}
		buf[n++] = *s;
	}
	buf[n] = '\0';
}

static bool mdev_capable(const struct pve_env *env, const struct pcifn *f)
{
	char p[128];

	if (!env->root)
		return false;
	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/mdev_supported_types", f->name);
	if (sysroot_exists(env->root, p) == 0)
		return true;
	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/nvidia", f->name);
	return sysroot_exists(env->root, p) == 0;
}

/* One property of assert_valid(): NULL expected or configured means "not defined" */
static int check_prop(const char *name, const char *path, const char *prop, const char *expected,
		      const char *configured, char *err, size_t size)
{
	char e[32], c[32];

	if (!expected && !configured)
		return 0;
	if (!configured)
		return pve_errf(err, size, -ENODEV, "missing expected property '%s' for device '%s'", prop, path);
	if (!expected)
		return pve_errf(err, size, -ENODEV, "unexpected property '%s' configured for device '%s'", prop, path);
	strip_0x(expected, e, sizeof(e));
	strip_0x(configured, c, sizeof(c));
	if (!streq(e, c))
		return pve_errf(err, size, -ENODEV, "'%s' does not match for '%s' (%s != %s)", prop, name, e, c);
	return 0;
}

/* One path of an entry (a slot is checked on its function 0, which must exist) */
static int check_path(const struct pve_env *env, const char *name, const struct map_entry *e, const char *path,
		      size_t idx, bool mdev, char *err, size_t size)
{
	char full[32], id[16], sub[16], grp[16], gcfg[16];
	const struct pcifn *f;
	struct pciaddr a;
	int r;

	snprintf(full, sizeof(full), "%s%s", path, strchr(path, '.') ? "" : ".0");
	if (pciaddr_parse(full, &a) < 0 || !(f = pcihost_find(env->h, &a)))
		return pve_errf(err, size, -ENODEV, "pci device '%s' not found", full);
	snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
	snprintf(sub, sizeof(sub), "%04x:%04x", f->subvendor, f->subdevice);
	snprintf(grp, sizeof(grp), "%d", f->group);
	snprintf(gcfg, sizeof(gcfg), "%ld", e->iommugroup);
	if ((r = check_prop(name, full, "id", id, e->id, err, size)) < 0)
		return r;
	if (idx == 0 && (r = check_prop(name, full, "iommugroup", f->group >= 0 ? grp : NULL,
					e->iommugroup >= 0 ? gcfg : NULL, err, size)) < 0)
		return r;
	if ((r = check_prop(name, full, "mdev", mdev_capable(env, f) ? "1" : "0", mdev ? "1" : "0", err, size)) < 0)
		return r;
	return check_prop(name, full, "subsystem-id", sub, e->subsys[0] ? e->subsys : NULL, err, size);
}

static int assert_valid(const struct pve_env *env, const char *name, const struct map_entry *e, bool mdev, char *err,
			size_t size)
{
	_cleanup_free_ char *copy = strdup(e->path);
	char *save = NULL;
	size_t idx = 0;
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *p = strtok_r(copy, ";", &save); p; p = strtok_r(NULL, ";", &save), idx++)
		if ((r = check_path(env, name, e, p, idx, mdev, err, size)) < 0)
			return r;
	return 0;
}

/* a function with the entry's id (and subsystem-id) at first's function number, elsewhere than the entry's paths */
static bool map_candidate(const struct map_entry *e, const struct pciaddr *first, const struct pcifn *f)
{
	char id[16], sub[16], eid[16], esub[16], a[PCIADDR_STRLEN];

	snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
	snprintf(sub, sizeof(sub), "%04x:%04x", f->subvendor, f->subdevice);
	strip_0x(e->id, eid, sizeof(eid));
	strip_0x(e->subsys, esub, sizeof(esub));
	snprintf(a, sizeof(a), "%04x:%02x:%02x", f->addr.domain, f->addr.bus, f->addr.dev);
	return f->addr.fn == first->fn && strcasecmp(id, eid) == 0 && (!esub[0] || strcasecmp(sub, esub) == 0) &&
	       !strstr(e->path, a);
}

/*
 * Where an entry's device went (issue 24): the one function on the host with
 * its id and subsystem-id, and the pvesh command that points the entry there;
 * several are named and never guessed between. "" when the entry has one path
 * of several or nothing matches.
 */
static void map_whereabouts(const struct pve_env *env, const char *name, const struct map_entry *e, char *buf,
			    size_t size)
{
	char full[32], found[2][PCIADDR_STRLEN], path[32];
	const struct pcifn *one = NULL;
	struct pciaddr first;
	size_t n = 0;

	buf[0] = '\0';
	snprintf(full, sizeof(full), "%.20s%s", e->path, strchr(e->path, '.') ? "" : ".0");
	if (!env->h || strchr(e->path, ';') || pciaddr_parse(full, &first) < 0)
		return;
	for (size_t i = 0; i < env->h->n; i++) {
		if (!map_candidate(e, &first, &env->h->fns[i]))
			continue;
		if (n < 2)
			snprintf(found[n], sizeof(found[n]), "%s", env->h->fns[i].name);
		one = &env->h->fns[i];
		n++;
	}
	if (n > 1) {
		snprintf(buf, size,
			 "; %s and %s%s have its id%s and nothing in the mapping tells them apart: not guessing",
			 found[0], found[1], n > 2 ? " (and more)" : "", e->subsys[0] ? " and subsystem-id" : "");
		return;
	}
	if (!one)
		return;
	if (strchr(e->path, '.'))
		snprintf(path, sizeof(path), "%s", one->name);
	else
		snprintf(path, sizeof(path), "%04x:%02x:%02x", one->addr.domain, one->addr.bus, one->addr.dev);
	snprintf(buf, size,
		 "; its device is at %s now: `pvesh set /cluster/mapping/pci/%s --map node=%s,path=%s,id=%s%s%s` "
		 "(with a --map for each of the mapping's other entries) points it there",
		 path, name, e->node, path, e->id, e->subsys[0] ? ",subsystem-id=" : "", e->subsys);
}

static int alts_from(const struct mapping_walk *w, struct pve_alt **ret, size_t *ret_n)
{
	struct pve_alt *alts = calloc(w->n, sizeof(*alts));

	if (!alts)
		return -ENOMEM;
	for (size_t i = 0; i < w->n; i++)
		if (!(alts[i].path = strdup(w->ents[i].path))) {
			pve_alts_free(alts, i);
			return -ENOMEM;
		}
	*ret = alts;
	*ret_n = w->n;
	return 0;
}

int pve_mapping_alts(const struct pve_env *env, const char *key, const char *name, struct pve_alt **ret, size_t *ret_n,
		     char *err, size_t size)
{
	struct mapping_walk w = { .name = name, .node = env->node };
	char why[384], where[512];
	int r;

	if (!env->map_text)
		return pve_errf(err, size, -EINVAL, "%s: mapping '%s', but there is no /%s", key, name,
				PVE_PCI_MAPPING);
	r = sc_walk(env->map_text, mapping_header_cb, mapping_prop, &w);
	if (r < 0)
		goto out;
	if (!w.n) { /* qemu-server: "PCI device mapping not found for '$mapping'" */
		r = w.found ? pve_errf(err, size, -ENODEV, "%s: mapping '%s' has no valid entry for this node ('%s')",
				       key, name, env->node)
			    : pve_errf(err, size, -EINVAL, "%s: there is no mapping '%s' in /%s", key, name,
				       PVE_PCI_MAPPING);
		goto out;
	}
	for (size_t i = 0; i < w.n; i++)
		if ((r = assert_valid(env, name, &w.ents[i], w.mdev, why, sizeof(why))) < 0) {
			map_whereabouts(env, name, &w.ents[i], where, sizeof(where));
			pve_errf(err, size, r, "%s: mapping '%s' is invalid (hardware probably changed): %s%s", key,
				 name, why, where);
			goto out;
		}
	r = alts_from(&w, ret, ret_n);
out:
	free(w.ents);
	return r;
}

/* ---- qemu-server PCI.pm: /run/qemu-server/pci-id-reservations ---- */

void proxmox_reservations_free(struct pve_reservations *res)
{
	if (!res)
		return;
	free(res->r);
	*res = (struct pve_reservations){ 0 };
}

/* one whitespace character, as Perl's \s */
static bool one_space(const char **p)
{
	if (!isspace((unsigned char)**p))
		return false;
	(*p)++;
	return true;
}

/* the digits at *p, at least one, as a number */
static bool digits(const char **p, unsigned long long *ret)
{
	size_t n = strspn(*p, "0123456789");
	char buf[24];

	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*ret = strtoull(buf, NULL, 10);
	*p += n;
	return true;
}

/* "^($PCIRE)\s(\d+)\s(time|pid)\:(\d+)$"; only a full function id can name a device qemu-server chose */
static int reservation_line(const char *line, struct pve_reservation *ret)
{
	char id[PCIADDR_STRLEN], canon[PCIADDR_STRLEN];
	size_t n = strcspn(line, " \t\f\v\r");
	unsigned long long vmid, v;
	const char *p = line + n;
	struct pciaddr a;
	bool by_pid;

	if (n >= sizeof(id))
		return -EINVAL;
	memcpy(id, line, n);
	id[n] = '\0';
	if (pciaddr_parse(id, &a) < 0 || (pciaddr_format(&a, canon), !streq(canon, id)))
		return -EINVAL;
	if (!one_space(&p) || !digits(&p, &vmid) || !one_space(&p))
		return -EINVAL;
	by_pid = strncmp(p, "pid:", 4) == 0;
	if (!by_pid && strncmp(p, "time:", 5) != 0)
		return -EINVAL;
	p += by_pid ? 4 : 5;
	if (!digits(&p, &v) || *p || vmid > 0xffffffffULL)
		return -EINVAL;
	*ret = (struct pve_reservation){ .addr = a, .vmid = (unsigned long)vmid, .by_pid = by_pid, .value = v };
	return 0;
}

static int reservation_put(struct pve_reservations *res, const struct pve_reservation *r)
{
	struct pve_reservation *n;

	for (size_t i = 0; i < res->n; i++)
		if (pciaddr_cmp(&res->r[i].addr, &r->addr) == 0) {
			res->r[i] = *r; /* a hash by id in qemu-server: the last line wins */
			return 0;
		}
	if (!(n = realloc(res->r, (res->n + 1) * sizeof(*n))))
		return -ENOMEM;
	res->r = n;
	res->r[res->n++] = *r;
	return 0;
}

int proxmox_reservations_parse(const char *text, struct pve_reservations *ret)
{
	_cleanup_free_ char *copy = strdup(text ? text : "");
	struct pve_reservations res = { 0 };
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct pve_reservation r;

		if (reservation_line(line, &r) == 0 && reservation_put(&res, &r) < 0) {
			proxmox_reservations_free(&res);
			return -ENOMEM;
		}
	}
	*ret = res;
	return 0;
}

/* Helpers.pm parse_cmdline(): a kvm or qemu-* program whose -pidfile is this VM's */
static bool qemu_cmdline_is(const char *cmd, size_t len, const char *pidfile)
{
	const char *end = cmd + len, *argv0 = cmd, *base = strrchr(argv0, '/');
	size_t n = strlen(argv0);
	bool want = false;

	base = base ? base + 1 : argv0;
	if (!(n >= 3 && streq(argv0 + n - 3, "kvm")) && !(strncmp(base, "qemu-", 5) == 0 && base[5]))
		return false;
	for (const char *p = cmd; p < end; p += strlen(p) + 1) {
		if (want && *p != '-')
			return streq(p, pidfile);
		want = *p && (streq(p, "-pidfile") || streq(p, "--pidfile"));
	}
	return false;
}

/* ProcFSTools check_process_running(): /proc/PID/stat says it is not a zombie */
static bool process_running(const struct sysroot *r, unsigned long long pid)
{
	_cleanup_free_ char *stat = NULL;
	char p[64];
	const char *close;

	snprintf(p, sizeof(p), "proc/%llu/stat", pid);
	if (sysroot_read(r, p, &stat, NULL) < 0 || !(close = strrchr(stat, ')')) || close[1] != ' ')
		return false;
	return close[2] && close[2] != 'Z';
}

/* Helpers.pm vm_running_locally(): the pid in the VM's pidfile, if that process is its QEMU */
static bool vm_running_with(const struct sysroot *r, unsigned long vmid, unsigned long long pid)
{
	_cleanup_free_ char *cmd = NULL;
	char p[64], line[32], pidfile[64];
	unsigned long v;
	size_t len = 0;

	snprintf(p, sizeof(p), PVE_PIDFILE_FMT, vmid);
	if (sysroot_read_line(r, p, line, sizeof(line)) < 0 || parse_uint(line, 10, 1UL << 30, &v) < 0 ||
	    !isdigit((unsigned char)line[0]) || v != pid)
		return false;
	snprintf(p, sizeof(p), "proc/%lu/cmdline", v);
	snprintf(pidfile, sizeof(pidfile), PVE_PIDFILE_ARG_FMT, vmid);
	if (sysroot_read(r, p, &cmd, &len) < 0 || !len)
		return false;
	return qemu_cmdline_is(cmd, len, pidfile) && process_running(r, v);
}

/* "/var/run/qemu-server/VMID.pid" (Helpers.pm vm_pidfile_name()): the VMID, or 0 */
static unsigned long pidfile_vmid(const char *arg)
{
	const char *dir = "/var/run/qemu-server/";
	char id[16];
	size_t n;
	unsigned long v;

	if (strncmp(arg, dir, strlen(dir)) != 0)
		return 0;
	arg += strlen(dir);
	n = strspn(arg, "0123456789");
	if (n == 0 || n >= sizeof(id) || !streq(arg + n, ".pid"))
		return 0;
	memcpy(id, arg, n);
	id[n] = '\0';
	return proxmox_vmid_valid(id) && parse_uint(id, 10, 999999999UL, &v) == 0 ? v : 0;
}

unsigned long proxmox_qemu_vmid(const struct sysroot *r, unsigned long pid)
{
	_cleanup_free_ char *cmd = NULL;
	char p[64];
	size_t len = 0;
	unsigned long vmid = 0;
	bool want = false;

	snprintf(p, sizeof(p), "proc/%lu/cmdline", pid);
	if (sysroot_read(r, p, &cmd, &len) < 0 || !len)
		return 0;
	for (const char *a = cmd; a < cmd + len && !vmid; a += strlen(a) + 1) {
		if (want && *a != '-')
			vmid = pidfile_vmid(a);
		want = streq(a, "-pidfile") || streq(a, "--pidfile");
	}
	if (!vmid)
		return 0;
	snprintf(p, sizeof(p), PVE_PIDFILE_ARG_FMT, vmid);
	return qemu_cmdline_is(cmd, len, p) ? vmid : 0;
}

void proxmox_reservations_check(const struct sysroot *r, struct pve_reservations *res)
{
	for (size_t i = 0; i < res->n; i++)
		res->r[i].live = res->r[i].by_pid && vm_running_with(r, res->r[i].vmid, res->r[i].value);
}

/* ---- PVE::Storage: the file a hookscript volume ID names ---- */

struct storage_walk {
	const char *want;
	char path[512], snippets[256];
};

/* PVE::SectionConfig's default header "TYPE: ID"; a storage with a path holds files (dir, nfs, cifs, ...) */
static bool storage_header(void *data, char *line, char **ret_id)
{
	char *colon = strchr(line, ':'), *id, *end;

	if (!colon || colon == line || strcspn(line, " \t") < (size_t)(colon - line))
		return false;
	id = colon + 1 + strspn(colon + 1, " \t");
	end = id + strcspn(id, " \t");
	if (end == id || end[strspn(end, " \t")])
		return false;
	*end = '\0';
	*ret_id = id;
	return true;
}

static int storage_prop(void *data, const char *id, const char *key, const char *value)
{
	struct storage_walk *w = data;
	const char *p;

	if (!id || !streq(id, w->want))
		return 0;
	if (streq(key, "path"))
		snprintf(w->path, sizeof(w->path), "%s", value);
	else if (streq(key, "content-dirs") && (p = strstr(value, "snippets=")))
		snprintf(w->snippets, sizeof(w->snippets), "%.*s", (int)strcspn(p + 9, ","), p + 9);
	return 0;
}

int proxmox_hookscript_path(const char *volid, const char *storage_cfg, char *buf, size_t size)
{
	struct storage_walk w = { 0 };
	char store[128];
	const char *colon = strchr(volid, ':'), *name;

	/* parse_volume_id(), and the snippets volume name "snippets/NAME" of a directory storage */
	if (!colon || colon == volid || (size_t)(colon - volid) >= sizeof(store) ||
	    strncmp(colon + 1, "snippets/", 9) != 0)
		return -EINVAL;
	name = colon + 10;
	if (!*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
		return -EINVAL;
	snprintf(store, sizeof(store), "%.*s", (int)(colon - volid), volid);
	w.want = store;
	if (storage_cfg && sc_walk(storage_cfg, storage_header, storage_prop, &w) < 0)
		return -ENOMEM;
	/* Plugin.pm parse_config(): 'local' is always the directory storage /var/lib/vz */
	if (streq(store, "local") && !streq(w.path, "/var/lib/vz")) {
		snprintf(w.path, sizeof(w.path), "/var/lib/vz");
		w.snippets[0] = '\0';
	}
	if (!w.path[0])
		return -ENOENT;
	return xsnprintf(buf, size, "%s/%s/%s", w.path + strspn(w.path, "/"), w.snippets[0] ? w.snippets : "snippets",
			 name);
}
