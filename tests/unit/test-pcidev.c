/* test-pcidev.c - the device model read from a plain sysfs tree: ids from modalias, or attribute by attribute */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tmproot.h"
#include "pcidev.h"
#include "util.h"

#define DEV "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0"

#define temp_root(dir, size) tmproot_open(dir, size, "pcidev")
#define remove_root tmproot_remove

static int put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (!(f = fopen(path, "w")))
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int link_to(const char *dir, const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return symlink(target, path);
}

/* one GPU function on nvidia in group 7; ids in the attribute files differ from modalias on purpose */
static int make_fn(const char *dir, const char *modalias)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%1$s/" DEV "' '%1$s/sys/bus/pci/devices' '%1$s/sys/bus/pci/drivers/nvidia' "
		 "'%1$s/sys/kernel/iommu_groups/7/devices'",
		 dir);
	if (system(cmd) != 0)
		return -1;
	if (link_to(dir, "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0",
		    "sys/bus/pci/devices/0000:01:00.0") < 0 ||
	    link_to(dir, "../../../../bus/pci/drivers/nvidia", DEV "/driver") < 0 ||
	    link_to(dir, "../../../../kernel/iommu_groups/7", DEV "/iommu_group") < 0)
		return -1;
	if (put(dir, DEV "/vendor", "0x1111\n") < 0 || put(dir, DEV "/device", "0x2222\n") < 0 ||
	    put(dir, DEV "/class", "0x030000\n") < 0 || put(dir, DEV "/subsystem_vendor", "0x3333\n") < 0 ||
	    put(dir, DEV "/subsystem_device", "0x4444\n") < 0 || put(dir, DEV "/driver_override", "(null)\n") < 0)
		return -1;
	if (modalias && put(dir, DEV "/modalias", modalias) < 0)
		return -1;
	return 0;
}

static int read_fn(const struct sysroot *r, struct pcifn *f)
{
	struct pciaddr a;

	if (pciaddr_parse("0000:01:00.0", &a) < 0)
		return -EINVAL;
	return pcifn_read(r, &a, f);
}

TEST(ids_from_modalias)
{
	char dir[64];
	struct sysroot *r = temp_root(dir, sizeof(dir));
	struct pcifn f = { 0 };

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(make_fn(dir, "pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00\n"), 0);
	ASSERT_INT_EQ(read_fn(r, &f), 0);
	ASSERT_INT_EQ(f.vendor, 0x10de);
	ASSERT_INT_EQ(f.device, 0x2204);
	ASSERT_INT_EQ(f.subvendor, 0x1458);
	ASSERT_INT_EQ(f.subdevice, 0x403b);
	ASSERT_INT_EQ(f.class, 0x030000);
	ASSERT_STR_EQ(f.driver, "nvidia");
	ASSERT_INT_EQ(f.group, 7);
	ASSERT_TRUE(f.override == NULL);
	pcifn_clear(&f);
	remove_root(r, dir);
}

/* the kernel prints the prog-if in lower case in uevent's MODALIAS; accept either */
TEST(modalias_prog_if_any_case)
{
	char dir[64];
	struct sysroot *r = temp_root(dir, sizeof(dir));
	struct pcifn f = { 0 };

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(make_fn(dir, "pci:v00008086d00001572sv00008086sd00000001bc0Csc03i3a\n"), 0);
	ASSERT_INT_EQ(read_fn(r, &f), 0);
	ASSERT_INT_EQ(f.class, 0x0c033a);
	ASSERT_INT_EQ(f.vendor, 0x8086);
	pcifn_clear(&f);
	remove_root(r, dir);
}

TEST(ids_attribute_by_attribute_without_modalias)
{
	char dir[64];
	struct sysroot *r = temp_root(dir, sizeof(dir));
	struct pcifn f = { 0 };

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(make_fn(dir, NULL), 0);
	ASSERT_INT_EQ(read_fn(r, &f), 0);
	ASSERT_INT_EQ(f.vendor, 0x1111);
	ASSERT_INT_EQ(f.device, 0x2222);
	ASSERT_INT_EQ(f.subvendor, 0x3333);
	ASSERT_INT_EQ(f.subdevice, 0x4444);
	ASSERT_INT_EQ(f.class, 0x030000);
	pcifn_clear(&f);
	remove_root(r, dir);
}

