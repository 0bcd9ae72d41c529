/* cmd-apply.c - pcibind apply: every set with boot = yes to its driver (apply --udev: cmd-apply-udev.c) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bind.h"
#include "cmd.h"
#include "console.h"
#include "journal.h"
#include "json.h"
#include "plan.h"
#include "udevwait.h"
#include "usage.h"
#include "variant.h"

#define APPLY_SCHEMA   1
#define UDEV_SETTLE_MS 5000 /* /dev/vfio/N final before the unit reports success */

/* What happened to one set; the names are the JSON "result" values (pcibind(8)) */
enum set_result {
	RES_UNCHANGED, /* every present function already on its driver */
	RES_CHANGED,
	RES_WOULD_CHANGE, /* --dry-run */
	RES_ABSENT,	  /* no function of the set is present */
	RES_REFUSED,
	RES_FAILED,
	RES_TIMEOUT,
};

static const char *const result_names[] = {
	[RES_UNCHANGED] = "unchanged", [RES_CHANGED] = "changed", [RES_WOULD_CHANGE] = "would-change",
	[RES_ABSENT] = "absent",       [RES_REFUSED] = "refused", [RES_FAILED] = "failed",
	[RES_TIMEOUT] = "timeout",
};

struct moved {
	char name[PCIADDR_STRLEN];
	char before[DRIVER_NAME_MAX]; /* "" = none */
	char after[DRIVER_NAME_MAX];
	char want[DRIVER_NAME_MAX]; /* its target: the set's driver, or driver = auto's pick for it */
};

struct report {
	const struct devset *set;
	const char *driver;
	enum set_result res;
	size_t n_fns;	     /* present functions of the set */
	struct moved *moved; /* functions that were (or would be) moved */
	size_t n_moved;
	char msg[600];
	bool done;	    /* its result is set already (its VFs could not be made) */
	bool console_said;  /* release_console: that the console goes first, said once */
	bool followed_said; /* follow = yes: where its device was found, said once */
	char shown[DRIVER_NAME_MAX + 24];
	int vfs_made; /* VFs created for it in this run */
};

struct applier {
	struct ctx *c;
	struct config *cfg;
	struct session s; /* the lock, the host (s.h), the journal (s.j) */
	struct report *reps;
	size_t n_reps;
	bool claims_noted; /* boot claims found by the survey, to be saved before the first change */
};

static void applier_free(struct applier *ap)
{
	for (size_t i = 0; i < ap->n_reps; i++)
		free(ap->reps[i].moved);
	free(ap->reps);
	session_close(&ap->s);
	config_free(ap->cfg);
}

static unsigned timeout_s(const struct applier *ap)
{
	return ctx_timeout(ap->c, ap->cfg);
}

/* driver = auto anywhere: each function's variant is looked up when the host is read */
static bool uses_auto(const struct config *cfg)
{
	if (driver_is_auto(cfg->driver))
		return true;
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (cfg->sets[i].boot && driver_is_auto(cfg->sets[i].driver))
			return true;
	return false;
}

/* the host read again: the moves since, or VFs made */
static int scan(struct applier *ap)
{
	char msg[PATH_MAX + 128];

	if (session_scan(&ap->s, msg, sizeof(msg)) < 0) {
		msg_error("%s", msg);
		return EXIT_FAILURE_;
	}
	return 0;
}

static void say_busy_wait(void *userdata, const char *fn, unsigned ms)
{
	msg_debug(userdata, "%s is locked by the kernel (a probe running?): waiting up to %u ms", fn, ms);
}

/* the lock (not in a dry run), the host, the journal */
static int open_session(struct applier *ap)
{
	struct session_opts o = {
		.cfg = ap->cfg,
		.scan = SESSION_SCAN_BUSY_ONCE | SESSION_SCAN_USES | (uses_auto(ap->cfg) ? SESSION_SCAN_VARIANTS : 0),
		.busy_wait = say_busy_wait,
		.userdata = ap->c,
	};
	char msg[PATH_MAX + 128];
	int st = ctx_open_session(ap->c, &o, &ap->s, msg, sizeof(msg));

	if (st)
		msg_error("%s", msg);
	return st;
}

static void copy_driver(char *dst, const char *driver)
{
	(void)snprintf(dst, DRIVER_NAME_MAX, "%s", driver ? driver : "");
}

/* ---- one set ---- */

_printf_(3, 4) static void result(struct report *rep, enum set_result res, const char *fmt, ...)
{
	va_list ap;

	rep->res = res;
	va_start(ap, fmt);
	(void)vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
	va_end(ap);
}

