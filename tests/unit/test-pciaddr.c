/* test-pciaddr.c - unit tests for PCI address and selector parsing */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "harness.h"
#include "pcidev.h"

struct addr_case {
	const char *in;
	const char *out; /* formatted, NULL: must be rejected */
};

static const struct addr_case addr_cases[] = {
	{ "0000:00:00.0", "0000:00:00.0" },
	{ "0000:82:00.1", "0000:82:00.1" },
	{ "82:00.1", "0000:82:00.1" },
	{ "00:1f.7", "0000:00:1f.7" },
	{ "0000:FF:1F.7", "0000:ff:1f.7" },
	{ "ABCD:0a:1B.3", "abcd:0a:1b.3" },
	{ "10000:00:00.0", "10000:00:00.0" }, /* VMD */
	{ "1000a:e1:02.5", "1000a:e1:02.5" },
	{ "ffffffff:ff:1f.7", "ffffffff:ff:1f.7" },
	{ "00000001:02:03.4", "0001:02:03.4" },
	/* rejected */
	{ "", NULL },
	{ "0", NULL },
	{ ".", NULL },
	{ ":", NULL },
	{ "0000:82:00", NULL }, /* a slot, not a function */
	{ "82:00", NULL },
	{ "10de:2204", NULL },
	{ "000:82:00.0", NULL },        /* domain too short */
	{ "123456789:82:00.0", NULL },  /* domain too long */
	{ "0000:8:00.0", NULL },        /* bus one digit */
	{ "0000:082:00.0", NULL },      /* bus three digits */
	{ "0000:82:0.0", NULL },        /* slot one digit */
	{ "0000:82:000.0", NULL },      /* slot three digits */
	{ "0000:82:20.0", NULL },       /* slot > 0x1f */
	{ "0000:82:ff.0", NULL },
	{ "0000:82:00.8", NULL },       /* function > 7 */
	{ "0000:82:00.9", NULL },
	{ "0000:82:00.a", NULL },
	{ "0000:82:00.00", NULL },      /* function two digits */
	{ "0000:82:00.", NULL },
	{ "0000:82:00.-1", NULL },
	{ "0000:82.00.0", NULL },
	{ "0000-82:00.0", NULL },
	{ "0000:82:00:0", NULL },
	{ "0000::82:00.0", NULL },
	{ ":82:00.0", NULL },
	{ "0000:82:00.0:", NULL },
	{ "0000:0000:82:00.0", NULL },
	{ "0x00:82:00.0", NULL },
	{ "0000:0x:00.0", NULL },
	{ "+000:82:00.0", NULL },
	{ "0000:+8:00.0", NULL },
	{ "0000:82:+0.0", NULL },
	{ "0000:82:00.+", NULL },
	{ "-000:82:00.0", NULL },
	{ "g000:82:00.0", NULL },
	{ "0000:8g:00.0", NULL },
	{ " 0000:82:00.0", NULL },
	{ "0000:82:00.0 ", NULL },
	{ "0000: 82:00.0", NULL },
	{ "0000:82 :00.0", NULL },
	{ "\t0000:82:00.0", NULL },
	{ "0000:82:00.0\n", NULL },
	{ "0000:82:00.0\r", NULL },
	{ "../0000:00:00.0", NULL },
	{ "0000:00:00.0/..", NULL },
	{ "0000:00:00.0/", NULL },
	{ "/sys/bus/pci/devices/0000:00:00.0", NULL },
	{ "gpu", NULL },
	{ "0000:82:00.1,0000:82:00.0", NULL },
	{ "0000:82:00.0\x01", NULL },
	{ "\xff\xff:82:00.0", NULL },
};

TEST(pciaddr_table)
{
	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct pciaddr a = { .domain = 0xdead, .bus = 0xbe, .dev = 0xef, .fn = 9 };
		char buf[PCIADDR_STRLEN];
		int r = pciaddr_parse(c->in, &a);

		if (!c->out) {
			if (r != -EINVAL)
				FAIL_AT("pciaddr_parse(\"%s\") = %d, expected -EINVAL", c->in, r);
			/* ret untouched on failure */
			ASSERT_INT_EQ(a.domain, 0xdead);
			ASSERT_INT_EQ(a.fn, 9);
			continue;
		}
		if (r != 0)
			FAIL_AT("pciaddr_parse(\"%s\") = %d, expected 0", c->in, r);
		pciaddr_format(&a, buf);
		if (strcmp(buf, c->out) != 0)
			FAIL_AT("\"%s\" formats as \"%s\", expected \"%s\"", c->in, buf, c->out);
	}
}

