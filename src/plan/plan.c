/* plan.c - pure decisions: which functions a request names, where each goes, and what refuses */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "util.h"
#include "variant.h"
#include "whereabouts.h"

/* One function the request names, and the config set it was named through. */
struct pick {
	const struct pcifn *fn;
	const struct devset *set;
};

/* Everything plan_make() works from, plus the plan as it grows. */
struct planner {
	const struct pcihost *h;
	const struct config *cfg;
	const struct fnstate *records;
	size_t n_records;
	const struct request *req;
	bool *picked;		   /* per host function: in the request */
	const struct devset **via; /* per host function: the set that named it */
	size_t n_picked;
	struct plan *p;
	size_t cap_refusals;
	int checked_group;		 /* the last IOMMU group whose siblings were checked */
	const struct devset **sriov_set; /* per host function: the SR-IOV set naming it as a PF */
	bool *followed;			 /* per host function: picked at its set's device's new address (follow) */
	char followed_note[512];
};

const char *verb_name(enum verb v)
{
	switch (v) {
	case VERB_BIND:
		return "bind";
	case VERB_UNBIND:
		return "unbind";
	case VERB_RESTORE:
		return "restore";
	}
	return "unknown";
}

const char *set_verdict_name(enum set_verdict v)
{
	static const char *const names[] = {
		[VERDICT_READY] = "ready",	 [VERDICT_BOUND] = "bound", [VERDICT_ABSENT] = "absent",
		[VERDICT_NO_IOMMU] = "no-iommu", [VERDICT_GROUP] = "group", [VERDICT_IDS] = "ids",
		[VERDICT_REFUSED] = "refused",
	};

	if ((size_t)v < ARRAY_SIZE(names) && names[v])
		return names[v];
	return "unknown";
}

_printf_(2, 3) static int plan_error(struct plan_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void slot_format(const struct pciaddr *a, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%04x:%02x:%02x", a->domain, a->bus, a->dev);
}

/* The way a user would type the slot: "82:00", with the domain only when it is not 0 */
static void slot_format_short(const struct pciaddr *a, char *buf, size_t size)
{
	if (a->domain)
		slot_format(a, buf, size);
	else
		(void)snprintf(buf, size, "%02x:%02x", a->bus, a->dev);
}

static void set_ids_format(const struct devset *set, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < set->n_ids; i++)
		strappendf(buf, size, "%s%04x:%04x", i ? "," : "", set->ids[i].vendor, set->ids[i].device);
}

/* What a set selects, as its section says it: "0000:82:00, 0000:83:00.0" or "10de:2204" */
static void set_selection_format(const struct devset *set, char *buf, size_t size)
{
	char a[PCIADDR_STRLEN];

	if (!set->n_addrs) {
		set_ids_format(set, buf, size);
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < set->n_addrs; i++) {
		if (set->addrs[i].kind == SEL_SLOT)
			slot_format(&set->addrs[i].addr, a, sizeof(a));
		else
			pciaddr_format(&set->addrs[i].addr, a);
		strappendf(buf, size, "%s%s", i ? ", " : "", a);
	}
}

static bool set_ids_hold(const struct devset *set, const struct pcifn *f)
{
	for (size_t i = 0; i < set->n_ids; i++)
		if (set->ids[i].vendor == f->vendor && set->ids[i].device == f->device)
			return true;
	return false;
}

/* The ids guard: a set given both addresses and ids refuses an address that holds other ids. */
static bool set_guard_fails(const struct devset *set, const struct pcifn *f)
{
	return set->n_addrs && set->n_ids && devset_selects(set, &f->addr, f->vendor, f->device) &&
	       !set_ids_hold(set, f);
}

static const char *target_driver(const struct config *cfg, const struct devset *set)
{
	if (set && cfg)
		return devset_driver(cfg, set);
	if (set && set->driver)
		return set->driver;
	if (cfg && cfg->driver)
		return cfg->driver;
	return CONFIG_DEFAULT_DRIVER;
}

/* The driver f goes to: --driver, else its set's or the default; driver = auto resolved for f */
static const char *fn_target(const struct planner *pl, const struct devset *set, const struct pcifn *f, bool *ret_auto)
{
	const char *d = pl->req->driver ? pl->req->driver : target_driver(pl->cfg, set);

	*ret_auto = driver_is_auto(d);
	return *ret_auto ? variant_target(f) : d;
}

/* The set a function belongs to, however the request named it: a set's address, ids or VF numbers */
/* A sibling that keeps a group from going to a VM: a non-bridge on a host driver */
static bool blocks_group(const struct pcifn *s)
{
	return !pcifn_is_bridge(s) && s->driver && !driver_is_vfio_safe(s->driver);
}

static const struct fnstate *find_record(const struct planner *pl, const struct pcifn *f)
{
	for (size_t i = 0; i < pl->n_records; i++)
		if (streq(pl->records[i].name, f->name))
			return &pl->records[i];
	return NULL;
}

static const struct fnstate *find_record_name(const struct planner *pl, const char *name)
{
	for (size_t i = 0; i < pl->n_records; i++)
		if (streq(pl->records[i].name, name))
			return &pl->records[i];
	return NULL;
}

/*
 * A VF pcibind created: its PF has a record whose VF count is not the
 * count now (the journal says the VFs came later than the original state).
 */
static bool vf_created(const struct planner *pl, const struct pcifn *f)
{
	const struct pcifn *pf = pcihost_physfn(pl->h, f);
	const struct fnstate *rec = pf ? find_record_name(pl, pf->name) : NULL;

	return rec && rec->sriov_numvfs >= 0 && rec->sriov_numvfs != pf->sriov_numvfs;
}

/* ---- resolving selectors ---- */

static void pick(struct planner *pl, size_t i, const struct devset *set)
{
	if (!pl->picked[i]) {
		pl->picked[i] = true;
		pl->n_picked++;
	}
	if (!pl->via[i])
		pl->via[i] = set;
}