static const struct devset *set_of_fn(const struct applier *ap, const struct plan *p, const char *fn)
{
	for (size_t i = 0; i < p->n_acts; i++)
		if (streq(p->acts[i].name, fn))
			return p->acts[i].set ? config_find_set(ap->cfg, p->acts[i].set) : NULL;
	return NULL;
}

/*
 * The boot VGA while a console is on it goes only to a set with
 * release_console = yes, which releases the console first; every other
 * set is refused it. The udev rule and status say the same (pcibind(8),
 * "The boot VGA").
 */
static void waive_console(const struct applier *ap, struct plan *p)
{
	for (size_t i = 0; i < p->n_refusals; i++) {
		struct refusal *f = &p->refusals[i];
		const struct devset *set;

		if (f->kind == REFUSE_CONSOLE && (set = set_of_fn(ap, p, f->fn)) && set->release_console)
			f->forced = true;
	}
}

/* follow = yes: a set bound where its serial number is now says so, one line each */
static void say_followed(const struct plan *p)
{
	for (const char *l = p->followed; *l; l += strcspn(l, "\n"), l += *l == '\n')
		msg_warn("%.*s", (int)strcspn(l, "\n"), l);
}

/* Each set is its own request, planned against the host as it is now */
static int plan_set(struct applier *ap, struct report *rep, struct plan **ret)
{
	struct selector sel = { .kind = SEL_NAME };
	struct request req = { .verb = VERB_BIND, .force = ap->c->force, .sels = &sel, .n_sels = 1, .follow = true };
	struct plan_error e = { { 0 } };
	int err;

	(void)snprintf(sel.name, sizeof(sel.name), "%s", rep->set->name);
	err = session_plan(&ap->s, &req, ret, &e);
	if (err == -EINVAL) { /* a configured set selects nothing present */
		result(rep, RES_ABSENT, "absent: %s", e.msg);
		return 1;
	}
	if (err < 0) {
		result(rep, RES_FAILED, "cannot plan: %s", strerror(-err));
		return 1;
	}
	waive_console(ap, *ret);
	if (!rep->followed_said)
		say_followed(*ret);
	rep->followed_said = true;
	return 0;
}

/* 1 if the plan is refused: the reasons are said, the set reported */
static int refused(struct applier *ap, struct report *rep, const struct plan *p)
{
	bool busy = false;
	const char *first = NULL;

	for (size_t i = 0; i < p->n_refusals; i++) {
		const struct refusal *f = &p->refusals[i];

		if (f->forced && f->kind == REFUSE_CONSOLE && rep->set->release_console) {
			if (!rep->console_said)
				msg_info(ap->c, "[%s]: release_console = yes: the console is released first: %s",
					 rep->set->name, f->msg);
			rep->console_said = true;
			continue;
		}
		if (f->forced) {
			msg_warn("[%s]: overridden by --force: %s", rep->set->name, f->msg);
			continue;
		}
		msg_error("[%s]: %s", rep->set->name, f->msg);
		busy |= f->kind == REFUSE_BUSY;
		if (!first)
			first = f->msg;
	}
	if (!first)
		return 0;
	result(rep, busy ? RES_TIMEOUT : RES_REFUSED, "refused: %s", first);
	return 1;
}

static int note_moves(struct report *rep, const struct plan *p)
{
	rep->n_fns = p->n_acts;
	rep->moved = calloc(p->n_acts ? p->n_acts : 1, sizeof(*rep->moved));
	if (!rep->moved)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];
		struct moved *m;

		if (a->noop)
			continue;
		m = &rep->moved[rep->n_moved++];
		(void)snprintf(m->name, sizeof(m->name), "%s", a->name);
		copy_driver(m->before, a->before.driver);
		copy_driver(m->after, a->target.driver);
		copy_driver(m->want, a->target.driver);
	}
	return 0;
}

static void report_outcomes(struct report *rep, const struct plan *p, const struct outcome *outs, int err)
{
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct outcome *o = &outs[i];

		if (o->status == OUT_FAILED || o->status == OUT_TIMEOUT)
			msg_error("[%s]: cannot bind %s to %s: %s", rep->set->name, p->acts[i].name, rep->driver,
				  o->msg);
		if (o->changed && o->rollback_err < 0)
			msg_error("[%s]: %s was NOT put back: %s; run 'pcibind restore %s'", rep->set->name,
				  p->acts[i].name, o->rollback_msg, p->acts[i].name);
	}
	bool all_back = true;
	const char *back;

	for (size_t i = 0; i < p->n_acts; i++)
		all_back &= !(outs[i].changed && outs[i].rollback_err < 0);
	/* the lines above named what could not be put back */
	back = all_back ? "put back as it was" : "not all put back (see above)";
	for (size_t i = 0; i < p->n_acts; i++)
		if (outs[i].status == OUT_FAILED || outs[i].status == OUT_TIMEOUT) {
			result(rep, err == -ETIMEDOUT ? RES_TIMEOUT : RES_FAILED, "failed: %s: %s; %s", p->acts[i].name,
			       outs[i].msg, back);
			return;
		}
	result(rep, err == -ETIMEDOUT ? RES_TIMEOUT : RES_FAILED, "failed; %s", back);
}

