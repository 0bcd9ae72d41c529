/* unitlink.c - a systemd unit's [Install] symlinks below a root, created and removed as systemctl --root does */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unitlink.h"
#include "util.h"

#define ETC_UNITS "etc/systemd/system"

/* systemd's system unit search path, without the generator and control directories pcibind has no use for */
static const char *const search_path[] = {
	ETC_UNITS, "run/systemd/system", "usr/local/lib/systemd/system", "usr/lib/systemd/system", "lib/systemd/system",
};

/* "/dev/null" when rel is a symlink to it (a masked unit) */
static bool is_masked(const struct sysroot *r, const char *rel)
{
	_cleanup_free_ char *target = NULL;

	return sysroot_readlink(r, rel, &target) == 0 && streq(target, "/dev/null");
}

static int find_unit(const struct sysroot *r, const char *unit, struct unit_links *u, char **ret_text)
{
	char rel[PATH_MAX];
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(search_path); i++) {
		if (xsnprintf(rel, sizeof(rel), "%s/%s", search_path[i], unit) < 0)
			return -ENAMETOOLONG;
		if (i == 0 && is_masked(r, rel)) {
			u->masked = true;
			continue;
		}
		err = sysroot_read(r, rel, ret_text, NULL);
		if (err == -ENOENT)
			continue;
		if (err < 0)
			return err;
		return xsnprintf(u->path, sizeof(u->path), "/%s", rel);
	}
	return -ENOENT;
}

static int add_link(struct unit_links *u, const char *target, const char *kind)
{
	char link[UNIT_PATH_MAX];
	int err;

	if (!unit_name_valid(target))
		return -EINVAL;
	if ((err = xsnprintf(link, sizeof(link), ETC_UNITS "/%s.%s/%s", target, kind, u->unit)) < 0)
		return err;
	for (size_t i = 0; i < u->n_links; i++)
		if (streq(u->links[i], link))
			return 0;
	if (u->n_links >= UNIT_LINKS_MAX)
		return -E2BIG;
	memcpy(u->links[u->n_links++], link, strlen(link) + 1);
	return 0;
}