/*
 * An SR-IOV set names PFs and binds their VFs: the wanted ones that exist
 * with the count it asks for (otherwise the VFs are made first: the plan's
 * sriov changes). A restore takes back the PF's own record too.
 */
static void pick_sriov(struct planner *pl, size_t i, const struct devset *set)
{
	const struct pcifn *pf = &pl->h->fns[i];

	if (!pl->sriov_set[i])
		pl->sriov_set[i] = set;
	if (pl->req->verb == VERB_RESTORE && find_record(pl, pf))
		pick(pl, i, set);
	if (pf->sriov_numvfs != set->sriov_numvfs && pl->req->verb == VERB_BIND)
		return;
	for (size_t k = 0; k < pl->h->n; k++) {
		const struct pcifn *vf = &pl->h->fns[k];

		if (vf->is_vf && streq(vf->physfn, pf->name) && devset_wants_vf(set, vf->vf_index))
			pick(pl, k, set);
	}
}

static int unknown_set_error(const struct config *cfg, const char *name, struct plan_error *err)
{
	char known[384] = "";

	for (size_t i = 0; cfg && i < cfg->n_sets; i++)
		strappendf(known, sizeof(known), "%s%s", i ? ", " : "", cfg->sets[i].name);
	if (!known[0])
		return plan_error(err, "no section [%s] in the configuration (it defines none)", name);
	return plan_error(err, "no section [%s] in the configuration (known: %s)", name, known);
}

/* follow = yes at boot: the set's functions where its serial number is now; 1 if it picked them */
static int resolve_followed(struct planner *pl, const struct devset *set)
{
	struct selector moved[64];
	struct set_whereabouts w;
	char from[PCIADDR_STRLEN], dsn[DSN_STRLEN];
	size_t n = 0;

	/* a restore gives back what apply followed: the device is the one its serial number names */
	if (!pl->req || !(pl->req->follow || pl->req->verb == VERB_RESTORE) || !set->follow || !pl->followed ||
	    set->n_addrs > ARRAY_SIZE(moved))
		return 0;
	plan_whereabouts(pl->h, pl->cfg, set, &w);
	if (w.where != WHERE_MOVED || w.by != FOUND_SERIAL || plan_relocated_addrs(set, &w, moved) < 0)
		return 0;
	for (size_t i = 0; i < pl->h->n; i++) {
		const struct pcifn *f = &pl->h->fns[i];

		for (size_t k = 0; k < set->n_addrs; k++)
			if (selector_matches(&moved[k], &f->addr, f->vendor, f->device)) {
				pick(pl, i, set);
				pl->followed[i] = true;
				n++;
				break;
			}
	}
	pciaddr_format(&w.primary, from);
	dsn_format(set->serial, dsn);
	strappendf(pl->followed_note, sizeof(pl->followed_note),
		   "%s[%s]: its device (serial number %s) is at %s now, not %s: bound there (follow = yes); "
		   "`pcibind setup --relocate %s` records the new address",
		   pl->followed_note[0] ? "\n" : "", set->name, dsn, w.found->name, from, set->name);
	return n ? 1 : 0;
}

/* a set whose address holds nothing: where its device is, when it records one */
static int absent_error(const struct planner *pl, const struct devset *set, struct plan_error *err)
{
	struct set_whereabouts w;
	char what[384], msg[sizeof(err->msg)];

	set_selection_format(set, what, sizeof(what));
	if (!devset_has_identity(set) || !pl->cfg)
		return plan_error(err, "[%s] selects %s but no such function is present", set->name, what);
	plan_whereabouts(pl->h, pl->cfg, set, &w);
	whereabouts_message(set, &w, msg, sizeof(msg));
	return plan_error(err, "%s", msg);
}

static int resolve_name(struct planner *pl, const char *name, struct plan_error *err)
{
	const struct devset *set = pl->cfg ? config_find_set(pl->cfg, name) : NULL;
	size_t n = 0;

	if (!set)
		return unknown_set_error(pl->cfg, name, err);
	if (resolve_followed(pl, set))
		return 0;
	for (size_t i = 0; i < pl->h->n; i++) {
		const struct pcifn *f = &pl->h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device))
			continue;
		n++;
		if (devset_is_sriov(set))
			pick_sriov(pl, i, set);
		else
			pick(pl, i, set);
	}
	if (n)
		return 0;
	return absent_error(pl, set, err);
}

static int resolve_selector(struct planner *pl, const struct selector *sel, struct plan_error *err)
{
	char what[PCIADDR_STRLEN];
	size_t n = 0;

	if (sel->kind == SEL_NAME)
		return resolve_name(pl, sel->name, err);
	for (size_t i = 0; i < pl->h->n; i++) {
		const struct pcifn *f = &pl->h->fns[i];

		if (selector_matches(sel, &f->addr, f->vendor, f->device)) {
			pick(pl, i, NULL);
			n++;
		}
	}
	if (n)
		return 0;
	switch (sel->kind) {
	case SEL_FUNCTION:
		pciaddr_format(&sel->addr, what);
		return plan_error(err, "no PCI function %s on this host", what);
	case SEL_SLOT:
		slot_format(&sel->addr, what, sizeof(what));
		return plan_error(err, "no PCI function in slot %s on this host", what);
	default:
		return plan_error(err, "no PCI function with ids %04x:%04x on this host", sel->vendor, sel->device);
	}
}

/* restore with no selectors: every function the journal holds; absent ones are the caller's to report */
static void resolve_records(struct planner *pl)
{
	for (size_t i = 0; i < pl->h->n; i++)
		if (find_record(pl, &pl->h->fns[i]))
			pick(pl, i, NULL);
}

