/* bind.c - carry a plan out: journal, override -> unbind -> probe -> verify, rollback */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bind.h"
#include "console.h"
#include "devlock.h"
#include "kwrite.h"
#include "spawn.h"
#include "util.h"

#define MAX_PARALLEL 64

const char *bind_step_name(enum bind_step s)
{
	static const char *const names[] = {
		[STEP_NONE] = "none",	  [STEP_IDENTITY] = "identity check",	[STEP_OVERRIDE] = "driver_override",
		[STEP_UNBIND] = "unbind", [STEP_PROBE] = "drivers_probe",	[STEP_BIND] = "bind",
		[STEP_VERIFY] = "verify", [STEP_RESET_METHOD] = "reset_method", [STEP_NUMVFS] = "sriov_numvfs",
	};
	return s < ARRAY_SIZE(names) ? names[s] : "?";
}

/* Where one function should go, for a forward move or a rollback */
struct dest {
	const char *driver;
	const char *override;
	bool kernel_picks;
	const char *reset_method; /* NULL: leave */
	int sriov_numvfs;	  /* -1: leave */
	bool vfs_first;		  /* 0 VFs before the move (a PF moving away); else the count after it */
	enum autoprobe autoprobe; /* a PF's sriov_drivers_autoprobe, before its count; UNKNOWN: leave */
};

struct mover {
	const struct sysroot *r;
	const struct bind_opts *o;
	const struct pcihost *h;
	const struct action *act;
	const struct pcifn *planned; /* as scanned when the plan was made */
	struct outcome *out;
	char *err_msg; /* out->msg or out->rollback_msg */
	size_t err_size;
	bool stoppable; /* a forward move of bind or unbind: a polite stop ends it before the next write */
};

static int fail(struct mover *m, enum bind_step step, int err, const char *fmt, ...) _printf_(4, 5);

static int fail(struct mover *m, enum bind_step step, int err, const char *fmt, ...)
{
	va_list ap;

	m->out->step = step;
	va_start(ap, fmt);
	vsnprintf(m->err_msg, m->err_size, fmt, ap);
	va_end(ap);
	return err;
}

static int write_attr(struct mover *m, const char *rel, const char *data)
{
	pid_t stuck = 0;
	int err, sig;

	/* SIGTERM, SIGINT: no further write forward; what was changed is put back (a restore goes on) */
	if (m->stoppable && (sig = spawn_stop_pending()))
		return fail(m, m->out->step, -EINTR, "stopped by %s before writing %s", spawn_signal_name(sig), rel);
	err = kwrite(m->r, rel, data, m->o->timeout_ms, &stuck);

	if (err != -ENOENT)
		m->out->changed = true; /* a write that failed may still have had an effect */
	return err;
}

static int dev_path(char *buf, size_t size, const char *name, const char *attr)
{
	return sysroot_pathf(buf, size, "sys/bus/pci/devices/%s/%s", name, attr);
}

int bind_wait_unheld_locks(const struct sysroot *r, struct pcihost *h, unsigned timeout_ms)
{
	_cleanup_free_ bool *want = NULL;
	char holders[256];
	bool any = false;

	for (size_t i = 0; i < h->n; i++) {
		if (!h->fns[i].busy)
			continue;
		if (!want && !(want = calloc(h->n, sizeof(*want))))
			return -ENOMEM;
		holders[0] = '\0';
		(void)holders_describe(r, &h->fns[i], holders, sizeof(holders));
		any |= want[i] = !holders[0];
	}
	return any ? pcihost_reread_busy(r, h, want, timeout_ms) : 0;
}

static int reread(struct mover *m, struct pcifn *f)
{
	int err = pcifn_read(m->r, &m->planned->addr, f);

	if (err == -ENOENT)
		return fail(m, STEP_IDENTITY, -ENODEV, "the function is gone (removed or hot-unplugged)");
	if (err < 0)
		return fail(m, STEP_IDENTITY, err, "cannot read it: %s", strerror(-err));
	if (f->busy) {
		(void)holders_describe(m->r, f, m->out->holders, sizeof(m->out->holders));
		if (!m->out->holders[0]) {
			f->busy = false;
			if ((err = devlock_read(m->r, &f, 1, BIND_UNHELD_LOCK_WAIT_MS)) < 0)
				return fail(m, STEP_IDENTITY, err, "cannot read it: %s", strerror(-err));
		}
	}
	if (f->busy)
		return fail(m, STEP_IDENTITY, -ETIMEDOUT,
			    "the kernel holds it locked: an earlier unbind is waiting for %s",
			    m->out->holders[0] ? m->out->holders : "a process to let go of the device");
	return 0;
}

