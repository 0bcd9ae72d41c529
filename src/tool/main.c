/* main.c - option parsing and dispatch to the subcommands */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "journal.h"
#include "modalias.h"
#include "spawn.h"

static const struct cmd *const commands[] = {
	&cmd_setup, &cmd_status, &cmd_bind, &cmd_restore, &cmd_unbind, &cmd_apply, &cmd_generate, &cmd_check, &cmd_hook,
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: pcibind [OPTIONS] COMMAND [ARGS...]\n\n"
		     "Move PCI functions between their host drivers and vfio-pci.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i])
			fprintf(out, "  %-8s %-22s %s\n", commands[i]->name, commands[i]->args, commands[i]->help);
	fprintf(out,
		"\nSEL is a PCI address (0000:82:00.0, 82:00.0), a slot (82:00: every function),\n"
		"vendor:device ids (10de:2204) or a section name from the configuration.\n\n"
		"Options:\n"
		"      --root DIR      operate on the system below DIR (default /)\n"
		"  -n, --dry-run       print the plan, change nothing\n"
		"      --json          machine-readable output\n"
		"  -f, --force         override a safety refusal (each one is named when refused)\n"
		"      --driver NAME   bind, setup: target driver (default from config, else vfio-pci)\n"
		"      --timeout SEC   seconds before a kernel write counts as hung (default 10)\n"
		"      --vm VMID       check: one Proxmox VM; --domain NAME|FILE: one libvirt domain\n"
		"  -v, --verbose       say more\n"
		"  -q, --quiet         errors only\n"
		"      --tree          status: the bridges and IOMMU groups as a tree (like lspci -tv)\n"
		"      --name NAME     setup: the set's name\n"
		"      --boot          setup: claim the set at boot (--no-boot: on demand)\n"
		"      --remove        generate: take pcibind's boot setup out; setup: the set SEL names\n"
		"      --relocate      setup: move the set SEL names to where its recorded device is now\n"
		"      --no-initramfs  generate: run no initramfs rebuild, name it (the package's removal does one)\n"
		"  -y, --yes           setup: ask nothing (it asks only on a terminal)\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version\n\n"
		"Exit status:\n"
		"  0  done, or nothing to do\n"
		"  1  a step failed; every changed function was put back (or the message names it)\n"
		"  2  usage or configuration error, or a selector that matches nothing; nothing changed\n"
		"  3  refused for safety; nothing changed\n"
		"  4  a kernel write did not finish in time, or another pcibind held the lock too long\n"
		"  5  apply: at least one set was bound, none failed or was refused\n"
		"check exits 0 when the host is ready, 1 when not. See pcibind(8).\n");
}

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i] && streq(commands[i]->name, name))
			return commands[i];
	return NULL;
}

enum {
	OPT_ROOT = 256,
	OPT_JSON,
	OPT_DRIVER,
	OPT_TIMEOUT,
	OPT_WRITE,
	OPT_UDEV,
	OPT_TREE,
	OPT_REMOVE,
	OPT_RELOCATE,
	OPT_VM,
	OPT_DOMAIN,
	OPT_NAME,
	OPT_BOOT,
	OPT_NO_BOOT,
	OPT_NO_INITRAMFS
};

/*
 * The options of one command or a few (the common ones, --root, -n, --json,
 * -f, --timeout, -v, -q, -h, -V, go with every command): one bit each,
 * and per command the ones it takes. Any other is a usage error naming it.
 */
enum {
	OWN_DRIVER = 1 << 0,
	OWN_WRITE = 1 << 1,
	OWN_UDEV = 1 << 2,
	OWN_TREE = 1 << 3,
	OWN_REMOVE = 1 << 4,
	OWN_VM = 1 << 5,
	OWN_DOMAIN = 1 << 6,
	OWN_NAME = 1 << 7,
	OWN_BOOT = 1 << 8,
	OWN_YES = 1 << 9,
	OWN_NO_INITRAMFS = 1 << 10,
	OWN_RELOCATE = 1 << 11,
};

static const char *const own_names[] = {
	"--driver", "--write", "--udev",	   "--tree", "--remove",       "--vm",
	"--domain", "--name",  "--boot/--no-boot", "--yes",  "--no-initramfs", "--relocate",
};

