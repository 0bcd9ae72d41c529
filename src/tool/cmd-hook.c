/* cmd-hook.c - pcibind hook proxmox|libvirt: hand a VM's PCI functions over when it starts, back when it stops */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bind.h"
#include "cmd.h"
#include "console.h"
#include "hook-libvirt.h"
#include "hook-proxmox.h"
#include "hook-record.h"
#include "journal.h"
#include "json.h"
#include "plan.h"
#include "report.h"
#include "usage.h"

#define VM_SHOWN_MAX 64

/* One hook run: which VM, what it holds, the host as scanned */
struct hook {
	struct ctx *c;
	const char *kind;	    /* "proxmox", "libvirt" */
	const char *name;	    /* the VMID or domain name as given: for the record and the JSON report */
	char vm[VM_SHOWN_MAX + 16]; /* printable, shortened: for messages only */
	const char *phase;
	char record[PATH_MAX]; /* HOOK_RECORD_DIR/KIND-NAME */
	struct config *cfg;
	struct session s;      /* the lock, the host (s.h), the journal (s.j) */
	struct hook_devs devs; /* what the VM gets from pcibind, or got: what is given back */
	struct hook_devs kept; /* Proxmox driver=keep: the VM's, left where they are */
	struct plan *plan;     /* the plan carried out (or planned), for --json */
	struct outcome *outs;
	int result; /* the phase's own status (a stop's failure does not reach Proxmox), -1: none */
};

static void hook_msg(int level, const struct hook *hk, const char *fmt, ...) _printf_(3, 4);

/* Every line names the hook, the VM and the phase: it lands in Proxmox's task log or libvirt's log */
static void hook_msg(int level, const struct hook *hk, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (level == 3)
		msg_error("hook: %s %s: %s", hk->vm, hk->phase, text);
	else if (level == 4)
		msg_warn("hook: %s %s: %s", hk->vm, hk->phase, text);
	else
		msg_info(hk->c, "hook: %s %s: %s", hk->vm, hk->phase, text);
}

/* A name from the caller is data: shown shortened, non-printable bytes as '?' */
static void shown_name(const char *kind, const char *name, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "%s ", kind), len = strlen(name);

	for (size_t i = 0; i < len && i < VM_SHOWN_MAX && n + 1 < size; i++)
		buf[n++] = isprint((unsigned char)name[i]) && name[i] != '%' ? name[i] : '?';
	buf[n] = '\0';
	if (len > VM_SHOWN_MAX && n + 4 < size)
		strcat(buf, "...");
}

static void hook_free(struct hook *hk)
{
	plan_free(hk->plan);
	free(hk->outs);
	hook_devs_free(&hk->devs);
	hook_devs_free(&hk->kept);
	session_close(&hk->s);
	config_free(hk->cfg);
}

static unsigned timeout_s(const struct hook *hk)
{
	return ctx_timeout(hk->c, hk->cfg);
}

/*
 * The driver_override of a driverless function is read in a guarded child
 * (devlock.c): only for the VM's functions and their IOMMU groups, the
 * ones a plan looks at. When they all have drivers, there is no fork.
 */
