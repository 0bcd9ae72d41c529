/* hook-proxmox.c - a Proxmox VM config read as qemu-server reads it, and the PCI functions it will pass */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook-proxmox.h"
#include "hook-pve.h"
#include "util.h"

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

/* ---- the VM config: PVE/QemuServer.pm parse_vm_config() and check_type() ---- */

static void hostpci_clear(struct pve_hostpci *hp)
{
	free(hp->value);
	free(hp->host);
	free(hp->mapping);
	free(hp->romfile);
	free(hp->mdev_type);
	*hp = (struct pve_hostpci){ 0 };
}

void proxmox_vm_free(struct pve_vm *vm)
{
	if (!vm)
		return;
	for (size_t i = 0; i < PVE_HOSTPCI_MAX; i++)
		hostpci_clear(&vm->hostpci[i]);
	free(vm->hookscript);
	free(vm->bios);
	free(vm->machine);
	free(vm->vga);
	free(vm->efidisk0);
	free(vm->name);
	*vm = (struct pve_vm){ 0 };
}

static bool is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* n lowercase hex digits at s; how many there were (at most max) */
static size_t hex_run(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && is_hex_lower(s[n]))
		n++;
	return n;
}

/*
 * PCI.pm $PCIRE, whole: "(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?".
 * Lowercase only, a slot of any two digits and a function of any digit: the
 * range is checked later, where qemu-server finds no device for it.
 */
static bool pve_id_syntax(const char *s, size_t len)
{
	size_t d = hex_run(s, len);

	if (d >= 4 && d < len && s[d] == ':' && len - d - 1 >= 5)
		s += d + 1, len -= d + 1; /* a domain, unless this was the bus */
	if (len != 5 && len != 7)
		return false;
	if (hex_run(s, 2) != 2 || s[2] != ':' || hex_run(s + 3, 2) != 2)
		return false;
	return len == 5 || (s[5] == '.' && is_hex_lower(s[6]));
}

