/* devlock.c - reading attributes whose show() takes the device lock, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devlock.h"
#include "util.h"

/*
 * driver_override_show() and sriov_numvfs_show() take the device lock.
 * While the kernel waits in an unbind for a VFIO user to let go (a VM
 * running), it holds that lock, and a read blocks uninterruptibly for as
 * long: a thread stuck there keeps the whole process from exiting. So
 * these reads happen in a child that reports one line per function; a
 * function whose line does not come in time is marked busy, the child is
 * abandoned, and a fresh one carries on after it.
 */

static void child_read_one(int devfd, int out, size_t idx, const char *name)
{
	char path[PATH_MAX], ovr[4096] = "", num[32] = "-", line[4200];
	int n;

	if (xsnprintf(path, sizeof(path), "%s/driver_override", name) == 0)
		if (sysroot_read_line_at(devfd, path, ovr, sizeof(ovr)) < 0)
			(void)xsnprintf(ovr, sizeof(ovr), "(null)");
	if (xsnprintf(path, sizeof(path), "%s/sriov_numvfs", name) == 0)
		if (sysroot_read_line_at(devfd, path, num, sizeof(num)) < 0)
			(void)xsnprintf(num, sizeof(num), "-");
	n = snprintf(line, sizeof(line), "%zu\t%s\t%s\n", idx, strip_trailing(num), ovr);
	if (n > 0 && write(out, line, (size_t)n) != n)
		_exit(1);
}

static void close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 0)
		(void)close_range(0, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		(void)close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	(void)close_range((unsigned)hi + 1, ~0U, 0);
}

static pid_t spawn_reader(int devfd, struct pcifn **fns, size_t from, size_t n, int *ret_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		/* the parent's stdout, stderr and run lock must not wait on us */
		close_all_but(devfd, p[1]);
		for (size_t i = from; i < n; i++)
			child_read_one(devfd, p[1], i, fns[i]->name);
		_exit(0);
	}
	close(p[1]);
	*ret_fd = p[0];
	return pid;
}

static void apply_line(char *line, struct pcifn **fns, size_t n, size_t *next)
{
	char *save = NULL, *idx = strtok_r(line, "\t", &save), *num = strtok_r(NULL, "\t", &save);
	char *ovr = strtok_r(NULL, "", &save);
	unsigned long i, v;
	struct pcifn *f;

	if (!idx || !num || parse_uint(idx, 10, n - 1, &i) < 0)
		return;
	f = fns[i];
	*next = i + 1;
	if (parse_uint(num, 10, INT_MAX, &v) == 0)
		f->sriov_numvfs = (int)v;
	if (ovr && *ovr && !streq(ovr, "(null)"))
		f->override = strdup(ovr);
}

/* Read lines until the child ends (0) or stalls (-ETIMEDOUT); *next is the first function not reported */
static int collect(int fd, struct pcifn **fns, size_t n, size_t *next, unsigned timeout_ms)
{
	char buf[8192];
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t r;
		int pr = poll(&p, 1, (int)timeout_ms);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			return -ETIMEDOUT;
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		len += (size_t)r;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			apply_line(buf, fns, n, next);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0; /* a line longer than any sysfs attribute: drop it */
	}
}

int devlock_read(int devfd, struct pcifn **fns, size_t n, unsigned timeout_ms)
{
	size_t next = 0;
	int busy = 0;

	while (next < n) {
		int fd = -1, err, st;
		pid_t pid = spawn_reader(devfd, fns, next, n, &fd);

		if (pid < 0)
			return pid;
		err = collect(fd, fns, n, &next, timeout_ms);
		close(fd);
		if (err == -ETIMEDOUT) {
			/* every line came, only the child's exit is late: nothing is busy */
			if (next >= n)
				break;
			/* abandon the child: it is stuck in the kernel */
			fns[next]->busy = true;
			busy++;
			next++;
			continue;
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		break;
	}
	return busy;
}
