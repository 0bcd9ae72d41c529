/* sysfs.c - the simulated /sys tree, derived from the model on every lookup, like kernfs */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcisim.h"

enum dir_kind {
	DK_ROOT,
	DK_DEVICES,
	DK_PCIROOT,	/* devices/pci0000:00 (sub) */
	DK_FN,		/* a PCI function */
	DK_SUB,		/* on the way to a class device below a function or platform device (sub) */
	DK_CDEV,	/* a class device */
	DK_CDEV_CAPS,	/* an input device's capabilities */
	DK_PLATFORM,	/* devices/platform */
	DK_PLATDEV,	/* devices/platform/efi-framebuffer.0 */
	DK_VIRTUAL,	/* devices/virtual */
	DK_VIRT_CLASS,	/* devices/virtual/vtconsole, devices/virtual/iommu (sub) */
	DK_VTCON,	/* devices/virtual/vtconsole/vtconN (num) */
	DK_DMAR,	/* devices/virtual/iommu/dmar0 */
	DK_DMAR_DEVICES,
	DK_BUS,
	DK_BUS_PCI,
	DK_BUS_PCI_DEVICES,
	DK_BUS_PCI_DRIVERS,
	DK_BUS_PCI_SLOTS,
	DK_SLOT, /* fn: the first function the topology puts in that slot */
	DK_DRIVER,
	DK_BUS_PLATFORM,
	DK_BUS_PLAT_DEVICES,
	DK_BUS_PLAT_DRIVERS,
	DK_PLAT_DRIVER, /* sub: the platform driver's name */
	DK_CLASS,
	DK_CLASS_X,	/* class/net ... (sub) */
	DK_KERNEL,
	DK_IOMMU_GROUPS,
	DK_GROUP,	/* num */
	DK_GROUP_DEVICES,
	DK_MODULES,
	DK_MODULE,
	DK_MODULE_DRIVERS,
	DK_DEV,
	DK_DEV_BLOCK,
	DK_CTL,
	DK_COUNT,
};

struct lister {
	struct sim *sim;
	const struct vnode *dir;
	bool lookup; /* hidden entries are found but not listed */
	void (*emit)(struct lister *l);
	struct vnode c; /* the child being emitted */
	/* lookup */
	const char *want;
	struct vnode *found;
	bool done;
	/* readdir */
	sysfs_filler fill;
	void *fill_ctx;
	struct strbuf seen; /* names emitted, "\n" separated, to list a directory once */
};

/* ---- paths ---- */

static void fn_root_name(const struct sim_fn *fn, char *buf, size_t size)
{
	while (fn->parent || fn->physfn)
		fn = fn->parent ? fn->parent : fn->physfn;
	snprintf(buf, size, "pci%04x:%02x", fn->domain, fn->bus);
}

static void fn_syspath(const struct sim_fn *fn, char *buf, size_t size)
{
	char root[32];
	size_t n;

	if (fn->parent) {
		fn_syspath(fn->parent, buf, size);
		n = strlen(buf);
		snprintf(buf + n, size - n, "/%s", fn->name);
		return;
	}
	fn_root_name(fn, root, sizeof(root));
	snprintf(buf, size, "devices/%s/%s", root, fn->name);
}

/* the directory a class device's devpath is relative to */
static void cdev_owner_path(const struct sim_cdev *c, char *buf, size_t size)
{
	if (c->plat)
		snprintf(buf, size, "devices/platform/%s", c->plat->name);
	else
		fn_syspath(c->fn, buf, size);
}

static void cdev_syspath(const struct sim_cdev *c, char *buf, size_t size)
{
	size_t n;

	cdev_owner_path(c, buf, size);
	n = strlen(buf);
	snprintf(buf + n, size - n, "/%s", c->devpath);
}

static size_t path_depth(const char *p)
{
	size_t n = *p ? 1 : 0;

	for (; *p; p++)
		n += *p == '/';
	return n;
}

/*
 * kernfs_get_target_path(): climb from the link's directory until reaching
 * a strict ancestor of the target, then descend.
 */
