/* fs.c - the FUSE side: kernfs-like reads and writes over the sysfs tree, faults applied on write */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcisim.h"

/*
 * struct fuse_open_out of <linux/fuse.h>. libfuse 3.14 cannot ask for
 * parallel direct writes, and without them the kernel serialises writes to
 * one inode: eight blocked writes to drivers/nvidia/unbind would queue up,
 * which kernfs does not do. So the open reply is built here.
 */
struct open_reply {
	uint64_t fh;
	uint32_t open_flags;
	uint32_t padding;
};
#define OPEN_DIRECT_IO (1u << 0)
#define OPEN_PARALLEL_DIRECT_WRITES (1u << 6)

/* a path keeps its inode number for the life of the mount */
struct inodes {
	char **paths; /* by inode number - 1 */
	size_t n;
	size_t *slots; /* hash of path -> inode number, 0: empty */
	size_t n_slots;
};

struct fs {
	struct sim *sim;
	struct fuse_session *se;
	struct inodes ino;
	time_t start;
};

/* an open file: the text shown at the last read from offset 0; an open directory: its listing */
struct handle {
	struct strbuf content;
	bool filled;
};

static size_t path_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void ino_rehash(struct inodes *t)
{
	size_t i, j;

	free(t->slots);
	t->n_slots = t->n_slots ? t->n_slots * 2 : 1024;
	t->slots = xcalloc(t->n_slots, sizeof(size_t));
	for (i = 0; i < t->n; i++) {
		for (j = path_hash(t->paths[i]) % t->n_slots; t->slots[j]; j = (j + 1) % t->n_slots)
			;
		t->slots[j] = i + 1;
	}
}

static fuse_ino_t ino_intern(struct inodes *t, const char *path)
{
	size_t j;

	if (2 * (t->n + 1) > t->n_slots)
		ino_rehash(t);
	for (j = path_hash(path) % t->n_slots; t->slots[j]; j = (j + 1) % t->n_slots)
		if (strcmp(t->paths[t->slots[j] - 1], path) == 0)
			return t->slots[j];
	t->paths = xrealloc(t->paths, t->n + 1, sizeof(char *));
	t->paths[t->n++] = xstrdup(path);
	t->slots[j] = t->n;
	return t->n;
}

static const char *ino_path(const struct inodes *t, fuse_ino_t ino)
{
	return ino >= 1 && ino <= t->n ? t->paths[ino - 1] : NULL;
}

static void fill_stat(const struct fs *fs, const struct vnode *v, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mtime = st->st_atime = st->st_ctime = fs->start;
	st->st_nlink = 1;
	switch (v->type) {
	case V_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case V_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_size = (off_t)strlen(v->target);
		break;
	case V_FILE:
		st->st_mode = S_IFREG | v->attr->mode;
		st->st_size = v->attr->size ? (off_t)v->attr->size : SYSFS_PAGE;
		break;
	}
}

/* resolve an inode's path; called with the lock held */
static int resolve_ino(struct fs *fs, fuse_ino_t ino, struct vnode *v)
{
	const char *path = ino_path(&fs->ino, ino);

	return path ? sysfs_resolve(fs->sim, path, v) : -ESTALE;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);
	struct vnode *v = xcalloc(1, sizeof(*v));
	struct fuse_entry_param e = { 0 };
	const char *dir;
	char path[SIM_PATH_LEN];
	int r = -ENOENT;

	pthread_mutex_lock(&fs->sim->lock);
	dir = ino_path(&fs->ino, parent);
	if (dir && str_printf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", name))
		r = sysfs_resolve(fs->sim, path, v);
	if (r == 0) {
		e.ino = ino_intern(&fs->ino, path);
		fill_stat(fs, v, e.ino, &e.attr);
	}
	pthread_mutex_unlock(&fs->sim->lock);
	free(v);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct vnode *v = xcalloc(1, sizeof(*v));
	struct stat st;
	int r;

	(void)fi;
	pthread_mutex_lock(&fs->sim->lock);
	r = resolve_ino(fs, ino, v);
	if (r == 0)
		fill_stat(fs, v, ino, &st);
	pthread_mutex_unlock(&fs->sim->lock);
	free(v);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, 0);
}

