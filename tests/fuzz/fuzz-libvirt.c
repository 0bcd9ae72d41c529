/* fuzz-libvirt.c - libFuzzer target: a libvirt domain XML through libvirt_domain_devices */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "hook-libvirt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];

	if (size > 256 * 1024)
		return 0;
	for (int all = 0; all <= 1; all++) {
		struct hook_devs d = {0};

		err[0] = '\0';
		if (libvirt_domain_devices((const char *)data, size, all, &d, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < d.n; i++)
				if (d.addrs[i].dev > 31 || d.addrs[i].fn > 7)
					abort();
			hook_devs_free(&d);
		} else if (!memchr(err, '\0', sizeof(err))) {
			abort();
		}
	}
	return 0;
}