static void describe_timeout(struct mover *m, const struct pcifn *f, const char *what)
{
	char holders[sizeof(m->out->holders)] = "";

	(void)holders_describe(m->r, f, holders, sizeof(holders));
	snprintf(m->out->holders, sizeof(m->out->holders), "%s", holders);
	fail(m, m->out->step, -ETIMEDOUT,
	     "%s did not finish within %u s%s%s; the kernel completes it when the device is let go", what,
	     m->o->timeout_ms / 1000, holders[0] ? ": " : " (no process found holding its device nodes)", holders);
}

static int set_override(struct mover *m, const struct pcifn *f, const char *want)
{
	char path[256];
	int err;

	if (streq_null(f->override, want))
		return 0;
	if ((err = dev_path(path, sizeof(path), f->name, "driver_override")) < 0)
		return fail(m, STEP_OVERRIDE, err, "path too long");
	m->out->step = STEP_OVERRIDE;
	/* "\n" clears it: the kernel then reads back "(null)" */
	err = write_attr(m, path, want ? want : "\n");
	if (err == -ETIMEDOUT)
		describe_timeout(m, f, "writing driver_override");
	else if (err < 0)
		fail(m, STEP_OVERRIDE, err, "writing driver_override '%s': %s", want ? want : "", strerror(-err));
	return err;
}

static int unbind_current(struct mover *m, const struct pcifn *f)
{
	char path[256], what[128];
	int err;

	if ((err = sysroot_pathf(path, sizeof(path), "sys/bus/pci/drivers/%s/unbind", f->driver)) < 0)
		return fail(m, STEP_UNBIND, err, "path too long");
	m->out->step = STEP_UNBIND;
	err = write_attr(m, path, f->name);
	snprintf(what, sizeof(what), "unbind from %s", f->driver);
	if (err == -ETIMEDOUT)
		describe_timeout(m, f, what);
	else if (err < 0)
		fail(m, STEP_UNBIND, err, "%s: %s", what, strerror(-err));
	return err;
}

static int probe(struct mover *m, const struct pcifn *f)
{
	int err;

	m->out->step = STEP_PROBE;
	err = write_attr(m, "sys/bus/pci/drivers_probe", f->name);
	if (err == -ETIMEDOUT)
		describe_timeout(m, f, "drivers_probe");
	else if (err < 0)
		fail(m, STEP_PROBE, err, "drivers_probe: %s", strerror(-err));
	return err;
}

/* drivers_probe succeeds even when nothing binds; try the driver's own bind file once */
static int bind_explicit(struct mover *m, const struct pcifn *f, const char *driver)
{
	char path[256];
	int err;

	if ((err = sysroot_pathf(path, sizeof(path), "sys/bus/pci/drivers/%s/bind", driver)) < 0)
		return fail(m, STEP_BIND, err, "path too long");
	m->out->step = STEP_BIND;
	err = write_attr(m, path, f->name);
	if (err == -ETIMEDOUT)
		describe_timeout(m, f, "bind");
	else if (err < 0)
		fail(m, STEP_BIND, err, "%s did not take it (probe found no driver; explicit bind: %s)", driver,
		     strerror(-err));
	return err;
}

static bool driver_is(const struct pcifn *f, const char *driver)
{
	return f->driver && driver && streq(f->driver, driver);
}

static int check_identity(struct mover *m, const struct pcifn *f)
{
	const struct pcifn *p = m->planned;

	if (f->vendor == p->vendor && f->device == p->device && f->class == p->class)
		return 0;
	return fail(m, STEP_IDENTITY, -ENXIO, "it now holds %04x:%04x class %06x, not the planned %04x:%04x", f->vendor,
		    f->device, f->class, p->vendor, p->device);
}

static bool must_unbind(const struct pcifn *f, const struct dest *d)
{
	if (!f->driver)
		return false;
	if (d->driver)
		return !driver_is(f, d->driver);
	if (d->kernel_picks)
		return driver_is_vfio(f->driver);
	return true;
}

