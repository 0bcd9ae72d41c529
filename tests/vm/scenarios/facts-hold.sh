# facts-hold.sh - the raw kernel while a VFIO user holds the device: what blocks, what does not
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A process that unbinds a device whose VFIO file is open sleeps in the
# kernel until the file is closed.  Which other sysfs accesses then block
# decides how pcibind must read state (status must not hang) and how the
# simulator must behave.

NIC=0000:02:00.0
TWIN=0000:00:06.0
D=$S/devices/$NIC

# state of a process: the State: letter from /proc/PID/status
pstate() { sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$1/status 2>/dev/null; }
# in_bg SECONDS FILE CMD...: run CMD in the background; BG is "returned" if
# it ends within SECONDS, else "blocked" (and BG_PID is left running)
in_bg() {
	local secs=$1 out=$2
	shift 2
	"$@" >"$out" 2>&1 &
	BG_PID=$!
	if wait_for "$secs" gone $BG_PID; then
		wait $BG_PID
		BG=returned
	else
		BG=blocked
	fi
}

/sbin/modprobe vfio-pci
G=$(grp $NIC)
expect "raw bind of $NIC to vfio-pci" "$(raw_bind $NIC vfio-pci)" vfio-pci

hold --req $NIC || nok "vfio-hold could not hold $NIC"
HP=$HOLD_PID
note "$(cat /tmp/hold.log | tr '\n' '|')"
fds=$(ls -l /proc/$HP/fd | sed -n 's/.* -> //p' | sort | tr '\n' ' ')
note "the holder's fds: $fds"
expect_match "a holder has /dev/vfio/$G open" "$fds" "(^| )/dev/vfio/$G( |$)"
expect_match "a holder has /dev/vfio/vfio open" "$fds" "(^| )/dev/vfio/vfio( |$)"
expect_match "a holder's device fd is anon_inode:[vfio-device]" "$fds" "anon_inode:\[vfio-device\]"
expect "a second open of a held group" "$(vfio-hold $NIC 2>&1 | sed -n 's/.*cannot open \/dev\/vfio\/[0-9]*: //p')" \
	"Device or resource busy"

# the unbind that a VM's holding blocks
dmesg_mark
t0=$(now)
in_bg 3 /tmp/unbind.out sysw $D/driver/unbind $NIC
expect "unbind of a held device blocks" "$BG" blocked
UNBIND=$BG_PID
expect "the blocked writer sleeps interruptibly at first" "$(pstate $UNBIND)" S
wait_for 10 eval 'dmesg | grep -q "Relaying device request"'
msg=$(dmesg_new)
note "dmesg: $(printf '%s' "$msg" | tr '\n' '|')"
expect_match "the kernel relays the request to the holder (dmesg)" "$msg" "vfio-pci $NIC: Relaying device request to user \(#0\)"
wait_for 5 grep -q "asks for" /tmp/hold.log
expect_match "the holder receives the request on its eventfd" "$(cat /tmp/hold.log)" "asks for $NIC back"
expect "the driver link is already gone while unbind blocks" "$(test -L $D/driver && echo present)" ""
expect "so drv() reads no driver while vfio-pci still has it" "$(drv $NIC)" -
expect_node $G present "while unbind blocks: "
expect "the driver directory no longer lists the device either" "$(test -e $S/drivers/vfio-pci/$NIC && echo present)" ""
# driver_override and the device lock: 6.1's PCI attribute took the device lock the unbind holds, so
# a reader or writer waited for the holder; the driver core's driver_override (7.0, and in Debian's
# 6.12.117 as measured) keeps the name under a spinlock of its own: both return at once
if [ "$(uname -r | cut -d. -f1,2)" = 6.1 ]; then
	in_bg 2 /tmp/ovr.out cat $D/driver_override
	expect "reading driver_override blocks while unbind blocks (6.1: the device lock)" "$BG" blocked
	OVR_READ=$BG_PID
	expect "the blocked reader sleeps uninterruptibly (D)" "$(pstate $OVR_READ)" D
	in_bg 2 /tmp/ovrw.out sysw $D/driver_override vfio-pci
	expect "writing driver_override blocks while unbind blocks (6.1: the device lock)" "$BG" blocked
else
	in_bg 2 /tmp/ovr.out cat $D/driver_override
	expect "reading driver_override returns at once while unbind blocks (the driver core's own lock)" "$BG" returned
	OVR_READ=$BG_PID
	expect "... and shows the override" "$(cat /tmp/ovr.out)" vfio-pci
	in_bg 2 /tmp/ovrw.out sysw $D/driver_override vfio-pci
	expect "writing driver_override returns at once while unbind blocks (the driver core's own lock)" "$BG" returned
