/* test-config.c - unit tests for the configuration parser, its rules and the file loader */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "util.h"

/* ---- helpers ---- */

/* parse one "file" and run the cross-file checks, like config_load */
static int parse_all(const char *text, struct config **ret, struct config_error *err)
{
	struct config *cfg = config_new();
	int r;

	memset(err, 0, sizeof(*err));
	if (!cfg)
		return -ENOMEM;
	r = config_parse_text(cfg, text, "t.conf", err);
	if (r == 0)
		r = config_finish(cfg, err);
	if (ret && r == 0)
		*ret = cfg;
	else
		config_free(cfg);
	return r;
}

static const char *fmt_sel(const struct selector *s, char *buf)
{
	pciaddr_format(&s->addr, buf);
	if (s->kind == SEL_SLOT)
		buf[strlen(buf) - 2] = '\0';
	return buf;
}

/* ---- valid files ---- */

static const char example_text[] = "; comment\n"
			      "# another comment\n"
			      "[pcibind]\n"
			      "driver = vfio-pci            ; the default target\n"
			      "unbind_timeout = 25          ; seconds\n"
			      "\n"
			      "[gpu]\n"
			      "address = 0000:82:00         ; a slot\n"
			      "ids = 10de:2204,10de:1aef\n"
			      "driver = pci-stub\n"
			      "boot = yes\n"
			      "\n"
			      "[nic]\n"
			      "address = 03:00.0, 03:00.1\t10000:e1:00.7\n"
			      "boot = off\n"
			      "[by-ids]\n"
			      "ids = 8086:1521\n";

TEST(parse_example)
{
	struct config *cfg = NULL;
	struct config_error e;
	const struct devset *s;
	char buf[PCIADDR_STRLEN];

	ASSERT_INT_EQ(parse_all(example_text, &cfg, &e), 0);
	ASSERT_STR_EQ(cfg->driver, "vfio-pci");
	ASSERT_INT_EQ(cfg->unbind_timeout, 25);
	ASSERT_INT_EQ(cfg->driver_origin.line, 4);
	ASSERT_STR_EQ(cfg->driver_origin.file, "t.conf");
	ASSERT_INT_EQ(cfg->unbind_timeout_origin.line, 5);
	ASSERT_INT_EQ(cfg->n_sets, 3);

	s = &cfg->sets[0];
	ASSERT_STR_EQ(s->name, "gpu");
	ASSERT_STR_EQ(s->file, "t.conf");
	ASSERT_INT_EQ(s->line, 7);
	ASSERT_INT_EQ(s->n_addrs, 1);
	ASSERT_INT_EQ(s->addrs[0].kind, SEL_SLOT);
	ASSERT_STR_EQ(fmt_sel(&s->addrs[0], buf), "0000:82:00");
	ASSERT_INT_EQ(s->n_ids, 2);
	ASSERT_INT_EQ(s->ids[0].vendor, 0x10de);
	ASSERT_INT_EQ(s->ids[0].device, 0x2204);
	ASSERT_INT_EQ(s->ids[1].device, 0x1aef);
	ASSERT_STR_EQ(s->driver, "pci-stub");
	ASSERT_TRUE(s->boot);
	ASSERT_STR_EQ(devset_driver(cfg, s), "pci-stub");

	s = &cfg->sets[1];
	ASSERT_STR_EQ(s->name, "nic");
	ASSERT_INT_EQ(s->line, 13);
	ASSERT_INT_EQ(s->n_addrs, 3);
	ASSERT_INT_EQ(s->addrs[0].kind, SEL_FUNCTION);
	ASSERT_STR_EQ(fmt_sel(&s->addrs[0], buf), "0000:03:00.0");
	ASSERT_STR_EQ(fmt_sel(&s->addrs[1], buf), "0000:03:00.1");
	ASSERT_STR_EQ(fmt_sel(&s->addrs[2], buf), "10000:e1:00.7");
	ASSERT_INT_EQ(s->n_ids, 0);
	ASSERT_NULL(s->driver);
	ASSERT_FALSE(s->boot);
	ASSERT_STR_EQ(devset_driver(cfg, s), "vfio-pci");

	s = &cfg->sets[2];
	ASSERT_STR_EQ(s->name, "by-ids");
	ASSERT_INT_EQ(s->n_addrs, 0);
	ASSERT_INT_EQ(s->n_ids, 1);
	ASSERT_INT_EQ(s->ids[0].vendor, 0x8086);
	ASSERT_INT_EQ(s->ids[0].device, 0x1521);

	ASSERT_TRUE(config_find_set(cfg, "nic") == &cfg->sets[1]);
	ASSERT_NULL(config_find_set(cfg, "pcibind"));
	ASSERT_NULL(config_find_set(cfg, "GPU"));
	ASSERT_NULL(config_find_set(cfg, NULL));
	config_free(cfg);
}

TEST(defaults)
{
	struct config *cfg = config_new();
	struct config_error e;

	ASSERT_NOT_NULL(cfg);
	ASSERT_STR_EQ(cfg->driver, CONFIG_DEFAULT_DRIVER);
	ASSERT_STR_EQ(cfg->driver, "vfio-pci");
	ASSERT_INT_EQ(cfg->unbind_timeout, 10);
	ASSERT_INT_EQ(cfg->n_sets, 0);
	ASSERT_NULL(cfg->driver_origin.file);
	ASSERT_INT_EQ(config_parse_text(cfg, "", "t.conf", &e), 0);
	ASSERT_INT_EQ(config_parse_text(cfg, "\n\n; only comments\n", "t.conf", &e), 0);
	ASSERT_INT_EQ(config_finish(cfg, &e), 0);
	ASSERT_INT_EQ(cfg->n_sets, 0);
	ASSERT_STR_EQ(devset_driver(cfg, NULL), "vfio-pci");
	ASSERT_STR_EQ(devset_driver(NULL, NULL), "vfio-pci");
	config_free(cfg);
	config_free(NULL);
}

TEST(global_driver_is_the_default_target)
{
	struct config *cfg = NULL;
	struct config_error e;

	ASSERT_INT_EQ(parse_all("[pcibind]\ndriver = pci-stub\n[a]\naddress = 01:00.0\n", &cfg, &e), 0);
	ASSERT_STR_EQ(devset_driver(cfg, &cfg->sets[0]), "pci-stub");
	config_free(cfg);
}

struct bool_case {
	const char *word;
	bool val;
};

TEST(boot_words)
{
	static const struct bool_case cases[] = {
		{ "yes", true }, { "true", true },   { "on", true },   { "1", true },  { "YES", true },
		{ "On", true },  { "no", false },    { "false", false }, { "off", false }, { "0", false },
		{ "NO", false }, { "False", false },
	};
	char text[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config *cfg = NULL;
		struct config_error e;

		snprintf(text, sizeof(text), "[a]\naddress = 01:00\nboot = %s\n", cases[i].word);
		if (parse_all(text, &cfg, &e) != 0)
			FAIL_AT("boot = %s: %s", cases[i].word, e.msg);
		if (cfg->sets[0].boot != cases[i].val) {
			config_free(cfg);
			FAIL_AT("boot = %s gave %d", cases[i].word, !cases[i].val);
		}
		config_free(cfg);
	}
}

TEST(timeout_range)
{
	struct config *cfg = NULL;
	struct config_error e;

	ASSERT_INT_EQ(parse_all("[pcibind]\nunbind_timeout = 1\n", &cfg, &e), 0);
	ASSERT_INT_EQ(cfg->unbind_timeout, 1);
	config_free(cfg);
	ASSERT_INT_EQ(parse_all("[pcibind]\nunbind_timeout = 600\n", &cfg, &e), 0);
	ASSERT_INT_EQ(cfg->unbind_timeout, 600);
	config_free(cfg);
	ASSERT_INT_EQ(parse_all("[pcibind]\nunbind_timeout = 060\n", &cfg, &e), 0);
	ASSERT_INT_EQ(cfg->unbind_timeout, 60);
	config_free(cfg);
}

