# hookgroup.sh - issue 21 on the real kernel: a Proxmox VM that names one function of a two-function IOMMU
# group gets the whole group moved, as qemu-server moves it, and back; a second VM naming a device whose
# /dev/vfio/N the first VM's QEMU holds is refused at pre-start and its post-stop moves nothing
# SPDX-License-Identifier: GPL-2.0-or-later
#
# From the peers' source: qemu-server PVE/QemuServer/PCI.pm prepare_pci_device() binds the group through
# pve-common PVE/SysFSTools.pm pci_dev_group_bind_to_vfio() (every function but those with a pci_bus
# directory); PVE/QemuServer/Helpers.pm vm_running_locally(): a VM runs while the QEMU whose -pidfile is
# /var/run/qemu-server/VMID.pid lives. The guest's group 6 is the boot VGA 01:00.0 (bochs-drm) and its
# "GPU audio" 01:00.1 (snd_hda_intel); 02:00.0 (e1000e) is alone in group 7.
need_pcibind || return 0
VGA=0000:01:00.0
AUD=0000:01:00.1
NIC=0000:02:00.0
G=$(grp $VGA)
GN=$(grp $NIC)

expect "01:00.0 and 01:00.1 share one group" "$(grp $AUD)" "$G"
mkdir -p /etc/pve/qemu-server /etc/pcibind /run/qemu-server /var
VARRUN=
[ -e /var/run ] || { ln -s /run /var/run && VARRUN=1; }
echo pve1 >/etc/hostname
# the GUI's default without "All Functions": function 0 only
printf 'hostpci0: 0000:01:00.0,pcie=1,x-vga=1\nmachine: q35\nname: one-function\n' >/etc/pve/qemu-server/100.conf
# the boot VGA carries the console: release_console lets it go (as in hook.sh)
printf '[gpu]\naddress = 0000:01:00\nrelease_console = yes\n' >/etc/pcibind/pcibind.conf
chmod 0644 /etc/pcibind/pcibind.conf

dmesg_mark
pcb hook proxmox 100 pre-start
expect_rc "one function of a two-function group: pre-start" 0
expect_driver $VGA vfio-pci "after pre-start: "
expect_driver $AUD vfio-pci "after pre-start, the function the VM does not name: "
expect_match "the message says why the audio goes" "$OUT" "$AUD \\(snd_hda_intel\\) goes too: it is in the IOMMU group of hostpci0"
expect "the record lists both" "$(grep -v '^#' /run/pcibind/vm/proxmox-100 2>/dev/null | tr '\n' ' ')" "$VGA $AUD "
expect_node "$G" present "after pre-start: "
hold $VGA && ok "the group is viable: VFIO opens it" || nok "vfio-hold: $(cat /tmp/hold.log)"
kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null
pcb hook proxmox 100 post-stop
expect_rc "post-stop" 0
expect_driver $VGA bochs-drm "after post-stop: "
expect_driver $AUD snd_hda_intel "after post-stop: "
expect_override $AUD "(null)" "after post-stop: "
expect_node "$G" absent "after post-stop: "
expect "the journal is empty" "$(journal_entries)" 0
rm -f /etc/pcibind/pcibind.conf /run/pcibind/vm/proxmox-100

# VM 101 and VM 102 name the same NIC; VM 101 runs: its QEMU (vfio-hold named qemu-system-x86_64, with its
# -pidfile) holds /dev/vfio/$GN. No reservation line: the open group alone says the NIC is in use.
echo "hostpci0: 02:00.0" >/etc/pve/qemu-server/101.conf
echo "hostpci0: 02:00.0" >/etc/pve/qemu-server/102.conf
pcb hook proxmox 101 pre-start
expect_rc "VM 101 pre-start" 0
expect_driver $NIC vfio-pci "VM 101 has the NIC: "
ln -sf /usr/bin/vfio-hold /tmp/qemu-system-x86_64
rm -f /tmp/hold.ready
/tmp/qemu-system-x86_64 --ready /tmp/hold.ready -pidfile /var/run/qemu-server/101.pid $NIC >/tmp/hold101.log 2>&1 &
QEMU101=$!
if wait_for 20 test -e /tmp/hold.ready; then ok "VM 101's QEMU holds $NIC"; else nok "VM 101's QEMU: $(cat /tmp/hold101.log)"; fi
BEFORE=$(snapshot)
JBEFORE=$(cat /run/pcibind/journal 2>/dev/null)
pcb hook proxmox 102 pre-start
expect_rc "VM 102 pre-start while VM 101 runs: refused" 3
expect_match "the refusal names VM 101, its pid and the node" "$OUT" "the running VM 101 \\([^)]*pid $QEMU101\\) holds /dev/vfio/$GN"
expect_same "VM 102 pre-start moved nothing" "$BEFORE" "$(snapshot)"
expect "VM 102 has no record" "$(test -e /run/pcibind/vm/proxmox-102 && echo present)" ""
pcb hook proxmox 102 post-stop
expect_rc "VM 102 post-stop" 0
expect_same "VM 102 post-stop (no record) moved nothing" "$BEFORE" "$(snapshot)"
# a record naming the NIC (left by an earlier start of VM 102): still nothing moves under VM 101
cp /run/pcibind/vm/proxmox-101 /run/pcibind/vm/proxmox-102
pcb hook proxmox 102 post-stop
expect_rc "VM 102 post-stop with a record" 0
expect_same "VM 102 post-stop with a record moved nothing" "$BEFORE" "$(snapshot)"
expect_match "it says why" "$OUT" "not given back: the running VM 101"
expect "the journal is untouched" "$(cat /run/pcibind/journal 2>/dev/null)" "$JBEFORE"
if alive "$QEMU101"; then ok "VM 101's QEMU was not disturbed"; else nok "VM 101's QEMU ended: $(cat /tmp/hold101.log)"; fi
kill "$QEMU101" 2>/dev/null
wait "$QEMU101" 2>/dev/null
pcb hook proxmox 101 post-stop
expect_rc "VM 101 post-stop" 0
expect_driver $NIC e1000e "after VM 101's stop: "
expect "the journal is empty" "$(journal_entries)" 0
note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-600)"
rm -rf /etc/pve /run/qemu-server /run/pcibind/vm /tmp/qemu-system-x86_64
[ -n "$VARRUN" ] && rm -f /var/run
reset_all