static void relative_link(const char *dir, const char *target, char *out, size_t size)
{
	size_t base = 0, i = 0, common = 0, ups, n = 0;

	for (;;) {
		size_t j = i + strcspn(dir + i, "/");

		if (j == i || strncmp(dir, target, j) != 0 || target[j] != '/')
			break;
		base = j + 1;
		common++;
		if (!dir[j])
			break;
		i = j + 1;
	}
	out[0] = '\0';
	for (ups = path_depth(dir) - common; ups > 0 && n + 3 < size; ups--)
		n += (size_t)snprintf(out + n, size - n, "../");
	snprintf(out + n, size - n, "%s", target + base);
}

/* ---- emitting children ---- */

static struct vnode *begin(struct lister *l, enum vtype type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct vnode *begin(struct lister *l, enum vtype type, const char *fmt, ...)
{
	struct vnode *c = &l->c;
	const struct vnode *d = l->dir;
	char name[NAME_LEN * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	c->type = type;
	c->dk = d->dk;
	c->attr = NULL;
	c->fn = d->fn;
	c->drv = d->drv;
	c->cdev = d->cdev;
	c->mod = d->mod;
	c->plat = d->plat;
	c->num = d->num;
	snprintf(c->sub, sizeof(c->sub), "%s", d->sub);
	(void)str_printf(c->path, sizeof(c->path), "%s%s%s", d->path, *d->path ? "/" : "", name);
	c->name = strrchr(c->path, '/') ? strrchr(c->path, '/') + 1 : c->path;
	c->target[0] = '\0';
	return c;
}

static void emit(struct lister *l)
{
	if (!l->done)
		l->emit(l);
}

static void emit_dir(struct lister *l, int dk, const char *name)
{
	struct vnode *c = begin(l, V_DIR, "%s", name);

	c->dk = dk;
	emit(l);
}

static void emit_link(struct lister *l, const char *name, const char *target)
{
	struct vnode *c = begin(l, V_LINK, "%s", name);

	relative_link(l->dir->path, target, c->target, sizeof(c->target));
	emit(l);
}

static void emit_attrs(struct lister *l, const struct attr *table)
{
	const struct attr *a;

	for (a = table; a->name; a++) {
		struct vnode *c;

		if (a->visible && !a->visible(l->sim, l->dir))
			continue;
		c = begin(l, V_FILE, "%s", a->name);
		c->attr = a;
		emit(l);
	}
}

static void fn_link(struct lister *l, const char *name, const struct sim_fn *fn)
{
	char target[SIM_PATH_LEN];

	fn_syspath(fn, target, sizeof(target));
	emit_link(l, name, target);
}

static void cdev_link(struct lister *l, const char *name, const struct sim_cdev *c)
{
	char target[SIM_PATH_LEN];

	cdev_syspath(c, target, sizeof(target));
	emit_link(l, name, target);
}

/* ---- the directories ---- */

static void list_root(struct lister *l)
{
	emit_dir(l, DK_DEVICES, "devices");
	emit_dir(l, DK_BUS, "bus");
	emit_dir(l, DK_CLASS, "class");
	emit_dir(l, DK_KERNEL, "kernel");
	emit_dir(l, DK_MODULES, "module");
	emit_dir(l, DK_DEV, "dev");
	if (l->lookup)
		emit_dir(l, DK_CTL, ".pcisim");
}

static bool seen_before(struct lister *l, const char *name)
{
	char key[NAME_LEN * 2 + 2];

	snprintf(key, sizeof(key), "\n%s\n", name);
	if (l->seen.s && strstr(l->seen.s, key))
		return true;
	if (!l->seen.len)
		sb_append(&l->seen, "\n", 1);
	sb_printf(&l->seen, "%s\n", name);
	return false;
}

static void list_devices(struct lister *l)
{
	struct sim *sim = l->sim;
	char root[32];
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		struct vnode *c;

		if (!sim->fns[i]->present)
			continue;
		fn_root_name(sim->fns[i], root, sizeof(root));
		if (seen_before(l, root))
			continue;
		c = begin(l, V_DIR, "%s", root);
		c->dk = DK_PCIROOT;
		snprintf(c->sub, sizeof(c->sub), "%s", root);
		emit(l);
	}
	if (sim->n_platdevs)
		emit_dir(l, DK_PLATFORM, "platform");
	emit_dir(l, DK_VIRTUAL, "virtual");
}

static void emit_fn_dir(struct lister *l, struct sim_fn *fn)
{
	struct vnode *c = begin(l, V_DIR, "%s", fn->name);

	c->dk = DK_FN;
	c->fn = fn;
	c->sub[0] = '\0';
	emit(l);
}

static void list_pciroot(struct lister *l)
{
	struct sim *sim = l->sim;
	char root[32];
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		struct sim_fn *fn = sim->fns[i];

		if (!fn->present || fn->parent)
			continue;
		fn_root_name(fn, root, sizeof(root));
		if (strcmp(root, l->dir->sub) == 0)
			emit_fn_dir(l, fn);
	}
}