fi
# shellcheck disable=SC2034 # used in an eval below
OVR_WRITE=$BG_PID
in_bg 2 /tmp/probe.out sysw $S/drivers_probe $NIC
expect "drivers_probe of the same device returns at once (dev->driver is still set)" "$BG" returned
expect "... and reports success" "$(cat /tmp/probe.out)" "ok 13"
in_bg 2 /tmp/rm.out cat $D/reset_method
expect "reading reset_method does not block" "$BG" returned
in_bg 2 /tmp/id.out cat $D/vendor $D/device $D/class
expect "reading vendor/device/class does not block" "$BG" returned
in_bg 2 /tmp/g.out readlink $D/iommu_group
expect "readlink iommu_group does not block" "$BG" returned
in_bg 5 /tmp/twin.out sysw $S/devices/$TWIN/driver/unbind $TWIN
expect "another device's unbind does not block" "$BG" returned
in_bg 5 /tmp/twinp.out sysw $S/drivers_probe $TWIN
expect "another device's drivers_probe does not block" "$BG" returned
expect_driver $TWIN e1000e "the twin came back: "
dmesg_mark
kill -9 $UNBIND
sleep 1
expect "SIGKILL does not end a writer blocked in unbind: it turns uninterruptible (D)" "$(pstate $UNBIND)" D
msg=$(dmesg_new)
expect_match "the kernel names the killed writer in dmesg" "$msg" \
	"vfio-pci $NIC: Device is currently in use, task \"sysw\" \($UNBIND\) blocked until device is released"

# letting go
t1=$(now)
kill $HP
wait $HP
expect "the holder exits cleanly on SIGTERM" "$?" 0
expect "the blocked unbind finishes once the holder lets go" "$(wait_for 10 gone $UNBIND && echo finished)" finished
note "unbind was blocked for $(elapsed $t0 "$(now)")s, $(elapsed $t1 "$(now)")s after the holder let go"
dmesg_mark
note "requests relayed while blocked: $(grep -o 'Relaying device request to user (#[0-9]*)' /tmp/dmesg.all | tr '\n' ',')"
wait_for 10 eval 'gone $OVR_READ && gone $OVR_WRITE'
expect "the blocked override read returns afterwards" "$(alive $OVR_READ && echo running; cat /tmp/ovr.out)" "vfio-pci"
expect "the blocked override write succeeds afterwards" "$(cat /tmp/ovrw.out)" "ok 9"
expect "after release the device is driverless, override kept, node gone" "$(drv $NIC) $(ovr $NIC) $(node $G)" \
	"- vfio-pci absent"
msg=$(dmesg_new)
note "dmesg: $(printf '%s' "$msg" | tr '\n' '|')"

# the same without a request channel: the kernel says so
expect "drivers_probe puts it back on vfio-pci" "$(sysw $S/drivers_probe $NIC; drv $NIC)" "ok 13
vfio-pci"
hold $NIC || nok "vfio-hold could not hold $NIC again"
HP=$HOLD_PID
dmesg_mark
in_bg 3 /tmp/unbind.out sysw $D/driver/unbind $NIC
expect "unbind of a held device without request channel blocks" "$BG" blocked
UNBIND=$BG_PID
wait_for 10 eval 'dmesg | grep -q "blocked until released"'
msg=$(dmesg_new)
expect_match "without a request channel the kernel says it waits for the user" "$msg" \
	"vfio-pci $NIC: No device request channel registered, blocked until released by user"
kill -TERM $UNBIND
sleep 1
msg=$(dmesg_new)
expect_match "a signal to the blocked writer makes the kernel name it" "$msg" \
	"Device is currently in use, task \"sysw\" \($UNBIND\) blocked until device is released"
expect "after the first signal the writer is uninterruptible" "$(pstate $UNBIND)" D
kill $HP
wait $HP
wait_for 10 gone $UNBIND
expect "the interrupted writer dies of its signal on return, printing nothing" "$(cat /tmp/unbind.out)" ""
expect "but its unbind was done" "$(drv $NIC) $(ovr $NIC)" "- vfio-pci"
expect_node $G absent "after the last unbind: "
expect "the holder honouring the request lets go by itself" \
	"$(raw_bind $NIC vfio-pci >/dev/null; hold --release-on-request $NIC; sysw $D/driver/unbind $NIC; wait $HOLD_PID; echo $?)" "ok 13
0"
reset_all
expect_driver $NIC e1000e "at the end: "
