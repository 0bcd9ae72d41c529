/* bootcfg.c - the boot-config layer: load, build, compare, write, refresh and remove, walking the method tables */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bootcfg.h"
#include "bootops.h"
#include "modalias.h"
#include "spawn.h"

static void _printf_(3, 4) say(const struct bootcfg *bc, enum bootcfg_level level, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int n;

	if (!bc->o.say)
		return;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n >= 0)
		bc->o.say(bc->o.userdata, level, text);
}

static char *read_or_null(const struct sysroot *r, const char *rel, int *ret_err)
{
	char *text = NULL;
	int err = sysroot_read(r, rel, &text, NULL);

	if (err < 0 && err != -ENOENT)
		*ret_err = err;
	return err < 0 ? NULL : text;
}

/* ---- loading ---- */

/*
 * Each file a bootloader method edits in place, once (two methods may edit
 * the same one), read below r: strict, the last read error in *ret_err.
 */
static int read_edited(const struct sysroot *r, struct bootcfg_existing *e, int *ret_err)
{
	size_t n = 0;

	for (const struct boot_ops *const *m = boot_methods; *m; m++) {
		const char *path = (*m)->cmdline ? (*m)->cmdline->path : NULL;
		bool seen = false;

		for (size_t i = 0; path && i < n; i++)
			seen |= streq(e->ex.edited[i].path, path);
		if (!path || seen)
			continue;
		if (n >= GEN_EDITED_MAX)
			return -E2BIG;
		e->texts[n] = read_or_null(r, path, ret_err);
		e->ex.edited[n] = (struct gen_text){ path, e->texts[n] };
		n++;
	}
	return 0;
}

int bootcfg_existing_read(const struct sysroot *r, const struct system *sys, struct bootcfg_existing *ret, char *msg,
			  size_t size)
{
	int err = 0;

	*ret = (struct bootcfg_existing){ 0 };
	if (read_edited(r, ret, &err) < 0) {
		(void)snprintf(msg, size, "too many files to edit in place");
		return -E2BIG;
	}
	if ((err = bootstate_load(r, &ret->state, msg, size)) < 0) {
		bootcfg_existing_clear(ret);
		return err;
	}
	(void)detect_modaliases(r, sys, &ret->aliases); /* none: the softdeps of the bound drivers */
	ret->ex.state = &ret->state;
	ret->ex.aliases = ret->aliases;
	return 0;
}

void bootcfg_existing_clear(struct bootcfg_existing *e)
{
	for (size_t i = 0; i < GEN_EDITED_MAX; i++)
		free(e->texts[i]);
	bootstate_clear(&e->state);
	modaliases_free(e->aliases);
	*e = (struct bootcfg_existing){ 0 };
}

void bootcfg_free(struct bootcfg *bc)
{
	if (!bc)
		return;
	for (size_t i = 0; bc->old && i < bc->res.n_files; i++)
		free(bc->old[i]);
	free(bc->old);
	free(bc->changed);
	free(bc->cmds);
	free(bc->cmd_status);
	gen_result_clear(&bc->res);
	bootcfg_existing_clear(&bc->cur);
	bootstate_dirs_clear(&bc->dirs);
	system_free(bc->sys);
	pcihost_free(bc->h);
	free(bc);
}

static int scan(struct bootcfg *bc)
{
	const struct sysroot *r = bc->o.root;
	int err = bc->o.remove ? -ENOENT : pcihost_scan(r, &bc->h);

	if (err == -ENOENT) { /* no sysfs: an image; no devices (or none needed: the way back) */
		bc->h = calloc(1, sizeof(*bc->h));
		err = bc->h ? 0 : -ENOMEM;
	}
	if (err < 0) {
		say(bc, BOOTCFG_ERROR, "cannot read the PCI functions below %s: %s", sysroot_path(r), strerror(-err));
		return err;
	}
	err = detect_system(r, &bc->sys);
	if (err < 0)
		say(bc, BOOTCFG_ERROR, "cannot inspect the system below %s: %s", sysroot_path(r), strerror(-err));
	return err;
}