TEST(continuation_lines)
{
	struct config *cfg = NULL;
	struct config_error e;
	char buf[PCIADDR_STRLEN];
	static const char text[] = "[nic]\n"
				   "address = 03:00.0 ; first port\n"
				   "          03:00.1 ; second port\n"
				   "\n"
				   "\t04:00\n"
				   "ids = 8086:1521,\n"
				   "  8086:1522\n"
				   "boot = yes\n";

	ASSERT_INT_EQ(parse_all(text, &cfg, &e), 0);
	ASSERT_INT_EQ(cfg->sets[0].n_addrs, 3);
	ASSERT_STR_EQ(fmt_sel(&cfg->sets[0].addrs[1], buf), "0000:03:00.1");
	ASSERT_STR_EQ(fmt_sel(&cfg->sets[0].addrs[2], buf), "0000:04:00");
	ASSERT_INT_EQ(cfg->sets[0].n_ids, 2);
	ASSERT_INT_EQ(cfg->sets[0].ids[1].device, 0x1522);
	ASSERT_TRUE(cfg->sets[0].boot);
	config_free(cfg);
}

TEST(line_endings_bom_and_colon)
{
	struct config *cfg = NULL;
	struct config_error e;

	/* CRLF, a UTF-8 BOM, an indented first key, inih's "key: value" */
	ASSERT_INT_EQ(parse_all("\xef\xbb\xbf[gpu]\r\n  address: 82:00\r\nboot=1\r\n", &cfg, &e), 0);
	ASSERT_STR_EQ(cfg->sets[0].name, "gpu");
	ASSERT_INT_EQ(cfg->sets[0].n_addrs, 1);
	ASSERT_INT_EQ(cfg->sets[0].addrs[0].addr.bus, 0x82);
	ASSERT_TRUE(cfg->sets[0].boot);
	config_free(cfg);
}

TEST(pcibind_section_twice)
{
	struct config *cfg = NULL;
	struct config_error e;

	/* [pcibind] may be opened again (drop-ins); each key once */
	ASSERT_INT_EQ(parse_all("[pcibind]\ndriver = pci-stub\n[pcibind]\nunbind_timeout = 3\n", &cfg, &e), 0);
	ASSERT_STR_EQ(cfg->driver, "pci-stub");
	ASSERT_INT_EQ(cfg->unbind_timeout, 3);
	config_free(cfg);
}

/* ---- every rule, with its file:line and message ---- */

struct err_case {
	const char *text;
	unsigned line;
	const char *msg; /* the whole message */
};