/* "vfio-pci"; with driver = auto what it picked ("mlx5_vfio_pci (driver = auto)") when that is one driver */
static const char *shown_driver(struct report *rep)
{
	if (!driver_is_auto(rep->driver) || !rep->n_moved)
		return rep->driver;
	for (size_t i = 1; i < rep->n_moved; i++)
		if (!streq(rep->moved[i].want, rep->moved[0].want))
			return "their drivers (driver = auto)";
	(void)snprintf(rep->shown, sizeof(rep->shown), "%s (driver = auto)", rep->moved[0].want);
	return rep->shown;
}

/* the driver a set's functions are planned on: driver = auto named by what it chose */
static const char *planned_driver(struct report *rep, const struct plan *p)
{
	if (!driver_is_auto(rep->driver) || !p->n_acts || !p->acts[0].target.driver)
		return rep->driver;
	for (size_t i = 1; i < p->n_acts; i++)
		if (!streq_null(p->acts[i].target.driver, p->acts[0].target.driver))
			return "their drivers (driver = auto)";
	(void)snprintf(rep->shown, sizeof(rep->shown), "%s (driver = auto)", p->acts[0].target.driver);
	return rep->shown;
}

/* The functions as they are now, after loading modules or binding */
static void read_back(struct applier *ap, struct report *rep)
{
	size_t ok = 0;

	for (size_t i = 0; i < rep->n_moved; i++) {
		struct pciaddr a;
		const struct pcifn *f;

		if (pciaddr_parse(rep->moved[i].name, &a) == 0 && (f = pcihost_find(ap->s.h, &a)))
			copy_driver(rep->moved[i].after, f->driver);
		ok += streq(rep->moved[i].after, rep->moved[i].want);
	}
	if (ok == rep->n_moved)
		result(rep, RES_CHANGED, "%zu function%s bound to %s", ok, ok == 1 ? "" : "s", shown_driver(rep));
	else
		result(rep, RES_FAILED, "failed: %zu of %zu functions on %s", ok, rep->n_moved, shown_driver(rep));
}

/* ---- boot claims: what pcibind holds at boot is journaled, so that a bare restore gives it back ---- */

/*
 * A function the udev rule claimed (its override is the set's driver) and
 * pcibind holds without a record: a module load bound it, or will. Its
 * record says "claimed at boot": restore lets the kernel pick its driver.
 */
static bool claimed_unrecorded(const struct action *a)
{
	const char *d = a->target.driver;

	return !a->recorded && !a->created_vf && d && streq_null(a->before.override, d) &&
	       (!a->before.driver || streq(a->before.driver, d));
}

static int note_claims(struct applier *ap, const struct plan *p)
{
	int err;

	if (ap->c->dry_run)
		return 0;
	for (size_t i = 0; i < p->n_acts; i++) {
		struct fnstate s = { .sriov_numvfs = -1, .boot_claim = true };

		if (!claimed_unrecorded(&p->acts[i]))
			continue;
		memcpy(s.name, p->acts[i].name, sizeof(s.name));
		if ((err = session_note(&ap->s, &s)) < 0)
			return err;
		ap->claims_noted |= err > 0;
	}
	return 0;
}

/* Saved under the lock before the first module load, which binds them */
static void save_claims(struct applier *ap)
{
	int err;

	if (!ap->claims_noted)
		return;
	if ((err = session_save(&ap->s)) < 0)
		msg_warn("could not record the boot claims in the journal %s: %s; 'pcibind restore' names them "
			 "one by one",
			 JOURNAL_FILE, strerror(-err));
}

/*
 * A function taken from no driver at all: at boot its host driver has not
 * probed it yet, so its record says so, and restore hands it to the
 * driver the kernel picks rather than leaving it driverless.
 */
static void mark_boot_claims(struct plan *p)
{
	for (size_t i = 0; i < p->n_acts; i++) {
		struct action *a = &p->acts[i];

		if (!a->noop && !a->recorded && !a->created_vf && !a->before.driver &&
		    (!a->before.override || streq_null(a->before.override, a->target.driver)))
			a->before.boot_claim = true;
	}
}

/* ---- release_console: the boot VGA's console goes before it does ---- */

