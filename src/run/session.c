/* session.c - one state-changing run: the lock, the host as read, the journal, plans made with them, carried out */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "whereabouts.h"
#include "kwrite.h"
#include "session.h"
#include "spawn.h"
#include "usage.h"
#include "util.h"
#include "variant.h"

int session_lock(const struct sysroot *r, unsigned wait_s, int *ret_fd, char *msg, size_t size)
{
	long holder = 0;
	int err = lock_acquire(r, wait_s, ret_fd, &holder);

	if (err == -ETIMEDOUT)
		snprintf(msg, size, "another pcibind (pid %ld) has held %s/%s for %u s; giving up", holder,
			 sysroot_is_host(r) ? "" : sysroot_path(r), LOCK_FILE, wait_s);
	else if (err == -EINTR)
		snprintf(msg, size, "stopped by %s while waiting for the lock %s; nothing was changed",
			 spawn_signal_name(spawn_stop_pending()), LOCK_FILE);
	else if (journal_run_dir_problem(r, msg, size))
		return err < 0 ? err : -EPERM;
	else if (err < 0)
		snprintf(msg, size, "cannot take the lock %s: %s", LOCK_FILE, strerror(-err));
	return err;
}

int session_lock_briefly(const struct sysroot *r, int tries)
{
	int fd = -1;

	for (int i = 0; i < tries; i++) {
		if (lock_acquire(r, 0, &fd, NULL) == 0)
			return fd;
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
	return -1;
}

int session_load_journal(const struct sysroot *r, struct journal **ret, char *msg, size_t size)
{
	unsigned line = 0;
	int err = journal_load(r, ret, &line);

	if (err == -EBADMSG)
		snprintf(msg, size,
			 "the journal %s is damaged at line %u: it holds what pcibind could not have written "
			 "there; it records what pcibind changed: inspect it, then remove it; nothing was changed",
			 JOURNAL_FILE, line);
	else if (err < 0 && journal_run_dir_problem(r, msg, size))
		;
	else if (err == -EINVAL || err == -EPERM || err == -ELOOP || err == -EFBIG)
		snprintf(msg, size,
			 "the journal %s is %s; pcibind reads back only the file it wrote: inspect it, then "
			 "remove it; nothing was changed",
			 JOURNAL_FILE,
			 err == -EINVAL	 ? "not a regular file"
			 : err == -EPERM ? "owned by another user or writable by others"
			 : err == -ELOOP ? "a symlink"
					 : "far larger than pcibind ever writes it");
	else if (err < 0)
		snprintf(msg, size, "cannot read the journal %s: %s", JOURNAL_FILE, strerror(-err));
	return err < 0 ? err : 0;
}

/* the first function the kernel's device lock holds, waited for once per session */
static int wait_busy_once(struct session *s)
{
	for (size_t i = 0; !s->busy_waited && i < s->h->n; i++) {
		if (!s->h->fns[i].busy)
			continue;
		s->busy_waited = true;
		if (s->busy_wait)
			s->busy_wait(s->userdata, s->h->fns[i].name, SESSION_BUSY_WAIT_MS);
		return bind_wait_unheld_locks(s->root, s->h, SESSION_BUSY_WAIT_MS);
	}
	return 0;
}

int session_scan(struct session *s, char *msg, size_t size)
{
	int err;

	pcihost_free(s->h);
	s->h = NULL;
	err = s->scan & SESSION_SCAN_DEFERRED ? pcihost_scan_deferred(s->root, &s->h) : pcihost_scan(s->root, &s->h);
	if (err == 0 && (s->scan & SESSION_SCAN_UNHELD))
		err = bind_wait_unheld_locks(s->root, s->h, BIND_UNHELD_LOCK_WAIT_MS);
	if (err == 0 && (s->scan & SESSION_SCAN_BUSY_ONCE))
		err = wait_busy_once(s);
	if (err < 0) {
		snprintf(msg, size, "cannot read sys/bus/pci/devices under %s: %s", sysroot_path(s->root),
			 strerror(-err));
		return err;
	}
	if (s->scan & SESSION_SCAN_USES)
		session_read_uses(s);
	/* a set that records its device (issue 24): serial numbers and slots, read only then */
	if (plan_identity_needed(s->cfg) && (err = identity_annotate(s->root, s->h)) < 0) {
		snprintf(msg, size, "out of memory");
		return err;
	}
	if ((s->scan & SESSION_SCAN_VARIANTS) && (err = session_read_variants(s)) < 0)
		snprintf(msg, size, "out of memory");
	return err;
}

void session_read_uses(struct session *s)
{
	(void)usage_scan(s->root, s->h); /* a use that cannot be read is not there: the refusals say so */
}

int session_read_variants(struct session *s)
{
	return variant_annotate(s->root, s->h, NULL);
}

int session_open(struct session *s, const struct session_opts *o, char *msg, size_t size)
{
	int err;

	*s = (struct session){ .root = o->root,
			       .cfg = o->cfg,
			       .lock_fd = -1,
			       .scan = o->scan,
			       .busy_wait = o->busy_wait,
			       .userdata = o->userdata };
	if (!o->dry_run && (err = session_lock(s->root, o->lock_wait_s, &s->lock_fd, msg, size)) < 0)
		return err;
	if ((err = session_scan(s, msg, size)) < 0)
		return err;
	return session_load_journal(s->root, &s->j, msg, size);
}

void session_close(struct session *s)
{
	journal_free(s->j);
	pcihost_free(s->h);
	lock_release(s->lock_fd);
	*s = (struct session){ .lock_fd = -1 };
}

int session_plan(const struct session *s, const struct request *req, struct plan **ret, struct plan_error *e)
{
	return plan_make(s->h, s->cfg, s->j->recs, s->j->n, req, ret, e);
}

/* the variants read again: of the plan's driver = auto functions only (a hook), or of every function */
static int reread_variants(struct session *s, const struct plan *p, bool of_plan)
{
	_cleanup_free_ bool *want = of_plan ? calloc(s->h->n ? s->h->n : 1, sizeof(*want)) : NULL;

	if (of_plan && !want)
		return -ENOMEM;
	for (size_t i = 0; want && i < p->n_acts; i++)
		want[p->acts[i].fn] |= p->acts[i].auto_driver && !p->acts[i].noop;
	return variant_annotate(s->root, s->h, want);
}

int session_load_variants(struct session *s, const struct plan *p, bool of_plan, const struct bind_opts *o,
			  void (*loaded)(void *userdata, const char *module, const char *fn), void *userdata,
			  size_t *ret_fn, char *msg, size_t size)
{
	int n = 0, err;

	for (size_t i = 0; i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];
		const struct variant_pick *v = s->h->fns[a->fn].variant;

		if (!a->auto_driver || a->noop || !v || !v->module[0] || v->driver[0])
			continue;
		if ((err = bind_load_module(s->root, v->module, o, msg, size)) < 0) {
			*ret_fn = a->fn;
			return err;
		}
		if (loaded)
			loaded(userdata, v->module, a->name);
		n++;
	}
	if (n && (err = reread_variants(s, p, of_plan)) < 0) {
		snprintf(msg, size, "out of memory");
		*ret_fn = (size_t)-1;
		return err;
	}
	return n;
}

