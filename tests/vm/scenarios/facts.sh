# facts.sh - the raw kernel interface, no pcibind: what the simulator must imitate
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Each check states one behaviour of Debian's 6.1 kernel that pcibind (and
# the simulator that stands in for the kernel) depends on.  Exact errnos come
# from sysw, which does one write(2) and prints "ok N" or "err NAME NUM".
# Runs before anything loads vfio-pci.

NIC=0000:02:00.0
TWIN=0000:00:06.0
VGA=0000:01:00.0
AUD=0000:01:00.1
OLD=0000:04:01.0
PBR=0000:03:00.0
D=$S/devices/$NIC

for d in $S/devices/*; do
	d=${d##*/}
	rm_=$(cat $S/devices/$d/reset_method 2>/dev/null | tr ' ' ,)
	note "$d class=$(cat $S/devices/$d/class) id=$(cat $S/devices/$d/vendor):$(cat $S/devices/$d/device)" \
		"driver=$(drv $d) override=$(ovr $d) group=$(grp $d) reset_method=${rm_:-<no file>}" \
		"boot_vga=$(cat $S/devices/$d/boot_vga 2>/dev/null || echo '<no file>')"
done

# --- the topology the other scenarios rely on
expect "GPU and its audio share a group" "$(grp $VGA)" "$(grp $AUD)"
expect "the twin NICs have the same ids" "$(cat $S/devices/$NIC/device)" "$(cat $S/devices/$TWIN/device)"
[ "$(grp $NIC)" != "$(grp $TWIN)" ] && ok "the twin NICs are in different groups" ||
	nok "the twin NICs are in different groups: both $(grp $NIC)"
expect "ICH9 LPC, AHCI and SMBus share a group" "$(grp 0000:00:1f.0) $(grp 0000:00:1f.2)" \
	"$(grp 0000:00:1f.3) $(grp 0000:00:1f.3)"
expect "the e1000 behind the PCIe-to-PCI bridge shares the bridge's group" "$(grp $OLD)" "$(grp $PBR)"
expect "the VGA is the boot VGA" "$(cat $S/devices/$VGA/boot_vga)" 1
expect "the bochs VGA has a DRM driver" "$(drv $VGA)" bochs-drm
expect "a function without any reset has no reset_method file" "$(test -e $S/devices/$AUD/reset_method && echo present)" ""
expect "the e1000e's reset_method lists pm then bus" "$(cat $D/reset_method)" "pm bus"
expect "no sriov_numvfs on functions without SR-IOV" "$(test -e $D/sriov_numvfs && echo present)" ""
expect "/sys/bus/pci/drivers/vfio-pci absent before modprobe" "$(test -e $S/drivers/vfio-pci && echo present)" ""
expect "/dev/vfio absent before vfio is loaded" "$(test -e /dev/vfio && echo present)" ""

# --- driver_override: what it stores and what it does not do
expect "driver_override reads '(null)' when unset" "$(cat $D/driver_override)" "(null)"
expect "writing driver_override succeeds for a driver that is not loaded" "$(sysw $D/driver_override vfio-pci)" "ok 9"
expect "driver_override stores the name without the newline" "$(cat $D/driver_override)" "vfio-pci"
expect_driver $NIC e1000e "driver_override does not unbind: "
expect "driver_override accepts a driver name that does not exist" "$(sysw $D/driver_override no-such-driver)" "ok 15"
expect "a write without newline stores the same" "$(sysw -n $D/driver_override vfio-pci; cat $D/driver_override)" "ok 8
vfio-pci"
expect "writing a single newline clears it" "$(sysw $D/driver_override ''; cat $D/driver_override)" "ok 1
(null)"
sysw $D/driver_override vfio-pci >/dev/null
expect "a zero-length write returns 0 and changes nothing" "$(sysw -n $D/driver_override ''; cat $D/driver_override)" "ok 0
vfio-pci"
long=$(head -c 4095 /dev/zero | tr '\0' x)
expect "a 4095-byte override (PAGE_SIZE - 1) is refused" "$(sysw -n $D/driver_override "$long")" "err EINVAL 22"
expect "a refused override leaves the old one" "$(ovr $NIC)" vfio-pci
expect "driver_override is mode 0644" "$(stat -c %a $D/driver_override)" 644

