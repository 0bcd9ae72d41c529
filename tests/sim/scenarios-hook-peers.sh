# scenarios-hook-peers.sh - the hooks agree with what qemu-server and libvirt will really pass to QEMU
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
#
# Each case is ours, written from the peers' source: qemu-server PVE/QemuServer/PCI.pm
# (parse_hostpci, choose_hostpci_devices, reserve_pci_usage), PVE/QemuServer.pm (vm_start_nolock
# runs pre-start before the choice, config_to_command drops a template's hostpci, driver=keep in
# prepare_pci_device), pve-guest-common PVE/Mapping/PCI.pm; libvirt src/conf/domain_conf.c
# (<interface type='hostdev'> goes on the hostdev list) and src/hypervisor/virhostdev.c.
#
# hook-pool.topo: NICs 03:00.0 and 04:00.0 form the mapping "nic" (identical igb, groups 11 and 12),
# 05:00.0 carries the default route, GPU 01:00 (amdgpu + audio). sriov.topo: VFs 06:10.0, 06:10.4.

P3=0000:03:00.0
P4=0000:04:00.0

pool_start() {
	sim_start "$1" hook-pool || return 1
	echo pve1 >"$ROOT/etc/hostname"
	mkdir -p "$ROOT/etc/pve/qemu-server" "$ROOT/etc/pve/mapping" "$ROOT/run/qemu-server"
	printf '%s\n' "nic" \
		"	map id=8086:1533,iommugroup=11,node=pve1,path=0000:03:00.0,subsystem-id=1458:e000" \
		"	map id=8086:1533,iommugroup=12,node=pve1,path=0000:04:00.0,subsystem-id=1458:e000" \
		"	description two identical ports; a VM takes the first free one" >"$ROOT/etc/pve/mapping/pci.cfg"
}

# pvm VMID <CONFIG: /etc/pve/qemu-server/VMID.conf
pvm() { cat >"$ROOT/etc/pve/qemu-server/$1.conf"; }

# fake_qemu VMID PID: what a running VM leaves for qemu-server's vm_running_locally(): its pidfile,
# and a QEMU process whose -pidfile names it
fake_qemu() {
	mkdir -p "$ROOT/proc/$2"
	echo "$2" >"$ROOT/run/qemu-server/$1.pid"
	printf '/usr/bin/kvm\0-id\0%s\0-pidfile\0/var/run/qemu-server/%s.pid\0-daemonize\0' "$1" "$1" >"$ROOT/proc/$2/cmdline"
	echo "$2 (kvm) S 1 $2 $2 0 -1 4194624 0 0 0 0 0 0 0 0 20 0 9 0 100 0 0" >"$ROOT/proc/$2/stat"
}

# reserve ID VMID KIND:VALUE: a line of qemu-server's /run/qemu-server/pci-id-reservations
reserve() { echo "$1 $2 $3" >>"$ROOT/run/qemu-server/pci-id-reservations"; }

# writes to sysfs that concern a function (its attributes, or its address written to a driver file)
writes_of() { sim_log | tail -n +"$(($2 + 1))" | grep ' -> ' | grep -v '^\.pcisim/' | grep -c "$1"; }
record_of() { cat "$ROOT/run/pcibind/vm/$1" 2>/dev/null | grep -v '^#'; }

# Disagreement 1: the map entries of one node are alternatives, one per hostpci that names the mapping
scenario_hook_peers_mapping_pool() {
	pool_start hook-peers-mapping-pool || return
	pvm 100 <<-'EOF'
	hostpci0: mapping=nic
	hostpci2: mapping=nic
	name: router
	EOF
	pb hook proxmox 100 pre-start
	check "pre-start exits 0" exit_is 0
	check "hostpci0 gets the first port: 03:00.0 on vfio-pci" is_driver $P3 vfio-pci
	check "hostpci2 gets the second port: 04:00.0 on vfio-pci (qemu-server passes both)" is_driver $P4 vfio-pci
	check "the uplink twin is untouched" is_driver 0000:05:00.0 igb
	check "the record lists both" test "$(record_of proxmox-100 | tr '\n' ' ')" = "$P3 $P4 "
	pb hook proxmox 100 post-stop
	check "post-stop exits 0" exit_is 0
	check "03:00.0 back on igb" is_driver $P3 igb
	check "04:00.0 back on igb (it has a journal record too)" is_driver $P4 igb
	check "journal emptied" no_journal
	check "record removed" test ! -e "$ROOT/run/pcibind/vm/proxmox-100"
	sim_stop
}

