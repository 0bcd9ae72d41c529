/* sysroot.c - root-relative file access: the only code that names the filesystem */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sysroot.h"
#include "util.h"

struct sysroot {
	int fd;
	char *path; /* canonical, "/" for the host */
};

int sysroot_open(const char *path, struct sysroot **ret)
{
	struct sysroot *r;
	char *canon;
	int fd;

	canon = realpath(path, NULL);
	if (!canon)
		return -errno;
	fd = open(canon, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		free(canon);
		return e;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		free(canon);
		return -ENOMEM;
	}
	r->fd = fd;
	r->path = canon;
	*ret = r;
	return 0;
}

void sysroot_free(struct sysroot *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
}

const char *sysroot_path(const struct sysroot *r)
{
	return r->path;
}

bool sysroot_is_host(const struct sysroot *r)
{
	return streq(r->path, "/");
}

int sysroot_fd(const struct sysroot *r)
{
	return r->fd;
}

static const char *rel_path(const char *rel)
{
	while (*rel == '/')
		rel++;
	return *rel ? rel : ".";
}

/* ---- resolution below the root ---- */

#define MAX_LINKS 40
#define MAX_DEPTH 64

/* set once openat2 answered ENOSYS (kernels before 5.6, valgrind 3.19): from then on, the walk */
static int openat2_missing;

static int try_openat2(int dirfd, const char *rel, int flags, mode_t mode, enum sysroot_how how)
{
	struct open_how oh = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0,
		.resolve = RESOLVE_NO_MAGICLINKS |
			   (how == SYSROOT_NO_SYMLINKS ? RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS : RESOLVE_IN_ROOT),
	};
	long fd;

	if (__atomic_load_n(&openat2_missing, __ATOMIC_RELAXED))
		return -ENOSYS;
	/*
	 * EAGAIN: a rename or mount anywhere on the system (the kernel's
	 * counters are global) raced with a ".." of the path, as sysfs links
	 * have them; the kernel asks for a retry. A busy system can keep
	 * that up: after a few, the walk (-ENOSYS here) does this one.
	 */
	for (int i = 0; i < 16; i++) {
		fd = syscall(SYS_openat2, dirfd, rel, &oh, sizeof(oh));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			break;
	}
	if (errno == EAGAIN)
		return -ENOSYS;
	if (errno == ENOSYS)
		__atomic_store_n(&openat2_missing, 1, __ATOMIC_RELAXED);
	return -errno;
}

/* The walk: the directories from the root down, each opened O_NOFOLLOW (fds[0] is the root's, not ours) */
struct walk {
	int fds[MAX_DEPTH];
	int depth;
	char *canon; /* the real path so far, NULL when not wanted */
	size_t canon_size, clen;
};

static void walk_pop(struct walk *w)
{
	close(w->fds[w->depth--]);
	if (w->canon) {
		while (w->clen > 0 && w->canon[w->clen - 1] != '/')
			w->clen--;
		if (w->clen > 0)
			w->clen--;
		w->canon[w->clen] = '\0';
	}
}

static int walk_name(struct walk *w, const char *name)
{
	size_t n = strlen(name);

	if (!w->canon)
		return 0;
	if (w->clen + n + 2 > w->canon_size)
		return -ENAMETOOLONG;
	if (w->clen)
		w->canon[w->clen++] = '/';
	memcpy(w->canon + w->clen, name, n + 1);
	w->clen += n;
	return 0;
}

static int walk_push(struct walk *w, int fd, const char *name)
{
	int err;

	if (w->depth + 1 >= MAX_DEPTH || (err = walk_name(w, name)) < 0) {
		close(fd);
		return -ENAMETOOLONG;
	}
	w->fds[++w->depth] = fd;
	return 0;
}

/* the next component of *p into name (one of ".", "..", a name); *p moves past it; false at the end */
static int next_component(char **p, char *name, size_t size, bool *last)
{
	size_t n;

	while (**p == '/')
		(*p)++;
	n = strcspn(*p, "/");
	if (n == 0)
		return 0;
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(name, *p, n);
	name[n] = '\0';
	*p += n;
	while (**p == '/')
		(*p)++;
	*last = !**p;
	return 1;
}