/* "ID;ID;..." of pve_id_syntax */
static bool pve_id_list_syntax(const char *s)
{
	for (;;) {
		size_t n = strcspn(s, ";");

		if (!pve_id_syntax(s, n))
			return false;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

/* non-empty, and none of these characters */
static bool none_of(const char *s, const char *these)
{
	return *s && s[strcspn(s, these)] == '\0';
}

static bool hex_id_valid(const char *s) /* ^0x[0-9a-fA-F]{4}$ */
{
	if (strncmp(s, "0x", 2) != 0 || strlen(s) != 6)
		return false;
	for (size_t i = 2; i < 6; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int dup_into(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) ? 0 : -ENOMEM;
}

static int set_bool(struct pve_hostpci *hp, bool *dst, const char *k, const char *v)
{
	int b = pve_parse_boolean(v);

	if (b < 0)
		return pve_errf(hp->why, sizeof(hp->why), 1, "'%s' is not a boolean for %s", v, k);
	*dst = b;
	return 0;
}

/* One "k=v" of PCI.pm $hostpci_fmt: 0 taken, 1 the schema rejects it (why says), -ENOMEM */
static int hostpci_key(struct pve_hostpci *hp, const char *k, const char *v)
{
	bool dummy = true;

	if (streq(k, "host"))
		return pve_id_list_syntax(v) ? dup_into(&hp->host, v)
					     : pve_errf(hp->why, sizeof(hp->why), 1, "'%.64s' is not a PCI id list", v);
	if (streq(k, "mapping"))
		return pve_configid_valid(v) ? dup_into(&hp->mapping, v)
					     : pve_errf(hp->why, sizeof(hp->why), 1, "'%.64s' is not a mapping id", v);
	if (streq(k, "romfile"))
		return none_of(v, ",;") ? dup_into(&hp->romfile, v)
					: pve_errf(hp->why, sizeof(hp->why), 1, "romfile '%.64s' holds a ';'", v);
	if (streq(k, "mdev"))
		return none_of(v, "/.:") ? (hp->mdev = true, dup_into(&hp->mdev_type, v))
					 : pve_errf(hp->why, sizeof(hp->why), 1, "'%.64s' is not an mdev type", v);
	if (streq(k, "driver")) {
		if (!streq(v, "vfio") && !streq(v, "keep"))
			return pve_errf(hp->why, sizeof(hp->why), 1, "driver '%.32s' is neither vfio nor keep", v);
		hp->keep = streq(v, "keep");
		return 0;
	}
	if (streq(k, "pcie"))
		return set_bool(hp, &hp->pcie, k, v);
	if (streq(k, "x-vga"))
		return set_bool(hp, &hp->x_vga, k, v);
	if (streq(k, "legacy-igd"))
		return set_bool(hp, &hp->legacy_igd, k, v);
	if (streq(k, "rombar")) {
		int r = set_bool(hp, &dummy, k, v);

		hp->rombar_off = r == 0 && !dummy;
		return r;
	}
	if (streq(k, "vendor-id") || streq(k, "device-id") || streq(k, "sub-vendor-id") || streq(k, "sub-device-id"))
		return hex_id_valid(v) ? 0 : pve_errf(hp->why, sizeof(hp->why), 1, "%s '%.16s' is not 0xXXXX", k, v);
	return pve_errf(hp->why, sizeof(hp->why), 1, "unknown option '%.32s'", k);
}

/*
 * JSONSchema parse_property_string(): split at ',', blank parts skipped,
 * "k=v" taken apart at the first '=' (keys are not trimmed), a part
 * without '=' is the default key (host), a key twice is refused.
 */
static int hostpci_parse(struct pve_hostpci *hp)
{
	char seen[16][16] = { { 0 } };
	size_t n_seen = 0;
	_cleanup_free_ char *copy = strdup(hp->value);
	char *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *part = strtok_r(copy, ",", &save); part && r == 0; part = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(part, '=');
		const char *k = eq ? part : "host";

		if (!part[strspn(part, " \t")])
			continue;
		if (eq && (eq == part || !eq[1]))
			return pve_errf(hp->why, sizeof(hp->why), 1, "'%.32s' is missing a key or a value", part);
		if (eq)
			*eq = '\0';
		for (size_t i = 0; i < n_seen; i++)
			if (streq(seen[i], k))
				return pve_errf(hp->why, sizeof(hp->why), 1, "'%.32s' is given twice", k);
		if (n_seen < ARRAY_SIZE(seen))
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", k);
		r = hostpci_key(hp, k, eq ? eq + 1 : part);
	}
	return r;
}

/* check_type(): a value with a carriage return or line feed is refused */
static int hostpci_read(struct pve_hostpci *hp, const char *value)
{
	int r;

	if (!(hp->value = strdup(value)))
		return -ENOMEM;
	if (strpbrk(value, "\r\n"))
		r = pve_errf(hp->why, sizeof(hp->why), 1, "the value holds a line feed");
	else
		r = hostpci_parse(hp);
	return r < 0 ? r : 0;
}

/*
 * parse_vm_config(): a value check_type() rejects is warned about and not
 * stored ("unable to parse value of 'hostpci0'"), so a key given again
 * with a bad value leaves the earlier good one in place; a good value
 * replaces whatever came before.
 */
static int set_hostpci(struct pve_hostpci *hp, const char *value)
{
	struct pve_hostpci next = { 0 };
	int r = hostpci_read(&next, value);

	if (r < 0) {
		hostpci_clear(&next);
		return r;
	}
	if (next.why[0] && hp->value && !hp->why[0]) {
		snprintf(hp->dropped, sizeof(hp->dropped),
			 "a later line '%.64s' was ignored (%s); the earlier value "
			 "stays",
			 value, next.why);
		hostpci_clear(&next);
		return 0;
	}
	hostpci_clear(hp);
	*hp = next;
	return 0;
}

/* "hostpciN" with N 0..15 written the way the schema names it; -1 otherwise */
static int hostpci_index(const char *key)
{
	unsigned long n;

	if (strncmp(key, "hostpci", 7) != 0 || !isdigit((unsigned char)key[7]) || (key[7] == '0' && key[8]))
		return -1;
	if (parse_uint(key + 7, 10, PVE_HOSTPCI_MAX - 1, &n) < 0)
		return -1;
	return (int)n;
}

static int vm_key(struct pve_vm *vm, const char *key, const char *value)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "hookscript", offsetof(struct pve_vm, hookscript) }, { "bios", offsetof(struct pve_vm, bios) },
		{ "machine", offsetof(struct pve_vm, machine) },       { "vga", offsetof(struct pve_vm, vga) },
		{ "efidisk0", offsetof(struct pve_vm, efidisk0) },     { "name", offsetof(struct pve_vm, name) },
	};
	int i = hostpci_index(key);

	if (i >= 0)
		return set_hostpci(&vm->hostpci[i], value);
	if (streq(key, "template")) {
		/* is_template(): the boolean check_type() made of it is 1; anything else is not a template */
		vm->template = pve_parse_boolean(value) == 1;
		return 0;
	}
	for (size_t k = 0; k < ARRAY_SIZE(strs); k++)
		if (streq(key, strs[k].key))
			return dup_into((char **)((char *)vm + strs[k].off), value);
	return 0;
}

