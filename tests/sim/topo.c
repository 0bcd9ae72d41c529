/* topo.c - the topology file: one machine, a line per driver, function and class device */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcisim.h"

#define MAX_TOKENS 32

struct tokens {
	int n_words;
	char *words[MAX_TOKENS];
	int n_kv;
	char *keys[MAX_TOKENS];
	char *vals[MAX_TOKENS];
	bool used[MAX_TOKENS];
};

struct topo {
	struct sim *sim;
	const char *file;
	int line;
};

static int topo_err(struct topo *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int topo_err(struct topo *t, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", t->file, t->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* one word or key=value, with "double quotes" around values that hold spaces */
static char *next_token(char **p)
{
	char *s = *p, *out, *tok;
	bool quoted = false;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s || *s == '#')
		return NULL;
	tok = out = s;
	for (; *s && (quoted || !isspace((unsigned char)*s)); s++) {
		if (*s == '"')
			quoted = !quoted;
		else
			*out++ = *s;
	}
	if (*s)
		s++;
	*out = '\0';
	*p = s;
	return tok;
}

static int tokenize(struct topo *t, char *line, struct tokens *tk)
{
	char *p = line, *tok, *eq;

	memset(tk, 0, sizeof(*tk));
	while ((tok = next_token(&p))) {
		if (tk->n_words + tk->n_kv >= MAX_TOKENS)
			return topo_err(t, "too many words");
		eq = tk->n_words ? strchr(tok, '=') : NULL;
		if (!eq) {
			tk->words[tk->n_words++] = tok;
			continue;
		}
		*eq = '\0';
		tk->keys[tk->n_kv] = tok;
		tk->vals[tk->n_kv++] = eq + 1;
	}
	return 0;
}

static const char *get(struct tokens *tk, const char *key)
{
	int i;

	for (i = 0; i < tk->n_kv; i++)
		if (strcmp(tk->keys[i], key) == 0) {
			tk->used[i] = true;
			return tk->vals[i];
		}
	return NULL;
}

static int check_used(struct topo *t, struct tokens *tk, int max_words)
{
	int i;

	for (i = 0; i < tk->n_kv; i++)
		if (!tk->used[i])
			return topo_err(t, "unknown key '%s'", tk->keys[i]);
	if (tk->n_words > max_words)
		return topo_err(t, "unexpected word '%s'", tk->words[max_words]);
	return 0;
}

static int get_int(struct topo *t, struct tokens *tk, const char *key, int def, int *ret)
{
	const char *v = get(tk, key);
	unsigned long n;

	*ret = def;
	if (!v)
		return 0;
	if (kstrtoul(v, &n) < 0 || n > 1000000)
		return topo_err(t, "%s=%s: not a number", key, v);
	*ret = (int)n;
	return 0;
}

static int get_bool(struct topo *t, struct tokens *tk, const char *key, bool def, bool *ret)
{
	const char *v = get(tk, key);

	*ret = def;
	if (!v)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0)
		*ret = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "0") == 0 || strcmp(v, "off") == 0)
		*ret = false;
	else
		return topo_err(t, "%s=%s: expected yes or no", key, v);
	return 0;
}

/* "10de:2204" into two 16 bit ids; '*' is any */
static int parse_pair(const char *s, uint32_t *a, uint32_t *b)
{
	char buf[16];
	char *colon;
	unsigned long v;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf) || !(colon = strchr(buf, ':')))
		return -EINVAL;
	*colon = '\0';
	if (strcmp(buf, "*") == 0)
		*a = ID_ANY;
	else if (parse_hex(buf, 4, &v) == 0)
		*a = (uint32_t)v;
	else
		return -EINVAL;
	if (strcmp(colon + 1, "*") == 0)
		*b = ID_ANY;
	else if (parse_hex(colon + 1, 4, &v) == 0)
		*b = (uint32_t)v;
	else
		return -EINVAL;
	return 0;
}

static struct sim_module *module_get(struct sim *sim, const char *name)
{
	struct sim_module *mod = sim_find_module(sim, name);
	char *p;

