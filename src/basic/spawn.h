/* spawn.h - the one way pcibind runs a child: a function in a fork or a program, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_SPAWN_H
#define PCIBIND_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A program pcibind runs (modprobe, systemctl) gets this many kernel-write deadlines */
#define SPAWN_PROGRAM_DEADLINES 3
/* After SIGKILL at the deadline, how long a program has to be reaped before it counts as stuck */
#define SPAWN_KILL_WAIT_MS 2000

enum spawn_output {
	SPAWN_OUTPUT_NULL,    /* stdout and stderr on /dev/null */
	SPAWN_OUTPUT_CAPTURE, /* both into one pipe the parent reads: into out, or handed to on_output */
};

/*
 * What to run and how. The child always starts with stdin on /dev/null,
 * stdout and stderr on /dev/null or the capture pipe, and every other fd
 * closed but keep_fds (which must be above 2): not the run lock, and not
 * pcibind's own stdout and stderr, whose readers (a hook runner, a
 * shell's $(...)) would otherwise wait for the child too.
 */
struct spawn {
	const char *what;	/* named in messages: "systemctl stop gdm.service" */
	unsigned timeout_ms;	/* the deadline, from the start (or from the last output, see below) */
	bool restart_on_output; /* each piece of output restarts the deadline: a child reporting progress */
	/*
	 * A program: its process group is killed at the deadline. Otherwise
	 * (a kernel write) the child is left running, since a task the kernel
	 * blocks in an unbind cannot be killed anyway, and the kernel finishes
	 * the write whenever it lets go.
	 */
	bool kill_on_timeout;
	/*
	 * A program doing forward work (modprobe, systemctl stop, a refresh
	 * command): a stop signal pcibind receives meanwhile is handed on to
	 * its group. Never for one that puts something back (systemctl start).
	 */
	bool forward_stop;
	const int *keep_fds;
	size_t n_keep_fds;
	enum spawn_output output;
	char *out; /* CAPTURE without on_output: the output, NUL-terminated, cut to out_size - 1 */
	size_t out_size;
	void (*on_output)(void *userdata, const char *data, size_t len); /* CAPTURE: each piece as it comes */
	void *userdata;
};

struct spawn_result {
	int status;    /* exit status, or 128 + the signal that ended it */
	bool signaled; /* ended by a signal */
	pid_t stuck;   /* -ETIMEDOUT: the child left running (0: killed and reaped) */
	char msg[320]; /* any failure: what did not finish or could not be run, and why */
};

/*
 * Run fn(arg) in a forked child; its return value (0..255) is the exit
 * status. The child blocks SIGTERM, SIGINT and SIGHUP: a polite stop sent
 * to the whole process group or cgroup lets a kernel write in flight
 * finish. fn must keep to async-signal-safe calls (the parent may have
 * threads).
 *
 * Returns 0 when the child ended (res->status), -ETIMEDOUT when it did not
 * end within the deadline (res->stuck), or -errno when it could not be
 * started; res->msg says what happened in the last two cases.
 */
int spawn_fn(const struct spawn *s, int (*fn)(void *arg), void *arg, struct spawn_result *res);

/*
 * Run the program argv[0] (a full path; no $PATH search, no shell unless
 * argv says so) in a process group of its own, with signals unblocked
 * (see forward_stop). The same returns; -ENOENT (or the exec's -errno)
 * when it cannot be executed.
 */
int spawn_program(const struct spawn *s, char *const argv[], struct spawn_result *res);

/*
 * The polite stop (SIGTERM, SIGINT, SIGHUP) is blocked by main() for the
 * whole run and checked here between steps: the signal, or 0 if none is
 * pending. A caller that sees one finishes the write in flight and puts
 * back what it changed (or completes a restore), then main() lets the
 * signal end the process.
 */
int spawn_stop_pending(void);
/* Block the stop signals in the calling thread (main: before anything else); those ignored stay ignored */
int spawn_block_stop_signals(void);
/* Name of a stop signal: "SIGTERM" */
const char *spawn_signal_name(int sig);

#endif
