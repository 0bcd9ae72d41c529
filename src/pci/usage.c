/* usage.c - what the host uses each function for: console, filesystems, swap, route, input */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"
#include "util.h"

#define MAX_DEPTH 8 /* dm on md on partitions: stacks are shallow */

/* "a; b": detail appended to *list unless it is there already */
static void append_detail(char **list, const char *detail)
{
	char *n;

	if (*list && strstr(*list, detail))
		return;
	if (asprintf(&n, "%s%s%s", *list ? *list : "", *list ? "; " : "", detail) < 0)
		return;
	free(*list);
	*list = n;
}

/* The use, its own detail (for its refusal) and the detail of all uses (status) */
static void add_use(struct pcifn *f, unsigned flag, const char *detail)
{
	f->uses |= flag;
	append_detail(&f->use_details[PCIFN_USE_INDEX(flag)], detail);
	append_detail(&f->use_detail, detail);
}

/*
 * Mark every PCI function named on a canonical sysfs path: the device and
 * the bridges above it. With only_boot_vga, just a boot VGA on the path.
 */
static int mark_path_if(struct pcihost *h, const char *path, unsigned flag, const char *detail, bool only_boot_vga)
{
	_cleanup_free_ char *copy = strdup(path);
	char *save = NULL;
	int marked = 0;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		struct pciaddr a;
		struct pcifn *f;

		if (pciaddr_parse(tok, &a) < 0 || !(f = pcihost_find(h, &a)))
			continue;
		if (only_boot_vga && f->boot_vga != 1)
			continue;
		add_use(f, flag, detail);
		marked++;
	}
	return marked;
}

static int mark_path(struct pcihost *h, const char *path, unsigned flag, const char *detail)
{
	return mark_path_if(h, path, flag, detail, false);
}

static int mark_link(const struct sysroot *r, struct pcihost *h, const char *rel, unsigned flag, const char *detail)
{
	_cleanup_free_ char *canon = NULL;

	if (sysroot_canonical(r, rel, &canon) < 0)
		return 0;
	return mark_path(h, canon, flag, detail);
}

/* A block device and, for dm/md, the devices below it (slaves/). */
static void mark_block(const struct sysroot *r, struct pcihost *h, const char *blockdir, unsigned flag,
		       const char *detail, int depth)
{
	char slaves[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (depth > MAX_DEPTH)
		return;
	(void)mark_link(r, h, blockdir, flag, detail);
	if (sysroot_pathf(slaves, sizeof(slaves), "%s/slaves", blockdir) < 0 || sysroot_opendir(r, slaves, &d) < 0)
		return;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (sysroot_pathf(sub, sizeof(sub), "sys/class/block/%s", de->d_name) == 0)
			mark_block(r, h, sub, flag, detail, depth + 1);
	}
	closedir(d);
}

/* "/dev/mapper/root" or "/dev/nvme0n1p2" -> "sys/class/block/<kernel name>" */
static int block_dir_of_devnode(const struct sysroot *r, const char *node, char *buf, size_t size)
{
	_cleanup_free_ char *target = NULL;
	const char *base;

	if (strncmp(node, "/dev/", 5) != 0)
		return -EINVAL;
	if (sysroot_readlink(r, node, &target) == 0)
		base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	else
		base = strrchr(node, '/') + 1;
	if (!*base || strchr(base, '.'))
		return -EINVAL;
	return sysroot_pathf(buf, size, "sys/class/block/%s", base);
}

struct mount {
	unsigned maj, min;
	char mountpoint[PATH_MAX];
	char source[PATH_MAX];
};

/* One mountinfo line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
static int parse_mountinfo_line(char *line, struct mount *m)
{
	char *sep = strstr(line, " - ");
	char mp[PATH_MAX], src[PATH_MAX];

	if (!sep || sscanf(line, "%*u %*u %u:%u %*s %4095s", &m->maj, &m->min, mp) != 3)
		return -EINVAL;
	if (sscanf(sep + 3, "%*s %4095s", src) != 1)
		return -EINVAL;
	/* mountinfo escapes spaces as \040; the paths are only shown to users */
	(void)xsnprintf(m->mountpoint, sizeof(m->mountpoint), "%s", mp);
	(void)xsnprintf(m->source, sizeof(m->source), "%s", src);
	return 0;
}

static void mark_mount(const struct sysroot *r, struct pcihost *h, const struct mount *m, unsigned flag,
		       const char *what)
{
	char blockdir[PATH_MAX], detail[PATH_MAX + 64];

	if (xsnprintf(detail, sizeof(detail), "%s %s", what, m->mountpoint) < 0)
		return;
	if (m->maj != 0) {
		if (sysroot_pathf(blockdir, sizeof(blockdir), "sys/dev/block/%u:%u", m->maj, m->min) == 0)
			mark_block(r, h, blockdir, flag, detail, 0);
		return;
	}
	/* btrfs and others report an anonymous 0:N; the source names the device */
	if (block_dir_of_devnode(r, m->source, blockdir, sizeof(blockdir)) == 0)
		mark_block(r, h, blockdir, flag, detail, 0);
}

