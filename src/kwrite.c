/* kwrite.c - one sysfs write in a child process, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kwrite.h"
#include "util.h"

/*
 * The kernel blocks an unbind (and every attribute write that takes the
 * device lock) for as long as a user holds the device: a VM with the VFIO
 * device open. Such a process cannot be killed. So the write happens in a
 * child; the parent waits with a deadline and, if it passes, abandons the
 * child, which finishes whenever the kernel lets it.
 */
static void child_write(int fd, const char *data, size_t len)
{
	ssize_t n;

	/*
	 * Keep nothing but the target: not the run lock, and not stdout or
	 * stderr either, whose readers (a hookscript runner, a shell's $(...))
	 * would otherwise wait for this child for as long as the kernel does.
	 */
	if (fd > 0)
		(void)close_range(0, (unsigned)fd - 1, 0);
	(void)close_range((unsigned)fd + 1, ~0U, 0);
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		_exit(errno > 0 && errno < 256 ? errno : EIO);
	_exit((size_t)n == len ? 0 : EIO);
}

static int wait_child(pid_t pid, unsigned timeout_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status, r;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		do
			r = poll(&p, 1, (int)timeout_ms);
		while (r < 0 && errno == EINTR);
		close(pidfd);
		if (r == 0)
			return -ETIMEDOUT;
	} else {
		/* no pidfd (old kernel): poll the child */
		long long deadline = now_ms() + timeout_ms;
		while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
			usleep(5000);
		if (r == 0)
			return -ETIMEDOUT;
		goto decode;
	}
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
decode:
	if (WIFEXITED(status))
		return WEXITSTATUS(status) ? -WEXITSTATUS(status) : 0;
	return -EINTR; /* killed by a signal */
}

int kwrite(const struct sysroot *r, const char *rel, const char *data, unsigned timeout_ms, pid_t *ret_stuck)
{
	_cleanup_close_ int fd = sysroot_openat(r, rel, O_WRONLY | O_NOCTTY, 0);
	pid_t pid;
	int err;

	if (fd < 0)
		return fd;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_write(fd, data, strlen(data));
	err = wait_child(pid, timeout_ms);
	if (err == -ETIMEDOUT && ret_stuck)
		*ret_stuck = pid;
	return err;
}