	if (mod)
		return mod;
	mod = xcalloc(1, sizeof(*mod));
	snprintf(mod->name, sizeof(mod->name), "%s", name);
	for (p = mod->name; *p; p++)
		if (*p == '-')
			*p = '_';
	mod->loaded = true;
	sim->modules = xrealloc(sim->modules, sim->n_modules + 1, sizeof(*sim->modules));
	sim->modules[sim->n_modules++] = mod;
	return mod;
}

static int t_iommu(struct topo *t, struct tokens *tk)
{
	if (tk->n_words != 2 || (strcmp(tk->words[1], "on") && strcmp(tk->words[1], "off")))
		return topo_err(t, "usage: iommu on|off");
	t->sim->iommu = strcmp(tk->words[1], "on") == 0;
	return check_used(t, tk, 2);
}

static int t_cmdline(struct topo *t, char *rest)
{
	char *end;

	while (isspace((unsigned char)*rest))
		rest++;
	end = rest + strlen(rest);
	while (end > rest && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (!*rest)
		return topo_err(t, "usage: cmdline WORDS...");
	free(t->sim->cmdline);
	t->sim->cmdline = xstrdup(rest);
	return 0;
}

static int t_module(struct topo *t, struct tokens *tk)
{
	struct sim_module *mod;
	const char *deps;
	char *copy, *save = NULL, *d;

	if (tk->n_words < 2)
		return topo_err(t, "usage: module NAME [loaded=yes|no] [deps=A,B]");
	mod = module_get(t->sim, tk->words[1]);
	if (get_bool(t, tk, "loaded", true, &mod->loaded) < 0)
		return -EINVAL;
	deps = get(tk, "deps");
	if (deps) {
		copy = xstrdup(deps);
		for (d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
			mod->deps = xrealloc(mod->deps, mod->n_deps + 1, sizeof(char *));
			mod->deps[mod->n_deps++] = xstrdup(d);
		}
		free(copy);
	}
	return check_used(t, tk, 2);
}

static void add_id(struct sim_driver *drv, struct sim_id id)
{
	drv->ids = xrealloc(drv->ids, drv->n_ids + 1, sizeof(*drv->ids));
	drv->ids[drv->n_ids++] = id;
}

static int driver_ids(struct topo *t, struct sim_driver *drv, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *e;
	int r = 0;

	for (e = strtok_r(copy, ",", &save); e && !r; e = strtok_r(NULL, ",", &save)) {
		struct sim_id id = { ID_ANY, ID_ANY, ID_ANY, ID_ANY, 0, 0 };
		char *sub = strchr(e, ':') ? strchr(strchr(e, ':') + 1, ':') : NULL;

		if (sub)
			*sub++ = '\0';
		if (parse_pair(e, &id.vendor, &id.device) < 0 || (sub && parse_pair(sub, &id.subvendor, &id.subdevice) < 0))
			r = topo_err(t, "ids: '%s' is not vvvv:dddd[:ssss:ssss]", e);
		else
			add_id(drv, id);
	}
	free(copy);
	return r;
}

/* "0604" (any prog-if), "03" (any subclass), "010802", or "030000/ff0000" */
static int parse_class(const char *s, struct sim_id *id)
{
	char buf[32];
	char *slash;
	unsigned long cls, mask;
	size_t len;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	len = strlen(buf);
	if ((len != 2 && len != 4 && len != 6) || parse_hex(buf, 6, &cls) < 0)
		return -EINVAL;
	cls <<= 4 * (6 - len);
	mask = (0xffffffUL << (4 * (6 - len))) & 0xffffff;
	if (slash && parse_hex(slash + 1, 6, &mask) < 0)
		return -EINVAL;
	*id = (struct sim_id){ ID_ANY, ID_ANY, ID_ANY, ID_ANY, (uint32_t)cls, (uint32_t)mask };
	return 0;
}

static int driver_classes(struct topo *t, struct sim_driver *drv, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *e;
	int r = 0;

	for (e = strtok_r(copy, ",", &save); e && !r; e = strtok_r(NULL, ",", &save)) {
		struct sim_id id;

		if (parse_class(e, &id) < 0)
			r = topo_err(t, "class: '%s' is not CC, CCSS, CCSSPP or CCSSPP/MASK", e);
		else
			add_id(drv, id);
	}
	free(copy);
	return r;
}

static int driver_module(struct topo *t, struct tokens *tk, struct sim_driver *drv)
{
	const char *mod = get(tk, "module");
	const char *loaded = get(tk, "loaded");

	if (!mod && loaded)
		return topo_err(t, "loaded= needs module=: a built-in driver is always there");
	if (!mod)
		return 0;
	drv->module = module_get(t->sim, mod);
	if (loaded)
		drv->module->loaded = strcmp(loaded, "no") != 0;
	if (loaded && strcmp(loaded, "no") && strcmp(loaded, "yes"))
		return topo_err(t, "loaded=%s: expected yes or no", loaded);
	return 0;
}

/* vfio-pci's sriov_configure is ENOENT unless enable_sriov=1; host drivers disable VFs in remove() */
static int driver_sriov(struct topo *t, struct sim_driver *drv, const char *v)
{
	drv->sriov = drv->kind == DRV_VFIO ? DRV_SRIOV_NONE : DRV_SRIOV_DISABLE;
	if (!v)
		return 0;
	if (strcmp(v, "disable") == 0)
		drv->sriov = DRV_SRIOV_DISABLE;
	else if (strcmp(v, "keep") == 0)
		drv->sriov = DRV_SRIOV_KEEP;
	else if (strcmp(v, "none") == 0)
		drv->sriov = DRV_SRIOV_NONE;
	else
		return topo_err(t, "sriov=%s: expected disable, keep or none", v);
	return 0;
}

static int t_driver(struct topo *t, struct tokens *tk)
{
	struct sim_driver *drv;
	const char *v;

	if (tk->n_words < 2)
		return topo_err(t, "usage: driver NAME [ids=..] [class=..] [module=M] [loaded=no] [kind=vfio] "
				   "[sriov=disable|keep|none]");
	if (sim_find_driver(t->sim, tk->words[1]))
		return topo_err(t, "driver %s defined twice", tk->words[1]);
	drv = xcalloc(1, sizeof(*drv));
	snprintf(drv->name, sizeof(drv->name), "%s", tk->words[1]);
	t->sim->drivers = xrealloc(t->sim->drivers, t->sim->n_drivers + 1, sizeof(*t->sim->drivers));
	t->sim->drivers[t->sim->n_drivers++] = drv;
	drv->kind = strcmp(drv->name, "vfio-pci") == 0 ? DRV_VFIO : DRV_NORMAL;
	v = get(tk, "kind");
	if (v && strcmp(v, "vfio") && strcmp(v, "normal"))
		return topo_err(t, "kind=%s: expected vfio or normal", v);
	if (v)
		drv->kind = strcmp(v, "vfio") == 0 ? DRV_VFIO : DRV_NORMAL;
	if (driver_sriov(t, drv, get(tk, "sriov")) < 0)
		return -EINVAL;
	if ((v = get(tk, "ids")) && driver_ids(t, drv, v) < 0)
		return -EINVAL;
	if ((v = get(tk, "class")) && driver_classes(t, drv, v) < 0)
		return -EINVAL;
	if (driver_module(t, tk, drv) < 0)
		return -EINVAL;
	drv->load_seq = ++t->sim->load_seq;
	return check_used(t, tk, 2);
}

static int fn_address(struct topo *t, struct sim_fn *fn, const char *addr)
{
	unsigned d, b, s, f;

	if (!addr_valid(addr) || sscanf(addr, "%x:%x:%x.%x", &d, &b, &s, &f) != 4)
		return topo_err(t, "'%s' is not a DDDD:BB:SS.F address", addr);
	if (sim_lookup_fn(t->sim, addr))
		return topo_err(t, "function %s defined twice", addr);
	snprintf(fn->name, sizeof(fn->name), "%s", addr);
	fn->domain = d;
	fn->bus = b;
	fn->devfn = s << 3 | f;
	return 0;
}

/* serial=: the Device Serial Number in config space; slot=: bus/pci/slots/NAME */
static int fn_identity(struct topo *t, struct tokens *tk, struct sim_fn *fn)
{
	const char *serial = get(tk, "serial"), *slot = get(tk, "slot");
	unsigned long v;

	if (serial && (strlen(serial) != 16 || parse_hex(serial, 16, &v) < 0))
		return topo_err(t, "serial=%s: expected 16 hex digits", serial);
	fn->has_serial = serial != NULL;
	fn->serial = serial ? (uint64_t)v : 0;
	if (slot && (!*slot || strlen(slot) >= sizeof(fn->slot) || strchr(slot, '/') || !strcmp(slot, ".") ||
		     !strcmp(slot, "..")))
		return topo_err(t, "slot=%s: expected a directory name", slot);
	snprintf(fn->slot, sizeof(fn->slot), "%s", slot ? slot : "");
	return 0;
}

static int fn_ids(struct topo *t, struct tokens *tk, struct sim_fn *fn)
{
	const char *cls = get(tk, "class"), *ids = get(tk, "ids"), *sub = get(tk, "sub"), *rev = get(tk, "rev");
	uint32_t a, b;
	unsigned long v;

	if (!cls || strlen(cls) != 6 || parse_hex(cls, 6, &v) < 0)
		return topo_err(t, "fn needs class=CCSSPP (six hex digits)");
	fn->class = (uint32_t)v;
	if (!ids || parse_pair(ids, &a, &b) < 0 || a == ID_ANY || b == ID_ANY)
		return topo_err(t, "fn needs ids=vvvv:dddd");
	fn->vendor = (uint16_t)a;
	fn->device = (uint16_t)b;
	if (sub && (parse_pair(sub, &a, &b) < 0 || a == ID_ANY || b == ID_ANY))
		return topo_err(t, "sub=%s: expected ssss:ssss", sub);
	fn->subvendor = sub ? (uint16_t)a : 0;
	fn->subdevice = sub ? (uint16_t)b : 0;
	if (rev && parse_hex(rev, 2, &v) < 0)
		return topo_err(t, "rev=%s: expected two hex digits", rev);
	fn->revision = rev ? (uint8_t)v : 0xa1;
	return fn_identity(t, tk, fn);
}

static int fn_reset(struct topo *t, struct tokens *tk, struct sim_fn *fn)
{
	const char *reset = get(tk, "reset");
	struct strbuf sb = { 0 };
	char *copy, *save = NULL, *m;
	int r = 0;

	if (!reset)
		return 0;
	copy = xstrdup(reset);
	for (m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save))
		sb_printf(&sb, "%s%s", sb.len ? " " : "", m);
	free(copy);
	fn->reset_default = xstrdup(sb.s ? sb.s : "");
	fn->reset_cur = xstrdup(fn->reset_default);
	/* let the kernel's own parser judge the names */
	if (sim_store_reset_method(t->sim, fn, fn->reset_default, strlen(fn->reset_default)) < 0 || !sb.len)
		r = topo_err(t, "reset=%s: unknown reset method", reset);
	sb_free(&sb);
	return r;
}

