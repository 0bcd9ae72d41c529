/* sysroot.c - root-relative file access: the only code that names the filesystem */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int sysroot_openat(const struct sysroot *r, const char *rel, int flags, mode_t mode)
{
	int fd = openat(r->fd, rel_path(rel), flags | O_CLOEXEC, mode);

	return fd < 0 ? -errno : fd;
}

int sysroot_exists(const struct sysroot *r, const char *rel)
{
	return faccessat(r->fd, rel_path(rel), F_OK, 0) < 0 ? -errno : 0;
}

static int read_fd(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (size - len < 2) {
			char *nb = size > (64u << 20) ? NULL : realloc(buf, size * 2);
			if (!nb) {
				free(buf);
				return -EFBIG;
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
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int sysroot_read(const struct sysroot *r, const char *rel, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = sysroot_openat(r, rel, O_RDONLY | O_NOCTTY, 0);

	if (fd < 0)
		return fd;
	return read_fd(fd, ret, ret_len);
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
	_cleanup_close_ int fd = sysroot_openat(r, rel, O_RDONLY | O_NOCTTY, 0);

	if (fd < 0)
		return fd;
	return read_line_fd(fd, buf, size);
}

int sysroot_read_line_at(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOCTTY | O_CLOEXEC);

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
	_cleanup_close_ int fd = sysroot_openat(r, rel, O_WRONLY | O_NOCTTY, 0);
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
	char buf[PATH_MAX];
	ssize_t n = readlinkat(r->fd, rel_path(rel), buf, sizeof(buf));

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
	char full[PATH_MAX];
	_cleanup_free_ char *canon = NULL;
	size_t rootlen = strlen(r->path);
	const char *p;
	int err;

	err = xsnprintf(full, sizeof(full), "%s/%s", sysroot_is_host(r) ? "" : r->path, rel_path(rel));
	if (err < 0)
		return err;
	canon = realpath(full, NULL);
	if (!canon)
		return -errno;
	if (sysroot_is_host(r))
		p = canon;
	else if (strncmp(canon, r->path, rootlen) == 0 && (canon[rootlen] == '/' || !canon[rootlen]))
		p = canon + rootlen;
	else
		return -EXDEV; /* resolved outside the root */
	while (*p == '/')
		p++;
	*ret = strdup(p);
	return *ret ? 0 : -ENOMEM;
}

int sysroot_opendir(const struct sysroot *r, const char *rel, DIR **ret)
{
	int fd = sysroot_openat(r, rel, O_RDONLY | O_DIRECTORY, 0);
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

int sysroot_mkdir_p(const struct sysroot *r, const char *rel, mode_t mode)
{
	char path[PATH_MAX];
	int err = xsnprintf(path, sizeof(path), "%s", rel_path(rel));

	if (err < 0)
		return err;
	for (char *p = path;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdirat(r->fd, path, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
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
