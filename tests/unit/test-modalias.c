/* test-modalias.c - modules.alias and modules.builtin.modinfo matched against a modalias as kmod does */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "modalias.h"
#include "tmproot.h"

#define REL "6.1.0-99-test"

static void put(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512], cmd[600];
	FILE *f;

	(void)snprintf(cmd, sizeof(cmd), "mkdir -p %s/lib/modules/" REL " %s/proc/sys/kernel", dir, dir);
	(void)!system(cmd);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

static const char aliases[] = "# Aliases extracted from modules themselves.\n"
			      "alias pci:v000010DEd00002204sv*sd*bc*sc*i* nvidia\n"
			      "alias pci:v000010DEd*sv*sd*bc03sc02i00* nvidia\n"
			      "alias pci:v000010DEd*sv*sd*bc03sc*i* nouveau\n"
			      "alias usb:v0BDAp8153d*dc*dsc*dp*ic*isc*ip*in* r8152\n"
			      "alias pci:v*d*sv*sd*bc04sc03i00* snd_hda_intel\n"
			      "alias pci:v00008086d0000A30[0-9A-F]sv*sd*bc*sc*i* lpc_ich\n"
			      "alias pci:v00008086d*sv*sd*bc*sc*i*\n" /* no module: skipped */
			      "garbage line\n"
			      "alias pci:v0000BEEFd*sv*sd*bc*sc*i*   spaced_out  \n";

static struct pcifn fn(uint16_t v, uint16_t d, uint32_t class)
{
	return (struct pcifn){.vendor = v, .device = d, .subvendor = 0x1458, .subdevice = 0x403b, .class = class};
}

static size_t match(const struct modaliases *m, struct pcifn f, const char **out, size_t max)
{
	char alias[128];

	modalias_of(&f, alias, sizeof(alias));
	return modaliases_match(m, alias, out, max);
}

TEST(modalias_is_the_kernels)
{
	struct pcifn f = fn(0x10de, 0x2204, 0x030000);
	char alias[128];

	modalias_of(&f, alias, sizeof(alias));
	ASSERT_STR_EQ(alias, "pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00");
}

TEST(matches_in_depmod_order_each_module_once)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "modalias");
	struct modaliases *m = NULL;
	const char *out[8];

	ASSERT_NOT_NULL(r);
	put(dir, "lib/modules/" REL "/modules.alias", aliases, strlen(aliases));
	put(dir, "proc/sys/kernel/osrelease", REL "\n", strlen(REL) + 1);
	ASSERT_INT_EQ(modaliases_load(r, &m), 0);
	ASSERT_INT_EQ(match(m, fn(0x10de, 0x2204, 0x030000), out, 8), 2);
	ASSERT_STR_EQ(out[0], "nvidia");
	ASSERT_STR_EQ(out[1], "nouveau");
	/* two aliases of nvidia match a 3D controller: it is listed once */
	ASSERT_INT_EQ(match(m, fn(0x10de, 0x2204, 0x030200), out, 8), 2);
	ASSERT_INT_EQ(match(m, fn(0x10de, 0x1aef, 0x040300), out, 8), 1);
	ASSERT_STR_EQ(out[0], "snd_hda_intel");
	ASSERT_INT_EQ(match(m, fn(0x8086, 0xa305, 0x060100), out, 8), 1);
	ASSERT_STR_EQ(out[0], "lpc_ich");
	ASSERT_INT_EQ(match(m, fn(0x8086, 0xa310, 0x060100), out, 8), 0);
	ASSERT_INT_EQ(match(m, fn(0xbeef, 0x0001, 0xff0000), out, 8), 1);
	ASSERT_STR_EQ(out[0], "spaced_out");
	/* more matches than room: counted, the first ones returned */
	ASSERT_INT_EQ(match(m, fn(0x10de, 0x2204, 0x030000), out, 1), 2);
	ASSERT_STR_EQ(out[0], "nvidia");
	modaliases_free(m);
	tmproot_remove(r, dir);
}

TEST(builtin_drivers_only_when_no_module_matches)
{
	static const char modinfo[] = "xhci_pci.alias=pci:v*d*sv*sd*bc0Csc03i30*\0xhci_pci.license=GPL\0"
				      "snd_hda_intel.alias=pci:v*d*sv*sd*bc04sc03i00*\0pcieport.license=GPL\0"
				      "broken-without-a-dot\0.alias=pci:v*\0";
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "modalias");
	struct modaliases *m = NULL;
	const char *out[8];

	ASSERT_NOT_NULL(r);
	put(dir, "lib/modules/" REL "/modules.builtin.modinfo", modinfo, sizeof(modinfo) - 1);
	ASSERT_INT_EQ(modaliases_load_release(r, REL, &m), 0);
	ASSERT_INT_EQ(match(m, fn(0x8086, 0xa36d, 0x0c0330), out, 8), 1);
	ASSERT_STR_EQ(out[0], "xhci_pci");
	modaliases_free(m);
	put(dir, "lib/modules/" REL "/modules.alias", aliases, strlen(aliases));
	ASSERT_INT_EQ(modaliases_load_release(r, REL, &m), 0);
	/* a module matches: the built-in alias of the same kind is not looked at (kmod's order) */
	ASSERT_INT_EQ(match(m, fn(0x10de, 0x1aef, 0x040300), out, 8), 1);
	ASSERT_STR_EQ(out[0], "snd_hda_intel");
	ASSERT_INT_EQ(match(m, fn(0x8086, 0xa36d, 0x0c0330), out, 8), 1);
	ASSERT_STR_EQ(out[0], "xhci_pci");
	modaliases_free(m);
	tmproot_remove(r, dir);
}

TEST(absent_or_odd_files)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "modalias");
	struct modaliases *m = NULL;

	ASSERT_NOT_NULL(r);
	ASSERT_INT_EQ(modaliases_load_release(r, REL, &m), -ENOENT);
	ASSERT_INT_EQ(modaliases_load(r, &m), -ENOENT); /* no osrelease */
	ASSERT_INT_EQ(modaliases_load_release(r, "../../etc", &m), -ENOENT);
	ASSERT_INT_EQ(modaliases_load_release(r, "", &m), -ENOENT);
	put(dir, "lib/modules/" REL "/modules.alias", "alias pci:v*\0 x\n", 16);
	ASSERT_INT_EQ(modaliases_load_release(r, REL, &m), -EINVAL);
	ASSERT_INT_EQ(modaliases_match(NULL, "pci:v", NULL, 0), 0);
	modaliases_free(NULL);
	tmproot_remove(r, dir);
}

HARNESS_MAIN
