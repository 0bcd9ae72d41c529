/* test-unitlink.c - a unit's [Install] links below a root, checked against systemctl --root itself */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tmproot.h"
#include "unitlink.h"
#include "util.h"

static const char unit_text[] = "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n\n"
				"[Install]\nWantedBy=sysinit.target\nWantedBy=multi-user.target sysinit.target\n"
				"RequiredBy=pve-guests.service\n";

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void install_unit(const char *dir, const char *where)
{
	char path[512];
	FILE *f;

	(void)sh("mkdir -p %s/%s", dir, where);
	(void)snprintf(path, sizeof(path), "%s/%s/x-test.service", dir, where);
	f = fopen(path, "w");
	if (f) {
		fputs(unit_text, f);
		fclose(f);
	}
}

/* every symlink below etc/systemd, "PATH -> TARGET" sorted, as one string */
static char *links_of(const char *dir)
{
	char cmd[1024], *buf = calloc(1, 4096);
	FILE *p;

	(void)snprintf(cmd, sizeof(cmd), "cd %s && find etc -type l -printf '%%p -> %%l\\n' 2>/dev/null | sort; "
			   "find etc -type d -empty -printf 'empty %%p\\n' 2>/dev/null | sort", dir);
	p = popen(cmd, "r");
	if (p && buf)
		(void)!fread(buf, 1, 4095, p);
	if (p)
		pclose(p);
	return buf;
}

static bool have_systemctl(void)
{
	return system("systemctl --version >/dev/null 2>&1") == 0;
}

TEST(reads_the_install_section)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "unitlink");
	struct unit_links u;

	ASSERT_NOT_NULL(r);
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), -ENOENT);
	install_unit(dir, "usr/lib/systemd/system");
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	ASSERT_STR_EQ(u.path, "/usr/lib/systemd/system/x-test.service");
	ASSERT_INT_EQ(u.n_links, 3);
	ASSERT_STR_EQ(u.links[0], "etc/systemd/system/sysinit.target.wants/x-test.service");
	ASSERT_STR_EQ(u.links[1], "etc/systemd/system/multi-user.target.wants/x-test.service");
	ASSERT_STR_EQ(u.links[2], "etc/systemd/system/pve-guests.service.requires/x-test.service");
	ASSERT_FALSE(unit_links_enabled(&u));
	ASSERT_INT_EQ(unit_links_read(r, "../x.service", &u), -EINVAL);
	ASSERT_INT_EQ(unit_links_read(r, "x-test", &u), -EINVAL);
	tmproot_remove(r, dir);
}

TEST(enable_and_disable_make_what_systemctl_makes)
{
	char mine[64], theirs[64];
	struct sysroot *r = tmproot_open(mine, sizeof(mine), "unitlink");
	struct sysroot *o = tmproot_open(theirs, sizeof(theirs), "unitlink");
	struct unit_links u;
	char *a = NULL, *b = NULL;

	ASSERT_NOT_NULL(r);
	ASSERT_NOT_NULL(o);
	if (!have_systemctl())
		FAIL_AT("systemctl is missing: the oracle for unit links cannot run");
	install_unit(mine, "usr/lib/systemd/system");
	install_unit(theirs, "usr/lib/systemd/system");
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	ASSERT_INT_EQ(unit_enable(r, &u), 3);
	ASSERT_INT_EQ(sh("systemctl --root=%s enable x-test.service >/dev/null 2>&1", theirs), 0);
	a = links_of(mine);
	b = links_of(theirs);
	ASSERT_STR_CONTAINS(a, "sysinit.target.wants/x-test.service -> /usr/lib/systemd/system/x-test.service");
	ASSERT_STR_EQ(a, b);
	free(a);
	free(b);
	ASSERT_INT_EQ(sh("test \"$(systemctl --root=%s is-enabled x-test.service)\" = enabled", mine), 0);
	/* a second run creates nothing */
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	ASSERT_TRUE(unit_links_enabled(&u));
	ASSERT_INT_EQ(unit_enable(r, &u), 0);
	ASSERT_INT_EQ(unit_count_links(r, "x-test.service"), 3);
	/* disable: the links and the directories left empty go, as with systemctl disable */
	ASSERT_INT_EQ(unit_disable(r, "x-test.service"), 3);
	ASSERT_INT_EQ(sh("systemctl --root=%s disable x-test.service >/dev/null 2>&1", theirs), 0);
	a = links_of(mine);
	b = links_of(theirs);
	ASSERT_STR_EQ(a, b);
	free(a);
	free(b);
	ASSERT_INT_EQ(sh("test \"$(systemctl --root=%s is-enabled x-test.service)\" = disabled", mine), 0);
	ASSERT_INT_EQ(unit_disable(r, "x-test.service"), 0);
	tmproot_remove(r, mine);
	tmproot_remove(o, theirs);
}