static int verify(struct mover *m, struct pcifn *f, const struct dest *d)
{
	int err;

	pcifn_clear(f);
	if ((err = reread(m, f)) < 0)
		return err;
	if (d->driver && !f->driver) {
		if ((err = bind_explicit(m, f, d->driver)) < 0)
			return err;
		pcifn_clear(f);
		if ((err = reread(m, f)) < 0)
			return err;
	}
	if (d->driver && !driver_is(f, d->driver))
		return fail(m, STEP_VERIFY, -EIO, "after probing it is on %s, not %s", strna(f->driver), d->driver);
	if (!d->driver && d->kernel_picks && f->driver && driver_is_vfio(f->driver))
		return fail(m, STEP_VERIFY, -EIO, "it is still on %s", f->driver);
	if (!d->driver && !d->kernel_picks && f->driver)
		return fail(m, STEP_VERIFY, -EIO, "%s claimed it again", f->driver);
	if (!streq_null(f->override, d->override))
		return fail(m, STEP_VERIFY, -EIO, "driver_override reads '%s', expected '%s'",
			    f->override ? f->override : "(null)", d->override ? d->override : "(null)");
	return 0;
}

static int set_extra(struct mover *m, const struct pcifn *f, const char *attr, const char *value, enum bind_step step)
{
	char path[256];
	int err;

	if ((err = dev_path(path, sizeof(path), f->name, attr)) < 0)
		return fail(m, step, err, "path too long");
	m->out->step = step;
	err = write_attr(m, path, value);
	if (err == -ETIMEDOUT)
		describe_timeout(m, f, attr);
	else if (err < 0)
		fail(m, step, err, "writing %s '%s': %s", attr, value, strerror(-err));
	return err;
}

/*
 * A VF in use by a VM makes the kernel wait, holding the PF's lock, until
 * the VM lets go: never start that. -EBUSY naming the first VF held.
 */
static int vfs_not_held(struct mover *m, const struct pcifn *pf)
{
	const struct pcifn *vfs[256];
	size_t n = m->h ? pcihost_vfs(m->h, pf, vfs, ARRAY_SIZE(vfs)) : 0;
	char holders[400];

	for (size_t i = 0; i < n; i++)
		if (vfs[i]->driver && driver_is_vfio(vfs[i]->driver) &&
		    holders_describe(m->r, vfs[i], holders, sizeof(holders)) > 0)
			return fail(
			    m, STEP_NUMVFS, -EBUSY,
			    "its VF %s is in use: %s; a VF in use cannot be destroyed, stop what holds it first",
			    vfs[i]->name, holders);
	return 0;
}

/* sriov_numvfs to want: the kernel refuses N to M with EBUSY, so through 0 */
static int set_numvfs(struct mover *m, const struct pcifn *f, int want)
{
	char num[16];
	int err = 0;

	if (f->sriov_numvfs == want)
		return 0;
	if (f->sriov_numvfs > 0 && (err = vfs_not_held(m, f)) < 0)
		return err;
	if (f->sriov_numvfs > 0 && want > 0)
		err = set_extra(m, f, "sriov_numvfs", "0", STEP_NUMVFS);
	snprintf(num, sizeof(num), "%d", want);
	return err < 0 ? err : set_extra(m, f, "sriov_numvfs", num, STEP_NUMVFS);
}

/* reset_method, autoprobe and the number of VFs, as recorded */
static int restore_extras(struct mover *m, const struct pcifn *f, const struct dest *d)
{
	int err = 0;

	if (d->reset_method && !streq_null(f->reset_method, d->reset_method))
		err = set_extra(m, f, "reset_method", d->reset_method, STEP_RESET_METHOD);
	if (err == 0 && d->autoprobe != AUTOPROBE_UNKNOWN && f->sriov_autoprobe != d->autoprobe)
		err = set_extra(m, f, "sriov_drivers_autoprobe", d->autoprobe == AUTOPROBE_ON ? "1" : "0", STEP_NUMVFS);
	if (err == 0 && d->sriov_numvfs >= 0 && !d->vfs_first)
		err = set_numvfs(m, f, d->sriov_numvfs);
	return err;
}

