/* bootstate.h - the record of what `generate` changed in files it edits in place, for the way back */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_BOOTSTATE_H
#define PCIBIND_BOOTSTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"
#include "sysroot.h"

#define BOOTSTATE_DIR	   STATE_LIB_DIR
#define BOOTSTATE_FILE	   BOOTSTATE_DIR "/boot-edits"
#define BOOTSTATE_ORIG_DIR BOOTSTATE_DIR "/orig"
#define BOOTSTATE_PATH_MAX 128
#define BOOTSTATE_ARGS_MAX 64

/*
 * One file pcibind edits but does not own (/etc/default/grub,
 * /etc/kernel/cmdline, ...): whether it existed before pcibind first edited
 * it, its text then (kept byte for byte in BOOTSTATE_ORIG_DIR/PATH), and
 * the kernel arguments pcibind put into it the last time it wrote it.
 */
struct bootstate_edit {
	char path[BOOTSTATE_PATH_MAX];
	char *original;	   /* NULL: the file did not exist (or its copy is missing: orig_missing) */
	bool orig_missing; /* recorded as copied, the copy gone: only pcibind's arguments can be taken back out */
	char **args;
	size_t n_args;
};

/* An argument pcibind had grubby put on every entry, and the word of that key it replaced ("" if none) */
struct bootstate_grubby {
	char *arg;
	char *was;
};

struct bootstate {
	struct bootstate_edit *edits;
	size_t n_edits;
	struct bootstate_grubby *grubby;
	size_t n_grubby;
};

/*
 * The manifest, one record a line:
 *   edit PATH new|copy ARG...   (copy: the original is in BOOTSTATE_ORIG_DIR/PATH)
 *   grubby ARG [WAS]
 * Every field is checked against what bootstate_format could have written.
 * Parse: 0, or -EBADMSG with the line in *ret_line; originals are not read.
 */
int bootstate_parse(const char *text, struct bootstate *ret, unsigned *ret_line);
/* NULL when there is nothing to record (or out of memory: *ret_err -ENOMEM) */
char *bootstate_format(const struct bootstate *s, int *ret_err);
/* the path of a record's original copy, relative to the root */
int bootstate_orig_path(const char *path, char *buf, size_t size);

/*
 * Read the manifest and the originals it names below r. Each must be a
 * regular file owned by the caller's user, not writable by group or others
 * (root writes it back into its boot configuration). An absent manifest is
 * an empty record; an absent original marks its edit orig_missing. 0, or
 * -errno with the file (and line) and what is wrong with it in msg.
 */
int bootstate_load(const struct sysroot *r, struct bootstate *ret, char *msg, size_t size);

const struct bootstate_edit *bootstate_find(const struct bootstate *s, const char *path);
void bootstate_clear(struct bootstate *s);

/*
 * The directories `generate --write` had to create for its files (a root
 * without /etc/modprobe.d, /etc/default/grub.d, ...), one path relative to
 * the root a line, recorded before they are made, so that `generate
 * --remove` takes out those it made once they are empty, and no others.
 */
#define BOOTSTATE_DIRS_FILE BOOTSTATE_DIR "/created-dirs"
#define BOOTSTATE_DIRS_MAX  64

struct bootstate_dirs {
	char *paths[BOOTSTATE_DIRS_MAX];
	size_t n;
};

/* read below r (absent: none), checked as the manifest is; -EBADMSG and the line, or -errno, with msg */
int bootstate_dirs_load(const struct sysroot *r, struct bootstate_dirs *ret, char *msg, size_t size);
/* add rel (a copy) unless it is there; -E2BIG when full */
int bootstate_dirs_add(struct bootstate_dirs *d, const char *rel);
/* the record's text; NULL if out of memory */
char *bootstate_dirs_format(const struct bootstate_dirs *d);
void bootstate_dirs_clear(struct bootstate_dirs *d);

#endif
