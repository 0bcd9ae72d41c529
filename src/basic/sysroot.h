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
 *
 * Every path is resolved below the root and never leaves it, by one of
 * two policies (openat2() where the kernel has it, a walk of O_NOFOLLOW
 * opens, one component at a time, where it has not):
 *
 *   SYSROOT_IN_ROOT       symlinks are followed as if the root were "/":
 *                         an absolute one starts again at the root, ".."
 *                         stops there (RESOLVE_IN_ROOT). For what the
 *                         kernel or the distribution lays out: sysfs is
 *                         full of relative links (bus/pci/devices/X ->
 *                         ../../../devices/...), /lib is one on merged-/usr
 *                         hosts, /etc/pve/qemu-server one into nodes/NODE
 *                         on Proxmox. The default of the calls below.
 *   SYSROOT_NO_SYMLINKS   no symlink anywhere on the way, the last
 *                         component included, and no ".." above the root
 *                         (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): -ELOOP.
 *                         For what pcibind writes, or trusts as root: the
 *                         run directory, the journal and the lock, the
 *                         configuration and its directories, every file
 *                         generate writes and the directories on the way.
 *
 * Files read whole are opened O_NONBLOCK (a FIFO never blocks), must be
 * regular files and are size-capped.
 */
struct sysroot;

enum sysroot_how {
	SYSROOT_IN_ROOT = 0,
	SYSROOT_NO_SYMLINKS = 1,
};

int sysroot_open(const char *path, struct sysroot **ret);
void sysroot_free(struct sysroot *r);
const char *sysroot_path(const struct sysroot *r);
/* true if the root is "/", i.e. the running system */
bool sysroot_is_host(const struct sysroot *r);
int sysroot_fd(const struct sysroot *r);

/* open(2) of rel below the root; O_CLOEXEC always. Async-signal-safe. */
int sysroot_openat(const struct sysroot *r, const char *rel, int flags, mode_t mode);
int sysroot_openat_how(const struct sysroot *r, const char *rel, int flags, mode_t mode, enum sysroot_how how);
/* 0 if rel resolves to something (a dangling symlink does not), else -errno */
int sysroot_exists(const struct sysroot *r, const char *rel);

/* whole file, NUL-terminated; *ret_len (may be NULL) without the NUL; at most 64 MiB (-EFBIG) */
int sysroot_read(const struct sysroot *r, const char *rel, char **ret, size_t *ret_len);
/*
 * The same with the policy and the size cap (-EFBIG above max bytes); a
 * FIFO, a device or a directory is -EINVAL (not a regular file).
 */
int sysroot_read_how(const struct sysroot *r, const char *rel, enum sysroot_how how, size_t max, char **ret,
		     size_t *ret_len);
/* whole regular file from an open fd (O_NONBLOCK advised), capped: the same errors */
int sysroot_read_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* first line without its newline, into buf; -ENAMETOOLONG if it does not fit; a regular file only */
int sysroot_read_line(const struct sysroot *r, const char *rel, char *buf, size_t size);
/*
 * The same relative to an open directory (a device's sysfs dir), for the
 * attribute files in it: name is one component, never a symlink
 * (O_NOFOLLOW), opened O_NONBLOCK, not fstat'ed (the scan reads ten per
 * function). Async-signal-safe.
 */
int sysroot_read_line_at(int dirfd, const char *name, char *buf, size_t size);
/* hex or decimal number from a one-line file (sysfs "0x10de\n") */
int sysroot_read_ulong(const struct sysroot *r, const char *rel, int base, unsigned long *ret);
/* one write(2) of len bytes; a short write is -EIO */
int sysroot_write(const struct sysroot *r, const char *rel, const char *data, size_t len);
/* the target of the symlink rel (its directory resolved below the root) */
int sysroot_readlink(const struct sysroot *r, const char *rel, char **ret);
/* last component of a symlink's target ("../../bus/pci/drivers/e1000e" -> "e1000e") */
int sysroot_link_basename(const struct sysroot *r, const char *rel, char **ret);
/* canonical path of rel inside the root (IN_ROOT), relative to it, without leading '/' */
int sysroot_canonical(const struct sysroot *r, const char *rel, char **ret);
int sysroot_opendir(const struct sysroot *r, const char *rel, DIR **ret);
/*
 * Create the directories of rel that are missing (mode), none through a
 * symlink (SYSROOT_NO_SYMLINKS): an O_DIRECTORY fd of the last one.
 */
int sysroot_mkdirs(const struct sysroot *r, const char *rel, mode_t mode);
/* the same, closed: 0 or -errno */
int sysroot_mkdir_p(const struct sysroot *r, const char *rel, mode_t mode);
/* remove the empty directory rel, none on the way a symlink: 0 or -errno */
int sysroot_rmdir(const struct sysroot *r, const char *rel);

/*
 * The running system's /dev/null, never one below the root: it is this
 * process's own (a child's stdin, the standard fds main() finds closed).
 * Async-signal-safe; an fd or -errno.
 */
int sysroot_open_devnull(void);

/* path formatting with overflow checking: 0 or -ENAMETOOLONG */
int sysroot_pathf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
