/* pciaddr.c - PCI addresses and selectors: strict parsing, formatting, matching */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pciaddr.h"
#include "util.h"

/* Longer input is hostile or a mistake; refuse it before looking inside. */
#define SELECTOR_INPUT_MAX 64

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly n hex digits (n <= 8), nothing else */
static bool parse_hex_exact(const char *s, size_t n, uint32_t *ret)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hexdigit(s[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*ret = v;
	return true;
}

/* "1:2 digits" of a form: how many hex digits each part of an address may have */
struct addr_form {
	size_t dom_min, dom_max, bus_min, dev_min;
};

/* as the kernel writes it: a domain of 4..8 digits (VMD domains have 5), bus and slot exactly 2 */
static const struct addr_form canonical = { 4, 8, 2, 2 };
/* as lspci -s takes it from a user: "[[DOMAIN:]BUS:]SLOT", each part 1 digit at least (bus required here) */
static const struct addr_form short_form = { 1, 8, 1, 1 };

/* 1 to max hex digits, at least min, the whole of [s, s + n) */
static bool parse_hex_part(const char *s, size_t n, size_t min, size_t max, uint32_t *ret)
{
	return n >= min && n <= max && parse_hex_exact(s, n, ret);
}

/*
 * "[DOMAIN:]BUS:SLOT" and, when *has_fn (or it is found, for a caller that
 * passes has_fn as "may"), ".F" with F one octal digit; the parts' digits
 * as the form says. The one address parser: canonical addresses and the
 * short forms a user types differ only in how many digits a part has.
 */
static bool parse_addr_form(const char *s, size_t len, const struct addr_form *form, int fn_wanted, struct pciaddr *ret,
			    bool *ret_has_fn)
{
	const char *dot = memchr(s, '.', len), *c1 = memchr(s, ':', len), *c2;
	uint32_t dom = 0, bus, dev, fn = 0;
	size_t end = dot ? (size_t)(dot - s) : len;

	if ((fn_wanted == 1 && !dot) || (fn_wanted == 0 && dot) || !c1 || (size_t)(c1 - s) >= end)
		return false;
	if (dot && (len - end != 2 || dot[1] < '0' || dot[1] > '7'))
		return false;
	c2 = memchr(c1 + 1, ':', end - (size_t)(c1 + 1 - s));
	if (c2 && !parse_hex_part(s, (size_t)(c1 - s), form->dom_min, form->dom_max, &dom))
		return false;
	if (c2)
		c1++;
	else
		c2 = c1, c1 = s;
	if (!parse_hex_part(c1, (size_t)(c2 - c1), form->bus_min, 2, &bus) ||
	    !parse_hex_part(c2 + 1, end - (size_t)(c2 + 1 - s), form->dev_min, 2, &dev) || dev > 0x1f)
		return false;
	if (dot)
		fn = (uint32_t)(dot[1] - '0');
	*ret = (struct pciaddr){ .domain = dom, .bus = (uint8_t)bus, .dev = (uint8_t)dev, .fn = (uint8_t)fn };
	if (ret_has_fn)
		*ret_has_fn = dot;
	return true;
}

/* "[DDDD:]BB:SS" followed by ".F" when with_fn: the canonical form */
static bool parse_addr(const char *s, size_t len, bool with_fn, struct pciaddr *ret)
{
	return parse_addr_form(s, len, &canonical, with_fn, ret, NULL);
}

/* strlen, or SIZE_MAX when the input is NULL or longer than we accept */
static size_t input_len(const char *s)
{
	size_t n;

	if (!s)
		return SIZE_MAX;
	n = strnlen(s, SELECTOR_INPUT_MAX + 1);
	return n > SELECTOR_INPUT_MAX ? SIZE_MAX : n;
}

int pciaddr_parse(const char *s, struct pciaddr *ret)
{
	size_t len = input_len(s);
	struct pciaddr a;

	if (len == SIZE_MAX || !parse_addr(s, len, true, &a))
		return -EINVAL;
	*ret = a;
	return 0;
}

void pciaddr_format(const struct pciaddr *a, char *buf)
{
	(void)snprintf(buf, PCIADDR_STRLEN, "%04x:%02x:%02x.%x", (unsigned)a->domain, (unsigned)a->bus,
		       (unsigned)a->dev, (unsigned)a->fn);
}

static int cmp_u32(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

int pciaddr_cmp(const struct pciaddr *a, const struct pciaddr *b)
{
	if (a->domain != b->domain)
		return cmp_u32(a->domain, b->domain);
	if (a->bus != b->bus)
		return cmp_u32(a->bus, b->bus);
	if (a->dev != b->dev)
		return cmp_u32(a->dev, b->dev);
	return cmp_u32(a->fn, b->fn);
}

bool pciaddr_same_slot(const struct pciaddr *a, const struct pciaddr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}

/* "VVVV:DDDD", four hex digits each side */
static bool parse_ids(const char *s, size_t len, uint16_t *ret_vendor, uint16_t *ret_device)
{
	uint32_t v, d;

	if (len != 9 || s[4] != ':' || !parse_hex_exact(s, 4, &v) || !parse_hex_exact(s + 5, 4, &d))
		return false;
	*ret_vendor = (uint16_t)v;
	*ret_device = (uint16_t)d;
	return true;
}

/* The address and ids forms, without the name fallback */
static bool parse_numeric(const char *s, size_t len, struct selector *sel)
{
	if (parse_addr(s, len, true, &sel->addr))
		sel->kind = SEL_FUNCTION;
	else if (parse_addr(s, len, false, &sel->addr))
		sel->kind = SEL_SLOT;
	else if (parse_ids(s, len, &sel->vendor, &sel->device))
		sel->kind = SEL_IDS;
	else
		return false;
	return true;
}

static bool name_char(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '.' || c == '-');
}

bool selector_name_valid(const char *s)
{
	size_t len = input_len(s);
	struct selector tmp;

	if (len == 0 || len >= SELECTOR_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i], i == 0))
			return false;
	/* no name can hold ':' today; keep the rule explicit should that change */
	return !parse_numeric(s, len, &tmp);
}

