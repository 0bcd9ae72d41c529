/* test-gen.c - the pure generators: cmdline merge, GRUB and kernelstub edits, driver rules, diff, gen_build */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstate.h"
#include "config.h"
#include "gen.h"
#include "harness.h"

static char *const ours[] = {"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:2204"};

TEST(merge_appends_to_empty)
{
	char *s = gen_cmdline_merge("", ours, 2);

	ASSERT_STR_EQ(s, "intel_iommu=on iommu=pt");
	free(s);
}

TEST(merge_keeps_user_args_in_order)
{
	char *s = gen_cmdline_merge("quiet splash root=/dev/sda1", ours, 2);

	ASSERT_STR_EQ(s, "quiet splash root=/dev/sda1 intel_iommu=on iommu=pt");
	free(s);
}

TEST(merge_updates_in_place_and_never_duplicates)
{
	char *s = gen_cmdline_merge("quiet intel_iommu=off splash intel_iommu=igfx_off iommu=pt", ours, 2);

	ASSERT_STR_EQ(s, "quiet intel_iommu=on splash iommu=pt");
	free(s);
}

TEST(merge_is_idempotent)
{
	char *a = gen_cmdline_merge("ro quiet", ours, 3);
	char *b = gen_cmdline_merge(a, ours, 3);

	ASSERT_STR_EQ(b, a);
	ASSERT_STR_EQ(a, "ro quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204");
	free(a);
	free(b);
}

TEST(merge_drops_stale_vfio_pci_args)
{
	char *s = gen_cmdline_merge("ro vfio_pci.ids=1234:5678 vfio-pci.disable_vga=1 quiet", ours, 1);

	ASSERT_STR_EQ(s, "ro quiet intel_iommu=on");
	free(s);
	s = gen_cmdline_merge("ro vfio_pci.ids=1234:5678", &ours[2], 1);
	ASSERT_STR_EQ(s, "ro vfio-pci.ids=10de:2204");
	free(s);
}

TEST(merge_rd_driver_pre_only_ours)
{
	char *const a[] = {"rd.driver.pre=vfio-pci"};
	char *s = gen_cmdline_merge("rd.driver.pre=nvme quiet", a, 1);

	ASSERT_STR_EQ(s, "rd.driver.pre=nvme quiet rd.driver.pre=vfio-pci");
	free(s);
}

TEST(grub_edit_in_place_with_marker)
{
	struct gen_error e;
	char *out = NULL, *again = NULL;
	const char *in = "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"\n";

	ASSERT_INT_EQ(gen_grub_edit(in, ours, 2, &out, &e), 0);
	ASSERT_STR_EQ(out, "GRUB_DEFAULT=0\n# pcibind: GRUB_CMDLINE_LINUX_DEFAULT below is kept up to date by "
			   "`pcibind generate`\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash intel_iommu=on iommu=pt\"\n"
			   "GRUB_CMDLINE_LINUX=\"\"\n");
	ASSERT_INT_EQ(gen_grub_edit(out, ours, 2, &again, &e), 0);
	ASSERT_STR_EQ(again, out);
	free(out);
	free(again);
}

TEST(grub_edit_appends_when_absent)
{
	struct gen_error e;
	char *out = NULL;

	ASSERT_INT_EQ(gen_grub_edit("GRUB_TIMEOUT=5", ours, 1, &out, &e), 0);
	ASSERT_STR_CONTAINS(out, "GRUB_TIMEOUT=5\n# pcibind:");
	ASSERT_STR_CONTAINS(out, "\nGRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on\"\n");
	free(out);
}

TEST(grub_edit_refuses_shell_syntax)
{
	struct gen_error e;
	char *out = NULL;

	ASSERT_INT_EQ(gen_grub_edit("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet $(cat /x)\"\n", ours, 1, &out, &e), -EINVAL);
	ASSERT_STR_CONTAINS(e.msg, "shell syntax");
	ASSERT_INT_EQ(gen_grub_edit("GRUB_CMDLINE_LINUX_DEFAULT=\"a\" ; reboot\n", ours, 1, &out, &e), -EINVAL);
	ASSERT_INT_EQ(gen_grub_edit("GRUB_CMDLINE_LINUX_DEFAULT=\"a `b`\"\n", ours, 1, &out, &e), -EINVAL);
	ASSERT_NULL(out);
}

TEST(kernelstub_edits_only_user_options)
{
	const char *in = "{\n  \"default\": {\n    \"kernel_options\": [\"quiet\"]\n  },\n"
			 "  \"user\": {\n    \"kernel_options\": [\n      \"quiet\",\n      \"splash\"\n    ],\n"
			 "    \"esp_path\": \"/boot/efi\"\n  }\n}\n";
	struct gen_error e;
	char *out = NULL, *again = NULL;

	ASSERT_INT_EQ(gen_kernelstub_edit(in, ours, 1, &out, &e), 0);
	ASSERT_STR_EQ(out, "{\n  \"default\": {\n    \"kernel_options\": [\"quiet\"]\n  },\n"
			   "  \"user\": {\n    \"kernel_options\": [\n      \"quiet\",\n      \"splash\",\n"
			   "      \"intel_iommu=on\"\n    ],\n    \"esp_path\": \"/boot/efi\"\n  }\n}\n");
	ASSERT_INT_EQ(gen_kernelstub_edit(out, ours, 1, &again, &e), 0);
	ASSERT_STR_EQ(again, out);
	free(out);
	free(again);
}