static bool cdev_owned(const struct lister *l, const struct sim_cdev *c)
{
	return l->dir->plat ? c->plat == l->dir->plat : (c->fn == l->dir->fn && !c->plat);
}

/* the next path component of every active class device below prefix */
static void emit_cdev_children(struct lister *l, const char *prefix)
{
	struct sim *sim = l->sim;
	size_t plen = strlen(prefix), i;

	for (i = 0; i < sim->n_cdevs; i++) {
		struct sim_cdev *cd = sim->cdevs[i];
		const char *rest = cd->devpath;
		char comp[NAME_LEN * 2];
		struct vnode *c;

		if (!cdev_owned(l, cd) || !sim_cdev_active(sim, cd))
			continue;
		if (plen && (strncmp(rest, prefix, plen) != 0 || rest[plen] != '/'))
			continue;
		rest += plen ? plen + 1 : 0;
		snprintf(comp, sizeof(comp), "%.*s", (int)strcspn(rest, "/"), rest);
		if (seen_before(l, comp))
			continue;
		c = begin(l, V_DIR, "%s", comp);
		c->dk = strchr(rest, '/') ? DK_SUB : DK_CDEV;
		c->cdev = strchr(rest, '/') ? NULL : cd;
		snprintf(c->sub, sizeof(c->sub), "%s%s%s", prefix, plen ? "/" : "", comp);
		emit(l);
	}
}

static void list_fn_links(struct lister *l, struct sim_fn *fn)
{
	struct sim *sim = l->sim;
	char target[SIM_PATH_LEN];
	size_t i;

	if (sim_shown_driver(fn)) {
		snprintf(target, sizeof(target), "bus/pci/drivers/%s", fn->driver->name);
		emit_link(l, "driver", target);
	}
	if (sim->iommu && fn->group >= 0) {
		snprintf(target, sizeof(target), "kernel/iommu_groups/%d", fn->group);
		emit_link(l, "iommu_group", target);
		emit_link(l, "iommu", "devices/virtual/iommu/dmar0");
	}
	emit_link(l, "subsystem", "bus/pci");
	if (fn->physfn)
		fn_link(l, "physfn", fn->physfn);
	for (i = 0; fn->sriov && i < sim->n_fns; i++) {
		struct sim_fn *vf = sim->fns[i];
		char name[32];

		if (vf->physfn != fn || !vf->present)
			continue;
		snprintf(name, sizeof(name), "virtfn%d", vf->vf_index);
		fn_link(l, name, vf);
	}
}

static void list_fn(struct lister *l)
{
	struct sim *sim = l->sim;
	struct sim_fn *fn = l->dir->fn;
	size_t i;

	emit_attrs(l, fn_attrs);
	list_fn_links(l, fn);
	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present && sim->fns[i]->parent == fn)
			emit_fn_dir(l, sim->fns[i]);
	emit_cdev_children(l, "");
}

static void list_sub(struct lister *l)
{
	emit_cdev_children(l, l->dir->sub);
}

static const char *const class_names[] = {
	[CDEV_NET] = "net", [CDEV_DISK] = "block", [CDEV_PART] = "block",
	[CDEV_DRM] = "drm", [CDEV_FB] = "graphics", [CDEV_INPUT] = "input",
};

static bool is_class_glue(const char *name)
{
	static const char *const glue[] = { "net", "block", "drm", "graphics", "input", "nvme" };
	size_t i;

	for (i = 0; i < sizeof(glue) / sizeof(glue[0]); i++)
		if (strcmp(glue[i], name) == 0)
			return true;
	return false;
}

/* cut the last component of a relative path ("a/b/c" -> "a/b", "a" -> "") */
static void path_dirname(char *p)
{
	char *slash = strrchr(p, '/');

	if (slash)
		*slash = '\0';
	else
		p[0] = '\0';
}