/* The binding sequence: identity, override, unbind, probe, verify. */
static int move_fn(struct mover *m, const struct dest *d)
{
	struct pcifn f = { 0 };
	bool unbound = false;
	int err;

	if ((err = reread(m, &f)) < 0)
		goto out;
	if ((err = check_identity(m, &f)) < 0)
		goto out;
	/* a PF moving away: its VFs go first, the same for every driver (nvme's remove() leaves them) */
	if (d->vfs_first && d->sriov_numvfs == 0 && f.sriov_numvfs > 0) {
		if ((err = set_numvfs(m, &f, 0)) < 0)
			goto out;
		f.sriov_numvfs = 0;
	}
	if ((err = set_override(m, &f, d->override)) < 0)
		goto out;
	if (must_unbind(&f, d)) {
		if ((err = unbind_current(m, &f)) < 0)
			goto out;
		unbound = true;
	}
	if ((d->driver || d->kernel_picks) && (!f.driver || unbound) && (err = probe(m, &f)) < 0)
		goto out;
	if ((err = verify(m, &f, d)) < 0)
		goto out;
	err = restore_extras(m, &f, d);
out:
	snprintf(m->out->driver_now, sizeof(m->out->driver_now), "%s", f.driver ? f.driver : "");
	pcifn_clear(&f);
	return err;
}

/* One IOMMU group's actions, run in order by one thread. */
struct job {
	const struct sysroot *r;
	const struct pcihost *h;
	const struct plan *p;
	const struct bind_opts *o;
	struct outcome *outs;
	size_t first, count;
	bool rollback;
	volatile int *abort; /* set by the first group that fails */
};

static struct dest forward_dest(const struct plan *p, const struct action *a)
{
	return (struct dest){
		.driver = a->target.driver,
		.override = a->target.override,
		.kernel_picks = a->target.kernel_picks,
		.reset_method = a->reset_method,
		.sriov_numvfs = a->sriov_numvfs,
		.vfs_first = p->verb != VERB_RESTORE,
		.autoprobe = a->sriov_autoprobe,
	};
}

static struct dest rollback_dest(const struct action *a)
{
	return (struct dest){
		.driver = a->before.driver,
		.override = a->before.override,
		.reset_method = a->reset_method ? a->before.reset_method : NULL,
		.sriov_numvfs = a->sriov_numvfs >= 0 ? a->before.sriov_numvfs : -1,
		.autoprobe = a->sriov_autoprobe != AUTOPROBE_UNKNOWN ? a->before.sriov_autoprobe : AUTOPROBE_UNKNOWN,
	};
}

static void run_forward(struct job *jb, size_t i)
{
	const struct action *a = &jb->p->acts[i];
	struct outcome *out = &jb->outs[i];
	struct mover m = {
		jb->r, jb->o, jb->h, a, &jb->h->fns[a->fn], out, out->msg, sizeof(out->msg), jb->p->verb != VERB_RESTORE
	};
	struct dest d = forward_dest(jb->p, a);
	int err;

	if (a->noop || __atomic_load_n(jb->abort, __ATOMIC_SEQ_CST))
		return; /* OUT_SKIPPED */
	err = move_fn(&m, &d);
	out->err = err;
	out->status = err == 0 ? OUT_DONE : err == -ETIMEDOUT ? OUT_TIMEOUT : OUT_FAILED;
	if (err < 0)
		__atomic_store_n(jb->abort, 1, __ATOMIC_SEQ_CST);
}

static void run_rollback(struct job *jb, size_t i)
{
	const struct action *a = &jb->p->acts[i];
	struct outcome *out = &jb->outs[i];
	struct mover m = {
		jb->r, jb->o, jb->h, a, &jb->h->fns[a->fn], out, out->rollback_msg, sizeof(out->rollback_msg), false
	};
	struct dest d = rollback_dest(a);
	enum bind_step failed_step = out->step;

	if (!out->changed)
		return;
	if (out->status == OUT_TIMEOUT) {
		/* every further write would block behind the hung one */
		out->rollback_err = -ETIMEDOUT;
		snprintf(out->rollback_msg, sizeof(out->rollback_msg), "the kernel still holds it");
		return;
	}
	out->rollback_err = move_fn(&m, &d);
	out->step = failed_step;
	if (out->status == OUT_DONE && out->rollback_err == 0)
		out->status = OUT_ROLLED_BACK;
}

static void *job_main(void *arg)
{
	struct job *jb = arg;

	for (size_t i = jb->first; i < jb->first + jb->count; i++) {
		if (jb->rollback)
			run_rollback(jb, i);
		else
			run_forward(jb, i);
		if (!jb->rollback && jb->outs[i].status >= OUT_FAILED)
			break; /* the rest of this group is not started */
	}
	return NULL;
}

