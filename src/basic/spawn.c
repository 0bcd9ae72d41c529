/* spawn.c - the one way pcibind runs a child: a function in a fork or a program, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "sysroot.h"
#include "util.h"

#define MAX_KEEP 8
/* without pidfd_open (old kernels, valgrind 3.19): how often the child is polled with waitpid */
#define POLL_STEP_MS 5
/* how soon a program gets a stop signal pcibind received */
#define STOP_STEP_MS 100

static const int stop_signals[] = { SIGTERM, SIGINT, SIGHUP };

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(set, stop_signals[i]);
}

int spawn_block_stop_signals(void)
{
	sigset_t set;

	/*
	 * One that pcibind was started with ignored (nohup: SIGHUP; a shell's
	 * background job: SIGINT) stays ignored: it is never a stop.
	 */
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		struct sigaction old;

		if (sigaction(stop_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaddset(&set, stop_signals[i]);
	}
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int spawn_stop_pending(void)
{
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		if (sigismember(&pending, stop_signals[i]) == 1)
			return stop_signals[i];
	return 0;
}

const char *spawn_signal_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	case SIGKILL:
		return "SIGKILL";
	default:
		return "a signal";
	}
}

static void result_msg(struct spawn_result *res, const char *fmt, ...) _printf_(2, 3);

static void result_msg(struct spawn_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

/* ---- in the child (async-signal-safe calls only) ---- */

static void close_from(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	/* no close_range (kernels before 5.9): one by one, up to the limit */
	struct rlimit rl;
	unsigned top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (unsigned)rl.rlim_cur : 65536;
	for (unsigned fd = lo; fd <= hi && fd < top; fd++)
		(void)close((int)fd);
}

/* every fd from 3 up but the kept ones (sorted, at most MAX_KEEP) and extra (-1: none) */
static void close_all_but(const struct spawn *s, int extra)
{
	int keep[MAX_KEEP + 1];
	size_t n = 0;
	unsigned next = 3;

	for (size_t i = 0; i < s->n_keep_fds && i < MAX_KEEP; i++)
		keep[n++] = s->keep_fds[i];
	if (extra >= 0)
		keep[n++] = extra;
	for (size_t i = 1; i < n; i++) /* insertion sort: a handful */
		for (size_t k = i; k > 0 && keep[k - 1] > keep[k]; k--) {
			int t = keep[k];
			keep[k] = keep[k - 1];
			keep[k - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)next)
			continue;
		close_from(next, (unsigned)keep[i] - 1);
		next = (unsigned)keep[i] + 1;
	}
	close_from(next, ~0U);
}

/* stdin on /dev/null, stdout and stderr on out (or /dev/null), nothing else but what is kept */
static void child_fds(const struct spawn *s, int out, int extra)
{
	int null = sysroot_open_devnull();

	if (out < 0)
		out = null;
	if (out >= 0) {
		(void)dup2(out, 1);
		(void)dup2(out, 2);
	}
	if (null >= 0)
		(void)dup2(null, 0);
	close_all_but(s, extra);
}

static void child_signals(bool program)
{
	sigset_t set;

	if (program) {
		/*
		 * A program starts as from a shell: its own group, nothing blocked,
		 * the dispositions pcibind was given (it sets none of its own; an
		 * ignored SIGHUP under nohup stays ignored).
		 */
		(void)setpgid(0, 0);
		sigemptyset(&set);
		(void)sigprocmask(SIG_SETMASK, &set, NULL);
		return;
	}
	stop_set(&set);
	(void)sigprocmask(SIG_BLOCK, &set, NULL);
}

/* ---- in the parent ---- */

struct waiter {
	const struct spawn *s;
	struct spawn_result *res;
	pid_t pid;
	int pidfd; /* -1: poll with waitpid */
	int out;   /* the capture pipe's read end, -1 once closed */
	size_t out_len;
	long long deadline;
	int status;
	bool reaped;
	bool stop_sent; /* a program was handed pcibind's polite stop */
};

static void deliver(struct waiter *w, const char *data, size_t len)
{
	const struct spawn *s = w->s;

	if (s->on_output) {
		s->on_output(s->userdata, data, len);
		return;
	}
	if (!s->out || !s->out_size)
		return;
	size_t room = s->out_size - 1 - w->out_len;
	if (len > room)
		len = room;
	memcpy(s->out + w->out_len, data, len);
	w->out_len += len;
	s->out[w->out_len] = '\0';
}

