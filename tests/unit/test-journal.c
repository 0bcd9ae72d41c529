/* test-journal.c - journal records, atomic saves, damaged files, the run lock */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tmproot.h"
#include "journal.h"

/* dir: at least 64 bytes */
static struct sysroot *temp_root(char *dir)
{
	struct sysroot *r = tmproot_open(dir, 64, "journal");

	return r && sysroot_mkdir_p(r, RUN_DIR, 0700) == 0 ? r : NULL;
}

#define remove_root tmproot_remove

static struct fnstate state(const char *name, const char *driver, const char *override, const char *reset, int vfs)
{
	struct fnstate s = { .sriov_numvfs = vfs };

	snprintf(s.name, sizeof(s.name), "%s", name);
	s.driver = driver ? strdup(driver) : NULL;
	s.override = override ? strdup(override) : NULL;
	s.reset_method = reset ? strdup(reset) : NULL;
	return s;
}

TEST(add_keeps_the_original)
{
	struct journal j = { 0 };
	struct fnstate a = state("0000:01:00.0", "nvidia", NULL, "flr bus", -1);
	struct fnstate b = state("0000:01:00.0", "vfio-pci", "vfio-pci", NULL, -1);

	ASSERT_INT_EQ(journal_add(&j, &a), 1);
	ASSERT_INT_EQ(journal_add(&j, &b), 0);
	ASSERT_INT_EQ(j.n, 1);
	ASSERT_STR_EQ(journal_find(&j, "0000:01:00.0")->driver, "nvidia");
	ASSERT_INT_EQ(journal_remove(&j, "0000:01:00.0"), 1);
	ASSERT_INT_EQ(journal_remove(&j, "0000:01:00.0"), 0);
	ASSERT_INT_EQ(j.n, 0);
	fnstate_clear(&a);
	fnstate_clear(&b);
	free(j.recs);
}

TEST(save_load_round_trip)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal *j = calloc(1, sizeof(*j)), *back = NULL;
	struct fnstate a = state("0000:01:00.0", "nvidia", NULL, "flr bus", -1);
	struct fnstate b = state("0000:06:00.0", NULL, "none", NULL, 4);
	const struct fnstate *s;

	ASSERT_NOT_NULL(r);
	journal_add(j, &a);
	journal_add(j, &b);
	ASSERT_INT_EQ(journal_save(r, j), 0);
	ASSERT_INT_EQ(journal_load(r, &back, NULL), 0);
	ASSERT_INT_EQ(back->n, 2);
	s = journal_find(back, "0000:01:00.0");
	ASSERT_STR_EQ(s->driver, "nvidia");
	ASSERT_NULL(s->override);
	ASSERT_STR_EQ(s->reset_method, "flr bus");
	ASSERT_INT_EQ(s->sriov_numvfs, -1);
	s = journal_find(back, "0000:06:00.0");
	ASSERT_NULL(s->driver);
	ASSERT_STR_EQ(s->override, "none");
	ASSERT_INT_EQ(s->sriov_numvfs, 4);
	ASSERT_INT_EQ(sysroot_exists(r, RUN_DIR "/.journal.tmp"), -ENOENT);
	fnstate_clear(&a);
	fnstate_clear(&b);
	journal_free(j);
	journal_free(back);
	remove_root(r, dir);
}

/* a PF's sriov_drivers_autoprobe is kept; a journal written before that field still loads */
TEST(autoprobe_round_trip_and_older_journals)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal *j = calloc(1, sizeof(*j)), *back = NULL;
	struct fnstate a = state("0000:3b:00.0", "i40e", NULL, "flr bus", 0);
	struct fnstate b = state("0000:3b:00.1", "i40e", NULL, NULL, 2);
	struct fnstate c = state("0000:01:00.0", "nvidia", NULL, NULL, -1);
	int fd;

	ASSERT_NOT_NULL(r);
	a.sriov_autoprobe = AUTOPROBE_ON;
	b.sriov_autoprobe = AUTOPROBE_OFF;
	c.sriov_autoprobe = AUTOPROBE_ON; /* not a PF: not written */
	journal_add(j, &a);
	journal_add(j, &b);
	journal_add(j, &c);
	ASSERT_INT_EQ(journal_save(r, j), 0);
	ASSERT_INT_EQ(journal_load(r, &back, NULL), 0);
	ASSERT_INT_EQ(journal_find(back, "0000:3b:00.0")->sriov_autoprobe, AUTOPROBE_ON);
	ASSERT_INT_EQ(journal_find(back, "0000:3b:00.0")->sriov_numvfs, 0);
	ASSERT_INT_EQ(journal_find(back, "0000:3b:00.1")->sriov_autoprobe, AUTOPROBE_OFF);
	ASSERT_INT_EQ(journal_find(back, "0000:01:00.0")->sriov_autoprobe, AUTOPROBE_UNKNOWN);
	journal_free(back);
	back = NULL;
	fd = sysroot_openat(r, JOURNAL_FILE, O_WRONLY | O_TRUNC, 0);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(dprintf(fd, "# pcibind journal\n0000:3b:00.0\tdriver=i40e\toverride=\treset_method=\tsriov_numvfs=2\n") > 0);
	close(fd);
	ASSERT_INT_EQ(journal_load(r, &back, NULL), 0);
	ASSERT_INT_EQ(back->n, 1);
	ASSERT_INT_EQ(back->recs[0].sriov_numvfs, 2);
	ASSERT_INT_EQ(back->recs[0].sriov_autoprobe, AUTOPROBE_UNKNOWN);
	fnstate_clear(&a);
	fnstate_clear(&b);
	fnstate_clear(&c);
	journal_free(j);
	journal_free(back);
	remove_root(r, dir);
}