/* Split the plan (sorted by group) into jobs: one per group, one per ungrouped function. */
static size_t make_jobs(const struct plan *p, struct job *proto, struct job **ret)
{
	struct job *jobs = calloc(p->n_acts ? p->n_acts : 1, sizeof(*jobs));
	size_t n = 0;

	if (!jobs)
		return 0;
	for (size_t i = 0; i < p->n_acts; i++) {
		int g = p->acts[i].group;
		if (n > 0 && g >= 0 && p->acts[jobs[n - 1].first].group == g) {
			jobs[n - 1].count++;
			continue;
		}
		jobs[n] = *proto;
		jobs[n].first = i;
		jobs[n].count = 1;
		n++;
	}
	*ret = jobs;
	return n;
}

/* Run jobs in parallel, at most MAX_PARALLEL threads at a time. */
static int run_jobs(struct job *jobs, size_t n)
{
	for (size_t base = 0; base < n; base += MAX_PARALLEL) {
		pthread_t tids[MAX_PARALLEL];
		bool started[MAX_PARALLEL] = { false };
		size_t batch = n - base < MAX_PARALLEL ? n - base : MAX_PARALLEL;

		for (size_t k = 0; k < batch; k++) {
			/* a single job needs no thread */
			if (n == 1 || pthread_create(&tids[k], NULL, job_main, &jobs[base + k]) != 0)
				job_main(&jobs[base + k]);
			else
				started[k] = true;
		}
		for (size_t k = 0; k < batch; k++)
			if (started[k])
				pthread_join(tids[k], NULL);
	}
	return 0;
}

/* The records of VFs a forced PF move destroys: nothing is left to put back for them */
static void drop_destroyed_vfs(const struct pcihost *h, const struct plan *p, struct journal *j)
{
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct pcifn *vfs[256];
		size_t n;

		if (p->acts[i].noop || p->acts[i].sriov_numvfs != 0)
			continue;
		n = pcihost_vfs(h, &h->fns[p->acts[i].fn], vfs, ARRAY_SIZE(vfs));
		for (size_t k = 0; k < n; k++)
			(void)journal_remove(j, vfs[k]->name);
	}
}

/* Record the original state of everything about to change, before the first write. */
static int journal_before(const struct sysroot *r, const struct pcihost *h, const struct plan *p, struct journal *j,
			  bool *added)
{
	int err;

	if (p->verb == VERB_RESTORE)
		return 0; /* a restore moves functions towards their records, never away */
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];

		if (a->noop || a->recorded || a->created_vf)
			continue; /* a VF pcibind created: its PF's record brings it back to none */
		if ((err = journal_add(j, &a->before)) < 0)
			return err;
		added[i] = err > 0;
	}
	drop_destroyed_vfs(h, p, j);
	return journal_save(r, j);
}

/* Drop the records of functions that are back where they were. */
static int journal_after(const struct sysroot *r, const struct plan *p, struct journal *j, const bool *added,
			 const struct outcome *outs, bool failed)
{
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];
		const struct outcome *o = &outs[i];
		bool back;

		if (p->verb == VERB_RESTORE)
			back = !failed && (o->status == OUT_DONE || (a->noop && a->recorded));
		else
			back = added[i] && failed && (!o->changed || o->rollback_err == 0) && o->status != OUT_TIMEOUT;
		if (back)
			(void)journal_remove(j, a->name);
	}
	return journal_save(r, j);
}

/* Single-GPU steps whose functions are all back: units, consoles, framebuffers */
int bind_undo_steps(const struct sysroot *r, struct journal *j, const struct bind_opts *o)
{
	struct steps_opts so = { o->systemctl ? o->systemctl : steps_find_systemctl(r), o->timeout_ms, o->cfg };
	char msg[512] = "";
	int n;

	if (!j->n_steps)
		return 0;
	n = steps_undo(r, j, &so, msg, sizeof(msg));
	if (n < 0 && o->steps_msg)
		snprintf(o->steps_msg, o->steps_msg_size, "%s", msg);
	return n;
}

