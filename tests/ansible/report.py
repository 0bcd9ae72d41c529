#!/usr/bin/python3
# report.py - reads ansible-playbook's json callback output: the recap, a task's results, the pcibind documents
# SPDX-License-Identifier: GPL-2.0-or-later
"""report.py FILE stats                 ok/changed/failed/skipped summed over hosts, and host/task counts
report.py FILE failmsg                 each failed task's msg, one a line
report.py FILE diffs                   the diffs of every task, as JSON (sorted by host)
report.py FILE validate SCHEMADIR      every pcibind document a module returned, against its schema"""
import json
import os
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # ansible may print warnings before the document
    return json.loads(text[text.index("{"):])


def results(doc):
    for play in doc["plays"]:
        for task in play["tasks"]:
            for host, res in task["hosts"].items():
                yield task["task"]["name"], host, res


def main():
    doc = load(sys.argv[1])
    what = sys.argv[2]
    if what == "stats":
        s = doc["stats"]
        tot = {k: sum(h.get(k, 0) for h in s.values()) for k in ("ok", "changed", "failures", "unreachable", "skipped")}
        tasks = sum(len(p["tasks"]) for p in doc["plays"])
        print("hosts=%d tasks=%d ok=%d changed=%d failed=%d unreachable=%d skipped=%d" % (
            len(s), tasks, tot["ok"], tot["changed"], tot["failures"], tot["unreachable"], tot["skipped"]))
    elif what == "failmsg":
        for _, host, res in results(doc):
            if res.get("failed"):
                print("%s: %s" % (host, res.get("msg")))
    elif what == "diffs":
        out = {}
        for name, host, res in results(doc):
            d = res.get("diff")
            if d:
                out.setdefault(host, []).append([(x.get("before_header"), x.get("prepared")) for x in d])
        print(json.dumps(out, sort_keys=True))
    elif what == "validate":
        import jsonschema
        kinds = {"setup": "setup", "bind": "bind", "restore": "bind"}
        n = 0
        for name, host, res in results(doc):
            pd = res.get("pcibind")
            docs = [pd] if pd else []
            if isinstance(res.get("status"), dict):
                docs += [res["status"]]
            if isinstance(res.get("check"), dict):
                docs += [res["check"]]
            for d in docs:
                kind = kinds.get(d.get("command")) or ("setup" if "reboot_needed" in d else
                                                       "check" if "findings" in d else "status")
                with open(os.path.join(sys.argv[3], kind + ".schema.json"), encoding="utf-8") as f:
                    jsonschema.validate(d, json.load(f))
                n += 1
        print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
