# scenarios-hook-groups.sh - issue 21: whole IOMMU groups as qemu-server moves them, and no VM takes a device another holds
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
#
# Written from the peers' source, not from pcibind's:
# - qemu-server PVE/QemuServer/PCI.pm prepare_pci_device(): for a hostpci function that is neither
#   mdev, NVIDIA vGPU nor driver=keep it calls pve-common PVE/SysFSTools.pm
#   pci_dev_group_bind_to_vfio(), which binds every function of the IOMMU group to vfio-pci and
#   skips only those with a pci_bus directory (bridges); the VM still gets only the function named.
# - PCI.pm reserve_pci_usage() / $PCIID_RESERVATION_FILE: "ID VMID pid:PID" while a VM runs;
#   PVE/QemuServer/Helpers.pm vm_running_locally(): the pidfile /var/run/qemu-server/VMID.pid and
#   a QEMU whose -pidfile names it. A running VM's QEMU holds /dev/vfio/GROUP open (the kernel's
#   vfio group fd is exclusive: a second QEMU cannot open it).
# - PVE/QemuServer.pm parse_vm_config(): a value check_type() rejects is warned about and never
#   stored ($conf->{$key} keeps the earlier value); SysFSTools.pm lspci($filter) compares the id
#   as a text prefix of DDDD:BB:SS.F ("m/^(0000:)?\Q$filter\E/").
#
# hook-groups.topo: GPU 01:00.0 + audio 01:00.1 (group 1, with root port 00:01.0), dual-port NIC
# 02:00.0/02:00.1 (group 2, with root port 00:1c.0), chipset group 10: LPC bridge 00:1f.0, SATA
# 00:1f.2 holding /, onboard NIC 00:1f.6.

GG=0000:01:00.0
GA=0000:01:00.1
N0=0000:02:00.0
N1=0000:02:00.1

gg_start() {
	sim_start "$1" hook-groups || return 1
	echo pve1 >"$ROOT/etc/hostname"
	mkdir -p "$ROOT/etc/pve/qemu-server" "$ROOT/run/qemu-server" "$ROOT/var/lib/vz/snippets"
	install -m 0755 "$SRCDIR/hooks/proxmox-hookscript" "$ROOT/var/lib/vz/snippets/pcibind-hook"
}

gvm() { cat >"$ROOT/etc/pve/qemu-server/$1.conf"; }
grec() { grep -v '^#' "$ROOT/run/pcibind/vm/$1" 2>/dev/null | tr '\n' ' '; }
gwrites() { sim_log | tail -n +"$(($1 + 1))" | grep ' -> ' | grep -vc '^\.pcisim/'; }
glen() { sim_log | wc -l; }

# grun VMID PID GROUP [RESERVE...]: VM VMID runs: its QEMU (pidfile, -pidfile argument) holds
# /dev/vfio/GROUP, and qemu-server's reservation of each RESERVE address names its pid
grun() {
	local vmid=$1 pid=$2 group=$3 a
	shift 3
	mkdir -p "$ROOT/proc/$pid/fd"
	echo "$pid" >"$ROOT/run/qemu-server/$vmid.pid"
	printf '/usr/bin/kvm\0-id\0%s\0-pidfile\0/var/run/qemu-server/%s.pid\0-daemonize\0' "$vmid" "$vmid" >"$ROOT/proc/$pid/cmdline"
	echo "$pid (kvm) S 1 $pid $pid 0 -1 4194624 0 0 0 0 0 0 0 0 20 0 9 0 100 0 0" >"$ROOT/proc/$pid/stat"
	echo kvm >"$ROOT/proc/$pid/comm"
	ln -sf "/dev/vfio/$group" "$ROOT/proc/$pid/fd/27"
	for a in "$@"; do
		echo "$a $vmid pid:$pid" >>"$ROOT/run/qemu-server/pci-id-reservations"
	done
}

# gstop VMID PID: that VM's QEMU exited (qemu-server drops its reservations in vm_stop_cleanup())
gstop() {
	rm -rf "$ROOT/proc/$2" "$ROOT/run/qemu-server/$1.pid"
	[ -e "$ROOT/run/qemu-server/pci-id-reservations" ] &&
		sed -i "/ $1 pid:/d" "$ROOT/run/qemu-server/pci-id-reservations"
	return 0
}