# Another VM holds the first port: this VM gets the second, and its stop gives back exactly that one
scenario_hook_peers_mapping_reserved() {
	pool_start hook-peers-mapping-reserved || return
	pvm 101 <<<"hostpci0: mapping=nic"
	pb hook proxmox 101 pre-start
	check "VM 101 pre-start takes the first port" is_driver $P3 vfio-pci
	fake_qemu 101 4242
	reserve $P3 101 pid:4242
	pvm 100 <<<"hostpci0: mapping=nic"
	local n
	n=$(loglen)
	pb hook proxmox 100 pre-start
	check "VM 100 pre-start exits 0" exit_is 0
	check "VM 100 gets the second port: 04:00.0 on vfio-pci" is_driver $P4 vfio-pci
	check "the message names it" out_has "$P4: igb -> vfio-pci"
	check "nothing written for VM 101's port" test "$(writes_of 03:00.0 "$n")" -eq 0
	n=$(loglen)
	pb hook proxmox 100 post-stop
	check "VM 100 post-stop exits 0" exit_is 0
	check "04:00.0 back on igb" is_driver $P4 igb
	check "VM 101's port stays on vfio-pci" is_driver $P3 vfio-pci
	check "post-stop wrote nothing for VM 101's port" test "$(writes_of 03:00.0 "$n")" -eq 0
	# the same with a slot given to this VM first: hostpci1 may not take what hostpci0 has
	printf 'hostpci0: mapping=nic\nhostpci1: mapping=nic\n' | pvm 102
	n=$(loglen)
	pb hook proxmox 102 pre-start
	check "two entries, one free port: pre-start refused as qemu-server would" test "$ST" -ne 0
	check "the message says no free device is left" out_has "hostpci1: could not find a free device"
	check "nothing written" test "$(writes_since "$n")" -eq 0
	pb hook proxmox 101 post-stop
	check "VM 101 post-stop gives its port back" is_driver $P3 igb
	# VM 101 is gone but its reservation was left behind: qemu-server takes "leftover" reservations
	rm -rf "$ROOT/proc/4242"
	pb hook proxmox 100 pre-start
	check "a leftover reservation does not hold the port: VM 100 gets 03:00.0" is_driver $P3 vfio-pci
	check "and not 04:00.0" is_driver $P4 igb
	pb hook proxmox 100 post-stop
	check "journal emptied" no_journal
	sim_stop
}

# A reservation of a start still under way: qemu-server may or may not give that port to this VM
scenario_hook_peers_mapping_unknowable() {
	pool_start hook-peers-mapping-unknowable || return
	reserve $P3 101 "time:$(($(date +%s) + 60))"
	pvm 100 <<<"hostpci0: mapping=nic"
	pb hook proxmox 100 pre-start
	check "pre-start refused (cannot know which port)" test "$ST" -ne 0
	check "the message says why" out_has "pcibind cannot know which one this VM gets"
	check "and what to do" out_has "once VM 101 is up"
	check "nothing written" nowrites
	check "no record" test ! -e "$ROOT/run/pcibind/vm/proxmox-100"
	pvm 103 <<<"hostpci0: 04:00.0"
	pb hook proxmox 103 pre-start
	check "a VM that does not use the reserved port starts (exit 0)" exit_is 0
	pb hook proxmox 103 post-stop
	sim_stop
}

# Disagreement 2: driver=keep is neither reset nor bound to vfio-pci
scenario_hook_peers_driver_keep() {
	pool_start hook-peers-driver-keep || return
	pvm 100 <<-'EOF'
	hostpci0: 04:00.0,driver=keep
	hostpci1: 03:00.0
	EOF
	pb hook proxmox 100 pre-start
	check "pre-start exits 0" exit_is 0
	check "driver=keep: 04:00.0 stays on igb" is_driver $P4 igb
	check "the other entry is bound" is_driver $P3 vfio-pci
	check "the message says it is left alone" out_has "hostpci0: $P4: driver=keep, left on igb"
	check "nothing written for the kept one" test "$(writes_of 04:00.0 0)" -eq 0
	pb hook proxmox 100 post-stop
	check "post-stop exits 0" exit_is 0
	check "03:00.0 back" is_driver $P3 igb
	check "nothing written for the kept one, ever" test "$(writes_of 04:00.0 0)" -eq 0
	sim_stop
}

# Disagreement 3: qemu-server starts a template without its hostpci devices (for a backup)
scenario_hook_peers_template() {
	pool_start hook-peers-template || return
	pvm 100 <<-'EOF'
	hostpci0: 01:00,x-vga=1
	hostpci1: 03:00.0
	template: 1
	EOF
	pb hook proxmox 100 pre-start
	check "a template's pre-start exits 0" exit_is 0
	check "it says why nothing moves" out_has "a template"
	check "nothing written" nowrites
	pb hook proxmox 100 post-stop
	check "post-stop exits 0, nothing written" bash -c '[ "$1" = 0 ] && [ "$2" = 0 ]' _ "$ST" "$(writes)"
	sim_stop
}