/* the parent device: the devpath without its name and without the class glue directory above it */
static void list_cdev_device_link(struct lister *l, const struct sim_cdev *cd)
{
	char parent[sizeof(cd->devpath)], owner[SIM_PATH_LEN], target[SIM_PATH_LEN];
	const char *last;

	if (cd->kind == CDEV_PART)
		return;
	snprintf(parent, sizeof(parent), "%s", cd->devpath);
	path_dirname(parent);
	last = strrchr(parent, '/') ? strrchr(parent, '/') + 1 : parent;
	if (is_class_glue(last))
		path_dirname(parent);
	cdev_owner_path(cd, owner, sizeof(owner));
	(void)str_printf(target, sizeof(target), "%s%s%s", owner, *parent ? "/" : "", parent);
	emit_link(l, "device", target);
}

static void list_cdev(struct lister *l)
{
	const struct sim_cdev *cd = l->dir->cdev;
	char target[SIM_PATH_LEN];

	emit_attrs(l, cdev_attrs);
	if (cd->kind == CDEV_INPUT)
		emit_dir(l, DK_CDEV_CAPS, "capabilities");
	snprintf(target, sizeof(target), "class/%s", class_names[cd->kind]);
	emit_link(l, "subsystem", target);
	list_cdev_device_link(l, cd);
	emit_cdev_children(l, l->dir->sub);
}

static void list_cdev_caps(struct lister *l)
{
	emit_attrs(l, cdev_caps_attrs);
}

static void list_platform(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_platdevs; i++) {
		struct vnode *c = begin(l, V_DIR, "%s", sim->platdevs[i]->name);

		c->dk = DK_PLATDEV;
		c->plat = sim->platdevs[i];
		c->sub[0] = '\0';
		emit(l);
	}
}

static void list_platdev(struct lister *l)
{
	const struct sim_platdev *p = l->dir->plat;
	char target[SIM_PATH_LEN];

	emit_attrs(l, platdev_attrs);
	if (p->bound) {
		snprintf(target, sizeof(target), "bus/platform/drivers/%s", p->driver);
		emit_link(l, "driver", target);
	}
	emit_link(l, "subsystem", "bus/platform");
	emit_cdev_children(l, "");
}

static void list_virtual(struct lister *l)
{
	struct vnode *c = begin(l, V_DIR, "vtconsole");

	c->dk = DK_VIRT_CLASS;
	snprintf(c->sub, sizeof(c->sub), "vtconsole");
	emit(l);
	if (!l->sim->iommu)
		return;
	c = begin(l, V_DIR, "iommu");
	c->dk = DK_VIRT_CLASS;
	snprintf(c->sub, sizeof(c->sub), "iommu");
	emit(l);
}

static void list_virt_class(struct lister *l)
{
	struct vnode *c;
	int i;

	if (strcmp(l->dir->sub, "iommu") == 0) {
		emit_dir(l, DK_DMAR, "dmar0");
		return;
	}
	for (i = 0; i < (l->sim->has_fbcon ? 2 : 1); i++) {
		c = begin(l, V_DIR, "vtcon%d", i);
		c->dk = DK_VTCON;
		c->num = i;
		emit(l);
	}
}

static void list_vtcon(struct lister *l)
{
	emit_attrs(l, vtcon_attrs);
	emit_link(l, "subsystem", "class/vtconsole");
}

static void list_dmar(struct lister *l)
{
	emit_attrs(l, uevent_only_attrs);
	emit_dir(l, DK_DMAR_DEVICES, "devices");
	emit_link(l, "subsystem", "class/iommu");
}

static void list_dmar_devices(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present && sim->fns[i]->group >= 0)
			fn_link(l, sim->fns[i]->name, sim->fns[i]);
}

static void list_bus(struct lister *l)
{
	emit_dir(l, DK_BUS_PCI, "pci");
	if (l->sim->n_platdevs)
		emit_dir(l, DK_BUS_PLATFORM, "platform");
}

static void list_bus_pci(struct lister *l)
{
	emit_dir(l, DK_BUS_PCI_DEVICES, "devices");
	emit_dir(l, DK_BUS_PCI_DRIVERS, "drivers");
	emit_dir(l, DK_BUS_PCI_SLOTS, "slots");
	emit_attrs(l, bus_pci_attrs);
}

