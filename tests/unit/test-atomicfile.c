/* test-atomicfile.c - atomic replacement: content, mode and owner kept, symlinks refused, no temp left */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "harness.h"
#include "sysroot.h"
#include "tmproot.h"

struct tree {
	char dir[64];
	struct sysroot *r;
};

static int tree_new(struct tree *t)
{
	return (t->r = tmproot_open(t->dir, sizeof(t->dir), "atomic")) ? 0 : -EIO;
}

static void tree_free(struct tree *t)
{
	tmproot_remove(t->r, t->dir);
}

static char *slurp(struct tree *t, const char *rel)
{
	char *s = NULL;

	return sysroot_read(t->r, rel, &s, NULL) == 0 ? s : NULL;
}

/* entries in a directory of the tree other than . and .. */
static int count_entries(struct tree *t, const char *rel)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (sysroot_opendir(t->r, rel, &d) < 0)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static mode_t mode_of(struct tree *t, const char *rel)
{
	struct stat st;

	if (fstatat(sysroot_fd(t->r), rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

TEST(creates_file_and_parents)
{
	struct tree t;
	char *s;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "/etc/modprobe.d/pcibind.conf", "hello\n", 6, 0644), 0);
	s = slurp(&t, "etc/modprobe.d/pcibind.conf");
	ASSERT_STR_EQ(s, "hello\n");
	free(s);
	ASSERT_INT_EQ(mode_of(&t, "etc/modprobe.d/pcibind.conf"), 0644);
	ASSERT_INT_EQ(count_entries(&t, "etc/modprobe.d"), 1);
	tree_free(&t);
}

TEST(new_file_mode)
{
	struct tree t;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "hook", "#!/bin/sh\n", 10, 0755), 0);
	ASSERT_INT_EQ(mode_of(&t, "hook"), 0755);
	tree_free(&t);
}

TEST(replaces_and_keeps_mode)
{
	struct tree t;
	char *s;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "etc/default/grub", "old\n", 4, 0644), 0);
	ASSERT_INT_EQ(fchmodat(sysroot_fd(t.r), "etc/default/grub", 0600, 0), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "etc/default/grub", "new text\n", 9, 0644), 0);
	s = slurp(&t, "etc/default/grub");
	ASSERT_STR_EQ(s, "new text\n");
	free(s);
	ASSERT_INT_EQ(mode_of(&t, "etc/default/grub"), 0600);
	ASSERT_INT_EQ(count_entries(&t, "etc/default"), 1);
	tree_free(&t);
}

TEST(keeps_owner)
{
	struct tree t;
	struct stat st;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "f", "a\n", 2, 0644), 0);
	if (geteuid() == 0) {
		ASSERT_INT_EQ(fchownat(sysroot_fd(t.r), "f", 1234, 4321, 0), 0);
		ASSERT_INT_EQ(atomicfile_write(t.r, "f", "b\n", 2, 0644), 0);
		ASSERT_INT_EQ(fstatat(sysroot_fd(t.r), "f", &st, 0), 0);
		ASSERT_INT_EQ(st.st_uid, 1234);
		ASSERT_INT_EQ(st.st_gid, 4321);
	}
	tree_free(&t);
}

TEST(symlink_at_target_is_refused)
{
	struct tree t;
	char *s;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "victim", "precious\n", 9, 0644), 0);
	ASSERT_INT_EQ(symlinkat("victim", sysroot_fd(t.r), "target"), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "target", "evil\n", 5, 0644), -ELOOP);
	s = slurp(&t, "victim");
	ASSERT_STR_EQ(s, "precious\n");
	free(s);
	/* a dangling one too: it would create a file wherever it points */
	ASSERT_INT_EQ(symlinkat("/tmp/pcibind-must-not-exist", sysroot_fd(t.r), "dangling"), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "dangling", "evil\n", 5, 0644), -ELOOP);
	ASSERT_INT_EQ(access("/tmp/pcibind-must-not-exist", F_OK), -1);
	ASSERT_INT_EQ(count_entries(&t, "."), 3);
	tree_free(&t);
}

TEST(directory_or_fifo_at_target_is_refused)
{
	struct tree t;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(mkdirat(sysroot_fd(t.r), "d", 0755), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "d", "x", 1, 0644), -EISDIR);
	ASSERT_INT_EQ(mkfifoat(sysroot_fd(t.r), "p", 0644), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "p", "x", 1, 0644), -EINVAL);
	ASSERT_INT_EQ(count_entries(&t, "."), 2);
	tree_free(&t);
}

TEST(no_temp_left_after_a_failed_write)
{
	struct tree t;
	char *s;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "f", "kept\n", 5, 0644), 0);
	/* write(2) from an unmapped buffer fails with EFAULT after the temp file exists */
	ASSERT_INT_EQ(atomicfile_write(t.r, "f", (const void *)8, 16, 0644), -EFAULT);
	s = slurp(&t, "f");
	ASSERT_STR_EQ(s, "kept\n");
	free(s);
	ASSERT_INT_EQ(count_entries(&t, "."), 1);
	tree_free(&t);
}

TEST(symlinked_parent_of_temp_is_not_a_way_out)
{
	struct tree t;

	/* a symlink at a would-be temp name is never opened: O_EXCL|O_NOFOLLOW, and a fresh name is tried */
	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(symlinkat("/tmp/pcibind-must-not-exist", sysroot_fd(t.r), ".f.pcibind-00000000"), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "f", "ok\n", 3, 0644), 0);
	ASSERT_INT_EQ(access("/tmp/pcibind-must-not-exist", F_OK), -1);
	ASSERT_INT_EQ(count_entries(&t, "."), 2);
	tree_free(&t);
}

TEST(stale_temp_of_a_killed_run_is_removed)
{
	struct tree t;
	int fd, live;

	ASSERT_INT_EQ(tree_new(&t), 0);
	/* a killed run's temporary file: nobody holds its lock */
	fd = openat(sysroot_fd(t.r), ".f.pcibind-0badc0de", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	/* a live run's: locked, kept */
	live = openat(sysroot_fd(t.r), ".f.pcibind-12345678", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_TRUE(live >= 0);
	ASSERT_INT_EQ(flock(live, LOCK_EX | LOCK_NB), 0);
	/* another file's, a name that only looks alike, a symlink: none of them ours to remove */
	fd = openat(sysroot_fd(t.r), ".g.pcibind-0badc0de", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	fd = openat(sysroot_fd(t.r), ".f.pcibind-0badc0dex", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_INT_EQ(symlinkat("f", sysroot_fd(t.r), ".f.pcibind-deadbeef"), 0);

	ASSERT_INT_EQ(atomicfile_write(t.r, "f", "new\n", 4, 0644), 0);
	ASSERT_INT_EQ(faccessat(sysroot_fd(t.r), ".f.pcibind-0badc0de", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	ASSERT_INT_EQ(faccessat(sysroot_fd(t.r), ".f.pcibind-12345678", F_OK, AT_SYMLINK_NOFOLLOW), 0);
	ASSERT_INT_EQ(count_entries(&t, "."), 5);
	close(live);
	tree_free(&t);
}

TEST(empty_name_is_invalid)
{
	struct tree t;

	ASSERT_INT_EQ(tree_new(&t), 0);
	ASSERT_INT_EQ(atomicfile_write(t.r, "etc/", "x", 1, 0644), -EINVAL);
	tree_free(&t);
}

HARNESS_MAIN
