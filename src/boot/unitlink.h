/* unitlink.h - enable or disable a systemd unit below a root as `systemctl --root=DIR` does: its [Install] symlinks */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_UNITLINK_H
#define PCIBIND_UNITLINK_H

#include <stdbool.h>
#include <stddef.h>

#include "sysroot.h"

#define UNIT_LINKS_MAX 8
#define UNIT_PATH_MAX  256

struct unit_links {
	char unit[UNIT_PATH_MAX];		      /* "pcibind.service" */
	char path[UNIT_PATH_MAX];		      /* where its file is: "/usr/lib/systemd/system/pcibind.service" */
	bool masked;				      /* etc/systemd/system/UNIT is a symlink to /dev/null */
	char links[UNIT_LINKS_MAX][UNIT_PATH_MAX];    /* "etc/systemd/system/sysinit.target.wants/pcibind.service" */
	bool present[UNIT_LINKS_MAX];		      /* the link exists and points to path */
	char conflict[UNIT_LINKS_MAX][UNIT_PATH_MAX]; /* something else in its place: what, "" when nothing */
	size_t n_links;
};

/*
 * Find unit in the system unit search path below the root (etc, run,
 * usr/local/lib, usr/lib, lib /systemd/system, first found wins), read
 * the WantedBy= and RequiredBy= of its [Install] section and see which of
 * the links they ask for exist. -ENOENT: no such unit file; -EINVAL: a
 * name that is not a unit file name, or an [Install] target that is not
 * one.
 */
int unit_links_read(const struct sysroot *r, const char *unit, struct unit_links *ret);

/* every link enabled: true when each is present (a masked unit is never enabled) */
bool unit_links_enabled(const struct unit_links *u);

/*
 * Create the links that are missing, each atomically (a temporary symlink
 * renamed into place), their directories as needed (0755). A conflict is
 * -EEXIST and nothing is created. Returns the number of links created.
 */
int unit_enable(const struct sysroot *r, const struct unit_links *u);

/*
 * Remove every symlink named unit in etc/systemd/system/ *.wants and
 * *.requires, and each such directory left empty. Returns the number
 * removed.
 */
int unit_disable(const struct sysroot *r, const char *unit);

/* the links unit_disable() would remove, without removing them */
int unit_count_links(const struct sysroot *r, const char *unit);

#endif