static int resolve(struct planner *pl, struct plan_error *err)
{
	const struct request *req = pl->req;
	int r;

	if (req->n_sels == 0) {
		if (req->verb != VERB_RESTORE)
			return plan_error(err,
					  "nothing to %s: name a PCI address, a slot, vendor:device "
					  "or a configuration section",
					  verb_name(req->verb));
		resolve_records(pl);
		return 0;
	}
	for (size_t i = 0; i < req->n_sels; i++)
		if ((r = resolve_selector(pl, &req->sels[i], err)) < 0)
			return r;
	return 0;
}

/* Groups in order, functions without a group last, each on its own; then by address. */
static int pick_cmp(const void *x, const void *y)
{
	const struct pcifn *a = ((const struct pick *)x)->fn, *b = ((const struct pick *)y)->fn;

	if (a->group != b->group) {
		if (a->group < 0)
			return 1;
		if (b->group < 0)
			return -1;
		return a->group < b->group ? -1 : 1;
	}
	return pciaddr_cmp(&a->addr, &b->addr);
}

static struct pick *collect_picks(const struct planner *pl)
{
	struct pick *picks = calloc(pl->n_picked ? pl->n_picked : 1, sizeof(*picks));
	size_t n = 0;

	if (!picks)
		return NULL;
	for (size_t i = 0; i < pl->h->n; i++)
		if (pl->picked[i])
			picks[n++] = (struct pick){ &pl->h->fns[i], pl->via[i] };
	qsort(picks, n, sizeof(*picks), pick_cmp);
	return picks;
}

/* ---- targets ---- */

static int target_set(struct target *t, const char *driver, const char *override)
{
	t->driver = xstrdup_null(driver);
	t->override = xstrdup_null(override);
	if ((driver && !t->driver) || (override && !t->override))
		return -ENOMEM;
	return 0;
}

static int target_bind(const struct planner *pl, const struct pick *pk, struct action *a)
{
	const struct pcifn *f = pk->fn;
	const struct devset *owner = pk->set ? pk->set : config_owner_set(pl->cfg, pl->h, f);
	const char *d = fn_target(pl, pk->set, f, &a->auto_driver);

	/*
	 * the set's reset_method goes with the function while it is bound (journaled, restored);
	 * a function with no reset method at all (a GPU's audio) has nothing to set
	 */
	if (owner && owner->reset_method && f->reset_method && !streq(owner->reset_method, f->reset_method) &&
	    !(a->reset_method = strdup(owner->reset_method)))
		return -ENOMEM;
	a->noop = streq_null(f->driver, d) && streq_null(f->override, d) && !a->reset_method;
	return target_set(&a->target, d, d);
}

static int target_unbind(const struct pcifn *f, struct action *a)
{
	/* an override no driver matches keeps the function driverless until restore */
	a->noop = !f->driver && streq_null(f->override, "none");
	return target_set(&a->target, NULL, "none");
}

/* The PF of f, when this restore takes the PF's VF count back (and so takes f away) */
static bool goes_with_pf(const struct planner *pl, const struct pcifn *f)
{
	const struct pcifn *pf = pcihost_physfn(pl->h, f);

	return pf && pl->picked[pf - pl->h->fns] && vf_created(pl, f);
}

static int target_restore(const struct planner *pl, const struct pcifn *f, const struct fnstate *rec, struct action *a)
{
	if ((!rec || rec->boot_claim) && goes_with_pf(pl, f)) {
		a->noop = true; /* removed with its PF's VF count; nothing to move first */
		return 0;
	}
	if (!rec || rec->boot_claim) { /* a boot claim: the host's driver had not probed it yet */
		a->target.kernel_picks = true;
		a->noop = !f->override && f->driver && !driver_is_vfio(f->driver);
		return 0;
	}
	if (rec->sriov_numvfs >= 0 && rec->sriov_autoprobe != AUTOPROBE_UNKNOWN &&
	    f->sriov_autoprobe != AUTOPROBE_UNKNOWN && rec->sriov_autoprobe != f->sriov_autoprobe)
		a->sriov_autoprobe = rec->sriov_autoprobe;
	if (rec->reset_method && !streq_null(rec->reset_method, f->reset_method)) {
		a->reset_method = strdup(rec->reset_method);
		if (!a->reset_method)
			return -ENOMEM;
	}
	if (rec->sriov_numvfs >= 0 && rec->sriov_numvfs != f->sriov_numvfs)
		a->sriov_numvfs = rec->sriov_numvfs;
	a->noop = streq_null(f->driver, rec->driver) && streq_null(f->override, rec->override) && !a->reset_method &&
		  a->sriov_numvfs < 0 && a->sriov_autoprobe == AUTOPROBE_UNKNOWN;
	return target_set(&a->target, rec->driver, rec->override);
}

static void action_clear(struct action *a)
{
	free(a->target.driver);
	free(a->target.override);
	free(a->reset_method);
	fnstate_clear(&a->before);
}

static int action_init(const struct planner *pl, const struct pick *pk, struct action *a)
{
	const struct pcifn *f = pk->fn;
	const struct fnstate *rec = find_record(pl, f);
	int r;

	*a = (struct action){
		.fn = (size_t)(f - pl->h->fns),
		.group = f->group,
		.recorded = rec != NULL,
		.sriov_numvfs = -1,
		.created_vf = f->is_vf && vf_created(pl, f),
		.set = pk->set ? pk->set->name : NULL,
	};
	memcpy(a->name, f->name, sizeof(a->name));
	if ((r = fnstate_from_fn(f, &a->before)) < 0)
		return r;
	switch (pl->req->verb) {
	case VERB_BIND:
		r = target_bind(pl, pk, a);
		break;
	case VERB_UNBIND:
		r = target_unbind(f, a);
		break;
	case VERB_RESTORE:
		return target_restore(pl, f, rec, a);
	default:
		return -EINVAL;
	}
	/* moving a PF takes its VFs away; done explicitly, first, so that it is the same for every driver */
	if (r == 0 && !a->noop && f->sriov_numvfs > 0)
		a->sriov_numvfs = 0;
	return r;
}

