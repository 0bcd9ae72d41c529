/* util.h - small helpers shared by every layer: cleanup attributes, strings */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_UTIL_H
#define PCIBIND_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* NULL-safe equality: two NULLs are equal */
static inline bool streq_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline const char *strna(const char *s)
{
	return s ? s : "none";
}

/* snprintf that reports truncation: 0 or -ENAMETOOLONG */
int xsnprintf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
int xvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) _printf_(3, 0);
/* the text after what buf (of size bytes) holds, cut where it does not fit */
void strappendf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);

/* strdup that returns -ENOMEM-friendly NULL; strdup(NULL) is NULL */
char *xstrdup_null(const char *s);

/* strip trailing whitespace in place, return s */
char *strip_trailing(char *s);

/* strict unsigned parse of a whole string in a base: 0 or -EINVAL/-ERANGE */
int parse_uint(const char *s, int base, unsigned long max, unsigned long *ret);

/* 1 if s is a safe token for generated files and sysfs: [A-Za-z0-9_.:+-], 1..max */
bool token_is_safe(const char *s, size_t max);

/* w is one of the blank-separated words of line (a kernel command line); line may be NULL */
bool words_contain(const char *line, const char *w);

/*
 * A string from the user (an argument, a name read from a file) as it may
 * be shown in a message: at most 64 characters, non-printable ones and '%'
 * as '?', "..." when cut. Returns buf.
 */
const char *str_shown(const char *s, char *buf, size_t size);

/*
 * A systemd unit name, the one check for it (stop_units, the journal's
 * stopped units, the boot unit's [Install] targets): NAME.TYPE of the
 * characters systemd allows, at most 255, TYPE one of systemd's unit types.
 */
bool unit_name_valid(const char *s);

/* monotonic time in milliseconds */
long long now_ms(void);

#endif
