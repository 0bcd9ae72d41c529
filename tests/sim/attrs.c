/* attrs.c - sysfs attributes: what reading them shows, what writing them does */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcisim.h"

#define UNUSED __attribute__((unused))
#define SHOW(fn) static void fn(UNUSED struct sim *sim, UNUSED const struct vnode *v, struct strbuf *out)
#define STORE(fn) \
	static ssize_t fn(UNUSED struct sim *sim, UNUSED const struct vnode *v, const char *buf, size_t count)
#define VISIBLE(fn) static bool fn(UNUSED struct sim *sim, const struct vnode *v)

/* attribute table entries */
#define RO(n, s, ...) { .name = n, .mode = 0444, .show = s, __VA_ARGS__ }
#define RW(n, s, st, ...) { .name = n, .mode = 0644, .show = s, .store = st, __VA_ARGS__ }
#define WO(n, st, ...) { .name = n, .mode = 0200, .store = st, __VA_ARGS__ }
#define END { .name = NULL }
/* a PCI Express function's config space (pci_cfg_space_size()) */
#define CONFIG_SPACE_SIZE 4096

SHOW(show_empty)
{
	(void)out;
}

/* ---- PCI functions (drivers/pci/pci-sysfs.c) ---- */

SHOW(show_vendor)
{
	sb_printf(out, "0x%04x\n", v->fn->vendor);
}

SHOW(show_device)
{
	sb_printf(out, "0x%04x\n", v->fn->device);
}

SHOW(show_subvendor)
{
	sb_printf(out, "0x%04x\n", v->fn->subvendor);
}

SHOW(show_subdevice)
{
	sb_printf(out, "0x%04x\n", v->fn->subdevice);
}

SHOW(show_class)
{
	sb_printf(out, "0x%06x\n", v->fn->class);
}

SHOW(show_revision)
{
	sb_printf(out, "0x%02x\n", v->fn->revision);
}

SHOW(show_irq)
{
	sb_printf(out, "%u\n", v->fn->irq);
}

SHOW(show_numa_node)
{
	sb_printf(out, "%d\n", v->fn->numa_node);
}

/* pci_enable_device() is what host drivers do in probe; vfio-pci waits for the VM */
SHOW(show_enable)
{
	sb_printf(out, "%d\n", v->fn->driver && v->fn->driver->kind != DRV_VFIO);
}

static void modalias(const struct sim_fn *fn, struct strbuf *out)
{
	sb_printf(out, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", fn->vendor, fn->device, fn->subvendor,
		  fn->subdevice, fn->class >> 16, (fn->class >> 8) & 0xff, fn->class & 0xff);
}

SHOW(show_modalias)
{
	modalias(v->fn, out);
	sb_append(out, "\n", 1);
}

SHOW(show_fn_uevent)
{
	const struct sim_fn *fn = v->fn;

	if (fn->driver)
		sb_printf(out, "DRIVER=%s\n", fn->driver->name);
	sb_printf(out, "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=", fn->class,
		  fn->vendor, fn->device, fn->subvendor, fn->subdevice, fn->name);
	modalias(fn, out);
	sb_append(out, "\n", 1);
}

/* kobject_synth_uevent(): an action word, optionally followed by more */
STORE(store_uevent)
{
	static const char *const actions[] = { "add", "remove", "change", "move", "online", "offline", "bind", "unbind" };
	size_t n = strcspn(buf, " \n"), i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strlen(actions[i]) == n && strncmp(actions[i], buf, n) == 0)
			return (ssize_t)count;
	return -EINVAL;
}

SHOW(show_driver_override)
{
	sb_printf(out, "%s\n", v->fn->override ? v->fn->override : "(null)");
}

STORE(store_driver_override)
{
	return sim_store_driver_override(sim, v->fn, buf, count);
}

SHOW(show_boot_vga)
{
	sb_printf(out, "%d\n", v->fn->boot_vga);
}

SHOW(show_reset_method)
{
	if (v->fn->reset_cur[0])
		sb_printf(out, "%s\n", v->fn->reset_cur);
}

STORE(store_reset_method)
{
	return sim_store_reset_method(sim, v->fn, buf, count);
}

