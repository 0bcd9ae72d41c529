# scenarios.sh - the real pcibind binary against the simulated kernel, one machine per scenario
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Workstation (workstation.topo): boot GPU 01:00.0 + audio 01:00.1 (group 1, console on it),
# identical second GPU 02:00.0 + 02:00.1 (group 2), NVMe 03:00.0 holding / and swap,
# identical NICs 05:00.0 (default route) and 06:00.0, xHCI 00:14.0 with a keyboard,
# vfio-pci not loaded until pcibind asks for it.

GPU2=0000:02:00.0
AUD2=0000:02:00.1

scenario_round_trip() {
	sim_start round-trip workstation || return
	pb bind 02:00
	check "bind 02:00 exits 0" exit_is 0
	check "GPU on vfio-pci" is_driver $GPU2 vfio-pci
	check "audio on vfio-pci" is_driver $AUD2 vfio-pci
	check "GPU override is vfio-pci" is_override $GPU2 vfio-pci
	check "/dev/vfio/2 exists" test -e "$ROOT/dev/vfio/2"
	check "journal records both functions" test "$(journal_lines)" -eq 2
	check "journal keeps the original driver" grep -q "^$GPU2	driver=nvidia	override=	" "$ROOT/run/pcibind/journal"
	check "vfio-pci module was loaded" test -d "$ROOT/sys/bus/pci/drivers/vfio-pci"
	pb bind 02:00
	check "second bind is a no-op (exit 0)" exit_is 0
	check "journal still has the original driver" grep -q "driver=nvidia" "$ROOT/run/pcibind/journal"
	pb restore 02:00
	check "restore exits 0" exit_is 0
	check "GPU back on nvidia" is_driver $GPU2 nvidia
	check "audio back on snd_hda_intel" is_driver $AUD2 snd_hda_intel
	check "GPU override cleared to (null)" is_override $GPU2 "(null)"
	check "audio override cleared to (null)" is_override $AUD2 "(null)"
	check "journal emptied" no_journal
	check "/dev/vfio/2 gone" test ! -e "$ROOT/dev/vfio/2"
	check "the override was cleared by writing an empty line" grep -q "^bus/pci/devices/$GPU2/driver_override \"\" -> ok" <(sim_log)
	sim_stop
}

scenario_identical_nics() {
	sim_start identical-nics workstation || return
	pb bind 0000:06:00.0
	check "bind 06:00.0 exits 0" exit_is 0
	check "06:00.0 on vfio-pci" is_driver 0000:06:00.0 vfio-pci
	check "identical 05:00.0 keeps igb" is_driver 0000:05:00.0 igb
	check "05:00.0 override untouched" is_override 0000:05:00.0 "(null)"
	check "no write ever named 05:00.0" bash -c "! grep -q '0000:05:00.0' <<<\"\$1\"" _ "$(sim_log)"
	pb restore
	check "restore (everything) exits 0" exit_is 0
	check "06:00.0 back on igb" is_driver 0000:06:00.0 igb
	sim_stop
}

scenario_group_refusal() {
	sim_start group-refusal workstation || return
	pb bind $GPU2
	check "binding only the GPU of a group is refused (exit 3)" exit_is 3
	check "message names the sibling" out_has "$AUD2"
	check "message names the sibling's driver" out_has "snd_hda_intel"
	check "nothing was written" test "$(writes)" -eq 0
	check "GPU still on nvidia" is_driver $GPU2 nvidia
	pb --force bind $GPU2
	check "--force does not override a group refusal" exit_is 3
	sim_stop
}

# refusal SCEN SEL WORD: refused with WORD in the message and no write; --force binds
safety_case() {
	local name=$1 sel=$2 word=$3 addr=$4
	sim_start "$name" workstation || return
	pb bind "$sel"
	check "refused (exit 3)" exit_is 3
	check "message says why ('$word')" out_has "$word"
	check "message names --force" out_has "--force"
	check "nothing was written" test "$(writes)" -eq 0
	pb --force bind "$sel"
	check "--force binds it (exit 0)" exit_is 0
	check "--force names what it overrode" out_has "$word"
	check "on vfio-pci after --force" is_driver "$addr" vfio-pci
	sim_stop
}

