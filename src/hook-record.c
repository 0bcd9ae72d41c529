/* hook-record.c - what a hook handed to one VM at its start, kept in /run/pcibind/vm until it stops */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "hook-record.h"
#include "util.h"

#define NAME_SHOWN 64

/* FNV-1a: a long name's record stays apart from another that starts the same */
static unsigned long long fnv1a(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

int hook_record_path(const char *kind, const char *name, char *buf, size_t size)
{
	char esc[3 * NAME_SHOWN + 32];
	size_t n = 0, len = strlen(name);

	for (size_t i = 0; i < len && i < NAME_SHOWN; i++)
		n += (size_t)(plain(name[i])
				  ? snprintf(esc + n, sizeof(esc) - n, "%c", name[i])
				  : snprintf(esc + n, sizeof(esc) - n, "%%%02X", (unsigned char)name[i]));
	if (len > NAME_SHOWN || !len)
		snprintf(esc + n, sizeof(esc) - n, "~%016llx", fnv1a(name));
	return xsnprintf(buf, size, "%s/%s-%s", HOOK_RECORD_DIR, kind, esc);
}

/* Root trusts this file: a regular file of root's (or ours), writable by nobody else, small */
static int open_trusted(const struct sysroot *r, const char *rel, int *ret_fd)
{
	struct stat st;
	int fd = sysroot_openat(r, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);

	if (fd < 0)
		return fd == -ELOOP ? -EBADMSG : fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EBADMSG;
	}
	if (st.st_size > (off_t)HOOK_RECORD_MAX) {
		close(fd);
		return -EFBIG;
	}
	*ret_fd = fd;
	return 0;
}

static int read_all(int fd, char *buf, size_t size, size_t *ret_len)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size)
			return -EFBIG;
	}
	*ret_len = len;
	return 0;
}

static int parse(char *text, struct hook_devs *d, unsigned *ret_line)
{
	char *save = NULL;
	unsigned line = 0;
	int r;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct pciaddr a;

		line++;
		if (l[0] == '#')
			continue;
		if (pciaddr_parse(l, &a) < 0) {
			*ret_line = line;
			return -EBADMSG;
		}
		if ((r = hook_devs_add(d, &a, "recorded at start")) < 0)
			return r;
	}
	return 0;
}

int hook_record_load(const struct sysroot *r, const char *rel, struct hook_devs *ret, unsigned *ret_line)
{
	_cleanup_free_ char *buf = malloc(HOOK_RECORD_MAX + 1);
	_cleanup_close_ int fd = -1;
	struct hook_devs d = {0};
	size_t len = 0;
	unsigned line = 0;
	int err;

	if (!buf)
		return -ENOMEM;
	if ((err = open_trusted(r, rel, &fd)) < 0 || (err = read_all(fd, buf, HOOK_RECORD_MAX + 1, &len)) < 0)
		return err;
	buf[len] = '\0';
	if (memchr(buf, '\0', len))
		err = -EBADMSG;
	else
		err = parse(buf, &d, &line);
	if (err < 0) {
		hook_devs_free(&d);
		if (ret_line)
			*ret_line = line;
		return err;
	}
	*ret = d;
	return 0;
}

int hook_record_remove(const struct sysroot *r, const char *rel)
{
	if (unlinkat(sysroot_fd(r), rel, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int hook_record_save(const struct sysroot *r, const char *rel, const struct hook_devs *d, const char *vm)
{
	size_t size = 256 + d->n * (PCIADDR_STRLEN + 1), len;
	_cleanup_free_ char *text = malloc(size);
	int err;

	if (!d->n)
		return hook_record_remove(r, rel);
	if (!text)
		return -ENOMEM;
	len = (size_t)snprintf(text, size,
			       "# pcibind: the functions handed to %.64s at its start, given back at its "
			       "stop; do not edit\n",
			       vm);
	for (size_t i = 0; i < d->n && len < size; i++) {
		char a[PCIADDR_STRLEN];

		pciaddr_format(&d->addrs[i], a);
		len += (size_t)snprintf(text + len, size - len, "%s\n", a);
	}
	if (len >= size)
		return -ENAMETOOLONG;
	if ((err = sysroot_mkdir_p(r, HOOK_RECORD_DIR, 0700)) < 0)
		return err;
	return atomicfile_write(r, rel, text, len, 0600);
}
