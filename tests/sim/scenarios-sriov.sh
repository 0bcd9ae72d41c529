# scenarios-sriov.sh - SR-IOV physical and virtual functions as pcibind reads and moves them
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# sriov.topo: an I350 whose port 06:00.0 (igb, default route) has VFs 06:10.0 and 06:10.4 on
# igbvf, each VF in its own IOMMU group; port 06:00.1 has no VFs enabled.

# fn_json ADDR EXPR: EXPR evaluated on the function object f of ADDR in $OUT (status --json)
fn_json() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
f = [f for g in d["groups"] for f in g["functions"] if f["address"] == sys.argv[2]][0]
v = eval(sys.argv[3])
sys.exit(0 if str(v) == sys.argv[4] else 1)' "$OUT" "$1" "$2" "$3" 2>/dev/null
}

scenario_sriov() {
	sim_start sriov sriov || return
	OUT=$("$PCIBIND" --root "$ROOT" status --json 2>/dev/null)
	ST=$?
	check "status --json exits 0" exit_is 0
	check "the PF shows its VFs: 2 of 8" fn_json 0000:06:00.0 'f["sriov"]' "{'numvfs': 2, 'totalvfs': 8}"
	check "the PF has no physfn" fn_json 0000:06:00.0 'f["physfn"]' None
	check "a VF names its PF" fn_json 0000:06:10.4 'f["physfn"]' 0000:06:00.0
	check "a VF is no PF" fn_json 0000:06:10.0 'f["sriov"]' None
	check "a VF's ids come from its own modalias" fn_json 0000:06:10.0 '(f["vendor"], f["device"], f["driver"])' "('8086', '1520', 'igbvf')"
	check "the port without VFs enabled: 0 of 8" fn_json 0000:06:00.1 'f["sriov"]' "{'numvfs': 0, 'totalvfs': 8}"
	pb bind 06:10.4
	check "a VF binds on its own (exit 0)" exit_is 0
	check "VF 06:10.4 on vfio-pci" is_driver 0000:06:10.4 vfio-pci
	check "its PF keeps igb (it carries the route)" is_driver 0000:06:00.0 igb
	check "the other VF keeps igbvf" is_driver 0000:06:10.0 igbvf
	pb restore
	check "restore puts the VF back on igbvf" is_driver 0000:06:10.4 igbvf
	check "and leaves no journal" no_journal
	sim_stop
}
