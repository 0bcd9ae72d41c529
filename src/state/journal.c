/* journal.c - the original state of what pcibind changed, and the run lock */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "state.h"
#include "spawn.h"
#include "util.h"

#define JOURNAL_HEADER "# pcibind journal 1: original state of functions pcibind changed; do not edit"

static void jstep_clear(struct jstep *s)
{
	free(s->name);
	free(s->driver);
	free(s->fns);
}

void journal_free(struct journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		fnstate_clear(&j->recs[i]);
	for (size_t i = 0; i < j->n_steps; i++)
		jstep_clear(&j->steps[i]);
	free(j->recs);
	free(j->steps);
	free(j);
}

const char *jstep_kind_name(enum jstep_kind k)
{
	static const char *const names[] = {
		[JSTEP_UNIT] = "unit", [JSTEP_VTCON] = "vtcon", [JSTEP_PLATFORM] = "platform"
	};

	return k < ARRAY_SIZE(names) ? names[k] : "?";
}

static int jstep_kind_parse(const char *s)
{
	for (int k = JSTEP_UNIT; k <= JSTEP_PLATFORM; k++)
		if (streq(s, jstep_kind_name((enum jstep_kind)k)))
			return k;
	return -EBADMSG;
}

/* ---- what pcibind itself could have written: every field read back is checked against it ---- */

/* a reset_method as the kernel shows it: method names, one space between */
static bool reset_method_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 255 || v[0] == ' ' || v[n - 1] == ' ' || strstr(v, "  "))
		return false;
	return strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_ ") == n;
}

/* "ADDR,ADDR": canonical function addresses */
static bool fns_ok(const char *v)
{
	char a[PCIADDR_STRLEN];
	size_t n;

	if (!v || !*v)
		return false;
	for (;; v += n + 1) {
		struct pciaddr pa;

		n = strcspn(v, ",");
		if (n == 0 || n >= sizeof(a))
			return false;
		memcpy(a, v, n);
		a[n] = '\0';
		if (pciaddr_parse(a, &pa) < 0)
			return false;
		if (!v[n])
			return true;
	}
}

/* "vtcon" and a number: the only thing ever written into the path sys/class/vtconsole/NAME/bind */
static bool vtcon_ok(const char *v)
{
	size_t n = strlen(v);

	return n > 5 && n <= 9 && strncmp(v, "vtcon", 5) == 0 && strspn(v + 5, "0123456789") == n - 5;
}

const char *const journal_fb_drivers[JOURNAL_FB_DRIVERS] = { "efi-framebuffer", "simple-framebuffer", "simpledrm" };

bool journal_fb_driver_ok(const char *d)
{
	for (size_t i = 0; d && i < JOURNAL_FB_DRIVERS; i++)
		if (streq(d, journal_fb_drivers[i]))
			return true;
	return false;
}

/* a platform device name ("efi-framebuffer.0"): written to a bind file, never part of a path */
static bool platform_name_ok(const char *v)
{
	return token_is_safe(v, 128) && v[0] != '-' && v[0] != '.' && !strchr(v, ':');
}

static bool record_ok(const struct fnstate *s)
{
	return (!s->driver || driver_name_valid(s->driver)) && (!s->override || driver_name_valid(s->override)) &&
	       (!s->reset_method || reset_method_ok(s->reset_method)) && s->sriov_numvfs >= -1 &&
	       s->sriov_numvfs <= 65535;
}

static bool step_ok(const struct jstep *s)
{
	if (!s->name || !fns_ok(s->fns))
		return false;
	switch (s->kind) {
	case JSTEP_UNIT:
		return !s->driver && unit_name_valid(s->name);
	case JSTEP_VTCON:
		return !s->driver && vtcon_ok(s->name);
	case JSTEP_PLATFORM:
		return journal_fb_driver_ok(s->driver) && platform_name_ok(s->name);
	}
	return false;
}

static int steps_push(struct journal *j, const struct jstep *s)
{
	struct jstep *n = realloc(j->steps, (j->n_steps + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	j->steps = n;
	j->steps[j->n_steps++] = *s;
	return 0;
}

int journal_add_step(struct journal *j, enum jstep_kind kind, const char *name, const char *driver, const char *fns)
{
	struct jstep s = {
		.kind = kind, .name = xstrdup_null(name), .driver = xstrdup_null(driver), .fns = xstrdup_null(fns)
	};
	int err = 0;

	if (!step_ok(&(struct jstep){ kind, (char *)name, (char *)driver, (char *)fns }))
		err = -EINVAL;
	else if (!s.name || (driver && !s.driver) || (fns && !s.fns))
		err = -ENOMEM;
	else
		err = steps_push(j, &s);
	if (err < 0)
		jstep_clear(&s);
	return err;
}

void journal_remove_step(struct journal *j, size_t i)
{
	if (i >= j->n_steps)
		return;
	jstep_clear(&j->steps[i]);
	memmove(&j->steps[i], &j->steps[i + 1], (j->n_steps - i - 1) * sizeof(*j->steps));
	j->n_steps--;
}

bool journal_step_needed(const struct journal *j, const struct jstep *s)
{
	_cleanup_free_ char *copy = xstrdup_null(s->fns);
	char *save = NULL;

	if (!copy)
		return s->fns != NULL; /* out of memory: keep it */
	for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save))
		if (journal_find(j, a))
			return true;
	return false;
}

