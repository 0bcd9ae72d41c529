/* whereabouts.c - pure: a set's recorded identity against what its address holds, and where the device went */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "util.h"
#include "whereabouts.h"

bool plan_identity_needed(const struct config *cfg)
{
	for (size_t i = 0; cfg && i < cfg->n_sets; i++)
		if (devset_has_identity(&cfg->sets[i]))
			return true;
	return false;
}

static bool ids_listed(const struct pciids *l, size_t n, uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].vendor == vendor && l[i].device == device)
			return true;
	return false;
}

static bool ids_ok(const struct devset *set, const struct pcifn *f)
{
	return !set->n_ids || ids_listed(set->ids, set->n_ids, f->vendor, f->device);
}

static bool subsys_ok(const struct devset *set, const struct pcifn *f)
{
	return !set->n_subsys || ids_listed(set->subsys, set->n_subsys, f->subvendor, f->subdevice);
}

/* read, and not the recorded one: a function without a readable config space is never ruled out */
static bool serial_differs(const struct devset *set, const struct pcifn *f)
{
	return set->has_serial && f->serial_known && (!f->has_serial || f->serial != set->serial);
}

static bool serial_matches(const struct devset *set, const struct pcifn *f)
{
	return set->has_serial && f->has_serial && f->serial == set->serial;
}

static void list_ids(const struct pciids *l, size_t n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		strappendf(buf, size, "%s%04x:%04x", i ? "," : "", l[i].vendor, l[i].device);
}

/* the first function of the set's selection whose ids or subsystem are not the recorded ones */
static bool guard_why(const struct pcihost *h, const struct devset *set, char *why, size_t size)
{
	char rec[128];

	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *f = &h->fns[i];

		if (!devset_selects(set, &f->addr, f->vendor, f->device))
			continue;
		if (!ids_ok(set, f)) {
			list_ids(set->ids, set->n_ids, rec, sizeof(rec));
			(void)snprintf(why, size, "%s holds %04x:%04x (%s recorded)", f->name, f->vendor, f->device,
				       rec);
			return true;
		}
		if (!subsys_ok(set, f)) {
			list_ids(set->subsys, set->n_subsys, rec, sizeof(rec));
			(void)snprintf(why, size, "%s holds %04x:%04x with subsystem %04x:%04x (%s recorded)", f->name,
				       f->vendor, f->device, f->subvendor, f->subdevice, rec);
			return true;
		}
	}
	return false;
}

static bool serial_why(const struct devset *set, const struct pcifn *p, char *why, size_t size)
{
	char rec[DSN_STRLEN], now[DSN_STRLEN];

	if (!serial_differs(set, p))
		return false;
	dsn_format(set->serial, rec);
	if (p->has_serial) {
		dsn_format(p->serial, now);
		(void)snprintf(why, size, "%s holds %04x:%04x with serial number %s (%s recorded)", p->name, p->vendor,
			       p->device, now, rec);
	} else {
		(void)snprintf(why, size, "%s holds %04x:%04x without a serial number (%s recorded)", p->name,
			       p->vendor, p->device, rec);
	}
	return true;
}

static bool slot_why(const struct pcihost *h, const struct devset *set, const struct pcifn *p, char *why, size_t size)
{
	const struct pcislot *s = set->slot ? identity_find_slot(h, set->slot) : NULL;

	if (!s || pciaddr_same_slot(&s->addr, &p->addr))
		return false;
	(void)snprintf(why, size, "slot %s is at %04x:%02x:%02x now (the bus numbers changed?)", s->name,
		       s->addr.domain, s->addr.bus, s->addr.dev);
	return true;
}

static struct pciaddr primary_of(const struct devset *set)
{
	struct pciaddr a = set->addrs[0].addr;

	if (set->addrs[0].kind == SEL_SLOT)
		a.fn = 0;
	return a;
}

