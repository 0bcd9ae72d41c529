/* confedit.c - set or take out one section of a pcibind.conf text, keeping every other byte as it was */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confedit.h"
#include "util.h"

#define NAME_MAX_LEN 63

enum kind { L_COMMENT, L_SECTION, L_KEY, L_CONT };

struct line {
	size_t start; /* offset of the line in the text */
	size_t len;   /* without its end of line */
	size_t eol;   /* 0 (last line without one), 1 ("\n") or 2 ("\r\n") */
	enum kind kind;
	size_t name, name_len; /* section or key name, as offsets into the text */
	size_t indent;	       /* blanks before the first character */
};

struct doc {
	const char *text;
	struct line *v;
	size_t n;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* inih's rule: a ';' after a blank starts a comment; the first of chars, or that ';', or the end */
static size_t find_chars_or_comment(const char *s, size_t len, const char *chars)
{
	bool was_blank = false;
	size_t i;

	for (i = 0; i < len && !strchr(chars, s[i]) && !(was_blank && s[i] == ';'); i++)
		was_blank = blank(s[i]);
	return i;
}

static void classify(const char *text, struct line *l, bool *have_key)
{
	const char *s = text + l->start;
	size_t len = l->len, i = 0, end;

	if (l->start == 0 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3; /* a UTF-8 byte order mark, skipped as config.c does */
	while (len > i && blank(s[len - 1]))
		len--;
	l->indent = i;
	while (l->indent < len && blank(s[l->indent]))
		l->indent++;
	if (l->indent == len || s[l->indent] == ';' || s[l->indent] == '#') {
		l->kind = L_COMMENT;
		return;
	}
	if (l->indent > i && *have_key) {
		l->kind = L_CONT;
		return;
	}
	if (s[l->indent] == '[') {
		end = l->indent + 1 + find_chars_or_comment(s + l->indent + 1, len - l->indent - 1, "]");
		l->kind = L_SECTION;
		l->name = l->start + l->indent + 1;
		l->name_len = end - l->indent - 1;
		*have_key = false;
		return;
	}
	end = l->indent + find_chars_or_comment(s + l->indent, len - l->indent, "=:");
	while (end > l->indent && blank(s[end - 1]))
		end--;
	l->kind = L_KEY;
	l->name = l->start + l->indent;
	l->name_len = end - l->indent;
	*have_key = true;
}

static int doc_parse(const char *text, struct doc *d)
{
	size_t cap = 0, pos = 0, len = strlen(text);
	bool have_key = false;

	*d = (struct doc){ .text = text };
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct line *l;

		if (d->n == cap) {
			struct line *n = realloc(d->v, (cap = cap ? cap * 2 : 32) * sizeof(*n));
			if (!n)
				return -ENOMEM;
			d->v = n;
		}
		l = &d->v[d->n++];
		*l = (struct line){ .start = pos, .len = end - pos, .eol = nl ? 1 : 0 };
		if (nl && end > pos && text[end - 1] == '\r') {
			l->len--;
			l->eol = 2;
		}
		classify(text, l, &have_key);
		pos = nl ? end + 1 : len;
	}
	return 0;
}

static bool name_is(const struct doc *d, const struct line *l, const char *name)
{
	size_t n = strlen(name);

	return l->name_len == n && memcmp(d->text + l->name, name, n) == 0;
}

/* the header of [section], and its last key or continuation line (the header itself when it has none) */
static bool find_section(const struct doc *d, const char *section, size_t *ret_head, size_t *ret_last)
{
	for (size_t i = 0; i < d->n; i++) {
		size_t last = i;

		if (d->v[i].kind != L_SECTION || !name_is(d, &d->v[i], section))
			continue;
		for (size_t j = i + 1; j < d->n && d->v[j].kind != L_SECTION; j++)
			if (d->v[j].kind != L_COMMENT)
				last = j;
		*ret_head = i;
		*ret_last = last;
		return true;
	}
	return false;
}

bool confedit_has_section(const char *text, const char *section)
{
	struct doc d;
	size_t h, l;
	bool found;

	if (doc_parse(text ? text : "", &d) < 0)
		return false;
	found = find_section(&d, section, &h, &l);
	free(d.v);
	return found;
}

/* ---- checks: nothing written may change how the rest of the file reads ---- */

static bool section_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= NAME_MAX_LEN && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_", s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static bool key_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= NAME_MAX_LEN && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

/* one line of printable text, no leading or trailing blank, no comment starter after a blank */
static bool text_ok(const char *s, bool value)
{
	size_t n = strlen(s);

	if (value && (n == 0 || blank(s[0]) || blank(s[n - 1])))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (value && c == ';' && i && blank(s[i - 1])))
			return false;
	}
	return true;
}

/* ---- the output ---- */

struct out {
	FILE *f;
	char *buf;
	size_t size;
	const char *eol;
};

static int out_open(struct out *o, const struct doc *d)
{
	o->buf = NULL;
	o->size = 0;
	o->eol = d->n && d->v[0].eol == 2 ? "\r\n" : "\n";
	o->f = open_memstream(&o->buf, &o->size);
	return o->f ? 0 : -ENOMEM;
}

static int out_close(struct out *o, char **ret)
{
	if (fclose(o->f) != 0) {
		free(o->buf);
		return -ENOMEM;
	}
	*ret = o->buf;
	return 0;
}

