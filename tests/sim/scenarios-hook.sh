# scenarios-hook.sh - pcibind hook proxmox|libvirt through the real binary against the simulator
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
# workstation.topo: boot GPU 01:00 (console), second GPU 02:00.0 + audio 02:00.1 (group 2),
# NICs 05:00.0 (default route) and 06:00.0. hook-singlegpu.topo: one GPU 01:00.0 + audio,
# fbcon and the EFI framebuffer on it, a NIC 05:00.0.

HG=0000:02:00.0
HA=0000:02:00.1
SG=0000:01:00.0
SA=0000:01:00.1

# vm_conf VMID: the Proxmox VM config from stdin; node name pve1
vm_conf() {
	mkdir -p "$ROOT/etc/pve/qemu-server"
	cat >"$ROOT/etc/pve/qemu-server/$1.conf"
	[ -e "$ROOT/etc/hostname" ] || echo pve1 >"$ROOT/etc/hostname"
}

# hx ARGS... <XML: pcibind hook libvirt ARGS with the XML on stdin
hx() {
	OUT=$("$PCIBIND" --root "$ROOT" hook libvirt "$@" 2>&1)
	ST=$?
}

nowrites() { [ "$(writes)" -eq 0 ]; }
writes_since() { sim_log | tail -n +"$(($1 + 1))" | grep ' -> ' | grep -vc '^\.pcisim/'; }
loglen() { sim_log | wc -l; }
# line number of the first log line matching a fixed string
at() { sim_log | grep -nF -- "$1" | head -1 | cut -d: -f1; }
before() { local a b; a=$(at "$1"); b=$(at "$2"); [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; }
out_lacks() { ! grep -qF -- "$1" <<<"$OUT"; }

hostdev() { # BUS SLOT FN [MANAGED]
	echo "<hostdev mode='subsystem' type='pci' managed='${4:-no}'><source><address domain='0x0000' bus='0x$1' slot='0x$2' function='0x$3'/></source></hostdev>"
}
domain() { printf "<domain type='kvm'>\n<name>win11</name>\n<devices>\n%s\n</devices>\n</domain>\n" "$*"; }

scenario_hook_proxmox_round_trip() {
	sim_start hook-proxmox-round-trip workstation || return
	vm_conf 100 <<-'EOF'
	boot: order=scsi0
	cores: 8
	hostpci0: 02:00,pcie=1,x-vga=1
	machine: q35
	name: win11
	vga: none
	EOF
	pb hook proxmox 100 pre-start
	check "pre-start exits 0" exit_is 0
	check "GPU on vfio-pci" is_driver $HG vfio-pci
	check "audio (same slot) on vfio-pci" is_driver $HA vfio-pci
	check "the message names the VM and the phase" out_has "hook: VM 100 pre-start: $HG: nvidia -> vfio-pci"
	check "the other GPU is untouched" is_driver $SG nvidia
	local n
	n=$(loglen)
	pb hook proxmox 100 post-start
	check "post-start exits 0" exit_is 0
	pb hook proxmox 100 pre-stop
	check "pre-stop exits 0" exit_is 0
	pb hook proxmox 100 migrate-whatever
	check "an unknown phase exits 0" exit_is 0
	check "post-start, pre-stop and unknown phases write nothing" test "$(writes_since "$n")" -eq 0
	pb hook proxmox 100 post-stop
	check "post-stop exits 0" exit_is 0
	check "GPU back on nvidia" is_driver $HG nvidia
	check "audio back on snd_hda_intel" is_driver $HA snd_hda_intel
	check "override cleared" is_override $HG "(null)"
	check "journal emptied" no_journal
	pb hook proxmox 100 post-stop
	check "a second post-stop exits 0 and does nothing" exit_is 0
	sim_stop
}

scenario_hook_proxmox_forms() {
	sim_start hook-proxmox-forms workstation || return
	vm_conf 4242 <<-'EOF'
	hostpci0: 0000:02:00.0;02:00.1,pcie=1,x-vga=1
	hostpci1: host=06:00.0,rombar=0
	machine: pc-q35-8.1
	[before-upgrade]
	hostpci0: 01:00
	hostpci1: 05:00.0
	snaptime: 1700000000
	EOF
	pb hook proxmox 4242 pre-start
	check "pre-start exits 0" exit_is 0
	check "02:00.0 (full address in a ';' list) on vfio-pci" is_driver $HG vfio-pci
	check "02:00.1 (short address in a ';' list) on vfio-pci" is_driver $HA vfio-pci
	check "06:00.0 (host=) on vfio-pci" is_driver 0000:06:00.0 vfio-pci
	check "the snapshot's 01:00 is ignored" is_driver $SG nvidia
	check "the snapshot's 05:00.0 is ignored" is_driver 0000:05:00.0 igb
	pb hook proxmox 4242 post-stop
	check "post-stop exits 0" exit_is 0
	check "all back" bash -c '[ "$1" = "nvidia snd_hda_intel igb" ]' _ "$(driver_of $HG) $(driver_of $HA) $(driver_of 0000:06:00.0)"
	check "journal emptied" no_journal
	local n
	n=$(loglen)
	vm_conf 4243 <<-'EOF'
	hostpci1: host=06:00.0
	hostpci2: 0000:06:00.0
	EOF
	pb hook proxmox 4243 pre-start
	check "a function in two entries: pre-start fails, as qemu-server's start would" test "$ST" -ne 0
	check "the message says it is assigned twice" out_has "device '0000:06:00.0' assigned more than once"
	check "nothing written for it" test "$(writes_since "$n")" -eq 0
	sim_stop
}

scenario_hook_proxmox_mapping() {
	sim_start hook-proxmox-mapping workstation || return
	echo "pve1.example.org" >"$ROOT/etc/hostname"
	mkdir -p "$ROOT/etc/pve/mapping"
	printf '%s\n' "gpu2" \
		"	map id=10de:2204,iommugroup=2,node=pve1,path=0000:02:00,subsystem-id=1458:403b" \
		"	map id=10de:2204,iommugroup=1,node=pve2,path=0000:01:00,subsystem-id=1458:403b" \
		"	description the second GPU" "" \
		"stale" "	map id=1002:67df,iommugroup=2,node=pve1,path=0000:02:00,subsystem-id=1458:403b" "" \
		"elsewhere" "	map id=10de:2204,iommugroup=2,node=pve2,path=0000:02:00,subsystem-id=1458:403b" "" \
		"gone" "	map id=10de:2204,node=pve1,path=0000:0a:00.0,subsystem-id=1458:403b" \
		>"$ROOT/etc/pve/mapping/pci.cfg"
	printf 'hostpci0: mapping=gpu2,pcie=1,x-vga=1\nmachine: q35\n' | vm_conf 101
	pb hook proxmox 101 pre-start
	check "pre-start with a mapping exits 0" exit_is 0
	check "mapped GPU on vfio-pci" is_driver $HG vfio-pci
	check "mapped audio on vfio-pci" is_driver $HA vfio-pci
	check "the other node's path is not used" is_driver $SG nvidia
	pb hook proxmox 101 post-stop
	check "post-stop exits 0" exit_is 0
	check "mapped GPU back on nvidia" is_driver $HG nvidia
	local name n
	for name in stale elsewhere gone nosuch; do
		n=$(loglen)
		vm_conf 102 <<<"hostpci0: mapping=$name"
		pb hook proxmox 102 pre-start
		check "mapping '$name': pre-start fails" test "$ST" -ne 0
		check "mapping '$name': nothing written" test "$(writes_since "$n")" -eq 0
		check "mapping '$name': the message names hostpci0" out_has "hostpci0"
	done
	vm_conf 102 <<<"hostpci0: mapping=stale"
	pb hook proxmox 102 pre-start
	check "id mismatch is explained" out_has "'id' does not match for 'stale' (10de:2204 != 1002:67df)"
	vm_conf 102 <<<"hostpci0: mapping=elsewhere"
	pb hook proxmox 102 pre-start
	check "other node is explained" out_has "no valid entry for this node ('pve1')"
	check "journal empty" no_journal
	sim_stop
}

scenario_hook_proxmox_no_devices() {
	sim_start hook-proxmox-no-devices workstation || return
	vm_conf 103 <<<"memory: 2048"
	pb hook proxmox 103 pre-start
	check "pre-start of a VM without devices exits 0" exit_is 0
	pb hook proxmox 103 post-stop
	check "post-stop exits 0" exit_is 0
	check "nothing written" nowrites
	check "no journal" no_journal
	sim_stop
}

scenario_hook_proxmox_absent() {
	sim_start hook-proxmox-absent workstation || return
	vm_conf 104 <<-'EOF'
	hostpci0: 02:00
	hostpci1: 0000:0a:00.0,pcie=1
	EOF
	pb hook proxmox 104 pre-start
	check "a device not on this node: pre-start fails" test "$ST" -ne 0
	check "the message names the entry and the address" out_has "hostpci1: 0000:0a:00.0 is not present on this host"
	check "nothing written (not even the present GPU)" nowrites
	check "GPU untouched" is_driver $HG nvidia
	pb hook proxmox 104 post-stop
	check "post-stop of the same VM exits 0" exit_is 0
	check "still nothing written" nowrites
	# half a group: qemu-server's prepare_pci_device() binds the whole group (pci_dev_group_bind_to_vfio)
	vm_conf 105 <<<"hostpci0: 02:00.0"
	pb hook proxmox 105 pre-start
	check "half a group: pre-start moves the group as qemu-server does (exit 0)" exit_is 0
	check "the sibling is named and moved" out_has "$HA (snd_hda_intel) goes too"
	check "the sibling is on vfio-pci" is_driver $HA vfio-pci
	pb hook proxmox 105 post-stop
	check "post-stop gives the sibling back" is_driver $HA snd_hda_intel
	pb hook proxmox 999 pre-start
	check "a VM without a config: pre-start fails" test "$ST" -ne 0
	check "the message names the file" out_has "etc/pve/qemu-server/999.conf"
	sim_stop
}

scenario_hook_proxmox_hostile() {
	sim_start hook-proxmox-hostile workstation || return
	vm_conf 100 <<<"hostpci0: 02:00"
	local long id shown
	long=$(printf '1%.0s' $(seq 4096))
	for id in "../100" "100/../100" "100; reboot" '$(touch /tmp/pcibind-pwned)' "-1" "--root=/" "0100" "99" \
		"1000000000" "$long" "" "100 " $'100\n'; do
		pb hook proxmox "$id" pre-start
		shown=$(printf %q "${id:0:20}")
		check "VMID $shown: pre-start refused (exit 2)" exit_is 2
	done
	for id in "../100" "--root=/" "$long"; do
		pb hook proxmox "$id" post-stop
		check "VMID $(printf %q "${id:0:20}"): post-stop exits 0" exit_is 0
	done
	check "nothing written for any hostile VMID" nowrites
	check "no file was created by a VMID" test ! -e /tmp/pcibind-pwned
	pb hook proxmox 100 "pre-start; reboot"
	check "a hostile phase is ignored (exit 0)" exit_is 0
	check "a hostile phase writes nothing" nowrites
	pb hook proxmox 100
	check "missing PHASE is a usage error" exit_is 2
	vm_conf 106 <<<'hostpci0: $(reboot),pcie=1'
	pb hook proxmox 106 pre-start
	check "a hostile hostpci value: qemu-server's schema refuses it, so the VM starts without it (exit 0)" exit_is 0
	check "and pcibind says it ignores it" out_has "qemu-server ignores this entry"
	check "nothing written" nowrites
	sim_stop
}

scenario_hook_libvirt_round_trip() {
	sim_start hook-libvirt-round-trip workstation || return
	local xml
	xml=$(domain "$(hostdev 02 00 0)" "$(hostdev 02 00 1)" "$(hostdev 06 00 0 yes)" \
		"<hostdev mode='subsystem' type='usb' managed='no'><source><vendor id='0x046d'/><product id='0xc31c'/></source></hostdev>")
	hx win11 prepare begin - <<<"$xml"
	check "prepare begin exits 0" exit_is 0
	check "GPU on vfio-pci" is_driver $HG vfio-pci
	check "audio on vfio-pci" is_driver $HA vfio-pci
	check "managed='yes' left to libvirt" is_driver 0000:06:00.0 igb
	check "the message names the domain" out_has "hook: domain win11 prepare begin"
	local n
	n=$(loglen)
	hx win11 start begin - <<<"$xml"
	check "start begin exits 0" exit_is 0
	hx win11 started begin - <<<"$xml"
	hx win11 stopped end - <<<"$xml"
	check "stopped end exits 0" exit_is 0
	check "other operations write nothing" test "$(writes_since "$n")" -eq 0
	hx win11 release end - <<<"$xml"
	check "release end exits 0" exit_is 0
	check "GPU back on nvidia" is_driver $HG nvidia
	check "audio back on snd_hda_intel" is_driver $HA snd_hda_intel
	check "journal emptied" no_journal
	conf <<-'EOF'
	[pcibind]
	libvirt_all_hostdevs = yes
	EOF
	hx win11 prepare begin - <<<"$xml"
	check "libvirt_all_hostdevs = yes: managed='yes' moves too" is_driver 0000:06:00.0 vfio-pci
	hx win11 release end - <<<"$xml"
	check "and comes back" is_driver 0000:06:00.0 igb
	sim_stop
}

scenario_hook_libvirt_bad_input() {
	sim_start hook-libvirt-bad-input workstation || return
	hx win11 prepare begin - <<<"<domain><devices>$(hostdev 02 00 0)$(hostdev 02 00 1)<hostdev mode='subsystem'></devices></domain>"
	check "broken XML: prepare fails" test "$ST" -ne 0
	check "broken XML: the message says what and where" out_has "broken domain XML: line 1:"
	hx win11 release end - <<<"<domain><devices>"
	check "broken XML: release end exits 0" exit_is 0
	hx win11 prepare begin - <<<"<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/shadow'>]><domain><name>&x;</name><devices>$(hostdev 02 00 0)$(hostdev 02 00 1)</devices></domain>"
	check "XXE attempt: prepare fails" test "$ST" -ne 0
	check "XXE attempt: refused for its DOCTYPE" out_has "DOCTYPE"
	check "XXE attempt: the file is not shown" out_lacks "root:"
	head -c 5000000 /dev/zero | tr '\0' ' ' | sed '1s/^/<domain>/' >"$ROOT.big"
	OUT=$("$PCIBIND" --root "$ROOT" hook libvirt win11 prepare begin - <"$ROOT.big" 2>&1)
	ST=$?
	rm -f "$ROOT.big"
	check "huge XML: prepare fails" test "$ST" -ne 0
	check "huge XML: says it is too large" out_has "larger than"
	hx win11 prepare begin - <<<"$(domain "$(hostdev 0a 00 0)")"
	check "absent device: prepare fails" test "$ST" -ne 0
	check "absent device: named" out_has "0000:0a:00.0 is not present on this host"
	hx win11 prepare begin - <<<"$(domain "$(hostdev 02 00 0)")"
	check "half a group: refused (exit 3)" exit_is 3
	hx win11 prepare begin - <<<"$(domain "")"
	check "no hostdevs: exits 0" exit_is 0
	check "nothing was written for any of them" nowrites
	check "no journal" no_journal
	sim_stop
}

scenario_hook_libvirt_hostile_names() {
	sim_start hook-libvirt-hostile-names workstation || return
	local name long xml
	long=$(printf 'A%.0s' $(seq 4096))
	xml=$(domain "$(hostdev 02 00 0)" "$(hostdev 02 00 1)")
	for name in '--root=/' '$(touch /tmp/pcibind-pwned)'; do
		hx "$name" prepare begin - <<<"$xml"
		check "name '${name:0:16}': prepare exits 0" exit_is 0
		check "name '${name:0:16}': GPU on vfio-pci" is_driver $HG vfio-pci
		hx "$name" release end - <<<"$xml"
		check "name '${name:0:16}': release exits 0" exit_is 0
		check "name '${name:0:16}': GPU back" is_driver $HG nvidia
	done
	for name in '-n' '`reboot`; rm -rf /' '../../../etc/passwd' "%s%n%s" ""; do
		hx "$name" prepare begin - <<<"$(domain "")"
		check "name '${name:0:16}': prepare (no devices) exits 0" exit_is 0
	done
	check "no file was created by a name" test ! -e /tmp/pcibind-pwned
	hx "$long" prepare begin - <<<"$xml"
	check "a 4 KB name is shortened in messages" out_has "AAAA..."
	check "no line longer than 1100 bytes" bash -c '! awk "length > 1100" <<<"$1" | grep -q .' _ "$OUT"
	hx "$long" release end - <<<"$xml"
	hx win11 prepare <<<"$xml"
	check "missing SUBOP is a usage error" exit_is 2
	sim_stop
}

# ---- single GPU: stop_units, release_console, reset_method ----

single_gpu_start() {
	sim_start "$1" hook-singlegpu || return 1
	export PCIBIND_SYSTEMCTL=$SRCDIR/tests/sim/hook-fake-systemctl
	printf 'display-manager.service\npipewire.service\n' >"$ROOT/units-active"
	conf <<-'EOF'
	[gpu]
	address = 0000:01:00
	release_console = yes
	stop_units = display-manager.service, pipewire.service, not-running.service
	reset_method = bus
	EOF
	printf 'hostpci0: 01:00,pcie=1,x-vga=1\nmachine: q35\n' | vm_conf 200
}

unit_active() { grep -qxF "$1" "$ROOT/units-active"; }
vtcon_bound() { [ "$(cat "$ROOT/sys/class/vtconsole/vtcon1/bind")" = "$1" ]; }
efifb_bound() { [ -e "$ROOT/sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0" ]; }
reset_is() { [ "$(cat "$ROOT/sys/bus/pci/devices/$1/reset_method")" = "$2" ]; }

# everything as the topology started it
single_gpu_host_state() {
	check "$1: GPU on amdgpu" is_driver $SG amdgpu
	check "$1: audio on snd_hda_intel" is_driver $SA snd_hda_intel
	check "$1: GPU override cleared" is_override $SG "(null)"
	check "$1: GPU reset_method back to 'flr bus'" reset_is $SG "flr bus"
	check "$1: fbcon bound to vtcon1 again" vtcon_bound 1
	check "$1: efi-framebuffer.0 bound again" efifb_bound
	check "$1: display-manager.service running again" unit_active display-manager.service
	check "$1: pipewire.service running again" unit_active pipewire.service
	check "$1: not-running.service not started" bash -c '! grep -qxF not-running.service "$1/units-active"' _ "$ROOT"
	check "$1: journal emptied" no_journal
}

scenario_hook_single_gpu() {
	single_gpu_start hook-single-gpu || return
	pb hook proxmox 200 pre-start
	check "pre-start exits 0" exit_is 0
	check "display-manager.service stopped" bash -c '! grep -qxF display-manager.service "$1/units-active"' _ "$ROOT"
	check "pipewire.service stopped" bash -c '! grep -qxF pipewire.service "$1/units-active"' _ "$ROOT"
	check "fbcon unbound from vtcon1" vtcon_bound 0
	check "efi-framebuffer.0 unbound" bash -c '! [ -e "$1/sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0" ]' _ "$ROOT"
	check "GPU on vfio-pci" is_driver $SG vfio-pci
	check "audio on vfio-pci" is_driver $SA vfio-pci
	check "GPU reset_method is the set's 'bus'" reset_is $SG bus
	check "units stopped in order" before "mark systemctl stop display-manager.service" "mark systemctl stop pipewire.service"
	check "units stopped before the console is released" before "mark systemctl stop pipewire.service" "vtconsole/vtcon1/bind 0 -> ok"
	check "vtcon released before the framebuffer" before "vtconsole/vtcon1/bind 0 -> ok" "efi-framebuffer/unbind efi-framebuffer.0 -> ok"
	check "framebuffer released before the GPU moves" before "efi-framebuffer/unbind efi-framebuffer.0 -> ok" "bus/pci/devices/$SG/driver_override vfio-pci -> ok"
	check "reset_method set after binding" before "probe $SG vfio-pci ok" "bus/pci/devices/$SG/reset_method bus -> ok"
	check "the journal records the steps" grep -q "^vtcon	name=vtcon1	driver=	for=$SG,$SA" "$ROOT/run/pcibind/journal"
	check "the journal keeps the original reset_method" grep -q "^$SG	driver=amdgpu	override=	reset_method=flr bus" "$ROOT/run/pcibind/journal"
	local n
	n=$(loglen)
	pb hook proxmox 200 post-stop
	check "post-stop exits 0" exit_is 0
	single_gpu_host_state "post-stop"
	check "GPU back before the framebuffer is re-bound" before "probe $SG amdgpu ok" "efi-framebuffer/bind efi-framebuffer.0 -> ok"
	check "framebuffer re-bound before fbcon" before "efi-framebuffer/bind efi-framebuffer.0 -> ok" "vtconsole/vtcon1/bind 1 -> ok"
	check "fbcon before the units start" before "vtconsole/vtcon1/bind 1 -> ok" "mark systemctl start pipewire.service"
	check "units started in reverse order" before "mark systemctl start pipewire.service" "mark systemctl start display-manager.service"
	check "exactly two units started" test "$(grep -c '^start' "$ROOT/systemctl.log")" -eq 2
	sim_stop
}

scenario_hook_single_gpu_refused_without_release() {
	sim_start hook-single-gpu-no-release hook-singlegpu || return
	vm_conf 201 <<<"hostpci0: 01:00"
	pb hook proxmox 201 pre-start
	check "boot GPU with the console, no release_console: refused (exit 3)" exit_is 3
	check "the refusal says why" out_has "carries the console"
	check "nothing written" nowrites
	sim_stop
}

scenario_hook_single_gpu_failure() {
	single_gpu_start hook-single-gpu-failure || return
	ctl "failprobe $SG vfio-pci EIO"
	pb hook proxmox 200 pre-start
	check "a failed bind fails pre-start" test "$ST" -ne 0
	check "the message says the VM is not started" out_has "the VM is not started"
	single_gpu_host_state "after the failed start"
	sim_stop
	single_gpu_start hook-single-gpu-unit-fails || return
	echo "stop pipewire.service" >"$ROOT/systemctl-fail"
	pb hook proxmox 200 pre-start
	check "a unit that will not stop fails pre-start" test "$ST" -ne 0
	check "the message names the unit" out_has "cannot stop pipewire.service"
	check "the GPU never moved" bash -c '! grep -q "bus/pci/devices/$1/driver_override vfio-pci" "$2/sys/.pcisim/log"' _ $SG "$ROOT"
	rm -f "$ROOT/systemctl-fail"
	single_gpu_host_state "after the failed stop"
	sim_stop
}

# SIGKILL pcibind at a blocked write (OP on TARGET) during pre-start, then 'pcibind restore'
single_gpu_kill_case() {
	local op=$1 target=$2 pid
	single_gpu_start "hook-single-gpu-sigkill-at-$op-$target" || return
	ctl "block $target $op forever"
	"$PCIBIND" --root "$ROOT" hook proxmox 200 pre-start >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		sim_log | grep -q "^block $target $op" && break
		sleep 0.05
	done
	check "pre-start reached the blocked $op" grep -q "^block $target $op" <(sim_log)
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	ctl "release $target"
	sleep 0.3
	check "the console was released before the kill" vtcon_bound 0
	check "the journal holds the steps" grep -q "^unit	name=display-manager.service" "$ROOT/run/pcibind/journal"
	pb restore
	check "restore after SIGKILL exits 0" exit_is 0
	single_gpu_host_state "restore after SIGKILL"
	sim_stop
}

scenario_hook_single_gpu_sigkill() {
	single_gpu_kill_case unbind efi-framebuffer.0
	single_gpu_kill_case unbind $SG
}

scenario_hook_single_gpu_unit_restart_fails() {
	single_gpu_start hook-single-gpu-restart-fails || return
	pb hook proxmox 200 pre-start
	check "pre-start exits 0" exit_is 0
	echo "start display-manager.service" >"$ROOT/systemctl-fail"
	pb hook proxmox 200 post-stop
	check "post-stop exits 0 even when a unit does not start" exit_is 0
	check "the message names the unit" out_has "cannot start display-manager.service again"
	check "the GPU is back anyway" is_driver $SG amdgpu
	check "the console is back anyway" vtcon_bound 1
	check "the journal keeps the unit to start" grep -q "^unit	name=display-manager.service" "$ROOT/run/pcibind/journal"
	rm -f "$ROOT/systemctl-fail"
	pb hook proxmox 200 post-stop
	check "the next post-stop retries it (exit 0)" exit_is 0
	single_gpu_host_state "after the retry"
	sim_stop
}

# The uses (routes, mounts, console) are read only when a function would move: a VM already on
# vfio-pci starts without them, and a VM that would take the host's uplink or disk is still refused.
scenario_hook_uses_when_moving() {
	sim_start hook-uses workstation || return
	vm_conf 110 <<<"hostpci0: 0000:05:00.0"
	pb hook proxmox 110 pre-start
	check "the default-route NIC: pre-start refused (exit 3)" exit_is 3
	check "the refusal says it carries the default route" out_has "carries the default route"
	check "nothing written" nowrites
	vm_conf 111 <<<"hostpci0: 0000:03:00.0"
	pb hook proxmox 111 pre-start
	check "the NVMe holding /: pre-start refused (exit 3)" exit_is 3
	check "the refusal says it holds a mounted filesystem" out_has "holds a mounted filesystem"
	vm_conf 112 <<<"hostpci0: 0000:06:00.0"
	pb hook proxmox 112 pre-start
	check "the other NIC: handed over (exit 0)" exit_is 0
	check "06:00.0 on vfio-pci" is_driver 0000:06:00.0 vfio-pci
	pb hook proxmox 112 pre-start
	check "again, already on vfio-pci: exit 0" exit_is 0
	pb hook proxmox 112 post-stop
	check "post-stop gives it back" is_driver 0000:06:00.0 igb
	sim_stop
}
