/* initrd-tools.c - initramfs-tools (Debian, Ubuntu, Proxmox): a hook and an init-top script */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bootops.h"
#include "util.h"

GEN_EMBED(pcibind_itools_hook, "initramfs/initramfs-tools/hook");
GEN_EMBED(pcibind_itools_init_top, "initramfs/initramfs-tools/init-top");

static const struct owned_file owns[] = {
	{ "etc/initramfs-tools/hooks/pcibind", NULL, false },
	{ "etc/initramfs-tools/scripts/init-top/pcibind", NULL, false },
	{ NULL, NULL, false },
};

/* where the package puts the same two scripts (debian/rules) */
static const char *const packaged_paths[] = {
	"usr/share/initramfs-tools/hooks/pcibind",
	"usr/share/initramfs-tools/scripts/init-top/pcibind",
};

static bool detect(const struct sysroot *r, struct system *s)
{
	return detect_have_tool(r, "update-initramfs") || detect_exists(r, "etc/initramfs-tools/initramfs.conf");
}

static bool packaged(const struct sysroot *r)
{
	return detect_exists(r, packaged_paths[0]) && detect_exists(r, packaged_paths[1]);
}

/*
 * The hook copies pcibind, its configuration and rule in; init-top runs
 * before init-top/udev. Installed from the package, both are in
 * /usr/share/initramfs-tools already: copies in /etc would run twice, so
 * the ones an earlier `generate --write` left there are taken out.
 */
static int edit(struct gen *g)
{
	int r;

	if (initrd_is_packaged(g, INITRD_TOOLS)) {
		if ((r = gen_file_drop(g, &owns[0], GEN_INITRD)) < 0 ||
		    (r = gen_file_drop(g, &owns[1], GEN_INITRD)) < 0)
			return r;
		return gen_note(g, "initramfs-tools: the hook and init-top script are the package's (/%s, /%s)",
				packaged_paths[0], packaged_paths[1]);
	}
	r = gen_file_add(g, owns[0].path, gen_script(pcibind_itools_hook), 0755, GEN_OWNED | GEN_INITRD);
	return r < 0 ? r
		     : gen_file_add(g, owns[1].path, gen_script(pcibind_itools_init_top), 0755, GEN_OWNED | GEN_INITRD);
}

static int refresh(struct gen *g)
{
	return gen_cmd_add(g, GEN_AFTER_INITRD, "update-initramfs -u -k all");
}

const struct initrd_ops initrd_tools = {
	.id = INITRD_TOOLS,
	.name = "initramfs-tools",
	.detect = detect,
	.owns = owns,
	.edit = edit,
	.refresh = refresh,
	.packaged = packaged,
};