SHOW(show_totalvfs)
{
	sb_printf(out, "%d\n", v->fn->sriov->total);
}

SHOW(show_numvfs)
{
	sb_printf(out, "%d\n", v->fn->sriov->num);
}

STORE(store_numvfs)
{
	return sim_store_sriov_numvfs(sim, v->fn, buf, count);
}

SHOW(show_sriov_autoprobe)
{
	sb_printf(out, "%d\n", v->fn->sriov->drivers_autoprobe);
}

/* kstrtobool() */
STORE(store_sriov_autoprobe)
{
	if (strchr("yY1", buf[0]) && buf[0])
		v->fn->sriov->drivers_autoprobe = true;
	else if (strchr("nN0", buf[0]) && buf[0])
		v->fn->sriov->drivers_autoprobe = false;
	else if (strncasecmp(buf, "on", 2) == 0)
		v->fn->sriov->drivers_autoprobe = true;
	else if (strncasecmp(buf, "of", 2) == 0)
		v->fn->sriov->drivers_autoprobe = false;
	else
		return -EINVAL;
	return (ssize_t)count;
}

SHOW(show_vf_device)
{
	sb_printf(out, "%x\n", v->fn->sriov->vf_device);
}

SHOW(show_vf_offset)
{
	sb_printf(out, "%u\n", v->fn->sriov->first_devfn - v->fn->devfn);
}

SHOW(show_vf_stride)
{
	sb_printf(out, "%u\n", v->fn->sriov->stride);
}

STORE(store_remove)
{
	return sim_store_remove(sim, v->fn, buf, count);
}

STORE(store_fn_rescan)
{
	unsigned long val;

	if (kstrtoul(buf, &val) < 0)
		return -EINVAL;
	if (val)
		sim_rescan(sim, v->fn);
	return (ssize_t)count;
}

/* what libpci's sysfs backend parses: one line per resource */
SHOW(show_resource)
{
	int i;

	for (i = 0; i < 13; i++)
		sb_printf(out, "0x%016x 0x%016x 0x%016x\n", 0, 0, 0);
}

static void put16(uint8_t *c, int off, unsigned v)
{
	c[off] = v & 0xff;
	c[off + 1] = (v >> 8) & 0xff;
}

static void config_bridge(struct sim *sim, const struct sim_fn *fn, uint8_t *c)
{
	unsigned lo = 0xff, hi = 0;
	size_t i;

	for (i = 0; i < sim->n_fns; i++) {
		const struct sim_fn *d = sim->fns[i];
		const struct sim_fn *p;

		for (p = d->parent; p && p != fn; p = p->parent)
			;
		if (!p || !d->present)
			continue;
		lo = d->bus < lo ? d->bus : lo;
		hi = d->bus > hi ? d->bus : hi;
	}
	c[0x18] = (uint8_t)fn->bus;
	c[0x19] = (uint8_t)(lo == 0xff ? 0 : lo);
	c[0x1a] = (uint8_t)hi;
}

static void put32(uint8_t *c, int off, uint32_t v)
{
	put16(c, off, v & 0xffff);
	put16(c, off + 2, v >> 16);
}

/*
 * The standard header, a PCI Express capability (enough for lspci) and the
 * extended space: at 0x100 the Device Serial Number capability (PCIe 6.2.x,
 * id 0x0003, version 1; the serial's lower dword first) when the topology
 * gives serial=, else an empty extended capability list.
 */
