/* msg.c - messages to the user on stderr, journal priorities under systemd */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind.h"
#include "cmd.h"
#include "plan.h"

/* stderr is the journal when JOURNAL_STREAM names its device:inode (systemd.exec(5)) */
static bool stderr_is_journal(void)
{
	static int cached = -1;
	const char *js;
	struct stat st;
	unsigned long long dev, ino;

	if (cached >= 0)
		return cached;
	cached = 0;
	js = getenv("JOURNAL_STREAM");
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0)
		cached = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return cached;
}

static int kmsg_fd = -1;

void msg_also_kmsg(int fd)
{
	kmsg_fd = fd;
}

/* one write(2) per record: the kernel log takes each write as one message */
static void to_kmsg(int prio, const char *tag, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "<%d>pcibind[%ld]: %s", prio, (long)getpid(), tag ? tag : "");

	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	(void)vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	n = (int)strlen(line);
	if ((size_t)n == sizeof(line) - 1)
		n--;
	line[n++] = '\n';
	(void)!write(kmsg_fd, line, (size_t)n);
}

static void vmsg(int prio, const char *tag, const char *fmt, va_list ap)
{
	va_list copy;

	if (kmsg_fd >= 0) {
		va_copy(copy, ap);
		to_kmsg(prio, tag, fmt, copy);
		va_end(copy);
	}
	if (stderr_is_journal())
		fprintf(stderr, "<%d>", prio);
	fputs("pcibind: ", stderr);
	if (tag)
		fputs(tag, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(3, NULL, fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(4, "warning: ", fmt, ap);
	va_end(ap);
}

void msg_info(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg(6, NULL, fmt, ap);
	va_end(ap);
}

void msg_debug(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg(7, NULL, fmt, ap);
	va_end(ap);
}

size_t msg_term_width(void)
{
	struct winsize ws;
	unsigned long cols;
	const char *env;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	env = getenv("COLUMNS");
	if (env && parse_uint(env, 10, 10000, &cols) == 0 && cols > 0)
		return cols;
	return 80;
}

/* who holds a busy function's device nodes, named after its refusal */
static void report_busy(const struct ctx *c, const struct pcihost *h, const struct refusal *f)
{
	struct pciaddr a;
	const struct pcifn *fn;
	char holders[512] = "";

	if (pciaddr_parse(f->fn, &a) < 0 || !(fn = pcihost_find(h, &a)))
		return;
	if (holders_describe(c->root, fn, holders, sizeof(holders)) > 0)
		msg_error("%s: %s", f->fn, holders);
}

/*
 * The VFs an SR-IOV refusal's PF would lose, each with who holds it: a VF
 * in use (a VM) cannot be destroyed, whatever --force says. true if one is.
 */
static bool report_vf_holders(const struct ctx *c, const struct pcihost *h, const struct refusal *f)
{
	const struct pcifn *vfs[256];
	const struct pcifn *pf;
	struct pciaddr a;
	char holders[512];
	bool held = false;
	size_t n;

	if (f->kind != REFUSE_SRIOV || pciaddr_parse(f->fn, &a) < 0 || !(pf = pcihost_find(h, &a)))
		return false;
	n = pcihost_vfs(h, pf, vfs, sizeof(vfs) / sizeof(vfs[0]));
	for (size_t i = 0; i < n; i++) {
		if (!vfs[i]->driver || !driver_is_vfio(vfs[i]->driver) ||
		    holders_describe(c->root, vfs[i], holders, sizeof(holders)) <= 0)
			continue;
		msg_error(
		    "%s, a VF of %s, is in use: %s; a VF in use cannot be destroyed, even with --force: stop what "
		    "holds it first",
		    vfs[i]->name, pf->name, holders);
		held = true;
	}
	return held;
}

int msg_refusals(const struct ctx *c, const struct pcihost *h, const struct plan *p, unsigned skip)
{
	bool busy = false, refused = false;

	for (size_t i = 0; i < p->n_refusals; i++) {
		const struct refusal *f = &p->refusals[i];

		if (skip & (1u << f->kind))
			continue;
		if (f->forced) {
			msg_warn("overridden by --force: %s", f->msg);
			refused |= report_vf_holders(c, h, f);
			continue;
		}
		refused = true;
		msg_error("%s", f->msg);
		(void)report_vf_holders(c, h, f);
		if (f->kind == REFUSE_BUSY) {
			report_busy(c, h, f);
			busy = true;
		}
	}
	if (!refused)
		return 0;
	msg_error("refused; nothing was changed");
	/* a busy device is a kernel write that has not finished: the timeout status */
	return busy ? EXIT_TIMEOUT : EXIT_REFUSED;
}
