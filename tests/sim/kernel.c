/* kernel.c - the kernel's PCI driver model: matching, probing, binding, SR-IOV, removal, modules */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcisim.h"

/* pci_reset_fn_methods[] of drivers/pci/pci.c (6.x), without the empty slot 0 */
static const char *const reset_names[] = { "device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus" };
#define RESET_METHODS_MAX 7 /* PCI_NUM_RESET_METHODS - 1 */
#define EPROBE_DEFER 517   /* include/linux/errno.h: kernel-internal */

struct sim *sim_new(void)
{
	struct sim *sim = xcalloc(1, sizeof(*sim));

	pthread_mutex_init(&sim->lock, NULL);
	pthread_cond_init(&sim->cond, NULL);
	sim->autoprobe = true;
	sim->cmdline = xstrdup("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro");
	return sim;
}

void sim_event(struct sim *sim, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sb_printf(&sim->log, "%s\n", buf);
}

struct sim_fn *sim_lookup_fn(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++)
		if (strcmp(sim->fns[i]->name, name) == 0)
			return sim->fns[i];
	return NULL;
}

struct sim_fn *sim_find_fn(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present && sysfs_streq(sim->fns[i]->name, name))
			return sim->fns[i];
	return NULL;
}

struct sim_driver *sim_find_driver(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_drivers; i++)
		if (strcmp(sim->drivers[i]->name, name) == 0)
			return sim->drivers[i];
	return NULL;
}

struct sim_module *sim_find_module(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_modules; i++)
		if (modname_eq(sim->modules[i]->name, name))
			return sim->modules[i];
	return NULL;
}

bool sim_driver_loaded(const struct sim_driver *drv)
{
	return !drv->module || drv->module->loaded;
}

static int fn_cmp(const void *a, const void *b)
{
	const struct sim_fn *x = *(struct sim_fn *const *)a;
	const struct sim_fn *y = *(struct sim_fn *const *)b;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	return (int)x->devfn - (int)y->devfn;
}

void sim_sort_fns(struct sim *sim)
{
	qsort(sim->fns, sim->n_fns, sizeof(sim->fns[0]), fn_cmp);
}

bool fn_is_vga(const struct sim_fn *fn)
{
	return (fn->class >> 8) == 0x0300;
}

/* PCI-to-PCI (0604), semi-transparent (0609) and CardBus (0607) bridges have a type 1/2 header */
bool fn_is_bridge_header(const struct sim_fn *fn)
{
	unsigned cls = fn->class >> 8;

	return cls == 0x0604 || cls == 0x0609 || cls == 0x0607;
}

bool fn_multifunction(struct sim *sim, const struct sim_fn *fn)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		const struct sim_fn *o = sim->fns[i];

		if (o != fn && o->present && o->domain == fn->domain && o->bus == fn->bus &&
		    (o->devfn >> 3) == (fn->devfn >> 3))
			return true;
	}
	return false;
}

bool sim_id_matches(const struct sim_id *id, const struct sim_fn *fn)
{
	return (id->vendor == ID_ANY || id->vendor == fn->vendor) &&
	       (id->device == ID_ANY || id->device == fn->device) &&
	       (id->subvendor == ID_ANY || id->subvendor == fn->subvendor) &&
	       (id->subdevice == ID_ANY || id->subdevice == fn->subdevice) &&
	       !((id->class ^ fn->class) & id->class_mask);
}

static bool table_matches(const struct sim_id *ids, size_t n, const struct sim_fn *fn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sim_id_matches(&ids[i], fn))
			return true;
	return false;
}

/*
 * pci_match_device(): with driver_override set only the driver of that name
 * matches, and then whatever its id tables say; otherwise dynamic ids, then
 * the static table.
 */
bool sim_match(const struct sim_driver *drv, const struct sim_fn *fn)
{
	if (!sim_driver_loaded(drv))
		return false;
	if (fn->override)
		return strcmp(fn->override, drv->name) == 0;
	return table_matches(drv->dyn, drv->n_dyn, fn) || table_matches(drv->ids, drv->n_ids, fn);
}

