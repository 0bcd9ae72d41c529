/* test-sysroot.c - every path resolved below the root: symlinks, "..", FIFOs, caps; openat2 and the walk */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "nosys.h"
#include "tmproot.h"
#include "util.h"

/* A root holding a small sysfs-like tree with the kinds of links real trees have, and an outside */
struct fixture {
	char top[64];  /* mkdtemp: holds root/ and outside/ */
	char root[96];
	struct sysroot *r;
};

static int sh(const struct fixture *f, const char *cmd)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "cd '%s' && %s", f->top, cmd);
	return system(buf);
}

static int setup(struct fixture *f)
{
	snprintf(f->top, sizeof(f->top), "/tmp/pcibind-sysroot.XXXXXX");
	if (!mkdtemp(f->top))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/root", f->top);
	if (sh(f, "mkdir -p outside root/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0 root/sys/bus/pci/devices "
		  "root/sys/bus/pci/drivers/nvidia root/usr/lib root/etc root/run && "
		  "echo secret >outside/secret && echo 0x10de >root/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vendor && "
		  "ln -s ../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0 root/sys/bus/pci/devices/0000:01:00.0 && "
		  "ln -s ../../../../bus/pci/drivers/nvidia root/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver && "
		  "echo ID=debian >root/usr/lib/os-release && ln -s ../usr/lib/os-release root/etc/os-release && "
		  "ln -s usr/lib root/lib && ln -s /usr/lib/os-release root/etc/abs-release && "
		  "ln -s ../../outside/secret root/etc/escape && ln -s \"$PWD/outside\" root/etc/abs-outside && "
		  "ln -s loop1 root/etc/loop2 && ln -s loop2 root/etc/loop1 && ln -s nowhere root/etc/dangling && "
		  "mkfifo root/etc/fifo && ln -s ../outside root/etc/outdir") != 0)
		return -1;
	return sysroot_open(f->root, &f->r);
}

static void cleanup(struct fixture *f)
{
	tmproot_remove(f->r, f->top);
}

static int failures;