/* O_TRUNC from a shell's ">" arrives as a size change; sysfs ignores it, and times */
static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	(void)attr;
	if ((to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
			FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))) {
		fuse_reply_err(req, EPERM);
		return;
	}
	ll_getattr(req, ino, fi);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fuse_req_userdata(req);
	struct vnode *v = xcalloc(1, sizeof(*v));
	int r;

	pthread_mutex_lock(&fs->sim->lock);
	r = resolve_ino(fs, ino, v);
	pthread_mutex_unlock(&fs->sim->lock);
	if (r == 0 && v->type != V_LINK)
		r = -EINVAL;
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, v->target);
	free(v);
}

/* a listing is "name\0type" records */
static void list_one(void *ctx, const char *name, enum vtype type)
{
	struct strbuf *sb = ctx;

	sb_append(sb, name, strlen(name) + 1);
	sb_append(sb, type == V_DIR ? "d" : type == V_LINK ? "l" : "f", 1);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct vnode *v = xcalloc(1, sizeof(*v));
	struct handle *h = xcalloc(1, sizeof(*h));
	int r;

	list_one(&h->content, ".", V_DIR);
	list_one(&h->content, "..", V_DIR);
	pthread_mutex_lock(&fs->sim->lock);
	r = resolve_ino(fs, ino, v);
	if (r == 0)
		r = sysfs_list(fs->sim, v, list_one, &h->content);
	pthread_mutex_unlock(&fs->sim->lock);
	free(v);
	if (r < 0) {
		sb_free(&h->content);
		free(h);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fuse_reply_open(req, fi);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	char *buf = xcalloc(1, size);
	size_t pos = 0, at = 0;
	off_t idx = 0;

	(void)ino;
	while (at < h->content.len) {
		const char *name = h->content.s + at;
		char type = name[strlen(name) + 1];
		struct stat st = { .st_ino = 0xffffffff }; /* FUSE_UNKNOWN_INO */
		size_t need;

		at += strlen(name) + 2;
		if (idx++ < off)
			continue;
		st.st_mode = type == 'd' ? S_IFDIR : type == 'l' ? S_IFLNK : S_IFREG;
		need = fuse_add_direntry(req, buf + pos, size - pos, name, &st, idx);
		if (need > size - pos)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)ino;
	sb_free(&h->content);
	free(h);
	fuse_reply_err(req, 0);
}

/* kernfs_fop_open(): reading needs a show(), writing a store() */
static int open_allowed(const struct vnode *v, int flags)
{
	int acc = flags & O_ACCMODE;

	if (v->type == V_DIR)
		return -EISDIR;
	if ((acc == O_RDONLY || acc == O_RDWR) && (!v->attr->show || !(v->attr->mode & 0444)))
		return -EACCES;
	if ((acc == O_WRONLY || acc == O_RDWR) && (!v->attr->store || !(v->attr->mode & 0222)))
		return -EACCES;
	return 0;
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct vnode *v = xcalloc(1, sizeof(*v));
	struct open_reply out = { 0 };
	int r;

	pthread_mutex_lock(&fs->sim->lock);
	r = resolve_ino(fs, ino, v);
	pthread_mutex_unlock(&fs->sim->lock);
	if (r == 0)
		r = open_allowed(v, fi->flags);
	free(v);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	out.fh = (uint64_t)(uintptr_t)xcalloc(1, sizeof(struct handle));
	out.open_flags = OPEN_DIRECT_IO | OPEN_PARALLEL_DIRECT_WRITES;
	fuse_reply_buf(req, (const char *)&out, sizeof(out));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)ino;
	if (h)
		sb_free(&h->content);
	free(h);
	fuse_reply_err(req, 0);
}

struct wreq;
static int devlock_wait(struct fs *fs, fuse_req_t req, struct wreq *wr, struct sim_fn *fn, const char *op);

