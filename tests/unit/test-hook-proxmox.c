/* test-hook-proxmox.c - VM configs, PCI mappings and reservations read as qemu-server reads them */
/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cases are ours; the rules they check come from the peers' source:
 * qemu-server PVE/QemuServer.pm (parse_vm_config, check_type, is_template
 * via config_to_command), PVE/QemuServer/PCI.pm (parse_hostpci,
 * choose_hostpci_devices, reserve_pci_usage, $MAX_HOSTPCI_DEVICES),
 * PVE/QemuServer/Helpers.pm (vm_running_locally); pve-guest-common
 * PVE/Mapping/PCI.pm (get_node_mapping, assert_valid); pve-common
 * PVE/SectionConfig.pm (parse_config), PVE/JSONSchema.pm
 * (parse_property_string), PVE/SysFSTools.pm (lspci).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "hook-proxmox.h"
#include "tmproot.h"

/* GPU + audio at 01:00 and 02:00 (groups 1, 2), the IGD at 00:02.0, twin NICs 05:00.0 and 06:00.0, a VMD NIC */
static struct pcifn fns[] = {
	{ .addr = { 0, 0x00, 2, 0 }, .name = "0000:00:02.0", .vendor = 0x8086, .device = 0x3e92, .subvendor = 0x1458,
	  .subdevice = 0xd000, .class = 0x030000, .group = 0 },
	{ .addr = { 0, 0x01, 0, 0 }, .name = "0000:01:00.0", .vendor = 0x10de, .device = 0x2204, .subvendor = 0x1458,
	  .subdevice = 0x403b, .class = 0x030000, .group = 1 },
	{ .addr = { 0, 0x01, 0, 1 }, .name = "0000:01:00.1", .vendor = 0x10de, .device = 0x1aef, .subvendor = 0x1458,
	  .subdevice = 0x403b, .class = 0x040300, .group = 1 },
	{ .addr = { 0, 0x02, 0, 0 }, .name = "0000:02:00.0", .vendor = 0x10de, .device = 0x2204, .subvendor = 0x1458,
	  .subdevice = 0x403b, .class = 0x030000, .group = 2 },
	{ .addr = { 0, 0x02, 0, 1 }, .name = "0000:02:00.1", .vendor = 0x10de, .device = 0x1aef, .subvendor = 0x1458,
	  .subdevice = 0x403b, .class = 0x040300, .group = 2 },
	{ .addr = { 0, 0x05, 0, 0 }, .name = "0000:05:00.0", .vendor = 0x8086, .device = 0x1533, .subvendor = 0x1458,
	  .subdevice = 0xe000, .class = 0x020000, .group = 7 },
	{ .addr = { 0, 0x06, 0, 0 }, .name = "0000:06:00.0", .vendor = 0x8086, .device = 0x1533, .subvendor = 0x1458,
	  .subdevice = 0xe000, .class = 0x020000, .group = 9 },
	{ .addr = { 0x10000, 0x03, 0, 0 }, .name = "10000:03:00.0", .vendor = 0x8086, .device = 0x1572,
	  .class = 0x020000, .group = 12 },
};
static const struct pcihost host = { .fns = fns, .n = sizeof(fns) / sizeof(fns[0]), .iommu = true };

/* sections end at an empty line (SectionConfig) */
static const char mapping[] = "gpu\n"
			      "\tmap id=10de:2204,iommugroup=2,node=pve1,path=0000:02:00,subsystem-id=1458:403b\n"
			      "\tmap id=10de:2204,iommugroup=1,node=pve2,path=0000:01:00,subsystem-id=1458:403b\n"
			      "\tdescription the second GPU\n"
			      "\n"
			      "nic\n"
			      "\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:05:00.0,subsystem-id=1458:e000\n"
			      "\tmap id=8086:1533,iommugroup=9,node=pve1,path=0000:06:00.0,subsystem-id=1458:e000\n"
			      "\n"
			      "stale\n"
			      "\tmap id=1002:67df,iommugroup=1,node=pve1,path=0000:01:00.0,subsystem-id=1458:403b\n"
			      "\n"
			      "gone\n"
			      "\tmap id=10de:2204,iommugroup=9,node=pve1,path=0000:09:00.0,subsystem-id=1458:403b\n"
			      "\n"
			      "half-stale\n"
			      "\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:05:00.0,subsystem-id=1458:e000\n"
			      "\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:06:00.0,subsystem-id=1458:e000\n"
			      "\n"
			      "nosub\n"
			      "\tmap id=10de:2204,iommugroup=2,node=pve1,path=0000:02:00\n"
			      "\n"
			      "skipped-lines\n"
			      "\tmap id=8086:1533,node=pve1,path=05:00.0,subsystem-id=1458:e000,iommugroup=7\n"
			      "\tmap node=pve1,path=0000:05:00.0\n"
			      "\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:05:00.0,subsystem-id=1458:e000,color=red\n"
			      "\tmap id=8086:1533,iommugroup=9,node=pve1,path=0000:06:00.0,subsystem-id=1458:e000\n"
			      "\n"
			      "gpu-audio\n"
			      "\tmap id=10de:2204,iommugroup=2,node=pve1,path=0000:02:00.0;0000:02:00.1,subsystem-id=1458:403b\n"
			      "\n"
			      "nic-pair\n"
			      "\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:05:00.0;0000:06:00.0,subsystem-id=1458:e000\n"
			      "\n"
			      "twice\n"
			      "\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:05:00.0,subsystem-id=1458:e000\n"
			      "\n"
			      "twice\n"
			      "\tmap id=8086:1533,iommugroup=9,node=pve1,path=0000:06:00.0,subsystem-id=1458:e000\n"
			      "\n"
			      "vgpu\n"
			      "\tmdev 1\n"
			      "\tmap id=10de:2204,iommugroup=2,node=pve1,path=0000:02:00.0,subsystem-id=1458:403b\n";

