/* test-confedit.c - one section set or taken out of a pcibind.conf text, the rest byte for byte */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "confedit.h"
#include "harness.h"
#include "tmproot.h"

static const char hand[] = "# my passthrough host\n"
			   "[pcibind]\n"
			   "driver = vfio-pci ; the default\n"
			   "\n"
			   "; the NIC for the router VM\n"
			   "[nic]\n"
			   "address = 0000:06:00.0\n"
			   "          0000:07:00.0\n"
			   "; keep it off at boot\n"
			   "boot = no   ; on demand\n"
			   "\n"
			   "# the last one: USB\n"
			   "[usb]\n"
			   "ids = 1912:0014\n"
			   "driver = pci-stub\n";

static const struct confedit_key gpu_keys[] = {
    {"address", "0000:02:00"},
    {"ids", "10de:2204,10de:1aef"},
    {"boot", "yes"},
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

TEST(append_keeps_every_byte_before_it)
{
	char *out = NULL;

	ASSERT_INT_EQ(confedit_set(hand, "gpu", gpu_keys, 3, "NVIDIA GA102, added by pcibind setup", &out), 0);
	ASSERT_TRUE(starts_with(out, hand));
	ASSERT_STR_EQ(out + strlen(hand), "\n[gpu]\n# NVIDIA GA102, added by pcibind setup\naddress = 0000:02:00\n"
					  "ids = 10de:2204,10de:1aef\nboot = yes\n");
	free(out);
}

TEST(append_then_remove_gives_the_file_back)
{
	static const char *const texts[] = {hand,
					    "",
					    "[pcibind]\n",
					    "# only a comment\n\n\n",
					    "[a]\r\nids = 1234:5678\r\n",
					    "[pcibind]\ndriver = vfio-pci",
					    "[a]\r\nids = 1234:5678",
					    "# no final newline"};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *added = NULL, *removed = NULL;

		ASSERT_INT_EQ(confedit_set(texts[i], "gpu", gpu_keys, 3, "x", &added), 0);
		ASSERT_TRUE(confedit_has_section(added, "gpu"));
		ASSERT_INT_EQ(confedit_remove(added, "gpu", &removed), 0);
		ASSERT_STR_EQ(removed, texts[i]);
		free(added);
		free(removed);
	}
}

TEST(crlf_file_gets_crlf_lines)
{
	char *out = NULL;

	ASSERT_INT_EQ(confedit_set("[a]\r\nids = 1234:5678\r\n", "gpu", gpu_keys, 1, NULL, &out), 0);
	ASSERT_STR_EQ(out, "[a]\r\nids = 1234:5678\r\n\r\n[gpu]\r\naddress = 0000:02:00\r\n");
	free(out);
}

TEST(no_final_newline_gets_one_before_the_section_and_none_after_it)
{
	char *out = NULL;

	ASSERT_INT_EQ(confedit_set("[a]\nids = 1234:5678", "gpu", gpu_keys, 1, NULL, &out), 0);
	ASSERT_STR_EQ(out, "[a]\nids = 1234:5678\n\n[gpu]\naddress = 0000:02:00");
	free(out);
	ASSERT_INT_EQ(confedit_set("[a]\r\nids = 1234:5678", "gpu", gpu_keys, 2, "c", &out), 0);
	ASSERT_STR_EQ(out, "[a]\r\nids = 1234:5678\r\n\r\n[gpu]\r\n# c\r\naddress = 0000:02:00\r\nids = 10de:2204,10de:1aef");
	free(out);
}

/* issue 20, seam 5: a section taken out at the end of a text without a final newline leaves none either */
TEST(remove_at_an_open_end_leaves_it_open)
{
	char *out = NULL;

	ASSERT_INT_EQ(confedit_remove("[a]\nx = 1\n[b]\ny = 2", "b", &out), 0);
	ASSERT_STR_EQ(out, "[a]\nx = 1");
	free(out);
	ASSERT_INT_EQ(confedit_remove("[a]\nx = 1\n[b]\ny = 2", "a", &out), 0);
	ASSERT_STR_EQ(out, "[b]\ny = 2");
	free(out);
	ASSERT_INT_EQ(confedit_remove("[b]\ny = 2", "b", &out), 0);
	ASSERT_STR_EQ(out, "");
	free(out);
}

