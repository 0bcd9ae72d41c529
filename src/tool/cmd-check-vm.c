/* cmd-check-vm.c - pcibind check --vm VMID | --domain NAME|FILE: is this VM ready for its PCI devices? */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bind.h"
#include "check-vm.h"
#include "detect.h"
#include "hook-libvirt.h"
#include "hook-proxmox.h"
#include "plan.h"

#define LIBVIRT_QEMU_DIR "etc/libvirt/qemu"
#define LIBVIRT_HOOK	 "etc/libvirt/hooks/qemu"
#define LIBVIRT_HOOK_DIR "etc/libvirt/hooks/qemu.d"
#define SCRIPT_MAX	 (1u << 20)
#define VMS_NAMED_MAX	 32

/* What one VM gets, whichever manager it has */
struct vm {
	const struct check_vm_env *e;
	char label[96];	       /* "VM 100", "domain win11": for fixes */
	struct hook_devs devs; /* handed over by pcibind */
	struct hook_devs peer; /* moved by the VM manager itself: libvirt's managed='yes' */
	struct hook_devs kept; /* the VM's, left on their driver: driver=keep */
	bool efi, secure_keys, primary;
	unsigned long vmid; /* Proxmox: its own QEMU is no other VM's hold */
	const char *romfile[PVE_HOSTPCI_MAX + 64];
	size_t n_rom;
};

static void add(const struct vm *v, int lvl, const char *what, const char *fix, const char *fmt, ...) _printf_(5, 6);

static void add(const struct vm *v, int lvl, const char *what, const char *fix, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->e->add(v->e->data, lvl, what, fix, msg);
}

static bool is_gpu(const struct pcifn *f)
{
	return f && (f->class >> 16) == 0x03;
}

static bool vm_has(const struct vm *v, const struct pciaddr *a)
{
	return hook_devs_has(&v->devs, a) || hook_devs_has(&v->peer, a) || hook_devs_has(&v->kept, a);
}

static const struct pcifn *fn_of(const struct vm *v, const struct hook_devs *d, size_t i)
{
	return pcihost_find(v->e->h, &d->addrs[i]);
}

static size_t vm_count(const struct vm *v)
{
	return v->devs.n + v->peer.n + v->kept.n;
}

/* The i-th of every function the VM gets (devs, peer, kept), with the entry it comes from */
static const struct pcifn *vm_fn(const struct vm *v, size_t i, const char **ret_origin)
{
	const struct hook_devs *lists[] = { &v->devs, &v->peer, &v->kept };

	for (size_t l = 0; l < ARRAY_SIZE(lists); i -= lists[l]->n, l++)
		if (i < lists[l]->n) {
			*ret_origin = lists[l]->origin[i];
			return fn_of(v, lists[l], i);
		}
	return NULL;
}

/* ---- what every VM is checked for ---- */

/* The VM gets f itself (a function moved only for its IOMMU group leaves the host, but the VM does not see it) */
static bool vm_passes(const struct vm *v, const struct pciaddr *a)
{
	for (size_t i = 0; i < v->devs.n; i++)
		if (pciaddr_cmp(&v->devs.addrs[i], a) == 0)
			return !hook_origin_is_group(v->devs.origin[i]);
	return hook_devs_has(&v->peer, a) || hook_devs_has(&v->kept, a);
}

/*
 * The guide's "All Functions": a card passed without its other functions.
 * Not for an SR-IOV VF: VFs are passed one by one, and the whole slot
 * would give every VF of it to this VM.
 */
static void check_slots(const struct vm *v)
{
	const struct pcihost *h = v->e->h;

	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *g = &h->fns[i];

		if (vm_passes(v, &g->addr) || g->is_vf)
			continue;
		for (size_t k = 0; k < vm_count(v); k++) {
			const char *origin;
			const struct pcifn *f = vm_fn(v, k, &origin);

			if (!f || f->is_vf || hook_origin_is_group(origin) || !pciaddr_same_slot(&f->addr, &g->addr))
				continue;
			add(v, CHECK_WARN, "functions",
			    "pass the whole slot: the address without its function (01:00, not 01:00.0)",
			    "%s (%s) gets %s but not %s (%s) of the same card", origin, v->label, f->name, g->name,
			    g->driver ? g->driver : "no driver");
			break;
		}
	}
}

/* What leaves the host with the VM only because qemu-server binds whole IOMMU groups (prepare_pci_device()) */
static void check_grouped(const struct vm *v)
{
	for (size_t i = 0; i < v->devs.n; i++) {
		const struct pcifn *f = fn_of(v, &v->devs, i);

		if (f && hook_origin_is_group(v->devs.origin[i]))
			add(v, CHECK_INFO, "group", NULL,
			    "%s (%s) leaves the host too while %s runs: it is in the %s "
			    "(group %d), and qemu-server binds every function of the group to vfio-pci (the VM sees "
			    "only "
			    "what it names)",
			    f->name, strna(f->driver), v->label, v->devs.origin[i], f->group);
	}
}

