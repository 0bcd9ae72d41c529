/* cmd-generate.c - pcibind generate: the persistent setup as a diff, or written with --write */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cmd.h"
#include "detect.h"
#include "gen.h"
#include "json.h"
#include "pcidev.h"
#include "spawn.h"

#define GENERATE_SCHEMA 1
/* a refresh command (update-initramfs on a host with many kernels takes minutes) ends within this, or --timeout */
#define REFRESH_TIMEOUT_S 900

struct generate {
	struct ctx *c;
	struct config *cfg;
	struct pcihost *h;
	struct system *sys;
	struct gen_result res;
	char **old;     /* per res.files: text on disk, NULL if absent */
	bool *changed;  /* per res.files */
	size_t n_changed;
	const char *cmds[3];
	size_t n_cmds;
	int cmd_status[3]; /* -1: not run */
};

static void generate_free(struct generate *g)
{
	for (size_t i = 0; g->old && i < g->res.n_files; i++)
		free(g->old[i]);
	free(g->old);
	free(g->changed);
	gen_result_clear(&g->res);
	system_free(g->sys);
	pcihost_free(g->h);
	config_free(g->cfg);
}

static char *read_or_null(const struct sysroot *r, const char *rel, int *ret_err)
{
	char *text = NULL;
	int err = sysroot_read(r, rel, &text, NULL);

	if (err < 0 && err != -ENOENT)
		*ret_err = err;
	return err < 0 ? NULL : text;
}