TEST(kernelstub_refuses_what_it_cannot_read)
{
	struct gen_error e;
	char *out = NULL;

	ASSERT_INT_EQ(gen_kernelstub_edit("{\"user\": {}}", ours, 1, &out, &e), -EINVAL);
	ASSERT_INT_EQ(gen_kernelstub_edit("{\"user\": {\"kernel_options\": [\"a\\\"b\"]}}", ours, 1, &out, &e),
		      -EINVAL);
	ASSERT_INT_EQ(gen_kernelstub_edit(NULL, ours, 1, &out, &e), -EINVAL);
	ASSERT_NULL(out);
}

TEST(known_host_drivers)
{
	ASSERT_STR_EQ(gen_known_drivers(0x10de, 0x030000)[0], "nouveau");
	ASSERT_STR_EQ(gen_known_drivers(0x10de, 0x030000)[1], "nvidia");
	ASSERT_STR_EQ(gen_known_drivers(0x1002, 0x030000)[0], "amdgpu");
	ASSERT_STR_EQ(gen_known_drivers(0x1002, 0x040300)[0], "snd_hda_intel");
	ASSERT_STR_EQ(gen_known_drivers(0x1b21, 0x0c0330)[0], "xhci_pci");
	ASSERT_NULL(gen_known_drivers(0x8086, 0x020000)[0]);
}

TEST(driver_module_names)
{
	struct drvmod m[] = {{"foo-drv", "foo_mod"}, {"builtin", ""}};
	struct system s = {.drvmods = m, .n_drvmods = 2};

	ASSERT_STR_EQ(gen_driver_module(&s, "foo-drv"), "foo_mod");
	ASSERT_STR_EQ(gen_driver_module(&s, "builtin"), "");
	ASSERT_STR_EQ(gen_driver_module(&s, "xhci_hcd"), "xhci_pci");
	ASSERT_STR_EQ(gen_driver_module(NULL, "amdgpu"), "amdgpu");
}

TEST(validators)
{
	ASSERT_TRUE(driver_name_valid("snd_hda_intel"));
	ASSERT_FALSE(driver_name_valid("a b"));
	ASSERT_FALSE(driver_name_valid("x\ninstall y /bin/sh"));
	ASSERT_FALSE(driver_name_valid(""));
	/* one validator for modules and drivers: a leading '-' would be an option to modprobe */
	ASSERT_FALSE(driver_name_valid("-r"));
	ASSERT_TRUE(cmdline_arg_valid("vfio-pci.ids=10de:2204,10de:1aef"));
	ASSERT_FALSE(cmdline_arg_valid("a\"b"));
	ASSERT_FALSE(cmdline_arg_valid("$(x)"));
	ASSERT_FALSE(cmdline_arg_valid("a`b`"));
	ASSERT_FALSE(cmdline_arg_valid("a\\b"));
}