/* Another running VM (or any process) holding a function's VFIO group: this VM cannot start until it stops */
static void check_holders(const struct vm *v)
{
	for (size_t i = 0; i < v->devs.n + v->peer.n; i++) {
		const struct hook_devs *d = i < v->devs.n ? &v->devs : &v->peer;
		size_t k = i < v->devs.n ? i : i - v->devs.n;
		const struct pcifn *f = fn_of(v, d, k);
		struct holder hs[4];
		int n = f ? holders_vfio(v->e->c->root, f, hs, ARRAY_SIZE(hs)) : 0;

		for (int j = 0; j < n && j < (int)ARRAY_SIZE(hs); j++) {
			unsigned long vmid = proxmox_qemu_vmid(v->e->c->root, hs[j].pid);
			char who[96];

			if (vmid && vmid == v->vmid)
				continue;
			if (vmid)
				snprintf(who, sizeof(who), "the running VM %lu (%.32s, pid %lu)", vmid, hs[j].comm,
					 hs[j].pid);
			else
				snprintf(who, sizeof(who), "%.32s (pid %lu)", hs[j].comm, hs[j].pid);
			add(v, CHECK_FAIL, "in-use",
			    vmid ? "stop that VM first (only one of them can run at a time)" : NULL,
			    "%s: %s is in use: %s holds %s; a start of %s is refused while it does", d->origin[k],
			    f->name, who, hs[j].node, v->label);
		}
	}
}

/*
 * The refusals a start would meet, as the hook decides them (the console
 * refusal is release_console's), for what pcibind hands over and what the
 * manager detaches itself alike: both leave the host without the device.
 */
static void check_plan(const struct vm *v)
{
	size_t n = v->devs.n + v->peer.n;
	struct selector *sels = calloc(n ? n : 1, sizeof(*sels));
	struct request req = { .verb = VERB_BIND, .sels = sels, .n_sels = n };
	struct plan_error err = { { 0 } };
	struct plan *p = NULL;

	if (!sels)
		return;
	for (size_t i = 0; i < n; i++)
		sels[i] = (struct selector){ .kind = SEL_FUNCTION,
					     .addr = i < v->devs.n ? v->devs.addrs[i] : v->peer.addrs[i - v->devs.n] };
	if (n && plan_make(v->e->h, v->e->cfg, NULL, 0, &req, &p, &err) < 0) {
		add(v, CHECK_FAIL, "devices", NULL, "%s", err.msg[0] ? err.msg : "cannot plan");
		free(sels);
		return;
	}
	for (size_t i = 0; p && i < p->n_refusals; i++) {
		const struct refusal *f = &p->refusals[i];
		const struct devset *set = NULL;
		struct pciaddr a;

		const struct pcifn *fn = pciaddr_parse(f->fn, &a) == 0 ? pcihost_find(v->e->h, &a) : NULL;

		for (size_t s = 0; fn && s < v->e->cfg->n_sets && !set; s++)
			if (devset_selects(&v->e->cfg->sets[s], &a, fn->vendor, fn->device) &&
			    v->e->cfg->sets[s].release_console)
				set = &v->e->cfg->sets[s];
		if (f->kind == REFUSE_CONSOLE && set)
			add(v, CHECK_INFO, "console", NULL, "%s; [%s] release_console = yes frees it at start", f->msg,
			    set->name);
		else
			add(v, CHECK_FAIL, "devices",
			    f->kind == REFUSE_CONSOLE
				? "release_console = yes in the GPU's set "
				  "(single-GPU hosts; the host loses its display while the VM runs)"
			    : f->kind == REFUSE_GROUP
				? "pass the sibling too, or move the card to a slot of its own group"
			    : f->kind == REFUSE_NO_IOMMU ? "enable the IOMMU (pcibind check)"
							 : NULL,
			    "a start would be refused: %s", f->msg);
	}
	for (size_t i = 0; p && !plan_refused(p) && i < p->n_acts; i++) {
		const struct action *a = &p->acts[i];

		add(v, CHECK_OK, "device", NULL, "%s (%s, group %d): %s %s", a->name, strna(a->before.driver), a->group,
		    a->noop ? "already on" : "goes to", a->noop ? strna(a->before.driver) : strna(a->target.driver));
	}
	plan_free(p);
	free(sels);
}

