/* state.c - pcibind's state directories and files: one owner and mode rule, one trusted reader */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "state.h"
#include "util.h"

/*
 * A directory root trusts: root's (or this user's, for tests), writable by
 * nobody else. Its parent may be writable by all when sticky, as a tmpfs
 * mounted without mode= is (a rescue shell's /run): there nobody else can
 * rename or remove what root made, and a directory someone else made
 * first is refused as theirs. own: pcibind's, made 0700 if readable by others.
 */
static int check_dir(int fd, bool own)
{
	struct stat st;
	bool sticky;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return -EPERM;
	sticky = !own && (st.st_mode & S_ISVTX);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky)
		return -EPERM;
	if (own && (st.st_mode & 077) && fchmod(fd, 0700) < 0)
		return -errno;
	return 0;
}

/* name in parent: made 0700 when create, opened without following a symlink, checked as pcibind's own */
static int own_dir_at(int parent, const char *name, bool create)
{
	struct stat st;
	int fd, err;

	if (create && mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		return fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) ? -ELOOP : err;
	}
	if ((err = check_dir(fd, true)) < 0) {
		close(fd);
		return err;
	}
	return fd;
}

int state_run_dir(const struct sysroot *r, bool create)
{
	_cleanup_close_ int parent = -1;
	int err;

	parent = create ? sysroot_mkdirs(r, RUN_PARENT, 0755)
			: sysroot_openat_how(r, RUN_PARENT, O_RDONLY | O_DIRECTORY, 0, SYSROOT_NO_SYMLINKS);
	if (parent < 0)
		return parent;
	if ((err = check_dir(parent, false)) < 0)
		return err;
	return own_dir_at(parent, RUN_NAME, create);
}

int state_run_subdir(const struct sysroot *r, const char *name, bool create)
{
	_cleanup_close_ int run = state_run_dir(r, create);

	if (run < 0)
		return run;
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	return own_dir_at(run, name, create);
}

static int read_checked(int fd, size_t max, char **ret, size_t *ret_len, unsigned *ret_line)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	const char *nul;
	size_t len = 0;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	if ((err = sysroot_read_fd(fd, max, &buf, &len)) < 0)
		return err;
	if ((nul = memchr(buf, '\0', len))) {
		if (ret_line) {
			*ret_line = 1;
			for (const char *c = buf; c < nul; c++)
				*ret_line += *c == '\n';
		}
		return -EBADMSG;
	}
	*ret = buf;
	buf = NULL;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int state_read_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, unsigned *ret_line)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return read_checked(fd, max, ret, ret_len, ret_line);
}

int state_read(const struct sysroot *r, const char *rel, size_t max, char **ret, size_t *ret_len, unsigned *ret_line)
{
	_cleanup_close_ int fd = sysroot_openat_how(r, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, SYSROOT_NO_SYMLINKS);

	if (fd < 0)
		return fd;
	return read_checked(fd, max, ret, ret_len, ret_line);
}

const char *state_strerror(int err)
{
	switch (err) {
	case -EPERM:
		return "not owned by root or writable by others";
	case -EINVAL:
		return "not a regular file (a FIFO, a device or a directory)";
	case -ELOOP:
		return "a symbolic link, or one is on its way";
	case -EFBIG:
		return "larger than any record pcibind writes";
	case -EBADMSG:
		return "not text (a NUL byte)";
	default:
		return strerror(-err);
	}
}

int state_mark(const struct sysroot *r, const char *name, bool set)
{
	char rel[128];
	int err;

	if (strchr(name, '/') || xsnprintf(rel, sizeof(rel), STATE_LIB_DIR "/%s", name) < 0)
		return -EINVAL;
	if (set)
		return atomicfile_write(r, rel, "", 0, 0644);
	err = atomicfile_remove(r, rel, STATE_LIB_DIR);
	return err == -ENOENT ? 0 : err;
}

bool state_marked(const struct sysroot *r, const char *name)
{
	_cleanup_free_ char *text = NULL;
	char rel[128];

	return !strchr(name, '/') && xsnprintf(rel, sizeof(rel), STATE_LIB_DIR "/%s", name) == 0 &&
	       state_read(r, rel, 64, &text, NULL, NULL) == 0;
}

/* ---- notes in the run directory ---- */

static bool one_component(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/');
}

int state_note_read(const struct sysroot *r, const char *name, size_t max, char **ret)
{
	_cleanup_close_ int dirfd = -1;

	if (!one_component(name))
		return -EINVAL;
	if ((dirfd = state_run_dir(r, false)) < 0)
		return dirfd;
	return state_read_at(dirfd, name, max, ret, NULL, NULL);
}

int state_note_write(const struct sysroot *r, const char *name, const char *text)
{
	_cleanup_close_ int dirfd = -1;
	char tmp[NAME_MAX + 1];
	size_t len = strlen(text);
	int fd, err = 0;

	if (!one_component(name) || xsnprintf(tmp, sizeof(tmp), ".%s.tmp", name) < 0)
		return -EINVAL;
	if ((dirfd = state_run_dir(r, true)) < 0)
		return dirfd;
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(dirfd, tmp, dirfd, name) < 0)
		err = -errno;
	if (err)
		(void)unlinkat(dirfd, tmp, 0);
	return err;
}

int state_note_once(const struct sysroot *r, const char *name, const char *text)
{
	_cleanup_close_ int dirfd = -1, fd = -1;
	char old[1024] = "";
	size_t len = strlen(text);
	struct stat st;
	ssize_t n;

	if (!one_component(name) || len >= sizeof(old))
		return -EINVAL;
	if ((dirfd = state_run_dir(r, true)) < 0)
		return dirfd;
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (flock(fd, LOCK_EX) < 0)
		return -errno;
	n = pread(fd, old, sizeof(old) - 1, 0);
	if (n >= 0 && (size_t)n == len && memcmp(old, text, len) == 0)
		return 1;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, len, 0) != (ssize_t)len)
		return -EIO;
	return 0;
}

int state_note_remove(const struct sysroot *r, const char *name)
{
	_cleanup_close_ int dirfd = -1;

	if (!one_component(name))
		return -EINVAL;
	if ((dirfd = state_run_dir(r, false)) < 0)
		return dirfd == -ENOENT ? 0 : dirfd;
	return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}