scenario_safety() {
	safety_case boot-vga 01:00 "console" 0000:01:00.0
	safety_case nvme-root 03:00.0 "mounted" 0000:03:00.0
	safety_case nvme-swap 03:00.0 "swap" 0000:03:00.0
	safety_case default-route 05:00.0 "default route" 0000:05:00.0
	safety_case usb-keyboard 00:14.0 "input device" 0000:00:14.0
}

scenario_failed_probe() {
	sim_start failed-probe workstation || return
	ctl "failprobe $AUD2 vfio-pci EIO"
	pb bind 02:00
	check "exit 1 when vfio-pci fails to probe the audio" exit_is 1
	check "message names the failing function" out_has "$AUD2"
	check "message says what was put back" out_has "put back"
	check "GPU back on nvidia" is_driver $GPU2 nvidia
	check "audio back on snd_hda_intel" is_driver $AUD2 snd_hda_intel
	check "GPU override cleared" is_override $GPU2 "(null)"
	check "audio override cleared" is_override $AUD2 "(null)"
	check "no journal records left" no_journal
	sim_stop
}

scenario_hung_unbind() {
	local t0 t1
	sim_start hung-unbind workstation || return
	pb bind 02:00
	check "bind first (exit 0)" exit_is 0
	fake_holder 4242 qemu-system-x86 /dev/vfio/2
	ctl "block $GPU2 unbind forever"
	t0=$SECONDS
	# --force: a held device is refused first (scenarios-harden.sh); forced, the kernel's unbind waits
	pb --force --timeout 2 restore 02:00
	t1=$SECONDS
	check "restore times out with exit 4" exit_is 4
	timing_check "the tool exits within its deadline (<= 6 s)" test $((t1 - t0)) -le 6
	check "message names the device" out_has "$GPU2"
	check "message names the holder" out_has "qemu-system-x86 (pid 4242) holds /dev/vfio/2"
	check "journal keeps the record" grep -q "^$GPU2" "$ROOT/run/pcibind/journal"
	rm -rf "$ROOT/proc/4242"
	ctl "release $GPU2"
	sleep 0.5
	pb restore 02:00
	check "after the holder lets go, restore completes (exit 0)" exit_is 0
	check "GPU back on nvidia" is_driver $GPU2 nvidia
	check "audio back on snd_hda_intel" is_driver $AUD2 snd_hda_intel
	check "journal emptied" no_journal
	sim_stop
}

# SIGKILL pcibind while one write (OP on ADDR) is blocked in the kernel, then restore
kill_case() {
	local op=$1 addr=$2 pid i
	sim_start "sigkill-at-$op-$addr" workstation || return
	ctl "block $addr $op forever"
	"$PCIBIND" --root "$ROOT" bind 02:00 >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 200); do
		sim_log | grep -q "^block $addr $op" && break
		sleep 0.05
	done
	check "pcibind reached the blocked $op" grep -q "^block $addr $op" <(sim_log)
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	check "the journal was written before the first change" grep -q "^$GPU2	driver=nvidia" "$ROOT/run/pcibind/journal"
	ctl "release $addr"
	sleep 0.3
	check "the machine is left half-done" bash -c '[ "$1" != "nvidia (null) snd_hda_intel (null)" ]' _ \
		"$(driver_of $GPU2) $(override_of $GPU2) $(driver_of $AUD2) $(override_of $AUD2)"
	pb restore
	check "restore after SIGKILL exits 0" exit_is 0
	check "GPU back on nvidia" is_driver $GPU2 nvidia
	check "audio back on snd_hda_intel" is_driver $AUD2 snd_hda_intel
	check "GPU override cleared" is_override $GPU2 "(null)"
	check "audio override cleared" is_override $AUD2 "(null)"
	check "journal emptied" no_journal
	sim_stop
}

scenario_sigkill() {
	local op addr
	for addr in $GPU2 $AUD2; do
		for op in driver_override unbind drivers_probe; do
			kill_case $op $addr
		done
	done
}

