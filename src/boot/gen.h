/* gen.h - pure generators: config + devices + system facts -> the files and commands of a persistent setup */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_GEN_H
#define PCIBIND_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bootstate.h"
#include "config.h"
#include "detect.h"
#include "pcidev.h"
#include "util.h"

/* the most files the methods edit in place (boot_ops.cmdline), one entry per path */
#define GEN_EDITED_MAX 8

/* A file generate edits in place rather than owns, as it is: text NULL if absent */
struct gen_text {
	const char *path; /* relative to the root: "etc/default/grub" */
	const char *text;
};

/* The files generate edits in place, their current text, and the record */
struct gen_existing {
	struct gen_text edited[GEN_EDITED_MAX + 1]; /* ended by a NULL path; a path not there is absent */
	const struct bootstate *state;	  /* what earlier runs changed in them (var/lib/pcibind); NULL: nothing */
	const struct modaliases *aliases; /* modules.alias: the host drivers the kernel would bind; NULL: none */
};

struct gen_file {
	char *path;	   /* relative to the root: "etc/modprobe.d/pcibind.conf" */
	char *text;	   /* NULL: the file is not to exist (an owned one is removed only if pcibind wrote it) */
	mode_t mode;	   /* for a new file */
	bool owned;	   /* whole file is ours (else an edit of a user's file) */
	bool initrd;	   /* goes into the initramfs: a change needs its refresh */
	bool boot;	   /* kernel command line: a change needs the bootloader refresh */
	bool state;	   /* pcibind's own record of in-place edits: written, not shown in the diff */
	const char *prune; /* a directory of pcibind's own, removed once the file's removal empties it */
	unsigned stage;	   /* write order: the record before the edits it describes, its cleanup after */
};

enum gen_when {
	GEN_AFTER_INITRD, /* once an initramfs input changed */
	GEN_AFTER_BOOT,	  /* once a file the bootloader reads changed */
	GEN_NOW,	  /* the command is the change itself (grubby edits its entries) */
};

struct gen_cmd {
	char *cmd; /* for /bin/sh -c; every word in it passed cmdline_arg_valid or is a fixed string */
	enum gen_when when;
};

struct gen_result {
	struct gen_file *files; /* in the order they must be written */
	size_t n_files;
	char **args; /* the kernel command line arguments pcibind wants */
	size_t n_args;
	struct gen_cmd *cmds; /* in the order they must run */
	size_t n_cmds;
	char **notes; /* decisions the user should know about, one sentence each */
	size_t n_notes;
	char **hazards; /* what the result would do to the host that --force must confirm, one sentence each */
	size_t n_hazards;
};

struct gen_error {
	char msg[512]; /* "FILE:LINE: ..." when from the config */
};

/*
 * Everything generate would write, for the boot=yes sets of cfg on host h
 * of system sys. Pure: existing texts come in through ex. 0, -EINVAL with
 * *err (a value that no generated file may hold), or -ENOMEM.
 */
int gen_build(const struct config *cfg, const struct pcihost *h, const struct system *sys,
	      const struct gen_existing *ex, struct gen_result *ret, struct gen_error *err);
/*
 * The way back: every file pcibind owns (of every bootloader and initramfs
 * tool) removed if it wrote it, every file it edited in place returned to
 * what the user had (byte for byte when untouched since), the record
 * removed, and the refresh commands for the system's tools. Needs no
 * configuration.
 */
int gen_remove(const struct system *sys, const struct gen_existing *ex, struct gen_result *ret, struct gen_error *err);
void gen_result_clear(struct gen_result *res);

/* a file pcibind wrote: its header in the first lines */
bool gen_is_ours(const char *text);

/* ---- the pieces, for tests ---- */

/* the module a host driver comes from, by sysfs facts, then a known table, then the name itself */
const char *gen_driver_module(const struct system *sys, const char *driver);
/* host drivers (modules) of an unbound function by vendor and class; NULL-terminated, may be empty */
const char *const *gen_known_drivers(uint16_t vendor, uint32_t class);

/*
 * Merge our arguments into a kernel command line: an argument whose key
 * (text before '=') is one of ours is replaced in place by ours (its first
 * occurrence; later ones dropped), others are kept in order, ours not yet
 * present are appended. vfio-pci.* arguments are ours even when we no
 * longer emit them (they would claim devices behind pcibind's back).
 * Returns a new string or NULL (-ENOMEM).
 */
char *gen_cmdline_merge(const char *line, char *const *args, size_t n_args);
/*
 * The opposite for the arguments args that pcibind put in: each word of
 * line with the key of one of them becomes the word of that key in orig
 * (the user's line before pcibind; its first, once), or goes. The other
 * words stay as they are. NULL: -ENOMEM.
 */
char *gen_cmdline_unmerge(const char *line, const char *orig, char *const *args, size_t n_args);

/* Edit GRUB_CMDLINE_LINUX_DEFAULT in a /etc/default/grub text; -EINVAL with *err if it cannot be done safely */
int gen_grub_edit(const char *text, char *const *args, size_t n_args, char **ret, struct gen_error *err);
/* Edit "user": { "kernel_options": [...] } in a kernelstub configuration */
int gen_kernelstub_edit(const char *text, char *const *args, size_t n_args, char **ret, struct gen_error *err);

/* A unified diff (3 lines of context) of old -> new for path; old/new NULL: absent. "" if equal. */
char *gen_diff(const char *path, const char *old, const char *new);

#endif
