/* describe.c - class, device and subsystem names in lspci -nn's words, for status and setup */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#include "describe.h"

const char *describe_class_name(struct names *nm, uint32_t class, char *buf, size_t size)
{
	char name[256];
	const char *cls = names_lookup_class(nm, class, name, sizeof(name));

	if (cls)
		(void)snprintf(buf, size, "%s", cls);
	else
		(void)snprintf(buf, size, "Class %04x", (unsigned)(class >> 8) & 0xffff);
	return buf;
}

/* libpci names a class without its subclass with the number already: "Unassigned class [ffff]" */
static bool has_number(const char *name, uint32_t class)
{
	char num[16];
	size_t n = strlen(name), k;

	k = (size_t)snprintf(num, sizeof(num), " [%04x]", (unsigned)(class >> 8) & 0xffff);
	return n >= k && streq(name + n - k, num);
}

const char *describe_class(struct names *nm, uint32_t class, char *buf, size_t size)
{
	char name[256];
	const char *cls = names_lookup_class(nm, class, name, sizeof(name));

	if (cls && has_number(cls, class))
		(void)snprintf(buf, size, "%s", cls);
	else
		(void)snprintf(buf, size, "%s [%04x]", cls ? cls : "Class", (unsigned)(class >> 8) & 0xffff);
	return buf;
}

/* libpci's pair format with numbers mixed in (lspci -nn): the ids come last, in brackets */
static const char *pair(const char *v, const char *d, const char *ids, char *buf, size_t size)
{
	if (v && d)
		(void)snprintf(buf, size, "%s %s [%s]", v, d, ids);
	else if (v)
		(void)snprintf(buf, size, "%s Device [%s]", v, ids);
	else
		(void)snprintf(buf, size, "Device [%s]", ids);
	return buf;
}

const char *describe_device(struct names *nm, uint16_t vendor, uint16_t device, char *buf, size_t size)
{
	char v[256], d[256], ids[16];

	(void)snprintf(ids, sizeof(ids), "%04x:%04x", vendor, device);
	return pair(names_lookup_vendor(nm, vendor, v, sizeof(v)),
		    names_lookup_device(nm, vendor, device, d, sizeof(d)), ids, buf, size);
}

const char *describe_subsystem(struct names *nm, const struct pcifn *f, char *buf, size_t size)
{
	char v[256], d[256], ids[16];

	/* lspci prints none for a subsystem vendor of 0 or ffff */
	if (!f->subvendor || f->subvendor == 0xffff)
		return NULL;
	(void)snprintf(ids, sizeof(ids), "%04x:%04x", f->subvendor, f->subdevice);
	return pair(names_lookup_vendor(nm, f->subvendor, v, sizeof(v)),
		    names_lookup_subsystem(nm, f->vendor, f->device, f->subvendor, f->subdevice, d, sizeof(d)), ids,
		    buf, size);
}

const char *describe_ids(struct names *nm, const struct pcifn *f, char *buf, size_t size)
{
	char cls[300], dev[DESCRIBE_MAX];

	(void)snprintf(buf, size, "%s: %s", describe_class(nm, f->class, cls, sizeof(cls)),
		       describe_device(nm, f->vendor, f->device, dev, sizeof(dev)));
	return buf;
}

const char *describe_fn(struct names *nm, const struct pcifn *f, char *buf, size_t size)
{
	char ids[DESCRIBE_MAX];

	(void)snprintf(buf, size, "%s %s", f->name, describe_ids(nm, f, ids, sizeof(ids)));
	return buf;
}
