/* session.h - one state-changing run: the lock, the host as read, the journal, plans made with them, carried out */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_SESSION_H
#define PCIBIND_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "bind.h"
#include "console.h"
#include "config.h"
#include "journal.h"
#include "pcidev.h"
#include "plan.h"
#include "sysroot.h"

/*
 * bind, unbind, restore, apply and the hooks each open a session: the run
 * lock (not in a dry run, which writes nothing, not even the lock), the
 * host read, the journal loaded, in that order. Plans are made with the
 * session's host and journal records; the journal is changed and saved
 * through the session (and by bind.c and console.c while they carry a plan
 * out, a step ahead of each write). A command only parses its options,
 * opens the session, and turns its -errno and message into an exit status.
 *
 * Messages: a function that fails with a message writes it to msg; the
 * command says it in its own voice (apply per set, the hooks to syslog).
 */

/* What a scan reads besides the devices */
enum {
	SESSION_SCAN_DEFERRED = 1 << 0,	 /* driverless functions' driver_override later, for a plan's functions */
	SESSION_SCAN_UNHELD = 1 << 1,	 /* functions the kernel's device lock holds, waited for (bind) */
	SESSION_SCAN_BUSY_ONCE = 1 << 2, /* ... waited for once per session, longer (apply, at boot) */
	SESSION_SCAN_USES = 1 << 3,	 /* what the host uses each function for (usage.c) */
	SESSION_SCAN_VARIANTS = 1 << 4,	 /* driver = auto: each function's vfio variant (modules.alias) */
};

/*
 * At boot a driver's probe holds the device lock while it runs, for seconds
 * on a slow or loaded machine; SESSION_SCAN_BUSY_ONCE waits this long, once
 * per session, for functions found locked (and no process holding) before
 * they are called busy.
 */
#define SESSION_BUSY_WAIT_MS 8000

struct session_opts {
	const struct sysroot *root;
	const struct config *cfg; /* the caller's; outlives the session */
	unsigned lock_wait_s;	  /* how long another run's lock is waited for */
	bool dry_run;		  /* no lock */
	unsigned scan;		  /* SESSION_SCAN_* */
	/* SESSION_SCAN_BUSY_ONCE: told before the wait, which function made it (apply says so with -v) */
	void (*busy_wait)(void *userdata, const char *fn, unsigned ms);
	void *userdata;
};

struct session {
	const struct sysroot *root;
	const struct config *cfg;
	struct pcihost *h;
	struct journal *j;
	int lock_fd;	  /* -1: not held (a dry run) */
	unsigned scan;	  /* SESSION_SCAN_* of the next scan */
	bool busy_waited; /* SESSION_SCAN_BUSY_ONCE: the wait was made */
	void (*busy_wait)(void *userdata, const char *fn, unsigned ms);
	void *userdata;
};

/* lock, scan, journal; an exit-status-free -errno with msg on failure */
int session_open(struct session *s, const struct session_opts *o, char *msg, size_t size);
void session_close(struct session *s);

/* the run lock alone, with the message a command gives (generate and setup take it too) */
int session_lock(const struct sysroot *r, unsigned wait_s, int *ret_fd, char *msg, size_t size);
/* the run lock if it comes within tries x 20 ms (the udev path never waits long): an fd, or -1 */
int session_lock_briefly(const struct sysroot *r, int tries);
/* the journal alone, read as trusted; the message says what is wrong with it and what to do */
int session_load_journal(const struct sysroot *r, struct journal **ret, char *msg, size_t size);

/* the host read again (after a change, or VFs made): s->h replaced */
int session_scan(struct session *s, char *msg, size_t size);
/* what the host uses each function for, read now (a hook reads it only when something would move) */
void session_read_uses(struct session *s);
/* driver = auto: each function's vfio variant looked up now */
int session_read_variants(struct session *s);

/* plan_make() with the session's host and journal records */
int session_plan(const struct session *s, const struct request *req, struct plan **ret, struct plan_error *e);

/*
 * The vfio variant modules driver = auto picked for p's moves, loaded, and
 * the host's variants read again so that a new plan names their drivers
 * (vfio_pci registers vfio-pci). Returns how many were loaded (0: none
 * needed), or -errno with msg and *ret_fn the function whose module failed.
 * loaded, if not NULL, is told of each module loaded. of_plan: the variants
 * of p's functions alone are read again (a hook never reads the rest of
 * the host), else every function's.
 */
int session_load_variants(struct session *s, const struct plan *p, bool of_plan, const struct bind_opts *o,
			  void (*loaded)(void *userdata, const char *module, const char *fn), void *userdata,
			  size_t *ret_fn, char *msg, size_t size);

/* a function's state before this run, added to the journal unless it has a record: 1 added, 0 kept, -errno */
int session_note(struct session *s, const struct fnstate *st);
/* the journal as changed (a claim noted, an original recorded), saved */
int session_save(const struct session *s);
/* records of boot claims (the udev path): loaded, added to, saved; the lock is the caller's */
int session_record_claims(const struct sysroot *r, const char *const *names, size_t n, bool *ret_read_failed);

/*
 * The udev path's writes, without a session (an event reads only what the
 * configuration names, and takes the lock only if it comes at once): a
 * function claimed for driver (driver_override), and probed. 0, or -errno
 * with msg naming the file and what was written.
 */
int session_claim(const struct sysroot *r, const char *fn, const char *driver, unsigned timeout_ms, char *msg,
		  size_t size);
int session_probe(const struct sysroot *r, const char *fn, unsigned timeout_ms, char *msg, size_t size);

/* p carried out with the session's host and journal (bind_run()) */
int session_run(struct session *s, const struct plan *p, const struct bind_opts *o, struct outcome **ret_outs,
		int *ret_journal_err);
/* an SR-IOV plan's VFs made, and ended (bind_sriov_begin(), bind_sriov_end()) */
int session_sriov_begin(struct session *s, const struct plan *p, const struct bind_opts *o, struct sriov_outcome **ret);
int session_sriov_end(struct session *s, const struct plan *p, const struct bind_opts *o, struct sriov_outcome *so,
		      bool failed);
/* a release_console set's single-GPU steps, journaled and taken (steps_apply()), and undone (steps_undo()) */
int session_steps_apply(struct session *s, const struct devset *set, const char *fns, const struct steps_opts *o,
			char *msg, size_t size);
int session_steps_undo(struct session *s, const struct steps_opts *o, char *msg, size_t size);
/* single-GPU steps an earlier run left, undone (bind_undo_steps()) */
int session_undo_steps(struct session *s, const struct bind_opts *o);

#endif
