/* report.h - what bind, unbind and restore did, as JSON on stdout (schema in docs/bind-json.md) */
/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PCIBIND_REPORT_H
#define PCIBIND_REPORT_H

#include "bind.h"
#include "json.h"
#include "plan.h"

const char *refusal_kind_name(enum refusal_kind k);
const char *outcome_status_name(enum outcome_status s);

/* The members of one request's report, inside an object the caller opened */
void report_request_json(struct json *j, const struct plan *p, const struct outcome *outs, bool dry_run);

/* A whole report: {"schema":1,"command":...,"result":...,"exit_status":...,...} */
int report_json(const char *command, const struct plan *p, const struct outcome *outs, bool dry_run, int exit_status);

/* "done", "nothing-to-do", "failed", "refused", "usage", "timeout" */
const char *report_result(const struct plan *p, int exit_status);

#endif
