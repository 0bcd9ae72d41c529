/* boot-kcmdline.c - /etc/kernel/cmdline, read by proxmox-boot-tool (systemd-boot) and kernel-install */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootops.h"
#include "util.h"

#define KCMDLINE "etc/kernel/cmdline"

/* the whole file is the command line; a new one starts from the running one, without the loader's words */
static int get(const struct gen *g, const char *text, char **ret)
{
	const char *p = text ? text : g->sys->cmdline ? g->sys->cmdline : "";
	struct gen_buf b;

	if (gen_buf_open(&b) < 0)
		return -ENOMEM;
	while (*(p += strspn(p, " \t\n"))) {
		size_t len = strcspn(p, " \t\n");

		if (text || (strncmp(p, "BOOT_IMAGE=", 11) != 0 && strncmp(p, "initrd=", 7) != 0))
			fprintf(b.f, " %.*s", (int)len, p);
		p += len;
	}
	*ret = gen_buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

static int set(const struct gen *g, const char *text, const char *words, bool ours, char **ret)
{
	words += strspn(words, " ");
	return asprintf(ret, "%s\n", words) < 0 ? (*ret = NULL, -ENOMEM) : 0;
}

/* without the file, kernel-install takes /proc/cmdline: giving a new one back keeps the arguments in it */
static const struct cmdline_file kernel_cmdline = {
	.path = KCMDLINE,
	.get = get,
	.set = set,
	.running_fallback = true,
};

static int edit(struct gen *g)
{
	int r;

	if (!gen_existing_text(g, KCMDLINE) && g->res->n_args && !bootstate_find(g->ex->state, KCMDLINE) &&
	    (r = gen_note(g, "/etc/kernel/cmdline did not exist: it starts from the running kernel's command "
			     "line; check root= in it before rebooting")) < 0)
		return r;
	return gen_edit_cmdline(g, &kernel_cmdline);
}

/* ---- proxmox-boot-tool: the ESPs it keeps in sync, booting systemd-boot ---- */

static bool detect_proxmox(const struct sysroot *r, struct system *s)
{
	return s->proxmox_boot_tool && s->efi && detect_exists(r, KCMDLINE);
}

static int refresh_proxmox(struct gen *g)
{
	return gen_cmd_add(g, GEN_AFTER_BOOT, "proxmox-boot-tool refresh");
}

const struct boot_ops boot_proxmox_sdboot = {
	.id = BOOT_PROXMOX_SDBOOT,
	.name = "systemd-boot (proxmox-boot-tool)",
	.detect = detect_proxmox,
	.cmdline = &kernel_cmdline,
	.edit = edit,
	.refresh = refresh_proxmox,
};

/* ---- kernel-install: systemd-boot and other Boot Loader Specification loaders ---- */

/*
 * kernel-install reads /etc/kernel/cmdline, else /proc/cmdline; a system
 * uses it when it has entries of the Boot Loader Specification, a layout
 * configured for it, or the file already (checked after GRUB).
 */
static bool detect_kernel_install(const struct sysroot *r, struct system *s)
{
	static const char *const signs[] = {
		KCMDLINE,
		"etc/kernel/install.conf",
		"boot/loader/entries",
		"efi/loader/entries",
		"boot/efi/loader/entries",
	};

	if (!detect_have_tool(r, "kernel-install"))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(signs); i++)
		if (detect_exists(r, signs[i]))
			return true;
	return false;
}

/* one `kernel-install add VERSION IMAGE` per installed kernel: the image in /usr/lib/modules or /boot */
static int refresh_kernel_install(struct gen *g)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < g->sys->n_kernels; i++) {
		const struct kernel *k = &g->sys->kernels[i];

		if (!k->image[0] || !cmdline_arg_valid(k->version) || !cmdline_arg_valid(k->image))
			r = gen_note(g,
				     "kernel %s: no image in /usr/lib/modules/%s/vmlinuz or /boot/vmlinuz-%s; "
				     "run kernel-install add for it yourself",
				     k->version, k->version, k->version);
		else
			r = gen_cmd_add(g, GEN_AFTER_BOOT, "kernel-install add %s %s", k->version, k->image);
	}
	if (r == 0 && !g->sys->n_kernels)
		r = gen_note(g, "no kernel found in /usr/lib/modules: run kernel-install add yourself");
	return r;
}

const struct boot_ops boot_kernel_install = {
	.id = BOOT_KERNEL_INSTALL,
	.name = "kernel-install",
	.detect = detect_kernel_install,
	.cmdline = &kernel_cmdline,
	.edit = edit,
	.refresh = refresh_kernel_install,
};
