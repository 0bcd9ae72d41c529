/* test-names.c - names from pci.ids through libpci, and the fallback text */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "names.h"

/* A small pci.ids of our own: results that do not move with the distribution's copy */
static const char fixture_ids[] = "# test ids\n"
				  "10de  NVIDIA Corporation\n"
				  "\t2204  GA102 [GeForce RTX 3090]\n"
				  "\t1aef  GA102 High Definition Audio Controller\n"
				  "8086  Intel Corporation\n"
				  "1234  Caf\xc3\xa9 Devices\n"
				  "C 03  Display controller\n"
				  "\t00  VGA compatible controller\n"
				  "C 0c  Serial bus controller\n"
				  "\t03  USB controller\n"
				  "\t\t30  XHCI\n";

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/test-names-XXXXXX");
	int fd = path ? mkstemp(path) : -1;
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

static struct names *fixture_names(char **ret_path)
{
	struct names *n = NULL;

	*ret_path = write_tmp(fixture_ids);
	if (*ret_path && names_new_file(*ret_path, &n) < 0)
		n = NULL;
	return n;
}

static void drop(struct names *n, char *path)
{
	names_free(n);
	if (path)
		unlink(path);
	free(path);
}

TEST(system_ids_known_vendor)
{
	struct names *n;
	char buf[256];

	ASSERT_INT_EQ(names_new(&n), 0);
	ASSERT_STR_EQ(names_vendor(n, 0x8086, buf, sizeof(buf)), "Intel Corporation");
	ASSERT_STR_EQ(names_vendor(n, 0x10de, buf, sizeof(buf)), "NVIDIA Corporation");
	ASSERT_STR_EQ(names_lookup_vendor(n, 0x1af4, buf, sizeof(buf)), "Red Hat, Inc.");
	names_free(n);
}

TEST(system_ids_known_device)
{
	struct names *n;
	char buf[256];

	ASSERT_INT_EQ(names_new(&n), 0);
	ASSERT_STR_EQ(names_device(n, 0x10de, 0x2204, buf, sizeof(buf)), "GA102 [GeForce RTX 3090]");
	ASSERT_STR_EQ(names_device(n, 0x10de, 0x1aef, buf, sizeof(buf)),
		      "GA102 High Definition Audio Controller");
	names_free(n);
}

TEST(system_ids_class)
{
	struct names *n;
	char buf[256];

	ASSERT_INT_EQ(names_new(&n), 0);
	ASSERT_STR_EQ(names_class(n, 0x030000, buf, sizeof(buf)), "VGA compatible controller");
	ASSERT_STR_EQ(names_class(n, 0x0c0330, buf, sizeof(buf)), "USB controller");
	ASSERT_STR_EQ(names_class(n, 0x010802, buf, sizeof(buf)), "Non-Volatile memory controller");
	names_free(n);
}

TEST(system_ids_unknown_falls_back)
{
	struct names *n;
	char buf[256];

	ASSERT_INT_EQ(names_new(&n), 0);
	ASSERT_STR_EQ(names_vendor(n, 0xf00d, buf, sizeof(buf)), "Vendor f00d");
	ASSERT_NULL(names_lookup_vendor(n, 0xf00d, buf, sizeof(buf)));
	ASSERT_STR_EQ(names_device(n, 0x10de, 0xfff0, buf, sizeof(buf)), "Device 10de:fff0");
	ASSERT_NULL(names_lookup_device(n, 0x10de, 0xfff0, buf, sizeof(buf)));
	ASSERT_STR_EQ(names_device(n, 0xf00d, 0x0001, buf, sizeof(buf)), "Device f00d:0001");
	names_free(n);
}

TEST(fixture_names_exact)
{
	char *path, buf[256];
	struct names *n = fixture_names(&path);

	ASSERT_NOT_NULL(n);
	ASSERT_STR_EQ(names_vendor(n, 0x10de, buf, sizeof(buf)), "NVIDIA Corporation");
	ASSERT_STR_EQ(names_device(n, 0x10de, 0x2204, buf, sizeof(buf)), "GA102 [GeForce RTX 3090]");
	ASSERT_STR_EQ(names_vendor(n, 0x1234, buf, sizeof(buf)), "Caf\xc3\xa9 Devices");
	/* a device id known for another vendor only */
	ASSERT_STR_EQ(names_device(n, 0x8086, 0x2204, buf, sizeof(buf)), "Device 8086:2204");
	ASSERT_STR_EQ(names_vendor(n, 0x1af4, buf, sizeof(buf)), "Vendor 1af4");
	drop(n, path);
}