/* anything but the exact kernel format is not trusted: the attribute files decide */
TEST(malformed_modalias_falls_back)
{
	static const char *const bad[] = {
		"pci:v10DEd2204sv1458sd403Bbc03sc00i00\n",			  /* short fields */
		"pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00\n",		  /* no prog-if */
		"pci:v000110DEd00002204sv00001458sd0000403Bbc03sc00i00\n",	  /* vendor over 16 bits */
		"pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00 extra\n", /* trailing text */
		"usb:v1D6Bp0002d0601dc09dsc00dp01ic09isc00ip00in00\n",		  /* another bus */
		"pci:v000010DEd0000220Gsv00001458sd0000403Bbc03sc00i00\n",	  /* not hex */
		"\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char dir[64];
		struct sysroot *r = temp_root(dir, sizeof(dir));
		struct pcifn f = { 0 };

		ASSERT_TRUE(r);
		ASSERT_INT_EQ(make_fn(dir, bad[i]), 0);
		ASSERT_INT_EQ(read_fn(r, &f), 0);
		if (f.vendor != 0x1111 || f.device != 0x2222 || f.subvendor != 0x3333 || f.subdevice != 0x4444)
			FAIL_AT("modalias \"%.*s\" was trusted: %04x:%04x %04x:%04x", (int)strcspn(bad[i], "\n"),
				bad[i], f.vendor, f.device, f.subvendor, f.subdevice);
		pcifn_clear(&f);
		remove_root(r, dir);
	}
}

TEST(scan_reads_the_same)
{
	char dir[64];
	struct sysroot *r = temp_root(dir, sizeof(dir));
	struct pcihost *h = NULL;

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(make_fn(dir, "pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00\n"), 0);
	ASSERT_INT_EQ(pcihost_scan(r, &h), 0);
	ASSERT_INT_EQ(h->n, 1);
	ASSERT_STR_EQ(h->fns[0].name, "0000:01:00.0");
	ASSERT_INT_EQ(h->fns[0].vendor, 0x10de);
	ASSERT_INT_EQ(h->fns[0].subdevice, 0x403b);
	ASSERT_STR_EQ(h->fns[0].driver, "nvidia");
	pcihost_free(h);
	remove_root(r, dir);
}
/* A driverless function's override comes from devlock's child: deferred, then read for the wanted ones */
TEST(deferred_scan_reads_locked_attributes_on_request)
{
	char dir[64], path[256];
	struct sysroot *r = temp_root(dir, sizeof(dir));
	struct pcihost *h = NULL;
	bool want[1] = { true };

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(make_fn(dir, "pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00\n"), 0);
	snprintf(path, sizeof(path), "%s/" DEV "/driver", dir);
	ASSERT_INT_EQ(unlink(path), 0);
	ASSERT_INT_EQ(put(dir, DEV "/driver_override", "vfio-pci\n"), 0);

	ASSERT_INT_EQ(pcihost_scan_deferred(r, &h), 0);
	ASSERT_INT_EQ(h->n, 1);
	ASSERT_TRUE(h->fns[0].driver == NULL);
	ASSERT_TRUE(h->fns[0].locked_unread);
	ASSERT_TRUE(h->fns[0].override == NULL);
	want[0] = false;
	ASSERT_INT_EQ(pcihost_read_locked(r, h, want), 0);
	ASSERT_TRUE(h->fns[0].locked_unread); /* not wanted: still unread */
	want[0] = true;
	ASSERT_INT_EQ(pcihost_read_locked(r, h, want), 0);
	ASSERT_FALSE(h->fns[0].locked_unread);
	ASSERT_STR_EQ(h->fns[0].override, "vfio-pci");
	pcihost_free(h);

	ASSERT_INT_EQ(pcihost_scan(r, &h), 0); /* the full scan reads it at once */
	ASSERT_FALSE(h->fns[0].locked_unread);
	ASSERT_STR_EQ(h->fns[0].override, "vfio-pci");
	pcihost_free(h);
	remove_root(r, dir);
}

