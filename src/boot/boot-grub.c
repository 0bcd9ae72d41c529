/* boot-grub.c - GRUB: a drop-in in /etc/default/grub.d (Debian, Ubuntu), else an edit of /etc/default/grub */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootops.h"
#include "util.h"

#define GRUB_FILE   "etc/default/grub"
#define GRUB_DROPIN "etc/default/grub.d/pcibind.cfg"
#define GRUB_KEY    "GRUB_CMDLINE_LINUX_DEFAULT="
#define GRUB_MARKER "# pcibind: GRUB_CMDLINE_LINUX_DEFAULT below is kept up to date by `pcibind generate`"

static void detect_refresh(const struct sysroot *r, struct system *s)
{
	if (detect_have_tool(r, "update-grub"))
		s->grub_refresh = "update-grub";
	else if (detect_have_tool(r, "grub2-mkconfig"))
		s->grub_refresh = detect_exists(r, "boot/grub2") ? "grub2-mkconfig -o /boot/grub2/grub.cfg"
								 : "grub2-mkconfig -o /boot/grub/grub.cfg";
	else
		s->grub_refresh = "grub-mkconfig -o /boot/grub/grub.cfg";
}

static bool detect(const struct sysroot *r, struct system *s)
{
	if (!detect_exists(r, GRUB_FILE))
		return false;
	/* Debian's grub-mkconfig sources /etc/default/grub.d/ *.cfg (a Debian patch, also in Ubuntu) */
	s->grub_dropin = system_os_is(s, "debian") || system_os_is(s, "ubuntu");
	detect_refresh(r, s);
	return true;
}

/* the value of a VAR= line: "..." or '...' or a bare word; NULL if it holds shell syntax we do not edit */
static char *shell_value(const char *v)
{
	size_t n;

	if (*v == '"' || *v == '\'') {
		const char *end = strchr(v + 1, *v);

		if (!end || end[1 + strspn(end + 1, " \t")] != '\0')
			return NULL;
		n = (size_t)(end - v - 1);
		v++;
	} else {
		n = strcspn(v, " \t");
		if (v[n + strspn(v + n, " \t")] != '\0')
			return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strchr("$`\\\"'", v[i]))
			return NULL;
	return strndup(v, n);
}

/* the words of GRUB_CMDLINE_LINUX and _DEFAULT in a /etc/default/grub, for the drop-in to skip */
static char *grub_user_args(const char *text)
{
	struct gen_buf b;
	const char *p = text ? text : "";

	if (gen_buf_open(&b) < 0)
		return NULL;
	while (*p) {
		size_t len = strcspn(p, "\n");
		const char *s = p + strspn(p, " \t");
		_cleanup_free_ char *line = strndup(s, len - (size_t)(s - p));

		if (line && (strncmp(line, "GRUB_CMDLINE_LINUX=", 19) == 0 || strncmp(line, GRUB_KEY, 27) == 0)) {
			_cleanup_free_ char *v = shell_value(strchr(line, '=') + 1);
			if (v)
				fprintf(b.f, " %s", v);
		}
		p += len + (p[len] == '\n');
	}
	return gen_buf_close(&b);
}

/* the drop-in with the arguments /etc/default/grub lacks; nothing to add: no drop-in at all */
static int dropin(struct gen *g)
{
	static const struct owned_file file = { GRUB_DROPIN, NULL, false };
	_cleanup_free_ char *user = grub_user_args(gen_existing_text(g, GRUB_FILE));
	char *const *args = g->res->args;
	struct gen_buf b;
	size_t n = 0;

	if (!user || gen_buf_open(&b) < 0)
		return -ENOMEM;
	fprintf(b.f, "# " GEN_HEADER "\n# arguments already in /etc/default/grub are not repeated here\n");
	fprintf(b.f, "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT");
	for (size_t i = 0; i < g->res->n_args; i++)
		if (!gen_cmdline_has_all(user, &args[i], 1) && ++n)
			fprintf(b.f, " %s", args[i]);
	fprintf(b.f, "\"\n");
	if (!n) {
		free(gen_buf_close(&b));
		return gen_file_drop(g, &file, GEN_BOOT);
	}
	return gen_file_add(g, GRUB_DROPIN, gen_buf_close(&b), 0644, GEN_OWNED | GEN_BOOT);
}