static int probe_check(struct sim *sim, struct sim_driver *drv, struct sim_fn *fn)
{
	int err;

	/* pci_device_can_probe(): a VF probes only if its PF allows it or it has an override */
	if (fn->physfn && !fn->physfn->sriov->drivers_autoprobe && !fn->override)
		return -ENODEV;
	err = fault_take_probe(sim, fn->name, drv->name);
	if (err)
		return -err;
	if (drv->kind == DRV_VFIO) {
		/* vfio_pci_core_register_device(), then vfio_device_set_group() */
		if (fn_is_bridge_header(fn))
			return -EINVAL;
		if (!sim->iommu || fn->group < 0)
			return -EINVAL;
		/* vfio_pci_core_register_device(): "Cannot bind to PF with SR-IOV enabled" */
		if (fn->sriov && fn->sriov->num)
			return -EBUSY;
	}
	return 0;
}

static int probe(struct sim *sim, struct sim_driver *drv, struct sim_fn *fn)
{
	int err = probe_check(sim, drv, fn);

	sim_event(sim, "probe %s %s %s", fn->name, drv->name, err ? errno_name(err) : "ok");
	if (err)
		return err;
	fn->driver = drv;
	return 0;
}

/* loaded drivers in the order they registered: the bus's klist_drivers */
static size_t drivers_in_order(struct sim *sim, struct sim_driver **out)
{
	size_t n = 0, i, j;

	for (i = 0; i < sim->n_drivers; i++)
		if (sim_driver_loaded(sim->drivers[i]))
			out[n++] = sim->drivers[i];
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && out[j - 1]->load_seq > out[j]->load_seq; j--) {
			struct sim_driver *t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/*
 * device_attach(): 1 if bound, 0 if no driver took it. Probe errors are
 * ignored so that the next driver can try its luck.
 */
int sim_device_attach(struct sim *sim, struct sim_fn *fn)
{
	struct sim_driver **order;
	size_t n, i;
	int r = 0;

	if (fn->driver)
		return 1;
	order = xcalloc(sim->n_drivers, sizeof(*order));
	n = drivers_in_order(sim, order);
	for (i = 0; i < n && !r; i++)
		if (sim_match(order[i], fn) && probe(sim, order[i], fn) == 0)
			r = 1;
	free(order);
	return r;
}

/* driver_attach(): every unbound device it matches; errors dropped */
void sim_driver_attach(struct sim *sim, struct sim_driver *drv)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		struct sim_fn *fn = sim->fns[i];

		if (fn->present && !fn->driver && sim_match(drv, fn))
			(void)probe(sim, drv, fn);
	}
}

static void sriov_disable(struct sim *sim, struct sim_fn *pf)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->physfn == pf && sim->fns[i]->present)
			sim_remove_fn(sim, sim->fns[i]);
	if (pf->sriov->num)
		sim_event(sim, "sriov %s 0", pf->name);
	pf->sriov->num = 0;
}

/*
 * igb's remove() disables SR-IOV, so the VFs go with the PF's driver;
 * nvme's leaves them (pci_iov_remove(): "driver left SR-IOV enabled")
 */
void sim_detach(struct sim *sim, struct sim_fn *fn)
{
	if (!fn->driver)
		return;
	if (fn->sriov && fn->sriov->num && fn->driver->sriov == DRV_SRIOV_DISABLE)
		sriov_disable(sim, fn);
	sim_event(sim, "unbind %s %s", fn->name, fn->driver->name);
	fn->driver = NULL;
}

static bool is_below(const struct sim_fn *fn, const struct sim_fn *top)
{
	const struct sim_fn *p;

	for (p = fn->physfn ? fn->physfn : fn->parent; p; p = p->physfn ? p->physfn : p->parent)
		if (p == top)
			return true;
	return false;
}

/* pci_stop_and_remove_bus_device(): children first, then the device */
void sim_remove_fn(struct sim *sim, struct sim_fn *fn)
{
	size_t i;

	if (!fn->present)
		return;
	for (i = 0; i < sim->n_fns; i++) {
		struct sim_fn *c = sim->fns[i];

		if (c->present && (c->parent == fn || c->physfn == fn))
			sim_remove_fn(sim, c);
	}
	sim_detach(sim, fn);
	fn->present = false;
	sim_event(sim, "remove %s", fn->name);
}

static void fn_reset_state(struct sim_fn *fn)
{
	fn->driver = NULL;
	free(fn->override);
	fn->override = NULL;
	if (fn->reset_default) {
		free(fn->reset_cur);
		fn->reset_cur = xstrdup(fn->reset_default);
	}
	if (fn->sriov) {
		fn->sriov->num = 0;
		fn->sriov->drivers_autoprobe = true;
	}
}

