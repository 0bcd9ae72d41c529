#!/usr/bin/python3
# json-validate.py - every --json document the simulator scenarios made, validated against schemas/*.schema.json
# SPDX-License-Identifier: GPL-2.0-or-later
"""json-validate.py SCHEMADIR CAPTUREDIR TAG EVERY: an ok line per command, a not ok per bad document;
EVERY=1 (all scenarios ran): a command without a document is a failure too."""
import glob
import json
import os
import sys

import jsonschema

COMMANDS = {"status": "status", "check": "check", "bind": "bind", "unbind": "bind", "restore": "bind",
            "apply": "apply", "setup": "setup", "generate": "generate", "hook": "hook"}


def command_of(args):
    """the subcommand: the first argument naming one, skipping --root's value"""
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a == "--root":
            skip = True
        elif a in COMMANDS:
            return a
    return None


def main():
    schemadir, capdir, tag, every = sys.argv[1:5]
    schemas = {}
    for path in glob.glob(os.path.join(schemadir, "*.schema.json")):
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
        jsonschema.Draft202012Validator.check_schema(s)
        schemas[os.path.basename(path).split(".")[0]] = jsonschema.Draft202012Validator(s)
    seen = {}
    bad = 0
    for meta in sorted(glob.glob(os.path.join(capdir, "run.*"))):
        if meta.endswith(".json"):
            continue
        with open(meta, encoding="utf-8") as f:
            lines = f.read().split("\n")[:-1]
        status, args = int(lines[0]), lines[1:]
        with open(meta + ".json", encoding="utf-8", errors="replace") as f:
            text = f.read()
        cmd = command_of(args)
        if not text:
            continue  # usage errors print no document (docs/bind-json.md)
        name = COMMANDS.get(cmd)
        where = "pcibind %s (exit %d)" % (" ".join(args), status)
        try:
            doc = json.loads(text)
            if name is None:
                raise ValueError("no subcommand known among the arguments")
            errs = sorted(schemas[name].iter_errors(doc), key=lambda e: list(e.path))
            if errs:
                e = errs[0]
                raise ValueError("%s: %s (%d errors)" % ("/".join(map(str, e.path)) or "top", e.message[:300], len(errs)))
            if doc.get("exit_status", status) != status:
                raise ValueError("exit_status %s, the process exited %d" % (doc["exit_status"], status))
        except ValueError as e:
            bad += 1
            print("not ok - %s: json: %s: %s" % (tag, where[:300], e))
            continue
        seen[cmd] = seen.get(cmd, 0) + 1
    for cmd in COMMANDS:
        if cmd in seen:
            print("ok - %s: json: %d documents of pcibind %s --json valid against schemas/%s.schema.json"
                  % (tag, seen[cmd], cmd, COMMANDS[cmd]))
    missing = [c for c in COMMANDS if c not in seen]
    if missing and every == "1":
        print("not ok - %s: json: no scenario produced a valid --json document of: %s" % (tag, " ".join(missing)))
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