scenario_concurrent() {
	sim_start concurrent workstation || return
	ctl "block $GPU2 unbind 2"
	"$PCIBIND" --root "$ROOT" bind 02:00 >"$ROOT.a" 2>&1 &
	local pa=$!
	sleep 0.3
	pb bind 0000:06:00.0
	wait $pa
	local sa=$?
	check "first request exits 0" test $sa -eq 0
	check "second request exits 0" exit_is 0
	check "GPU on vfio-pci" is_driver $GPU2 vfio-pci
	check "NIC on vfio-pci" is_driver 0000:06:00.0 vfio-pci
	# serialised: every write for 02:00 comes before every write for 06:00.0
	local last_gpu first_nic
	last_gpu=$(sim_log | grep -n "0000:02:00" | tail -1 | cut -d: -f1)
	first_nic=$(sim_log | grep -n "0000:06:00.0" | head -1 | cut -d: -f1)
	check "requests did not interleave" test "$last_gpu" -lt "$first_nic"
	check "journal holds all three" test "$(journal_lines)" -eq 3
	rm -f "$ROOT.a"
	sim_stop
}

scenario_vfio_absent() {
	sim_start vfio-absent workstation || return
	check "vfio-pci is not loaded at start" test ! -e "$ROOT/sys/bus/pci/drivers/vfio-pci"
	PCIBIND_MODPROBE=/bin/false pb bind 02:00
	check "a failed module load refuses (exit 1)" exit_is 1
	check "message names the driver" out_has "vfio-pci"
	check "nothing was written" test "$(writes)" -eq 0
	check "no journal" no_journal
	pb bind 02:00
	check "with a working modprobe the bind succeeds" exit_is 0
	check "vfio-pci loaded" test -d "$ROOT/sys/bus/pci/drivers/vfio-pci"
	check "GPU on vfio-pci" is_driver $GPU2 vfio-pci
	sim_stop
}

scenario_bad_input() {
	local sel
	sim_start bad-input workstation || return
	for sel in 0000:02:00.8 02:20.0 ../02:00.0 "02:00.0 " "" 0000:02:00.0x 12345 "gpu;rm"; do
		pb bind "$sel"
		check "selector '$sel' is a usage error (exit 2)" exit_is 2
	done
	pb bind 0000:09:00.0
	check "absent function is a usage error (exit 2)" exit_is 2
	check "message names it" out_has "0000:09:00.0"
	printf '[gpu]\nadress = 02:00\n' | conf
	pb bind 02:00
	check "unknown key is a config error (exit 2)" exit_is 2
	check "message names file:line" out_has "etc/pcibind/pcibind.conf:2:"
	printf '[gpu]\naddress = 02:00\n' | conf
	chmod 0666 "$ROOT/etc/pcibind/pcibind.conf"
	pb bind gpu
	check "world-writable config is refused (exit 2)" exit_is 2
	check "message says world-writable" out_has "writable"
	check "nothing was written" test "$(writes)" -eq 0
	chmod 0644 "$ROOT/etc/pcibind/pcibind.conf"
	pb bind nosuchset
	check "unknown section is a usage error" exit_is 2
	pb bind gpu
	check "section selector binds (exit 0)" exit_is 0
	check "GPU on vfio-pci via [gpu]" is_driver $GPU2 vfio-pci
	sim_stop
}

scenario_dry_run() {
	sim_start dry-run workstation || return
	pb --dry-run bind 02:00
	check "dry run exits 0" exit_is 0
	check "dry run shows the GPU" out_has "$GPU2"
	check "dry run shows the target" out_has "vfio-pci"
	check "nothing was written" test "$(writes)" -eq 0
	check "no lock or journal created" test ! -e "$ROOT/run/pcibind"
	sim_stop
}

scenario_unbind() {
	sim_start unbind workstation || return
	pb unbind 06:00.0
	check "unbind exits 0" exit_is 0
	check "NIC driverless" is_driver 0000:06:00.0 none
	check "override 'none' keeps it driverless" is_override 0000:06:00.0 none
	pb restore 06:00.0
	check "restore exits 0" exit_is 0
	check "NIC back on igb" is_driver 0000:06:00.0 igb
	check "override cleared" is_override 0000:06:00.0 "(null)"
	sim_stop
}

