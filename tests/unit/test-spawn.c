/* test-spawn.c - the child primitive: exit status, output, fds, signals, deadlines, the waitpid fallback */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "nosys.h"
#include "spawn.h"
#include "util.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int fn_exit7(void *arg)
{
	return 7;
}

static int fn_print(void *arg)
{
	const char *text = arg;

	return write(1, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : 1;
}

static int fn_sleep(void *arg)
{
	sleep_ms(*(long *)arg);
	return 0;
}

TEST(fn_exit_status_and_output)
{
	char out[64];
	struct spawn s = { .what = "f", .timeout_ms = 5000, .output = SPAWN_OUTPUT_CAPTURE, .out = out, .out_size = sizeof(out) };
	struct spawn_result res;

	ASSERT_INT_EQ(spawn_fn(&s, fn_exit7, NULL, &res), 0);
	ASSERT_INT_EQ(res.status, 7);
	ASSERT_FALSE(res.signaled);
	ASSERT_INT_EQ(spawn_fn(&s, fn_print, (void *)"0\tvfio-pci\n1\t(null)\n", &res), 0);
	ASSERT_INT_EQ(res.status, 0);
	ASSERT_STR_EQ(out, "0\tvfio-pci\n1\t(null)\n");
	/* cut to the buffer */
	s.out_size = 5;
	ASSERT_INT_EQ(spawn_fn(&s, fn_print, (void *)"abcdefgh", &res), 0);
	ASSERT_STR_EQ(out, "abcd");
}

/* a child stuck past its deadline (a kernel write) is left running, named by its pid */
static int check_fn_deadline(void)
{
	long ms = 3000;
	struct spawn s = { .what = "unbind of 0000:02:00.0", .timeout_ms = 200 };
	struct spawn_result res;
	long long t0 = now_ms();
	int err = spawn_fn(&s, fn_sleep, &ms, &res), st;
	long long dt = now_ms() - t0;

	if (err != -ETIMEDOUT || res.stuck <= 0 || dt < 190 || dt > 1500)
		return 1;
	if (!strstr(res.msg, "unbind of 0000:02:00.0 did not finish within 0.200 s") || !strstr(res.msg, "left running as pid"))
		return 2;
	if (kill(res.stuck, 0) < 0) /* really still there */
		return 3;
	kill(res.stuck, SIGKILL);
	return waitpid(res.stuck, &st, 0) == res.stuck ? 0 : 4;
}

TEST(fn_deadline_leaves_the_child)
{
	ASSERT_INT_EQ(check_fn_deadline(), 0);
}

/* the child keeps its stop signals blocked: a SIGTERM to the group does not cut a write short */
static int fn_term_self(void *arg)
{
	sigset_t p;

	kill(getpid(), SIGTERM);
	sleep_ms(50);
	return sigpending(&p) == 0 && sigismember(&p, SIGTERM) == 1 ? 42 : 0;
}

TEST(fn_blocks_stop_signals)
{
	struct spawn s = { .what = "f", .timeout_ms = 5000 };
	struct spawn_result res;

	ASSERT_INT_EQ(spawn_fn(&s, fn_term_self, NULL, &res), 0);
	ASSERT_INT_EQ(res.status, 42);
}

struct fdcheck {
	int leaked, kept;
};

static int fn_fds(void *arg)
{
	const struct fdcheck *c = arg;
	struct stat st;
	int bad = 0;

	if (fcntl(c->leaked, F_GETFD) != -1 || errno != EBADF)
		bad |= 1;
	if (fcntl(c->kept, F_GETFD) < 0)
		bad |= 2;
	if (fstat(0, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		bad |= 4;
	if (fstat(1, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		bad |= 8;
	return bad;
}

TEST(fn_fds_closed_but_kept_ones)
{
	int p[2], keep;
	struct fdcheck c;
	struct spawn s = { .what = "f", .timeout_ms = 5000, .n_keep_fds = 1 };
	struct spawn_result res;

	ASSERT_INT_EQ(pipe(p), 0); /* no O_CLOEXEC: the primitive must close it */
	keep = dup(p[0]);
	c = (struct fdcheck){ p[1], keep };
	s.keep_fds = &keep;
	ASSERT_INT_EQ(spawn_fn(&s, fn_fds, &c, &res), 0);
	close(p[0]);
	close(p[1]);
	close(keep);
	ASSERT_INT_EQ(res.status, 0);
}

static int fn_lines(void *arg)
{
	for (int i = 0; i < 5; i++) {
		if (write(1, "line\n", 5) != 5)
			return 1;
		sleep_ms(120);
	}
	return 0;
}

TEST(deadline_restarts_on_output)
{
	struct spawn s = { .what = "reader", .timeout_ms = 300, .output = SPAWN_OUTPUT_CAPTURE };
	struct spawn_result res;
	char out[64];

	s.out = out;
	s.out_size = sizeof(out);
	s.restart_on_output = true;
	ASSERT_INT_EQ(spawn_fn(&s, fn_lines, NULL, &res), 0);
	ASSERT_STR_EQ(out, "line\nline\nline\nline\nline\n");
	s.restart_on_output = false;
	ASSERT_INT_EQ(spawn_fn(&s, fn_lines, NULL, &res), -ETIMEDOUT);
	ASSERT_TRUE(strlen(out) >= 5 && strlen(out) < 25); /* some lines, not all */
	kill(res.stuck, SIGKILL);
	waitpid(res.stuck, NULL, 0);
}

static int check_program_status(void)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"echo hello; echo oops >&2; exit 3", NULL };
	char out[64];
	struct spawn s = { .what = "sh", .timeout_ms = 5000, .kill_on_timeout = true, .output = SPAWN_OUTPUT_CAPTURE,
			   .out = out, .out_size = sizeof(out) };
	struct spawn_result res;

	if (spawn_program(&s, argv, &res) != 0 || res.status != 3 || res.signaled)
		return 1;
	return streq(out, "hello\noops\n") ? 0 : 2;
}

TEST(program_status_and_output)
{
	ASSERT_INT_EQ(check_program_status(), 0);
}

TEST(program_missing)
{
	char *argv[] = { (char *)"/nonexistent/modprobe", (char *)"--", (char *)"vfio-pci", NULL };
	struct spawn s = { .what = "'modprobe vfio-pci'", .timeout_ms = 5000, .kill_on_timeout = true };
	struct spawn_result res;

	ASSERT_INT_EQ(spawn_program(&s, argv, &res), -ENOENT);
	ASSERT_STR_CONTAINS(res.msg, "cannot run /nonexistent/modprobe: No such file or directory");
}

static bool gone_or_zombie(long pid)
{
	char path[64], buf[256];
	FILE *f;
	bool z;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return true;
	z = fgets(buf, sizeof(buf), f) && strstr(buf, ") Z ");
	fclose(f);
	return z;
}

/* a hung program is killed at its deadline with everything it started; no wait for its pipe */
static int check_program_killed(void)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"sleep 30 & echo $!; sleep 30", NULL };
	char out[64] = "";
	struct spawn s = { .what = "'systemctl stop gdm.service'", .timeout_ms = 300, .kill_on_timeout = true,
			   .output = SPAWN_OUTPUT_CAPTURE, .out = out, .out_size = sizeof(out) };
	struct spawn_result res;
	long long t0 = now_ms();
	int err = spawn_program(&s, argv, &res);
	long long dt = now_ms() - t0;
	long grandchild = strtol(out, NULL, 10);

	if (err != -ETIMEDOUT || res.stuck != 0 || dt < 290 || dt > 2000)
		return 1;
	if (!strstr(res.msg, "'systemctl stop gdm.service' did not finish within 0.300 s; killed"))
		return 2;
	if (grandchild <= 0)
		return 3;
	for (int i = 0; i < 100 && !gone_or_zombie(grandchild); i++)
		sleep_ms(10);
	return gone_or_zombie(grandchild) ? 0 : 4;
}

TEST(program_killed_at_deadline_with_its_group)
{
	ASSERT_INT_EQ(check_program_killed(), 0);
}

TEST(program_ends_while_a_grandchild_holds_the_pipe)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"(sleep 3) & echo done", NULL };
	char out[64];
	struct spawn s = { .what = "sh", .timeout_ms = 5000, .kill_on_timeout = true, .output = SPAWN_OUTPUT_CAPTURE,
			   .out = out, .out_size = sizeof(out) };
	struct spawn_result res;
	long long t0 = now_ms();

	ASSERT_INT_EQ(spawn_program(&s, argv, &res), 0);
	ASSERT_TRUE(now_ms() - t0 < 2000);
	ASSERT_STR_EQ(out, "done\n");
}