/* "^\[[^\]]*\]\s*$": [PENDING], [special:cloudinit], a snapshot, an unknown section */
static bool section_line(const char *line)
{
	const char *close;

	if (line[0] != '[' || !(close = strchr(line, ']')))
		return false;
	return close[1 + strspn(close + 1, " \t\r\f\v")] == '\0';
}

/* "^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$": the key and its trimmed, non-empty value */
static bool key_line(char *line, char **ret_key, char **ret_value)
{
	char *p = line, *v;

	if (!islower((unsigned char)*p))
		return false;
	while (islower((unsigned char)*p) || *p == '_' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p != ':')
		return false;
	*p = '\0';
	v = p + 1;
	v += strspn(v, " \t\r\f\v");
	strip_trailing(v);
	if (!*v)
		return false;
	*ret_key = line;
	*ret_value = v;
	return true;
}

int proxmox_vm_parse(const char *text, struct pve_vm *ret)
{
	_cleanup_free_ char *copy = strdup(text);
	struct pve_vm vm = { 0 };
	char *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save)) {
		char *key, *value;

		if (section_line(line))
			break; /* snapshots, [PENDING] (applied before pre-start runs), special sections */
		if (line[0] != '#' && key_line(line, &key, &value))
			r = vm_key(&vm, key, value);
	}
	if (r < 0) {
		proxmox_vm_free(&vm);
		return r;
	}
	*ret = vm;
	return 0;
}

bool proxmox_vm_has_hostpci(const struct pve_vm *vm)
{
	for (size_t i = 0; i < PVE_HOSTPCI_MAX; i++)
		if (vm->hostpci[i].value && !vm->hostpci[i].why[0])
			return true;
	return false;
}

bool proxmox_vm_is_q35(const struct pve_vm *vm)
{
	/* "[[type=]TYPE][,viommu=...]": the type is the default key */
	const char *m = vm->machine;

	if (!m)
		return false;
	for (const char *p = m; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t n = strcspn(p, ",");

		if (!memchr(p, '=', n) || strncmp(p, "type=", 5) == 0)
			return memmem(p, n, "q35", 3) != NULL;
	}
	return false;
}

/* ---- the choice: PCI.pm parse_hostpci(), choose_hostpci_devices(), reserve_pci_usage() ---- */

struct chooser {
	const struct pve_vm *vm;
	const struct pve_env *env;
	struct hook_devs used; /* every function chosen so far, this VM's */
	struct hook_devs *take, *kept;
	char *err;
	size_t size;
};

/* PVE::SysFSTools::lspci($filter): "$id !~ m/^(0000:)?\Q$filter\E/" skips a function: a text prefix */
static bool lspci_matches(const char *fn, const char *id)
{
	size_t len = strlen(id);

	return strncmp(fn, id, len) == 0 || (strncmp(fn, "0000:", 5) == 0 && strncmp(fn + 5, id, len) == 0);
}

/*
 * PVE::SysFSTools::lspci($id): the functions whose "DDDD:BB:SS.F" starts
 * with the id as text (so "00000:07:00.0" matches nothing). A slot above
 * 1f or a function above 7 matches nothing either; say why rather than
 * "not present".
 */
