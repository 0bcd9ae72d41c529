# scenarios-check-vm.sh - pcibind check --vm VMID / --domain NAME|FILE on VM configurations good and broken
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
# hook-pool.topo: headless node, GPU 01:00 (AMD, amdgpu + audio, group 10), NICs 03:00.0 / 04:00.0 (mapping
# "nic"), 05:00.0 the uplink. workstation.topo: NVIDIA boot GPU 01:00 with the console, second GPU 02:00.

cv_start() { # SCENARIO TOPO
	sim_start "$1" "$2" || return 1
	echo pve1 >"$ROOT/etc/hostname"
	mkdir -p "$ROOT/etc/pve/qemu-server" "$ROOT/etc/pve/mapping" "$ROOT/var/lib/vz/snippets" "$ROOT/usr/share/kvm"
	printf '%s\n' "nic" \
		"	map id=8086:1533,iommugroup=11,node=pve1,path=0000:03:00.0,subsystem-id=1458:e000" \
		"	map id=8086:1533,iommugroup=12,node=pve1,path=0000:04:00.0,subsystem-id=1458:e000" "" \
		"stale" "	map id=8086:10d3,iommugroup=11,node=pve1,path=0000:03:00.0,subsystem-id=1458:e000" "" \
		"elsewhere" "	map id=8086:1533,iommugroup=11,node=pve2,path=0000:03:00.0,subsystem-id=1458:e000" \
		>"$ROOT/etc/pve/mapping/pci.cfg"
	install -m 0755 "$SRCDIR/hooks/proxmox-hookscript" "$ROOT/var/lib/vz/snippets/pcibind-hook"
}

vmc() { cat >"$ROOT/etc/pve/qemu-server/$1.conf"; }
cvm() { pb check --vm "$@"; }
# finding LEVEL CHECK TEXT: a line "LEVEL  CHECK: ...TEXT..." in the output
finding() { grep -E "^$1 +$2: " <<<"$OUT" | grep -qF -- "$3"; }
no_finding() { ! grep -qE "^(fail|warn) +$1: " <<<"$OUT"; }

GOOD_VM='bios: ovmf
efidisk0: local-lvm:vm-100-disk-0,efitype=4m,pre-enrolled-keys=0,size=4M
hookscript: local:snippets/pcibind-hook
hostpci0: 01:00,pcie=1,x-vga=1
hostpci1: mapping=nic
machine: q35
name: gaming'

scenario_check_vm_good() {
	cv_start check-vm-good hook-pool || return
	vmc 100 <<<"$GOOD_VM"
	cvm 100
	check "a good VM: exit 0, ready" bash -c '[ "$1" = 0 ] && tail -n 1 <<<"$2" | grep -qx ready' _ "$ST" "$OUT"
	check "it names the VM, its machine and firmware" finding info vm "VM 100 (gaming): machine q35, OVMF"
	check "qemu-server will pass 3 functions" finding ok hostpci "qemu-server will pass 3 functions on node pve1"
	check "each function is ready, with its group" finding ok device "0000:01:00.1 (snd_hda_intel, group 10): goes to vfio-pci"
	check "the mapping's first NIC" finding ok device "0000:03:00.0 (igb, group 11): goes to vfio-pci"
	check "OVMF is ok" finding ok firmware "boots OVMF"
	check "the hookscript is pcibind's" finding ok hookscript "local:snippets/pcibind-hook runs pcibind"
	check "headless: the host has no other display (a warning)" finding warn display "no display while it runs"
	check "nothing written" nowrites
	OUT=$("$PCIBIND" --root "$ROOT" --json check --vm 100 2>&1)
	check "--json: the VM, ready, findings with fixes" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["vm"] == "100" and d["ready"] is True
assert any(f["check"] == "hookscript" and f["status"] == "ok" for f in d["findings"])
assert all(set(f) == {"check", "status", "message", "fix"} for f in d["findings"])
' "$OUT"
	sim_stop
}