/* like a seq_file: the text is made at a read from offset 0 */
static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct vnode *v;
	int r = 0;

	if (off == 0 || !h->filled) {
		v = xcalloc(1, sizeof(*v));
		pthread_mutex_lock(&fs->sim->lock);
		r = resolve_ino(fs, ino, v) < 0 ? -ENODEV : 0;
		/* driver_override_show() and sriov_numvfs_show() take the device lock */
		if (r == 0 && (v->attr->devlock & DEVLOCK_SHOW) && v->fn && v->fn->unbinding) {
			r = devlock_wait(fs, req, NULL, v->fn, v->attr->op);
			if (r >= 0)
				r = resolve_ino(fs, ino, v) < 0 ? -ENODEV : 0;
		}
		if (r == 0) {
			sb_reset(&h->content);
			v->attr->show(fs->sim, v, &h->content);
			/* pci_read_config(): without CAP_SYS_ADMIN only the first 64 bytes */
			if (v->attr->unpriv_size && fuse_req_ctx(req)->uid != 0 &&
			    h->content.len > v->attr->unpriv_size)
				h->content.len = v->attr->unpriv_size;
			h->filled = true;
		}
		pthread_mutex_unlock(&fs->sim->lock);
		free(v);
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if ((size_t)off >= h->content.len)
		size = 0;
	else if (size > h->content.len - (size_t)off)
		size = h->content.len - (size_t)off;
	fuse_reply_buf(req, size ? h->content.s + off : NULL, size);
}