static char err[768];

static void format_devs(const struct hook_devs *d, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		char a[PCIADDR_STRLEN];

		pciaddr_format(&d->addrs[i], a);
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "", a);
	}
}

/* parse and choose; the functions to hand over as "A B C" into got, the kept ones into kept */
static int choose(const char *vm_text, const char *node, const struct pve_reservations *res, char *got,
		  char *kept, size_t size)
{
	struct pve_env env = { .h = &host, .map_text = mapping, .node = node, .vmid = 100, .res = res, .now = 1000 };
	struct hook_devs d = { 0 }, k = { 0 };
	struct pve_vm vm;
	int r;

	err[0] = got[0] = '\0';
	if (kept)
		kept[0] = '\0';
	if ((r = proxmox_vm_parse(vm_text, &vm)) < 0)
		return r;
	r = proxmox_vm_choose(&vm, &env, &d, &k, err, sizeof(err));
	proxmox_vm_free(&vm);
	format_devs(&d, got, size);
	if (kept)
		format_devs(&k, kept, size);
	hook_devs_free(&d);
	hook_devs_free(&k);
	return r;
}

#define EXPECT_RES(vm, res, want)                                                                                \
	do {                                                                                                     \
		char got_[512];                                                                                  \
		int r_ = choose(vm, "pve1", res, got_, NULL, sizeof(got_));                                      \
		if (r_ != 0)                                                                                     \
			FAIL_AT("%s: error %d: %s", vm, r_, err);                                                \
		ASSERT_STR_EQ(got_, want);                                                                       \
	} while (0)
#define EXPECT(vm, want) EXPECT_RES(vm, NULL, want)

#define EXPECT_ERR_RES(vm, res, code, words)                                                                     \
	do {                                                                                                     \
		char got_[512];                                                                                  \
		ASSERT_INT_EQ(choose(vm, "pve1", res, got_, NULL, sizeof(got_)), code);                          \
		ASSERT_STR_CONTAINS(err, words);                                                                 \
	} while (0)
#define EXPECT_ERR(vm, code, words) EXPECT_ERR_RES(vm, NULL, code, words)

/* the reason the schema gives for ignoring hostpciN, "" when it accepts it */
static const char *ignored_why(const char *vm_text, int n, char *buf, size_t size)
{
	struct pve_vm vm;

	buf[0] = '\0';
	if (proxmox_vm_parse(vm_text, &vm) < 0)
		return "out of memory";
	if (!vm.hostpci[n].value)
		snprintf(buf, size, "(no such key)");
	else
		snprintf(buf, size, "%s", vm.hostpci[n].why);
	proxmox_vm_free(&vm);
	return buf;
}

/* ---- the forms of a hostpci entry ---- */

/* one function of group 2 brings the other along: prepare_pci_device() binds the whole group (below) */
TEST(full_and_short_addresses)
{
	EXPECT("hostpci0: 0000:02:00.0\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: 02:00.1\n", "0000:02:00.1 0000:02:00.0");
	EXPECT("hostpci0: 0000:05:00.0\n", "0000:05:00.0");
	EXPECT("hostpci0: 10000:03:00.0\n", "10000:03:00.0");
}

TEST(slot_means_every_function)
{
	/* SysFSTools lspci(): the functions whose id starts with it */
	EXPECT("hostpci0: 02:00\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci3: 0000:01:00,pcie=1\nmachine: q35\n", "0000:01:00.0 0000:01:00.1");
}

TEST(host_key_options_and_lists)
{
	EXPECT("hostpci0: host=02:00.0,x-vga=1,rombar=0\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: pcie=on,host=02:00.1\nmachine: pc-q35-8.1\n", "0000:02:00.1 0000:02:00.0");
	EXPECT("hostpci0: 02:00.0;02:00.1,romfile=vbios.bin\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: host=0000:02:00.0;0000:06:00.0,vendor-id=0x10de,sub-device-id=0xABCD\n",
	       "0000:02:00.0 0000:06:00.0 0000:02:00.1");
	EXPECT("hostpci0:02:00.0\n", "0000:02:00.0 0000:02:00.1"); /* "^(key):\s*(.+?)\s*$" */
	EXPECT("hostpci0: 02:00.0 \t\n", "0000:02:00.0 0000:02:00.1");
}

