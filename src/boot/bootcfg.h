/* bootcfg.h - the boot-config layer: a persistent setup loaded, built, compared, written, refreshed and removed */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_BOOTCFG_H
#define PCIBIND_BOOTCFG_H

/*
 * What generate, setup and check share, walking the method tables of
 * bootops.h: the files the methods edit in place and pcibind's records read
 * below a root, the result built by gen.c, compared with the disk, written
 * atomically, its refresh commands run, and the way back. The layer takes
 * no lock (the caller holds it while it writes) and prints nothing: what it
 * has to say goes to opts.say, a refresh command's output to opts.output.
 */

#include <stdbool.h>
#include <stddef.h>

#include "bootstate.h"
#include "config.h"
#include "detect.h"
#include "gen.h"
#include "pcidev.h"

enum bootcfg_level {
	BOOTCFG_ERROR,
	BOOTCFG_WARN,
	BOOTCFG_INFO,
};

struct bootcfg_opts {
	const struct sysroot *root;
	bool remove;	   /* the way back: every file of pcibind's boot setup out (needs no configuration) */
	bool no_initramfs; /* the initramfs refresh left to the caller: not run, said */
	unsigned timeout;  /* seconds a refresh command may take; 0: BOOTCFG_REFRESH_TIMEOUT_S */
	void (*say)(void *userdata, enum bootcfg_level level, const char *text);
	void (*output)(void *userdata, const char *data, size_t len); /* NULL: dropped */
	void *userdata;
};

/* a refresh command (update-initramfs on a host with many kernels takes minutes) ends within this */
#define BOOTCFG_REFRESH_TIMEOUT_S 900

/* bootcfg_build()'s return when the configuration asks for what no generated file may hold (said) */
#define BOOTCFG_BAD_CONFIG 1

/* The files the methods edit in place, the records and modules.alias, as read below a root */
struct bootcfg_existing {
	struct gen_existing ex; /* points into the rest */
	char *texts[GEN_EDITED_MAX];
	struct bootstate state;
	struct modaliases *aliases; /* NULL: no modules.alias */
};

/*
 * Read them for sys, as far as they can be read (check): each method's
 * in-place file (boot_ops.cmdline) and the next boot's modules.alias, absent
 * when unreadable; the boot-edit record. 0, or -errno with the record's
 * own words for what is wrong with it in msg.
 */
int bootcfg_existing_read(const struct sysroot *r, const struct system *sys, struct bootcfg_existing *ret, char *msg,
			  size_t size);
void bootcfg_existing_clear(struct bootcfg_existing *e);

/* One run: its result against the disk. The caller reads it to print; the layer's functions change it. */
struct bootcfg {
	struct bootcfg_opts o;
	struct pcihost *h;
	struct system *sys;
	struct bootcfg_existing cur;
	struct bootstate_dirs dirs; /* the directories earlier writes made */
	struct gen_result res;
	char **old;	   /* per res.files: text on disk (or as an earlier entry leaves it), NULL if absent */
	bool *changed;	   /* per res.files */
	size_t n_changed;  /* files the user sees (the record is not shown) */
	size_t n_now;	   /* commands that are a change themselves */
	const char **cmds; /* the refresh commands to run, in order */
	size_t n_cmds;
	int *cmd_status; /* -1: not run */
};

/*
 * Scan, load, build (cfg borrowed; unused with o->remove), plan the record
 * of the directories a write makes, compare with the disk, pick the refresh
 * commands. 0 with *ret; BOOTCFG_BAD_CONFIG or -errno, said through o->say.
 */
int bootcfg_build(const struct bootcfg_opts *o, const struct config *cfg, struct bootcfg **ret);
void bootcfg_free(struct bootcfg *bc);

/*
 * Write the changed files (refused, -EPERM, while hazards are not forced
 * away: force), in their order; for the way back also the temporary files
 * a killed run left, the directories --write made once empty, and pcibind's
 * own state directory. 0 or -errno, said (where the run stopped).
 */
int bootcfg_write(struct bootcfg *bc, bool force);
/* Run the refresh commands, in order, until one fails (said): 0 or -errno. Only on the host (-EPERM). */
int bootcfg_refresh(struct bootcfg *bc);

/* What a run changed or found, for setup's reboot verdict */
struct bootcfg_file_change {
	char *path;	    /* "/etc/...", below the root */
	const char *action; /* "create", "change" or "remove" */
	char *diff;	    /* unified diff, old to new */
};
struct bootcfg_summary {
	struct bootcfg_file_change *files; /* the changed files (bootcfg_summary_free) */
	size_t n_files;
	size_t files_changed;
	bool boot_changed;	/* a kernel command line input changed (or a grubby command is due) */
	bool initrd_changed;	/* an initramfs input changed */
	char args_missing[512]; /* wanted kernel arguments the running kernel lacks, space separated */
	char commands[3][256];	/* the refresh commands the changes call for */
	int command_status[3];	/* each one's exit status, -1: not run (--dry-run, or below another root) */
	size_t n_commands;
	size_t n_hazards; /* what --write refuses without --force */
};
/* *sum (freed first) from bc; on ENOMEM the list of files is short, never wrong */
void bootcfg_summarise(const struct bootcfg *bc, struct bootcfg_summary *sum);
void bootcfg_summary_free(struct bootcfg_summary *sum);

#endif
