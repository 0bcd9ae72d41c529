/* cmd-bind.c - pcibind bind, unbind and restore: plan, refuse or carry out, report */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "cmd.h"
#include "journal.h"
#include "plan.h"
#include "udevwait.h"
#include "report.h"
#include "session.h"
#include "variant.h"

#define UDEV_WAIT_MS 5000

struct run {
	struct ctx *c;
	enum verb verb;
	struct config *cfg;
	struct session s; /* the lock, the host (s.h), the journal (s.j) */
	struct plan *p;
	struct plan *sriov_plan; /* the first plan, whose VFs were created: its changes end after the second */
	struct selector *sels;
	size_t n_sels;
};

static void run_free(struct run *rn)
{
	plan_free(rn->p);
	plan_free(rn->sriov_plan);
	session_close(&rn->s);
	config_free(rn->cfg);
	free(rn->sels);
}

static int parse_selectors(struct run *rn, int argc, char **argv)
{
	if (argc == 0 && rn->verb != VERB_RESTORE) {
		msg_error("%s needs at least one SEL (an address like 0000:82:00.0, a slot like 82:00, "
			  "ids like 10de:2204, or a section name)",
			  verb_name(rn->verb));
		return EXIT_USAGE;
	}
	rn->sels = calloc(argc ? (size_t)argc : 1, sizeof(*rn->sels));
	if (!rn->sels)
		return EXIT_FAILURE_;
	for (int i = 0; i < argc; i++)
		if (selector_parse_user(argv[i], &rn->sels[i]) < 0) {
			msg_error("invalid selector '%s': expected an address (0000:82:00.0, 82:00.0), a slot (82:00), "
				  "vendor:device (10de:2204) or a section name",
				  str_shown(argv[i], (char[96]){ 0 }, 96));
			return EXIT_USAGE;
		}
	rn->n_sels = (size_t)argc;
	return 0;
}

static unsigned timeout_s(const struct run *rn)
{
	return ctx_timeout(rn->c, rn->cfg);
}

/* driver = auto anywhere in this request: --driver, the default, or a set's */
static bool uses_auto(const struct run *rn)
{
	if (rn->verb != VERB_BIND)
		return false;
	if (driver_is_auto(rn->c->driver) || driver_is_auto(rn->cfg->driver))
		return true;
	for (size_t i = 0; i < rn->cfg->n_sets; i++)
		if (driver_is_auto(rn->cfg->sets[i].driver))
			return true;
	return false;
}

/* what a scan reads: a restore is never refused for a use; driver = auto's variants when asked for */
static unsigned scan_flags(const struct run *rn)
{
	return SESSION_SCAN_UNHELD | (rn->verb != VERB_RESTORE ? SESSION_SCAN_USES : 0) |
	       (uses_auto(rn) ? SESSION_SCAN_VARIANTS : 0);
}

/* the lock (not in a dry run), the host, the journal */
static int open_session(struct run *rn)
{
	struct session_opts o = { .cfg = rn->cfg, .scan = scan_flags(rn) };
	char msg[PATH_MAX + 128];
	int st = ctx_open_session(rn->c, &o, &rn->s, msg, sizeof(msg));

	if (st)
		msg_error("%s", msg);
	return st;
}

static int scan_host(struct run *rn)
{
	char msg[PATH_MAX + 128];

	if (session_scan(&rn->s, msg, sizeof(msg)) < 0) {
		msg_error("%s", msg);
		return EXIT_FAILURE_;
	}
	return 0;
}

static void warn_absent_records(const struct run *rn)
{
	for (size_t i = 0; i < rn->s.j->n; i++) {
		struct pciaddr a;

		if (pciaddr_parse(rn->s.j->recs[i].name, &a) == 0 && !pcihost_find(rn->s.h, &a))
			msg_warn("%s is in the journal but not present; its record is kept", rn->s.j->recs[i].name);
	}
}

static int make_plan(struct run *rn);

/*
 * A variant driver's name is known once its module is loaded (vfio_pci
 * registers vfio-pci): load the modules driver = auto picked, then
 * plan again. Nothing in sysfs is written by pcibind before that.
 */
static void say_loaded(void *userdata, const char *module, const char *fn)
{
	msg_info(userdata, "loaded %s, the vfio variant driver of %s", module, fn);
}