static bool rescan_one_pass(struct sim *sim, struct sim_fn *below, bool *added)
{
	bool changed = false;
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		struct sim_fn *fn = sim->fns[i];

		if (fn->present || !fn->from_topology || (fn->parent && !fn->parent->present))
			continue;
		if (below && !is_below(fn, below))
			continue;
		fn_reset_state(fn);
		fn->present = true;
		added[i] = true;
		changed = true;
		sim_event(sim, "add %s", fn->name);
	}
	return changed;
}

/* pci_rescan_bus(): removed functions come back driverless and are probed */
void sim_rescan(struct sim *sim, struct sim_fn *below)
{
	bool *added = xcalloc(sim->n_fns, sizeof(bool));
	size_t i;

	while (rescan_one_pass(sim, below, added))
		;
	for (i = 0; i < sim->n_fns; i++)
		if (added[i] && sim->autoprobe)
			(void)sim_device_attach(sim, sim->fns[i]);
	free(added);
}

static struct sim_module *module_by_name(struct sim *sim, const char *name)
{
	struct sim_module *mod = sim_find_module(sim, name);
	size_t i;

	if (mod)
		return mod;
	for (i = 0; i < sim->n_drivers; i++)
		if (modname_eq(sim->drivers[i]->name, name) && sim->drivers[i]->module)
			return sim->drivers[i]->module;
	return NULL;
}

static bool is_builtin_driver(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_drivers; i++)
		if (modname_eq(sim->drivers[i]->name, name) && !sim->drivers[i]->module)
			return true;
	return false;
}

static int module_load(struct sim *sim, struct sim_module *mod, int depth)
{
	size_t i;

	if (mod->loaded)
		return 0;
	if (depth > 16)
		return -ELOOP;
	for (i = 0; i < mod->n_deps; i++) {
		struct sim_module *dep = sim_find_module(sim, mod->deps[i]);
		int r = dep ? module_load(sim, dep, depth + 1) : -ENOENT;

		if (r < 0)
			return r;
	}
	mod->loaded = true;
	sim_event(sim, "load %s", mod->name);
	/* bus_add_driver(): register, then attach when the bus autoprobes */
	for (i = 0; i < sim->n_drivers; i++) {
		struct sim_driver *drv = sim->drivers[i];

		if (drv->module != mod)
			continue;
		drv->load_seq = ++sim->load_seq;
		if (sim->autoprobe)
			sim_driver_attach(sim, drv);
	}
	return 0;
}

/* modprobe: the module or a driver's module; built-in drivers are always there */
int sim_load(struct sim *sim, const char *name)
{
	struct sim_module *mod = module_by_name(sim, name);

	if (!mod)
		return is_builtin_driver(sim, name) ? 0 : -ENOENT;
	return module_load(sim, mod, 0);
}

/* modprobe -r: the drivers release their devices and forget their dynamic ids */
int sim_unload(struct sim *sim, const char *name)
{
	struct sim_module *mod = module_by_name(sim, name);
	size_t i, j;

	if (!mod)
		return is_builtin_driver(sim, name) ? -EPERM : -ENOENT;
	if (!mod->loaded)
		return 0;
	for (i = 0; i < sim->n_drivers; i++) {
		struct sim_driver *drv = sim->drivers[i];

		if (drv->module != mod)
			continue;
		for (j = 0; j < sim->n_fns; j++)
			if (sim->fns[j]->present && sim->fns[j]->driver == drv)
				sim_detach(sim, sim->fns[j]);
		free(drv->dyn);
		drv->dyn = NULL;
		drv->n_dyn = 0;
	}
	mod->loaded = false;
	sim_event(sim, "unload %s", mod->name);
	return 0;
}

bool sim_group_exists(struct sim *sim, int group)
{
	size_t i;

	if (!sim->iommu || group < 0)
		return false;
	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present && sim->fns[i]->group == group)
			return true;
	return false;
}

int sim_max_group(struct sim *sim)
{
	int max = -1;
	size_t i;

	for (i = 0; i < sim->n_fns; i++)
		if (sim->fns[i]->present && sim->fns[i]->group > max)
			max = sim->fns[i]->group;
	return max;
}

bool sim_cdev_active(const struct sim *sim, const struct sim_cdev *c)
{
	(void)sim;
	if (c->plat)
		return c->plat->bound;
	return c->fn && c->fn->present && c->fn->driver && strcmp(c->fn->driver->name, c->driver) == 0;
}

struct sim_driver *sim_shown_driver(const struct sim_fn *fn)
{
	return fn->unbinding ? NULL : fn->driver;
}