TEST(diff_create_change_equal)
{
	char *d = gen_diff("etc/x", NULL, "a\nb\n");

	ASSERT_STR_EQ(d, "--- /dev/null\n+++ b/etc/x\n@@ -0,0 +1,2 @@\n+a\n+b\n");
	free(d);
	d = gen_diff("etc/x", "a\nb\nc\n", "a\nB\nc\n");
	ASSERT_STR_EQ(d, "--- a/etc/x\n+++ b/etc/x\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
	free(d);
	d = gen_diff("etc/x", "same\n", "same\n");
	ASSERT_STR_EQ(d, "");
	free(d);
	d = gen_diff("etc/x", "a", "a\n");
	ASSERT_STR_EQ(d, "--- a/etc/x\n+++ b/etc/x\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+a\n");
	free(d);
}

TEST(diff_two_hunks)
{
	char *d = gen_diff("f", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n");

	ASSERT_STR_EQ(d, "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
			 "@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n");
	free(d);
}

/* ---- gen_build on hand-made inputs ---- */

static struct config *cfg_from(const char *text)
{
	struct config *cfg = config_new();
	struct config_error e;

	if (!cfg || config_parse_text(cfg, text, "/etc/pcibind/pcibind.conf", &e) < 0 || config_finish(cfg, &e) < 0) {
		fprintf(stderr, "  config: %s:%u: %s\n", e.file, e.line, e.msg);
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* the last entry for path: what the file holds once the result is written */
static const struct gen_file *find_file(const struct gen_result *r, const char *path)
{
	for (size_t i = r->n_files; i-- > 0;)
		if (strcmp(r->files[i].path, path) == 0)
			return &r->files[i];
	return NULL;
}

static const char *find_cmd(const struct gen_result *r, enum gen_when when)
{
	for (size_t i = 0; i < r->n_cmds; i++)
		if (r->cmds[i].when == when)
			return r->cmds[i].cmd;
	return NULL;
}

TEST(build_intel_grub_module)
{
	struct kernel k[] = {{"6.1.0-13-amd64", 6, 1, false, 0, ""}};
	struct pcifn fns[] = {{.addr = {0, 1, 0, 0}, .name = "0000:01:00.0", .vendor = 0x10de, .device = 0x2204,
			       .class = 0x030000, .group = 1}};
	struct pcihost h = {.fns = fns, .n = 1, .iommu = true};
	struct system s = {.boot = BOOT_GRUB, .grub_dropin = true, .grub_refresh = "update-grub",
			   .initrd = INITRD_TOOLS, .cpu = CPU_INTEL, .kernels = k, .n_kernels = 1, .irq_remap = 1};
	struct gen_existing ex = {.edited = {{"etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n"}}};
	struct config *cfg = cfg_from("[pcibind]\niommu_pt = yes\n[gpu]\naddress = 01:00\nboot = yes\n");
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modprobe.d/pcibind.conf")->text, "softdep nouveau pre: vfio-pci\n"
										"softdep nvidia pre: vfio-pci\n");
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modprobe.d/pcibind.conf")->text, "options vfio-pci disable_vga=1\n");
	/* 6.1: vfio_pci depends on vfio_virqfd, modprobe loads it; naming it fails on 6.2 and later */
	ASSERT_FALSE(strstr(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "\nvfio_virqfd\n"));
	/* intel_iommu=on is in the user's own GRUB line: not repeated */
	ASSERT_STR_CONTAINS(find_file(&r, "etc/default/grub.d/pcibind.cfg")->text,
			    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT iommu=pt\"\n");
	ASSERT_STR_EQ(find_cmd(&r, GEN_AFTER_INITRD), "update-initramfs -u -k all");
	ASSERT_STR_EQ(find_cmd(&r, GEN_AFTER_BOOT), "update-grub");
	gen_result_clear(&r);
	config_free(cfg);
}

TEST(build_amd_builtin_ids_dracut)
{
	struct kernel k[] = {{"6.8.0", 6, 8, true, 1, ""}};
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_GRUBBY, .initrd = INITRD_DRACUT, .cpu = CPU_AMD, .kernels = k,
			   .n_kernels = 1, .bls_options = "ro quiet"};
	struct gen_existing ex = {0};
	struct config *cfg = cfg_from("[nic]\nids = 8086:10d3\nboot = yes\n");
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_INT_EQ(r.n_args, 1);
	ASSERT_STR_EQ(r.args[0], "vfio-pci.ids=8086:10d3"); /* no amd_iommu=on; no rd.driver.pre for built-in */
	ASSERT_STR_EQ(find_cmd(&r, GEN_NOW), "grubby --update-kernel=ALL --args=\"vfio-pci.ids=8086:10d3\"");
	ASSERT_FALSE(strstr(find_file(&r, "etc/modprobe.d/pcibind.conf")->text, "options vfio-pci"));
	ASSERT_FALSE(strstr(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "\nvfio_virqfd\n"));
	ASSERT_NOT_NULL(find_file(&r, "etc/dracut.conf.d/pcibind.conf"));
	gen_result_clear(&r);
	config_free(cfg);
}

TEST(build_refuses_a_bad_host_driver_name)
{
	struct pcifn fns[] = {{.addr = {0, 1, 0, 0}, .name = "0000:01:00.0", .vendor = 0x1002, .device = 1,
			       .class = 0x030000, .group = 1, .driver = "evil\ninstall x /bin/sh"}};
	struct pcihost h = {.fns = fns, .n = 1, .iommu = true};
	struct system s = {.cpu = CPU_AMD};
	struct gen_existing ex = {0};
	struct config *cfg = cfg_from("[gpu]\naddress = 01:00.0\nboot = yes\n");
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), -EINVAL);
	ASSERT_STR_CONTAINS(e.msg, "0000:01:00.0");
	config_free(cfg);
}

TEST(build_unsafe_interrupts_only_without_remapping)
{
	struct pcihost h = {0};
	struct system s = {.cpu = CPU_INTEL, .irq_remap = 1};
	struct gen_existing ex = {0};
	struct config *cfg = cfg_from("[pcibind]\nallow_unsafe_interrupts = yes\n");
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_FALSE(strstr(find_file(&r, "etc/modprobe.d/pcibind.conf")->text, "allow_unsafe"));
	gen_result_clear(&r);
	s.irq_remap = 0;
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modprobe.d/pcibind.conf")->text,
			    "options vfio_iommu_type1 allow_unsafe_interrupts=1\n");
	gen_result_clear(&r);
	config_free(cfg);
}

