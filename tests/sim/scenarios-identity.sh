# scenarios-identity.sh - issue 24: a set knows its device (subsystem, serial number, slot) and where it went
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
# Topologies: identity-moved (GPU and a NIC with serial numbers moved to other slots),
# identity-renumber (an identical card inserted before the GPU shifted its bus; only the slot
# tells them apart), identity-swap (two identical GPUs with serial numbers swapped),
# identity-twins (two identical GPUs without serial numbers). The configuration each scenario
# writes is the one the machine had before the change.

GPU_DSN=00-11-22-33-44-55-66-77
NIC_DSN=00-1b-21-ff-fe-12-34-56

MOVED_CONF="# written before the cards moved
[gpu]
address = 0000:01:00   ; slot 1, before the move
ids = 10de:2204,10de:1aef
subsystem = 1458:403b
serial = $GPU_DSN
slot = 1
boot = yes

[nic]
address = 0000:04:00.0
ids = 8086:1533
serial = $NIC_DSN
follow = yes
boot = yes"

# in the udev path a function is seen before a host driver binds it: its driver unloaded
udev_pb() { pb apply --udev "$1"; }
conf_has() { grep -qxF -- "$1" "$ROOT/etc/pcibind/pcibind.conf"; }
# a machine with what setup's generate reads (setup_root, scenarios-setup.sh)
identity_start() {
	sim_start "$1" "$2" || return 1
	setup_root || { notok "cannot build the Debian userland below the root"; sim_stop; return 1; }
}

scenario_identity_moved() {
	sim_start identity-moved identity-moved || return
	printf '%s\n' "$MOVED_CONF" | conf
	cp "$ROOT/etc/pcibind/pcibind.conf" "$ROOT.conf.orig"
	pb bind gpu
	check "bind of a set whose address holds nothing: exit 2" exit_is 2
	check "... it says where the recorded device is, found by its serial number" \
		out_has "[gpu] expects its device at 0000:01:00.0 but no function is at 0000:01:00.0; it is at 0000:02:00.0 now (found by its serial number): \`pcibind setup --relocate gpu\` moves the set there"
	check "... and binds nothing (the GPU stays on nvidia)" is_driver 0000:02:00.0 nvidia
	pb status
	check "status says where the set's device is" \
		bash -c 'grep -qE "^  gpu .*absent: .*it is at 0000:02:00.0 now \(found by its serial number\)" <<<"$1"' _ "$OUT"
	pb check
	check "check: not ready (exit 1)" exit_is 1
	check "check names the moved set with the one command that fixes both" \
		out_has "fail  set gpu: absent: expects its device at 0000:01:00.0"
	check "... the fix is setup --relocate of every moved set" out_has 'fix: `pcibind setup --relocate gpu nic`'
	pb check --json
	check "check --json carries the fix" grep -qF '"fix": "`pcibind setup --relocate gpu nic`"' <<<"$OUT"
	pb apply
	check "apply: the GPU's set is absent, the NIC's followed (exit 5: something bound)" exit_is 5
	check "apply leaves the moved GPU alone (no follow = yes)" is_driver 0000:02:00.0 nvidia
	check "apply binds the NIC at its new address (follow = yes, serial found)" is_driver 0000:05:00.0 vfio-pci
	check "... and says what it did" \
		out_has "warning: [nic]: its device (serial number $NIC_DSN) is at 0000:05:00.0 now, not 0000:04:00.0: bound there (follow = yes)"
	check "... once" test "$(grep -c 'bound there (follow = yes)' <<<"$OUT")" -eq 1
	pb restore nic
	check "restore by the set's name gives the followed NIC back (exit 0)" exit_is 0
	check "... to igb" is_driver 0000:05:00.0 igb
	check "... with its override cleared and the journal empty" bash -c '[ "$(cat "$1/sys/bus/pci/devices/0000:05:00.0/driver_override")" = "(null)" ] && ! grep -q "^[^#]" "$1/run/pcibind/journal" 2>/dev/null' _ "$ROOT"
	pb restore gpu
	check "restore of the set that does not follow still says where its device is (exit 2)" \
		bash -c '[ "$1" = 2 ] && grep -qF "it is at 0000:02:00.0 now (found by its serial number)" <<<"$2"' _ "$ST" "$OUT"
	# the udev path sees a function before its host driver: unload the drivers first
	ctl reset
	ctl unload igb
	ctl unload nvidia
	udev_pb 0000:05:00.0
	check "apply --udev of the NIC at its new address: exit 0" exit_is 0
	check "... claims it for [nic] (follow = yes)" is_override 0000:05:00.0 vfio-pci
	check "... and says so" out_has "[nic]: its device (serial number $NIC_DSN) is at 0000:05:00.0 now: claiming 0000:05:00.0 there (follow = yes)"
	udev_pb 0000:02:00.0
	check "apply --udev of the GPU at its new address claims nothing (no follow)" is_override 0000:02:00.0 "(null)"
	sim_stop
}

