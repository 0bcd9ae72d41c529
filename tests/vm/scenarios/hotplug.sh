# hotplug.sh - QEMU removes a device from the running guest: pcibind errs cleanly, loses no state
# SPDX-License-Identifier: GPL-2.0-or-later
#
# "@@qmp JSON@@" on the console asks run.sh, on the host, to send JSON to
# QEMU's monitor; the guest then watches sysfs for the effect.
need_pcibind || return 0
NIC=0000:02:00.0
VGA=0000:01:00.0
AUD=0000:01:00.1
G=$(grp $NIC)

qmp() { echo "@@qmp $1@@"; }
unplug() { qmp '{"execute":"device_del","arguments":{"id":"nic2"}}'; }
replug() {
	qmp '{"execute":"device_add","arguments":{"driver":"e1000e","id":"nic2","bus":"rp2","netdev":"n0","mac":"52:54:00:12:34:02"}}'
}

# --- the device vanishes while it is on vfio-pci (the VM's device is hot-unplugged)
pcb bind $NIC
expect_rc "bind of the NIC" 0
pcb --force bind 01:00
expect_rc "bind of the GPU slot" 0
expect "the journal holds three functions" "$(journal_entries)" 3

dmesg_mark
unplug
if wait_for 60 eval '! present $NIC'; then ok "QEMU's device_del removed $NIC from the guest"; else nok "$NIC still present 60 s after device_del"; fi
note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-400)"
expect_node $G absent "the removed device's group: "

pcb status
expect_rc "status with a journaled device gone" 0
pcb restore
expect_rc "restore of everything with one device gone" 0 1
expect_match "the restore names the vanished device" "$OUT" "$NIC"
expect_nomatch "no crash or internal error" "$OUT" "Segmentation|Abort|internal|assert"
expect "the GPU functions are back on their drivers" "$(drv $VGA) $(drv $AUD)" "bochs-drm snd_hda_intel"
expect "the GPU's overrides are cleared" "$(ovr $VGA) $(ovr $AUD)" "(null) (null)"
expect "the journal no longer holds the GPU" "$(journal_of $VGA)$(journal_of $AUD)" ""
note "journal after the restore: $(cat $JOURNAL 2>/dev/null | tr '\n' '|')"

replug
if wait_for 60 present $NIC; then ok "QEMU's device_add brought $NIC back"; else nok "$NIC not back 60 s after device_add"; fi
wait_for 20 eval '[ "$(drv $NIC)" = e1000e ]'
expect "the re-added device comes up on e1000e with no override (it is a new device)" "$(drv $NIC) $(ovr $NIC)" "e1000e (null)"
pcb restore
expect_rc "restore after the device came back" 0
expect "the journal is empty" "$(journal_entries)" 0
pcb bind $NIC
expect_rc "the re-added device binds" 0
pcb restore $NIC
expect_rc "... and restores" 0
expect_driver $NIC e1000e "after the round trip: "

# --- the device vanishes while pcibind is waiting for the kernel to unbind it
pcb bind $NIC
hold --req $NIC || nok "vfio-hold could not open $NIC: $(cat /tmp/hold.log)"
HP=$HOLD_PID
"$PCIBIND" --force --timeout 30 restore $NIC >/tmp/mid.out 2>&1 &
MID=$!
sleep 2
dmesg_mark
unplug
sleep 3
note "while both wait: present=$(present $NIC && echo yes || echo no) D-state: $(dstate | tr '\n' ',')"
kill $HP
wait $HP
if wait_for 60 eval '! present $NIC'; then ok "the device left once the holder let go"; else nok "$NIC still present after device_del and release"; fi
if wait_for 40 gone $MID; then
	wait $MID
	RC=$?
else
	RC=hung
fi
OUT=$(cat /tmp/mid.out)
note "restore during the unplug -> exit $RC"
printf '%s\n' "$OUT" | sed 's/^/#   /'
note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-600)"
expect_rc "restore racing the unplug ends with success or a clean failure" 0 1
expect_nomatch "no crash or internal error" "$OUT" "Segmentation|Abort|internal|assert"
pcb status
expect_rc "status afterwards" 0
pcb restore
expect_rc "restore afterwards ends cleanly" 0 1
replug
wait_for 60 present $NIC && wait_for 20 eval '[ "$(drv $NIC)" = e1000e ]'
expect "the device is back on e1000e" "$(drv $NIC) $(ovr $NIC)" "e1000e (null)"
pcb restore
expect_rc "the journal settles" 0
expect "the journal is empty" "$(journal_entries)" 0
expect "no /dev/vfio node left" "$(vfio_nodes)" ""
reset_all