const struct fnstate *journal_find(const struct journal *j, const char *name)
{
	for (size_t i = 0; i < j->n; i++)
		if (streq(j->recs[i].name, name))
			return &j->recs[i];
	return NULL;
}

static int journal_push(struct journal *j, struct fnstate *s)
{
	struct fnstate *n = realloc(j->recs, (j->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	j->recs = n;
	j->recs[j->n++] = *s;
	return 0;
}

int journal_add(struct journal *j, const struct fnstate *s)
{
	struct fnstate copy;
	int err;

	if (journal_find(j, s->name))
		return 0;
	if (!record_ok(s))
		return -EINVAL; /* what the journal could not read back */
	if ((err = fnstate_copy(s, &copy)) < 0)
		return err;
	if ((err = journal_push(j, &copy)) < 0) {
		fnstate_clear(&copy);
		return err;
	}
	return 1;
}

int journal_remove(struct journal *j, const char *name)
{
	for (size_t i = 0; i < j->n; i++) {
		if (!streq(j->recs[i].name, name))
			continue;
		fnstate_clear(&j->recs[i]);
		memmove(&j->recs[i], &j->recs[i + 1], (j->n - i - 1) * sizeof(*j->recs));
		j->n--;
		return 1;
	}
	return 0;
}

/* "key=value" where an empty value is none; values never hold tabs or newlines */
static int field(char *tok, const char *key, char **ret)
{
	size_t n = strlen(key);

	if (!tok || strncmp(tok, key, n) != 0 || tok[n] != '=')
		return -EBADMSG;
	*ret = tok[n + 1] ? strdup(tok + n + 1) : NULL;
	return tok[n + 1] && !*ret ? -ENOMEM : 0;
}

/* "sriov_drivers_autoprobe=0|1|": only on a PF (a record with sriov_numvfs) */
static int parse_autoprobe(char *tok, struct fnstate *s)
{
	_cleanup_free_ char *v = NULL;
	int err = field(tok, "sriov_drivers_autoprobe", &v);

	if (err < 0)
		return err;
	if (!v)
		return 0;
	if ((!streq(v, "0") && !streq(v, "1")) || s->sriov_numvfs < 0)
		return -EBADMSG;
	s->sriov_autoprobe = streq(v, "1") ? AUTOPROBE_ON : AUTOPROBE_OFF;
	return 0;
}

static int parse_record(char *line, struct fnstate *ret)
{
	struct fnstate s = { .sriov_numvfs = -1 };
	char *save = NULL, *numvfs = NULL, *tok = strtok_r(line, "\t", &save);
	struct pciaddr a;
	unsigned long v;
	int err;

	if (!tok || pciaddr_parse(tok, &a) < 0)
		return -EBADMSG;
	pciaddr_format(&a, s.name);
	if ((err = field(strtok_r(NULL, "\t", &save), "driver", &s.driver)) < 0 ||
	    (err = field(strtok_r(NULL, "\t", &save), "override", &s.override)) < 0 ||
	    (err = field(strtok_r(NULL, "\t", &save), "reset_method", &s.reset_method)) < 0 ||
	    (err = field(strtok_r(NULL, "\t", &save), "sriov_numvfs", &numvfs)) < 0)
		goto out;
	if (numvfs) {
		if (parse_uint(numvfs, 10, 65535, &v) < 0) {
			err = -EBADMSG;
			goto out;
		}
		s.sriov_numvfs = (int)v;
	}
	/* older journals end here; a PF's sriov_drivers_autoprobe came later, "claimed=boot" later still */
	if ((tok = strtok_r(NULL, "\t", &save)) && (err = parse_autoprobe(tok, &s)) < 0)
		goto out;
	if (tok && (tok = strtok_r(NULL, "\t", &save))) {
		/* a boot claim is of a function that had no driver and no override */
		if (!streq(tok, "claimed=boot") || s.driver || s.override) {
			err = -EBADMSG;
			goto out;
		}
		s.boot_claim = true;
	}
	err = strtok_r(NULL, "\t", &save) || !record_ok(&s) ? -EBADMSG : 0;
out:
	free(numvfs);
	if (err < 0)
		fnstate_clear(&s);
	else
		*ret = s;
	return err;
}

/* "KIND\tname=N\tdriver=D\tfor=A,B" */
static int parse_step(char *line, struct journal *j)
{
	char *save = NULL, *tok = strtok_r(line, "\t", &save);
	struct jstep s = { 0 };
	int kind = tok ? jstep_kind_parse(tok) : -EBADMSG, err;

	if (kind < 0)
		return kind;
	s.kind = (enum jstep_kind)kind;
	if ((err = field(strtok_r(NULL, "\t", &save), "name", &s.name)) < 0 ||
	    (err = field(strtok_r(NULL, "\t", &save), "driver", &s.driver)) < 0 ||
	    (err = field(strtok_r(NULL, "\t", &save), "for", &s.fns)) < 0)
		goto out;
	err = !step_ok(&s) || strtok_r(NULL, "\t", &save) ? -EBADMSG : steps_push(j, &s);
out:
	if (err < 0)
		jstep_clear(&s);
	return err;
}

static bool is_step_line(const char *line)
{
	size_t n = strcspn(line, "\t");

	return (n == 4 && strncmp(line, "unit", 4) == 0) || (n == 5 && strncmp(line, "vtcon", 5) == 0) ||
	       (n == 8 && strncmp(line, "platform", 8) == 0);
}

static int parse_journal(char *text, struct journal *j, unsigned *ret_line)
{
	char *save = NULL;
	unsigned lineno = 0;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct fnstate s;
		int err;

		lineno++;
		if (line[0] == '#')
			continue;
		if (is_step_line(line))
			err = parse_step(line, j);
		else if ((err = parse_record(line, &s)) == 0 &&
			 (err = journal_find(j, s.name) ? -EBADMSG : journal_push(j, &s)) < 0)
			fnstate_clear(&s); /* a function twice: never written so */
		if (err < 0) {
			*ret_line = lineno;
			return err;
		}
	}
	return 0;
}

int journal_run_dir_problem(const struct sysroot *r, char *buf, size_t size)
{
	const char *root = sysroot_is_host(r) ? "" : sysroot_path(r);
	struct stat st;
	int fd = state_run_dir(r, false);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd == -ENOENT)
		return 0;
	if (fd == -ELOOP)
		snprintf(buf, size,
			 "%s/%s is a symlink, or one is on its way; pcibind keeps its journal and lock only in "
			 "a directory of root's: remove it",
			 root, RUN_DIR);
	else if (fd == -EPERM && fstatat(sysroot_fd(r), RUN_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0)
		snprintf(buf, size,
			 "%s/%s (or %s/%s) is owned by uid %u with mode %04o; pcibind keeps its journal and "
			 "lock only in a directory owned by root that nobody else can write: remove it",
			 root, RUN_DIR, root, RUN_PARENT, (unsigned)st.st_uid, (unsigned)st.st_mode & 07777);
	else if (fd == -EPERM && fstatat(sysroot_fd(r), RUN_PARENT, &st, AT_SYMLINK_NOFOLLOW) == 0)
		snprintf(buf, size,
			 "%s/%s is owned by uid %u with mode %04o; pcibind keeps its journal and lock only "
			 "under a directory owned by root that nobody else can write (or a sticky one, as /tmp is)",
			 root, RUN_PARENT, (unsigned)st.st_uid, (unsigned)st.st_mode & 07777);
	else
		snprintf(buf, size, "%s/%s: %s", root, RUN_DIR, strerror(-fd));
	return 1;
}

int journal_load(const struct sysroot *r, struct journal **ret, unsigned *ret_line)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dirfd = state_run_dir(r, false);
	struct journal *j = calloc(1, sizeof(*j));
	unsigned line = 0;
	size_t len = 0;
	int err;

	if (!j)
		return -ENOMEM;
	/* a NUL would end the text early and drop every record after it: -EBADMSG with its line */
	err = dirfd < 0 ? dirfd : state_read_at(dirfd, "journal", JOURNAL_SIZE_MAX, &text, &len, &line);
	if (err == -ENOENT)
		err = 0;
	else if (err == 0)
		err = parse_journal(text, j, &line);
	if (err < 0) {
		journal_free(j);
		if (ret_line)
			*ret_line = line;
		return err;
	}
	*ret = j;
	return 0;
}

