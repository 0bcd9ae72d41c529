/* status-json.c - pcibind status --json (docs/status-json.md) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plan.h"
#include "status.h"
#include "variant.h"

#define STATUS_SCHEMA 1

/* ---- JSON (docs/status-json.md) ---- */

static void json_hex4(struct json *j, const char *key, unsigned v)
{
	char buf[8];

	(void)snprintf(buf, sizeof(buf), "%04x", v & 0xffff);
	json_key_string(j, key, buf);
}

static void json_reset_method(struct json *j, const char *methods)
{
	const char *p = methods;

	json_key(j, "reset_method");
	if (!methods) {
		json_null(j);
		return;
	}
	json_array_begin(j);
	while (*p) {
		size_t len = strcspn(p, " \t");

		if (len)
			json_string_len(j, p, len);
		p += len;
		p += strspn(p, " \t");
	}
	json_array_end(j);
}

static void json_ids_names(struct json *j, struct names *nm, const struct pcifn *f)
{
	char buf[256], sub[16];

	json_hex4(j, "class", f->class >> 8);
	json_key_string(j, "class_name", names_lookup_class(nm, f->class, buf, sizeof(buf)));
	json_hex4(j, "vendor", f->vendor);
	json_hex4(j, "device", f->device);
	json_key_string(j, "vendor_name", names_lookup_vendor(nm, f->vendor, buf, sizeof(buf)));
	json_key_string(j, "device_name", names_lookup_device(nm, f->vendor, f->device, buf, sizeof(buf)));
	(void)snprintf(sub, sizeof(sub), "%04x:%04x", f->subvendor, f->subdevice);
	json_key_string(j, "subsystem", f->subvendor || f->subdevice ? sub : NULL);
}

static void json_int_or_null(struct json *j, const char *key, int v)
{
	json_key(j, key);
	if (v >= 0)
		json_int(j, v);
	else
		json_null(j);
}