scenario_check_vm_firmware_and_machine() {
	cv_start check-vm-firmware hook-pool || return
	vmc 101 <<-'EOF'
	hookscript: local:snippets/pcibind-hook
	hostpci0: 01:00,x-vga=1
	EOF
	cvm 101
	check "SeaBIOS with a GPU: a warning, still ready (exit 0)" exit_is 0
	check "the warning says why and how" finding warn firmware "boots SeaBIOS (legacy BIOS) with a GPU"
	check "the fix is the qm command" out_has "fix: qm set 101 --bios ovmf"
	vmc 101 <<-'EOF'
	bios: ovmf
	hookscript: local:snippets/pcibind-hook
	hostpci0: 01:00,pcie=1
	EOF
	cvm 101
	check "pcie=1 on the default i440fx machine: not ready (exit 1)" exit_is 1
	check "it says q35 is needed" finding fail hostpci "pcie=1 needs the q35 machine model"
	sim_stop
}

# qemu-server PCI.pm prepare_pci_device() -> pve-common SysFSTools.pm pci_dev_group_bind_to_vfio(): the
# GPU's audio, in its group, goes to vfio-pci with it; the VM gets only the GPU (issue 21, defect 1)
scenario_check_vm_all_functions() {
	cv_start check-vm-all-functions hook-pool || return
	vmc 102 <<-'EOF'
	bios: ovmf
	hookscript: local:snippets/pcibind-hook
	hostpci0: 01:00.0,x-vga=1
	EOF
	cvm 102
	check "the GPU without its audio: ready, as qemu-server starts it (exit 0)" exit_is 0
	check "the card's other function is named (All Functions)" finding warn functions "gets 0000:01:00.0 but not 0000:01:00.1 (snd_hda_intel)"
	check "the audio leaves the host with it, and why" finding info group "0000:01:00.1 (snd_hda_intel) leaves the host too while VM 102 runs"
	check "no group failure" bash -c '! grep -q "also holds" <<<"$1"' _ "$OUT"
	sim_stop
}

# Issue 21, defect 5: VFs are passed one by one (qemu-server hostpciN per VF); the whole slot 06:10
# would give every VF of it to one VM: no such advice for a VF
scenario_check_vm_vf_not_whole_slot() {
	cv_start check-vm-vf-not-whole-slot sriov || return
	vmc 106 <<-'EOF'
	bios: ovmf
	hookscript: local:snippets/pcibind-hook
	hostpci0: 0000:06:10.0
	EOF
	cvm 106
	check "a single VF: ready (exit 0)" exit_is 0
	check "no 'pass the whole slot' for a VF" out_lacks "pass the whole slot"
	check "the VF is planned" finding ok device "0000:06:10.0"
	sim_stop
}

# Issue 21, defect 6: qemu-server passes "romfile=/usr/share/kvm/NAME" (PCI.pm
# print_hostpci_devices()); its schema takes any [^,;]+ but QEMU's open() fails on a name over
# NAME_MAX (255) or a path over PATH_MAX: not ready
scenario_check_vm_romfile_too_long() {
	cv_start check-vm-romfile-too-long hook-pool || return
	local long
	long=$(printf 'a%.0s' $(seq 5000))
	printf 'bios: ovmf\nhookscript: local:snippets/pcibind-hook\nhostpci0: 01:00,romfile=%s\n' "$long" | vmc 107
	cvm 107
	check "a 5000-character romfile: not ready (exit 1)" exit_is 1
	check "the finding says QEMU cannot open it" finding fail romfile "QEMU cannot open it"
	printf 'bios: ovmf\nhookscript: local:snippets/pcibind-hook\nhostpci0: 01:00,romfile=%s.rom\n' "$(printf 'b%.0s' $(seq 300))" | vmc 108
	cvm 108
	check "a 304-byte file name: not ready" exit_is 1
	check "it says the file name is too long" finding fail romfile "longer than the system allows a file name (255)"
	sim_stop
}