static int scan(struct generate *g)
{
	int err = pcihost_scan(g->c->root, &g->h);

	if (err == -ENOENT) { /* no sysfs: an image; no devices */
		g->h = calloc(1, sizeof(*g->h));
		err = g->h ? 0 : -ENOMEM;
	}
	if (err < 0) {
		msg_error("cannot read the PCI functions below %s: %s", sysroot_path(g->c->root), strerror(-err));
		return EXIT_FAILURE_;
	}
	err = detect_system(g->c->root, &g->sys);
	if (err < 0) {
		msg_error("cannot inspect the system below %s: %s", sysroot_path(g->c->root), strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}

static int build(struct generate *g)
{
	_cleanup_free_ char *grub = NULL, *kcmd = NULL, *kstub = NULL;
	struct gen_existing ex;
	struct gen_error e;
	int err = 0, r;

	grub = read_or_null(g->c->root, "etc/default/grub", &err);
	kcmd = read_or_null(g->c->root, "etc/kernel/cmdline", &err);
	kstub = read_or_null(g->c->root, "etc/kernelstub/configuration", &err);
	if (err < 0) {
		msg_error("cannot read the boot configuration below %s: %s", sysroot_path(g->c->root),
			  strerror(-err));
		return EXIT_FAILURE_;
	}
	ex = (struct gen_existing){grub, kcmd, kstub};
	r = gen_build(g->cfg, g->h, g->sys, &ex, &g->res, &e);
	if (r == -EINVAL) {
		msg_error("%s; nothing generated", e.msg);
		return EXIT_USAGE;
	}
	if (r < 0) {
		msg_error("cannot generate: %s", strerror(-r));
		return EXIT_FAILURE_;
	}
	return 0;
}

static int compare(struct generate *g)
{
	int err = 0;

	g->old = calloc(g->res.n_files + 1, sizeof(*g->old));
	g->changed = calloc(g->res.n_files + 1, sizeof(*g->changed));
	if (!g->old || !g->changed) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < g->res.n_files; i++) {
		g->old[i] = read_or_null(g->c->root, g->res.files[i].path, &err);
		if (err < 0) {
			msg_error("cannot read /%s: %s", g->res.files[i].path, strerror(-err));
			return EXIT_FAILURE_;
		}
		g->changed[i] = !g->old[i] || !streq(g->old[i], g->res.files[i].text);
		g->n_changed += g->changed[i];
	}
	return 0;
}

/* the refresh commands the changed files call for, in the order they must run */
static void pick_commands(struct generate *g)
{
	bool initrd = false, boot = false;

	for (size_t i = 0; i < g->res.n_files; i++) {
		initrd |= g->changed[i] && g->res.files[i].initrd;
		boot |= g->changed[i] && g->res.files[i].boot;
	}
	if (initrd && g->res.initrd_cmd)
		g->cmds[g->n_cmds++] = g->res.initrd_cmd;
	if (g->res.grubby_cmd)
		g->cmds[g->n_cmds++] = g->res.grubby_cmd;
	else if (boot && g->res.boot_cmd)
		g->cmds[g->n_cmds++] = g->res.boot_cmd;
	for (size_t i = 0; i < ARRAY_SIZE(g->cmd_status); i++)
		g->cmd_status[i] = -1;
}

/* the changed files in [from, to) as "/a, /b", "none" if there are none; NULL if out of memory */
static char *changed_paths(const struct generate *g, size_t from, size_t to)
{
	char *text = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = from; i < to; i++)
		if (g->changed[i])
			fprintf(f, "%s/%s", n++ ? ", " : "", g->res.files[i].path);
	if (!n)
		fputs("none", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* file i failed: the ones before it are new, the ones after it old; say where the run stopped */
static void write_failed(const struct generate *g, size_t i, int err)
{
	const struct gen_file *f = &g->res.files[i];
	_cleanup_free_ char *now = NULL, *done = NULL, *todo = NULL;
	int rerr = 0;
	bool replaced;

	/* a failed directory sync comes after the rename: the new text is in place, maybe not on disk */
	now = read_or_null(g->c->root, f->path, &rerr);
	replaced = now && streq(now, f->text);
	if (replaced)
		msg_error("wrote /%s below %s, but cannot sync its directory: %s; a crash may undo it",
			  f->path, sysroot_path(g->c->root), strerror(-err));
	else
		msg_error("cannot write /%s below %s: %s%s", f->path, sysroot_path(g->c->root), strerror(-err),
			  err == -ELOOP ? " (it is a symlink; pcibind does not write through one)" : "");
	done = changed_paths(g, 0, i + replaced);
	todo = changed_paths(g, i + replaced, g->res.n_files);
	if (done && todo)
		msg_error("written: %s; not written: %s; each file has its old or its new text, never part "
			  "of one; run 'pcibind generate --write' again once fixed",
			  done, todo);
}

static int write_files(struct generate *g)
{
	for (size_t i = 0; i < g->res.n_files; i++) {
		const struct gen_file *f = &g->res.files[i];
		int err;

		if (!g->changed[i])
			continue;
		err = atomicfile_write(g->c->root, f->path, f->text, strlen(f->text), f->mode);
		if (err < 0) {
			write_failed(g, i, err);
			return EXIT_FAILURE_;
		}
		msg_info(g->c, "wrote /%s", f->path);
	}
	return 0;
}

/* a refresh command's output goes to stderr: stdout may be --json */
static void relay(void *userdata, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(2, data, len);

		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* its exit status; 124 when it did not finish in time, 127 when it could not run (why says which) */
static int run_command(const struct generate *g, const char *cmd, char *why, size_t size)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL }, what[512];
	unsigned timeout_s = g->c->timeout ? g->c->timeout : REFRESH_TIMEOUT_S;
	struct spawn s = {
		.what = what,
		.timeout_ms = timeout_s * 1000,
		.kill_on_timeout = true,
		.output = SPAWN_OUTPUT_CAPTURE,
		.on_output = relay,
	};
	struct spawn_result res;
	int err;

	snprintf(what, sizeof(what), "'%s'", cmd);
	err = spawn_program(&s, argv, &res);
	if (err < 0) {
		snprintf(why, size, "%s", res.msg);
		return err == -ETIMEDOUT ? 124 : 127;
	}
	return res.status;
}

/* run on the host; print for an image (another root) or a dry run */
static int refresh(struct generate *g)
{
	bool run = sysroot_is_host(g->c->root) && !g->c->dry_run;
	char why[512];

	for (size_t i = 0; i < g->n_cmds; i++) {
		if (!run) {
			if (!g->c->json)
				printf("%s: %s\n", g->c->dry_run ? "would run" : "run inside the system", g->cmds[i]);
			continue;
		}
		msg_info(g->c, "running: %s", g->cmds[i]);
		why[0] = '\0';
		g->cmd_status[i] = run_command(g, g->cmds[i], why, sizeof(why));
		if (why[0])
			msg_error("%s; the files are written, run it again once fixed", why);
		else if (g->cmd_status[i] != 0)
			msg_error("'%s' failed (status %d); the files are written, run it again once fixed",
				  g->cmds[i], g->cmd_status[i]);
		if (g->cmd_status[i] != 0)
			return EXIT_FAILURE_;
	}
	return 0;
}

static void print_args(const struct generate *g)
{
	printf("kernel command line (%s): ", bootloader_name(g->sys->boot));
	for (size_t i = 0; i < g->res.n_args; i++)
		printf("%s%s", i ? " " : "", g->res.args[i]);
	printf("%s\n", g->res.n_args ? "" : "(nothing to add)");
}

static int print_text(struct generate *g)
{
	for (size_t i = 0; i < g->res.n_files; i++) {
		_cleanup_free_ char *d = NULL;

		if (!g->changed[i])
			continue;
		d = gen_diff(g->res.files[i].path, g->old[i], g->res.files[i].text);
		if (!d) {
			msg_error("out of memory");
			return EXIT_FAILURE_;
		}
		fputs(d, stdout);
	}
	for (size_t i = 0; i < g->res.n_notes; i++)
		msg_info(g->c, "note: %s", g->res.notes[i]);
	if (g->c->verbosity > 0)
		print_args(g);
	if (!g->n_changed && !g->res.grubby_cmd)
		printf("no changes\n");
	else if (!g->c->write)
		for (size_t i = 0; i < g->n_cmds; i++)
			printf("after --write: %s\n", g->cmds[i]);
	return 0;
}

static void json_file(struct json *j, const struct generate *g, size_t i)
{
	_cleanup_free_ char *d = gen_diff(g->res.files[i].path, g->old[i], g->res.files[i].text);
	char path[4200];

	(void)snprintf(path, sizeof(path), "/%s", g->res.files[i].path);
	json_object_begin(j);
	json_key_string(j, "path", path);
	json_key_string(j, "action", !g->changed[i] ? "unchanged" : g->old[i] ? "change" : "create");
	json_key_bool(j, "owned", g->res.files[i].owned);
	json_key_string(j, "diff", d);
	json_object_end(j);
}

static void json_strings(struct json *j, const char *key, char *const *v, size_t n)
{
	json_key(j, key);
	json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		json_string(j, v[i]);
	json_array_end(j);
}

static void json_commands(struct json *j, const struct generate *g)
{
	json_key(j, "commands");
	json_array_begin(j);
	for (size_t i = 0; i < g->n_cmds; i++) {
		json_object_begin(j);
		json_key_string(j, "command", g->cmds[i]);
		json_key_bool(j, "run", g->cmd_status[i] >= 0);
		if (g->cmd_status[i] >= 0)
			json_key_int(j, "status", g->cmd_status[i]);
		else
			json_key_null(j, "status");
		json_object_end(j);
	}
	json_array_end(j);
}

static int print_json(struct generate *g)
{
	struct json j;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", GENERATE_SCHEMA);
	json_key_string(&j, "root", sysroot_path(g->c->root));
	json_key_bool(&j, "write", g->c->write && !g->c->dry_run);
	json_key_bool(&j, "changes", g->n_changed > 0 || g->res.grubby_cmd);
	json_key_string(&j, "bootloader", bootloader_name(g->sys->boot));
	json_key_string(&j, "initramfs", initrd_tool_name(g->sys->initrd));
	json_strings(&j, "kernel_args", g->res.args, g->res.n_args);
	json_key(&j, "files");
	json_array_begin(&j);
	for (size_t i = 0; i < g->res.n_files; i++)
		json_file(&j, g, i);
	json_array_end(&j);
	json_commands(&j, g);
	json_strings(&j, "notes", g->res.notes, g->res.n_notes);
	json_object_end(&j);
	if (json_finish(&j) < 0) {
		msg_error("cannot write the output");
		return EXIT_FAILURE_;
	}
	return 0;
}

/* what setup needs to know to say whether a reboot is due */
static void summarise(const struct generate *g, struct generate_summary *sum)
{
	*sum = (struct generate_summary){.files_changed = g->n_changed, .boot_changed = g->res.grubby_cmd != NULL};
	for (size_t i = 0; i < g->res.n_files; i++) {
		sum->boot_changed |= g->changed[i] && g->res.files[i].boot;
		sum->initrd_changed |= g->changed[i] && g->res.files[i].initrd;
	}
	for (size_t i = 0; i < g->res.n_args; i++) {
		size_t len = strlen(sum->args_missing);

		if (words_contain(g->sys->cmdline, g->res.args[i]) || len + strlen(g->res.args[i]) + 2 >= sizeof(sum->args_missing))
			continue;
		(void)snprintf(sum->args_missing + len, sizeof(sum->args_missing) - len, "%s%s", len ? " " : "",
			       g->res.args[i]);
	}
}

int generate_with_config(struct ctx *c, struct config *cfg, struct generate_summary *ret_sum)
{
	struct generate g = {.c = c, .cfg = cfg};
	int r;

	if ((r = scan(&g)) != 0 || (r = build(&g)) != 0 || (r = compare(&g)) != 0)
		goto out;
	pick_commands(&g);
	if (!c->json && (r = print_text(&g)) != 0)
		goto out;
	if (c->write && !c->dry_run && (r = write_files(&g)) != 0)
		goto out;
	if (c->write)
		r = refresh(&g);
	if (c->json && r == 0)
		r = print_json(&g);
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_FAILURE_;
	if (ret_sum)
		summarise(&g, ret_sum);
out:
	g.cfg = NULL; /* the caller's */
	generate_free(&g);
	return r;
}

static int run(struct ctx *c, int argc, char **argv)
{
	struct config *cfg = NULL;
	int r;

	if (argc > 0) {
		msg_error("generate takes no arguments (it works from the configuration); try 'pcibind generate --help'");
		return EXIT_USAGE;
	}
	if ((r = ctx_load_config(c, &cfg)) == 0)
		r = generate_with_config(c, cfg, NULL);
	config_free(cfg);
	return r;
}

const struct cmd cmd_generate = {
	.name = "generate",
	.args = "[--write]",
	.help = "persistent setup (modprobe.d, kernel command line, initramfs): a diff, or written with --write",
	.run = run,
};