# Must show: a GPU passed by its function 0 with its audio in the group: both move, both come back
scenario_hook_groups_gpu_function0() {
	gg_start hook-groups-gpu-function0 || return
	gvm 100 <<-'EOF'
	bios: ovmf
	hookscript: local:snippets/pcibind-hook
	hostpci0: 0000:01:00.0,pcie=1,x-vga=1
	machine: q35
	vga: none
	EOF
	pb check --vm 100
	check "check --vm: one function of the group is ready, not a failure (exit 0)" exit_is 0
	check "check --vm says the audio leaves the host too, and why" out_has "$GA (snd_hda_intel) leaves the host too while VM 100 runs: it is in the IOMMU group of hostpci0 (group 1), and qemu-server binds every function of the group to vfio-pci"
	check "check --vm: qemu-server passes 1 function" out_has "qemu-server will pass 1 function on node pve1"
	pb hook proxmox 100 pre-start
	check "pre-start exits 0 (it did not before: 'IOMMU group 1 also holds $GA')" exit_is 0
	check "the GPU is on vfio-pci" is_driver $GG vfio-pci
	check "its audio, in the same group, is on vfio-pci as qemu-server binds it" is_driver $GA vfio-pci
	check "the message says why the audio goes" out_has "$GA (snd_hda_intel) goes too: it is in the IOMMU group of hostpci0 (group 1)"
	check "the root port of the group stays on pcieport (pci_dev_group_bind_to_vfio skips bridges)" is_driver 0000:00:01.0 pcieport
	check "the record lists both" test "$(grec proxmox-100)" = "$GG $GA "
	pb hook proxmox 100 post-stop
	check "post-stop exits 0" exit_is 0
	check "the GPU is back on nvidia" is_driver $GG nvidia
	check "the audio is back on snd_hda_intel" is_driver $GA snd_hda_intel
	check "journal emptied" no_journal
	check "record removed" test ! -e "$ROOT/run/pcibind/vm/proxmox-100"
	sim_stop
}

# Must show: one port of a dual-port NIC passed: both ports move, both come back
scenario_hook_groups_nic_one_port() {
	gg_start hook-groups-nic-one-port || return
	gvm 101 <<<"hostpci0: 02:00.1"
	pb hook proxmox 101 pre-start
	check "pre-start exits 0" exit_is 0
	check "the port named is on vfio-pci" is_driver $N1 vfio-pci
	check "the other port of the group is on vfio-pci too" is_driver $N0 vfio-pci
	check "the record lists both ports" test "$(grec proxmox-101)" = "$N1 $N0 "
	pb hook proxmox 101 post-stop
	check "post-stop exits 0" exit_is 0
	check "port 0 back on igb" is_driver $N0 igb
	check "port 1 back on igb" is_driver $N1 igb
	check "journal emptied" no_journal
	sim_stop
}

# Must show: a group holding the root disk's controller: refused, the controller named, nothing moved
scenario_hook_groups_root_disk() {
	gg_start hook-groups-root-disk || return
	gvm 102 <<<"hostpci0: 00:1f.6"
	pb hook proxmox 102 pre-start
	check "pre-start refused for safety (exit 3)" exit_is 3
	check "the SATA controller under / is named" out_has "0000:00:1f.2"
	check "with the cause" out_has "mounted filesystem"
	check "the message says it is in the group of hostpci0" out_has "0000:00:1f.2 (ahci) goes too: it is in the IOMMU group of hostpci0 (group 10)"
	check "nothing written" test "$(writes)" -eq 0
	check "no record" test ! -e "$ROOT/run/pcibind/vm/proxmox-102"
	check "the NIC named stays on e1000e" is_driver 0000:00:1f.6 e1000e
	pb check --vm 102
	check "check --vm: not ready (exit 1)" exit_is 1
	check "check --vm names the root disk's controller as what refuses the start" bash -c 'grep "^fail" <<<"$1" | grep -q "0000:00:1f.2"' _ "$OUT"
	check "the LPC bridge is not moved (a bridge; it has no driver)" bash -c '! grep -q "0000:00:1f.0 .*goes to" <<<"$1"' _ "$OUT"
	sim_stop
}