/* a slot is the bridge's, not the card's: it stays while its function is removed */
static void list_bus_pci_slots(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i, k;

	for (i = 0; i < sim->n_fns; i++) {
		const struct sim_fn *fn = sim->fns[i];
		struct vnode *c;
		bool seen = false;

		if (!fn->slot[0])
			continue;
		for (k = 0; k < i && !seen; k++)
			seen = strcmp(sim->fns[k]->slot, fn->slot) == 0;
		if (seen)
			continue;
		c = begin(l, V_DIR, "%s", fn->slot);
		c->dk = DK_SLOT;
		c->fn = sim->fns[i];
		emit(l);
	}
}

static void list_slot(struct lister *l)
{
	emit_attrs(l, slot_attrs);
}

static void list_bus_pci_devices(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present)
			fn_link(l, sim->fns[i]->name, sim->fns[i]);
}

static void list_bus_pci_drivers(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_drivers; i++) {
		struct vnode *c;

		if (!sim_driver_loaded(sim->drivers[i]))
			continue;
		c = begin(l, V_DIR, "%s", sim->drivers[i]->name);
		c->dk = DK_DRIVER;
		c->drv = sim->drivers[i];
		emit(l);
	}
}

static void list_driver(struct lister *l)
{
	struct sim *sim = l->sim;
	const struct sim_driver *drv = l->dir->drv;
	char target[SIM_PATH_LEN];
	size_t i;

	emit_attrs(l, driver_attrs);
	if (drv->module) {
		snprintf(target, sizeof(target), "module/%s", drv->module->name);
		emit_link(l, "module", target);
	}
	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present && sim_shown_driver(sim->fns[i]) == drv)
			fn_link(l, sim->fns[i]->name, sim->fns[i]);
}

static void list_bus_platform(struct lister *l)
{
	emit_dir(l, DK_BUS_PLAT_DEVICES, "devices");
	emit_dir(l, DK_BUS_PLAT_DRIVERS, "drivers");
}

static void list_bus_plat_devices(struct lister *l)
{
	struct sim *sim = l->sim;
	char target[SIM_PATH_LEN];
	size_t i;

	for (i = 0; i < sim->n_platdevs; i++) {
		snprintf(target, sizeof(target), "devices/platform/%s", sim->platdevs[i]->name);
		emit_link(l, sim->platdevs[i]->name, target);
	}
}

static void list_bus_plat_drivers(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_platdevs; i++) {
		struct vnode *c;

		if (seen_before(l, sim->platdevs[i]->driver))
			continue;
		c = begin(l, V_DIR, "%s", sim->platdevs[i]->driver);
		c->dk = DK_PLAT_DRIVER;
		snprintf(c->sub, sizeof(c->sub), "%s", sim->platdevs[i]->driver);
		emit(l);
	}
}

static void list_plat_driver(struct lister *l)
{
	struct sim *sim = l->sim;
	char target[SIM_PATH_LEN];
	size_t i;

	emit_attrs(l, plat_driver_attrs);
	for (i = 0; i < sim->n_platdevs; i++) {
		const struct sim_platdev *p = sim->platdevs[i];

		if (!p->bound || strcmp(p->driver, l->dir->sub) != 0)
			continue;
		snprintf(target, sizeof(target), "devices/platform/%s", p->name);
		emit_link(l, p->name, target);
	}
}

static void emit_class(struct lister *l, const char *name)
{
	struct vnode *c = begin(l, V_DIR, "%s", name);

	c->dk = DK_CLASS_X;
	snprintf(c->sub, sizeof(c->sub), "%s", name);
	emit(l);
}

