/* names.c - vendor, device and class names from pci.ids; the only user of libpci */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <pci/pci.h>

#include "names.h"
#include "util.h"

/*
 * We scan sysfs ourselves, so libpci is only the pci.ids reader: no
 * pci_init(), no access method, no device list. Lookups never go to the
 * network (no PCI_LOOKUP_NETWORK), never read or write the user's
 * ~/.cache/pci-ids (id_lookup_mode 0), and never ask udev's hwdb
 * (PCI_LOOKUP_NO_HWDB): the answer depends on pci.ids alone, the same on
 * every host with the same file, and a miss costs one hash probe.
 */
#define LOOKUP_FLAGS (PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB)

struct names {
	struct pci_access *pacc; /* created on the first lookup */
	char *ids_path;		 /* NULL: libpci's default pci.ids */
	bool broken;		 /* libpci failed (out of memory, corrupt pci.ids): fallback text only */
	bool loading;		 /* a names_preload() thread owns pacc until joined */
	pthread_t loader;
};

/*
 * libpci reports fatal errors (a corrupt pci.ids, out of memory) through
 * a->error, which must not return (its default calls exit()) and gets no
 * pointer to act on. The only way back to our caller is a longjmp to a
 * jump buffer the handler can find without an argument: this thread-local
 * pointer is that one global, forced by libpci's interface. It is set only
 * around pci_lookup_name() and pci_load_name_list() calls; being
 * thread-local, the loader thread of names_preload() has its own.
 */
static _Thread_local jmp_buf *lookup_jmp;

static __attribute__((noreturn)) _printf_(1, 2) void pci_error_cb(char *msg _unused_, ...)
{
	if (!lookup_jmp)
		abort(); /* a libpci error outside a lookup: nothing to return to */
	longjmp(*lookup_jmp, 1);
}

/* libpci prints warnings and debug text to stderr by default: the library layer stays quiet */
static _printf_(1, 2) void pci_quiet_cb(char *msg _unused_, ...)
{
}

int names_new_file(const char *ids_path, struct names **ret)
{
	struct names *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	if (ids_path && !(n->ids_path = strdup(ids_path))) {
		free(n);
		return -ENOMEM;
	}
	*ret = n;
	return 0;
}

int names_new(struct names **ret)
{
	return names_new_file(NULL, ret);
}

void names_free(struct names *n)
{
	if (!n)
		return;
	names_wait(n);
	if (n->pacc)
		pci_cleanup(n->pacc);
	free(n->ids_path);
	free(n);
}

/* pci.ids itself is read by libpci on the first pci_lookup_name() */
static bool names_open(struct names *n)
{
	if (!n || n->broken)
		return false;
	if (n->pacc)
		return true;
	n->pacc = pci_alloc();
	if (!n->pacc) {
		n->broken = true;
		return false;
	}
	n->pacc->error = pci_error_cb;
	n->pacc->warning = pci_quiet_cb;
	n->pacc->debug = pci_quiet_cb;
	n->pacc->id_lookup_mode = 0;
	if (n->ids_path)
		pci_set_name_list_path(n->pacc, n->ids_path, 0);
	return true;
}

/* fn(n, arg) with libpci's fatal errors caught: false (and n broken) when one came */
static bool guarded(struct names *n, void (*fn)(struct names *n, void *arg), void *arg)
{
	jmp_buf env;

	if (setjmp(env)) {
		lookup_jmp = NULL;
		n->broken = true;
		return false;
	}
	lookup_jmp = &env;
	fn(n, arg);
	lookup_jmp = NULL;
	return true;
}

static void load_list(struct names *n, void *arg _unused_)
{
	(void)pci_load_name_list(n->pacc); /* a missing pci.ids is no error: lookups then miss */
}

static void *load_names(void *arg)
{
	struct names *n = arg;

	if (names_open(n))
		(void)guarded(n, load_list, NULL);
	return NULL;
}

void names_preload(struct names *n)
{
	if (!n || n->loading || n->pacc || n->broken)
		return;
	/* without a thread, the first lookup loads the file as before */
	n->loading = pthread_create(&n->loader, NULL, load_names, n) == 0;
}

void names_wait(struct names *n)
{
	if (n && n->loading) {
		(void)pthread_join(n->loader, NULL);
		n->loading = false;
	}
}

struct lookup {
	char *buf;
	int size, flags, id1, id2, id3, id4;
	const char *name;
};

static void lookup_one(struct names *n, void *arg)
{
	struct lookup *l = arg;

	/* a variadic call: a kind that takes fewer ids ignores the rest */
	l->name = pci_lookup_name(n->pacc, l->buf, l->size, l->flags | LOOKUP_FLAGS, l->id1, l->id2, l->id3, l->id4);
}

/* One pci_lookup_name() call; NULL when the database has no entry */
static const char *db_lookup4(struct names *n, char *buf, size_t size, int flags, int id1, int id2, int id3, int id4)
{
	struct lookup l = { buf, size > INT_MAX ? INT_MAX : (int)size, flags, id1, id2, id3, id4, NULL };

	names_wait(n);
	if (size < 4 || !names_open(n) || !guarded(n, lookup_one, &l))
		return NULL;
	return l.name;
}

static const char *db_lookup(struct names *n, char *buf, size_t size, int flags, int id1, int id2)
{
	return db_lookup4(n, buf, size, flags, id1, id2, 0, 0);
}

const char *names_lookup_subsystem(struct names *n, uint16_t vendor, uint16_t device, uint16_t subvendor,
				   uint16_t subdevice, char *buf, size_t size)
{
	return db_lookup4(n, buf, size, PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, vendor, device, subvendor, subdevice);
}

const char *names_lookup_vendor(struct names *n, uint16_t vendor, char *buf, size_t size)
{
	return db_lookup(n, buf, size, PCI_LOOKUP_VENDOR, vendor, 0);
}

const char *names_lookup_device(struct names *n, uint16_t vendor, uint16_t device, char *buf, size_t size)
{
	return db_lookup(n, buf, size, PCI_LOOKUP_DEVICE, vendor, device);
}

/* class is 0xCCSSPP; the name is the subclass's ("VGA compatible controller") */
const char *names_lookup_class(struct names *n, uint32_t class, char *buf, size_t size)
{
	return db_lookup(n, buf, size, PCI_LOOKUP_CLASS, (int)((class >> 8) & 0xffff), 0);
}

const char *names_vendor(struct names *n, uint16_t vendor, char *buf, size_t size)
{
	const char *s = names_lookup_vendor(n, vendor, buf, size);

	if (s)
		return s;
	if (!size)
		return "";
	(void)snprintf(buf, size, "Vendor %04x", vendor);
	return buf;
}

const char *names_device(struct names *n, uint16_t vendor, uint16_t device, char *buf, size_t size)
{
	const char *s = names_lookup_device(n, vendor, device, buf, size);

	if (s)
		return s;
	if (!size)
		return "";
	(void)snprintf(buf, size, "Device %04x:%04x", vendor, device);
	return buf;
}

const char *names_class(struct names *n, uint32_t class, char *buf, size_t size)
{
	const char *s = names_lookup_class(n, class, buf, size);

	if (s)
		return s;
	if (!size)
		return "";
	(void)snprintf(buf, size, "Class %04x", (unsigned)(class >> 8) & 0xffff);
	return buf;
}