static int lspci(struct chooser *c, const char *key, const char *id, struct pve_alt *a)
{
	size_t found = 0, len = strlen(id), base = len == 5 || len == 7 ? 0 : strcspn(id, ":") + 1;
	unsigned long slot;
	char sbuf[3] = { id[base + 3], id[base + 4], 0 };

	if (parse_uint(sbuf, 16, 0xff, &slot) == 0 && slot > 0x1f)
		return pve_errf(c->err, c->size, -EINVAL, "%s: %s: slot %s out of range (00-1f)", key, id, sbuf);
	if (id[len - 2] == '.' && id[len - 1] > '7')
		return pve_errf(c->err, c->size, -EINVAL, "%s: %s: function %c out of range (0-7)", key, id,
				id[len - 1]);
	for (size_t i = 0; i < c->env->h->n; i++) {
		const struct pcifn *f = &c->env->h->fns[i];

		if (!lspci_matches(f->name, id))
			continue;
		if (a->n >= ARRAY_SIZE(a->fns))
			return pve_errf(c->err, c->size, -EINVAL, "%s: more than %zu functions", key,
					ARRAY_SIZE(a->fns));
		a->fns[a->n++] = f->addr;
		found++;
	}
	if (!found && base > 5) /* qemu-server: "no PCI device found for '$id'" */
		return pve_errf(c->err, c->size, -ENODEV,
				"%s: no PCI device found for '%s' (qemu-server compares the id as text with "
				"the host's DDDD:BB:SS.F, and this domain has %zu digits): qemu-server refuses "
				"to start the VM",
				key, id, base - 1);
	if (!found)
		return pve_errf(c->err, c->size, -ENODEV, "%s: %s is not present on this host", key, id);
	return 0;
}

/* "ID;ID" into one alternative */
static int alt_of(struct chooser *c, const char *key, const char *list, struct pve_alt *a)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;
	int r;

	if (!copy)
		return -ENOMEM;
	a->n = 0;
	for (char *id = strtok_r(copy, ";", &save); id; id = strtok_r(NULL, ";", &save))
		if ((r = lspci(c, key, id, a)) < 0)
			return r;
	return 0;
}

static const struct pve_reservation *reservation_of(const struct pve_env *env, const struct pciaddr *a)
{
	for (size_t i = 0; env->res && i < env->res->n; i++)
		if (pciaddr_cmp(&env->res->r[i].addr, a) == 0)
			return &env->res->r[i];
	return NULL;
}

/*
 * reserve_pci_usage() for this VM: 0 free, -EBUSY held by a running VM,
 * -EAGAIN held by another VM's start still under way (a time reservation
 * not yet expired: that start may yet fail and let go of it).
 */
static int reservable(const struct chooser *c, const struct pve_alt *a, const struct pciaddr **ret_addr,
		      unsigned long *ret_vmid)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct pve_reservation *r = reservation_of(c->env, &a->fns[i]);
		int held;

		if (!r || r->vmid == c->env->vmid)
			continue;
		held = !r->by_pid && (long long)r->value > c->env->now ? -EAGAIN : r->by_pid && r->live ? -EBUSY : 0;
		if (held) { /* otherwise "leftover PCI reservation found": qemu-server takes it */
			*ret_addr = &a->fns[i];
			*ret_vmid = r->vmid;
			return held;
		}
	}
	return 0;
}

static int use_alt(struct chooser *c, const char *key, const struct pve_alt *a, bool keep)
{
	char name[PCIADDR_STRLEN];
	int r;

	for (size_t i = 0; i < a->n; i++) {
		if (hook_devs_has(&c->used, &a->fns[i])) {
			pciaddr_format(&a->fns[i], name);
			return pve_errf(c->err, c->size, -EINVAL,
					"%s: device '%s' assigned more than once; qemu-server "
					"refuses to start the VM",
					key, name);
		}
		if ((r = hook_devs_add(&c->used, &a->fns[i], key)) < 0 ||
		    (r = hook_devs_add(keep ? c->kept : c->take, &a->fns[i], key)) < 0)
			return r;
	}
	return 0;
}

static bool alt_used(const struct chooser *c, const struct pve_alt *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (hook_devs_has(&c->used, &a->fns[i]))
			return true;
	return false;
}

static int held_msg(struct chooser *c, int r, const char *key, const struct pciaddr *a, unsigned long vmid)
{
	char name[PCIADDR_STRLEN];

	pciaddr_format(a, name);
	if (r == -EAGAIN)
		return pve_errf(
		    c->err, c->size, -EAGAIN,
		    "%s: %s is reserved for VM %lu while it starts; qemu-server gives it to this VM if that "
		    "start fails and another device otherwise, so pcibind cannot know which one this VM "
		    "gets: "
		    "start it again once VM %lu is up",
		    key, name, vmid, vmid);
	return pve_errf(c->err, c->size, -EBUSY,
			"%s: %s is in use by the running VM %lu; qemu-server refuses to start "
			"this VM",
			key, name, vmid);
}