static void list_class(struct lister *l)
{
	static const char *const names[] = { "net", "block", "drm", "graphics", "input", "vtconsole" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		emit_class(l, names[i]);
	if (l->sim->iommu)
		emit_class(l, "iommu");
}

static void list_class_x(struct lister *l)
{
	struct sim *sim = l->sim;
	const char *cls = l->dir->sub;
	char target[SIM_PATH_LEN];
	size_t i;

	if (strcmp(cls, "vtconsole") == 0) {
		for (i = 0; i < (sim->has_fbcon ? 2u : 1u); i++) {
			char name[16];

			snprintf(name, sizeof(name), "vtcon%zu", i);
			snprintf(target, sizeof(target), "devices/virtual/vtconsole/%s", name);
			emit_link(l, name, target);
		}
		return;
	}
	if (strcmp(cls, "iommu") == 0) {
		emit_link(l, "dmar0", "devices/virtual/iommu/dmar0");
		return;
	}
	for (i = 0; i < sim->n_cdevs; i++) {
		const struct sim_cdev *cd = sim->cdevs[i];

		if (strcmp(class_names[cd->kind], cls) == 0 && sim_cdev_active(sim, cd))
			cdev_link(l, cd->name, cd);
	}
}

static void list_kernel(struct lister *l)
{
	if (l->sim->iommu)
		emit_dir(l, DK_IOMMU_GROUPS, "iommu_groups");
}

static void list_iommu_groups(struct lister *l)
{
	struct sim *sim = l->sim;
	int g, max = sim_max_group(sim);

	for (g = 0; g <= max; g++) {
		struct vnode *c;

		if (!sim_group_exists(sim, g))
			continue;
		c = begin(l, V_DIR, "%d", g);
		c->dk = DK_GROUP;
		c->num = g;
		emit(l);
	}
}

static void list_group(struct lister *l)
{
	emit_dir(l, DK_GROUP_DEVICES, "devices");
	emit_attrs(l, group_attrs);
}

static void list_group_devices(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present && sim->fns[i]->group == l->dir->num)
			fn_link(l, sim->fns[i]->name, sim->fns[i]);
}

static void list_modules(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_modules; i++) {
		struct vnode *c;

		if (!sim->modules[i]->loaded)
			continue;
		c = begin(l, V_DIR, "%s", sim->modules[i]->name);
		c->dk = DK_MODULE;
		c->mod = sim->modules[i];
		emit(l);
	}
}

static void list_module(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	emit_attrs(l, module_attrs);
	for (i = 0; i < sim->n_drivers; i++)
		if (sim->drivers[i]->module == l->dir->mod) {
			emit_dir(l, DK_MODULE_DRIVERS, "drivers");
			break;
		}
}

static void list_module_drivers(struct lister *l)
{
	struct sim *sim = l->sim;
	char name[NAME_LEN + 8], target[SIM_PATH_LEN];
	size_t i;

	for (i = 0; i < sim->n_drivers; i++) {
		if (sim->drivers[i]->module != l->dir->mod)
			continue;
		snprintf(name, sizeof(name), "pci:%s", sim->drivers[i]->name);
		snprintf(target, sizeof(target), "bus/pci/drivers/%s", sim->drivers[i]->name);
		emit_link(l, name, target);
	}
}

static void list_dev(struct lister *l)
{
	emit_dir(l, DK_DEV_BLOCK, "block");
}

static void list_dev_block(struct lister *l)
{
	struct sim *sim = l->sim;
	size_t i;

	for (i = 0; i < sim->n_cdevs; i++) {
		const struct sim_cdev *cd = sim->cdevs[i];

		if ((cd->kind == CDEV_DISK || cd->kind == CDEV_PART) && sim_cdev_active(sim, cd))
			cdev_link(l, cd->devnum, cd);
	}
}

static void list_ctl(struct lister *l)
{
	emit_attrs(l, ctl_attrs);
}

static void (*const listers[DK_COUNT])(struct lister *l) = {
	[DK_ROOT] = list_root,
	[DK_DEVICES] = list_devices,
	[DK_PCIROOT] = list_pciroot,
	[DK_FN] = list_fn,
	[DK_SUB] = list_sub,
	[DK_CDEV] = list_cdev,
	[DK_CDEV_CAPS] = list_cdev_caps,
	[DK_PLATFORM] = list_platform,
	[DK_PLATDEV] = list_platdev,
	[DK_VIRTUAL] = list_virtual,
	[DK_VIRT_CLASS] = list_virt_class,
	[DK_VTCON] = list_vtcon,
	[DK_DMAR] = list_dmar,
	[DK_DMAR_DEVICES] = list_dmar_devices,
	[DK_BUS] = list_bus,
	[DK_BUS_PCI] = list_bus_pci,
	[DK_BUS_PCI_DEVICES] = list_bus_pci_devices,
	[DK_BUS_PCI_DRIVERS] = list_bus_pci_drivers,
	[DK_BUS_PCI_SLOTS] = list_bus_pci_slots,
	[DK_SLOT] = list_slot,
	[DK_DRIVER] = list_driver,
	[DK_BUS_PLATFORM] = list_bus_platform,
	[DK_BUS_PLAT_DEVICES] = list_bus_plat_devices,
	[DK_BUS_PLAT_DRIVERS] = list_bus_plat_drivers,
	[DK_PLAT_DRIVER] = list_plat_driver,
	[DK_CLASS] = list_class,
	[DK_CLASS_X] = list_class_x,
	[DK_KERNEL] = list_kernel,
	[DK_IOMMU_GROUPS] = list_iommu_groups,
	[DK_GROUP] = list_group,
	[DK_GROUP_DEVICES] = list_group_devices,
	[DK_MODULES] = list_modules,
	[DK_MODULE] = list_module,
	[DK_MODULE_DRIVERS] = list_module_drivers,
	[DK_DEV] = list_dev,
	[DK_DEV_BLOCK] = list_dev_block,
	[DK_CTL] = list_ctl,
};