/*
 * A host big enough for the scan's threads (pcidev.c reads 512 or more
 * functions per thread): every function the scan returns must equal what
 * pcifn_read() reads of it alone, none lost, none twice, in address order.
 */
TEST(parallel_scan_equals_reading_each_function)
{
	enum { N = 1300 };
	char dir[64], rel[160], text[96];
	struct sysroot *r = temp_root(dir, sizeof(dir));
	struct pcihost *h = NULL;
	char cmd[256];

	ASSERT_TRUE(r);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/sys/bus/pci/devices' '%s/sys/bus/pci/drivers/vfio-pci'", dir, dir);
	ASSERT_INT_EQ(system(cmd), 0);
	for (int i = 0; i < N; i++) {
		char name[16], path[256];

		snprintf(name, sizeof(name), "0000:%02x:%02x.%d", 0x10 + i / 256, (i / 8) % 32, i % 8);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s", name);
		ASSERT_INT_EQ(sysroot_mkdir_p(r, rel, 0755), 0);
		snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", dir, name);
		snprintf(text, sizeof(text), "../../../devices/pci0000:00/%s", name);
		ASSERT_INT_EQ(symlink(text, path), 0);
		snprintf(text, sizeof(text), "pci:v00008086d%08Xsv00008086sd%08Xbc02sc00i00\n", 0x1000 + i, i);
		snprintf(path, sizeof(path), "%s/modalias", rel);
		ASSERT_INT_EQ(put(dir, path, text), 0);
		snprintf(path, sizeof(path), "%s/driver_override", rel);
		ASSERT_INT_EQ(put(dir, path, "(null)\n"), 0);
		if (i % 8 != 0) { /* most on vfio-pci, every eighth driverless (its override through devlock) */
			snprintf(path, sizeof(path), "%s/%s/driver", dir, rel);
			ASSERT_INT_EQ(symlink("../../../bus/pci/drivers/vfio-pci", path), 0);
		}
	}
	ASSERT_INT_EQ(pcihost_scan(r, &h), 0);
	ASSERT_INT_EQ(h->n, N);
	for (size_t i = 0; i < h->n; i++) {
		struct pcifn one = { 0 };

		if (i > 0 && pciaddr_cmp(&h->fns[i - 1].addr, &h->fns[i].addr) >= 0)
			FAIL_AT("not in address order at %zu: %s, %s", i, h->fns[i - 1].name, h->fns[i].name);
		ASSERT_INT_EQ(pcifn_read(r, &h->fns[i].addr, &one), 0);
		if (one.vendor != h->fns[i].vendor || one.device != h->fns[i].device ||
		    one.subdevice != h->fns[i].subdevice || !streq_null(one.driver, h->fns[i].driver) ||
		    !streq_null(one.override, h->fns[i].override) || h->fns[i].locked_unread)
			FAIL_AT("%s differs from reading it alone", h->fns[i].name);
		pcifn_clear(&one);
	}
	pcihost_free(h);
	remove_root(r, dir);
}

HARNESS_MAIN

/* a bare function at sys/devices/pci0000:00/ADDR with its bus link, ids from modalias */
static int make_bare(const char *dir, const char *addr, const char *driver)
{
	char cmd[1024], rel[256], target[256];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%1$s/sys/devices/pci0000:00/%2$s' '%1$s/sys/bus/pci/devices' "
		 "'%1$s/sys/bus/pci/drivers/%3$s'", dir, addr, driver ? driver : "none");
	if (system(cmd) != 0)
		return -1;
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", addr);
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
	if (link_to(dir, target, rel) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/modalias", addr);
	if (put(dir, rel, "pci:v00008086d00001572sv00008086sd00000008bc02sc00i00\n") < 0)
		return -1;
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver_override", addr);
	if (put(dir, rel, "(null)\n") < 0)
		return -1;
	if (!driver)
		return 0;
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/driver", addr);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
	return link_to(dir, target, rel);
}

