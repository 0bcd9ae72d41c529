/* test-variant.c - vfio variant drivers from modules.alias: parsing, libvirt's fewest-wildcards rule, the file */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tmproot.h"
#include "util.h"
#include "variant.h"

/* what depmod writes for Linux 6.8's variant drivers, around the lines of other modules */
static const char ALIAS[] = "# Aliases extracted from modules themselves.\n"
			    "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n"
			    "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
			    "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
			    "alias vfio_pci:v000019E5d0000A251sv*sd*bc*sc*i* hisi_acc_vfio_pci\n"
			    "alias vfio_pci:v00001DD8d00001003sv*sd*bc*sc*i* pds_vfio_pci\n"
			    "alias vfio_pci:v000010DEd*sv*sd*bc03sc02i00 nvgrace_gpu_vfio_pci\n"
			    "alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n";

static struct pcifn fn(uint16_t v, uint16_t d, uint16_t sv, uint16_t sd, uint32_t cls)
{
	struct pcifn f = { .vendor = v, .device = d, .subvendor = sv, .subdevice = sd, .class = cls };

	return f;
}

TEST(parse_keeps_only_vfio_pci_lines)
{
	struct variant_table *t = NULL;

	ASSERT_INT_EQ(variant_table_parse(ALIAS, &t), 0);
	ASSERT_INT_EQ(variant_table_size(t), 5);
	variant_table_free(t);
}

/* anything but the kernel's own format is not a line of it (libvirt's exact fields would not match either) */
TEST(parse_skips_malformed_lines)
{
	static const char *const bad[] = {
		"alias vfio_pci:v000015b3d0000101Esv*sd*bc*sc*i* lower_hex\n",
		"alias vfio_pci:v15B3d101Esv*sd*bc*sc*i* short_fields\n",
		"alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc* no_prog_if\n",
		"alias vfio_pci:v000015B3d0000101?sv*sd*bc*sc*i* glob_char\n",
		"alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*\n",
		"alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* bad/module\n",
		"alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*  two_spaces\n",
		"  alias vfio_pci:v*d*sv*sd*bc*sc*i* indented\n",
		"alias vfio_pci:v*d*sv*sd*bc*sc*i* trailing words\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct variant_table *t = NULL;

		ASSERT_INT_EQ(variant_table_parse(bad[i], &t), 0);
		if (variant_table_size(t) != 0)
			FAIL_AT("'%.*s' was taken", (int)strcspn(bad[i], "\n"), bad[i]);
		variant_table_free(t);
	}
}

TEST(fewest_wildcards_wins)
{
	struct variant_table *t = NULL;
	struct variant_pick p;
	struct pcifn vf = fn(0x15b3, 0x101e, 0x15b3, 0x0001, 0x020000);

	ASSERT_INT_EQ(variant_table_parse(ALIAS, &t), 0);
	variant_match(t, &vf, &p);
	ASSERT_STR_EQ(p.module, "mlx5_vfio_pci");
	ASSERT_STR_EQ(p.alias, "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*");
	ASSERT_INT_EQ(p.wildcards, 5);
	ASSERT_STR_EQ(p.driver, ""); /* known once the module is loaded */
	variant_table_free(t);
}

TEST(no_variant_gets_vfio_pci_from_its_own_alias)
{
	struct variant_table *t = NULL;
	struct variant_pick p;
	struct pcifn other = fn(0x15b3, 0x1017, 0x15b3, 0x0007, 0x020000); /* a ConnectX-5 PF: no variant */

	ASSERT_INT_EQ(variant_table_parse(ALIAS, &t), 0);
	variant_match(t, &other, &p);
	ASSERT_STR_EQ(p.module, "vfio_pci");
	ASSERT_STR_EQ(p.driver, "vfio-pci");
	ASSERT_INT_EQ(p.wildcards, 7);
	ASSERT_STR_EQ(variant_target(&(struct pcifn){ .variant = &p }), "vfio-pci");
	variant_table_free(t);
}