scenario_check_vm_secure_boot_nvidia() {
	cv_start check-vm-secure-boot workstation || return
	vmc 103 <<-'EOF'
	bios: ovmf
	efidisk0: local-lvm:vm-103-disk-0,efitype=4m,pre-enrolled-keys=1,size=4M
	hookscript: local:snippets/pcibind-hook
	hostpci0: 02:00,pcie=1
	machine: q35
	EOF
	cvm 103
	check "pre-enrolled keys with an NVIDIA GPU: a warning" finding warn secure-boot "Secure Boot keys pre-enrolled and an NVIDIA GPU"
	check "still ready (exit 0)" exit_is 0
	check "the host keeps its other GPU" no_finding display
	sim_stop
}

scenario_check_vm_primary_gpu_console() {
	cv_start check-vm-console workstation || return
	vmc 104 <<-'EOF'
	bios: ovmf
	hookscript: local:snippets/pcibind-hook
	hostpci0: 01:00,pcie=1,x-vga=1
	hostpci1: 02:00,pcie=1
	machine: q35
	EOF
	cvm 104
	check "the host's console GPU as primary, no release_console: not ready" exit_is 1
	check "it says the start is refused for the console" finding fail devices "carries the console"
	check "and how to let it go" out_has "release_console = yes"
	check "every GPU of the host goes: no display left" finding warn display "takes every GPU of the host"
	conf <<-'EOF'
	[gpu]
	address = 0000:01:00
	release_console = yes
	EOF
	cvm 104
	check "with release_console = yes in its set: ready" exit_is 0
	check "the console finding says the set frees it" finding info console "release_console = yes frees it at start"
	sim_stop
}

scenario_check_vm_romfile() {
	cv_start check-vm-romfile hook-pool || return
	vmc 105 <<-'EOF'
	bios: ovmf
	hookscript: local:snippets/pcibind-hook
	hostpci0: 01:00,romfile=rx6800.rom
	EOF
	cvm 105
	check "a missing romfile: not ready" exit_is 1
	check "it names the path qemu-server uses" finding fail romfile "/usr/share/kvm/rx6800.rom does not exist"
	echo rom >"$ROOT/usr/share/kvm/rx6800.rom"
	cvm 105
	check "with the file there: ready" exit_is 0
	check "romfile ok" finding ok romfile "/usr/share/kvm/rx6800.rom is there"
	sim_stop
}

scenario_check_vm_mapping() {
	cv_start check-vm-mapping hook-pool || return
	vmc 106 <<-'EOF'
	hookscript: local:snippets/pcibind-hook
	hostpci0: mapping=stale
	EOF
	cvm 106
	check "a mapping whose id no longer matches: not ready" exit_is 1
	check "it says what changed" finding fail hostpci "'id' does not match for 'stale' (8086:1533 != 8086:10d3)"
	vmc 106 <<-'EOF'
	hookscript: local:snippets/pcibind-hook
	hostpci0: mapping=elsewhere
	EOF
	cvm 106
	check "a mapping without an entry for this node: not ready" finding fail hostpci "no valid entry for this node ('pve1')"
	# another VM runs with the first NIC: this one would get the second
	mkdir -p "$ROOT/run/qemu-server" "$ROOT/proc/4242"
	echo 4242 >"$ROOT/run/qemu-server/107.pid"
	printf '/usr/bin/kvm\0-pidfile\0/var/run/qemu-server/107.pid\0' >"$ROOT/proc/4242/cmdline"
	echo "4242 (kvm) S 1" >"$ROOT/proc/4242/stat"
	echo "0000:03:00.0 107 pid:4242" >"$ROOT/run/qemu-server/pci-id-reservations"
	vmc 106 <<-'EOF'
	hookscript: local:snippets/pcibind-hook
	hostpci0: mapping=nic
	EOF
	cvm 106
	check "with VM 107 holding the first NIC: ready" exit_is 0
	check "the VM would get the second" finding ok device "0000:04:00.0 (igb, group 12): goes to vfio-pci"
	sim_stop
}