int bind_run(const struct sysroot *r, const struct pcihost *h, const struct plan *p, struct journal *j,
	     const struct bind_opts *o, struct outcome **ret, int *ret_journal_err)
{
	struct outcome *outs = calloc(p->n_acts ? p->n_acts : 1, sizeof(*outs));
	bool *added = calloc(p->n_acts ? p->n_acts : 1, sizeof(*added));
	volatile int abort_flag = 0;
	struct job proto = { r, h, p, o, outs, 0, 0, false, &abort_flag }, *jobs = NULL;
	bool failed = false, timed_out = false;
	size_t njobs;
	int err;

	if (!outs || !added) {
		err = -ENOMEM;
		goto out;
	}
	if ((err = journal_before(r, h, p, j, added)) < 0)
		goto out;
	njobs = make_jobs(p, &proto, &jobs);
	if (p->n_acts && !njobs) {
		err = -ENOMEM;
		goto out;
	}
	run_jobs(jobs, njobs);
	for (size_t i = 0; i < p->n_acts; i++) {
		failed |= outs[i].status == OUT_FAILED || outs[i].status == OUT_TIMEOUT;
		timed_out |= outs[i].status == OUT_TIMEOUT;
	}
	if (failed) {
		for (size_t k = 0; k < njobs; k++)
			jobs[k].rollback = true;
		run_jobs(jobs, njobs);
	}
	*ret_journal_err = journal_after(r, p, j, added, outs, failed);
	if (p->verb == VERB_RESTORE)
		(void)bind_undo_steps(r, j, o);
	err = !failed ? 0 : timed_out ? -ETIMEDOUT : -EIO;
out:
	free(jobs);
	free(added);
	if (err < 0 && err != -EIO && err != -ETIMEDOUT) {
		free(outs);
		return err;
	}
	*ret = outs;
	return err;
}

/* Run the module loader, with a deadline; its output becomes part of the message. */
static int run_modprobe(const char *modprobe, const char *module, unsigned timeout_ms, char *msg, size_t size)
{
	/* "--": a name is never taken for an option */
	char *argv[] = { (char *)modprobe, (char *)"--", (char *)module, NULL };
	char out[512] = "", what[256];
	struct spawn s = {
		.what = what,
		.timeout_ms = timeout_ms * SPAWN_PROGRAM_DEADLINES,
		.kill_on_timeout = true,
		.forward_stop = true,
		.output = SPAWN_OUTPUT_CAPTURE,
		.out = out,
		.out_size = sizeof(out),
	};
	struct spawn_result res;
	int err;

	snprintf(what, sizeof(what), "'%s %s'", modprobe, module);
	err = spawn_program(&s, argv, &res);
	if (err < 0) {
		snprintf(msg, size, "%s", res.msg);
		return err == -ETIMEDOUT ? err : -ENOENT;
	}
	if (res.status == 0)
		return 0;
	strip_trailing(out);
	snprintf(msg, size, "%s %s %d%s%s", what, res.signaled ? "was killed by signal" : "exited",
		 res.signaled ? res.status - 128 : res.status, out[0] ? ": " : "", out);
	return -ENOENT;
}

static bool driver_registered(const struct sysroot *r, const char *driver)
{
	char path[256];

	return sysroot_pathf(path, sizeof(path), "sys/bus/pci/drivers/%s", driver) == 0 && sysroot_exists(r, path) == 0;
}

/* 1: its module was loaded now, 0: it was registered already */
static int load_driver(const struct sysroot *r, const char *driver, const struct bind_opts *o, char *msg, size_t size)
{
	char why[400] = "";
	int err;

	if (driver_registered(r, driver))
		return 0;
	if (!o->modprobe) {
		snprintf(msg, size, "driver %s is not loaded, and modules cannot be loaded for root %s", driver,
			 sysroot_path(r));
		return -ENOENT;
	}
	err = run_modprobe(o->modprobe, driver, o->timeout_ms, why, sizeof(why));
	if (err == 0 && driver_registered(r, driver))
		return 1;
	snprintf(msg, size, "driver %s is not loaded and loading it failed: %s", driver,
		 why[0] ? why : "the module loaded but registered no PCI driver of that name");
	return err == -ETIMEDOUT ? err : -ENOENT;
}

int bind_load_drivers(const struct sysroot *r, const struct plan *p, const struct bind_opts *o, char *msg, size_t size)
{
	int loaded = 0;

	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];
		int err;

		if (p->verb != VERB_BIND || a->noop || !a->target.driver)
			continue;
		if ((err = load_driver(r, a->target.driver, o, msg, size)) < 0)
			return err;
		loaded += err;
	}
	return loaded;
}

int bind_load_module(const struct sysroot *r, const char *module, const struct bind_opts *o, char *msg, size_t size)
{
	char why[400] = "";

	if (!o->modprobe) {
		snprintf(msg, size, "module %s is not loaded, and modules cannot be loaded for root %s", module,
			 sysroot_path(r));
		return -ENOENT;
	}
	if (run_modprobe(o->modprobe, module, o->timeout_ms, why, sizeof(why)) == 0)
		return 0;
	snprintf(msg, size, "module %s is not loaded and loading it failed: %s", module, why);
	return -ENOENT;
}

