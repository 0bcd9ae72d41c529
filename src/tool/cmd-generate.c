/* cmd-generate.c - pcibind generate: the persistent setup as a diff, written with --write, taken out with --remove */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bootstate.h"
#include "cmd.h"
#include "detect.h"
#include "gen.h"
#include "json.h"
#include "modalias.h"
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
	struct bootstate state;
	struct bootstate_dirs dirs; /* the directories earlier writes made */
	struct modaliases *aliases; /* NULL: no modules.alias */
	struct gen_result res;
	char **old;	   /* per res.files: text on disk (or as an earlier entry leaves it), NULL if absent */
	bool *changed;	   /* per res.files */
	size_t n_changed;  /* files the user sees (the record is not shown) */
	size_t n_now;	   /* commands that are a change themselves */
	const char **cmds; /* the refresh commands to run, in order */
	size_t n_cmds;
	int *cmd_status; /* -1: not run */
	int lock_fd;
	unsigned flags; /* GENERATE_* */
};

static void generate_free(struct generate *g)
{
	for (size_t i = 0; g->old && i < g->res.n_files; i++)
		free(g->old[i]);
	free(g->old);
	free(g->changed);
	free(g->cmds);
	free(g->cmd_status);
	gen_result_clear(&g->res);
	bootstate_clear(&g->state);
	bootstate_dirs_clear(&g->dirs);
	modaliases_free(g->aliases);
	system_free(g->sys);
	pcihost_free(g->h);
	config_free(g->cfg);
	if (g->lock_fd >= 0)
		(void)close(g->lock_fd);
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
	int err = g->c->remove ? -ENOENT : pcihost_scan(g->c->root, &g->h);

	if (err == -ENOENT) { /* no sysfs: an image; no devices (or none needed: the way back) */
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

/* only one generate writes at a time (on the host; an image below --root has one builder) */
static int lock(struct generate *g)
{
	char msg[512];
	int r;

	if (!sysroot_is_host(g->c->root) || g->c->dry_run || (!g->c->write && !g->c->remove) ||
	    (g->flags & GENERATE_LOCKED))
		return 0;
	r = ctx_lock(g->c, g->cfg, &g->lock_fd, msg, sizeof(msg));
	if (r != 0)
		msg_error("%s", msg);
	return r;
}

static int build(struct generate *g)
{
	_cleanup_free_ char *grub = NULL, *kcmd = NULL, *kstub = NULL;
	struct gen_existing ex;
	struct gen_error e;
	char msg[512];
	int err = 0, r;

	grub = read_or_null(g->c->root, "etc/default/grub", &err);
	kcmd = read_or_null(g->c->root, "etc/kernel/cmdline", &err);
	kstub = read_or_null(g->c->root, "etc/kernelstub/configuration", &err);
	if (err < 0) {
		msg_error("cannot read the boot configuration below %s: %s", sysroot_path(g->c->root), strerror(-err));
		return EXIT_FAILURE_;
	}
	if (bootstate_dirs_load(g->c->root, &g->dirs, msg, sizeof(msg)) < 0) {
		msg_error("%s; nothing generated", msg);
		return EXIT_FAILURE_;
	}
	if (bootstate_load(g->c->root, &g->state, msg, sizeof(msg)) < 0) {
		msg_error("%s; nothing changed", msg);
		return EXIT_FAILURE_;
	}
	if (!g->c->remove && (err = detect_modaliases(g->c->root, g->sys, &g->aliases)) < 0 && err != -ENOENT) {
		msg_error("cannot read modules.alias below %s: %s", sysroot_path(g->c->root), strerror(-err));
		return EXIT_FAILURE_;
	}
	ex = (struct gen_existing){ grub, kcmd, kstub, &g->state, g->aliases };
	r = g->c->remove ? gen_remove(g->sys, &ex, &g->res, &e) : gen_build(g->cfg, g->h, g->sys, &ex, &g->res, &e);
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

/* what file i holds before it is written: an earlier entry's text (the record is written twice), or the disk's */
static int old_text(struct generate *g, size_t i)
{
	int err = 0;

	for (size_t j = i; j-- > 0;) {
		if (streq(g->res.files[j].path, g->res.files[i].path)) {
			const char *t = g->changed[j] ? g->res.files[j].text : g->old[j];

			g->old[i] = t ? strdup(t) : NULL;
			return t && !g->old[i] ? -ENOMEM : 0;
		}
	}
	g->old[i] = read_or_null(g->c->root, g->res.files[i].path, &err);
	return err;
}

static int compare(struct generate *g)
{
	g->old = calloc(g->res.n_files + 1, sizeof(*g->old));
	g->changed = calloc(g->res.n_files + 1, sizeof(*g->changed));
	if (!g->old || !g->changed) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < g->res.n_files; i++) {
		const struct gen_file *f = &g->res.files[i];
		int err = old_text(g, i);

		if (err < 0) {
			msg_error("cannot read /%s: %s", f->path, strerror(-err));
			return EXIT_FAILURE_;
		}
		if (!f->text && g->old[i] && f->owned && !gen_is_ours(g->old[i])) {
			msg_warn("/%s was not written by pcibind (no \"generated by pcibind\" line): left alone",
				 f->path);
			continue;
		}
		g->changed[i] = !streq_null(g->old[i], f->text);
		g->n_changed += g->changed[i] && !f->state;
	}
	for (size_t i = 0; i < g->res.n_cmds; i++)
		g->n_now += g->res.cmds[i].when == GEN_NOW;
	return 0;
}

/* the refresh commands the changed files call for, in the order they must run */
static int pick_commands(struct generate *g)
{
	bool initrd = false, boot = false;

	for (size_t i = 0; i < g->res.n_files; i++) {
		initrd |= g->changed[i] && g->res.files[i].initrd;
		boot |= g->changed[i] && g->res.files[i].boot;
	}
	g->cmds = calloc(g->res.n_cmds + 1, sizeof(*g->cmds));
	g->cmd_status = calloc(g->res.n_cmds + 1, sizeof(*g->cmd_status));
	if (!g->cmds || !g->cmd_status) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < g->res.n_cmds; i++) {
		const struct gen_cmd *k = &g->res.cmds[i];

		if (k->when == GEN_AFTER_INITRD && initrd && g->c->no_initramfs)
			msg_info(g->c, "left to the caller (--no-initramfs): %s", k->cmd);
		else if (k->when == GEN_NOW || (k->when == GEN_AFTER_INITRD && initrd) ||
			 (k->when == GEN_AFTER_BOOT && boot))
			g->cmds[g->n_cmds++] = k->cmd;
	}
	for (size_t i = 0; i < g->n_cmds; i++)
		g->cmd_status[i] = -1;
	return 0;
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
	replaced = f->text ? now && streq(now, f->text) : !now && rerr == 0;
	if (replaced)
		msg_error("%s /%s below %s, but cannot sync its directory: %s; a crash may undo it",
			  f->text ? "wrote" : "removed", f->path, sysroot_path(g->c->root), strerror(-err));
	else
		msg_error("cannot %s /%s below %s: %s%s", f->text ? "write" : "remove", f->path,
			  sysroot_path(g->c->root), strerror(-err),
			  err == -ELOOP ? " (a symlink, there or on the way; pcibind does not write through one)" : "");
	done = changed_paths(g, 0, i + replaced);
	todo = changed_paths(g, i + replaced, g->res.n_files);
	if (done && todo)
		msg_error("written: %s; not written: %s; each file has its old or its new text, never part "
			  "of one; run 'pcibind generate %s' again once fixed",
			  done, todo, g->c->remove ? "--remove" : "--write");
}

/* one more file in the result, at index at: pcibind's record of the directories --write made */
static int add_dirs_file(struct generate *g, size_t at, char *text)
{
	struct gen_file *n = realloc(g->res.files, (g->res.n_files + 1) * sizeof(*n));
	char *path = strdup(BOOTSTATE_DIRS_FILE);

	if (n)
		g->res.files = n;
	if (!n || !path) {
		free(path);
		free(text);
		return -ENOMEM;
	}
	memmove(&n[at + 1], &n[at], (g->res.n_files - at) * sizeof(*n));
	n[at] = (struct gen_file){ .path = path, .text = text, .mode = 0644, .state = true, .prune = BOOTSTATE_DIR };
	g->res.n_files++;
	return 0;
}

/*
 * The directories a file of --write needs and the root lacks, recorded
 * before any file is written (a run killed half-way still leaves them known);
 * --remove drops the record last, and the directories it names with it
 * (remove_made_dirs).
 */
static int plan_dirs(struct generate *g)
{
	size_t before = g->dirs.n;
	char *text;
	int err = 0;

	if (g->c->remove)
		return g->dirs.n ? add_dirs_file(g, g->res.n_files, NULL) : 0;
	for (size_t i = 0; i < g->res.n_files && err == 0; i++) {
		const char *path = g->res.files[i].path;
		char dir[BOOTSTATE_PATH_MAX];

		if (!g->res.files[i].text)
			continue;
		for (const char *s = strchr(path, '/'); s && err == 0; s = strchr(s + 1, '/')) {
			size_t len = (size_t)(s - path);

			if (len >= sizeof(dir))
				break;
			memcpy(dir, path, len);
			dir[len] = '\0';
			/*
			 * BOOTSTATE_DIR is pcibind's own, pruned with its last file; var and
			 * var/lib above it the system's (the record cannot list what it is
			 * written into)
			 */
			if (strncmp(BOOTSTATE_DIR, dir, len) == 0 && (BOOTSTATE_DIR[len] == '/' || !BOOTSTATE_DIR[len]))
				continue;
			if (sysroot_exists(g->c->root, dir) == -ENOENT)
				err = bootstate_dirs_add(&g->dirs, dir);
		}
	}
	if (err == 0 && g->dirs.n > before)
		err = (text = bootstate_dirs_format(&g->dirs)) ? add_dirs_file(g, 0, text) : -ENOMEM;
	return err;
}

static int plan(struct generate *g)
{
	int err = plan_dirs(g);

	if (err < 0)
		msg_error("cannot plan the record of the directories it makes: %s", strerror(-err));
	return err < 0 ? EXIT_FAILURE_ : 0;
}

/* after --remove: the directories --write made, deepest first, where they are empty (else now the user's) */
static void remove_made_dirs(struct generate *g, bool act)
{
	for (size_t n = g->dirs.n; n-- > 0;) {
		size_t deepest = 0;

		for (size_t i = 1; i <= n; i++)
			if (strlen(g->dirs.paths[i]) > strlen(g->dirs.paths[deepest]))
				deepest = i;
		if (!act) {
			if (!g->c->json && !(g->flags & GENERATE_NO_STDOUT))
				printf("would remove /%s if empty (generate --write made it)\n",
				       g->dirs.paths[deepest]);
		} else if (sysroot_rmdir(g->c->root, g->dirs.paths[deepest]) == 0) {
			msg_info(g->c, "removed /%s (generate --write made it; now empty)", g->dirs.paths[deepest]);
		}
		free(g->dirs.paths[deepest]);
		g->dirs.paths[deepest] = g->dirs.paths[n];
		g->dirs.paths[n] = NULL;
	}
	g->dirs.n = 0;
}

/* the way back: what a killed --write left beside the files it did not get to (nothing writes them again) */
static void sweep_temps(const struct generate *g)
{
	for (size_t i = 0; i < g->res.n_files; i++)
		if (!g->res.files[i].text && !g->changed[i])
			(void)atomicfile_sweep(g->c->root, g->res.files[i].path);
	/* the records, whether this run knew of them or not */
	(void)atomicfile_sweep(g->c->root, BOOTSTATE_DIRS_FILE);
	(void)atomicfile_sweep(g->c->root, BOOTSTATE_FILE);
}

static int write_files(struct generate *g)
{
	for (size_t i = 0; i < g->res.n_files; i++) {
		const struct gen_file *f = &g->res.files[i];
		int err;

		if (!g->changed[i])
			continue;
		if (f->text)
			err = atomicfile_write(g->c->root, f->path, f->text, strlen(f->text), f->mode);
		else
			err = atomicfile_remove(g->c->root, f->path, f->prune);
		if (err < 0) {
			write_failed(g, i, err);
			return EXIT_FAILURE_;
		}
		if (!f->state)
			msg_info(g->c, "%s /%s", f->text ? "wrote" : "removed", f->path);
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
		.forward_stop = true,
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
			if (!g->c->json && !(g->flags & GENERATE_NO_STDOUT))
				printf("%s: %s\n", g->c->dry_run ? "would run" : "run inside the system", g->cmds[i]);
			continue;
		}
		msg_info(g->c, "running: %s", g->cmds[i]);
		why[0] = '\0';
		g->cmd_status[i] = run_command(g, g->cmds[i], why, sizeof(why));
		if (why[0])
			msg_error("%s; the files are written, run it again once fixed", why);
		else if (g->cmd_status[i] != 0)
			msg_error("'%s' failed (status %d); the files are written, run it again once fixed", g->cmds[i],
				  g->cmd_status[i]);
		if (g->cmd_status[i] != 0)
			return EXIT_FAILURE_;
	}
	return 0;
}