int selector_parse(const char *s, struct selector *ret)
{
	size_t len = input_len(s);
	struct selector sel = { 0 };

	if (len == SIZE_MAX)
		return -EINVAL;
	if (!parse_numeric(s, len, &sel)) {
		if (!selector_name_valid(s))
			return -EINVAL;
		sel.kind = SEL_NAME;
		memcpy(sel.name, s, len + 1);
	}
	*ret = sel;
	return 0;
}

/* "[[DOMAIN:]BUS:]SLOT[.FN]" as lspci -s reads it, bus and slot required here */
static bool parse_short_addr(const char *s, size_t len, struct selector *sel)
{
	bool has_fn;

	if (!parse_addr_form(s, len, &short_form, -1, &sel->addr, &has_fn))
		return false;
	sel->kind = has_fn ? SEL_FUNCTION : SEL_SLOT;
	return true;
}

int selector_parse_user(const char *s, struct selector *ret)
{
	size_t len = input_len(s);
	struct selector sel = { 0 };

	if (len != SIZE_MAX && !parse_numeric(s, len, &sel) && parse_short_addr(s, len, &sel)) {
		*ret = sel;
		return 0;
	}
	return selector_parse(s, ret);
}

bool selector_matches(const struct selector *sel, const struct pciaddr *a, uint16_t vendor, uint16_t device)
{
	switch (sel->kind) {
	case SEL_FUNCTION:
		return pciaddr_cmp(&sel->addr, a) == 0;
	case SEL_SLOT:
		return pciaddr_same_slot(&sel->addr, a);
	case SEL_IDS:
		return sel->vendor == vendor && sel->device == device;
	case SEL_NAME:
		break;
	}
	return false;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && streq(s + n - m, suffix);
}

bool driver_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	/* no leading '-': a name is never taken for an option of modprobe */
	return n >= 1 && n < DRIVER_NAME_MAX && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int dsn_parse(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || strlen(s) != DSN_STRLEN - 1)
		return -EINVAL;
	for (size_t i = 0; i < DSN_STRLEN - 1; i++) {
		char c = s[i];

		if (i % 3 == 2) {
			if (c != '-')
				return -EINVAL;
			continue;
		}
		if (!isxdigit((unsigned char)c))
			return -EINVAL;
		v = v << 4 | (uint64_t)(isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
	}
	*ret = v;
	return 0;
}

void dsn_format(uint64_t dsn, char buf[static DSN_STRLEN])
{
	for (int i = 0; i < 8; i++)
		(void)snprintf(buf + i * 3, 4, "%02x%s", (unsigned)(dsn >> (56 - 8 * i)) & 0xff, i < 7 ? "-" : "");
}

bool slot_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n < 64 && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == n;
}

bool driver_is_vfio(const char *driver)
{
	if (!driver)
		return false;
	/* vendor variants: kernel names use '_' (mlx5_vfio_pci), some docs '-' */
	return strncmp(driver, "vfio-pci", 8) == 0 || strncmp(driver, "vfio_pci", 8) == 0 ||
	       has_suffix(driver, "-vfio-pci") || has_suffix(driver, "_vfio_pci");
}

bool driver_is_vfio_safe(const char *driver)
{
	return driver_is_vfio(driver) || streq_null(driver, "pci-stub");
}