# Must show: two VMs naming the same device, in every order of start and stop; a running VM's
# device is never taken and never given back under it
scenario_hook_groups_two_vms() {
	gg_start hook-groups-two-vms || return
	gvm 100 <<<"hostpci0: 01:00"
	gvm 101 <<<"hostpci0: 01:00"
	local n
	# order 1: 100 starts, 101 is refused, 101 stops, 100 stops
	pb hook proxmox 100 pre-start
	check "1: VM 100 pre-start exits 0" exit_is 0
	grun 100 4100 1 $GG $GA
	n=$(glen)
	pb hook proxmox 101 pre-start
	check "1: VM 101 pre-start refused while VM 100 runs" test "$ST" -ne 0
	check "1: the refusal names VM 100" out_has "running VM 100"
	check "1: nothing written" test "$(gwrites "$n")" -eq 0
	check "1: no record for VM 101" test ! -e "$ROOT/run/pcibind/vm/proxmox-101"
	pb check --vm 101
	check "1: check --vm 101 names VM 100 while it runs" out_has "the running VM 100"
	check "1: check --vm 101: not ready" exit_is 1
	pb hook proxmox 101 post-stop
	check "1: VM 101 post-stop exits 0" exit_is 0
	check "1: VM 101 post-stop wrote nothing" test "$(gwrites "$n")" -eq 0
	check "1: the GPU stays with VM 100 on vfio-pci" is_driver $GG vfio-pci
	gstop 100 4100
	pb hook proxmox 100 post-stop
	check "1: VM 100 post-stop exits 0" exit_is 0
	check "1: GPU on nvidia" is_driver $GG nvidia
	check "1: audio on snd_hda_intel" is_driver $GA snd_hda_intel
	# order 2: 100 starts, 101 refused, 100 stops, then 101 starts and 100 is refused, 101 stops
	pb hook proxmox 100 pre-start
	grun 100 4100 1 $GG $GA
	pb hook proxmox 101 pre-start
	check "2: VM 101 refused while VM 100 runs" test "$ST" -ne 0
	gstop 100 4100
	pb hook proxmox 100 post-stop
	check "2: VM 100 post-stop: GPU back" is_driver $GG nvidia
	pb hook proxmox 101 pre-start
	check "2: VM 101 starts once VM 100 stopped" exit_is 0
	check "2: GPU on vfio-pci for VM 101" is_driver $GG vfio-pci
	grun 101 4101 1 $GG $GA
	n=$(glen)
	pb hook proxmox 100 pre-start
	check "2: VM 100 refused while VM 101 runs" test "$ST" -ne 0
	check "2: the refusal names VM 101" out_has "running VM 101"
	pb hook proxmox 100 post-stop
	check "2: VM 100 post-stop (no record) wrote nothing under VM 101" test "$(gwrites "$n")" -eq 0
	gstop 101 4101
	pb hook proxmox 101 post-stop
	check "2: VM 101 post-stop: GPU back on nvidia" is_driver $GG nvidia
	check "2: audio back" is_driver $GA snd_hda_intel
	# order 3: one after the other: 100 starts and stops, 101 starts and stops
	pb hook proxmox 100 pre-start
	grun 100 4100 1 $GG $GA
	gstop 100 4100
	pb hook proxmox 100 post-stop
	pb hook proxmox 101 pre-start
	check "3: VM 101 after VM 100 stopped: exit 0" exit_is 0
	grun 101 4101 1 $GG $GA
	gstop 101 4101
	pb hook proxmox 101 post-stop
	check "3: GPU back on nvidia" is_driver $GG nvidia
	# order 4: the issue's case: VM 100 runs with its QEMU holding /dev/vfio/1 and no reservation
	# line (only the open group says it runs); VM 101 has a stale record naming the GPU
	pb hook proxmox 100 pre-start
	grun 100 4100 1
	n=$(glen)
	pb hook proxmox 101 pre-start
	check "4: VM 101 refused: VM 100's QEMU holds /dev/vfio/1" test "$ST" -ne 0
	check "4: the refusal names VM 100, its pid and the group node" out_has "the running VM 100 (kvm, pid 4100) holds /dev/vfio/1"
	check "4: nothing written" test "$(gwrites "$n")" -eq 0
	mkdir -p "$ROOT/run/pcibind/vm"
	cp "$ROOT/run/pcibind/vm/proxmox-100" "$ROOT/run/pcibind/vm/proxmox-101"
	pb hook proxmox 101 post-stop
	check "4: VM 101 post-stop with a record naming the GPU writes nothing" test "$(gwrites "$n")" -eq 0
	check "4: it says why" out_has "not given back: the running VM 100 (kvm, pid 4100) holds /dev/vfio/1"
	check "4: the GPU stays on vfio-pci under VM 100" is_driver $GG vfio-pci
	rm -f "$ROOT/run/pcibind/vm/proxmox-101"
	pb hook proxmox 101 post-stop
	check "4: without a record too: nothing written" test "$(gwrites "$n")" -eq 0
	gstop 100 4100
	pb hook proxmox 100 post-stop
	check "4: VM 100 post-stop: GPU back" is_driver $GG nvidia
	# a process that is no VM holds the group (claimed by hand, then opened): refused, named
	pb bind 02:00
	check "the NIC ports bound by hand" is_driver $N0 vfio-pci
	mkdir -p "$ROOT/proc/777/fd"
	echo vfio-hold >"$ROOT/proc/777/comm"
	ln -sf /dev/vfio/2 "$ROOT/proc/777/fd/3"
	gvm 102 <<<"hostpci0: 02:00.0"
	n=$(glen)
	pb hook proxmox 102 pre-start
	check "a non-VM holder of /dev/vfio/2: pre-start refused" test "$ST" -ne 0
	check "the holder is named" out_has "vfio-hold (pid 777) holds /dev/vfio/2"
	check "nothing written" test "$(gwrites "$n")" -eq 0
	check "no record for VM 102" test ! -e "$ROOT/run/pcibind/vm/proxmox-102"
	sim_stop
}

