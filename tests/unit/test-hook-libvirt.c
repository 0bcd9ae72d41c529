/* test-hook-libvirt.c - libvirt domain XML to functions: managed, several hostdevs, nesting, broken XML, XXE, size */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "hook-libvirt.h"

static char err[768];

static int run(const char *xml, bool all, char *buf, size_t size)
{
	struct hook_devs d = { 0 };
	size_t len = 0;
	int r;

	err[0] = buf[0] = '\0';
	r = libvirt_domain_devices(xml, strlen(xml), all, &d, err, sizeof(err));
	for (size_t i = 0; r == 0 && i < d.n; i++) {
		char a[PCIADDR_STRLEN];

		pciaddr_format(&d.addrs[i], a);
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "", a);
	}
	hook_devs_free(&d);
	return r;
}

#define HOSTDEV(managed, bus, slot, fn)                                                                         \
	"<hostdev mode='subsystem' type='pci' " managed ">"                                                     \
	"<source><address domain='0x0000' bus='" bus "' slot='" slot "' function='" fn "'/></source>"         \
	"<address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>"                          \
	"</hostdev>\n"

#define DOMAIN(devices)                                                                                          \
	"<domain type='kvm'>\n  <name>win11</name>\n  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>\n"   \
	"  <memory unit='KiB'>8388608</memory>\n  <devices>\n"                                                   \
	"    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n" devices "  </devices>\n</domain>\n"

static const char several[] = DOMAIN(HOSTDEV("managed='no'", "0x02", "0x00", "0x0")
				     HOSTDEV("managed='no'", "0x02", "0x00", "0x1")
				     HOSTDEV("managed='yes'", "0x06", "0x00", "0x0")
				     "<hostdev mode='subsystem' type='usb' managed='no'><source><vendor id='0x046d'/>"
				     "<product id='0xc31c'/></source></hostdev>\n"
				     "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
				     "<address bus='0' target='0' unit='0'/></source></hostdev>\n"
				     "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block>"
				     "</source></hostdev>\n"
				     "<interface type='hostdev' managed='yes'><source><address type='pci' "
				     "domain='0x0000' bus='0x07' slot='0x10' function='0x1'/></source></interface>\n");

