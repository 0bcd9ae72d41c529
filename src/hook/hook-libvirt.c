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

/* What the element being walked is; the path above it decides what it can be */
enum elem {
	E_OTHER,    /* skipped with all it holds */
	E_DOMAIN,   /* the root <domain> */
	E_NAME,	    /* /domain/name */
	E_DEVICES,  /* /domain/devices */
	E_HOSTDEV,  /* a PCI <hostdev>, or an <interface type='hostdev'>, of <devices> */
	E_SOURCE,   /* its <source>; its first <address> is the function */
	E_OS,	    /* /domain/os */
	E_LOADER,   /* /domain/os/loader */
	E_FIRMWARE, /* /domain/os/firmware */
};

#define DEPTH_MAX 8
#define TEXT_MAX  512

struct walk {
	XML_Parser p;
	enum elem path[DEPTH_MAX + 1]; /* path[depth]: the element open at that depth */
	unsigned long depth;
	unsigned long skip;	    /* depth of an element ignored with all it holds; 0 none */
	struct libvirt_hostdev cur; /* the hostdev being walked */
	bool have_addr;
	char text[TEXT_MAX]; /* the character data of <name> or <loader> */
	size_t text_len;
	struct libvirt_domain d;
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
	XML_SetCharacterDataHandler(w->p, NULL);
}

/* Refusals end the parse at once */
static void XMLCALL doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
			    int has_internal_subset)
{
	struct walk *w = data;

	fail(w, -EINVAL, "domain XML: line %lu: a DOCTYPE; libvirt never sends one, so it is refused", line(w));
	(void)XML_StopParser(w->p, XML_FALSE);
}

static void XMLCALL entity(void *data, const XML_Char *name, int is_parameter, const XML_Char *value, int value_length,
			   const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	struct walk *w = data;

	fail(w, -EINVAL, "domain XML: line %lu: an entity declaration; none is expanded, so it is refused", line(w));
	(void)XML_StopParser(w->p, XML_FALSE);
}