static const struct {
	const char *cmd;
	unsigned own;
} own_options[] = {
	{ "status", OWN_TREE },
	{ "bind", OWN_DRIVER },
	{ "unbind", 0 },
	{ "restore", 0 },
	{ "apply", OWN_UDEV },
	{ "generate", OWN_WRITE | OWN_REMOVE | OWN_NO_INITRAMFS },
	{ "check", OWN_VM | OWN_DOMAIN },
	{ "hook", 0 },
	{ "setup", OWN_DRIVER | OWN_REMOVE | OWN_NAME | OWN_BOOT | OWN_YES | OWN_RELOCATE },
};

/* an option the command does not take: 0, or EXIT_USAGE with it named */
static int check_own_options(const char *cmd, unsigned given)
{
	unsigned own = 0;

	for (size_t i = 0; i < ARRAY_SIZE(own_options); i++)
		if (streq(own_options[i].cmd, cmd))
			own = own_options[i].own;
	for (size_t i = 0; i < ARRAY_SIZE(own_names); i++)
		if (given & ~own & (1u << i)) {
			msg_error("%s does not take %s; try 'pcibind %s --help'", cmd, own_names[i], cmd);
			return EXIT_USAGE;
		}
	return 0;
}

static const struct option options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "force", no_argument, NULL, 'f' },
	{ "driver", required_argument, NULL, OPT_DRIVER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "write", no_argument, NULL, OPT_WRITE },
	{ "remove", no_argument, NULL, OPT_REMOVE },
	{ "relocate", no_argument, NULL, OPT_RELOCATE },
	{ "no-initramfs", no_argument, NULL, OPT_NO_INITRAMFS },
	{ "udev", no_argument, NULL, OPT_UDEV },
	{ "tree", no_argument, NULL, OPT_TREE },
	{ "vm", required_argument, NULL, OPT_VM },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "boot", no_argument, NULL, OPT_BOOT },
	{ "no-boot", no_argument, NULL, OPT_NO_BOOT },
	{ "yes", no_argument, NULL, 'y' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/* returns -1 to go on, else an exit status */
static int parse_option(struct ctx *c, int opt, bool *help)
{
	unsigned long v;
	char shown[96];

	switch (opt) {
	case OPT_ROOT:
		c->root_path = optarg;
		return -1;
	case 'n':
		c->dry_run = true;
		return -1;
	case OPT_JSON:
		c->json = true;
		return -1;
	case 'f':
		c->force = true;
		return -1;
	case OPT_DRIVER:
		if (!driver_name_valid(optarg)) {
			msg_error("invalid --driver '%s': a driver name is 1 to %d letters, digits, '_' and '-', not "
				  "starting with '-'",
				  str_shown(optarg, shown, sizeof(shown)), DRIVER_NAME_MAX - 1);
			return EXIT_USAGE;
		}
		c->driver = optarg;
		c->given |= OWN_DRIVER;
		return -1;
	case OPT_TIMEOUT:
		if (parse_uint(optarg, 10, 3600, &v) < 0 || v == 0) {
			msg_error("invalid --timeout '%s': seconds, 1 to 3600",
				  str_shown(optarg, shown, sizeof(shown)));
			return EXIT_USAGE;
		}
		c->timeout = (unsigned)v;
		return -1;
	case OPT_WRITE:
		c->write = true;
		c->given |= OWN_WRITE;
		return -1;
	case OPT_UDEV:
		c->udev = true;
		c->given |= OWN_UDEV;
		return -1;
	case OPT_TREE:
		c->tree = true;
		c->given |= OWN_TREE;
		return -1;
	case OPT_NAME:
		if (!selector_name_valid(optarg)) {
			msg_error("invalid --name '%s': a set name starts with a letter or '_', then letters, digits, "
				  "'_', '.' or '-' (at most 63), and does not look like a PCI address",
				  str_shown(optarg, shown, sizeof(shown)));
			return EXIT_USAGE;
		}
		c->name = optarg;
		c->given |= OWN_NAME;
		return -1;
	case OPT_BOOT:
	case OPT_NO_BOOT:
		c->boot_given = true;
		c->boot = opt == OPT_BOOT;
		c->given |= OWN_BOOT;
		return -1;
	case OPT_REMOVE:
		c->remove = true;
		c->given |= OWN_REMOVE;
		return -1;
	case OPT_RELOCATE:
		c->relocate = true;
		c->given |= OWN_RELOCATE;
		return -1;
	case OPT_NO_INITRAMFS:
		c->no_initramfs = true;
		c->given |= OWN_NO_INITRAMFS;
		return -1;
	case OPT_VM:
		c->vm = optarg;
		c->given |= OWN_VM;
		return -1;
	case OPT_DOMAIN:
		c->domain = optarg;
		c->given |= OWN_DOMAIN;
		return -1;
	case 'y':
		c->yes = true;
		c->given |= OWN_YES;
		return -1;
	case 'v':
		c->verbosity++;
		return -1;
	case 'q':
		c->verbosity = -1;
		return -1;
	case 'h':
		*help = true;
		return -1;
	case 'V':
		printf("pcibind %s\n", PCIBIND_VERSION);
		return EXIT_OK;
	default:
		fprintf(stderr, "Try 'pcibind --help'.\n");
		return EXIT_USAGE;
	}
}

static int run(struct ctx *c, const struct cmd *cmd, int argc, char **argv)
{
	int err = sysroot_open(c->root_path, &c->root);

	if (err < 0) {
		msg_error("cannot open root %s: %s", c->root_path, strerror(-err));
		return EXIT_USAGE;
	}
	err = cmd->run(c, argc, argv);
	sysroot_free(c->root);
	c->root = NULL;
	return err;
}

static int parse_options(struct ctx *c, int argc, char **argv, const char *optstring, bool *help)
{
	int opt;

	while ((opt = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
		int st = parse_option(c, opt, help);
		if (st >= 0)
			return st;
	}
	return -1;
}

/*
 * Started with stdin, stdout or stderr closed (a careless service, a
 * hook runner), the first files opened would become fds 0-2 and messages
 * would be written into the lock or the journal: each missing one is
 * opened on /dev/null before anything else.
 */
static void std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if ((n = sysroot_open_devnull()) < 0)
			_exit(EXIT_FAILURE_); /* no /dev/null: nowhere safe even to say so */
		if (n != fd) {
			(void)dup2(n, fd);
			(void)close(n);
		} else {
			(void)fcntl(fd, F_SETFD, 0);
		}
	}
}