static bool console_waived(const struct plan *p, const struct devset *set)
{
	for (size_t i = 0; i < p->n_refusals; i++)
		for (size_t k = 0; p->refusals[i].kind == REFUSE_CONSOLE && k < p->n_acts; k++)
			if (streq(p->acts[k].name, p->refusals[i].fn) && p->acts[k].set &&
			    streq(p->acts[k].set, set->name))
				return p->refusals[i].forced;
	return false;
}

static struct steps_opts steps_opts_of(const struct applier *ap)
{
	return (struct steps_opts){ steps_find_systemctl(ap->c->root), timeout_s(ap) * 1000, ap->cfg };
}

/* Steps whose functions are not (or no longer) pcibind's: done for a bind that did not happen */
static void undo_consoles(struct applier *ap)
{
	struct steps_opts so = steps_opts_of(ap);
	char msg[512];

	if (ap->s.j->n_steps && session_steps_undo(&ap->s, &so, msg, sizeof(msg)) < 0)
		msg_error("%s; 'pcibind restore' retries", msg);
}

static int plan_set(struct applier *ap, struct report *rep, struct plan **ret);

/*
 * For each pending set with release_console = yes whose boot VGA carries
 * the console: its units stopped, fbcon and the firmware framebuffers
 * unbound, each step journaled first (console.c), as the hook does; before
 * the set's module is loaded, which binds what the udev rule claimed. -1
 * when one failed: that set has failed (said), the steps are undone.
 */
static int release_consoles(struct applier *ap, int *pending)
{
	struct steps_opts so = steps_opts_of(ap);
	char fns[4096], msg[512];

	for (size_t i = 0; i < ap->n_reps; i++) {
		const struct devset *set = ap->reps[i].set;
		struct plan *p = NULL;
		size_t len = 0;
		int err;

		if (!pending[i] || !set->release_console || plan_set(ap, &ap->reps[i], &p) || !console_waived(p, set)) {
			plan_free(p);
			continue;
		}
		fns[0] = '\0';
		for (size_t k = 0; k < p->n_acts; k++)
			if (p->acts[k].set && streq(p->acts[k].set, set->name) && len < sizeof(fns))
				len += (size_t)snprintf(fns + len, sizeof(fns) - len, "%s%s", len ? "," : "",
							p->acts[k].name);
		plan_free(p);
		if ((err = session_steps_apply(&ap->s, set, fns, &so, msg, sizeof(msg))) < 0) {
			msg_error("[%s]: %s", set->name, msg);
			result(&ap->reps[i], RES_FAILED, "failed: cannot release the console: %s; put back as it was",
			       msg);
			pending[i] = 0;
			undo_consoles(ap);
			return -1;
		}
		if (err > 0)
			msg_info(ap->c, "[%s]: console released (%d step%s, journaled)", set->name, err,
				 err == 1 ? "" : "s");
	}
	return 0;
}

/* ---- /dev/vfio/N before the VM managers ---- */

/*
 * Every boot set's functions on a VFIO driver: their group nodes, handled
 * by udev (owner and mode from its rules) before the unit reports done.
 * By state, not by event: the unit runs before udev's coldplug, and a
 * node bound in the initramfs had its event before udevd ran.
 */
static void wait_nodes(const struct applier *ap)
{
	_cleanup_free_ int *groups = NULL;
	size_t n = 0;
	int pending = -1;

	if (ap->c->dry_run || !ap->s.h || !(groups = calloc(ap->s.h->n ? ap->s.h->n : 1, sizeof(*groups))))
		return;
	for (size_t i = 0; i < ap->s.h->n; i++) {
		const struct pcifn *f = &ap->s.h->fns[i];
		bool mine = false, seen = false;

		for (size_t r = 0; r < ap->n_reps && !mine; r++)
			mine = plan_set_selects(ap->s.h, ap->reps[r].set, f);
		if (!mine || f->group < 0 || !driver_is_vfio(f->driver))
			continue;
		for (size_t k = 0; k < n && !seen; k++)
			seen = groups[k] == f->group;
		if (!seen)
			groups[n++] = f->group;
	}
	if (udevwait_vfio_nodes(ap->c->root, groups, n, UDEV_SETTLE_MS, &pending) == -ETIMEDOUT)
		msg_warn("udev has not finished with /dev/vfio/%d within %u s; it may not have its final owner and "
			 "mode yet",
			 pending, UDEV_SETTLE_MS / 1000);
}

/*
 * Every set is surveyed against the host as it was before pcibind touched
 * it, so that a set bound as a side effect of an earlier set's module load
 * is still reported as changed. 1: the set has functions to move.
 */