scenario_identity_relocate() {
	sim_start identity-relocate identity-moved || return
	setup_root || { notok "cannot build the Debian userland below the root"; sim_stop; return; }
	printf '%s\n' "$MOVED_CONF" | conf
	cp "$ROOT/etc/pcibind/pcibind.conf" "$ROOT.conf.orig"
	pb setup --relocate gpu --dry-run
	check "setup --relocate gpu --dry-run: exit 0" exit_is 0
	check "... shows the configuration's diff: the address" bash -c 'grep -qx -- "-address = 0000:01:00   ; slot 1, before the move" <<<"$1" && grep -qx -- "+address = 0000:02:00 ; slot 1, before the move" <<<"$1"' _ "$OUT"
	check "... and the slot's new name" bash -c 'grep -qx -- "-slot = 1" <<<"$1" && grep -qx -- "+slot = 2" <<<"$1"' _ "$OUT"
	check "... and the boot files generate writes" out_has "+softdep nvidia pre: vfio-pci"
	check "... and changes nothing" cmp -s "$ROOT.conf.orig" "$ROOT/etc/pcibind/pcibind.conf"
	pb setup --relocate 0000:02:00
	check "setup --relocate of an address: usage error (exit 2)" exit_is 2
	pb setup --relocate gpu --name other
	check "setup --relocate with --name: usage error (exit 2)" exit_is 2
	pb setup --relocate gpu nic --yes
	check "setup --relocate gpu nic --yes: exit 0" exit_is 0
	check "the GPU's set is at its new slot" conf_has "address = 0000:02:00 ; slot 1, before the move"
	check "... its slot renamed" conf_has "slot = 2"
	check "the NIC's set is at its new address" conf_has "address = 0000:05:00.0"
	check "comments, ids, serial numbers and follow are kept" bash -c 'grep -qx "# written before the cards moved" "$1" && grep -qx "serial = '"$GPU_DSN"'" "$1" && grep -qx "follow = yes" "$1" && grep -qx "ids = 10de:2204,10de:1aef" "$1"' _ "$ROOT/etc/pcibind/pcibind.conf"
	check "only the address and slot lines changed" test "$(diff "$ROOT.conf.orig" "$ROOT/etc/pcibind/pcibind.conf" | grep -c '^[<>]')" -eq 6
	check "generate's files are written" file_has etc/modprobe.d/pcibind.conf "softdep nvidia pre: vfio-pci"
	pb check
	check "check has no moved set any more" bash -c '! grep -q "setup --relocate" <<<"$1"' _ "$OUT"
	pb setup --relocate gpu
	check "a second relocate has nothing to do (exit 0)" exit_is 0
	check "... and says so" out_has "[gpu]: nothing to do: its address holds its device"
	pb bind gpu
	check "bind gpu now binds the card at its new address" is_driver 0000:02:00.0 vfio-pci
	rm -f "$ROOT.conf.orig"
	sim_stop
}

RENUMBER_CONF='[gpu]
address = 0000:02:00
ids = 10de:2204,10de:1aef
subsystem = 1458:403b
slot = 2
boot = yes'