/* ---- refusals ---- */

_printf_(5, 6) static int refuse(struct planner *pl, enum refusal_kind kind, bool forceable, const char *fn,
				 const char *fmt, ...)
{
	struct plan *p = pl->p;
	struct refusal *r;
	va_list ap;

	if (p->n_refusals == pl->cap_refusals) {
		size_t cap = pl->cap_refusals ? pl->cap_refusals * 2 : 4;
		struct refusal *n = realloc(p->refusals, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->refusals = n;
		pl->cap_refusals = cap;
	}
	r = &p->refusals[p->n_refusals++];
	*r = (struct refusal){ .kind = kind, .forceable = forceable, .forced = forceable && pl->req->force };
	(void)snprintf(r->fn, sizeof(r->fn), "%s", fn);
	va_start(ap, fmt);
	(void)vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return 0;
}

static bool refused_already(const struct plan *p, const char *fn, const char *msg)
{
	for (size_t i = 0; i < p->n_refusals; i++)
		if (streq(p->refusals[i].fn, fn) && streq(p->refusals[i].msg, msg))
			return true;
	return false;
}

/* A set that records its device refuses every function of its address when the device is not there */
static int refuse_identity(struct planner *pl, const struct devset *set, const struct pcifn *f)
{
	struct set_whereabouts w;
	char msg[512];

	plan_whereabouts(pl->h, pl->cfg, set, &w);
	if (!w.mismatch)
		return 0;
	whereabouts_message(set, &w, msg, sizeof(msg));
	if (refused_already(pl->p, f->name, msg))
		return 0;
	return refuse(pl, REFUSE_IDS, false, f->name, "%s", msg);
}

static int refuse_ids(struct planner *pl, const struct pcifn *f)
{
	char ids[256], where[512];
	size_t idx = (size_t)(f - pl->h->fns);
	int r;

	if (pl->followed && pl->followed[idx])
		return 0; /* found by its serial number: the set it follows is the one that counts */
	for (size_t i = 0; pl->cfg && i < pl->cfg->n_sets; i++) {
		const struct devset *set = &pl->cfg->sets[i];

		if (devset_has_identity(set) && !devset_is_sriov(set) &&
		    devset_selects(set, &f->addr, f->vendor, f->device)) {
			if ((r = refuse_identity(pl, set, f)) < 0)
				return r;
			continue;
		}
		if (!set_guard_fails(set, f))
			continue;
		set_ids_format(set, ids, sizeof(ids));
		if (!set->file)
			(void)snprintf(where, sizeof(where), "the configuration");
		else if (set->line)
			(void)snprintf(where, sizeof(where), "%s:%u", set->file, set->line);
		else
			(void)snprintf(where, sizeof(where), "%s", set->file);
		r = refuse(pl, REFUSE_IDS, false, f->name,
			   "[%s] expects %s at %s but it holds %04x:%04x; fix the address in %s", set->name, ids,
			   f->name, f->vendor, f->device, where);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every host-driver sibling outside the request, once per group. */
static int refuse_group(struct planner *pl, const struct pcifn *f, const char *driver)
{
	char hint[64], slot[PCIADDR_STRLEN];
	int r;

	if (f->group == pl->checked_group)
		return 0;
	pl->checked_group = f->group;
	for (size_t i = 0; i < pl->h->n; i++) {
		const struct pcifn *s = &pl->h->fns[i];

		if (s->group != f->group || pl->picked[i] || !blocks_group(s))
			continue;
		slot_format_short(&s->addr, slot, sizeof(slot));
		if (pciaddr_same_slot(&s->addr, &f->addr))
			(void)snprintf(hint, sizeof(hint), "select the slot %s", slot);
		else
			(void)snprintf(hint, sizeof(hint), "add %s", s->name);
		r = refuse(pl, REFUSE_GROUP, false, f->name,
			   "cannot bind %s to %s: IOMMU group %d also holds %s (%s); add it to the request, "
			   "e.g. %s (a VM cannot use a group while a host driver holds part of it, so --force "
			   "does not help)",
			   f->name, driver, f->group, s->name, s->driver, hint);
		if (r < 0)
			return r;
	}
	return 0;
}

static int refuse_vfio(struct planner *pl, const struct pcifn *f, const char *driver)
{
	if (!pl->h->iommu || f->group < 0)
		return refuse(pl, REFUSE_NO_IOMMU, false, f->name,
			      "cannot bind %s to %s: no IOMMU group (is the IOMMU enabled? intel_iommu=on on "
			      "Intel)",
			      f->name, driver);
	if (pcifn_is_bridge(f))
		return refuse(pl, REFUSE_BRIDGE, false, f->name,
			      "cannot bind %s to %s: it is a PCI bridge, which stays with the host; select "
			      "the devices behind it instead",
			      f->name, driver);
	return refuse_group(pl, f, driver);
}

static const struct use_refusal {
	unsigned use;
	enum refusal_kind kind;
	const char *what; /* what the host uses it for */
	const char *loss; /* what taking it away costs */
} use_refusals[] = {
	{ USE_CONSOLE, REFUSE_CONSOLE, "is the boot VGA and carries the console", "takes your display away" },
	{ USE_MOUNT, REFUSE_MOUNT, "holds a mounted filesystem", "pulls the filesystem from under the host" },
	{ USE_SWAP, REFUSE_SWAP, "holds active swap", "pulls swap from under the kernel" },
	{ USE_ROUTE, REFUSE_ROUTE, "carries the default route", "cuts this host off the network" },
	{ USE_INPUT, REFUSE_INPUT, "has an input device on it", "takes that keyboard or mouse away" },
};

/* how to override a refusal that can be overridden: said only while it is not (forced, it is said as such) */
static const char *force_hint(const struct planner *pl)
{
	return pl->req->force ? "" : "; use --force if you mean it";
}

static int refuse_uses(struct planner *pl, const struct pcifn *f)
{
	const char *verbing = pl->req->verb == VERB_BIND ? "binding" : "unbinding";
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(use_refusals); i++) {
		const struct use_refusal *u = &use_refusals[i];
		const char *own = f->use_details[PCIFN_USE_INDEX(u->use)];
		char detail[256] = "";

		if (!(f->uses & u->use))
			continue;
		if (own)
			(void)snprintf(detail, sizeof(detail), " (%s)", own);
		r = refuse(pl, u->kind, true, f->name, "%s %s%s; %s it %s%s", f->name, u->what, detail, verbing,
			   u->loss, force_hint(pl));
		if (r < 0)
			return r;
	}
	return 0;
}

/* "2 VFs: 0000:3b:02.0 (iavf), 0000:3b:02.1 (vfio-pci)" */
static void vfs_describe(const struct planner *pl, const struct pcifn *pf, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pl->h->n; i++) {
		const struct pcifn *vf = &pl->h->fns[i];

		if (!vf->is_vf || !streq(vf->physfn, pf->name))
			continue;
		strappendf(buf, size, "%s%s (%s)", n++ ? ", " : "", vf->name, vf->driver ? vf->driver : "no driver");
	}
	if (!n)
		(void)snprintf(buf, size, "%d VFs", pf->sriov_numvfs);
}

/* Binding or unbinding a PF with VFs destroys them; one of them in the same request cannot be moved too */
static int refuse_sriov_pf(struct planner *pl, const struct action *a)
{
	const struct pcifn *f = &pl->h->fns[a->fn];
	const struct fnstate *rec;
	char vfs[384], back[64];

	if (a->sriov_numvfs != 0)
		return 0;
	for (size_t i = 0; i < pl->h->n; i++) {
		const struct pcifn *vf = &pl->h->fns[i];

		if (pl->picked[i] && vf->is_vf && streq(vf->physfn, f->name))
			return refuse(
			    pl, REFUSE_SRIOV, false, vf->name,
			    "cannot %s %s together with its PF %s: %s the PF destroys its VFs; leave them out of "
			    "the request",
			    verb_name(pl->req->verb), vf->name, f->name,
			    pl->req->verb == VERB_BIND ? "binding" : "unbinding");
	}
	vfs_describe(pl, f, vfs, sizeof(vfs));
	rec = find_record(pl, f);
	if (rec && rec->sriov_numvfs >= 0 && rec->sriov_numvfs != f->sriov_numvfs)
		(void)snprintf(back, sizeof(back), "gives it back its original %d VF%s", rec->sriov_numvfs,
			       rec->sriov_numvfs == 1 ? "" : "s");
	else
		(void)snprintf(back, sizeof(back), "creates them again");
	return refuse(pl, REFUSE_SRIOV, true, f->name, "%s %s destroys its %d VF%s: %s%s ('pcibind restore %s' %s)",
		      pl->req->verb == VERB_BIND ? "binding" : "unbinding", f->name, f->sriov_numvfs,
		      f->sriov_numvfs == 1 ? "" : "s", vfs, force_hint(pl), f->name, back);
}

/* Another function of f's slot, in its set, with a reset method: the one that carries the set's reset_method */
static bool slot_has_reset(const struct planner *pl, const struct devset *set, const struct pcifn *f)
{
	for (size_t i = 0; i < pl->h->n; i++) {
		const struct pcifn *s = &pl->h->fns[i];

		if (s != f && s->reset_method && pciaddr_same_slot(&s->addr, &f->addr) &&
		    config_owner_set(pl->cfg, pl->h, s) == set)
			return true;
	}
	return false;
}

/* A set's reset_method that no function of the device can take */
static int refuse_reset(struct planner *pl, const struct action *a)
{
	const struct pcifn *f = &pl->h->fns[a->fn];
	const struct devset *set = config_owner_set(pl->cfg, pl->h, f);

	if (pl->req->verb != VERB_BIND || !set || !set->reset_method || f->reset_method || slot_has_reset(pl, set, f))
		return 0;
	return refuse(pl, REFUSE_RESET, false, f->name,
		      "cannot set reset_method '%s' of [%s] on %s: the kernel offers no reset method for it (no "
		      "reset_method file); take reset_method out of [%s]",
		      set->reset_method, set->name, f->name, set->name);
}

static int refuse_action(struct planner *pl, const struct action *a)
{
	const struct pcifn *f = &pl->h->fns[a->fn];
	int r;

	if (f->locked_unread) /* a caller's mistake (pcihost_scan_deferred): never act on an unread state */
		return refuse(pl, REFUSE_BUSY, false, f->name, "%s: its driver_override was not read; nothing done",
			      f->name);
	if (f->busy)
		return refuse(pl, REFUSE_BUSY, false, f->name,
			      "%s is busy: the kernel is still detaching it from its driver and waits for a "
			      "process to let go of the device; retry once it has",
			      f->name);
	if (pl->req->verb == VERB_RESTORE)
		return 0;
	if ((r = refuse_ids(pl, f)) < 0 || (r = refuse_sriov_pf(pl, a)) < 0 || (r = refuse_reset(pl, a)) < 0)
		return r;
	if (pl->req->verb == VERB_BIND && driver_is_vfio(a->target.driver))
		if ((r = refuse_vfio(pl, f, a->target.driver)) < 0)
			return r;
	if (!a->noop)
		return refuse_uses(pl, f);
	return 0;
}

/* ---- the plan ---- */

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_acts; i++)
		action_clear(&p->acts[i]);
	free(p->acts);
	free(p->refusals);
	for (size_t i = 0; i < p->n_sriov; i++)
		fnstate_clear(&p->sriov[i].before);
	free(p->sriov);
	free(p);
}

