/* devlock.c - reading attributes whose show() takes the device lock, with a deadline */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devlock.h"
#include "spawn.h"
#include "util.h"

/*
 * driver_override_show() and sriov_numvfs_show() take the device lock.
 * While the kernel waits in an unbind for a VFIO user to let go (a VM
 * running), it holds that lock, and a read blocks uninterruptibly for as
 * long: a thread stuck there keeps the whole process from exiting. So
 * these reads happen in a child (spawn.c) that reports one line per
 * function on its stdout; a function whose line does not come in time is
 * marked busy, the child is abandoned, and a fresh one carries on after it.
 */

struct reader {
	const struct sysroot *r;
	struct pcifn **fns;
	size_t from, n;
	/* the parent's side: the partial line, the first function not reported */
	char line[8192];
	size_t len;
	size_t next;
};

static void child_read_one(const struct sysroot *r, size_t idx, const char *name)
{
	char path[PATH_MAX], ovr[4096] = "(null)", num[32] = "-", line[4200];
	int dirfd = -1, n;

	if (xsnprintf(path, sizeof(path), "sys/bus/pci/devices/%s", name) == 0)
		dirfd = sysroot_openat(r, path, O_RDONLY | O_DIRECTORY, 0);
	if (dirfd >= 0) {
		if (sysroot_read_line_at(dirfd, "driver_override", ovr, sizeof(ovr)) < 0)
			(void)xsnprintf(ovr, sizeof(ovr), "(null)");
		if (sysroot_read_line_at(dirfd, "sriov_numvfs", num, sizeof(num)) < 0)
			(void)xsnprintf(num, sizeof(num), "-");
		close(dirfd);
	}
	n = snprintf(line, sizeof(line), "%zu\t%s\t%s\n", idx, strip_trailing(num), ovr);
	if (n > 0 && write(1, line, (size_t)n) != n)
		_exit(1);
}

static int child_main(void *arg)
{
	const struct reader *rd = arg;

	for (size_t i = rd->from; i < rd->n; i++)
		child_read_one(rd->r, i, rd->fns[i]->name);
	return 0;
}

static void apply_line(struct reader *rd, char *line)
{
	char *save = NULL, *idx = strtok_r(line, "\t", &save), *num = strtok_r(NULL, "\t", &save);
	char *ovr = strtok_r(NULL, "", &save);
	unsigned long i, v;
	struct pcifn *f;

	if (!idx || !num || parse_uint(idx, 10, rd->n - 1, &i) < 0)
		return;
	f = rd->fns[i];
	rd->next = i + 1;
	if (parse_uint(num, 10, INT_MAX, &v) == 0)
		f->sriov_numvfs = (int)v;
	free(f->override);
	f->override = NULL;
	if (ovr && *ovr && !streq(ovr, "(null)"))
		f->override = strdup(ovr);
}

/* spawn's on_output: whole lines applied as they come */
static void on_output(void *userdata, const char *data, size_t len)
{
	struct reader *rd = userdata;
	char *nl;

	while (len) {
		size_t take = sizeof(rd->line) - 1 - rd->len;

		if (take > len)
			take = len;
		memcpy(rd->line + rd->len, data, take);
		rd->len += take;
		rd->line[rd->len] = '\0';
		data += take;
		len -= take;
		while ((nl = strchr(rd->line, '\n'))) {
			*nl = '\0';
			apply_line(rd, rd->line);
			rd->len -= (size_t)(nl + 1 - rd->line);
			memmove(rd->line, nl + 1, rd->len + 1);
		}
		if (rd->len == sizeof(rd->line) - 1)
			rd->len = 0; /* a line longer than any sysfs attribute: drop it */
	}
}

int devlock_read(const struct sysroot *r, struct pcifn **fns, size_t n, unsigned timeout_ms)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	int rootfd = sysroot_fd(r);
	struct spawn s = {
		.what = "reading driver_override",
		.timeout_ms = timeout_ms,
		.restart_on_output = true,
		.keep_fds = &rootfd,
		.n_keep_fds = 1,
		.output = SPAWN_OUTPUT_CAPTURE,
		.on_output = on_output,
		.userdata = rd,
	};
	struct spawn_result res;
	int busy = 0, err = 0;

	if (!rd)
		return -ENOMEM;
	*rd = (struct reader){ .r = r, .fns = fns, .n = n };
	while (rd->next < n) {
		rd->from = rd->next;
		rd->len = 0;
		err = spawn_fn(&s, child_main, rd, &res);
		if (err != -ETIMEDOUT)
			break;
		err = 0;
		/* every line came, only the child's exit is late: nothing is busy */
		if (rd->next >= n)
			break;
		/* the child is stuck in the kernel on this one: abandoned, a fresh one goes on after it */
		fns[rd->next]->busy = true;
		busy++;
		rd->next++;
	}
	free(rd);
	return err < 0 ? err : busy;
}