SHOW(show_config)
{
	const struct sim_fn *fn = v->fn;
	uint8_t *c = xcalloc(1, CONFIG_SPACE_SIZE);
	bool bridge = fn_is_bridge_header(fn);

	put16(c, 0x00, fn->vendor);
	put16(c, 0x02, fn->device);
	put16(c, 0x04, fn->driver && fn->driver->kind != DRV_VFIO ? 0x0006 : 0x0000);
	put16(c, 0x06, 0x0010);
	c[0x08] = fn->revision;
	c[0x09] = fn->class & 0xff;
	c[0x0a] = (fn->class >> 8) & 0xff;
	c[0x0b] = (fn->class >> 16) & 0xff;
	c[0x0e] = (uint8_t)((bridge ? 1 : 0) | (fn_multifunction(sim, fn) ? 0x80 : 0));
	if (bridge) {
		config_bridge(sim, fn, c);
	} else {
		put16(c, 0x2c, fn->subvendor);
		put16(c, 0x2e, fn->subdevice);
	}
	c[0x34] = 0x40;
	c[0x3c] = fn->irq & 0xff;
	c[0x3d] = 1;
	c[0x40] = 0x10;
	put16(c, 0x42, 0x0002 | (bridge ? 4u << 4 : 0u));
	if (fn->has_serial) {
		put32(c, 0x100, 0x0003 | 1u << 16); /* id, version 1, next 0: the last one */
		put32(c, 0x104, (uint32_t)(fn->serial & 0xffffffffu));
		put32(c, 0x108, (uint32_t)(fn->serial >> 32));
	}
	sb_append(out, c, CONFIG_SPACE_SIZE);
	free(c);
}

/* pci_slot's address_read_file(): DDDD:BB:SS of the slot's device */
SHOW(show_slot_address)
{
	sb_printf(out, "%04x:%02x:%02x\n", v->fn->domain, v->fn->bus, v->fn->devfn >> 3);
}

const struct attr slot_attrs[] = {
	RO("address", show_slot_address),
	END,
};

VISIBLE(vis_vga)
{
	return fn_is_vga(v->fn);
}

VISIBLE(vis_reset)
{
	return v->fn->reset_default != NULL;
}

VISIBLE(vis_pf)
{
	return v->fn->sriov != NULL;
}

const struct attr fn_attrs[] = {
	RO("vendor", show_vendor),
	RO("device", show_device),
	RO("subsystem_vendor", show_subvendor),
	RO("subsystem_device", show_subdevice),
	RO("class", show_class),
	RO("revision", show_revision),
	RO("modalias", show_modalias),
	RO("irq", show_irq),
	RO("numa_node", show_numa_node),
	RO("enable", show_enable),
	RW("uevent", show_fn_uevent, store_uevent),
	RW("driver_override", show_driver_override, store_driver_override, .op = "driver_override",
	   .devlock = DEVLOCK_SHOW | DEVLOCK_STORE),
	RO("boot_vga", show_boot_vga, .visible = vis_vga),
	RW("reset_method", show_reset_method, store_reset_method, .op = "reset_method", .visible = vis_reset),
	RO("sriov_totalvfs", show_totalvfs, .visible = vis_pf),
	RW("sriov_numvfs", show_numvfs, store_numvfs, .op = "sriov_numvfs", .visible = vis_pf,
	   .devlock = DEVLOCK_SHOW | DEVLOCK_STORE),
	RW("sriov_drivers_autoprobe", show_sriov_autoprobe, store_sriov_autoprobe, .op = "sriov_drivers_autoprobe",
	   .visible = vis_pf),
	RO("sriov_vf_device", show_vf_device, .visible = vis_pf),
	RO("sriov_offset", show_vf_offset, .visible = vis_pf),
	RO("sriov_stride", show_vf_stride, .visible = vis_pf),
	WO("remove", store_remove, .op = "remove", .devlock = DEVLOCK_STORE),
	WO("rescan", store_fn_rescan),
	RO("resource", show_resource),
	RO("config", show_config, .size = CONFIG_SPACE_SIZE, .unpriv_size = 64),
	END,
};

/* ---- PCI drivers (drivers/base/bus.c, drivers/pci/pci-driver.c) ---- */

STORE(store_bind)
{
	return sim_store_bind(sim, v->drv, buf, count);
}

STORE(store_unbind)
{
	return sim_store_unbind(sim, v->drv, buf, count);
}

STORE(store_new_id)
{
	return sim_store_new_id(sim, v->drv, buf, count);
}

STORE(store_remove_id)
{
	return sim_store_remove_id(sim, v->drv, buf, count);
}

/* bind and unbind take the lock of the device they name (device_driver_attach(), device_release_driver()) */
const struct attr driver_attrs[] = {
	WO("bind", store_bind, .op = "bind", .devlock = DEVLOCK_STORE),
	WO("unbind", store_unbind, .op = "unbind", .devlock = DEVLOCK_STORE),
	WO("new_id", store_new_id, .op = "new_id"),
	WO("remove_id", store_remove_id, .op = "remove_id"),
	WO("uevent", store_uevent),
	END,
};