TEST(config_rejects_injection_with_file_line)
{
	static const char *const bad[] = {
	    "[gpu]\naddress = 01:00\ndriver = vfio-pci$(reboot)\n",
	    "[pcibind]\nblacklist = nouveau`id`\n",
	    "[gpu]\naddress = 01:00\nids = 10de:2204\"\n",
	    "[gpu]\naddress = 01:00\ndriver = a\\b\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *cfg = config_new();
		struct config_error e = {0};

		ASSERT_INT_EQ(config_parse_text(cfg, bad[i], "/etc/pcibind/pcibind.conf", &e), -EINVAL);
		ASSERT_TRUE(e.line >= 2);
		config_free(cfg);
	}
}

TEST(kernel_versions)
{
	unsigned ma = 0, mi = 0;

	ASSERT_INT_EQ(kernel_version_parse("6.1.0-13-amd64", &ma, &mi), 0);
	ASSERT_INT_EQ(ma, 6);
	ASSERT_INT_EQ(mi, 1);
	ASSERT_INT_EQ(kernel_version_parse("6.11.4-301.fc41.x86_64", &ma, &mi), 0);
	ASSERT_INT_EQ(mi, 11);
	ASSERT_INT_EQ(kernel_version_parse("5.15", &ma, &mi), 0);
	ASSERT_INT_EQ(ma, 5);
	ASSERT_INT_EQ(kernel_version_parse("extramodules-6.1", &ma, &mi), -EINVAL);
	ASSERT_INT_EQ(kernel_version_parse("6", &ma, &mi), -EINVAL);
}

TEST(virqfd_never_listed)
{
	struct kernel old[] = {{"6.1.0", 6, 1, false, 0, ""}, {"6.12.0", 6, 12, false, 0, ""}};
	struct pcihost h = {0};
	struct system s = {.cpu = CPU_AMD, .kernels = old, .n_kernels = 2};
	struct gen_existing ex = {0};
	struct config *cfg = config_new();
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "\nvfio\nvfio_iommu_type1\nvfio_pci\n");
	ASSERT_FALSE(strstr(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "\nvfio_virqfd\n"));
	ASSERT_INT_EQ(r.n_args, 0); /* AMD: nothing */
	gen_result_clear(&r);
	config_free(cfg);
}

TEST(every_generated_file_carries_the_header)
{
	struct kernel k[] = {{"6.8.0", 6, 8, false, 0, ""}};
	struct pcihost h = {0};
	struct gen_existing ex = {0};
	struct config *cfg = config_new();
	static const enum initrd_tool tools[] = {INITRD_TOOLS, INITRD_DRACUT, INITRD_MKINITCPIO};

	ASSERT_NOT_NULL(cfg);
	for (size_t t = 0; t < 3; t++) {
		struct system s = {.cpu = CPU_INTEL, .kernels = k, .n_kernels = 1, .initrd = tools[t],
				   .boot = BOOT_GRUB, .grub_dropin = true, .grub_refresh = "update-grub"};
		struct gen_result r;
		struct gen_error e;

		ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
		for (size_t i = 0; i < r.n_files; i++)
			if (r.files[i].owned && r.files[i].text)
				ASSERT_STR_CONTAINS(r.files[i].text, "# " GEN_HEADER "\n");
		gen_result_clear(&r);
	}
	config_free(cfg);
}


/* ---- the record of in-place edits and the way back ---- */

/* what the disk holds once r is written: the record read back as bootstate_load would */
static int state_after(const struct gen_result *r, struct bootstate *ret)
{
	const struct gen_file *m = find_file(r, BOOTSTATE_FILE);
	unsigned line = 0;
	int err;

	*ret = (struct bootstate){0};
	if (!m || !m->text)
		return 0;
	if ((err = bootstate_parse(m->text, ret, &line)) < 0)
		return err;
	for (size_t i = 0; i < ret->n_edits; i++) {
		char path[256];
		const struct gen_file *o;

		if (!ret->edits[i].original)
			continue;
		(void)bootstate_orig_path(ret->edits[i].path, path, sizeof(path));
		o = find_file(r, path);
		if (!o || !o->text)
			return -ENOENT;
		free(ret->edits[i].original);
		ret->edits[i].original = strdup(o->text);
	}
	return 0;
}

/* the last entry for path and where it is in the write order */
static const struct gen_file *file_at(const struct gen_result *r, const char *path, size_t *ret_index)
{
	for (size_t i = r->n_files; i-- > 0;)
		if (strcmp(r->files[i].path, path) == 0) {
			*ret_index = i;
			return &r->files[i];
		}
	return NULL;
}

TEST(cmdline_unmerge_restores_the_users_words)
{
	char *const args[] = {"intel_iommu=on", "iommu=pt", "rd.driver.pre=vfio-pci"};
	char *s = gen_cmdline_unmerge("ro intel_iommu=on quiet iommu=pt rd.driver.pre=vfio-pci rd.driver.pre=nvme",
				      "ro intel_iommu=off quiet rd.driver.pre=nvme", args, 3);

	ASSERT_STR_EQ(s, "ro intel_iommu=off quiet rd.driver.pre=nvme");
	free(s);
	s = gen_cmdline_unmerge("ro iommu=pt", NULL, &args[1], 1);
	ASSERT_STR_EQ(s, "ro");
	free(s);
}