/* The first alternative this VM does not use and no other VM holds; a start under way makes it unknowable */
static int choose_among(struct chooser *c, const char *key, const struct pve_alt *alts, size_t n, bool keep)
{
	for (size_t i = 0; i < n; i++) {
		const struct pciaddr *held = NULL;
		unsigned long vmid = 0;
		int r;

		if (alt_used(c, &alts[i]))
			continue;
		r = reservable(c, &alts[i], &held, &vmid);
		if (r == -EAGAIN)
			return held_msg(c, r, key, held, vmid);
		if (r == 0)
			return use_alt(c, key, &alts[i], keep);
	}
	return pve_errf(c->err, c->size, -EBUSY,
			"%s: could not find a free device (every one is used by this VM or "
			"by another running VM); qemu-server refuses to start the VM",
			key);
}

/* parse_hostpci_devices()' checks of legacy-igd: qemu-server refuses these before it starts anything */
static int check_legacy_igd(struct chooser *c, const char *key, const struct pve_hostpci *hp, size_t n_alts,
			    const struct pve_alt *a, bool *seen)
{
	const char *why = NULL;

	if (!hp->legacy_igd)
		return 0;
	if (*seen)
		why = "only one device can be assigned in legacy-igd mode";
	else if (!c->vm->vga || !streq(c->vm->vga, "none"))
		why = "legacy IGD assignment requires VGA mode to be 'none'";
	else if (hp->rombar_off)
		why = "legacy IGD assignment requires rombar to be enabled";
	else if (hp->x_vga)
		why = "legacy IGD assignment is not compatible with x-vga";
	else if (hp->mdev)
		why = "legacy IGD assignment is not compatible with mdev";
	else if (proxmox_vm_is_q35(c->vm))
		why = "legacy IGD assignment is not compatible with q35";
	else if (a->n > 1)
		why = "legacy IGD assignment is not compatible with multifunction devices";
	else if (n_alts > 1)
		why = "legacy IGD assignment is not compatible with alternate devices";
	else if (a->fns[0].dev != 2 || a->fns[0].fn != 0)
		why = "legacy IGD assignment only works for devices on host bus 00:02.0";
	*seen = true;
	return why ? pve_errf(c->err, c->size, -EINVAL, "%s: %s", key, why) : 0;
}

static int entry_alts(struct chooser *c, const char *key, const struct pve_hostpci *hp, struct pve_alt **ret,
		      size_t *ret_n)
{
	if (hp->host && hp->mapping)
		return pve_errf(c->err, c->size, -EINVAL, "%s: Cannot set both 'host' and 'mapping'", key);
	if (!hp->host && !hp->mapping)
		return pve_errf(c->err, c->size, -EINVAL, "%s: Either 'host' or 'mapping' must be set", key);
	if (hp->mapping)
		return pve_mapping_alts(c->env, key, hp->mapping, ret, ret_n, c->err, c->size);
	if (!(*ret = calloc(1, sizeof(**ret))))
		return -ENOMEM;
	*ret_n = 1;
	return 0;
}

/* Each alternative's ids through lspci(), then the entry's own checks */
static int resolve_entry(struct chooser *c, int i, bool *igd_seen)
{
	const struct pve_hostpci *hp = &c->vm->hostpci[i];
	struct pve_alt *alts = NULL;
	size_t n = 0;
	char key[16];
	int r;

	snprintf(key, sizeof(key), "hostpci%d", i);
	if ((r = entry_alts(c, key, hp, &alts, &n)) < 0)
		return r;
	for (size_t k = 0; k < n && r == 0; k++) {
		if ((r = alt_of(c, key, alts[k].path ? alts[k].path : hp->host, &alts[k])) < 0)
			break;
		if (alts[k].n > 1 && hp->mdev)
			r = pve_errf(c->err, c->size, -EINVAL,
				     "%s: cannot use mediated device with multifunction device", key);
	}
	if (r == 0 && hp->pcie && !proxmox_vm_is_q35(c->vm))
		r = pve_errf(c->err, c->size, -EINVAL,
			     "%s: pcie=1 needs the q35 machine model (machine: %s); qemu-server "
			     "refuses to start the VM",
			     key, c->vm->machine ? c->vm->machine : "the default, i440fx");
	if (r == 0)
		r = check_legacy_igd(c, key, hp, n, &alts[0], igd_seen);
	/* a mediated device is chosen when it is made; its function stays on its host driver */
	if (r == 0 && !hp->mdev)
		r = n == 1 ? use_alt(c, key, &alts[0], hp->keep) : choose_among(c, key, alts, n, hp->keep);
	pve_alts_free(alts, n);
	return r;
}

