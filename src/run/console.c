/* console.c - single-GPU steps: stop units, release vtconsoles and firmware framebuffers */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "kwrite.h"
#include "spawn.h"
#include "util.h"

static int errf(char *msg, size_t size, int code, const char *fmt, ...) _printf_(4, 5);

static int errf(char *msg, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return code;
}

/* a polite stop (SIGTERM, ...) before the next step: what is done so far is undone by the caller */
static int stop_check(char *msg, size_t size, const char *what, const char *name)
{
	int sig = spawn_stop_pending();

	if (!sig)
		return 0;
	return errf(msg, size, -EINTR, "stopped by %s before %s %s", spawn_signal_name(sig), what, name);
}

const char *steps_find_systemctl(const struct sysroot *r)
{
	static const char *const paths[] = { "/usr/bin/systemctl", "/bin/systemctl" };

	if (!sysroot_is_host(r))
		return getenv("PCIBIND_SYSTEMCTL");
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/*
 * systemctl VERB --quiet -- UNIT, with a deadline of SPAWN_PROGRAM_DEADLINES
 * write deadlines; its output becomes part of out. The exit status, or
 * -ETIMEDOUT / -errno with the reason in out.
 */
static int systemctl(const char *prog, const char *verb, const char *unit, unsigned timeout_ms, char *out, size_t size)
{
	char *argv[] = { (char *)prog, (char *)verb, (char *)"--quiet", (char *)"--", (char *)unit, NULL };
	char what[256];
	struct spawn s = {
		.what = what,
		.timeout_ms = timeout_ms * SPAWN_PROGRAM_DEADLINES,
		.kill_on_timeout = true,
		.output = SPAWN_OUTPUT_CAPTURE,
		.out = out,
		.out_size = size,
	};
	struct spawn_result res;
	int err;

	snprintf(what, sizeof(what), "'systemctl %s %s'", verb, unit);
	s.forward_stop = !streq(verb, "start"); /* a start puts back: it finishes */
	err = spawn_program(&s, argv, &res);
	if (err < 0) {
		snprintf(out, size, "%s", res.msg);
		return err;
	}
	strip_trailing(out);
	return res.status;
}

/* "exited 1: Failed to stop ...", or what spawn said */
static const char *systemctl_why(int st, const char *out, char *buf, size_t size)
{
	if (st < 0)
		snprintf(buf, size, "%s", out);
	else
		snprintf(buf, size, "systemctl %s %d%s%s", st > 128 ? "was killed by signal" : "exited",
			 st > 128 ? st - 128 : st, out[0] ? ": " : "", out);
	return buf;
}

static int save(const struct sysroot *r, const struct journal *j, char *msg, size_t size)
{
	int err = journal_save(r, j);

	if (err < 0)
		return errf(msg, size, err, "cannot write the journal %s: %s", JOURNAL_FILE, strerror(-err));
	return 0;
}

static int stop_unit(const struct sysroot *r, struct journal *j, const char *unit, const char *fns,
		     const struct steps_opts *o, char *msg, size_t size)
{
	char out[512], why[640];
	int st, err;

	if (!o->systemctl)
		return errf(msg, size, -ENOENT, "cannot stop %s: no systemctl for root %s", unit, sysroot_path(r));
	if ((err = stop_check(msg, size, "stopping", unit)) < 0)
		return err;
	st = systemctl(o->systemctl, "is-active", unit, o->timeout_ms, out, sizeof(out));
	if (st < 0)
		return errf(msg, size, st, "cannot tell whether %s runs: %s", unit, out);
	if (st != 0)
		return 0; /* not running: nothing to stop, nothing to start again */
	if ((err = journal_add_step(j, JSTEP_UNIT, unit, NULL, fns)) < 0 || (err = save(r, j, msg, size)) < 0)
		return err == -ENOMEM ? errf(msg, size, err, "out of memory") : err;
	st = systemctl(o->systemctl, "stop", unit, o->timeout_ms, out, sizeof(out));
	if (st != 0)
		return errf(msg, size, st < 0 ? st : -EIO, "cannot stop %s: %s", unit,
			    systemctl_why(st, out, why, sizeof(why)));
	return 1;
}

/* Journal, then write: one step */
static int write_step(const struct sysroot *r, struct journal *j, enum jstep_kind kind, const char *name,
		      const char *driver, const char *fns, const char *path, const char *data, unsigned timeout_ms,
		      char *msg, size_t size)
{
	pid_t stuck = 0;
	int err;

	if ((err = stop_check(msg, size, "releasing", name)) < 0)
		return err;
	if ((err = journal_add_step(j, kind, name, driver, fns)) < 0 || (err = save(r, j, msg, size)) < 0)
		return err == -ENOMEM	? errf(msg, size, err, "out of memory")
		       : err == -EINVAL ? errf(msg, size, err,
					       "cannot record %s %s in the journal: not a name pcibind "
					       "can read back",
					       jstep_kind_name(kind), name)
					: err;
	err = kwrite(r, path, data, timeout_ms, &stuck);
	if (err == -ETIMEDOUT)
		return errf(msg, size, err, "writing '%s' to %s did not finish within %u s", data, path,
			    timeout_ms / 1000);
	if (err < 0)
		return errf(msg, size, err, "writing '%s' to %s: %s", data, path, strerror(-err));
	return 1;
}

/* vtconsoles bound to fbcon ("(M) frame buffer device") */
static int release_vtcons(const struct sysroot *r, struct journal *j, const char *fns, const struct steps_opts *o,
			  char *msg, size_t size)
{
	struct dirent *de;
	int done = 0, err = 0;
	DIR *d;

	if (sysroot_opendir(r, "sys/class/vtconsole", &d) < 0)
		return 0;
	while (err >= 0 && (de = readdir(d))) {
		char path[256], name[128], bind[8];

		if (strncmp(de->d_name, "vtcon", 5) != 0 ||
		    sysroot_pathf(path, sizeof(path), "sys/class/vtconsole/%s/name", de->d_name) < 0 ||
		    sysroot_read_line(r, path, name, sizeof(name)) < 0 || !strstr(name, "frame buffer") ||
		    sysroot_pathf(path, sizeof(path), "sys/class/vtconsole/%s/bind", de->d_name) < 0 ||
		    sysroot_read_line(r, path, bind, sizeof(bind)) < 0 || !streq(bind, "1"))
			continue;
		err = write_step(r, j, JSTEP_VTCON, de->d_name, NULL, fns, path, "0", o->timeout_ms, msg, size);
		done += err > 0;
	}
	closedir(d);
	return err < 0 ? err : done;
}

static bool driver_file(const char *name)
{
	return name[0] == '.' || streq(name, "bind") || streq(name, "unbind") || streq(name, "uevent") ||
	       streq(name, "module") || streq(name, "new_id") || streq(name, "remove_id");
}

/* every device bound to the firmware framebuffer drivers */
static int release_fbs(const struct sysroot *r, struct journal *j, const char *fns, const struct steps_opts *o,
		       char *msg, size_t size)
{
	int done = 0, err = 0;

	for (size_t i = 0; i < JOURNAL_FB_DRIVERS && err >= 0; i++) {
		char dir[128], path[256];
		struct dirent *de;
		DIR *d;

		(void)sysroot_pathf(dir, sizeof(dir), "sys/bus/platform/drivers/%s", journal_fb_drivers[i]);
		if (sysroot_opendir(r, dir, &d) < 0)
			continue;
		while (err >= 0 && (de = readdir(d))) {
			if (driver_file(de->d_name) || !token_is_safe(de->d_name, 128) ||
			    sysroot_pathf(path, sizeof(path), "%s/unbind", dir) < 0)
				continue;
			err = write_step(r, j, JSTEP_PLATFORM, de->d_name, journal_fb_drivers[i], fns, path, de->d_name,
					 o->timeout_ms, msg, size);
			done += err > 0;
		}
		closedir(d);
	}
	return err < 0 ? err : done;
}

int steps_apply(const struct sysroot *r, struct journal *j, const struct devset *set, const char *fns,
		const struct steps_opts *o, char *msg, size_t size)
{
	int done = 0, err = 0;

	for (size_t i = 0; i < set->n_stop_units && err >= 0; i++)
		if ((err = stop_unit(r, j, set->stop_units[i], fns, o, msg, size)) > 0)
			done += err;
	if (err >= 0 && set->release_console && (err = release_vtcons(r, j, fns, o, msg, size)) > 0)
		done += err;
	if (err >= 0 && set->release_console && (err = release_fbs(r, j, fns, o, msg, size)) > 0)
		done += err;
	return err < 0 ? err : done;
}

/* the journal is not trusted to name units: only one that a set's stop_units names is started again */
static bool unit_configured(const struct config *cfg, const char *unit)
{
	for (size_t i = 0; cfg && i < cfg->n_sets; i++)
		for (size_t k = 0; k < cfg->sets[i].n_stop_units; k++)
			if (streq(cfg->sets[i].stop_units[k], unit))
				return true;
	return false;
}

static int undo_one(const struct sysroot *r, const struct jstep *s, const struct steps_opts *o, char *msg, size_t size)
{
	char path[256], out[512], why[640];
	pid_t stuck = 0;
	int err;

	switch (s->kind) {
	case JSTEP_UNIT:
		if (!unit_configured(o->cfg, s->name))
			return errf(msg, size, -EPERM,
				    "the journal says %s was stopped, but no set of the configuration stops it: not "
				    "started (start it yourself if it should run); its record is dropped",
				    s->name);
		if (!o->systemctl)
			return errf(msg, size, -ENOENT, "cannot start %s again: no systemctl for root %s", s->name,
				    sysroot_path(r));
		err = systemctl(o->systemctl, "start", s->name, o->timeout_ms, out, sizeof(out));
		if (err != 0)
			return errf(msg, size, err < 0 ? err : -EIO, "cannot start %s again: %s", s->name,
				    systemctl_why(err, out, why, sizeof(why)));
		return 0;
	case JSTEP_VTCON:
		if (sysroot_pathf(path, sizeof(path), "sys/class/vtconsole/%s/bind", s->name) < 0)
			return errf(msg, size, -ENAMETOOLONG, "bad vtconsole name in the journal");
		err = kwrite(r, path, "1", o->timeout_ms, &stuck);
		break;
	case JSTEP_PLATFORM:
		if (!journal_fb_driver_ok(s->driver) ||
		    sysroot_pathf(path, sizeof(path), "sys/bus/platform/drivers/%s/bind", s->driver) < 0)
			return errf(msg, size, -EINVAL, "bad platform record in the journal");
		err = kwrite(r, path, s->name, o->timeout_ms, &stuck);
		if (err == -EBUSY)
			err = 0; /* bound already */
		break;
	default:
		return errf(msg, size, -EINVAL, "unknown step in the journal");
	}
	if (err < 0)
		return errf(msg, size, err, "cannot bind %s %s again (%s): %s", jstep_kind_name(s->kind), s->name, path,
			    strerror(-err));
	return 0;
}

int steps_undo(const struct sysroot *r, struct journal *j, const struct steps_opts *o, char *msg, size_t size)
{
	int done = 0, first_err = 0, err;
	char scratch[512];

	for (size_t i = j->n_steps; i-- > 0;) {
		if (journal_step_needed(j, &j->steps[i]))
			continue;
		/* a failed one keeps its record for the next restore; the others still go on */
		err = undo_one(r, &j->steps[i], o, first_err ? scratch : msg, first_err ? sizeof(scratch) : size);
		if (err < 0)
			first_err = first_err ? first_err : err;
		if (err < 0 && err != -EPERM)
			continue; /* -EPERM: never to be acted on, so not kept either */
		journal_remove_step(j, i);
		done++;
	}
	if (done && (err = save(r, j, first_err ? scratch : msg, first_err ? sizeof(scratch) : size)) < 0)
		first_err = first_err ? first_err : err;
	return first_err ? first_err : done;
}