scenario_identity_renumber() {
	identity_start identity-renumber identity-renumber || return
	printf '%s\n' "$RENUMBER_CONF" | conf
	pb bind gpu
	check "bind of an address that holds an identical card from another slot: refused (exit 3)" exit_is 3
	check "... it says what changed: the slot's address" out_has "[gpu] expects its device at 0000:02:00.0 but slot 2 is at 0000:03:00 now"
	check "... and where the device is, by ids, subsystem and slot" out_has "it is at 0000:03:00.0 now (found by its ids and subsystem in its slot)"
	check "... and touches neither card" test "$(writes)" -eq 0
	check "the new card stays on nvidia" is_driver 0000:02:00.0 nvidia
	pb apply
	check "apply refuses the set (the new card at its address is not its device)" is_driver 0000:02:00.0 nvidia
	check "... and does not bind the configured card either (no serial: no follow)" is_driver 0000:03:00.0 nvidia
	check "... saying why" out_has "slot 2 is at 0000:03:00 now"
	vm_conf 100 <<-'EOF'
	hostpci0: 02:00
	EOF
	pb hook proxmox 100 pre-start
	check "the Proxmox hook refuses to start a VM with the address (non-zero exit)" test "$ST" -ne 0
	check "... naming the set and the slot" out_has "[gpu] expects its device at 0000:02:00.0 but slot 2 is at 0000:03:00 now"
	check "... leaving the card on nvidia" is_driver 0000:02:00.0 nvidia
	pb check
	check "check names the fix" out_has 'fix: `pcibind setup --relocate gpu`'
	pb setup --relocate gpu --dry-run
	check "setup --relocate gpu --dry-run: exit 0 with the new address" bash -c '[ "$1" = 0 ] && grep -qx -- "+address = 0000:03:00" <<<"$2"' _ "$ST" "$OUT"
	check "... the slot's name stays (it is the same slot)" bash -c '! grep -q -- "^+slot" <<<"$1"' _ "$OUT"
	ctl unload nvidia
	udev_pb 0000:02:00.0
	check "apply --udev of the new card at the old address claims nothing" is_override 0000:02:00.0 "(null)"
	check "... and says why" out_has "[gpu] expects another device at 0000:02:00.0: slot 2 is at 0000:03:00 now; not claiming it"
	sim_stop
}

SWAP_CONF='[vm1]
address = 0000:02:00
ids = 10de:2204,10de:1aef
subsystem = 1458:403b
serial = 00-00-00-00-00-00-0a-01
boot = yes

[vm2]
address = 0000:03:00
ids = 10de:2204,10de:1aef
subsystem = 1458:403b
serial = 00-00-00-00-00-00-0b-02
boot = yes'

scenario_identity_swap() {
	identity_start identity-swap identity-swap || return
	printf '%s\n' "$SWAP_CONF" | conf
	pb bind vm1
	check "bind of a set whose card was swapped with its twin: refused (exit 3)" exit_is 3
	check "... the serial number at the address is the other card's" \
		out_has "[vm1] expects its device at 0000:02:00.0 but 0000:02:00.0 holds 10de:2204 with serial number 00-00-00-00-00-00-0b-02 (00-00-00-00-00-00-0a-01 recorded)"
	check "... its own card is found by its serial number, at vm2's address: relocate both" \
		out_has "it is at 0000:03:00.0 now (found by its serial number), [vm2]'s address: \`pcibind setup --relocate vm1 vm2\` moves both sets"
	check "... nothing is written" test "$(writes)" -eq 0
	pb status vm2
	check "status says the same of vm2" out_has "it is at 0000:02:00.0 now (found by its serial number)"
	pb status --json
	check "status --json: the set's verdict is ids, with the same sentence" \
		bash -c 'python3 -c "import json,sys; d=json.load(sys.stdin); s=[x for x in d[\"sets\"] if x[\"name\"]==\"vm1\"][0]; sys.exit(0 if s[\"verdict\"]==\"ids\" and \"found by its serial number\" in json.dumps(s) else 1)" <<<"$1"' _ "$OUT"
	pb check
	check "check: the fix moves both sets at once" out_has 'fix: `pcibind setup --relocate vm1 vm2`'
	pb setup --relocate vm1 --dry-run
	check "relocating one of two swapped sets alone: the configuration error says why (exit 2)" \
		bash -c '[ "$1" = 2 ] && grep -q "0000:03:00 in \[vm2\] is also in \[vm1\]" <<<"$2"' _ "$ST" "$OUT"
	pb setup --relocate vm1 vm2 --dry-run
	check "setup --relocate vm1 vm2 --dry-run: exit 0, both addresses swapped in the diff" \
		bash -c '[ "$1" = 0 ] && grep -qx -- "+address = 0000:03:00" <<<"$2" && grep -qx -- "+address = 0000:02:00" <<<"$2"' _ "$ST" "$OUT"
	pb apply
	check "apply without follow binds neither swapped card" \
		bash -c '[ "$(readlink "$1/0000:02:00.0/driver" | xargs basename)" = nvidia ] && [ "$(readlink "$1/0000:03:00.0/driver" | xargs basename)" = nvidia ]' _ "$ROOT/sys/bus/pci/devices"
	sed 's/^boot = yes$/boot = yes\nfollow = yes/' <<<"$SWAP_CONF" | conf
	pb apply
	check "with follow = yes, apply binds each set's card where it is now (exit 5)" exit_is 5
	check "... both cards on vfio-pci" bash -c '[ "$(readlink "$1/0000:02:00.0/driver" | xargs basename)" = vfio-pci ] && [ "$(readlink "$1/0000:03:00.0/driver" | xargs basename)" = vfio-pci ]' _ "$ROOT/sys/bus/pci/devices"
	check "... saying where each was found" bash -c 'grep -qF "[vm1]: its device (serial number 00-00-00-00-00-00-0a-01) is at 0000:03:00.0 now, not 0000:02:00.0" <<<"$1" && grep -qF "[vm2]: its device (serial number 00-00-00-00-00-00-0b-02) is at 0000:02:00.0 now, not 0000:03:00.0" <<<"$1"' _ "$OUT"
	check "... and the journal names the set each went through" grep -q "0000:03:00.0" "$ROOT/run/pcibind/journal"
	sim_stop
}