static int fn_driver(struct topo *t, struct tokens *tk, struct sim_fn *fn)
{
	const char *name = get(tk, "driver"), *ovr = get(tk, "override");
	struct sim_driver *drv;

	if (ovr)
		fn->override = xstrdup(ovr);
	if (!name)
		return 0;
	drv = sim_find_driver(t->sim, name);
	if (!drv)
		return topo_err(t, "driver=%s: no such driver line above", name);
	if (!sim_driver_loaded(drv))
		return topo_err(t, "driver=%s: that driver's module is not loaded", name);
	if (!sim_match(drv, fn))
		return topo_err(t, "driver=%s does not match %s (ids, class or override)", name, fn->name);
	fn->driver = drv;
	return 0;
}

static int fn_placement(struct topo *t, struct tokens *tk, struct sim_fn *fn)
{
	const char *parent = get(tk, "parent");
	int group, vga, numa, irq;

	if (parent && !(fn->parent = sim_lookup_fn(t->sim, parent)))
		return topo_err(t, "parent=%s: no such function above", parent);
	if (get_int(t, tk, "group", -1, &group) < 0 || get_int(t, tk, "boot_vga", 0, &vga) < 0 ||
	    get_int(t, tk, "numa", 0, &numa) < 0 || get_int(t, tk, "irq", 16 + (int)t->sim->n_fns, &irq) < 0)
		return -EINVAL;
	fn->group = group;
	fn->numa_node = get(tk, "numa") ? numa : -1;
	fn->irq = (unsigned)irq;
	if (get(tk, "boot_vga") && !fn_is_vga(fn))
		return topo_err(t, "boot_vga= is only for VGA functions (class 0300xx)");
	fn->boot_vga = fn_is_vga(fn) ? (vga != 0) : -1;
	return 0;
}