/* ---- creating VFs ---- */

_printf_(2, 3) static int sriov_fail(struct sriov_outcome *so, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(so->msg, sizeof(so->msg), fmt, ap);
	va_end(ap);
	return so->err = -EIO;
}

static int pf_write(const struct sysroot *r, const struct bind_opts *o, const char *pf, const char *attr,
		    const char *value)
{
	char path[256];
	pid_t stuck = 0;
	int err = dev_path(path, sizeof(path), pf, attr);

	return err < 0 ? err : kwrite(r, path, value, o->timeout_ms, &stuck);
}

/* How many of the first n VFs of pf the kernel shows (virtfnN links to present functions) */
static int vfs_present(const struct sysroot *r, const char *pf, int n)
{
	char rel[256];
	int k = 0;

	for (; k < n; k++)
		if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/virtfn%d/vendor", pf, k) < 0 ||
		    sysroot_exists(r, rel) < 0)
			break;
	return k;
}

/* The kernel adds VFs in the write itself (sriov_enable()); wait a little for sysfs all the same */
static int wait_vfs(const struct sysroot *r, const char *pf, int n, unsigned timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int seen;

	while ((seen = vfs_present(r, pf, n)) < n && now_ms() < end)
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	return seen;
}

/* Any VF of pf in use by a VM: destroying it would block with the PF's lock held */
static int sriov_held(const struct sysroot *r, const struct pcihost *h, const struct pcifn *pf,
		      struct sriov_outcome *so)
{
	const struct pcifn *vfs[256];
	size_t n = pcihost_vfs(h, pf, vfs, ARRAY_SIZE(vfs));
	char holders[400];

	for (size_t i = 0; i < n; i++)
		if (vfs[i]->driver && driver_is_vfio(vfs[i]->driver) &&
		    holders_describe(r, vfs[i], holders, sizeof(holders)) > 0)
			return sriov_fail(
			    so, "its VF %s is in use: %s; a VF in use cannot be destroyed, stop what holds it first",
			    vfs[i]->name, holders);
	return 0;
}

/* Count and autoprobe back to c's original, as far as the kernel lets; "" or what failed into so->msg */
static void sriov_undo(const struct sysroot *r, const struct sriov_change *c, const struct bind_opts *o,
		       struct sriov_outcome *so)
{
	char num[16];
	int err = 0;

	if (so->count_changed) {
		(void)pf_write(r, o, c->name, "sriov_numvfs", "0");
		snprintf(num, sizeof(num), "%d", c->from);
		if (c->from > 0 && (err = pf_write(r, o, c->name, "sriov_numvfs", num)) < 0)
			snprintf(so->msg + strlen(so->msg), sizeof(so->msg) - strlen(so->msg),
				 "; its %d VFs could not be made again: %s", c->from, strerror(-err));
	}
	if (so->autoprobe_off && (err = pf_write(r, o, c->name, "sriov_drivers_autoprobe", "1")) < 0)
		snprintf(so->msg + strlen(so->msg), sizeof(so->msg) - strlen(so->msg),
			 "; sriov_drivers_autoprobe stays 0: %s", strerror(-err));
}

static int sriov_one(const struct sysroot *r, const struct pcihost *h, const struct sriov_change *c,
		     const struct bind_opts *o, struct sriov_outcome *so)
{
	const struct pcifn *pf = &h->fns[c->fn];
	char num[16];
	int err, seen;

	if (c->from > 0 && sriov_held(r, h, pf, so) < 0)
		return so->err;
	if (c->autoprobe != AUTOPROBE_OFF) {
		if ((err = pf_write(r, o, c->name, "sriov_drivers_autoprobe", "0")) < 0)
			return sriov_fail(so, "cannot turn sriov_drivers_autoprobe off: %s", strerror(-err));
		so->autoprobe_off = true;
	}
	so->count_changed = true;
	if (c->from > 0 && (err = pf_write(r, o, c->name, "sriov_numvfs", "0")) < 0)
		return sriov_fail(so, "writing sriov_numvfs '0' (its %d VFs first): %s", c->from,
				  err == -ETIMEDOUT ? "did not finish in time" : strerror(-err));
	snprintf(num, sizeof(num), "%d", c->to);
	if ((err = pf_write(r, o, c->name, "sriov_numvfs", num)) < 0)
		return sriov_fail(so, "writing sriov_numvfs '%d': %s", c->to,
				  err == -ETIMEDOUT ? "did not finish in time" : strerror(-err));
	if ((seen = wait_vfs(r, c->name, c->to, o->timeout_ms)) < c->to)
		return sriov_fail(so, "only %d of %d VFs appeared within %u s", seen, c->to, o->timeout_ms / 1000);
	return 0;
}