/* a hazard stops --write unless forced; the diff alone only warns */
static int hazards(struct generate *g)
{
	bool acting = (g->c->write || g->c->remove) && !g->c->dry_run;

	if (!acting && g->c->force && (g->flags & GENERATE_NO_DIFF))
		return 0; /* a caller's silent look ahead: the run that writes says it */
	for (size_t i = 0; i < g->res.n_hazards; i++) {
		if (acting && !g->c->force)
			msg_error("%s", g->res.hazards[i]);
		else
			msg_warn("%s%s", g->res.hazards[i], g->c->force ? " (--force: written anyway)" : "");
	}
	if (!g->res.n_hazards || g->c->force)
		return 0;
	if (acting) {
		msg_error("refused, nothing written: take the driver out of blacklist, give the function a set "
			  "with boot = yes, or run again with --force");
		return EXIT_REFUSED;
	}
	msg_warn("`pcibind generate --write` refuses this without --force");
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
	for (size_t i = 0; !(g->flags & GENERATE_NO_DIFF) && i < g->res.n_files; i++) {
		_cleanup_free_ char *d = NULL;

		if (!g->changed[i] || g->res.files[i].state)
			continue;
		d = gen_diff(g->res.files[i].path, g->old[i], g->res.files[i].text);
		if (!d) {
			msg_error("out of memory");
			return EXIT_FAILURE_;
		}
		fputs(d, stdout);
	}
	for (size_t i = 0; !(g->flags & GENERATE_NO_DIFF) && i < g->res.n_notes; i++)
		msg_info(g->c, "note: %s", g->res.notes[i]);
	if (g->c->verbosity > 0 && !g->c->remove)
		print_args(g);
	if (g->flags & GENERATE_NO_SUMMARY)
		;
	else if (!g->n_changed && !g->n_now)
		printf("no changes\n");
	else if (!g->c->write && !g->c->remove)
		for (size_t i = 0; i < g->n_cmds; i++)
			printf("after --write: %s\n", g->cmds[i]);
	return 0;
}