static const struct err_case err_cases[] = {
	/* unknown keys */
	{ "[gpu]\nadress = 82:00\n", 2,
	  "unknown key 'adress' in [gpu]; known keys: address, ids, driver, boot, release_console, stop_units, reset_method, sriov_numvfs, vfs, subsystem, serial, slot, follow" },
	{ "[pcibind]\ntimeout = 5\n", 2, "unknown key 'timeout' in [pcibind]; known keys: driver, unbind_timeout, iommu_pt, kvm_ignore_msrs, allow_unsafe_interrupts, blacklist, libvirt_all_hostdevs" },
	{ "[pcibind]\naddress = 82:00\n", 2,
	  "unknown key 'address' in [pcibind] (it belongs in a device set like [gpu]); known keys: driver, "
	  "unbind_timeout, iommu_pt, kvm_ignore_msrs, allow_unsafe_interrupts, blacklist, libvirt_all_hostdevs" },
	{ "[gpu]\naddress = 82:00\nunbind_timeout = 5\n", 3,
	  "unknown key 'unbind_timeout' in [gpu] (it belongs in [pcibind]); known keys: address, ids, driver, boot, release_console, stop_units, reset_method, sriov_numvfs, vfs, subsystem, serial, slot, follow" },
	{ "[gpu]\naddress = 82:00\nserial = 0011223344556677\n", 3,
	  "invalid serial '0011223344556677' in [gpu]; expected the Device Serial Number as lspci -vv shows it, xx-xx-xx-xx-xx-xx-xx-xx (eight hex pairs)" },
	{ "[gpu]\naddress = 82:00\nsubsystem = 1458:403b 1458:403b\n", 3, "subsystem 1458:403b is listed twice in [gpu]" },
	{ "[gpu]\naddress = 82:00\nfollow = yes\n", 3, "[gpu] has follow = yes but no serial; only a Device Serial Number is followed to a new address" },
	{ "[gpu]\nids = 10de:2204\nslot = 3\n", 3, "[gpu] records a device (subsystem, serial, slot or follow) but has no address; they guard an address" },
	{ "[gpu]\nAddress = 82:00\n", 2, "unknown key 'Address' in [gpu]; known keys: address, ids, driver, boot, release_console, stop_units, reset_method, sriov_numvfs, vfs, subsystem, serial, slot, follow" },
	{ "[gpu]\naddress 82:00.0\n", 2, "cannot parse 'address 82'; expected 'key = value' or '[section]'" },
	/* keys before any section */
	{ "driver = vfio-pci\n[pcibind]\n", 1,
	  "key 'driver' is outside any section; put it below [pcibind] or a device set like [gpu]" },
	{ "\n; c\naddress = 82:00\n", 3,
	  "key 'address' is outside any section; put it below [pcibind] or a device set like [gpu]" },
	/* repeated keys */
	{ "[gpu]\naddress = 82:00\nboot = yes\n\naddress = 83:00\n", 5,
	  "'address' is set twice in [gpu]; first at line 2" },
	{ "[gpu]\naddress = 82:00\nboot = yes\nboot = no\n", 4, "'boot' is set twice in [gpu]; first at line 3" },
	{ "[pcibind]\ndriver = a\ndriver = a\n", 3, "'driver' is set twice in [pcibind]; first at line 2" },
	{ "[pcibind]\nunbind_timeout = 5\n[pcibind]\nunbind_timeout = 5\n", 4,
	  "'unbind_timeout' is set twice in [pcibind]; first at line 2" },
	/* section names */
	{ "[gpu]\naddress = 82:00\n[gpu]\n", 3, "section [gpu] is already defined at t.conf:1; a set may be defined once" },
	{ "[0000:82:00.0]\naddress = 82:00\n", 1,
	  "section [0000:82:00.0] looks like a PCI address or ids; name the set (e.g. [gpu]) and put it in "
	  "'address =' or 'ids ='" },
	{ "[82:00]\n", 1,
	  "section [82:00] looks like a PCI address or ids; name the set (e.g. [gpu]) and put it in 'address =' or "
	  "'ids ='" },
	{ "[10de:2204]\n", 1,
	  "section [10de:2204] looks like a PCI address or ids; name the set (e.g. [gpu]) and put it in 'address =' "
	  "or 'ids ='" },
	{ "[ab:cd]\n", 1,
	  "invalid section name [ab:cd]; use a letter or '_' then letters, digits, '_', '.' or '-', at most 63 "
	  "characters" },
	{ "[my gpu]\n", 1,
	  "invalid section name [my gpu]; use a letter or '_' then letters, digits, '_', '.' or '-', at most 63 "
	  "characters" },
	{ "[]\n", 1,
	  "invalid section name []; use a letter or '_' then letters, digits, '_', '.' or '-', at most 63 "
	  "characters" },
	{ "[ gpu ]\n", 1,
	  "invalid section name [ gpu ]; use a letter or '_' then letters, digits, '_', '.' or '-', at most 63 "
	  "characters" },
	{ "[1gpu]\n", 1,
	  "invalid section name [1gpu]; use a letter or '_' then letters, digits, '_', '.' or '-', at most 63 "
	  "characters" },
	{ "[g\x1b[31m]\n", 1,
	  "invalid section name [g\\x1b[31m]; use a letter or '_' then letters, digits, '_', '.' or '-', at most 63 "
	  "characters" },
	{ "[gpu\naddress = 82:00\n", 1, "section header '[gpu' has no closing ']'" },
	{ "[gpu] extra\n", 1, "unexpected 'extra' after the section header" },
	{ "[gpu]\naddress = 82:00\njunk\n", 3, "expected 'key = value' or '[section]', found no '='" },
	/* a set needs address or ids: reported at the section's line */
	{ "[pcibind]\ndriver = vfio-pci\n\n[gpu]\nboot = yes\n", 4,
	  "[gpu] selects nothing; give it 'address =' (PCI addresses) or 'ids =' (vendor:device)" },
	{ "[a]\naddress = 01:00\n[empty]\n[b]\naddress = 02:00\n", 3,
	  "[empty] selects nothing; give it 'address =' (PCI addresses) or 'ids =' (vendor:device)" },
	/* the same function in two sets */
	{ "[a]\naddress = 82:00.0\n[b]\nboot = no\naddress = 82:00.0\n", 5,
	  "0000:82:00.0 in [b] is also in [a] as 0000:82:00.0 (t.conf:1); a function may belong to one set only" },
	{ "[a]\naddress = 0000:82:00\n[b]\naddress = 81:00.0 82:00.1\n", 4,
	  "0000:82:00.1 in [b] is also in [a] as 0000:82:00 (t.conf:1); a function may belong to one set only" },
	{ "[a]\naddress = 82:00.3\n[b]\naddress = 82:00\n", 4,
	  "0000:82:00 in [b] is also in [a] as 0000:82:00.3 (t.conf:1); a function may belong to one set only" },
	{ "[a]\naddress = 82:00.0, 82:00.0\n", 2, "0000:82:00.0 is listed twice in [a]" },
	{ "[a]\naddress = 82:00 82:00.1\n", 2,
	  "0000:82:00 and 0000:82:00.1 overlap in [a]; list the slot or its functions, not both" },
	{ "[a]\nids = 10de:2204\n[b]\nids = 8086:1521 10de:2204\n", 3,
	  "[b] selects 10de:2204 like [a] (t.conf:1); a device may belong to one set only" },
	{ "[a]\nids = 10de:2204 10de:2204\n", 2, "10de:2204 is listed twice in [a]" },
	/* address entries */
	{ "[a]\naddress = 10de:2204\n", 2, "'10de:2204' in 'address' of [a] is vendor:device; put it in 'ids ='" },
	{ "[a]\naddress = gpu\n", 2,
	  "invalid address 'gpu' in [a]; expected DDDD:BB:SS.F or BB:SS.F (one function), DDDD:BB:SS or BB:SS (every "
	  "function of a slot)" },
	{ "[a]\naddress = 0000:82:20.0\n", 2,
	  "invalid address '0000:82:20.0' in [a]; expected DDDD:BB:SS.F or BB:SS.F (one function), DDDD:BB:SS or "
	  "BB:SS (every function of a slot)" },
	{ "[a]\naddress = 82:00.0,../0000:00:00.0\n", 2,
	  "invalid address '../0000:00:00.0' in [a]; expected DDDD:BB:SS.F or BB:SS.F (one function), DDDD:BB:SS or "
	  "BB:SS (every function of a slot)" },
	{ "[a]\naddress = 0x82:00.0\n", 2,
	  "invalid address '0x82:00.0' in [a]; expected DDDD:BB:SS.F or BB:SS.F (one function), DDDD:BB:SS or BB:SS "
	  "(every function of a slot)" },
	{ "[a]\naddress =\n", 2, "'address' in [a] is empty" },
	{ "[a]\naddress = , ,\n", 2, "'address' in [a] is empty" },
	{ "[a]\naddress = 82:00 # the gpu\n", 2,
	  "'address' in [a] contains '#'; '#' starts a comment only at the start of a line, use ' ; comment'" },
	/* ids entries */
	{ "[a]\nids = 82:00.0\n", 2,
	  "invalid ids '82:00.0' in [a]; expected vendor:device as VVVV:DDDD (e.g. 10de:2204)" },
	{ "[a]\nids = 10de:220\n", 2,
	  "invalid ids '10de:220' in [a]; expected vendor:device as VVVV:DDDD (e.g. 10de:2204)" },
	{ "[a]\nids = 0x10de:0x2204\n", 2,
	  "invalid ids '0x10de:0x2204' in [a]; expected vendor:device as VVVV:DDDD (e.g. 10de:2204)" },
	{ "[a]\nids = 10de\n", 2, "invalid ids '10de' in [a]; expected vendor:device as VVVV:DDDD (e.g. 10de:2204)" },
	/* driver */
	{ "[a]\naddress = 01:00\ndriver = vfio.pci\n", 3,
	  "invalid driver 'vfio.pci' in [a]; a driver name is 1 to 63 letters, digits, '_' or '-', not starting with '-'" },
	{ "[a]\naddress = 01:00\ndriver =\n", 3,
	  "invalid driver '' in [a]; a driver name is 1 to 63 letters, digits, '_' or '-', not starting with '-'" },
	/* issue 13, defect 9: a name that modprobe would take for an option */
	{ "[a]\naddress = 01:00\ndriver = -r\n", 3,
	  "invalid driver '-r' in [a]; a driver name is 1 to 63 letters, digits, '_' or '-', not starting with '-'" },
	{ "[pcibind]\ndriver = --remove\n", 2,
	  "invalid driver '--remove' in [pcibind]; a driver name is 1 to 63 letters, digits, '_' or '-', not starting "
	  "with '-'" },
	{ "[pcibind]\ndriver = vfio-pci # default\n", 2,
	  "invalid driver 'vfio-pci # default' in [pcibind]; a driver name is 1 to 63 letters, digits, '_' or '-', "
	  "not starting with '-' ('#' starts a comment only at the start of a line; use ' ; comment')" },
	{ "[pcibind]\ndriver = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 2,
	  "invalid driver 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' in [pcibind]; a driver name is 1 to 63 "
	  "letters, digits, '_' or '-', not starting with '-'" },
	/* boot */
	{ "[a]\naddress = 01:00\nboot = maybe\n", 3,
	  "invalid value 'maybe' for 'boot' in [a]; use yes or no (also true/false, on/off, 1/0)" },
	{ "[a]\naddress = 01:00\nboot =\n", 3,
	  "invalid value '' for 'boot' in [a]; use yes or no (also true/false, on/off, 1/0)" },
	{ "[a]\naddress = 01:00\nboot = y\n", 3,
	  "invalid value 'y' for 'boot' in [a]; use yes or no (also true/false, on/off, 1/0)" },
	/* unbind_timeout */
	{ "[pcibind]\nunbind_timeout = 0\n", 2,
	  "invalid unbind_timeout '0'; it is a whole number of seconds from 1 to 600" },
	{ "[pcibind]\nunbind_timeout = 601\n", 2,
	  "invalid unbind_timeout '601'; it is a whole number of seconds from 1 to 600" },
	{ "[pcibind]\nunbind_timeout = 10s\n", 2,
	  "invalid unbind_timeout '10s'; it is a whole number of seconds from 1 to 600" },
	{ "[pcibind]\nunbind_timeout = -5\n", 2,
	  "invalid unbind_timeout '-5'; it is a whole number of seconds from 1 to 600" },
	{ "[pcibind]\nunbind_timeout = +5\n", 2,
	  "invalid unbind_timeout '+5'; it is a whole number of seconds from 1 to 600" },
	{ "[pcibind]\nunbind_timeout = 0x10\n", 2,
	  "invalid unbind_timeout '0x10'; it is a whole number of seconds from 1 to 600" },
	{ "[pcibind]\nunbind_timeout = 99999999999999999999\n", 2,
	  "invalid unbind_timeout '99999999999999999999'; it is a whole number of seconds from 1 to 600" },
	{ "[pcibind]\nunbind_timeout =\n", 2, "invalid unbind_timeout ''; it is a whole number of seconds from 1 to 600" },
	/* injection: values reach modprobe.d and kernel command lines */
	{ "[a]\naddress = 01:00\ndriver = vfio-pci`reboot`\n", 3, "value of 'driver' contains '`'" },
	{ "[a]\naddress = 01:00\ndriver = $(reboot)\n", 3, "value of 'driver' contains '$'" },
	{ "[a]\naddress = 01:00\ndriver = \"vfio-pci\"\n", 3, "value of 'driver' contains '\"'" },
	{ "[a]\naddress = 01:00\ndriver = 'vfio-pci'\n", 3, "value of 'driver' contains '''" },
	{ "[a]\naddress = 01:00\ndriver = vfio\\\n", 3, "value of 'driver' contains '\\'" },
	{ "[a]\naddress = 01:00\ndriver = vfio-pci;reboot\n", 3,
	  "value of 'driver' contains ';' (a comment needs a blank before the ';')" },
	{ "[a]\naddress = 01:00\ndriver = vfio\x01pci\n", 3, "value of 'driver' contains a control character (0x01)" },
	{ "[a]\naddress = 01:00\ndriver = vfio\rpci\n", 3, "value of 'driver' contains a control character (0x0d)" },
	{ "[a]\naddress = 01:00\ndriver = vfio\x7fpci\n", 3, "value of 'driver' contains a control character (0x7f)" },
	{ "[a]\naddress = 01:00\nboot = yes;no\n", 3,
	  "value of 'boot' contains ';' (a comment needs a blank before the ';')" },
	{ "[a]\naddress = 01:00.0,$x\n", 2, "value of 'address' contains '$'" },
	{ "[a]\nids = 10de:2204`id`\n", 2, "value of 'ids' contains '`'" },
	{ "[pcibind]\nunbind_timeout = 5;\n", 2,
	  "value of 'unbind_timeout' contains ';' (a comment needs a blank before the ';')" },
	{ "[a]\naddress = 01:00\n  02:00 `x`\n", 3, "value of 'address' contains '`'" },
	/* indented lines continue the previous value */
	{ "[a]\naddress = 01:00\nboot = yes\n  no\n", 4,
	  "indented line continues 'boot' from line 3; only address, ids and stop_units may span lines; remove the indentation" },
	{ "[a]\naddress = 01:00\n  boot = yes\n", 3,
	  "indented line is read as more entries for 'address' from line 2; remove the indentation" },
	{ "[a]\naddress = 01:00\n  [b]\n", 3,
	  "indented line is read as more entries for 'address' from line 2; remove the indentation" },
	{ "[a]\naddress = 01:00\n  03:00.9\n", 3,
	  "invalid address '03:00.9' in [a]; expected DDDD:BB:SS.F or BB:SS.F (one function), DDDD:BB:SS or BB:SS "
	  "(every function of a slot)" },
	/* SR-IOV: how many VFs, and which of them */
	{ "[nic]\naddress = 3b:00.0\nsriov_numvfs = 0\n", 3,
	  "invalid sriov_numvfs '0' in [nic]; it is the number of VFs to create, 1 to 65535" },
	{ "[nic]\naddress = 3b:00.0\nsriov_numvfs = 65536\n", 3,
	  "invalid sriov_numvfs '65536' in [nic]; it is the number of VFs to create, 1 to 65535" },
	{ "[nic]\naddress = 3b:00.0\nsriov_numvfs = 4 # VFs\n", 3,
	  "invalid sriov_numvfs '4 # VFs' in [nic]; it is the number of VFs to create, 1 to 65535 ('#' starts a "
	  "comment only at the start of a line; use ' ; comment')" },
	{ "[nic]\naddress = 3b:00.0\nsriov_numvfs = 4\nvfs = 0,x\n", 4,
	  "invalid entry 'x' in 'vfs' of [nic]; VFs are numbered from 0, as the PF's virtfnN links: list them as 0,2 "
	  "or ranges as 0-3" },
	{ "[nic]\naddress = 3b:00.0\nsriov_numvfs = 4\nvfs = 3-1\n", 4,
	  "invalid entry '3-1' in 'vfs' of [nic]; VFs are numbered from 0, as the PF's virtfnN links: list them as 0,2 "
	  "or ranges as 0-3" },
	{ "[nic]\naddress = 3b:00.0\nsriov_numvfs = 4\nvfs = 0-2, 1\n", 4, "VF 1 is listed twice in 'vfs' of [nic]" },
	{ "[nic]\naddress = 3b:00.0\nvfs = 0\n", 3, "[nic] lists vfs but has no sriov_numvfs; say how many VFs its PFs get" },
	{ "[nic]\naddress = 3b:00.0\nvfs = 0-4\nsriov_numvfs = 4\n", 3,
	  "VF 4 in 'vfs' of [nic] does not exist with sriov_numvfs = 4 (VFs are numbered 0 to 3)" },
	{ "[nic]\naddress = 3b:00.0\nsriov_numvfs = 4\nsriov_numvfs = 2\n", 4,
	  "'sriov_numvfs' is set twice in [nic]; first at line 3" },
};