TEST(pciaddr_fields)
{
	struct pciaddr a;

	ASSERT_INT_EQ(pciaddr_parse("10000:e1:1f.6", &a), 0);
	ASSERT_INT_EQ(a.domain, 0x10000);
	ASSERT_INT_EQ(a.bus, 0xe1);
	ASSERT_INT_EQ(a.dev, 0x1f);
	ASSERT_INT_EQ(a.fn, 6);
	ASSERT_INT_EQ(pciaddr_parse("3b:02.3", &a), 0);
	ASSERT_INT_EQ(a.domain, 0);
	ASSERT_INT_EQ(a.bus, 0x3b);
	ASSERT_INT_EQ(a.dev, 2);
	ASSERT_INT_EQ(a.fn, 3);
}

TEST(pciaddr_hostile_lengths)
{
	char big[4096 + 1];
	struct pciaddr a;
	struct selector sel;

	/* a valid address followed by 4 KB of padding */
	memset(big, '0', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + sizeof(big) - 1 - 12, "0000:00:00.0", 12);
	ASSERT_INT_EQ(pciaddr_parse(big, &a), -EINVAL);
	ASSERT_INT_EQ(selector_parse(big, &sel), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	ASSERT_INT_EQ(selector_parse(big, &sel), -EINVAL);
	ASSERT_FALSE(selector_name_valid(big));
	/* 64 characters is the input limit: a 63-char name passes, 64 does not */
	big[63] = '\0';
	ASSERT_TRUE(selector_name_valid(big));
	ASSERT_INT_EQ(selector_parse(big, &sel), 0);
	ASSERT_INT_EQ(sel.kind, SEL_NAME);
	ASSERT_INT_EQ(strlen(sel.name), 63);
	big[63] = 'a';
	big[64] = '\0';
	ASSERT_FALSE(selector_name_valid(big));
	ASSERT_INT_EQ(selector_parse(big, &sel), -EINVAL);
	ASSERT_INT_EQ(pciaddr_parse(NULL, &a), -EINVAL);
	ASSERT_INT_EQ(selector_parse(NULL, &sel), -EINVAL);
	ASSERT_FALSE(selector_name_valid(NULL));
}

TEST(pciaddr_embedded_nul)
{
	/* the length is strlen(): what follows a NUL is not seen */
	static const char s[] = "0000:82:00.0\0garbage";
	struct pciaddr a;

	ASSERT_INT_EQ(pciaddr_parse(s, &a), 0);
	ASSERT_INT_EQ(a.bus, 0x82);
	static const char t[] = "0000:82\0:00.0";
	ASSERT_INT_EQ(pciaddr_parse(t, &a), -EINVAL);
}

TEST(pciaddr_format_widths)
{
	struct pciaddr a = { .domain = 0xabcdef01, .bus = 0xff, .dev = 0x1f, .fn = 7 };
	char buf[PCIADDR_STRLEN];

	pciaddr_format(&a, buf);
	ASSERT_STR_EQ(buf, "abcdef01:ff:1f.7");
	a = (struct pciaddr){ 0 };
	pciaddr_format(&a, buf);
	ASSERT_STR_EQ(buf, "0000:00:00.0");
}

TEST(pciaddr_compare)
{
	struct pciaddr a, b;

	ASSERT_INT_EQ(pciaddr_parse("0000:82:00.0", &a), 0);
	ASSERT_INT_EQ(pciaddr_parse("0000:82:00.1", &b), 0);
	ASSERT_TRUE(pciaddr_cmp(&a, &b) < 0);
	ASSERT_TRUE(pciaddr_cmp(&b, &a) > 0);
	ASSERT_INT_EQ(pciaddr_cmp(&a, &a), 0);
	ASSERT_TRUE(pciaddr_same_slot(&a, &b));
	ASSERT_INT_EQ(pciaddr_parse("0000:82:01.0", &b), 0);
	ASSERT_TRUE(pciaddr_cmp(&a, &b) < 0);
	ASSERT_FALSE(pciaddr_same_slot(&a, &b));
	ASSERT_INT_EQ(pciaddr_parse("0000:81:1f.7", &b), 0);
	ASSERT_TRUE(pciaddr_cmp(&a, &b) > 0);
	ASSERT_FALSE(pciaddr_same_slot(&a, &b));
	/* the domain ranks first, compared as a number (not as text) */
	ASSERT_INT_EQ(pciaddr_parse("10000:00:00.0", &b), 0);
	ASSERT_TRUE(pciaddr_cmp(&a, &b) < 0);
	ASSERT_INT_EQ(pciaddr_parse("0001:82:00.0", &b), 0);
	ASSERT_FALSE(pciaddr_same_slot(&a, &b));
	ASSERT_TRUE(pciaddr_cmp(&b, &a) > 0);
}

struct sel_case {
	const char *in;
	int kind; /* -1: rejected */
	const char *addr; /* FUNCTION, SLOT: formatted */
	unsigned vendor, device;
};

static const struct sel_case sel_cases[] = {
	{ "0000:82:00.0", SEL_FUNCTION, "0000:82:00.0", 0, 0 },
	{ "82:00.3", SEL_FUNCTION, "0000:82:00.3", 0, 0 },
	{ "10000:01:00.0", SEL_FUNCTION, "10000:01:00.0", 0, 0 },
	{ "0000:82:00", SEL_SLOT, "0000:82:00.0", 0, 0 },
	{ "82:00", SEL_SLOT, "0000:82:00.0", 0, 0 },
	{ "0001:AF:1F", SEL_SLOT, "0001:af:1f.0", 0, 0 },
	{ "10000:e1:00", SEL_SLOT, "10000:e1:00.0", 0, 0 },
	{ "10de:2204", SEL_IDS, NULL, 0x10de, 0x2204 },
	{ "10DE:1AEF", SEL_IDS, NULL, 0x10de, 0x1aef },
	{ "8086:0000", SEL_IDS, NULL, 0x8086, 0 },
	{ "gpu", SEL_NAME, NULL, 0, 0 },
	{ "_x", SEL_NAME, NULL, 0, 0 },
	{ "deadbeef", SEL_NAME, NULL, 0, 0 },
	{ "gpu-1.audio_2", SEL_NAME, NULL, 0, 0 },
	{ "ab", SEL_NAME, NULL, 0, 0 },
	/* rejected */
	{ "", -1, NULL, 0, 0 },
	{ "ab:cd", -1, NULL, 0, 0 },
	{ "82:20", -1, NULL, 0, 0 },      /* slot > 0x1f */
	{ "10de:220", -1, NULL, 0, 0 },   /* 4:3 */
	{ "10de:22044", -1, NULL, 0, 0 }, /* 4:5 */
	{ "10d:2204", -1, NULL, 0, 0 },
	{ "0x10de:0x2204", -1, NULL, 0, 0 },
	{ "0000:82", -1, NULL, 0, 0 },
	{ "82", -1, NULL, 0, 0 },
	{ "1gpu", -1, NULL, 0, 0 },
	{ "-gpu", -1, NULL, 0, 0 },
	{ ".gpu", -1, NULL, 0, 0 },
	{ "gpu one", -1, NULL, 0, 0 },
	{ "gpu\n", -1, NULL, 0, 0 },
	{ " gpu", -1, NULL, 0, 0 },
	{ "gpu/../x", -1, NULL, 0, 0 },
	{ "../0000:00:00.0", -1, NULL, 0, 0 },
	{ "0000:00:00.0\n", -1, NULL, 0, 0 },
	{ "0000:00:00 ", -1, NULL, 0, 0 },
	{ "10de:2204 ", -1, NULL, 0, 0 },
	{ "gpu$x", -1, NULL, 0, 0 },
	{ "gpu;reboot", -1, NULL, 0, 0 },
	{ "gp\xc3\xbc", -1, NULL, 0, 0 },
};

TEST(selector_table)
{
	for (size_t i = 0; i < sizeof(sel_cases) / sizeof(sel_cases[0]); i++) {
		const struct sel_case *c = &sel_cases[i];
		struct selector sel = { .kind = 99 };
		char buf[PCIADDR_STRLEN];
		int r = selector_parse(c->in, &sel);

		if (c->kind < 0) {
			if (r != -EINVAL)
				FAIL_AT("selector_parse(\"%s\") = %d, expected -EINVAL", c->in, r);
			ASSERT_INT_EQ(sel.kind, 99);
			continue;
		}
		if (r != 0 || (int)sel.kind != c->kind)
			FAIL_AT("selector_parse(\"%s\") = %d kind %d, expected kind %d", c->in, r, sel.kind, c->kind);
		if (c->addr) {
			pciaddr_format(&sel.addr, buf);
			if (strcmp(buf, c->addr) != 0)
				FAIL_AT("\"%s\" -> %s, expected %s", c->in, buf, c->addr);
		}
		if (sel.kind == SEL_IDS && (sel.vendor != c->vendor || sel.device != c->device))
			FAIL_AT("\"%s\" -> %04x:%04x", c->in, sel.vendor, sel.device);
		if (sel.kind == SEL_NAME && strcmp(sel.name, c->in) != 0)
			FAIL_AT("\"%s\" -> name \"%s\"", c->in, sel.name);
	}
}

TEST(selector_name_rules)
{
	ASSERT_TRUE(selector_name_valid("gpu"));
	ASSERT_TRUE(selector_name_valid("G"));
	ASSERT_TRUE(selector_name_valid("_"));
	ASSERT_TRUE(selector_name_valid("deadbeef"));
	ASSERT_TRUE(selector_name_valid("nic.port-0_a"));
	ASSERT_FALSE(selector_name_valid(""));
	ASSERT_FALSE(selector_name_valid("ab:cd"));
	ASSERT_FALSE(selector_name_valid("82:00"));
	ASSERT_FALSE(selector_name_valid("10de:2204"));
	ASSERT_FALSE(selector_name_valid("0000:82:00.0"));
	ASSERT_FALSE(selector_name_valid("9lives"));
	ASSERT_FALSE(selector_name_valid("a b"));
	ASSERT_FALSE(selector_name_valid("a/b"));
	ASSERT_FALSE(selector_name_valid("a=b"));
	ASSERT_FALSE(selector_name_valid("a]"));
	ASSERT_FALSE(selector_name_valid("a\tb"));
}

TEST(selector_matching)
{
	struct selector fn, slot, ids, name;
	struct pciaddr a0, a1, other;

	ASSERT_INT_EQ(selector_parse("0000:82:00.1", &fn), 0);
	ASSERT_INT_EQ(selector_parse("82:00", &slot), 0);
	ASSERT_INT_EQ(selector_parse("10de:1aef", &ids), 0);
	ASSERT_INT_EQ(selector_parse("gpu", &name), 0);
	ASSERT_INT_EQ(pciaddr_parse("0000:82:00.0", &a0), 0);
	ASSERT_INT_EQ(pciaddr_parse("0000:82:00.1", &a1), 0);
	ASSERT_INT_EQ(pciaddr_parse("0001:82:00.1", &other), 0);

	ASSERT_FALSE(selector_matches(&fn, &a0, 0x10de, 0x2204));
	ASSERT_TRUE(selector_matches(&fn, &a1, 0x10de, 0x1aef));
	ASSERT_FALSE(selector_matches(&fn, &other, 0x10de, 0x1aef));
	ASSERT_TRUE(selector_matches(&slot, &a0, 0, 0));
	ASSERT_TRUE(selector_matches(&slot, &a1, 0, 0));
	ASSERT_FALSE(selector_matches(&slot, &other, 0, 0));
	ASSERT_TRUE(selector_matches(&ids, &other, 0x10de, 0x1aef));
	ASSERT_FALSE(selector_matches(&ids, &a0, 0x10de, 0x2204));
	ASSERT_FALSE(selector_matches(&ids, &a0, 0x1aef, 0x10de));
	ASSERT_FALSE(selector_matches(&name, &a0, 0x10de, 0x2204));
}

TEST(driver_vfio_names)
{
	ASSERT_TRUE(driver_is_vfio("vfio-pci"));
	ASSERT_TRUE(driver_is_vfio("vfio_pci"));
	ASSERT_TRUE(driver_is_vfio("mlx5-vfio-pci"));
	ASSERT_TRUE(driver_is_vfio("mlx5_vfio_pci"));
	ASSERT_TRUE(driver_is_vfio("hisi_acc_vfio_pci"));
	ASSERT_TRUE(driver_is_vfio("vfio-pci-igd"));
	ASSERT_FALSE(driver_is_vfio(NULL));
	ASSERT_FALSE(driver_is_vfio(""));
	ASSERT_FALSE(driver_is_vfio("vfio"));
	ASSERT_FALSE(driver_is_vfio("nvidia"));
	ASSERT_FALSE(driver_is_vfio("vfio-pcx"));
	ASSERT_FALSE(driver_is_vfio("xvfio-pci"));
	ASSERT_FALSE(driver_is_vfio("pci-stub"));
	ASSERT_FALSE(driver_is_vfio("vfio-platform"));

	ASSERT_TRUE(driver_is_vfio_safe("vfio-pci"));
	ASSERT_TRUE(driver_is_vfio_safe("mlx5_vfio_pci"));
	ASSERT_TRUE(driver_is_vfio_safe("pci-stub"));
	ASSERT_FALSE(driver_is_vfio_safe("pci-stubx"));
	ASSERT_FALSE(driver_is_vfio_safe("snd_hda_intel"));
	ASSERT_FALSE(driver_is_vfio_safe(NULL));
}

HARNESS_MAIN
