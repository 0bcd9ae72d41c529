/* bind.h - carry a plan out: journal, module load, override -> unbind -> probe -> verify, rollback */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_BIND_H
#define PCIBIND_BIND_H

#include <stdbool.h>

#include "holders.h"
#include "journal.h"
#include "pcidev.h"
#include "plan.h"
#include "sysroot.h"

struct bind_opts {
	unsigned timeout_ms;  /* deadline of each kernel write that can block */
	const char *modprobe; /* program that loads modules, NULL: none available */
	/* restore: single-GPU steps (journal steps) are undone once their functions are back */
	const struct config *cfg; /* the units a step may start again: those its sets stop */
	const char *systemctl;	  /* NULL: steps_find_systemctl() */
	char *steps_msg;	  /* if set, why a step could not be undone ("" if all were) */
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
	OUT_SKIPPED, /* noop, or not reached because another group failed first */
	OUT_DONE,
	OUT_FAILED,	 /* failed, then put back (see rollback_err) */
	OUT_TIMEOUT,	 /* a write hung; the kernel may still finish it */
	OUT_ROLLED_BACK, /* done, then put back because another function failed */
};

struct outcome {
	enum outcome_status status;
	enum bind_step step; /* where it failed */
	int err;	     /* -errno of the failure */
	bool changed;	     /* at least one write reached the kernel */
	char msg[512];	     /* the failure, complete: "unbind from nvidia: Device or resource busy" */
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
int bind_load_drivers(const struct sysroot *r, const struct plan *p, const struct bind_opts *o, char *msg, size_t size);

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

/* One SR-IOV change of a plan as carried out */
struct sriov_outcome {
	int err;	    /* 0, or the -errno of the failure */
	char msg[512];	    /* the failure, or (after bind_sriov_end()) what was left undone */
	bool autoprobe_off; /* pcibind turned the PF's sriov_drivers_autoprobe off */
	bool count_changed; /* a write of sriov_numvfs reached the kernel */
	bool probed;	    /* bind_sriov_end() gave the other new VFs to their host drivers */
};

/*
 * Create the VFs of the plan's SR-IOV changes so that no host driver sees
 * them first: the PF's original state journaled, its
 * sriov_drivers_autoprobe off, its count to 0 first where it has VFs (none
 * of them in use), then to the set's, then wait until the kernel shows
 * every VF. Read the host again and bind the set's VFs (a second plan),
 * then bind_sriov_end(). A PF that fails is put back at once. Returns 0,
 * -EIO when a PF failed (*ret says which, and why), or another -errno when
 * nothing was started (the journal could not be written); *ret is set
 * unless that.
 */
int bind_sriov_begin(const struct sysroot *r, const struct pcihost *h, const struct plan *p, struct journal *j,
		     const struct bind_opts *o, struct sriov_outcome **ret);

/*
 * Commit: sriov_drivers_autoprobe back to what it was, and if that is on,
 * every new VF without a driver or an override probed (the rest go to
 * their host driver). Rollback (the set's VFs could not be bound): the
 * count and autoprobe back to what they were, the PF's record dropped
 * when nothing else holds it. Returns 0 or -EIO with the outcome's msg.
 */
int bind_sriov_end(const struct sysroot *r, const struct plan *p, struct journal *j, const struct bind_opts *o,
		   struct sriov_outcome *outs, bool rollback);

/*
 * Load one module with opts->modprobe, for a PCI driver that is not
 * registered yet (a variant driver's module before its driver name is
 * known). 0 or -ENOENT with msg.
 */
int bind_load_module(const struct sysroot *r, const char *module, const struct bind_opts *o, char *msg, size_t size);

/*
 * Undo the single-GPU steps no function record needs any more (a restore
 * whose functions are all back, or steps an interrupted one left): the
 * number undone, or -errno with o->steps_msg filled.
 */
int bind_undo_steps(const struct sysroot *r, struct journal *j, const struct bind_opts *o);

/*
 * A function the kernel holds locked while no process holds its nodes is
 * finishing something of its own (a probe, the unbind of a writer that was
 * killed): bind and restore give it this long before it counts as busy. One
 * a process holds (a VM) is busy at once: its unbind waits for the VM.
 */
#define BIND_UNHELD_LOCK_WAIT_MS 3000
/* the busy functions of h no process holds, read again within timeout_ms; how many stay busy, or -errno */
int bind_wait_unheld_locks(const struct sysroot *r, struct pcihost *h, unsigned timeout_ms);

#endif