/* kernel-install on Intel: the file is edited, turning iommu_pt off takes out only iommu=pt, --remove gives the text back */
TEST(kernel_cmdline_there_and_back_byte_for_byte)
{
	static const char orig[] = "root=UUID=1  ro\tquiet intel_iommu=off\n";
	struct kernel k[] = {{"6.1.0-13-amd64", 6, 1, false, 0, "/boot/vmlinuz-6.1.0-13-amd64"}};
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_KERNEL_INSTALL, .cpu = CPU_INTEL, .kernels = k, .n_kernels = 1};
	struct config *on = cfg_from("[pcibind]\niommu_pt = yes\n"), *off = cfg_from("[pcibind]\n");
	struct gen_existing ex = {.edited = {{"etc/kernel/cmdline", orig}}};
	struct bootstate st1, st2;
	struct gen_result r1, r2, r3;
	struct gen_error e;
	size_t irec, iedit;

	ASSERT_NOT_NULL(on);
	ASSERT_NOT_NULL(off);
	ASSERT_INT_EQ(gen_build(on, &h, &s, &ex, &r1, &e), 0);
	ASSERT_STR_EQ(find_file(&r1, "etc/kernel/cmdline")->text, "root=UUID=1 ro quiet intel_iommu=on iommu=pt\n");
	ASSERT_STR_EQ(find_cmd(&r1, GEN_AFTER_BOOT), "kernel-install add 6.1.0-13-amd64 /boot/vmlinuz-6.1.0-13-amd64");
	/* the record is written before the edit it describes */
	ASSERT_NOT_NULL(file_at(&r1, BOOTSTATE_FILE, &irec));
	ASSERT_NOT_NULL(file_at(&r1, "etc/kernel/cmdline", &iedit));
	ASSERT_TRUE(irec < iedit);
	ASSERT_STR_EQ(find_file(&r1, "var/lib/pcibind/orig/etc/kernel/cmdline")->text, orig);
	ASSERT_STR_CONTAINS(find_file(&r1, BOOTSTATE_FILE)->text, "\nedit etc/kernel/cmdline copy intel_iommu=on iommu=pt\n");
	ASSERT_INT_EQ(state_after(&r1, &st1), 0);

	ex = (struct gen_existing){.edited = {{"etc/kernel/cmdline", find_file(&r1, "etc/kernel/cmdline")->text}}, .state = &st1};
	ASSERT_INT_EQ(gen_build(off, &h, &s, &ex, &r2, &e), 0);
	ASSERT_STR_EQ(find_file(&r2, "etc/kernel/cmdline")->text, "root=UUID=1 ro quiet intel_iommu=on\n");
	ASSERT_INT_EQ(state_after(&r2, &st2), 0);
	ASSERT_INT_EQ(st2.n_edits, 1);
	ASSERT_INT_EQ(st2.edits[0].n_args, 1);

	ex = (struct gen_existing){.edited = {{"etc/kernel/cmdline", find_file(&r2, "etc/kernel/cmdline")->text}}, .state = &st2};
	ASSERT_INT_EQ(gen_remove(&s, &ex, &r3, &e), 0);
	ASSERT_STR_EQ(find_file(&r3, "etc/kernel/cmdline")->text, orig);
	ASSERT_NULL(find_file(&r3, BOOTSTATE_FILE)->text);
	ASSERT_NULL(find_file(&r3, "var/lib/pcibind/orig/etc/kernel/cmdline")->text);
	ASSERT_TRUE(file_at(&r3, "etc/kernel/cmdline", &iedit) && file_at(&r3, BOOTSTATE_FILE, &irec) && iedit < irec);
	ASSERT_STR_EQ(find_cmd(&r3, GEN_AFTER_BOOT), "kernel-install add 6.1.0-13-amd64 /boot/vmlinuz-6.1.0-13-amd64");
	gen_result_clear(&r1);
	gen_result_clear(&r2);
	gen_result_clear(&r3);
	bootstate_clear(&st1);
	bootstate_clear(&st2);
	config_free(on);
	config_free(off);
}

