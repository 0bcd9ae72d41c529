# scenarios-apply.sh - pcibind apply (the boot unit) and apply --udev (the udev rule) on a simulated machine
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# boot.topo: the workstation as udev first sees it at boot. Bound: boot GPU 01:00.0 + audio
# 01:00.1 (console on it), NVMe 03:00.0, NIC 05:00.0 (default route). Not bound yet: the second
# GPU 02:00.0 + audio 02:00.1 and the identical second NIC 06:00.0.

apply_conf() {
	conf <<-'EOF2'
	[gpu2]
	address = 02:00
	ids = 10de:2204, 10de:1aef
	boot = yes

	[nic2]
	address = 0000:06:00.0
	boot = yes

	[later]
	address = 0000:03:00.0
	boot = no
	EOF2
}

# pb_json ARGS...: like pb, stdout only (the messages on stderr are not part of the document)
# shellcheck disable=SC2034 # ST is read by lib.sh's checks
pb_json() {
	OUT=$("$PCIBIND" --root "$ROOT" "$@" 2>/dev/null)
	ST=$?
}
json_ok() { python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$OUT"; }
json_result() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(" ".join(s["name"]+"="+s["result"] for s in d["sets"]), d["exit_status"])' <<<"$OUT"; }

scenario_apply_boot_sets() {
	sim_start apply-boot-sets boot || return
	apply_conf
	pb apply
	check "apply exits 5 (changed)" exit_is 5
	check "GPU 02:00.0 on vfio-pci" is_driver 0000:02:00.0 vfio-pci
	check "audio 02:00.1 on vfio-pci" is_driver 0000:02:00.1 vfio-pci
	check "NIC 06:00.0 on vfio-pci" is_driver 0000:06:00.0 vfio-pci
	check "the boot = no set is left alone" is_driver 0000:03:00.0 nvme
	check "the twin NIC keeps igb" is_driver 0000:05:00.0 igb
	check "reports the GPU set" out_has "gpu2: 2 functions bound to vfio-pci"
	check "reports the NIC set" out_has "nic2: 1 function bound to vfio-pci"
	pb apply
	check "second apply exits 0 (nothing to do)" exit_is 0
	check "second apply says already bound" out_has "nic2: already bound: 1 function on vfio-pci"
	check "second apply wrote nothing to sysfs" test "$(sim_log | grep ' -> ' | grep -v '^\.pcisim/' | grep -c driver_override)" -eq 3
	pb apply -n
	check "dry run of a bound system exits 0" exit_is 0
	sim_stop
}

scenario_apply_absent_refused() {
	sim_start apply-absent-refused boot || return
	conf <<-'EOF2'
	[ghost]
	address = 0000:09:00.0
	boot = yes

	[gpu1]
	address = 01:00
	boot = yes

	[nic2]
	address = 06:00.0
	boot = yes
	EOF2
	pb apply -n
	check "dry run exits 3 (a set is refused)" exit_is 3
	check "dry run changed nothing" is_driver 0000:06:00.0 none
	pb apply
	check "apply exits 3 when a set is refused" exit_is 3
	check "absent set reported" out_has "ghost: absent"
	check "refused set reported with its reason" out_has "gpu1: refused: 0000:01:00.0 is the boot VGA"
	check "the other set is still bound" is_driver 0000:06:00.0 vfio-pci
	check "the refused GPU keeps nvidia" is_driver 0000:01:00.0 nvidia
	pb_json apply --json
	check "--json is valid JSON" json_ok
	check "--json results per set" test "$(json_result)" = "ghost=absent gpu1=refused nic2=unchanged 3"
	sim_stop
}

scenario_apply_json() {
	sim_start apply-json boot || return
	apply_conf
	pb_json apply --json -n
	check "dry run --json exits 5 (would change)" exit_is 5
	check "dry run --json is valid" json_ok
	check "dry run --json says would-change" test "$(json_result)" = "gpu2=would-change nic2=would-change 5"
	check "dry run changed nothing" test "$(writes)" -eq 0
	pb_json apply --json
	check "--json exits 5" exit_is 5
	check "--json says changed" test "$(json_result)" = "gpu2=changed nic2=changed 5"
	check "--json lists each moved function" test "$(python3 -c 'import json,sys; print(len(json.loads(sys.stdin.read())["sets"][0]["moved"]))' <<<"$OUT")" -eq 2
	sim_stop
}

scenario_apply_udev() {
	sim_start apply-udev boot || return
	conf <<-'EOF2'
	[nic2]
	address = 0000:06:00.0
	boot = yes

	[later]
	address = 0000:03:00.0
	boot = no
	EOF2
	pb apply --udev 0000:06:00.0
	check "--udev for a configured function exits 0" exit_is 0
	check "--udev prints nothing" test -z "$OUT"
	check "--udev wrote exactly one thing" test "$(writes)" -eq 1
	check "that one write is the override" grep -q '^bus/pci/devices/0000:06:00.0/driver_override vfio-pci -> ok' <(sim_log)
	check "no driver bound by --udev" is_driver 0000:06:00.0 none
	pb apply --udev 0000:06:00.0
	check "--udev again writes nothing" test "$(writes)" -eq 1
	pb apply --udev 0000:05:00.0
	check "--udev for an unconfigured twin exits 0" exit_is 0
	pb apply --udev 0000:03:00.0
	check "--udev for a boot = no set exits 0" exit_is 0
	pb apply --udev 0000:01:00.0
	check "--udev for a function on a driver exits 0" exit_is 0
	check "--udev wrote nothing for those" test "$(writes)" -eq 1
	pb apply
	check "apply then binds what udev claimed" is_driver 0000:06:00.0 vfio-pci
	check "and reports it changed" exit_is 5
	pb apply --udev
	check "--udev without an address is a usage error" exit_is 2
	sim_stop
}

# udev runs coldplug events in parallel: the unconfigured twin's event (which loads the
# host driver by modalias) must already claim the configured functions
scenario_apply_udev_twin_first() {
	sim_start apply-udev-twin-first boot || return
	apply_conf
	pb apply --udev 0000:05:00.0
	check "--udev for the unconfigured twin exits 0" exit_is 0
	check "it claims the configured twin" is_override 0000:06:00.0 vfio-pci
	check "it claims the GPU (slot, ids guard)" is_override 0000:02:00.0 vfio-pci
	check "it claims the GPU audio" is_override 0000:02:00.1 vfio-pci
	check "three writes, all driver_override" test "$(writes)" -eq 3 -a "$(sim_log | grep ' -> ' | grep -v '^\.pcisim/' | grep -vc '/driver_override ')" -eq 0
	check "the unconfigured twin is untouched" is_override 0000:05:00.0 "(null)"
	check "the boot = no set is untouched" is_override 0000:03:00.0 "(null)"
	pb apply --udev 0000:06:00.0
	check "the configured twin's own event then writes nothing" test "$(writes)" -eq 3
	sim_stop
}

scenario_apply_udev_guard() {
	sim_start apply-udev-guard boot || return
	conf <<-'EOF2'
	[nic2]
	address = 0000:06:00.0
	ids = 10de:2204
	boot = yes
	EOF2
	pb apply --udev 0000:06:00.0
	check "--udev with a failing ids guard exits 0" exit_is 0
	check "--udev with a failing ids guard writes nothing" test "$(writes)" -eq 0
	check "and says why" out_has "expects other ids"
	pb apply
	check "apply refuses the failing ids guard (exit 3)" exit_is 3
	sim_stop
}

scenario_apply_broken_config() {
	sim_start apply-broken-config boot || return
	conf <<-'EOF2'
	[nic2]
	address = 0000:06:00.0
	boot = maybe
	EOF2
	pb apply --udev 0000:06:00.0
	check "--udev with a broken config exits 2" exit_is 2
	check "--udev names file:line" out_has "pcibind.conf:3:"
	pb apply
	check "apply with a broken config exits 2" exit_is 2
	check "apply names file:line" out_has "pcibind.conf:3:"
	check "nothing was written" test "$(writes)" -eq 0
	check "no lock or journal made" test ! -e "$ROOT/run/pcibind/journal"
	sim_stop
}

scenario_apply_nothing() {
	sim_start apply-nothing boot || return
	pb apply
	check "apply without a config exits 0" exit_is 0
	check "and says no set has boot = yes" out_has "no set in the configuration has boot = yes"
	pb apply 02:00
	check "apply with a SEL is a usage error" exit_is 2
	sim_stop
}

# eight boot sets, one GPU each: apply moves them as one request, the groups in parallel
eight_sets() {
	local s
	for s in 11 21 31 41 51 61 71 81; do
		printf '[gpu%s]\naddress = %s:00\nboot = yes\n\n' "$s" "$s"
	done | conf
}

scenario_apply_parallel() {
	local t0 t1 s
	sim_start apply-parallel eightgpu || return
	eight_sets
	for s in 11 21 31 41 51 61 71 81; do ctl "block 0000:$s:00.0 unbind 1"; done
	t0=$(date +%s%N)
	pb apply
	t1=$(date +%s%N)
	check "apply of 8 sets exits 5 (changed)" exit_is 5
	for s in 11 21 31 41 51 61 71 81; do
		check "GPU $s:00.0 and its audio on vfio-pci" eval "is_driver 0000:$s:00.0 vfio-pci && is_driver 0000:$s:00.1 vfio-pci"
	done
	check "every set reported bound" test "$(grep -c ': 2 functions bound to vfio-pci' <<<"$OUT")" -eq 8
	timing_check "8 sets with a 1 s unbind each overlap (took $(((t1 - t0) / 1000000)) ms, one after another >= 8000)" \
		test $(((t1 - t0) / 1000000)) -lt 5000
	check "one journal record per function" test "$(journal_lines)" -eq 16
	pb restore
	check "restore puts all 16 back" eval "is_driver 0000:81:00.1 snd_hda_intel && is_driver 0000:11:00.0 nvidia && no_journal"
	sim_stop
}

# one set fails: the joint run is put back, then each set alone; the good ones still get bound
scenario_apply_one_set_fails() {
	sim_start apply-one-fails eightgpu || return
	conf <<-'EOF2'
	[gpu21]
	address = 21:00
	boot = yes

	[gpu31]
	address = 31:00
	boot = yes

	[gpu41]
	address = 41:00
	boot = yes
	EOF2
	ctl "failprobe 0000:31:00.0 vfio-pci EIO"
	pb apply
	check "apply exits 1 (a set failed)" exit_is 1
	check "says the joint run was put back" out_has "binding each set on its own"
	check "gpu21 bound" eval "is_driver 0000:21:00.0 vfio-pci && is_driver 0000:21:00.1 vfio-pci"
	check "gpu41 bound" eval "is_driver 0000:41:00.0 vfio-pci && is_driver 0000:41:00.1 vfio-pci"
	check "gpu31 back on its host drivers" eval "is_driver 0000:31:00.0 nvidia && is_driver 0000:31:00.1 snd_hda_intel"
	check "gpu31 has no stale override" eval "is_override 0000:31:00.0 '(null)' && is_override 0000:31:00.1 '(null)'"
	check "gpu31 reported failed" out_has "gpu31: failed: 0000:31:00.0"
	check "gpu21 reported bound" out_has "gpu21: 2 functions bound to vfio-pci"
	check "the journal holds the 4 bound functions only" test "$(journal_lines)" -eq 4
	ctl clear
	pb apply
	check "once the fault is gone, apply binds gpu31 (exit 5)" exit_is 5
	check "gpu31 on vfio-pci" is_driver 0000:31:00.0 vfio-pci
	check "the others are reported unchanged" out_has "gpu21: already bound"
	sim_stop
}

# at boot a probe (here: another unbind) holds a function's device lock for seconds: apply waits for
# it, once, instead of calling the function busy (a loaded two-core machine took >500 ms to probe)
scenario_apply_waits_for_a_locked_function() {
	local nic=0000:06:00.0 t0 t1
	sim_start apply-locked workstation || return
	printf '[nic2]\naddress = %s\nboot = yes\n' "$nic" | conf
	ctl "block $nic unbind 3"
	(echo "$nic" >"$ROOT/sys/bus/pci/drivers/igb/unbind") 2>/dev/null &
	sleep 0.5
	check "the kernel holds $nic's lock: its driver_override cannot be read" \
		bash -c '! timeout 0.5 cat "$1/sys/bus/pci/devices/$2/driver_override" >/dev/null 2>&1' _ "$ROOT" "$nic"
	t0=$(date +%s%N)
	pb -v apply
	t1=$(date +%s%N)
	wait
	check "apply waits for the lock and binds it (exit 5, $(((t1 - t0) / 1000000)) ms)" exit_is 5
	check "... saying what it waited for" out_has "$nic is locked by the kernel (a probe running?): waiting up to 8000 ms"
	check "$nic on vfio-pci" is_driver $nic vfio-pci
	pb restore
	check "restore (exit 0)" exit_is 0
	sim_stop
}
