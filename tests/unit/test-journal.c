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
#include "util.h"

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

/* a boot claim ("claimed=boot") survives a save and a load; plain records are written as before */
TEST(boot_claim_round_trip)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal *j = calloc(1, sizeof(*j)), *back = NULL;
	struct fnstate a = state("0000:06:00.0", NULL, NULL, NULL, -1);
	struct fnstate b = state("0000:01:00.0", "nvidia", NULL, NULL, -1);
	_cleanup_free_ char *text = NULL;

	ASSERT_NOT_NULL(r);
	a.boot_claim = true;
	journal_add(j, &a);
	journal_add(j, &b);
	ASSERT_TRUE(journal_find(j, "0000:06:00.0")->boot_claim);
	ASSERT_INT_EQ(journal_save(r, j), 0);
	ASSERT_INT_EQ(sysroot_read(r, JOURNAL_FILE, &text, NULL), 0);
	ASSERT_NOT_NULL(strstr(text, "0000:06:00.0\tdriver=\toverride=\treset_method=\tsriov_numvfs=\tsriov_drivers_autoprobe=\tclaimed=boot\n"));
	ASSERT_NOT_NULL(strstr(text, "0000:01:00.0\tdriver=nvidia\toverride=\treset_method=\tsriov_numvfs=\tsriov_drivers_autoprobe=\n"));
	ASSERT_INT_EQ(journal_load(r, &back, NULL), 0);
	ASSERT_TRUE(journal_find(back, "0000:06:00.0")->boot_claim);
	ASSERT_FALSE(journal_find(back, "0000:01:00.0")->boot_claim);
	fnstate_clear(&a);
	fnstate_clear(&b);
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
		/* a boot claim is of a driverless function without an override, and is the last field */
		"0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=\tsriov_drivers_autoprobe=\tclaimed=boot\n",
		"0000:01:00.0\tdriver=\toverride=vfio-pci\treset_method=\tsriov_numvfs=\tsriov_drivers_autoprobe=\tclaimed=boot\n",
		"0000:01:00.0\tdriver=\toverride=\treset_method=\tsriov_numvfs=\tsriov_drivers_autoprobe=\tclaimed=later\n",
		"0000:01:00.0\tdriver=\toverride=\treset_method=\tsriov_numvfs=\tsriov_drivers_autoprobe=\tclaimed=boot\tx=1\n",
	};
	static const unsigned lines[] = { 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
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

/* issue 13, defect 4: every field read back is what pcibind could have written, or the journal is damaged */
TEST(untrusted_fields_are_damage)
{
	static const char rec[] = "0000:01:00.0\tdriver=%s\toverride=%s\treset_method=%s\tsriov_numvfs=\n";
	static const char *const bad[][3] = {
		{ "../../../../tmp/x", "", "" },
		{ "-r", "", "" },
		{ "nvidia", "vfio pci", "" },
		{ "nvidia", "--remove", "" },
		{ "nvidia", "", "flr;reboot" },
		{ "nvidia", "", " bus" },
		{ "nvidia", "", "flr  bus" },
		{ "nvi/dia", "", "" },
	};
	static const char *const bad_steps[] = {
		"vtcon\tname=../../../tmp/z\tdriver=\tfor=0000:01:00.0\n",
		"vtcon\tname=vtcon\tdriver=\tfor=0000:01:00.0\n",
		"vtcon\tname=vtcon1\tdriver=efi-framebuffer\tfor=0000:01:00.0\n",
		"unit\tname=-reboot.target\tdriver=\tfor=0000:01:00.0\n",
		"unit\tname=reboot\tdriver=\tfor=0000:01:00.0\n",
		"unit\tname=gdm.service\tdriver=\tfor=\n",
		"unit\tname=gdm.service\tdriver=\tfor=0000:01:00.0,../x\n",
		"platform\tname=efi-framebuffer.0\tdriver=../../../x\tfor=0000:01:00.0\n",
		"platform\tname=..\tdriver=efi-framebuffer\tfor=0000:01:00.0\n",
		"0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=\n0000:01:00.0\tdriver=b\toverride=\treset_method=\tsriov_numvfs=\n",
	};
	char dir[64], text[512];
	struct sysroot *r = temp_root(dir);
	struct journal *j = NULL;
	unsigned line = 0;

	ASSERT_NOT_NULL(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), rec, bad[i][0], bad[i][1], bad[i][2]);
		ASSERT_INT_EQ(write_file(r, JOURNAL_FILE, text), 0);
		line = 0;
		if (journal_load(r, &j, &line) != -EBADMSG || line != 1)
			FAIL_AT("accepted: %s", text);
	}
	for (size_t i = 0; i < sizeof(bad_steps) / sizeof(bad_steps[0]); i++) {
		ASSERT_INT_EQ(write_file(r, JOURNAL_FILE, bad_steps[i]), 0);
		if (journal_load(r, &j, &line) != -EBADMSG)
			FAIL_AT("accepted: %s", bad_steps[i]);
	}
	/* what pcibind writes is read back */
	ASSERT_INT_EQ(write_file(r, JOURNAL_FILE,
				 "0000:01:00.0\tdriver=snd_hda_intel\toverride=vfio-pci\treset_method=flr bus\tsriov_numvfs=4\n"
				 "unit\tname=display-manager.service\tdriver=\tfor=0000:01:00.0,0000:01:00.1\n"
				 "vtcon\tname=vtcon1\tdriver=\tfor=0000:01:00.0\n"
				 "platform\tname=efi-framebuffer.0\tdriver=efi-framebuffer\tfor=0000:01:00.0\n"),
		      0);
	ASSERT_INT_EQ(journal_load(r, &j, &line), 0);
	ASSERT_INT_EQ(j->n, 1);
	ASSERT_INT_EQ(j->n_steps, 3);
	journal_free(j);
	/* and nothing pcibind could not read back is written */
	j = calloc(1, sizeof(*j));
	struct fnstate s = state("0000:01:00.0", "-r", NULL, NULL, -1);
	ASSERT_INT_EQ(journal_add(j, &s), -EINVAL);
	ASSERT_INT_EQ(journal_add_step(j, JSTEP_VTCON, "../x", NULL, "0000:01:00.0"), -EINVAL);
	ASSERT_INT_EQ(journal_add_step(j, JSTEP_PLATFORM, "efi-framebuffer.0", "other", "0000:01:00.0"), -EINVAL);
	fnstate_clear(&s);
	journal_free(j);
	remove_root(r, dir);
}