TEST(error_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(err_cases); i++) {
		const struct err_case *c = &err_cases[i];
		struct config_error e;
		int r = parse_all(c->text, NULL, &e);

		if (r != -EINVAL)
			FAIL_AT("case %zu: parse = %d, expected -EINVAL", i, r);
		if (strcmp(e.file, "t.conf") != 0 || e.line != c->line || strcmp(e.msg, c->msg) != 0)
			FAIL_AT("case %zu:\n    got      %s:%u: %s\n    expected t.conf:%u: %s", i, e.file, e.line, e.msg,
				c->line, c->msg);
	}
}

/* The first error is reported, even when a later line is wrong too */
TEST(first_error_wins)
{
	struct config_error e;

	ASSERT_INT_EQ(parse_all("[a]\nadress = 1\nboot = maybe\n[1]\n", NULL, &e), -EINVAL);
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_STR_CONTAINS(e.msg, "unknown key 'adress'");
	ASSERT_INT_EQ(parse_all("[a]\njunk\nadress = 1\n", NULL, &e), -EINVAL);
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_STR_CONTAINS(e.msg, "found no '='");
}

/* ---- hostile input ---- */

TEST(long_lines)
{
	static char text[8192];
	struct config_error e;

	/* 4 KB of value on one line: refused with its line, never split into two lines */
	snprintf(text, sizeof(text), "[a]\naddress = 01:00\ndriver = %04096d\n", 0);
	ASSERT_INT_EQ(parse_all(text, NULL, &e), -EINVAL);
	ASSERT_INT_EQ(e.line, 3);
	ASSERT_STR_EQ(e.msg, "line is too long (4105 characters; at most 198)");
	/* 198 is fine; the line after it is counted right */
	snprintf(text, sizeof(text), "[a]\n;%0197d\naddress = 01:00\nboot = x\n", 0);
	ASSERT_INT_EQ(parse_all(text, NULL, &e), -EINVAL);
	ASSERT_INT_EQ(e.line, 4);
	ASSERT_STR_CONTAINS(e.msg, "'boot'");
	snprintf(text, sizeof(text), "[a]\n;%0198d\naddress = 01:00\n", 0);
	ASSERT_INT_EQ(parse_all(text, NULL, &e), -EINVAL);
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_STR_EQ(e.msg, "line is too long (199 characters; at most 198)");
}