static int t_fn(struct topo *t, struct tokens *tk)
{
	struct sim_fn *fn = xcalloc(1, sizeof(*fn));

	if (tk->n_words < 2)
		return topo_err(t, "usage: fn DDDD:BB:SS.F class=CCSSPP ids=vvvv:dddd ...");
	if (fn_address(t, fn, tk->words[1]) < 0 || fn_ids(t, tk, fn) < 0 || fn_placement(t, tk, fn) < 0 ||
	    fn_reset(t, tk, fn) < 0 || fn_driver(t, tk, fn) < 0)
		return -EINVAL;
	fn->present = true;
	fn->from_topology = true;
	t->sim->fns = xrealloc(t->sim->fns, t->sim->n_fns + 1, sizeof(*t->sim->fns));
	t->sim->fns[t->sim->n_fns++] = fn;
	return check_used(t, tk, 2);
}

static bool devpath_valid(const char *p)
{
	return *p && *p != '/' && p[strlen(p) - 1] != '/' && !strstr(p, "//") && !strstr(p, "..");
}

static struct sim_cdev *cdev_new(struct sim *sim, enum cdev_kind kind, const char *name)
{
	struct sim_cdev *c = xcalloc(1, sizeof(*c));

	c->kind = kind;
	snprintf(c->name, sizeof(c->name), "%s", name);
	sim->cdevs = xrealloc(sim->cdevs, sim->n_cdevs + 1, sizeof(*sim->cdevs));
	sim->cdevs[sim->n_cdevs++] = c;
	return c;
}

