/* faultfs.c - LD_PRELOAD shim: fail, shorten or SIGKILL the nth open/write/fsync/rename below a root */
/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Environment:
 *   PCIBIND_FAULT_ROOT=DIR   only calls on paths below DIR count (unset: the shim does nothing)
 *   PCIBIND_FAULT=OP:N:ACTION[,OP:N:ACTION...]
 *       OP      open (an open with O_CREAT), write (write, pwrite), fsync (fsync, fdatasync),
 *               rename (rename, renameat, renameat2), chmod (fchmod), chown (fchown)
 *       N       the Nth such call below DIR, from 1
 *       ACTION  an errno name (ENOSPC, EIO, EDQUOT, EROFS, EACCES, EPERM, EFBIG, EINTR): the call
 *               fails with it and does nothing; kill: SIGKILL before the call; short: a write
 *               writes half its bytes (at least one)
 *   PCIBIND_FAULT_TRACE=FILE  append "OP N PATH" for each counted call, before acting on it
 * A write is "below DIR" if its descriptor is (/proc/self/fd); a rename by its source.
 *
 * Under ASan (gcc, shared libasan) preload libasan first, then this shim: the sanitizer's
 * interceptors call the next definition, which is ours, which calls libc's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum op { OP_OPEN, OP_WRITE, OP_FSYNC, OP_RENAME, OP_CHMOD, OP_CHOWN, N_OPS };
static const char *const op_names[N_OPS] = {"open", "write", "fsync", "rename", "chmod", "chown"};
static unsigned counts[N_OPS];

#define ACT_NONE  0
#define ACT_KILL  -1
#define ACT_SHORT -2

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{"ENOSPC", ENOSPC}, {"EIO", EIO},       {"EDQUOT", EDQUOT}, {"EROFS", EROFS},
	{"EACCES", EACCES}, {"EPERM", EPERM},   {"EFBIG", EFBIG},   {"EINTR", EINTR},
};

/* the next definition of name: libc's, or the sanitizer's when it comes after us */
#define REAL(name)                                                                                   \
	static __typeof__(&name) real_##name;                                                        \
	if (!real_##name)                                                                            \
		real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* path of fd, or of name relative to dirfd; 0 or -1 */
static int resolve(int dirfd, const char *name, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	if (name && name[0] == '/')
		return snprintf(buf, size, "%s", name) < (int)size ? 0 : -1;
	if (dirfd == AT_FDCWD) {
		if (!getcwd(buf, size))
			return -1;
		n = (ssize_t)strlen(buf);
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, buf, size - 1);
		if (n < 0)
			return -1;
		buf[n] = '\0';
	}
	if (name && snprintf(buf + n, size - (size_t)n, "/%s", name) >= (int)(size - (size_t)n))
		return -1;
	return 0;
}

static int below_root(const char *path)
{
	const char *root = getenv("PCIBIND_FAULT_ROOT");
	size_t len;

	if (!root || !*root)
		return 0;
	len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	return strncmp(path, root, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

static void trace(enum op op, unsigned n, const char *path)
{
	REAL(write);
	REAL(open);
	const char *file = getenv("PCIBIND_FAULT_TRACE");
	char line[PATH_MAX + 32];
	int fd, len;

	if (!file || !*file)
		return;
	fd = real_open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%s %u %s\n", op_names[op], n, path);
	if (len > 0 && len < (int)sizeof(line))
		(void)!real_write(fd, line, (size_t)len);
	close(fd);
}

/* the action the spec gives for call n of op */
static int lookup(enum op op, unsigned n)
{
	const char *spec = getenv("PCIBIND_FAULT");
	char item[64], opname[16], act[16];
	unsigned nth;

	while (spec && *spec) {
		size_t len = strcspn(spec, ",");

		if (len < sizeof(item)) {
			memcpy(item, spec, len);
			item[len] = '\0';
			if (sscanf(item, "%15[^:]:%u:%15s", opname, &nth, act) == 3 && nth == n &&
			    strcmp(opname, op_names[op]) == 0) {
				if (strcmp(act, "kill") == 0)
					return ACT_KILL;
				if (strcmp(act, "short") == 0)
					return ACT_SHORT;
				for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
					if (strcmp(act, errnos[i].name) == 0)
						return errnos[i].err;
			}
		}
		spec += len + (spec[len] == ',');
	}
	return ACT_NONE;
}

/* count the call if it is below the root; what to do with it */
static int fault(enum op op, int dirfd, const char *name)
{
	char path[PATH_MAX];
	int saved = errno, act;

	if (!getenv("PCIBIND_FAULT_ROOT") || resolve(dirfd, name, path, sizeof(path)) < 0 ||
	    !below_root(path)) {
		errno = saved;
		return ACT_NONE;
	}
	counts[op]++;
	trace(op, counts[op], path);
	act = lookup(op, counts[op]);
	if (act == ACT_KILL)
		raise(SIGKILL);
	errno = saved;
	return act;
}

static int fail(int act)
{
	errno = act;
	return -1;
}

static int open_common(const char *fn, int dirfd, const char *path, int flags, mode_t mode)
{
	int act = (flags & O_CREAT) ? fault(OP_OPEN, dirfd, path) : ACT_NONE;

	if (act > 0)
		return fail(act);
	if (strcmp(fn, "open") == 0 || strcmp(fn, "open64") == 0) {
		int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, fn);
		return real(path, flags, mode);
	}
	int (*real)(int, const char *, int, ...) = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, fn);
	return real(dirfd, path, flags, mode);
}

#define MODE_ARG(flags, mode)                                                                        \
	do {                                                                                         \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {                                             \
			va_list ap;                                                                  \
			va_start(ap, flags);                                                         \
			mode = va_arg(ap, mode_t);                                                   \
			va_end(ap);                                                                  \
		}                                                                                    \
	} while (0)

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return open_common("open", AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return open_common("open64", AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return open_common("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return open_common("openat64", dirfd, path, flags, mode);
}

static size_t shorten(int act, size_t count)
{
	return act == ACT_SHORT && count > 1 ? count / 2 : count;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	REAL(write);
	int act = fault(OP_WRITE, fd, NULL);

	if (act > 0)
		return fail(act);
	return real_write(fd, buf, shorten(act, count));
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
	REAL(pwrite);
	int act = fault(OP_WRITE, fd, NULL);

	if (act > 0)
		return fail(act);
	return real_pwrite(fd, buf, shorten(act, count), off);
}

int fsync(int fd)
{
	REAL(fsync);
	int act = fault(OP_FSYNC, fd, NULL);

	return act > 0 ? fail(act) : real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	int act = fault(OP_FSYNC, fd, NULL);

	return act > 0 ? fail(act) : real_fdatasync(fd);
}

int fchmod(int fd, mode_t mode)
{
	REAL(fchmod);
	int act = fault(OP_CHMOD, fd, NULL);

	return act > 0 ? fail(act) : real_fchmod(fd, mode);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	REAL(fchown);
	int act = fault(OP_CHOWN, fd, NULL);

	return act > 0 ? fail(act) : real_fchown(fd, uid, gid);
}

int rename(const char *from, const char *to)
{
	REAL(rename);
	int act = fault(OP_RENAME, AT_FDCWD, from);

	return act > 0 ? fail(act) : real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	REAL(renameat);
	int act = fault(OP_RENAME, fromfd, from);

	return act > 0 ? fail(act) : real_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	REAL(renameat2);
	int act = fault(OP_RENAME, fromfd, from);

	return act > 0 ? fail(act) : real_renameat2(fromfd, from, tofd, to, flags);
}