/* read what the pipe has now; false at EOF or error (the pipe is closed then) */
static bool read_output(struct waiter *w)
{
	char buf[4096];
	ssize_t n;

	do
		n = read(w->out, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n <= 0) {
		close(w->out);
		w->out = -1;
		return false;
	}
	deliver(w, buf, (size_t)n);
	if (w->s->restart_on_output)
		w->deadline = now_ms() + w->s->timeout_ms;
	return true;
}

static bool try_reap(struct waiter *w, int flags)
{
	pid_t r;

	do
		r = waitpid(w->pid, &w->status, flags);
	while (r < 0 && errno == EINTR);
	if (r == w->pid || (r < 0 && errno == ECHILD))
		w->reaped = true; /* ECHILD: someone reaped it for us; its status is lost */
	return w->reaped;
}

/* wait until the child is reaped or until the deadline; 0 or -ETIMEDOUT */
static int wait_until(struct waiter *w, long long deadline, bool use_output_deadline)
{
	for (;;) {
		struct pollfd p[2];
		nfds_t n = 0;
		long long now = now_ms(), until = use_output_deadline ? w->deadline : deadline;
		int timeout, r;

		if (w->pidfd < 0 && try_reap(w, WNOHANG))
			return 0;
		if (now >= until)
			return -ETIMEDOUT;
		timeout = (int)(until - now);
		/*
		 * A program (its own process group: the terminal's ^C does not
		 * reach it) gets pcibind's polite stop handed on once, as a shell
		 * would; a kernel writer never does. Blocked signals do not wake
		 * poll, hence the short steps.
		 */
		if (w->s->forward_stop && !w->stop_sent) {
			int sig = spawn_stop_pending();

			if (sig) {
				(void)kill(-w->pid, sig);
				w->stop_sent = true;
			} else if (timeout > STOP_STEP_MS) {
				timeout = STOP_STEP_MS;
			}
		}
		if (w->pidfd >= 0)
			p[n++] = (struct pollfd){ .fd = w->pidfd, .events = POLLIN };
		else if (timeout > POLL_STEP_MS)
			timeout = POLL_STEP_MS;
		if (w->out >= 0)
			p[n++] = (struct pollfd){ .fd = w->out, .events = POLLIN };
		r = poll(p, n, timeout);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (w->out >= 0 && p[n - 1].revents)
			(void)read_output(w);
		if (w->pidfd >= 0 && p[0].revents && try_reap(w, 0))
			return 0;
	}
}

/* after the child ended: what is left in the pipe, without waiting for its grandchildren */
static void drain(struct waiter *w)
{
	while (w->out >= 0 && read_output(w)) {
		struct pollfd p = { .fd = w->out, .events = POLLIN };

		if (w->out < 0 || poll(&p, 1, 0) <= 0)
			break;
	}
}

static void describe_deadline(char *buf, size_t size, unsigned ms)
{
	if (ms % 1000)
		snprintf(buf, size, "%u.%03u s", ms / 1000, ms % 1000);
	else
		snprintf(buf, size, "%u s", ms / 1000);
}

static int timed_out(struct waiter *w)
{
	char within[32];

	describe_deadline(within, sizeof(within), w->s->timeout_ms);
	if (!w->s->kill_on_timeout) {
		w->res->stuck = w->pid;
		result_msg(w->res, "%s did not finish within %s; left running as pid %ld, blocked in the kernel",
			   w->s->what, within, (long)w->pid);
		return -ETIMEDOUT;
	}
	if (kill(-w->pid, SIGKILL) < 0)
		(void)kill(w->pid, SIGKILL);
	if (wait_until(w, now_ms() + SPAWN_KILL_WAIT_MS, false) == 0) {
		result_msg(w->res, "%s did not finish within %s; killed", w->s->what, within);
		return -ETIMEDOUT;
	}
	w->res->stuck = w->pid;
	result_msg(w->res, "%s did not finish within %s; killed, but pid %ld is still there, blocked in the kernel",
		   w->s->what, within, (long)w->pid);
	return -ETIMEDOUT;
}