/* Why a PF cannot get the VFs its set asks for, or NULL when it can (the count may still destroy VFs) */
static int refuse_sriov_config(struct planner *pl, const struct pcifn *f, const struct devset *set)
{
	if (f->is_vf || f->sriov_totalvfs <= 0)
		return refuse(pl, REFUSE_SRIOV_CONFIG, false, f->name,
			      "[%s] asks for %d VFs on %s, which cannot have any (%s)", set->name, set->sriov_numvfs,
			      f->name, f->is_vf ? "it is a VF itself" : "no SR-IOV capability: no sriov_totalvfs");
	if (set->sriov_numvfs > f->sriov_totalvfs)
		return refuse(pl, REFUSE_SRIOV_CONFIG, false, f->name,
			      "[%s] asks for %d VFs on %s, which has at most %d (sriov_totalvfs)", set->name,
			      set->sriov_numvfs, f->name, f->sriov_totalvfs);
	if (!f->driver)
		return refuse(pl, REFUSE_SRIOV_CONFIG, false, f->name,
			      "cannot create the VFs of [%s] on %s: it has no driver, and the PF's driver is what "
			      "creates them; give it back first ('pcibind restore %s')",
			      set->name, f->name, f->name);
	if (driver_is_vfio(f->driver))
		return refuse(pl, REFUSE_SRIOV_CONFIG, false, f->name,
			      "cannot create the VFs of [%s] on %s: it is on %s, which does not create VFs; give it "
			      "back to its host driver first ('pcibind restore %s')",
			      set->name, f->name, f->driver, f->name);
	return 1;
}

