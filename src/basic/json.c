/* json.c - a small streaming JSON writer with its own comma and nesting bookkeeping */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "json.h"

#define LEVEL_BIT(j) (UINT64_C(1) << ((j)->depth - 1))

void json_init(struct json *j, FILE *f, unsigned indent)
{
	*j = (struct json){ .f = f, .indent = indent };
}

static void fail(struct json *j, int err)
{
	if (!j->err)
		j->err = err;
}

/* The writer is one thread's: no stdio lock per piece (a status --json of thousands of functions is millions) */
static void put(struct json *j, const char *s, size_t len)
{
	if (len && fwrite_unlocked(s, 1, len, j->f) != len)
		fail(j, errno > 0 ? -errno : -EIO);
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

static bool in_object(const struct json *j)
{
	return j->depth > 0 && (j->in_object & LEVEL_BIT(j));
}

static void newline_indent(struct json *j, unsigned level)
{
	static const char spaces[] = "                                ";
	size_t n = (size_t)j->indent * level;

	if (!j->indent)
		return;
	put(j, "\n", 1);
	for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
		put(j, spaces, sizeof(spaces) - 1);
	put(j, spaces, n);
}

/* the comma and line break before a member of the current container */
static void separator(struct json *j)
{
	if (j->has_items & LEVEL_BIT(j))
		put(j, ",", 1);
	j->has_items |= LEVEL_BIT(j);
	newline_indent(j, j->depth);
}

/* May a value go here? Writes what must precede it. */
static bool value_begin(struct json *j)
{
	if (j->err)
		return false;
	if (j->depth == 0) {
		if (j->done)
			fail(j, -EINVAL);
		return !j->err;
	}
	if (in_object(j)) {
		if (!j->want_value)
			fail(j, -EINVAL);
		j->want_value = false;
		return !j->err;
	}
	separator(j);
	return !j->err;
}

static void value_end(struct json *j)
{
	if (j->depth == 0)
		j->done = true;
}

static void container_begin(struct json *j, bool object)
{
	if (!value_begin(j))
		return;
	if (j->depth >= JSON_DEPTH_MAX) {
		fail(j, -E2BIG);
		return;
	}
	j->depth++;
	if (object)
		j->in_object |= LEVEL_BIT(j);
	else
		j->in_object &= ~LEVEL_BIT(j);
	j->has_items &= ~LEVEL_BIT(j);
	put(j, object ? "{" : "[", 1);
}

static void container_end(struct json *j, bool object)
{
	if (j->err)
		return;
	if (j->depth == 0 || in_object(j) != object || j->want_value) {
		fail(j, -EINVAL);
		return;
	}
	if (j->has_items & LEVEL_BIT(j))
		newline_indent(j, j->depth - 1);
	j->depth--;
	put(j, object ? "}" : "]", 1);
	value_end(j);
}

void json_object_begin(struct json *j)
{
	container_begin(j, true);
}

void json_object_end(struct json *j)
{
	container_end(j, true);
}

void json_array_begin(struct json *j)
{
	container_begin(j, false);
}

void json_array_end(struct json *j)
{
	container_end(j, false);
}

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode table 3-7: no
 * overlongs, no surrogates, nothing above U+10FFFF). For an ill-formed one
 * returns 0 and the length of its maximal subpart in *ret_bad, which is
 * replaced by one U+FFFD (the Unicode recommended practice).
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *ret_bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else {
		*ret_bad = 1;
		return 0;
	}
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*ret_bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

/* the escape for one byte, or NULL if it goes out as it is */
static const char *escape(unsigned char c, char *buf)
{
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c < 0x20 || c == 0x7f) {
		(void)snprintf(buf, 7, "\\u%04x", c);
		return buf;
	}
	return NULL;
}

static void write_escaped(struct json *j, const unsigned char *s, size_t len)
{
	size_t run = 0, i = 0, n, bad = 1;
	char buf[8];
	const char *esc;

	while (i < len) {
		if (s[i] >= 0x80 && (n = utf8_seq(s + i, len - i, &bad)) > 0) {
			i += n;
			continue;
		}
		esc = s[i] < 0x80 ? escape(s[i], buf) : "\\ufffd";
		if (!esc) {
			i++;
			continue;
		}
		put(j, (const char *)s + run, i - run);
		puts_(j, esc);
		i += s[i] < 0x80 ? 1 : bad;
		run = i;
	}
	put(j, (const char *)s + run, len - run);
}

static void write_string(struct json *j, const char *s, size_t len)
{
	put(j, "\"", 1);
	write_escaped(j, (const unsigned char *)s, len);
	put(j, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
	if (j->err)
		return;
	if (!in_object(j) || j->want_value || !key) {
		fail(j, -EINVAL);
		return;
	}
	separator(j);
	write_string(j, key, strlen(key));
	puts_(j, j->indent ? ": " : ":");
	j->want_value = true;
}

void json_null(struct json *j)
{
	if (!value_begin(j))
		return;
	put(j, "null", 4);
	value_end(j);
}

void json_string_len(struct json *j, const char *s, size_t len)
{
	if (!s) {
		json_null(j);
		return;
	}
	if (!value_begin(j))
		return;
	write_string(j, s, len);
	value_end(j);
}

void json_string(struct json *j, const char *s)
{
	json_string_len(j, s, s ? strlen(s) : 0);
}

void json_int(struct json *j, long long v)
{
	char buf[32];
	int n;

	if (!value_begin(j))
		return;
	n = snprintf(buf, sizeof(buf), "%lld", v);
	put(j, buf, (size_t)n);
	value_end(j);
}

void json_bool(struct json *j, bool v)
{
	if (!value_begin(j))
		return;
	puts_(j, v ? "true" : "false");
	value_end(j);
}

void json_key_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_key_int(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_key_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

void json_key_null(struct json *j, const char *key)
{
	json_key(j, key);
	json_null(j);
}

int json_finish(struct json *j)
{
	if (!j->err && !j->done)
		fail(j, -EINVAL);
	if (!j->err)
		put(j, "\n", 1);
	if (fflush(j->f) != 0)
		fail(j, -errno ? -errno : -EIO);
	return j->err;
}