scenario_check_vm_hookscript() {
	cv_start check-vm-hookscript hook-pool || return
	vmc 108 <<<"hostpci0: 04:00.0"
	cvm 108
	check "no hookscript: a warning" finding warn hookscript "no hookscript: qemu-server binds the devices itself"
	check "the fix attaches pcibind's" out_has "fix: qm set 108 --hookscript local:snippets/pcibind-hook"
	printf '#!/bin/sh\nexit 0\n' >"$ROOT/var/lib/vz/snippets/other"
	chmod 0755 "$ROOT/var/lib/vz/snippets/other"
	printf 'hookscript: local:snippets/other\nhostpci0: 04:00.0\n' | vmc 108
	cvm 108
	check "a hookscript that does not call pcibind: a warning" finding warn hookscript "does not call pcibind"
	printf 'hookscript: local:snippets/gone\nhostpci0: 04:00.0\n' | vmc 108
	cvm 108
	check "a hookscript file that is not there: not ready" finding fail hookscript "/var/lib/vz/snippets/gone does not exist"
	chmod 0644 "$ROOT/var/lib/vz/snippets/pcibind-hook"
	printf 'hookscript: local:snippets/pcibind-hook\nhostpci0: 04:00.0\n' | vmc 108
	cvm 108
	check "not executable: not ready (qemu-server refuses to start)" finding fail hookscript "is not executable"
	chmod 0755 "$ROOT/var/lib/vz/snippets/pcibind-hook"
	mkdir -p "$ROOT/mnt/fast/snippets"
	printf 'dir: fast\n\tpath /mnt/fast\n\tcontent snippets\n' >"$ROOT/etc/pve/storage.cfg"
	printf '#!/bin/sh\n/usr/share/pcibind/hooks/proxmox-hookscript "$1" "$2" || exit $?\n' >"$ROOT/mnt/fast/snippets/mine"
	chmod 0755 "$ROOT/mnt/fast/snippets/mine"
	printf 'hookscript: fast:snippets/mine\nhostpci0: 04:00.0\n' | vmc 108
	cvm 108
	check "the user's own hookscript on another storage, calling pcibind's: ok" finding ok hookscript "fast:snippets/mine runs pcibind"
	check "ready" exit_is 0
	sim_stop
}

scenario_check_vm_broken_entries() {
	cv_start check-vm-broken-entries hook-pool || return
	vmc 109 <<-'EOF'
	hookscript: local:snippets/pcibind-hook
	hostpci0: 0a:00.0
	EOF
	cvm 109
	check "a device that is not there: not ready" finding fail hostpci "hostpci0: 0a:00.0 is not present on this host"
	vmc 109 <<-'EOF'
	hookscript: local:snippets/pcibind-hook
	hostpci0: 04:00.0, pcie=1
	hostpci1: 01:20.0
	EOF
	cvm 109
	check "an entry qemu-server ignores: not ready, with why" finding fail hostpci "hostpci0: unknown option ' pcie': qemu-server ignores this entry"
	check "a slot out of range" finding fail hostpci "slot 20 out of range (00-1f)"
	vmc 109 <<-'EOF'
	hostpci0: 01:00
	template: 1
	EOF
	cvm 109
	check "a template: said, and nothing else to fix" bash -c '[ "$1" = 0 ] && grep -q "^info  template:" <<<"$2"' _ "$ST" "$OUT"
	vmc 109 <<-'EOF'
	hookscript: local:snippets/pcibind-hook
	hostpci0: 04:00.0,driver=keep
	EOF
	cvm 109
	check "driver=keep: the function stays on its driver, said" finding info hostpci "driver=keep: 0000:04:00.0 stays on igb"
	cvm 99
	check "an invalid VMID: exit 2" exit_is 2
	cvm 4242
	check "a VM without a config: exit 2, the file named" bash -c '[ "$1" = 2 ] && grep -q "etc/pve/qemu-server/4242.conf" <<<"$2"' _ "$ST" "$OUT"
	pb check --vm 100 --domain x
	check "--vm and --domain together: exit 2" exit_is 2
	check "nothing written by any check" nowrites
	sim_stop
}

dom_xml() { # HOSTDEVS...: a UEFI q35 domain
	printf "<domain type='kvm'><name>win11</name><os firmware='efi'><type machine='pc-q35-8.2'>hvm</type></os><devices>%s</devices></domain>\n" "$*"
}
hd() { # BUS SLOT FN MANAGED
	echo "<hostdev mode='subsystem' type='pci' managed='$4'><source><address domain='0x0000' bus='0x$1' slot='0x$2' function='0x$3'/></source></hostdev>"
}