TEST(long_values_and_names)
{
	struct config_error e;
	char text[512], name[80];

	/* a 150-character token on a line that fits: the message quotes 48 characters of it */
	memset(name, 0, sizeof(name));
	snprintf(text, sizeof(text), "[a]\naddress = %0150d\n", 0);
	ASSERT_INT_EQ(parse_all(text, NULL, &e), -EINVAL);
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_STR_CONTAINS(e.msg, "invalid address '000000000000000000000000000000000000000000000000...' in [a]");
	/* 63-character names are valid; 64 are not */
	memset(name, 'n', 63);
	snprintf(text, sizeof(text), "[%s]\nids = 10de:2204\n", name);
	ASSERT_INT_EQ(parse_all(text, NULL, &e), 0);
	name[63] = 'n';
	snprintf(text, sizeof(text), "[%s]\nids = 10de:2204\n", name);
	ASSERT_INT_EQ(parse_all(text, NULL, &e), -EINVAL);
	ASSERT_STR_CONTAINS(e.msg, "invalid section name");
	/* inih truncates section names to 49 characters: we must not (these two would collide) */
	name[60] = '\0';
	snprintf(text, sizeof(text), "[%s]\nids = 10de:2204\n[%.55s]\nids = 10de:2205\n", name, name);
	struct config *cfg = NULL;
	ASSERT_INT_EQ(parse_all(text, &cfg, &e), 0);
	ASSERT_INT_EQ(cfg->n_sets, 2);
	ASSERT_INT_EQ(strlen(cfg->sets[0].name), 60);
	config_free(cfg);
}

TEST(key_with_escape_sequence_is_quoted)
{
	struct config_error e;

	ASSERT_INT_EQ(parse_all("[a]\n\x1b]0;x\x07 = 1\n", NULL, &e), -EINVAL);
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_TRUE(strchr(e.msg, '\x1b') == NULL);
	ASSERT_STR_CONTAINS(e.msg, "\\x1b");
}

/* ---- several files ---- */

TEST(across_files)
{
	struct config *cfg = config_new();
	struct config_error e;

	ASSERT_INT_EQ(config_parse_text(cfg, "[pcibind]\ndriver = pci-stub\n[gpu]\naddress = 82:00\n", "/a.conf", &e),
		      0);
	/* a section may be defined once across files */
	ASSERT_INT_EQ(config_parse_text(cfg, "\n[gpu]\nboot = yes\n", "/b.conf", &e), -EINVAL);
	ASSERT_STR_EQ(e.file, "/b.conf");
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_STR_EQ(e.msg, "section [gpu] is already defined at /a.conf:3; a set may be defined once");
	/* a global key too: the first place is named with its file */
	ASSERT_INT_EQ(config_parse_text(cfg, "[pcibind]\nunbind_timeout = 9\ndriver = x\n", "/c.conf", &e), -EINVAL);
	ASSERT_STR_EQ(e.file, "/c.conf");
	ASSERT_INT_EQ(e.line, 3);
	ASSERT_STR_EQ(e.msg, "'driver' is set twice in [pcibind]; first at /a.conf:2");
	/* an address of another file's set */
	ASSERT_INT_EQ(config_parse_text(cfg, "[audio]\naddress = 0000:82:00.1\n", "/d.conf", &e), -EINVAL);
	ASSERT_STR_EQ(e.file, "/d.conf");
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_STR_EQ(e.msg,
		      "0000:82:00.1 in [audio] is also in [gpu] as 0000:82:00 (/a.conf:3); a function may belong to "
		      "one set only");
	config_free(cfg);
}

TEST(finish_checks_hand_built_configs)
{
	struct config *cfg = config_new();
	struct config_error e;
	struct selector *s = calloc(2, sizeof(*s));

	ASSERT_NOT_NULL(cfg);
	ASSERT_NOT_NULL(s);
	ASSERT_INT_EQ(selector_parse("82:00.1", &s[0]), 0);
	ASSERT_INT_EQ(selector_parse("82:00", &s[1]), 0);
	cfg->sets = calloc(2, sizeof(*cfg->sets));
	ASSERT_NOT_NULL(cfg->sets);
	cfg->n_sets = 2;
	strcpy(cfg->sets[0].name, "x");
	cfg->sets[0].file = strdup("/x.conf");
	cfg->sets[0].line = 7;
	cfg->sets[0].addrs = s;
	cfg->sets[0].n_addrs = 1;
	strcpy(cfg->sets[1].name, "y");
	cfg->sets[1].file = strdup("/y.conf");
	cfg->sets[1].line = 9;
	cfg->sets[1].addrs = malloc(sizeof(*s));
	ASSERT_NOT_NULL(cfg->sets[1].addrs);
	cfg->sets[1].addrs[0] = s[1];
	cfg->sets[1].n_addrs = 1;
	ASSERT_INT_EQ(config_finish(cfg, &e), -EINVAL);
	ASSERT_STR_EQ(e.file, "/y.conf");
	ASSERT_INT_EQ(e.line, 9);
	ASSERT_STR_EQ(e.msg, "0000:82:00 in [y] is also in [x] (/x.conf:7); a function may belong to one set only");
	config_free(cfg);
}

/* ---- devset_selects ---- */

TEST(devset_selection)
{
	struct config *cfg = NULL;
	struct config_error e;
	struct pciaddr a0, a1, b0, c0;

	ASSERT_INT_EQ(parse_all("[slot]\naddress = 82:00\nids = 10de:2204\n"
				"[fn]\naddress = 0000:03:00.1\n"
				"[byids]\nids = 8086:1521, 8086:1522\n",
				&cfg, &e),
		      0);
	ASSERT_INT_EQ(pciaddr_parse("0000:82:00.0", &a0), 0);
	ASSERT_INT_EQ(pciaddr_parse("0000:82:00.1", &a1), 0);
	ASSERT_INT_EQ(pciaddr_parse("0000:03:00.0", &b0), 0);
	ASSERT_INT_EQ(pciaddr_parse("0001:82:00.0", &c0), 0);

	/* a slot selects every function; the ids guard does not narrow the selection */
	ASSERT_TRUE(devset_selects(&cfg->sets[0], &a0, 0x10de, 0x2204));
	ASSERT_TRUE(devset_selects(&cfg->sets[0], &a1, 0x10de, 0x1aef));
	ASSERT_FALSE(devset_selects(&cfg->sets[0], &c0, 0x10de, 0x2204));
	/* with addresses, ids alone select nothing */
	ASSERT_FALSE(devset_selects(&cfg->sets[0], &b0, 0x10de, 0x2204));
	/* a function */
	ASSERT_FALSE(devset_selects(&cfg->sets[1], &b0, 0x8086, 0x1521));
	ASSERT_INT_EQ(pciaddr_parse("0000:03:00.1", &b0), 0);
	ASSERT_TRUE(devset_selects(&cfg->sets[1], &b0, 0, 0));
	/* ids without addresses are the selector */
	ASSERT_TRUE(devset_selects(&cfg->sets[2], &c0, 0x8086, 0x1522));
	ASSERT_TRUE(devset_selects(&cfg->sets[2], &a0, 0x8086, 0x1521));
	ASSERT_FALSE(devset_selects(&cfg->sets[2], &a0, 0x8086, 0x1523));
	ASSERT_FALSE(devset_selects(&cfg->sets[2], &a0, 0x1521, 0x8086));
	ASSERT_FALSE(devset_selects(NULL, &a0, 0x8086, 0x1521));
	config_free(cfg);
}

/* ---- config_load on a temporary root ---- */

struct root {
	char dir[64];
	struct sysroot *r;
};

static int root_make(struct root *t)
{
	strcpy(t->dir, "/tmp/pcibind-test-config.XXXXXX");
	if (!mkdtemp(t->dir))
		return -errno;
	return 0;
}

