/* sysroot.h - every path pcibind touches, relative to a root directory */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_SYSROOT_H
#define PCIBIND_SYSROOT_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * A root is a directory fd. Paths given to these functions are relative
 * ("sys/bus/pci/devices"); a leading '/' is skipped, so "/sys/..." works
 * too. All calls return 0 (or a count) on success and -errno on failure.
 */
struct sysroot;

int sysroot_open(const char *path, struct sysroot **ret);
void sysroot_free(struct sysroot *r);
const char *sysroot_path(const struct sysroot *r);
/* true if the root is "/", i.e. the running system */
bool sysroot_is_host(const struct sysroot *r);
int sysroot_fd(const struct sysroot *r);

int sysroot_openat(const struct sysroot *r, const char *rel, int flags, mode_t mode);
int sysroot_exists(const struct sysroot *r, const char *rel);

/* whole file, NUL-terminated; *ret_len (may be NULL) without the NUL */
int sysroot_read(const struct sysroot *r, const char *rel, char **ret, size_t *ret_len);
/* first line without its newline, into buf; -ENAMETOOLONG if it does not fit */
int sysroot_read_line(const struct sysroot *r, const char *rel, char *buf, size_t size);
/* the same relative to an open directory (a device's sysfs dir) */
int sysroot_read_line_at(int dirfd, const char *name, char *buf, size_t size);
/* hex or decimal number from a one-line file (sysfs "0x10de\n") */
int sysroot_read_ulong(const struct sysroot *r, const char *rel, int base, unsigned long *ret);
/* one write(2) of len bytes; a short write is -EIO */
int sysroot_write(const struct sysroot *r, const char *rel, const char *data, size_t len);
int sysroot_readlink(const struct sysroot *r, const char *rel, char **ret);
/* last component of a symlink's target ("../../bus/pci/drivers/e1000e" -> "e1000e") */
int sysroot_link_basename(const struct sysroot *r, const char *rel, char **ret);
/* canonical path of rel inside the root, relative to it, without leading '/' */
int sysroot_canonical(const struct sysroot *r, const char *rel, char **ret);
int sysroot_opendir(const struct sysroot *r, const char *rel, DIR **ret);
int sysroot_mkdir_p(const struct sysroot *r, const char *rel, mode_t mode);

/*
 * The running system's /dev/null, never one below the root: it is this
 * process's own (a child's stdin, the standard fds main() finds closed).
 * Async-signal-safe; an fd or -errno.
 */
int sysroot_open_devnull(void);

/* path formatting with overflow checking: 0 or -ENAMETOOLONG */
int sysroot_pathf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