scenario_check_vm_libvirt() {
	cv_start check-vm-libvirt hook-pool || return
	mkdir -p "$ROOT/etc/libvirt/qemu" "$ROOT/etc/libvirt/hooks/qemu.d"
	dom_xml "$(hd 01 00 0 no)" "$(hd 01 00 1 no)" "$(hd 04 00 0 yes)" "<interface type='network'><source network='vfs'/></interface>" \
		>"$ROOT/etc/libvirt/qemu/win11.xml"
	pb check --domain win11
	check "unmanaged devices on host drivers and no hook: not ready" exit_is 1
	check "it says libvirt refuses such a start" finding fail hook "must be manually detached"
	check "a managed one is libvirt's" finding info device "managed='yes': libvirt detaches 0000:04:00.0 itself"
	check "a network interface is said to be libvirt's choice" finding info interface "picks the VF after the prepare hook has run (qemuProcessPrepareDomain)"
	install -m 0755 "$SRCDIR/hooks/libvirt-qemu" "$ROOT/etc/libvirt/hooks/qemu.d/pcibind"
	pb check --domain win11
	check "with the hook installed: ready" exit_is 0
	check "the hook is found" finding ok hook "/etc/libvirt/hooks/qemu.d/pcibind runs pcibind"
	check "UEFI is ok" finding ok firmware "boots OVMF"
	printf "<domain><name>old</name><os><type>hvm</type></os><devices>%s</devices></domain>" "$(hd 01 00 0 no)$(hd 01 00 1 no)" >"$ROOT/old.xml"
	pb check --domain "$ROOT/old.xml"
	check "--domain FILE: a BIOS domain with a GPU warns" finding warn firmware "boots SeaBIOS (legacy BIOS) with a GPU"
	OUT=$("$PCIBIND" --root "$ROOT" check --domain - <"$ROOT/old.xml" 2>&1)
	ST=$?
	check "--domain - reads standard input" finding info domain "domain old (standard input)"
	dom_xml "$(hd 05 00 0 yes)" >"$ROOT/uplink.xml"
	pb check --domain "$ROOT/uplink.xml"
	check "a managed device libvirt would take from the host's uplink: not ready" finding fail devices "carries the default route"
	dom_xml "$(hd 0a 00 0 no)" >"$ROOT/absent.xml"
	pb check --domain "$ROOT/absent.xml"
	check "a device that is not there: not ready" finding fail device "0000:0a:00.0 is not present on this host"
	echo "<domain><devices>" >"$ROOT/broken.xml"
	pb check --domain "$ROOT/broken.xml"
	check "broken XML: exit 2, file and line named" bash -c '[ "$1" = 2 ] && grep -q "broken.xml: broken domain XML: line" <<<"$2"' _ "$ST" "$OUT"
	pb check --domain nosuch
	check "an unknown domain: exit 2" exit_is 2
	check "nothing written" nowrites
	sim_stop
}