/* a NUL byte used to end the text there: every record after it was dropped without a word */
TEST(nul_byte_is_damage)
{
	static const char text[] = "# pcibind journal 1\n0000:01:00.0\tdriver=a\toverride=\treset_method=\tsriov_numvfs=\n"
				   "\0\n0000:02:00.0\tdriver=b\toverride=\treset_method=\tsriov_numvfs=\n";
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal *j = NULL;
	unsigned line = 0;
	int fd;

	ASSERT_NOT_NULL(r);
	fd = sysroot_openat(r, JOURNAL_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	ASSERT_INT_EQ(journal_load(r, &j, &line), -EBADMSG);
	ASSERT_INT_EQ(line, 3);
	remove_root(r, dir);
}

/* defects 5 and 6: the run directory and the journal as pcibind makes them, or nothing */
TEST(run_dir_and_journal_are_checked)
{
	char dir[64], path[96], out[256];
	struct sysroot *r = temp_root(dir);
	struct journal *j = NULL;
	int fd = -1;

	ASSERT_NOT_NULL(r);
	snprintf(path, sizeof(path), "%s/" RUN_DIR, dir);
	/* created 0700 by the lock */
	ASSERT_INT_EQ(rmdir(path), 0);
	ASSERT_INT_EQ(lock_acquire(r, 1, &fd, NULL), 0);
	lock_release(fd);
	struct stat st;
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0700);
	/* a FIFO as the journal: refused at once */
	snprintf(out, sizeof(out), "%s/journal", path);
	ASSERT_INT_EQ(mkfifo(out, 0600), 0);
	ASSERT_INT_EQ(journal_load(r, &j, NULL), -EINVAL);
	unlink(out);
	/* a journal writable by others */
	ASSERT_INT_EQ(write_file(r, JOURNAL_FILE, "# x\n"), 0);
	ASSERT_INT_EQ(chmod(out, 0666), 0);
	ASSERT_INT_EQ(journal_load(r, &j, NULL), -EPERM);
	unlink(out);
	/* a symlink as the journal */
	ASSERT_INT_EQ(symlink("/etc/hostname", out), 0);
	ASSERT_INT_EQ(journal_load(r, &j, NULL), -ELOOP);
	unlink(out);
	/* a world-writable run directory: refused, and says why */
	ASSERT_INT_EQ(chmod(path, 0777), 0);
	ASSERT_INT_EQ(lock_acquire(r, 1, &fd, NULL), -EPERM);
	ASSERT_INT_EQ(journal_load(r, &j, NULL), -EPERM);
	ASSERT_INT_EQ(journal_run_dir_problem(r, out, sizeof(out)), 1);
	ASSERT_STR_CONTAINS(out, "with mode 0777");
	/* only readable by others (made by hand): ours, tightened to 0700 */
	ASSERT_INT_EQ(chmod(path, 0755), 0);
	ASSERT_INT_EQ(lock_acquire(r, 1, &fd, NULL), 0);
	lock_release(fd);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0700);
	/* a symlink: refused, nothing created where it points */
	snprintf(out, sizeof(out), "%s/elsewhere", dir);
	ASSERT_INT_EQ(mkdir(out, 0700), 0);
	snprintf(out, sizeof(out), "rm -rf '%s' && ln -s ../elsewhere '%s'", path, path);
	ASSERT_INT_EQ(system(out), 0);
	ASSERT_INT_EQ(lock_acquire(r, 1, &fd, NULL), -ELOOP);
	ASSERT_INT_EQ(journal_run_dir_problem(r, out, sizeof(out)), 1);
	ASSERT_STR_CONTAINS(out, "run/pcibind is a symlink");
	snprintf(out, sizeof(out), "%s/elsewhere/lock", dir);
	ASSERT_INT_EQ(access(out, F_OK), -1);
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