/* a hot-unplug waits for an unbind in progress (the ACPI hotplug worker sleeps on the device lock) */
void sim_unplug(struct sim *sim, struct sim_fn *fn)
{
	if (fn->unbinding)
		fn->remove_pending = true;
	else
		sim_remove_fn(sim, fn);
}

void sim_snapshot(struct sim *sim)
{
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		struct sim_fn *fn = sim->fns[i];

		fn->boot_driver = fn->driver;
		free(fn->boot_override);
		fn->boot_override = fn->override ? xstrdup(fn->override) : NULL;
		fn->boot_present = fn->present;
	}
	for (i = 0; i < sim->n_modules; i++)
		sim->modules[i]->boot_loaded = sim->modules[i]->loaded;
	for (i = 0; i < sim->n_drivers; i++)
		sim->drivers[i]->boot_seq = sim->drivers[i]->load_seq;
	for (i = 0; i < sim->n_platdevs; i++)
		sim->platdevs[i]->boot_bound = sim->platdevs[i]->bound;
	sim->boot_fbcon = sim->fbcon_bound;
	sim->boot_load_seq = sim->load_seq;
}

static void reset_fn(struct sim_fn *fn)
{
	bool vf = fn->physfn != NULL;

	fn_reset_state(fn);
	fn->unbinding = false;
	fn->remove_pending = false;
	fn->present = !vf && fn->from_topology && fn->boot_present;
	fn->driver = vf ? NULL : fn->boot_driver;
	fn->override = !vf && fn->boot_override ? xstrdup(fn->boot_override) : NULL;
}

/* back to the state at start: what the topology says, VFs enabled again, the log emptied */
void sim_reset(struct sim *sim)
{
	struct sim_fn **pfs;
	size_t i, n;

	sim->generation++;
	fault_clear(sim);
	for (i = 0; i < sim->n_fns; i++)
		reset_fn(sim->fns[i]);
	for (i = 0; i < sim->n_modules; i++)
		sim->modules[i]->loaded = sim->modules[i]->boot_loaded;
	for (i = 0; i < sim->n_drivers; i++) {
		struct sim_driver *drv = sim->drivers[i];

		free(drv->dyn);
		drv->dyn = NULL;
		drv->n_dyn = 0;
		drv->load_seq = drv->boot_seq;
	}
	for (i = 0; i < sim->n_platdevs; i++)
		sim->platdevs[i]->bound = sim->platdevs[i]->boot_bound;
	sim->fbcon_bound = sim->boot_fbcon;
	sim->load_seq = sim->boot_load_seq;
	sim->autoprobe = true;
	n = sim->n_fns;
	pfs = xcalloc(n, sizeof(*pfs));
	memcpy(pfs, sim->fns, n * sizeof(*pfs));
	for (i = 0; i < n; i++)
		if (pfs[i]->present && pfs[i]->sriov && pfs[i]->sriov->boot_num && pfs[i]->driver)
			(void)sim_sriov_set(sim, pfs[i], pfs[i]->sriov->boot_num);
	free(pfs);
	sb_reset(&sim->log);
	pthread_cond_broadcast(&sim->cond);
}

static struct sim_fn *vf_get(struct sim *sim, struct sim_fn *pf, int i)
{
	struct sim_sriov *sr = pf->sriov;
	unsigned devfn = sr->first_devfn + (unsigned)i * sr->stride;
	unsigned bus = sr->first_bus + devfn / 256;
	char name[ADDR_LEN];
	struct sim_fn *vf;

	snprintf(name, sizeof(name), "%04x:%02x:%02x.%x", pf->domain, bus & 0xff, (devfn % 256) >> 3, devfn & 7);
	vf = sim_lookup_fn(sim, name);
	if (vf)
		return vf;
	vf = xcalloc(1, sizeof(*vf));
	snprintf(vf->name, sizeof(vf->name), "%s", name);
	vf->domain = pf->domain;
	vf->bus = bus & 0xff;
	vf->devfn = devfn % 256;
	sim->fns = xrealloc(sim->fns, sim->n_fns + 1, sizeof(*sim->fns));
	sim->fns[sim->n_fns++] = vf;
	return vf;
}