static int root_open(struct root *t)
{
	sysroot_free(t->r);
	t->r = NULL;
	return sysroot_open(t->dir, &t->r);
}

static void __attribute__((format(printf, 2, 3))) sh(struct root *t, const char *fmt, ...)
{
	char cmd[8192], body[7000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s", t->dir, body);
	if (system(cmd) != 0)
		fprintf(stderr, "  command failed: %s\n", cmd);
}

static void root_cleanup(struct root *t)
{
	sysroot_free(t->r);
	t->r = NULL;
	sh(t, "chmod -R u+w . ; rm -rf '%s'", t->dir);
}

/* write rel (under the root) with mode */
static int put(struct root *t, const char *rel, const char *text, mode_t mode)
{
	char path[512];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (close(fd) < 0 || n != (ssize_t)strlen(text))
		return -EIO;
	return chmod(path, mode) < 0 ? -errno : 0;
}

static void expect_path(struct root *t, char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", t->dir, rel);
}

#define LOAD_SETUP(t)                                                                                    \
	struct root t = { 0 };                                                                           \
	ASSERT_INT_EQ(root_make(&t), 0);                                                                 \
	sh(&t, "mkdir -p etc/pcibind/conf.d")

TEST(sriov_sets)
{
	struct config *cfg = NULL;
	struct config_error e;
	const struct devset *a, *b, *c;

	ASSERT_INT_EQ(parse_all("[pcibind]\ndriver = auto\n"
				"[vfs-a]\naddress = 3b:00.0\nsriov_numvfs = 8\nvfs = 6, 0-2,4\n"
				"[vfs-b]\naddress = 3b:00.1\nsriov_numvfs = 2\ndriver = vfio-pci\n"
				"[plain]\naddress = 01:00\n",
				&cfg, &e),
		      0);
	ASSERT_STR_EQ(cfg->driver, DRIVER_AUTO);
	a = config_find_set(cfg, "vfs-a");
	b = config_find_set(cfg, "vfs-b");
	c = config_find_set(cfg, "plain");
	ASSERT_TRUE(driver_is_auto(devset_driver(cfg, a)));
	ASSERT_FALSE(driver_is_auto(devset_driver(cfg, b)));
	ASSERT_INT_EQ(a->sriov_numvfs, 8);
	ASSERT_INT_EQ(a->n_vfs, 5);
	ASSERT_INT_EQ(a->vfs[0], 0);
	ASSERT_INT_EQ(a->vfs[3], 4);
	ASSERT_INT_EQ(a->vfs[4], 6);
	ASSERT_TRUE(devset_is_sriov(a) && devset_is_sriov(b) && !devset_is_sriov(c));
	ASSERT_TRUE(devset_wants_vf(a, 0) && devset_wants_vf(a, 6));
	ASSERT_FALSE(devset_wants_vf(a, 3) || devset_wants_vf(a, 7) || devset_wants_vf(a, 8) || devset_wants_vf(a, -1));
	/* no vfs listed: every VF of sriov_numvfs */
	ASSERT_TRUE(devset_wants_vf(b, 0) && devset_wants_vf(b, 1));
	ASSERT_FALSE(devset_wants_vf(b, 2) || devset_wants_vf(c, 0));
	config_free(cfg);
}

TEST(load_missing_everything)
{
	struct root t = { 0 };
	struct config *cfg = NULL;
	struct config_error e = { 0 };

	ASSERT_INT_EQ(root_make(&t), 0);
	ASSERT_INT_EQ(root_open(&t), 0);
	int r = config_load(t.r, &cfg, &e);
	root_cleanup(&t);
	ASSERT_INT_EQ(r, 0);
	ASSERT_NOT_NULL(cfg);
	ASSERT_INT_EQ(cfg->n_sets, 0);
	ASSERT_STR_EQ(cfg->driver, "vfio-pci");
	ASSERT_INT_EQ(cfg->unbind_timeout, 10);
	config_free(cfg);
}

TEST(load_dropins_in_lexical_order)
{
	LOAD_SETUP(t);
	struct config *cfg = NULL;
	struct config_error e = { 0 };
	int r;

	put(&t, "etc/pcibind/pcibind.conf", "[pcibind]\nunbind_timeout = 7\n[main]\naddress = 01:00\n", 0644);
	put(&t, "etc/pcibind/conf.d/2-b.conf", "[two]\naddress = 02:00\n", 0644);
	put(&t, "etc/pcibind/conf.d/10-a.conf", "[ten]\naddress = 10:00\n", 0600);
	put(&t, "etc/pcibind/conf.d/B.conf", "[upper]\naddress = 0b:00\n", 0444);
	/* ignored: hidden, not *.conf, a bare ".conf" */
	put(&t, "etc/pcibind/conf.d/.hidden.conf", "garbage\n", 0644);
	put(&t, "etc/pcibind/conf.d/x.conf.bak", "garbage\n", 0644);
	put(&t, "etc/pcibind/conf.d/x.conf~", "garbage\n", 0644);
	put(&t, "etc/pcibind/conf.d/README", "garbage\n", 0666);
	put(&t, "etc/pcibind/conf.d/.conf", "garbage\n", 0644);
	ASSERT_INT_EQ(root_open(&t), 0);
	r = config_load(t.r, &cfg, &e);
	if (r != 0) {
		root_cleanup(&t);
		FAIL_AT("config_load: %d %s:%u: %s", r, e.file, e.line, e.msg);
	}
	char main_path[256];
	expect_path(&t, main_path, sizeof(main_path), "etc/pcibind/pcibind.conf");
	root_cleanup(&t);
	ASSERT_INT_EQ(cfg->n_sets, 4);
	/* strcmp order: "10-a" < "2-b" < "B" */
	ASSERT_STR_EQ(cfg->sets[0].name, "main");
	ASSERT_STR_EQ(cfg->sets[0].file, main_path);
	ASSERT_INT_EQ(cfg->sets[0].line, 3);
	ASSERT_STR_EQ(cfg->sets[1].name, "ten");
	ASSERT_STR_CONTAINS(cfg->sets[1].file, "/etc/pcibind/conf.d/10-a.conf");
	ASSERT_STR_EQ(cfg->sets[2].name, "two");
	ASSERT_STR_EQ(cfg->sets[3].name, "upper");
	ASSERT_INT_EQ(cfg->unbind_timeout, 7);
	config_free(cfg);
}

TEST(load_error_names_the_dropin)
{
	LOAD_SETUP(t);
	struct config *cfg = (struct config *)0x1;
	struct config_error e = { 0 };
	char path[256], main_path[256], msg[512];

	put(&t, "etc/pcibind/pcibind.conf", "[gpu]\naddress = 82:00\n", 0644);
	put(&t, "etc/pcibind/conf.d/50-gpu.conf", "\n\n[gpu]\naddress = 83:00\n", 0644);
	ASSERT_INT_EQ(root_open(&t), 0);
	int r = config_load(t.r, &cfg, &e);
	expect_path(&t, path, sizeof(path), "etc/pcibind/conf.d/50-gpu.conf");
	expect_path(&t, main_path, sizeof(main_path), "etc/pcibind/pcibind.conf");
	root_cleanup(&t);
	ASSERT_INT_EQ(r, -EINVAL);
	ASSERT_TRUE(cfg == (struct config *)0x1); /* untouched on failure */
	ASSERT_STR_EQ(e.file, path);
	ASSERT_INT_EQ(e.line, 3);
	snprintf(msg, sizeof(msg), "section [gpu] is already defined at %s:1; a set may be defined once", main_path);
	ASSERT_STR_EQ(e.msg, msg);
}

TEST(load_finish_runs_after_all_files)
{
	LOAD_SETUP(t);
	struct config *cfg = NULL;
	struct config_error e = { 0 };
	char path[256];

	put(&t, "etc/pcibind/pcibind.conf", "[a]\nids = 10de:2204\n", 0644);
	put(&t, "etc/pcibind/conf.d/x.conf", "\n[b]\nboot = yes\n", 0644);
	ASSERT_INT_EQ(root_open(&t), 0);
	int r = config_load(t.r, &cfg, &e);
	expect_path(&t, path, sizeof(path), "etc/pcibind/conf.d/x.conf");
	root_cleanup(&t);
	ASSERT_INT_EQ(r, -EINVAL);
	ASSERT_STR_EQ(e.file, path);
	ASSERT_INT_EQ(e.line, 2);
	ASSERT_STR_EQ(e.msg, "[b] selects nothing; give it 'address =' (PCI addresses) or 'ids =' (vendor:device)");
}

/* load, expecting a refusal of rel at line 0 with exactly msg_fmt (%s: the path) */
static int load_refused(struct root *t, const char *rel, int want, const char *msg_fmt, char *why, size_t size)
{
	struct config *cfg = NULL;
	struct config_error e = { 0 };
	char path[256], msg[1024];
	int r;

	const char *hole = strstr(msg_fmt, "%s");

	expect_path(t, path, sizeof(path), rel);
	if (hole)
		snprintf(msg, sizeof(msg), "%.*s%s%s", (int)(hole - msg_fmt), msg_fmt, path, hole + 2);
	else
		snprintf(msg, sizeof(msg), "%s", msg_fmt);
	if ((r = root_open(t)) < 0)
		return snprintf(why, size, "sysroot_open: %d", r), -1;
	r = config_load(t->r, &cfg, &e);
	if (r == 0) {
		config_free(cfg);
		return snprintf(why, size, "accepted"), -1;
	}
	if (r != want || strcmp(e.file, path) != 0 || e.line != 0 || strcmp(e.msg, msg) != 0)
		return snprintf(why, size, "got %d %s:%u: %s\n    expected %s:0: %s", r, e.file, e.line, e.msg, path,
				msg),
		       -1;
	return 0;
}

static int load_ok(struct root *t, char *why, size_t size)
{
	struct config *cfg = NULL;
	struct config_error e = { 0 };
	int r;

	if ((r = root_open(t)) < 0)
		return snprintf(why, size, "sysroot_open: %d", r), -1;
	r = config_load(t->r, &cfg, &e);
	if (r < 0)
		return snprintf(why, size, "refused: %d %s:%u: %s", r, e.file, e.line, e.msg), -1;
	r = (int)cfg->n_sets;
	config_free(cfg);
	return r;
}

#define REFUSED_WITH(t, rel, want, fmt)                                                                  \
	do {                                                                                             \
		char _why[8192];                                                                         \
		if (load_refused(&(t), rel, want, fmt, _why, sizeof(_why)) < 0) {                        \
			root_cleanup(&(t));                                                              \
			FAIL_AT("%s: %s", rel, _why);                                                    \
		}                                                                                        \
	} while (0)

#define REFUSED(t, rel, fmt) REFUSED_WITH(t, rel, -EINVAL, fmt)

#define LOADS(t, n_sets)                                                                                 \
	do {                                                                                             \
		char _why[8192] = "";                                                                    \
		int _n = load_ok(&(t), _why, sizeof(_why));                                              \
		if (_n != (n_sets)) {                                                                    \
			root_cleanup(&(t));                                                              \
			FAIL_AT("load: %d sets, expected %d %s", _n, (n_sets), _why);                    \
		}                                                                                        \
	} while (0)

TEST(load_refuses_writable_files)
{
	LOAD_SETUP(t);

	put(&t, "etc/pcibind/pcibind.conf", "[a]\naddress = 01:00\n", 0666);
	REFUSED(t, "etc/pcibind/pcibind.conf", "is world-writable (mode 0666); run chmod go-w %s");
	sh(&t, "chmod 0602 etc/pcibind/pcibind.conf");
	REFUSED(t, "etc/pcibind/pcibind.conf", "is world-writable (mode 0602); run chmod go-w %s");
	sh(&t, "chmod 0664 etc/pcibind/pcibind.conf");
	REFUSED(t, "etc/pcibind/pcibind.conf", "is group-writable (mode 0664); run chmod go-w %s");
	sh(&t, "chmod 0644 etc/pcibind/pcibind.conf");
	LOADS(t, 1);
	/* the same for a drop-in */
	put(&t, "etc/pcibind/conf.d/x.conf", "[b]\naddress = 02:00\n", 0646);
	REFUSED(t, "etc/pcibind/conf.d/x.conf", "is world-writable (mode 0646); run chmod go-w %s");
	sh(&t, "chmod 0640 etc/pcibind/conf.d/x.conf");
	LOADS(t, 2);
	/* and the drop-in directory, where anyone could add files */
	sh(&t, "chmod 0777 etc/pcibind/conf.d");
	REFUSED(t, "etc/pcibind/conf.d", "is world-writable (mode 0777); run chmod go-w %s");
	sh(&t, "chmod 0755 etc/pcibind/conf.d");
	LOADS(t, 2);
	root_cleanup(&t);
}

TEST(load_refuses_foreign_owner)
{
	LOAD_SETUP(t);

	if (geteuid() != 0) {
		root_cleanup(&t);
		fprintf(stderr, "  skipped: chown needs root\n");
		return;
	}
	put(&t, "etc/pcibind/pcibind.conf", "[a]\naddress = 01:00\n", 0644);
	sh(&t, "chown 65534 etc/pcibind/pcibind.conf");
	REFUSED(t, "etc/pcibind/pcibind.conf", "is owned by uid 65534, not root; run chown root: %s");
	sh(&t, "chown 0:65534 etc/pcibind/pcibind.conf");
	LOADS(t, 1);
	put(&t, "etc/pcibind/conf.d/z.conf", "[z]\naddress = 02:00\n", 0644);
	sh(&t, "chown 1234:1234 etc/pcibind/conf.d/z.conf");
	REFUSED(t, "etc/pcibind/conf.d/z.conf", "is owned by uid 1234, not root; run chown root: %s");
	root_cleanup(&t);
}

/*
 * No symlink anywhere on the way to the configuration (issue 13): a link
 * can lead into a directory someone else may write, where the checks of
 * /etc/pcibind's owner and mode would mean nothing.
 */
#define LINK_MSG                                                                                         \
	"is a symlink, or a directory on its way is; pcibind reads its configuration only from files "  \
	"in root's own directories: put the file itself there"

TEST(load_refuses_symlinks)
{
	LOAD_SETUP(t);

	sh(&t, "mkdir -p srv");
	put(&t, "srv/good.conf", "[a]\naddress = 01:00\n", 0644);
	sh(&t, "ln -s ../../srv/good.conf etc/pcibind/pcibind.conf");
	REFUSED(t, "etc/pcibind/pcibind.conf", LINK_MSG);
	sh(&t, "rm etc/pcibind/pcibind.conf && ln -s ../../srv/missing.conf etc/pcibind/pcibind.conf");
	REFUSED(t, "etc/pcibind/pcibind.conf", LINK_MSG);
	sh(&t, "rm etc/pcibind/pcibind.conf && cp srv/good.conf etc/pcibind/pcibind.conf");
	LOADS(t, 1);
	/* a drop-in, absolute or relative */
	sh(&t, "ln -s \"$PWD/srv/good.conf\" etc/pcibind/conf.d/abs.conf");
	REFUSED(t, "etc/pcibind/conf.d/abs.conf", LINK_MSG);
	sh(&t, "rm etc/pcibind/conf.d/abs.conf");
	LOADS(t, 1);
	/* a directory on the way */
	sh(&t, "mv etc/pcibind/conf.d srv/conf.d && ln -s ../../srv/conf.d etc/pcibind/conf.d");
	REFUSED(t, "etc/pcibind/conf.d", LINK_MSG);
	sh(&t, "rm etc/pcibind/conf.d && mv etc/pcibind srv/pcibind && ln -s ../srv/pcibind etc/pcibind");
	REFUSED(t, "etc/pcibind", LINK_MSG);
	root_cleanup(&t);
}

/* issue 13, defect 7: the directories are checked, not only the files */
TEST(load_refuses_writable_or_foreign_directories)
{
	LOAD_SETUP(t);

	put(&t, "etc/pcibind/pcibind.conf", "[a]\naddress = 01:00\n", 0644);
	LOADS(t, 1);
	sh(&t, "chmod 0777 etc/pcibind");
	REFUSED(t, "etc/pcibind", "is world-writable (mode 0777); run chmod go-w %s");
	sh(&t, "chmod 0775 etc/pcibind");
	REFUSED(t, "etc/pcibind", "is group-writable (mode 0775); run chmod go-w %s");
	sh(&t, "chmod 0755 etc/pcibind && chmod 1777 etc");
	REFUSED(t, "etc", "is world-writable (mode 1777); run chmod go-w %s");
	sh(&t, "chmod 0755 etc");
	LOADS(t, 1);
	if (geteuid() == 0) {
		sh(&t, "chown 65534 etc/pcibind");
		REFUSED(t, "etc/pcibind", "is owned by uid 65534, not root; run chown root: %s");
		sh(&t, "chown 0 etc/pcibind");
		LOADS(t, 1);
	}
	root_cleanup(&t);
}

TEST(load_refuses_special_files)
{
	LOAD_SETUP(t);

	/* a FIFO must be refused, not waited on */
	sh(&t, "mkfifo -m 0644 etc/pcibind/pcibind.conf");
	REFUSED(t, "etc/pcibind/pcibind.conf", "is not a regular file");
	sh(&t, "rm etc/pcibind/pcibind.conf && mkdir etc/pcibind/pcibind.conf");
	REFUSED(t, "etc/pcibind/pcibind.conf", "is not a regular file");
	sh(&t, "rmdir etc/pcibind/pcibind.conf && mkdir etc/pcibind/conf.d/dir.conf");
	REFUSED(t, "etc/pcibind/conf.d/dir.conf", "is not a regular file");
	sh(&t, "rmdir etc/pcibind/conf.d/dir.conf && rmdir etc/pcibind/conf.d && touch etc/pcibind/conf.d");
	REFUSED_WITH(t, "etc/pcibind/conf.d", -ENOTDIR, "cannot open the drop-in directory: Not a directory");
	root_cleanup(&t);
}

TEST(load_refuses_binary)
{
	LOAD_SETUP(t);
	int fd;
	char path[256];

	expect_path(&t, path, sizeof(path), "etc/pcibind/pcibind.conf");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, "[a]\naddress = 01:00\n\0junk\n", 26), 26);
	close(fd);
	struct config *cfg = NULL;
	struct config_error e = { 0 };
	ASSERT_INT_EQ(root_open(&t), 0);
	int r = config_load(t.r, &cfg, &e);
	root_cleanup(&t);
	ASSERT_INT_EQ(r, -EINVAL);
	ASSERT_STR_EQ(e.file, path);
	ASSERT_INT_EQ(e.line, 3);
	ASSERT_STR_EQ(e.msg, "contains a NUL byte; is it a text file?");
}