/* fn= and driver= (default: the driver the function has at start) */
static int cdev_owner(struct topo *t, struct tokens *tk, struct sim_cdev *c)
{
	const char *addr = get(tk, "fn"), *drv = get(tk, "driver");

	if (!addr)
		return topo_err(t, "%s needs fn=ADDR", c->name);
	c->fn = sim_lookup_fn(t->sim, addr);
	if (!c->fn)
		return topo_err(t, "fn=%s: no such function above", addr);
	if (!drv && !c->fn->driver)
		return topo_err(t, "%s: %s has no driver at start; say driver=", c->name, addr);
	snprintf(c->driver, sizeof(c->driver), "%s", drv ? drv : c->fn->driver->name);
	if (!sim_find_driver(t->sim, c->driver))
		return topo_err(t, "driver=%s: no such driver line above", c->driver);
	return 0;
}

static int cdev_path(struct topo *t, struct tokens *tk, struct sim_cdev *c, const char *def)
{
	const char *p = get(tk, "path");

	if (p && !devpath_valid(p))
		return topo_err(t, "path=%s: a relative path below the function", p);
	if (snprintf(c->devpath, sizeof(c->devpath), "%s", p ? p : def) >= (int)sizeof(c->devpath))
		return topo_err(t, "path too long");
	return 0;
}

static int t_net(struct topo *t, struct tokens *tk)
{
	struct sim_cdev *c;
	char def[NAME_LEN + 8];
	const char *r4, *r6;

	if (tk->n_words != 2)
		return topo_err(t, "usage: net IFNAME fn=ADDR [driver=D] [route=default] [route6=default]");
	c = cdev_new(t->sim, CDEV_NET, tk->words[1]);
	snprintf(def, sizeof(def), "net/%s", c->name);
	if (cdev_owner(t, tk, c) < 0 || cdev_path(t, tk, c, def) < 0)
		return -EINVAL;
	r4 = get(tk, "route");
	r6 = get(tk, "route6");
	if ((r4 && strcmp(r4, "default")) || (r6 && strcmp(r6, "default")))
		return topo_err(t, "route= and route6= take 'default'");
	c->route4 = r4 != NULL;
	c->route6 = r6 != NULL;
	return check_used(t, tk, 2);
}

static int devnum_valid(const char *s)
{
	unsigned maj, min;
	char end;

	return sscanf(s, "%u:%u%c", &maj, &min, &end) == 2;
}

