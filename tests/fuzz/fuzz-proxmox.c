/* fuzz-proxmox.c - libFuzzer target: a Proxmox VM config, PCI mapping file and reservations through the choice */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook-proxmox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small host: two GPUs with audio, an NVMe drive, two identical NICs, a NIC in a VMD domain (sorted) */
static struct pcifn host_fns[] = {
	{.addr = {0, 0x01, 0, 0}, .name = "0000:01:00.0", .vendor = 0x10de, .device = 0x2204, .subvendor = 0x10de,
	 .subdevice = 0x1467, .class = 0x030000, .group = 1},
	{.addr = {0, 0x01, 0, 1}, .name = "0000:01:00.1", .vendor = 0x10de, .device = 0x1aef, .subvendor = 0x10de,
	 .subdevice = 0x1467, .class = 0x040300, .group = 1},
	{.addr = {0, 0x02, 0, 0}, .name = "0000:02:00.0", .vendor = 0x144d, .device = 0xa80a, .class = 0x010802,
	 .group = 2},
	{.addr = {0, 0x05, 0, 0}, .name = "0000:05:00.0", .vendor = 0x8086, .device = 0x1533, .subvendor = 0x1458,
	 .subdevice = 0xe000, .class = 0x020000, .group = 5},
	{.addr = {0, 0x06, 0, 0}, .name = "0000:06:00.0", .vendor = 0x8086, .device = 0x1533, .subvendor = 0x1458,
	 .subdevice = 0xe000, .class = 0x020000, .group = 6},
	{.addr = {0, 0x82, 0, 0}, .name = "0000:82:00.0", .vendor = 0x10de, .device = 0x2204, .subvendor = 0x10de,
	 .subdevice = 0x1467, .class = 0x030000, .group = 14},
	{.addr = {0, 0x82, 0, 1}, .name = "0000:82:00.1", .vendor = 0x10de, .device = 0x1aef, .subvendor = 0x10de,
	 .subdevice = 0x1467, .class = 0x040300, .group = 14},
	{.addr = {0x10000, 0x03, 0, 0}, .name = "10000:03:00.0", .vendor = 0x8086, .device = 0x1572, .class = 0x020000,
	 .group = 20},
};

static char *split(char *s)
{
	static const char sep[] = "\n#---\n";
	char *p = s ? strstr(s, sep) : NULL;

	if (!p)
		return NULL;
	*p = '\0';
	return p + sizeof(sep) - 1;
}

/* every function chosen exists, none twice across both lists, every refusal says why */
static void check(const struct hook_devs *take, const struct hook_devs *kept, const struct pcihost *h)
{
	for (size_t i = 0; i < take->n + kept->n; i++) {
		const struct hook_devs *d = i < take->n ? take : kept;
		size_t k = i < take->n ? i : i - take->n;

		if (!pcihost_find(h, &d->addrs[k]) || !memchr(d->origin[k], '\0', sizeof(d->origin[k])))
			abort();
		if (d == take && hook_devs_has(kept, &d->addrs[k]))
			abort();
	}
}

/* "VM CONFIG\n#---\nMAPPING\n#---\nRESERVATIONS": the last two are optional */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcihost h = {.fns = host_fns, .n = sizeof(host_fns) / sizeof(host_fns[0]), .iommu = true};
	struct pve_reservations res = {0};
	struct hook_devs take = {0}, kept = {0};
	struct pve_vm vm;
	char err[512], *text, *map, *resv;
	int r;

	if (size > 64 * 1024 || !(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	map = split(text);
	resv = split(map);
	if (proxmox_vm_parse(text, &vm) == 0 && proxmox_reservations_parse(resv, &res) == 0) {
		struct pve_env env = {.h = &h, .map_text = map, .node = "pve1", .vmid = 100, .res = &res, .now = 1000};

		for (size_t i = 0; i < res.n; i++)
			res.r[i].live = res.r[i].value % 2; /* some of the pid reservations are of running VMs */
		err[0] = '\0';
		r = proxmox_vm_choose(&vm, &env, &take, &kept, err, sizeof(err));
		if (r == 0)
			check(&take, &kept, &h);
		else if (!memchr(err, '\0', sizeof(err)) || (r != -12 && !err[0]))
			abort();
		hook_devs_free(&take);
		hook_devs_free(&kept);
	}
	proxmox_vm_free(&vm);
	proxmox_reservations_free(&res);
	(void)proxmox_vmid_valid(text);
	free(text);
	return 0;
}
