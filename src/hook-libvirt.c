/* hook-libvirt.c - the PCI host devices of a libvirt domain XML, through expat */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "hook-libvirt.h"
#include "util.h"

/*
 * expat rather than libxml2: libxml2 links ICU and libstdc++, which every
 * pcibind run paid for in dynamic linking and the initramfs had to carry.
 *
 * What the parser may do is fixed here, not left to its defaults: a DOCTYPE
 * stops it (so no DTD, no internal subset and no entity declaration is ever
 * read), an entity declaration would stop it too, parameter entities are
 * never parsed, and there is no external entity handler, so nothing is ever
 * opened or fetched. The only entities left are the five predefined ones and
 * character references. Input is at most LIBVIRT_XML_MAX bytes.
 */
_Static_assert(LIBVIRT_XML_MAX <= INT_MAX, "XML_Parse takes an int length");

/* a name in a namespace comes as "URI\1local"; \1 is in no well-formed document */
#define NS_SEP '\1'

/* How far down /domain/devices/hostdev/source the walk is: the element depth there */
enum level {
	AT_TOP,	    /* outside the root element */
	AT_DOMAIN,  /* the root <domain> */
	AT_DEVICES, /* a <devices> of it */
	AT_HOSTDEV, /* a <hostdev> (or <interface type='hostdev'>) of that which counts */
	AT_SOURCE,  /* a <source> of that; its first <address> is the answer */
};

struct walk {
	XML_Parser p;
	bool all;
	enum level at;
	unsigned long depth;
	unsigned long skip; /* depth of an element ignored with all it holds; 0 none */
	bool is_domain;
	bool is_interface; /* the hostdev being walked is an <interface type='hostdev'> */
	unsigned long hostdev_line;
	bool have_addr;
	struct pciaddr addr;
	struct hook_devs devs;
	int r; /* the first error; err says it */
	char *err;
	size_t size;
};

static unsigned long line(const struct walk *w)
{
	return (unsigned long)XML_GetCurrentLineNumber(w->p);
}

/* The first error is the one that explains: stop walking, but parse on, so that broken XML still wins */
static void fail(struct walk *w, int code, const char *fmt, ...) _printf_(3, 4);

static void fail(struct walk *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, w->size, fmt, ap);
	va_end(ap);
	w->r = code;
	XML_SetElementHandler(w->p, NULL, NULL);
}

/* Refusals end the parse at once */
static void XMLCALL doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
			    int has_internal_subset)
{
	struct walk *w = data;

	fail(w, -EINVAL, "domain XML: line %lu: a DOCTYPE; libvirt never sends one, so it is refused",
	     line(w));
	(void)XML_StopParser(w->p, XML_FALSE);
}

static void XMLCALL entity(void *data, const XML_Char *name, int is_parameter, const XML_Char *value,
			   int value_length, const XML_Char *base, const XML_Char *sysid,
			   const XML_Char *pubid, const XML_Char *notation)
{
	struct walk *w = data;

	fail(w, -EINVAL, "domain XML: line %lu: an entity declaration; none is expanded, so it is refused",
	     line(w));
	(void)XML_StopParser(w->p, XML_FALSE);
}

/* libxml2 refused a version other than '1.' and digits; expat does not look */
static void XMLCALL xmldecl(void *data, const XML_Char *version, const XML_Char *encoding, int standalone)
{
	struct walk *w = data;

	if (version &&
	    (strncmp(version, "1.", 2) != 0 || version[2 + strspn(version + 2, "0123456789")] != '\0')) {
		fail(w, -EINVAL, "broken domain XML: line %lu: not XML 1.x", line(w));
		(void)XML_StopParser(w->p, XML_FALSE);
	}
}

/* libxml2 compared local names: <domain xmlns='...'> was a domain, and still is */
static const char *local(const XML_Char *name)
{
	const char *s = strrchr(name, NS_SEP);

	return s ? s + 1 : name;
}

/* the attribute without a namespace (libvirt's own), or NULL */
static const char *attr(const XML_Char **atts, const char *name)
{
	for (; atts[0]; atts += 2)
		if (streq(atts[0], name))
			return atts[1];
	return NULL;
}

/* an attribute of that local name in any namespace */
static bool has_local(const XML_Char **atts, const char *name)
{
	for (; atts[0]; atts += 2)
		if (streq(local(atts[0]), name))
			return true;
	return false;
}

/* "0x0000" style, hex with optional 0x, or decimal the way libvirt accepts it */
static int num(const char *s, unsigned long max, unsigned long *ret)
{
	if (!s)
		return -ENOENT;
	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		return parse_uint(s + 2, 16, max, ret);
	return parse_uint(s, 10, max, ret);
}

/*
 * libvirt detaches a managed device itself and refuses to start with an
 * unmanaged one still on a host driver ("Unmanaged PCI device %s must be
 * manually detached from the host", virHostdevPreparePCIDevicesImpl() in
 * src/hypervisor/virhostdev.c): managed='no' (the default) is ours, the
 * managed ones too when all.
 */
static bool managed_counts(const struct walk *w, const XML_Char **atts)
{
	const char *managed = attr(atts, "managed");

	return w->all || !managed || !streq(managed, "yes");
}

/* <hostdev mode='subsystem' type='pci'> */
static bool hostdev_counts(const struct walk *w, const XML_Char **atts)
{
	const char *mode = attr(atts, "mode"), *type = attr(atts, "type");

	if (!mode || !streq(mode, "subsystem") || !type || !streq(type, "pci"))
		return false;
	return managed_counts(w, atts);
}

/*
 * <interface type='hostdev'>: an SR-IOV VF as a guest NIC. domain_conf.c
 * parses it with the hostdev parser (managed read from <interface>, the
 * PCI address from <source><address type='pci'>) and puts it on the
 * domain's hostdev list, so it is detached like any PCI <hostdev>.
 */
