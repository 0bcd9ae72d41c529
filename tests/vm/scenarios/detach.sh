# detach.sh - unbind leaves a function driverless, and the kernel keeps it so until restore
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
NIC=0000:02:00.0
TWIN=0000:00:06.0

pcb unbind $NIC
expect_rc "unbind" 0
expect_driver $NIC - "after unbind: "
expect_override $NIC none "after unbind: "
expect_driver $TWIN e1000e "the twin: "
expect_match "the journal records the original driver" "$(journal_of $NIC)" "driver=e1000e"
expect "raw: drivers_probe of a device with override 'none' reports success" "$(sysw $S/drivers_probe $NIC)" "ok 13"
expect_driver $NIC - "raw: override 'none' keeps every driver off: "
expect "raw: drivers/e1000e/bind refuses it" "$(sysw $S/drivers/e1000e/bind $NIC)" "err ENODEV 19"
pcb restore $NIC
expect_rc "restore after unbind" 0
expect_driver $NIC e1000e "after restore: "
expect_override $NIC "(null)" "after restore: "
expect "the journal is empty" "$(journal_entries)" 0
reset_all