static void deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool passed(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* a write in progress; a writer killed while its write sleeps is answered early */
struct wreq {
	fuse_req_t req;
	bool replied;
};

static bool abandoned(struct fs *fs, unsigned gen)
{
	return fs->sim->shutting_down || fuse_session_exited(fs->se) || fs->sim->generation != gen;
}

/*
 * A killed writer gets EINTR at once, and its write goes on sleeping and
 * then completes: in the kernel such a write cannot be interrupted and
 * completes when it can (the writer is let go early here so tests end).
 */
static void check_killed(struct fs *fs, struct wreq *w, const char *target, const char *op)
{
	if (w->replied || !fuse_req_interrupted(w->req))
		return;
	fuse_reply_err(w->req, EINTR);
	w->replied = true;
	sim_event(fs->sim, "interrupted %s %s", target, op);
}

/*
 * A blocked write sleeps with the lock dropped, so other requests are
 * served. It ends at release, clear, or its deadline, and then does its
 * store; or with nothing done when the simulator is reset or told to exit
 * (the loop waits for its workers).
 */
static int block_wait(struct fs *fs, struct wreq *wr, const char *target, const char *op, int seconds)
{
	struct sim *sim = fs->sim;
	struct block_waiter w;
	struct timespec deadline, tick;
	unsigned gen = sim->generation;
	int r = 0;

	snprintf(w.target, sizeof(w.target), "%s", target);
	fault_waiter_add(sim, &w);
	deadline_after(&deadline, seconds < 0 ? 0 : seconds * 1000L);
	sim_event(sim, "block %s %s", target, op);
	while (!w.released && (seconds < 0 || !passed(&deadline))) {
		if (abandoned(fs, gen)) {
			r = -EINTR;
			break;
		}
		check_killed(fs, wr, target, op);
		deadline_after(&tick, 50);
		(void)pthread_cond_timedwait(&sim->cond, &sim->lock, &tick);
	}
	fault_waiter_remove(sim, &w);
	if (r == 0 && abandoned(fs, gen))
		r = -EINTR;
	if (r == 0)
		sim_event(sim, "unblock %s %s", target, op);
	return r;
}

/*
 * Sleep while an unbind of fn holds its device lock. A write (wr) is
 * answered early if its writer is killed and goes on waiting; a read
 * (wr NULL) just ends with -EINTR. 1 if it waited, 0 if it did not need to.
 */
static int devlock_wait(struct fs *fs, fuse_req_t req, struct wreq *wr, struct sim_fn *fn, const char *op)
{
	struct sim *sim = fs->sim;
	struct timespec tick;
	unsigned gen = sim->generation;
	int r = 0;

	while (fn->unbinding) {
		if (abandoned(fs, gen))
			return -EINTR;
		if (wr)
			check_killed(fs, wr, fn->name, op);
		else if (fuse_req_interrupted(req))
			return -EINTR;
		r = 1;
		deadline_after(&tick, 50);
		(void)pthread_cond_timedwait(&sim->cond, &sim->lock, &tick);
	}
	return abandoned(fs, gen) ? -EINTR : r;
}

/* the function whose device lock a write takes in its store, if any */
static struct sim_fn *devlock_fn(struct sim *sim, const struct vnode *v, const char *data)
{
	const char *op = v->attr->op;
	struct sim_fn *fn;

	if (v->fn)
		return v->fn;
	if (!v->drv || !op || !(fn = sim_find_fn(sim, data)))
		return NULL;
	if (strcmp(op, "bind") == 0 && sim_match(v->drv, fn))
		return fn; /* bind_store() matches first, then device_driver_attach() locks */
	if (strcmp(op, "unbind") == 0 && fn->driver == v->drv)
		return fn; /* unbind_store() checks dev->driver first, then locks */
	return NULL;
}

/* writes that take the device lock wait for an unbind of that device to finish */
static int devlock_gate(struct fs *fs, struct wreq *wr, fuse_ino_t ino, struct vnode *v, const char *data,
			bool *ret_waited)
{
	struct sim_fn *fn;
	int r;

	if (!(v->attr->devlock & DEVLOCK_STORE) || !(fn = devlock_fn(fs->sim, v, data)) || !fn->unbinding)
		return 0;
	r = devlock_wait(fs, wr->req, wr, fn, v->attr->op);
	if (r < 0)
		return r;
	*ret_waited = true;
	return resolve_ino(fs, ino, v) < 0 ? -ENODEV : 0;
}

/* the unbind that held fn's device lock is over: wake the waiters, finish a hot-unplug */
static void unbind_finished(struct sim *sim, struct sim_fn *fn, unsigned gen)
{
	if (sim->generation != gen)
		return;
	fn->unbinding = false;
	if (fn->remove_pending) {
		fn->remove_pending = false;
		sim_remove_fn(sim, fn);
	}
	pthread_cond_broadcast(&sim->cond);
}

/*
 * vanish, block, fail: in that order, before the real store. A blocked
 * unbind that will succeed is an unbind waiting in remove() for a VFIO
 * user: __device_release_driver() has already removed the driver link, and
 * the device lock is held (*ret_unbinding).
 */
static int fault_gate(struct fs *fs, struct wreq *wr, fuse_ino_t ino, struct vnode *v, const char *data,
		      struct sim_fn **ret_unbinding)
{
	struct sim *sim = fs->sim;
	char target[NAME_LEN];
	const char *op = v->attr->op;
	struct sim_fn *fn;
	int secs, err;

	if (!op)
		return 0;
	sysfs_fault_target(v, data, target, sizeof(target));
	if (fault_take_vanish(sim, target, op)) {
		fn = sim_find_fn(sim, target);
		sim_event(sim, "vanish %s", target);
		if (fn)
			sim_unplug(sim, fn);
		return -ENODEV;
	}
	secs = fault_take_block(sim, target, op);
	if (secs != -2) {
		if (strcmp(op, "unbind") == 0 && (fn = devlock_fn(sim, v, data)) && !fn->unbinding) {
			fn->unbinding = true;
			*ret_unbinding = fn;
		}
		err = block_wait(fs, wr, target, op, secs);
		if (err)
			return err;
		if (resolve_ino(fs, ino, v) < 0)
			return -ENODEV;
	}
	err = fault_take_fail(sim, target, op);
	return err ? -err : 0;
}

/* the written data for the log: one line, newlines and control bytes escaped */
static void log_data(struct strbuf *sb, const char *data, size_t len)
{
	size_t i;

	if (len && data[len - 1] == '\n')
		len--;
	if (!len) {
		sb_printf(sb, "\"\"");
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\n')
			sb_printf(sb, "\\n");
		else if (ch < 0x20 || ch == 0x7f || ch == '\\')
			sb_printf(sb, "\\x%02x", ch);
		else
			sb_append(sb, &data[i], 1);
	}
}

/* the write's line goes before the events it caused, which were logged from mark on */
static void log_write(struct sim *sim, size_t mark, const char *name, const char *data, size_t len, ssize_t r,
		      bool killed)
{
	struct strbuf line = { 0 };
	struct strbuf *log = &sim->log;

	sb_printf(&line, "%s ", name);
	log_data(&line, data, len);
	sb_printf(&line, " -> %s%s\n", r < 0 ? errno_name((int)r) : "ok", killed ? " (writer killed)" : "");
	if (mark > log->len)
		mark = log->len;
	sb_append(log, line.s, line.len);
	memmove(log->s + mark + line.len, log->s + mark, log->len - line.len - mark);
	memcpy(log->s + mark, line.s, line.len);
	sb_free(&line);
}

static ssize_t write_locked(struct fs *fs, struct wreq *wr, fuse_ino_t ino, const char *data, size_t len)
{
	struct sim *sim = fs->sim;
	struct vnode *v = xcalloc(1, sizeof(*v));
	const char *path = ino_path(&fs->ino, ino);
	char name[SIM_PATH_LEN];
	size_t mark = sim->log.len;
	struct sim_fn *unbinding = NULL;
	unsigned gen = sim->generation;
	bool waited = false;
	ssize_t r;

	snprintf(name, sizeof(name), "%s", path ? path : "?");
	r = resolve_ino(fs, ino, v) < 0 ? -ENODEV : 0;
	if (r == 0 && (v->type != V_FILE || !v->attr->store))
		r = -EACCES;
	if (r == 0) {
		sysfs_log_name(v, name, sizeof(name));
		r = devlock_gate(fs, wr, ino, v, data, &waited);
		if (r == 0)
			r = fault_gate(fs, wr, ino, v, data, &unbinding);
		mark = sim->log.len;
	}
	if (r == 0)
		r = v->attr->store(sim, v, data, len);
	/* a second unbind waited for the first: device_release_driver_internal() finds nothing to do */
	if (r == -ENODEV && waited && v->attr->op && strcmp(v->attr->op, "unbind") == 0)
		r = (ssize_t)len;
	if (unbinding)
		unbind_finished(sim, unbinding, gen);
	if (sim->generation == gen)
		log_write(sim, mark, name, data, len, r, wr->replied);
	hostfiles_sync(sim);
	free(v);
	return r;
}

/* kernfs_fop_write_iter(): at most a page reaches store(), NUL-terminated */
static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	size_t len = size > SYSFS_PAGE ? SYSFS_PAGE : size;
	struct wreq wr = { req, false };
	char *data;
	ssize_t r;

	(void)off;
	(void)fi;
	if (len == 0) {
		fuse_reply_write(req, 0);
		return;
	}
	data = xstrndup(buf, len);
	pthread_mutex_lock(&fs->sim->lock);
	r = write_locked(fs, &wr, ino, data, len);
	pthread_mutex_unlock(&fs->sim->lock);
	free(data);
	if (wr.replied)
		return;
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_write(req, (size_t)r);
}