TEST(class_fields_must_match_too)
{
	struct variant_table *t = NULL;
	struct variant_pick p;
	struct pcifn gpu3d = fn(0x10de, 0x2342, 0x10de, 0x16eb, 0x030200), vga = fn(0x10de, 0x2342, 0x10de, 0x16eb, 0x030000);

	ASSERT_INT_EQ(variant_table_parse(ALIAS, &t), 0);
	variant_match(t, &gpu3d, &p);
	ASSERT_STR_EQ(p.module, "nvgrace_gpu_vfio_pci");
	ASSERT_INT_EQ(p.wildcards, 3);
	variant_match(t, &vga, &p);
	ASSERT_STR_EQ(p.module, "vfio_pci");
	variant_table_free(t);
}

/* equal counts: the first line wins, as libvirt keeps a candidate only when strictly better */
TEST(ties_keep_the_first_line)
{
	struct variant_table *t = NULL;
	struct variant_pick p;
	struct pcifn f = fn(0x8086, 0x154c, 0x8086, 0x0000, 0x020000);

	ASSERT_INT_EQ(variant_table_parse("alias vfio_pci:v00008086d0000154Csv*sd*bc*sc*i* first_vfio_pci\n"
					  "alias vfio_pci:v00008086d*sv00008086sd*bc*sc*i* second_vfio_pci\n",
					  &t),
		      0);
	variant_match(t, &f, &p);
	ASSERT_STR_EQ(p.module, "first_vfio_pci");
	variant_table_free(t);
}

/* before Linux 6.1 there is no vfio_pci: line at all: no module, vfio-pci, and the reason */
TEST(no_line_matches)
{
	struct variant_table *t = NULL;
	struct variant_pick p;
	struct pcifn f = fn(0x8086, 0x10d3, 0x8086, 0x0000, 0x020000);

	ASSERT_INT_EQ(variant_table_parse("alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n", &t), 0);
	variant_match(t, &f, &p);
	ASSERT_STR_EQ(p.module, "");
	ASSERT_TRUE(strstr(p.why, "8086:10d3") != NULL);
	ASSERT_STR_EQ(variant_target(&(struct pcifn){ .variant = &p }), "vfio-pci");
	ASSERT_STR_EQ(variant_target(&(struct pcifn){ .variant = NULL }), "vfio-pci");
	variant_table_free(t);
}

static int put(const char *dir, const char *rel, const char *text)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0 || !(f = fopen(path, "w")))
		return -1;
	fputs(text, f);
	return fclose(f);
}

TEST(load_from_the_running_kernels_directory)
{
	char dir[64], why[256] = "";
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "variant");
	struct variant_table *t = NULL;

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(variant_table_load(r, &t, why, sizeof(why)), -ENOENT);
	ASSERT_TRUE(strstr(why, "osrelease") != NULL);
	ASSERT_INT_EQ(put(dir, "proc/sys/kernel/osrelease", "6.8.0-51-generic\n"), 0);
	ASSERT_INT_EQ(variant_table_load(r, &t, why, sizeof(why)), -ENOENT);
	ASSERT_TRUE(strstr(why, "/lib/modules/6.8.0-51-generic/modules.alias") != NULL);
	ASSERT_INT_EQ(put(dir, "lib/modules/6.8.0-51-generic/modules.alias", ALIAS), 0);
	ASSERT_INT_EQ(variant_table_load(r, &t, why, sizeof(why)), 0);
	ASSERT_INT_EQ(variant_table_size(t), 5);
	variant_table_free(t);
	tmproot_remove(r, dir);
}

/* a FIFO or a directory in its place is refused at once, never waited on; a symlink out of the root is not followed */
TEST(load_refuses_what_is_not_a_file)
{
	char dir[64], why[256], path[256];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "variant");
	struct variant_table *t = NULL;

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(put(dir, "proc/sys/kernel/osrelease", "6.1.0-27-amd64\n"), 0);
	ASSERT_INT_EQ(put(dir, "lib/modules/6.1.0-27-amd64/.keep", ""), 0);
	snprintf(path, sizeof(path), "%s/lib/modules/6.1.0-27-amd64/modules.alias", dir);
	ASSERT_INT_EQ(mkfifo(path, 0644), 0);
	ASSERT_INT_EQ(variant_table_load(r, &t, why, sizeof(why)), -EINVAL);
	ASSERT_TRUE(strstr(why, "not a regular file") != NULL);
	ASSERT_INT_EQ(unlink(path), 0);
	ASSERT_INT_EQ(put(dir, "proc/sys/kernel/osrelease", "../../etc\n"), 0);
	ASSERT_INT_EQ(variant_table_load(r, &t, why, sizeof(why)), -EINVAL);
	tmproot_remove(r, dir);
}