/* ---- the PCI bus ---- */

STORE(store_drivers_probe)
{
	return sim_store_drivers_probe(sim, buf, count);
}

SHOW(show_autoprobe)
{
	sb_printf(out, "%d\n", sim->autoprobe);
}

STORE(store_autoprobe)
{
	sim->autoprobe = buf[0] != '0';
	return (ssize_t)count;
}

STORE(store_bus_rescan)
{
	unsigned long val;

	if (kstrtoul(buf, &val) < 0)
		return -EINVAL;
	if (val)
		sim_rescan(sim, NULL);
	return (ssize_t)count;
}

const struct attr bus_pci_attrs[] = {
	WO("drivers_probe", store_drivers_probe, .op = "drivers_probe"),
	RW("drivers_autoprobe", show_autoprobe, store_autoprobe),
	WO("rescan", store_bus_rescan),
	WO("uevent", store_uevent),
	END,
};

/* ---- class devices ---- */

static int name_number(const char *name)
{
	while (*name && !isdigit((unsigned char)*name))
		name++;
	return atoi(name);
}

SHOW(show_cdev_dev)
{
	const struct sim_cdev *c = v->cdev;

	if (c->kind == CDEV_DRM)
		sb_printf(out, "226:%d\n", name_number(c->name));
	else if (c->kind == CDEV_FB)
		sb_printf(out, "29:%d\n", name_number(c->name));
	else
		sb_printf(out, "%s\n", c->devnum);
}

SHOW(show_cdev_uevent)
{
	const struct sim_cdev *c = v->cdev;
	unsigned maj = 0, min = 0;

	if (c->kind == CDEV_NET) {
		sb_printf(out, "INTERFACE=%s\n", c->name);
		return;
	}
	if (c->kind == CDEV_INPUT) {
		sb_printf(out, "NAME=\"%s\"\n", c->label);
		return;
	}
	if (c->kind == CDEV_DISK || c->kind == CDEV_PART)
		(void)sscanf(c->devnum, "%u:%u", &maj, &min);
	else
		maj = c->kind == CDEV_DRM ? 226 : 29, min = (unsigned)name_number(c->name);
	sb_printf(out, "MAJOR=%u\nMINOR=%u\nDEVNAME=%s%s\n", maj, min, c->kind == CDEV_DRM ? "dri/" : "", c->name);
	if (c->kind == CDEV_DISK)
		sb_printf(out, "DEVTYPE=disk\n");
	if (c->kind == CDEV_PART)
		sb_printf(out, "DEVTYPE=partition\nPARTN=%d\n", c->partno);
}

SHOW(show_cdev_name)
{
	sb_printf(out, "%s\n", v->cdev->label);
}

SHOW(show_partition)
{
	sb_printf(out, "%d\n", v->cdev->partno);
}

SHOW(show_net_address)
{
	const struct sim_fn *fn = v->cdev->fn;

	sb_printf(out, "52:54:00:%02x:%02x:%02x\n", fn->bus, fn->devfn, fn->domain & 0xff);
}

SHOW(show_operstate)
{
	sb_printf(out, "up\n");
}

VISIBLE(vis_devnum)
{
	return v->cdev->kind != CDEV_NET && v->cdev->kind != CDEV_INPUT;
}

VISIBLE(vis_label)
{
	return v->cdev->kind == CDEV_FB || v->cdev->kind == CDEV_INPUT;
}

VISIBLE(vis_part)
{
	return v->cdev->kind == CDEV_PART;
}

VISIBLE(vis_net)
{
	return v->cdev->kind == CDEV_NET;
}

const struct attr cdev_attrs[] = {
	RW("uevent", show_cdev_uevent, store_uevent),
	RO("dev", show_cdev_dev, .visible = vis_devnum),
	RO("name", show_cdev_name, .visible = vis_label),
	RO("partition", show_partition, .visible = vis_part),
	RO("address", show_net_address, .visible = vis_net),
	RO("operstate", show_operstate, .visible = vis_net),
	END,
};

SHOW(show_ev)
{
	sb_printf(out, "%s\n", v->cdev->ev);
}