# libvirt 12.1+'s iommufd: <iommufd enabled='yes'/> under <domain> for every hostdev, a hostdev's
# <driver iommufd='yes|no'/> over it; Debian's kernels up to 7.3 have no VFIO cdev (tests/vm)
scenario_check_vm_libvirt_iommufd() {
	local cfg
	cv_start check-vm-iommufd hook-pool || return
	mkdir -p "$ROOT/etc/libvirt/qemu" "$ROOT/etc/libvirt/hooks/qemu.d" "$ROOT/proc/sys/kernel" "$ROOT/boot"
	install -m 0755 "$SRCDIR/hooks/libvirt-qemu" "$ROOT/etc/libvirt/hooks/qemu.d/pcibind"
	echo 7.2.13+deb14-amd64 >"$ROOT/proc/sys/kernel/osrelease"
	cfg="$ROOT/boot/config-7.2.13+deb14-amd64"
	printf '#\n# CONFIG_IOMMUFD is not set\n' >"$cfg"
	dom_xml "<iommufd enabled='yes'/>" "$(hd 01 00 0 no)" \
		"$(hd 01 00 1 no | sed "s|<source>|<driver iommufd='no'/><source>|")" | sed 's|<devices><iommufd[^>]*>|<iommufd enabled="yes"/><devices>|' \
		>"$ROOT/etc/libvirt/qemu/win11.xml"
	pb check --domain win11
	check "the domain asks for iommufd, the kernel has no cdev: not ready" exit_is 1
	check "... said, with the hostdevs counted (iommufd='no' on one of them)" \
		finding fail iommufd "1 hostdev through iommufd, but the kernel has no VFIO cdev (/dev/vfio/devices): the domain cannot start"
	check "... and the fix names both XML forms" finding fail iommufd "drop <iommufd enabled='yes'/> or the hostdev's <driver iommufd='yes'/>"
	printf 'CONFIG_IOMMUFD=m\nCONFIG_VFIO_DEVICE_CDEV=y\n' >>"$cfg"
	: >"$ROOT/dev/iommu"
	pb check --domain win11
	check "a kernel with the cdev and /dev/iommu: ok" finding ok iommufd "1 hostdev through iommufd: the kernel offers the VFIO cdev and /dev/iommu"
	check "... and ready" exit_is 0
	rm -f "$cfg" "$ROOT/dev/iommu"
	pb check --domain win11
	check "no config and nothing on vfio-pci: unknown, a warning" finding warn iommufd "whether the kernel has the VFIO cdev is unknown"
	dom_xml "$(hd 01 00 0 no | sed "s|<source>|<driver iommufd='yes'/><source>|")" "$(hd 01 00 1 no)" >"$ROOT/etc/libvirt/qemu/win11.xml"
	printf '# CONFIG_IOMMUFD is not set\n' >"$cfg"
	pb check --domain win11
	check "a hostdev's own <driver iommufd='yes'/> without the domain element counts" \
		finding fail iommufd "1 hostdev through iommufd, but the kernel has no VFIO cdev"
	dom_xml "$(hd 01 00 0 no)" "$(hd 01 00 1 no)" >"$ROOT/etc/libvirt/qemu/win11.xml"
	pb check --domain win11
	check "a domain without iommufd gets no iommufd finding" bash -c '! grep -q " iommufd: " <<<"$1"' _ "$OUT"
	check "nothing written" nowrites
	sim_stop
}

scenario_check_vm_named_by_plain_check() {
	cv_start check-vm-plain hook-pool || return
	vmc 110 <<<"hostpci0: 04:00.0"
	printf 'hookscript: local:snippets/pcibind-hook\nhostpci0: 03:00.0\n' | vmc 111
	printf 'hostpci0: 03:00.0\ntemplate: 1\n' | vmc 112
	vmc 113 <<<"memory: 2048"
	printf 'name: desk\nhostpci0: 04:00.0, pcie=1\n' | vmc 114
	mkdir -p "$ROOT/etc/libvirt/qemu"
	dom_xml "$(hd 04 00 0 no)" >"$ROOT/etc/libvirt/qemu/win11.xml"
	dom_xml "$(hd 04 00 0 yes)" | sed 's/win11/managed/' >"$ROOT/etc/libvirt/qemu/managed.xml"
	pb check
	check "plain check names VM 110 (hostpci, no pcibind hook)" finding warn vm "VM 110 passes PCI devices and has no pcibind hookscript"
	check "with the way to fix it" out_has "fix: qm set 110 --hookscript local:snippets/pcibind-hook; pcibind check --vm 110"
	check "not VM 111 (pcibind's hookscript)" bash -c '! grep -q "VM 111" <<<"$1"' _ "$OUT"
	check "not the template 112, not 113 without devices, not 114 whose entry qemu-server ignores" \
		bash -c '! grep -qE "VM 11[234]" <<<"$1"' _ "$OUT"
	check "names the libvirt domain with an unmanaged device and no hook" finding warn vm "domain win11 passes 1 unmanaged PCI device"
	check "not the one whose device libvirt manages" bash -c '! grep -q "domain managed" <<<"$1"' _ "$OUT"
	sim_stop
}