static int survey_set(struct applier *ap, struct report *rep)
{
	struct plan *p = NULL;
	int pending = 0;

	rep->driver = devset_driver(ap->cfg, rep->set);
	if (rep->done || plan_set(ap, rep, &p))
		goto out;
	rep->n_fns = p->n_acts;
	if (refused(ap, rep, p))
		goto out;
	if (note_claims(ap, p) < 0 || note_moves(rep, p) < 0) {
		result(rep, RES_FAILED, "failed: out of memory");
		goto out;
	}
	if (p->n_sriov) /* a dry run: the VFs are not there to be planned */
		result(rep, RES_WOULD_CHANGE, "would create %d VF%s on %s and bind %zu of them to %s", p->sriov[0].to,
		       p->sriov[0].to == 1 ? "" : "s", p->sriov[0].name, p->sriov[0].n_wanted,
		       driver_is_auto(rep->driver) ? "the vfio driver their ids match (driver = auto)" : rep->driver);
	else if (rep->n_moved == 0)
		result(rep, RES_UNCHANGED, "already bound: %zu function%s on %s", rep->n_fns,
		       rep->n_fns == 1 ? "" : "s", planned_driver(rep, p));
	else if (ap->c->dry_run)
		result(rep, RES_WOULD_CHANGE, "would bind %zu function%s to %s", rep->n_moved,
		       rep->n_moved == 1 ? "" : "s", shown_driver(rep));
	else
		pending = 1;
out:
	plan_free(p);
	return pending;
}

/* ---- all pending sets at once ---- */

/*
 * driver = auto: a variant module that is not loaded yet, loaded; its
 * driver name is known then (vfio_pci registers vfio-pci), so
 * the set is planned again. 1 when one was loaded, 0 none, -ENOENT (msg).
 */
static int load_variants(struct applier *ap, struct report *rep, struct plan **p, const struct bind_opts *o, char *msg,
			 size_t size)
{
	size_t fn;
	int n = session_load_variants(&ap->s, *p, false, o, NULL, NULL, &fn, msg, size);

	if (n <= 0)
		return n < 0 ? -ENOENT : 0;
	plan_free(*p);
	*p = NULL;
	if (plan_set(ap, rep, p)) {
		snprintf(msg, size, "the set changed while its variant driver was loaded");
		return -ENOENT;
	}
	return 1;
}

/*
 * The survey noted each function's target from a plan made before its
 * variant module was loaded: the module's name. The plan made after names
 * the driver it registered ("vfio_pci" registers "vfio-pci"), which is
 * what read_back() finds bound.
 */
static void renote_wants(struct report *rep, const struct plan *p)
{
	for (size_t i = 0; i < p->n_acts; i++)
		for (size_t k = 0; !p->acts[i].noop && k < rep->n_moved; k++)
			if (streq(rep->moved[k].name, p->acts[i].name))
				copy_driver(rep->moved[k].want, p->acts[i].target.driver);
}

/* A set's target modules; 1 when they were loaded now, -1 when the set failed (reported) */
static int load_set_drivers(struct applier *ap, struct report *rep, const struct bind_opts *o)
{
	struct plan *p = NULL;
	char msg[512];
	int err;

	if (plan_set(ap, rep, &p)) /* gone since the survey */
		return -1;
	if ((err = load_variants(ap, rep, &p, o, msg, sizeof(msg))) > 0)
		renote_wants(rep, p);
	if (err >= 0) {
		int e = bind_load_drivers(ap->c->root, p, o, msg, sizeof(msg));

		err = e < 0 ? e : err | (e > 0);
	}
	plan_free(p);
	if (err < 0) {
		result(rep, RES_FAILED, "failed: %s; nothing was changed", msg);
		return -1;
	}
	return err > 0;
}

/* 1 when the set still has functions to move on the host as it is now; else its result is set */
static int still_pending(struct applier *ap, struct report *rep)
{
	struct plan *p = NULL;
	int pending = 0;

	if (plan_set(ap, rep, &p) || refused(ap, rep, p))
		goto out;
	if (plan_changes(p))
		pending = 1;
	else
		read_back(ap, rep); /* the module load bound them (their overrides came from the udev rule) */
out:
	plan_free(p);
	return pending;
}

/* What a joint run says when it fails, before each set is tried alone */
static void say_joint_failure(const struct plan *p, const struct outcome *outs)
{
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];
		const struct outcome *o = &outs[i];

		if (o->status == OUT_FAILED || o->status == OUT_TIMEOUT)
			msg_warn("[%s]: cannot bind %s to %s: %s", a->set ? a->set : "?", a->name,
				 a->target.driver ? a->target.driver : "no driver", o->msg);
		if (o->changed && o->rollback_err < 0)
			msg_error("[%s]: %s was NOT put back: %s; run 'pcibind restore %s'", a->set ? a->set : "?",
				  a->name, o->rollback_msg, a->name);
	}
	msg_warn("the boot sets were put back as they were; binding each set on its own");
}