/* an argument the user had before pcibind stays theirs */
TEST(users_own_iommu_pt_stays)
{
	static const char orig[] = "root=/dev/sda1 iommu=pt\n";
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_KERNEL_INSTALL, .cpu = CPU_INTEL};
	struct config *on = cfg_from("[pcibind]\niommu_pt = yes\n"), *off = cfg_from("[pcibind]\n");
	struct gen_existing ex = {.edited = {{"etc/kernel/cmdline", orig}}};
	struct bootstate st = {0};
	struct gen_result r1, r2;
	struct gen_error e;

	ASSERT_NOT_NULL(on);
	ASSERT_NOT_NULL(off);
	ASSERT_INT_EQ(gen_build(on, &h, &s, &ex, &r1, &e), 0);
	ASSERT_STR_EQ(find_file(&r1, "etc/kernel/cmdline")->text, "root=/dev/sda1 iommu=pt intel_iommu=on\n");
	ASSERT_INT_EQ(state_after(&r1, &st), 0);
	ex = (struct gen_existing){.edited = {{"etc/kernel/cmdline", find_file(&r1, "etc/kernel/cmdline")->text}}, .state = &st};
	ASSERT_INT_EQ(gen_build(off, &h, &s, &ex, &r2, &e), 0);
	ASSERT_STR_EQ(find_file(&r2, "etc/kernel/cmdline")->text, "root=/dev/sda1 iommu=pt intel_iommu=on\n");
	gen_result_clear(&r1);
	gen_result_clear(&r2);
	bootstate_clear(&st);
	config_free(on);
	config_free(off);
}

/* the user edited the file after pcibind: only pcibind's arguments go, theirs stay, and a note says so */
TEST(touched_file_loses_only_pcibinds_arguments)
{
	static const char orig[] = "root=/dev/sda1 ro\n";
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_PROXMOX_SDBOOT, .cpu = CPU_INTEL};
	struct config *on = cfg_from("[pcibind]\niommu_pt = yes\n");
	struct gen_existing ex = {.edited = {{"etc/kernel/cmdline", orig}}};
	struct bootstate st = {0};
	struct gen_result r1, r2, r3;
	struct gen_error e;
	bool noted = false;

	ASSERT_NOT_NULL(on);
	ASSERT_INT_EQ(gen_build(on, &h, &s, &ex, &r1, &e), 0);
	ASSERT_INT_EQ(state_after(&r1, &st), 0);
	ex = (struct gen_existing){.edited = {{"etc/kernel/cmdline", "root=/dev/sda1 ro intel_iommu=on iommu=pt  quiet\n"}}, .state = &st};
	ASSERT_INT_EQ(gen_build(on, &h, &s, &ex, &r2, &e), 0);
	ASSERT_STR_EQ(find_file(&r2, "etc/kernel/cmdline")->text, "root=/dev/sda1 ro intel_iommu=on iommu=pt quiet\n");
	ASSERT_STR_EQ(find_file(&r2, "var/lib/pcibind/orig/etc/kernel/cmdline")->text, "root=/dev/sda1 ro quiet\n");
	ASSERT_INT_EQ(gen_remove(&s, &ex, &r3, &e), 0);
	ASSERT_STR_EQ(find_file(&r3, "etc/kernel/cmdline")->text, "root=/dev/sda1 ro quiet\n");
	for (size_t i = 0; i < r3.n_notes; i++)
		noted |= strstr(r3.notes[i], "changed since pcibind wrote it") != NULL;
	ASSERT_TRUE(noted);
	ASSERT_STR_EQ(find_cmd(&r3, GEN_AFTER_BOOT), "proxmox-boot-tool refresh");
	gen_result_clear(&r1);
	gen_result_clear(&r2);
	gen_result_clear(&r3);
	bootstate_clear(&st);
	config_free(on);
}

/* a file pcibind created goes again, unless the bootloader would copy pcibind's arguments from /proc/cmdline */
TEST(created_cmdline_goes_on_the_way_back)
{
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_KERNEL_INSTALL, .cpu = CPU_INTEL, .cmdline = "initrd=\\\\initrd root=/dev/sda1 rw"};
	struct config *cfg = cfg_from("[pcibind]\n");
	struct gen_existing ex = {0};
	struct bootstate st = {0};
	struct gen_result r1, r2;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r1, &e), 0);
	ASSERT_STR_EQ(find_file(&r1, "etc/kernel/cmdline")->text, "root=/dev/sda1 rw intel_iommu=on\n");
	ASSERT_STR_CONTAINS(find_file(&r1, BOOTSTATE_FILE)->text, "\nedit etc/kernel/cmdline new intel_iommu=on\n");
	ASSERT_NULL(find_file(&r1, "var/lib/pcibind/orig/etc/kernel/cmdline"));
	ASSERT_INT_EQ(state_after(&r1, &st), 0);
	ex = (struct gen_existing){.edited = {{"etc/kernel/cmdline", find_file(&r1, "etc/kernel/cmdline")->text}}, .state = &st};
	ASSERT_INT_EQ(gen_remove(&s, &ex, &r2, &e), 0);
	ASSERT_NULL(find_file(&r2, "etc/kernel/cmdline")->text);
	gen_result_clear(&r2);
	/* booted with it since: kept, without pcibind's argument */
	s.cmdline = "initrd=\\\\initrd root=/dev/sda1 rw intel_iommu=on";
	ASSERT_INT_EQ(gen_remove(&s, &ex, &r2, &e), 0);
	ASSERT_STR_EQ(find_file(&r2, "etc/kernel/cmdline")->text, "root=/dev/sda1 rw\n");
	gen_result_clear(&r1);
	gen_result_clear(&r2);
	bootstate_clear(&st);
	config_free(cfg);
}

