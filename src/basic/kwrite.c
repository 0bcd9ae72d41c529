/* kwrite.c - one sysfs write in a child process, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kwrite.h"
#include "spawn.h"
#include "util.h"

/*
 * The kernel blocks an unbind (and every attribute write that takes the
 * device lock) for as long as a user holds the device: a VM with the VFIO
 * device open. Such a process cannot be killed. So the write happens in a
 * child (spawn.c); the parent waits with a deadline and, if it passes,
 * abandons the child, which finishes whenever the kernel lets it.
 */
struct kwrite_job {
	int fd;
	const char *data;
	size_t len;
};

/* the exit status is the write's errno */
static int child_write(void *arg)
{
	const struct kwrite_job *k = arg;
	ssize_t n;

	do
		n = write(k->fd, k->data, k->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno > 0 && errno < 256 ? errno : EIO;
	return (size_t)n == k->len ? 0 : EIO;
}

int kwrite(const struct sysroot *r, const char *rel, const char *data, unsigned timeout_ms, pid_t *ret_stuck)
{
	/* O_NONBLOCK: a FIFO planted in a tree below --root fails the open (ENXIO) instead of waiting in it */
	_cleanup_close_ int fd = sysroot_openat(r, rel, O_WRONLY | O_NOCTTY | O_NONBLOCK, 0);
	struct kwrite_job k = { fd, data, strlen(data) };
	struct spawn s = { .what = rel, .timeout_ms = timeout_ms, .keep_fds = &k.fd, .n_keep_fds = 1 };
	struct spawn_result res;
	int err;

	if (fd < 0)
		return fd;
	if (fcntl(fd, F_SETFL, 0) < 0) /* the write itself blocks as the kernel wants */
		return -errno;
	err = spawn_fn(&s, child_write, &k, &res);
	if (err == -ETIMEDOUT && ret_stuck)
		*ret_stuck = res.stuck;
	if (err < 0)
		return err;
	if (res.signaled)
		return -EINTR; /* killed (SIGKILL from outside): the write's fate is unknown */
	return -res.status;
}
