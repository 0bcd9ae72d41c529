/* ctl.c - the .pcisim/ctl commands that inject faults and load modules, and the state dump */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcisim.h"

#define CTL_MAX_WORDS 8

struct cmd {
	int argc;
	char *argv[CTL_MAX_WORDS];
	int count; /* count=N, -1 when absent */
};

static int split(char *line, struct cmd *c)
{
	char *save = NULL, *w;

	c->argc = 0;
	c->count = -1;
	for (w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		unsigned long n;

		if (strncmp(w, "count=", 6) == 0) {
			if (kstrtoul(w + 6, &n) < 0 || n == 0 || n > 1000000)
				return -EINVAL;
			c->count = (int)n;
			continue;
		}
		if (c->argc == CTL_MAX_WORDS)
			return -EINVAL;
		c->argv[c->argc++] = w;
	}
	return 0;
}

static bool is_platdev(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_platdevs; i++)
		if (strcmp(sim->platdevs[i]->name, name) == 0)
			return true;
	return false;
}

/* new_id and remove_id faults name the driver; the others a device */
static bool target_valid(struct sim *sim, const char *target, const char *op)
{
	if (strcmp(target, "*") == 0)
		return true;
	if (strcmp(op, "new_id") == 0 || strcmp(op, "remove_id") == 0)
		return sim_find_driver(sim, target) != NULL;
	return addr_valid(target) || is_platdev(sim, target);
}

static int fault_from(struct sim *sim, struct cmd *c, enum fault_kind kind, struct fault *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->count = c->count;
	if (c->argc < 3 || strlen(c->argv[1]) >= sizeof(f->target) || strlen(c->argv[2]) >= sizeof(f->op))
		return -EINVAL;
	snprintf(f->target, sizeof(f->target), "%s", c->argv[1]);
	snprintf(f->op, sizeof(f->op), "%s", c->argv[2]);
	if (kind == FAULT_FAILPROBE)
		return addr_valid(f->target) || strcmp(f->target, "*") == 0 ? 0 : -EINVAL;
	if (!fault_op_valid(f->op) || !target_valid(sim, f->target, f->op))
		return -EINVAL;
	return 0;
}

/* fail ADDR OP ERRNO [count=N] */
static int c_fail(struct sim *sim, struct cmd *c)
{
	struct fault f;

	if (c->argc != 4 || fault_from(sim, c, FAULT_FAIL, &f) < 0 || errno_parse(c->argv[3], &f.err) < 0)
		return -EINVAL;
	return fault_add(sim, &f);
}

/* failprobe ADDR DRIVER ERRNO [count=N] */
static int c_failprobe(struct sim *sim, struct cmd *c)
{
	struct fault f;

	if (c->argc != 4 || fault_from(sim, c, FAULT_FAILPROBE, &f) < 0 || errno_parse(c->argv[3], &f.err) < 0)
		return -EINVAL;
	if (!sim_find_driver(sim, f.op))
		return -EINVAL;
	return fault_add(sim, &f);
}

/* block ADDR OP SECONDS|forever [count=N] */
static int c_block(struct sim *sim, struct cmd *c)
{
	struct fault f;
	unsigned long secs;

	if (c->argc != 4 || fault_from(sim, c, FAULT_BLOCK, &f) < 0)
		return -EINVAL;
	if (strcmp(c->argv[3], "forever") == 0)
		f.seconds = -1;
	else if (kstrtoul(c->argv[3], &secs) == 0 && secs <= 86400)
		f.seconds = (int)secs;
	else
		return -EINVAL;
	return fault_add(sim, &f);
}

/* vanish ADDR OP */
static int c_vanish(struct sim *sim, struct cmd *c)
{
	struct fault f;

	if (c->argc != 3 || fault_from(sim, c, FAULT_VANISH, &f) < 0)
		return -EINVAL;
	f.count = 1;
	return fault_add(sim, &f);
}

static int c_release(struct sim *sim, struct cmd *c)
{
	if (c->argc != 2 || !(addr_valid(c->argv[1]) || strcmp(c->argv[1], "*") == 0 || is_platdev(sim, c->argv[1])))
		return -EINVAL;
	fault_release(sim, c->argv[1]);
	return 0;
}

static int c_remove(struct sim *sim, struct cmd *c)
{
	struct sim_fn *fn;

	if (c->argc != 2 || !addr_valid(c->argv[1]))
		return -EINVAL;
	fn = sim_find_fn(sim, c->argv[1]);
	if (!fn)
		return -ENODEV;
	sim_unplug(sim, fn);
	return 0;
}

static int c_load(struct sim *sim, struct cmd *c)
{
	return c->argc == 2 ? sim_load(sim, c->argv[1]) : -EINVAL;
}

static int c_unload(struct sim *sim, struct cmd *c)
{
	return c->argc == 2 ? sim_unload(sim, c->argv[1]) : -EINVAL;
}

static int c_clear(struct sim *sim, struct cmd *c)
{
	if (c->argc != 1)
		return -EINVAL;
	fault_clear(sim);
	return 0;
}

static int c_reset(struct sim *sim, struct cmd *c)
{
	if (c->argc != 1)
		return -EINVAL;
	sim_reset(sim);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct sim *sim, struct cmd *c);
} commands[] = {
	{ "fail", c_fail },	{ "failprobe", c_failprobe }, { "block", c_block }, { "release", c_release },
	{ "vanish", c_vanish }, { "remove", c_remove },	      { "load", c_load },   { "unload", c_unload },
	{ "clear", c_clear },	{ "reset", c_reset },
};

/* mark TEXT: a line in the log, for tests that want to find their place */
static int ctl_mark(struct sim *sim, const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	sim_event(sim, "mark %s", text);
	return 0;
}

static int ctl_line(struct sim *sim, char *line)
{
	struct cmd c;
	size_t i;

	if (strncmp(line, "mark", 4) == 0 && (line[4] == '\0' || isspace((unsigned char)line[4])))
		return ctl_mark(sim, line + 4);
	if (split(line, &c) < 0)
		return -EINVAL;
	if (c.argc == 0)
		return 0;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, c.argv[0]) == 0)
			return commands[i].run(sim, &c);
	return -EINVAL;
}

/* one command a line; the first that fails ends the write with its error */
int ctl_exec(struct sim *sim, const char *buf, size_t len)
{
	char *copy = xstrndup(buf, len), *save = NULL, *line;
	int r = 0;

	for (line = strtok_r(copy, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save))
		r = ctl_line(sim, line);
	free(copy);
	return r;
}

void ctl_show_state(struct sim *sim, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		const struct sim_fn *fn = sim->fns[i];

		if (!fn->present)
			continue;
		sb_printf(out, "%s driver=%s override=%s group=", fn->name, fn->driver ? fn->driver->name : "none",
			  fn->override ? fn->override : "(null)");
		if (sim->iommu && fn->group >= 0)
			sb_printf(out, "%d", fn->group);
		else
			sb_printf(out, "none");
		sb_printf(out, "%s\n", fn->unbinding ? " unbinding" : "");
	}
}