/* rel's last component was a symlink: its target, then the rest, become what is left to resolve */
static int walk_follow(struct walk *w, const char *name, char *pending, size_t size, char **p, unsigned *links)
{
	char target[PATH_MAX], rest[PATH_MAX];
	ssize_t n;

	if (++*links > MAX_LINKS)
		return -ELOOP;
	n = readlinkat(w->fds[w->depth], name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (target[0] == '/') /* absolute: from the root again, as chroot would */
		while (w->depth > 0)
			walk_pop(w);
	if (xsnprintf(rest, sizeof(rest), "%s/%s", target, *p) < 0 || xsnprintf(pending, size, "%s", rest) < 0)
		return -ENAMETOOLONG;
	*p = pending;
	return 0;
}

/* the last component: 0 and *ret_fd, 1 when it is a symlink to follow, or -errno */
static int walk_last(struct walk *w, const char *name, int flags, mode_t mode, enum sysroot_how how, int *ret_fd)
{
	int cur = w->fds[w->depth], fd, err;
	struct stat st;

	fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd >= 0 && (flags & (O_PATH | O_NOFOLLOW)) == O_PATH && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		close(fd); /* O_PATH|O_NOFOLLOW opened the link itself: the caller wants its target */
		fd = -1;
		errno = ELOOP;
	}
	if (fd >= 0) {
		if ((err = walk_name(w, name)) < 0) {
			close(fd);
			return err;
		}
		*ret_fd = fd;
		return 0;
	}
	err = -errno;
	if (flags & O_NOFOLLOW)
		return err;
	/* O_NOFOLLOW on a symlink: ELOOP (ENOTDIR with O_DIRECTORY on some kernels) */
	if ((err == -ELOOP || err == -ENOTDIR) && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return how == SYSROOT_NO_SYMLINKS ? -ELOOP : 1;
	return err;
}

/* a directory on the way: pushed, 1 when it is a symlink to follow, or -errno */
static int walk_dir(struct walk *w, const char *name, enum sysroot_how how)
{
	int fd = openat(w->fds[w->depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (S_ISDIR(st.st_mode))
		return walk_push(w, fd, name);
	close(fd);
	if (!S_ISLNK(st.st_mode))
		return -ENOTDIR;
	return how == SYSROOT_NO_SYMLINKS ? -ELOOP : 1;
}

/*
 * Without openat2: one component at a time, each opened O_NOFOLLOW from
 * the one before, symlinks read and spliced into what is left, ".."
 * taken back on the stack of opened directories, never above the root.
 * Only system calls and the stack: safe in a forked child.
 */
static int walk(int rootfd, const char *rel, int flags, mode_t mode, enum sysroot_how how, char *canon,
		size_t canon_size)
{
	char pending[PATH_MAX], name[NAME_MAX + 1], *p = pending;
	struct walk w = { .fds = { rootfd }, .canon = canon, .canon_size = canon_size };
	unsigned links = 0;
	bool last = false;
	int fd = -1, r;

	if (canon && canon_size)
		canon[0] = '\0';
	if (xsnprintf(pending, sizeof(pending), "%s", rel) < 0)
		return -ENAMETOOLONG;
	for (;;) {
		if ((r = next_component(&p, name, sizeof(name), &last)) < 0)
			goto out;
		if (r == 0) { /* the directory reached so far is what rel names */
			r = (fd = openat(w.fds[w.depth], ".", flags | O_CLOEXEC, mode)) < 0 ? -errno : 0;
			goto out;
		}
		if (streq(name, "..")) {
			if (w.depth > 0) {
				walk_pop(&w);
			} else if (how == SYSROOT_NO_SYMLINKS) {
				r = -EXDEV; /* RESOLVE_BENEATH: never above the root; IN_ROOT stays at it */
				goto out;
			}
		}
		if (streq(name, ".") || streq(name, ".."))
			continue;
		r = last ? walk_last(&w, name, flags, mode, how, &fd) : walk_dir(&w, name, how);
		if (r < 0 || (last && r == 0))
			goto out;
		if (r == 1 && (r = walk_follow(&w, name, pending, sizeof(pending), &p, &links)) < 0)
			goto out;
	}
out:
	while (w.depth > 0)
		close(w.fds[w.depth--]);
	return r < 0 ? r : fd;
}

static int resolve(const struct sysroot *r, const char *rel, int flags, mode_t mode, enum sysroot_how how)
{
	int fd = try_openat2(r->fd, rel_path(rel), flags, mode, how);

	if (fd != -ENOSYS)
		return fd;
	return walk(r->fd, rel_path(rel), flags, mode, how, NULL, 0);
}

int sysroot_openat_how(const struct sysroot *r, const char *rel, int flags, mode_t mode, enum sysroot_how how)
{
	return resolve(r, rel, flags, mode, how);
}

int sysroot_openat(const struct sysroot *r, const char *rel, int flags, mode_t mode)
{
	return resolve(r, rel, flags, mode, SYSROOT_IN_ROOT);
}

int sysroot_exists(const struct sysroot *r, const char *rel)
{
	int fd = resolve(r, rel, O_PATH, 0, SYSROOT_IN_ROOT);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* the directory holding rel's last component (resolved by how) and that component */
static int open_parent(const struct sysroot *r, const char *rel, enum sysroot_how how, char *dir, size_t size,
		       const char **ret_name)
{
	char *slash;
	size_t n;
	int fd;

	if (xsnprintf(dir, size, "%s", rel_path(rel)) < 0)
		return -ENAMETOOLONG;
	for (n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	slash = strrchr(dir, '/');
	*ret_name = slash ? slash + 1 : dir;
	if (streq(*ret_name, ".") || streq(*ret_name, ".."))
		return -EINVAL;
	if (slash)
		*slash = '\0';
	fd = resolve(r, slash ? dir : ".", O_PATH | O_DIRECTORY, 0, how);
	return fd;
}

#define READ_MAX_DEFAULT (64u << 20)

int sysroot_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, size = 4096;
	struct stat st;
	char *buf;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL; /* a FIFO, a device, a directory: never read as a file */
	if (!(buf = malloc(size)))
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (size - len < 2) {
			char *nb = size > max ? NULL : realloc(buf, size * 2);
			if (!nb) {
				free(buf);
				return size > max ? -EFBIG : -ENOMEM;
			}
			buf = nb;
			size *= 2;
		}
		n = read(fd, buf + len, size - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int sysroot_read_how(const struct sysroot *r, const char *rel, enum sysroot_how how, size_t max, char **ret,
		     size_t *ret_len)
{
	_cleanup_close_ int fd = resolve(r, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, how);

	if (fd < 0)
		return fd;
	return sysroot_read_fd(fd, max, ret, ret_len);
}

int sysroot_read(const struct sysroot *r, const char *rel, char **ret, size_t *ret_len)
{
	return sysroot_read_how(r, rel, SYSROOT_IN_ROOT, READ_MAX_DEFAULT, ret, ret_len);
}

static int read_line_fd(int fd, char *buf, size_t size)
{
	ssize_t n;
	char *nl;

	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	else if ((size_t)n == size - 1)
		return -ENAMETOOLONG;
	return 0;
}

int sysroot_read_line(const struct sysroot *r, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = resolve(r, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, SYSROOT_IN_ROOT);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return read_line_fd(fd, buf, size);
}

int sysroot_read_line_at(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return read_line_fd(fd, buf, size);
}

int sysroot_read_ulong(const struct sysroot *r, const char *rel, int base, unsigned long *ret)
{
	char buf[64], *s = buf;
	int err = sysroot_read_line(r, rel, buf, sizeof(buf));

	if (err < 0)
		return err;
	strip_trailing(buf);
	if (base == 16 && (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0))
		s += 2;
	return parse_uint(s, base, ULONG_MAX, ret);
}

int sysroot_write(const struct sysroot *r, const char *rel, const char *data, size_t len)
{
	_cleanup_close_ int fd = resolve(r, rel, O_WRONLY | O_NOCTTY, 0, SYSROOT_IN_ROOT);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int sysroot_readlink(const struct sysroot *r, const char *rel, char **ret)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	const char *name;
	_cleanup_close_ int fd = open_parent(r, rel, SYSROOT_IN_ROOT, dir, sizeof(dir), &name);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = readlinkat(fd, name, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	buf[n] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

int sysroot_link_basename(const struct sysroot *r, const char *rel, char **ret)
{
	_cleanup_free_ char *target = NULL;
	const char *base;
	int err = sysroot_readlink(r, rel, &target);

	if (err < 0)
		return err;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base)
		return -EINVAL;
	*ret = strdup(base);
	return *ret ? 0 : -ENOMEM;
}

int sysroot_canonical(const struct sysroot *r, const char *rel, char **ret)
{
	char canon[PATH_MAX];
	int fd = walk(r->fd, rel_path(rel), O_PATH, 0, SYSROOT_IN_ROOT, canon, sizeof(canon));

	if (fd < 0)
		return fd;
	close(fd);
	*ret = strdup(canon);
	return *ret ? 0 : -ENOMEM;
}

int sysroot_opendir(const struct sysroot *r, const char *rel, DIR **ret)
{
	int fd = resolve(r, rel, O_RDONLY | O_DIRECTORY, 0, SYSROOT_IN_ROOT);
	DIR *d;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	*ret = d;
	return 0;
}

/* one more directory of sysroot_mkdirs: created if missing, opened without following a symlink */
static int mkdir_one(int cur, const char *name, mode_t mode)
{
	struct stat st;
	int fd;

	if (mkdirat(cur, name, mode) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP; /* a symlink on the way */
	return -errno;
}

int sysroot_mkdirs(const struct sysroot *r, const char *rel, mode_t mode)
{
	char path[PATH_MAX], name[NAME_MAX + 1], *p = path;
	bool last = false;
	int cur, err;

	if (xsnprintf(path, sizeof(path), "%s", rel_path(rel)) < 0)
		return -ENAMETOOLONG;
	cur = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	while ((err = next_component(&p, name, sizeof(name), &last)) > 0) {
		int fd;

		if (streq(name, "."))
			continue;
		fd = streq(name, "..") ? -EXDEV : mkdir_one(cur, name, mode);
		if (fd < 0) {
			err = fd;
			break;
		}
		close(cur);
		cur = fd;
	}
	if (err < 0) {
		close(cur);
		return err;
	}
	return cur;
}

int sysroot_mkdir_p(const struct sysroot *r, const char *rel, mode_t mode)
{
	int fd = sysroot_mkdirs(r, rel, mode);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int sysroot_rmdir(const struct sysroot *r, const char *rel)
{
	char dir[PATH_MAX];
	const char *name;
	_cleanup_close_ int fd = open_parent(r, rel, SYSROOT_NO_SYMLINKS, dir, sizeof(dir), &name);

	if (fd < 0)
		return fd;
	return unlinkat(fd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int sysroot_open_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int sysroot_pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = xvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}
