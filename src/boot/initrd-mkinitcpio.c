/* initrd-mkinitcpio.c - mkinitcpio (Arch): an install hook, a runtime hook and a drop-in adding them */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "bootops.h"
#include "util.h"

GEN_EMBED(pcibind_mkinitcpio_install, "initramfs/mkinitcpio/install");
GEN_EMBED(pcibind_mkinitcpio_hook, "initramfs/mkinitcpio/hook");

static const struct owned_file owns[] = {
	{ "etc/initcpio/install/pcibind", NULL, false },
	{ "etc/initcpio/hooks/pcibind", NULL, false },
	{ "etc/mkinitcpio.conf.d/pcibind.conf", NULL, false },
	{ NULL, NULL, false },
};

static bool detect(const struct sysroot *r, struct system *s)
{
	return detect_have_tool(r, "mkinitcpio") || detect_exists(r, "etc/mkinitcpio.conf");
}

static int edit(struct gen *g)
{
	int r;

	if ((r = gen_file_add(g, owns[0].path, gen_script(pcibind_mkinitcpio_install), 0644, GEN_OWNED | GEN_INITRD)) <
		0 ||
	    (r = gen_file_add(g, owns[1].path, gen_script(pcibind_mkinitcpio_hook), 0644, GEN_OWNED | GEN_INITRD)) < 0)
		return r;
	return gen_file_add(g, owns[2].path,
			    strdup("# " GEN_HEADER "\n# needs mkinitcpio 35 or later (drop-in directory).\n"
				   "# With the systemd hook, runtime hooks do not run: the udev rule (added by\n"
				   "# the pcibind install hook) and the softdeps in modprobe.d claim early.\n"
				   "MODULES+=(vfio_pci vfio vfio_iommu_type1)\nHOOKS+=(pcibind)\n"),
			    0644, GEN_OWNED | GEN_INITRD);
}

static int refresh(struct gen *g)
{
	return gen_cmd_add(g, GEN_AFTER_INITRD, "mkinitcpio -P");
}

const struct initrd_ops initrd_mkinitcpio = {
	.id = INITRD_MKINITCPIO,
	.name = "mkinitcpio",
	.detect = detect,
	.owns = owns,
	.edit = edit,
	.refresh = refresh,
};