TEST(existing_section_edited_in_place)
{
	static const struct confedit_key keys[] = {{"boot", "yes"}, {"ids", "8086:1533"}};
	char *out = NULL;
	const char *want = "# my passthrough host\n"
			   "[pcibind]\n"
			   "driver = vfio-pci ; the default\n"
			   "\n"
			   "; the NIC for the router VM\n"
			   "[nic]\n"
			   "address = 0000:06:00.0\n"
			   "          0000:07:00.0\n"
			   "; keep it off at boot\n"
			   "boot = yes ; on demand\n"
			   "ids = 8086:1533\n"
			   "\n"
			   "# the last one: USB\n"
			   "[usb]\n"
			   "ids = 1912:0014\n"
			   "driver = pci-stub\n";

	ASSERT_INT_EQ(confedit_set(hand, "nic", keys, 2, "not used for an existing section", &out), 0);
	ASSERT_STR_EQ(out, want);
	free(out);
}

TEST(a_list_over_lines_is_folded_into_one)
{
	static const struct confedit_key keys[] = {{"address", "0000:06:00.0,0000:08:00.0"}};
	char *out = NULL;

	ASSERT_INT_EQ(confedit_set(hand, "nic", keys, 1, NULL, &out), 0);
	ASSERT_TRUE(strstr(out, "[nic]\naddress = 0000:06:00.0,0000:08:00.0\n; keep it off at boot\nboot = no   ;"));
	ASSERT_NULL(strstr(out, "0000:07:00.0"));
	free(out);
}

TEST(same_values_change_nothing)
{
	static const struct confedit_key keys[] = {{"ids", "1912:0014"}, {"driver", "pci-stub"}};
	char *out = NULL;

	ASSERT_INT_EQ(confedit_set(hand, "usb", keys, 2, NULL, &out), 0);
	ASSERT_STR_EQ(out, hand);
	free(out);
}

TEST(remove_keeps_the_comments_of_the_next_section)
{
	char *out = NULL;

	ASSERT_INT_EQ(confedit_remove(hand, "nic", &out), 0);
	ASSERT_STR_EQ(out, "# my passthrough host\n"
			   "[pcibind]\n"
			   "driver = vfio-pci ; the default\n"
			   "\n"
			   "; the NIC for the router VM\n"
			   "\n"
			   "# the last one: USB\n"
			   "[usb]\n"
			   "ids = 1912:0014\n"
			   "driver = pci-stub\n");
	free(out);
	ASSERT_INT_EQ(confedit_remove(hand, "gpu", &out), -ENOENT);
	ASSERT_INT_EQ(confedit_remove(hand, "usb", &out), 0);
	ASSERT_TRUE(starts_with(hand, out));
	ASSERT_STR_EQ(hand + strlen(out), "[usb]\nids = 1912:0014\ndriver = pci-stub\n");
	free(out);
}

TEST(an_indented_header_is_a_continuation_not_a_section)
{
	/* config.c (and inih) read an indented line after a key as more of that key */
	ASSERT_FALSE(confedit_has_section("[a]\nids = 1234:5678\n  [gpu]\n", "gpu"));
	ASSERT_TRUE(confedit_has_section("[a]\n  [gpu]\n", "gpu"));
	ASSERT_TRUE(confedit_has_section("\xef\xbb\xbf[gpu]\n", "gpu"));
	ASSERT_FALSE(confedit_has_section("; [gpu]\n#[gpu]\n", "gpu"));
}

TEST(unsafe_input_is_refused)
{
	static const struct confedit_key nl[] = {{"address", "02:00\n[evil]"}}, semi[] = {{"address", "02:00 ; x"}},
					 empty[] = {{"address", ""}}, key[] = {{"Address", "02:00"}};
	char *out = NULL;

	ASSERT_INT_EQ(confedit_set(hand, "gpu", nl, 1, NULL, &out), -EINVAL);
	ASSERT_INT_EQ(confedit_set(hand, "gpu", semi, 1, NULL, &out), -EINVAL);
	ASSERT_INT_EQ(confedit_set(hand, "gpu", empty, 1, NULL, &out), -EINVAL);
	ASSERT_INT_EQ(confedit_set(hand, "gpu", key, 1, NULL, &out), -EINVAL);
	ASSERT_INT_EQ(confedit_set(hand, "gpu]x", gpu_keys, 1, NULL, &out), -EINVAL);
	ASSERT_INT_EQ(confedit_set(hand, "9gpu", gpu_keys, 1, NULL, &out), -EINVAL);
	ASSERT_INT_EQ(confedit_set(hand, "gpu", gpu_keys, 1, "two\nlines", &out), -EINVAL);
	ASSERT_NULL(out);
}