# Defect 3: a key given twice, the second invalid: qemu-server keeps the first and binds it
scenario_hook_groups_duplicate_key() {
	gg_start hook-groups-duplicate-key || return
	gvm 103 <<-'EOF'
	hostpci0: 02:00.0
	hostpci0: 01:00,bogus=1
	EOF
	pb hook proxmox 103 pre-start
	check "pre-start exits 0" exit_is 0
	check "the first value's port is on vfio-pci (qemu-server binds it)" is_driver $N0 vfio-pci
	check "the invalid second value's GPU is untouched" is_driver $GG nvidia
	check "the message says the later line was ignored" out_has "a later line '01:00,bogus=1' was ignored"
	pb hook proxmox 103 post-stop
	check "post-stop gives the port back" is_driver $N0 igb
	check "and its group sibling" is_driver $N1 igb
	check "journal emptied" no_journal
	sim_stop
}

# Defect 4: a five-digit domain: qemu-server's lspci finds nothing and the start dies; nothing may move
scenario_hook_groups_five_digit_domain() {
	gg_start hook-groups-five-digit-domain || return
	gvm 104 <<<"hostpci0: 00000:02:00.0"
	pb hook proxmox 104 pre-start
	check "pre-start fails" test "$ST" -ne 0
	check "the message says qemu-server finds no device" out_has "no PCI device found for '00000:02:00.0'"
	check "nothing written" test "$(writes)" -eq 0
	check "the port stays on igb" is_driver $N0 igb
	pb check --vm 104
	check "check --vm: not ready" exit_is 1
	sim_stop
}

# Defect 7: driver = auto never picks a host driver that a vfio_pci: alias names
scenario_hook_groups_auto_not_host_driver() {
	gg_start hook-groups-auto-not-host-driver || return
	mkdir -p "$ROOT/proc/sys/kernel" "$ROOT/lib/modules/6.8.12-4-pve"
	echo 6.8.12-4-pve >"$ROOT/proc/sys/kernel/osrelease"
	cat >"$ROOT/lib/modules/6.8.12-4-pve/modules.alias" <<-'EOF'
	alias pci:v000010DEd*sv*sd*bc03sc00i00* nvidia
	alias vfio_pci:v000010DEd00002204sv*sd*bc*sc*i* nvidia
	alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci
	EOF
	conf <<-'EOF'
	[pcibind]
	driver = auto
	EOF
	gvm 105 <<<"hostpci0: 01:00"
	pb hook proxmox 105 pre-start
	check "pre-start exits 0" exit_is 0
	check "the GPU goes to vfio-pci" is_driver $GG vfio-pci
	check "not 'nvidia -> nvidia'" out_lacks "nvidia -> nvidia"
	pb hook proxmox 105 post-stop
	check "post-stop: back on nvidia" is_driver $GG nvidia
	sim_stop
}

# NVIDIA vGPU on kernels >= 6.8: qemu-server (PCI.pm parse_hostpci(): nvidia => $1 for mdev=nvidia-N on a
# function SysFSTools lspci() found a nvidia/ directory on; prepare_pci_device(): "nothing to do" for
# $device->{nvidia}; Mdev.pm create_nvidia_device() writes nvidia/current_vgpu_type) leaves the function on
# its host driver and binds no group: neither does pcibind, and check --vm says so
scenario_hook_groups_nvidia_vgpu() {
	gg_start hook-groups-nvidia-vgpu || return
	gvm 106 <<<"hostpci0: 01:00.0,mdev=nvidia-35"
	pb check --vm 106
	check "check --vm says the vGPU stays on its host driver" out_has "hostpci0: mdev=nvidia-35, an NVIDIA vGPU"
	check "check --vm names nvidia/current_vgpu_type" out_has "nvidia/current_vgpu_type"
	check "check --vm: no group move for it" out_lacks "leaves the host too"
	pb hook proxmox 106 pre-start
	check "pre-start exits 0" exit_is 0
	check "the GPU stays on nvidia" is_driver $GG nvidia
	check "its audio stays on snd_hda_intel (no group bind for a vGPU)" is_driver $GA snd_hda_intel
	check "nothing written" test "$(writes)" -eq 0
	pb hook proxmox 106 post-stop
	check "post-stop exits 0, nothing written" bash -c '[ "$1" = 0 ] && [ "$2" = 0 ]' _ "$ST" "$(writes)"
	sim_stop
}
