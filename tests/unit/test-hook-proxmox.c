/* test-hook-proxmox.c - Proxmox VM configs and PCI mappings to functions: every hostpci form, hostile input */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "hook-proxmox.h"

/* a GPU + audio at 01:00, the identical pair at 02:00, a NIC at 06:00.0, a VMD-domain NIC (sorted) */
static struct pcifn fns[] = {
	{ .addr = { 0, 0x01, 0, 0 }, .name = "0000:01:00.0", .vendor = 0x10de, .device = 0x2204, .class = 0x030000 },
	{ .addr = { 0, 0x01, 0, 1 }, .name = "0000:01:00.1", .vendor = 0x10de, .device = 0x1aef, .class = 0x040300 },
	{ .addr = { 0, 0x02, 0, 0 }, .name = "0000:02:00.0", .vendor = 0x10de, .device = 0x2204, .class = 0x030000 },
	{ .addr = { 0, 0x02, 0, 1 }, .name = "0000:02:00.1", .vendor = 0x10de, .device = 0x1aef, .class = 0x040300 },
	{ .addr = { 0, 0x06, 0, 0 }, .name = "0000:06:00.0", .vendor = 0x8086, .device = 0x1533, .class = 0x020000 },
	{ .addr = { 0x10000, 0x03, 0, 0 }, .name = "10000:03:00.0", .vendor = 0x8086, .device = 0x1572, .class = 0x020000 },
};
static const struct pcihost host = { .fns = fns, .n = sizeof(fns) / sizeof(fns[0]), .iommu = true };

static const char mapping[] = "gpu\n"
			      "\tmap id=10de:2204,iommugroup=2,node=pve1,path=0000:02:00,subsystem-id=1458:403b\n"
			      "\tmap id=10de:2204,node=pve2,path=0000:01:00\n"
			      "\tdescription second GPU\n"
			      "stale\n"
			      "\tmap id=1002:67df,node=pve1,path=0000:01:00.0\n"
			      "gone\n"
			      "\tmap id=10de:2204,node=pve1,path=0000:09:00.0\n"
			      "pool\n"
			      "\tmap id=10de:2204,node=pve1,path=0000:09:00\n"
			      "\tmap id=10de:2204,node=pve1,path=0000:01:00;0000:02:00.0\n"
			      "nopath\n"
			      "\tmap id=10de:2204,node=pve1\n";

static char err[768];

/* run the parser; the functions found as "A B C" into buf */
static int run(const char *vm, const char *map, const char *node, char *buf, size_t size)
{
	struct hook_devs d = { 0 };
	size_t len = 0;
	int r;

	err[0] = buf[0] = '\0';
	r = proxmox_vm_devices(vm, map, node, &host, &d, err, sizeof(err));
	for (size_t i = 0; r == 0 && i < d.n; i++) {
		char a[PCIADDR_STRLEN];

		pciaddr_format(&d.addrs[i], a);
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "", a);
	}
	hook_devs_free(&d);
	return r;
}

#define EXPECT(vm, want)                                                                                         \
	do {                                                                                                     \
		char got[512];                                                                                   \
		int r_ = run(vm, mapping, "pve1", got, sizeof(got));                                             \
		if (r_ != 0)                                                                                     \
			FAIL_AT("%s: error %d: %s", vm, r_, err);                                                \
		ASSERT_STR_EQ(got, want);                                                                        \
	} while (0)

#define EXPECT_ERR(vm, code, words)                                                                              \
	do {                                                                                                     \
		char got[512];                                                                                   \
		ASSERT_INT_EQ(run(vm, mapping, "pve1", got, sizeof(got)), code);                                 \
		ASSERT_STR_CONTAINS(err, words);                                                                 \
	} while (0)

TEST(full_address)
{
	EXPECT("hostpci0: 0000:02:00.0\n", "0000:02:00.0");
}

TEST(short_address)
{
	EXPECT("hostpci0: 02:00.1\n", "0000:02:00.1");
}

TEST(slot_means_every_function)
{
	EXPECT("hostpci0: 02:00\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci3: 0000:01:00,pcie=1\n", "0000:01:00.0 0000:01:00.1");
}

TEST(host_key_and_options)
{
	EXPECT("hostpci0: host=02:00.0,pcie=1,x-vga=1,rombar=0\n", "0000:02:00.0");
	EXPECT("hostpci0: 02:00,x-vga=1,pcie=1,romfile=vbios.bin\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: pcie=1,host=02:00.1\n", "0000:02:00.1");
}

TEST(several_functions_with_semicolons)
{
	EXPECT("hostpci0: 02:00.0;02:00.1,pcie=1\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: host=0000:02:00.0;0000:06:00.0\n", "0000:02:00.0 0000:06:00.0");
}

TEST(several_entries_deduplicated)
{
	EXPECT("hostpci0: 02:00.0\nhostpci1: 02:00\nhostpci12: 06:00.0,pcie=1\n",
	       "0000:02:00.0 0000:02:00.1 0000:06:00.0");
}

TEST(vmd_domain)
{
	EXPECT("hostpci0: 10000:03:00.0\n", "10000:03:00.0");
}