# --- unbind, bind and drivers_probe without vfio-pci loaded
expect "unbinding through drivers/e1000e/unbind a device it does not have" \
	"$(sysw $S/drivers/e1000e/unbind $OLD)" "err ENODEV 19"
expect "unbind through the device's own driver link" "$(sysw $D/driver/unbind $NIC)" "ok 13"
expect_driver $NIC - "after unbind: "
expect "the driver link is gone after unbind" "$(test -L $D/driver && echo present)" ""
expect "drivers_probe with override to an unloaded module reports success" "$(sysw $S/drivers_probe $NIC)" "ok 13"
expect_driver $NIC - "drivers_probe does not load the override's module: "
expect "drivers/e1000e/bind refuses a device whose override names another driver" \
	"$(sysw $S/drivers/e1000e/bind $NIC)" "err ENODEV 19"
expect "drivers_probe of an address that does not exist" "$(sysw $S/drivers_probe 0000:05:00.0)" "err ENODEV 19"
expect "drivers_probe of a malformed address" "$(sysw $S/drivers_probe garbage)" "err ENODEV 19"
expect "drivers_probe of a short address (no domain)" "$(sysw $S/drivers_probe 02:00.0)" "err ENODEV 19"
sysw $D/driver_override '' >/dev/null
expect "drivers_probe after clearing the override binds the kernel's pick" \
	"$(sysw -n $S/drivers_probe $NIC; drv $NIC)" "ok 12
e1000e"
expect "drivers_probe of a device that already has a driver reports success" "$(sysw $S/drivers_probe $NIC)" "ok 13"
expect "drivers/e1000e/bind of a device that already has a driver" "$(sysw $S/drivers/e1000e/bind $NIC)" "err EBUSY 16"
expect "drivers/e1000e/bind of an unknown address" "$(sysw $S/drivers/e1000e/bind 0000:05:00.0)" "err ENODEV 19"

# an explicit bind passes the probe's error back; drivers_probe swallows it
sysw $D/driver_override e1000 >/dev/null
sysw $D/driver/unbind $NIC >/dev/null
expect "drivers_probe when the override's driver fails to probe still reports success" \
	"$(sysw $S/drivers_probe $NIC; drv $NIC)" "ok 13
-"
expect "drivers/e1000/bind returns the failed probe's error (e1000 on an 82574L: -EIO)" \
	"$(sysw $S/drivers/e1000/bind $NIC)" "err EIO 5"
raw_restore $NIC >/dev/null

# --- vfio-pci for real
dmesg_mark
expect "modprobe vfio-pci succeeds" "$(/sbin/modprobe vfio-pci 2>&1; echo $?)" 0
expect "/sys/bus/pci/drivers/vfio-pci exists after modprobe" "$(test -d $S/drivers/vfio-pci && echo present)" present
expect "/dev/vfio/vfio exists after modprobe" "$(test -c /dev/vfio/vfio && echo present)" present
G=$(grp $NIC)
expect_node $G absent "before binding: "
expect "raw bind of $NIC to vfio-pci" "$(raw_bind $NIC vfio-pci)" vfio-pci
expect_node $G present "after binding: "
expect "/dev/vfio/$G is a character device" "$(test -c /dev/vfio/$G && echo yes)" yes
expect "/dev/vfio/$G mode on devtmpfs without udev" "$(stat -c %a /dev/vfio/$G)" 600
expect_driver $TWIN e1000e "the twin is untouched: "
expect "unbinding vfio-pci from an unheld device" "$(sysw $D/driver/unbind $NIC)" "ok 13"
expect_node $G absent "after unbinding vfio-pci: "
expect "drivers_probe with override vfio-pci still set rebinds vfio-pci" "$(sysw $S/drivers_probe $NIC; drv $NIC)" "ok 13
vfio-pci"
expect "raw restore of $NIC" "$(raw_restore $NIC)" e1000e
expect_override $NIC "(null)" "after raw restore: "
note "dmesg of a bind/restore: $(dmesg_new | tr '\n' '|' | cut -c1-600)"

