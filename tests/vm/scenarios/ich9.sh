# ich9.sh - a group of several functions: the drivered ones move together, the driverless LPC stays
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
LPC=0000:00:1f.0
SATA=0000:00:1f.2
SMB=0000:00:1f.3
G=$(grp $SATA)

pcb bind 00:1f.2 00:1f.3
expect_rc "bind of AHCI and SMBus together" 0
expect "both are on vfio-pci" "$(drv $SATA) $(drv $SMB)" "vfio-pci vfio-pci"
expect "the driverless LPC function is left alone" "$(drv $LPC) $(ovr $LPC)" "- (null)"
expect_node $G present
hold $SATA && ok "the group (with a driverless function) is viable" || nok "vfio-hold: $(cat /tmp/hold.log)"
kill $HOLD_PID 2>/dev/null; wait $HOLD_PID 2>/dev/null
pcb restore
expect_rc "restore" 0
expect "ahci and i801_smbus are back" "$(drv $SATA) $(drv $SMB)" "ahci i801_smbus"
expect "overrides cleared" "$(ovr $SATA) $(ovr $SMB)" "(null) (null)"
expect_node $G absent "after restore: "
reset_all