TEST(load_host_style_paths)
{
	/* on the host root, the file name is the plain absolute path */
	struct sysroot *r = NULL;
	struct config *cfg = NULL;
	struct config_error e = { 0 };

	ASSERT_INT_EQ(sysroot_open("/", &r), 0);
	int ret = config_load(r, &cfg, &e);
	sysroot_free(r);
	if (ret < 0) {
		/* only acceptable failure: the host's own config is invalid, named by its path */
		ASSERT_STR_CONTAINS(e.file, "/etc/pcibind/");
		ASSERT_TRUE(strncmp(e.file, "//", 2) != 0);
		return;
	}
	for (size_t i = 0; i < cfg->n_sets; i++)
		ASSERT_TRUE(strncmp(cfg->sets[i].file, "/etc/pcibind/", 13) == 0);
	config_free(cfg);
}

/* ---- the shipped example ---- */

static char *read_example(void)
{
	char path[PATH_MAX];
	const char *tail = strstr(__FILE__, "tests/unit/test-config.c");
	FILE *f;
	char *buf = calloc(1, 65536);
	size_t n;

	/* conf/ next to tests/, found from this file's path or the working directory */
	snprintf(path, sizeof(path), "%.*sconf/pcibind.conf", tail ? (int)(tail - __FILE__) : 0, __FILE__);
	f = fopen(path, "re");
	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* "#key = value" and "#[name]" lines are examples, as are the "#   more" lines right after one */
static char *uncomment_examples(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	bool in_example = false;

	if (!out)
		return NULL;
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		bool example = line[0] == '#' && n > 1 && !strchr(" \t#", line[1]);
		bool cont = in_example && line[0] == '#' && n > 1 && (line[1] == ' ' || line[1] == '\t');

		if (cont)
			*o++ = ' ';
		memcpy(o, line + (example || cont), n - (example || cont));
		o += n - (example || cont);
		in_example = example || cont;
		line += n;
		if (*line == '\n')
			*o++ = *line++;
	}
	*o = '\0';
	return out;
}