static void json_file(struct json *j, const struct generate *g, size_t i)
{
	const struct gen_file *f = &g->res.files[i];
	_cleanup_free_ char *d = gen_diff(f->path, g->old[i], f->text);
	char path[4200];

	(void)snprintf(path, sizeof(path), "/%s", f->path);
	json_object_begin(j);
	json_key_string(j, "path", path);
	json_key_string(j, "action",
			!g->changed[i] ? "unchanged"
			: !f->text     ? "remove"
			: g->old[i]    ? "change"
				       : "create");
	json_key_bool(j, "owned", f->owned || f->state);
	json_key_bool(j, "record", f->state);
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
	json_key_bool(&j, "write", (g->c->write || g->c->remove) && !g->c->dry_run);
	json_key_bool(&j, "remove", g->c->remove);
	json_key_bool(&j, "changes", g->n_changed > 0 || g->n_now > 0);
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
	json_strings(&j, "hazards", g->res.hazards, g->res.n_hazards);
	json_object_end(&j);
	if (json_finish(&j) < 0) {
		msg_error("cannot write the output");
		return EXIT_FAILURE_;
	}
	return 0;
}

void generate_summary_free(struct generate_summary *sum)
{
	for (size_t i = 0; sum && i < sum->n_files; i++) {
		free(sum->files[i].path);
		free(sum->files[i].diff);
	}
	if (sum)
		free(sum->files);
}