/* what the build starts from, strictly: a file that cannot be read stops the run */
static int load(struct bootcfg *bc)
{
	const struct sysroot *r = bc->o.root;
	struct bootcfg_existing *e = &bc->cur;
	char msg[512];
	int err = 0;

	if (read_edited(r, e, &err) < 0 || err < 0) {
		say(bc, BOOTCFG_ERROR, "cannot read the boot configuration below %s: %s", sysroot_path(r),
		    strerror(err < 0 ? -err : E2BIG));
		return err < 0 ? err : -E2BIG;
	}
	if ((err = bootstate_dirs_load(r, &bc->dirs, msg, sizeof(msg))) < 0) {
		say(bc, BOOTCFG_ERROR, "%s; nothing generated", msg);
		return err;
	}
	if ((err = bootstate_load(r, &e->state, msg, sizeof(msg))) < 0) {
		say(bc, BOOTCFG_ERROR, "%s; nothing changed", msg);
		return err;
	}
	if (!bc->o.remove && (err = detect_modaliases(r, bc->sys, &e->aliases)) < 0 && err != -ENOENT) {
		say(bc, BOOTCFG_ERROR, "cannot read modules.alias below %s: %s", sysroot_path(r), strerror(-err));
		return err;
	}
	e->ex.state = &e->state;
	e->ex.aliases = e->aliases;
	return 0;
}

static int build(struct bootcfg *bc, const struct config *cfg)
{
	struct gen_error e;
	int r = bc->o.remove ? gen_remove(bc->sys, &bc->cur.ex, &bc->res, &e)
			     : gen_build(cfg, bc->h, bc->sys, &bc->cur.ex, &bc->res, &e);

	if (r == -EINVAL) {
		say(bc, BOOTCFG_ERROR, "%s; nothing generated", e.msg);
		return BOOTCFG_BAD_CONFIG;
	}
	if (r < 0)
		say(bc, BOOTCFG_ERROR, "cannot generate: %s", strerror(-r));
	return r;
}

/* ---- the record of the directories --write makes ---- */

/* one more file in the result, at index at: pcibind's record of the directories --write made */
static int add_dirs_file(struct bootcfg *bc, size_t at, char *text)
{
	struct gen_file *n = realloc(bc->res.files, (bc->res.n_files + 1) * sizeof(*n));
	char *path = strdup(BOOTSTATE_DIRS_FILE);

	if (n)
		bc->res.files = n;
	if (!n || !path) {
		free(path);
		free(text);
		return -ENOMEM;
	}
	memmove(&n[at + 1], &n[at], (bc->res.n_files - at) * sizeof(*n));
	n[at] = (struct gen_file){ .path = path, .text = text, .mode = 0644, .state = true, .prune = BOOTSTATE_DIR };
	bc->res.n_files++;
	return 0;
}

/* the directories path needs and the root lacks, added to the record */
static int record_dirs_of(struct bootcfg *bc, const char *path)
{
	char dir[BOOTSTATE_PATH_MAX];
	int err = 0;

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
		if (sysroot_exists(bc->o.root, dir) == -ENOENT)
			err = bootstate_dirs_add(&bc->dirs, dir);
	}
	return err;
}

/* the way back visits the made directories deepest first (each one's parent after it) */
static void order_dirs(struct bootcfg *bc)
{
	char *sorted[BOOTSTATE_DIRS_MAX];
	size_t k = 0;

	for (size_t n = bc->dirs.n; n-- > 0;) {
		size_t deepest = 0;

		for (size_t i = 1; i <= n; i++)
			if (strlen(bc->dirs.paths[i]) > strlen(bc->dirs.paths[deepest]))
				deepest = i;
		sorted[k++] = bc->dirs.paths[deepest];
		bc->dirs.paths[deepest] = bc->dirs.paths[n];
		bc->dirs.paths[n] = NULL;
	}
	memcpy(bc->dirs.paths, sorted, k * sizeof(*sorted));
}

/*
 * The directories a file of --write needs and the root lacks, recorded
 * before any file is written (a run killed half-way still leaves them known);
 * --remove drops the record last, and the directories it names with it.
 */
static int plan_dirs(struct bootcfg *bc)
{
	size_t before = bc->dirs.n;
	char *text;
	int err = 0;

	if (bc->o.remove) {
		order_dirs(bc);
		err = bc->dirs.n ? add_dirs_file(bc, bc->res.n_files, NULL) : 0;
	}
	for (size_t i = 0; !bc->o.remove && i < bc->res.n_files && err == 0; i++)
		if (bc->res.files[i].text)
			err = record_dirs_of(bc, bc->res.files[i].path);
	if (!bc->o.remove && err == 0 && bc->dirs.n > before)
		err = (text = bootstate_dirs_format(&bc->dirs)) ? add_dirs_file(bc, 0, text) : -ENOMEM;
	if (err < 0)
		say(bc, BOOTCFG_ERROR, "cannot plan the record of the directories it makes: %s", strerror(-err));
	return err;
}