# Disagreement 5: a slot above 1f
scenario_hook_peers_slot_range() {
	pool_start hook-peers-slot-range || return
	pvm 100 <<<"hostpci0: 01:20.0"
	pb hook proxmox 100 pre-start
	check "pre-start fails" test "$ST" -ne 0
	check "the message says the slot is out of range" out_has "hostpci0: 01:20.0: slot 20 out of range (00-1f)"
	pvm 100 <<<"hostpci0: 01:00.9"
	pb hook proxmox 100 pre-start
	check "a function above 7: out of range too" out_has "function 9 out of range (0-7)"
	check "nothing written" nowrites
	sim_stop
}

# post-stop gives back what pre-start recorded, whatever the config says by then
scenario_hook_peers_record() {
	pool_start hook-peers-record || return
	pvm 100 <<<"hostpci0: 04:00.0"
	pb hook proxmox 100 pre-start
	check "pre-start exits 0" exit_is 0
	check "the record names 04:00.0" test "$(record_of proxmox-100)" = $P4
	check "the record is root's, 0600" test "$(stat -c %a "$ROOT/run/pcibind/vm/proxmox-100")" = 600
	pvm 100 <<<"hostpci0: 03:00.0" # edited while the VM runs
	pb hook proxmox 100 post-stop
	check "post-stop exits 0" exit_is 0
	check "what the start took comes back: 04:00.0 on igb" is_driver $P4 igb
	check "the function the edited config names is not touched" test "$(writes_of 03:00.0 0)" -eq 0
	check "record removed" test ! -e "$ROOT/run/pcibind/vm/proxmox-100"
	# a record someone else could have written is not believed
	pvm 100 <<<"hostpci0: 04:00.0"
	pb hook proxmox 100 pre-start
	chmod 0666 "$ROOT/run/pcibind/vm/proxmox-100"
	local n
	n=$(loglen)
	pb hook proxmox 100 post-stop
	check "a world-writable record: nothing given back" test "$(writes_since "$n")" -eq 0
	check "the message says why" out_has "writable by others"
	chmod 0600 "$ROOT/run/pcibind/vm/proxmox-100"
	printf '%s\n' "# pcibind" "$P4" "../../etc/shadow" >"$ROOT/run/pcibind/vm/proxmox-100"
	pb hook proxmox 100 post-stop
	check "a record with a line that is no address: refused, naming the file and line" \
		out_has "run/pcibind/vm/proxmox-100:3: not a PCI address"
	check "still nothing given back" test "$(writes_since "$n")" -eq 0
	echo "$P4" >"$ROOT/elsewhere"
	rm -f "$ROOT/run/pcibind/vm/proxmox-100"
	ln -s "$ROOT/elsewhere" "$ROOT/run/pcibind/vm/proxmox-100"
	pb hook proxmox 100 post-stop
	check "a record that is a symlink is not followed: nothing given back" test "$(writes_since "$n")" -eq 0
	check "and said so" out_has "not a regular file of root's"
	rm -f "$ROOT/run/pcibind/vm/proxmox-100"
	mkfifo "$ROOT/run/pcibind/vm/proxmox-100"
	timeout 20 "$PCIBIND" --root "$ROOT" hook proxmox 100 post-stop >/dev/null 2>&1
	check "a FIFO in its place does not hang post-stop" test $? -ne 124
	check "and nothing is given back" test "$(writes_since "$n")" -eq 0
	rm -f "$ROOT/run/pcibind/vm/proxmox-100"
	pb hook proxmox 100 post-stop
	check "no record (a start by an older pcibind): the config is used, and said so" out_has "no record of what"
	check "04:00.0 back" is_driver $P4 igb
	sim_stop
}