TWINS_CONF='[vm1]
address = 0000:02:00
ids = 10de:2204,10de:1aef
subsystem = 1458:403b

[vm2]
address = 0000:03:00
ids = 10de:2204,10de:1aef
subsystem = 1458:403b'

scenario_identity_twins() {
	identity_start identity-twins identity-twins || return
	printf '%s\n' "$TWINS_CONF" | conf
	pb bind vm1
	check "two identical cards without serial numbers: a swap is invisible, bind binds the address (exit 0)" exit_is 0
	check "... the card at vm1's address on vfio-pci" is_driver 0000:02:00.0 vfio-pci
	check "... the other untouched" is_driver 0000:03:00.0 nvidia
	pb restore vm1
	printf '[gpu]\naddress = 0000:04:00\nids = 10de:2204,10de:1aef\nsubsystem = 1458:403b\nboot = yes\n' | conf
	pb bind gpu
	check "a set whose card left: exit 2" exit_is 2
	check "... the two identical candidates are named, and not guessed between" \
		out_has "no function is at 0000:04:00.0; 0000:02:00.0, 0000:03:00.0 have its ids and subsystem and no serial number tells them apart: not guessing"
	pb check
	check "check offers no relocation" bash -c '! grep -q "setup --relocate" <<<"$1"' _ "$OUT"
	check "... but says why" out_has "not guessing"
	pb setup --relocate gpu --dry-run
	check "setup --relocate refuses to guess (exit 2)" bash -c '[ "$1" = 2 ] && grep -q "not guessing" <<<"$2"' _ "$ST" "$OUT"
	ctl reset
	pb apply
	check "apply binds neither card" test "$(writes)" -eq 0
	sim_stop
}

scenario_identity_gone() {
	sim_start identity-gone identity-moved || return
	printf '[old]\naddress = 0000:04:00.0\nids = 8086:1533\nserial = 00-1b-21-ff-fe-99-99-99\nfollow = yes\nboot = yes\n' | conf
	pb bind old
	check "a recorded device that is nowhere: exit 2" exit_is 2
	check "... it says so, with the file and line to fix" \
		out_has "[old] expects its device at 0000:04:00.0 but no function is at 0000:04:00.0; it is not on this host; fix the address in $ROOT/etc/pcibind/pcibind.conf:1"
	pb apply
	check "apply with follow = yes binds nothing without a serial match (the other NIC stays)" is_driver 0000:05:00.0 igb
	check "... no sysfs write at all" test "$(writes)" -eq 0
	pb check
	check "check offers no relocation" bash -c '! grep -q "setup --relocate" <<<"$1"' _ "$OUT"
	# the NIC at the set's address is another one: its serial number differs
	printf '[nic]\naddress = 0000:05:00.0\nids = 8086:1533\nserial = 00-1b-21-ff-fe-99-99-99\n' | conf
	pb bind nic
	check "an address holding the same ids with another serial number: refused (exit 3)" exit_is 3
	check "... naming both numbers" out_has "0000:05:00.0 holds 8086:1533 with serial number $NIC_DSN (00-1b-21-ff-fe-99-99-99 recorded)"
	check "... the NIC stays on igb" is_driver 0000:05:00.0 igb
	sim_stop
}

