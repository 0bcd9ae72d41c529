/* state.h - pcibind's state directories and files: one place makes them, one reader trusts them */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_STATE_H
#define PCIBIND_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "sysroot.h"

/* /run/pcibind: the journal, the lock, the per-VM records, the udev path's notes; gone at reboot */
#define RUN_PARENT "run"
#define RUN_NAME   "pcibind"
#define RUN_DIR	   RUN_PARENT "/" RUN_NAME

/*
 * The run directory, as an O_DIRECTORY fd: no symlink on the way, owned by
 * root (or this user), writable by nobody else; its parent root's and not
 * writable by others unless sticky. create: made 0700 (and its parent 0755)
 * if missing; an own directory readable by others is made 0700. -ENOENT
 * (not there, !create), -ELOOP, -EPERM (owner or mode), -ENOTDIR, -errno.
 */
int state_run_dir(const struct sysroot *r, bool create);

/*
 * The subdirectory name of the run directory (one component), made 0700
 * if missing when create, checked as the run directory is. An fd or -errno.
 */
int state_run_subdir(const struct sysroot *r, const char *name, bool create);

/*
 * The one trusted reader of a state file: name (one component) in the
 * directory dirfd, or rel below the root with no symlink on the way. It
 * must be a regular file (a FIFO never blocks the open: -EINVAL), owned by
 * root or this user and writable by nobody else (-EPERM), at most max
 * bytes (-EFBIG), and text: a NUL byte is -EBADMSG with its line in
 * *ret_line (may be NULL). -ELOOP for a symlink. The text, NUL-terminated.
 */
int state_read_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, unsigned *ret_line);
int state_read(const struct sysroot *r, const char *rel, size_t max, char **ret, size_t *ret_len, unsigned *ret_line);

/* /var/lib/pcibind: what must outlive a reboot (the boot-edit record, originals, marks) */
#define STATE_LIB_DIR "var/lib/pcibind"

/*
 * A mark in STATE_LIB_DIR (name: one component): set makes it (empty,
 * atomically), clear removes it and the directory with it when that is
 * left empty. 0 or -errno. A mark is there only as the trusted reader
 * accepts it: a regular file of root's, writable by nobody else.
 */
int state_mark(const struct sysroot *r, const char *name, bool set);
bool state_marked(const struct sysroot *r, const char *name);

/*
 * A note in the run directory (name: one component), for the udev path's
 * events of one boot: read as trusted (at most max bytes; -ENOENT when
 * there is none), written whole (a temporary file renamed over it), or
 * removed. state_note_once(): 1 when the note already says text (under a
 * lock on the note, so that parallel events agree on who says it first),
 * else 0 with text written; -errno when it cannot be had.
 */
int state_note_read(const struct sysroot *r, const char *name, size_t max, char **ret);
int state_note_write(const struct sysroot *r, const char *name, const char *text);
int state_note_once(const struct sysroot *r, const char *name, const char *text);
int state_note_remove(const struct sysroot *r, const char *name);

/* what a state_read error means, for a message that names the file */
const char *state_strerror(int err);

#endif