/* The host's display while the VM runs: another GPU, or none (then only release_console lets a single GPU go) */
static void check_display(const struct vm *v)
{
	const struct pcihost *h = v->e->h;
	size_t gpus = 0, others = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (!is_gpu(&h->fns[i]))
			continue;
		if (vm_has(v, &h->fns[i].addr))
			gpus++;
		else
			others++;
	}
	if (!gpus)
		return;
	if (!others)
		add(v, CHECK_WARN, "display",
		    "fine on a headless host; a desktop host needs another GPU, or release_console "
		    "= yes and stop_units for its display manager in the GPU's set",
		    "%s takes every GPU of the host: the host has no display while it runs", v->label);
	else if (v->primary)
		add(v, CHECK_OK, "display", NULL, "the primary GPU goes to %s; the host keeps %zu other GPU%s",
		    v->label, others, others == 1 ? "" : "s");
}

/* OVMF for a GPU, and no pre-enrolled Secure Boot keys with an NVIDIA one (the guide) */
static void check_firmware(const struct vm *v, const char *fix_ovmf, const char *fix_keys)
{
	bool gpu = false, nvidia = false;

	for (size_t i = 0; i < vm_count(v); i++) {
		const char *origin;
		const struct pcifn *f = vm_fn(v, i, &origin);

		gpu |= is_gpu(f);
		nvidia |= is_gpu(f) && f->vendor == 0x10de;
	}
	if (!gpu)
		return;
	if (!v->efi)
		add(v, CHECK_WARN, "firmware", fix_ovmf,
		    "%s boots SeaBIOS (legacy BIOS) with a GPU: modern GPUs and their drivers want UEFI (OVMF)",
		    v->label);
	else
		add(v, CHECK_OK, "firmware", NULL, "%s boots OVMF (UEFI)", v->label);
	if (v->efi && v->secure_keys && nvidia)
		add(v, CHECK_WARN, "secure-boot", fix_keys,
		    "%s has Secure Boot keys pre-enrolled and an NVIDIA GPU: the guide says OVMF without Secure Boot",
		    v->label);
}

/* The longest path component of s */
static size_t longest_component(const char *s)
{
	size_t best = 0;

	for (const char *p = s; *p; p += strspn(p, "/")) {
		size_t n = strcspn(p, "/");

		best = n > best ? n : best;
		p += n;
	}
	return best;
}

/*
 * QEMU opens the ROM by the path qemu-server gives it
 * (",romfile=/usr/share/kvm/NAME", PCI.pm print_hostpci_devices()): a name
 * component longer than NAME_MAX or a path of PATH_MAX fails its open().
 */
static void check_roms(const struct vm *v, const char *dir)
{
	for (size_t i = 0; i < v->n_rom; i++) {
		char path[PATH_MAX];
		struct stat st;
		size_t longest = longest_component(v->romfile[i]);

		if (longest > NAME_MAX || snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] ? "/" : "",
						   v->romfile[i]) >= (int)sizeof(path)) {
			add(v, CHECK_FAIL, "romfile", "a ROM file name of at most 255 bytes",
			    "romfile '%.40s...' (%zu bytes, a name of %zu): longer than the system allows a %s (%d): "
			    "QEMU "
			    "cannot open it and will not start",
			    v->romfile[i], strlen(v->romfile[i]), longest, longest > NAME_MAX ? "file name" : "path",
			    longest > NAME_MAX ? NAME_MAX : PATH_MAX);
			continue;
		}
		if (fstatat(sysroot_fd(v->e->c->root), path + strspn(path, "/"), &st, 0) == 0 && S_ISREG(st.st_mode))
			add(v, CHECK_OK, "romfile", NULL, "/%s is there", path + strspn(path, "/"));
		else
			add(v, CHECK_FAIL, "romfile", "put the ROM file there, or take romfile out",
			    "/%s does not exist: QEMU will not start", path + strspn(path, "/"));
	}
}

static void vm_free(struct vm *v)
{
	hook_devs_free(&v->devs);
	hook_devs_free(&v->peer);
	hook_devs_free(&v->kept);
}

/* a script's text names pcibind: pcibind's entry point, or a script that calls it */
static bool script_calls_pcibind(const struct sysroot *r, const char *rel, bool *ret_exec)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len = 0;

	*ret_exec = false;
	if (fstatat(sysroot_fd(r), rel, &st, 0) < 0 || !S_ISREG(st.st_mode) || st.st_size > SCRIPT_MAX)
		return false;
	*ret_exec = (st.st_mode & 0111) != 0;
	return sysroot_read(r, rel, &text, &len) == 0 && memmem(text, len, "pcibind", 7);
}

/* ---- Proxmox ---- */