scenario_identity_setup_records() {
	sim_start identity-setup-records identity-moved || return
	setup_root || { notok "cannot build the Debian userland below the root"; sim_stop; return; }
	pb setup 02:00 --dry-run --no-boot
	check "setup --dry-run of the GPU: exit 0" exit_is 0
	check "it records the subsystem" bash -c 'grep -qx -- "+subsystem = 1458:403b" <<<"$1"' _ "$OUT"
	check "it records the serial number as lspci shows it" bash -c 'grep -qx -- "+serial = '"$GPU_DSN"'" <<<"$1"' _ "$OUT"
	check "it records the physical slot" bash -c 'grep -qx -- "+slot = 2" <<<"$1"' _ "$OUT"
	pb setup 05:00.0 --no-boot --yes --name nic
	check "setup of the NIC: exit 0" exit_is 0
	check "the file has its serial number" conf_has "serial = $NIC_DSN"
	check "... and no slot (it has none)" bash -c '! grep -q "^slot" "$1"' _ "$ROOT/etc/pcibind/pcibind.conf"
	pb status nic
	check "the set it wrote reads back: ready" bash -c 'grep -q "^  nic .*ready" <<<"$1"' _ "$OUT"
	if command -v lspci >/dev/null; then
		check "lspci reads the same serial number from the simulated config space" \
			bash -c 'lspci -A linux-sysfs -O sysfs.path="$1/sys/bus/pci" -vvv -s 02:00.0 2>/dev/null | grep -qF "Device Serial Number $2"' _ "$ROOT" "$GPU_DSN"
	else
		notok "lspci is not installed (pciutils): the serial number is not checked against it"
	fi
	sim_stop
}

scenario_identity_config_errors() {
	sim_start identity-config-errors identity-moved || return
	printf '[gpu]\naddress = 0000:02:00\nserial = 0011223344556677\n' | conf
	pb status
	check "a serial not in lspci's form: exit 2 with file:line" \
		bash -c '[ "$1" = 2 ] && grep -qF "pcibind.conf:3: invalid serial '\''0011223344556677'\'' in [gpu]" <<<"$2"' _ "$ST" "$OUT"
	printf '[gpu]\naddress = 0000:02:00\nsubsystem = 1458\n' | conf
	pb status
	check "a bad subsystem: exit 2 with file:line" bash -c '[ "$1" = 2 ] && grep -qF "pcibind.conf:3: invalid subsystem" <<<"$2"' _ "$ST" "$OUT"
	printf '[gpu]\naddress = 0000:02:00\nslot = ../x\n' | conf
	pb status
	check "a slot that is no directory name: exit 2 with file:line" bash -c '[ "$1" = 2 ] && grep -qF "pcibind.conf:3: invalid slot" <<<"$2"' _ "$ST" "$OUT"
	printf '[gpu]\naddress = 0000:02:00\nfollow = yes\n' | conf
	pb status
	check "follow = yes without a serial: exit 2 with file:line" bash -c '[ "$1" = 2 ] && grep -qF "pcibind.conf:3: [gpu] has follow = yes but no serial" <<<"$2"' _ "$ST" "$OUT"
	printf '[gpu]\nids = 10de:2204\nserial = 00-11-22-33-44-55-66-77\n' | conf
	pb status
	check "identity keys without an address: exit 2 with file:line" bash -c '[ "$1" = 2 ] && grep -qF "pcibind.conf:3: [gpu] records a device" <<<"$2"' _ "$ST" "$OUT"
	printf '[gpu]\naddress = 0000:02:00\nserial = 00-11-22-33-44-55-66-77\nserial = 00-11-22-33-44-55-66-77\n' | conf
	pb status
	check "a key twice: exit 2" exit_is 2
	sim_stop
}

scenario_identity_check_vm() {
	sim_start identity-check-vm identity-moved || return
	echo pve1 >"$ROOT/etc/hostname"
	mkdir -p "$ROOT/etc/pve/qemu-server" "$ROOT/etc/pve/mapping"
	printf '%s\n' "gpu" "	map id=10de:2204,iommugroup=5,node=pve1,path=0000:01:00,subsystem-id=1458:403b" "" \
		>"$ROOT/etc/pve/mapping/pci.cfg"
	printf 'hostpci0: mapping=gpu,pcie=1\nmachine: q35\n' >"$ROOT/etc/pve/qemu-server/100.conf"
	pb check --vm 100
	check "check --vm of a mapping whose path is empty now: not ready (exit 1)" exit_is 1
	check "... it says where the mapping's device is and the command that points the mapping there" \
		out_has "its device is at 0000:02:00 now: \`pvesh set /cluster/mapping/pci/gpu --map node=pve1,path=0000:02:00,id=10de:2204,subsystem-id=1458:403b\`"
	sim_stop
}