static int add_sriov_change(struct planner *pl, size_t i, const struct devset *set)
{
	const struct pcifn *f = &pl->h->fns[i];
	struct plan *p = pl->p;
	struct sriov_change *c, *n = realloc(p->sriov, (p->n_sriov + 1) * sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	p->sriov = n;
	c = &p->sriov[p->n_sriov];
	*c = (struct sriov_change){
		.fn = i,
		.set = set->name,
		.from = f->sriov_numvfs,
		.to = set->sriov_numvfs,
		.autoprobe = f->sriov_autoprobe,
		.recorded = find_record(pl, f) != NULL,
	};
	for (int k = 0; k < set->sriov_numvfs; k++)
		c->n_wanted += devset_wants_vf(set, k);
	memcpy(c->name, f->name, sizeof(c->name));
	if ((r = fnstate_from_fn(f, &c->before)) < 0)
		return r;
	p->n_sriov++;
	return 0;
}

/* The VF counts the request's SR-IOV sets ask for, with what stands in their way */
static int plan_sriov(struct planner *pl)
{
	char vfs[384];
	int r;

	for (size_t i = 0; i < pl->h->n; i++) {
		const struct devset *set = pl->sriov_set[i];
		const struct pcifn *f = &pl->h->fns[i];

		if (!set || f->sriov_numvfs == set->sriov_numvfs)
			continue;
		if (f->locked_unread || f->busy)
			r = refuse(pl, REFUSE_BUSY, false, f->name, "%s is busy or unread; retry", f->name);
		else if ((r = refuse_sriov_config(pl, f, set)) > 0 && f->sriov_numvfs > 0) {
			vfs_describe(pl, f, vfs, sizeof(vfs));
			r = refuse(
			    pl, REFUSE_SRIOV, true, f->name,
			    "[%s] asks for %d VFs on %s, which has %d: changing the count destroys %s; use --force "
			    "if you mean it",
			    set->name, set->sriov_numvfs, f->name, f->sriov_numvfs, vfs);
		}
		if (r < 0 || (r = add_sriov_change(pl, i, set)) < 0)
			return r;
	}
	return 0;
}

static int plan_fill(struct planner *pl, const struct pick *picks)
{
	struct plan *p = pl->p;
	int r;

	p->acts = calloc(pl->n_picked ? pl->n_picked : 1, sizeof(*p->acts));
	if (!p->acts)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n_picked; i++) {
		r = action_init(pl, &picks[i], &p->acts[i]);
		if (r < 0) {
			action_clear(&p->acts[i]);
			return r;
		}
		p->n_acts++;
	}
	for (size_t i = 0; i < p->n_acts; i++)
		if ((r = refuse_action(pl, &p->acts[i])) < 0)
			return r;
	return pl->req->verb == VERB_BIND ? plan_sriov(pl) : 0;
}

int plan_make(const struct pcihost *h, const struct config *cfg, const struct fnstate *records, size_t n_records,
	      const struct request *req, struct plan **ret, struct plan_error *err)
{
	_cleanup_free_ bool *picked = calloc(h->n ? h->n : 1, sizeof(*picked));
	_cleanup_free_ const struct devset **via = calloc(h->n ? h->n : 1, sizeof(*via));
	_cleanup_free_ const struct devset **sriov_set = calloc(h->n ? h->n : 1, sizeof(*sriov_set));
	_cleanup_free_ struct pick *picks = NULL;
	_cleanup_free_ bool *followed = calloc(h->n ? h->n : 1, sizeof(*followed));
	struct planner pl = {
		.h = h,
		.cfg = cfg,
		.records = records,
		.n_records = n_records,
		.req = req,
		.picked = picked,
		.via = via,
		.checked_group = -1,
		.sriov_set = sriov_set,
		.followed = followed,
	};
	int r;

	if (!picked || !via || !sriov_set || !followed)
		return -ENOMEM;
	if ((r = resolve(&pl, err)) < 0)
		return r;
	picks = collect_picks(&pl);
	pl.p = calloc(1, sizeof(*pl.p));
	if (!picks || !pl.p) {
		free(pl.p);
		return -ENOMEM;
	}
	pl.p->verb = req->verb;
	memcpy(pl.p->followed, pl.followed_note, sizeof(pl.p->followed));
	if ((r = plan_fill(&pl, picks)) < 0) {
		plan_free(pl.p);
		return r;
	}
	*ret = pl.p;
	return 0;
}