TEST(empty_journal_removes_the_file)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal *j = calloc(1, sizeof(*j)), *back = NULL;
	struct fnstate a = state("0000:01:00.0", "nvidia", NULL, NULL, -1);

	ASSERT_NOT_NULL(r);
	journal_add(j, &a);
	ASSERT_INT_EQ(journal_save(r, j), 0);
	ASSERT_INT_EQ(sysroot_exists(r, JOURNAL_FILE), 0);
	journal_remove(j, "0000:01:00.0");
	ASSERT_INT_EQ(journal_save(r, j), 0);
	ASSERT_INT_EQ(sysroot_exists(r, JOURNAL_FILE), -ENOENT);
	ASSERT_INT_EQ(journal_load(r, &back, NULL), 0);
	ASSERT_INT_EQ(back->n, 0);
	fnstate_clear(&a);
	journal_free(j);
	journal_free(back);
	remove_root(r, dir);
}

static int write_file(struct sysroot *r, const char *rel, const char *text)
{
	int fd = sysroot_openat(r, rel, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

TEST(damaged_journal_names_the_line)
{
	static const char *const bad[] = {
		"# header\n0000:01:00.0\tdriver=nvidia\toverride=\treset_method=\tsriov_numvfs=\nbogus\n",
		"# header\n0000:01:00.0\tdriver=nvidia\n",
		"0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=x\n",
		"0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=\textra=1\n",
		"../../etc\tdriver=a\toverride=\treset_method=\tsriov_numvfs=\n",
		/* sriov_drivers_autoprobe only as pcibind writes it, and only for a PF */
		"0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=2\tsriov_drivers_autoprobe=yes\n",
		"0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=\tsriov_drivers_autoprobe=1\n",
		"0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=2\tsriov_drivers_autoprobe=1\tx=\n",
	};
	static const unsigned lines[] = { 3, 2, 1, 1, 1, 1, 1, 1 };
	char dir[64];
	struct sysroot *r = temp_root(dir);

	ASSERT_NOT_NULL(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct journal *j = NULL;
		unsigned line = 0;

		ASSERT_INT_EQ(write_file(r, JOURNAL_FILE, bad[i]), 0);
		ASSERT_INT_EQ(journal_load(r, &j, &line), -EBADMSG);
		ASSERT_INT_EQ(line, lines[i]);
		ASSERT_NULL(j);
	}
	remove_root(r, dir);
}

TEST(lock_is_exclusive_and_names_the_holder)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	int fds[2], fd = -1, st;
	long holder = 0;
	pid_t pid;
	char c;

	ASSERT_NOT_NULL(r);
	ASSERT_INT_EQ(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		int lfd;
		if (lock_acquire(r, 1, &lfd, NULL) < 0)
			_exit(1);
		(void)!write(fds[1], "x", 1);
		pause();
		_exit(0);
	}
	ASSERT_INT_EQ(read(fds[0], &c, 1), 1);
	ASSERT_INT_EQ(lock_acquire(r, 1, &fd, &holder), -ETIMEDOUT);
	ASSERT_INT_EQ(holder, pid);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ASSERT_INT_EQ(lock_acquire(r, 1, &fd, &holder), 0);
	lock_release(fd);
	close(fds[0]);
	close(fds[1]);
	remove_root(r, dir);
}

HARNESS_MAIN
