/* test-hook-journal.c - the journal's single-GPU step records: round trip, old journals, damage, when undone */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tmproot.h"
#include "journal.h"
#include "util.h"

/* dir: at least 64 bytes */
static struct sysroot *temp_root(char *dir)
{
	struct sysroot *r = tmproot_open(dir, 64, "hookj");

	return r && sysroot_mkdir_p(r, RUN_DIR, 0700) == 0 ? r : NULL;
}

#define remove_root tmproot_remove

static int write_journal(const struct sysroot *r, const char *text)
{
	int fd = sysroot_openat(r, JOURNAL_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static struct fnstate state(const char *name, const char *driver)
{
	struct fnstate s = { .sriov_numvfs = -1 };

	snprintf(s.name, sizeof(s.name), "%s", name);
	s.driver = strdup(driver);
	s.reset_method = strdup("flr bus");
	return s;
}

TEST(steps_round_trip_in_order)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal *j = calloc(1, sizeof(*j)), *k = NULL;
	struct fnstate s = state("0000:01:00.0", "amdgpu");
	_cleanup_free_ char *text = NULL;
	unsigned line = 0;

	ASSERT_NOT_NULL(r);
	ASSERT_INT_EQ(journal_add(j, &s), 1);
	ASSERT_INT_EQ(journal_add_step(j, JSTEP_UNIT, "display-manager.service", NULL, "0000:01:00.0,0000:01:00.1"), 0);
	ASSERT_INT_EQ(journal_add_step(j, JSTEP_VTCON, "vtcon1", NULL, "0000:01:00.0,0000:01:00.1"), 0);
	ASSERT_INT_EQ(journal_add_step(j, JSTEP_PLATFORM, "efi-framebuffer.0", "efi-framebuffer", "0000:01:00.0"), 0);
	ASSERT_INT_EQ(journal_save(r, j), 0);
	ASSERT_INT_EQ(sysroot_read(r, JOURNAL_FILE, &text, NULL), 0);
	ASSERT_STR_CONTAINS(text, "unit\tname=display-manager.service\tdriver=\tfor=0000:01:00.0,0000:01:00.1\n");
	ASSERT_STR_CONTAINS(text, "platform\tname=efi-framebuffer.0\tdriver=efi-framebuffer\tfor=0000:01:00.0\n");
	ASSERT_INT_EQ(journal_load(r, &k, &line), 0);
	ASSERT_INT_EQ(k->n, 1);
	ASSERT_INT_EQ(k->n_steps, 3);
	ASSERT_INT_EQ(k->steps[0].kind, JSTEP_UNIT);
	ASSERT_STR_EQ(k->steps[1].name, "vtcon1");
	ASSERT_NULL(k->steps[1].driver);
	ASSERT_STR_EQ(k->steps[2].driver, "efi-framebuffer");
	ASSERT_STR_EQ(k->steps[2].fns, "0000:01:00.0");
	fnstate_clear(&s);
	journal_free(j);
	journal_free(k);
	remove_root(r, dir);
}

TEST(old_journal_without_steps_still_loads)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal *j = NULL;
	unsigned line = 0;

	ASSERT_NOT_NULL(r);
	ASSERT_INT_EQ(write_journal(r, "# pcibind journal 1: original state of functions pcibind changed; do not edit\n"
				       "0000:02:00.0\tdriver=nvidia\toverride=\treset_method=bus\tsriov_numvfs=\n"),
		      0);
	ASSERT_INT_EQ(journal_load(r, &j, &line), 0);
	ASSERT_INT_EQ(j->n, 1);
	ASSERT_INT_EQ(j->n_steps, 0);
	journal_free(j);
	remove_root(r, dir);
}

TEST(damaged_step_lines)
{
	static const char *const bad[] = {
		"unit\tname=x.service\n",                            /* fields missing */
		"unit\tname=\tdriver=\tfor=0000:01:00.0\n",          /* no name */
		"vtcon\tname=vtcon1\tdriver=\tfor=\tmore=1\n",       /* a field too many */
		"unitx\tname=a\tdriver=\tfor=\n",                    /* unknown kind: not an address either */
		"platform\tfor=0000:01:00.0\tname=a\tdriver=b\n",   /* wrong order */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char dir[64];
		struct sysroot *r = temp_root(dir);
		struct journal *j = NULL;
		unsigned line = 0;

		ASSERT_NOT_NULL(r);
		ASSERT_INT_EQ(write_journal(r, bad[i]), 0);
		if (journal_load(r, &j, &line) != -EBADMSG)
			FAIL_AT("accepted: %s", bad[i]);
		ASSERT_INT_EQ(line, 1);
		remove_root(r, dir);
	}
}

TEST(values_with_tabs_refused)
{
	struct journal j = { 0 };

	ASSERT_INT_EQ(journal_add_step(&j, JSTEP_UNIT, "a\tb", NULL, NULL), -EINVAL);
	ASSERT_INT_EQ(journal_add_step(&j, JSTEP_UNIT, "a\nb", NULL, NULL), -EINVAL);
	ASSERT_INT_EQ(journal_add_step(&j, JSTEP_UNIT, "", NULL, NULL), -EINVAL);
	ASSERT_INT_EQ(j.n_steps, 0);
}

TEST(step_needed_while_a_function_is_away)
{
	struct journal j = { 0 };
	struct fnstate a = state("0000:01:00.1", "snd_hda_intel");

	ASSERT_INT_EQ(journal_add_step(&j, JSTEP_VTCON, "vtcon1", NULL, "0000:01:00.0,0000:01:00.1"), 0);
	ASSERT_FALSE(journal_step_needed(&j, &j.steps[0]));
	ASSERT_INT_EQ(journal_add(&j, &a), 1);
	ASSERT_TRUE(journal_step_needed(&j, &j.steps[0]));
	ASSERT_INT_EQ(journal_remove(&j, "0000:01:00.1"), 1);
	ASSERT_FALSE(journal_step_needed(&j, &j.steps[0]));
	journal_remove_step(&j, 0);
	ASSERT_INT_EQ(j.n_steps, 0);
	fnstate_clear(&a);
	free(j.recs);
	free(j.steps);
}

TEST(only_steps_keep_the_file)
{
	char dir[64];
	struct sysroot *r = temp_root(dir);
	struct journal j = { 0 };

	ASSERT_NOT_NULL(r);
	ASSERT_INT_EQ(journal_add_step(&j, JSTEP_UNIT, "gdm.service", NULL, "0000:01:00.0"), 0);
	ASSERT_INT_EQ(journal_save(r, &j), 0);
	ASSERT_INT_EQ(sysroot_exists(r, JOURNAL_FILE), 0);
	journal_remove_step(&j, 0);
	ASSERT_INT_EQ(journal_save(r, &j), 0);
	ASSERT_TRUE(sysroot_exists(r, JOURNAL_FILE) < 0);
	free(j.steps);
	remove_root(r, dir);
}

HARNESS_MAIN