enum hookscript { HS_NONE, HS_BAD_ID, HS_MISSING, HS_NOT_EXEC, HS_OTHER, HS_PCIBIND };

static enum hookscript proxmox_hookscript(const struct sysroot *r, const char *volid, char *path, size_t size)
{
	_cleanup_free_ char *storage = NULL;
	bool exec;

	if (!volid)
		return HS_NONE;
	(void)sysroot_read(r, PVE_STORAGE_CFG, &storage, NULL);
	if (proxmox_hookscript_path(volid, storage, path, size) < 0)
		return HS_BAD_ID;
	if (sysroot_exists(r, path) < 0)
		return HS_MISSING;
	if (!script_calls_pcibind(r, path, &exec))
		return exec ? HS_OTHER : HS_NOT_EXEC;
	return exec ? HS_PCIBIND : HS_NOT_EXEC;
}

static void check_hookscript(const struct vm *v, const struct pve_vm *vm, const char *vmid)
{
	char path[1024] = "", fix[256];
	enum hookscript hs = proxmox_hookscript(v->e->c->root, vm->hookscript, path, sizeof(path));

	snprintf(fix, sizeof(fix), "qm set %s --hookscript local:snippets/pcibind-hook (hooks/README.md)", vmid);
	switch (hs) {
	case HS_NONE:
		add(v, CHECK_WARN, "hookscript", fix,
		    "no hookscript: qemu-server binds the devices itself and nothing "
		    "gives them back to the host when the VM stops");
		break;
	case HS_BAD_ID:
		add(v, CHECK_FAIL, "hookscript", fix,
		    "hookscript '%.128s' is not a snippets volume of a directory storage: "
		    "qemu-server refuses to start the VM",
		    vm->hookscript);
		break;
	case HS_MISSING:
	case HS_NOT_EXEC:
		add(v, CHECK_FAIL, "hookscript",
		    "install it: install -m 0755 /usr/share/pcibind/hooks/proxmox-hookscript PATH",
		    "hookscript %s: /%s %s: qemu-server refuses to start the VM", vm->hookscript, path,
		    hs == HS_MISSING ? "does not exist" : "is not executable");
		break;
	case HS_OTHER:
		add(v, CHECK_WARN, "hookscript",
		    "chain it: /etc/pcibind/hooks/proxmox.d, or call pcibind's from it "
		    "(hooks/README.md)",
		    "hookscript %s (/%s) does not call pcibind", vm->hookscript, path);
		break;
	case HS_PCIBIND:
		add(v, CHECK_OK, "hookscript", NULL, "hookscript %s runs pcibind", vm->hookscript);
		break;
	}
}

static void proxmox_entries(struct vm *v, const struct pve_vm *vm)
{
	for (int i = 0; i < PVE_HOSTPCI_MAX; i++) {
		const struct pve_hostpci *hp = &vm->hostpci[i];
		char fix[128];

		if (!hp->value)
			continue;
		snprintf(fix, sizeof(fix), "correct it: qm set %s --hostpci%d ...", v->label + 3, i);
		if (hp->why[0]) {
			add(v, CHECK_FAIL, "hostpci", fix,
			    "hostpci%d: %s: qemu-server ignores this entry and starts the VM "
			    "without this device",
			    i, hp->why);
			continue;
		}
		if (hp->dropped[0])
			add(v, CHECK_WARN, "hostpci", fix, "hostpci%d: %s, as qemu-server keeps it", i, hp->dropped);
		if (hp->mdev && strncmp(hp->mdev_type, "nvidia-", 7) == 0)
			add(v, CHECK_INFO, "hostpci", NULL,
			    "hostpci%d: mdev=%s, an NVIDIA vGPU: on kernels 6.8 and later "
			    "qemu-server sets it through the function's nvidia/current_vgpu_type (an mdev before); the "
			    "function stays on its host driver (nvidia), pcibind does not move it",
			    i, hp->mdev_type);
		else if (hp->mdev)
			add(v, CHECK_INFO, "hostpci", NULL,
			    "hostpci%d: a mediated device; its function stays on its host driver", i);
		if (hp->romfile && v->n_rom < ARRAY_SIZE(v->romfile))
			v->romfile[v->n_rom++] = hp->romfile;
		v->primary |= hp->x_vga;
	}
}

static int proxmox_read(const struct check_vm_env *e, const char *vmid, char **ret_text)
{
	char path[128];
	int err;

	if (!proxmox_vmid_valid(vmid)) {
		msg_error("invalid --vm '%.64s': a VM id is a number from 100 to 999999999", vmid);
		return EXIT_USAGE;
	}
	(void)sysroot_pathf(path, sizeof(path), PVE_VM_CONF_FMT, vmid);
	if ((err = sysroot_read(e->c->root, path, ret_text, NULL)) < 0) {
		msg_error("cannot read /%s: %s", path, strerror(-err));
		return err == -ENOENT ? EXIT_USAGE : EXIT_FAILURE_;
	}
	return 0;
}

