/* journal.h - the original state of what pcibind changed, kept in /run/pcibind */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_JOURNAL_H
#define PCIBIND_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "pciaddr.h"
#include "state.h"
#include "sysroot.h"

#define JOURNAL_FILE RUN_DIR "/journal"
#define LOCK_FILE    RUN_DIR "/lock"
/* a record is about 100 bytes: room for tens of thousands of functions */
#define JOURNAL_SIZE_MAX (4u << 20)

/* sriov_drivers_autoprobe of a PF: do host drivers probe its new VFs? */
enum autoprobe {
	AUTOPROBE_UNKNOWN, /* not a PF, or not read */
	AUTOPROBE_OFF,
	AUTOPROBE_ON,
};

/*
 * What pcibind records about a function before it changes it, and what it
 * restores: the journal's unit. Strings are NULL when absent/none.
 */
struct fnstate {
	char name[PCIADDR_STRLEN];
	char *driver;
	char *override;
	char *reset_method;
	int sriov_numvfs; /* -1: not a PF */
	enum autoprobe sriov_autoprobe;
	/*
	 * Claimed at boot before any host driver probed it (the udev rule or
	 * apply found it driverless): restore lets the kernel pick its driver,
	 * as if pcibind had never been there, rather than leaving it driverless.
	 */
	bool boot_claim;
};

void fnstate_clear(struct fnstate *s);
/* the fields set, strings copied: 0 or -ENOMEM (-EINVAL: a name too long) */
int fnstate_set(struct fnstate *ret, const char *name, const char *driver, const char *override,
		const char *reset_method, int numvfs, enum autoprobe autoprobe);
int fnstate_copy(const struct fnstate *src, struct fnstate *ret);

/*
 * A host-wide step done for functions handed to a VM (single-GPU hosts),
 * undone once none of those functions has a record left: a systemd unit
 * stopped, a vtconsole unbound, a platform framebuffer unbound. Written
 * as "unit|vtcon|platform\tname=N\tdriver=D\tfor=ADDR,ADDR"; older
 * journals have none.
 */
enum jstep_kind {
	JSTEP_UNIT,	/* name: the unit, started again */
	JSTEP_VTCON,	/* name: vtconN, bound again */
	JSTEP_PLATFORM, /* name: the platform device, bound again to driver */
};

struct jstep {
	enum jstep_kind kind;
	char *name;
	char *driver; /* JSTEP_PLATFORM only */
	char *fns;    /* "ADDR,ADDR": the functions it was done for */
};

const char *jstep_kind_name(enum jstep_kind k);

/*
 * One record per function pcibind has moved away from where the host had
 * it: written (atomically) before the first change to that function, kept
 * while it is away, dropped once it is back. /run is cleared at boot, as
 * is the state it describes.
 */
struct journal {
	struct fnstate *recs;
	size_t n;
	struct jstep *steps; /* single-GPU steps, in the order they were done */
	size_t n_steps;
};

/*
 * A missing journal is an empty one. -EBADMSG with *ret_line for a damaged
 * file: a line pcibind could not have written (a driver or module name
 * outside the kernel's charset, a vtconsole that is not vtconN, a function
 * twice, a NUL byte, ...). The run directory and the file must be as
 * pcibind makes them: no symlink (-ELOOP), root's and writable by nobody
 * else (-EPERM), a regular file (-EINVAL), at most JOURNAL_SIZE_MAX (-EFBIG).
 */
int journal_load(const struct sysroot *r, struct journal **ret, unsigned *ret_line);
/* Why the run directory cannot be used (1 and buf), or 0; for the message of a -ELOOP/-EPERM */
int journal_run_dir_problem(const struct sysroot *r, char *buf, size_t size);
/*
 * The platform drivers that drive the firmware's framebuffer in the boot
 * GPU's memory: the ones the single-GPU steps release, the only ones a
 * platform step may name.
 */
#define JOURNAL_FB_DRIVERS 3
extern const char *const journal_fb_drivers[JOURNAL_FB_DRIVERS];
bool journal_fb_driver_ok(const char *driver);
/* Atomic replace (temp file, fsync, rename, fsync dir); an empty journal removes the file. */
int journal_save(const struct sysroot *r, const struct journal *j);
void journal_free(struct journal *j);
const struct fnstate *journal_find(const struct journal *j, const char *name);
/* Copies s; keeps an existing record (the original state wins). 1 if added. */
int journal_add(struct journal *j, const struct fnstate *s);
/* 1 if removed, 0 if there was none */
int journal_remove(struct journal *j, const char *name);
/* Append a step (values without tabs or newlines): 0 or -ENOMEM/-EINVAL */
int journal_add_step(struct journal *j, enum jstep_kind kind, const char *name, const char *driver, const char *fns);
void journal_remove_step(struct journal *j, size_t i);
/* true while one of the step's functions still has a record */
bool journal_step_needed(const struct journal *j, const struct jstep *s);

/*
 * Serialise runs: flock on LOCK_FILE, waiting up to timeout_s; the run
 * directory is created (0700) or checked as journal_load() does.
 * -ETIMEDOUT, *ret_holder = pid seen in the file; -EINTR when a stop
 * signal comes while waiting.
 */
int lock_acquire(const struct sysroot *r, unsigned timeout_s, int *ret_fd, long *ret_holder);
void lock_release(int fd);

#endif