/* each changed file's path, action and diff (setup --json); on ENOMEM the list is short, never wrong */
static void summarise_files(const struct generate *g, struct generate_summary *sum)
{
	sum->files = calloc(g->res.n_files ? g->res.n_files : 1, sizeof(*sum->files));
	for (size_t i = 0; sum->files && i < g->res.n_files; i++) {
		const struct gen_file *f = &g->res.files[i];
		struct generate_file_change *fc = &sum->files[sum->n_files];

		if (!g->changed[i] || f->state)
			continue;
		fc->diff = gen_diff(f->path, g->old[i], f->text);
		if (!fc->diff || asprintf(&fc->path, "/%s", f->path) < 0) {
			free(fc->diff);
			*fc = (struct generate_file_change){ 0 };
			break;
		}
		fc->action = !f->text ? "remove" : g->old[i] ? "change" : "create";
		sum->n_files++;
	}
}

/* what setup needs to know to say whether a reboot is due */
static void summarise(const struct generate *g, struct generate_summary *sum)
{
	bool initrd_tool = false;

	generate_summary_free(sum);
	*sum = (struct generate_summary){ .files_changed = g->n_changed,
					  .boot_changed = g->n_now > 0,
					  .n_commands = g->n_cmds,
					  .n_hazards = g->res.n_hazards };
	summarise_files(g, sum);
	for (size_t i = 0; i < g->n_cmds && i < ARRAY_SIZE(sum->commands); i++) {
		(void)snprintf(sum->commands[i], sizeof(sum->commands[i]), "%s", g->cmds[i]);
		sum->command_status[i] = g->cmd_status[i];
	}
	/* only an initramfs tool makes an image of them; without one the root fs has them at boot */
	for (size_t i = 0; i < g->res.n_cmds; i++)
		initrd_tool |= g->res.cmds[i].when == GEN_AFTER_INITRD;
	for (size_t i = 0; i < g->res.n_files; i++) {
		if (!g->changed[i] || g->res.files[i].state)
			continue;
		sum->boot_changed |= g->res.files[i].boot;
		sum->initrd_changed |= g->res.files[i].initrd && initrd_tool;
	}
	for (size_t i = 0; i < g->res.n_args; i++) {
		size_t len = strlen(sum->args_missing);

		if (words_contain(g->sys->cmdline, g->res.args[i]) ||
		    len + strlen(g->res.args[i]) + 2 >= sizeof(sum->args_missing))
			continue;
		(void)snprintf(sum->args_missing + len, sizeof(sum->args_missing) - len, "%s%s", len ? " " : "",
			       g->res.args[i]);
	}
}