/* ---- against the disk ---- */

/* what file i holds before it is written: an earlier entry's text (the record is written twice), or the disk's */
static int old_text(struct bootcfg *bc, size_t i)
{
	int err = 0;

	for (size_t j = i; j-- > 0;) {
		if (streq(bc->res.files[j].path, bc->res.files[i].path)) {
			const char *t = bc->changed[j] ? bc->res.files[j].text : bc->old[j];

			bc->old[i] = t ? strdup(t) : NULL;
			return t && !bc->old[i] ? -ENOMEM : 0;
		}
	}
	bc->old[i] = read_or_null(bc->o.root, bc->res.files[i].path, &err);
	return err;
}

static int compare(struct bootcfg *bc)
{
	bc->old = calloc(bc->res.n_files + 1, sizeof(*bc->old));
	bc->changed = calloc(bc->res.n_files + 1, sizeof(*bc->changed));
	if (!bc->old || !bc->changed) {
		say(bc, BOOTCFG_ERROR, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < bc->res.n_files; i++) {
		const struct gen_file *f = &bc->res.files[i];
		int err = old_text(bc, i);

		if (err < 0) {
			say(bc, BOOTCFG_ERROR, "cannot read /%s: %s", f->path, strerror(-err));
			return err;
		}
		if (!f->text && bc->old[i] && f->owned && !gen_is_ours(bc->old[i])) {
			say(bc, BOOTCFG_WARN,
			    "/%s was not written by pcibind (no \"generated by pcibind\" line): left alone", f->path);
			continue;
		}
		bc->changed[i] = !streq_null(bc->old[i], f->text);
		bc->n_changed += bc->changed[i] && !f->state;
	}
	for (size_t i = 0; i < bc->res.n_cmds; i++)
		bc->n_now += bc->res.cmds[i].when == GEN_NOW;
	return 0;
}

/* the refresh commands the changed files call for, in the order they must run */
static int pick_commands(struct bootcfg *bc)
{
	bool initrd = false, boot = false;

	for (size_t i = 0; i < bc->res.n_files; i++) {
		initrd |= bc->changed[i] && bc->res.files[i].initrd;
		boot |= bc->changed[i] && bc->res.files[i].boot;
	}
	bc->cmds = calloc(bc->res.n_cmds + 1, sizeof(*bc->cmds));
	bc->cmd_status = calloc(bc->res.n_cmds + 1, sizeof(*bc->cmd_status));
	if (!bc->cmds || !bc->cmd_status) {
		say(bc, BOOTCFG_ERROR, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < bc->res.n_cmds; i++) {
		const struct gen_cmd *k = &bc->res.cmds[i];

		if (k->when == GEN_AFTER_INITRD && initrd && bc->o.no_initramfs)
			say(bc, BOOTCFG_INFO, "left to the caller (--no-initramfs): %s", k->cmd);
		else if (k->when == GEN_NOW || (k->when == GEN_AFTER_INITRD && initrd) ||
			 (k->when == GEN_AFTER_BOOT && boot))
			bc->cmds[bc->n_cmds++] = k->cmd;
	}
	for (size_t i = 0; i < bc->n_cmds; i++)
		bc->cmd_status[i] = -1;
	return 0;
}

int bootcfg_build(const struct bootcfg_opts *o, const struct config *cfg, struct bootcfg **ret)
{
	struct bootcfg *bc = calloc(1, sizeof(*bc));
	int r;

	if (!bc) {
		if (o->say)
			o->say(o->userdata, BOOTCFG_ERROR, "out of memory");
		return -ENOMEM;
	}
	bc->o = *o;
	if ((r = scan(bc)) != 0 || (r = load(bc)) != 0 || (r = build(bc, cfg)) != 0 || (r = plan_dirs(bc)) != 0 ||
	    (r = compare(bc)) != 0 || (r = pick_commands(bc)) != 0) {
		bootcfg_free(bc);
		return r;
	}
	*ret = bc;
	return 0;
}

/* ---- writing ---- */

/* the changed files in [from, to) as "/a, /b", "none" if there are none; NULL if out of memory */
static char *changed_paths(const struct bootcfg *bc, size_t from, size_t to)
{
	char *text = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = from; i < to; i++)
		if (bc->changed[i])
			fprintf(f, "%s/%s", n++ ? ", " : "", bc->res.files[i].path);
	if (!n)
		fputs("none", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* file i failed: the ones before it are new, the ones after it old; say where the run stopped */
static void write_failed(const struct bootcfg *bc, size_t i, int err)
{
	const struct gen_file *f = &bc->res.files[i];
	const char *root = sysroot_path(bc->o.root);
	_cleanup_free_ char *now = NULL, *done = NULL, *todo = NULL;
	int rerr = 0;
	bool replaced;

	/* a failed directory sync comes after the rename: the new text is in place, maybe not on disk */
	now = read_or_null(bc->o.root, f->path, &rerr);
	replaced = f->text ? now && streq(now, f->text) : !now && rerr == 0;
	if (replaced)
		say(bc, BOOTCFG_ERROR, "%s /%s below %s, but cannot sync its directory: %s; a crash may undo it",
		    f->text ? "wrote" : "removed", f->path, root, strerror(-err));
	else
		say(bc, BOOTCFG_ERROR, "cannot %s /%s below %s: %s%s", f->text ? "write" : "remove", f->path, root,
		    strerror(-err),
		    err == -ELOOP ? " (a symlink, there or on the way; pcibind does not write through one)" : "");
	done = changed_paths(bc, 0, i + replaced);
	todo = changed_paths(bc, i + replaced, bc->res.n_files);
	if (done && todo)
		say(bc, BOOTCFG_ERROR,
		    "written: %s; not written: %s; each file has its old or its new text, never part of one; run "
		    "'pcibind generate %s' again once fixed",
		    done, todo, bc->o.remove ? "--remove" : "--write");
}

static int write_files(struct bootcfg *bc)
{
	for (size_t i = 0; i < bc->res.n_files; i++) {
		const struct gen_file *f = &bc->res.files[i];
		int err;

		if (!bc->changed[i])
			continue;
		if (f->text)
			err = atomicfile_write(bc->o.root, f->path, f->text, strlen(f->text), f->mode);
		else
			err = atomicfile_remove(bc->o.root, f->path, f->prune);
		if (err < 0) {
			write_failed(bc, i, err);
			return err;
		}
		if (!f->state)
			say(bc, BOOTCFG_INFO, "%s /%s", f->text ? "wrote" : "removed", f->path);
	}
	return 0;
}

/* the way back: what a killed --write left beside the files it did not get to (nothing writes them again) */
static void sweep_temps(const struct bootcfg *bc)
{
	for (size_t i = 0; i < bc->res.n_files; i++)
		if (!bc->res.files[i].text && !bc->changed[i])
			(void)atomicfile_sweep(bc->o.root, bc->res.files[i].path);
	/* the records, whether this run knew of them or not */
	(void)atomicfile_sweep(bc->o.root, BOOTSTATE_DIRS_FILE);
	(void)atomicfile_sweep(bc->o.root, BOOTSTATE_FILE);
}

/* after --remove: the directories --write made, deepest first, where they are empty (else now the user's) */
static void remove_made_dirs(struct bootcfg *bc)
{
	for (size_t i = 0; i < bc->dirs.n; i++)
		if (sysroot_rmdir(bc->o.root, bc->dirs.paths[i]) == 0)
			say(bc, BOOTCFG_INFO, "removed /%s (generate --write made it; now empty)", bc->dirs.paths[i]);
	bootstate_dirs_clear(&bc->dirs);
}

int bootcfg_write(struct bootcfg *bc, bool force)
{
	int err;

	if (bc->res.n_hazards && !force)
		return -EPERM;
	if ((err = write_files(bc)) < 0)
		return err;
	if (bc->o.remove) {
		sweep_temps(bc);
		remove_made_dirs(bc);
		(void)sysroot_rmdir(bc->o.root, BOOTSTATE_DIR); /* pcibind's own: gone once empty */
	}
	return 0;
}

/* ---- refreshing ---- */

static void relay(void *userdata, const char *data, size_t len)
{
	const struct bootcfg *bc = userdata;

	if (bc->o.output)
		bc->o.output(bc->o.userdata, data, len);
}

/* its exit status; 124 when it did not finish in time, 127 when it could not run (why says which) */
static int run_command(const struct bootcfg *bc, const char *cmd, char *why, size_t size)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL }, what[512];
	unsigned timeout_s = bc->o.timeout ? bc->o.timeout : BOOTCFG_REFRESH_TIMEOUT_S;
	struct spawn s = {
		.what = what,
		.timeout_ms = timeout_s * 1000,
		.kill_on_timeout = true,
		.forward_stop = true,
		.output = SPAWN_OUTPUT_CAPTURE,
		.on_output = relay,
		.userdata = (void *)bc,
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

int bootcfg_refresh(struct bootcfg *bc)
{
	char why[512];

	if (!sysroot_is_host(bc->o.root))
		return -EPERM;
	for (size_t i = 0; i < bc->n_cmds; i++) {
		say(bc, BOOTCFG_INFO, "running: %s", bc->cmds[i]);
		why[0] = '\0';
		bc->cmd_status[i] = run_command(bc, bc->cmds[i], why, sizeof(why));
		if (why[0])
			say(bc, BOOTCFG_ERROR, "%s; the files are written, run it again once fixed", why);
		else if (bc->cmd_status[i] != 0)
			say(bc, BOOTCFG_ERROR,
			    "'%s' failed (status %d); the files are written, run it again once fixed", bc->cmds[i],
			    bc->cmd_status[i]);
		if (bc->cmd_status[i] != 0)
			return -EIO;
	}
	return 0;
}

/* ---- the summary ---- */

void bootcfg_summary_free(struct bootcfg_summary *sum)
{
	for (size_t i = 0; sum && i < sum->n_files; i++) {
		free(sum->files[i].path);
		free(sum->files[i].diff);
	}
	if (sum)
		free(sum->files);
}

/* each changed file's path, action and diff; on ENOMEM the list is short, never wrong */
static void summarise_files(const struct bootcfg *bc, struct bootcfg_summary *sum)
{
	sum->files = calloc(bc->res.n_files ? bc->res.n_files : 1, sizeof(*sum->files));
	for (size_t i = 0; sum->files && i < bc->res.n_files; i++) {
		const struct gen_file *f = &bc->res.files[i];
		struct bootcfg_file_change *fc = &sum->files[sum->n_files];

		if (!bc->changed[i] || f->state)
			continue;
		fc->diff = gen_diff(f->path, bc->old[i], f->text);
		if (!fc->diff || asprintf(&fc->path, "/%s", f->path) < 0) {
			free(fc->diff);
			*fc = (struct bootcfg_file_change){ 0 };
			break;
		}
		fc->action = !f->text ? "remove" : bc->old[i] ? "change" : "create";
		sum->n_files++;
	}
}

static void summarise_args(const struct bootcfg *bc, struct bootcfg_summary *sum)
{
	for (size_t i = 0; i < bc->res.n_args; i++) {
		size_t len = strlen(sum->args_missing);

		if (words_contain(bc->sys->cmdline, bc->res.args[i]) ||
		    len + strlen(bc->res.args[i]) + 2 >= sizeof(sum->args_missing))
			continue;
		(void)snprintf(sum->args_missing + len, sizeof(sum->args_missing) - len, "%s%s", len ? " " : "",
			       bc->res.args[i]);
	}
}

void bootcfg_summarise(const struct bootcfg *bc, struct bootcfg_summary *sum)
{
	bool initrd_tool = false;

	bootcfg_summary_free(sum);
	*sum = (struct bootcfg_summary){ .files_changed = bc->n_changed,
					 .boot_changed = bc->n_now > 0,
					 .n_commands = bc->n_cmds,
					 .n_hazards = bc->res.n_hazards };
	summarise_files(bc, sum);
	for (size_t i = 0; i < bc->n_cmds && i < ARRAY_SIZE(sum->commands); i++) {
		(void)snprintf(sum->commands[i], sizeof(sum->commands[i]), "%s", bc->cmds[i]);
		sum->command_status[i] = bc->cmd_status[i];
	}
	/* only an initramfs tool makes an image of them; without one the root fs has them at boot */
	for (size_t i = 0; i < bc->res.n_cmds; i++)
		initrd_tool |= bc->res.cmds[i].when == GEN_AFTER_INITRD;
	for (size_t i = 0; i < bc->res.n_files; i++) {
		if (!bc->changed[i] || bc->res.files[i].state)
			continue;
		sum->boot_changed |= bc->res.files[i].boot;
		sum->initrd_changed |= bc->res.files[i].initrd && initrd_tool;
	}
	summarise_args(bc, sum);
}