static void vf_init(struct sim_fn *vf, struct sim_fn *pf, int i, int group)
{
	vf->vendor = pf->sriov->vf_vendor;
	vf->device = pf->sriov->vf_device;
	vf->subvendor = pf->subvendor;
	vf->subdevice = pf->subdevice;
	vf->class = pf->class;
	vf->revision = pf->revision;
	vf->parent = pf->parent;
	vf->group = group;
	vf->boot_vga = -1;
	vf->numa_node = pf->numa_node;
	vf->physfn = pf;
	vf->vf_index = i;
	free(vf->reset_default);
	vf->reset_default = xstrdup("flr");
	fn_reset_state(vf);
	vf->present = true;
}

static void sriov_enable(struct sim *sim, struct sim_fn *pf, int num)
{
	int base = pf->sriov->first_group >= 0 ? pf->sriov->first_group : sim_max_group(sim) + 1;
	struct sim_fn **vfs = xcalloc((size_t)num, sizeof(*vfs));
	int i;

	for (i = 0; i < num; i++) {
		vfs[i] = vf_get(sim, pf, i);
		vf_init(vfs[i], pf, i, sim->iommu ? base + i : -1);
		sim_event(sim, "add %s", vfs[i]->name);
	}
	pf->sriov->num = num;
	sim_sort_fns(sim);
	sim_event(sim, "sriov %s %d", pf->name, num);
	for (i = 0; i < num; i++) {
		/* vfio_pci_bus_notifier(): VFs of a vfio-pci PF get driver_override=vfio-pci */
		if (pf->driver && pf->driver->kind == DRV_VFIO)
			vfs[i]->override = xstrdup(pf->driver->name);
		if (sim->autoprobe)
			(void)sim_device_attach(sim, vfs[i]);
	}
	free(vfs);
}

int sim_sriov_set(struct sim *sim, struct sim_fn *pf, int num)
{
	if (num == pf->sriov->num)
		return 0;
	if (num == 0) {
		sriov_disable(sim, pf);
		return 0;
	}
	if (pf->sriov->num)
		return -EBUSY;
	sriov_enable(sim, pf, num);
	return 0;
}

/* ---- sysfs stores ---- */

/* driver_set_override() of drivers/base/driver.c */
ssize_t sim_store_driver_override(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count)
{
	size_t len;
	const char *nl;

	(void)sim;
	if (count >= SYSFS_PAGE - 1)
		return -EINVAL;
	len = strlen(buf);
	nl = memchr(buf, '\n', len);
	if (nl)
		len = (size_t)(nl - buf);
	free(fn->override);
	fn->override = len ? xstrndup(buf, len) : NULL;
	return (ssize_t)count;
}

/* bind_store() of drivers/base/bus.c, device_driver_attach() of dd.c */
ssize_t sim_store_bind(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count)
{
	struct sim_fn *fn = sim_find_fn(sim, buf);
	int r;

	if (!fn || !sim_match(drv, fn))
		return -ENODEV;
	if (fn->driver)
		return -EBUSY;
	r = probe(sim, drv, fn);
	if (r == -EPROBE_DEFER)
		return -EAGAIN;
	return r < 0 ? r : (ssize_t)count;
}

/* unbind_store() of drivers/base/bus.c */
ssize_t sim_store_unbind(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count)
{
	struct sim_fn *fn = sim_find_fn(sim, buf);

	if (!fn || fn->driver != drv)
		return -ENODEV;
	sim_detach(sim, fn);
	return (ssize_t)count;
}

/* drivers_probe_store(): success even when no driver binds */
ssize_t sim_store_drivers_probe(struct sim *sim, const char *buf, size_t count)
{
	struct sim_fn *fn = sim_find_fn(sim, buf);

	if (!fn)
		return -ENODEV;
	(void)sim_device_attach(sim, fn);
	return (ssize_t)count;
}

static int parse_ids(const char *buf, bool with_data, struct sim_id *id, unsigned long *data)
{
	unsigned v = 0, d = 0, sv = ID_ANY, sd = ID_ANY, c = 0, cm = 0;
	unsigned long dd = 0;
	int n;

	if (with_data)
		n = sscanf(buf, "%x %x %x %x %x %x %lx", &v, &d, &sv, &sd, &c, &cm, &dd);
	else
		n = sscanf(buf, "%x %x %x %x %x %x", &v, &d, &sv, &sd, &c, &cm);
	*id = (struct sim_id){ v, d, sv, sd, c, cm };
	if (data)
		*data = dd;
	return n;
}

