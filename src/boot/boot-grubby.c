/* boot-grubby.c - grubby on a Boot Loader Specification system (Fedora): no file, a command per change */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootops.h"
#include "util.h"

/* the "options" line of the first BLS entry (grubby applies --update-kernel=ALL to each alike) */
static void read_options(const struct sysroot *r, struct system *s)
{
	char first[NAME_MAX + 1] = "", path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	struct dirent *e;
	DIR *d;

	if (sysroot_opendir(r, "boot/loader/entries", &d) < 0)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 5 && streq(e->d_name + n - 5, ".conf") && (!first[0] || strcmp(e->d_name, first) < 0))
			(void)snprintf(first, sizeof(first), "%s", e->d_name);
	}
	closedir(d);
	if (!first[0] || xsnprintf(path, sizeof(path), "boot/loader/entries/%s", first) < 0 ||
	    sysroot_read(r, path, &text, NULL) < 0)
		return;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		if (strncmp(p, "options", 7) == 0 && (p[7] == ' ' || p[7] == '\t')) {
			free(s->bls_options);
			s->bls_options = strndup(p + 8, len - 8);
		}
		p += len + (p[len] == '\n');
	}
}

static bool detect(const struct sysroot *r, struct system *s)
{
	if (!detect_have_tool(r, "grubby") || !detect_exists(r, "boot/loader/entries"))
		return false;
	read_options(r, s);
	return true;
}

static const struct bootstate_grubby *old_record(const struct gen *g, const char *arg)
{
	const struct bootstate *s = g->ex->state;

	for (size_t i = 0; s && i < s->n_grubby; i++)
		if (streq(s->grubby[i].arg, arg))
			return &s->grubby[i];
	return NULL;
}

static int keep(struct gen *g, const char *arg, const char *was)
{
	struct bootstate *s = &g->next;
	struct bootstate_grubby *n = realloc(s->grubby, (s->n_grubby + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->grubby = n;
	n[s->n_grubby].arg = strdup(arg);
	n[s->n_grubby].was = strdup(was);
	s->n_grubby++;
	return n[s->n_grubby - 1].arg && n[s->n_grubby - 1].was ? 0 : -ENOMEM;
}

/* an argument pcibind put on the entries and no longer wants: out, or the word it replaced back */
static void take_back(FILE *add, FILE *del, const struct bootstate_grubby *rec)
{
	if (rec->was[0])
		fprintf(add, " %s", rec->was);
	else
		fprintf(del, " %s", rec->arg);
}

static int command(struct gen *g, char *add, char *del)
{
	int r = 0;

	if (!add || !del)
		r = -ENOMEM;
	else if (add[0] || del[0])
		r = gen_cmd_add(g, GEN_NOW, "grubby --update-kernel=ALL%s%s%s%s%s%s", add[0] ? " --args=\"" : "",
				add[0] ? add + 1 : "", add[0] ? "\"" : "", del[0] ? " --remove-args=\"" : "",
				del[0] ? del + 1 : "", del[0] ? "\"" : "");
	free(add);
	free(del);
	return r;
}

/* the entries' options get what they lack; what pcibind added before and no longer wants goes */
static int edit(struct gen *g)
{
	const struct bootstate *s = g->ex->state;
	struct gen_buf add, del;
	int r = 0;

	if (gen_buf_open(&add) < 0 || gen_buf_open(&del) < 0) {
		free(gen_buf_close(&add));
		return -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < g->res->n_args; i++) {
		const char *a = g->res->args[i], *w;
		const struct bootstate_grubby *rec = old_record(g, a);
		_cleanup_free_ char *was = NULL;
		size_t len = 0;

		if (gen_cmdline_has_all(g->sys->bls_options, &g->res->args[i], 1)) {
			if (rec) /* there because pcibind put it there */
				r = keep(g, a, rec->was);
			continue;
		}
		fprintf(add.f, " %s", a);
		w = gen_cmdline_find_key(g->sys->bls_options, a, &len);
		was = rec ? strdup(rec->was) : w ? strndup(w, len) : strdup("");
		r = !was ? -ENOMEM : !cmdline_arg_valid(was) ? keep(g, a, "") : keep(g, a, was);
	}
	for (size_t i = 0; r == 0 && s && i < s->n_grubby; i++) {
		bool wanted = false;

		for (size_t j = 0; j < g->res->n_args && !wanted; j++)
			wanted = streq(s->grubby[i].arg, g->res->args[j]);
		if (!wanted)
			take_back(add.f, del.f, &s->grubby[i]);
	}
	if (r < 0) {
		free(gen_buf_close(&add));
		free(gen_buf_close(&del));
		return r;
	}
	return command(g, gen_buf_close(&add), gen_buf_close(&del));
}

/* the way back: every argument pcibind had grubby add */
static int remove_args(struct gen *g)
{
	const struct bootstate *s = g->ex->state;
	struct gen_buf add, del;

	if (!s || !s->n_grubby)
		return 0;
	if (gen_buf_open(&add) < 0 || gen_buf_open(&del) < 0) {
		free(gen_buf_close(&add));
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_grubby; i++)
		take_back(add.f, del.f, &s->grubby[i]);
	return command(g, gen_buf_close(&add), gen_buf_close(&del));
}

const struct boot_ops boot_grubby = {
	.id = BOOT_GRUBBY,
	.name = "grubby",
	.detect = detect,
	.edit = edit,
	.remove = remove_args,
};
