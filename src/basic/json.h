/* json.h - a small streaming JSON writer: objects, arrays, strings, numbers, booleans, null */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_JSON_H
#define PCIBIND_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 64

/*
 * The writer places commas, colons and (with indent > 0) newlines itself.
 * Calls in a wrong place (a value where a key is due, an unbalanced end,
 * a second top-level value) and write failures are remembered: the first
 * one makes every later call a no-op and is what json_finish() returns.
 * Strings are written as UTF-8; '"', '\\' and control characters are
 * escaped (control characters as \u00XX), and each ill-formed UTF-8
 * sequence becomes \ufffd, so the output is always valid JSON.
 */
struct json {
	FILE *f;
	unsigned indent; /* spaces per level; 0: everything on one line */
	unsigned depth;
	uint64_t in_object; /* bit d: the container at depth d+1 is an object */
	uint64_t has_items; /* bit d: it already holds a member */
	bool want_value;    /* a key was written: its value comes next */
	bool done;	    /* the top-level value is complete */
	int err;	    /* 0, -EINVAL (misuse), -E2BIG (too deep) or -EIO */
};

void json_init(struct json *j, FILE *f, unsigned indent);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);

/* inside an object, before each value */
void json_key(struct json *j, const char *key);

/* NULL writes null */
void json_string(struct json *j, const char *s);
void json_string_len(struct json *j, const char *s, size_t len);
void json_int(struct json *j, long long v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key and value in one call */
void json_key_string(struct json *j, const char *key, const char *s);
void json_key_int(struct json *j, const char *key, long long v);
void json_key_bool(struct json *j, const char *key, bool v);
void json_key_null(struct json *j, const char *key);

/*
 * End the document with a newline and flush. 0, the first error, or
 * -EINVAL if the top-level value is incomplete.
 */
int json_finish(struct json *j);

#endif