static bool value_ok(const char *v)
{
	return !v || (!strchr(v, '\t') && !strchr(v, '\n'));
}

static int write_records(FILE *f, const struct journal *j)
{
	fprintf(f, "%s\n", JOURNAL_HEADER);
	for (size_t i = 0; i < j->n; i++) {
		const struct fnstate *s = &j->recs[i];
		char numvfs[16] = "";

		if (!value_ok(s->driver) || !value_ok(s->override) || !value_ok(s->reset_method))
			return -EINVAL;
		if (s->sriov_numvfs >= 0)
			(void)xsnprintf(numvfs, sizeof(numvfs), "%d", s->sriov_numvfs);
		fprintf(f,
			"%s\tdriver=%s\toverride=%s\treset_method=%s\tsriov_numvfs=%s\tsriov_drivers_autoprobe=%s%s\n",
			s->name, s->driver ? s->driver : "", s->override ? s->override : "",
			s->reset_method ? s->reset_method : "", numvfs,
			s->sriov_numvfs < 0		      ? ""
			: s->sriov_autoprobe == AUTOPROBE_ON  ? "1"
			: s->sriov_autoprobe == AUTOPROBE_OFF ? "0"
							      : "",
			s->boot_claim ? "\tclaimed=boot" : "");
	}
	for (size_t i = 0; i < j->n_steps; i++) {
		const struct jstep *s = &j->steps[i];

		fprintf(f, "%s\tname=%s\tdriver=%s\tfor=%s\n", jstep_kind_name(s->kind), s->name,
			s->driver ? s->driver : "", s->fns ? s->fns : "");
	}
	return 0;
}