static int read_locked(struct hook *hk)
{
	_cleanup_free_ bool *want = calloc(hk->s.h->n ? hk->s.h->n : 1, sizeof(*want));
	int err;

	if (!want) {
		hook_msg(3, hk, "out of memory");
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < hk->devs.n; i++) {
		const struct pcifn *f = pcihost_find(hk->s.h, &hk->devs.addrs[i]);

		for (size_t k = 0; f && k < hk->s.h->n; k++)
			want[k] |= &hk->s.h->fns[k] == f || (f->group >= 0 && hk->s.h->fns[k].group == f->group);
	}
	if ((err = pcihost_read_locked(hk->c->root, hk->s.h, want)) < 0) {
		hook_msg(3, hk, "cannot read sys/bus/pci/devices: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}

/* the host read again (the first read is the session's): the VM's functions' overrides with it */
static int scan(struct hook *hk)
{
	char msg[PATH_MAX + 128];

	if (session_scan(&hk->s, msg, sizeof(msg)) < 0) {
		hook_msg(3, hk, "%s", msg);
		return EXIT_FAILURE_;
	}
	return hk->devs.n ? read_locked(hk) : 0; /* the first scan comes before the devices are known */
}

/*
 * config, lock, devices, journal: everything a phase that acts needs. The
 * uses (usage_scan) only when something would move: plan_take().
 */
static int prepare(struct hook *hk)
{
	struct session_opts o = { .scan = SESSION_SCAN_DEFERRED };
	char msg[PATH_MAX + 128];
	int st;

	if ((st = ctx_load_config(hk->c, &hk->cfg)))
		return st;
	o.cfg = hk->cfg;
	if ((st = ctx_open_session(hk->c, &o, &hk->s, msg, sizeof(msg))))
		hook_msg(3, hk, "%s", msg);
	return st;
}

/* The set (if any) a function belongs to */
static const struct devset *set_of(const struct hook *hk, const struct pciaddr *a)
{
	const struct pcifn *f = pcihost_find(hk->s.h, a);

	for (size_t i = 0; f && i < hk->cfg->n_sets; i++)
		if (devset_selects(&hk->cfg->sets[i], a, f->vendor, f->device))
			return &hk->cfg->sets[i];
	return NULL;
}

/* 0 with *ret, -1 when no function needs it (restore), else an exit status */
static int make_plan(struct hook *hk, enum verb v, struct plan **ret)
{
	struct selector *sels = calloc(hk->devs.n ? hk->devs.n : 1, sizeof(*sels));
	struct request req = { .verb = v, .driver = hk->c->driver, .force = hk->c->force, .sels = sels };
	struct plan_error e = { { 0 } };
	int err;

	if (!sels)
		return EXIT_FAILURE_;
	for (size_t i = 0; i < hk->devs.n; i++) {
		char name[PCIADDR_STRLEN];

		/* give back only what pcibind moved: a function claimed at boot stays where it is */
		pciaddr_format(&hk->devs.addrs[i], name);
		if (v != VERB_RESTORE || journal_find(hk->s.j, name))
			sels[req.n_sels++] = (struct selector){ .kind = SEL_FUNCTION, .addr = hk->devs.addrs[i] };
	}
	if (!req.n_sels) {
		free(sels);
		return -1; /* nothing to do */
	}
	err = session_plan(&hk->s, &req, ret, &e);
	free(sels);
	if (err == -EINVAL) {
		hook_msg(3, hk, "%s", e.msg);
		return EXIT_USAGE;
	}
	if (err < 0) {
		hook_msg(3, hk, "cannot plan: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}

/* driver = auto anywhere: each function's vfio variant looked up (modules.alias read, nothing loaded) */
static int hook_variants(struct hook *hk)
{
	bool any = driver_is_auto(hk->c->driver) || driver_is_auto(hk->cfg->driver);

	for (size_t i = 0; i < hk->cfg->n_sets; i++)
		any |= driver_is_auto(hk->cfg->sets[i].driver);
	if (any && session_read_variants(&hk->s) < 0) {
		hook_msg(3, hk, "driver = auto: out of memory");
		return EXIT_FAILURE_;
	}
	return 0;
}

/*
 * The variant modules the plan's driver = auto functions need, loaded (not
 * in a dry run), then the plan made again with their driver names: only
 * the VM's functions, never the rest of the host. 0 or an exit status.
 */
static int hook_load_variants(struct hook *hk, struct plan **p)
{
	struct bind_opts o = { .timeout_ms = timeout_s(hk) * 1000, .modprobe = ctx_modprobe(hk->c) };
	char msg[512] = "out of memory";
	size_t fn;
	int n;

	if (hk->c->dry_run)
		return 0;
	if ((n = session_load_variants(&hk->s, *p, true, &o, NULL, NULL, &fn, msg, sizeof(msg))) < 0) {
		hook_msg(3, hk, "driver = auto: %s", msg);
		return EXIT_FAILURE_;
	}
	if (n == 0)
		return 0;
	plan_free(*p);
	*p = NULL;
	return make_plan(hk, VERB_BIND, p);
}

/*
 * What the host uses a function for (console, mounts, swap, routes, input)
 * refuses only a function that would move: a VM whose functions are all on
 * vfio-pci already starts without reading mountinfo and the routing table.
 */
static int plan_take(struct hook *hk, struct plan **ret)
{
	int st;

	if ((st = hook_variants(hk)) || (st = make_plan(hk, VERB_BIND, ret)))
		return st;
	if ((st = hook_load_variants(hk, ret)))
		return st;
	if (!plan_changes(*ret))
		return 0;
	plan_free(*ret);
	*ret = NULL;
	session_read_uses(&hk->s);
	return make_plan(hk, VERB_BIND, ret);
}

/*
 * The console refusal is what release_console is for: a set that asks for
 * it has said the host may lose its display while the VM runs.
 */
static int check_refusals(struct hook *hk, struct plan *p, bool again)
{
	bool refused = false, busy = false;

	for (size_t i = 0; i < p->n_refusals; i++) {
		struct refusal *f = &p->refusals[i];
		struct pciaddr a;
		const struct devset *set;

		if (f->kind == REFUSE_CONSOLE && pciaddr_parse(f->fn, &a) == 0 && (set = set_of(hk, &a)) &&
		    set->release_console) {
			f->forced = true;
			if (!again)
				hook_msg(6, hk, "[%s] release_console: %s", set->name, f->msg);
			continue;
		}
		if (f->forced) {
			hook_msg(4, hk, "overridden by --force: %s", f->msg);
			continue;
		}
		hook_msg(3, hk, "%s", f->msg);
		refused = true;
		busy |= f->kind == REFUSE_BUSY;
	}
	if (!refused)
		return 0;
	hook_msg(3, hk, "refused; nothing was changed");
	return busy ? EXIT_TIMEOUT : EXIT_REFUSED;
}

static struct bind_opts bind_opts_for(const struct hook *hk, char *steps_msg, size_t size)
{
	struct bind_opts o = { .timeout_ms = timeout_s(hk) * 1000, .steps_msg = steps_msg, .steps_msg_size = size };

	o.systemctl = steps_find_systemctl(hk->c->root);
	o.modprobe = ctx_modprobe(hk->c);
	o.cfg = hk->cfg;
	return o;
}

static void report(const struct hook *hk, const struct plan *p, const struct outcome *outs, int err)
{
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];
		const struct outcome *o = &outs[i];

		if (o->status == OUT_DONE)
			hook_msg(6, hk, "%s: %s -> %s", a->name, a->before.driver ? a->before.driver : "no driver",
				 o->driver_now[0] ? o->driver_now : "no driver");
		else if (o->status == OUT_FAILED || o->status == OUT_TIMEOUT)
			hook_msg(3, hk, "%s: %s", a->name, o->msg);
		if (err < 0 && o->changed && o->rollback_err < 0)
			hook_msg(3, hk, "%s was NOT put back: %s; run 'pcibind restore %s'", a->name, o->rollback_msg,
				 a->name);
	}
}

/* The plan a --json report shows: the first one carried out (a failed start's give-back is not it) */
static void keep_for_report(struct hook *hk, struct plan *p, struct outcome *outs)
{
	if (!hk->plan) {
		hk->plan = p;
		hk->outs = outs;
		return;
	}
	plan_free(p);
	free(outs);
}

/* Carry a plan out; an exit status */
static int execute(struct hook *hk, struct plan *p, struct outcome **ret_outs)
{
	char steps_msg[512] = "", msg[512];
	struct bind_opts o = bind_opts_for(hk, steps_msg, sizeof(steps_msg));
	struct outcome *outs = NULL;
	int jerr = 0, err;

	*ret_outs = NULL;
	if (bind_load_drivers(hk->c->root, p, &o, msg, sizeof(msg)) < 0) {
		hook_msg(3, hk, "%s", msg);
		return EXIT_FAILURE_;
	}
	err = session_run(&hk->s, p, &o, &outs, &jerr);
	if (err < 0 && err != -EIO && err != -ETIMEDOUT) {
		hook_msg(3, hk, "cannot write the journal %s: %s", JOURNAL_FILE, strerror(-err));
		return EXIT_FAILURE_;
	}
	report(hk, p, outs, err);
	if (jerr < 0)
		hook_msg(4, hk, "could not update the journal %s: %s", JOURNAL_FILE, strerror(-jerr));
	if (steps_msg[0])
		hook_msg(3, hk, "%s; 'pcibind restore' retries", steps_msg);
	*ret_outs = outs;
	return err == 0 ? EXIT_OK : err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_FAILURE_;
}

/* Steps an earlier restore could not undo (a unit that did not start): no function record calls bind_run */
static int retry_steps(struct hook *hk)
{
	struct steps_opts so = { steps_find_systemctl(hk->c->root), timeout_s(hk) * 1000, hk->cfg };
	char msg[512];
	int n;

	if (!hk->s.j->n_steps || hk->c->dry_run)
		return EXIT_OK;
	if ((n = session_steps_undo(&hk->s, &so, msg, sizeof(msg))) < 0) {
		hook_msg(3, hk, "%s; 'pcibind restore' retries", msg);
		return EXIT_FAILURE_;
	}
	if (n)
		hook_msg(6, hk, "%d single-GPU step(s) left from an earlier run undone", n);
	return EXIT_OK;
}

static const char *origin_of(const struct hook *hk, const struct pciaddr *a)
{
	for (size_t i = 0; i < hk->devs.n; i++)
		if (pciaddr_cmp(&hk->devs.addrs[i], a) == 0)
			return hk->devs.origin[i];
	return "";
}

/* --dry-run: each function with where it is and where it would go */
static void print_dry_run(const struct hook *hk, const struct plan *p, const char *what)
{
	if (hk->c->json)
		return;
	printf("dry run, nothing changed; %s %s would %s:\n", hk->vm, hk->phase, what);
	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];
		const char *from = a->before.driver ? a->before.driver : "no driver";
		struct pciaddr addr;

		(void)pciaddr_parse(a->name, &addr);
		if (a->noop)
			printf("  %s  group %-3d already on %s  (%s)\n", a->name, a->group, from, origin_of(hk, &addr));
		else
			printf("  %s  group %-3d %s -> %s  (%s)\n", a->name, a->group, from,
			       a->target.kernel_picks ? "the host driver the kernel picks"
			       : a->target.driver     ? a->target.driver
						      : "no driver",
			       origin_of(hk, &addr));
	}
	if (!p->n_acts)
		printf("  nothing\n");
}

/* Give every function of the VM back (post-stop, or a failed pre-start: rescan, the host changed) */
static int give_back(struct hook *hk, bool rescan)
{
	struct plan *p = NULL;
	struct outcome *outs = NULL;
	int st;

	if (rescan && (st = scan(hk)))
		return st;
	if ((st = make_plan(hk, VERB_RESTORE, &p)) == -1) {
		hook_msg(6, hk, "nothing to give back: pcibind moved none of the VM's functions");
		if (hk->c->dry_run)
			printf("dry run, nothing changed; %s %s would give back nothing\n", hk->vm, hk->phase);
		return retry_steps(hk);
	}
	if (st)
		return st;
	if (hk->c->dry_run)
		print_dry_run(hk, p, "give back");
	else
		st = execute(hk, p, &outs);
	keep_for_report(hk, p, outs);
	return st;
}

/* The set of each function that asks for single-GPU steps, once, with the functions it covers */
static int record_originals(struct hook *hk, const struct devset *set, char *fns, size_t size)
{
	size_t len = 0;
	int err;

	fns[0] = '\0';
	for (size_t i = 0; i < hk->devs.n; i++) {
		const struct pcifn *f = pcihost_find(hk->s.h, &hk->devs.addrs[i]);
		struct fnstate s;

		if (!f || set_of(hk, &f->addr) != set)
			continue;
		if ((err = fnstate_from_fn(f, &s)) < 0)
			return err;
		err = session_note(&hk->s, &s); /* an existing record is kept: the original state wins */
		fnstate_clear(&s);
		if (err < 0)
			return err;
		len += (size_t)snprintf(fns + len, len < size ? size - len : 0, "%s%s", len ? "," : "", f->name);
	}
	if (len >= size)
		return -ENAMETOOLONG;
	return session_save(&hk->s);
}

static bool set_seen(const struct hook *hk, size_t upto, const struct devset *set)
{
	for (size_t i = 0; i < upto; i++)
		if (set_of(hk, &hk->devs.addrs[i]) == set)
			return true;
	return false;
}

/* stop_units and release_console of every set involved, each journaled first */
static int apply_steps(struct hook *hk)
{
	struct steps_opts so = { steps_find_systemctl(hk->c->root), timeout_s(hk) * 1000, hk->cfg };
	char fns[4096], msg[512];
	int err, done = 0;

	for (size_t i = 0; i < hk->devs.n; i++) {
		const struct devset *set = set_of(hk, &hk->devs.addrs[i]);

		if (!set || (!set->n_stop_units && !set->release_console) || set_seen(hk, i, set))
			continue;
		if ((err = record_originals(hk, set, fns, sizeof(fns))) < 0) {
			hook_msg(3, hk, "cannot write the journal %s: %s", JOURNAL_FILE, strerror(-err));
			return -1;
		}
		if ((err = session_steps_apply(&hk->s, set, fns, &so, msg, sizeof(msg))) < 0) {
			hook_msg(3, hk, "[%s]: %s", set->name, msg);
			return -1;
		}
		if (err > 0)
			hook_msg(6, hk, "[%s]: %d single-GPU step(s) done (units stopped, console released)", set->name,
				 err);
		done += err;
	}
	return done;
}

/* A failed start: put everything back, say so; the start is aborted */
static int abort_start(struct hook *hk, int st)
{
	if (give_back(hk, true) == EXIT_OK) {
		hook_msg(3, hk, "everything was put back; the VM is not started");
		(void)hook_record_remove(hk->c->root, hk->record);
	} else {
		hook_msg(3, hk, "the VM is not started; run 'pcibind restore' to put the rest back");
	}
	return st ? st : EXIT_FAILURE_;
}

static bool same_functions(const struct hook_devs *a, const struct hook_devs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!hook_devs_has(b, &a->addrs[i]))
			return false;
	return true;
}

/*
 * The record of what this start hands over, written before anything moves:
 * the stop gives back what it lists, whatever the VM config says by then.
 * What an earlier start recorded and no stop gave back is named, not taken
 * over: another VM may have it now. A record that already says the same is
 * not written again (a VM whose functions stay on vfio-pci starts without
 * an fsync).
 */
static int write_record(struct hook *hk)
{
	struct hook_devs old = { 0 };
	char a[PCIADDR_STRLEN];
	bool same = false;
	int err;

	if (hook_record_load(hk->c->root, hk->record, &old, NULL) == 0) {
		for (size_t i = 0; i < old.n; i++) {
			pciaddr_format(&old.addrs[i], a);
			if (!hook_devs_has(&hk->devs, &old.addrs[i]) && journal_find(hk->s.j, a))
				hook_msg(4, hk,
					 "%s, handed to this VM at an earlier start, was never given back (no stop "
					 "ran); it stays as it is until 'pcibind restore %s'",
					 a, a);
		}
		same = same_functions(&old, &hk->devs);
		hook_devs_free(&old);
	}
	if (!same && (err = hook_record_save(hk->c->root, hk->record, &hk->devs, hk->vm)) < 0) {
		hook_msg(3, hk, "cannot write /%s: %s; nothing was changed", hk->record, strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}

/* This VM's own QEMU: a Proxmox VM's by its pidfile argument (a libvirt domain's QEMU has exited by release end) */
static bool own_process(const struct hook *hk, unsigned long pid)
{
	return streq(hk->kind, "proxmox") && proxmox_qemu_vmid(hk->c->root, pid) == strtoul(hk->name, NULL, 10);
}

/*
 * Who other than this VM holds one of a's VFIO nodes, as one phrase into
 * buf ("VM 100 (kvm, pid 4242) holds /dev/vfio/2"); 0 when nobody does.
 */
static int held_by_others(const struct hook *hk, const struct pciaddr *a, char *buf, size_t size)
{
	const struct pcifn *f = pcihost_find(hk->s.h, a);
	struct holder hs[8];
	int n = f ? holders_vfio(hk->c->root, f, hs, ARRAY_SIZE(hs)) : 0, others = 0;
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(hs); i++) {
		unsigned long vmid = proxmox_qemu_vmid(hk->c->root, hs[i].pid);

		if (own_process(hk, hs[i].pid))
			continue;
		if (len + 1 < size && vmid)
			len += (size_t)snprintf(buf + len, size - len, "%sthe running VM %lu (%s, pid %lu) holds %s",
						others ? ", " : "", vmid, hs[i].comm, hs[i].pid, hs[i].node);
		else if (len + 1 < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s (pid %lu) holds %s", others ? ", " : "",
						hs[i].comm, hs[i].pid, hs[i].node);
		others++;
	}
	return others;
}

/*
 * A function another VM (or any other process) holds through VFIO is that
 * VM's: a start may not take it (QEMU could not open the group anyway, and
 * binding it would pull it from under the running guest). 0 or EXIT_REFUSED.
 */
static int refuse_held(const struct hook *hk)
{
	bool refused = false;

	for (size_t i = 0; i < hk->devs.n; i++) {
		char who[512], a[PCIADDR_STRLEN];

		if (!held_by_others(hk, &hk->devs.addrs[i], who, sizeof(who)))
			continue;
		pciaddr_format(&hk->devs.addrs[i], a);
		hook_msg(3, hk, "%s: %s: %s; it is in use, this VM cannot have it until that stops", hk->devs.origin[i],
			 a, who);
		refused = true;
	}
	if (!refused)
		return 0;
	hook_msg(3, hk, "refused; nothing was changed");
	return EXIT_REFUSED;
}

static void hook_devs_drop(struct hook_devs *d, size_t i)
{
	memmove(&d->addrs[i], &d->addrs[i + 1], (d->n - i - 1) * sizeof(d->addrs[0]));
	memmove(&d->origin[i], &d->origin[i + 1], (d->n - i - 1) * sizeof(d->origin[0]));
	d->n--;
}

/*
 * A stop never moves a function another process holds through VFIO,
 * whatever the record or the config says: another running VM has it now.
 * It stays where it is, with its journal record, for that VM's stop.
 */
static void keep_held(struct hook *hk)
{
	for (size_t i = 0; i < hk->devs.n;) {
		char who[512], a[PCIADDR_STRLEN];

		if (!held_by_others(hk, &hk->devs.addrs[i], who, sizeof(who))) {
			i++;
			continue;
		}
		pciaddr_format(&hk->devs.addrs[i], a);
		hook_msg(4, hk, "%s: not given back: %s; it stays as it is", a, who);
		hook_devs_drop(&hk->devs, i);
	}
}

/* pre-start / prepare: every function to vfio-pci (or its set's driver), single-GPU steps first */
static int take(struct hook *hk)
{
	struct plan *p = NULL;
	struct outcome *outs = NULL;
	int st, steps;

	if (!hk->devs.n) {
		hook_msg(6, hk, "no PCI devices to hand over");
		if (!hk->c->dry_run)
			(void)hook_record_remove(hk->c->root, hk->record);
		else if (!hk->c->json)
			printf("dry run, nothing changed; %s %s would hand over nothing\n", hk->vm, hk->phase);
		return EXIT_OK;
	}
	if ((st = refuse_held(hk)) || (st = plan_take(hk, &p)) || (st = check_refusals(hk, p, false)))
		goto out;
	if (hk->c->dry_run) {
		print_dry_run(hk, p, "hand over");
		goto out;
	}
	if ((st = write_record(hk)))
		goto out;
	if ((steps = apply_steps(hk)) < 0) {
		st = abort_start(hk, EXIT_FAILURE_);
		goto out;
	}
	if (steps > 0) { /* the host changed: plan again on what it is now */
		plan_free(p);
		p = NULL;
		if ((st = scan(hk)) || (st = plan_take(hk, &p)) || (st = check_refusals(hk, p, true))) {
			st = abort_start(hk, st);
			goto out;
		}
	}
	if (plan_changes(p) && (st = execute(hk, p, &outs))) {
		keep_for_report(hk, p, outs);
		p = NULL;
		st = abort_start(hk, st);
		goto out;
	}
	/* each set's reset_method came with the plan: bind_run() wrote it after binding, journaled */
	hook_msg(6, hk, "%zu function(s) ready for the VM", hk->devs.n);
out:
	if (p)
		keep_for_report(hk, p, outs);
	return st;
}

/* post-stop / release: every function back to its host driver, then the steps undone */
static int give_back_all(struct hook *hk)
{
	int st;

	keep_held(hk);
	if (!hk->devs.n) {
		hook_msg(6, hk, "no PCI devices to give back");
		if (hk->c->dry_run && !hk->c->json)
			printf("dry run, nothing changed; %s %s would give back nothing\n", hk->vm, hk->phase);
		return retry_steps(hk);
	}
	st = give_back(hk, false); /* prepare() has just scanned */
	if (st == EXIT_OK && !hk->c->dry_run)
		(void)hook_record_remove(hk->c->root, hk->record);
	return st;
}

/*
 * post-stop / release end: what the start recorded, not what the config
 * says now (it may have been edited while the VM ran). 1 with hk->devs
 * when there is a record, 0 when there is none, else an exit status.
 */
static int recorded_devices(struct hook *hk)
{
	unsigned line = 0;
	int err = hook_record_load(hk->c->root, hk->record, &hk->devs, &line);

	if (err == 0)
		return 1;
	if (err == -ENOENT)
		return 0;
	if (err == -EBADMSG && line)
		hook_msg(3, hk,
			 "/%s:%u: not a PCI address; this is not a record pcibind wrote: nothing is given back "
			 "(inspect it, remove it, and run 'pcibind restore')",
			 hk->record, line);
	else
		hook_msg(3, hk, "cannot read /%s: %s; nothing is given back (run 'pcibind restore')", hk->record,
			 err == -EBADMSG ? "not a regular file of root's, or writable by others" : strerror(-err));
	return EXIT_FAILURE_;
}

/* ---- Proxmox ---- */

/*
 * A Proxmox file (VM config, pci.cfg): below the root (pmxcfs links
 * qemu-server into nodes/NODE), non-blocking, a regular file (a FIFO in
 * its place fails at once instead of hanging pre-start), at most 8 MiB.
 */
static int read_rel(const struct hook *hk, const char *rel, char **ret, bool optional)
{
	int err = sysroot_read_how(hk->c->root, rel, SYSROOT_IN_ROOT, 8u << 20, ret, NULL);

	if (err == -ENOENT && optional) {
		*ret = NULL;
		return 0;
	}
	if (err < 0)
		hook_msg(3, hk, "cannot read /%s: %s", rel,
			 err == -EINVAL	 ? "not a regular file"
			 : err == -EFBIG ? "larger than 8 MiB"
					 : strerror(-err));
	return err;
}

/* Entries qemu-server's schema refuses: it starts the VM without them, so nothing moves for them */
static void say_ignored(const struct hook *hk, const struct pve_vm *vm)
{
	for (size_t i = 0; i < PVE_HOSTPCI_MAX; i++)
		if (vm->hostpci[i].value && vm->hostpci[i].why[0])
			hook_msg(4, hk,
				 "hostpci%zu: %s: qemu-server ignores this entry and starts the VM without it; "
				 "nothing is handed over for it",
				 i, vm->hostpci[i].why);
		else if (vm->hostpci[i].dropped[0])
			hook_msg(4, hk, "hostpci%zu: %s, as qemu-server keeps it", i, vm->hostpci[i].dropped);
}

/* The functions that leave the host only because they share a group with a passed one, and why */
static void say_grouped(const struct hook *hk)
{
	for (size_t i = 0; i < hk->devs.n; i++) {
		const struct pcifn *f = pcihost_find(hk->s.h, &hk->devs.addrs[i]);

		if (f && hook_origin_is_group(hk->devs.origin[i]))
			hook_msg(6, hk,
				 "%s (%s) goes too: it is in the %s (group %d), and qemu-server binds every "
				 "function of the group to vfio-pci; the VM gets only what it names",
				 f->name, f->driver ? f->driver : "no driver", hk->devs.origin[i], f->group);
	}
}

static void say_kept(const struct hook *hk)
{
	for (size_t i = 0; i < hk->kept.n; i++) {
		const struct pcifn *f = pcihost_find(hk->s.h, &hk->kept.addrs[i]);

		if (f)
			hook_msg(6, hk, "%s: %s: driver=keep, left on %s", hk->kept.origin[i], f->name,
				 f->driver ? f->driver : "no driver");
	}
}

/* The reservations other VMs hold, and which of those VMs run (qemu-server's own view of them) */
static int read_reservations(const struct hook *hk, struct pve_reservations *res)
{
	_cleanup_free_ char *text = NULL;

	if (read_rel(hk, PVE_RESERVATIONS, &text, true) < 0)
		return EXIT_FAILURE_;
	if (proxmox_reservations_parse(text, res) < 0) {
		hook_msg(3, hk, "out of memory");
		return EXIT_FAILURE_;
	}
	proxmox_reservations_check(hk->c->root, res);
	return 0;
}

/* What qemu-server will give the VM now: pre-start, and post-stop when there is no record */
static int proxmox_choose(struct hook *hk, const char *path, const char *text, unsigned long vmid)
{
	_cleanup_free_ char *map = NULL;
	struct pve_reservations res = { 0 };
	struct pve_env env = { .h = hk->s.h, .vmid = vmid, .now = (long long)time(NULL), .root = hk->c->root };
	char node[256], err[768];
	struct pve_vm vm;
	int r;

	if (proxmox_vm_parse(text, &vm) < 0) {
		hook_msg(3, hk, "out of memory");
		return EXIT_FAILURE_;
	}
	say_ignored(hk, &vm);
	if (vm.template)
		hook_msg(6, hk, "a template: qemu-server starts it without its PCI devices (for a backup)");
	proxmox_node_name(hk->c->root, node, sizeof(node));
	env.node = node;
	r = read_rel(hk, PVE_PCI_MAPPING, &map, true) < 0 || read_reservations(hk, &res) ? -EIO : 0;
	env.map_text = map;
	env.res = &res;
	if (r == 0 && (r = proxmox_vm_choose(&vm, &env, &hk->devs, &hk->kept, err, sizeof(err))) < 0)
		hook_msg(3, hk, "/%s: %s", path, r == -ENOMEM ? "out of memory" : err);
	proxmox_vm_free(&vm);
	proxmox_reservations_free(&res);
	return r < 0 ? EXIT_FAILURE_ : 0;
}

static int proxmox_devices(struct hook *hk, const char *vmid, bool start)
{
	_cleanup_free_ char *text = NULL;
	char path[128];
	int st;

	if (!start && (st = recorded_devices(hk)))
		return st == 1 ? 0 : st;
	if (sysroot_pathf(path, sizeof(path), PVE_VM_CONF_FMT, vmid) < 0 || read_rel(hk, path, &text, false) < 0)
		return EXIT_FAILURE_;
	if (!start)
		hook_msg(4, hk, "no record of what the start handed over (/%s): giving back what the config names now",
			 hk->record);
	if ((st = proxmox_choose(hk, path, text, strtoul(vmid, NULL, 10))))
		return st;
	say_grouped(hk);
	say_kept(hk);
	return 0;
}

static int hook_proxmox(struct hook *hk, int argc, char **argv)
{
	bool start;
	int st;

	if (argc != 2) {
		msg_error("usage: pcibind hook proxmox VMID PHASE");
		return EXIT_USAGE;
	}
	hk->kind = "proxmox";
	hk->name = argv[0];
	hk->phase = argv[1];
	shown_name("VM", argv[0], hk->vm, sizeof(hk->vm));
	start = streq(argv[1], "pre-start");
	if (!start && !streq(argv[1], "post-stop")) {
		if (!streq(argv[1], "post-start") && !streq(argv[1], "pre-stop"))
			hk->phase = "(unknown phase)";
		hook_msg(6, hk, "nothing to do in this phase");
		return EXIT_OK;
	}
	if (!proxmox_vmid_valid(argv[0])) {
		hook_msg(3, hk, "invalid VMID: a VM id is a number from 100 to 999999999");
		return start ? EXIT_USAGE : EXIT_OK;
	}
	(void)hook_record_path(hk->kind, argv[0], hk->record, sizeof(hk->record));
	if (!(st = prepare(hk)) && !(st = proxmox_devices(hk, argv[0], start)) && !(st = read_locked(hk)))
		st = start ? take(hk) : give_back_all(hk);
	hk->result = st;
	return start ? st : EXIT_OK; /* only a failed start may stop Proxmox */
}

/* ---- libvirt ---- */

/*
 * All of stdin, up to one byte more than the limit (so that "too big" is
 * seen), within timeout_ms: libvirt writes the XML at once, but a writer
 * that stalls must not hang the hook (-ETIMEDOUT).
 */
static int read_stdin(unsigned timeout_ms, char **ret, size_t *ret_len)
{
	long long deadline = now_ms() + timeout_ms;
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while (len <= LIBVIRT_XML_MAX) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		long long left = deadline - now_ms();
		int r;

		if (len == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return r == 0 ? -ETIMEDOUT : -errno;
		}
		n = read(0, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int libvirt_devices(struct hook *hk, const char *xml, size_t len, bool start)
{
	char err[768];
	int r;

	if (!start && (r = recorded_devices(hk)))
		return r == 1 ? 0 : r;
	if (!start)
		hook_msg(4, hk, "no record of what the start handed over (/%s): giving back what the domain XML names",
			 hk->record);
	r = libvirt_domain_devices(xml, len, hk->cfg->libvirt_all, &hk->devs, err, sizeof(err));
	if (r == -ENOMEM) {
		hook_msg(3, hk, "out of memory");
		return EXIT_FAILURE_;
	}
	if (r < 0) {
		hook_msg(3, hk, "%s; nothing was changed", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < hk->devs.n; i++)
		if (!pcihost_find(hk->s.h, &hk->devs.addrs[i])) {
			char a[PCIADDR_STRLEN];

			pciaddr_format(&hk->devs.addrs[i], a);
			hook_msg(3, hk, "%s: %s is not present on this host; nothing was changed", hk->devs.origin[i],
				 a);
			return EXIT_FAILURE_;
		}
	return 0;
}

static int hook_libvirt(struct hook *hk, int argc, char **argv)
{
	_cleanup_free_ char *xml = NULL;
	char phase[64];
	size_t len = 0;
	bool start, stop;
	int st, err;

	if (argc < 3 || argc > 4) {
		msg_error("usage: pcibind hook libvirt GUEST OP SUBOP [EXTRA] (domain XML on stdin)");
		return EXIT_USAGE;
	}
	hk->kind = "libvirt";
	hk->name = argv[0];
	shown_name("domain", argv[0], hk->vm, sizeof(hk->vm));
	start = streq(argv[1], "prepare") && streq(argv[2], "begin");
	stop = streq(argv[1], "release") && streq(argv[2], "end");
	snprintf(phase, sizeof(phase), "%s", start ? "prepare begin" : stop ? "release end" : "(other operation)");
	hk->phase = phase;
	/*
	 * Every other operation returns before stdin is read: libvirt writes
	 * the XML to every hook, and lets one go that leaves it unread
	 * (virCommandProcessIO() drops the EPIPE), so a stalled writer cannot
	 * hang those at all; for these two, the read has a deadline.
	 */
	if (!start && !stop)
		return EXIT_OK;
	if ((err = read_stdin((hk->c->timeout ? hk->c->timeout : CONFIG_DEFAULT_UNBIND_TIMEOUT) * 1000, &xml, &len)) <
	    0) {
		if (err == -ETIMEDOUT)
			hook_msg(3, hk, "the domain XML did not come on stdin within %u s; nothing was changed",
				 hk->c->timeout ? hk->c->timeout : CONFIG_DEFAULT_UNBIND_TIMEOUT);
		else
			hook_msg(3, hk, "cannot read the domain XML on stdin: %s", strerror(-err));
		return start ? EXIT_FAILURE_ : EXIT_OK;
	}
	if (hook_record_path(hk->kind, argv[0], hk->record, sizeof(hk->record)) < 0) {
		hook_msg(3, hk, "the domain name is too long");
		return start ? EXIT_USAGE : EXIT_OK;
	}
	if (!(st = prepare(hk)) && !(st = libvirt_devices(hk, xml, len, start)) && !(st = read_locked(hk)))
		st = start ? take(hk) : give_back_all(hk);
	hk->result = st;
	return start ? st : EXIT_OK; /* only a failed start stops the domain */
}

/* --json: the report bind --json gives, with the VM, its phase and its functions */
static int print_report(const struct hook *hk, int st)
{
	struct json j;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", 1);
	json_key_string(&j, "command", "hook");
	json_key_string(&j, "hook", hk->kind);
	json_key_string(&j, "vm", hk->name);
	json_key_string(&j, "phase", hk->phase);
	json_key_bool(&j, "dry_run", hk->c->dry_run);
	int res = hk->result >= 0 ? hk->result : st;

	json_key_string(&j, "result", hk->c->dry_run && res == EXIT_OK ? "planned" : report_result(hk->plan, res));
	json_key_int(&j, "exit_status", st);
	json_key(&j, "devices");
	json_array_begin(&j);
	for (size_t i = 0; i < hk->devs.n + hk->kept.n; i++) {
		bool kept = i >= hk->devs.n;
		const struct hook_devs *d = kept ? &hk->kept : &hk->devs;
		size_t k = kept ? i - hk->devs.n : i;
		char a[PCIADDR_STRLEN];

		pciaddr_format(&d->addrs[k], a);
		json_object_begin(&j);
		json_key_string(&j, "address", a);
		json_key_string(&j, "origin", d->origin[k]);
		json_key_bool(&j, "kept", kept);
		json_object_end(&j);
	}
	json_array_end(&j);
	report_request_json(&j, hk->plan, hk->outs, hk->c->dry_run);
	json_object_end(&j);
	if (json_finish(&j) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
		return -EIO;
	return 0;
}

/* Options before the kind ("pcibind hook --dry-run proxmox 100 pre-start"); names after it are data */
static int hook_options(struct ctx *c, int *argc, char ***argv)
{
	while (*argc > 0 && (*argv)[0][0] == '-') {
		const char *o = (*argv)[0];

		if (streq(o, "-n") || streq(o, "--dry-run"))
			c->dry_run = true;
		else if (streq(o, "--json"))
			c->json = true;
		else if (streq(o, "-f") || streq(o, "--force"))
			c->force = true;
		else if (streq(o, "-v") || streq(o, "--verbose"))
			c->verbosity++;
		else if (streq(o, "-q") || streq(o, "--quiet"))
			c->verbosity = -1;
		else {
			msg_error("hook: unknown option '%s' (options go before proxmox or libvirt)", o);
			return EXIT_USAGE;
		}
		(*argc)--, (*argv)++;
	}
	return 0;
}

static int run_hook(struct ctx *c, int argc, char **argv)
{
	struct hook hk = {
		.c = c, .s = { .lock_fd = -1 }, .vm = "", .phase = "", .kind = "", .name = "", .result = -1
	};
	int st;

	/* main.c hands raw_args commands their own name first (optind 0); a kind is never "hook" */
	if (argc >= 1 && streq(argv[0], "hook"))
		argc--, argv++;
	if ((st = hook_options(c, &argc, &argv)))
		return st;
	if (argc >= 1 && streq(argv[0], "proxmox"))
		st = hook_proxmox(&hk, argc - 1, argv + 1);
	else if (argc >= 1 && streq(argv[0], "libvirt"))
		st = hook_libvirt(&hk, argc - 1, argv + 1);
	else {
		msg_error("usage: pcibind hook [--dry-run] [--json] proxmox VMID PHASE | pcibind hook libvirt GUEST OP "
			  "SUBOP");
		st = EXIT_USAGE;
	}
	if (c->json && hk.kind[0] && print_report(&hk, st) < 0 && !st)
		st = EXIT_FAILURE_;
	hook_free(&hk);
	return st;
}

const struct cmd cmd_hook = {
	.name = "hook",
	.run = run_hook,
	.args = "[-n] [--json] proxmox|libvirt ARGS",
	.help = "VM hookscript: hand the VM's PCI functions over at start, back at stop",
	.raw_args = true,
};
