/* hook-proxmox.c - a Proxmox VM config's hostpciN entries (and PCI mappings) as PCI functions */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook-proxmox.h"
#include "util.h"

#define MAPPING_NAME_MAX 128

void hook_devs_free(struct hook_devs *d)
{
	if (!d)
		return;
	free(d->addrs);
	free(d->origin);
	*d = (struct hook_devs){ 0 };
}

int hook_devs_add(struct hook_devs *d, const struct pciaddr *a, const char *origin)
{
	struct pciaddr *na;
	char(*no)[32];

	for (size_t i = 0; i < d->n; i++)
		if (pciaddr_cmp(&d->addrs[i], a) == 0)
			return 0;
	na = realloc(d->addrs, (d->n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	d->addrs = na;
	no = realloc(d->origin, (d->n + 1) * sizeof(*no));
	if (!no)
		return -ENOMEM;
	d->origin = no;
	d->addrs[d->n] = *a;
	snprintf(d->origin[d->n], sizeof(d->origin[d->n]), "%s", origin);
	d->n++;
	return 0;
}

bool proxmox_vmid_valid(const char *s)
{
	size_t n = 0;

	if (!s || s[0] < '1' || s[0] > '9')
		return false;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9' || n >= 9)
			return false;
	return n >= 3;
}

static int errf(char *err, size_t size, int code, const char *fmt, ...) _printf_(4, 5);

static int errf(char *err, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return code;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return strip_trailing(s);
}

/* A function or a slot (every function of it that h has) into d */
static int add_id(const char *id, const struct pcihost *h, const char *origin, struct hook_devs *d, char *err,
		  size_t size)
{
	struct selector sel;
	size_t found = 0;
	int r;

	if (selector_parse(id, &sel) < 0 || (sel.kind != SEL_FUNCTION && sel.kind != SEL_SLOT))
		return errf(err, size, -EINVAL, "%s: '%.64s' is not a PCI address (0000:01:00.0, 01:00.0) or slot (01:00)",
			    origin, id);
	for (size_t i = 0; i < h->n; i++) {
		if (!selector_matches(&sel, &h->fns[i].addr, h->fns[i].vendor, h->fns[i].device))
			continue;
		if ((r = hook_devs_add(d, &h->fns[i].addr, origin)) < 0)
			return r;
		found++;
	}
	if (!found)
		return errf(err, size, -ENODEV, "%s: %.64s is not present on this host", origin, id);
	return 0;
}

/* "a;b;c" of ids */
static int add_ids(const char *list, const struct pcihost *h, const char *origin, struct hook_devs *d, char *err,
		   size_t size)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;
	int r, n = 0;

	if (!copy)
		return -ENOMEM;
	for (char *id = strtok_r(copy, ";", &save); id; id = strtok_r(NULL, ";", &save), n++)
		if ((r = add_id(trim(id), h, origin, d, err, size)) < 0)
			return r;
	if (!n)
		return errf(err, size, -EINVAL, "%s: no PCI address given", origin);
	return 0;
}

/* value of key in a "k=v,k=v" property string, copied into buf; 1 found, 0 not */
static int prop_get(const char *props, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = props; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && isspace((unsigned char)*p))
			p++, len--;
		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			snprintf(buf, size, "%.*s", (int)(len - klen - 1), p + klen + 1);
			trim(buf);
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* The function a mapping's id= describes: the function itself, or function 0 of a slot */
static int check_map_ids(const char *name, const char *path, const char *id, const struct pcihost *h, char *err,
			 size_t size)
{
	_cleanup_free_ char *copy = strdup(path);
	unsigned long v, dv;
	char *save = NULL, *colon;

	if (!copy)
		return -ENOMEM;
	colon = strchr(id, ':');
	if (!colon || colon - id != 4 || strlen(colon + 1) != 4)
		return errf(err, size, -EINVAL, "mapping '%s': id '%s' is not vendor:device", name, id);
	*colon = '\0';
	if (parse_uint(id, 16, 0xffff, &v) < 0 || parse_uint(colon + 1, 16, 0xffff, &dv) < 0) {
		*colon = ':';
		return errf(err, size, -EINVAL, "mapping '%s': id '%s' is not vendor:device", name, id);
	}
	*colon = ':';
	for (char *p = strtok_r(copy, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
		struct selector sel;
		struct pcifn *f;

		if (selector_parse(trim(p), &sel) < 0 || (sel.kind != SEL_FUNCTION && sel.kind != SEL_SLOT))
			return errf(err, size, -EINVAL, "mapping '%s': path '%s' is not a PCI address", name, p);
		f = pcihost_find(h, &sel.addr); /* a slot's fn is 0 */
		if (!f)
			return errf(err, size, -ENODEV, "mapping '%s': %s is not present on this host", name, p);
		if (f->vendor != v || f->device != dv)
			return errf(err, size, -ENODEV,
				    "mapping '%s': %s holds %04x:%04x, not the mapped id %s; the mapping is out of date",
				    name, f->name, f->vendor, f->device, id);
	}
	return 0;
}

/* One "map k=v,..." line for this node: check it and add its paths */
static int use_map(const char *name, const char *props, const struct pcihost *h, const char *origin,
		   struct hook_devs *d, char *err, size_t size)
{
	char path[1024], id[64];
	int r;

	if (!prop_get(props, "path", path, sizeof(path)) || !path[0])
		return errf(err, size, -EINVAL, "mapping '%s' for this node has no path", name);
	if (prop_get(props, "id", id, sizeof(id)) && (r = check_map_ids(name, path, id, h, err, size)) < 0)
		return r;
	return add_ids(path, h, origin, d, err, size);
}

/*
 * /etc/pve/mapping/pci.cfg: a line with the mapping's name, then indented
 * property lines; "map node=N,path=P,id=V:D,..." once per node (several
 * for one node are alternatives: the first that checks out is taken).
 */
static int resolve_mapping(const char *name, const char *map_text, const char *node, const struct pcihost *h,
			   const char *origin, struct hook_devs *d, char *err, size_t size)
{
	_cleanup_free_ char *text = map_text ? strdup(map_text) : NULL;
	char *save = NULL, nodebuf[256], first_err[512] = "";
	bool in = false, section = false;
	struct hook_devs tmp = { 0 };
	int r;

	if (!map_text)
		return errf(err, size, -EINVAL, "%s: mapping '%s' but there is no /%s", origin, name, PVE_PCI_MAPPING);
	if (!text)
		return -ENOMEM;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = trim(line);

		if (!*t || *t == '#')
			continue;
		if (!isspace((unsigned char)line[0])) {
			if (strncmp(t, "pci:", 4) == 0)
				t = trim(t + 4);
			in = streq(t, name);
			section |= in;
			continue;
		}
		if (!in || strncmp(t, "map", 3) != 0 || !isspace((unsigned char)t[3]))
			continue;
		t = trim(t + 3);
		if (!prop_get(t, "node", nodebuf, sizeof(nodebuf)) || !streq(nodebuf, node))
			continue;
		r = use_map(name, t, h, origin, &tmp, first_err[0] ? err : first_err,
			    first_err[0] ? size : sizeof(first_err));
		if (r == 0) {
			for (size_t i = 0; i < tmp.n && r == 0; i++)
				r = hook_devs_add(d, &tmp.addrs[i], origin);
			hook_devs_free(&tmp);
			return r;
		}
		hook_devs_free(&tmp);
		if (r == -ENOMEM)
			return r;
	}
	if (first_err[0])
		return errf(err, size, -ENODEV, "%s: %s", origin, first_err);
	if (!section)
		return errf(err, size, -EINVAL, "%s: there is no mapping '%s' in /%s", origin, name, PVE_PCI_MAPPING);
	return errf(err, size, -ENODEV, "%s: mapping '%s' has no entry for this node ('%s')", origin, name, node);
}

struct hostpci {
	const char *host; /* pointers into the entry's (modified) text */
	const char *mapping;
	bool mdev;
};

/* "[host=]ID[;ID...][,key=value...]" or "mapping=NAME[,...]"; other options (pcie, x-vga, rombar...) do not matter here */
static int split_hostpci(const char *key, char *value, struct hostpci *hp, char *err, size_t size)
{
	char *save = NULL;
	int i = 0;

	for (char *f = strtok_r(value, ",", &save); f; f = strtok_r(NULL, ",", &save), i++) {
		char *eq = strchr(f = trim(f), '=');

		if (!eq && i == 0) {
			hp->host = f;
			continue;
		}
		if (!eq)
			return errf(err, size, -EINVAL, "%s: option '%.64s' has no value", key, f);
		*eq = '\0';
		if (streq(trim(f), "host"))
			hp->host = trim(eq + 1);
		else if (streq(trim(f), "mapping"))
			hp->mapping = trim(eq + 1);
		else if (streq(trim(f), "mdev"))
			hp->mdev = true;
	}
	return 0;
}

static int parse_hostpci(const char *key, char *value, const char *map_text, const char *node,
			 const struct pcihost *h, struct hook_devs *d, char *err, size_t size)
{
	struct hostpci hp = { "", "", false };
	int r;

	if ((r = split_hostpci(key, value, &hp, err, size)) < 0)
		return r;
	if (hp.mdev)
		return 0; /* a mediated device: the function itself stays with its host driver */
	if (hp.host[0] && hp.mapping[0])
		return errf(err, size, -EINVAL, "%s: both a host address and a mapping", key);
	if (hp.mapping[0]) {
		if (!token_is_safe(hp.mapping, MAPPING_NAME_MAX))
			return errf(err, size, -EINVAL, "%s: invalid mapping name", key);
		return resolve_mapping(hp.mapping, map_text, node, h, key, d, err, size);
	}
	if (!hp.host[0])
		return errf(err, size, -EINVAL, "%s: no host address and no mapping", key);
	return add_ids(hp.host, h, key, d, err, size);
}

/* "hostpciN" with N a number: 1, else 0 */
static int hostpci_key(const char *line, char *key, size_t size, const char **ret_value)
{
	const char *p = line + strlen("hostpci");
	size_t digits = 0;

	if (strncmp(line, "hostpci", 7) != 0)
		return 0;
	while (isdigit((unsigned char)p[digits]))
		digits++;
	if (!digits || digits > 3 || p[digits] != ':')
		return 0;
	snprintf(key, size, "%.*s", (int)(7 + digits), line);
	*ret_value = p + digits + 1;
	return 1;
}

int proxmox_vm_devices(const char *vm_text, const char *map_text, const char *node, const struct pcihost *h,
		       struct hook_devs *ret, char *err, size_t size)
{
	_cleanup_free_ char *text = strdup(vm_text);
	struct hook_devs d = { 0 };
	char *save = NULL;
	int r = 0;

	if (!text)
		return -ENOMEM;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *value = NULL;
		const char *v;
		char key[16];

		if (line[0] == '[')
			break; /* [snapshot], [PENDING], [special:cloudinit]: not what starts now */
		if (!hostpci_key(line, key, sizeof(key), &v))
			continue;
		if (!(value = strdup(v))) {
			r = -ENOMEM;
			break;
		}
		if ((r = parse_hostpci(key, trim(value), map_text, node, h, &d, err, size)) < 0)
			break;
	}
	if (r < 0) {
		hook_devs_free(&d);
		return r;
	}
	*ret = d;
	return 0;
}
