/* bind.h - carry a plan out: journal, module load, override -> unbind -> probe -> verify, rollback */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_BIND_H
#define PCIBIND_BIND_H

#include <stdbool.h>

#include "journal.h"
#include "pcidev.h"
#include "plan.h"
#include "sysroot.h"

struct bind_opts {
	unsigned timeout_ms;  /* deadline of each kernel write that can block */
	const char *modprobe; /* program that loads modules, NULL: none available */
	/* restore: single-GPU steps (journal steps) are undone once their functions are back */
	const char *systemctl; /* NULL: steps_find_systemctl() */
	char *steps_msg;       /* if set, why a step could not be undone ("" if all were) */
	size_t steps_msg_size;
};

enum bind_step {
	STEP_NONE,
	STEP_IDENTITY, /* the function is still the one planned for */
	STEP_OVERRIDE,
	STEP_UNBIND,
	STEP_PROBE,
	STEP_BIND, /* explicit drivers/X/bind fallback */
	STEP_VERIFY,
	STEP_RESET_METHOD,
	STEP_NUMVFS,
};

const char *bind_step_name(enum bind_step s);

enum outcome_status {
	OUT_SKIPPED,     /* noop, or not reached because another group failed first */
	OUT_DONE,
	OUT_FAILED,      /* failed, then put back (see rollback_err) */
	OUT_TIMEOUT,     /* a write hung; the kernel may still finish it */
	OUT_ROLLED_BACK, /* done, then put back because another function failed */
};

struct outcome {
	enum outcome_status status;
	enum bind_step step; /* where it failed */
	int err;             /* -errno of the failure */
	bool changed;        /* at least one write reached the kernel */
	char msg[512];       /* the failure, complete: "unbind from nvidia: Device or resource busy" */
	char holders[512];   /* on timeout: who holds the device nodes */
	int rollback_err;    /* 0: put back to where it was before this run */
	char rollback_msg[512];
	char driver_now[DRIVER_NAME_MAX]; /* read back at the end; "" = none */
};

/*
 * Make sure every target driver is registered, loading its module with
 * opts->modprobe if its sys/bus/pci/drivers directory is missing. Nothing
 * is changed in sysfs by pcibind itself (a loaded module binds whatever
 * functions name it in driver_override). Returns the number of modules
 * loaded, or -ENOENT with msg filled when a driver cannot be had
 * (-ETIMEDOUT: modprobe did not finish within SPAWN_PROGRAM_DEADLINES
 * write deadlines and was killed).
 */
int bind_load_drivers(const struct sysroot *r, const struct plan *p, const struct bind_opts *o, char *msg,
		      size_t size);

/*
 * Run the plan. The caller holds the lock. Records the original state of
 * every function about to change in j and saves it before the first
 * write; independent IOMMU groups run in parallel; if anything fails every
 * changed function is put back. The journal is updated at the end; if
 * that last save fails, *ret_journal_err says so (the devices are fine).
 * Returns 0 when everything is done, -EIO when something failed (see the
 * outcomes, one per action), -ETIMEDOUT when a write hung: in these three
 * cases *ret holds the outcomes. Other -errno: nothing was started (the
 * journal could not be written).
 */
int bind_run(const struct sysroot *r, const struct pcihost *h, const struct plan *p, struct journal *j,
	     const struct bind_opts *o, struct outcome **ret, int *ret_journal_err);

/* Processes holding a function's device nodes (/dev/vfio/N, /dev/dri/..., /dev/nvidia*) */
int holders_describe(const struct sysroot *r, const struct pcifn *f, char *buf, size_t size);

#endif