TEST(example_conf_is_valid)
{
	char *text = read_example();
	struct config *cfg = NULL;
	struct config_error e;
	int r;

	ASSERT_NOT_NULL(text);
	/* as shipped: nothing selected, defaults */
	r = parse_all(text, &cfg, &e);
	if (r != 0) {
		free(text);
		FAIL_AT("conf/pcibind.conf: %s:%u: %s", e.file, e.line, e.msg);
	}
	ASSERT_INT_EQ(cfg->n_sets, 0);
	config_free(cfg);
	/* with every example uncommented */
	char *active = uncomment_examples(text);
	free(text);
	ASSERT_NOT_NULL(active);
	ASSERT_TRUE(strstr(active, "\n[gpu]\naddress = 0000:82:00\n") != NULL);
	r = parse_all(active, &cfg, &e);
	if (r != 0) {
		fprintf(stderr, "%s", active);
		free(active);
		FAIL_AT("conf/pcibind.conf uncommented: %s:%u: %s", e.file, e.line, e.msg);
	}
	free(active);
	ASSERT_STR_EQ(cfg->driver, "vfio-pci");
	ASSERT_INT_EQ(cfg->unbind_timeout, 10);
	ASSERT_INT_EQ(cfg->driver_origin.line != 0, 1);
	ASSERT_INT_EQ(cfg->n_sets, 4);
	ASSERT_STR_EQ(cfg->sets[3].name, "x710-vfs");
	ASSERT_INT_EQ(cfg->sets[3].sriov_numvfs, 8);
	ASSERT_INT_EQ(cfg->sets[3].n_vfs, 4);
	ASSERT_STR_EQ(cfg->sets[0].name, "gpu");
	ASSERT_INT_EQ(cfg->sets[0].n_addrs, 1);
	ASSERT_INT_EQ(cfg->sets[0].n_ids, 2);
	ASSERT_TRUE(cfg->sets[0].boot);
	ASSERT_STR_EQ(cfg->sets[1].name, "nic-vf");
	ASSERT_INT_EQ(cfg->sets[1].n_addrs, 2);
	ASSERT_STR_EQ(cfg->sets[2].name, "usb");
	ASSERT_STR_EQ(devset_driver(cfg, &cfg->sets[2]), "pci-stub");
	config_free(cfg);
}

HARNESS_MAIN
