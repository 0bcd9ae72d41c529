/* boot-kernelstub.c - kernelstub (Pop!_OS): the "user" kernel_options of /etc/kernelstub/configuration */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootops.h"
#include "util.h"

#define KERNELSTUB_FILE "etc/kernelstub/configuration"

/* "user": { "kernel_options": [ "quiet", "splash" ] } */

static const char *skip_ws(const char *p)
{
	return p + strspn(p, " \t\r\n");
}

/* p at '"': end of the string (after the closing quote), NULL if it has escapes or never ends */
static const char *json_str_end(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20)
			return NULL;
	return *p == '"' ? p + 1 : NULL;
}

/* the value after "key": inside the object whose '{' is at obj; NULL if not there */
static const char *json_find_key(const char *obj, const char *key)
{
	int depth = 0;
	size_t klen = strlen(key);

	for (const char *p = obj; *p; p++) {
		if (*p == '"') {
			const char *end = json_str_end(p);
			if (!end)
				return NULL;
			if (depth == 1 && (size_t)(end - p) == klen + 2 && strncmp(p + 1, key, klen) == 0 &&
			    *skip_ws(end) == ':')
				return skip_ws(skip_ws(end) + 1);
			p = end - 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return NULL;
		}
	}
	return NULL;
}

/* the strings of the array at p ('['), space-separated, and where it ends */
static char *json_str_array(const char *p, const char **ret_end)
{
	struct gen_buf b;

	if (*p != '[' || gen_buf_open(&b) < 0)
		return NULL;
	for (p = skip_ws(p + 1); *p != ']'; p = skip_ws(p)) {
		const char *end = *p == '"' ? json_str_end(p) : NULL;

		if (!end) {
			free(gen_buf_close(&b));
			return NULL;
		}
		fprintf(b.f, " %.*s", (int)(end - p - 2), p + 1);
		p = skip_ws(end);
		if (*p == ',')
			p++;
		else if (*p != ']') {
			free(gen_buf_close(&b));
			return NULL;
		}
	}
	*ret_end = p + 1;
	return gen_buf_close(&b);
}

/* where the user's kernel_options array starts and ends, and its words */
static int locate(const struct gen *g, const char *text, const char **ret_opts, const char **ret_end, char **ret_words)
{
	const char *top = text ? skip_ws(text) : "", *user, *opts;

	user = *top == '{' ? json_find_key(top, "user") : NULL;
	opts = user && *user == '{' ? json_find_key(user, "kernel_options") : NULL;
	if (!opts || !(*ret_words = json_str_array(opts, ret_end)))
		return gen_failf(g, "/etc/kernelstub/configuration: no \"user\": {\"kernel_options\": [...]} "
				    "of plain strings to edit; add the arguments with `kernelstub -a`");
	*ret_opts = opts;
	return 0;
}

static int get(const struct gen *g, const char *text, char **ret)
{
	const char *opts, *end;

	return locate(g, text, &opts, &end, ret);
}

static int set(const struct gen *g, const char *text, const char *words, bool ours, char **ret)
{
	_cleanup_free_ char *old = NULL;
	const char *opts, *end, *w;
	struct gen_buf b;
	int r;

	if ((r = locate(g, text, &opts, &end, &old)) < 0)
		return r;
	if (gen_buf_open(&b) < 0)
		return -ENOMEM;
	fprintf(b.f, "%.*s[", (int)(opts - text), text);
	w = words + strspn(words, " ");
	for (bool first = true; *w; first = false) {
		size_t len = strcspn(w, " ");
		fprintf(b.f, "%s\n      \"%.*s\"", first ? "" : ",", (int)len, w);
		w += len;
		w += strspn(w, " ");
	}
	fprintf(b.f, "%s]%s", words[strspn(words, " ")] ? "\n    " : "", end);
	*ret = gen_buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

static const struct cmdline_file kernelstub_file = {
	.path = KERNELSTUB_FILE,
	.get = get,
	.set = set,
};

int gen_kernelstub_edit(const char *text, char *const *args, size_t n_args, char **ret, struct gen_error *err)
{
	struct gen g = { .err = err };
	_cleanup_free_ char *words = NULL, *merged = NULL;
	int r = get(&g, text, &words);

	if (r < 0)
		return r;
	if (!(merged = gen_cmdline_merge(words, args, n_args)))
		return -ENOMEM;
	return set(&g, text, merged, true, ret);
}

static bool detect(const struct sysroot *r, struct system *s)
{
	return detect_exists(r, KERNELSTUB_FILE);
}

static int edit(struct gen *g)
{
	return gen_edit_cmdline(g, &kernelstub_file);
}

static int refresh(struct gen *g)
{
	return gen_cmd_add(g, GEN_AFTER_BOOT, "kernelstub");
}

const struct boot_ops boot_kernelstub = {
	.id = BOOT_KERNELSTUB,
	.name = "kernelstub",
	.detect = detect,
	.cmdline = &kernelstub_file,
	.edit = edit,
	.refresh = refresh,
};