/* libxml2 refused a version other than '1.' and digits; expat does not look */
static void XMLCALL xmldecl(void *data, const XML_Char *version, const XML_Char *encoding, int standalone)
{
	struct walk *w = data;

	if (version && (strncmp(version, "1.", 2) != 0 || version[2 + strspn(version + 2, "0123456789")] != '\0')) {
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

/* managed='yes' only (libvirt's default is no; other values are not libvirt's) */
static bool is_managed(const XML_Char **atts)
{
	const char *managed = attr(atts, "managed");

	return managed && streq(managed, "yes");
}

/*
 * <hostdev mode='subsystem' type='pci'>, and <interface type='hostdev'>:
 * an SR-IOV VF as a guest NIC. domain_conf.c parses the latter with the
 * hostdev parser (managed read from <interface>, the PCI address from
 * <source><address type='pci'>) and puts it on the domain's hostdev list,
 * so virhostdev.c detaches it like any PCI <hostdev>.
 */
static enum elem device_elem(struct walk *w, const char *n, const XML_Char **atts)
{
	const char *mode = attr(atts, "mode"), *type = attr(atts, "type");
	bool iface = streq(n, "interface");

	if (iface && type && streq(type, "network"))
		w->d.n_network_ifaces++;
	if (iface ? !type || !streq(type, "hostdev")
		  : !streq(n, "hostdev") || !mode || !streq(mode, "subsystem") || !type || !streq(type, "pci"))
		return E_OTHER;
	w->cur = (struct libvirt_hostdev){ .managed = is_managed(atts), .interface = iface, .line = line(w) };
	w->have_addr = false;
	return E_HOSTDEV;
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
	w->cur.addr =
	    (struct pciaddr){ .domain = (uint32_t)dom, .bus = (uint8_t)bus, .dev = (uint8_t)slot, .fn = (uint8_t)fn };
	w->have_addr = true;
}

static int hostdev_push(struct walk *w)
{
	struct libvirt_hostdev *n = realloc(w->d.hostdevs, (w->d.n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	w->d.hostdevs = n;
	w->d.hostdevs[w->d.n++] = w->cur;
	w->cur.rom = NULL;
	return 0;
}

static void hostdev_end(struct walk *w)
{
	if (!w->have_addr && w->cur.interface) {
		free(w->cur.rom); /* a USB or absent source address: no PCI function */
		w->cur.rom = NULL;
		return;
	}
	if (!w->have_addr) {
		fail(w, -EINVAL, "domain XML: line %lu: a PCI <hostdev> without <source><address>", w->cur.line);
		return;
	}
	if (hostdev_push(w) < 0) {
		w->r = -ENOMEM;
		(void)XML_StopParser(w->p, XML_FALSE);
	}
}

static void set_str(struct walk *w, char **dst, const char *v)
{
	free(*dst);
	if (!(*dst = v ? strdup(v) : NULL) && v) {
		w->r = -ENOMEM;
		(void)XML_StopParser(w->p, XML_FALSE);
	}
}

/* <os firmware='efi'>, <type machine=...>, <loader type= secure=>, <firmware><feature enabled= name=> */
static void os_attrs(struct walk *w, enum elem parent, const char *n, const XML_Char **atts, enum elem *ret)
{
	const char *v;

	if (parent == E_OS && streq(n, "type")) {
		set_str(w, &w->d.machine, attr(atts, "machine"));
	} else if (parent == E_OS && streq(n, "loader")) {
		w->d.efi |= (v = attr(atts, "type")) && streq(v, "pflash");
		w->d.secure_boot |= (v = attr(atts, "secure")) && streq(v, "yes");
		*ret = E_LOADER;
	} else if (parent == E_OS && streq(n, "firmware")) {
		*ret = E_FIRMWARE;
	} else if (parent == E_FIRMWARE && streq(n, "feature") && (v = attr(atts, "enabled")) && streq(v, "yes")) {
		w->d.secure_boot |= (v = attr(atts, "name")) && streq(v, "secure-boot");
		w->d.enrolled_keys |= v && streq(v, "enrolled-keys");
	}
}

/* What an element is, from its parent and name; anything else is skipped with what it holds */
static enum elem classify(struct walk *w, enum elem parent, const char *n, const XML_Char **atts)
{
	enum elem e = E_OTHER;
	const char *v;

	switch (parent) {
	case E_OTHER:
		if (w->depth == 1 && streq(n, "domain"))
			e = E_DOMAIN;
		break;
	case E_DOMAIN:
		e = streq(n, "devices") ? E_DEVICES : streq(n, "name") ? E_NAME : streq(n, "os") ? E_OS : E_OTHER;
		if (e == E_OS)
			w->d.efi |= (v = attr(atts, "firmware")) && streq(v, "efi");
		/* <iommufd enabled='yes' fdgroup=.../> (libvirt 12.x) makes every PCI hostdev use the VFIO
		 * cdev unless its <driver iommufd='no'/> says otherwise */
		if (streq(n, "iommufd"))
			w->d.iommufd = (v = attr(atts, "enabled")) && streq(v, "yes");
		break;
	case E_DEVICES:
		e = device_elem(w, n, atts);
		break;
	case E_HOSTDEV:
		if (streq(n, "source"))
			e = E_SOURCE;
		/* as in libvirt's own tests/qemuxmlconfdata/iommufd.xml */
		else if (streq(n, "driver") && (v = attr(atts, "iommufd")))
			w->cur.driver_iommufd = streq(v, "yes") ? 'y' : streq(v, "no") ? 'n' : 0;
		else if (streq(n, "rom") && !w->cur.interface) {
			set_str(w, &w->cur.rom, attr(atts, "file"));
			w->cur.rom_bar_off |= (v = attr(atts, "bar")) && streq(v, "off");
		}
		break;
	case E_SOURCE:
		/* an interface's source address says its type; only a PCI one is a function */
		if (streq(n, "address") && !w->have_addr &&
		    (!w->cur.interface || ((v = attr(atts, "type")) && streq(v, "pci"))))
			source_addr(w, atts);
		break;
	case E_OS:
	case E_FIRMWARE:
		os_attrs(w, parent, n, atts, &e);
		break;
	default:
		break;
	}
	return e;
}

static void XMLCALL start(void *data, const XML_Char *name, const XML_Char **atts)
{
	struct walk *w = data;
	enum elem e;

	w->depth++;
	if (w->skip)
		return;
	e = w->depth <= DEPTH_MAX ? classify(w, w->depth > 1 ? w->path[w->depth - 1] : E_OTHER, local(name), atts)
				  : E_OTHER;
	if (e == E_OTHER) {
		w->skip = w->depth;
		return;
	}
	w->path[w->depth] = e;
	w->text_len = 0;
}

/* the text of <name> and <loader>, at most TEXT_MAX - 1 bytes of it */
static void XMLCALL chardata(void *data, const XML_Char *s, int len)
{
	struct walk *w = data;
	enum elem e = w->skip || !w->depth || w->depth > DEPTH_MAX ? E_OTHER : w->path[w->depth];
	size_t n = len > 0 ? (size_t)len : 0;

	if (e != E_NAME && e != E_LOADER)
		return;
	if (n > sizeof(w->text) - 1 - w->text_len)
		n = sizeof(w->text) - 1 - w->text_len;
	memcpy(w->text + w->text_len, s, n);
	w->text_len += n;
}

static void XMLCALL end(void *data, const XML_Char *name)
{
	struct walk *w = data;

	if (w->skip == w->depth) {
		w->skip = 0;
	} else if (!w->skip) {
		enum elem e = w->path[w->depth];

		w->text[w->text_len] = '\0';
		if (e == E_HOSTDEV)
			hostdev_end(w);
		else if (e == E_NAME && !w->d.name)
			set_str(w, &w->d.name, w->text);
		else if (e == E_LOADER)
			set_str(w, &w->d.loader, w->text);
		else if (e == E_DOMAIN)
			w->d.is_domain = true;
		w->text_len = 0;
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
	XML_SetCharacterDataHandler(p, chardata);
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

void libvirt_domain_free(struct libvirt_domain *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->hostdevs[i].rom);
	free(d->hostdevs);
	free(d->name);
	free(d->machine);
	free(d->loader);
	*d = (struct libvirt_domain){ 0 };
}

int libvirt_domain_parse(const char *xml, size_t len, struct libvirt_domain *ret, char *err, size_t size)
{
	struct walk w = { .err = err, .size = size };
	int r;

	if (len > LIBVIRT_XML_MAX) {
		snprintf(err, size, "the domain XML is larger than %u bytes", LIBVIRT_XML_MAX);
		return -EFBIG;
	}
	if (!(w.p = parser_new(&w)))
		return -ENOMEM;
	r = parse(&w, xml, len);
	if (r == 0 && !w.d.is_domain) {
		snprintf(err, size, "the XML on stdin is not a libvirt <domain>");
		r = -EINVAL;
	}
	XML_ParserFree(w.p);
	free(w.cur.rom);
	if (r < 0) {
		libvirt_domain_free(&w.d);
		return r;
	}
	/* a hostdev's own <driver iommufd=> wins over the domain's <iommufd enabled=> */
	for (size_t i = 0; i < w.d.n; i++) {
		struct libvirt_hostdev *h = &w.d.hostdevs[i];

		h->iommufd = h->driver_iommufd ? h->driver_iommufd == 'y' : w.d.iommufd;
	}
	*ret = w.d;
	return 0;
}

/*
 * libvirt detaches a managed device itself and refuses to start with an
 * unmanaged one still on a host driver ("Unmanaged PCI device %s must be
 * manually detached from the host", virHostdevPreparePCIDevicesImpl() in
 * src/hypervisor/virhostdev.c): managed='no' (the default) is ours, the
 * managed ones too when all.
 */
int libvirt_domain_devices(const char *xml, size_t len, bool all, struct hook_devs *ret, char *err, size_t size)
{
	struct libvirt_domain d;
	struct hook_devs devs = { 0 };
	int r = libvirt_domain_parse(xml, len, &d, err, size);

	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < d.n; i++) {
		char origin[32];

		if (d.hostdevs[i].managed && !all)
			continue;
		snprintf(origin, sizeof(origin), "%s at line %lu", d.hostdevs[i].interface ? "interface" : "hostdev",
			 d.hostdevs[i].line);
		r = hook_devs_add(&devs, &d.hostdevs[i].addr, origin);
	}
	libvirt_domain_free(&d);
	if (r < 0) {
		hook_devs_free(&devs);
		return r;
	}
	*ret = devs;
	return 0;
}
