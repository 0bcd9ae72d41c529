/* cmd.h - what every subcommand shares: context, exit codes, messages */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_CMD_H
#define PCIBIND_CMD_H

#include <stdbool.h>

#include "config.h"
#include "session.h"
#include "sysroot.h"
#include "util.h"

/* Documented in pcibind(8) and README; stable. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1, /* a step failed; everything changed was put back */
	EXIT_USAGE = 2,	   /* bad arguments or configuration; nothing changed */
	EXIT_REFUSED = 3,  /* refused for safety; nothing changed */
	EXIT_TIMEOUT = 4,  /* a kernel write did not finish in time */
	EXIT_CHANGED = 5,  /* apply: something was changed (or would be, with --dry-run) */
};

struct ctx {
	const char *root_path;
	struct sysroot *root;
	bool dry_run;
	bool json;
	bool force;
	int verbosity;	    /* -1 quiet, 0 normal, 1.. verbose */
	const char *driver; /* --driver */
	unsigned timeout;   /* --timeout seconds, 0: from config */
	bool write;	    /* generate --write */
	bool remove;	    /* generate --remove: take pcibind's boot setup out; setup --remove: the set */
	bool relocate;	    /* setup --relocate: the set's addresses to where its recorded device is now */
	bool udev;	    /* apply --udev: called from the udev rule */
	bool tree;	    /* status --tree */
	const char *vm;	    /* check --vm VMID: one Proxmox VM */
	const char *domain; /* check --domain NAME|FILE: one libvirt domain */
	const char *name;   /* setup --name */
	bool boot_given;    /* setup --boot or --no-boot */
	bool boot;	    /* which one */
	bool yes;	    /* -y, --yes: every question answered yes */
	bool no_initramfs;  /* generate --no-initramfs: the initramfs rebuild left to the caller */
	unsigned given;	    /* the command-specific options given (main.c checks them against the command) */
};

struct cmd {
	const char *name;
	int (*run)(struct ctx *c, int argc, char **argv);
	const char *args;  /* "SEL..." */
	const char *help;  /* one line */
	bool raw_args;	   /* options end at the command name (hook: names may start with '-') */
	const char *usage; /* more lines for `pcibind COMMAND --help`, or NULL */
};

extern const struct cmd cmd_status;
extern const struct cmd cmd_bind;
extern const struct cmd cmd_unbind;
extern const struct cmd cmd_restore;
/* commands added by their own cmd-*.c; weak so the table builds while one is absent */
extern const struct cmd cmd_apply __attribute__((weak));
extern const struct cmd cmd_generate __attribute__((weak));
extern const struct cmd cmd_check __attribute__((weak));
extern const struct cmd cmd_hook __attribute__((weak));
extern const struct cmd cmd_setup __attribute__((weak));
/* apply --udev ADDR, the udev rule's claim (cmd-apply-udev.c) */
int apply_udev(struct ctx *c, int argc, char **argv);

/* Messages go to stderr, with a <N> priority prefix when stderr is the journal. */
void msg_error(const char *fmt, ...) _printf_(1, 2);
void msg_warn(const char *fmt, ...) _printf_(1, 2);
void msg_info(const struct ctx *c, const char *fmt, ...) _printf_(2, 3);
void msg_debug(const struct ctx *c, const char *fmt, ...) _printf_(2, 3);
/* Also write each message to fd, the kernel log (apply --udev: udevd keeps a RUN program's stderr at debug level) */
void msg_also_kmsg(int fd);

struct pcihost;
struct plan;
/*
 * Say each refusal of a plan once, as bind does: enforced ones as errors
 * (with the processes holding a busy function), forced ones as warnings,
 * then "refused; nothing was changed". Refusals whose kind has its bit in
 * skip (1 << REFUSE_...) are left to the caller. Returns 0, EXIT_REFUSED,
 * or EXIT_TIMEOUT when a function is busy.
 */
int msg_refusals(const struct ctx *c, const struct pcihost *h, const struct plan *p, unsigned skip);

/* The columns of the terminal standard output is, 0 when it is not one (output is then never cut) */
size_t msg_term_width(void);

/* Seconds before a kernel write counts as hung: --timeout, else unbind_timeout */
unsigned ctx_timeout(const struct ctx *c, const struct config *cfg);
/*
 * The run lock (LOCK_FILE), waiting for another pcibind three write
 * deadlines, at least a minute: 0 with *fd, or an exit status (EXIT_TIMEOUT
 * when the holder kept it) with the reason in msg.
 */
int ctx_lock(const struct ctx *c, const struct config *cfg, int *fd, char *msg, size_t size);
unsigned ctx_lock_wait(const struct ctx *c, const struct config *cfg);
/*
 * A session (session.h) for a state-changing command: o's cfg, scan and
 * callbacks are the command's, its root, lock wait and dry run the
 * options'. 0, or the exit status with the reason in msg (EXIT_TIMEOUT
 * when another run kept the lock). s is closed with session_close()
 * either way.
 */
int ctx_open_session(const struct ctx *c, struct session_opts *o, struct session *s, char *msg, size_t size);
/* The module loader: modprobe on the host; under another --root only $PCIBIND_MODPROBE (tests, images) */
const char *ctx_modprobe(const struct ctx *c);
/*
 * Is driver a PCI driver this host has: registered now (bus/pci/drivers),
 * a VFIO or stub driver, "auto", or a module with PCI aliases in the
 * running kernel's modules.alias? Without a modules.alias nothing is known
 * against it. 0, or EXIT_USAGE with the reason said.
 */
int ctx_check_driver(const struct ctx *c, const char *driver);
/* after "no section [NAME]": when NAME is a network interface, the PCI function that carries it, said */
void ctx_hint_selectors(const struct ctx *c, const struct config *cfg, const struct selector *sels, size_t n);

/* One generated file a run would change or changed, for setup --json */
struct generate_file_change {
	char *path;	    /* "/etc/...", below the root */
	const char *action; /* "create", "change" or "remove" */
	char *diff;	    /* unified diff, old to new */
};
/* What a generate run changed or found, for setup's reboot verdict */
struct generate_summary {
	struct generate_file_change *files; /* the changed files (generate_summary_free) */
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
enum {
	GENERATE_NO_DIFF = 1 << 0,    /* no diffs and notes */
	GENERATE_NO_SUMMARY = 1 << 1, /* no "no changes" line */
	GENERATE_NO_STDOUT = 1 << 2,  /* nothing on standard output at all (setup --json) */
	GENERATE_LOCKED = 1 << 3,     /* the caller holds the run lock (setup) */
};
/*
 * generate's whole run on a loaded configuration (borrowed): the diff,
 * with c->write the files and refresh commands; an exit status. setup
 * runs it after writing its set, flags (GENERATE_*) leaving out what it
 * says itself; ret_sum (may be NULL) is filled when the run got that far.
 */
int generate_with_config(struct ctx *c, struct config *cfg, unsigned flags, struct generate_summary *ret_sum);
void generate_summary_free(struct generate_summary *sum);

/* Load the config; on error print "FILE:LINE: msg" and return EXIT_USAGE, else 0 */
int ctx_load_config(struct ctx *c, struct config **ret);

#endif