TEST(other_keys_ignored)
{
	EXPECT("#hostpci0: 01:00\nboot: order=scsi0\ncores: 4\nname: win11\nmemory: 16384\n"
	       "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0\nscsi0: local-lvm:vm-100-disk-0,size=64G\n"
	       "hostpci0: 02:00\nvga: none\n",
	       "0000:02:00.0 0000:02:00.1");
}

TEST(snapshot_sections_ignored)
{
	EXPECT("hostpci0: 02:00\n\n[before-update]\nhostpci0: 01:00\nhostpci1: 06:00.0\nsnaptime: 1700000000\n",
	       "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: 06:00.0\n[PENDING]\nhostpci1: 01:00\n", "0000:06:00.0");
}

TEST(no_devices)
{
	EXPECT("boot: order=scsi0\nmemory: 2048\n", "");
	EXPECT("", "");
}

TEST(mdev_entry_leaves_the_function)
{
	EXPECT("hostpci0: 02:00.0,mdev=nvidia-63\n", "");
}

TEST(mapping_for_this_node)
{
	EXPECT("hostpci0: mapping=gpu,pcie=1,x-vga=1\n", "0000:02:00.0 0000:02:00.1");
	{
		char got[512];

		ASSERT_INT_EQ(run("hostpci0: mapping=gpu\n", mapping, "pve2", got, sizeof(got)), 0);
		ASSERT_STR_EQ(got, "0000:01:00.0 0000:01:00.1");
	}
}

TEST(mapping_several_paths)
{
	/* the first map line's device is absent: the next alternative for this node is taken */
	EXPECT("hostpci0: mapping=pool\n", "0000:01:00.0 0000:01:00.1 0000:02:00.0");
}

TEST(mapping_id_mismatch)
{
	EXPECT_ERR("hostpci0: mapping=stale\n", -ENODEV, "holds 10de:2204, not the mapped id 1002:67df");
}

TEST(mapping_path_missing)
{
	EXPECT_ERR("hostpci0: mapping=gone\n", -ENODEV, "0000:09:00.0 is not present");
	EXPECT_ERR("hostpci0: mapping=nopath\n", -ENODEV, "has no path");
}

TEST(mapping_other_node)
{
	char got[512];

	ASSERT_INT_EQ(run("hostpci0: mapping=gpu\n", mapping, "pve3", got, sizeof(got)), -ENODEV);
	ASSERT_STR_CONTAINS(err, "no entry for this node ('pve3')");
}

TEST(mapping_unknown_or_no_file)
{
	char out[512];

	EXPECT_ERR("hostpci0: mapping=nosuch\n", -EINVAL, "there is no mapping 'nosuch'");
	ASSERT_INT_EQ(run("hostpci0: mapping=gpu\n", NULL, "pve1", out, sizeof(out)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "etc/pve/mapping/pci.cfg");
	EXPECT_ERR("hostpci0: mapping=../../etc/passwd\n", -EINVAL, "invalid mapping name");
	EXPECT_ERR("hostpci0: host=02:00.0,mapping=gpu\n", -EINVAL, "both");
}

TEST(device_not_present)
{
	EXPECT_ERR("hostpci0: 09:00.0\n", -ENODEV, "hostpci0: 09:00.0 is not present on this host");
	EXPECT_ERR("hostpci0: 02:00.0\nhostpci1: 0000:0a:00\n", -ENODEV, "hostpci1");
}

TEST(bad_addresses)
{
	EXPECT_ERR("hostpci0: 10de:2204\n", -EINVAL, "not a PCI address");
	EXPECT_ERR("hostpci0: 02:00.8\n", -EINVAL, "not a PCI address");
	EXPECT_ERR("hostpci0: $(reboot)\n", -EINVAL, "not a PCI address");
	EXPECT_ERR("hostpci0: ,pcie=1\n", -EINVAL, "no host address");
	EXPECT_ERR("hostpci0: ;\n", -EINVAL, "no PCI address");
}

TEST(not_hostpci_keys)
{
	EXPECT("hostpcix: 02:00.0\nhostpci: 02:00.0\nhostpci1234: 02:00.0\n xhostpci0: 02:00.0\n", "");
}

TEST(vmid_validation)
{
	static const char *const good[] = { "100", "101", "999999999", "4242" };
	static const char *const bad[] = { "", "99", "0100", "1000000000", "100 ", " 100", "+100", "-100", "10a",
					   "../100", "100/../../etc", "100\n", "1e5", "0x64" };
	char big[4097];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ASSERT_TRUE(proxmox_vmid_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proxmox_vmid_valid(bad[i]))
			FAIL_AT("'%s' accepted as a VMID", bad[i]);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_FALSE(proxmox_vmid_valid(big));
	ASSERT_FALSE(proxmox_vmid_valid(NULL));
}

TEST(long_lines)
{
	size_t n = 100000;
	char *vm = malloc(n + 32), got[512];
	int r;

	strcpy(vm, "hostpci0: ");
	memset(vm + 10, ';', n);
	strcpy(vm + 10 + n, "02:00.0\n");
	r = run(vm, mapping, "pve1", got, sizeof(got));

	free(vm);
	ASSERT_INT_EQ(r, 0);
	ASSERT_STR_EQ(got, "0000:02:00.0");
}

HARNESS_MAIN