/* GRUB without drop-ins: a marked edit, and the user's file back byte for byte */
TEST(grub_in_place_there_and_back)
{
	static const char orig[] = "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=off\"\n# end\n";
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_GRUB, .grub_refresh = "grub-mkconfig -o /boot/grub/grub.cfg", .cpu = CPU_INTEL};
	struct config *cfg = cfg_from("[pcibind]\n");
	struct gen_existing ex = {.edited = {{"etc/default/grub", orig}}};
	struct bootstate st = {0};
	struct gen_result r1, r2;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r1, &e), 0);
	ASSERT_STR_CONTAINS(find_file(&r1, "etc/default/grub")->text,
			    "kept up to date by `pcibind generate`\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n# end\n");
	ASSERT_INT_EQ(state_after(&r1, &st), 0);
	ex = (struct gen_existing){.edited = {{"etc/default/grub", find_file(&r1, "etc/default/grub")->text}}, .state = &st};
	ASSERT_INT_EQ(gen_remove(&s, &ex, &r2, &e), 0);
	ASSERT_STR_EQ(find_file(&r2, "etc/default/grub")->text, orig);
	ASSERT_STR_EQ(find_cmd(&r2, GEN_AFTER_BOOT), "grub-mkconfig -o /boot/grub/grub.cfg");
	gen_result_clear(&r1);
	gen_result_clear(&r2);
	bootstate_clear(&st);
	config_free(cfg);
}

/* AMD without iommu_pt: nothing to add, so no drop-in (an old one of pcibind's goes) */
TEST(amd_with_nothing_to_add_has_no_grub_dropin)
{
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_GRUB, .grub_dropin = true, .grub_refresh = "update-grub", .cpu = CPU_AMD};
	struct config *cfg = cfg_from("[pcibind]\n");
	struct gen_existing ex = {.edited = {{"etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"}}};
	struct gen_result r;
	struct gen_error e;
	const struct gen_file *f;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	f = find_file(&r, "etc/default/grub.d/pcibind.cfg");
	ASSERT_TRUE(!f || (!f->text && f->owned));
	ASSERT_NULL(find_file(&r, BOOTSTATE_FILE) ? find_file(&r, BOOTSTATE_FILE)->text : NULL);
	gen_result_clear(&r);
	config_free(cfg);
}

TEST(blacklist_of_a_driver_the_host_keeps_is_a_hazard)
{
	struct pcifn fns[] = {
	    {.addr = {0, 1, 0, 0}, .name = "0000:01:00.0", .vendor = 0x10de, .device = 0x2204, .class = 0x030000, .group = 1, .driver = "nvidia"},
	    {.addr = {0, 2, 0, 0}, .name = "0000:02:00.0", .vendor = 0x10de, .device = 0x1b80, .class = 0x030000, .group = 2, .driver = "nvidia"},
	};
	struct pcihost h = {.fns = fns, .n = 2, .iommu = true};
	struct system s = {.cpu = CPU_AMD};
	struct gen_existing ex = {0};
	struct config *cfg = cfg_from("[pcibind]\nblacklist = nouveau, nvidia\n[gpu]\naddress = 01:00.0\nboot = yes\n");
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_INT_EQ(r.n_hazards, 1);
	ASSERT_STR_CONTAINS(r.hazards[0], "blacklist = nvidia (/etc/pcibind/pcibind.conf:2) would take 0000:02:00.0");
	gen_result_clear(&r);
	fns[1].driver = "nouveau";
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_INT_EQ(r.n_hazards, 1);
	ASSERT_STR_CONTAINS(r.hazards[0], "nouveau");
	gen_result_clear(&r);
	fns[1].driver = NULL;
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_INT_EQ(r.n_hazards, 0);
	gen_result_clear(&r);
	config_free(cfg);
}