/* does the address hold the recorded device? why not, in w->why */
static bool judge_here(const struct pcihost *h, const struct devset *set, struct set_whereabouts *w)
{
	const struct pcifn *p = pcihost_find(h, &w->primary);
	char a[PCIADDR_STRLEN];

	if (!p) {
		pciaddr_format(&w->primary, a);
		(void)snprintf(w->why, sizeof(w->why), "no function is at %s", a);
		return false;
	}
	if (guard_why(h, set, w->why, sizeof(w->why)))
		return false;
	if (serial_matches(set, p))
		return true; /* its serial number is the final word: the slot's name may have changed */
	return !serial_why(set, p, w->why, sizeof(w->why)) && !slot_why(h, set, p, w->why, sizeof(w->why));
}

/* a function that could be the set's device elsewhere: its function number, ids and subsystem */
static bool candidate(const struct devset *set, const struct set_whereabouts *w, const struct pcifn *f)
{
	return f->addr.fn == w->primary.fn && !devset_selects(set, &f->addr, f->vendor, f->device) && ids_ok(set, f) &&
	       subsys_ok(set, f) && !serial_differs(set, f);
}

static const struct pcifn *by_slot(const struct pcihost *h, const struct devset *set, const struct set_whereabouts *w)
{
	const struct pcislot *s = set->slot && set->n_subsys ? identity_find_slot(h, set->slot) : NULL;
	struct pciaddr a;
	const struct pcifn *f;

	if (!s)
		return NULL;
	a = s->addr;
	a.fn = w->primary.fn;
	f = pcihost_find(h, &a);
	return f && candidate(set, w, f) ? f : NULL;
}

/* the one function on the host with its ids and subsystem; several: named, never guessed */
static const struct pcifn *by_ids(const struct pcihost *h, const struct config *cfg, const struct devset *set,
				  struct set_whereabouts *w)
{
	const struct pcifn *one = NULL;
	const struct devset *owner;
	size_t n = 0;

	if (!set->n_subsys)
		return NULL;
	for (size_t i = 0; i < h->n; i++) {
		if (!candidate(set, w, &h->fns[i]))
			continue;
		strappendf(w->candidates, sizeof(w->candidates), "%s%s", n ? ", " : "", h->fns[i].name);
		one = &h->fns[i];
		n++;
	}
	if (n > 1) {
		w->where = WHERE_AMBIGUOUS;
		return NULL;
	}
	w->candidates[0] = '\0';
	owner = one ? config_owner_set(cfg, h, one) : NULL;
	if (owner && owner != set)
		return NULL; /* another set's device */
	return one;
}

void plan_whereabouts(const struct pcihost *h, const struct config *cfg, const struct devset *set,
		      struct set_whereabouts *ret)
{
	struct set_whereabouts w = { .where = WHERE_HERE };
	const struct pcifn *f;

	if (!set->n_addrs || devset_is_sriov(set)) {
		*ret = w;
		return;
	}
	w.primary = primary_of(set);
	w.mismatch = !judge_here(h, set, &w);
	if (!w.mismatch || !devset_has_identity(set)) {
		w.where = w.mismatch ? WHERE_GONE : WHERE_HERE;
		*ret = w;
		return;
	}
	w.where = WHERE_GONE;
	if (set->has_serial && (f = identity_find_serial(h, set->serial)) &&
	    !devset_selects(set, &f->addr, f->vendor, f->device)) {
		w.where = WHERE_MOVED, w.by = FOUND_SERIAL, w.found = f;
	} else if ((f = by_slot(h, set, &w))) {
		w.where = WHERE_MOVED, w.by = FOUND_SLOT, w.found = f;
	} else if ((f = by_ids(h, cfg, set, &w))) {
		w.where = WHERE_MOVED, w.by = FOUND_IDS_SUBSYS, w.found = f;
	}
	if (w.where == WHERE_MOVED) {
		const struct devset *o = config_owner_set(cfg, h, w.found);

		w.other_set = o && o != set ? o->name : NULL;
	}
	*ret = w;
}

static const char *found_by_text(enum found_by by)
{
	switch (by) {
	case FOUND_SERIAL:
		return "found by its serial number";
	case FOUND_SLOT:
		return "found by its ids and subsystem in its slot";
	default:
		return "the one function on this host with its ids and subsystem";
	}
}