static int block_parts(struct topo *t, struct sim_cdev *disk, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *e;
	int r = 0, n = 0;

	for (e = strtok_r(copy, ",", &save); e && !r; e = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(e, ':');
		struct sim_cdev *p;

		if (!colon || !devnum_valid(colon + 1)) {
			r = topo_err(t, "parts: '%s' is not NAME:MAJ:MIN", e);
			break;
		}
		*colon = '\0';
		p = cdev_new(t->sim, CDEV_PART, e);
		p->fn = disk->fn;
		p->disk = disk;
		p->partno = ++n;
		snprintf(p->driver, sizeof(p->driver), "%s", disk->driver);
		snprintf(p->devnum, sizeof(p->devnum), "%s", colon + 1);
		snprintf(p->devpath, sizeof(p->devpath), "%.150s/%s", disk->devpath, e);
	}
	free(copy);
	return r;
}

static int t_block(struct topo *t, struct tokens *tk)
{
	struct sim_cdev *c;
	char def[2 * NAME_LEN];
	const char *dev, *parts;
	int ctrl, ns;

	if (tk->n_words != 2)
		return topo_err(t, "usage: block DISK fn=ADDR dev=MAJ:MIN [parts=P:MAJ:MIN,...] [path=...]");
	c = cdev_new(t->sim, CDEV_DISK, tk->words[1]);
	if (sscanf(c->name, "nvme%dn%d", &ctrl, &ns) == 2)
		snprintf(def, sizeof(def), "nvme/nvme%d/%s", ctrl, c->name);
	else
		snprintf(def, sizeof(def), "block/%s", c->name);
	if (cdev_owner(t, tk, c) < 0 || cdev_path(t, tk, c, def) < 0)
		return -EINVAL;
	dev = get(tk, "dev");
	if (!dev || !devnum_valid(dev))
		return topo_err(t, "block needs dev=MAJ:MIN");
	snprintf(c->devnum, sizeof(c->devnum), "%s", dev);
	parts = get(tk, "parts");
	if (parts && block_parts(t, c, parts) < 0)
		return -EINVAL;
	return check_used(t, tk, 2);
}

static int t_input(struct topo *t, struct tokens *tk)
{
	struct sim_cdev *c;
	char def[NAME_LEN + 8];
	const char *label, *ev;

	if (tk->n_words != 2)
		return topo_err(t, "usage: input NAME fn=ADDR name=\"...\" ev=HEX [path=...]");
	c = cdev_new(t->sim, CDEV_INPUT, tk->words[1]);
	snprintf(def, sizeof(def), "input/%s", c->name);
	if (cdev_owner(t, tk, c) < 0 || cdev_path(t, tk, c, def) < 0)
		return -EINVAL;
	label = get(tk, "name");
	ev = get(tk, "ev");
	snprintf(c->label, sizeof(c->label), "%s", label ? label : c->name);
	snprintf(c->ev, sizeof(c->ev), "%s", ev ? ev : "3");
	return check_used(t, tk, 2);
}

static struct sim_platdev *platdev_get(struct sim *sim, const char *name)
{
	struct sim_platdev *p;
	size_t i;
	char *dot;

	for (i = 0; i < sim->n_platdevs; i++)
		if (strcmp(sim->platdevs[i]->name, name) == 0)
			return sim->platdevs[i];
	p = xcalloc(1, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->driver, sizeof(p->driver), "%s", name);
	dot = strrchr(p->driver, '.');
	if (dot)
		*dot = '\0';
	p->bound = true;
	sim->platdevs = xrealloc(sim->platdevs, sim->n_platdevs + 1, sizeof(*sim->platdevs));
	sim->platdevs[sim->n_platdevs++] = p;
	return p;
}

