# hookmap.sh - a Proxmox pre-start/post-stop round trip on the real kernel, with a PCI mapping of two identical
# NICs whose first one another running VM holds: this VM gets the second, and its post-stop gives back only that
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What qemu-server does around the hook is played by hand, as PVE/QemuServer.pm and PCI.pm do it: VM 101's
# QEMU (a VFIO holder named qemu-system-x86_64 with its -pidfile) holds the first NIC, and its reservation by
# pid is in /run/qemu-server/pci-id-reservations.
need_pcibind || return 0
N1=0000:00:06.0
N2=0000:02:00.0
G1=$(grp $N1)
G2=$(grp $N2)
hexid() { printf '%s:%s' "$(sed 's/^0x//' "$S/devices/$1/$2")" "$(sed 's/^0x//' "$S/devices/$1/$3")"; }
mapline() { printf '\tmap id=%s,iommugroup=%s,node=pve1,path=%s,subsystem-id=%s\n' "$(hexid "$1" vendor device)" \
	"$(grp "$1")" "$1" "$(hexid "$1" subsystem_vendor subsystem_device)"; }

expect "the two NICs are twins" "$(hexid $N1 vendor device)" "$(hexid $N2 vendor device)"
mkdir -p /etc/pve/qemu-server /etc/pve/mapping /run/qemu-server /var
VARRUN=
[ -e /var/run ] || { ln -s /run /var/run && VARRUN=1; }
echo pve1 >/etc/hostname
rm -f /etc/pcibind/pcibind.conf
{ echo nic; mapline $N1; mapline $N2; } >/etc/pve/mapping/pci.cfg
echo "hostpci0: mapping=nic" >/etc/pve/qemu-server/101.conf
printf 'hostpci0: mapping=nic\nname: router\n' >/etc/pve/qemu-server/100.conf
IF2=$(ls "$S/devices/$N2/net" 2>/dev/null)

# VM 101 starts: pre-start hands it the first NIC; its QEMU then holds it, and qemu-server reserves it by pid
pcb hook proxmox 101 pre-start
expect_rc "VM 101 pre-start" 0
expect_driver $N1 vfio-pci "VM 101 gets the first NIC: "
ln -sf /usr/bin/vfio-hold /tmp/qemu-system-x86_64
rm -f /tmp/hold.ready
/tmp/qemu-system-x86_64 --ready /tmp/hold.ready -pidfile /var/run/qemu-server/101.pid $N1 >/tmp/hold101.log 2>&1 &
QEMU101=$!
if wait_for 20 test -e /tmp/hold.ready; then ok "VM 101's QEMU holds $N1"; else nok "VM 101's QEMU: $(cat /tmp/hold101.log)"; fi
echo "$N1 101 pid:$QEMU101" >/run/qemu-server/pci-id-reservations
expect "its pidfile names it" "$(cat /run/qemu-server/101.pid 2>/dev/null)" "$QEMU101"

# VM 100, same mapping: qemu-server will give it the second NIC, so that is the one pcibind hands over
dmesg_mark
pcb hook proxmox 100 pre-start
expect_rc "VM 100 pre-start" 0
expect_driver $N2 vfio-pci "VM 100 gets the second NIC: "
expect_driver $N1 vfio-pci "VM 101 keeps the first: "
expect_node $G2 present "VM 100: "
expect_match "the message names the second NIC" "$OUT" "VM 100 pre-start: $N2: e1000e -> vfio-pci"
expect "VM 100's record is the second NIC only" "$(grep -v '^#' /run/pcibind/vm/proxmox-100 2>/dev/null)" "$N2"
if alive "$QEMU101"; then ok "VM 101's QEMU still runs"; else nok "VM 101's QEMU is gone: $(cat /tmp/hold101.log)"; fi
hold $N2 && ok "the second NIC is usable by VM 100's VFIO user" || nok "vfio-hold $N2: $(cat /tmp/hold.log)"
kill "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null

# VM 100 stops: exactly what it got comes back, VM 101's NIC is not touched
pcb hook proxmox 100 post-stop
expect_rc "VM 100 post-stop" 0
expect_driver $N2 e1000e "after VM 100's stop: "
expect_override $N2 "(null)" "after VM 100's stop: "
# (the name: without udev the kernel gives the first free ethN, and VM 101 has the first NIC's eth0)
expect_match "after VM 100's stop: it has a network interface again (was $IF2)" "$(ls "$S/devices/$N2/net" 2>/dev/null)" "^eth[0-9]+$"
expect_driver $N1 vfio-pci "after VM 100's stop, VM 101 still has: "
expect_node $G1 present "VM 101's group: "
if alive "$QEMU101"; then ok "VM 101's QEMU was not disturbed"; else nok "VM 101's QEMU ended"; fi
expect "VM 100's record is removed" "$(test -e /run/pcibind/vm/proxmox-100 && echo present)" ""

# VM 101 stops: QEMU exits, then its post-stop
kill "$QEMU101" 2>/dev/null
wait "$QEMU101" 2>/dev/null
pcb hook proxmox 101 post-stop
expect_rc "VM 101 post-stop" 0
expect_driver $N1 e1000e "after VM 101's stop: "
expect_node $G1 absent "after VM 101's stop: "
expect "the journal is empty" "$(journal_entries)" 0
note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-600)"
rm -rf /etc/pve /run/qemu-server /tmp/qemu-system-x86_64
[ -n "$VARRUN" ] && rm -f /var/run
reset_all
