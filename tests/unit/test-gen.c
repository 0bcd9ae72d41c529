/* test-gen.c - the pure generators: cmdline merge, GRUB and kernelstub edits, driver rules, diff, gen_build */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	ASSERT_TRUE(gen_module_name_ok("snd_hda_intel"));
	ASSERT_FALSE(gen_module_name_ok("a b"));
	ASSERT_FALSE(gen_module_name_ok("x\ninstall y /bin/sh"));
	ASSERT_FALSE(gen_module_name_ok(""));
	ASSERT_TRUE(gen_cmdline_arg_ok("vfio-pci.ids=10de:2204,10de:1aef"));
	ASSERT_FALSE(gen_cmdline_arg_ok("a\"b"));
	ASSERT_FALSE(gen_cmdline_arg_ok("$(x)"));
	ASSERT_FALSE(gen_cmdline_arg_ok("a`b`"));
	ASSERT_FALSE(gen_cmdline_arg_ok("a\\b"));
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

static const struct gen_file *find_file(const struct gen_result *r, const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (strcmp(r->files[i].path, path) == 0)
			return &r->files[i];
	return NULL;
}

TEST(build_intel_grub_module)
{
	struct kernel k[] = {{"6.1.0-13-amd64", 6, 1, false, 0}};
	struct pcifn fns[] = {{.addr = {0, 1, 0, 0}, .name = "0000:01:00.0", .vendor = 0x10de, .device = 0x2204,
			       .class = 0x030000, .group = 1}};
	struct pcihost h = {.fns = fns, .n = 1, .iommu = true};
	struct system s = {.boot = BOOT_GRUB, .grub_dropin = true, .grub_refresh = "update-grub",
			   .initrd = INITRD_TOOLS, .cpu = CPU_INTEL, .kernels = k, .n_kernels = 1, .irq_remap = 1};
	struct gen_existing ex = {.grub = "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n"};
	struct config *cfg = cfg_from("[pcibind]\niommu_pt = yes\n[gpu]\naddress = 01:00\nboot = yes\n");
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modprobe.d/pcibind.conf")->text, "softdep nouveau pre: vfio-pci\n"
										"softdep nvidia pre: vfio-pci\n");
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modprobe.d/pcibind.conf")->text, "options vfio-pci disable_vga=1\n");
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "vfio_virqfd\n");
	/* intel_iommu=on is in the user's own GRUB line: not repeated */
	ASSERT_STR_CONTAINS(find_file(&r, "etc/default/grub.d/pcibind.cfg")->text,
			    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT iommu=pt\"\n");
	ASSERT_STR_EQ(r.initrd_cmd, "update-initramfs -u -k all");
	ASSERT_STR_EQ(r.boot_cmd, "update-grub");
	gen_result_clear(&r);
	config_free(cfg);
}

TEST(build_amd_builtin_ids_dracut)
{
	struct kernel k[] = {{"6.8.0", 6, 8, true, 1}};
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
	ASSERT_STR_EQ(r.grubby_cmd, "grubby --update-kernel=ALL --args=\"vfio-pci.ids=8086:10d3\"");
	ASSERT_FALSE(strstr(find_file(&r, "etc/modprobe.d/pcibind.conf")->text, "options vfio-pci"));
	ASSERT_FALSE(strstr(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "virqfd"));
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

TEST(virqfd_only_before_6_2)
{
	struct kernel old[] = {{"6.1.0", 6, 1, false, 0}, {"6.5.0", 6, 5, false, 0}};
	struct kernel new[] = {{"6.2.0", 6, 2, false, 0}, {"6.8.0", 6, 8, false, 0}};
	struct pcihost h = {0};
	struct system s = {.cpu = CPU_AMD, .kernels = old, .n_kernels = 2};
	struct gen_existing ex = {0};
	struct config *cfg = config_new();
	struct gen_result r;
	struct gen_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_STR_CONTAINS(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "\nvfio_virqfd\n");
	ASSERT_INT_EQ(r.n_args, 0); /* AMD: nothing */
	gen_result_clear(&r);
	s.kernels = new;
	ASSERT_INT_EQ(gen_build(cfg, &h, &s, &ex, &r, &e), 0);
	ASSERT_FALSE(strstr(find_file(&r, "etc/modules-load.d/pcibind.conf")->text, "virqfd"));
	gen_result_clear(&r);
	config_free(cfg);
}

TEST(every_generated_file_carries_the_header)
{
	struct kernel k[] = {{"6.8.0", 6, 8, false, 0}};
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
			if (r.files[i].owned)
				ASSERT_STR_CONTAINS(r.files[i].text, "# " GEN_HEADER "\n");
		gen_result_clear(&r);
	}
	config_free(cfg);
}

HARNESS_MAIN
