/* detect.c - what system is below the root: distro, bootloader, initramfs tool, CPU, kernels, IOMMU */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootops.h"
#include "detect.h"
#include "modalias.h"
#include "util.h"

#define KERNELS_MAX 64
#define DRVMODS_MAX 512

bool detect_exists(const struct sysroot *r, const char *rel)
{
	return sysroot_exists(r, rel) == 0;
}

#define exists detect_exists

/* ---- os-release ---- */

/* VALUE of KEY=VALUE or KEY="VALUE" in an os-release text, into buf */
static void os_release_value(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	buf[0] = '\0';
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = len - klen - 1;

			if (n >= 2 && (*v == '"' || *v == '\'') && v[n - 1] == *v)
				v++, n -= 2;
			(void)snprintf(buf, size, "%.*s", (int)n, v);
		}
		p += len + (p[len] == '\n');
	}
}

static void detect_os(const struct sysroot *r, struct system *s)
{
	_cleanup_free_ char *text = NULL;

	if (sysroot_read(r, "etc/os-release", &text, NULL) < 0 &&
	    sysroot_read(r, "usr/lib/os-release", &text, NULL) < 0)
		return;
	os_release_value(text, "ID", s->os_id, sizeof(s->os_id));
	os_release_value(text, "ID_LIKE", s->os_like, sizeof(s->os_like));
	os_release_value(text, "PRETTY_NAME", s->os_name, sizeof(s->os_name));
}

bool system_os_is(const struct system *s, const char *id)
{
	size_t n = strlen(id);

	if (streq(s->os_id, id))
		return true;
	for (const char *p = s->os_like; *(p += strspn(p, " "));) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, id, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* ---- bootloader and initramfs: each method's own detect, in this order ---- */

/*
 * kernelstub first (Pop!_OS keeps its own config), proxmox-boot-tool
 * booting systemd-boot (EFI with /etc/kernel/cmdline), grubby on a BLS
 * system (Fedora), GRUB, kernel-install last (systemd ships it everywhere).
 */
const struct boot_ops *const boot_methods[] = {
	&boot_kernelstub, &boot_proxmox_sdboot, &boot_grubby, &boot_grub, &boot_kernel_install, NULL,
};

const struct initrd_ops *const initrd_methods[] = {
	&initrd_tools,
	&initrd_dracut,
	&initrd_mkinitcpio,
	NULL,
};

const struct boot_ops *boot_ops_find(enum bootloader id)
{
	for (const struct boot_ops *const *m = boot_methods; *m; m++)
		if ((*m)->id == id)
			return *m;
	return NULL;
}

const struct initrd_ops *initrd_ops_find(enum initrd_tool id)
{
	for (const struct initrd_ops *const *m = initrd_methods; *m; m++)
		if ((*m)->id == id)
			return *m;
	return NULL;
}

bool detect_have_tool(const struct sysroot *r, const char *name)
{
	static const char *const dirs[] = { "usr/sbin", "usr/bin", "sbin", "bin" };
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (xsnprintf(path, sizeof(path), "%s/%s", dirs[i], name) == 0 && exists(r, path))
			return true;
	return false;
}

static void detect_boot(const struct sysroot *r, struct system *s)
{
	s->proxmox_boot_tool = exists(r, "etc/kernel/proxmox-boot-uuids");
	s->proxmox = s->proxmox_boot_tool || exists(r, "usr/bin/pveversion") || exists(r, "etc/pve");
	for (const struct boot_ops *const *m = boot_methods; *m; m++) {
		if ((*m)->detect(r, s)) {
			s->boot = (*m)->id;
			return;
		}
	}
}

static void detect_initrd(const struct sysroot *r, struct system *s)
{
	for (const struct initrd_ops *const *m = initrd_methods; *m; m++)
		if ((*m)->packaged && (*m)->packaged(r))
			s->initrd_packaged |= 1u << (*m)->id;
	for (const struct initrd_ops *const *m = initrd_methods; *m; m++) {
		if ((*m)->detect(r, s)) {
			s->initrd = (*m)->id;
			return;
		}
	}
}

/* ---- CPU ---- */

static bool has_word(const char *line, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = line; (p = strstr(p, w)); p += n)
		if ((p == line || isspace((unsigned char)p[-1])) && (!p[n] || isspace((unsigned char)p[n])))
			return true;
	return false;
}

