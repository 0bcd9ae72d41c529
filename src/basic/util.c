/* util.c - small helpers shared by every layer */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

int xvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	if (n < 0)
		return -EINVAL;
	return (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = xvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

void strappendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

char *xstrdup_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *strip_trailing(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int parse_uint(const char *s, int base, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (!s || !*s || !isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno == ERANGE || v > max)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

bool token_is_safe(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++, n++) {
		if (n >= max)
			return false;
		if (!isalnum((unsigned char)*s) && !strchr("_.:+-", *s))
			return false;
	}
	return true;
}

const char *str_shown(const char *s, char *buf, size_t size)
{
	size_t n = 0, len = strlen(s);

	if (!size)
		return buf;
	for (size_t i = 0; i < len && i < 64 && n + 1 < size; i++)
		buf[n++] = isprint((unsigned char)s[i]) && s[i] != '%' ? s[i] : '?';
	buf[n] = '\0';
	if (len > 64 && n + 4 < size)
		strcat(buf, "...");
	return buf;
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool words_contain(const char *line, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = line ? line : ""; *(p += strspn(p, " \t\n"));) {
		size_t len = strcspn(p, " \t\n");
		if (len == n && strncmp(p, w, n) == 0)
			return true;
		p += len;
	}
	return false;
}

bool unit_name_valid(const char *s)
{
	static const char *const types[] = { ".service", ".socket", ".target", ".device", ".mount", ".automount",
					     ".swap",	 ".timer",  ".path",   ".slice",  ".scope" };
	size_t n = s ? strlen(s) : 0;

	if (n < 2 || n > 255 || s[0] == '-' || s[0] == '.' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.@-") != n)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		size_t k = strlen(types[i]);

		if (n > k && streq(s + n - k, types[i]))
			return true;
	}
	return false;
}

bool cmdline_arg_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n < 256 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,:=/+") == n;
}