static void scan_mounts(const struct sysroot *r, struct pcihost *h)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (sysroot_read(r, "proc/self/mountinfo", &text, NULL) < 0)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mount m;

		if (parse_mountinfo_line(line, &m) == 0)
			mark_mount(r, h, &m, USE_MOUNT, "mounted filesystem");
	}
}

/* The mount holding path: longest mountpoint prefix. */
static int find_mount(const struct sysroot *r, const char *path, struct mount *ret)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	size_t best = 0;
	int found = -ENOENT;

	if (sysroot_read(r, "proc/self/mountinfo", &text, NULL) < 0)
		return -ENOENT;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mount m;
		size_t n;

		if (parse_mountinfo_line(line, &m) < 0)
			continue;
		n = strlen(m.mountpoint);
		if (strncmp(path, m.mountpoint, n) == 0 && (n == 1 || path[n] == '/' || !path[n]) && n >= best) {
			best = n;
			*ret = m;
			found = 0;
		}
	}
	return found;
}

static void scan_swaps(const struct sysroot *r, struct pcihost *h)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	if (sysroot_read(r, "proc/swaps", &text, NULL) < 0)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[PATH_MAX], type[32], blockdir[PATH_MAX], detail[PATH_MAX + 16];
		struct mount m;

		if (sscanf(line, "%4095s %31s", name, type) != 2 || streq(name, "Filename"))
			continue;
		if (xsnprintf(detail, sizeof(detail), "swap on %s", name) < 0)
			continue;
		if (streq(type, "partition") && block_dir_of_devnode(r, name, blockdir, sizeof(blockdir)) == 0)
			mark_block(r, h, blockdir, USE_SWAP, detail, 0);
		else if (streq(type, "file") && find_mount(r, name, &m) == 0)
			mark_mount(r, h, &m, USE_SWAP, detail);
	}
}

/* An interface and what it sits on (bond slaves, bridge ports, vlan parents). */
static void mark_netdev(const struct sysroot *r, struct pcihost *h, const char *ifname, const char *detail, int depth)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (depth > MAX_DEPTH || strchr(ifname, '/') || sysroot_pathf(dir, sizeof(dir), "sys/class/net/%s", ifname) < 0)
		return;
	(void)mark_link(r, h, dir, USE_ROUTE, detail);
	if (sysroot_opendir(r, dir, &d) < 0)
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "lower_", 6) == 0 && de->d_name[6])
			mark_netdev(r, h, de->d_name + 6, detail, depth + 1);
	closedir(d);
}

static void mark_route_iface(const struct sysroot *r, struct pcihost *h, const char *ifname, const char *family)
{
	char detail[128];

	if (streq(ifname, "lo") || xsnprintf(detail, sizeof(detail), "%s default route via %s", family, ifname) < 0)
		return;
	mark_netdev(r, h, ifname, detail, 0);
}

