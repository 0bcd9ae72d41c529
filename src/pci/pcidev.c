/* pcidev.c - the device model: one PCI function's state as sysfs shows it */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devlock.h"
#include "pcidev.h"
#include "util.h"

#define PCI_DEVICES "sys/bus/pci/devices"

int fnstate_from_fn(const struct pcifn *f, struct fnstate *ret)
{
	return fnstate_set(ret, f->name, f->driver, f->override, f->reset_method, f->sriov_numvfs,
			   f->sriov_numvfs >= 0 ? f->sriov_autoprobe : AUTOPROBE_UNKNOWN);
}

void pcifn_clear(struct pcifn *f)
{
	if (!f)
		return;
	free(f->driver);
	free(f->override);
	free(f->reset_method);
	free(f->use_detail);
	for (size_t i = 0; i < PCIFN_N_USES; i++)
		free(f->use_details[i]);
	free(f->variant);
	memset(f, 0, sizeof(*f));
	f->group = -1;
	f->boot_vga = -1;
	f->sriov_numvfs = -1;
	f->sriov_totalvfs = -1;
	f->sriov_offset = -1;
	f->sriov_stride = -1;
	f->vf_index = -1;
}

int pcifn_copy(const struct pcifn *src, struct pcifn *ret)
{
	struct pcifn f = *src;

	f.driver = xstrdup_null(src->driver);
	f.override = xstrdup_null(src->override);
	f.reset_method = xstrdup_null(src->reset_method);
	f.use_detail = xstrdup_null(src->use_detail);
	f.variant = src->variant ? malloc(sizeof(*f.variant)) : NULL;
	if (f.variant)
		*f.variant = *src->variant;
	bool lost = (src->driver && !f.driver) || (src->override && !f.override) ||
		    (src->reset_method && !f.reset_method) || (src->use_detail && !f.use_detail) ||
		    (src->variant && !f.variant);
	for (size_t i = 0; i < PCIFN_N_USES; i++) {
		f.use_details[i] = xstrdup_null(src->use_details[i]);
		lost |= src->use_details[i] && !f.use_details[i];
	}
	if (lost) {
		pcifn_clear(&f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

static int read_hex(int dirfd, const char *name, unsigned long max, unsigned long *ret)
{
	char buf[32], *s = buf;
	int err = sysroot_read_line_at(dirfd, name, buf, sizeof(buf));

	if (err < 0)
		return err;
	strip_trailing(buf);
	if (strncmp(s, "0x", 2) == 0)
		s += 2;
	return parse_uint(s, 16, max, ret);
}

static int read_int(int dirfd, const char *name, int fallback)
{
	char buf[32];
	unsigned long v;

	if (sysroot_read_line_at(dirfd, name, buf, sizeof(buf)) < 0)
		return fallback;
	strip_trailing(buf);
	if (parse_uint(buf, 10, INT_MAX, &v) < 0)
		return fallback;
	return (int)v;
}

/* basename of a symlink inside the device dir, NULL (and 0) when absent */
static int link_name(int dirfd, const char *name, char **ret)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);
	const char *base;

	if (n < 0) {
		*ret = NULL;
		return errno == ENOENT ? 0 : -errno;
	}
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	*ret = strdup(base);
	return *ret ? 0 : -ENOMEM;
}

/*
 * "pci:v00008086d00001572sv00008086sd00000001bc02sc00i00": the kernel prints
 * modalias from the same cached pci_dev fields as the vendor, device,
 * subsystem_* and class attributes (modalias_show() in pci-sysfs.c), so one
 * read gives all five; on hosts with thousands of VFs that is 12 syscalls
 * fewer per function. Never the config file: reading it resumes a
 * runtime-suspended device.
 */
static int parse_modalias(const char *s, struct pcifn *f)
{
	static const char *const keys[] = { "pci:v", "d", "sv", "sd", "bc", "sc", "i" };
	static const unsigned char digits[] = { 8, 8, 8, 8, 2, 2, 2 };
	unsigned long v[7];

	for (size_t i = 0; i < 7; i++) {
		char hex[9];
		size_t k = strlen(keys[i]);

		if (strncmp(s, keys[i], k) != 0)
			return -EINVAL;
		s += k;
		if (strspn(s, "0123456789abcdefABCDEF") < digits[i])
			return -EINVAL;
		memcpy(hex, s, digits[i]);
		hex[digits[i]] = '\0';
		if (parse_uint(hex, 16, i < 4 ? 0xffff : 0xff, &v[i]) < 0)
			return -EINVAL;
		s += digits[i];
	}
	if (*s && *s != '\n')
		return -EINVAL;
	f->vendor = (uint16_t)v[0];
	f->device = (uint16_t)v[1];
	f->subvendor = (uint16_t)v[2];
	f->subdevice = (uint16_t)v[3];
	f->class = (uint32_t)(v[4] << 16 | v[5] << 8 | v[6]);
	return 0;
}

static int read_ids(int dirfd, struct pcifn *f)
{
	char alias[64];
	unsigned long v;
	int err;

	if (sysroot_read_line_at(dirfd, "modalias", alias, sizeof(alias)) == 0 && parse_modalias(alias, f) == 0)
		return 0;
	/* no modalias (an old or partial tree): the attributes one by one */
	if ((err = read_hex(dirfd, "vendor", 0xffff, &v)) < 0)
		return err;
	f->vendor = (uint16_t)v;
	if ((err = read_hex(dirfd, "device", 0xffff, &v)) < 0)
		return err;
	f->device = (uint16_t)v;
	if ((err = read_hex(dirfd, "class", 0xffffff, &v)) < 0)
		return err;
	f->class = (uint32_t)v;
	if (read_hex(dirfd, "subsystem_vendor", 0xffff, &v) == 0)
		f->subvendor = (uint16_t)v;
	if (read_hex(dirfd, "subsystem_device", 0xffff, &v) == 0)
		f->subdevice = (uint16_t)v;
	return 0;
}

static int read_override(int dirfd, char **ret)
{
	char buf[4096];
	int err = sysroot_read_line_at(dirfd, "driver_override", buf, sizeof(buf));

	*ret = NULL;
	if (err == -ENOENT)
		return 0;
	if (err < 0)
		return err;
	if (streq(buf, "(null)") || !*buf)
		return 0;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

static int read_reset_method(int dirfd, char **ret)
{
	char buf[256];
	int err = sysroot_read_line_at(dirfd, "reset_method", buf, sizeof(buf));

	*ret = NULL;
	if (err < 0)
		return err == -ENOENT || err == -EINVAL ? 0 : err;
	strip_trailing(buf);
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

static void read_group(int dirfd, struct pcifn *f)
{
	_cleanup_free_ char *g = NULL;
	unsigned long v;

	f->group = -1;
	if (link_name(dirfd, "iommu_group", &g) == 0 && g && parse_uint(g, 10, INT_MAX, &v) == 0)
		f->group = (int)v;
}

static enum autoprobe read_autoprobe(int dirfd)
{
	int v = read_int(dirfd, "sriov_drivers_autoprobe", -1);

	return v < 0 ? AUTOPROBE_UNKNOWN : v ? AUTOPROBE_ON : AUTOPROBE_OFF;
}

/* A PF's SR-IOV facts that need no device lock (sriov_numvfs does: devlock.c) */
static void read_sriov(int dirfd, struct pcifn *f)
{
	f->sriov_totalvfs = read_int(dirfd, "sriov_totalvfs", -1);
	if (f->sriov_totalvfs < 0)
		return;
	f->sriov_autoprobe = read_autoprobe(dirfd);
	f->sriov_offset = read_int(dirfd, "sriov_offset", -1);
	f->sriov_stride = read_int(dirfd, "sriov_stride", -1);
}

static void read_physfn(int dirfd, struct pcifn *f)
{
	_cleanup_free_ char *pf = NULL;

	if (link_name(dirfd, "physfn", &pf) == 0 && pf) {
		f->is_vf = true;
		(void)xsnprintf(f->physfn, sizeof(f->physfn), "%s", pf);
	}
}

static int read_fn_at(int dirfd, const struct pciaddr *a, unsigned flags, struct pcifn *f)
{
	int err;

	pcifn_clear(f);
	f->addr = *a;
	pciaddr_format(a, f->name);
	if ((err = read_ids(dirfd, f)) < 0)
		return err;
	if ((err = link_name(dirfd, "driver", &f->driver)) < 0)
		return err;
	/*
	 * The kernel shows the sriov_* attributes together and only on PFs
	 * (a VF never has the SR-IOV capability), boot_vga only on VGA
	 * functions (pci_dev_attrs_are_visible(), pci_is_vga()): on hosts
	 * with thousands of VFs, not trying the others saves failing opens.
	 */
	read_physfn(dirfd, f);
	if (!f->is_vf)
		read_sriov(dirfd, f);
	/* without a driver, an unbind may be waiting in the kernel: see devlock.c */
	f->locked_unread = !f->driver;
	if (f->driver) {
		if ((err = read_override(dirfd, &f->override)) < 0)
			return err;
		if (f->sriov_totalvfs >= 0)
			f->sriov_numvfs = read_int(dirfd, "sriov_numvfs", -1);
	}
	if (!(flags & PCIHOST_NO_RESET_METHOD) && (err = read_reset_method(dirfd, &f->reset_method)) < 0)
		return err;
	read_group(dirfd, f);
	if (pcifn_is_vga(f) || (f->class >> 8) == 0x0001)
		f->boot_vga = read_int(dirfd, "boot_vga", -1);
	return 0;
}

int pcifn_read_ids(const struct sysroot *r, const struct pciaddr *a, struct pcifn *ret)
{
	char name[PCIADDR_STRLEN], path[96], alias[64];
	_cleanup_close_ int dirfd = -1;
	struct pcifn f = { 0 };
	int err;

	pcifn_clear(&f);
	f.addr = *a;
	pciaddr_format(a, name);
	memcpy(f.name, name, sizeof(f.name));
	if ((err = sysroot_pathf(path, sizeof(path), PCI_DEVICES "/%s/modalias", name)) < 0)
		return err;
	if (sysroot_read_line(r, path, alias, sizeof(alias)) == 0 && parse_modalias(alias, &f) == 0) {
		*ret = f;
		return 0;
	}
	if ((err = sysroot_pathf(path, sizeof(path), PCI_DEVICES "/%s", name)) < 0)
		return err;
	if ((dirfd = sysroot_openat(r, path, O_RDONLY | O_DIRECTORY, 0)) < 0)
		return dirfd;
	if ((err = read_ids(dirfd, &f)) < 0)
		return err == -ENODEV ? -ENOENT : err;
	*ret = f;
	return 0;
}

int pcifn_read(const struct sysroot *r, const struct pciaddr *a, struct pcifn *ret)
{
	char name[PCIADDR_STRLEN], path[64];
	_cleanup_close_ int dirfd = -1;
	struct pcifn f = { 0 }, *fp = &f;
	int err;

	pciaddr_format(a, name);
	if ((err = sysroot_pathf(path, sizeof(path), PCI_DEVICES "/%s", name)) < 0)
		return err;
	dirfd = sysroot_openat(r, path, O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0)
		return dirfd;
	err = read_fn_at(dirfd, a, 0, &f);
	if (err == 0 && !f.driver) {
		f.locked_unread = false;
		err = devlock_read(r, &fp, 1, DEVLOCK_TIMEOUT_MS);
		err = err > 0 ? 0 : err;
	}
	if (err < 0) {
		pcifn_clear(&f);
		/* a function that vanished while we read it */
		return err == -ENODEV ? -ENOENT : err;
	}
	*ret = f;
	return 0;
}

void pcihost_free(struct pcihost *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		pcifn_clear(&h->fns[i]);
	free(h->fns);
	free(h->slots);
	free(h);
}

static int fn_cmp(const void *a, const void *b)
{
	return pciaddr_cmp(&((const struct pcifn *)a)->addr, &((const struct pcifn *)b)->addr);
}

static int host_add(struct pcihost *h, size_t *cap, const struct pcifn *f)
{
	if (h->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct pcifn *nf = realloc(h->fns, ncap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		h->fns = nf;
		*cap = ncap;
	}
	h->fns[h->n++] = *f;
	return 0;
}

static int scan_one(const struct sysroot *r, const char *name, unsigned flags, struct pcihost *h, size_t *cap)
{
	_cleanup_close_ int dirfd = -1;
	char path[64];
	struct pciaddr a;
	struct pcifn f = { 0 };
	int err;

	if (pciaddr_parse(name, &a) < 0)
		return 0; /* not a function: ignore */
	/* the entry is a link (../../../devices/pci0000:00/...): resolved below the root, not below devices */
	if (sysroot_pathf(path, sizeof(path), PCI_DEVICES "/%s", name) < 0)
		return 0;
	dirfd = sysroot_openat(r, path, O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0)
		return dirfd == -ENOENT ? 0 : dirfd;
	err = read_fn_at(dirfd, &a, flags, &f);
	if (err == -ENOENT || err == -ENODEV) {
		pcifn_clear(&f);
		return 0; /* vanished during the scan */
	}
	if (err == 0)
		err = host_add(h, cap, &f);
	if (err < 0)
		pcifn_clear(&f);
	return err;
}

/*
 * The device-locked attributes of the functions flagged (want: of those,
 * NULL: all) in one guarded child: those not read yet (locked_unread), or,
 * busy, those a read gave up on, read again with a longer deadline. How
 * many are busy after it, or -errno.
 */
static int read_flagged(const struct sysroot *r, struct pcihost *h, const bool *want, bool busy, unsigned timeout_ms)
{
	_cleanup_free_ struct pcifn **list = calloc(h->n ? h->n : 1, sizeof(*list));
	size_t n = 0;

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++) {
		bool *flag = busy ? &h->fns[i].busy : &h->fns[i].locked_unread;

		if (*flag && (!want || want[i])) {
			*flag = false;
			list[n++] = &h->fns[i];
		}
	}
	return n ? devlock_read(r, list, n, timeout_ms) : 0;
}

static int read_driverless(const struct sysroot *r, struct pcihost *h, const bool *want)
{
	int err = read_flagged(r, h, want, false, DEVLOCK_TIMEOUT_MS);

	return err < 0 ? err : 0;
}

int pcihost_read_locked(const struct sysroot *r, struct pcihost *h, const bool *want)
{
	return read_driverless(r, h, want);
}

int pcihost_reread_busy(const struct sysroot *r, struct pcihost *h, const bool *want, unsigned timeout_ms)
{
	return read_flagged(r, h, want, true, timeout_ms);
}

static bool iommu_present(const struct sysroot *r)
{
	DIR *d;
	struct dirent *de;
	bool found = false;

	if (sysroot_opendir(r, "sys/kernel/iommu_groups", &d) < 0)
		return false;
	while (!found && (de = readdir(d)))
		found = de->d_name[0] != '.';
	closedir(d);
	return found;
}

/*
 * A big host is read by several threads, each a slice of the directory:
 * sysfs reads of different devices do not contend, so on hosts with
 * thousands of SR-IOV functions the scan takes a fraction of the time on
 * the cores that such hosts have. Small hosts are not worth a thread.
 */
#define SCAN_SLICE_MIN	 512 /* functions per thread, at least */
#define SCAN_THREADS_MAX 4

struct slice {
	const struct sysroot *r;
	char **names;
	size_t from, to;
	unsigned flags;
	struct pcihost part;
	size_t cap;
	int err;
};

static void *scan_slice(void *arg)
{
	struct slice *sl = arg;

	for (size_t i = sl->from; i < sl->to && sl->err == 0; i++)
		sl->err = scan_one(sl->r, sl->names[i], sl->flags, &sl->part, &sl->cap);
	return NULL;
}

static size_t scan_threads(size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t t = n / SCAN_SLICE_MIN;

	if (cpus > 0 && t > (size_t)cpus)
		t = (size_t)cpus;
	return t < 1 ? 1 : t > SCAN_THREADS_MAX ? SCAN_THREADS_MAX : t;
}

/* Every entry of the directory, then the slices in parallel, then one array */
static int scan_entries(const struct sysroot *r, DIR *d, unsigned flags, struct pcihost *h)
{
	struct slice sl[SCAN_THREADS_MAX] = { { 0 } };
	pthread_t tids[SCAN_THREADS_MAX];
	bool started[SCAN_THREADS_MAX] = { false };
	char **names = NULL;
	size_t n = 0, cap = 0, t, total = 0;
	struct dirent *de;
	int err = 0;

	errno = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.') {
			errno = 0;
			continue;
		}
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
			if (!nn) {
				err = -ENOMEM;
				goto out;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			err = -ENOMEM;
			goto out;
		}
		n++;
		errno = 0;
	}
	if (errno) {
		err = -errno;
		goto out;
	}
	t = scan_threads(n);
	for (size_t k = 0; k < t; k++)
		sl[k] =
		    (struct slice){ .r = r, .names = names, .from = n * k / t, .to = n * (k + 1) / t, .flags = flags };
	for (size_t k = 1; k < t; k++)
		started[k] = pthread_create(&tids[k], NULL, scan_slice, &sl[k]) == 0;
	scan_slice(&sl[0]);
	for (size_t k = 1; k < t; k++) {
		if (started[k])
			pthread_join(tids[k], NULL);
		else
			scan_slice(&sl[k]); /* no thread: this one reads it */
	}
	for (size_t k = 0; k < t; k++) {
		total += sl[k].part.n;
		if (sl[k].err < 0 && err == 0)
			err = sl[k].err;
	}
	if (err == 0 && !(h->fns = calloc(total ? total : 1, sizeof(*h->fns))))
		err = -ENOMEM;
	for (size_t k = 0; k < t; k++) {
		for (size_t i = 0; i < sl[k].part.n; i++)
			if (err == 0)
				h->fns[h->n++] = sl[k].part.fns[i];
			else
				pcifn_clear(&sl[k].part.fns[i]);
		free(sl[k].part.fns);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

/* routing ID: bus and devfn, as the kernel numbers VFs from their PF (virtfn_bus(), virtfn_devfn()) */
static long routing_id(const struct pciaddr *a)
{
	return (long)a->bus << 8 | (long)a->dev << 3 | a->fn;
}

/* VF N sits at the PF's routing ID + sriov_offset + N * sriov_stride (pci_iov_virtfn_devfn()) */
static int vf_number(const struct pcifn *pf, const struct pcifn *vf)
{
	long d = routing_id(&vf->addr) - routing_id(&pf->addr) - pf->sriov_offset;

	if (pf->sriov_offset < 0 || pf->sriov_stride < 0 || d < 0 || vf->addr.domain != pf->addr.domain)
		return -1;
	if (pf->sriov_stride == 0)
		return d == 0 ? 0 : -1;
	if (d % pf->sriov_stride)
		return -1;
	return d / pf->sriov_stride < pf->sriov_totalvfs ? (int)(d / pf->sriov_stride) : -1;
}

static void number_vfs(struct pcihost *h)
{
	for (size_t i = 0; i < h->n; i++) {
		struct pcifn *vf = &h->fns[i], *pf = pcihost_physfn(h, vf);

		vf->vf_index = pf ? vf_number(pf, vf) : -1;
	}
}

int pcihost_scan_with(const struct sysroot *r, unsigned flags, struct pcihost **ret)
{
	struct pcihost *h = calloc(1, sizeof(*h));
	DIR *d;
	int err;

	if (!h)
		return -ENOMEM;
	err = sysroot_opendir(r, PCI_DEVICES, &d);
	if (err < 0) {
		free(h);
		return err;
	}
	err = scan_entries(r, d, flags, h);
	if (err == 0 && !(flags & PCIHOST_DEFERRED))
		err = read_driverless(r, h, NULL);
	closedir(d);
	if (err < 0) {
		pcihost_free(h);
		return err;
	}
	qsort(h->fns, h->n, sizeof(*h->fns), fn_cmp);
	number_vfs(h);
	h->iommu = iommu_present(r);
	*ret = h;
	return 0;
}

int pcihost_scan(const struct sysroot *r, struct pcihost **ret)
{
	return pcihost_scan_with(r, 0, ret);
}

int pcihost_scan_deferred(const struct sysroot *r, struct pcihost **ret)
{
	return pcihost_scan_with(r, PCIHOST_DEFERRED, ret);
}

struct pcifn *pcihost_find(const struct pcihost *h, const struct pciaddr *a)
{
	struct pcifn key = { .addr = *a };

	if (!h->n)
		return NULL;
	return bsearch(&key, h->fns, h->n, sizeof(*h->fns), fn_cmp);
}

struct pcifn *pcihost_physfn(const struct pcihost *h, const struct pcifn *vf)
{
	struct pciaddr a;

	if (!vf->is_vf || pciaddr_parse(vf->physfn, &a) < 0)
		return NULL;
	return pcihost_find(h, &a);
}

size_t pcihost_vfs(const struct pcihost *h, const struct pcifn *pf, const struct pcifn **ret, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < h->n && k < n; i++)
		if (h->fns[i].is_vf && streq(h->fns[i].physfn, pf->name))
			ret[k++] = &h->fns[i];
	/* by address is by index: VF addresses grow with N */
	return k;
}
