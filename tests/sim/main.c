/* main.c - pcisim: mount a simulated Linux PCI sysfs at ROOTDIR/sys for tests */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcisim.h"

/* a blocked write holds a thread; eight parallel binds must still leave some free */
#define MAX_THREADS 64

struct options {
	const char *topology;
	const char *rootdir;
	bool foreground;
	bool debug;
};

static void usage(FILE *f)
{
	fputs("usage: pcisim TOPOLOGY ROOTDIR [-f] [-d]\n"
	      "  Mounts a simulated /sys at ROOTDIR/sys and writes ROOTDIR/proc/...;\n"
	      "  daemonizes once the mount is ready unless -f. -d: FUSE debug output (implies -f).\n"
	      "  Stop it with: fusermount3 -u ROOTDIR/sys (or SIGTERM)\n",
	      f);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			o->foreground = true;
		else if (strcmp(argv[i], "-d") == 0)
			o->debug = o->foreground = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
		else if (argv[i][0] == '-')
			return -EINVAL;
		else if (!o->topology)
			o->topology = argv[i];
		else if (!o->rootdir)
			o->rootdir = argv[i];
		else
			return -EINVAL;
	}
	return o->rootdir ? 0 : -EINVAL;
}

static struct fuse_session *mount_sim(struct sim *sim, const struct options *o, const char *mountpoint)
{
	char *fargv[6];
	int fargc = 0;
	struct fuse_args args;
	struct fuse_session *se;

	fargv[fargc++] = "pcisim";
	fargv[fargc++] = "-o";
	fargv[fargc++] = geteuid() == 0 ? "fsname=pcisim,subtype=pcisim,allow_other" : "fsname=pcisim,subtype=pcisim";
	if (o->debug)
		fargv[fargc++] = "-d";
	fargv[fargc] = NULL;
	args = (struct fuse_args)FUSE_ARGS_INIT(fargc, fargv);
	se = fs_session_new(sim, &args);
	if (!se)
		return NULL;
	if (fuse_session_mount(se, mountpoint) != 0) {
		fuse_session_destroy(se);
		return NULL;
	}
	return se;
}

static int serve(struct fuse_session *se)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int r;

	fuse_loop_cfg_set_max_threads(cfg, MAX_THREADS);
	fuse_loop_cfg_set_idle_threads(cfg, 8);
	r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

/* a second mount on top, or a dead simulator's mount, would only confuse */
static int check_not_mounted(const char *root, const char *mountpoint)
{
	struct stat r, m;

	if (stat(mountpoint, &m) < 0 && errno == ENOENT)
		return 0;
	if (stat(root, &r) == 0 && stat(mountpoint, &m) == 0 && r.st_dev == m.st_dev)
		return 0;
	fprintf(stderr, "pcisim: %s is already mounted (or a dead mount: fusermount3 -uz %s)\n", mountpoint,
		mountpoint);
	return -EBUSY;
}

static int setup(struct sim *sim, const struct options *o, char *mountpoint, size_t size)
{
	char root[PATH_MAX];
	int r;

	r = mkdir_p(o->rootdir, 0755);
	if (r < 0 || !realpath(o->rootdir, root)) {
		fprintf(stderr, "pcisim: cannot use %s: %s\n", o->rootdir, strerror(r < 0 ? -r : errno));
		return -EINVAL;
	}
	if (snprintf(mountpoint, size, "%s/sys", root) >= (int)size)
		return -ENAMETOOLONG;
	if (check_not_mounted(root, mountpoint) < 0)
		return -EBUSY;
	sim->rootdir = xstrdup(root);
	sim->topology = xstrdup(o->topology);
	if (topo_load(sim, o->topology) < 0)
		return -EINVAL;
	if (hostfiles_init(sim) < 0)
		return -EIO;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	char mountpoint[PATH_MAX];
	struct sim *sim = sim_new();
	struct fuse_session *se;
	int r;

	r = parse_args(argc, argv, &o);
	if (r != 0) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	if (setup(sim, &o, mountpoint, sizeof(mountpoint)) < 0)
		return 1;
	se = mount_sim(sim, &o, mountpoint);
	if (!se) {
		fprintf(stderr, "pcisim: cannot mount %s\n", mountpoint);
		return 1;
	}
	if (fuse_set_signal_handlers(se) != 0 || fuse_daemonize(o.foreground) != 0) {
		fuse_session_unmount(se);
		fuse_session_destroy(se);
		return 1;
	}
	r = serve(se);
	fuse_remove_signal_handlers(se);
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	return r == 0 ? 0 : 1;
}