int plan_check_selector(const struct pcihost *h, const struct config *cfg, const struct selector *sel,
			struct plan_error *err)
{
	_cleanup_free_ bool *picked = calloc(h->n ? h->n : 1, sizeof(*picked));
	_cleanup_free_ const struct devset **via = calloc(h->n ? h->n : 1, sizeof(*via));
	struct planner pl = { .h = h, .cfg = cfg, .picked = picked, .via = via, .checked_group = -1 };

	if (!picked || !via)
		return -ENOMEM;
	return resolve_selector(&pl, sel, err);
}

bool plan_refused(const struct plan *p)
{
	for (size_t i = 0; p && i < p->n_refusals; i++)
		if (!p->refusals[i].forced)
			return true;
	return false;
}

size_t plan_changes(const struct plan *p)
{
	size_t n = p ? p->n_sriov : 0;

	for (size_t i = 0; p && i < p->n_acts; i++)
		n += !p->acts[i].noop;
	return n;
}

/* ---- the verdict on one config set, for status ---- */

_printf_(3, 4) static void detail_set(char *detail, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!detail || !size)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(detail, size, fmt, ap);
	va_end(ap);
}

/* The functions a set binds: its selection, or for an SR-IOV set the wanted VFs of its PFs */
bool plan_set_selects(const struct pcihost *h, const struct devset *set, const struct pcifn *f)
{
	const struct pcifn *pf;

	if (!devset_is_sriov(set))
		return devset_selects(set, &f->addr, f->vendor, f->device);
	pf = f->is_vf ? pcihost_physfn(h, f) : NULL;
	return pf && devset_selects(set, &pf->addr, pf->vendor, pf->device) && devset_wants_vf(set, f->vf_index);
}

/* The driver a set puts f on: its own, or driver = auto's pick for f */
static const char *verdict_driver(const struct config *cfg, const struct devset *set, const struct pcifn *f)
{
	const char *d = target_driver(cfg, set);

	return driver_is_auto(d) ? variant_target(f) : d;
}

static bool verdict_ids(const struct pcihost *h, const struct config *cfg, const struct devset *set, char *detail,
			size_t size)
{
	char ids[256];

	if (devset_has_identity(set) && !devset_is_sriov(set)) {
		struct set_whereabouts w;
		char msg[512];

		plan_whereabouts(h, cfg, set, &w);
		if (!w.mismatch)
			return false;
		whereabouts_message(set, &w, msg, sizeof(msg));
		/* the set's name leads the line status prints */
		detail_set(detail, size, "%s", msg + strlen(set->name) + 3);
		return true;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *f = &h->fns[i];

		if (!set_guard_fails(set, f))
			continue;
		set_ids_format(set, ids, sizeof(ids));
		detail_set(detail, size, "expects %s at %s but it holds %04x:%04x", ids, f->name, f->vendor, f->device);
		return true;
	}
	return false;
}

static bool verdict_no_iommu(const struct pcihost *h, const struct devset *set, char *detail, size_t size)
{
	if (!h->iommu) {
		detail_set(detail, size, "no IOMMU on this host (is it enabled? intel_iommu=on on Intel)");
		return true;
	}
	for (size_t i = 0; i < h->n; i++) {
		if (plan_set_selects(h, set, &h->fns[i]) && h->fns[i].group < 0) {
			detail_set(detail, size, "%s has no IOMMU group", h->fns[i].name);
			return true;
		}
	}
	return false;
}

static bool verdict_group(const struct pcihost *h, const struct devset *set, char *detail, size_t size)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!plan_set_selects(h, set, &h->fns[i]))
			continue;
		for (size_t j = 0; j < h->n; j++) {
			const struct pcifn *s = &h->fns[j];

			if (s->group != h->fns[i].group || plan_set_selects(h, set, s) || !blocks_group(s))
				continue;
			detail_set(detail, size, "group %d also holds %s on driver %s", s->group, s->name, s->driver);
			return true;
		}
	}
	return false;
}

/* A function that binding would take from the host while the host still needs it */
static bool verdict_refused(const struct pcihost *h, const struct config *cfg, const struct devset *set, char *detail,
			    size_t size)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *f = &h->fns[i];
		const char *driver = verdict_driver(cfg, set, f);

		if (!plan_set_selects(h, set, f) || streq_null(f->driver, driver))
			continue;
		if (driver_is_vfio(driver) && pcifn_is_bridge(f)) {
			detail_set(detail, size, "%s is a bridge and cannot go to %s", f->name, driver);
			return true;
		}
		if (f->sriov_numvfs > 0) {
			detail_set(detail, size, "binding %s destroys its %d VFs", f->name, f->sriov_numvfs);
			return true;
		}
		for (size_t u = 0; u < ARRAY_SIZE(use_refusals); u++) {
			if (!(f->uses & use_refusals[u].use))
				continue;
			/* apply and the hook release the console first (the udev rule claims it) */
			if (use_refusals[u].use == USE_CONSOLE && set->release_console)
				continue;
			if (f->use_detail)
				detail_set(detail, size, "%s", f->use_detail);
			else
				detail_set(detail, size, "%s %s", f->name, use_refusals[u].what);
			return true;
		}
	}
	return false;
}

/* " in group 14", " in groups 14, 15": the distinct groups of the set's functions, ascending */
static void set_groups_format(const struct pcihost *h, const struct devset *set, char *buf, size_t size)
{
	char list[160] = "";
	int prev = -1;
	size_t n = 0;

	for (;;) {
		int next = -1;

		for (size_t i = 0; i < h->n; i++) {
			int g = h->fns[i].group;

			if (plan_set_selects(h, set, &h->fns[i]) && g > prev && (next < 0 || g < next))
				next = g;
		}
		if (next < 0)
			break;
		strappendf(list, sizeof(list), "%s%d", n++ ? ", " : "", next);
		prev = next;
	}
	buf[0] = '\0';
	if (n)
		(void)snprintf(buf, size, " in group%s %s", n == 1 ? "" : "s", list);
}

