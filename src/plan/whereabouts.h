/* whereabouts.h - pure: does a set's address still hold its recorded device, and where is that device now */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_WHEREABOUTS_H
#define PCIBIND_WHEREABOUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "pcidev.h"

enum whereabouts {
	WHERE_HERE,	 /* the address holds it (or nothing read says otherwise) */
	WHERE_MOVED,	 /* found at one other address */
	WHERE_AMBIGUOUS, /* several functions match and nothing tells them apart: never guessed */
	WHERE_GONE,	 /* not on this host */
};

enum found_by {
	FOUND_SERIAL,	  /* its Device Serial Number */
	FOUND_SLOT,	  /* ids + subsystem in the recorded physical slot, now at another address */
	FOUND_IDS_SUBSYS, /* the one function on the host with its ids and subsystem, claimed by no other set */
};

struct set_whereabouts {
	bool mismatch; /* the set's address does not hold its recorded device (or holds nothing) */
	enum whereabouts where;
	enum found_by by;
	struct pciaddr primary;	   /* the function the identity is of: the set's first address (function 0 of a slot) */
	const struct pcifn *found; /* WHERE_MOVED: that function now */
	const char *other_set;	   /* WHERE_MOVED: the set whose address that is (two cards swapped), or NULL */
	char why[256];		   /* "it holds 8086:1533 (10de:2204 recorded)", "no function is there" */
	char candidates[256];	   /* WHERE_AMBIGUOUS: "0000:03:00.0 and 0000:04:00.0" */
};

/*
 * The verdict for a set with an address. A set without identity keys is
 * judged on its ids guard alone and never located (what pcibind always
 * said). h's identity facts come from identity_annotate(); before that
 * every serial is unknown.
 */
void plan_whereabouts(const struct pcihost *h, const struct config *cfg, const struct devset *set,
		      struct set_whereabouts *ret);

/* "[gpu] expects its device at 0000:02:00.0 but it holds ...; it is at ... now (...): `pcibind setup --relocate gpu`"
 */
void whereabouts_message(const struct devset *set, const struct set_whereabouts *w, char *buf, size_t size);

/*
 * The set's addresses where its device is now (WHERE_MOVED): each keeps its
 * function number, the slot is the found one. ret holds set->n_addrs.
 * -EXDEV when the set spans several slots (never moved as one), -EINVAL
 * when it did not move.
 */
int plan_relocated_addrs(const struct devset *set, const struct set_whereabouts *w, struct selector *ret);

/*
 * The udev path, which reads one function: f (ids and subsystem), there (the
 * function with the set's first function number in f's slot, with its
 * serial as identity_read_serial() read it) and slot_now (where the set's
 * slot is now; NULL: unknown). plan_fn_mismatch(): f is selected by set's
 * address but is not its recorded device (why says how). plan_fn_followed():
 * f is one of the set's functions where its serial number is now (follow).
 */
bool plan_fn_mismatch(const struct devset *set, const struct pcifn *f, const struct pcifn *there,
		      const struct pciaddr *slot_now, char *why, size_t size);
bool plan_fn_followed(const struct devset *set, const struct pcifn *f, const struct pcifn *there);

/* Does any set record more than ids (so the identity facts are worth reading)? */
bool plan_identity_needed(const struct config *cfg);

#endif
