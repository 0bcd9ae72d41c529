# scenarios-json.sh - the JSON contract: a document of each kind the other scenarios do not make (generate, unbind)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# run.sh validates every --json document of the tier against schemas/ (json-validate.py); these runs
# make sure each subcommand has one, and check the few values a consumer (the Ansible collection) reads.

# json_doc ARGS...: pcibind's standard output alone in $OUT, exit status in $ST
json_doc() {
	OUT=$("$PCIBIND" --root "$ROOT" "$@" 2>/dev/null)
	ST=$?
}

scenario_json_contract() {
	setup_start json-contract || return
	json_doc generate --json
	check "generate --json: schema 1, GRUB and initramfs-tools, files to create" json_is \
		'(d["schema"], d["bootloader"], d["initramfs"], d["changes"])' "(1, 'grub', 'initramfs-tools', True)"
	json_doc setup 02:00 --boot --json
	check "setup --json exits 0" exit_is 0
	json_doc generate --json
	check "generate --json after setup: no change left" json_is '(d["changes"], sorted(set(f["action"] for f in d["files"])))' "(False, ['unchanged'])"
	json_doc unbind 06:00.0 --json
	check "unbind --json: schema 1, done, driverless" json_is \
		'(d["schema"], d["command"], d["result"], d["actions"][0]["driver_now"])' "(1, 'unbind', 'done', None)"
	json_doc unbind 05:00.0 --json
	check "a refused unbind --json: exit 3, the route refusal named" json_is \
		'(d["exit_status"], [r["kind"] for r in d["refusals"]])' "(3, ['route'])"
	json_doc restore 06:00.0 --json
	check "restore --json: back on igb" json_is '(d["result"], d["actions"][0]["driver_now"])' "('done', 'igb')"
	json_doc check --json
	check "check --json: schema 1 and findings" json_is '(d["schema"], len(d["findings"]) > 0)' "(1, True)"
	json_doc status gpu --json
	check "status --json: the set and its verdict" json_is '[(s["name"], s["verdict"]) for s in d["sets"]]' "[('gpu', 'ready')]"
	setup_stop
}
