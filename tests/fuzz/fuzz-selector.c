/* fuzz-selector.c - libFuzzer target: selector_parse, pciaddr_parse and the round trip parse(format(x)) == x */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcidev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *s)
{
	fprintf(stderr, "property violated: %s for '%s'\n", what, s);
	abort();
}

/* parse(format(a)) == a for every valid address */
static void round_trip(const struct pciaddr *a)
{
	char buf[PCIADDR_STRLEN];
	struct pciaddr b;
	struct selector sel;

	pciaddr_format(a, buf);
	if (pciaddr_parse(buf, &b) < 0 || pciaddr_cmp(a, &b) != 0)
		fail("pciaddr_parse(pciaddr_format(x)) != x", buf);
	if (selector_parse(buf, &sel) < 0 || sel.kind != SEL_FUNCTION || pciaddr_cmp(&sel.addr, a) != 0)
		fail("selector_parse(pciaddr_format(x)) is not that function", buf);
	if (!selector_matches(&sel, a, 0, 0))
		fail("a function selector does not match its own address", buf);
	if (selector_name_valid(buf))
		fail("an address is a valid section name", buf);
}

/* Raw bytes as an address: every domain, bus, slot 0..31, function 0..7 */
static void round_trip_raw(const uint8_t *data, size_t size)
{
	struct pciaddr a;

	if (size < 7)
		return;
	a.domain = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	a.bus = data[4];
	a.dev = data[5] & 0x1f;
	a.fn = data[6] & 0x7;
	round_trip(&a);
}

static void check_text(const char *s)
{
	struct selector sel;
	struct pciaddr a;

	if (pciaddr_parse(s, &a) == 0) {
		if (a.dev > 31 || a.fn > 7)
			fail("pciaddr_parse accepted an impossible address", s);
		round_trip(&a);
	}
	if (selector_parse(s, &sel) < 0) {
		if (selector_name_valid(s))
			fail("a valid name was refused by selector_parse", s);
		return;
	}
	switch (sel.kind) {
	case SEL_FUNCTION:
		if (pciaddr_parse(s, &a) < 0 && strlen(s) <= 64)
			fail("a function selector that pciaddr_parse refuses", s);
		round_trip(&sel.addr);
		break;
	case SEL_SLOT:
		if (sel.addr.fn != 0 || sel.addr.dev > 31)
			fail("a slot selector with a function or a bad slot", s);
		break;
	case SEL_IDS:
		if (!selector_matches(&sel, &a, sel.vendor, sel.device))
			fail("an ids selector does not match its own ids", s);
		break;
	case SEL_NAME:
		if (strcmp(sel.name, s) != 0 || !selector_name_valid(sel.name))
			fail("a name selector that is not the input, or not valid", s);
		break;
	default:
		fail("unknown selector kind", s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	round_trip_raw(data, size);
	if (!(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_text(s);
	free(s);
	return 0;
}