/* new_id_store() of drivers/pci/pci-driver.c */
ssize_t sim_store_new_id(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count)
{
	struct sim_id id;
	unsigned long data;
	int fields = parse_ids(buf, true, &id, &data);

	if (fields < 2)
		return -EINVAL;
	if (fields != 7) {
		struct sim_fn fake = { .vendor = (uint16_t)id.vendor, .device = (uint16_t)id.device,
				       .subvendor = (uint16_t)id.subvendor, .subdevice = (uint16_t)id.subdevice,
				       .class = id.class };

		if (table_matches(drv->dyn, drv->n_dyn, &fake) || table_matches(drv->ids, drv->n_ids, &fake))
			return -EEXIST;
	}
	/* only driver_data values of the static table are accepted; ours are all 0 */
	if (data != 0)
		return -EINVAL;
	drv->dyn = xrealloc(drv->dyn, drv->n_dyn + 1, sizeof(*drv->dyn));
	drv->dyn[drv->n_dyn++] = id;
	sim_driver_attach(sim, drv);
	return (ssize_t)count;
}

/* remove_id_store() of drivers/pci/pci-driver.c */
ssize_t sim_store_remove_id(struct sim *sim, struct sim_driver *drv, const char *buf, size_t count)
{
	struct sim_id id;
	size_t i;

	(void)sim;
	if (parse_ids(buf, false, &id, NULL) < 2)
		return -EINVAL;
	for (i = 0; i < drv->n_dyn; i++) {
		const struct sim_id *d = &drv->dyn[i];

		if (d->vendor == id.vendor && d->device == id.device &&
		    (id.subvendor == ID_ANY || d->subvendor == id.subvendor) &&
		    (id.subdevice == ID_ANY || d->subdevice == id.subdevice) && !((d->class ^ id.class) & id.class_mask)) {
			memmove(&drv->dyn[i], &drv->dyn[i + 1], (drv->n_dyn - i - 1) * sizeof(*d));
			drv->n_dyn--;
			return (ssize_t)count;
		}
	}
	return -ENODEV;
}

static bool reset_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(reset_names) / sizeof(reset_names[0]); i++)
		if (strcmp(reset_names[i], name) == 0)
			return true;
	return false;
}

/* is name in the space separated list? */
static bool word_in(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/* the new list, or -EINVAL for an unknown or unsupported name (nothing changes then) */
static int reset_parse(const struct sim_fn *fn, const char *buf, struct strbuf *out)
{
	char *copy = xstrdup(buf), *save = NULL, *tok;
	int n = 0, r = 0;

	for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (!reset_known(tok) || !word_in(fn->reset_default, tok) || n == RESET_METHODS_MAX) {
			r = -EINVAL;
			break;
		}
		sb_printf(out, "%s%s", n++ ? " " : "", tok);
	}
	free(copy);
	return r;
}

/* reset_method_store() of drivers/pci/pci-sysfs.c (6.x): "" disables all, "default" restores */
ssize_t sim_store_reset_method(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count)
{
	struct strbuf list = { 0 };
	int r;

	(void)sim;
	if (count >= SYSFS_PAGE - 1)
		return -EINVAL;
	if (sysfs_streq(buf, "default")) {
		free(fn->reset_cur);
		fn->reset_cur = xstrdup(fn->reset_default);
		return (ssize_t)count;
	}
	r = reset_parse(fn, buf, &list);
	if (r == 0) {
		free(fn->reset_cur);
		fn->reset_cur = xstrdup(list.s ? list.s : "");
	}
	sb_free(&list);
	return r < 0 ? r : (ssize_t)count;
}

/* sriov_numvfs_store() of drivers/pci/iov.c */
ssize_t sim_store_sriov_numvfs(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count)
{
	unsigned long num;
	int r;

	if (kstrtoul(buf, &num) < 0 || num > 0xffff)
		return -EINVAL;
	if (num > (unsigned long)fn->sriov->total)
		return -ERANGE;
	if ((int)num == fn->sriov->num)
		return (ssize_t)count;
	/* "no driver bound to device" / "driver does not support SR-IOV configuration via sysfs" */
	if (!fn->driver || fn->driver->sriov == DRV_SRIOV_NONE)
		return -ENOENT;
	r = sim_sriov_set(sim, fn, (int)num);
	return r < 0 ? r : (ssize_t)count;
}

/* remove_store() of drivers/pci/pci-sysfs.c */
ssize_t sim_store_remove(struct sim *sim, struct sim_fn *fn, const char *buf, size_t count)
{
	unsigned long val;

	if (kstrtoul(buf, &val) < 0)
		return -EINVAL;
	if (val)
		sim_remove_fn(sim, fn);
	return (ssize_t)count;
}