/* the targets of one "WantedBy=a.target b.target" line */
static int add_links(struct unit_links *u, char *value, const char *kind)
{
	char *save = NULL;
	int err;

	for (char *w = strtok_r(value, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if ((err = add_link(u, w, kind)) < 0)
			return err;
	return 0;
}

static int parse_install(struct unit_links *u, char *text)
{
	bool install = false;
	char *save = NULL;
	int err = 0;

	for (char *l = strtok_r(text, "\n", &save); l && err == 0; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		strip_trailing(l);
		if (l[0] == '[')
			install = streq(l, "[Install]");
		else if (install && strncmp(l, "WantedBy=", 9) == 0)
			err = add_links(u, l + 9, "wants");
		else if (install && strncmp(l, "RequiredBy=", 11) == 0)
			err = add_links(u, l + 11, "requires");
	}
	return err;
}

/* rel (below the root, symlinks followed in it) is the same file as u->path */
static bool same_inode(const struct sysroot *r, const char *rel, const struct unit_links *u)
{
	_cleanup_close_ int a = sysroot_openat(r, rel, O_PATH, 0);
	_cleanup_close_ int b = sysroot_openat(r, u->path + 1, O_PATH, 0);
	struct stat sa, sb;

	return a >= 0 && b >= 0 && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* an absolute target in a directory of the unit search path, named unit */
static bool in_search_path(const char *target, const char *unit)
{
	const char *slash = strrchr(target, '/');

	if (target[0] != '/' || !slash || !streq(slash + 1, unit))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(search_path); i++) {
		size_t n = strlen(search_path[i]);
		if ((size_t)(slash - target - 1) == n && strncmp(target + 1, search_path[i], n) == 0)
			return true;
	}
	return false;
}

/*
 * Does the link's target name the unit file? What systemctl enable
 * accepts as "already exists": the same path, the same file (on merged
 * /usr, /lib/systemd/system/X is /usr/lib/systemd/system/X), or a file of
 * the unit's name in the unit search path.
 */
static bool link_equivalent(const struct sysroot *r, const struct unit_links *u, size_t i, const char *target)
{
	char rel[PATH_MAX];
	const char *slash = strrchr(u->links[i], '/');

	if (streq(target, u->path) || in_search_path(target, u->unit))
		return true;
	if (target[0] == '/')
		return same_inode(r, target + 1, u);
	return xsnprintf(rel, sizeof(rel), "%.*s/%s", (int)(slash - u->links[i]), u->links[i], target) == 0 &&
	       same_inode(r, rel, u);
}

/* is the link in place? present, or what is there instead */
static void link_state(const struct sysroot *r, struct unit_links *u, size_t i)
{
	_cleanup_free_ char *target = NULL;
	int err = sysroot_readlink(r, u->links[i], &target);

	if (err == 0 && link_equivalent(r, u, i, target))
		u->present[i] = true;
	else if (err == 0)
		(void)snprintf(u->conflict[i], UNIT_PATH_MAX, "a symlink to %s", target);
	else if (err == -EINVAL)
		(void)snprintf(u->conflict[i], UNIT_PATH_MAX, "a file that is not a symlink");
	else if (err != -ENOENT)
		(void)snprintf(u->conflict[i], UNIT_PATH_MAX, "unreadable: %s", strerror(-err));
}

int unit_links_read(const struct sysroot *r, const char *unit, struct unit_links *ret)
{
	_cleanup_free_ char *text = NULL;
	struct unit_links u = { 0 };
	int err;

	if (!unit_name_valid(unit))
		return -EINVAL;
	memcpy(u.unit, unit, strlen(unit) + 1);
	if ((err = find_unit(r, unit, &u, &text)) < 0 && !(err == -ENOENT && u.masked))
		return err;
	if (text && (err = parse_install(&u, text)) < 0)
		return err;
	for (size_t i = 0; i < u.n_links; i++)
		link_state(r, &u, i);
	*ret = u;
	return 0;
}

bool unit_links_enabled(const struct unit_links *u)
{
	for (size_t i = 0; i < u->n_links; i++)
		if (!u->present[i])
			return false;
	return !u->masked && u->n_links > 0;
}

/* the directory of a link, created if missing, opened without following a symlink at its end */
static int open_link_dir(const struct sysroot *r, const char *link, const char **ret_name)
{
	const char *slash = strrchr(link, '/');
	char dir[PATH_MAX];
	int err;

	if (!slash || xsnprintf(dir, sizeof(dir), "%.*s", (int)(slash - link), link) < 0)
		return -EINVAL;
	if ((err = sysroot_mkdir_p(r, dir, 0755)) < 0)
		return err;
	*ret_name = slash + 1;
	return sysroot_openat(r, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
}

static int make_link(const struct sysroot *r, const char *link, const char *target)
{
	_cleanup_close_ int dfd = -1;
	const char *name;
	char tmp[NAME_MAX + 1];
	int err = 0;

	if ((dfd = open_link_dir(r, link, &name)) < 0)
		return dfd;
	for (int tries = 0; tries < 16; tries++) {
		if (xsnprintf(tmp, sizeof(tmp), ".#%s%08lx", name, (unsigned long)(random() ^ getpid())) < 0)
			return -ENAMETOOLONG;
		if (symlinkat(target, dfd, tmp) == 0)
			break;
		if (errno != EEXIST)
			return -errno;
		tmp[0] = '\0';
	}
	if (!tmp[0])
		return -EEXIST;
	if (renameat(dfd, tmp, dfd, name) < 0) {
		err = -errno;
		(void)unlinkat(dfd, tmp, 0);
		return err;
	}
	return fsync(dfd) < 0 ? -errno : 0;
}

int unit_enable(const struct sysroot *r, const struct unit_links *u)
{
	int made = 0, err;

	if (u->masked)
		return -EPERM;
	for (size_t i = 0; i < u->n_links; i++)
		if (u->conflict[i][0])
			return -EEXIST;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	for (size_t i = 0; i < u->n_links; i++) {
		if (u->present[i])
			continue;
		if ((err = make_link(r, u->links[i], u->path)) < 0)
			return err;
		made++;
	}
	return made;
}

static bool link_dir_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' &&
	       ((n > 6 && streq(name + n - 6, ".wants")) || (n > 9 && streq(name + n - 9, ".requires")));
}

/* in one etc/systemd/system/X.wants: the symlink named unit removed (or counted); 1 if it was there */
static int drop_link(const struct sysroot *r, const char *dir, const char *unit, bool remove)
{
	_cleanup_close_ int dfd = -1;
	char rel[PATH_MAX];
	struct stat st;

	if (xsnprintf(rel, sizeof(rel), ETC_UNITS "/%s", dir) < 0)
		return -ENAMETOOLONG;
	dfd = sysroot_openat(r, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (dfd < 0)
		return dfd == -ENOTDIR || dfd == -ELOOP ? 0 : dfd;
	if (fstatat(dfd, unit, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISLNK(st.st_mode))
		return 0; /* not a link systemctl made: left alone, as systemctl does */
	if (!remove)
		return 1;
	if (unlinkat(dfd, unit, 0) < 0)
		return -errno;
	(void)fsync(dfd);
	(void)unlinkat(sysroot_fd(r), rel, AT_REMOVEDIR); /* only when empty, as systemctl disable does */
	return 1;
}

static int walk_links(const struct sysroot *r, const char *unit, bool remove)
{
	struct dirent *de;
	DIR *d = NULL;
	int n = 0, err;

	if (!unit_name_valid(unit))
		return -EINVAL;
	err = sysroot_opendir(r, ETC_UNITS, &d);
	if (err == -ENOENT)
		return 0;
	if (err < 0)
		return err;
	while ((de = readdir(d))) {
		if (!link_dir_name(de->d_name))
			continue;
		if ((err = drop_link(r, de->d_name, unit, remove)) < 0)
			break;
		n += err;
		err = 0;
	}
	closedir(d);
	return err < 0 ? err : n;
}

int unit_disable(const struct sysroot *r, const char *unit)
{
	return walk_links(r, unit, true);
}

int unit_count_links(const struct sysroot *r, const char *unit)
{
	return walk_links(r, unit, false);
}