TEST(managed_no_only)
{
	char got[256];

	ASSERT_INT_EQ(run(several, false, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "0000:02:00.0 0000:02:00.1");
}

TEST(all_hostdevs_when_configured)
{
	char got[256];

	ASSERT_INT_EQ(run(several, true, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "0000:02:00.0 0000:02:00.1 0000:06:00.0 0000:07:10.1");
}

TEST(managed_default_is_no)
{
	char got[256];

	ASSERT_INT_EQ(run(DOMAIN(HOSTDEV("", "0x02", "0x00", "0x0")), false, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "0000:02:00.0");
}

TEST(managed_yes_skipped)
{
	char got[256];

	ASSERT_INT_EQ(run(DOMAIN(HOSTDEV("managed='yes'", "0x02", "0x00", "0x0")), false, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "");
}

/*
 * Disagreement 4: <interface type='hostdev'> is a PCI hostdev to libvirt
 * (domain_conf.c puts it on the domain's hostdev list; virhostdev.c
 * detaches it, or requires it detached, by the same managed rule).
 */
#define VF_IF(managed, extra)                                                                                   \
	"<interface type='hostdev' " managed "><mac address='52:54:00:6d:90:02'/>"                               \
	"<source><address type='pci' domain='0x0000' bus='0x07' slot='0x10' function='0x1'/></source>"         \
	"<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>" extra "</interface>\n"

TEST(interface_hostdev_counts_like_hostdev)
{
	char got[256];

	ASSERT_INT_EQ(run(DOMAIN(VF_IF("managed='no'", "")), false, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "0000:07:10.1");
	ASSERT_INT_EQ(run(DOMAIN(VF_IF("", "<vlan><tag id='42'/></vlan>")), false, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "0000:07:10.1");
	ASSERT_INT_EQ(run(DOMAIN(VF_IF("managed='yes'", "")), false, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "");
	ASSERT_INT_EQ(run(DOMAIN(VF_IF("managed='yes'", "")), true, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "0000:07:10.1");
}

TEST(interface_other_types_do_not)
{
	char got[256];

	ASSERT_INT_EQ(run(DOMAIN("<interface type='network'><source network='default'/>"
				 "<address type='pci' domain='0x0000' bus='0x07' slot='0x10' function='0x1'/></interface>"
				 "<interface type='bridge'><source bridge='br0'/></interface>"
				 "<interface type='hostdev' managed='no'><source><address type='usb' bus='1' device='2'/>"
				 "</source></interface>"
				 "<interface type='hostdev' managed='no'><source/></interface>"),
			  false, got, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "");
}

TEST(interface_origin_names_it)
{
	struct hook_devs d = { 0 };
	const char *xml = DOMAIN(VF_IF("managed='no'", ""));

	ASSERT_INT_EQ(libvirt_domain_devices(xml, strlen(xml), false, &d, err, sizeof(err)), 0);
	ASSERT_INT_EQ(d.n, 1);
	ASSERT_STR_CONTAINS(d.origin[0], "interface at line 7");
	hook_devs_free(&d);
}

TEST(no_devices)
{
	char got[256];

	ASSERT_INT_EQ(run(DOMAIN(""), false, got, sizeof(got)), 0);
	ASSERT_STR_EQ(got, "");
	ASSERT_INT_EQ(run("<domain type='kvm'><name>x</name></domain>", false, got, sizeof(got)), 0);
}

TEST(decimal_and_domains)
{
	char got[256];

	ASSERT_INT_EQ(run("<domain><devices><hostdev mode='subsystem' type='pci' managed='no'><source>"
			  "<address domain='0x10000' bus='3' slot='0' function='1'/></source></hostdev></devices></domain>",
			  false, got, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "10000:03:00.1");
}

TEST(bad_addresses)
{
	char got[256];

	ASSERT_INT_EQ(run(DOMAIN(HOSTDEV("managed='no'", "0x02", "0x20", "0x0")), false, got, sizeof(got)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "line ");
	ASSERT_INT_EQ(run(DOMAIN(HOSTDEV("managed='no'", "0x100", "0x00", "0x0")), false, got, sizeof(got)), -EINVAL);
	ASSERT_INT_EQ(run(DOMAIN(HOSTDEV("managed='no'", "0x02", "0x00", "0x8")), false, got, sizeof(got)), -EINVAL);
	ASSERT_INT_EQ(run(DOMAIN(HOSTDEV("managed='no'", "$(reboot)", "0x00", "0x0")), false, got, sizeof(got)), -EINVAL);
	ASSERT_INT_EQ(run("<domain><devices><hostdev mode='subsystem' type='pci' managed='no'/></devices></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "without <source><address>");
}

#define PCIDEV(attrs, inner) "<hostdev mode='subsystem' type='pci'" attrs ">" inner "</hostdev>"
#define SRC(bus) "<source><address domain='0' bus='" bus "' slot='0' function='0'/></source>"

TEST(only_domain_devices_hostdev_counts)
{
	char got[256];

	ASSERT_INT_EQ(run("<domain>" PCIDEV("", SRC("1")) "<os><devices>" PCIDEV("", SRC("2")) "</devices></os>"
			  "<devices><x>" PCIDEV("", SRC("3")) "</x>" PCIDEV("", "<x>" SRC("4") "</x>")
			  PCIDEV("", "<source><x><address domain='0' bus='5' slot='0' function='0'/></x></source>")
			  PCIDEV("", "<address domain='0' bus='6' slot='0' function='0'/>" SRC("7"))
			  "</devices><devices>" PCIDEV("", SRC("8")) "</devices></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "without <source><address>"); /* the one whose <source> is inside <x> */
	ASSERT_INT_EQ(run("<domain>" PCIDEV("", SRC("1")) "<os><devices>" PCIDEV("", SRC("2")) "</devices></os>"
			  "<devices><x>" PCIDEV("", SRC("3")) "</x>"
			  PCIDEV("", "<address domain='0' bus='6' slot='0' function='0'/>" SRC("7"))
			  PCIDEV("", SRC("9") PCIDEV("", SRC("10")))
			  "</devices><devices>" PCIDEV("", SRC("8")) "</devices></domain>",
			  false, got, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "0000:07:00.0 0000:09:00.0 0000:08:00.0");
}

TEST(first_source_address_wins_and_duplicates_collapse)
{
	char got[256];

	ASSERT_INT_EQ(run("<domain><devices>"
			  PCIDEV("", "<source/><source><x/><address domain='0' bus='1' slot='0' function='0'/>"
				     "<address bus='bad'/></source>" SRC("2")) PCIDEV("", SRC("0x1"))
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "0000:01:00.0");
	ASSERT_INT_EQ(run("<domain><devices>" PCIDEV("", "<source><address bus='bad'/>" SRC("1") "</source>")
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
}

TEST(domain_attribute)
{
	char got[256];

	/* missing: 0; present: must be good */
	ASSERT_INT_EQ(run("<domain><devices>" PCIDEV("", "<source><address bus='1' slot='0' function='0'/></source>")
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "0000:01:00.0");
	ASSERT_INT_EQ(run("<domain><devices>"
			  PCIDEV("", "<source><address domain='' bus='1' slot='0' function='0'/></source>")
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
	ASSERT_INT_EQ(run("<domain><devices>"
			  PCIDEV("", "<source><address domain='0x100000000' bus='1' slot='0' function='0'/></source>")
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
}

TEST(references_and_namespaces)
{
	char got[256];

	/* character references and the predefined entities are plain text */
	ASSERT_INT_EQ(run("<domain><name>a&amp;b</name><devices>"
			  PCIDEV("", "<source><address domain='0' bus='&#x31;' slot='0' function='&#48;'/></source>")
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "0000:01:00.0");
	/* any other entity is undefined: there is no DTD to define it */
	ASSERT_INT_EQ(run("<domain><name>&x;</name></domain>", false, got, sizeof(got)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "broken domain XML: line 1:");
	/* element names are compared without their namespace; attributes must have none */
	ASSERT_INT_EQ(run("<v:domain xmlns:v='urn:v' xmlns:q='urn:q'><v:devices>" PCIDEV("", SRC("1"))
			  "<hostdev q:mode='subsystem' type='pci'>" SRC("2") "</hostdev></v:devices></v:domain>",
			  false, got, sizeof(got)),
		      0);
	ASSERT_STR_EQ(got, "0000:01:00.0");
	ASSERT_INT_EQ(run("<v:domain/>", false, got, sizeof(got)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "broken domain XML");
	/* XML 1.0 and 1.1 only, as libxml2 had it */
	ASSERT_INT_EQ(run("<?xml version='1.1'?><domain/>", false, got, sizeof(got)), 0);
	ASSERT_INT_EQ(run("<?xml version='2.0'?><domain/>", false, got, sizeof(got)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "broken domain XML: line 1:");
	ASSERT_INT_EQ(run("<?xml version='1.0-x'?><domain/>", false, got, sizeof(got)), -EINVAL);
	ASSERT_INT_EQ(run("<?xml version='1.'?><domain/>", false, got, sizeof(got)), 0);
}

TEST(errors_name_the_input_and_line)
{
	char got[256];

	ASSERT_INT_EQ(run("<domain>\n<devices>\n<hostdev mode='subsystem' type='pci'/>\n</devices></domain>", false, got,
			  sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "domain XML: line 3: a PCI <hostdev> without <source><address>");
	ASSERT_INT_EQ(run("<domain>\n<devices>\n" PCIDEV("", "\n<source><address bus='0x100' slot='0' function='0'/></source>")
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "domain XML: line 4: a PCI source <address> needs");
	/* broken XML wins over a bad hostdev before it, as the whole document is read first */
	ASSERT_INT_EQ(run("<domain>\n<devices>\n<hostdev mode='subsystem' type='pci'/>\n</devices><x></domain>", false,
			  got, sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "broken domain XML: line 4:");
	/* nothing after a NUL byte is ignored: the NUL itself is broken XML */
	ASSERT_INT_EQ(libvirt_domain_devices("<domain/>\0<x", 12, false, &(struct hook_devs){ 0 }, err, sizeof(err)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "broken domain XML: line 1:");
}

TEST(broken_xml_names_the_line)
{
	char got[256];

	ASSERT_INT_EQ(run("<domain>\n<devices>\n<hostdev mode='subsystem' type='pci'>\n</devices>\n</domain>\n", false,
			  got, sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "broken domain XML: line 4");
	ASSERT_INT_EQ(run("", false, got, sizeof(got)), -EINVAL);
	ASSERT_INT_EQ(run("not xml at all", false, got, sizeof(got)), -EINVAL);
	ASSERT_INT_EQ(run("<other/>", false, got, sizeof(got)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "not a libvirt <domain>");
}

TEST(xxe_refused)
{
	char got[256];

	ASSERT_INT_EQ(run("<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
			  "<domain><name>&x;</name><devices>" HOSTDEV("managed='no'", "0x02", "0x00", "0x0")
			  "</devices></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "domain XML: line 2: a DOCTYPE");
	ASSERT_INT_EQ(run("<!DOCTYPE domain SYSTEM 'http://127.0.0.1:1/x.dtd'><domain/>", false, got, sizeof(got)),
		      -EINVAL);
	ASSERT_STR_CONTAINS(err, "DOCTYPE");
	/* refused where it stands, before anything after it is read */
	ASSERT_INT_EQ(run("<!DOCTYPE domain><domain><x></domain>", false, got, sizeof(got)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "DOCTYPE");
}

TEST(billion_laughs_refused)
{
	char got[256];

	ASSERT_INT_EQ(run("<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
			  "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
			  "<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>]>"
			  "<domain><name>&f;&f;&f;&f;&f;&f;</name></domain>",
			  false, got, sizeof(got)),
		      -EINVAL);
}

TEST(huge_input_refused)
{
	size_t n = LIBVIRT_XML_MAX + 16;
	char *xml = malloc(n + 1);
	struct hook_devs d = { 0 };
	int r;

	memset(xml, ' ', n);
	memcpy(xml, "<domain>", 8);
	xml[n] = '\0';
	r = libvirt_domain_devices(xml, n, false, &d, err, sizeof(err));
	free(xml);
	ASSERT_INT_EQ(r, -EFBIG);
	ASSERT_STR_CONTAINS(err, "larger than");
}

TEST(many_hostdevs)
{
	size_t cap = 256 * 200 + 64, len = 0;
	char *xml = malloc(cap), got[256];
	struct hook_devs d = { 0 };
	int r;

	len += (size_t)snprintf(xml + len, cap - len, "<domain><devices>");
	for (int b = 0; b < 256; b++)
		len += (size_t)snprintf(xml + len, cap - len,
					"<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0' "
					"bus='0x%02x' slot='0x1f' function='0x7'/></source></hostdev>", b);
	len += (size_t)snprintf(xml + len, cap - len, "</devices></domain>");
	r = libvirt_domain_devices(xml, len, false, &d, err, sizeof(err));
	free(xml);
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(d.n, 256);
	pciaddr_format(&d.addrs[255], got);
	ASSERT_STR_EQ(got, "0000:ff:1f.7");
	hook_devs_free(&d);
}

TEST(domain_facts_for_the_check)
{
	const char *xml = "<domain type='kvm'><name>win11</name><name>second</name>"
			  "<os firmware='efi'><type arch='x86_64' machine='pc-q35-8.2'>hvm</type>"
			  "<firmware><feature enabled='yes' name='enrolled-keys'/><feature enabled='no' name='secure-boot'/>"
			  "</firmware><loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
			  "</loader></os><devices>" PCIDEV(" managed='yes'", SRC("1") "<rom bar='off' file='/srv/vbios.rom'/>")
			  "<interface type='network'><source network='vf-pool'/></interface>" "</devices></domain>";
	struct libvirt_domain d;

	ASSERT_INT_EQ(libvirt_domain_parse(xml, strlen(xml), &d, err, sizeof(err)), 0);
	ASSERT_STR_EQ(d.name, "win11");
	ASSERT_STR_EQ(d.machine, "pc-q35-8.2");
	ASSERT_TRUE(d.efi);
	ASSERT_TRUE(d.secure_boot);
	ASSERT_TRUE(d.enrolled_keys);
	ASSERT_STR_EQ(d.loader, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
	ASSERT_INT_EQ(d.n, 1);
	ASSERT_TRUE(d.hostdevs[0].managed);
	ASSERT_STR_EQ(d.hostdevs[0].rom, "/srv/vbios.rom");
	ASSERT_TRUE(d.hostdevs[0].rom_bar_off);
	ASSERT_INT_EQ(d.n_network_ifaces, 1);
	libvirt_domain_free(&d);
	xml = "<domain><os><type>hvm</type><loader>/usr/share/seabios/bios.bin</loader></os></domain>";
	ASSERT_INT_EQ(libvirt_domain_parse(xml, strlen(xml), &d, err, sizeof(err)), 0);
	ASSERT_FALSE(d.efi);
	ASSERT_FALSE(d.secure_boot);
	ASSERT_NULL(d.machine);
	ASSERT_NULL(d.name);
	libvirt_domain_free(&d);
}

/* libvirt 12.1+: <iommufd enabled='yes'/> under <domain>, a hostdev's <driver iommufd=> over it */
TEST(iommufd)
{
	struct libvirt_domain d;
	const char *xml;

	xml = "<domain><iommufd enabled='yes' fdgroup='iommu'/><devices>"
	      "<hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0' function='0'/></source></hostdev>"
	      "<hostdev mode='subsystem' type='pci'><driver iommufd='no'/>"
	      "<source><address bus='2' slot='0' function='0'/></source></hostdev></devices></domain>";
	ASSERT_INT_EQ(libvirt_domain_parse(xml, strlen(xml), &d, err, sizeof(err)), 0);
	ASSERT_TRUE(d.iommufd);
	ASSERT_INT_EQ(d.n, 2);
	ASSERT_TRUE(d.hostdevs[0].iommufd);
	ASSERT_FALSE(d.hostdevs[1].iommufd);
	libvirt_domain_free(&d);
	xml = "<domain><devices>"
	      "<hostdev mode='subsystem' type='pci'><driver name='vfio' iommufd='yes'/>"
	      "<source><address bus='1' slot='0' function='0'/></source></hostdev>"
	      "<hostdev mode='subsystem' type='pci'><source><address bus='2' slot='0' function='0'/></source></hostdev>"
	      "</devices><devices><iommufd enabled='yes'/></devices></domain>";
	ASSERT_INT_EQ(libvirt_domain_parse(xml, strlen(xml), &d, err, sizeof(err)), 0);
	ASSERT_FALSE(d.iommufd); /* only a child of <domain> is the domain's */
	ASSERT_TRUE(d.hostdevs[0].iommufd);
	ASSERT_FALSE(d.hostdevs[1].iommufd);
	libvirt_domain_free(&d);
	xml = "<domain><iommufd enabled='no'/><devices>"
	      "<hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0' function='0'/></source></hostdev>"
	      "</devices></domain>";
	ASSERT_INT_EQ(libvirt_domain_parse(xml, strlen(xml), &d, err, sizeof(err)), 0);
	ASSERT_FALSE(d.iommufd);
	ASSERT_FALSE(d.hostdevs[0].iommufd);
	libvirt_domain_free(&d);
}

HARNESS_MAIN
