/* atomicfile.c - temp file in the same directory, fsync, rename, fsync the directory */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "util.h"

#define TEMP_TRIES 64
#define TEMP_INFIX ".pcibind-"
#define TEMP_HEX   "0123456789abcdef"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The directory of rel, opened for fsync, and the last component. With
 * create, the missing directories are created. No directory on the way
 * may be a symlink (-ELOOP): a link at etc/modprobe.d would take the write
 * (or the removal) out of the root.
 */
static int open_parent(const struct sysroot *r, const char *rel, bool create, int *ret_fd, const char **ret_name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(rel, '/');
	int fd;

	if (!slash) {
		*ret_name = rel;
		fd = sysroot_mkdirs(r, ".", 0755);
	} else {
		if (xsnprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel) < 0)
			return -ENAMETOOLONG;
		*ret_name = slash + 1;
		fd = create ? sysroot_mkdirs(r, dir, 0755)
			    : sysroot_openat_how(r, dir, O_RDONLY | O_DIRECTORY, 0, SYSROOT_NO_SYMLINKS);
	}
	if (fd < 0)
		return fd;
	if (!**ret_name) {
		close(fd);
		return -EINVAL;
	}
	*ret_fd = fd;
	return 0;
}

/* what rel is now: 0 and *st if a regular file, 1 if absent, -errno (-ELOOP for a symlink) */
static int target_state(int dirfd, const char *name, struct stat *st)
{
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 1 : -errno;
	if (S_ISLNK(st->st_mode))
		return -ELOOP;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	return 0;
}

/* ".NAME.pcibind-" and eight hex digits: a temporary file create_temp made for name */
static bool is_temp_of(const char *ent, const char *name)
{
	size_t n = strlen(name);

	if (ent[0] != '.' || strncmp(ent + 1, name, n) != 0 ||
	    strncmp(ent + 1 + n, TEMP_INFIX, strlen(TEMP_INFIX)) != 0)
		return false;
	ent += 1 + n + strlen(TEMP_INFIX);
	return strspn(ent, TEMP_HEX) == 8 && ent[8] == '\0';
}

/* its writer holds a lock on it while it lives; a killed writer's lock went with it */
static void remove_if_stale(int dirfd, const char *ent)
{
	_cleanup_close_ int fd = openat(dirfd, ent, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat locked, now;

	if (fd < 0 || fstat(fd, &locked) < 0 || !S_ISREG(locked.st_mode) || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return;
	if (fstatat(dirfd, ent, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == locked.st_dev &&
	    now.st_ino == locked.st_ino)
		(void)unlinkat(dirfd, ent, 0);
}

/* temporary files for name that a killed run left behind; best effort, they are never read */
static void remove_stale_temps(int dirfd, const char *name)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (is_temp_of(e->d_name, name))
			remove_if_stale(dirfd, e->d_name);
	(void)closedir(d);
}

static int create_temp(int dirfd, const char *name, char *tmp, size_t size)
{
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)(size_t)tmp;

	for (int i = 0; i < TEMP_TRIES; i++) {
		int fd;

		seed = seed * 1103515245u + 12345u;
		if (xsnprintf(tmp, size, ".%s.pcibind-%08x", name, seed) < 0)
			return -ENAMETOOLONG;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0) {
			/* marks it live for remove_stale_temps; without the lock (no flock on this
			 * file system) another run may remove it, and the rename fails cleanly */
			(void)flock(fd, LOCK_EX | LOCK_NB);
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int fill_temp(int fd, const void *data, size_t len, const struct stat *old, mode_t mode)
{
	int err = write_all(fd, data, len);

	if (err < 0)
		return err;
	if (old && (old->st_uid != geteuid() || old->st_gid != getegid()) && fchown(fd, old->st_uid, old->st_gid) < 0)
		return -errno;
	if (fchmod(fd, old ? old->st_mode & 07777 : mode) < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int atomicfile_write(const struct sysroot *r, const char *rel, const void *data, size_t len, mode_t mode)
{
	_cleanup_close_ int dirfd = -1;
	_cleanup_close_ int fd = -1;
	char tmp[NAME_MAX + 1];
	const char *name;
	struct stat st;
	int err, state;

	while (*rel == '/')
		rel++;
	if ((err = open_parent(r, rel, true, &dirfd, &name)) < 0)
		return err;
	if ((state = target_state(dirfd, name, &st)) < 0)
		return state;
	remove_stale_temps(dirfd, name);
	if ((fd = create_temp(dirfd, name, tmp, sizeof(tmp))) < 0)
		return fd;
	err = fill_temp(fd, data, len, state == 0 ? &st : NULL, mode);
	/* rename replaces whatever is at name now, a symlink planted since included, never its target */
	if (err == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		err = -errno;
	if (err < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return err;
	}
	return fsync(dirfd) < 0 ? -errno : 0;
}

/* the parents of rel up to and including prune, while the removal leaves them empty */
static void prune_dirs(const struct sysroot *r, const char *rel, const char *prune)
{
	size_t n = strlen(prune);
	char dir[PATH_MAX];
	char *slash;

	if (xsnprintf(dir, sizeof(dir), "%s", rel) < 0)
		return;
	while ((slash = strrchr(dir, '/'))) {
		*slash = '\0';
		if (strlen(dir) < n || strncmp(dir, prune, n) != 0 || (dir[n] && dir[n] != '/'))
			return;
		if (sysroot_rmdir(r, dir) < 0)
			return; /* not empty, not there, or a symlink on the way: done */
	}
}

/* rel's directory, opened if it is there (1), with a killed run's temporary files for rel cleared; 0: none */
static int open_swept_parent(const struct sysroot *r, const char *rel, int *ret_dirfd, const char **ret_name)
{
	int err;

	while (*rel == '/')
		rel++;
	if ((err = open_parent(r, rel, false, ret_dirfd, ret_name)) < 0)
		return err == -ENOENT ? 0 : err;
	remove_stale_temps(*ret_dirfd, *ret_name);
	return 1;
}

int atomicfile_remove(const struct sysroot *r, const char *rel, const char *prune)
{
	_cleanup_close_ int dirfd = -1;
	const char *name;
	struct stat st;
	int err, state;

	if ((err = open_swept_parent(r, rel, &dirfd, &name)) <= 0)
		return err;
	if ((state = target_state(dirfd, name, &st)) < 0)
		return state;
	if (state == 0 && unlinkat(dirfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fsync(dirfd) < 0)
		return -errno;
	if (prune)
		prune_dirs(r, rel[0] == '/' ? rel + strspn(rel, "/") : rel, prune);
	return 0;
}

int atomicfile_sweep(const struct sysroot *r, const char *rel)
{
	_cleanup_close_ int dirfd = -1;
	const char *name;
	int err = open_swept_parent(r, rel, &dirfd, &name);

	if (err <= 0)
		return err;
	return fsync(dirfd) < 0 ? -errno : 0;
}