static bool interface_counts(const struct walk *w, const XML_Char **atts)
{
	const char *type = attr(atts, "type");

	return type && streq(type, "hostdev") && managed_counts(w, atts);
}

/* a missing domain is 0; one that is there (in whatever namespace) has to be good */
static void source_addr(struct walk *w, const XML_Char **atts)
{
	unsigned long dom = 0, bus, slot, fn;
	const char *d = attr(atts, "domain");

	if ((d ? num(d, 0xffffffffUL, &dom) < 0 : has_local(atts, "domain")) ||
	    num(attr(atts, "bus"), 0xff, &bus) < 0 || num(attr(atts, "slot"), 0x1f, &slot) < 0 ||
	    num(attr(atts, "function"), 7, &fn) < 0) {
		fail(w, -EINVAL,
		     "domain XML: line %lu: a PCI source <address> needs domain, bus, slot and function "
		     "(like domain='0x0000' bus='0x01' slot='0x00' function='0x0')",
		     line(w));
		return;
	}
	w->addr = (struct pciaddr){
	    .domain = (uint32_t)dom, .bus = (uint8_t)bus, .dev = (uint8_t)slot, .fn = (uint8_t)fn};
	w->have_addr = true;
}

static void hostdev_end(struct walk *w)
{
	char origin[32];
	int r;

	if (!w->have_addr && w->is_interface)
		return; /* a USB or absent source address: no PCI function */
	if (!w->have_addr) {
		fail(w, -EINVAL, "domain XML: line %lu: a PCI <hostdev> without <source><address>",
		     w->hostdev_line);
		return;
	}
	snprintf(origin, sizeof(origin), "%s at line %lu", w->is_interface ? "interface" : "hostdev", w->hostdev_line);
	if ((r = hook_devs_add(&w->devs, &w->addr, origin)) < 0) {
		w->r = r;
		(void)XML_StopParser(w->p, XML_FALSE);
	}
}

/* Only /domain/devices/hostdev/source/address counts; everything else is skipped with what it holds */
static void XMLCALL start(void *data, const XML_Char *name, const XML_Char **atts)
{
	struct walk *w = data;
	const char *n = local(name);
	bool deeper = false;

	w->depth++;
	if (w->skip)
		return;
	switch (w->at) {
	case AT_TOP:
		deeper = w->is_domain = streq(n, "domain");
		break;
	case AT_DOMAIN:
		deeper = streq(n, "devices");
		break;
	case AT_DEVICES:
		w->is_interface = streq(n, "interface");
		if ((deeper = w->is_interface ? interface_counts(w, atts) : streq(n, "hostdev") && hostdev_counts(w, atts))) {
			w->hostdev_line = line(w);
			w->have_addr = false;
		}
		break;
	case AT_HOSTDEV:
		deeper = streq(n, "source");
		break;
	case AT_SOURCE:
		/* an interface's source address says its type; only a PCI one is a function */
		if (streq(n, "address") && !w->have_addr &&
		    (!w->is_interface || (attr(atts, "type") && streq(attr(atts, "type"), "pci"))))
			source_addr(w, atts);
		break;
	}
	if (deeper)
		w->at++;
	else
		w->skip = w->depth;
}

static void XMLCALL end(void *data, const XML_Char *name)
{
	struct walk *w = data;

	if (w->skip == w->depth) {
		w->skip = 0;
	} else if (!w->skip) {
		if (w->at == AT_HOSTDEV)
			hostdev_end(w);
		w->at--;
	}
	w->depth--;
}

static XML_Parser parser_new(struct walk *w)
{
	XML_Parser p = XML_ParserCreateNS(NULL, NS_SEP);

	if (!p)
		return NULL;
	XML_SetUserData(p, w);
	XML_SetElementHandler(p, start, end);
	XML_SetXmlDeclHandler(p, xmldecl);
	XML_SetStartDoctypeDeclHandler(p, doctype);
	XML_SetEntityDeclHandler(p, entity);
	/* the default; said here because it must never change. Cannot fail before parsing starts. */
	(void)XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	return p;
}

static int parse(struct walk *w, const char *xml, size_t len)
{
	enum XML_Error e;

	if (XML_Parse(w->p, xml, (int)len, XML_TRUE) == XML_STATUS_OK)
		return w->r;
	e = XML_GetErrorCode(w->p);
	if (e == XML_ERROR_ABORTED) /* a handler stopped it and said why */
		return w->r;
	if (e == XML_ERROR_NO_MEMORY)
		return -ENOMEM;
	snprintf(w->err, w->size, "broken domain XML: line %lu: %s (column %lu)", line(w), XML_ErrorString(e),
		 (unsigned long)XML_GetCurrentColumnNumber(w->p) + 1);
	return -EINVAL;
}

int libvirt_domain_devices(const char *xml, size_t len, bool all, struct hook_devs *ret, char *err,
			   size_t size)
{
	struct walk w = {.all = all, .err = err, .size = size};
	int r;

	if (len > LIBVIRT_XML_MAX) {
		snprintf(err, size, "the domain XML is larger than %u bytes", LIBVIRT_XML_MAX);
		return -EFBIG;
	}
	if (!(w.p = parser_new(&w)))
		return -ENOMEM;
	r = parse(&w, xml, len);
	if (r == 0 && !w.is_domain) {
		snprintf(err, size, "the XML on stdin is not a libvirt <domain>");
		r = -EINVAL;
	}
	XML_ParserFree(w.p);
	if (r < 0) {
		hook_devs_free(&w.devs);
		return r;
	}
	*ret = w.devs;
	return 0;
}
