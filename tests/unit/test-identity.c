/* test-identity.c - unit tests for serial numbers in config space, slots, and a set's whereabouts */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "identity.h"
#include "pciaddr.h"
#include "tmproot.h"
#include "whereabouts.h"

static void put32(unsigned char *c, unsigned off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		c[off + i] = (unsigned char)(v >> (8 * i));
}

/* sys/bus/pci/devices/NAME/config of len bytes (a plain file), c its content */
static int write_config(const char *dir, const char *name, const unsigned char *c, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "mkdir -p '%s/sys/bus/pci/devices/%s'", dir, name);
	if (system(p) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/config", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, c, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

TEST(dsn_parse_and_format)
{
	uint64_t v = 0;
	char buf[DSN_STRLEN];

	ASSERT_INT_EQ(dsn_parse("00-11-22-33-44-55-66-77", &v), 0);
	ASSERT_TRUE(v == 0x0011223344556677ull);
	dsn_format(v, buf);
	ASSERT_STR_EQ(buf, "00-11-22-33-44-55-66-77");
	ASSERT_INT_EQ(dsn_parse("AB-CD-EF-01-23-45-67-89", &v), 0);
	dsn_format(v, buf);
	ASSERT_STR_EQ(buf, "ab-cd-ef-01-23-45-67-89");
	ASSERT_INT_EQ(dsn_parse("0011223344556677", &v), -EINVAL);
	ASSERT_INT_EQ(dsn_parse("00-11-22-33-44-55-66", &v), -EINVAL);
	ASSERT_INT_EQ(dsn_parse("00-11-22-33-44-55-66-7g", &v), -EINVAL);
	ASSERT_INT_EQ(dsn_parse("00:11:22:33:44:55:66:77", &v), -EINVAL);
	ASSERT_INT_EQ(dsn_parse("00-11-22-33-44-55-66-777", &v), -EINVAL);
}

TEST(slot_names)
{
	ASSERT_TRUE(slot_name_valid("1"));
	ASSERT_TRUE(slot_name_valid("0-2"));
	ASSERT_TRUE(slot_name_valid("HotPlug.3+x_y"));
	ASSERT_FALSE(slot_name_valid(""));
	ASSERT_FALSE(slot_name_valid(".."));
	ASSERT_FALSE(slot_name_valid(".hidden"));
	ASSERT_FALSE(slot_name_valid("a/b"));
	ASSERT_FALSE(slot_name_valid("a b"));
	ASSERT_FALSE(slot_name_valid(NULL));
}

/* the DSN as the spec lays it out: lower dword at +4, after another capability at 0x100 */
TEST(serial_from_config_space)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "identity");
	unsigned char c[4096] = { 0 };
	uint64_t v = 0;

	ASSERT_NOT_NULL(r);
	put32(c, 0x100, 0x0001u | 1u << 16 | 0x140u << 20); /* AER, next at 0x140 */
	put32(c, 0x140, 0x0003u | 1u << 16);		     /* DSN, last */
	put32(c, 0x144, 0x44556677u);
	put32(c, 0x148, 0x00112233u);
	ASSERT_INT_EQ(write_config(dir, "0000:01:00.0", c, sizeof(c)), 0);
	ASSERT_INT_EQ(identity_read_serial(r, "0000:01:00.0", &v), 1);
	ASSERT_TRUE(v == 0x0011223344556677ull);
	/* what a reader without CAP_SYS_ADMIN gets: 64 bytes, the serial unknown, never "none" */
	ASSERT_INT_EQ(write_config(dir, "0000:02:00.0", c, 64), 0);
	ASSERT_INT_EQ(identity_read_serial(r, "0000:02:00.0", &v), -ENODATA);
	/* conventional PCI: 256 bytes */
	ASSERT_INT_EQ(write_config(dir, "0000:03:00.0", c, 256), 0);
	ASSERT_INT_EQ(identity_read_serial(r, "0000:03:00.0", &v), -ENODATA);
	/* a full extended space without the capability: known to have none */
	memset(c + 0x100, 0, 0x100);
	ASSERT_INT_EQ(write_config(dir, "0000:04:00.0", c, sizeof(c)), 0);
	ASSERT_INT_EQ(identity_read_serial(r, "0000:04:00.0", &v), 0);
	/* a list that loops on itself ends, with no serial */
	put32(c, 0x100, 0x0001u | 1u << 16 | 0x100u << 20);
	ASSERT_INT_EQ(write_config(dir, "0000:05:00.0", c, sizeof(c)), 0);
	ASSERT_INT_EQ(identity_read_serial(r, "0000:05:00.0", &v), 0);
	ASSERT_TRUE(identity_read_serial(r, "0000:06:00.0", &v) < 0);
	tmproot_remove(r, dir);
}

static struct pcifn fn(const char *name, uint16_t vendor, uint16_t device, uint16_t sv, uint16_t sd, int serial)
{
	struct pcifn f = { .vendor = vendor, .device = device, .subvendor = sv, .subdevice = sd, .group = -1 };

	(void)pciaddr_parse(name, &f.addr);
	snprintf(f.name, sizeof(f.name), "%s", name);
	f.serial_known = serial >= -1;
	f.has_serial = serial >= 0;
	f.serial = serial >= 0 ? (uint64_t)serial : 0;
	return f;
}

static struct config *conf(const char *text)
{
	struct config *cfg = config_new();
	struct config_error e;