static void detect_cpu(const struct sysroot *r, struct system *s)
{
	_cleanup_free_ char *text = NULL;

	if (sysroot_read(r, "proc/cpuinfo", &text, NULL) < 0)
		return;
	s->have_cpuinfo = true;
	for (char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		char save = p[len];

		p[len] = '\0';
		if (strncmp(p, "vendor_id", 9) == 0) {
			if (strstr(p, "GenuineIntel"))
				s->cpu = CPU_INTEL;
			else if (strstr(p, "AuthenticAMD") || strstr(p, "HygonGenuine"))
				s->cpu = CPU_AMD;
		} else if (strncmp(p, "flags", 5) == 0) {
			s->vmx |= has_word(p, "vmx");
			s->svm |= has_word(p, "svm");
		}
		p[len] = save;
		p += len + (save == '\n');
	}
}

/* ---- kernels ---- */

int kernel_version_parse(const char *v, unsigned *ret_major, unsigned *ret_minor)
{
	unsigned long ma, mi;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	ma = strtoul(v, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -EINVAL;
	mi = strtoul(end + 1, &end, 10);
	if (ma > 1000 || mi > 1000)
		return -EINVAL;
	*ret_major = (unsigned)ma;
	*ret_minor = (unsigned)mi;
	return 0;
}

static bool builtin_has_vfio_pci(const struct sysroot *r, const char *ver)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];

	if (xsnprintf(path, sizeof(path), "lib/modules/%s/modules.builtin", ver) < 0 ||
	    sysroot_read(r, path, &text, NULL) < 0)
		return false;
	return strstr(text, "/vfio-pci.ko\n") || strstr(text, "/vfio_pci.ko\n");
}

static int iommu_default_on(const struct sysroot *r, const char *ver)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];

	if (xsnprintf(path, sizeof(path), "boot/config-%s", ver) < 0 || sysroot_read(r, path, &text, NULL) < 0)
		return -1;
	return strstr(text, "\nCONFIG_INTEL_IOMMU_DEFAULT_ON=y\n") != NULL;
}

/* where kernel-install finds its image: next to the modules (Arch, Fedora), else /boot (Debian) */
static void kernel_image(const struct sysroot *r, struct kernel *k)
{
	char path[sizeof(k->image) - 1];

	if ((xsnprintf(path, sizeof(path), "usr/lib/modules/%s/vmlinuz", k->version) == 0 && exists(r, path)) ||
	    (xsnprintf(path, sizeof(path), "lib/modules/%s/vmlinuz", k->version) == 0 && exists(r, path)) ||
	    (xsnprintf(path, sizeof(path), "boot/vmlinuz-%s", k->version) == 0 && exists(r, path)))
		(void)xsnprintf(k->image, sizeof(k->image), "/%s", path);
}

static int kernel_cmp(const void *a, const void *b)
{
	const struct kernel *x = a, *y = b;

	if (x->major != y->major)
		return x->major < y->major ? -1 : 1;
	if (x->minor != y->minor)
		return x->minor < y->minor ? -1 : 1;
	return strverscmp(x->version, y->version);
}

static int detect_kernels(const struct sysroot *r, struct system *s)
{
	struct dirent *e;
	DIR *d;

	if (sysroot_opendir(r, "lib/modules", &d) < 0 && sysroot_opendir(r, "usr/lib/modules", &d) < 0)
		return 0;
	s->kernels = calloc(KERNELS_MAX, sizeof(*s->kernels));
	if (!s->kernels) {
		closedir(d);
		return -ENOMEM;
	}
	while ((e = readdir(d)) && s->n_kernels < KERNELS_MAX) {
		struct kernel *k = &s->kernels[s->n_kernels];

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(k->version) ||
		    kernel_version_parse(e->d_name, &k->major, &k->minor) < 0)
			continue;
		memcpy(k->version, e->d_name, strlen(e->d_name) + 1);
		kernel_image(r, k);
		k->vfio_pci_builtin = builtin_has_vfio_pci(r, k->version);
		k->intel_iommu_default_on = iommu_default_on(r, k->version);
		s->n_kernels++;
	}
	closedir(d);
	qsort(s->kernels, s->n_kernels, sizeof(*s->kernels), kernel_cmp);
	return 0;
}

/* ---- sysfs: driver modules, IOMMU, interrupt remapping, loaded modules ---- */