int bind_sriov_begin(const struct sysroot *r, const struct pcihost *h, const struct plan *p, struct journal *j,
		     const struct bind_opts *o, struct sriov_outcome **ret)
{
	struct sriov_outcome *outs = calloc(p->n_sriov ? p->n_sriov : 1, sizeof(*outs));
	bool failed = false;
	int err;

	if (!outs)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_sriov; i++) {
		const struct pcifn *vfs[256];
		size_t n = pcihost_vfs(h, &h->fns[p->sriov[i].fn], vfs, ARRAY_SIZE(vfs));

		if (!p->sriov[i].recorded && (err = journal_add(j, &p->sriov[i].before)) < 0)
			goto fail;
		for (size_t k = 0; p->sriov[i].from > 0 && k < n; k++)
			(void)journal_remove(j, vfs[k]->name); /* destroyed: nothing to put back */
	}
	if (p->n_sriov && (err = journal_save(r, j)) < 0)
		goto fail;
	for (size_t i = 0; i < p->n_sriov && !failed; i++) {
		size_t len;

		if (sriov_one(r, h, &p->sriov[i], o, &outs[i]) == 0)
			continue;
		len = strlen(outs[i].msg);
		sriov_undo(r, &p->sriov[i], o, &outs[i]);
		/* all put back: the record goes too (a record of the PF from before stays) */
		if (strlen(outs[i].msg) == len && !p->sriov[i].recorded && journal_remove(j, p->sriov[i].name) > 0)
			(void)journal_save(r, j);
		failed = true;
	}
	*ret = outs;
	return failed ? -EIO : 0;
fail:
	free(outs);
	return err;
}

/* Every new VF of the PF without a driver or an override, to the host driver the kernel picks */
static void probe_the_rest(const struct sysroot *r, const struct sriov_change *c, const struct bind_opts *o,
			   struct sriov_outcome *so)
{
	for (int k = 0; k < c->to; k++) {
		char rel[256], ovr[DRIVER_NAME_MAX + 8] = "";
		_cleanup_free_ char *vf = NULL;
		pid_t stuck = 0;
		int err;

		if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/virtfn%d", c->name, k) < 0 ||
		    sysroot_link_basename(r, rel, &vf) < 0)
			continue;
		if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver", vf) < 0 ||
		    sysroot_exists(r, rel) == 0)
			continue;
		if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver_override", vf) < 0 ||
		    sysroot_read_line(r, rel, ovr, sizeof(ovr)) < 0 || !streq(ovr, "(null)"))
			continue; /* the set's, or claimed by someone */
		if ((err = kwrite(r, "sys/bus/pci/drivers_probe", vf, o->timeout_ms, &stuck)) < 0)
			snprintf(so->msg, sizeof(so->msg), "drivers_probe of its VF %s: %s", vf, strerror(-err));
		so->probed = true;
	}
}

int bind_sriov_end(const struct sysroot *r, const struct plan *p, struct journal *j, const struct bind_opts *o,
		   struct sriov_outcome *outs, bool rollback)
{
	bool saved = false;
	int ret = 0, err;

	for (size_t i = 0; i < p->n_sriov; i++) {
		const struct sriov_change *c = &p->sriov[i];
		struct sriov_outcome *so = &outs[i];

		if (so->err < 0 || !so->count_changed)
			continue; /* failed and undone in bind_sriov_begin(), or never reached */
		so->msg[0] = '\0';
		if (rollback) {
			sriov_undo(r, c, o, so);
			if (!so->msg[0] && !c->recorded)
				saved |= journal_remove(j, c->name) > 0;
		} else if (so->autoprobe_off && (err = pf_write(r, o, c->name, "sriov_drivers_autoprobe", "1")) < 0) {
			snprintf(so->msg, sizeof(so->msg), "sriov_drivers_autoprobe stays 0: %s", strerror(-err));
		} else if (c->autoprobe != AUTOPROBE_OFF) {
			probe_the_rest(r, c, o, so);
		}
		if (so->msg[0])
			ret = -EIO;
	}
	if (saved)
		(void)journal_save(r, j);
	return ret;
}
