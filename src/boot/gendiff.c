/* gendiff.c - the unified diff generate shows: LCS over lines, fine for files of a few hundred lines */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootops.h"
#include "gen.h"
#include "util.h"

struct lines {
	const char **s;
	size_t *len;
	size_t n;
	bool no_eol; /* the last line has no newline */
};

static int split_lines(const char *text, struct lines *l)
{
	size_t cap = 1;

	*l = (struct lines){ 0 };
	for (const char *p = text ? text : ""; *p; p++)
		cap += *p == '\n';
	l->s = calloc(cap, sizeof(*l->s));
	l->len = calloc(cap, sizeof(*l->len));
	if (!l->s || !l->len)
		return -ENOMEM;
	for (const char *p = text ? text : ""; *p;) {
		size_t len = strcspn(p, "\n");
		l->s[l->n] = p;
		l->len[l->n++] = len;
		l->no_eol = p[len] != '\n';
		p += len + !l->no_eol;
	}
	return 0;
}

static void lines_free(struct lines *l)
{
	free(l->s);
	free(l->len);
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->s[i], b->s[j], a->len[i]) == 0 &&
	       (i + 1 < a->n || j + 1 < b->n || a->no_eol == b->no_eol);
}

enum { OP_SAME, OP_DEL, OP_ADD };

/* edit script from the LCS table; ops has room for a->n + b->n */
static size_t diff_ops(const struct lines *a, const struct lines *b, const unsigned *t, unsigned char *ops)
{
	size_t i = 0, j = 0, n = 0, w = b->n + 1;

	while (i < a->n || j < b->n) {
		if (i < a->n && j < b->n && line_eq(a, i, b, j)) {
			ops[n++] = OP_SAME;
			i++, j++;
		} else if (i < a->n && (j == b->n || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
			ops[n++] = OP_DEL;
			i++;
		} else {
			ops[n++] = OP_ADD;
			j++;
		}
	}
	return n;
}

static void emit_line(FILE *f, char sign, const struct lines *l, size_t i)
{
	fprintf(f, "%c%.*s\n", sign, (int)l->len[i], l->s[i]);
	if (i + 1 == l->n && l->no_eol)
		fprintf(f, "\\ No newline at end of file\n");
}

static void emit_hunks(FILE *f, const struct lines *a, const struct lines *b, const unsigned char *ops, size_t n)
{
	const size_t ctx = 3;
	size_t k = 0, ai = 0, bi = 0;

	while (k < n) {
		size_t start, end, a0, b0, ac = 0, bc = 0, x, y, back;

		while (k < n && ops[k] == OP_SAME)
			k++, ai++, bi++;
		if (k == n)
			break;
		back = ai < ctx ? ai : ctx;
		back = bi < back ? bi : back;
		start = k - back;
		a0 = ai - back;
		b0 = bi - back;
		/* extend while changes are closer than 2*ctx lines apart */
		for (end = k; end < n;) {
			size_t same = 0;
			while (end + same < n && ops[end + same] == OP_SAME)
				same++;
			if (end + same == n || same > 2 * ctx) {
				end += same < ctx ? same : ctx;
				break;
			}
			end += same;
			while (end < n && ops[end] != OP_SAME)
				end++;
		}
		for (size_t q = start; q < end; q++) {
			ac += ops[q] != OP_ADD;
			bc += ops[q] != OP_DEL;
		}
		fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? a0 + 1 : a0, ac, bc ? b0 + 1 : b0, bc);
		x = a0, y = b0;
		for (size_t q = start; q < end; q++) {
			if (ops[q] == OP_SAME)
				emit_line(f, ' ', a, x++), y++;
			else if (ops[q] == OP_DEL)
				emit_line(f, '-', a, x++);
			else
				emit_line(f, '+', b, y++);
		}
		k = end;
		ai = x;
		bi = y;
	}
}

static unsigned *lcs_table(const struct lines *a, const struct lines *b)
{
	size_t w = b->n + 1;
	unsigned *t = calloc((a->n + 1) * w, sizeof(*t));

	if (!t)
		return NULL;
	for (size_t i = a->n; i-- > 0;)
		for (size_t j = b->n; j-- > 0;)
			t[i * w + j] = line_eq(a, i, b, j)		       ? t[(i + 1) * w + j + 1] + 1
				       : t[(i + 1) * w + j] > t[i * w + j + 1] ? t[(i + 1) * w + j]
									       : t[i * w + j + 1];
	return t;
}

char *gen_diff(const char *path, const char *old, const char *new)
{
	struct lines a = { 0 }, b = { 0 };
	unsigned *t = NULL;
	unsigned char *ops = NULL;
	struct gen_buf out;
	char *ret = NULL;

	if (streq_null(old, new) || (old && new &&streq(old, new)))
		return strdup("");
	if (split_lines(old, &a) < 0 || split_lines(new, &b) < 0 || !(t = lcs_table(&a, &b)) ||
	    !(ops = malloc(a.n + b.n + 1)) || gen_buf_open(&out) < 0)
		goto out;
	fprintf(out.f, "--- %s%s\n+++ %s%s\n", old ? "a/" : "", old ? path : "/dev/null", new ? "b/" : "",
		new ? path : "/dev/null");
	emit_hunks(out.f, &a, &b, ops, diff_ops(&a, &b, t, ops));
	ret = gen_buf_close(&out);
out:
	free(t);
	free(ops);
	lines_free(&a);
	lines_free(&b);
	return ret;
}
