/* hook-record.c - what a hook handed to one VM at its start, kept in /run/pcibind/vm until it stops */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "hook-record.h"
#include "state.h"
#include "util.h"

void hook_devs_free(struct hook_devs *d)
{
	if (!d)
		return;
	free(d->addrs);
	free(d->origin);
	*d = (struct hook_devs){ 0 };
}

bool hook_devs_has(const struct hook_devs *d, const struct pciaddr *a)
{
	for (size_t i = 0; i < d->n; i++)
		if (pciaddr_cmp(&d->addrs[i], a) == 0)
			return true;
	return false;
}

int hook_devs_add(struct hook_devs *d, const struct pciaddr *a, const char *origin)
{
	struct pciaddr *na;
	char(*no)[32];

	if (hook_devs_has(d, a))
		return 0;
	na = realloc(d->addrs, (d->n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	d->addrs = na;
	no = realloc(d->origin, (d->n + 1) * sizeof(*no));
	if (!no)
		return -ENOMEM;
	d->origin = no;
	d->addrs[d->n] = *a;
	snprintf(d->origin[d->n], sizeof(d->origin[d->n]), "%s", origin);
	d->n++;
	return 0;
}

bool hook_origin_is_group(const char *origin)
{
	return strncmp(origin, HOOK_GROUP_ORIGIN, strlen(HOOK_GROUP_ORIGIN)) == 0;
}

#define NAME_SHOWN 64

/* FNV-1a: a long name's record stays apart from another that starts the same */
static unsigned long long fnv1a(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int hook_record_path(const char *kind, const char *name, char *buf, size_t size)
{
	char esc[3 * NAME_SHOWN + 32];
	size_t n = 0, len = strlen(name);

	for (size_t i = 0; i < len && i < NAME_SHOWN; i++)
		n += (size_t)(plain(name[i]) ? snprintf(esc + n, sizeof(esc) - n, "%c", name[i])
					     : snprintf(esc + n, sizeof(esc) - n, "%%%02X", (unsigned char)name[i]));
	if (len > NAME_SHOWN || !len)
		snprintf(esc + n, sizeof(esc) - n, "~%016llx", fnv1a(name));
	return xsnprintf(buf, size, "%s/%s-%s", HOOK_RECORD_DIR, kind, esc);
}

static int parse(char *text, struct hook_devs *d, unsigned *ret_line)
{
	char *save = NULL;
	unsigned line = 0;
	int r;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct pciaddr a;

		line++;
		if (l[0] == '#')
			continue;
		if (pciaddr_parse(l, &a) < 0) {
			*ret_line = line;
			return -EBADMSG;
		}
		if ((r = hook_devs_add(d, &a, "recorded at start")) < 0)
			return r;
	}
	return 0;
}

int hook_record_load(const struct sysroot *r, const char *rel, struct hook_devs *ret, unsigned *ret_line)
{
	_cleanup_free_ char *buf = NULL;
	struct hook_devs d = { 0 };
	unsigned line = 0;
	int err;

	/* root trusts it as it trusts every state file (state.h); anything else is a damaged record */
	err = state_read(r, rel, HOOK_RECORD_MAX, &buf, NULL, &line);
	if (err == -ELOOP || err == -EINVAL || err == -EPERM)
		err = -EBADMSG;
	if (err == 0)
		err = parse(buf, &d, &line);
	if (err < 0) {
		hook_devs_free(&d);
		if (ret_line)
			*ret_line = line;
		return err;
	}
	*ret = d;
	return 0;
}

int hook_record_remove(const struct sysroot *r, const char *rel)
{
	if (unlinkat(sysroot_fd(r), rel, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int hook_record_save(const struct sysroot *r, const char *rel, const struct hook_devs *d, const char *vm)
{
	size_t size = 256 + d->n * (PCIADDR_STRLEN + 1), len;
	_cleanup_free_ char *text = malloc(size);
	int err;

	if (!d->n)
		return hook_record_remove(r, rel);
	if (!text)
		return -ENOMEM;
	len = (size_t)snprintf(text, size,
			       "# pcibind: the functions handed to %.64s at its start, given back at its "
			       "stop; do not edit\n",
			       vm);
	for (size_t i = 0; i < d->n && len < size; i++) {
		char a[PCIADDR_STRLEN];

		pciaddr_format(&d->addrs[i], a);
		len += (size_t)snprintf(text + len, size - len, "%s\n", a);
	}
	if (len >= size)
		return -ENAMETOOLONG;
	/* the one place that makes the run directory and its vm/ (state.h), owner and mode checked */
	if ((err = state_run_subdir(r, HOOK_RECORD_SUBDIR, true)) < 0)
		return err;
	(void)close(err);
	return atomicfile_write(r, rel, text, len, 0600);
}
