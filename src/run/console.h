/* console.h - single-GPU steps: stop units, release vtconsoles and firmware framebuffers, reset_method */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_CONSOLE_H
#define PCIBIND_CONSOLE_H

#include <stddef.h>

#include "config.h"
#include "journal.h"
#include "pcidev.h"
#include "sysroot.h"

struct steps_opts {
	const char *systemctl;	  /* NULL: units cannot be stopped (an error if a set asks for it) */
	unsigned timeout_ms;	  /* deadline of each sysfs write; systemctl gets SPAWN_PROGRAM_DEADLINES of them */
	const struct config *cfg; /* undo: a unit is started again only if a set's stop_units names it */
};

/*
 * The systemctl to run: the system's for the root "/", else only
 * $PCIBIND_SYSTEMCTL (tests, image builds), never the host's for another root.
 */
const char *steps_find_systemctl(const struct sysroot *r);

/*
 * Before binding the functions fns (comma separated addresses) of set:
 * stop its units, unbind the vtconsoles bound to fbcon and the firmware
 * framebuffers (efi-framebuffer, simple-framebuffer, simpledrm). Each step
 * is journaled (and the journal saved) before it is done. Returns the number
 * of steps done, or -errno with msg; then the caller undoes with steps_undo.
 */
int steps_apply(const struct sysroot *r, struct journal *j, const struct devset *set, const char *fns,
		const struct steps_opts *o, char *msg, size_t size);

/*
 * Undo, newest first, every step no function record needs any more (all of
 * its functions are back), dropping its record and saving the journal.
 * Returns the number undone, or -errno with msg for the first that failed
 * (its record and the older ones are kept for the next restore; a unit no
 * set of o->cfg stops is never started, and its record dropped: -EPERM).
 */
int steps_undo(const struct sysroot *r, struct journal *j, const struct steps_opts *o, char *msg, size_t size);

#endif