static int t_fb(struct topo *t, struct tokens *tk)
{
	struct sim_cdev *c;
	char def[NAME_LEN + 16];
	const char *plat, *label;

	if (tk->n_words != 2)
		return topo_err(t, "usage: fb FBNAME (fn=ADDR | platform=DEVICE) name=\"...\"");
	c = cdev_new(t->sim, CDEV_FB, tk->words[1]);
	snprintf(def, sizeof(def), "graphics/%s", c->name);
	plat = get(tk, "platform");
	if (plat)
		c->plat = platdev_get(t->sim, plat);
	else if (cdev_owner(t, tk, c) < 0)
		return -EINVAL;
	if (cdev_path(t, tk, c, def) < 0)
		return -EINVAL;
	label = get(tk, "name");
	snprintf(c->label, sizeof(c->label), "%s", label ? label : c->name);
	return check_used(t, tk, 2);
}

static int t_drm(struct topo *t, struct tokens *tk)
{
	struct sim_cdev *c;
	char def[NAME_LEN + 8];

	if (tk->n_words != 2)
		return topo_err(t, "usage: drm CARD fn=ADDR [driver=D]");
	c = cdev_new(t->sim, CDEV_DRM, tk->words[1]);
	snprintf(def, sizeof(def), "drm/%s", c->name);
	if (cdev_owner(t, tk, c) < 0 || cdev_path(t, tk, c, def) < 0)
		return -EINVAL;
	return check_used(t, tk, 2);
}

static int t_mount(struct topo *t, struct tokens *tk)
{
	struct sim *sim = t->sim;
	struct sim_mount *m;

	if (tk->n_words != 4 || tk->words[1][0] != '/')
		return topo_err(t, "usage: mount /TARGET SOURCE FSTYPE");
	sim->mounts = xrealloc(sim->mounts, sim->n_mounts + 1, sizeof(*sim->mounts));
	m = &sim->mounts[sim->n_mounts++];
	m->target = xstrdup(tk->words[1]);
	m->source = xstrdup(tk->words[2]);
	m->fstype = xstrdup(tk->words[3]);
	return check_used(t, tk, 4);
}

static int t_swap(struct topo *t, struct tokens *tk)
{
	struct sim *sim = t->sim;

	if (tk->n_words != 2)
		return topo_err(t, "usage: swap BLOCKDEV");
	sim->swaps = xrealloc(sim->swaps, sim->n_swaps + 1, sizeof(char *));
	sim->swaps[sim->n_swaps++] = xstrdup(tk->words[1]);
	return check_used(t, tk, 2);
}

static int t_vtcon(struct topo *t, struct tokens *tk)
{
	if (tk->n_words != 2 || strcmp(tk->words[1], "fbcon"))
		return topo_err(t, "usage: vtcon fbcon bind=0|1");
	t->sim->has_fbcon = true;
	if (get_bool(t, tk, "bind", true, &t->sim->fbcon_bound) < 0)
		return -EINVAL;
	return check_used(t, tk, 2);
}

static int sriov_vfs(struct topo *t, struct tokens *tk, struct sim_fn *pf)
{
	struct sim_sriov *sr = pf->sriov;
	const char *vf = get(tk, "vf"), *ids = get(tk, "vfids");
	unsigned d, b, s, f;
	uint32_t v, dev;
	int stride, group;

	if (!vf || !addr_valid(vf) || sscanf(vf, "%x:%x:%x.%x", &d, &b, &s, &f) != 4 || d != pf->domain)
		return topo_err(t, "sriov needs vf=ADDR, the first VF's address");
	if (!ids || parse_pair(ids, &v, &dev) < 0 || v == ID_ANY || dev == ID_ANY)
		return topo_err(t, "sriov needs vfids=vvvv:dddd");
	if (get_int(t, tk, "stride", 1, &stride) < 0 || get_int(t, tk, "vfgroup", -1, &group) < 0 || stride < 1)
		return -EINVAL;
	sr->first_bus = b;
	sr->first_devfn = s << 3 | f;
	sr->stride = (unsigned)stride;
	sr->vf_vendor = (uint16_t)v;
	sr->vf_device = (uint16_t)dev;
	sr->first_group = get(tk, "vfgroup") ? group : -1;
	return 0;
}

/* vfdriver= puts the VF ids into that driver's table */
static int sriov_vfdriver(struct topo *t, struct tokens *tk, struct sim_fn *pf)
{
	const char *name = get(tk, "vfdriver");
	struct sim_driver *drv;
	struct sim_id id = { pf->sriov->vf_vendor, pf->sriov->vf_device, ID_ANY, ID_ANY, 0, 0 };

	if (!name)
		return 0;
	drv = sim_find_driver(t->sim, name);
	if (!drv)
		return topo_err(t, "vfdriver=%s: no such driver line above", name);
	add_id(drv, id);
	return 0;
}