TEST(a_masked_unit_and_a_foreign_link_are_refused)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "unitlink");
	struct unit_links u;

	ASSERT_NOT_NULL(r);
	install_unit(dir, "usr/lib/systemd/system");
	ASSERT_INT_EQ(sh("mkdir -p %s/etc/systemd/system/sysinit.target.wants && "
			 "ln -s /etc/elsewhere.service %s/etc/systemd/system/sysinit.target.wants/x-test.service", dir, dir), 0);
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	ASSERT_STR_EQ(u.conflict[0], "a symlink to /etc/elsewhere.service");
	ASSERT_INT_EQ(unit_enable(r, &u), -EEXIST);
	ASSERT_INT_EQ(sh("test ! -e %s/etc/systemd/system/multi-user.target.wants", dir), 0);
	ASSERT_INT_EQ(sh("ln -s /dev/null %s/etc/systemd/system/x-test.service", dir), 0);
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	ASSERT_TRUE(u.masked);
	ASSERT_FALSE(unit_links_enabled(&u));
	ASSERT_INT_EQ(unit_enable(r, &u), -EPERM);
	tmproot_remove(r, dir);
}

TEST(a_unit_in_etc_wins_and_links_to_itself)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "unitlink");
	struct unit_links u;

	ASSERT_NOT_NULL(r);
	install_unit(dir, "usr/lib/systemd/system");
	install_unit(dir, "etc/systemd/system");
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	ASSERT_STR_EQ(u.path, "/etc/systemd/system/x-test.service");
	ASSERT_INT_EQ(unit_enable(r, &u), 3);
	ASSERT_INT_EQ(sh("test \"$(readlink %s/etc/systemd/system/sysinit.target.wants/x-test.service)\" = "
			 "/etc/systemd/system/x-test.service", dir), 0);
	tmproot_remove(r, dir);
}

/* issue 19: the link the package's postinst made on merged /usr names /lib/systemd/system, the unit is found in usr/lib */
TEST(a_link_to_the_same_unit_elsewhere_in_the_search_path_is_enabled)
{
	char dir[64];
	struct sysroot *r = tmproot_open(dir, sizeof(dir), "unitlink");
	struct unit_links u;

	ASSERT_NOT_NULL(r);
	install_unit(dir, "usr/lib/systemd/system");
	ASSERT_INT_EQ(sh("ln -s usr/lib %s/lib && mkdir -p %s/etc/systemd/system/sysinit.target.wants && "
			 "ln -s /lib/systemd/system/x-test.service %s/etc/systemd/system/sysinit.target.wants/",
			 dir, dir, dir), 0);
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	ASSERT_STR_EQ(u.path, "/usr/lib/systemd/system/x-test.service");
	for (size_t i = 0; i < u.n_links; i++)
		if (strstr(u.links[i], "sysinit.target.wants"))
			ASSERT_TRUE(u.present[i]);
	ASSERT_INT_EQ(sh("ln -sf ../other.service %s/etc/systemd/system/sysinit.target.wants/x-test.service", dir), 0);
	ASSERT_INT_EQ(unit_links_read(r, "x-test.service", &u), 0);
	for (size_t i = 0; i < u.n_links; i++)
		if (strstr(u.links[i], "sysinit.target.wants"))
			ASSERT_FALSE(u.present[i]);
	tmproot_remove(r, dir);
}

TEST(unit_names_one_rule)
{
	ASSERT_TRUE(unit_name_valid("display-manager.service"));
	ASSERT_TRUE(unit_name_valid("user.slice"));
	ASSERT_TRUE(unit_name_valid("boot.mount"));
	ASSERT_TRUE(unit_name_valid("getty@tty1.service"));
	ASSERT_FALSE(unit_name_valid("-x.service"));
	ASSERT_FALSE(unit_name_valid("x.conf"));
	ASSERT_FALSE(unit_name_valid("a b.service"));
	ASSERT_FALSE(unit_name_valid("dev-x\\x2d.device"));
}

HARNESS_MAIN