# --- vfio-pci's new_id: what pcibind must not use
# new_id binds every driverless device matching the id, not the one you meant
echo $TWIN >$S/devices/$TWIN/driver/unbind
echo $NIC >$S/devices/$NIC/driver/unbind
expect "new_id on vfio-pci" "$(sysw $S/drivers/vfio-pci/new_id '8086 10d3')" "ok 10"
expect "new_id binds every driverless device with those ids" "$(drv $NIC) $(drv $TWIN)" "vfio-pci vfio-pci"
expect "remove_id on vfio-pci" "$(sysw $S/drivers/vfio-pci/remove_id '8086 10d3')" "ok 10"
expect "remove_id does not unbind" "$(drv $NIC) $(drv $TWIN)" "vfio-pci vfio-pci"
expect "new_id twice is refused" "$(sysw $S/drivers/vfio-pci/new_id '8086 10d3'; sysw $S/drivers/vfio-pci/new_id '8086 10d3')" "ok 10
err EEXIST 17"
sysw $S/drivers/vfio-pci/remove_id '8086 10d3' >/dev/null
raw_restore $NIC >/dev/null
raw_restore $TWIN >/dev/null
expect "both NICs back on e1000e" "$(drv $NIC) $(drv $TWIN)" "e1000e e1000e"

# --- a group must be whole before VFIO lets anyone use it
expect "raw bind of the GPU's VGA function alone" "$(raw_bind $VGA vfio-pci)" vfio-pci
GG=$(grp $VGA)
expect_node $GG present "one function of a group on vfio-pci: "
expect "the group is not viable while its audio sibling is on snd_hda_intel" \
	"$(vfio-hold $VGA 2>&1 | grep -o 'is not viable')" "is not viable"
expect "raw bind of the audio function too" "$(raw_bind $AUD vfio-pci)" vfio-pci
hold $VGA && ok "with the whole group on vfio-pci the group is viable and the device opens" ||
	nok "vfio-hold on the whole group: $(cat /tmp/hold.log)"
kill $HOLD_PID 2>/dev/null
wait $HOLD_PID 2>/dev/null
expect "raw restore of the VGA (bochs-drm back)" "$(raw_restore $VGA)" bochs-drm
expect "raw restore of the audio (snd_hda_intel back)" "$(raw_restore $AUD)" snd_hda_intel
expect_node $GG absent "after restoring the group: "

# a bridge in the group does not stop the e1000 behind it from being used
GB=$(grp $OLD)
expect "raw bind of the e1000 behind the PCIe-to-PCI bridge" "$(raw_bind $OLD vfio-pci)" vfio-pci
hold $OLD && ok "a group holding a driverless bridge is viable" || nok "vfio-hold behind the bridge: $(cat /tmp/hold.log)"
kill $HOLD_PID 2>/dev/null
wait $HOLD_PID 2>/dev/null
expect "raw restore of the e1000" "$(raw_restore $OLD)" e1000
expect_node $GB absent "after restoring the e1000: "

# --- the device goes away and comes back (remove + rescan, inside the guest)
raw_bind $NIC vfio-pci >/dev/null
expect "remove of a device bound to vfio-pci" "$(sysw $D/remove 1)" "ok 2"
expect "the device directory is gone after remove" "$(test -e $D && echo present)" ""
expect "writing driver_override of a removed device" "$(sysw $D/driver_override vfio-pci)" "open err ENOENT 2"
expect_node $G absent "after remove: "
expect "rescan" "$(sysw $S/rescan 1)" "ok 2"
expect "a rescanned device comes back on its host driver, override forgotten" "$(drv $NIC) $(ovr $NIC)" "e1000e (null)"
reset_all