TEST(module_driver_from_sys_module)
{
	char dir[64], drv[64], path[256];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "variant");

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(variant_module_driver(r, "mlx5_vfio_pci", drv, sizeof(drv)), -ENOENT);
	ASSERT_INT_EQ(put(dir, "sys/module/mlx5_vfio_pci/drivers/.keep", ""), 0);
	ASSERT_INT_EQ(variant_module_driver(r, "mlx5_vfio_pci", drv, sizeof(drv)), -ENOENT);
	snprintf(path, sizeof(path), "%s/sys/module/mlx5_vfio_pci/drivers/pci:mlx5-vfio-pci", dir);
	ASSERT_INT_EQ(symlink("../../../bus/pci/drivers/mlx5-vfio-pci", path), 0);
	ASSERT_INT_EQ(variant_module_driver(r, "mlx5_vfio_pci", drv, sizeof(drv)), 0);
	ASSERT_STR_EQ(drv, "mlx5-vfio-pci");
	ASSERT_INT_EQ(variant_module_driver(r, "../x", drv, sizeof(drv)), -ENOENT);
	tmproot_remove(r, dir);
}
/*
 * Issue 21, defect 7: a vfio_pci: alias that names a host driver (NVIDIA's
 * out-of-tree nvidia.ko carries one beside its pci: aliases) is no VFIO
 * variant. Upstream variants use PCI_DRIVER_OVERRIDE_DEVICE_VFIO only
 * (include/linux/pci.h), so all their aliases are vfio_pci: ones, and they
 * are built on vfio-pci-core (drivers/vfio/pci/Kconfig: select VFIO_PCI_CORE).
 */
TEST(a_host_driver_is_never_a_variant)
{
	static const char text[] = "alias pci:v000010DEd*sv*sd*bc03sc00i00* nvidia\n"
				   "alias vfio_pci:v000010DEd00002204sv*sd*bc*sc*i* nvidia\n"
				   "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n";
	struct pcifn f = fn(0x10de, 0x2204, 0x1458, 0x403b, 0x030000);
	struct variant_table *t = NULL;
	struct variant_pick p;

	ASSERT_INT_EQ(variant_table_parse(text, &t), 0);
	variant_match(t, &f, &p);
	ASSERT_STR_EQ(p.module, "vfio_pci");
	ASSERT_STR_EQ(p.driver, "vfio-pci");
	ASSERT_TRUE(strstr(p.why, "nvidia") && strstr(p.why, "pci: aliases"));
	variant_table_free(t);
}

/* modules.dep: where vfio-pci-core is a module, a variant must depend on it */
TEST(modules_dep_tells_a_variant)
{
	static const char dep[] =
	    "kernel/drivers/vfio/pci/vfio-pci-core.ko.xz: kernel/drivers/vfio/vfio.ko.xz\n"
	    "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz "
	    "kernel/drivers/vfio/vfio.ko.xz\n"
	    "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz "
	    "kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko.xz\n"
	    "kernel/drivers/vfio/pci/pds/pds_vfio_pci.ko.xz: kernel/drivers/net/ethernet/amd/pds_core/pds_core.ko.xz\n";
	struct pcifn mlx = fn(0x15b3, 0x101e, 0x15b3, 0x0001, 0x020000);
	struct pcifn pds = fn(0x1dd8, 0x1003, 0x1dd8, 0x0001, 0x010802);
	struct variant_table *t = NULL;
	struct variant_pick p;

	ASSERT_INT_EQ(variant_table_parse(ALIAS, &t), 0);
	variant_table_deps(t, dep);
	variant_match(t, &mlx, &p);
	ASSERT_STR_EQ(p.module, "mlx5_vfio_pci");
	variant_match(t, &pds, &p);
	ASSERT_STR_EQ(p.module, "vfio_pci");
	ASSERT_TRUE(strstr(p.why, "does not depend on vfio-pci-core") != NULL);
	variant_table_free(t);
}

HARNESS_MAIN