/*
 * A polite stop (SIGTERM, SIGINT, SIGHUP) stays blocked for the whole run:
 * the layers below check for it between steps (spawn_stop_pending()),
 * finish the kernel write in flight and put back what they changed (a
 * restore completes). Then the signal is let through and ends the
 * process as it would have, so the caller still sees the signal.
 */
static int finish(int st)
{
	int sig = spawn_stop_pending();
	sigset_t set;

	if (!sig)
		return st;
	msg_warn("%s received: what was under way was finished or put back; stopping", spawn_signal_name(sig));
	(void)fflush(stdout);
	(void)fflush(stderr);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	return st; /* only if the signal is ignored */
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
	std_fds();
	(void)spawn_block_stop_signals();
	return finish(dispatch(argc, argv));
}

static int dispatch(int argc, char **argv)
{
	struct ctx c = { .root_path = "/" };
	const struct cmd *cmd;
	char shown[96];
	bool help = false;
	int st;

	/* options before the command; "+": stop at the command name */
	if ((st = parse_options(&c, argc, argv, "+nfvqhVy", &help)) >= 0)
		return st;
	if (optind >= argc) {
		usage(help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	if (streq(argv[optind], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		msg_error("unknown command '%s'; try 'pcibind --help'", str_shown(argv[optind], shown, sizeof(shown)));
		return EXIT_USAGE;
	}
	/* options after it too, anywhere among its arguments, unless they are raw data */
	argc -= optind;
	argv += optind;
	optind = cmd->raw_args ? 1 : 0; /* glibc: 0 reinitialises getopt for the new argv */
	if (!cmd->raw_args && (st = parse_options(&c, argc, argv, "nfvqhVy", &help)) >= 0)
		return st;
	if (!help && (st = check_own_options(cmd->name, c.given)) != 0)
		return st;
	if (help) {
		printf("Usage: pcibind [OPTIONS] %s %s\n%s\n%s", cmd->name, cmd->args, cmd->help,
		       cmd->usage ? cmd->usage : "");
		return EXIT_OK;
	}
	return run(&c, cmd, argc - optind, argv + optind);
}

unsigned ctx_timeout(const struct ctx *c, const struct config *cfg)
{
	return c->timeout ? c->timeout : cfg->unbind_timeout;
}

unsigned ctx_lock_wait(const struct ctx *c, const struct config *cfg)
{
	unsigned wait = ctx_timeout(c, cfg) * 3;

	return wait > 60 ? wait : 60;
}

int ctx_lock(const struct ctx *c, const struct config *cfg, int *fd, char *msg, size_t size)
{
	int err = session_lock(c->root, ctx_lock_wait(c, cfg), fd, msg, size);

	return err == -ETIMEDOUT ? EXIT_TIMEOUT : err < 0 ? EXIT_FAILURE_ : 0;
}

int ctx_open_session(const struct ctx *c, struct session_opts *o, struct session *s, char *msg, size_t size)
{
	int err;

	o->root = c->root;
	o->lock_wait_s = ctx_lock_wait(c, o->cfg);
	o->dry_run = c->dry_run;
	err = session_open(s, o, msg, size);

	/* a timeout without the lock is the lock's: the scan and the journal come after it */
	return err == -ETIMEDOUT && s->lock_fd < 0 && !c->dry_run ? EXIT_TIMEOUT : err < 0 ? EXIT_FAILURE_ : 0;
}

const char *ctx_modprobe(const struct ctx *c)
{
	static const char *const paths[] = { "/usr/sbin/modprobe", "/sbin/modprobe", "/usr/bin/modprobe",
					     "/bin/modprobe" };

	if (!sysroot_is_host(c->root))
		return getenv("PCIBIND_MODPROBE");
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

int ctx_check_driver(const struct ctx *c, const char *driver)
{
	struct modaliases *m = NULL;
	char rel[128], shown[96];
	bool known;

	if (!driver || driver_is_vfio_safe(driver) || driver_is_auto(driver))
		return 0;
	if (xsnprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s", driver) == 0 && sysroot_exists(c->root, rel) == 0)
		return 0;
	if (modaliases_load(c->root, &m) < 0)
		return 0;
	known = modaliases_has_module(m, driver);
	modaliases_free(m);
	if (known)
		return 0;
	msg_error("no PCI driver named '%s' on this host: it is not registered (/sys/bus/pci/drivers) and no module of "
		  "that name has PCI aliases (modules.alias); the VFIO driver is vfio-pci",
		  str_shown(driver, shown, sizeof(shown)));
	return EXIT_USAGE;
}

void ctx_hint_selectors(const struct ctx *c, const struct config *cfg, const struct selector *sels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *fn = NULL;
		char rel[128];
		struct pciaddr a;

		if (sels[i].kind != SEL_NAME || config_find_set(cfg, sels[i].name) ||
		    xsnprintf(rel, sizeof(rel), "sys/class/net/%s/device", sels[i].name) < 0 ||
		    sysroot_link_basename(c->root, rel, &fn) < 0 || pciaddr_parse(fn, &a) < 0)
			continue;
		msg_error("hint: %s is a network interface of %s; SEL names PCI functions (an address, a slot, "
			  "vendor:device or a set), not interfaces: use %s",
			  sels[i].name, fn, fn);
	}
}

int ctx_load_config(struct ctx *c, struct config **ret)
{
	struct config_error e = { 0 };
	struct config *cfg;
	int err = config_load(c->root, &cfg, &e);

	if (err < 0) {
		if (e.line)
			msg_error("%s:%u: %s", e.file, e.line, e.msg);
		else if (e.file[0])
			msg_error("%s: %s", e.file, e.msg);
		else
			msg_error("cannot load the configuration: %s", strerror(-err));
		return EXIT_USAGE;
	}
	*ret = cfg;
	return 0;
}