static void where_text(const struct devset *set, char *buf, size_t size)
{
	if (!set->file)
		(void)snprintf(buf, size, "the configuration");
	else if (set->line)
		(void)snprintf(buf, size, "%s:%u", set->file, set->line);
	else
		(void)snprintf(buf, size, "%s", set->file);
}

void whereabouts_message(const struct devset *set, const struct set_whereabouts *w, char *buf, size_t size)
{
	char a[PCIADDR_STRLEN], file[512];

	pciaddr_format(&w->primary, a);
	where_text(set, file, sizeof(file));
	(void)snprintf(buf, size, "[%s] expects its device at %s but %s", set->name, a, w->why);
	switch (w->where) {
	case WHERE_MOVED:
		if (w->other_set)
			strappendf(buf, size,
				   "; it is at %s now (%s), [%s]'s address: `pcibind setup --relocate %s %s` moves "
				   "both sets",
				   w->found->name, found_by_text(w->by), w->other_set, set->name, w->other_set);
		else
			strappendf(buf, size,
				   "; it is at %s now (%s): `pcibind setup --relocate %s` moves the set there",
				   w->found->name, found_by_text(w->by), set->name);
		break;
	case WHERE_AMBIGUOUS:
		strappendf(buf, size,
			   "; %s have its ids and subsystem and no serial number tells them apart: not guessing; "
			   "set the address in %s",
			   w->candidates, file);
		break;
	default:
		strappendf(buf, size, "; %s; fix the address in %s",
			   devset_has_identity(set) ? "it is not on this host" : "nothing else is checked", file);
		break;
	}
}

int plan_relocated_addrs(const struct devset *set, const struct set_whereabouts *w, struct selector *ret)
{
	if (w->where != WHERE_MOVED)
		return -EINVAL;
	for (size_t i = 0; i < set->n_addrs; i++)
		if (!pciaddr_same_slot(&set->addrs[i].addr, &w->primary))
			return -EXDEV;
	for (size_t i = 0; i < set->n_addrs; i++) {
		ret[i] = set->addrs[i];
		ret[i].addr.domain = w->found->addr.domain;
		ret[i].addr.bus = w->found->addr.bus;
		ret[i].addr.dev = w->found->addr.dev;
	}
	return 0;
}

bool plan_fn_mismatch(const struct devset *set, const struct pcifn *f, const struct pcifn *there,
		      const struct pciaddr *slot_now, char *why, size_t size)
{
	struct pciaddr primary;

	if (!devset_has_identity(set) || !set->n_addrs || devset_is_sriov(set))
		return false;
	primary = primary_of(set);
	if (!subsys_ok(set, f)) {
		(void)snprintf(why, size, "%s holds subsystem %04x:%04x", f->name, f->subvendor, f->subdevice);
		return true;
	}
	if (!pciaddr_same_slot(&f->addr, &primary))
		return false;
	if (there && serial_matches(set, there))
		return false;
	if (there && serial_why(set, there, why, size))
		return true;
	if (slot_now && !pciaddr_same_slot(slot_now, &primary)) {
		(void)snprintf(why, size, "slot %s is at %04x:%02x:%02x now", set->slot, slot_now->domain,
			       slot_now->bus, slot_now->dev);
		return true;
	}
	return false;
}

bool plan_fn_followed(const struct devset *set, const struct pcifn *f, const struct pcifn *there)
{
	struct set_whereabouts w = { .where = WHERE_MOVED, .by = FOUND_SERIAL };
	struct selector moved[64];

	if (!set->follow || !set->has_serial || !set->n_addrs || set->n_addrs > ARRAY_SIZE(moved) ||
	    devset_is_sriov(set) || !there || !serial_matches(set, there) ||
	    devset_selects(set, &f->addr, f->vendor, f->device))
		return false;
	w.primary = primary_of(set);
	w.found = there;
	if (plan_relocated_addrs(set, &w, moved) < 0)
		return false;
	for (size_t k = 0; k < set->n_addrs; k++)
		if (selector_matches(&moved[k], &f->addr, f->vendor, f->device))
			return true;
	return false;
}
