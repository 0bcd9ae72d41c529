/* test-bootcfg.c - the boot-config layer below a temporary root: what it reads, says and leaves alone */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootcfg.h"
#include "bootops.h"
#include "harness.h"
#include "tmproot.h"
#include "util.h"

/* what the layer said, one "E: ", "W: " or "I: " line each */
struct heard {
	char text[4096];
};

static void hear(void *userdata, enum bootcfg_level level, const char *text)
{
	struct heard *h = userdata;
	size_t len = strlen(h->text);

	(void)snprintf(h->text + len, sizeof(h->text) - len, "%s: %s\n",
		       level == BOOTCFG_ERROR  ? "E"
		       : level == BOOTCFG_WARN ? "W"
					       : "I",
		       text);
}

/* a file below the root dir, its directories made (a test's own files: plain stdio) */
static void put(const char *dir, const char *rel, const char *text)
{
	char cmd[512], path[512];
	FILE *f;

	(void)snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s/%s')\"", dir, rel);
	(void)!system(cmd);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static const char *edited_text(const struct gen_existing *ex, const char *path, size_t *ret_seen)
{
	const char *text = NULL;

	*ret_seen = 0;
	for (const struct gen_text *t = ex->edited; t->path; t++)
		if (streq(t->path, path)) {
			text = t->text;
			(*ret_seen)++;
		}
	return text;
}

/* each bootloader's in-place file is read once, by the path its ops table gives, whichever is in use */
TEST(existing_read_walks_the_method_table)
{
	char dir[64], msg[512];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "bootcfg");
	struct system sys = { 0 };
	struct bootcfg_existing cur;
	size_t seen;

	ASSERT_NOT_NULL(r);
	put(dir, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	put(dir, "etc/kernel/cmdline", "root=/dev/sda1 ro\n");
	ASSERT_INT_EQ(bootcfg_existing_read(r, &sys, &cur, msg, sizeof(msg)), 0);
	for (const struct boot_ops *const *m = boot_methods; *m; m++) {
		const char *text;

		if (!(*m)->cmdline)
			continue;
		text = edited_text(&cur.ex, (*m)->cmdline->path, &seen);
		ASSERT_INT_EQ(seen, 1);
		if (streq((*m)->cmdline->path, "etc/default/grub"))
			ASSERT_STR_EQ(text, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
		else if (streq((*m)->cmdline->path, "etc/kernel/cmdline"))
			ASSERT_STR_EQ(text, "root=/dev/sda1 ro\n");
		else
			ASSERT_NULL(text);
	}
	ASSERT_NULL(edited_text(&cur.ex, "etc/fstab", &seen));
	ASSERT_TRUE(cur.ex.state == &cur.state);
	bootcfg_existing_clear(&cur);
	tmproot_remove(r, dir);
}

/* the way back on a root pcibind never wrote to: nothing to change, nothing said above info */
TEST(the_way_back_on_an_untouched_root_changes_nothing)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "bootcfg");
	struct heard h = { "" };
	struct bootcfg_opts o = { .root = r, .remove = true, .say = hear, .userdata = &h };
	struct bootcfg *bc = NULL;

	ASSERT_NOT_NULL(r);
	put(dir, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	ASSERT_INT_EQ(bootcfg_build(&o, NULL, &bc), 0);
	ASSERT_INT_EQ(bc->n_changed, 0);
	for (size_t i = 0; i < bc->res.n_files; i++)
		ASSERT_FALSE(bc->changed[i]);
	ASSERT_INT_EQ(bootcfg_write(bc, false), 0);
	ASSERT_STR_EQ(h.text, "");
	ASSERT_INT_EQ(sysroot_exists(r, "etc/default/grub"), 0);
	bootcfg_free(bc);
	tmproot_remove(r, dir);
}

/* an owned path holding the user's own text is left alone on the way back, with a warning said */
TEST(a_users_file_at_an_owned_path_is_left_alone)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "bootcfg");
	struct heard h = { "" };
	struct bootcfg_opts o = { .root = r, .remove = true, .say = hear, .userdata = &h };
	struct bootcfg *bc = NULL;
	char *text = NULL;

	ASSERT_NOT_NULL(r);
	put(dir, "etc/modprobe.d/pcibind.conf", "options vfio-pci ids=10de:1b80\n");
	ASSERT_INT_EQ(bootcfg_build(&o, NULL, &bc), 0);
	ASSERT_STR_CONTAINS(h.text, "W: /etc/modprobe.d/pcibind.conf was not written by pcibind");
	ASSERT_INT_EQ(bootcfg_write(bc, false), 0);
	ASSERT_INT_EQ(sysroot_read(r, "etc/modprobe.d/pcibind.conf", &text, NULL), 0);
	ASSERT_STR_EQ(text, "options vfio-pci ids=10de:1b80\n");
	free(text);
	bootcfg_free(bc);
	tmproot_remove(r, dir);
}

/* a damaged record stops the build, said once with generate's words; check's read gets the record's own */
TEST(a_damaged_record_stops_the_build)
{
	char dir[64], msg[512];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "bootcfg");
	struct heard h = { "" };
	struct bootcfg_opts o = { .root = r, .remove = true, .say = hear, .userdata = &h };
	struct bootcfg *bc = NULL;
	struct bootcfg_existing cur;
	struct system sys = { 0 };

	ASSERT_NOT_NULL(r);
	put(dir, BOOTSTATE_FILE, "nonsense\n");
	ASSERT_TRUE(bootcfg_build(&o, NULL, &bc) < 0);
	ASSERT_NULL(bc);
	ASSERT_STR_CONTAINS(h.text, "E: /" BOOTSTATE_FILE);
	ASSERT_STR_CONTAINS(h.text, "; nothing changed\n");
	ASSERT_TRUE(bootcfg_existing_read(r, &sys, &cur, msg, sizeof(msg)) < 0);
	ASSERT_STR_CONTAINS(msg, "/" BOOTSTATE_FILE);
	ASSERT_TRUE(strstr(msg, "nothing changed") == NULL);
	tmproot_remove(r, dir);
}

HARNESS_MAIN