/* index of the line start of the last active GRUB_CMDLINE_LINUX_DEFAULT=, or -1 */
static long grub_find_key(const char *text, size_t *ret_len)
{
	long found = -1;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		if (strncmp(p, GRUB_KEY, strlen(GRUB_KEY)) == 0) {
			found = p - text;
			*ret_len = len;
		}
		p += len + (p[len] == '\n');
	}
	return found;
}

static bool has_marker_before(const char *text, long at)
{
	size_t n = strlen(GRUB_MARKER);

	return at >= (long)n + 1 && strncmp(text + at - (long)n - 1, GRUB_MARKER "\n", n + 1) == 0;
}

static int get(const struct gen *g, const char *text, char **ret)
{
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	long at = grub_find_key(text ? text : "", &len);

	if (at < 0)
		return (*ret = strdup("")) ? 0 : -ENOMEM;
	if (!(line = strndup(text + at, len)))
		return -ENOMEM;
	if (!(*ret = shell_value(line + strlen(GRUB_KEY))))
		return gen_failf(g,
				 "/etc/default/grub: GRUB_CMDLINE_LINUX_DEFAULT holds shell syntax pcibind does "
				 "not edit ($, `, \\ or quotes inside); add %s yourself",
				 g->res && g->res->n_args ? g->res->args[0] : "the arguments");
	return 0;
}

/* the value replaced; pcibind's marker above it while the edit is pcibind's */
static int set(const struct gen *g, const char *text, const char *words, bool ours, char **ret)
{
	size_t len = 0, n;
	struct gen_buf b;
	long at;

	text = text ? text : "";
	at = grub_find_key(text, &len);
	if (gen_buf_open(&b) < 0)
		return -ENOMEM;
	if (at >= 0) {
		bool marked = has_marker_before(text, at);
		long before = marked && !ours ? at - (long)strlen(GRUB_MARKER) - 1 : at;

		fprintf(b.f, "%.*s%s%s\"%s\"%s", (int)before, text, ours && !marked ? GRUB_MARKER "\n" : "", GRUB_KEY,
			words, text + at + len);
	} else if (ours || *words) {
		n = strlen(text);
		fprintf(b.f, "%s%s%s%s%s\"%s\"\n", text, n && text[n - 1] != '\n' ? "\n" : "", ours ? GRUB_MARKER : "",
			ours ? "\n" : "", GRUB_KEY, words);
	} else {
		fputs(text, b.f);
	}
	*ret = gen_buf_close(&b);
	return *ret ? 0 : -ENOMEM;
}

static const struct cmdline_file grub_file = {
	.path = GRUB_FILE,
	.get = get,
	.set = set,
};

int gen_grub_edit(const char *text, char *const *args, size_t n_args, char **ret, struct gen_error *err)
{
	struct gen_result res = { .args = (char **)args, .n_args = n_args };
	struct gen g = { .res = &res, .err = err };
	_cleanup_free_ char *words = NULL, *merged = NULL;
	int r = get(&g, text, &words);

	if (r < 0)
		return r;
	if (!(merged = gen_cmdline_merge(words, args, n_args)))
		return -ENOMEM;
	return set(&g, text, merged, true, ret);
}

static int edit(struct gen *g)
{
	return g->sys->grub_dropin ? dropin(g) : gen_edit_cmdline(g, &grub_file);
}

/* a Proxmox host whose ESPs proxmox-boot-tool keeps copies GRUB's configuration there too */
static int refresh(struct gen *g)
{
	return gen_cmd_add(g, GEN_AFTER_BOOT, "%s",
			   g->sys->proxmox_boot_tool ? "proxmox-boot-tool refresh" : g->sys->grub_refresh);
}

static const struct owned_file owns[] = { { GRUB_DROPIN, NULL, false }, { NULL, NULL, false } };

const struct boot_ops boot_grub = {
	.id = BOOT_GRUB,
	.name = "grub",
	.detect = detect,
	.owns = owns,
	.cmdline = &grub_file,
	.edit = edit,
	.refresh = refresh,
};