static void put_line(struct out *o, const struct doc *d, size_t i)
{
	const struct line *l = &d->v[i];

	fwrite(d->text + l->start, 1, l->len + l->eol, o->f);
}

static void put_key(struct out *o, const struct confedit_key *k)
{
	fprintf(o->f, "%s = %s%s", k->name, k->value, o->eol);
}

/* "address = 82:00 ; the GPU" rewritten: its indentation and comment kept, its end of line too */
static void put_replaced(struct out *o, const struct doc *d, size_t i, const struct confedit_key *k)
{
	const struct line *l = &d->v[i];
	const char *s = d->text + l->start;
	size_t sep = l->indent + find_chars_or_comment(s + l->indent, l->len - l->indent, "=:");
	size_t c = sep < l->len ? sep + 1 + find_chars_or_comment(s + sep + 1, l->len - sep - 1, "") : l->len;

	fwrite(s, 1, l->indent, o->f);
	fprintf(o->f, "%s = %s", k->name, k->value);
	if (c < l->len)
		fprintf(o->f, " %.*s", (int)(l->len - c), s + c);
	fputs(l->eol == 2 ? "\r\n" : l->eol == 1 ? "\n" : "", o->f);
}

static const struct confedit_key *key_for(const struct doc *d, const struct line *l, const struct confedit_key *keys,
					  size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (name_is(d, l, keys[i].name))
			return &keys[i];
	return NULL;
}

/* the text ends without an end of line: kept so, around a section appended or taken out at its end */
static bool open_end(const struct doc *d)
{
	return d->n && !d->v[d->n - 1].eol;
}

static void append_section(struct out *o, const struct doc *d, const char *section, const struct confedit_key *keys,
			   size_t n, const char *comment)
{
	for (size_t i = 0; i < d->n; i++)
		put_line(o, d, i);
	if (open_end(d))
		fputs(o->eol, o->f);
	if (d->n)
		fputs(o->eol, o->f);
	fprintf(o->f, "[%s]", section);
	if (comment)
		fprintf(o->f, "%s# %s", o->eol, comment);
	for (size_t i = 0; i < n; i++)
		fprintf(o->f, "%s%s = %s", o->eol, keys[i].name, keys[i].value);
	if (!open_end(d))
		fputs(o->eol, o->f);
}

static void edit_section(struct out *o, const struct doc *d, size_t head, size_t last, const struct confedit_key *keys,
			 size_t n)
{
	bool *done = calloc(n ? n : 1, sizeof(*done));
	const struct confedit_key *k = NULL;

	for (size_t i = 0; i < d->n; i++) {
		const struct line *l = &d->v[i];

		if (i > head && i <= last && l->kind == L_KEY)
			k = key_for(d, l, keys, n);
		else if (l->kind != L_CONT && l->kind != L_COMMENT)
			k = NULL;
		if (k && l->kind == L_KEY) {
			put_replaced(o, d, i, k);
			if (done)
				done[k - keys] = true;
		} else if (!(k && l->kind == L_CONT)) {
			put_line(o, d, i); /* a continuation of a rewritten key is folded into it */
		}
		if (i != last)
			continue;
		if (!l->eol)
			fputs(o->eol, o->f);
		for (size_t j = 0; j < n; j++)
			if (!done || !done[j])
				put_key(o, &keys[j]);
	}
	free(done);
}

int confedit_set(const char *text, const char *section, const struct confedit_key *keys, size_t n_keys,
		 const char *comment, char **ret)
{
	struct doc d;
	struct out o;
	size_t head, last;
	int r;

	if (!section_name_ok(section) || (comment && !text_ok(comment, false)))
		return -EINVAL;
	for (size_t i = 0; i < n_keys; i++)
		if (!key_name_ok(keys[i].name) || !text_ok(keys[i].value, true))
			return -EINVAL;
	if ((r = doc_parse(text ? text : "", &d)) < 0 || (r = out_open(&o, &d)) < 0) {
		free(d.v);
		return r;
	}
	if (find_section(&d, section, &head, &last))
		edit_section(&o, &d, head, last, keys, n_keys);
	else
		append_section(&o, &d, section, keys, n_keys, comment);
	free(d.v);
	return out_close(&o, ret);
}

static bool line_blank(const struct doc *d, size_t i)
{
	return d->v[i].kind == L_COMMENT && d->v[i].indent == d->v[i].len;
}

int confedit_remove(const char *text, const char *section, char **ret)
{
	struct doc d;
	struct out o;
	size_t head, last, from;
	int r;

	if ((r = doc_parse(text ? text : "", &d)) < 0)
		goto out;
	if (!find_section(&d, section, &head, &last)) {
		r = -ENOENT;
		goto out;
	}
	from = head;
	if (head > 0 && line_blank(&d, head - 1) && (last + 1 == d.n || line_blank(&d, last + 1)))
		from = head - 1;
	if ((r = out_open(&o, &d)) < 0)
		goto out;
	for (size_t i = 0; i < d.n; i++) {
		if (i >= from && i <= last)
			continue;
		if (i + 1 == from && last + 1 == d.n && open_end(&d))
			fwrite(d.text + d.v[i].start, 1, d.v[i].len, o.f); /* the new end, as open as the old */
		else
			put_line(&o, &d, i);
	}
	r = out_close(&o, ret);
out:
	free(d.v);
	return r;
}