static void scan_routes(const struct sysroot *r, struct pcihost *h)
{
	_cleanup_free_ char *v4 = NULL, *v6 = NULL;
	char *save = NULL;

	if (sysroot_read(r, "proc/net/route", &v4, NULL) == 0)
		for (char *l = strtok_r(v4, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char ifname[64], dest[16], mask[16];

			if (sscanf(l, "%63s %15s %*s %*s %*s %*s %*s %15s", ifname, dest, mask) == 3 &&
			    streq(dest, "00000000") && streq(mask, "00000000"))
				mark_route_iface(r, h, ifname, "IPv4");
		}
	save = NULL;
	if (sysroot_read(r, "proc/net/ipv6_route", &v6, NULL) == 0)
		for (char *l = strtok_r(v6, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char dest[40], len[4], ifname[64];

			if (sscanf(l, "%39s %3s %*s %*s %*s %*s %*s %*s %*s %63s", dest, len, ifname) == 3 &&
			    streq(len, "00") && strspn(dest, "0") == 32)
				mark_route_iface(r, h, ifname, "IPv6");
		}
}

static bool input_has_keys(const struct sysroot *r, const char *dir)
{
	char path[PATH_MAX], buf[64];
	unsigned long ev;

	if (sysroot_pathf(path, sizeof(path), "%s/capabilities/ev", dir) < 0 ||
	    sysroot_read_line(r, path, buf, sizeof(buf)) < 0 || parse_uint(strip_trailing(buf), 16, ULONG_MAX, &ev) < 0)
		return false;
	return ev & (1UL << 1); /* EV_KEY: keyboards, and mice with buttons */
}

static void scan_inputs(const struct sysroot *r, struct pcihost *h)
{
	struct dirent *de;
	DIR *d;

	if (sysroot_opendir(r, "sys/class/input", &d) < 0)
		return;
	while ((de = readdir(d))) {
		char dir[PATH_MAX], path[PATH_MAX], name[128] = "", detail[256];

		if (strncmp(de->d_name, "input", 5) != 0 ||
		    sysroot_pathf(dir, sizeof(dir), "sys/class/input/%s", de->d_name) < 0 || !input_has_keys(r, dir))
			continue;
		if (sysroot_pathf(path, sizeof(path), "%s/name", dir) == 0)
			(void)sysroot_read_line(r, path, name, sizeof(name));
		if (xsnprintf(detail, sizeof(detail), "input device %s '%s'", de->d_name, name) < 0)
			continue;
		(void)mark_link(r, h, dir, USE_INPUT, detail);
	}
	closedir(d);
}

/* Which vtconsole driver is bound: fbcon, or vgacon on legacy text mode */
static void console_driver(const struct sysroot *r, char *buf, size_t size)
{
	struct dirent *de;
	DIR *d;

	buf[0] = '\0';
	if (sysroot_opendir(r, "sys/class/vtconsole", &d) < 0)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX], name[128], bind[8];

		if (de->d_name[0] == '.' ||
		    sysroot_pathf(path, sizeof(path), "sys/class/vtconsole/%s/bind", de->d_name) < 0 ||
		    sysroot_read_line(r, path, bind, sizeof(bind)) < 0 || !streq(bind, "1"))
			continue;
		if (sysroot_pathf(path, sizeof(path), "sys/class/vtconsole/%s/name", de->d_name) < 0 ||
		    sysroot_read_line(r, path, name, sizeof(name)) < 0)
			continue;
		if (strstr(name, "frame buffer"))
			(void)xsnprintf(buf, size, "fbcon");
		else if (strstr(name, "VGA"))
			(void)xsnprintf(buf, size, "vgacon");
	}
	closedir(d);
}

static struct pcifn *boot_vga(struct pcihost *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->fns[i].boot_vga == 1)
			return &h->fns[i];
	return NULL;
}

/*
 * A framebuffer on the boot VGA marks it; a platform one (efifb,
 * simplefb, simpledrm) lives in the boot VGA's memory, so it marks it too.
 * Framebuffers on other GPUs go away cleanly with their driver.
 */
static void mark_framebuffer(const struct sysroot *r, struct pcihost *h, const char *fb, const char *con)
{
	char dir[PATH_MAX], path[PATH_MAX], name[128] = "", detail[256];
	_cleanup_free_ char *canon = NULL;
	struct pcifn *vga = boot_vga(h);

	if (sysroot_pathf(dir, sizeof(dir), "sys/class/graphics/%s", fb) < 0 || sysroot_canonical(r, dir, &canon) < 0)
		return;
	if (sysroot_pathf(path, sizeof(path), "%s/name", dir) == 0)
		(void)sysroot_read_line(r, path, name, sizeof(name));
	if (xsnprintf(detail, sizeof(detail), "%s%sframebuffer %s '%s'", con, *con ? " on " : "", fb, name) < 0)
		return;
	if (strstr(canon, "/pci"))
		(void)mark_path_if(h, canon, USE_CONSOLE, detail, true);
	else if (vga && (strstr(canon, "framebuffer") || strstr(canon, "simpledrm")))
		add_use(vga, USE_CONSOLE, detail);
}

static void scan_consoles(const struct sysroot *r, struct pcihost *h)
{
	struct pcifn *vga = boot_vga(h);
	struct dirent *de;
	char con[16];
	bool any_fb = false;
	DIR *d;

	console_driver(r, con, sizeof(con));
	if (sysroot_opendir(r, "sys/class/graphics", &d) == 0) {
		while ((de = readdir(d)))
			if (strncmp(de->d_name, "fb", 2) == 0 && de->d_name[2]) {
				mark_framebuffer(r, h, de->d_name, con);
				any_fb = true;
			}
		closedir(d);
	}
	if (!any_fb && vga && streq(con, "vgacon"))
		add_use(vga, USE_CONSOLE, "VGA text console (vgacon)");
}

void usage_scan_console(const struct sysroot *r, struct pcihost *h)
{
	scan_consoles(r, h);
}

int usage_scan(const struct sysroot *r, struct pcihost *h)
{
	scan_consoles(r, h);
	scan_mounts(r, h);
	scan_swaps(r, h);
	scan_routes(r, h);
	scan_inputs(r, h);
	return 0;
}