static int put_attr(const char *dir, const char *addr, const char *attr, const char *text)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/%s", addr, attr);
	return put(dir, rel, text);
}

/* VF N at the PF's routing ID + sriov_offset + N * sriov_stride, as virtfn_devfn() places it */
TEST(vfs_numbered_from_offset_and_stride)
{
	static const char *const vfs[] = { "0000:3b:02.0", "0000:3b:02.3", "0000:3b:05.0", "0000:3c:00.0" };
	char dir[64];
	struct sysroot *r = temp_root(dir, sizeof(dir));
	struct pcihost *h = NULL;
	const struct pcifn *got[8];
	struct pciaddr a;
	const struct pcifn *pf;

	ASSERT_TRUE(r);
	ASSERT_INT_EQ(make_bare(dir, "0000:3b:00.0", "i40e"), 0);
	ASSERT_INT_EQ(put_attr(dir, "0000:3b:00.0", "sriov_totalvfs", "8\n"), 0);
	ASSERT_INT_EQ(put_attr(dir, "0000:3b:00.0", "sriov_numvfs", "4\n"), 0);
	ASSERT_INT_EQ(put_attr(dir, "0000:3b:00.0", "sriov_drivers_autoprobe", "0\n"), 0);
	ASSERT_INT_EQ(put_attr(dir, "0000:3b:00.0", "sriov_offset", "16\n"), 0);
	ASSERT_INT_EQ(put_attr(dir, "0000:3b:00.0", "sriov_stride", "1\n"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(vfs); i++) {
		char rel[128];

		ASSERT_INT_EQ(make_bare(dir, vfs[i], i == 0 ? "iavf" : NULL), 0);
		snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/physfn", vfs[i]);
		ASSERT_INT_EQ(link_to(dir, "../0000:3b:00.0", rel), 0);
	}
	ASSERT_INT_EQ(pcihost_scan(r, &h), 0);
	ASSERT_INT_EQ(h->n, 5);
	ASSERT_INT_EQ(pciaddr_parse("0000:3b:00.0", &a), 0);
	pf = pcihost_find(h, &a);
	ASSERT_TRUE(pf);
	ASSERT_INT_EQ(pf->sriov_numvfs, 4);
	ASSERT_INT_EQ(pf->sriov_totalvfs, 8);
	ASSERT_INT_EQ(pf->sriov_autoprobe, AUTOPROBE_OFF);
	ASSERT_INT_EQ(pf->sriov_offset, 16);
	ASSERT_INT_EQ(pf->vf_index, -1);
	ASSERT_INT_EQ(pcihost_vfs(h, pf, got, ARRAY_SIZE(got)), 4);
	ASSERT_STR_EQ(got[0]->name, "0000:3b:02.0");
	ASSERT_INT_EQ(got[0]->vf_index, 0);
	ASSERT_STR_EQ(got[0]->driver, "iavf");
	ASSERT_INT_EQ(got[1]->vf_index, 3);
	/* routing ID 0x3b28 - 0x3b00 - 16 = 24: past sriov_totalvfs, no VF number */
	ASSERT_INT_EQ(got[2]->vf_index, -1);
	/* the next bus: 0x3c00 - 0x3b00 - 16 = 240, past it too */
	ASSERT_INT_EQ(got[3]->vf_index, -1);
	ASSERT_TRUE(pcihost_physfn(h, got[1]) == pf);
	ASSERT_TRUE(pcihost_physfn(h, pf) == NULL);
	ASSERT_INT_EQ(got[1]->sriov_numvfs, -1);
	pcihost_free(h);
	remove_root(r, dir);
}