const struct attr cdev_caps_attrs[] = {
	RO("ev", show_ev),
	END,
};

/* ---- virtual consoles (drivers/tty/vt/vt.c) ---- */

SHOW(show_vtcon_name)
{
	sb_printf(out, "%s\n", v->num == 0 ? "(S) dummy device" : "(M) frame buffer device");
}

SHOW(show_vtcon_bind)
{
	bool fbcon = sim->has_fbcon && sim->fbcon_bound;

	sb_printf(out, "%d\n", v->num == 0 ? !fbcon : fbcon);
}

/* store_bind(): simple_strtoul(), and the write always succeeds */
STORE(store_vtcon_bind)
{
	bool bind = strtoul(buf, NULL, 0) != 0;

	if (v->num == 1)
		sim->fbcon_bound = bind;
	else if (bind)
		sim->fbcon_bound = false;
	return (ssize_t)count;
}

const struct attr vtcon_attrs[] = {
	RO("name", show_vtcon_name),
	RW("bind", show_vtcon_bind, store_vtcon_bind),
	RW("uevent", show_empty, store_uevent),
	END,
};

/* ---- IOMMU groups, modules ---- */

SHOW(show_group_type)
{
	sb_printf(out, "%s\n", strstr(sim->cmdline, "iommu=pt") ? "identity" : "DMA-FQ");
}

const struct attr group_attrs[] = {
	RO("type", show_group_type),
	END,
};

SHOW(show_initstate)
{
	sb_printf(out, "live\n");
}

SHOW(show_refcnt)
{
	sb_printf(out, "0\n");
}

const struct attr module_attrs[] = {
	RO("initstate", show_initstate),
	RO("refcnt", show_refcnt),
	WO("uevent", store_uevent),
	END,
};

const struct attr uevent_only_attrs[] = {
	RW("uevent", show_empty, store_uevent),
	END,
};

/* ---- the platform bus: firmware framebuffers ---- */

static struct sim_platdev *platdev_find(struct sim *sim, const char *name)
{
	size_t i;

	for (i = 0; i < sim->n_platdevs; i++)
		if (sysfs_streq(sim->platdevs[i]->name, name))
			return sim->platdevs[i];
	return NULL;
}

STORE(store_plat_bind)
{
	struct sim_platdev *p = platdev_find(sim, buf);

	if (!p || strcmp(p->driver, v->sub) != 0)
		return -ENODEV;
	if (p->bound)
		return -EBUSY;
	p->bound = true;
	sim_event(sim, "probe %s %s ok", p->name, p->driver);
	return (ssize_t)count;
}

STORE(store_plat_unbind)
{
	struct sim_platdev *p = platdev_find(sim, buf);

	if (!p || !p->bound || strcmp(p->driver, v->sub) != 0)
		return -ENODEV;
	p->bound = false;
	sim_event(sim, "unbind %s %s", p->name, p->driver);
	return (ssize_t)count;
}

const struct attr plat_driver_attrs[] = {
	WO("bind", store_plat_bind, .op = "bind"),
	WO("unbind", store_plat_unbind, .op = "unbind"),
	WO("uevent", store_uevent),
	END,
};

SHOW(show_plat_modalias)
{
	sb_printf(out, "platform:%s\n", v->plat->driver);
}

SHOW(show_plat_uevent)
{
	if (v->plat->bound)
		sb_printf(out, "DRIVER=%s\n", v->plat->driver);
	sb_printf(out, "MODALIAS=platform:%s\n", v->plat->driver);
}

const struct attr platdev_attrs[] = {
	RO("modalias", show_plat_modalias),
	RW("uevent", show_plat_uevent, store_uevent),
	END,
};

/* ---- .pcisim ---- */

STORE(store_ctl)
{
	int r = ctl_exec(sim, buf, count);

	return r < 0 ? r : (ssize_t)count;
}

SHOW(show_log)
{
	if (sim->log.len)
		sb_append(out, sim->log.s, sim->log.len);
}

SHOW(show_state)
{
	ctl_show_state(sim, out);
}

const struct attr ctl_attrs[] = {
	WO("ctl", store_ctl),
	RO("log", show_log),
	RO("state", show_state),
	END,
};