int generate_with_config(struct ctx *c, struct config *cfg, unsigned flags, struct generate_summary *ret_sum)
{
	struct generate g = { .c = c, .cfg = cfg, .lock_fd = -1, .flags = flags };
	bool out = !(flags & GENERATE_NO_STDOUT);
	bool act = (c->write || c->remove) && !c->dry_run;
	int r;

	if ((r = lock(&g)) != 0 || (r = scan(&g)) != 0 || (r = build(&g)) != 0 || (r = plan(&g)) != 0 ||
	    (r = compare(&g)) != 0 || (r = pick_commands(&g)) != 0 || (r = hazards(&g)) != 0)
		goto out;
	if (!c->json && out && (r = print_text(&g)) != 0)
		goto out;
	if (act && (r = write_files(&g)) != 0)
		goto out;
	if (c->remove && act)
		sweep_temps(&g);
	if (c->remove)
		remove_made_dirs(&g, act);
	if (c->remove && act)
		(void)sysroot_rmdir(c->root, BOOTSTATE_DIR); /* pcibind's own: gone once empty */
	if (c->write || c->remove)
		r = refresh(&g);
	if (c->json && out && r == 0)
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
	int r = 0;

	if (argc > 0) {
		msg_error(
		    "generate takes no arguments (it works from the configuration); try 'pcibind generate --help'");
		return EXIT_USAGE;
	}
	/* the way back needs no configuration: a broken or missing one must not keep the setup in place */
	if (c->remove && !(cfg = config_new())) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	if (cfg || (r = ctx_load_config(c, &cfg)) == 0)
		r = generate_with_config(c, cfg, 0, NULL);
	config_free(cfg);
	return r;
}

const struct cmd cmd_generate = {
	.name = "generate",
	.args = "[--write | --remove]",
	.help = "persistent setup (modprobe.d, kernel command line, initramfs): a diff; --remove takes it out",
	.run = run,
};