/* The start's own reserve_pci_usage() of every chosen function: another VM's hold refuses it */
static int final_reservation(struct chooser *c)
{
	for (size_t i = 0; i < c->used.n; i++) {
		struct pve_alt one = { .fns = { c->used.addrs[i] }, .n = 1 };
		const struct pciaddr *held = NULL;
		unsigned long vmid = 0;
		int r = reservable(c, &one, &held, &vmid);

		if (r < 0)
			return held_msg(c, r == -EAGAIN ? -EBUSY : r, c->used.origin[i], &c->used.addrs[i], vmid);
	}
	return 0;
}

/* A sibling another VM holds or is starting with: refused as the start's own reserve_pci_usage() would be */
static int sibling_free(struct chooser *c, const char *origin, const struct pciaddr *a)
{
	struct pve_alt one = { .fns = { *a }, .n = 1 };
	const struct pciaddr *held = NULL;
	unsigned long vmid = 0;
	int r = reservable(c, &one, &held, &vmid);

	return r < 0 ? held_msg(c, -EBUSY, origin, a, vmid) : 0;
}

/*
 * prepare_pci_device() -> PVE::SysFSTools::pci_dev_group_bind_to_vfio():
 * qemu-server binds every function of a passed function's IOMMU group to
 * vfio-pci, skipping only those with a pci_bus directory (bridges), and
 * passes the VM just the one named. pcibind leaves every bridge
 * (pcifn_is_bridge(): host and ISA bridges too), which the planner would
 * refuse to move; a driverless one does not keep the group from the VM.
 */
static int group_expand(struct chooser *c)
{
	const struct pcihost *h = c->env->h;
	size_t n = c->take->n;
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct pcifn *f = pcihost_find(h, &c->take->addrs[i]);
		char origin[32];

		if (!f || f->group < 0)
			continue;
		snprintf(origin, sizeof(origin), HOOK_GROUP_ORIGIN "%.15s", c->take->origin[i]);
		for (size_t k = 0; k < h->n; k++) {
			const struct pcifn *s = &h->fns[k];

			if (s->group != f->group || pcifn_is_bridge(s) || hook_devs_has(c->take, &s->addr) ||
			    hook_devs_has(c->kept, &s->addr))
				continue;
			if ((r = sibling_free(c, origin, &s->addr)) < 0 ||
			    (r = hook_devs_add(c->take, &s->addr, origin)) < 0)
				return r;
		}
	}
	return 0;
}

int proxmox_vm_choose(const struct pve_vm *vm, const struct pve_env *env, struct hook_devs *ret,
		      struct hook_devs *ret_kept, char *err, size_t size)
{
	struct hook_devs take = { 0 }, kept = { 0 };
	struct chooser c = { .vm = vm, .env = env, .take = &take, .kept = &kept, .err = err, .size = size };
	bool igd = false;
	int r = 0;

	if (vm->template) /* config_to_command() starts a template without its hostpci devices */
		goto out;
	for (int i = 0; i < PVE_HOSTPCI_MAX && r == 0; i++)
		if (vm->hostpci[i].value && !vm->hostpci[i].why[0])
			r = resolve_entry(&c, i, &igd);
	if (r == 0)
		r = final_reservation(&c);
	if (r == 0)
		r = group_expand(&c);
out:
	hook_devs_free(&c.used);
	if (r < 0) {
		hook_devs_free(&take);
		hook_devs_free(&kept);
		return r;
	}
	*ret = take;
	if (ret_kept)
		*ret_kept = kept;
	else
		hook_devs_free(&kept);
	return 0;
}

void proxmox_node_name(const struct sysroot *r, char *buf, size_t size)
{
	buf[0] = '\0';
	if (sysroot_read_line(r, PVE_HOSTNAME, buf, size) < 0 && sysroot_is_host(r))
		(void)gethostname(buf, size - 1);
	buf[strcspn(buf, ". \t")] = '\0'; /* PVE::INotify::nodename(): the name up to the first dot */
}

int proxmox_vm_devices(const char *vm_text, const char *map_text, const char *node, const struct pcihost *h,
		       struct hook_devs *ret, char *err, size_t size)
{
	struct pve_env env = { .h = h, .map_text = map_text, .node = node };
	struct pve_vm vm;
	int r;

	if ((r = proxmox_vm_parse(vm_text, &vm)) < 0)
		return r;
	r = proxmox_vm_choose(&vm, &env, ret, NULL, err, size);
	proxmox_vm_free(&vm);
	return r;
}