static enum set_verdict verdict_ready(const struct pcihost *h, const struct config *cfg, const struct devset *set,
				      char *detail, size_t size)
{
	const char *one = NULL;
	char groups[200];
	size_t n = 0, n_bound = 0;
	bool same = true;

	for (size_t i = 0; i < h->n; i++) {
		const char *d;

		if (!plan_set_selects(h, set, &h->fns[i]))
			continue;
		d = verdict_driver(cfg, set, &h->fns[i]);
		same &= !one || streq(one, d);
		one = one ? one : d;
		n++;
		n_bound += streq_null(h->fns[i].driver, d);
	}
	if (n_bound == n) {
		detail_set(detail, size, "bound: %zu function%s on %s", n, n == 1 ? "" : "s",
			   same ? one : "their drivers");
		return VERDICT_BOUND;
	}
	set_groups_format(h, set, groups, sizeof(groups));
	detail_set(detail, size, "ready: %zu function%s%s", n, n == 1 ? "" : "s", groups);
	return VERDICT_READY;
}

/* "0-3,6": the VF numbers an SR-IOV set binds */
static void set_vfs_format(const struct devset *set, char *buf, size_t size)
{
	int n = 0;

	buf[0] = '\0';
	for (int k = 0; k < set->sriov_numvfs; k++) {
		int end = k;

		if (!devset_wants_vf(set, k))
			continue;
		while (end + 1 < set->sriov_numvfs && devset_wants_vf(set, end + 1))
			end++;
		if (end > k)
			strappendf(buf, size, "%s%d-%d", n++ ? "," : "", k, end);
		else
			strappendf(buf, size, "%s%d", n++ ? "," : "", k);
		k = end;
	}
}

/* An SR-IOV set whose PFs do not have its VF count yet: can they get it? */
static enum set_verdict verdict_sriov(const struct pcihost *h, const struct config *cfg, const struct devset *set,
				      char *detail, size_t size)
{
	char vfs[128];

	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *f = &h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device) || f->sriov_numvfs == set->sriov_numvfs)
			continue;
		if (f->is_vf || f->sriov_totalvfs <= 0)
			detail_set(detail, size, "%s has no SR-IOV capability", f->name);
		else if (set->sriov_numvfs > f->sriov_totalvfs)
			detail_set(detail, size, "%s has at most %d VFs", f->name, f->sriov_totalvfs);
		else if (!f->driver || driver_is_vfio(f->driver))
			detail_set(detail, size, "%s is on %s, which cannot create VFs", f->name, strna(f->driver));
		else if (f->sriov_numvfs > 0)
			detail_set(detail, size, "%s has %d VFs; changing the count to %d destroys them", f->name,
				   f->sriov_numvfs, set->sriov_numvfs);
		else
			continue;
		return VERDICT_REFUSED;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *f = &h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device) || f->sriov_numvfs == set->sriov_numvfs)
			continue;
		if (!h->iommu && driver_is_vfio(verdict_driver(cfg, set, f))) {
			detail_set(detail, size, "no IOMMU on this host (is it enabled? intel_iommu=on on Intel)");
			return VERDICT_NO_IOMMU;
		}
		set_vfs_format(set, vfs, sizeof(vfs));
		detail_set(detail, size, "ready: creates %d VFs on %s, binds VF%s %s", set->sriov_numvfs, f->name,
			   strpbrk(vfs, ",-") ? "s" : "", vfs);
		return VERDICT_READY;
	}
	return VERDICT_BOUND; /* every PF has its count: the caller judges the VFs */
}

enum set_verdict plan_set_verdict(const struct pcihost *h, const struct config *cfg, const struct devset *set,
				  char *detail, size_t size)
{
	const char *driver = target_driver(cfg, set);
	bool vfio = driver_is_vfio(driver) || driver_is_auto(driver);
	enum set_verdict ready;
	char what[384];
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++)
		n += devset_selects(set, &h->fns[i].addr, h->fns[i].vendor, h->fns[i].device);
	if (!n) {
		set_selection_format(set, what, sizeof(what));
		detail_set(detail, size, "no function matches %s", what);
		if (devset_has_identity(set) && !devset_is_sriov(set)) {
			struct set_whereabouts w;
			char msg[512];

			plan_whereabouts(h, cfg, set, &w);
			whereabouts_message(set, &w, msg, sizeof(msg));
			detail_set(detail, size, "%s", msg + strlen(set->name) + 3);
		}
		return VERDICT_ABSENT;
	}
	if (verdict_ids(h, cfg, set, detail, size))
		return VERDICT_IDS;
	if (devset_is_sriov(set)) {
		enum set_verdict v = verdict_sriov(h, cfg, set, detail, size);

		if (v != VERDICT_BOUND)
			return v;
	}
	if (vfio) {
		if (verdict_no_iommu(h, set, detail, size))
			return VERDICT_NO_IOMMU;
		if (verdict_group(h, set, detail, size))
			return VERDICT_GROUP;
	}
	if (verdict_refused(h, cfg, set, detail, size))
		return VERDICT_REFUSED;
	ready = verdict_ready(h, cfg, set, detail, size);
	for (size_t i = 0; ready == VERDICT_READY && detail && i < h->n; i++)
		if (plan_set_selects(h, set, &h->fns[i]) && (h->fns[i].uses & USE_CONSOLE) && set->release_console) {
			strappendf(detail, size,
				   "; %s carries the console: apply and the hook release it first "
				   "(release_console = yes); bind needs --force",
				   h->fns[i].name);
			break;
		}
	return ready;
}
