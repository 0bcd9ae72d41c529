/* initrd-dracut.c - dracut (Fedora, RHEL, Debian's dracut): a module and a drop-in adding it */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "bootops.h"
#include "util.h"

GEN_EMBED(pcibind_dracut_setup, "initramfs/dracut/module-setup.sh");
GEN_EMBED(pcibind_dracut_early, "initramfs/dracut/pcibind-early.sh");

#define MODULE_DIR "usr/lib/dracut/modules.d/90pcibind"

/* the module's two files are also where the package installs them (debian/rules); the drop-in never */
static const struct owned_file owns[] = {
	{ MODULE_DIR "/module-setup.sh", MODULE_DIR, true },
	{ MODULE_DIR "/pcibind-early.sh", MODULE_DIR, true },
	{ "etc/dracut.conf.d/pcibind.conf", NULL, false },
	{ NULL, NULL, false },
};

static bool detect(const struct sysroot *r, struct system *s)
{
	return detect_have_tool(r, "dracut") || detect_exists(r, "etc/dracut.conf");
}

/* the package's module: there, and without the line generate writes into its own copy */
static bool packaged(const struct sysroot *r)
{
	_cleanup_free_ char *text = NULL;

	return sysroot_read(r, owns[0].path, &text, NULL) == 0 && !gen_is_ours(text);
}

/* installed from the package, the module is dpkg's: only the drop-in that adds it is written */
static int edit(struct gen *g)
{
	int r;

	if (initrd_is_packaged(g, INITRD_DRACUT)) {
		if ((r = gen_note(g, "dracut: the module is the package's (/%s)", MODULE_DIR)) < 0)
			return r;
	} else if ((r = gen_file_add(g, owns[0].path, gen_script(pcibind_dracut_setup), 0755, GEN_OWNED | GEN_INITRD)) <
		       0 ||
		   (r = gen_file_add(g, owns[1].path, gen_script(pcibind_dracut_early), 0755, GEN_OWNED | GEN_INITRD)) <
		       0)
		return r;
	return gen_file_add(g, owns[2].path,
			    strdup("# " GEN_HEADER "\nadd_dracutmodules+=\" pcibind \"\n"
				   "force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n"),
			    0644, GEN_OWNED | GEN_INITRD);
}

/* dracut loads vfio-pci before the other drivers only when asked on the command line */
static int args(struct gen *g)
{
	return gen_vfio_pci_is_module(g) ? gen_arg_add(g, "rd.driver.pre=vfio-pci") : 0;
}

static int refresh(struct gen *g)
{
	return gen_cmd_add(g, GEN_AFTER_INITRD, "dracut -f --regenerate-all");
}

const struct initrd_ops initrd_dracut = {
	.id = INITRD_DRACUT,
	.name = "dracut",
	.detect = detect,
	.owns = owns,
	.edit = edit,
	.args = args,
	.refresh = refresh,
	.packaged = packaged,
};
