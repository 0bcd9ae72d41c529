/* cmd-generate.c - pcibind generate: the persistent setup as a diff, written with --write, taken out with --remove */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootcfg.h"
#include "cmd.h"
#include "detect.h"
#include "gen.h"
#include "json.h"

#define GENERATE_SCHEMA 1

/* the layer's messages, as every command says them */
static void say(void *userdata, enum bootcfg_level level, const char *text)
{
	const struct ctx *c = userdata;

	if (level == BOOTCFG_ERROR)
		msg_error("%s", text);
	else if (level == BOOTCFG_WARN)
		msg_warn("%s", text);
	else
		msg_info(c, "%s", text);
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

int generate_build(const struct ctx *c, const struct config *cfg, bool remove, struct bootcfg **ret)
{
	struct bootcfg_opts o = {
		.root = c->root,
		.remove = remove,
		.no_initramfs = c->no_initramfs,
		.timeout = c->timeout,
		.say = say,
		.output = relay,
		.userdata = (void *)c,
	};
	int r = bootcfg_build(&o, cfg, ret);

	return r == BOOTCFG_BAD_CONFIG ? EXIT_USAGE : r < 0 ? EXIT_FAILURE_ : 0;
}

/* only one generate writes at a time (on the host; an image below --root has one builder) */
static int lock(const struct ctx *c, const struct config *cfg, int *ret_fd)
{
	char msg[512];
	int r;

	if (!sysroot_is_host(c->root) || c->dry_run || (!c->write && !c->remove))
		return 0;
	r = ctx_lock(c, cfg, ret_fd, msg, sizeof(msg));
	if (r != 0)
		msg_error("%s", msg);
	return r;
}

int generate_hazards(const struct ctx *c, const struct bootcfg *bc, bool acting)
{
	for (size_t i = 0; i < bc->res.n_hazards; i++) {
		if (acting && !c->force)
			msg_error("%s", bc->res.hazards[i]);
		else
			msg_warn("%s%s", bc->res.hazards[i], c->force ? " (--force: written anyway)" : "");
	}
	if (!bc->res.n_hazards || c->force)
		return 0;
	if (acting) {
		msg_error("refused, nothing written: take the driver out of blacklist, give the function a set "
			  "with boot = yes, or run again with --force");
		return EXIT_REFUSED;
	}
	msg_warn("`pcibind generate --write` refuses this without --force");
	return 0;
}

int generate_print_diff(const struct ctx *c, const struct bootcfg *bc)
{
	for (size_t i = 0; i < bc->res.n_files; i++) {
		_cleanup_free_ char *d = NULL;

		if (!bc->changed[i] || bc->res.files[i].state)
			continue;
		d = gen_diff(bc->res.files[i].path, bc->old[i], bc->res.files[i].text);
		if (!d) {
			msg_error("out of memory");
			return EXIT_FAILURE_;
		}
		fputs(d, stdout);
	}
	for (size_t i = 0; i < bc->res.n_notes; i++)
		msg_info(c, "note: %s", bc->res.notes[i]);
	return 0;
}

void generate_print_args(const struct ctx *c, const struct bootcfg *bc)
{
	if (c->verbosity <= 0 || bc->o.remove)
		return;
	printf("kernel command line (%s): ", bootloader_name(bc->sys->boot));
	for (size_t i = 0; i < bc->res.n_args; i++)
		printf("%s%s", i ? " " : "", bc->res.args[i]);
	printf("%s\n", bc->res.n_args ? "" : "(nothing to add)");
}

void generate_print_dirs(const struct bootcfg *bc)
{
	for (size_t i = 0; i < bc->dirs.n; i++)
		printf("would remove /%s if empty (generate --write made it)\n", bc->dirs.paths[i]);
}

/* run on the host; print for an image (another root) or a dry run */
int generate_refresh(const struct ctx *c, struct bootcfg *bc, bool dry_run, bool print)
{
	if (sysroot_is_host(c->root) && !dry_run)
		return bootcfg_refresh(bc) < 0 ? EXIT_FAILURE_ : 0;
	for (size_t i = 0; print && i < bc->n_cmds; i++)
		printf("%s: %s\n", dry_run ? "would run" : "run inside the system", bc->cmds[i]);
	return 0;
}

static int print_text(const struct ctx *c, const struct bootcfg *bc)
{
	int r = generate_print_diff(c, bc);

	if (r != 0)
		return r;
	generate_print_args(c, bc);
	if (!bc->n_changed && !bc->n_now)
		printf("no changes\n");
	else if (!c->write && !c->remove)
		for (size_t i = 0; i < bc->n_cmds; i++)
			printf("after --write: %s\n", bc->cmds[i]);
	return 0;
}

static void json_file(struct json *j, const struct bootcfg *bc, size_t i)
{
	const struct gen_file *f = &bc->res.files[i];
	_cleanup_free_ char *d = gen_diff(f->path, bc->old[i], f->text);
	char path[4200];

	(void)snprintf(path, sizeof(path), "/%s", f->path);
	json_object_begin(j);
	json_key_string(j, "path", path);
	json_key_string(j, "action",
			!bc->changed[i] ? "unchanged"
			: !f->text	? "remove"
			: bc->old[i]	? "change"
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

static void json_commands(struct json *j, const struct bootcfg *bc)
{
	json_key(j, "commands");
	json_array_begin(j);
	for (size_t i = 0; i < bc->n_cmds; i++) {
		json_object_begin(j);
		json_key_string(j, "command", bc->cmds[i]);
		json_key_bool(j, "run", bc->cmd_status[i] >= 0);
		if (bc->cmd_status[i] >= 0)
			json_key_int(j, "status", bc->cmd_status[i]);
		else
			json_key_null(j, "status");
		json_object_end(j);
	}
	json_array_end(j);
}

static int print_json(const struct ctx *c, const struct bootcfg *bc)
{
	struct json j;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", GENERATE_SCHEMA);
	json_key_string(&j, "root", sysroot_path(c->root));
	json_key_bool(&j, "write", (c->write || c->remove) && !c->dry_run);
	json_key_bool(&j, "remove", c->remove);
	json_key_bool(&j, "changes", bc->n_changed > 0 || bc->n_now > 0);
	json_key_string(&j, "bootloader", bootloader_name(bc->sys->boot));
	json_key_string(&j, "initramfs", initrd_tool_name(bc->sys->initrd));
	json_strings(&j, "kernel_args", bc->res.args, bc->res.n_args);
	json_key(&j, "files");
	json_array_begin(&j);
	for (size_t i = 0; i < bc->res.n_files; i++)
		json_file(&j, bc, i);
	json_array_end(&j);
	json_commands(&j, bc);
	json_strings(&j, "notes", bc->res.notes, bc->res.n_notes);
	json_strings(&j, "hazards", bc->res.hazards, bc->res.n_hazards);
	json_object_end(&j);
	if (json_finish(&j) < 0) {
		msg_error("cannot write the output");
		return EXIT_FAILURE_;
	}
	return 0;
}

/* the whole run: lock, build, hazards, the diff, the files, the refresh commands, JSON */
static int generate(const struct ctx *c, const struct config *cfg)
{
	bool act = (c->write || c->remove) && !c->dry_run;
	struct bootcfg *bc = NULL;
	int lock_fd = -1, r;

	if ((r = lock(c, cfg, &lock_fd)) != 0 || (r = generate_build(c, cfg, c->remove, &bc)) != 0 ||
	    (r = generate_hazards(c, bc, act)) != 0)
		goto out;
	if (!c->json && (r = print_text(c, bc)) != 0)
		goto out;
	if (act && bootcfg_write(bc, c->force) < 0) {
		r = EXIT_FAILURE_;
		goto out;
	}
	if (c->remove && !act && !c->json)
		generate_print_dirs(bc);
	if (c->write || c->remove)
		r = generate_refresh(c, bc, c->dry_run, !c->json);
	if (c->json && r == 0)
		r = print_json(c, bc);
	if (fflush(stdout) != 0 && r == 0)
		r = EXIT_FAILURE_;
out:
	bootcfg_free(bc);
	if (lock_fd >= 0)
		(void)close(lock_fd);
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
		r = generate(c, cfg);
	config_free(cfg);
	return r;
}

const struct cmd cmd_generate = {
	.name = "generate",
	.args = "[--write | --remove]",
	.help = "persistent setup (modprobe.d, kernel command line, initramfs): a diff; --remove takes it out",
	.run = run,
};
