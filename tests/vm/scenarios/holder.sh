# holder.sh - restore while a VFIO user (a "VM") holds the device: refused; forced, a clear timeout; then success
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
NIC=0000:02:00.0
G=$(grp $NIC)

pcb bind $NIC
expect_rc "bind" 0
hold --req $NIC || nok "vfio-hold could not open $NIC: $(cat /tmp/hold.log)"
HP=$HOLD_PID

# a VM holds it: restore refuses before any write, naming who (issue 13, defect 12)
dmesg_mark
pcb_deadline 30 --timeout 3 restore $NIC
expect "restore of a held device is refused (exit 3)" "$RC" 3
expect_match "the refusal names the holder's command" "$OUT" "vfio-hold"
expect_match "the refusal names the holder's pid" "$OUT" "(^|[^0-9])$HP([^0-9]|$)"
expect_match "the refusal names /dev/vfio/$G" "$OUT" "/dev/vfio/$G"
expect "nothing was written: still on vfio-pci" "$(drv $NIC)" vfio-pci
expect "nothing was written: no request relayed to the holder (dmesg)" \
	"$(dmesg_new | grep -c "Relaying device request")" 0

# forced: the kernel's unbind waits for the holder, pcibind's deadline ends it
dmesg_mark
pcb_deadline 30 --force --timeout 3 restore $NIC
expect "forced restore of a held device gives up with exit 4" "$RC" 4
expect "... within a few seconds (--timeout 3)" "$(echo "$DT" | awk '{ print ($1 < 10) ? "yes" : "no: " $1 "s" }')" yes
expect_match "the message names the device" "$OUT" "$NIC"
expect_match "the message names the holder's command" "$OUT" "vfio-hold"
expect_match "the message names the holder's pid" "$OUT" "(^|[^0-9])$HP([^0-9]|$)"
expect_match "the message names /dev/vfio/$G" "$OUT" "/dev/vfio/$G"
expect_match "the journal still has the original driver" "$(journal_of $NIC)" "driver=e1000e"
expect_match "the kernel asked the holder for the device (dmesg)" "$(dmesg_new)" "vfio-pci $NIC: Relaying device request to user"
note "processes in D state: $(dstate | tr '\n' ',')"
for p in /proc/[0-9]*; do
	[ "$(cat $p/comm 2>/dev/null)" = pcibind ] &&
		note "left running: pid ${p#/proc/} $(sed -n 's/^State:[[:space:]]*//p' $p/status) in $(cat $p/wchan)"
done

# the kernel's unbind is still pending: status must not hang on it
pcb_deadline 15 status
expect "status does not hang while an unbind is blocked in the kernel" "$RC" 0
STATUS_PID=$PCB_PID
[ "$RC" = hung ] && note "stuck: $(dstate | tr '\n' ',')"
pcb_deadline 20 --force --timeout 3 restore $NIC
expect "a second restore while the first unbind is still pending ends (4 or 1), no hang" \
	"$(case $RC in 4 | 1) echo ended ;; *) echo "$RC" ;; esac)" ended
SECOND_PID=$PCB_PID
[ "$RC" = hung ] && note "stuck: $(dstate | tr '\n' ',') lock open in: $(for f in /proc/[0-9]*/fd/*; do [ "$(readlink $f)" = /run/pcibind/lock ] && echo "${f%/fd/*}"; done | tr "\n" " ")"

# the "VM" shuts down
kill $HP
wait $HP
wait_for 20 eval '[ -z "$(dstate)" ]'
expect "no process stays stuck once the holder let go" "$(dstate)" ""
wait $STATUS_PID $SECOND_PID 2>/dev/null
note "after the holder let go: driver=$(drv $NIC) override=$(ovr $NIC) node=$(node $G)"

pcb restore $NIC
expect_rc "restore after the holder let go" 0
expect_driver $NIC e1000e "after restore: "
expect_override $NIC "(null)" "after restore: "
expect_node $G absent "after restore: "
expect "the journal is empty" "$(journal_entries)" 0
reset_all