# --dry-run lists each function with its drivers; --json is bind --json's report
scenario_hook_peers_dry_run_json() {
	pool_start hook-peers-dry-run-json || return
	pvm 100 <<-'EOF'
	hostpci0: 04:00.0
	hostpci1: 01:00,x-vga=1
	EOF
	OUT=$("$PCIBIND" --root "$ROOT" --dry-run hook proxmox 100 pre-start 2>/dev/null)
	ST=$?
	check "dry run exits 0" exit_is 0
	check "lists the NIC with its drivers and entry" out_has "$P4  group 12  igb -> vfio-pci  (hostpci0)"
	check "lists the GPU" out_has "0000:01:00.0  group 10  amdgpu -> vfio-pci  (hostpci1)"
	check "lists the audio" out_has "0000:01:00.1  group 10  snd_hda_intel -> vfio-pci  (hostpci1)"
	check "nothing written" nowrites
	check "no record, no journal" bash -c '[ ! -e "$1/run/pcibind/vm/proxmox-100" ] && [ ! -e "$1/run/pcibind/journal" ]' _ "$ROOT"
	OUT=$("$PCIBIND" --root "$ROOT" hook -n proxmox 100 pre-start 2>/dev/null)
	check "the options may follow 'hook'" out_has "$P4  group 12  igb -> vfio-pci"
	OUT=$("$PCIBIND" --root "$ROOT" hook --json proxmox 100 pre-start 2>/dev/null)
	ST=$?
	check "--json pre-start exits 0" exit_is 0
	check "--json: one valid object with the VM, the phase and three actions done" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["command"] == "hook" and d["hook"] == "proxmox" and d["vm"] == "100" and d["phase"] == "pre-start"
assert d["result"] == "done" and d["exit_status"] == 0 and not d["dry_run"]
acts = {a["address"]: a for a in d["actions"]}
assert set(acts) == {"0000:04:00.0", "0000:01:00.0", "0000:01:00.1"}
assert all(a["status"] == "done" and a["to"]["driver"] == "vfio-pci" for a in acts.values())
assert acts["0000:04:00.0"]["from"]["driver"] == "igb"
assert [x["origin"] for x in d["devices"]] == ["hostpci0", "hostpci1", "hostpci1"]
' "$OUT"
	OUT=$("$PCIBIND" --root "$ROOT" --dry-run hook proxmox 100 post-stop 2>/dev/null)
	check "dry-run post-stop lists what would come back" out_has "$P4  group 12  vfio-pci -> igb"
	OUT=$("$PCIBIND" --root "$ROOT" --json hook proxmox 100 post-stop 2>/dev/null)
	check "--json post-stop: three actions back to their host drivers" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["phase"] == "post-stop" and d["result"] == "done", d
drv = {a["address"]: a["to"]["driver"] for a in d["actions"]}
assert drv == {"0000:04:00.0": "igb", "0000:01:00.0": "amdgpu", "0000:01:00.1": "snd_hda_intel"}, drv
' "$OUT"
	check "all back" bash -c '[ "$1" = "igb amdgpu" ]' _ "$(driver_of $P4) $(driver_of 0000:01:00.0)"
	OUT=$("$PCIBIND" --root "$ROOT" --json hook proxmox 100 post-start 2>/dev/null)
	check "--json in a phase that does nothing: an empty report" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["actions"] == [] and d["result"] == "nothing-to-do"
' "$OUT"
	pb hook --bogus proxmox 100 pre-start
	check "an unknown option before the kind is a usage error" exit_is 2
	sim_stop
}

# Disagreement 4: <interface type='hostdev'> (an SR-IOV VF as a guest NIC) is a PCI hostdev
scenario_hook_peers_libvirt_interface() {
	sim_start hook-peers-libvirt-interface sriov || return
	local xml
	xml=$(printf '%s\n' "<domain type='kvm'><name>fw</name><devices>" \
		"<interface type='hostdev' managed='no'><mac address='52:54:00:6d:90:02'/>" \
		"<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x0'/></source></interface>" \
		"<interface type='hostdev' managed='yes'>" \
		"<source><address type='pci' domain='0x0000' bus='0x06' slot='0x10' function='0x4'/></source></interface>" \
		"<interface type='network'><source network='default'/></interface>" \
		"</devices></domain>")
	OUT=$("$PCIBIND" --root "$ROOT" hook libvirt fw prepare begin - <<<"$xml" 2>&1)
	ST=$?
	check "prepare begin exits 0" exit_is 0
	check "the managed='no' VF interface is on vfio-pci" is_driver 0000:06:10.0 vfio-pci
	check "the message names it as an interface" out_has "0000:06:10.0: igbvf -> vfio-pci"
	check "the managed='yes' VF is left to libvirt" is_driver 0000:06:10.4 igbvf
	check "the PF keeps its driver" is_driver 0000:06:00.0 igb
	OUT=$("$PCIBIND" --root "$ROOT" hook libvirt fw release end - <<<"$xml" 2>&1)
	ST=$?
	check "release end exits 0" exit_is 0
	check "the VF is back on igbvf" is_driver 0000:06:10.0 igbvf
	check "journal emptied" no_journal
	check "record removed" test ! -e "$ROOT/run/pcibind/vm/libvirt-fw"
	sim_stop
}