static void decode(struct waiter *w)
{
	if (WIFEXITED(w->status)) {
		w->res->status = WEXITSTATUS(w->status);
	} else if (WIFSIGNALED(w->status)) {
		w->res->status = 128 + WTERMSIG(w->status);
		w->res->signaled = true;
		result_msg(w->res, "%s was killed by signal %d", w->s->what, WTERMSIG(w->status));
	}
}

/*
 * exec's errno from the child, 0 if it exec'd (the pipe closed on exec) or
 * has not got there by the deadline (the wait that follows times it out)
 */
static int exec_error(int errpipe, unsigned timeout_ms)
{
	struct pollfd p = { .fd = errpipe, .events = POLLIN };
	int e = 0, r;
	ssize_t n = 0;

	if (errpipe < 0)
		return 0;
	do
		r = poll(&p, 1, (int)timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		do
			n = read(errpipe, &e, sizeof(e));
		while (n < 0 && errno == EINTR);
	close(errpipe);
	return n == sizeof(e) ? e : 0;
}

struct child {
	int (*fn)(void *arg);
	void *arg;
	char *const *argv;
};

static int start(const struct spawn *s, const struct child *c, struct spawn_result *res)
{
	int pipefd[2] = { -1, -1 }, errpipe[2] = { -1, -1 }, err;
	struct waiter w = { .s = s, .res = res, .pidfd = -1, .out = -1 };
	pid_t pid;

	*res = (struct spawn_result){ 0 };
	if (s->output == SPAWN_OUTPUT_CAPTURE && pipe2(pipefd, O_CLOEXEC) < 0)
		goto fail_errno;
	if (c->argv && pipe2(errpipe, O_CLOEXEC) < 0)
		goto fail_errno;
	if (s->out && s->out_size)
		s->out[0] = '\0';
	pid = fork();
	if (pid < 0)
		goto fail_errno;
	if (pid == 0) {
		child_signals(c->argv != NULL);
		child_fds(s, pipefd[1], errpipe[1]);
		if (c->fn)
			_exit(c->fn(c->arg) & 0xff);
		execv(c->argv[0], c->argv);
		err = errno;
		(void)!write(errpipe[1], &err, sizeof(err));
		_exit(127);
	}
	if (c->argv)
		(void)setpgid(pid, pid); /* also here: the deadline's kill must find the group */
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	w.pid = pid;
	w.out = pipefd[0];
	/* only ever read when poll says so, or once more at the end: never a wait on grandchildren */
	if (w.out >= 0)
		(void)fcntl(w.out, F_SETFL, O_NONBLOCK);
	w.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	w.deadline = now_ms() + s->timeout_ms;
	if ((err = exec_error(errpipe[0], s->timeout_ms)) != 0) {
		(void)try_reap(&w, 0);
		if (w.out >= 0)
			close(w.out);
		if (w.pidfd >= 0)
			close(w.pidfd);
		result_msg(res, "cannot run %s: %s", c->argv[0], strerror(err));
		return -err;
	}
	err = wait_until(&w, 0, true);
	if (err == 0) {
		drain(&w);
		decode(&w);
	} else if (err == -ETIMEDOUT) {
		if (w.out >= 0)
			(void)read_output(&w);
		err = timed_out(&w);
	} else {
		result_msg(res, "cannot wait for %s: %s", s->what, strerror(-err));
	}
	if (w.out >= 0)
		close(w.out);
	if (w.pidfd >= 0)
		close(w.pidfd);
	return err;

fail_errno:
	err = -errno;
	for (int i = 0; i < 2; i++) {
		if (pipefd[i] >= 0)
			close(pipefd[i]);
		if (errpipe[i] >= 0)
			close(errpipe[i]);
	}
	result_msg(res, "cannot start %s: %s", s->what, strerror(-err));
	return err;
}

int spawn_fn(const struct spawn *s, int (*fn)(void *arg), void *arg, struct spawn_result *res)
{
	struct child c = { .fn = fn, .arg = arg };

	return start(s, &c, res);
}

int spawn_program(const struct spawn *s, char *const argv[], struct spawn_result *res)
{
	struct child c = { .argv = argv };

	return start(s, &c, res);
}