scenario_no_iommu() {
	sim_start no-iommu noiommu || return
	local a
	a=$(ls "$ROOT/sys/bus/pci/devices" | tail -1)
	pb bind "$a"
	check "bind without IOMMU is refused (exit 3)" exit_is 3
	check "message says no IOMMU" out_has "IOMMU"
	check "nothing was written" test "$(writes)" -eq 0
	sim_stop
}

scenario_vanish() {
	sim_start vanish workstation || return
	ctl "vanish $AUD2 unbind"
	pb bind 02:00
	check "a vanished function fails the request (exit 1)" exit_is 1
	check "message names it" out_has "$AUD2"
	check "GPU put back on nvidia" is_driver $GPU2 nvidia
	check "GPU override cleared" is_override $GPU2 "(null)"
	sim_stop
}

scenario_status() {
	sim_start status workstation || return
	printf '[gpu2]\naddress = 02:00\nids = 10de:2204,10de:1aef\n\n[bootgpu]\naddress = 01:00\n' | conf
	pb status
	check "status exits 0" exit_is 0
	check "status lists the GPU with its driver" fn_shows $GPU2 "driver: nvidia"
	check "status shows IOMMU groups" out_has "IOMMU group"
	check "status gives the set's verdict" grep -q "gpu2.*ready" <<<"$OUT"
	check "status refuses the boot GPU set" grep -q "bootgpu.*refused" <<<"$OUT"
	pb status --json
	check "status --json exits 0" exit_is 0
	check "status --json is valid JSON" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["groups"] and d["sets"]' "$OUT"
	check "status wrote nothing" test "$(writes)" -eq 0
	sim_stop
}

scenario_parallel_groups() {
	local t0 t1 i sels=""
	sim_start parallel eightgpu || return
	for i in $(ls "$ROOT/sys/bus/pci/devices"); do
		case $(cat "$ROOT/sys/bus/pci/devices/$i/class") in
		0x0300*) ctl "block $i unbind 1"; sels="$sels ${i%.*}" ;;
		esac
	done
	t0=$(date +%s%N)
	pb bind $sels
	t1=$(date +%s%N)
	check "8 GPUs bind (exit 0)" exit_is 0
	timing_check "8 groups with a 1 s unbind each overlap (took $(((t1 - t0) / 1000000)) ms, serial >= 8000)" test $(((t1 - t0) / 1000000)) -lt 5000
	sim_stop
}

# jq-free JSON assertions: json_is EXPR EXPECTED, EXPR evaluated on the parsed $OUT as d
json_is() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); v=eval(sys.argv[2]); sys.exit(0 if str(v)==sys.argv[3] else 1)' "$OUT" "$1" "$2" 2>/dev/null
}

scenario_json_report() {
	sim_start json-report workstation || return
	OUT=$("$PCIBIND" --root "$ROOT" -q bind 02:00 --json 2>/dev/null); ST=$?
	check "bind --json exits 0" exit_is 0
	check "result is done" json_is 'd["result"]' done
	check "two actions, both done" json_is '[a["status"] for a in d["actions"]]' "['done', 'done']"
	check "from nvidia to vfio-pci" json_is '(d["actions"][0]["from"]["driver"], d["actions"][0]["driver_now"])' "('nvidia', 'vfio-pci')"
	OUT=$("$PCIBIND" --root "$ROOT" -q bind 01:00 --json 2>/dev/null); ST=$?
	check "refused --json exits 3" exit_is 3
	check "refusal kind console, not forced" json_is '[(r["kind"], r["forced"]) for r in d["refusals"]]' "[('console', False)]"
	ctl "failprobe 0000:06:00.0 vfio-pci EIO"
	OUT=$("$PCIBIND" --root "$ROOT" -q bind 06:00.0 --json 2>/dev/null); ST=$?
	check "failed --json exits 1" exit_is 1
	check "failed action names its step (the explicit bind after an empty probe)" json_is 'd["actions"][0]["failed_step"]' bind
	check "failed action is back on igb" json_is 'd["actions"][0]["driver_now"]' igb
	OUT=$("$PCIBIND" --root "$ROOT" -q restore -n --json 2>/dev/null); ST=$?
	check "dry run --json is planned" json_is 'd["result"]' planned
	sim_stop
}