/*
 * The sets with pending[i] as one request: plan_make() sorts their
 * functions by IOMMU group and bind_run() moves the groups in parallel, so
 * eight GPUs whose unbinds each take half a second are done in about half
 * a second, not four. Each set's modules are loaded first (a set whose
 * driver cannot be had fails alone); loading one binds whatever the udev
 * rule claimed for it, so the host is read again then, and each set planned
 * again on it. fresh: ap->s.h is the host as it is now (else it is read
 * first). 1: done, every set of the run has its result; 0: a run of
 * several sets was refused together or failed (bind_run() put everything
 * back): run them one at a time.
 */
static int run_sets(struct applier *ap, int *pending, bool fresh, const struct bind_opts *o, int *st)
{
	_cleanup_free_ struct selector *sels = calloc(ap->n_reps ? ap->n_reps : 1, sizeof(*sels));
	struct request req = { .verb = VERB_BIND, .force = ap->c->force, .follow = true };
	struct plan_error e = { { 0 } };
	struct outcome *outs = NULL;
	struct plan *p = NULL;
	int done = 1, jerr = 0, err;
	bool loaded = false;
	size_t n = 0;

	if (!sels) {
		*st = EXIT_FAILURE_;
		return 1;
	}
	if (!fresh && (*st = scan(ap)))
		return 1;
	if (release_consoles(ap, pending) < 0) {
		for (size_t i = 0; i < ap->n_reps; i++)
			n += pending[i] != 0;
		return n == 0; /* the set failed (said); any others, each alone */
	}
	for (size_t i = 0; i < ap->n_reps; i++) {
		int r = pending[i] ? load_set_drivers(ap, &ap->reps[i], o) : 0;

		if (r < 0)
			pending[i] = 0;
		loaded |= r > 0;
	}
	if (loaded && (*st = scan(ap)))
		goto out;
	for (size_t i = 0; i < ap->n_reps; i++) {
		if (!pending[i] || !(pending[i] = still_pending(ap, &ap->reps[i])))
			continue;
		sels[n].kind = SEL_NAME;
		(void)snprintf(sels[n++].name, sizeof(sels[0].name), "%s", ap->reps[i].set->name);
	}
	if (n == 0)
		goto out;
	req.sels = sels;
	req.n_sels = n;
	/* a single set's plan is the one still_pending() accepted */
	if (session_plan(&ap->s, &req, &p, &e) < 0 || (waive_console(ap, p), plan_refused(p))) {
		done = 0; /* each set alone says why */
		goto out;
	}
	mark_boot_claims(p);
	err = session_run(&ap->s, p, o, &outs, &jerr);
	if (jerr < 0)
		msg_warn("could not update the journal %s: %s", JOURNAL_FILE, strerror(-jerr));
	if (err < 0 && err != -EIO && err != -ETIMEDOUT) {
		for (size_t i = 0; i < ap->n_reps; i++)
			if (pending[i])
				result(&ap->reps[i], RES_FAILED,
				       "failed: cannot write the journal %s: %s; nothing was changed", JOURNAL_FILE,
				       strerror(-err));
		goto out;
	}
	if (err < 0 && n > 1) {
		say_joint_failure(p, outs);
		done = 0;
		goto out;
	}
	for (size_t i = 0; err < 0 && i < ap->n_reps; i++)
		if (pending[i])
			report_outcomes(&ap->reps[i], p, outs, err); /* the one set: put back as it was */
	if (err == 0 && (*st = scan(ap)))
		goto out;
	for (size_t i = 0; err == 0 && i < ap->n_reps; i++)
		if (pending[i])
			read_back(ap, &ap->reps[i]);
out:
	if (ap->s.j->n_steps)
		undo_consoles(ap); /* the steps of sets that did not end bound: the console is the host's again */
	free(outs);
	plan_free(p);
	return done;
}

/* All pending sets together; if that fails, each on its own, on the host as it is then */
static int apply_pending(struct applier *ap, int *pending)
{
	_cleanup_free_ int *one = calloc(ap->n_reps ? ap->n_reps : 1, sizeof(*one));
	struct bind_opts o = { .timeout_ms = timeout_s(ap) * 1000, .modprobe = ctx_modprobe(ap->c) };
	bool any = false;
	int st = 0;

	for (size_t i = 0; i < ap->n_reps; i++)
		any |= pending[i];
	if (!any) /* nothing to move (or a dry run): no module load */
		return 0;
	if (!one)
		return EXIT_FAILURE_;
	if (run_sets(ap, pending, true, &o, &st))
		return st;
	for (size_t i = 0; i < ap->n_reps; i++) {
		if (!pending[i])
			continue;
		memset(one, 0, ap->n_reps * sizeof(*one));
		one[i] = 1;
		(void)run_sets(ap, one, false, &o, &st); /* one set is always done */
		if (st)
			return st;
	}
	return 0;
}