TEST(the_result_reads_as_intended)
{
	struct config *cfg = config_new();
	struct config_error e = {0};
	const struct devset *set;
	char *out = NULL;

	ASSERT_INT_EQ(confedit_set(hand, "gpu", gpu_keys, 3, "a comment; with [brackets] = and #", &out), 0);
	ASSERT_INT_EQ(config_parse_text(cfg, out, "pcibind.conf", &e), 0);
	ASSERT_INT_EQ(config_finish(cfg, &e), 0);
	ASSERT_INT_EQ(cfg->n_sets, 3);
	set = config_find_set(cfg, "gpu");
	ASSERT_NOT_NULL(set);
	ASSERT_INT_EQ(set->n_addrs, 1);
	ASSERT_INT_EQ(set->addrs[0].kind, SEL_SLOT);
	ASSERT_INT_EQ(set->n_ids, 2);
	ASSERT_TRUE(set->boot);
	ASSERT_INT_EQ(config_find_set(cfg, "nic")->n_addrs, 2);
	free(out);
	config_free(cfg);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char path[512], cmd[1024];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
	(void)snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	(void)!system(cmd);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(load_text_reads_the_edit_instead_of_the_file)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "confedit");
	struct config *cfg = NULL;
	struct config_error e = {0};

	ASSERT_NOT_NULL(r);
	put(dir, CONFIG_FILE, "[gpu]\naddress = 02:00\n");
	put(dir, CONFIG_DROPIN_DIR "/20-nic.conf", "[nic]\naddress = 06:00.0\n");
	/* the main file replaced */
	ASSERT_INT_EQ(config_load_text(r, CONFIG_FILE, "[other]\naddress = 03:00\n", &cfg, &e), 0);
	ASSERT_NULL(config_find_set(cfg, "gpu"));
	ASSERT_NOT_NULL(config_find_set(cfg, "other"));
	ASSERT_NOT_NULL(config_find_set(cfg, "nic"));
	config_free(cfg);
	/* a drop-in not on disk yet, read in its lexical place (after 20-nic) */
	ASSERT_INT_EQ(config_load_text(r, CONFIG_DROPIN_DIR "/30-x.conf", "[x]\naddress = 06:00.0\n", &cfg, &e), -EINVAL);
	ASSERT_STR_CONTAINS(e.msg, "[x] is also in [nic]");
	ASSERT_INT_EQ(config_load_text(r, CONFIG_DROPIN_DIR "/10-x.conf", "[x]\naddress = 06:00.0\n", &cfg, &e), -EINVAL);
	ASSERT_STR_CONTAINS(e.msg, "[nic] is also in [x]");
	/* an error names the file the text is for, and its line */
	ASSERT_INT_EQ(config_load_text(r, CONFIG_FILE, "[gpu]\n\nadress = 02:00\n", &cfg, &e), -EINVAL);
	ASSERT_STR_CONTAINS(e.file, "/etc/pcibind/pcibind.conf");
	ASSERT_INT_EQ(e.line, 3);
	/* absent: the drop-in's own set alone */
	ASSERT_INT_EQ(config_load_text(r, CONFIG_FILE, NULL, &cfg, &e), 0);
	ASSERT_INT_EQ(cfg->n_sets, 1);
	config_free(cfg);
	ASSERT_INT_EQ(config_load_text(r, "etc/passwd", "", &cfg, &e), -EINVAL);
	ASSERT_INT_EQ(config_load_text(r, CONFIG_DROPIN_DIR "/a/b.conf", "", &cfg, &e), -EINVAL);
	tmproot_remove(r, dir);
}

HARNESS_MAIN
