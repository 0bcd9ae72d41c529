/* fs.c - the FUSE operations: kernfs-like reads and writes over the sysfs tree, with faults */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#define FUSE_USE_VERSION 312
#include <fuse.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcisim.h"

/* what an open file holds: the text shown at the last read from offset 0 */
struct handle {
	struct strbuf content;
	bool filled;
};

static struct sim *ctx_sim(void)
{
	return fuse_get_context()->private_data;
}

static time_t start_time;

static void fill_stat(const struct vnode *v, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mtime = st->st_atime = st->st_ctime = start_time;
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

static int resolve(struct sim *sim, const char *path, struct vnode *v)
{
	int r;

	pthread_mutex_lock(&sim->lock);
	r = sysfs_resolve(sim, path, v);
	pthread_mutex_unlock(&sim->lock);
	return r;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct vnode *v = xcalloc(1, sizeof(*v));
	int r = resolve(ctx_sim(), path, v);

	(void)fi;
	if (r == 0)
		fill_stat(v, st);
	free(v);
	return r;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	struct vnode *v = xcalloc(1, sizeof(*v));
	int r = resolve(ctx_sim(), path, v);

	if (r == 0 && v->type != V_LINK)
		r = -EINVAL;
	if (r == 0)
		snprintf(buf, size, "%s", v->target);
	free(v);
	return r;
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static void fill_one(void *ctx, const char *name, enum vtype type)
{
	struct fill_ctx *f = ctx;
	struct stat st = { 0 };

	st.st_mode = type == V_DIR ? S_IFDIR : type == V_LINK ? S_IFLNK : S_IFREG;
	(void)f->filler(f->buf, name, &st, 0, 0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct sim *sim = ctx_sim();
	struct vnode *v = xcalloc(1, sizeof(*v));
	struct fill_ctx f = { buf, filler };
	int r;

	(void)off;
	(void)fi;
	(void)flags;
	pthread_mutex_lock(&sim->lock);
	r = sysfs_resolve(sim, path, v);
	if (r == 0) {
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		r = sysfs_list(sim, v, fill_one, &f);
	}
	pthread_mutex_unlock(&sim->lock);
	free(v);
	return r;
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

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct vnode *v = xcalloc(1, sizeof(*v));
	int r = resolve(ctx_sim(), path, v);

	if (r == 0)
		r = open_allowed(v, fi->flags);
	if (r == 0) {
		fi->fh = (uint64_t)(uintptr_t)xcalloc(1, sizeof(struct handle));
		fi->direct_io = 1;
	}
	free(v);
	return r;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)path;
	if (h)
		sb_free(&h->content);
	free(h);
	return 0;
}

/* like a seq_file: the text is made at a read from offset 0 */
static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct sim *sim = ctx_sim();
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct vnode *v;
	int r = 0;

	if (off == 0 || !h->filled) {
		v = xcalloc(1, sizeof(*v));
		pthread_mutex_lock(&sim->lock);
		r = sysfs_resolve(sim, path, v) < 0 ? -ENODEV : 0;
		if (r == 0) {
			sb_reset(&h->content);
			v->attr->show(sim, v, &h->content);
			h->filled = true;
		}
		pthread_mutex_unlock(&sim->lock);
		free(v);
	}
	if (r < 0)
		return r;
	if ((size_t)off >= h->content.len)
		return 0;
	if (size > h->content.len - (size_t)off)
		size = h->content.len - (size_t)off;
	memcpy(buf, h->content.s + off, size);
	return (int)size;
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

/*
 * A blocked write sleeps with the lock dropped, so other requests are
 * served. It ends at release, clear, unmount, its deadline, or when the
 * writer is killed (FUSE sends an INTERRUPT); then nothing was done.
 */
static int block_wait(struct sim *sim, const char *target, const char *op, int seconds)
{
	struct block_waiter w;
	struct timespec deadline, tick;
	int r = 0;

	snprintf(w.target, sizeof(w.target), "%s", target);
	fault_waiter_add(sim, &w);
	deadline_after(&deadline, seconds < 0 ? 0 : seconds * 1000L);
	sim_event(sim, "block %s %s", target, op);
	while (!w.released && !sim->shutting_down && (seconds < 0 || !passed(&deadline))) {
		if (fuse_interrupted()) {
			r = -EINTR;
			break;
		}
		deadline_after(&tick, 50);
		(void)pthread_cond_timedwait(&sim->cond, &sim->lock, &tick);
	}
	fault_waiter_remove(sim, &w);
	sim_event(sim, "%s %s %s", r ? "interrupted" : "unblock", target, op);
	return r;
}

/* vanish, block, fail: in that order, before the real store */
static int fault_gate(struct sim *sim, const char *path, struct vnode *v, const char *data)
{
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
			sim_remove_fn(sim, fn);
		return -ENODEV;
	}
	secs = fault_take_block(sim, target, op);
	if (secs != -2) {
		err = block_wait(sim, target, op, secs);
		if (err)
			return err;
		if (sysfs_resolve(sim, path, v) < 0)
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

/* the write's line goes before the events it caused */
static void log_write(struct sim *sim, size_t mark, const char *name, const char *data, size_t len, ssize_t r)
{
	struct strbuf line = { 0 };
	struct strbuf *log = &sim->log;

	sb_printf(&line, "%s ", name);
	log_data(&line, data, len);
	sb_printf(&line, " -> %s\n", r < 0 ? errno_name((int)r) : "ok");
	if (mark > log->len)
		mark = log->len;
	sb_append(log, line.s, line.len);
	memmove(log->s + mark + line.len, log->s + mark, log->len - line.len - mark);
	memcpy(log->s + mark, line.s, line.len);
	sb_free(&line);
}

static ssize_t write_locked(struct sim *sim, const char *path, const char *data, size_t len)
{
	struct vnode *v = xcalloc(1, sizeof(*v));
	char name[SIM_PATH_LEN];
	size_t mark = sim->log.len;
	ssize_t r;

	r = sysfs_resolve(sim, path, v) < 0 ? -ENODEV : 0;
	snprintf(name, sizeof(name), "%s", path + (path[0] == '/'));
	if (r == 0 && (v->type != V_FILE || !v->attr->store))
		r = -EACCES;
	if (r == 0) {
		sysfs_log_name(v, name, sizeof(name));
		r = fault_gate(sim, path, v, data);
		mark = sim->log.len;
	}
	if (r == 0)
		r = v->attr->store(sim, v, data, len);
	log_write(sim, mark, name, data, len, r);
	hostfiles_sync(sim);
	free(v);
	return r;
}

/* kernfs_fop_write_iter(): at most a page reaches store(), NUL-terminated */
static int fs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct sim *sim = ctx_sim();
	size_t len = size > SYSFS_PAGE ? SYSFS_PAGE : size;
	char *data;
	ssize_t r;

	(void)off;
	(void)fi;
	if (len == 0)
		return 0;
	data = xstrndup(buf, len);
	pthread_mutex_lock(&sim->lock);
	r = write_locked(sim, path, data, len);
	pthread_mutex_unlock(&sim->lock);
	free(data);
	return (int)r;
}

/* O_TRUNC from a shell's ">" arrives as a truncate; sysfs ignores it */
static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct vnode *v = xcalloc(1, sizeof(*v));
	int r = resolve(ctx_sim(), path, v);

	(void)size;
	(void)fi;
	if (r == 0 && v->type != V_FILE)
		r = -EISDIR;
	free(v);
	return r;
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct vnode *v = xcalloc(1, sizeof(*v));
	int r = resolve(ctx_sim(), path, v);

	(void)tv;
	(void)fi;
	free(v);
	return r;
}

/* sysfs directories take no new entries */
static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EACCES;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return -EPERM;
}

static int fs_unlink(const char *path)
{
	(void)path;
	return -EPERM;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* the tree changes under the kernel's feet: cache nothing */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->use_ino = 0;
	start_time = time(NULL);
	return fuse_get_context()->private_data;
}

static void fs_destroy(void *private_data)
{
	struct sim *sim = private_data;

	pthread_mutex_lock(&sim->lock);
	sim->shutting_down = true;
	fault_clear(sim);
	pthread_mutex_unlock(&sim->lock);
}

const struct fuse_operations pcisim_ops = {
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.readdir = fs_readdir,
	.open = fs_open,
	.release = fs_release,
	.read = fs_read,
	.write = fs_write,
	.truncate = fs_truncate,
	.utimens = fs_utimens,
	.create = fs_create,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_unlink,
	.init = fs_init,
	.destroy = fs_destroy,
};