static int detect_drvmods(const struct sysroot *r, struct system *s)
{
	struct dirent *e;
	DIR *d;

	if (sysroot_opendir(r, "sys/bus/pci/drivers", &d) < 0)
		return 0;
	s->drvmods = calloc(DRVMODS_MAX, sizeof(*s->drvmods));
	if (!s->drvmods) {
		closedir(d);
		return -ENOMEM;
	}
	while ((e = readdir(d)) && s->n_drvmods < DRVMODS_MAX) {
		struct drvmod *m = &s->drvmods[s->n_drvmods];
		_cleanup_free_ char *mod = NULL;
		char path[PATH_MAX];

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(m->driver) ||
		    xsnprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/module", e->d_name) < 0)
			continue;
		(void)sysroot_link_basename(r, path, &mod); /* no link: built in */
		if (mod && strlen(mod) >= sizeof(m->module))
			continue;
		memcpy(m->driver, e->d_name, strlen(e->d_name) + 1);
		(void)snprintf(m->module, sizeof(m->module), "%s", mod ? mod : "");
		s->n_drvmods++;
	}
	closedir(d);
	return 0;
}

static bool dir_has_entry(const struct sysroot *r, const char *rel)
{
	struct dirent *e;
	bool any = false;
	DIR *d;

	if (sysroot_opendir(r, rel, &d) < 0)
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

/* VT-d extended capability register, bit 3: interrupt remapping supported (sysfs-class-iommu-intel-iommu) */
static int intel_ecap_ir(const struct sysroot *r)
{
	struct dirent *e;
	int found = -1;
	DIR *d;

	if (sysroot_opendir(r, "sys/class/iommu", &d) < 0)
		return -1;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		unsigned long ecap;

		if (e->d_name[0] == '.' ||
		    xsnprintf(path, sizeof(path), "sys/class/iommu/%s/intel-iommu/ecap", e->d_name) < 0 ||
		    sysroot_read_ulong(r, path, 16, &ecap) < 0)
			continue;
		found = (found != 0) && (ecap & 0x8);
	}
	closedir(d);
	return found;
}

/*
 * Remapped interrupts carry an "IR-" irq chip ("IR-PCI-MSI", "IR-IO-APIC":
 * arch/x86/kernel/apic/msi.c, CONFIG_IRQ_REMAP) in /proc/interrupts: the
 * kernel is using remapping, not just the hardware offering it. Without
 * that, the VT-d ecap IR bit tells what the hardware offers.
 */
static void detect_irq_remap(const struct sysroot *r, struct system *s)
{
	_cleanup_free_ char *text = NULL;
	int ecap;

	s->irq_remap = -1;
	if (sysroot_read(r, "proc/interrupts", &text, NULL) == 0) {
		if (strstr(text, " IR-")) {
			s->irq_remap = 1;
			(void)snprintf(s->irq_remap_source, sizeof(s->irq_remap_source),
				       "/proc/interrupts has IR- interrupt chips");
			return;
		}
		if (strstr(text, "PCI-MSI") || strstr(text, "IO-APIC")) {
			s->irq_remap = 0;
			(void)snprintf(s->irq_remap_source, sizeof(s->irq_remap_source),
				       "/proc/interrupts has no IR- interrupt chips");
		}
	}
	ecap = intel_ecap_ir(r);
	if (ecap >= 0 && s->irq_remap != 0) {
		s->irq_remap = ecap;
		(void)snprintf(s->irq_remap_source, sizeof(s->irq_remap_source),
			       "VT-d ecap IR bit in /sys/class/iommu/*/intel-iommu/ecap");
	}
	if (s->irq_remap < 0)
		(void)snprintf(s->irq_remap_source, sizeof(s->irq_remap_source), "no source readable");
}

static void detect_running(const struct sysroot *r, struct system *s)
{
	static const char *const mods[] = { "sys/module/vfio", "sys/module/vfio_iommu_type1", "sys/module/vfio_pci" };
	_cleanup_free_ char *cmdline = NULL;

	if (sysroot_read_line(r, "proc/sys/kernel/osrelease", s->running, sizeof(s->running)) < 0)
		s->running[0] = '\0';
	if (sysroot_read(r, "proc/cmdline", &cmdline, NULL) == 0) {
		strip_trailing(cmdline);
		s->cmdline = cmdline;
		cmdline = NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mods); i++)
		s->modules_loaded[i] = exists(r, mods[i]);
	s->iommu = dir_has_entry(r, "sys/class/iommu") && dir_has_entry(r, "sys/kernel/iommu_groups");
	s->efi = exists(r, "sys/firmware/efi");
}

