/* report.c - what bind, unbind and restore did, as JSON on stdout (schema in docs/bind-json.md) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "cmd.h"
#include "report.h"

const char *refusal_kind_name(enum refusal_kind k)
{
	static const char *const names[] = {
		[REFUSE_NO_IOMMU] = "no-iommu",	 [REFUSE_GROUP] = "group",     [REFUSE_IDS] = "ids",
		[REFUSE_BRIDGE] = "bridge",	 [REFUSE_CONSOLE] = "console", [REFUSE_MOUNT] = "mount",
		[REFUSE_SWAP] = "swap",		 [REFUSE_ROUTE] = "route",     [REFUSE_INPUT] = "input",
		[REFUSE_BUSY] = "busy",		 [REFUSE_SRIOV] = "sriov",     [REFUSE_SRIOV_CONFIG] = "sriov-config",
		[REFUSE_RESET] = "reset-method",
	};
	return (size_t)k < ARRAY_SIZE(names) && names[k] ? names[k] : "?";
}

const char *outcome_status_name(enum outcome_status s)
{
	static const char *const names[] = {
		[OUT_SKIPPED] = "skipped",	   [OUT_DONE] = "done",
		[OUT_FAILED] = "failed",	   [OUT_TIMEOUT] = "timeout",
		[OUT_ROLLED_BACK] = "rolled-back",
	};
	return (size_t)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static void key_str(struct json *j, const char *key, const char *s)
{
	if (s && *s)
		json_key_string(j, key, s);
	else
		json_key_null(j, key);
}

static void state_json(struct json *j, const char *key, const char *driver, const char *override)
{
	json_key(j, key);
	json_object_begin(j);
	key_str(j, "driver", driver);
	key_str(j, "driver_override", override);
	json_object_end(j);
}

static void outcome_json(struct json *j, const struct outcome *o)
{
	json_key_string(j, "status", outcome_status_name(o->status));
	key_str(j, "failed_step",
		o->status >= OUT_FAILED && o->status != OUT_ROLLED_BACK ? bind_step_name(o->step) : NULL);
	key_str(j, "error", o->status == OUT_FAILED || o->status == OUT_TIMEOUT ? o->msg : NULL);
	key_str(j, "holders", o->holders);
	key_str(j, "rollback_error", o->rollback_err < 0 ? o->rollback_msg : NULL);
	key_str(j, "driver_now", o->status == OUT_SKIPPED ? NULL : o->driver_now);
}

static void action_json(struct json *j, const struct action *a, const struct outcome *o, bool dry_run)
{
	json_object_begin(j);
	json_key_string(j, "address", a->name);
	if (a->group >= 0)
		json_key_int(j, "iommu_group", a->group);
	else
		json_key_null(j, "iommu_group");
	key_str(j, "set", a->set);
	json_key_bool(j, "noop", a->noop);
	state_json(j, "from", a->before.driver, a->before.override);
	state_json(j, "to", a->target.driver, a->target.override);
	json_key_bool(j, "kernel_picks", a->target.kernel_picks);
	json_key_bool(j, "auto_driver", a->auto_driver);
	key_str(j, "reset_method", a->reset_method);
	if (a->sriov_numvfs >= 0)
		json_key_int(j, "sriov_numvfs", a->sriov_numvfs);
	else
		json_key_null(j, "sriov_numvfs");
	if (dry_run || !o)
		json_key_string(j, "status", a->noop ? "skipped" : "planned");
	else
		outcome_json(j, o);
	json_object_end(j);
}

void report_request_json(struct json *j, const struct plan *p, const struct outcome *outs, bool dry_run)
{
	json_key(j, "actions");
	json_array_begin(j);
	for (size_t i = 0; p && i < p->n_acts; i++)
		action_json(j, &p->acts[i], outs ? &outs[i] : NULL, dry_run);
	json_array_end(j);
	json_key(j, "sriov");
	json_array_begin(j);
	for (size_t i = 0; p && i < p->n_sriov; i++) {
		json_object_begin(j);
		json_key_string(j, "address", p->sriov[i].name);
		json_key_string(j, "set", p->sriov[i].set);
		json_key_int(j, "from", p->sriov[i].from);
		json_key_int(j, "to", p->sriov[i].to);
		json_key_int(j, "vfs_bound", (long long)p->sriov[i].n_wanted);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "refusals");
	json_array_begin(j);
	for (size_t i = 0; p && i < p->n_refusals; i++) {
		const struct refusal *r = &p->refusals[i];

		json_object_begin(j);
		json_key_string(j, "address", r->fn);
		json_key_string(j, "kind", refusal_kind_name(r->kind));
		json_key_bool(j, "forceable", r->forceable);
		json_key_bool(j, "forced", r->forced);
		json_key_string(j, "message", r->msg);
		json_object_end(j);
	}
	json_array_end(j);
}

const char *report_result(const struct plan *p, int exit_status)
{
	switch (exit_status) {
	case EXIT_OK:
		return p && plan_changes(p) ? "done" : "nothing-to-do";
	case EXIT_USAGE:
		return "usage";
	case EXIT_REFUSED:
		return "refused";
	case EXIT_TIMEOUT:
		return "timeout";
	default:
		return "failed";
	}
}

int report_json(const char *command, const struct plan *p, const struct outcome *outs, bool dry_run, int exit_status)
{
	struct json j;

	json_init(&j, stdout, 2);
	json_object_begin(&j);
	json_key_int(&j, "schema", 1);
	json_key_string(&j, "command", command);
	json_key_bool(&j, "dry_run", dry_run);
	json_key_string(&j, "result", dry_run && exit_status == EXIT_OK ? "planned" : report_result(p, exit_status));
	json_key_int(&j, "exit_status", exit_status);
	report_request_json(&j, p, outs, dry_run);
	json_object_end(&j);
	if (json_finish(&j) < 0 || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
		return -EIO;
	return 0;
}