TEST(entries_in_order)
{
	EXPECT("hostpci12: 06:00.0\nhostpci0: 02:00\n", "0000:02:00.0 0000:02:00.1 0000:06:00.0");
}

TEST(a_key_given_twice_takes_the_last)
{
	EXPECT("hostpci0: 01:00\nhostpci0: 02:00.0;02:00.1\n", "0000:02:00.0 0000:02:00.1");
}

/*
 * Issue 21, defect 3. PVE/QemuServer.pm parse_vm_config(): "eval { $value =
 * check_type($key, $value, ...) }; if ($@) { $handle_error->(...) } else
 * { ... $conf->{$key} = $value }": a value the schema rejects is warned
 * about and never stored, so the earlier good value of the key stays.
 */
TEST(a_key_given_twice_keeps_the_first_when_the_second_is_invalid)
{
	char why[256];
	struct pve_vm vm;

	EXPECT("hostpci0: 05:00.0\nhostpci0: 02:00,bogus=1\n", "0000:05:00.0");
	EXPECT("hostpci0: 05:00.0\nhostpci0: 02:00,bogus=1\nhostpci0: 06:00.0\n", "0000:06:00.0");
	EXPECT("hostpci0: 02:00,bogus=1\nhostpci0: 05:00.0\n", "0000:05:00.0");
	ASSERT_STR_EQ(ignored_why("hostpci0: 05:00.0\nhostpci0: 02:00,bogus=1\n", 0, why, sizeof(why)), "");
	ASSERT_INT_EQ(proxmox_vm_parse("hostpci0: 05:00.0\nhostpci0: 02:00,bogus=1\n", &vm), 0);
	ASSERT_STR_CONTAINS(vm.hostpci[0].dropped, "02:00,bogus=1");
	proxmox_vm_free(&vm);
	/* two bad values: neither is stored, the entry stays ignored */
	ASSERT_STR_CONTAINS(ignored_why("hostpci0: 02:00,bogus=1\nhostpci0: 02:00,x=1\n", 0, why, sizeof(why)),
			    "x");
}

/*
 * Issue 21, defect 4. PVE/SysFSTools.pm lspci($filter): "$id !~
 * m/^(0000:)?\Q$filter\E/": the id is a text prefix of DDDD:BB:SS.F, so a
 * five-digit domain 00000 finds no device and parse_hostpci() dies ("no
 * PCI device found"): nothing may be bound for it.
 */
TEST(a_five_digit_domain_matches_nothing)
{
	EXPECT_ERR("hostpci0: 00000:05:00.0\n", -ENODEV, "no PCI device found for '00000:05:00.0'");
	EXPECT_ERR("hostpci0: 00000:02:00\n", -ENODEV, "qemu-server refuses to start the VM");
	EXPECT("hostpci0: 10000:03:00.0\n", "10000:03:00.0");
}

/*
 * Issue 21, defect 1. PVE/QemuServer/PCI.pm prepare_pci_device() calls
 * PVE::SysFSTools::pci_dev_group_bind_to_vfio($pciid), which binds every
 * function of the IOMMU group but those with a pci_bus directory.
 */
TEST(one_function_takes_its_whole_group)
{
	struct pve_env env = { .h = &host, .node = "pve1", .vmid = 100, .now = 1000 };
	struct hook_devs d = { 0 };
	struct pve_vm vm;

	EXPECT("hostpci0: 01:00.0\n", "0000:01:00.0 0000:01:00.1");
	EXPECT("hostpci0: 01:00.0\nhostpci1: 01:00.1\n", "0000:01:00.0 0000:01:00.1");
	/* mdev and driver=keep: prepare_pci_device() binds nothing */
	EXPECT("hostpci0: 01:00.0,mdev=nvidia-35\n", "");
	ASSERT_INT_EQ(proxmox_vm_parse("hostpci0: 01:00.0\n", &vm), 0);
	ASSERT_INT_EQ(proxmox_vm_choose(&vm, &env, &d, NULL, err, sizeof(err)), 0);
	ASSERT_INT_EQ(d.n, 2);
	ASSERT_FALSE(hook_origin_is_group(d.origin[0]));
	ASSERT_STR_EQ(d.origin[1], "IOMMU group of hostpci0");
	ASSERT_TRUE(hook_origin_is_group(d.origin[1]));
	hook_devs_free(&d);
	proxmox_vm_free(&vm);
}

/* A sibling held by another running VM refuses the start, naming that VM */
TEST(a_sibling_another_vm_holds_refuses)
{
	struct pve_reservation r[] = {
		{ .addr = { 0, 0x01, 0, 1 }, .vmid = 101, .by_pid = true, .value = 4242, .live = true },
	};
	struct pve_reservations res = { r, 1 };

	EXPECT_ERR_RES("hostpci0: 01:00.0\n", &res, -EBUSY, "in use by the running VM 101");
}