static int load_variants(struct run *rn)
{
	struct bind_opts o = { .timeout_ms = timeout_s(rn) * 1000, .modprobe = ctx_modprobe(rn->c) };
	char msg[512];
	size_t fn = (size_t)-1;
	int n = session_load_variants(&rn->s, rn->p, false, &o, say_loaded, rn->c, &fn, msg, sizeof(msg));

	if (n < 0 && fn != (size_t)-1) {
		const struct variant_pick *v = rn->s.h->fns[fn].variant;

		msg_error("cannot bind %s to its vfio variant driver (driver = auto picked %s from %s): %s; "
			  "nothing was changed",
			  rn->s.h->fns[fn].name, v->module, v->alias, msg);
		return EXIT_FAILURE_;
	}
	if (n < 0) {
		msg_error("%s", msg);
		return EXIT_FAILURE_;
	}
	if (n == 0)
		return 0;
	plan_free(rn->p);
	rn->p = NULL;
	return make_plan(rn);
}

static int make_plan(struct run *rn)
{
	struct request req = {
		.verb = rn->verb,
		.driver = rn->c->driver,
		.force = rn->c->force,
		.sels = rn->sels,
		.n_sels = rn->n_sels,
	};
	struct plan_error e = { { 0 } };
	int err = session_plan(&rn->s, &req, &rn->p, &e);

	if (err == -EINVAL) {
		msg_error("%s", e.msg);
		ctx_hint_selectors(rn->c, rn->cfg, rn->sels, rn->n_sels);
		return EXIT_USAGE;
	}
	if (err < 0) {
		msg_error("cannot plan: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	if (rn->verb == VERB_RESTORE && rn->n_sels == 0)
		warn_absent_records(rn);
	return 0;
}

/* Refusals: enforced ones stop everything; forced ones are said aloud. */
static int check_refusals(const struct run *rn)
{
	return msg_refusals(rn->c, rn->s.h, rn->p, 0);
}

static const char *state_text(const char *driver, char *buf, size_t size)
{
	snprintf(buf, size, "%s", driver ? driver : "no driver");
	return buf;
}

static void print_action(const struct action *a, const char *prefix)
{
	char from[80], to[80];

	if (a->noop) {
		printf("%s%s  group %-3d already %s\n", prefix, a->name, a->group,
		       state_text(a->before.driver, from, sizeof(from)));
		return;
	}
	state_text(a->before.driver, from, sizeof(from));
	if (a->target.kernel_picks)
		snprintf(to, sizeof(to), "the host driver the kernel picks");
	else
		state_text(a->target.driver, to, sizeof(to));
	printf("%s%s  group %-3d %s -> %s  (driver_override %s -> %s)\n", prefix, a->name, a->group, from, to,
	       a->before.override ? a->before.override : "(null)", a->target.override ? a->target.override : "(null)");
}

/* what comes with the move: the auto choice and why, reset_method, VF counts */
static void print_action_extras(const struct run *rn, const struct action *a, const char *prefix)
{
	const struct variant_pick *v = rn->s.h->fns[a->fn].variant;

	if (a->auto_driver && v && v->module[0])
		printf("%s  driver = auto: %s (module %s%s): modules.alias %s, %d wildcard%s, the fewest of the "
		       "vfio_pci aliases that match\n",
		       prefix, a->target.driver, v->module, v->driver[0] ? "" : ", loaded first", v->alias,
		       v->wildcards, v->wildcards == 1 ? "" : "s");
	else if (a->auto_driver)
		printf("%s  driver = auto: vfio-pci (%s)\n", prefix,
		       v && v->why[0] ? v->why : "modules.alias not read");
	if (a->reset_method)
		printf("%s  reset_method %s -> %s\n", prefix,
		       a->before.reset_method ? a->before.reset_method : "(none)", a->reset_method);
	if (a->sriov_numvfs >= 0)
		printf("%s  sriov_numvfs %d -> %d%s\n", prefix, a->before.sriov_numvfs, a->sriov_numvfs,
		       rn->verb == VERB_RESTORE ? "" : " first: its VFs are destroyed");
	if (a->sriov_autoprobe != AUTOPROBE_UNKNOWN)
		printf("%s  sriov_drivers_autoprobe -> %d\n", prefix, a->sriov_autoprobe == AUTOPROBE_ON);
}

/* an SR-IOV set's VFs: made first; the VFs the set binds are planned once they exist */
static void print_sriov(const struct sriov_change *c, const struct pcifn *pf, const char *prefix)
{
	printf("%s%s  sriov_numvfs %d -> %d for [%s], with sriov_drivers_autoprobe off until its %zu VF%s are bound",
	       prefix, c->name, c->from, c->to, c->set, c->n_wanted, c->n_wanted == 1 ? "" : "s");
	if (pf->sriov_offset >= 0 && pf->sriov_stride >= 0) {
		struct pciaddr a = pf->addr;
		unsigned rid = ((unsigned)a.bus << 8 | (unsigned)a.dev << 3 | a.fn) + (unsigned)pf->sriov_offset;

		a.bus = (uint8_t)(rid >> 8);
		a.dev = (rid >> 3) & 0x1f;
		a.fn = rid & 7;
		printf(" (VF 0 expected at %04x:%02x:%02x.%x)", a.domain, a.bus, a.dev, a.fn);
	}
	printf("\n");
}

/* a restore undoes a single-GPU step once every function it was done for is back: in this plan, or already */
static bool restore_undoes(const struct run *rn, const struct jstep *st)
{
	_cleanup_free_ char *fns = xstrdup_null(st->fns);
	char *save = NULL;

	for (char *a = fns ? strtok_r(fns, ",", &save) : NULL; a; a = strtok_r(NULL, ",", &save)) {
		bool moved = false;

		for (size_t i = 0; i < rn->p->n_acts && !moved; i++)
			moved = streq(rn->p->acts[i].name, a);
		if (!moved && journal_find(rn->s.j, a))
			return false;
	}
	return fns != NULL;
}

static int print_dry_run(const struct run *rn)
{
	printf("dry run, nothing changed; %s would do:\n", verb_name(rn->verb));
	for (size_t i = 0; i < rn->p->n_sriov; i++)
		print_sriov(&rn->p->sriov[i], &rn->s.h->fns[rn->p->sriov[i].fn], "  ");
	for (size_t i = 0; i < rn->p->n_acts; i++) {
		print_action(&rn->p->acts[i], "  ");
		print_action_extras(rn, &rn->p->acts[i], "  ");
	}
	for (size_t i = rn->s.j->n_steps; rn->verb == VERB_RESTORE && i-- > 0;)
		if (restore_undoes(rn, &rn->s.j->steps[i]))
			printf("  then %s %s %s again\n", rn->s.j->steps[i].kind == JSTEP_UNIT ? "start" : "bind",
			       jstep_kind_name(rn->s.j->steps[i].kind), rn->s.j->steps[i].name);
	return EXIT_OK;
}

static const char *verb_phrase(const struct action *a, enum verb v, char *buf, size_t size)
{
	if (v == VERB_BIND)
		snprintf(buf, size, "bind %s to %s", a->name, a->target.driver);
	else
		snprintf(buf, size, "%s %s", verb_name(v), a->name);
	return buf;
}

static void report_failure(const struct run *rn, const struct action *a, const struct outcome *o)
{
	char what[128];

	verb_phrase(a, rn->verb, what, sizeof(what));
	/* what to run once the device is let go: said here, or by the rollback report when it could not put it back */
	if (o->status == OUT_TIMEOUT && !(o->changed && o->rollback_err < 0))
		msg_error("cannot %s: %s. Then run 'pcibind restore %s'.", what, o->msg, a->name);
	else
		msg_error("cannot %s: %s", what, o->msg);
}

/* After a failure: say what was put back, and what could not be */
static void report_rollback(const struct run *rn, const struct outcome *outs)
{
	char back[1024] = "";
	size_t len = 0;

	for (size_t i = 0; i < rn->p->n_acts; i++) {
		const struct action *a = &rn->p->acts[i];
		const struct outcome *o = &outs[i];

		if (!o->changed)
			continue;
		if (o->rollback_err < 0) {
			msg_error("%s was NOT put back: %s; run 'pcibind restore %s'", a->name, o->rollback_msg,
				  a->name);
			continue;
		}
		if (len < sizeof(back))
			len += (size_t)snprintf(back + len, sizeof(back) - len, "%s%s on %s", len ? ", " : "", a->name,
						a->before.driver ? a->before.driver : "no driver");
	}
	if (len)
		msg_error("put back as it was: %s", back);
}

static void report_done(const struct run *rn, const struct outcome *outs)
{
	size_t done = 0;

	for (size_t i = 0; i < rn->p->n_acts; i++) {
		const struct action *a = &rn->p->acts[i];

		if (outs[i].status != OUT_DONE)
			continue;
		done++;
		msg_info(rn->c, "%s: %s -> %s", a->name, a->before.driver ? a->before.driver : "no driver",
			 outs[i].driver_now[0] ? outs[i].driver_now : "no driver");
		if (rn->verb == VERB_RESTORE && !outs[i].driver_now[0])
			msg_warn("%s has no driver now: no loaded host driver claims %s", a->name, a->name);
	}
	msg_debug(rn->c, "%zu of %zu functions changed", done, rn->p->n_acts);
}

/* /dev/vfio/N gets its owner and mode from udev: wait (bounded) until udev has handled the moves */
static void wait_udev(const struct run *rn, const struct outcome *outs, struct udevwait *w)
{
	const char *names[64], *drivers[64], *pending = "";
	size_t n = 0;

	for (size_t i = 0; i < rn->p->n_acts && n < ARRAY_SIZE(names); i++) {
		if (outs[i].status != OUT_DONE)
			continue;
		names[n] = rn->p->acts[i].name;
		drivers[n++] = outs[i].driver_now[0] ? outs[i].driver_now : NULL;
	}
	if (udevwait_end(w, names, drivers, n, UDEV_WAIT_MS, &pending) == -ETIMEDOUT)
		msg_warn("udev has not finished with %s within %d s; device nodes may not have their final owner "
			 "and mode yet",
			 pending[0] ? pending : "the events", UDEV_WAIT_MS / 1000);
}

static int execute(struct run *rn, struct outcome **ret_outs)
{
	char steps_msg[512] = "";
	struct bind_opts o = { .timeout_ms = timeout_s(rn) * 1000,
			       .modprobe = ctx_modprobe(rn->c),
			       .cfg = rn->cfg,
			       .steps_msg = steps_msg,
			       .steps_msg_size = sizeof(steps_msg) };
	struct outcome *outs = NULL;
	struct udevwait *w = NULL;
	char msg[512];
	int jerr = 0, err;

	(void)udevwait_begin(rn->c->root, &w); /* before the first write: no event missed */
	if ((err = bind_load_drivers(rn->c->root, rn->p, &o, msg, sizeof(msg))) < 0) {
		udevwait_free(w);
		msg_error("cannot %s: %s; nothing was changed", verb_name(rn->verb), msg);
		return err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE_;
	}
	err = session_run(&rn->s, rn->p, &o, &outs, &jerr);
	if (err < 0 && err != -EIO && err != -ETIMEDOUT) {
		udevwait_free(w);
		msg_error("cannot write the journal %s (needed before any change): %s; nothing was changed",
			  JOURNAL_FILE, strerror(-err));
		return EXIT_FAILURE_;
	}
	if (err == 0)
		wait_udev(rn, outs, w);
	else
		udevwait_free(w);
	for (size_t i = 0; i < rn->p->n_acts; i++)
		if (outs[i].status == OUT_FAILED || outs[i].status == OUT_TIMEOUT)
			report_failure(rn, &rn->p->acts[i], &outs[i]);
	if (err < 0)
		report_rollback(rn, outs);
	else
		report_done(rn, outs);
	if (jerr < 0)
		msg_warn("could not update the journal %s: %s", JOURNAL_FILE, strerror(-jerr));
	if (steps_msg[0])
		msg_error("%s; run 'pcibind restore' again once fixed", steps_msg);
	*ret_outs = outs;
	if (err == 0 && steps_msg[0])
		return EXIT_FAILURE_;
	return err == 0 ? EXIT_OK : err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE_;
}

/* With --force a PF moved away lost its VFs: say so, with how to have them back */
static void report_destroyed(const struct run *rn, const struct outcome *outs)
{
	for (size_t i = 0; i < rn->p->n_acts; i++) {
		const struct action *a = &rn->p->acts[i];
		const struct fnstate *rec = journal_find(rn->s.j, a->name);
		int back = rec && rec->sriov_numvfs >= 0 ? rec->sriov_numvfs : a->before.sriov_numvfs;

		if (rn->verb == VERB_RESTORE || a->sriov_numvfs != 0 || outs[i].status != OUT_DONE)
			continue;
		msg_warn("%s: its %d VF%s %s destroyed; 'pcibind restore %s' gives it %d again", a->name,
			 a->before.sriov_numvfs, a->before.sriov_numvfs == 1 ? "" : "s",
			 a->before.sriov_numvfs == 1 ? "was" : "were", a->name, back);
	}
}

/*
 * An SR-IOV set's VFs: created (bind_sriov_begin()), the host read again,
 * the set's VFs planned and bound, then the rest of the new VFs handed to
 * their host driver (bind_sriov_end()); if the binding fails, the VF count
 * goes back too.
 */
static int execute_sriov(struct run *rn, struct outcome **ret_outs)
{
	struct bind_opts o = { .timeout_ms = timeout_s(rn) * 1000, .modprobe = ctx_modprobe(rn->c) };
	struct sriov_outcome *so = NULL;
	struct plan *first = rn->p;
	int err = session_sriov_begin(&rn->s, first, &o, &so), st;

	if (err < 0 && err != -EIO) {
		msg_error("cannot write the journal %s (needed before any change): %s; nothing was changed",
			  JOURNAL_FILE, strerror(-err));
		return EXIT_FAILURE_;
	}
	rn->sriov_plan = first;
	rn->p = NULL;
	for (size_t i = 0; i < first->n_sriov; i++) {
		if (so[i].err < 0)
			msg_error("cannot create the VFs of [%s] on %s: %s; put back as it was", first->sriov[i].set,
				  first->sriov[i].name, so[i].msg);
		else if (so[i].count_changed)
			msg_info(rn->c, "%s: %d VFs for [%s]", first->sriov[i].name, first->sriov[i].to,
				 first->sriov[i].set);
	}
	st = err < 0 ? EXIT_FAILURE_ : 0;
	if (!st && !(st = scan_host(rn)) && !(st = make_plan(rn)) && !(st = load_variants(rn)) &&
	    !(st = check_refusals(rn)))
		st = plan_changes(rn->p) ? execute(rn, ret_outs) : EXIT_OK;
	if (rn->p && rn->p->n_sriov && st == EXIT_OK) {
		msg_error("the VFs did not come out as planned; put back");
		st = EXIT_FAILURE_;
	}
	/* a write that hung blocks every other one on the PF: leave the rest to restore */
	if (st != EXIT_TIMEOUT && session_sriov_end(&rn->s, first, &o, so, st != EXIT_OK) < 0)
		for (size_t i = 0; i < first->n_sriov; i++)
			if (so[i].err == 0 && so[i].msg[0])
				msg_warn("%s: %s", first->sriov[i].name, so[i].msg);
	for (size_t i = 0; st != EXIT_OK && st != EXIT_TIMEOUT && i < first->n_sriov; i++)
		if (so[i].err == 0 && so[i].count_changed)
			msg_error("%s: its VF count was put back to %d", first->sriov[i].name, first->sriov[i].from);
	free(so);
	/* the report shows the VFs made, with the moves of their set */
	if (!rn->p) {
		rn->p = first;
		rn->sriov_plan = NULL;
	} else if (!rn->p->n_sriov) {
		rn->p->sriov = first->sriov;
		rn->p->n_sriov = first->n_sriov;
		first->sriov = NULL;
		first->n_sriov = 0;
	}
	return st;
}

static int nothing_to_do(const struct run *rn)
{
	msg_info(rn->c, "nothing to do: every selected function is already where %s would put it", verb_name(rn->verb));
	return EXIT_OK;
}

/* a restore of functions pcibind did not move: where each one is */
static void nothing_to_restore(const struct run *rn)
{
	char list[512] = "", drv[80];

	for (size_t i = 0; i < rn->p->n_acts; i++) {
		const struct action *a = &rn->p->acts[i];

		strappendf(list, sizeof(list), "%s%s on %s", i ? ", " : "", a->name,
			   state_text(a->before.driver, drv, sizeof(drv)));
	}
	msg_info(rn->c, "nothing to restore: pcibind moved none of them (%s)", list);
}

/*
 * Single-GPU steps (units stopped, consoles released) whose functions have
 * no record any more: a post-stop that was killed after giving the GPU
 * back. A restore finishes them: the display manager starts again.
 */
static int undo_left_steps(struct run *rn)
{
	char msg[512] = "";
	struct bind_opts o = {
		.timeout_ms = timeout_s(rn) * 1000, .cfg = rn->cfg, .steps_msg = msg, .steps_msg_size = sizeof(msg)
	};
	int n = session_undo_steps(&rn->s, &o);

	if (n < 0) {
		msg_error("%s; run 'pcibind restore' again once fixed", msg);
		return EXIT_FAILURE_;
	}
	if (n == 0)
		return nothing_to_do(rn);
	msg_info(rn->c,
		 "%d single-GPU step(s) an earlier run left were undone (units started, consoles and "
		 "framebuffers bound again)",
		 n);
	return EXIT_OK;
}

/*
 * A function on a VFIO driver whose device nodes a process holds (a VM
 * running): unbinding it makes vfio-pci ask the holder to give the device
 * up (QEMU's request notifier pulls it out of the running guest) or wait
 * until it does. Refused, naming the process, unless --force.
 */
static int check_holders(const struct run *rn)
{
	bool refused = false;

	for (size_t i = 0; i < rn->p->n_acts; i++) {
		const struct action *a = &rn->p->acts[i];
		const struct pcifn *f = &rn->s.h->fns[a->fn];
		char holders[512];

		if (a->noop || !driver_is_vfio(f->driver) || streq_null(f->driver, a->target.driver) ||
		    holders_describe(rn->c->root, f, holders, sizeof(holders)) <= 0)
			continue;
		if (rn->c->force) {
			msg_warn(
			    "overridden by --force: %s is in use (%s); the kernel asks the holder to give it up and "
			    "waits for it",
			    a->name, holders);
			continue;
		}
		msg_error("cannot %s %s: it is in use by a VM or another VFIO user: %s; taking it now would pull it "
			  "out of the running guest; stop the VM first, or use --force",
			  verb_name(rn->verb), a->name, holders);
		refused = true;
	}
	if (!refused)
		return 0;
	msg_error("refused; nothing was changed");
	return EXIT_REFUSED;
}

static int run_verb(struct ctx *c, enum verb v, int argc, char **argv)
{
	struct run rn = { .c = c, .verb = v, .s = { .lock_fd = -1 } };
	struct outcome *outs = NULL;
	int st;

	if ((st = parse_selectors(&rn, argc, argv)) || (st = ctx_load_config(c, &rn.cfg)))
		goto out;
	/* a dry run writes nothing, not even the lock */
	if ((st = open_session(&rn)) || (st = make_plan(&rn)) || (!c->dry_run && (st = load_variants(&rn))) ||
	    (st = check_refusals(&rn)) || (st = check_holders(&rn)))
		goto out;
	if (c->dry_run)
		st = c->json ? EXIT_OK : print_dry_run(&rn);
	else if (plan_changes(rn.p) == 0 && !(v == VERB_RESTORE && rn.p->n_acts))
		st = v == VERB_RESTORE && rn.s.j->n_steps ? undo_left_steps(&rn) : nothing_to_do(&rn);
	else if (rn.p->n_sriov)
		st = execute_sriov(&rn, &outs);
	else if ((st = execute(&rn, &outs)) == EXIT_OK) {
		report_destroyed(&rn, outs);
		if (v == VERB_RESTORE && !plan_changes(rn.p))
			nothing_to_restore(&rn);
	}
out:
	/* a report whenever there was a request to report on */
	if (c->json && (rn.p || st != EXIT_USAGE) && report_json(verb_name(v), rn.p, outs, c->dry_run, st) < 0 && !st)
		st = EXIT_FAILURE_;
	free(outs);
	run_free(&rn);
	return st;
}

static int run_bind(struct ctx *c, int argc, char **argv)
{
	int r = ctx_check_driver(c, c->driver);

	return r ? r : run_verb(c, VERB_BIND, argc, argv);
}

static int run_unbind(struct ctx *c, int argc, char **argv)
{
	if (c->driver) {
		msg_error("--driver applies to bind only");
		return EXIT_USAGE;
	}
	return run_verb(c, VERB_UNBIND, argc, argv);
}

static int run_restore(struct ctx *c, int argc, char **argv)
{
	if (c->driver) {
		msg_error("--driver applies to bind only");
		return EXIT_USAGE;
	}
	return run_verb(c, VERB_RESTORE, argc, argv);
}

const struct cmd cmd_bind = {
	.name = "bind",
	.run = run_bind,
	.args = "SEL... [--driver D]",
	.help = "hand functions to vfio-pci (or D) by driver_override",
};

const struct cmd cmd_unbind = {
	.name = "unbind",
	.run = run_unbind,
	.args = "SEL...",
	.help = "detach functions and keep them driverless",
};

const struct cmd cmd_restore = {
	.name = "restore",
	.run = run_restore,
	.args = "[SEL...]",
	.help = "give functions back to their host driver (no SEL: all pcibind moved)",
};