int journal_save(const struct sysroot *r, const struct journal *j)
{
	static const char tmp[] = ".journal.tmp";
	_cleanup_close_ int dirfd = state_run_dir(r, false);
	FILE *f;
	int fd, err;

	if (dirfd < 0)
		return dirfd;
	if (j->n == 0 && j->n_steps == 0) {
		if (unlinkat(dirfd, "journal", 0) < 0 && errno != ENOENT)
			return -errno;
		return fsync(dirfd) < 0 ? -errno : 0;
	}
	(void)unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	err = write_records(f, j);
	if (fflush(f) != 0 || ferror(f))
		err = err ? err : -EIO;
	if (!err && fsync(fileno(f)) < 0)
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -EIO;
	if (!err && renameat(dirfd, tmp, dirfd, "journal") < 0)
		err = -errno;
	if (err < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return err;
	}
	return fsync(dirfd) < 0 ? -errno : 0;
}

static long lock_holder(int fd)
{
	char buf[32] = "";
	unsigned long v;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0 || parse_uint(strip_trailing(buf), 10, 1UL << 22, &v) < 0)
		return 0;
	return (long)v;
}

static void lock_note_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, buf, (size_t)n, 0);
}

int lock_acquire(const struct sysroot *r, unsigned timeout_s, int *ret_fd, long *ret_holder)
{
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	_cleanup_close_ int dirfd = state_run_dir(r, true);
	struct stat st;
	int fd, err;

	if (dirfd < 0)
		return dirfd;
	/* O_NONBLOCK: a FIFO planted as the lock fails below, never blocks the open */
	fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		close(fd);
		return -EPERM;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
		if (now_ms() >= deadline) {
			if (ret_holder)
				*ret_holder = lock_holder(fd);
			close(fd);
			return -ETIMEDOUT;
		}
		if (spawn_stop_pending()) { /* a polite stop before anything was done: nothing to put back */
			close(fd);
			return -EINTR;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
	lock_note_pid(fd);
	*ret_fd = fd;
	return 0;
}

void lock_release(int fd)
{
	if (fd < 0)
		return;
	(void)flock(fd, LOCK_UN);
	close(fd);
}

void fnstate_clear(struct fnstate *s)
{
	if (!s)
		return;
	free(s->driver);
	free(s->override);
	free(s->reset_method);
	*s = (struct fnstate){ .sriov_numvfs = -1 };
}

int fnstate_set(struct fnstate *ret, const char *name, const char *driver, const char *override,
		const char *reset_method, int numvfs, enum autoprobe autoprobe)
{
	struct fnstate s = { .sriov_numvfs = numvfs, .sriov_autoprobe = autoprobe };

	if (xsnprintf(s.name, sizeof(s.name), "%s", name) < 0)
		return -EINVAL;
	s.driver = xstrdup_null(driver);
	s.override = xstrdup_null(override);
	s.reset_method = xstrdup_null(reset_method);
	if ((driver && !s.driver) || (override && !s.override) || (reset_method && !s.reset_method)) {
		fnstate_clear(&s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

int fnstate_copy(const struct fnstate *src, struct fnstate *ret)
{
	int err = fnstate_set(ret, src->name, src->driver, src->override, src->reset_method, src->sriov_numvfs,
			      src->sriov_autoprobe);

	if (err == 0)
		ret->boot_claim = src->boot_claim;
	return err;
}
