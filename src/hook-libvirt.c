/* hook-libvirt.c - the PCI host devices of a libvirt domain XML, through libxml2 */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hook-libvirt.h"
#include "util.h"

static int errf(char *err, size_t size, int code, const char *fmt, ...) _printf_(4, 5);

static int errf(char *err, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return code;
}

/* The first error is the one that explains; libxml2 keeps going and keeps only the last */
struct first_error {
	int line;
	char msg[256];
};

static void keep_first(void *data, xmlError *e)
{
	struct first_error *fe = data;

	if (fe->msg[0] || !e || e->level < XML_ERR_ERROR)
		return;
	fe->line = e->line;
	snprintf(fe->msg, sizeof(fe->msg), "%s", e->message ? e->message : "unknown error");
	strip_trailing(fe->msg);
}

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

/* attribute equals value (a missing attribute equals dflt) */
static bool attr_is(xmlNode *n, const char *attr, const char *value, const char *dflt)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)attr);
	bool r = v ? xmlStrcmp(v, (const xmlChar *)value) == 0 : dflt && streq(dflt, value);

	xmlFree(v);
	return r;
}

/* "0x0000" style, hex with optional 0x, or decimal the way libvirt accepts it */
static int attr_num(xmlNode *n, const char *attr, unsigned long max, unsigned long *ret)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)attr);
	const char *s = (const char *)v;
	int r;

	if (!v)
		return -ENOENT;
	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		r = parse_uint(s + 2, 16, max, ret);
	else
		r = parse_uint(s, 10, max, ret);
	xmlFree(v);
	return r;
}

static int source_addr(xmlNode *hostdev, struct pciaddr *ret, char *err, size_t size)
{
	unsigned long dom = 0, bus, slot, fn;
	long line = xmlGetLineNo(hostdev);

	for (xmlNode *s = hostdev->children; s; s = s->next) {
		if (!is(s, "source"))
			continue;
		for (xmlNode *a = s->children; a; a = a->next) {
			if (!is(a, "address"))
				continue;
			if ((attr_num(a, "domain", 0xffffffffUL, &dom) < 0 && xmlHasProp(a, (const xmlChar *)"domain")) ||
			    attr_num(a, "bus", 0xff, &bus) < 0 || attr_num(a, "slot", 0x1f, &slot) < 0 ||
			    attr_num(a, "function", 7, &fn) < 0)
				return errf(err, size, -EINVAL,
					    "line %ld: <hostdev> source <address> needs domain, bus, slot and function "
					    "(like domain='0x0000' bus='0x01' slot='0x00' function='0x0')",
					    xmlGetLineNo(a));
			*ret = (struct pciaddr){ .domain = (uint32_t)dom, .bus = (uint8_t)bus, .dev = (uint8_t)slot,
						 .fn = (uint8_t)fn };
			return 0;
		}
	}
	return errf(err, size, -EINVAL, "line %ld: a PCI <hostdev> without <source><address>", line);
}

static int collect(xmlNode *devices, bool all, struct hook_devs *d, char *err, size_t size)
{
	for (xmlNode *h = devices->children; h; h = h->next) {
		struct pciaddr a;
		char origin[32];
		int r;

		if (!is(h, "hostdev") || !attr_is(h, "mode", "subsystem", NULL) || !attr_is(h, "type", "pci", NULL))
			continue;
		/* libvirt's default is managed='no' */
		if (!all && !attr_is(h, "managed", "no", "no"))
			continue;
		if ((r = source_addr(h, &a, err, size)) < 0)
			return r;
		snprintf(origin, sizeof(origin), "hostdev at line %ld", xmlGetLineNo(h));
		if ((r = hook_devs_add(d, &a, origin)) < 0)
			return r;
	}
	return 0;
}

static int walk(xmlDoc *doc, bool all, struct hook_devs *d, char *err, size_t size)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	int r;

	if (!root || !is(root, "domain"))
		return errf(err, size, -EINVAL, "the XML on stdin is not a libvirt <domain>");
	for (xmlNode *n = root->children; n; n = n->next)
		if (is(n, "devices") && (r = collect(n, all, d, err, size)) < 0)
			return r;
	return 0;
}

int libvirt_domain_devices(const char *xml, size_t len, bool all, struct hook_devs *ret, char *err, size_t size)
{
	/* no network, no entity substitution, no DTD loading, no huge-document relaxations */
	int opts = XML_PARSE_NONET | XML_PARSE_NOWARNING;
	struct first_error fe = { 0, "" };
	struct hook_devs d = { 0 };
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	int r;

	if (len > LIBVIRT_XML_MAX)
		return errf(err, size, -EFBIG, "the domain XML is larger than %u bytes", LIBVIRT_XML_MAX);
	if (len > INT_MAX || !(ctxt = xmlNewParserCtxt()))
		return -ENOMEM;
	xmlSetStructuredErrorFunc(&fe, keep_first); /* per thread; reset below */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL, opts);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc || fe.msg[0]) {
		if (fe.msg[0])
			errf(err, size, -EINVAL, "broken domain XML: line %d: %s", fe.line, fe.msg);
		else
			errf(err, size, -EINVAL, "broken domain XML");
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	if (doc->intSubset || doc->extSubset)
		r = errf(err, size, -EINVAL, "the domain XML has a DOCTYPE; libvirt never sends one, so it is refused");
	else
		r = walk(doc, all, &d, err, size);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	if (r < 0) {
		hook_devs_free(&d);
		return r;
	}
	*ret = d;
	return 0;
}