TEST(a_device_assigned_twice_refuses_the_start)
{
	/* choose_hostpci_devices(): "device '...' assigned more than once" */
	EXPECT_ERR("hostpci0: 02:00.0\nhostpci1: 02:00\n", -EINVAL, "device '0000:02:00.0' assigned more than once");
	EXPECT_ERR("hostpci1: host=06:00.0\nhostpci2: 0000:06:00.0\n", -EINVAL, "hostpci2");
}

TEST(only_hostpci0_to_15)
{
	char why[256];

	EXPECT("hostpci15: 06:00.0\nhostpci16: 02:00.0\nhostpci00: 01:00.0\nhostpci015: 01:00.0\n", "0000:06:00.0");
	ASSERT_STR_EQ(ignored_why("hostpci16: 02:00.0\n", 15, why, sizeof(why)), "(no such key)");
	EXPECT("hostpcix: 02:00.0\nhostpci: 02:00.0\n xhostpci0: 02:00.0\n#hostpci0: 01:00\n", "");
}

TEST(sections_end_main)
{
	EXPECT("hostpci0: 02:00\n\n[before-update]\nhostpci0: 01:00\nhostpci1: 06:00.0\nsnaptime: 1700000000\n",
	       "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: 06:00.0\n[PENDING]\nhostpci1: 01:00\n", "0000:06:00.0");
	EXPECT("hostpci0: 06:00.0\n[special:cloudinit]\nhostpci1: 01:00\n", "0000:06:00.0");
	/* "[foo" is no section header: a line qemu-server cannot parse, skipped; main goes on */
	EXPECT("[foo\nhostpci0: 06:00.0\n[bar] x\nhostpci1: 05:00.0\n", "0000:06:00.0 0000:05:00.0");
}

TEST(no_devices)
{
	EXPECT("boot: order=scsi0\nmemory: 2048\n", "");
	EXPECT("", "");
}

/* ---- what the schema refuses: qemu-server warns and starts the VM without that entry ---- */

TEST(schema_refusals_are_ignored_entries)
{
	static const struct {
		const char *vm, *why;
	} cases[] = {
		{ "hostpci0: 02:00.0, pcie=1\n", "unknown option ' pcie'" },   /* keys are not trimmed */
		{ "hostpci0: 02:0A.0\n", "not a PCI id list" },                 /* lowercase only */
		{ "hostpci0: 2:00.0\n", "not a PCI id list" },
		{ "hostpci0: 02:00.0,colour=red\n", "unknown option 'colour'" },
		{ "hostpci0: 02:00.0,pcie=2\n", "not a boolean" },
		{ "hostpci0: 02:00.0,driver=nvidia\n", "neither vfio nor keep" },
		{ "hostpci0: 02:00.0,rombar=\n", "missing a key or a value" },
		{ "hostpci0: 02:00.0,02:00.1\n", "'host' is given twice" },
		{ "hostpci0: host=02:00.0,02:00.1\n", "'host' is given twice" },
		{ "hostpci0: 02:00.0,pcie=1,pcie=0\n", "'pcie' is given twice" },
		{ "hostpci0: 02:00.0,vendor-id=10de\n", "not 0xXXXX" },
		{ "hostpci0: mapping=../../etc/passwd\n", "not a mapping id" },
		{ "hostpci0: mapping=g\n", "not a mapping id" },
		{ "hostpci0: $(reboot),pcie=1\n", "not a PCI id list" },
		{ "hostpci0: 02:00.0\r,pcie=1\n", "line feed" },
		{ "hostpci0: 02:00.0,mdev=../x\n", "not an mdev type" },
	};
	char why[256], got[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_STR_CONTAINS(ignored_why(cases[i].vm, 0, why, sizeof(why)), cases[i].why);
		ASSERT_INT_EQ(choose(cases[i].vm, "pve1", NULL, got, NULL, sizeof(got)), 0);
		ASSERT_STR_EQ(got, ""); /* the VM gets nothing for it, so nothing moves */
	}
}

/* ---- disagreement 5: a slot above 1f is out of range, not "not a PCI address" ---- */

TEST(slot_or_function_out_of_range)
{
	EXPECT_ERR("hostpci0: 01:20.0\n", -EINVAL, "hostpci0: 01:20.0: slot 20 out of range (00-1f)");
	EXPECT_ERR("hostpci0: 0000:01:ff\n", -EINVAL, "slot ff out of range (00-1f)");
	EXPECT_ERR("hostpci0: 02:00.8\n", -EINVAL, "function 8 out of range (0-7)");
	EXPECT_ERR("hostpci1: 02:00.0;02:1f.f\n", -EINVAL, "hostpci1: 02:1f.f: function f out of range (0-7)");
}

TEST(device_not_present)
{
	EXPECT_ERR("hostpci0: 09:00.0\n", -ENODEV, "hostpci0: 09:00.0 is not present on this host");
	EXPECT_ERR("hostpci0: 02:00.0\nhostpci1: 0000:0a:00\n", -ENODEV, "hostpci1");
}

TEST(host_or_mapping_exactly_one)
{
	EXPECT_ERR("hostpci0: host=02:00.0,mapping=gpu\n", -EINVAL, "Cannot set both 'host' and 'mapping'");
	EXPECT_ERR("hostpci0: pcie=1\nmachine: q35\n", -EINVAL, "Either 'host' or 'mapping' must be set");
}