int session_note(struct session *s, const struct fnstate *st)
{
	return journal_add(s->j, st);
}

int session_save(const struct session *s)
{
	return journal_save(s->root, s->j);
}

int session_record_claims(const struct sysroot *r, const char *const *names, size_t n, bool *ret_read_failed)
{
	struct journal *j = NULL;
	int err = 0;

	*ret_read_failed = journal_load(r, &j, NULL) < 0;
	if (*ret_read_failed)
		return -EIO;
	for (size_t i = 0; i < n && err >= 0; i++) {
		struct fnstate st = { .sriov_numvfs = -1, .boot_claim = true };

		(void)snprintf(st.name, sizeof(st.name), "%s", names[i]);
		err = journal_add(j, &st);
	}
	if (err >= 0)
		err = journal_save(r, j);
	journal_free(j);
	return err;
}

static int write_attr(const struct sysroot *r, const char *rel, const char *data, unsigned timeout_ms, char *msg,
		      size_t size)
{
	pid_t stuck;
	int err = kwrite(r, rel, data, timeout_ms, &stuck);

	if (err < 0)
		snprintf(msg, size, "cannot write '%s' to %s: %s", data, rel, strerror(-err));
	return err;
}

int session_claim(const struct sysroot *r, const char *fn, const char *driver, unsigned timeout_ms, char *msg,
		  size_t size)
{
	char rel[128], want[DRIVER_NAME_MAX + 2];

	if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver_override", fn) < 0)
		return 0; /* not a name a function has: nothing to claim */
	(void)snprintf(want, sizeof(want), "%s\n", driver);
	return write_attr(r, rel, want, timeout_ms, msg, size);
}

int session_probe(const struct sysroot *r, const char *fn, unsigned timeout_ms, char *msg, size_t size)
{
	return write_attr(r, "sys/bus/pci/drivers_probe", fn, timeout_ms, msg, size);
}

int session_run(struct session *s, const struct plan *p, const struct bind_opts *o, struct outcome **ret_outs,
		int *ret_journal_err)
{
	return bind_run(s->root, s->h, p, s->j, o, ret_outs, ret_journal_err);
}

int session_sriov_begin(struct session *s, const struct plan *p, const struct bind_opts *o, struct sriov_outcome **ret)
{
	return bind_sriov_begin(s->root, s->h, p, s->j, o, ret);
}

int session_sriov_end(struct session *s, const struct plan *p, const struct bind_opts *o, struct sriov_outcome *so,
		      bool failed)
{
	return bind_sriov_end(s->root, p, s->j, o, so, failed);
}

int session_undo_steps(struct session *s, const struct bind_opts *o)
{
	return bind_undo_steps(s->root, s->j, o);
}

int session_steps_apply(struct session *s, const struct devset *set, const char *fns, const struct steps_opts *o,
			char *msg, size_t size)
{
	return steps_apply(s->root, s->j, set, fns, o, msg, size);
}

int session_steps_undo(struct session *s, const struct steps_opts *o, char *msg, size_t size)
{
	return steps_undo(s->root, s->j, o, msg, size);
}
