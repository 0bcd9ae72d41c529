/* initrd-tools.c - initramfs-tools (Debian, Ubuntu, Proxmox): a hook and an init-top script */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bootops.h"
#include "util.h"

GEN_EMBED(pcibind_itools_hook, "initramfs/initramfs-tools/hook");
GEN_EMBED(pcibind_itools_init_top, "initramfs/initramfs-tools/init-top");

static const struct owned_file owns[] = {
	{"etc/initramfs-tools/hooks/pcibind", NULL},
	{"etc/initramfs-tools/scripts/init-top/pcibind", NULL},
	{NULL, NULL},
};

static bool detect(const struct sysroot *r, struct system *s)
{
	return detect_have_tool(r, "update-initramfs") || detect_exists(r, "etc/initramfs-tools/initramfs.conf");
}

/* the hook copies pcibind, its configuration and rule in; init-top runs before init-top/udev */
static int edit(struct gen *g)
{
	int r = gen_file_add(g, owns[0].path, gen_script(pcibind_itools_hook), 0755, GEN_OWNED | GEN_INITRD);

	return r < 0 ? r : gen_file_add(g, owns[1].path, gen_script(pcibind_itools_init_top), 0755, GEN_OWNED | GEN_INITRD);
}

static int refresh(struct gen *g)
{
	return gen_cmd_add(g, GEN_AFTER_INITRD, "update-initramfs -u -k all");
}

const struct initrd_ops initrd_tools = {
	.id = INITRD_TOOLS,
	.detect = detect,
	.owns = owns,
	.edit = edit,
	.refresh = refresh,
};