/* grubby: what the entries lack is added and recorded with the word it replaced; the way back restores it */
TEST(grubby_records_what_it_added)
{
	struct pcihost h = {0};
	struct system s = {.boot = BOOT_GRUBBY, .cpu = CPU_INTEL, .bls_options = "root=UUID=1 ro intel_iommu=off iommu=pt"};
	struct config *cfg = cfg_from("[pcibind]\niommu_pt = yes\n"), *off = cfg_from("[pcibind]\n");
	struct gen_existing ex = {0};
	struct bootstate st = {0};
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_NOT_NULL(off);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_STR_EQ(find_cmd(&r, GEN_NOW), "grubby --update-kernel=ALL --args=\"intel_iommu=on\"");
	ASSERT_STR_CONTAINS(find_file(&r, BOOTSTATE_FILE)->text, "\ngrubby intel_iommu=on intel_iommu=off\n");
	ASSERT_FALSE(strstr(find_file(&r, BOOTSTATE_FILE)->text, "grubby iommu=pt")); /* the user's own */
	ASSERT_INT_EQ(state_after(&r, &st), 0);
	gen_result_clear(&r);
	/* the entries have it now: nothing to run, the record stays */
	s.bls_options = "root=UUID=1 ro intel_iommu=on iommu=pt";
	ex.state = &st;
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_NULL(find_cmd(&r, GEN_NOW));
	ASSERT_STR_CONTAINS(find_file(&r, BOOTSTATE_FILE)->text, "\ngrubby intel_iommu=on intel_iommu=off\n");
	gen_result_clear(&r);
	ASSERT_INT_EQ(gen_remove(&s, &ex, &r, &e), 0);
	ASSERT_STR_EQ(find_cmd(&r, GEN_NOW), "grubby --update-kernel=ALL --args=\"intel_iommu=off\"");
	gen_result_clear(&r);
	bootstate_clear(&st);
	config_free(cfg);
	config_free(off);
}

/* every file pcibind may own, of every bootloader and initramfs tool, is on the way back */
TEST(remove_covers_every_owned_file)
{
	static const char *const owned[] = {
	    "etc/modprobe.d/pcibind.conf", "etc/modules-load.d/pcibind.conf", "etc/default/grub.d/pcibind.cfg",
	    "etc/initramfs-tools/hooks/pcibind", "etc/initramfs-tools/scripts/init-top/pcibind",
	    "usr/lib/dracut/modules.d/90pcibind/module-setup.sh", "usr/lib/dracut/modules.d/90pcibind/pcibind-early.sh",
	    "etc/dracut.conf.d/pcibind.conf", "etc/initcpio/install/pcibind", "etc/initcpio/hooks/pcibind",
	    "etc/mkinitcpio.conf.d/pcibind.conf",
	};
	struct system s = {.boot = BOOT_GRUB, .grub_dropin = true, .grub_refresh = "update-grub", .initrd = INITRD_DRACUT};
	struct gen_existing ex = {0};
	struct gen_result r;
	struct gen_error e;

	ASSERT_INT_EQ(gen_remove(&s, &ex, &r, &e), 0);
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		const struct gen_file *f = find_file(&r, owned[i]);

		ASSERT_NOT_NULL(f);
		ASSERT_TRUE(!f->text && f->owned);
	}
	ASSERT_STR_EQ(find_file(&r, "usr/lib/dracut/modules.d/90pcibind/module-setup.sh")->prune,
		      "usr/lib/dracut/modules.d/90pcibind");
	ASSERT_STR_EQ(find_cmd(&r, GEN_AFTER_INITRD), "dracut -f --regenerate-all");
	ASSERT_STR_EQ(find_cmd(&r, GEN_AFTER_BOOT), "update-grub");
	gen_result_clear(&r);
}

TEST(record_parse_accepts_only_what_pcibind_writes)
{
	static const char *const bad[] = {
	    "edit ../etc/shadow copy a=b\n",
	    "edit etc/../etc/shadow copy a=b\n",
	    "edit /etc/kernel/cmdline copy a=b\n",
	    "edit etc/kernel/cmdline copy\n",
	    "edit etc/kernel/cmdline maybe a=b\n",
	    "edit etc/kernel/cmdline new a=$(reboot)\n",
	    "edit etc/kernel/cmdline new a=b\nedit etc/kernel/cmdline new c=d\n",
	    "edit etc/kernel/cmdline new a=b",
	    "edit etc/kernel/cmdline\tnew a=b\n",
	    "grubby\n",
	    "grubby a b c\n",
	    "grubby `id`\n",
	    "exec /bin/sh\n",
	};
	struct bootstate s = {0}, t = {0};
	unsigned line = 0;
	char *text;
	int err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_INT_EQ(bootstate_parse(bad[i], &s, &line), -EBADMSG);
		ASSERT_TRUE(line >= 1);
	}
	ASSERT_INT_EQ(bootstate_parse("# c\nedit etc/default/grub copy intel_iommu=on iommu=pt\n"
				      "grubby rd.driver.pre=vfio-pci\ngrubby intel_iommu=on intel_iommu=off\n", &s, &line), 0);
	ASSERT_INT_EQ(s.n_edits, 1);
	ASSERT_NOT_NULL(s.edits[0].original);
	ASSERT_INT_EQ(s.edits[0].n_args, 2);
	ASSERT_INT_EQ(s.n_grubby, 2);
	ASSERT_STR_EQ(s.grubby[1].was, "intel_iommu=off");
	text = bootstate_format(&s, &err);
	ASSERT_NOT_NULL(text);
	ASSERT_INT_EQ(bootstate_parse(text, &t, &line), 0);
	ASSERT_INT_EQ(t.n_edits, 1);
	ASSERT_INT_EQ(t.n_grubby, 2);
	free(text);
	bootstate_clear(&s);
	bootstate_clear(&t);
}

HARNESS_MAIN