/* ---- the report ---- */

/* The worst result decides: failed, timeout, refused, then changed, then nothing to do */
static int exit_status(const struct applier *ap)
{
	static const struct {
		enum set_result res;
		int st;
	} order[] = {
		{ RES_FAILED, EXIT_FAILURE_ }, { RES_TIMEOUT, EXIT_TIMEOUT },	   { RES_REFUSED, EXIT_REFUSED },
		{ RES_CHANGED, EXIT_CHANGED }, { RES_WOULD_CHANGE, EXIT_CHANGED },
	};

	for (size_t o = 0; o < ARRAY_SIZE(order); o++)
		for (size_t i = 0; i < ap->n_reps; i++)
			if (ap->reps[i].res == order[o].res)
				return order[o].st;
	return EXIT_OK;
}

static void print_text(const struct applier *ap)
{
	if (ap->c->verbosity < 0)
		return;
	if (ap->n_reps == 0)
		printf("nothing to apply: no set in the configuration has boot = yes\n");
	for (size_t i = 0; i < ap->n_reps; i++) {
		const struct report *rep = &ap->reps[i];

		printf("%s: %s%s\n", rep->set->name, ap->c->dry_run ? "(dry run) " : "", rep->msg);
		for (size_t m = 0; ap->c->verbosity > 0 && m < rep->n_moved; m++)
			printf("  %s: %s -> %s\n", rep->moved[m].name,
			       rep->moved[m].before[0] ? rep->moved[m].before : "no driver",
			       rep->moved[m].after[0] ? rep->moved[m].after : "no driver");
	}
}

