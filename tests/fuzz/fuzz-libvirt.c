/* fuzz-libvirt.c - libFuzzer target: a libvirt domain XML through libvirt_domain_devices */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook-libvirt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];

	if (size > 256 * 1024)
		return 0;
	for (int all = 0; all <= 1; all++) {
		struct hook_devs d = {0};
		int r;

		err[0] = '\0';
		r = libvirt_domain_devices((const char *)data, size, all, &d, err, sizeof(err));
		if (r == 0) {
			for (size_t i = 0; i < d.n; i++)
				if (d.addrs[i].dev > 31 || d.addrs[i].fn > 7)
					abort();
			hook_devs_free(&d);
		} else if (!memchr(err, '\0', sizeof(err)) || (r != -ENOMEM && !err[0])) {
			/* every refusal but out-of-memory says why */
			abort();
		}
	}
	return 0;
}