static void run_lister(struct lister *l)
{
	listers[l->dir->dk](l);
	sb_free(&l->seen);
}

/* ---- lookup and readdir ---- */

static void emit_find(struct lister *l)
{
	if (strcmp(l->c.name, l->want) != 0)
		return;
	*l->found = l->c;
	l->found->name = strrchr(l->found->path, '/') ? strrchr(l->found->path, '/') + 1 : l->found->path;
	l->done = true;
}

static int lookup_child(struct sim *sim, const struct vnode *dir, const char *name, struct vnode *ret)
{
	struct lister *l = xcalloc(1, sizeof(*l));
	int r;

	l->sim = sim;
	l->dir = dir;
	l->lookup = true;
	l->emit = emit_find;
	l->want = name;
	l->found = ret;
	run_lister(l);
	r = l->done ? 0 : -ENOENT;
	free(l);
	return r;
}

int sysfs_resolve(struct sim *sim, const char *path, struct vnode *ret)
{
	struct vnode *cur = xcalloc(1, sizeof(*cur));
	char comp[NAME_LEN * 4];
	int r = 0;

	cur->type = V_DIR;
	cur->dk = DK_ROOT;
	cur->name = cur->path;
	while (*path == '/')
		path++;
	while (*path && r == 0) {
		size_t n = strcspn(path, "/");

		if (n >= sizeof(comp)) {
			r = -ENAMETOOLONG;
			break;
		}
		snprintf(comp, sizeof(comp), "%.*s", (int)n, path);
		path += n;
		while (*path == '/')
			path++;
		if (cur->type != V_DIR)
			r = -ENOTDIR;
		else
			r = lookup_child(sim, cur, comp, cur);
	}
	if (r == 0) {
		*ret = *cur;
		ret->name = strrchr(ret->path, '/') ? strrchr(ret->path, '/') + 1 : ret->path;
	}
	free(cur);
	return r;
}

static void emit_fill(struct lister *l)
{
	l->fill(l->fill_ctx, l->c.name, l->c.type);
}

int sysfs_list(struct sim *sim, const struct vnode *dir, sysfs_filler fill, void *ctx)
{
	struct lister *l;

	if (dir->type != V_DIR)
		return -ENOTDIR;
	l = xcalloc(1, sizeof(*l));
	l->sim = sim;
	l->dir = dir;
	l->emit = emit_fill;
	l->fill = fill;
	l->fill_ctx = ctx;
	run_lister(l);
	free(l);
	return 0;
}

void sysfs_log_name(const struct vnode *v, char *buf, size_t size)
{
	if (v->dk == DK_FN && v->fn)
		snprintf(buf, size, "bus/pci/devices/%s/%s", v->fn->name, v->name);
	else
		snprintf(buf, size, "%s", v->path);
}

void sysfs_fault_target(const struct vnode *v, const char *data, char *buf, size_t size)
{
	const char *op = v->attr ? v->attr->op : NULL;

	buf[0] = '\0';
	if (!op)
		return;
	if (strcmp(op, "bind") == 0 || strcmp(op, "unbind") == 0 || strcmp(op, "drivers_probe") == 0)
		snprintf(buf, size, "%.*s", (int)strcspn(data, "\n"), data);
	else if (v->fn)
		snprintf(buf, size, "%s", v->fn->name);
	else if (v->drv)
		snprintf(buf, size, "%s", v->drv->name);
}
