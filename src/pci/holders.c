/* holders.c - which processes hold a function's device nodes (/proc/PID/fd) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "holders.h"
#include "util.h"

#define MAX_NODES 16

struct nodes {
	char path[MAX_NODES][64];
	size_t n;
	bool nvidia; /* any /dev/nvidia* (the proprietary driver has no per-device link) */
};

static void add_node(struct nodes *ns, const char *prefix, const char *name)
{
	if (ns->n < MAX_NODES && xsnprintf(ns->path[ns->n], sizeof(ns->path[0]), "%s%s", prefix, name) == 0)
		ns->n++;
}

/* Entries of a device subdirectory become PREFIX<entry> nodes */
static void add_dir_nodes(const struct sysroot *r, const struct pcifn *f, const char *sub, const char *prefix,
			  struct nodes *ns)
{
	char dir[256];
	struct dirent *de;
	DIR *d;

	if (sysroot_pathf(dir, sizeof(dir), "sys/bus/pci/devices/%s/%s", f->name, sub) < 0 ||
	    sysroot_opendir(r, dir, &d) < 0)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			add_node(ns, prefix, de->d_name);
	closedir(d);
}

static void collect_nodes(const struct sysroot *r, const struct pcifn *f, struct nodes *ns)
{
	char group[16];

	if (f->group >= 0) {
		snprintf(group, sizeof(group), "%d", f->group);
		add_node(ns, "/dev/vfio/", group);
	}
	add_dir_nodes(r, f, "vfio-dev", "/dev/vfio/devices/", ns);
	add_dir_nodes(r, f, "drm", "/dev/dri/", ns);
	ns->nvidia = f->vendor == 0x10de && pcifn_is_display(f);
}

static const char *match_node(const struct nodes *ns, const char *target)
{
	for (size_t i = 0; i < ns->n; i++)
		if (streq(target, ns->path[i]))
			return ns->path[i];
	if (ns->nvidia && strncmp(target, "/dev/nvidia", 11) == 0)
		return target;
	return NULL;
}

/* First node of this process that is one of ours, into node */
static bool process_holds(const struct sysroot *r, const char *pid, const struct nodes *ns, char *node, size_t size)
{
	char fddir[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	if (sysroot_pathf(fddir, sizeof(fddir), "proc/%s/fd", pid) < 0 || sysroot_opendir(r, fddir, &d) < 0)
		return false;
	while (!found && (de = readdir(d))) {
		char link[128];
		_cleanup_free_ char *target = NULL;
		const char *m;

		if (de->d_name[0] == '.' || sysroot_pathf(link, sizeof(link), "%s/%s", fddir, de->d_name) < 0 ||
		    sysroot_readlink(r, link, &target) < 0)
			continue;
		if ((m = match_node(ns, target)))
			found = xsnprintf(node, size, "%s", m) == 0;
	}
	closedir(d);
	return found;
}

static void append(char *buf, size_t size, const char *pid, const char *comm, const char *node)
{
	size_t len = strlen(buf);

	if (len + 1 < size)
		snprintf(buf + len, size - len, "%s%s (pid %s) holds %s", len ? ", " : "", comm, pid, node);
}

int holders_describe(const struct sysroot *r, const struct pcifn *f, char *buf, size_t size)
{
	struct nodes ns = { 0 };
	struct dirent *de;
	int found = 0;
	DIR *d;

	buf[0] = '\0';
	collect_nodes(r, f, &ns);
	if (sysroot_opendir(r, "proc", &d) < 0)
		return -ENOENT;
	while ((de = readdir(d))) {
		char node[64], path[64], comm[64] = "?";

		if (!isdigit((unsigned char)de->d_name[0]) || !process_holds(r, de->d_name, &ns, node, sizeof(node)))
			continue;
		if (sysroot_pathf(path, sizeof(path), "proc/%s/comm", de->d_name) == 0)
			(void)sysroot_read_line(r, path, comm, sizeof(comm));
		append(buf, size, de->d_name, comm, node);
		found++;
	}
	closedir(d);
	return found;
}

int holders_vfio(const struct sysroot *r, const struct pcifn *f, struct holder *ret, size_t max)
{
	struct nodes ns = { 0 };
	struct dirent *de;
	int found = 0;
	DIR *d;

	/* the group's node exists only while a function of it is on a VFIO driver: no /proc walk otherwise */
	if (f->group >= 0) {
		char group[16], rel[32];

		snprintf(group, sizeof(group), "%d", f->group);
		snprintf(rel, sizeof(rel), "dev/vfio/%d", f->group);
		if (sysroot_exists(r, rel) == 0)
			add_node(&ns, "/dev/vfio/", group);
	}
	add_dir_nodes(r, f, "vfio-dev", "/dev/vfio/devices/", &ns);
	if (!ns.n || sysroot_opendir(r, "proc", &d) < 0)
		return 0;
	while ((de = readdir(d))) {
		struct holder h = { 0 };
		char path[64];

		if (!isdigit((unsigned char)de->d_name[0]) || parse_uint(de->d_name, 10, ULONG_MAX, &h.pid) < 0 ||
		    !process_holds(r, de->d_name, &ns, h.node, sizeof(h.node)))
			continue;
		snprintf(h.comm, sizeof(h.comm), "?");
		if (sysroot_pathf(path, sizeof(path), "proc/%s/comm", de->d_name) == 0)
			(void)sysroot_read_line(r, path, h.comm, sizeof(h.comm));
		if ((size_t)found < max)
			ret[found] = h;
		found++;
	}
	closedir(d);
	return found;
}
