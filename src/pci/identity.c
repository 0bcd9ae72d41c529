/* identity.c - serial numbers from config space, physical slots, and where a recorded device is now */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#include "identity.h"

#define EXT_CAP_START 0x100
#define EXT_CAP_END   0x1000
#define EXT_CAP_DSN   0x0003

static int read_dword(int fd, unsigned off, uint32_t *ret)
{
	unsigned char b[4];
	ssize_t n = pread(fd, b, sizeof(b), off);

	if (n < 0)
		return -errno;
	if (n != sizeof(b))
		return -ENODATA; /* not root (64 bytes), or a conventional PCI function (256) */
	*ret = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

/* the extended capability list from 0x100: id in bits 0-15, next in bits 20-31 (PCIe 7.6.3) */
static int find_dsn(int fd, uint64_t *ret)
{
	unsigned off = EXT_CAP_START;
	uint32_t hdr, lo, hi;
	int r;

	for (int hops = 0; hops < (EXT_CAP_END - EXT_CAP_START) / 8; hops++) {
		if ((r = read_dword(fd, off, &hdr)) < 0)
			return r;
		if (hdr == 0 || hdr == 0xffffffffu)
			return 0; /* no extended capabilities, or the device is gone */
		if ((hdr & 0xffff) == EXT_CAP_DSN) {
			if ((r = read_dword(fd, off + 4, &lo)) < 0 || (r = read_dword(fd, off + 8, &hi)) < 0)
				return r;
			*ret = (uint64_t)hi << 32 | lo;
			return 1;
		}
		off = hdr >> 20;
		if (off < EXT_CAP_START || off % 4)
			return 0;
	}
	return 0; /* a loop in the list: no serial to trust */
}

int identity_read_serial(const struct sysroot *r, const char *name, uint64_t *ret)
{
	char rel[128];
	uint64_t dsn;
	int fd, e;

	if (sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/devices/%s/config", name) < 0)
		return -ENAMETOOLONG;
	fd = sysroot_openat(r, rel, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	e = find_dsn(fd, &dsn);
	(void)close(fd);
	if (e == 1)
		*ret = dsn;
	return e;
}

static int slot_add(struct pcihost *h, size_t *cap, const char *name, const struct pciaddr *a)
{
	if (h->n_slots == *cap) {
		size_t n = *cap ? *cap * 2 : 8;
		struct pcislot *s = realloc(h->slots, n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		h->slots = s;
		*cap = n;
	}
	h->slots[h->n_slots] = (struct pcislot){ .addr = *a };
	(void)snprintf(h->slots[h->n_slots].name, sizeof(h->slots[0].name), "%.63s", name);
	h->n_slots++;
	return 0;
}

int identity_read_slot(const struct sysroot *r, const char *name, struct pciaddr *ret)
{
	char rel[160], line[64], full[PCIADDR_STRLEN + 4];

	if (!slot_name_valid(name) || sysroot_pathf(rel, sizeof(rel), "sys/bus/pci/slots/%s/address", name) < 0)
		return -EINVAL;
	if (sysroot_read_line(r, rel, line, sizeof(line)) < 0 || strlen(line) != 10)
		return -ENOENT;
	(void)snprintf(full, sizeof(full), "%s.0", line);
	return pciaddr_parse(full, ret) < 0 ? -ENOENT : 0;
}

void identity_read_fn_serial(const struct sysroot *r, struct pcifn *f)
{
	uint64_t dsn;
	int e = identity_read_serial(r, f->name, &dsn);

	f->serial_known = e >= 0;
	f->has_serial = e == 1;
	f->serial = e == 1 ? dsn : 0;
}

/* sys/bus/pci/slots/NAME/address: "DDDD:BB:SS" (a slot without a device number says "DDDD:BB": skipped) */
static int read_slots(const struct sysroot *r, struct pcihost *h)
{
	DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0;
	int e = 0;

	if (sysroot_opendir(r, "sys/bus/pci/slots", &d) < 0)
		return 0;
	while (e == 0 && (de = readdir(d))) {
		struct pciaddr a;

		if (identity_read_slot(r, de->d_name, &a) == 0)
			e = slot_add(h, &cap, de->d_name, &a);
	}
	closedir(d);
	return e;
}

int identity_annotate(const struct sysroot *r, struct pcihost *h)
{
	int e;

	if (h->identity_read)
		return 0;
	if ((e = read_slots(r, h)) < 0)
		return e;
	for (size_t i = 0; i < h->n; i++) {
		struct pcifn *f = &h->fns[i];

		identity_read_fn_serial(r, f);
		for (size_t k = 0; k < h->n_slots; k++)
			if (pciaddr_same_slot(&h->slots[k].addr, &f->addr))
				(void)snprintf(f->slot, sizeof(f->slot), "%s", h->slots[k].name);
	}
	h->identity_read = true;
	return 0;
}

const struct pcifn *identity_find_serial(const struct pcihost *h, uint64_t dsn)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->fns[i].has_serial && h->fns[i].serial == dsn)
			return &h->fns[i];
	return NULL;
}

const struct pcislot *identity_find_slot(const struct pcihost *h, const char *name)
{
	for (size_t i = 0; name && i < h->n_slots; i++)
		if (streq(h->slots[i].name, name))
			return &h->slots[i];
	return NULL;
}