static void json_report(struct json *j, const struct report *rep)
{
	json_object_begin(j);
	json_key_string(j, "name", rep->set->name);
	json_key_string(j, "file", rep->set->file);
	json_key_int(j, "line", rep->set->line);
	json_key_string(j, "driver", rep->driver);
	json_key_string(j, "result", result_names[rep->res]);
	json_key_string(j, "message", rep->msg);
	json_key_int(j, "functions_present", (long long)rep->n_fns);
	json_key_int(j, "vfs_created", rep->vfs_made);
	json_key(j, "moved");
	json_array_begin(j);
	for (size_t m = 0; m < rep->n_moved; m++) {
		json_object_begin(j);
		json_key_string(j, "address", rep->moved[m].name);
		json_key_string(j, "before", rep->moved[m].before[0] ? rep->moved[m].before : NULL);
		json_key_string(j, "after", rep->moved[m].after[0] ? rep->moved[m].after : NULL);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static int print_json(const struct applier *ap, int st)
{
	struct json j;
	int err;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", APPLY_SCHEMA);
	json_key_bool(&j, "dry_run", ap->c->dry_run);
	json_key_int(&j, "exit_status", st);
	json_key(&j, "sets");
	json_array_begin(&j);
	for (size_t i = 0; i < ap->n_reps; i++)
		json_report(&j, &ap->reps[i]);
	json_array_end(&j);
	json_object_end(&j);
	err = json_finish(&j);
	if (err < 0) {
		msg_error("cannot write the report: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	return st;
}

static int add_boot_sets(struct applier *ap)
{
	ap->reps = calloc(ap->cfg->n_sets ? ap->cfg->n_sets : 1, sizeof(*ap->reps));
	if (!ap->reps)
		return EXIT_FAILURE_;
	for (size_t i = 0; i < ap->cfg->n_sets; i++)
		if (ap->cfg->sets[i].boot)
			ap->reps[ap->n_reps++].set = &ap->cfg->sets[i];
	return 0;
}

/* ---- SR-IOV sets: their VFs are made before the sets are surveyed ---- */

struct vfmake {
	struct report *rep;
	struct plan *p;
	struct sriov_outcome *outs;
};

/*
 * Every boot set whose PFs lack its VF count gets its VFs now, with
 * sriov_drivers_autoprobe off (bind_sriov_begin()), and the host is read
 * again: the survey then plans binding them like any set's functions. A
 * set whose VFs cannot be made has its result (a refused one is left to
 * the survey, which says why).
 */
static int make_boot_vfs(struct applier *ap, struct vfmake *vm, size_t *ret_n, const struct bind_opts *o)
{
	size_t n = 0;
	int err;

	for (size_t i = 0; i < ap->n_reps; i++) {
		struct report *rep = &ap->reps[i];
		struct plan *p = NULL;

		if (!devset_is_sriov(rep->set) || plan_set(ap, rep, &p) || !p->n_sriov || plan_refused(p)) {
			plan_free(p);
			rep->res = RES_UNCHANGED; /* plan_set() may have set one: the survey sets the real one */
			continue;
		}
		err = session_sriov_begin(&ap->s, p, o, &vm[n].outs);
		if (err < 0) {
			rep->done = true;
			if (err == -EIO)
				result(rep, RES_FAILED, "failed: cannot create the VFs on %s: %s; put back as it was",
				       p->sriov[0].name, vm[n].outs[0].msg);
			else
				result(rep, RES_FAILED, "failed: cannot write the journal %s: %s; nothing was changed",
				       JOURNAL_FILE, strerror(-err));
			free(vm[n].outs);
			plan_free(p);
			continue;
		}
		for (size_t k = 0; k < p->n_sriov; k++)
			rep->vfs_made += p->sriov[k].to;
		vm[n].rep = rep;
		vm[n++].p = p;
	}
	*ret_n = n;
	return n ? scan(ap) : 0;
}

/* The other new VFs to their host driver; where the set's could not be bound, the count back */
static void end_boot_vfs(struct applier *ap, struct vfmake *vm, size_t n, const struct bind_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		struct report *rep = vm[i].rep;
		bool ok = rep->res == RES_CHANGED || rep->res == RES_UNCHANGED;
		char msg[sizeof(rep->msg)];

		if (session_sriov_end(&ap->s, vm[i].p, o, vm[i].outs, !ok) < 0)
			for (size_t k = 0; k < vm[i].p->n_sriov; k++)
				if (vm[i].outs[k].msg[0])
					msg_warn("[%s]: %s: %s", rep->set->name, vm[i].p->sriov[k].name,
						 vm[i].outs[k].msg);
		(void)snprintf(msg, sizeof(msg), "%s", rep->msg);
		if (ok)
			result(rep, RES_CHANGED, "%d VF%s created on %s; %s", rep->vfs_made,
			       rep->vfs_made == 1 ? "" : "s", vm[i].p->sriov[0].name, msg);
		else
			result(rep, rep->res, "%s; its VF count was put back", msg);
		free(vm[i].outs);
		plan_free(vm[i].p);
	}
}

static int apply_all(struct ctx *c)
{
	struct applier ap = { .c = c, .s = { .lock_fd = -1 } };
	_cleanup_free_ int *pending = NULL;
	_cleanup_free_ struct vfmake *vm = NULL;
	size_t n_vm = 0;
	struct bind_opts o;
	int st;

	if ((st = ctx_load_config(c, &ap.cfg)) || (st = add_boot_sets(&ap)))
		goto out;
	o = (struct bind_opts){ .timeout_ms = timeout_s(&ap) * 1000, .modprobe = ctx_modprobe(c) };
	pending = calloc(ap.n_reps ? ap.n_reps : 1, sizeof(*pending));
	if (!pending) {
		st = EXIT_FAILURE_;
		goto out;
	}
	/* a dry run writes nothing, not even the lock */
	if (ap.n_reps && (st = open_session(&ap)))
		goto out;
	vm = calloc(ap.n_reps ? ap.n_reps : 1, sizeof(*vm));
	if (!vm || (!c->dry_run && (st = make_boot_vfs(&ap, vm, &n_vm, &o)))) {
		st = st ? st : EXIT_FAILURE_;
		goto out;
	}
	for (size_t i = 0; i < ap.n_reps; i++)
		pending[i] = survey_set(&ap, &ap.reps[i]);
	save_claims(&ap);
	st = apply_pending(&ap, pending);
	end_boot_vfs(&ap, vm, n_vm, &o);
	if (st)
		goto out;
	wait_nodes(&ap);
	st = exit_status(&ap);
	if (c->json)
		st = print_json(&ap, st);
	else
		print_text(&ap);
out:
	applier_free(&ap);
	return st;
}

static int run_apply(struct ctx *c, int argc, char **argv)
{
	if (c->udev)
		return apply_udev(c, argc, argv);
	if (argc) {
		msg_error("apply takes no SEL: it binds every set with boot = yes (use 'pcibind bind SET' for one)");
		return EXIT_USAGE;
	}
	if (c->driver) {
		msg_error("--driver applies to bind only; apply uses each set's driver");
		return EXIT_USAGE;
	}
	return apply_all(c);
}

const struct cmd cmd_apply = {
	.name = "apply",
	.run = run_apply,
	.args = "[--udev ADDR]",
	.help = "bind every set with boot = yes (the boot unit and udev rule run this)",
};