/* The choice the hook makes at pre-start, with the same files */
static void proxmox_choice(struct vm *v, const struct pve_vm *vm, const char *vmid)
{
	_cleanup_free_ char *map = NULL, *resv = NULL;
	struct pve_reservations res = { 0 };
	struct pve_env env = {
		.h = v->e->h, .vmid = strtoul(vmid, NULL, 10), .now = (long long)time(NULL), .root = v->e->c->root
	};
	char node[256], err[768];
	size_t grouped = 0;
	int r;

	proxmox_node_name(v->e->c->root, node, sizeof(node));
	(void)sysroot_read(v->e->c->root, PVE_PCI_MAPPING, &map, NULL);
	(void)sysroot_read(v->e->c->root, PVE_RESERVATIONS, &resv, NULL);
	if (proxmox_reservations_parse(resv, &res) == 0)
		proxmox_reservations_check(v->e->c->root, &res);
	env.node = node;
	env.map_text = map;
	env.res = &res;
	r = proxmox_vm_choose(vm, &env, &v->devs, &v->kept, err, sizeof(err));
	proxmox_reservations_free(&res);
	if (r == -ENOMEM)
		add(v, CHECK_FAIL, "hostpci", NULL, "out of memory");
	else if (r < 0)
		add(v, CHECK_FAIL, "hostpci", r == -EAGAIN ? "start it once the other VM is up" : NULL,
		    "a start would be refused: %s", err);
	for (size_t i = 0; r == 0 && i < v->kept.n; i++)
		add(v, CHECK_INFO, "hostpci", NULL, "%s: driver=keep: %s stays on %s", v->kept.origin[i],
		    fn_of(v, &v->kept, i) ? fn_of(v, &v->kept, i)->name : "?",
		    fn_of(v, &v->kept, i) ? strna(fn_of(v, &v->kept, i)->driver) : "?");
	for (size_t i = 0; r == 0 && i < v->devs.n; i++)
		grouped += hook_origin_is_group(v->devs.origin[i]);
	if (r == 0 && (v->devs.n || v->kept.n))
		add(v, CHECK_OK, "hostpci", NULL, "qemu-server will pass %zu function%s%s%s",
		    v->devs.n - grouped + v->kept.n, v->devs.n - grouped + v->kept.n == 1 ? "" : "s",
		    node[0] ? " on node " : "", node);
}

static int check_proxmox(const struct check_vm_env *e, const char *vmid)
{
	_cleanup_free_ char *text = NULL;
	struct vm v = { .e = e };
	struct pve_vm vm;
	char fix[160];
	int st;

	if ((st = proxmox_read(e, vmid, &text)))
		return st;
	if (proxmox_vm_parse(text, &vm) < 0) {
		msg_error("out of memory");
		return EXIT_FAILURE_;
	}
	snprintf(v.label, sizeof(v.label), "VM %s", vmid);
	v.vmid = strtoul(vmid, NULL, 10);
	v.efi = vm.bios && streq(vm.bios, "ovmf");
	v.secure_keys = vm.efidisk0 && strstr(vm.efidisk0, "pre-enrolled-keys=1");
	add(&v, CHECK_INFO, "vm", NULL, "VM %s%s%s%s: machine %s, %s", vmid, vm.name ? " (" : "",
	    vm.name ? vm.name : "", vm.name ? ")" : "", vm.machine ? vm.machine : "i440fx (the default)",
	    v.efi ? "OVMF" : "SeaBIOS");
	if (vm.template)
		add(&v, CHECK_INFO, "template", NULL, "a template: qemu-server starts it without its PCI devices");
	proxmox_entries(&v, &vm);
	proxmox_choice(&v, &vm, vmid);
	if (!proxmox_vm_has_hostpci(&vm))
		add(&v, CHECK_INFO, "hostpci", NULL, "no hostpci entries qemu-server accepts: no PCI devices to pass");
	check_grouped(&v);
	check_holders(&v);
	check_slots(&v);
	check_plan(&v);
	check_display(&v);
	snprintf(fix, sizeof(fix), "qm set %s --bios ovmf --efidisk0 local-lvm:1,efitype=4m,pre-enrolled-keys=0", vmid);
	check_firmware(&v, fix,
		       "recreate the EFI disk with pre-enrolled-keys=0, or turn Secure Boot off in OVMF's setup");
	check_roms(&v, PVE_ROM_DIR);
	if (proxmox_vm_has_hostpci(&vm) && !vm.template)
		check_hookscript(&v, &vm, vmid);
	vm_free(&v);
	proxmox_vm_free(&vm);
	return 0;
}