/* ---- disagreement 2: driver=keep is neither reset nor bound ---- */

TEST(driver_keep_is_left_alone)
{
	char got[256], kept[256];

	ASSERT_INT_EQ(choose("hostpci0: 02:00,driver=keep\nhostpci1: 06:00.0\n", "pve1", NULL, got, kept, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "0000:06:00.0");
	ASSERT_STR_EQ(kept, "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: 02:00,driver=vfio\n", "0000:02:00.0 0000:02:00.1");
}

TEST(driver_keep_still_counts_as_used)
{
	/* a kept device is still the VM's: the mapping's next entry goes to the next hostpci */
	char got[256], kept[256];

	ASSERT_INT_EQ(choose("hostpci0: mapping=nic,driver=keep\nhostpci1: mapping=nic\n", "pve1", NULL, got, kept,
			     sizeof(got)),
		      0);
	ASSERT_STR_EQ(kept, "0000:05:00.0");
	ASSERT_STR_EQ(got, "0000:06:00.0");
}

/* ---- disagreement 3: a template starts without its hostpci devices ---- */

TEST(template_moves_nothing)
{
	EXPECT("hostpci0: 02:00\ntemplate: 1\n", "");
	EXPECT("template: yes\nhostpci0: 02:00\n", "");
	EXPECT("hostpci0: 02:00\ntemplate: 0\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: 02:00\ntemplate: maybe\n", "0000:02:00.0 0000:02:00.1");
}

TEST(mdev_entry_leaves_the_function)
{
	EXPECT("hostpci0: 02:00.0,mdev=nvidia-63\n", "");
	EXPECT_ERR("hostpci0: 02:00,mdev=nvidia-63\n", -EINVAL, "cannot use mediated device with multifunction device");
}

TEST(pcie_needs_q35)
{
	/* parse_hostpci_devices(): "q35 machine model is not enabled" */
	EXPECT_ERR("hostpci0: 02:00,pcie=1\n", -EINVAL, "pcie=1 needs the q35 machine model");
	EXPECT_ERR("hostpci0: 02:00,pcie=1\nmachine: pc-i440fx-8.1\n", -EINVAL, "pc-i440fx-8.1");
	EXPECT("hostpci0: 02:00,pcie=1\nmachine: type=q35,viommu=intel\n", "0000:02:00.0 0000:02:00.1");
	EXPECT("hostpci0: 02:00,pcie=1\nmachine: pc-q35-9.0+pve1\n", "0000:02:00.0 0000:02:00.1");
}

TEST(legacy_igd_rules)
{
	EXPECT("hostpci0: 00:02.0,legacy-igd=1\nvga: none\n", "0000:00:02.0");
	EXPECT_ERR("hostpci0: 00:02.0,legacy-igd=1\n", -EINVAL, "requires VGA mode to be 'none'");
	EXPECT_ERR("hostpci0: 00:02.0,legacy-igd=1\nvga: none\nmachine: q35\n", -EINVAL, "not compatible with q35");
	EXPECT_ERR("hostpci0: 02:00.0,legacy-igd=1\nvga: none\n", -EINVAL, "host bus 00:02.0");
	EXPECT_ERR("hostpci0: 00:02.0,legacy-igd=1,x-vga=1\nvga: none\n", -EINVAL, "not compatible with x-vga");
}

/* ---- mappings: PVE::Mapping::PCI ---- */

TEST(mapping_for_this_node)
{
	char got[256];

	EXPECT("hostpci0: mapping=gpu,x-vga=1\n", "0000:02:00.0 0000:02:00.1");
	ASSERT_INT_EQ(choose("hostpci0: mapping=gpu\n", "pve2", NULL, got, NULL, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "0000:01:00.0 0000:01:00.1");
	ASSERT_INT_EQ(choose("hostpci0: mapping=gpu\n", "pve3", NULL, got, NULL, sizeof(got)), -ENODEV);
	ASSERT_STR_CONTAINS(err, "no valid entry for this node ('pve3')");
}

TEST(mapping_path_list_is_one_device)
{
	/* parse_hostpci(): a map line's "path=A;B" is one alternative holding both */
	EXPECT("hostpci0: mapping=nic-pair\n", "0000:05:00.0 0000:06:00.0");
	EXPECT_ERR("hostpci0: mapping=nic-pair\nhostpci1: 06:00.0\n", -EINVAL, "assigned more than once");
	/* assert_valid() compares every path with the one id: a GPU and its audio cannot share a map line */
	EXPECT_ERR("hostpci0: mapping=gpu-audio\n", -ENODEV, "'id' does not match for 'gpu-audio' (10de:1aef != 10de:2204)");
}

/* disagreement 1: the entries of one node are alternatives, one per hostpci that names the mapping */
TEST(mapping_alternatives_one_per_entry)
{
	EXPECT("hostpci0: mapping=nic\n", "0000:05:00.0");
	EXPECT("hostpci0: mapping=nic\nhostpci2: mapping=nic\n", "0000:05:00.0 0000:06:00.0");
	EXPECT_ERR("hostpci0: mapping=nic\nhostpci1: mapping=nic\nhostpci2: mapping=nic\n", -EBUSY,
		   "hostpci2: could not find a free device");
	/* an address entry first: the mapping skips what this VM already uses */
	EXPECT("hostpci0: 05:00.0\nhostpci1: mapping=nic\n", "0000:05:00.0 0000:06:00.0");
}

TEST(mapping_skips_what_a_running_vm_holds)
{
	struct pve_reservation r[] = {
		{ .addr = { 0, 5, 0, 0 }, .vmid = 101, .by_pid = true, .value = 4242, .live = true },
	};
	struct pve_reservations res = { r, 1 };

	EXPECT_RES("hostpci0: mapping=nic\n", &res, "0000:06:00.0");
	EXPECT_ERR_RES("hostpci0: mapping=nic\nhostpci1: mapping=nic\n", &res, -EBUSY,
		       "hostpci1: could not find a free device");
	/* an address entry is not an alternative: qemu-server's reservation refuses the start */
	EXPECT_ERR_RES("hostpci0: 05:00.0\n", &res, -EBUSY, "0000:05:00.0 is in use by the running VM 101");
}

TEST(mapping_takes_leftover_reservations)
{
	struct pve_reservation r[] = {
		{ .addr = { 0, 5, 0, 0 }, .vmid = 101, .by_pid = true, .value = 4242, .live = false }, /* VM 101 is gone */
		{ .addr = { 0, 6, 0, 0 }, .vmid = 102, .by_pid = false, .value = 999 },              /* expired */
	};
	struct pve_reservations res = { r, 2 };

	EXPECT_RES("hostpci0: mapping=nic\nhostpci1: mapping=nic\n", &res, "0000:05:00.0 0000:06:00.0");
}

TEST(mapping_own_reservation_is_no_obstacle)
{
	struct pve_reservation r[] = {
		{ .addr = { 0, 5, 0, 0 }, .vmid = 100, .by_pid = false, .value = 5000 },
	};
	struct pve_reservations res = { r, 1 };

	EXPECT_RES("hostpci0: mapping=nic\n", &res, "0000:05:00.0");
}

TEST(mapping_with_a_start_under_way_cannot_be_known)
{
	/* VM 101's start holds 05:00.0 until time 1010: if it fails, qemu-server gives that one to this VM */
	struct pve_reservation r[] = {
		{ .addr = { 0, 5, 0, 0 }, .vmid = 101, .by_pid = false, .value = 1010 },
	};
	struct pve_reservations res = { r, 1 };

	EXPECT_ERR_RES("hostpci0: mapping=nic\n", &res, -EAGAIN, "cannot know which one this VM gets");
	EXPECT_ERR_RES("hostpci0: 05:00.0\n", &res, -EBUSY, "VM 101");
}

TEST(mapping_checked_like_assert_valid)
{
	EXPECT_ERR("hostpci0: mapping=stale\n", -ENODEV, "'id' does not match for 'stale' (10de:2204 != 1002:67df)");
	EXPECT_ERR("hostpci0: mapping=gone\n", -ENODEV, "pci device '0000:09:00.0' not found");
	EXPECT_ERR("hostpci0: mapping=nosub\n", -ENODEV, "missing expected property 'subsystem-id'");
	/* one bad entry refuses the start even though the other is fine: parse_hostpci() dies on it */
	EXPECT_ERR("hostpci0: mapping=half-stale\n", -ENODEV, "'iommugroup' does not match for 'half-stale' (9 != 7)");
	/* mdev 1 on a device that offers no mediated devices */
	EXPECT_ERR("hostpci0: mapping=vgpu,mdev=nvidia-1\n", -ENODEV, "'mdev' does not match for 'vgpu' (0 != 1)");
	EXPECT_ERR("hostpci0: mapping=nosuch\n", -EINVAL, "there is no mapping 'nosuch'");
}

TEST(mapping_iommugroup_without_iommu)
{
	static struct pcifn nic = { .addr = { 0, 5, 0, 0 }, .name = "0000:05:00.0", .vendor = 0x8086, .device = 0x1533,
				    .subvendor = 0x1458, .subdevice = 0xe000, .group = -1 };
	const struct pcihost h = { .fns = &nic, .n = 1 };
	const char *map = "nic\n\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:05:00.0,subsystem-id=1458:e000\n";
	struct hook_devs d = { 0 };

	ASSERT_INT_EQ(proxmox_vm_devices("hostpci0: mapping=nic\n", map, "pve1", &h, &d, err, sizeof(err)), -ENODEV);
	ASSERT_STR_CONTAINS(err, "unexpected property 'iommugroup'");
}

TEST(mapping_lines_the_format_refuses_are_skipped)
{
	/* no domain in path, no id, an unknown key: get_node_mapping() warns and skips each */
	EXPECT("hostpci0: mapping=skipped-lines\n", "0000:06:00.0");
}

TEST(mapping_section_given_twice_takes_the_last)
{
	EXPECT("hostpci0: mapping=twice\n", "0000:06:00.0");
}

TEST(mapping_sections_end_at_an_empty_line)
{
	/* without the empty line "bb" is an ignored line of section "aa", and its map line belongs to "aa" */
	const char *map = "aa\n\tmap id=8086:1533,iommugroup=7,node=pve1,path=0000:05:00.0,subsystem-id=1458:e000\n"
			  "bb\n\tmap id=8086:1533,iommugroup=9,node=pve1,path=0000:06:00.0,subsystem-id=1458:e000\n";
	struct hook_devs d = { 0 };
	char got[256];

	ASSERT_INT_EQ(proxmox_vm_devices("hostpci0: mapping=bb\n", map, "pve1", &host, &d, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "there is no mapping 'bb'");
	ASSERT_INT_EQ(proxmox_vm_devices("hostpci0: mapping=aa\nhostpci1: mapping=aa\n", map, "pve1", &host, &d, err,
					 sizeof(err)),
		      0);
	format_devs(&d, got, sizeof(got));
	hook_devs_free(&d);
	ASSERT_STR_EQ(got, "0000:05:00.0 0000:06:00.0");
}

TEST(mapping_without_file)
{
	struct hook_devs d = { 0 };

	ASSERT_INT_EQ(proxmox_vm_devices("hostpci0: mapping=gpu\n", NULL, "pve1", &host, &d, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "etc/pve/mapping/pci.cfg");
}

/* ---- /run/qemu-server/pci-id-reservations ---- */

TEST(reservations_parse)
{
	struct pve_reservations res = { 0 };

	ASSERT_INT_EQ(proxmox_reservations_parse("0000:05:00.0 101 pid:4242\n"
						 "0000:06:00.0 102 time:1700000000\n"
						 "05:00.0 103 pid:1\n"             /* short id: never a chosen one */
						 "0000:0A:00.0 104 pid:1\n"        /* $PCIRE is lowercase */
						 "0000:07:00.0 105 pid:1 extra\n"  /* must end there */
						 "0000:07:00.0  105 pid:1\n"       /* one \s */
						 "0000:07:00.0 105 when:1\n"
						 "garbage\n"
						 "0000:06:00.0 106 pid:77\n",      /* the last line of an id wins */
						 &res),
		      0);
	ASSERT_INT_EQ(res.n, 2);
	ASSERT_INT_EQ(res.r[0].vmid, 101);
	ASSERT_TRUE(res.r[0].by_pid);
	ASSERT_INT_EQ(res.r[0].value, 4242);
	ASSERT_INT_EQ(res.r[1].vmid, 106);
	ASSERT_INT_EQ(res.r[1].value, 77);
	proxmox_reservations_free(&res);
	ASSERT_INT_EQ(proxmox_reservations_parse(NULL, &res), 0);
	ASSERT_INT_EQ(res.n, 0);
}

static int put(const struct sysroot *r, const char *rel, const char *data, size_t len)
{
	char dir[256];
	int fd;
	ssize_t n;

	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = '\0';
	if (sysroot_mkdir_p(r, dir, 0755) < 0 || (fd = sysroot_openat(r, rel, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

#define PUTS(r, rel, s) ASSERT_INT_EQ(put(r, rel, s, sizeof(s) - 1), 0)

TEST(reservation_live_only_when_that_qemu_runs)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "pvelive");
	struct pve_reservation rs[] = {
		{ .vmid = 101, .by_pid = true, .value = 4242 }, /* running */
		{ .vmid = 102, .by_pid = true, .value = 5000 }, /* pidfile names another pid */
		{ .vmid = 103, .by_pid = true, .value = 6000 }, /* a zombie */
		{ .vmid = 104, .by_pid = true, .value = 7000 }, /* not a QEMU */
		{ .vmid = 105, .by_pid = true, .value = 8000 }, /* another VM's pidfile */
		{ .vmid = 106, .by_pid = true, .value = 9000 }, /* no pidfile */
		{ .vmid = 107, .by_pid = false, .value = 9999 },
	};
	struct pve_reservations res = { rs, sizeof(rs) / sizeof(rs[0]) };

	ASSERT_NOT_NULL(r);
	PUTS(r, "run/qemu-server/101.pid", "4242\n");
	PUTS(r, "proc/4242/cmdline", "/usr/bin/kvm\0-id\0" "101\0-pidfile\0/var/run/qemu-server/101.pid\0-daemonize\0");
	PUTS(r, "proc/4242/stat", "4242 (kvm) S 1 4242 4242 0 -1 4194560\n");
	PUTS(r, "run/qemu-server/102.pid", "5001\n");
	PUTS(r, "proc/5000/cmdline", "/usr/bin/kvm\0-pidfile\0/var/run/qemu-server/102.pid\0");
	PUTS(r, "proc/5000/stat", "5000 (kvm) S 1\n");
	PUTS(r, "run/qemu-server/103.pid", "6000\n");
	PUTS(r, "proc/6000/cmdline", "/usr/bin/qemu-system-x86_64\0-pidfile\0/var/run/qemu-server/103.pid\0");
	PUTS(r, "proc/6000/stat", "6000 (qemu (x) y) Z 1\n");
	PUTS(r, "run/qemu-server/104.pid", "7000\n");
	PUTS(r, "proc/7000/cmdline", "/bin/sleep\0-pidfile\0/var/run/qemu-server/104.pid\0");
	PUTS(r, "proc/7000/stat", "7000 (sleep) S 1\n");
	PUTS(r, "run/qemu-server/105.pid", "8000\n");
	PUTS(r, "proc/8000/cmdline", "/usr/bin/kvm\0-pidfile\0/var/run/qemu-server/101.pid\0");
	PUTS(r, "proc/8000/stat", "8000 (kvm) S 1\n");
	proxmox_reservations_check(r, &res);
	ASSERT_TRUE(rs[0].live);
	for (size_t i = 1; i < res.n; i++)
		if (rs[i].live)
			FAIL_AT("reservation of VM %lu counted as live", rs[i].vmid);
	tmproot_remove(r, dir);
}

/* ---- hookscript volume IDs ---- */

TEST(hookscript_path)
{
	const char *cfg = "dir: local\n\tpath /var/lib/vz\n\tcontent iso,snippets\n\n"
			  "dir: fast\n\tpath /mnt/fast\n\tcontent snippets\n\tcontent-dirs snippets=hooks,iso=isos\n\n"
			  "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\n"
			  "nfs: shared\n\tpath /mnt/pve/shared\n\texport /srv\n";
	char p[256];

	ASSERT_INT_EQ(proxmox_hookscript_path("local:snippets/pcibind-hook", cfg, p, sizeof(p)), 0);
	ASSERT_STR_EQ(p, "var/lib/vz/snippets/pcibind-hook");
	ASSERT_INT_EQ(proxmox_hookscript_path("local:snippets/pcibind-hook", NULL, p, sizeof(p)), 0);
	ASSERT_STR_EQ(p, "var/lib/vz/snippets/pcibind-hook");
	ASSERT_INT_EQ(proxmox_hookscript_path("fast:snippets/h.sh", cfg, p, sizeof(p)), 0);
	ASSERT_STR_EQ(p, "mnt/fast/hooks/h.sh");
	ASSERT_INT_EQ(proxmox_hookscript_path("shared:snippets/h", cfg, p, sizeof(p)), 0);
	ASSERT_STR_EQ(p, "mnt/pve/shared/snippets/h");
	ASSERT_INT_EQ(proxmox_hookscript_path("local-lvm:snippets/h", cfg, p, sizeof(p)), -ENOENT);
	ASSERT_INT_EQ(proxmox_hookscript_path("nosuch:snippets/h", cfg, p, sizeof(p)), -ENOENT);
	ASSERT_INT_EQ(proxmox_hookscript_path("local:iso/h", cfg, p, sizeof(p)), -EINVAL);
	ASSERT_INT_EQ(proxmox_hookscript_path("local:snippets/../h", cfg, p, sizeof(p)), -EINVAL);
	ASSERT_INT_EQ(proxmox_hookscript_path("local:snippets/", cfg, p, sizeof(p)), -EINVAL);
	ASSERT_INT_EQ(proxmox_hookscript_path("/var/lib/vz/snippets/h", cfg, p, sizeof(p)), -EINVAL);
}

TEST(vm_keys_for_the_check)
{
	struct pve_vm vm;

	ASSERT_INT_EQ(proxmox_vm_parse("bios: ovmf\nmachine: q35\nvga: none\nhookscript: local:snippets/pcibind-hook\n"
				       "efidisk0: local-lvm:vm-100-disk-1,efitype=4m,pre-enrolled-keys=1,size=4M\n"
				       "name: win11\n[snap]\nbios: seabios\n",
				       &vm),
		      0);
	ASSERT_STR_EQ(vm.bios, "ovmf");
	ASSERT_TRUE(proxmox_vm_is_q35(&vm));
	ASSERT_STR_EQ(vm.hookscript, "local:snippets/pcibind-hook");
	ASSERT_STR_CONTAINS(vm.efidisk0, "pre-enrolled-keys=1");
	ASSERT_STR_EQ(vm.name, "win11");
	ASSERT_FALSE(proxmox_vm_has_hostpci(&vm));
	proxmox_vm_free(&vm);
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
	char *vm = malloc(n + 32), got[512], why[256];
	int r;

	strcpy(vm, "hostpci0: 02:00.0");
	memset(vm + 17, ',', n);
	strcpy(vm + 17 + n, "pcie=0\n");
	r = choose(vm, "pve1", NULL, got, NULL, sizeof(got));
	ASSERT_INT_EQ(r, 0);
	ASSERT_STR_EQ(got, "0000:02:00.0 0000:02:00.1");
	memset(vm + 10, ';', n);
	ASSERT_STR_CONTAINS(ignored_why(vm, 0, why, sizeof(why)), "not a PCI id list");
	free(vm);
}

HARNESS_MAIN
