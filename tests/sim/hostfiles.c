/* hostfiles.c - the plain files under ROOTDIR that go with the simulated kernel: /proc and /dev/vfio */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcisim.h"

static int host_path(struct sim *sim, const char *rel, char *buf, size_t size)
{
	if (snprintf(buf, size, "%s/%s", sim->rootdir, rel) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static int host_write(struct sim *sim, const char *rel, const struct strbuf *sb)
{
	char path[PATH_MAX];
	int r = host_path(sim, rel, path, sizeof(path));

	if (r < 0)
		return r;
	r = write_file_atomic(path, sb->s ? sb->s : "", sb->len);
	if (r < 0)
		fprintf(stderr, "pcisim: cannot write %s: %s\n", path, strerror(-r));
	return r;
}

static const struct sim_cdev *block_named(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_cdevs; i++) {
		const struct sim_cdev *c = sim->cdevs[i];

		if ((c->kind == CDEV_DISK || c->kind == CDEV_PART) && strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* the mount whose target is the longest prefix of target: its parent in the mount tree */
static int mount_parent(struct sim *sim, size_t idx)
{
	const char *t = sim->mounts[idx].target;
	size_t best = 0, i;
	int parent = 21;

	for (i = 0; i < idx; i++) {
		size_t n = strlen(sim->mounts[i].target);

		if (n > best && strncmp(t, sim->mounts[i].target, n) == 0 && (t[n] == '/' || n == 1)) {
			best = n;
			parent = 21 + (int)i;
		}
	}
	return parent;
}

static void mountinfo_line(struct sim *sim, struct strbuf *sb, size_t idx, int id)
{
	const struct sim_mount *m = &sim->mounts[idx];
	const struct sim_cdev *c = block_named(sim, m->source);

	sb_printf(sb, "%d %d %s / %s rw,relatime shared:%d - %s %s%s rw\n", id, idx ? mount_parent(sim, idx) : 1,
		  c ? c->devnum : "0:40", m->target, id, m->fstype, c ? "/dev/" : "", m->source);
}

static int write_mountinfo(struct sim *sim)
{
	struct strbuf sb = { 0 };
	size_t i, root = 0;
	int r, id = 21;

	for (i = 0; i < sim->n_mounts; i++)
		if (strcmp(sim->mounts[i].target, "/") == 0)
			root = i;
	if (sim->n_mounts)
		mountinfo_line(sim, &sb, root, id);
	else
		sb_printf(&sb, "21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
	sb_printf(&sb, "22 21 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
		       "23 21 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
		       "24 21 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,mode=755\n"
		       "25 21 0:24 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,mode=755\n");
	for (i = 0, id = 30; i < sim->n_mounts; i++)
		if (i != root)
			mountinfo_line(sim, &sb, i, id++);
	r = host_write(sim, "proc/self/mountinfo", &sb);
	sb_free(&sb);
	return r;
}

static int write_swaps(struct sim *sim)
{
	struct strbuf sb = { 0 };
	size_t i;
	int r;

	sb_printf(&sb, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	for (i = 0; i < sim->n_swaps; i++) {
		char name[PATH_MAX];
		bool file = sim->swaps[i][0] == '/';

		snprintf(name, sizeof(name), "%s%s", file ? "" : "/dev/", sim->swaps[i]);
		sb_printf(&sb, "%-40s%s\t%u\t\t0\t\t-2\n", name, file ? "file\t" : "partition", 16777212u);
	}
	r = host_write(sim, "proc/swaps", &sb);
	sb_free(&sb);
	return r;
}

static int write_cmdline(struct sim *sim)
{
	struct strbuf sb = { 0 };
	int r;

	sb_printf(&sb, "%s\n", sim->cmdline);
	r = host_write(sim, "proc/cmdline", &sb);
	sb_free(&sb);
	return r;
}

/* /proc/net/route: the default route and its subnet through every interface that has route=default */
static void route4(struct sim *sim, struct strbuf *sb)
{
	char line[256];
	size_t i;
	unsigned k = 0;

	snprintf(line, sizeof(line), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT");
	sb_printf(sb, "%-127s\n", line);
	for (i = 0; i < sim->n_cdevs; i++) {
		const struct sim_cdev *c = sim->cdevs[i];

		if (c->kind != CDEV_NET || !c->route4 || !sim_cdev_active(sim, c))
			continue;
		k++;
		snprintf(line, sizeof(line), "%s\t00000000\t%02X%02XA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0", c->name, 1, k);
		sb_printf(sb, "%-127s\n", line);
		snprintf(line, sizeof(line), "%s\t00%02XA8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0", c->name, k);
		sb_printf(sb, "%-127s\n", line);
	}
}

static void route6(struct sim *sim, struct strbuf *sb)
{
	static const char *const zero = "00000000000000000000000000000000";
	size_t i;

	for (i = 0; i < sim->n_cdevs; i++) {
		const struct sim_cdev *c = sim->cdevs[i];

		if (c->kind != CDEV_NET || !c->route6 || !sim_cdev_active(sim, c))
			continue;
		sb_printf(sb, "fe800000000000000000000000000000 40 %s 00 %s 00000100 00000001 00000000 00000001 %8s\n",
			  zero, zero, c->name);
		sb_printf(sb, "%s 00 %s 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 %8s\n",
			  zero, zero, c->name);
	}
	sb_printf(sb, "00000000000000000000000000000001 80 %s 00 %s 00000000 00000002 00000000 80200001 %8s\n", zero,
		  zero, "lo");
}

/* routes go with their interface; rewritten only when they change */
static void sync_routes(struct sim *sim)
{
	struct strbuf v4 = { 0 }, v6 = { 0 }, both = { 0 };

	route4(sim, &v4);
	route6(sim, &v6);
	sb_append(&both, v4.s, v4.len);
	sb_append(&both, v6.s, v6.len);
	if (!sim->route_shown.s || strcmp(both.s, sim->route_shown.s) != 0) {
		(void)host_write(sim, "proc/net/route", &v4);
		(void)host_write(sim, "proc/net/ipv6_route", &v6);
		sb_reset(&sim->route_shown);
		sb_append(&sim->route_shown, both.s, both.len);
	}
	sb_free(&v4);
	sb_free(&v6);
	sb_free(&both);
}

static void vfio_node(struct sim *sim, const char *name, bool want)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd;

	if (!str_printf(dir, sizeof(dir), "%s/dev/vfio", sim->rootdir) ||
	    !str_printf(path, sizeof(path), "%s/%s", dir, name))
		return;
	if (!want) {
		(void)unlink(path);
		return;
	}
	(void)mkdir_p(dir, 0755);
	/* a plain file: a character device here could reach the host's real vfio */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

static bool group_on_vfio(struct sim *sim, int group)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		const struct sim_fn *fn = sim->fns[i];

		if (fn->present && fn->group == group && fn->driver && fn->driver->kind == DRV_VFIO)
			return true;
	}
	return false;
}

static bool vfio_loaded(struct sim *sim)
{
	size_t i;

	for (i = 0; i < sim->n_drivers; i++)
		if (sim->drivers[i]->kind == DRV_VFIO && sim_driver_loaded(sim->drivers[i]))
			return true;
	return false;
}

/* /dev/vfio/N exists while a function of group N is bound to a vfio driver */
static void sync_vfio(struct sim *sim)
{
	int max = sim_max_group(sim), g;
	bool ctl = vfio_loaded(sim);
	char name[16];

	if ((size_t)(max + 1) > sim->n_vfio_node) {
		sim->vfio_node = xrealloc(sim->vfio_node, (size_t)max + 1, sizeof(bool));
		memset(sim->vfio_node + sim->n_vfio_node, 0, ((size_t)max + 1 - sim->n_vfio_node) * sizeof(bool));
		sim->n_vfio_node = (size_t)max + 1;
	}
	for (g = 0; g < (int)sim->n_vfio_node; g++) {
		bool want = sim->iommu && group_on_vfio(sim, g);

		if (want == sim->vfio_node[g])
			continue;
		snprintf(name, sizeof(name), "%d", g);
		vfio_node(sim, name, want);
		sim->vfio_node[g] = want;
	}
	if (ctl != sim->vfio_ctl_node) {
		vfio_node(sim, "vfio", ctl);
		sim->vfio_ctl_node = ctl;
	}
}

void hostfiles_sync(struct sim *sim)
{
	sync_routes(sim);
	sync_vfio(sim);
}

/* leftovers of an earlier run in the same ROOTDIR */
static void clean_vfio_dir(struct sim *sim)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/dev/vfio", sim->rootdir) >= (int)sizeof(path) || !(d = opendir(path)))
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

int hostfiles_init(struct sim *sim)
{
	static const char *const dirs[] = { "proc/self", "proc/net", "sys" };
	char path[PATH_MAX];
	size_t i;
	int r;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (host_path(sim, dirs[i], path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		r = mkdir_p(path, 0755);
		if (r < 0) {
			fprintf(stderr, "pcisim: cannot create %s: %s\n", path, strerror(-r));
			return r;
		}
	}
	clean_vfio_dir(sim);
	if (write_mountinfo(sim) < 0 || write_swaps(sim) < 0 || write_cmdline(sim) < 0)
		return -EIO;
	hostfiles_sync(sim);
	return 0;
}
