/* fault.c - injected faults: failing, blocking and vanishing writes, failing probes */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcisim.h"

static const char *const fault_ops[] = {
	"driver_override", "unbind",	"bind",		"drivers_probe", "new_id",
	"remove_id",	   "reset_method", "sriov_numvfs", "remove",	 "sriov_drivers_autoprobe",
};

bool fault_op_valid(const char *op)
{
	size_t i;

	for (i = 0; i < sizeof(fault_ops) / sizeof(fault_ops[0]); i++)
		if (strcmp(fault_ops[i], op) == 0)
			return true;
	return false;
}

int fault_add(struct sim *sim, const struct fault *f)
{
	sim->faults = xrealloc(sim->faults, sim->n_faults + 1, sizeof(*sim->faults));
	sim->faults[sim->n_faults++] = *f;
	return 0;
}

static void fault_drop(struct sim *sim, size_t i)
{
	memmove(&sim->faults[i], &sim->faults[i + 1], (sim->n_faults - i - 1) * sizeof(sim->faults[0]));
	sim->n_faults--;
}

void fault_waiter_add(struct sim *sim, struct block_waiter *w)
{
	w->released = false;
	w->next = sim->waiters;
	sim->waiters = w;
}

void fault_waiter_remove(struct sim *sim, struct block_waiter *w)
{
	struct block_waiter **p;

	for (p = &sim->waiters; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

static void wake_waiters(struct sim *sim, const char *target)
{
	struct block_waiter *w;

	for (w = sim->waiters; w; w = w->next)
		if (strcmp(target, "*") == 0 || sysfs_streq(w->target, target))
			w->released = true;
	pthread_cond_broadcast(&sim->cond);
}

void fault_clear(struct sim *sim)
{
	free(sim->faults);
	sim->faults = NULL;
	sim->n_faults = 0;
	wake_waiters(sim, "*");
}

void fault_release(struct sim *sim, const char *target)
{
	size_t i = 0;

	while (i < sim->n_faults) {
		struct fault *f = &sim->faults[i];

		if (f->kind == FAULT_BLOCK && (strcmp(target, "*") == 0 || strcmp(f->target, target) == 0))
			fault_drop(sim, i);
		else
			i++;
	}
	wake_waiters(sim, target);
}

static bool target_matches(const struct fault *f, const char *target)
{
	return strcmp(f->target, "*") == 0 || sysfs_streq(f->target, target);
}

/* the first matching fault of that kind; one use of it is consumed */
static struct fault *take(struct sim *sim, enum fault_kind kind, const char *target, const char *op,
			  struct fault *copy)
{
	size_t i;

	for (i = 0; i < sim->n_faults; i++) {
		struct fault *f = &sim->faults[i];

		if (f->kind != kind || !target_matches(f, target) || strcmp(f->op, op) != 0)
			continue;
		*copy = *f;
		if (f->count > 0 && --f->count == 0)
			fault_drop(sim, i);
		return copy;
	}
	return NULL;
}

int fault_take_fail(struct sim *sim, const char *target, const char *op)
{
	struct fault copy, *f = take(sim, FAULT_FAIL, target, op, &copy);

	return f ? f->err : 0;
}

int fault_take_probe(struct sim *sim, const char *addr, const char *driver)
{
	struct fault copy, *f = take(sim, FAULT_FAILPROBE, addr, driver, &copy);

	return f ? f->err : 0;
}

bool fault_take_vanish(struct sim *sim, const char *target, const char *op)
{
	struct fault copy;

	return take(sim, FAULT_VANISH, target, op, &copy) != NULL;
}

int fault_take_block(struct sim *sim, const char *target, const char *op)
{
	struct fault copy, *f = take(sim, FAULT_BLOCK, target, op, &copy);

	return f ? f->seconds : -2;
}
