/* events.c - make bench's coldplug driver: one process per udev event, one after another, timed */
/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usage: events LIST PROGRAM [ARG...]
 *
 * For every line of LIST (a PCI address), runs PROGRAM ARG... ADDRESS
 * with posix_spawn and waits for it, as a udev worker runs a rule's RUN
 * program once per event (its stdout and stderr on /dev/null, as udevd
 * keeps them from the terminal). Prints one line of JSON: events, wall seconds,
 * the children's user and system CPU seconds, and how many exited non-zero
 * (with the first such status). Nothing is read or written here beyond
 * LIST: what the program touches is its business (--root in the bench).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	char line[128], **args;
	int n = 0, bad = 0, first_bad = 0;
	struct rusage ru;
	double t0, t1;
	FILE *list;

	if (argc < 3) {
		fprintf(stderr, "usage: events LIST PROGRAM [ARG...]\n");
		return 2;
	}
	list = fopen(argv[1], "re");
	if (!list) {
		fprintf(stderr, "events: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	args = calloc((size_t)argc, sizeof(*args));
	if (!args)
		return 1;
	for (int i = 2; i < argc; i++)
		args[i - 2] = argv[i];
	if (posix_spawn_file_actions_init(&fa) ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa, 1, 2))
		return 1;
	t0 = now();
	while (fgets(line, sizeof(line), list)) {
		pid_t pid;
		int st, err;

		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		args[argc - 2] = line;
		err = posix_spawn(&pid, argv[2], &fa, NULL, args, environ);
		if (err) {
			fprintf(stderr, "events: cannot run %s: %s\n", argv[2], strerror(err));
			return 1;
		}
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				return 1;
		n++;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			if (!bad++)
				first_bad = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
	t1 = now();
	fclose(list);
	posix_spawn_file_actions_destroy(&fa);
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("{\"events\": %d, \"wall\": %.6f, \"user\": %.6f, \"system\": %.6f, \"failed\": %d, \"first_status\": %d}\n",
	       n, t1 - t0, tv(&ru.ru_utime), tv(&ru.ru_stime), bad, first_bad);
	free(args);
	return 0;
}