TEST(fixture_class_names)
{
	char *path, buf[256];
	struct names *n = fixture_names(&path);

	ASSERT_NOT_NULL(n);
	ASSERT_STR_EQ(names_class(n, 0x030000, buf, sizeof(buf)), "VGA compatible controller");
	/* the prog-if byte does not change the name */
	ASSERT_STR_EQ(names_class(n, 0x0c0330, buf, sizeof(buf)), "USB controller");
	/* unknown subclass of a known class: the class name with the number */
	ASSERT_STR_EQ(names_class(n, 0x038000, buf, sizeof(buf)), "Display controller [0380]");
	ASSERT_STR_EQ(names_class(n, 0x020000, buf, sizeof(buf)), "Class 0200");
	ASSERT_NULL(names_lookup_class(n, 0x020000, buf, sizeof(buf)));
	drop(n, path);
}

TEST(missing_ids_file_falls_back)
{
	struct names *n;
	char buf[256];

	ASSERT_INT_EQ(names_new_file("/nonexistent/pci.ids", &n), 0);
	ASSERT_STR_EQ(names_vendor(n, 0x8086, buf, sizeof(buf)), "Vendor 8086");
	ASSERT_STR_EQ(names_device(n, 0x10de, 0x2204, buf, sizeof(buf)), "Device 10de:2204");
	ASSERT_STR_EQ(names_class(n, 0x030000, buf, sizeof(buf)), "Class 0300");
	ASSERT_NULL(names_lookup_vendor(n, 0x8086, buf, sizeof(buf)));
	names_free(n);
}

/* libpci's default error handler would exit() here; ours returns to the fallback */
TEST(corrupt_ids_file_falls_back)
{
	char *path = write_tmp("8086  Intel Corporation\nzzzz  not hex\n"), buf[256];
	struct names *n = NULL;

	ASSERT_NOT_NULL(path);
	ASSERT_INT_EQ(names_new_file(path, &n), 0);
	ASSERT_STR_EQ(names_vendor(n, 0x8086, buf, sizeof(buf)), "Vendor 8086");
	ASSERT_STR_EQ(names_device(n, 0x10de, 0x2204, buf, sizeof(buf)), "Device 10de:2204");
	drop(n, path);
}

/* The same parse in names_preload()'s thread: its error is caught there, lookups fall back */
TEST(corrupt_ids_file_preloaded_falls_back)
{
	char *path = write_tmp("8086  Intel Corporation\nzzzz  not hex\n"), buf[256];
	struct names *n = NULL;

	ASSERT_NOT_NULL(path);
	ASSERT_INT_EQ(names_new_file(path, &n), 0);
	names_preload(n);
	ASSERT_STR_EQ(names_vendor(n, 0x8086, buf, sizeof(buf)), "Vendor 8086");
	drop(n, path);
}

/* A preloaded good file answers as a lazily loaded one does */
TEST(preloaded_names_exact)
{
	char *path = write_tmp("10de  NVIDIA Corporation\n\t2204  GA102 [GeForce RTX 3090]\n"), buf[256];
	struct names *n = NULL;

	ASSERT_NOT_NULL(path);
	ASSERT_INT_EQ(names_new_file(path, &n), 0);
	names_preload(n);
	names_preload(n); /* twice is harmless */
	ASSERT_STR_EQ(names_device(n, 0x10de, 0x2204, buf, sizeof(buf)), "GA102 [GeForce RTX 3090]");
	ASSERT_STR_EQ(names_vendor(n, 0x10de, buf, sizeof(buf)), "NVIDIA Corporation");
	drop(n, path);
}

TEST(duplicate_entry_falls_back)
{
	char *path = write_tmp("8086  Intel Corporation\n8086  Intel again\n"), buf[256];
	struct names *n = NULL;

	ASSERT_NOT_NULL(path);
	ASSERT_INT_EQ(names_new_file(path, &n), 0);
	ASSERT_STR_EQ(names_vendor(n, 0x8086, buf, sizeof(buf)), "Vendor 8086");
	drop(n, path);
}

TEST(small_buffers)
{
	char *path, buf[8], tiny[2];
	struct names *n = fixture_names(&path);

	ASSERT_NOT_NULL(n);
	/* libpci marks truncation with dots */
	ASSERT_STR_EQ(names_vendor(n, 0x10de, buf, sizeof(buf)), "NVID...");
	ASSERT_STR_EQ(names_device(n, 0xf00d, 0x1, buf, sizeof(buf)), "Device ");
	ASSERT_STR_EQ(names_vendor(n, 0x10de, tiny, sizeof(tiny)), "V");
	ASSERT_STR_EQ(names_vendor(n, 0x10de, tiny, 0), "");
	drop(n, path);
}

TEST(null_names_is_fallback)
{
	char buf[64];

	ASSERT_STR_EQ(names_vendor(NULL, 0x8086, buf, sizeof(buf)), "Vendor 8086");
	ASSERT_STR_EQ(names_class(NULL, 0x0c0330, buf, sizeof(buf)), "Class 0c03");
	names_free(NULL);
}

HARNESS_MAIN
