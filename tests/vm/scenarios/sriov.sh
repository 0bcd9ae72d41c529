# sriov.sh - pcibind's SR-IOV sets, the PF refusal, driver = auto and reset_method on the real kernel
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
PF=$(for d in $S/devices/*; do [ -e "$d/sriov_totalvfs" ] && basename "$d"; done | head -n 1)
if [ -z "$PF" ]; then
	nok "there is an SR-IOV PF (QEMU nvme with sriov_max_vfs)"
	return 0
fi
D=$S/devices/$PF
SLOT=${PF%.0}
NIC=0000:02:00.0
vfs_now() { ls $D | grep -c '^virtfn'; }

mkdir -p /etc/pcibind
cat >/etc/pcibind/pcibind.conf <<EOF
[vfs]
address = $PF
sriov_numvfs = 4
vfs = 1, 3
driver = auto

[nic]
address = $NIC
reset_method = bus
EOF
chmod 0644 /etc/pcibind/pcibind.conf

# --- VFs made, two of them bound, the rest to the host driver
pcb bind -n vfs
expect_rc "bind -n of the SR-IOV set" 0
expect_match "the dry run names the count it would write" "$OUT" "$PF  sriov_numvfs 0 -> 4 for \[vfs\]"
expect "the dry run made no VFs" "$(vfs_now)" 0
dmesg_mark
pcb bind vfs
expect_rc "bind vfs" 0
expect "the PF has 4 VFs" "$(cat $D/sriov_numvfs)" 4
expect_driver $SLOT.2 vfio-pci "VF 1: "
expect_driver $SLOT.4 vfio-pci "VF 3: "
expect_driver $PF nvme "the PF keeps its driver: "
expect "sriov_drivers_autoprobe is on again" "$(cat $D/sriov_drivers_autoprobe)" 1
LOG=$(dmesg_new)
expect_match "the other VFs went to their host driver (nvme probed VF 0)" "$LOG" "nvme nvme[0-9]+: pci function $SLOT\.1"
expect_match "and VF 2" "$LOG" "nvme nvme[0-9]+: pci function $SLOT\.3"
expect_nomatch "nvme never probed the set's VFs" "$LOG" "nvme nvme[0-9]+: pci function $SLOT\.[24]"
expect_match "the journal holds the PF's count and autoprobe" "$(journal_of $PF)" "sriov_numvfs=0	sriov_drivers_autoprobe=1$"
expect "no records of the VFs pcibind made" "$(journal_entries)" 1
G1=$(grp $SLOT.2)
expect_node "$G1" present "VF 1's group: "
if hold $SLOT.2; then
	ok "vfio-hold opens VF 1 through VFIO (group $G1), as a VM would"
else
	nok "vfio-hold opens VF 1 through VFIO: $(cat /tmp/hold.log)"
fi
pcb status $PF $SLOT.2
expect_match "status: the PF's VFs and those in use" "$OUT" "SR-IOV 4/4 VFs, 2 in use \(on vfio drivers\)"
expect_match "status: a VF's number and PF" "$OUT" "VF 1 of $PF"
expect_match "status: driver = auto picked vfio-pci from the kernel's own modules.alias" "$OUT" \
	"driver = auto: vfio-pci \(modules.alias vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\*, 7 wildcards\)"

# --- restore while a VF is in use: refused before any write, nothing hangs
pcb_deadline 30 restore
expect "restore while VF 1 is held fails at once (exit 1)" "$RC" 1
expect_match "naming the VF and its holder" "$OUT" "$SLOT.2 is in use: vfio-hold \(pid $HOLD_PID\)"
expect "the count is untouched" "$(cat $D/sriov_numvfs)" 4
kill $HOLD_PID
wait $HOLD_PID 2>/dev/null
pcb restore
expect_rc "restore once the holder let go" 0
expect "restore gives the PF its recorded count: 0" "$(cat $D/sriov_numvfs)" 0
expect "the VFs are gone" "$(present $SLOT.2 && echo present || echo gone)" gone
expect_node "$G1" absent "after restore: "
expect "the journal is empty" "$(journal_entries)" 0

# --- a PF with VFs: refused naming them; forced, its count goes to 0 first (nvme would keep them)
sysw $D/sriov_numvfs 2 >/dev/null
pcb bind $PF
expect_rc "bind of a PF with VFs is refused" 3
expect_match "naming each VF" "$OUT" "binding $PF destroys its 2 VFs: $SLOT.1 \(.*\), $SLOT.2 \(.*\)"
expect "nothing changed" "$(drv $PF) $(cat $D/sriov_numvfs)" "nvme 2"
pcb bind -f $PF
expect_rc "bind -f of the PF" 0
expect_driver $PF vfio-pci "forced: "
expect "its VFs were taken away first" "$(cat $D/sriov_numvfs)" 0
expect_match "and it says so" "$OUT" "its 2 VFs were destroyed; 'pcibind restore $PF' gives it 2 again"
pcb restore $PF
expect_rc "restore of the PF" 0
expect_driver $PF nvme "after restore: "
expect "with its 2 VFs again" "$(cat $D/sriov_numvfs)" 2
sysw $D/sriov_numvfs 0 >/dev/null

# --- a set's reset_method: written by bind, journaled, written back by restore
pcb bind nic
expect_rc "bind nic" 0
expect_driver $NIC vfio-pci
expect "the set's reset_method is the NIC's now" "$(cat $S/devices/$NIC/reset_method)" bus
expect_match "the journal keeps the original" "$(journal_of $NIC)" "reset_method=pm bus"
pcb restore nic
expect_rc "restore nic" 0
expect "the original reset_method is back" "$(cat $S/devices/$NIC/reset_method)" "pm bus"
expect_driver $NIC e1000e "after restore: "
expect "journal empty" "$(journal_entries)" 0
rm -f /etc/pcibind/pcibind.conf
reset_all
