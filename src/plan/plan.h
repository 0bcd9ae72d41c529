/* plan.h - pure decisions: config + devices + request -> actions and refusals */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_PLAN_H
#define PCIBIND_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "pcidev.h"

/*
 * Nothing here touches a filesystem: the inputs are a scanned host (with
 * its usage facts), the config, the journal's records and the request.
 */

enum verb {
	VERB_BIND,    /* to the target driver by driver_override */
	VERB_UNBIND,  /* detach, keep driverless (override "none") */
	VERB_RESTORE, /* back to the recorded state, or the kernel's pick */
};

const char *verb_name(enum verb v);

struct request {
	enum verb verb;
	const char *driver; /* bind: --driver, NULL: per set or config default */
	bool force;
	const struct selector *sels;
	size_t n_sels;
	bool follow; /* the boot path: a set with follow = yes binds its device where its serial number is now (restore
			always follows) */
};

/* Where a function should end up. */
struct target {
	char *driver;	   /* NULL: no driver */
	char *override;	   /* NULL: cleared ("(null)") */
	bool kernel_picks; /* restore with no record: whatever non-VFIO driver probes, or none */
};

struct action {
	size_t fn; /* index into host->fns */
	char name[PCIADDR_STRLEN];
	int group;
	bool noop;	       /* already in the target state */
	struct fnstate before; /* state now, for rollback */
	bool recorded;	       /* the journal already holds an original state */
	struct target target;
	char *reset_method; /* bind: the set's reset_method; restore: the recorded one; NULL: leave */
	int sriov_numvfs;   /* bind/unbind: 0, its VFs taken away first (forced); restore: recorded; -1: leave */
	enum autoprobe sriov_autoprobe; /* restore: the recorded sriov_drivers_autoprobe; UNKNOWN: leave */
	bool created_vf;		/* a VF pcibind created: its PF's record covers it, it gets none of its own */
	bool auto_driver;		/* the target is driver = auto's pick (pcifn.variant says why) */
	const char *set;		/* config section it came through, or NULL */
};

/*
 * Creating the VFs an SR-IOV set asks for (bind and apply): the PF's count
 * goes from `from` to `to` with sriov_drivers_autoprobe off, so that no host
 * driver probes a new VF before the set's are bound (bind_sriov_begin());
 * then the host is read again and a second plan binds them.
 */
struct sriov_change {
	size_t fn; /* the PF, index into host->fns */
	char name[PCIADDR_STRLEN];
	const char *set;
	int from, to;
	enum autoprobe autoprobe; /* the PF's now: restored once the set's VFs are bound */
	bool recorded;		  /* the journal holds the PF's original state already */
	struct fnstate before;
	size_t n_wanted; /* how many of the new VFs the set binds */
};

enum refusal_kind {
	REFUSE_NO_IOMMU,
	REFUSE_GROUP,	     /* group holds a sibling on a host DMA driver */
	REFUSE_IDS,	     /* the set's ids guard does not match the device */
	REFUSE_BRIDGE,	     /* a bridge cannot go to vfio-pci */
	REFUSE_CONSOLE,	     /* boot VGA with a console or framebuffer */
	REFUSE_MOUNT,	     /* mounted filesystem below it */
	REFUSE_SWAP,	     /* active swap below it */
	REFUSE_ROUTE,	     /* default route NIC */
	REFUSE_INPUT,	     /* controller with an input device */
	REFUSE_BUSY,	     /* the kernel holds the device lock: an unbind waits for a VFIO user */
	REFUSE_SRIOV,	     /* moving a PF, or changing its VF count, destroys its VFs */
	REFUSE_SRIOV_CONFIG, /* an SR-IOV set's PF cannot have the VFs it asks for */
	REFUSE_RESET,	     /* the set's reset_method cannot be set on the function */
};

struct refusal {
	enum refusal_kind kind;
	bool forceable;
	bool forced; /* --force given and forceable: reported, not enforced */
	char fn[PCIADDR_STRLEN];
	char msg[512]; /* complete sentence naming the function and the cause */
};

struct plan {
	enum verb verb;
	struct action *acts; /* sorted by group, then address */
	size_t n_acts;
	struct refusal *refusals;
	size_t n_refusals;
	struct sriov_change *sriov; /* VFs to create before the SR-IOV sets' VFs can be bound */
	size_t n_sriov;
	char followed[512]; /* request.follow: each set bound at its device's new address, a sentence each */
};

/* Resolution and planning errors that are the user's input (exit 2) */
struct plan_error {
	char msg[512];
};

/*
 * Resolve the request's selectors against host and config and decide.
 * Returns 0 with *ret (which may hold refusals: check plan_refused()),
 * -EINVAL with *err for bad selectors (no match, unknown section), or
 * -ENOMEM.
 */
int plan_make(const struct pcihost *h, const struct config *cfg, const struct fnstate *records, size_t n_records,
	      const struct request *req, struct plan **ret, struct plan_error *err);
void plan_free(struct plan *p);

/*
 * The check plan_make() makes of one selector: -EINVAL with the message
 * bind gives when it matches no function on h (for a set name: no function
 * of the set is present, or no such set), else 0. status uses it so both
 * say the same.
 */
int plan_check_selector(const struct pcihost *h, const struct config *cfg, const struct selector *sel,
			struct plan_error *err);

/* true if any refusal is not forced */
bool plan_refused(const struct plan *p);
/* Is f one of the functions set binds? (for an SR-IOV set: the VFs it wants of its PFs) */
bool plan_set_selects(const struct pcihost *h, const struct devset *set, const struct pcifn *f);
/* number of actions that change something */
size_t plan_changes(const struct plan *p);

enum set_verdict {
	VERDICT_READY,	/* can be bound */
	VERDICT_BOUND,	/* every function already on its driver */
	VERDICT_ABSENT, /* nothing on this host matches */
	VERDICT_NO_IOMMU,
	VERDICT_GROUP,	 /* group also holds X on driver Y */
	VERDICT_IDS,	 /* the address holds other ids */
	VERDICT_REFUSED, /* a safety refusal (console, mount, ...) */
};

const char *set_verdict_name(enum set_verdict v);

/* Verdict for one config set, with a one-line explanation in detail */
enum set_verdict plan_set_verdict(const struct pcihost *h, const struct config *cfg, const struct devset *set,
				  char *detail, size_t size);

#endif
