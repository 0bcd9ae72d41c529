# bridge.sh - a device behind a PCIe-to-PCI bridge: the bridge is in its group and does not count
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
OLD=0000:04:01.0
PBR=0000:03:00.0
G=$(grp $OLD)

expect "the bridge shares the device's group" "$(grp $PBR)" "$G"
pcb bind 04:01.0
expect_rc "bind of the e1000 behind the bridge" 0
expect_driver $OLD vfio-pci "after bind: "
expect "the bridge is left alone" "$(drv $PBR) $(ovr $PBR)" "- (null)"
expect_node $G present
hold $OLD && ok "the group with the bridge is viable" || nok "vfio-hold: $(cat /tmp/hold.log)"
kill $HOLD_PID 2>/dev/null; wait $HOLD_PID 2>/dev/null
pcb restore 04:01.0
expect_rc "restore" 0
expect_driver $OLD e1000 "after restore: "
expect_node $G absent "after restore: "
reset_all