/* sysfs directories take no new entries */
static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	fuse_reply_err(req, EACCES);
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EACCES);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EPERM);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

/* inode numbers are never reused, so forgetting needs no bookkeeping */
static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

/*
 * Without atomic O_TRUNC the kernel sends a truncate that we answer with
 * the page size, instead of setting the size to 0 itself: writes at
 * offset 0 then stay below EOF, where parallel direct writes are allowed.
 */
static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
}

static void ll_destroy(void *userdata)
{
	struct fs *fs = userdata;

	pthread_mutex_lock(&fs->sim->lock);
	fs->sim->shutting_down = true;
	fault_clear(fs->sim);
	pthread_mutex_unlock(&fs->sim->lock);
}

static const struct fuse_lowlevel_ops ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mknod = ll_mknod,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_unlink,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.release = ll_release,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.releasedir = ll_releasedir,
	.create = ll_create,
};

struct fuse_session *fs_session_new(struct sim *sim, struct fuse_args *args)
{
	struct fs *fs = xcalloc(1, sizeof(*fs));

	fs->sim = sim;
	fs->start = time(NULL);
	(void)ino_intern(&fs->ino, ""); /* FUSE_ROOT_ID */
	fs->se = fuse_session_new(args, &ops, sizeof(ops), fs);
	return fs->se;
}