static void json_vfs(struct json *j, const struct pcihost *h, const struct pcifn *pf)
{
	json_key(j, "vfs");
	json_array_begin(j);
	for (size_t i = 0; i < h->n; i++) {
		const struct pcifn *vf = &h->fns[i];

		if (!vf->is_vf || !streq(vf->physfn, pf->name))
			continue;
		json_object_begin(j);
		json_key_string(j, "address", vf->name);
		json_int_or_null(j, "index", vf->vf_index);
		json_key_string(j, "driver", vf->driver);
		json_key_bool(j, "in_use", driver_is_vfio(vf->driver));
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_sriov(struct json *j, const struct pcihost *h, const struct pcifn *f)
{
	json_key(j, "sriov");
	if (f->sriov_numvfs < 0) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key_int(j, "numvfs", f->sriov_numvfs);
	json_int_or_null(j, "totalvfs", f->sriov_totalvfs);
	json_key(j, "drivers_autoprobe");
	if (f->sriov_autoprobe != AUTOPROBE_UNKNOWN)
		json_bool(j, f->sriov_autoprobe == AUTOPROBE_ON);
	else
		json_null(j);
	json_vfs(j, h, f);
	json_object_end(j);
}

static void json_variant(struct json *j, const struct pcifn *f)
{
	const struct variant_pick *v = f->variant;

	json_key(j, "variant");
	if (!v) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key_string(j, "driver", variant_target(f));
	json_key_string(j, "module", v->module[0] ? v->module : NULL);
	json_key_string(j, "alias", v->module[0] ? v->alias : NULL);
	json_int_or_null(j, "wildcards", v->module[0] ? v->wildcards : -1);
	json_key_string(j, "reason", v->module[0] ? NULL : v->why);
	json_object_end(j);
}

static void json_uses(struct json *j, const struct pcifn *f)
{
	json_key(j, "uses");
	json_array_begin(j);
	for (size_t i = 0; i < ARRAY_SIZE(status_use_words); i++)
		if (f->uses & status_use_words[i].use)
			json_string(j, status_use_words[i].word);
	json_array_end(j);
	json_key_string(j, "use_detail", f->use_detail);
}

static void json_modules(struct json *j, const struct modaliases *m, const struct pcifn *f)
{
	const char *mods[MODULES_SHOWN * 4];
	char alias[128];
	size_t n;

	json_key(j, "modules");
	if (!m) {
		json_null(j);
		return;
	}
	modalias_of(f, alias, sizeof(alias));
	n = modaliases_match(m, alias, mods, ARRAY_SIZE(mods));
	json_array_begin(j);
	for (size_t i = 0; i < n && i < ARRAY_SIZE(mods); i++)
		json_string(j, mods[i]);
	json_array_end(j);
}

static void json_fn(struct json *j, struct names *nm, const struct modaliases *m, const struct pcihost *h,
		    const struct pcifn *f)
{
	json_object_begin(j);
	json_key_string(j, "address", f->name);
	json_ids_names(j, nm, f);
	json_key_string(j, "driver", f->driver);
	json_modules(j, m, f);
	json_key_string(j, "driver_override", f->override);
	json_key(j, "iommu_group");
	if (f->group >= 0)
		json_int(j, f->group);
	else
		json_null(j);
	json_key(j, "boot_vga");
	if (f->boot_vga >= 0)
		json_bool(j, f->boot_vga == 1);
	else
		json_null(j);
	json_reset_method(j, f->reset_method);
	json_sriov(j, h, f);
	json_key_string(j, "physfn", f->is_vf ? f->physfn : NULL);
	json_int_or_null(j, "vf_index", f->is_vf ? f->vf_index : -1);
	json_variant(j, f);
	json_uses(j, f);
	json_object_end(j);
}

static void json_group_begin(struct json *j, int group)
{
	json_object_begin(j);
	json_key(j, "group");
	if (group >= 0)
		json_int(j, group);
	else
		json_null(j);
	json_key(j, "functions");
	json_array_begin(j);
}

static void json_groups(struct json *j, struct status *st)
{
	json_key(j, "groups");
	json_array_begin(j);
	for (size_t i = 0; i < st->n_order; i++) {
		const struct pcifn *f = &st->h->fns[st->order[i]];

		if (i == 0 || f->group != st->h->fns[st->order[i - 1]].group) {
			if (i > 0) {
				json_array_end(j);
				json_object_end(j);
			}
			json_group_begin(j, f->group);
		}
		json_fn(j, st->names, st->mods, st->h, f);
	}
	if (st->n_order) {
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_set_selection(struct json *j, const struct devset *set)
{
	char buf[PCIADDR_STRLEN];

	json_key(j, "addresses");
	json_array_begin(j);
	for (size_t i = 0; i < set->n_addrs; i++) {
		status_sel_format(&set->addrs[i], buf);
		json_string(j, buf);
	}
	json_array_end(j);
	json_key(j, "ids");
	json_array_begin(j);
	for (size_t i = 0; i < set->n_ids; i++) {
		(void)snprintf(buf, sizeof(buf), "%04x:%04x", set->ids[i].vendor, set->ids[i].device);
		json_string(j, buf);
	}
	json_array_end(j);
}

static void json_set_functions(struct json *j, const struct status *st, const struct devset *set)
{
	json_key(j, "functions");
	json_array_begin(j);
	for (size_t i = 0; i < st->h->n; i++)
		if (status_set_selects_fn(set, &st->h->fns[i]))
			json_string(j, st->h->fns[i].name);
	json_array_end(j);
}

static void json_set(struct json *j, const struct status *st, const struct devset *set)
{
	char detail[DETAIL_MAX] = "";
	const char *v = set_verdict_name(plan_set_verdict(st->h, st->cfg, set, detail, sizeof(detail)));

	json_object_begin(j);
	json_key_string(j, "name", set->name);
	json_key_string(j, "file", set->file);
	json_key_int(j, "line", set->line);
	json_set_selection(j, set);
	json_key_string(j, "driver", devset_driver(st->cfg, set));
	json_key_bool(j, "boot", set->boot);
	json_set_functions(j, st, set);
	json_key_string(j, "verdict", v);
	json_key_string(j, "detail", status_detail_body(v, detail));
	json_object_end(j);
}

int status_print_json(struct status *st)
{
	struct json j;
	int err;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", STATUS_SCHEMA);
	json_key_string(&j, "root", sysroot_path(st->c->root));
	json_key_bool(&j, "iommu", st->h->iommu);
	json_groups(&j, st);
	json_key(&j, "sets");
	json_array_begin(&j);
	for (size_t i = 0; i < st->cfg->n_sets; i++)
		if (st->set_shown[i])
			json_set(&j, st, &st->cfg->sets[i]);
	json_array_end(&j);
	json_object_end(&j);
	err = json_finish(&j);
	if (err < 0) {
		msg_error("cannot write the status: %s", strerror(-err));
		return EXIT_FAILURE_;
	}
	return 0;
}