/* ---- libvirt ---- */

/* a script in qemu.d (or the one qemu hook) that runs pcibind */
static bool libvirt_hook_installed(const struct sysroot *r, char *which, size_t size)
{
	DIR *d = NULL;
	struct dirent *de;
	bool exec, found = false;

	if (script_calls_pcibind(r, LIBVIRT_HOOK, &exec) && exec) {
		snprintf(which, size, "/%s", LIBVIRT_HOOK);
		return true;
	}
	if (sysroot_opendir(r, LIBVIRT_HOOK_DIR, &d) < 0)
		return false;
	while (!found && (de = readdir(d))) {
		char rel[512];

		if (de->d_name[0] == '.' ||
		    snprintf(rel, sizeof(rel), "%s/%s", LIBVIRT_HOOK_DIR, de->d_name) >= (int)sizeof(rel))
			continue;
		if ((found = script_calls_pcibind(r, rel, &exec) && exec))
			snprintf(which, size, "/%s", rel);
	}
	closedir(d);
	return found;
}

/* All of fd, at most one byte more than LIBVIRT_XML_MAX (the parser says "too large") */
static int read_fd_all(int fd, char **ret, size_t *ret_len)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (n == 0 || (len += (size_t)n) > LIBVIRT_XML_MAX)
			break;
		if (len == cap) {
			char *nb = realloc(buf, (cap *= 2) + 1);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* "-": standard input; a FILE with a '/' is the caller's own (virsh dumpxml); a NAME is libvirt's config */
static int libvirt_read(const struct check_vm_env *e, const char *arg, char **ret, size_t *ret_len, char *src,
			size_t size)
{
	bool own = streq(arg, "-") || strchr(arg, '/');
	char rel[512];
	struct stat st;
	int fd, err;

	if (!own && (!arg[0] || streq(arg, ".") || streq(arg, "..") ||
		     snprintf(rel, sizeof(rel), "%s/%s.xml", LIBVIRT_QEMU_DIR, arg) >= (int)sizeof(rel))) {
		msg_error("invalid --domain '%.64s': a domain name, a file, or - for standard input", arg);
		return EXIT_USAGE;
	}
	snprintf(src, size, "%s%s", own ? "" : "/", streq(arg, "-") ? "standard input" : own ? arg : rel);
	if (streq(arg, "-"))
		fd = dup(0);
	else if (own)
		fd = open(arg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	else
		fd = sysroot_openat(e->c->root, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0 && !own)
		errno = -fd;
	err = fd < 0 ? -errno : fstat(fd, &st) < 0 ? -errno : !streq(arg, "-") && !S_ISREG(st.st_mode) ? -EINVAL : 0;
	if (err == 0)
		err = read_fd_all(fd, ret, ret_len);
	if (fd >= 0)
		close(fd);
	if (err < 0) {
		msg_error("cannot read %s: %s", src, err == -EINVAL ? "not a regular file" : strerror(-err));
		return err == -ENOENT || err == -EINVAL ? EXIT_USAGE : EXIT_FAILURE_;
	}
	return 0;
}

static void libvirt_devices(struct vm *v, const struct libvirt_domain *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct libvirt_hostdev *hd = &d->hostdevs[i];
		bool ours = !hd->managed || v->e->cfg->libvirt_all;
		char origin[32];

		snprintf(origin, sizeof(origin), "%s at line %lu", hd->interface ? "interface" : "hostdev", hd->line);
		if (!pcihost_find(v->e->h, &hd->addr)) {
			char a[PCIADDR_STRLEN];

			pciaddr_format(&hd->addr, a);
			add(v, CHECK_FAIL, "device", "correct the address (virsh edit)",
			    "%s: %s is not present on this host", origin, a);
			continue;
		}
		if (hook_devs_has(&v->devs, &hd->addr) || hook_devs_has(&v->peer, &hd->addr) ||
		    hook_devs_add(ours ? &v->devs : &v->peer, &hd->addr, origin) < 0)
			continue;
		if (hd->rom && v->n_rom < ARRAY_SIZE(v->romfile))
			v->romfile[v->n_rom++] = hd->rom;
		if (!ours)
			add(v, CHECK_INFO, "device", NULL, "%s: managed='yes': libvirt detaches %s itself", origin,
			    pcihost_find(v->e->h, &hd->addr)->name);
	}
	if (d->n_network_ifaces)
		add(v, CHECK_INFO, "interface",
		    "give such a pool <forward mode='hostdev' managed='yes'> in its network XML "
		    "(virsh net-edit): libvirt then binds and gives back the VF itself",
		    "%zu <interface type='network'>: if its network is a hostdev pool (<forward mode='hostdev'>), "
		    "libvirt "
		    "picks the VF after the prepare hook has run (qemuProcessPrepareDomain) and detaches it before the "
		    "start hook (qemuProcessPrepareHost): no hook sees the VF in time, so pcibind cannot hand it over",
		    d->n_network_ifaces);
}

/* <iommufd enabled='yes'/>, <driver iommufd='yes'/> (libvirt 12.1+): hostdevs opened through /dev/vfio/devices/vfioN
 * and /dev/iommu */
static void check_libvirt_iommufd(const struct vm *v, const struct libvirt_domain *d)
{
	struct vfio_cdev vc;
	size_t n = 0;
	int offered;

	for (size_t i = 0; i < d->n; i++)
		n += d->hostdevs[i].iommufd;
	if (!n)
		return;
	detect_vfio_cdev(v->e->c->root, NULL, &vc);
	offered = vfio_cdev_offered(&vc);
	if (offered == 1)
		add(v, vc.iommufd || vc.seen == 1 ? CHECK_OK : CHECK_INFO, "iommufd", NULL,
		    "%zu hostdev%s through iommufd: the kernel offers the VFIO cdev%s", n, n == 1 ? "" : "s",
		    vc.iommufd ? " and /dev/iommu" : "");
	else
		add(v, offered == 0 ? CHECK_FAIL : CHECK_WARN, "iommufd",
		    "drop <iommufd enabled='yes'/> or the hostdev's <driver iommufd='yes'/> (virsh edit), or boot a "
		    "kernel "
		    "with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV",
		    "%zu hostdev%s through iommufd, %s", n, n == 1 ? "" : "s",
		    offered == 0
			? "but the kernel has no VFIO cdev (/dev/vfio/devices): the domain cannot start"
			: "and whether the kernel has the VFIO cdev is unknown (no function on vfio-pci, no config)");
}

static void check_libvirt_hook(const struct vm *v)
{
	char which[600] = "";
	bool unbound = false;

	if (libvirt_hook_installed(v->e->c->root, which, sizeof(which))) {
		add(v, CHECK_OK, "hook", NULL, "%s runs pcibind", which);
		return;
	}
	for (size_t i = 0; i < v->devs.n; i++) {
		const struct pcifn *f = fn_of(v, &v->devs, i);

		unbound |= f && (!f->driver || !streq(f->driver, "vfio-pci"));
	}
	add(v, unbound ? CHECK_FAIL : CHECK_WARN, "hook",
	    "install -D -m 0755 /usr/share/pcibind/hooks/libvirt-qemu /etc/libvirt/hooks/qemu.d/pcibind; "
	    "systemctl restart libvirtd",
	    "no libvirt hook runs pcibind%s",
	    unbound ? ": libvirt refuses to start with an unmanaged device still on "
		      "a host driver (\"must be manually detached\")"
		    : "");
}

static int check_libvirt(const struct check_vm_env *e, const char *arg)
{
	_cleanup_free_ char *xml = NULL;
	struct libvirt_domain d;
	struct vm v = { .e = e };
	char src[600], err[768];
	size_t len = 0;
	int st;

	if ((st = libvirt_read(e, arg, &xml, &len, src, sizeof(src))))
		return st;
	if ((st = libvirt_domain_parse(xml, len, &d, err, sizeof(err))) < 0) {
		msg_error("%s: %s", src, st == -ENOMEM ? "out of memory" : err);
		return st == -ENOMEM ? EXIT_FAILURE_ : EXIT_USAGE;
	}
	snprintf(v.label, sizeof(v.label), "domain %.64s", d.name ? d.name : arg);
	v.efi = d.efi || (d.loader && strstr(d.loader, "OVMF"));
	v.secure_keys = d.enrolled_keys || d.secure_boot;
	add(&v, CHECK_INFO, "domain", NULL, "%s (%s): machine %s, %s, %zu PCI hostdev%s", v.label, src,
	    d.machine ? d.machine : "default", v.efi ? "UEFI" : "BIOS", d.n, d.n == 1 ? "" : "s");
	libvirt_devices(&v, &d);
	check_holders(&v);
	check_slots(&v);
	check_plan(&v);
	check_display(&v);
	check_firmware(
	    &v, "<os firmware='efi'> (virsh edit), or create the domain with UEFI firmware",
	    "<firmware><feature enabled='no' name='enrolled-keys'/></firmware>, or an OVMF without Secure Boot");
	check_roms(&v, "");
	check_libvirt_iommufd(&v, &d);
	if (v.devs.n)
		check_libvirt_hook(&v);
	vm_free(&v);
	libvirt_domain_free(&d);
	return 0;
}

int check_vm(const struct check_vm_env *e)
{
	if (e->c->vm && e->c->domain) {
		msg_error("check takes --vm or --domain, not both");
		return EXIT_USAGE;
	}
	return e->c->vm ? check_proxmox(e, e->c->vm) : check_libvirt(e, e->c->domain);
}

/* ---- the plain check: VMs with devices and no pcibind hook ---- */

static void hooks_proxmox(const struct check_vm_env *e, size_t *named)
{
	const struct sysroot *r = e->c->root;
	DIR *d = NULL;
	struct dirent *de;

	if (sysroot_opendir(r, PVE_VM_CONF_DIR, &d) < 0)
		return;
	while ((de = readdir(d)) && *named < VMS_NAMED_MAX) {
		_cleanup_free_ char *text = NULL;
		char vmid[16], rel[64], path[1024], msg[256], fix[160];
		size_t n = strlen(de->d_name);
		struct pve_vm vm;

		if (n < 6 || n - 5 >= sizeof(vmid) || !streq(de->d_name + n - 5, ".conf"))
			continue;
		snprintf(vmid, sizeof(vmid), "%.*s", (int)(n - 5), de->d_name);
		if (!proxmox_vmid_valid(vmid) ||
		    snprintf(rel, sizeof(rel), "%s/%s", PVE_VM_CONF_DIR, de->d_name) >= (int)sizeof(rel) ||
		    sysroot_read(r, rel, &text, NULL) < 0 || proxmox_vm_parse(text, &vm) < 0)
			continue;
		if (proxmox_vm_has_hostpci(&vm) && !vm.template &&
		    proxmox_hookscript(r, vm.hookscript, path, sizeof(path)) != HS_PCIBIND) {
			snprintf(msg, sizeof(msg),
				 "VM %s%s%s%s passes PCI devices and has no pcibind hookscript: they stay on "
				 "vfio-pci when it stops",
				 vmid, vm.name ? " (" : "", vm.name ? vm.name : "", vm.name ? ")" : "");
			snprintf(fix, sizeof(fix),
				 "qm set %s --hookscript local:snippets/pcibind-hook; pcibind check --vm %s", vmid,
				 vmid);
			e->add(e->data, CHECK_WARN, "vm", fix, msg);
			(*named)++;
		}
		proxmox_vm_free(&vm);
	}
	closedir(d);
}

static void hooks_libvirt(const struct check_vm_env *e, size_t *named)
{
	const struct sysroot *r = e->c->root;
	DIR *d = NULL;
	struct dirent *de;
	char which[600];

	if (libvirt_hook_installed(r, which, sizeof(which)) || sysroot_opendir(r, LIBVIRT_QEMU_DIR, &d) < 0)
		return;
	while ((de = readdir(d)) && *named < VMS_NAMED_MAX) {
		_cleanup_free_ char *xml = NULL;
		struct libvirt_domain dom;
		char rel[512], err[256], msg[256], fix[256];
		size_t n = strlen(de->d_name), len = 0, unmanaged = 0;

		if (n < 5 || !streq(de->d_name + n - 4, ".xml") ||
		    snprintf(rel, sizeof(rel), "%s/%s", LIBVIRT_QEMU_DIR, de->d_name) >= (int)sizeof(rel) ||
		    sysroot_read(r, rel, &xml, &len) < 0 || libvirt_domain_parse(xml, len, &dom, err, sizeof(err)) < 0)
			continue;
		for (size_t i = 0; i < dom.n; i++)
			unmanaged += !dom.hostdevs[i].managed || e->cfg->libvirt_all;
		if (unmanaged) {
			snprintf(msg, sizeof(msg),
				 "domain %.64s passes %zu unmanaged PCI device%s and no libvirt hook runs "
				 "pcibind",
				 dom.name ? dom.name : de->d_name, unmanaged, unmanaged == 1 ? "" : "s");
			snprintf(fix, sizeof(fix),
				 "install -D -m 0755 /usr/share/pcibind/hooks/libvirt-qemu "
				 "/etc/libvirt/hooks/qemu.d/pcibind; pcibind check --domain %.64s",
				 dom.name ? dom.name : "NAME");
			e->add(e->data, CHECK_WARN, "vm", fix, msg);
			(*named)++;
		}
		libvirt_domain_free(&dom);
	}
	closedir(d);
}

void check_vm_hooks(const struct check_vm_env *e)
{
	size_t named = 0;

	hooks_proxmox(e, &named);
	hooks_libvirt(e, &named);
}
