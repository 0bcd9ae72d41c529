/* fuzz-proxmox.c - libFuzzer target: a Proxmox VM config (and PCI mapping file) through proxmox_vm_devices */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook-proxmox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small host: two GPUs with audio, an NVMe drive, a NIC in a VMD domain (sorted) */
static struct pcifn host_fns[] = {
	{.addr = {0, 0x01, 0, 0}, .name = "0000:01:00.0", .vendor = 0x10de, .device = 0x2204, .class = 0x030000},
	{.addr = {0, 0x01, 0, 1}, .name = "0000:01:00.1", .vendor = 0x10de, .device = 0x1aef, .class = 0x040300},
	{.addr = {0, 0x02, 0, 0}, .name = "0000:02:00.0", .vendor = 0x144d, .device = 0xa80a, .class = 0x010802},
	{.addr = {0, 0x82, 0, 0}, .name = "0000:82:00.0", .vendor = 0x10de, .device = 0x2204, .class = 0x030000},
	{.addr = {0, 0x82, 0, 1}, .name = "0000:82:00.1", .vendor = 0x10de, .device = 0x1aef, .class = 0x040300},
	{.addr = {0x10000, 0x03, 0, 0}, .name = "10000:03:00.0", .vendor = 0x8086, .device = 0x1572, .class = 0x020000},
};

/* "VM CONFIG\n#---\nMAPPING": the mapping part is optional */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n#---\n";
	struct pcihost h = {.fns = host_fns, .n = sizeof(host_fns) / sizeof(host_fns[0]), .iommu = true};
	struct hook_devs d = {0};
	char err[512], *text, *map;

	if (size > 64 * 1024)
		return 0;
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	map = strstr(text, sep);
	if (map) {
		*map = '\0';
		map += sizeof(sep) - 1;
	}
	err[0] = '\0';
	if (proxmox_vm_devices(text, map, "pve1", &h, &d, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < d.n; i++)
			if (!pcihost_find(&h, &d.addrs[i]) || !memchr(d.origin[i], '\0', sizeof(d.origin[i])))
				abort();
		hook_devs_free(&d);
	} else if (!memchr(err, '\0', sizeof(err))) {
		abort();
	}
	(void)proxmox_vmid_valid(text);
	free(text);
	return 0;
}
