/* util.c - string buffers, errno names, the kernel's little parsers */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcisim.h"

static void die_oom(void)
{
	fputs("pcisim: out of memory\n", stderr);
	abort();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_oom();
	return p;
}

void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die_oom();
	p = realloc(p, n && size ? n * size : 1);
	if (!p)
		die_oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die_oom();
	return d;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		die_oom();
	return d;
}

static void sb_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	while (sb->len + extra + 1 > sb->cap)
		sb->cap = sb->cap ? sb->cap * 2 : 256;
	sb->s = xrealloc(sb->s, sb->cap, 1);
}

void sb_append(struct strbuf *sb, const void *data, size_t len)
{
	sb_reserve(sb, len);
	memcpy(sb->s + sb->len, data, len);
	sb->len += len;
	sb->s[sb->len] = '\0';
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_reserve(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

bool str_printf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	if (!sb)
		return;
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

static const struct {
	int err;
	const char *name;
} errnos[] = {
	{ EPERM, "EPERM" },	{ ENOENT, "ENOENT" },	{ EINTR, "EINTR" },   { EIO, "EIO" },
	{ ENXIO, "ENXIO" },	{ E2BIG, "E2BIG" },	{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" },	{ EBUSY, "EBUSY" },	{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
	{ ENOTDIR, "ENOTDIR" }, { EINVAL, "EINVAL" },	{ ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
	{ ENOSYS, "ENOSYS" },	{ ETIMEDOUT, "ETIMEDOUT" }, { ENOTSUP, "ENOTSUP" }, { 517, "EPROBE_DEFER" },
};

const char *errno_name(int err)
{
	static char buf[16];
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

int errno_parse(const char *s, int *ret)
{
	unsigned long v;
	size_t i;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcasecmp(errnos[i].name, s) == 0) {
			*ret = errnos[i].err;
			return 0;
		}
	if (kstrtoul(s, &v) < 0 || v == 0 || v > 4095)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

bool sysfs_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	if (*a == *b)
		return true;
	if (!*a && *b == '\n' && !b[1])
		return true;
	if (*a == '\n' && !a[1] && !*b)
		return true;
	return false;
}

int kstrtoul(const char *s, unsigned long *ret)
{
	unsigned long long v;
	char *end;

	if (*s == '+')
		s++;
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (*end == '\n')
		end++;
	if (*end)
		return -EINVAL;
	if (v > ULONG_MAX)
		return -ERANGE;
	*ret = (unsigned long)v;
	return 0;
}

int parse_hex(const char *s, int max_digits, unsigned long *ret)
{
	unsigned long v = 0;
	int n;

	for (n = 0; s[n]; n++) {
		if (!isxdigit((unsigned char)s[n]) || n >= max_digits)
			return -EINVAL;
		v = v * 16 + (unsigned long)(isdigit((unsigned char)s[n]) ? s[n] - '0' : (tolower((unsigned char)s[n]) - 'a' + 10));
	}
	if (n == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

bool modname_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a;
		char y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

bool addr_valid(const char *s)
{
	unsigned long v;
	char part[5];

	if (strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
		return false;
	memcpy(part, s, 4);
	part[4] = '\0';
	if (parse_hex(part, 4, &v) < 0)
		return false;
	memcpy(part, s + 5, 2);
	part[2] = '\0';
	if (parse_hex(part, 2, &v) < 0)
		return false;
	memcpy(part, s + 8, 2);
	if (parse_hex(part, 2, &v) < 0 || v > 31)
		return false;
	return s[11] >= '0' && s[11] <= '7';
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.pcisim-tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