	if (!cfg || config_parse_text(cfg, text, "t.conf", &e) < 0 || config_finish(cfg, &e) < 0) {
		fprintf(stderr, "  config: %s:%u: %s\n", e.file, e.line, e.msg);
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

TEST(whereabouts_serial_first)
{
	struct pcifn fns[] = { fn("0000:02:00.0", 0x10de, 0x2204, 0x1458, 0x403b, 0xb02),
			       fn("0000:03:00.0", 0x10de, 0x2204, 0x1458, 0x403b, 0xa01) };
	struct pcihost h = { .fns = fns, .n = 2, .iommu = true, .identity_read = true };
	struct config *cfg = conf("[vm1]\naddress = 0000:02:00.0\nids = 10de:2204\nsubsystem = 1458:403b\n"
				  "serial = 00-00-00-00-00-00-0a-01\n");
	struct set_whereabouts w;
	char msg[512];

	ASSERT_NOT_NULL(cfg);
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_TRUE(w.mismatch);
	ASSERT_INT_EQ(w.where, WHERE_MOVED);
	ASSERT_INT_EQ(w.by, FOUND_SERIAL);
	ASSERT_STR_EQ(w.found->name, "0000:03:00.0");
	whereabouts_message(&cfg->sets[0], &w, msg, sizeof(msg));
	ASSERT_STR_CONTAINS(msg, "with serial number 00-00-00-00-00-00-0b-02 (00-00-00-00-00-00-0a-01 recorded)");
	/* an unreadable serial at the address is no mismatch */
	fns[0].serial_known = fns[0].has_serial = false;
	fns[1].serial_known = fns[1].has_serial = false;
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_FALSE(w.mismatch);
	config_free(cfg);
}

TEST(whereabouts_never_guesses_between_twins)
{
	struct pcifn fns[] = { fn("0000:02:00.0", 0x10de, 0x2204, 0x1458, 0x403b, -1),
			       fn("0000:03:00.0", 0x10de, 0x2204, 0x1458, 0x403b, -1) };
	struct pcihost h = { .fns = fns, .n = 2, .iommu = true, .identity_read = true };
	struct config *cfg = conf("[gpu]\naddress = 0000:04:00\nids = 10de:2204\nsubsystem = 1458:403b\n");
	struct set_whereabouts w;

	ASSERT_NOT_NULL(cfg);
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_TRUE(w.mismatch);
	ASSERT_INT_EQ(w.where, WHERE_AMBIGUOUS);
	ASSERT_STR_EQ(w.candidates, "0000:02:00.0, 0000:03:00.0");
	/* one of them claimed by another set still leaves two that match: never a guess */
	config_free(cfg);
	cfg = conf("[gpu]\naddress = 0000:04:00\nids = 10de:2204\nsubsystem = 1458:403b\n"
		   "[other]\naddress = 0000:02:00\n");
	ASSERT_NOT_NULL(cfg);
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_INT_EQ(w.where, WHERE_AMBIGUOUS);
	/* alone on the host, and claimed by no other set: found */
	h.n = 1;
	config_free(cfg);
	cfg = conf("[gpu]\naddress = 0000:04:00\nids = 10de:2204\nsubsystem = 1458:403b\n");
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_INT_EQ(w.where, WHERE_MOVED);
	ASSERT_INT_EQ(w.by, FOUND_IDS_SUBSYS);
	config_free(cfg);
	/* claimed by another set: not taken */
	cfg = conf("[gpu]\naddress = 0000:04:00\nids = 10de:2204\nsubsystem = 1458:403b\n"
		   "[other]\naddress = 0000:02:00\n");
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_INT_EQ(w.where, WHERE_GONE);
	config_free(cfg);
}

TEST(relocated_addresses_keep_their_form)
{
	struct pcifn fns[] = { fn("0000:05:00.0", 0x10de, 0x2204, 0x1458, 0x403b, 7),
			       fn("0000:05:00.1", 0x10de, 0x1aef, 0x1458, 0x403b, -1) };
	struct pcihost h = { .fns = fns, .n = 2, .iommu = true, .identity_read = true };
	struct config *cfg = conf("[gpu]\naddress = 0000:02:00.0, 0000:02:00.1\nids = 10de:2204,10de:1aef\n"
				  "serial = 00-00-00-00-00-00-00-07\n");
	struct set_whereabouts w;
	struct selector moved[2];
	char a[PCIADDR_STRLEN];

	ASSERT_NOT_NULL(cfg);
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_INT_EQ(w.where, WHERE_MOVED);
	ASSERT_INT_EQ(plan_relocated_addrs(&cfg->sets[0], &w, moved), 0);
	pciaddr_format(&moved[1].addr, a);
	ASSERT_STR_EQ(a, "0000:05:00.1");
	ASSERT_INT_EQ(moved[1].kind, SEL_FUNCTION);
	config_free(cfg);
	cfg = conf("[gpu]\naddress = 0000:02:00.0, 0000:09:00.0\nserial = 00-00-00-00-00-00-00-07\n");
	ASSERT_NOT_NULL(cfg);
	plan_whereabouts(&h, cfg, &cfg->sets[0], &w);
	ASSERT_INT_EQ(plan_relocated_addrs(&cfg->sets[0], &w, moved), -EXDEV);
	config_free(cfg);
}

HARNESS_MAIN