/* pcibind blocks its stop signals; a program it runs gets them unblocked */
TEST(program_gets_default_signals)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)"kill -TERM $$; sleep 2; exit 0", NULL };
	struct spawn s = { .what = "sh", .timeout_ms = 5000, .kill_on_timeout = true };
	struct spawn_result res;
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	ASSERT_INT_EQ(spawn_program(&s, argv, &res), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	ASSERT_TRUE(res.signaled);
	ASSERT_INT_EQ(res.status, 128 + SIGTERM);
}

TEST(stop_pending)
{
	sigset_t set, old;
	int sig;

	/* a signal ignored from the start (SIGINT of a background job, `nohup`) stays ignored, never
	 * blocked: the test sets up its own, as an interactive start has them */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	ASSERT_INT_EQ(spawn_stop_pending(), 0);
	ASSERT_INT_EQ(spawn_block_stop_signals(), 0);
	sigprocmask(SIG_BLOCK, NULL, &old);
	ASSERT_TRUE(sigismember(&old, SIGTERM) == 1);
	raise(SIGINT);
	ASSERT_INT_EQ(spawn_stop_pending(), SIGINT);
	ASSERT_INT_EQ(sigwait(&set, &sig), 0);
	ASSERT_INT_EQ(spawn_stop_pending(), 0);
	ASSERT_STR_EQ(spawn_signal_name(SIGTERM), "SIGTERM");
}

/* without pidfd_open (kernels before 5.3, valgrind 3.19): the same through waitpid polling */
TEST(without_pidfd_open)
{
	int nrs[] = { SYS_pidfd_open }, st;
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		long fd;
		if (nosys_install(nrs, 1) < 0)
			_exit(90);
		fd = syscall(SYS_pidfd_open, getpid(), 0);
		if (fd >= 0 || errno != ENOSYS)
			_exit(91);
		_exit(check_fn_deadline() * 10 + check_program_status() + check_program_killed() * 100);
	}
	ASSERT_INT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
}

HARNESS_MAIN
