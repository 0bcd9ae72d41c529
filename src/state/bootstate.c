/* bootstate.c - the record of in-place edits under /var/lib/pcibind: parse, format, trusted load */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstate.h"
#include "state.h"
#include "util.h"

#define BOOTSTATE_SIZE_MAX (1u << 20)

/* a relative path of plain components: lower case, digits, "._-", none empty or starting with '.' */
static bool rel_path_ok(const char *p, size_t len)
{
	if (len == 0 || len >= BOOTSTATE_PATH_MAX || p[0] == '/' || p[0] == '.' || p[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789/._-", p[i]))
			return false;
		if (p[i] == '/' && (p[i + 1] == '/' || p[i + 1] == '.'))
			return false;
	}
	return true;
}

/* ... below etc/: what pcibind edits */
static bool path_ok(const char *p, size_t len)
{
	return len >= 5 && strncmp(p, "etc/", 4) == 0 && rel_path_ok(p, len);
}

static int push_word(char ***v, size_t *n, const char *w, size_t len)
{
	char **nv, *s;

	if (*n >= BOOTSTATE_ARGS_MAX)
		return -EBADMSG;
	if (!(s = strndup(w, len)))
		return -ENOMEM;
	if (!cmdline_arg_valid(s)) {
		free(s);
		return -EBADMSG;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = s;
	return 0;
}

/* the next word of line at *p (advanced), its length; 0 at the end */
static size_t next_word(const char **p, const char **ret_word)
{
	size_t len;

	*p += strspn(*p, " ");
	len = strcspn(*p, " ");
	*ret_word = *p;
	*p += len;
	return len;
}

static int parse_edit(struct bootstate *s, const char *p)
{
	struct bootstate_edit *n, *e;
	const char *w;
	size_t len = next_word(&p, &w);
	int err;

	if (!path_ok(w, len) || s->n_edits >= 16)
		return -EBADMSG;
	n = realloc(s->edits, (s->n_edits + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->edits = n;
	e = &n[s->n_edits];
	*e = (struct bootstate_edit){ 0 };
	memcpy(e->path, w, len);
	if (bootstate_find(s, e->path))
		return -EBADMSG;
	s->n_edits++;
	len = next_word(&p, &w);
	if (len == 4 && strncmp(w, "copy", 4) == 0) {
		if (!(e->original = strdup(""))) /* its text: filled by the loader */
			return -ENOMEM;
	} else if (!(len == 3 && strncmp(w, "new", 3) == 0)) {
		return -EBADMSG;
	}
	while ((len = next_word(&p, &w)))
		if ((err = push_word(&e->args, &e->n_args, w, len)) < 0)
			return err;
	return e->n_args ? 0 : -EBADMSG;
}

static int parse_grubby(struct bootstate *s, const char *p)
{
	struct bootstate_grubby *n = NULL, *g;
	char **words = NULL;
	size_t n_words = 0, len;
	const char *w;
	int err = 0;

	while (err == 0 && (len = next_word(&p, &w)))
		err = push_word(&words, &n_words, w, len);
	if (err == 0 && (n_words < 1 || n_words > 2 || s->n_grubby >= BOOTSTATE_ARGS_MAX))
		err = -EBADMSG;
	if (err == 0 && !(n = realloc(s->grubby, (s->n_grubby + 1) * sizeof(*n))))
		err = -ENOMEM;
	if (err < 0) {
		for (size_t i = 0; i < n_words; i++)
			free(words[i]);
		free(words);
		return err;
	}
	s->grubby = n;
	g = &n[s->n_grubby++];
	g->arg = words[0];
	g->was = n_words == 2 ? words[1] : strdup("");
	free(words);
	return g->was ? 0 : -ENOMEM;
}

int bootstate_parse(const char *text, struct bootstate *ret, unsigned *ret_line)
{
	struct bootstate s = { 0 };
	unsigned line = 0;
	int err = 0;

	for (const char *p = text; err == 0 && *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *l = strndup(p, len);

		line++;
		if (!l)
			err = -ENOMEM;
		else if (p[len] != '\n' || strchr(l, '\t') || strchr(l, '\r'))
			err = -EBADMSG;
		else if (strncmp(l, "edit ", 5) == 0)
			err = parse_edit(&s, l + 5);
		else if (strncmp(l, "grubby ", 7) == 0)
			err = parse_grubby(&s, l + 7);
		else if (l[0] != '#')
			err = -EBADMSG;
		p += len + (p[len] == '\n');
	}
	if (err < 0) {
		bootstate_clear(&s);
		*ret_line = line;
		return err;
	}
	*ret = s;
	return 0;
}

char *bootstate_format(const struct bootstate *s, int *ret_err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	*ret_err = 0;
	if (!s || (!s->n_edits && !s->n_grubby))
		return NULL;
	if (!(f = open_memstream(&text, &len))) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	fprintf(f, "# " GEN_HEADER "\n# what `pcibind generate` put into files it edits in place; "
		   "`pcibind generate --remove` takes it back\n");
	for (size_t i = 0; i < s->n_edits; i++) {
		fprintf(f, "edit %s %s", s->edits[i].path,
			s->edits[i].original || s->edits[i].orig_missing ? "copy" : "new");
		for (size_t j = 0; j < s->edits[i].n_args; j++)
			fprintf(f, " %s", s->edits[i].args[j]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < s->n_grubby; i++)
		fprintf(f, "grubby %s%s%s\n", s->grubby[i].arg, s->grubby[i].was[0] ? " " : "", s->grubby[i].was);
	if (fclose(f) != 0) {
		free(text);
		*ret_err = -ENOMEM;
		return NULL;
	}
	return text;
}

int bootstate_orig_path(const char *path, char *buf, size_t size)
{
	return xsnprintf(buf, size, BOOTSTATE_ORIG_DIR "/%s", path);
}

/* a file root may trust: regular, the caller's, not writable by others, not huge */
int bootstate_load(const struct sysroot *r, struct bootstate *ret, char *msg, size_t size)
{
	_cleanup_free_ char *text = NULL;
	struct bootstate s = { 0 };
	unsigned line = 0;
	int err = state_read(r, BOOTSTATE_FILE, BOOTSTATE_SIZE_MAX, &text, NULL, &line);

	if (err == -ENOENT) {
		*ret = s;
		return 0;
	}
	if (err == -EBADMSG) {
		(void)snprintf(msg, size,
			       "/%s:%u: not text (a NUL byte): not a record pcibind wrote; inspect it, then "
			       "remove it",
			       BOOTSTATE_FILE, line);
		return err;
	}
	if (err == 0 && (err = bootstate_parse(text, &s, &line)) == -EBADMSG) {
		(void)snprintf(msg, size, "/%s:%u: not a record pcibind wrote; inspect it, then remove it",
			       BOOTSTATE_FILE, line);
		return err;
	}
	if (err < 0) {
		(void)snprintf(msg, size,
			       "/%s: %s; pcibind reads back only the record it wrote: inspect it, then "
			       "remove it",
			       BOOTSTATE_FILE, state_strerror(err));
		return err;
	}
	for (size_t i = 0; i < s.n_edits; i++) {
		char path[BOOTSTATE_PATH_MAX + 64];

		if (!s.edits[i].original)
			continue;
		free(s.edits[i].original);
		s.edits[i].original = NULL;
		if ((err = bootstate_orig_path(s.edits[i].path, path, sizeof(path))) == 0)
			err = state_read(r, path, BOOTSTATE_SIZE_MAX, &s.edits[i].original, NULL, &line);
		if (err == -ENOENT) { /* lost: its arguments can still be taken back out */
			s.edits[i].orig_missing = true;
			continue;
		}
		if (err < 0) {
			(void)snprintf(msg, size, "/%s (the original of /%s, named in /%s): %s", path, s.edits[i].path,
				       BOOTSTATE_FILE, state_strerror(err));
			bootstate_clear(&s);
			return err;
		}
	}
	*ret = s;
	return 0;
}

const struct bootstate_edit *bootstate_find(const struct bootstate *s, const char *path)
{
	for (size_t i = 0; s && i < s->n_edits; i++)
		if (streq(s->edits[i].path, path))
			return &s->edits[i];
	return NULL;
}

void bootstate_clear(struct bootstate *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_edits; i++) {
		free(s->edits[i].original);
		for (size_t j = 0; j < s->edits[i].n_args; j++)
			free(s->edits[i].args[j]);
		free(s->edits[i].args);
	}
	free(s->edits);
	for (size_t i = 0; i < s->n_grubby; i++) {
		free(s->grubby[i].arg);
		free(s->grubby[i].was);
	}
	free(s->grubby);
	*s = (struct bootstate){ 0 };
}

int bootstate_dirs_add(struct bootstate_dirs *d, const char *rel)
{
	for (size_t i = 0; i < d->n; i++)
		if (streq(d->paths[i], rel))
			return 0;
	if (d->n >= BOOTSTATE_DIRS_MAX)
		return -E2BIG;
	if (!(d->paths[d->n] = strdup(rel)))
		return -ENOMEM;
	d->n++;
	return 0;
}

int bootstate_dirs_load(const struct sysroot *r, struct bootstate_dirs *ret, char *msg, size_t size)
{
	_cleanup_free_ char *text = NULL;
	struct bootstate_dirs d = { 0 };
	unsigned line = 0;
	int err = state_read(r, BOOTSTATE_DIRS_FILE, BOOTSTATE_SIZE_MAX, &text, NULL, &line);

	*ret = d;
	if (err == -ENOENT)
		return 0;
	if (err == -EBADMSG) {
		(void)snprintf(msg, size,
			       "/%s:%u: not text (a NUL byte): not a record pcibind wrote; inspect it, then "
			       "remove it",
			       BOOTSTATE_DIRS_FILE, line);
		return err;
	}
	if (err < 0) {
		(void)snprintf(msg, size,
			       "/%s: %s; pcibind reads back only the record it wrote: inspect it, then "
			       "remove it",
			       BOOTSTATE_DIRS_FILE, state_strerror(err));
		return err;
	}
	line = 0;
	for (const char *p = text; *p; p += strcspn(p, "\n") + 1) {
		size_t len = strcspn(p, "\n");
		char path[BOOTSTATE_PATH_MAX];

		line++;
		err = rel_path_ok(p, len) && p[len] == '\n' ? 0 : -EBADMSG;
		if (err == 0) {
			memcpy(path, p, len);
			path[len] = '\0';
			err = bootstate_dirs_add(&d, path);
		}
		if (err < 0) {
			if (err == -ENOMEM)
				(void)snprintf(msg, size, "out of memory");
			else
				(void)snprintf(msg, size,
					       "/%s:%u: not a record pcibind wrote; inspect it, then remove it",
					       BOOTSTATE_DIRS_FILE, line);
			bootstate_dirs_clear(&d);
			return err == -ENOMEM ? err : -EBADMSG;
		}
	}
	*ret = d;
	return 0;
}

char *bootstate_dirs_format(const struct bootstate_dirs *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->paths[i]);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

void bootstate_dirs_clear(struct bootstate_dirs *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->paths[i]);
	*d = (struct bootstate_dirs){ 0 };
}
