/* bootops.h - one ops table per bootloader and per initramfs tool (detect, edit, refresh, remove) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_BOOTOPS_H
#define PCIBIND_BOOTOPS_H

/*
 * As pciutils has one struct pci_methods per access method, each bootloader
 * (boot-*.c) and each initramfs tool (initrd-*.c) is one table here; adding
 * one is a file (with its name and the file it edits in place, if any),
 * an entry in boot_methods[] or initrd_methods[], and its id in detect.h.
 * What is common (the arguments, modprobe.d, the in-place edit with its
 * record for the way back, the diff) stays in gen.c, which calls them; the
 * boot-config layer (bootcfg.c) walks the tables to load, write and refresh.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "bootstate.h"
#include "detect.h"
#include "gen.h"
#include "util.h"

/*
 * a file pcibind owns whole; prune: a directory of its own, removed with its
 * last file; packaged: pcibind's Debian package installs this very path, and
 * where it did (initrd_ops.packaged), generate neither writes nor removes it
 */
struct owned_file {
	const char *path;
	const char *prune;
	bool packaged;
};

/* The generator's working state (gen.c), handed to every method. */
struct gen {
	const struct config *cfg; /* NULL for the way back */
	const struct pcihost *h;
	const struct system *sys;
	const struct gen_existing *ex;
	struct gen_result *res;
	struct gen_error *err;
	struct bootstate next;	/* the record once this run is written */
	const char *claimed[8]; /* edited files this run has decided on */
	size_t n_claimed;
};

/* A file holding a kernel command line, edited in place (GRUB's default file, /etc/kernel/cmdline) */
struct cmdline_file {
	const char *path;
	/* its command line words; text NULL: the file is absent (what a new one starts from) */
	int (*get)(const struct gen *g, const char *text, char **ret);
	/* text with its command line set to words; ours: pcibind's edit (a marker), else the user's own */
	int (*set)(const struct gen *g, const char *text, const char *words, bool ours, char **ret);
	/* the bootloader takes the running command line when the file is absent */
	bool running_fallback;
};

struct boot_ops {
	enum bootloader id;
	const char *name; /* as generate --json and check name it */
	/* is this the bootloader of the system below r? may fill its facts in s */
	bool (*detect)(const struct sysroot *r, struct system *s);
	const struct owned_file *owns;	    /* ended by a NULL path; NULL: none */
	const struct cmdline_file *cmdline; /* the file it edits in place; NULL: none */
	/* put g->res->args where this bootloader takes them */
	int (*edit)(struct gen *g);
	/* the commands after a file it reads changed (GEN_AFTER_BOOT) */
	int (*refresh)(struct gen *g);
	/* the way back beyond its owned files and recorded in-place edits; NULL: nothing more */
	int (*remove)(struct gen *g);
};

struct initrd_ops {
	enum initrd_tool id;
	const char *name;
	bool (*detect)(const struct sysroot *r, struct system *s);
	const struct owned_file *owns;
	/* the files that carry pcibind into the initramfs */
	int (*edit)(struct gen *g);
	/* kernel arguments this tool's initramfs needs (gen_arg_add); NULL: none */
	int (*args)(struct gen *g);
	/* the command after an initramfs input changed (GEN_AFTER_INITRD) */
	int (*refresh)(struct gen *g);
	int (*remove)(struct gen *g);
	/* the package (debian/rules) installed this tool's integration below r; NULL: it never does */
	bool (*packaged)(const struct sysroot *r);
};

static inline bool initrd_is_packaged(const struct gen *g, enum initrd_tool id)
{
	return g->sys->initrd_packaged & (1u << id);
}

/* in detection order, NULL-terminated */
extern const struct boot_ops *const boot_methods[];
extern const struct initrd_ops *const initrd_methods[];
extern const struct boot_ops boot_kernelstub, boot_proxmox_sdboot, boot_grubby, boot_grub, boot_kernel_install;
extern const struct initrd_ops initrd_tools, initrd_dracut, initrd_mkinitcpio;

const struct boot_ops *boot_ops_find(enum bootloader id);
const struct initrd_ops *initrd_ops_find(enum initrd_tool id);

/* ---- what gen.c offers the methods ---- */

/*
 * A script from initramfs/, built into the binary (.incbin): one source of
 * truth for what `make install`-less systems get through `pcibind generate`.
 */
#define GEN_EMBED(sym, file)                                                                                           \
	__asm__(".section .rodata\n.balign 8\n.global " #sym "\n" #sym ":\n.incbin \"" file "\"\n.byte 0\n"            \
		".previous\n");                                                                                        \
	extern const char sym[]

/* a text built with stdio */
struct gen_buf {
	FILE *f;
	char *text;
	size_t len;
};

static inline int gen_buf_open(struct gen_buf *b)
{
	*b = (struct gen_buf){ 0 };
	b->f = open_memstream(&b->text, &b->len);
	return b->f ? 0 : -ENOMEM;
}

/* the text, owned by the caller, or NULL */
static inline char *gen_buf_close(struct gen_buf *b)
{
	if (!b->f)
		return NULL;
	if (fclose(b->f) != 0) {
		free(b->text);
		return NULL;
	}
	return b->text;
}

enum {
	GEN_OWNED = 1 << 0,  /* the whole file is pcibind's */
	GEN_INITRD = 1 << 1, /* read into the initramfs: a change needs its refresh */
	GEN_BOOT = 1 << 2,   /* read by the bootloader: a change needs its refresh */
};

/* a file as it should be; takes text (NULL: out of memory) */
int gen_file_add(struct gen *g, const char *path, char *text, mode_t mode, unsigned flags);
/* remove an owned file if pcibind wrote it */
int gen_file_drop(struct gen *g, const struct owned_file *o, unsigned flags);
int gen_cmd_add(struct gen *g, enum gen_when when, const char *fmt, ...) _printf_(3, 4);
/* a kernel command line argument pcibind wants */
int gen_arg_add(struct gen *g, const char *arg);
/* vfio_pci is a module (not built in) in the kernels below the root */
bool gen_vfio_pci_is_module(const struct gen *g);
int gen_note(struct gen *g, const char *fmt, ...) _printf_(2, 3);
int gen_failf(const struct gen *g, const char *fmt, ...) _printf_(2, 3);
/* the current text of a file pcibind edits (NULL if absent) */
const char *gen_existing_text(const struct gen *g, const char *path);
/* edit cf to hold the arguments, recording what it had for the way back */
int gen_edit_cmdline(struct gen *g, const struct cmdline_file *cf);
/* a script from initramfs/ with pcibind's header after its #! line */
char *gen_script(const char *src);
/* the arguments as one line */
char *gen_args_line(char *const *args, size_t n_args);
/* every one of args is a word of line */
bool gen_cmdline_has_all(const char *line, char *const *args, size_t n_args);
/* the word of line with the key of arg (its first), NULL if none; *ret_len its length */
const char *gen_cmdline_find_key(const char *line, const char *arg, size_t *ret_len);

#endif