static int t_sriov(struct topo *t, struct tokens *tk)
{
	const char *addr = get(tk, "fn");
	struct sim_fn *pf = addr ? sim_lookup_fn(t->sim, addr) : NULL;
	int total, num;

	if (!pf)
		return topo_err(t, "usage: sriov fn=ADDR total=N vf=ADDR vfids=vvvv:dddd [vfdriver=D] [stride=N] "
				   "[vfgroup=N] [numvfs=N]");
	if (pf->sriov)
		return topo_err(t, "sriov for %s given twice", pf->name);
	pf->sriov = xcalloc(1, sizeof(*pf->sriov));
	pf->sriov->drivers_autoprobe = true;
	if (get_int(t, tk, "total", 0, &total) < 0 || get_int(t, tk, "numvfs", 0, &num) < 0)
		return -EINVAL;
	if (total < 1 || num > total)
		return topo_err(t, "sriov needs total=N >= 1 and numvfs <= total");
	pf->sriov->total = total;
	if (sriov_vfs(t, tk, pf) < 0 || sriov_vfdriver(t, tk, pf) < 0)
		return -EINVAL;
	if (num && !pf->driver)
		return topo_err(t, "numvfs= needs the PF bound to a driver at start");
	pf->sriov->boot_num = num;
	return check_used(t, tk, 1);
}

typedef int (*topo_handler)(struct topo *t, struct tokens *tk);

static const struct {
	const char *keyword;
	topo_handler fn;
} handlers[] = {
	{ "iommu", t_iommu }, { "module", t_module }, { "driver", t_driver }, { "fn", t_fn },
	{ "net", t_net },     { "block", t_block },   { "input", t_input },   { "fb", t_fb },
	{ "drm", t_drm },     { "mount", t_mount },   { "swap", t_swap },     { "vtcon", t_vtcon },
	{ "sriov", t_sriov },
};

static int topo_line(struct topo *t, char *line)
{
	struct tokens tk;
	char *kw = line;
	size_t i;

	while (isspace((unsigned char)*kw))
		kw++;
	if (strncmp(kw, "cmdline", 7) == 0 && isspace((unsigned char)kw[7]))
		return t_cmdline(t, kw + 8);
	if (tokenize(t, line, &tk) < 0)
		return -EINVAL;
	if (tk.n_words == 0)
		return 0;
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].keyword, tk.words[0]) == 0)
			return handlers[i].fn(t, &tk);
	return topo_err(t, "unknown keyword '%s'", tk.words[0]);
}

/* references that can only be checked once every line is read */
static int topo_finish(struct topo *t)
{
	struct sim *sim = t->sim;
	struct sim_fn **pfs;
	size_t i, n;

	for (i = 0; i < sim->n_mounts; i++)
		if (sim->mounts[i].target[1] == '\0')
			break;
	if (sim->n_mounts && i == sim->n_mounts)
		return topo_err(t, "mount lines given but none for /");
	sim_sort_fns(sim);
	sim_snapshot(sim);
	/* enabling VFs adds functions: collect the PFs first */
	n = sim->n_fns;
	pfs = xcalloc(n, sizeof(*pfs));
	memcpy(pfs, sim->fns, n * sizeof(*pfs));
	for (i = 0; i < n; i++)
		if (pfs[i]->sriov && pfs[i]->sriov->boot_num)
			(void)sim_sriov_set(sim, pfs[i], pfs[i]->sriov->boot_num);
	free(pfs);
	sb_reset(&sim->log);
	return 0;
}

int topo_load(struct sim *sim, const char *path)
{
	struct topo t = { .sim = sim, .file = path };
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "pcisim: cannot open %s: %m\n", path);
		return -errno;
	}
	while (r == 0 && getline(&line, &cap, f) > 0) {
		t.line++;
		line[strcspn(line, "\n")] = '\0';
		r = topo_line(&t, line);
	}
	free(line);
	fclose(f);
	if (r == 0)
		r = topo_finish(&t);
	return r;
}