#define CHECK(c)                                                                                         \
	do {                                                                                             \
		if (!(c)) {                                                                              \
			fprintf(stderr, "  %s:%d: expected %s\n", __FILE__, __LINE__, #c);               \
			failures++;                                                                      \
		}                                                                                        \
	} while (0)

static int read_is(const struct sysroot *r, const char *rel, enum sysroot_how how, const char *want)
{
	_cleanup_free_ char *text = NULL;
	int err = sysroot_read_how(r, rel, how, 4096, &text, NULL);

	if (err < 0)
		return err;
	return streq(text, want) ? 0 : -EILSEQ;
}

static int open_err(const struct sysroot *r, const char *rel, int flags, enum sysroot_how how)
{
	int fd = sysroot_openat_how(r, rel, flags, 0600, how);

	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

/* every check, for both ways of resolving */
static int run_checks(void)
{
	struct fixture f;
	char *s = NULL, buf[64];
	DIR *d = NULL;
	struct stat st;

	failures = 0;
	if (setup(&f) < 0)
		return 1000;
	/* relative links inside the root, as sysfs and merged /usr have them */
	CHECK(read_is(f.r, "sys/bus/pci/devices/0000:01:00.0/vendor", SYSROOT_IN_ROOT, "0x10de\n") == 0);
	CHECK(read_is(f.r, "/etc/os-release", SYSROOT_IN_ROOT, "ID=debian\n") == 0);
	CHECK(read_is(f.r, "lib/os-release", SYSROOT_IN_ROOT, "ID=debian\n") == 0);
	/* an absolute link resolves inside the root, as in a chroot */
	CHECK(read_is(f.r, "etc/abs-release", SYSROOT_IN_ROOT, "ID=debian\n") == 0);
	/* never outside: ".." stops at the root, an absolute link starts at it */
	CHECK(read_is(f.r, "etc/escape", SYSROOT_IN_ROOT, "secret\n") == -ENOENT);
	CHECK(read_is(f.r, "etc/abs-outside/secret", SYSROOT_IN_ROOT, "secret\n") == -ENOENT);
	CHECK(read_is(f.r, "etc/outdir/secret", SYSROOT_IN_ROOT, "secret\n") == -ENOENT);
	CHECK(read_is(f.r, "../outside/secret", SYSROOT_IN_ROOT, "secret\n") == -ENOENT);
	CHECK(read_is(f.r, "../../../../etc/os-release", SYSROOT_IN_ROOT, "ID=debian\n") == 0);
	CHECK(open_err(f.r, "etc/loop1", O_RDONLY, SYSROOT_IN_ROOT) == -ELOOP);
	CHECK(open_err(f.r, "etc/dangling", O_RDONLY, SYSROOT_IN_ROOT) == -ENOENT);
	CHECK(sysroot_exists(f.r, "etc/os-release") == 0);
	CHECK(sysroot_exists(f.r, "etc/dangling") == -ENOENT);
	CHECK(sysroot_exists(f.r, "etc/escape") == -ENOENT);
	/* no symlink at all: last component, on the way, or ".." above the root */
	CHECK(read_is(f.r, "usr/lib/os-release", SYSROOT_NO_SYMLINKS, "ID=debian\n") == 0);
	CHECK(read_is(f.r, "etc/os-release", SYSROOT_NO_SYMLINKS, "") == -ELOOP);
	CHECK(read_is(f.r, "lib/os-release", SYSROOT_NO_SYMLINKS, "") == -ELOOP);
	CHECK(read_is(f.r, "../outside/secret", SYSROOT_NO_SYMLINKS, "") == -EXDEV);
	CHECK(open_err(f.r, "etc/outdir/new", O_WRONLY | O_CREAT | O_EXCL, SYSROOT_NO_SYMLINKS) == -ELOOP);
	CHECK(sh(&f, "test ! -e outside/new") == 0);
	CHECK(open_err(f.r, "run/lock", O_RDWR | O_CREAT, SYSROOT_NO_SYMLINKS) == 0);
	CHECK(sh(&f, "test -f root/run/lock") == 0);
	/* files read whole: a FIFO is refused at once, not waited on; the cap holds */
	CHECK(read_is(f.r, "etc/fifo", SYSROOT_IN_ROOT, "") == -EINVAL);
	CHECK(read_is(f.r, "etc", SYSROOT_IN_ROOT, "") == -EISDIR || read_is(f.r, "etc", SYSROOT_IN_ROOT, "") == -EINVAL);
	CHECK(sh(&f, "head -c 5000 /dev/zero | tr '\\0' x >root/etc/big") == 0);
	CHECK(read_is(f.r, "etc/big", SYSROOT_IN_ROOT, "") == -EFBIG);
	CHECK(sysroot_read_line(f.r, "etc/fifo", buf, sizeof(buf)) == -EINVAL);
	/* an attribute in a device's directory: never through a link, never blocking */
	{
		int dfd = sysroot_openat(f.r, "sys/bus/pci/devices/0000:01:00.0", O_RDONLY | O_DIRECTORY, 0);
		CHECK(dfd >= 0);
		CHECK(sysroot_read_line_at(dfd, "vendor", buf, sizeof(buf)) == 0 && streq(buf, "0x10de"));
		CHECK(sh(&f, "ln -s ../../../../../outside/secret root/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/class && "
			     "mkfifo root/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver_override") == 0);
		CHECK(sysroot_read_line_at(dfd, "class", buf, sizeof(buf)) == -ELOOP);
		CHECK(sysroot_read_line_at(dfd, "driver_override", buf, sizeof(buf)) == 0 && streq(buf, ""));
		if (dfd >= 0)
			close(dfd);
	}
	/* links read, canonical paths */
	CHECK(sysroot_link_basename(f.r, "sys/bus/pci/devices/0000:01:00.0/driver", &s) == 0 && streq(s, "nvidia"));
	free(s);
	s = NULL;
	CHECK(sysroot_canonical(f.r, "sys/bus/pci/devices/0000:01:00.0/driver", &s) == 0 &&
	      streq(s, "sys/bus/pci/drivers/nvidia"));
	free(s);
	s = NULL;
	CHECK(sysroot_canonical(f.r, "/sys/bus/pci/devices/0000:01:00.0", &s) == 0 &&
	      streq(s, "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"));
	free(s);
	s = NULL;
	CHECK(sysroot_canonical(f.r, "etc/abs-release", &s) == 0 && streq(s, "usr/lib/os-release"));
	free(s);
	s = NULL;
	CHECK(sysroot_canonical(f.r, "etc/escape", &s) == -ENOENT);
	CHECK(sysroot_opendir(f.r, "lib", &d) == 0);
	if (d)
		closedir(d);
	/* directories created, none through a link */
	CHECK(sysroot_mkdir_p(f.r, "etc/modprobe.d", 0755) == 0);
	CHECK(sh(&f, "test -d root/etc/modprobe.d") == 0);
	CHECK(sysroot_mkdir_p(f.r, "etc/outdir/sub", 0755) == -ELOOP);
	CHECK(sh(&f, "test ! -e outside/sub") == 0);
	CHECK(sysroot_mkdir_p(f.r, "lib/dracut", 0755) == -ELOOP);
	CHECK(sysroot_mkdir_p(f.r, "../escaped", 0755) == -EXDEV);
	CHECK(sh(&f, "test ! -e escaped") == 0);
	CHECK(sysroot_mkdir_p(f.r, "etc/os-release/x", 0755) == -ELOOP);
	CHECK(sh(&f, "touch root/etc/plain") == 0 && sysroot_mkdir_p(f.r, "etc/plain/x", 0755) == -ENOTDIR);
	CHECK(stat("/tmp", &st) == 0);
	cleanup(&f);
	return failures;
}

TEST(resolution_with_openat2)
{
	ASSERT_INT_EQ(run_checks(), 0);
}

/* kernels before 5.6 and valgrind 3.19 have no openat2: the walk must say the same */
TEST(resolution_by_the_walk)
{
	int nrs[] = { SYS_openat2 }, st;
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct open_how { unsigned long long a, b, c; } how = { 0, 0, 0 };
		if (nosys_install(nrs, 1) < 0)
			_exit(90);
		if (syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how)) >= 0 || errno != ENOSYS)
			_exit(91);
		_exit(run_checks() ? 1 : 0);
	}
	ASSERT_INT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
}

HARNESS_MAIN