/* CONFIG_VFIO_DEVICE_CDEV of the running kernel: 'y', 'n' (config without it) or 0 (no config found);
 * Debian keeps it in /boot/config-VERSION, from Debian 14 on in /usr/lib/modules/VERSION/config */
static char cdev_config(const struct sysroot *r, const char *running)
{
	static const char *const pre[] = { "boot/config-", "usr/lib/modules/", "lib/modules/" };
	static const char *const post[] = { "", "/config", "/config" };
	char path[4096];

	if (!running || !running[0])
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(pre); i++) {
		_cleanup_free_ char *cfg = NULL;

		if (sysroot_pathf(path, sizeof(path), "%s%s%s", pre[i], running, post[i]) < 0 ||
		    sysroot_read(r, path, &cfg, NULL) < 0)
			continue;
		return strstr(cfg, "\nCONFIG_VFIO_DEVICE_CDEV=y\n") ||
			       strncmp(cfg, "CONFIG_VFIO_DEVICE_CDEV=y\n", 26) == 0
			   ? 'y'
			   : 'n';
	}
	return 0;
}

/* 1: a vfio-dev device with a character device (its dev attribute), 0: vfio-dev devices without one
 * (6.1 to 6.5 have the class for sysfs only; later kernels without CONFIG_VFIO_DEVICE_CDEV), -1: none */
static int cdev_seen(const struct sysroot *r)
{
	struct dirent *de;
	int seen = -1;
	DIR *d;

	if (sysroot_opendir(r, "sys/class/vfio-dev", &d) < 0)
		return -1;
	while (seen < 1 && (de = readdir(d))) {
		char path[512];

		if (de->d_name[0] == '.' ||
		    sysroot_pathf(path, sizeof(path), "sys/class/vfio-dev/%s/dev", de->d_name) < 0)
			continue;
		seen = sysroot_exists(r, path) == 0 ? 1 : 0;
	}
	closedir(d);
	return seen;
}

void detect_vfio_cdev(const struct sysroot *r, const char *running, struct vfio_cdev *ret)
{
	char release[64] = "";

	if (!running && sysroot_read_line(r, "proc/sys/kernel/osrelease", release, sizeof(release)) == 0)
		running = release;
	ret->seen = cdev_seen(r);
	ret->config = cdev_config(r, running);
	ret->iommufd = sysroot_exists(r, "dev/iommu") == 0;
}

int vfio_cdev_offered(const struct vfio_cdev *c)
{
	if (c->seen == 1 || (c->seen < 0 && (c->config == 'y' || c->iommufd)))
		return 1;
	return c->seen == 0 || c->config == 'n' ? 0 : -1;
}

int detect_system(const struct sysroot *r, struct system **ret)
{
	struct system *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	detect_os(r, s);
	detect_running(r, s);
	detect_boot(r, s);
	detect_initrd(r, s);
	detect_cpu(r, s);
	detect_irq_remap(r, s);
	if ((err = detect_kernels(r, s)) < 0 || (err = detect_drvmods(r, s)) < 0) {
		system_free(s);
		return err;
	}
	*ret = s;
	return 0;
}

void system_free(struct system *s)
{
	if (!s)
		return;
	free(s->kernels);
	free(s->drvmods);
	free(s->cmdline);
	free(s->bls_options);
	free(s);
}

int detect_modaliases(const struct sysroot *r, const struct system *s, struct modaliases **ret)
{
	int err = s->running[0] ? modaliases_load_release(r, s->running, ret) : -ENOENT;

	if (err != -ENOENT || !s->n_kernels)
		return err;
	return modaliases_load_release(r, s->kernels[s->n_kernels - 1].version, ret);
}

const char *bootloader_name(enum bootloader b)
{
	const struct boot_ops *m = boot_ops_find(b);

	return m ? m->name : "unknown";
}

const char *initrd_tool_name(enum initrd_tool t)
{
	const struct initrd_ops *m = initrd_ops_find(t);

	return m ? m->name : "none";
}

const char *cpu_vendor_name(enum cpu_vendor c)
{
	return c == CPU_INTEL ? "intel" : c == CPU_AMD ? "amd" : "unknown";
}
