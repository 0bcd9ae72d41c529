/* atomicfile.h - replace a file below a root atomically, never through a symlink */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_ATOMICFILE_H
#define PCIBIND_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "sysroot.h"

/*
 * Write len bytes of data to rel (relative to the root): a temporary file
 * is created next to it with O_CREAT|O_EXCL|O_NOFOLLOW, written, fsynced,
 * renamed over rel, and the directory fsynced. Missing parent directories
 * are created (0755). An existing file keeps its mode and owner; a new one
 * gets mode. A symlink (or anything but a regular file) at rel, or a
 * symlink at any directory on the way, is refused with -ELOOP (-EISDIR,
 * -EINVAL); no temporary file is left behind on any failure. Returns 0 or
 * -errno.
 *
 * rel holds either its old or its new bytes at every moment. A failure
 * syncing the directory comes after the rename: rel has the new bytes, which
 * a crash may still undo. A run killed before its rename leaves its
 * temporary file (".NAME.pcibind-XXXXXXXX"); the next write of rel removes
 * it, recognised as stale because no live writer holds its flock.
 */
int atomicfile_write(const struct sysroot *r, const char *rel, const void *data, size_t len, mode_t mode);

/*
 * Remove the regular file rel (absent: nothing to do), never what a symlink
 * there points to (-ELOOP), and fsync its directory. prune (may be NULL): a
 * directory above rel that is pcibind's own; it and the ones between are
 * removed while they are empty. Returns 0 or -errno.
 */
int atomicfile_remove(const struct sysroot *r, const char *rel, const char *prune);

/*
 * Only the temporary files a killed run left next to rel (whether rel is
 * there or not; rel itself untouched): for the way back, where no write
 * of rel comes to remove them. 0 (nothing to do too) or -errno.
 */
int atomicfile_sweep(const struct sysroot *r, const char *rel);

#endif
