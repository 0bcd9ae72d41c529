#!/bin/bash
# selftest.sh - checks that pcisim answers like the kernel's PCI sysfs, with plain shell
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/sim/selftest.sh [PCISIM]
# Prints one line per check: "ok - sim: WHAT" or "not ok - sim: WHAT: DETAIL".
# No summary line: the runner counts. Every simulator it starts is unmounted
# on exit.

set -u
here=$(cd "$(dirname "$0")" && pwd)
SIM=${1:-$here/../../build/pcisim}
MODPROBE=$here/fake-modprobe
ROOTS=()
R= S=

cleanup() {
	local r
	for r in "${ROOTS[@]}"; do
		[ -e "$r/sys/.pcisim/ctl" ] && echo clear >"$r/sys/.pcisim/ctl" 2>/dev/null
		fusermount3 -u "$r/sys" 2>/dev/null || fusermount3 -uz "$r/sys" 2>/dev/null
		mountpoint -q "$r/sys" 2>/dev/null || rm -rf "$r"
	done
}
trap cleanup EXIT

ok() { echo "ok - sim: $1"; }
nok() { echo "not ok - sim: $1: $2"; }

# check WHAT EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "expected '$2', got '$3'"; fi
}

# check_true WHAT COMMAND...
check_true() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what" "'$*' failed"; fi
}

errname() {
	case "$1" in
	*"No such device"*) echo ENODEV ;;
	*"Invalid argument"*) echo EINVAL ;;
	*"Device or resource busy"*) echo EBUSY ;;
	*"File exists"*) echo EEXIST ;;
	*"Numerical result out of range"*) echo ERANGE ;;
	*"No such file or directory"*) echo ENOENT ;;
	*"Input/output error"*) echo EIO ;;
	*"Permission denied"*) echo EACCES ;;
	*"Interrupted system call"*) echo EINTR ;;
	*"Operation not permitted"*) echo EPERM ;;
	*"Resource temporarily unavailable"*) echo EAGAIN ;;
	*"Cannot allocate memory"*) echo ENOMEM ;;
	*) echo "other($1)" ;;
	esac
}

# w FILE DATA: write DATA and a newline in one write(2), like echo; prints ok or the errno name
w() {
	local err
	err=$({ printf '%s\n' "$2" >"$1"; } 2>&1)
	if [ -z "$err" ]; then echo ok; else errname "$err"; fi
}

ctl() { w "$S/.pcisim/ctl" "$1"; }
dev() { echo "$S/bus/pci/devices/$1"; }
drv() { basename "$(readlink "$(dev "$1")/driver" 2>/dev/null)" 2>/dev/null; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# wait_log PATTERN: until the log has a line matching it (3 s at most)
wait_log() {
	local i
	for i in $(seq 60); do
		grep -q -- "$1" "$S/.pcisim/log" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# issue 24: config space (pci_read_config(): 4096 bytes for PCIe, the DSN at 0x100) and bus/pci/slots
t_identity() {
	local c=$(dev 0000:02:00.0)/config
	check "config: 4096 bytes (stat)" 4096 "$(stat -c %s "$c")"
	check "config: 4096 bytes read" 4096 "$(wc -c <"$c")"
	check "config: vendor and device at 0x00 (little-endian words)" "10de 2204" "$(od -An -tx2 -N4 "$c" | xargs)"
	check "config: the DSN header at 0x100 (id 3, version 1, next 0)" "00010003" "$(od -An -tx4 -j256 -N4 "$c" | xargs)"
	check "config: the serial's lower dword first, then the upper" "44556677 00112233" "$(od -An -tx4 -j260 -N8 "$c" | xargs)"
	check "config: without serial=, no extended capability" "00000000" "$(od -An -tx4 -j256 -N4 "$(dev 0000:02:00.1)/config" | xargs)"
	check "slots: bus/pci/slots/2/address is the slot's DDDD:BB:SS" "0000:02:00" "$(cat "$S/bus/pci/slots/2/address")"
	check "slots: one directory per slot name" "2" "$(ls "$S/bus/pci/slots" | xargs)"
	if command -v lspci >/dev/null; then
		check "lspci decodes the serial as the topology wrote it" "Device Serial Number 00-11-22-33-44-55-66-77" \
			"$(lspci -A linux-sysfs -O sysfs.path="$S/bus/pci" -vvv -s 02:00.0 2>/dev/null | grep -o 'Device Serial Number .*')"
	else
		nok "lspci decodes the serial" "lspci (pciutils) is not installed"
	fi
}

start() {
	R=$(mktemp -d /tmp/pcisim-selftest.XXXXXX)
	ROOTS+=("$R")
	S=$R/sys
	if "$SIM" "$here/$1.topo" "$R" && [ -e "$S/.pcisim/state" ]; then
		cat "$S/.pcisim/state" >"$R/state0"
		ok "$1.topo: starts, mounts and daemonizes"
	else
		nok "$1.topo: starts, mounts and daemonizes" "no $S/.pcisim/state"
		return 1
	fi
}

stop() {
	local r=$R i
	fusermount3 -u "$r/sys"
	# libfuse waits for its worker threads, longer on a busy machine: 20 s at most
	for i in $(seq 200); do
		mountpoint -q "$r/sys" || pgrep -f "pcisim .*$r\$" >/dev/null || break
		sleep 0.1
	done
	if mountpoint -q "$r/sys" || pgrep -f "pcisim .*$r\$" >/dev/null; then
		nok "unmount ends the simulator" "still mounted or running"
	else
		ok "unmount ends the simulator"
	fi
}

t_tree() {
	check "bus/pci/devices links are relative like the kernel's" \
		"../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0" "$(readlink "$(dev 0000:01:00.0)")"
	check_true "functions nest under their bridge" test -d "$S/devices/pci0000:00/0000:00:01.0/0000:01:00.0"
	check "driver link depth follows the nesting" "../../../../bus/pci/drivers/nvidia" \
		"$(readlink "$(dev 0000:01:00.0)/driver")"
	check "driver link of a root-bus function" "../../../bus/pci/drivers/xhci_hcd" \
		"$(readlink "$(dev 0000:00:14.0)/driver")"
	check "iommu_group link" "../../../../kernel/iommu_groups/1" "$(readlink "$(dev 0000:01:00.0)/iommu_group")"
	check "iommu group lists its devices" "0000:00:01.0 0000:01:00.0 0000:01:00.1" \
		"$(ls "$S/kernel/iommu_groups/1/devices" | tr '\n' ' ' | sed 's/ $//')"
	check_true "class/iommu/dmar0 exists with the IOMMU on" test -e "$S/class/iommu/dmar0"
	check "ids and class" "0x10de 0x2204 0x1458 0x403b 0x030000" \
		"$(cd "$(dev 0000:01:00.0)" && echo $(cat vendor device subsystem_vendor subsystem_device class))"
	check "modalias" "pci:v000010DEd00002204sv00001458sd0000403Bbc03sc00i00" \
		"$(cat "$(dev 0000:01:00.0)/modalias")"
	check "boot_vga on the boot GPU, 0 on the other, absent on audio" "1 0 absent" \
		"$(cat "$(dev 0000:01:00.0)/boot_vga") $(cat "$(dev 0000:02:00.0)/boot_vga") \
$(test -e "$(dev 0000:01:00.1)/boot_vga" && echo present || echo absent)"
	check "reset_method reads the topology's methods" "flr pm bus" "$(cat "$(dev 0000:05:00.0)/reset_method")"
	check "driver's module link" "../../../../module/nvidia" "$(readlink "$S/bus/pci/drivers/nvidia/module")"
	check "built-in driver has no module link" "none" \
		"$(readlink "$S/bus/pci/drivers/pcieport/module" || echo none)"
	check ".pcisim is hidden from readdir" "" "$(ls -a "$S" | grep pcisim)"
	check "state line format" "0000:01:00.0 driver=nvidia override=(null) group=1" \
		"$(grep '^0000:01:00.0 ' "$S/.pcisim/state")"
	check_true "write-only attributes cannot be read" \
		bash -c "! cat '$S/bus/pci/drivers_probe' 2>/dev/null"
}

t_classdevs() {
	check "class/net link" "../../devices/pci0000:00/0000:00:1c.0/0000:05:00.0/net/eth0" \
		"$(readlink "$S/class/net/eth0")"
	check "partition dev file" "259:2" "$(cat "$S/class/block/nvme0n1p2/dev")"
	check "dev/block link reaches the partition" "$(readlink -f "$S/class/block/nvme0n1p2")" \
		"$(readlink -f "$S/dev/block/259:2")"
	check "partition link" "../../devices/pci0000:00/0000:00:1b.0/0000:03:00.0/nvme/nvme0/nvme0n1/nvme0n1p2" \
		"$(readlink "$S/class/block/nvme0n1p2")"
	check "drm card on the boot GPU" "../../devices/pci0000:00/0000:00:01.0/0000:01:00.0/drm/card0" \
		"$(readlink "$S/class/drm/card0")"
	check "framebuffer name" "nvidia-drmfb" "$(cat "$S/class/graphics/fb0/name")"
	check "input device name and capabilities" "Logitech USB Keyboard 120013" \
		"$(cat "$S/class/input/input3/name") $(cat "$S/class/input/input3/capabilities/ev")"
	check "input device lives below the xHCI" "yes" \
		"$(readlink -f "$S/class/input/input3" | grep -q '/0000:00:14.0/usb1/' && echo yes)"
	check "vtconsole names and binding" "(S) dummy device:0 (M) frame buffer device:1" \
		"$(cat "$S/class/vtconsole/vtcon0/name"):$(cat "$S/class/vtconsole/vtcon0/bind") \
$(cat "$S/class/vtconsole/vtcon1/name"):$(cat "$S/class/vtconsole/vtcon1/bind")"
	check "unbinding fbcon" "ok 0 1" \
		"$(w "$S/class/vtconsole/vtcon1/bind" 0) $(cat "$S/class/vtconsole/vtcon1/bind") \
$(cat "$S/class/vtconsole/vtcon0/bind")"
	w "$S/class/vtconsole/vtcon1/bind" 1 >/dev/null
}

t_hostfiles() {
	check_true "mountinfo has / on nvme0n1p2" grep -q ' 259:2 / / .* /dev/nvme0n1p2 ' "$R/proc/self/mountinfo"
	check_true "swaps has nvme0n1p3" grep -q '^/dev/nvme0n1p3 ' "$R/proc/swaps"
	check_true "route has the default route on eth0" grep -qP '^eth0\t00000000\t' "$R/proc/net/route"
	check_true "ipv6_route has the default route on eth0" \
		grep -q '^00000000000000000000000000000000 00 .* eth0$' "$R/proc/net/ipv6_route"
	check_true "cmdline" grep -q 'intel_iommu=on' "$R/proc/cmdline"
	check "vfio-pci not loaded yet" "absent absent absent" \
		"$(test -e "$S/bus/pci/drivers/vfio-pci" && echo present || echo absent) \
$(test -e "$S/module/vfio_pci" && echo present || echo absent) \
$(test -e "$R/dev/vfio/vfio" && echo present || echo absent)"
}

t_override() {
	local d=0000:02:00.0 long
	check "driver_override reads (null) when unset" "(null)" "$(cat "$(dev $d)/driver_override")"
	check "driver_override write" "ok" "$(w "$(dev $d)/driver_override" vfio-pci)"
	check "driver_override reads back, device not unbound" "vfio-pci nvidia" \
		"$(cat "$(dev $d)/driver_override") $(drv $d)"
	env printf 'foo\nbar' >"$(dev $d)/driver_override" # one write(2); bash's printf splits at newlines
	check "driver_override keeps the first line" "foo" "$(cat "$(dev $d)/driver_override")"
	check "driver_override cleared by a newline" "ok (null)" \
		"$(w "$(dev $d)/driver_override" "") $(cat "$(dev $d)/driver_override")"
	long=$(head -c 5000 /dev/zero | tr '\0' x)
	check "driver_override of a page or more is EINVAL" "EINVAL" "$(w "$(dev $d)/driver_override" "$long")"
}

t_unbind_probe() {
	local d=0000:02:00.0
	check "unbind from a driver it is not bound to" "ENODEV" "$(w "$S/bus/pci/drivers/snd_hda_intel/unbind" $d)"
	check "unbind of no such device" "ENODEV" "$(w "$S/bus/pci/drivers/nvidia/unbind" 0000:0f:00.0)"
	check "unbind through the driver link" "ok" "$(w "$(dev $d)/driver/unbind" $d)"
	check "unbound: no driver link, its drm card gone" "none absent" \
		"$(drv $d || true)$(test -e "$(dev $d)/driver" || echo none) \
$(test -e "$S/class/drm/card1" && echo present || echo absent)"
	check "unbind again is ENODEV" "ENODEV" "$(w "$S/bus/pci/drivers/nvidia/unbind" $d)"
	check "drivers_probe of no such device" "ENODEV" "$(w "$S/bus/pci/drivers_probe" 0000:0f:00.0)"
	w "$(dev $d)/driver_override" vfio-pci >/dev/null
	check "drivers_probe succeeds with nothing bound (vfio-pci not loaded)" "ok none" \
		"$(w "$S/bus/pci/drivers_probe" $d) $(drv $d || true)$(test -e "$(dev $d)/driver" || echo none)"
	w "$(dev $d)/driver_override" none >/dev/null
	check "override 'none' keeps it driverless, probe still ok" "ok none" \
		"$(w "$S/bus/pci/drivers_probe" $d) $(test -e "$(dev $d)/driver" || echo none)"
	w "$(dev $d)/driver_override" "" >/dev/null
	check "cleared override: drivers_probe brings the host driver back" "ok nvidia present" \
		"$(w "$S/bus/pci/drivers_probe" $d) $(drv $d) $(test -e "$S/class/drm/card1" && echo present)"
	check "drivers_probe of a bound device changes nothing" "ok nvidia" \
		"$(w "$S/bus/pci/drivers_probe" $d) $(drv $d)"
}

t_load() {
	local out
	check "load of an unknown module" "ENOENT" "$(ctl "load nosuch")"
	out=$(PCISIM_ROOT=$R "$MODPROBE" nosuch 2>&1 >/dev/null)
	check "fake-modprobe: unknown module fails like modprobe" "1 modprobe: FATAL: Module nosuch not found" \
		"$? ${out% in directory*}"
	check "fake-modprobe vfio-pci" "0" "$(PCISIM_ROOT=$R "$MODPROBE" -q -b vfio-pci; echo $?)"
	check "driver dir, module dir and /dev/vfio/vfio appear" "yes yes yes" \
		"$(test -d "$S/bus/pci/drivers/vfio-pci" && echo yes) $(test -d "$S/module/vfio_pci" && echo yes) \
$(test -e "$R/dev/vfio/vfio" && echo yes)"
	check "dependencies loaded too" "yes" "$(test -d "$S/module/vfio_iommu_type1" && echo yes)"
	check "fake-modprobe of a loaded module (vfio_pci spelling)" "0" "$(PCISIM_ROOT=$R "$MODPROBE" vfio_pci; echo $?)"
}

t_vfio() {
	local d=0000:02:00.0 a=0000:02:00.1
	w "$(dev $d)/driver_override" vfio-pci >/dev/null
	w "$(dev $d)/driver/unbind" $d >/dev/null
	check "override + unbind + drivers_probe binds vfio-pci" "ok vfio-pci" \
		"$(w "$S/bus/pci/drivers_probe" $d) $(drv $d)"
	check_true "/dev/vfio/2 appears" test -e "$R/dev/vfio/2"
	check "state shows the override" "$d driver=vfio-pci override=vfio-pci group=2" \
		"$(grep "^$d " "$S/.pcisim/state")"
	check "bind when already bound is EBUSY (device_driver_attach)" "EBUSY" \
		"$(w "$S/bus/pci/drivers/vfio-pci/bind" $d)"
	check "bind to a driver the override excludes is ENODEV" "ENODEV" "$(w "$S/bus/pci/drivers/nvidia/bind" $a)"
	check_true "log has the write and the probe" grep -q "^bus/pci/devices/$d/driver_override vfio-pci -> ok" \
		"$S/.pcisim/log"
	check_true "log has the probe event" grep -q "^probe $d vfio-pci ok" "$S/.pcisim/log"
	w "$(dev $d)/driver_override" "" >/dev/null
	check "unbind from vfio-pci" "ok" "$(w "$S/bus/pci/drivers/vfio-pci/unbind" $d)"
	check "/dev/vfio/2 goes with the last vfio function of the group" "absent" \
		"$(test -e "$R/dev/vfio/2" && echo present || echo absent)"
	check "drivers/X/bind binds a matching driverless device" "ok nvidia" \
		"$(w "$S/bus/pci/drivers/nvidia/bind" $d) $(drv $d)"
	check "drivers/X/bind of a device X does not match" "ENODEV" "$(w "$S/bus/pci/drivers/nvidia/bind" $a)"
	check "drivers/X/bind of no such device" "ENODEV" "$(w "$S/bus/pci/drivers/nvidia/bind" 0000:0f:00.0)"
	# a bridge: vfio-pci refuses a type 1 header
	w "$(dev 0000:00:01.1)/driver_override" vfio-pci >/dev/null
	w "$S/bus/pci/drivers/pcieport/unbind" 0000:00:01.1 >/dev/null
	check "vfio-pci probe of a bridge fails, drivers_probe still ok" "ok EINVAL none" \
		"$(w "$S/bus/pci/drivers_probe" 0000:00:01.1) $(w "$S/bus/pci/drivers/vfio-pci/bind" 0000:00:01.1) \
$(test -e "$(dev 0000:00:01.1)/driver" || echo none)"
	w "$(dev 0000:00:01.1)/driver_override" "" >/dev/null
	w "$S/bus/pci/drivers_probe" 0000:00:01.1 >/dev/null
}

t_new_id() {
	local n=0000:06:00.0
	check "new_id already in the static table is EEXIST" "EEXIST" "$(w "$S/bus/pci/drivers/nvidia/new_id" "10de 2204")"
	check "new_id needs two fields" "EINVAL" "$(w "$S/bus/pci/drivers/vfio-pci/new_id" "8086")"
	w "$S/bus/pci/drivers/igb/unbind" $n >/dev/null
	check "new_id binds every unbound device it matches, not bound ones" "ok vfio-pci igb" \
		"$(w "$S/bus/pci/drivers/vfio-pci/new_id" "8086 1533") $(drv $n) $(drv 0000:05:00.0)"
	check "new_id of a dynamic id again is EEXIST" "EEXIST" "$(w "$S/bus/pci/drivers/vfio-pci/new_id" "8086 1533")"
	check "remove_id" "ok" "$(w "$S/bus/pci/drivers/vfio-pci/remove_id" "8086 1533")"
	check "remove_id of an absent id is ENODEV" "ENODEV" "$(w "$S/bus/pci/drivers/vfio-pci/remove_id" "8086 1533")"
	w "$S/bus/pci/drivers/vfio-pci/unbind" $n >/dev/null
	w "$S/bus/pci/drivers_probe" $n >/dev/null
	check "back on igb" "igb" "$(drv $n)"
}

t_reset() {
	local f
	f="$(dev 0000:05:00.0)/reset_method"
	check "reset_method subset" "ok bus" "$(w "$f" bus) $(cat "$f")"
	check "reset_method order as written" "ok bus flr" "$(w "$f" "bus flr") $(cat "$f")"
	check "reset_method unknown name is EINVAL, nothing changes" "EINVAL bus flr" "$(w "$f" nosuch) $(cat "$f")"
	check "reset_method unsupported name is EINVAL" "EINVAL" "$(w "$f" af_flr)"
	check "reset_method default" "ok flr pm bus" "$(w "$f" default) $(cat "$f")"
	check "reset_method empty disables all (6.x)" "ok ''" "$(w "$f" "") '$(cat "$f")'"
	w "$f" default >/dev/null
	check_true "no reset_method without reset methods" test ! -e "$(dev 0000:00:1f.0)/reset_method"
}

t_remove_rescan() {
	local a=0000:02:00.1
	exec 3>"$(dev $a)/driver_override"
	check "remove" "ok absent" "$(w "$(dev $a)/remove" 1) $(test -e "$(dev $a)" && echo present || echo absent)"
	check "an open attribute of a removed device gives ENODEV" "ENODEV" \
		"$(err=$({ printf 'x\n' >&3; } 2>&1); errname "$err")"
	exec 3>&-
	check "a removed device's attributes are gone (ENOENT)" "ENOENT" "$(w "$(dev $a)/driver_override" x)"
	check "its group no longer lists it" "0000:00:01.1 0000:02:00.0" \
		"$(ls "$S/kernel/iommu_groups/2/devices" | tr '\n' ' ' | sed 's/ $//')"
	check "rescan brings it back, probed" "ok snd_hda_intel" "$(w "$S/bus/pci/rescan" 1) $(drv $a)"
	check "removing a bridge removes what is below it" "ok absent absent" \
		"$(w "$(dev 0000:00:01.1)/remove" 1) $(test -e "$(dev 0000:02:00.0)" && echo present || echo absent) \
$(test -e "$S/class/drm/card1" && echo present || echo absent)"
	check "rescan restores the whole branch" "ok nvidia snd_hda_intel pcieport" \
		"$(w "$S/bus/pci/rescan" 1) $(drv 0000:02:00.0) $(drv $a) $(drv 0000:00:01.1)"
	w "$S/bus/pci/drivers_autoprobe" 0 >/dev/null
	w "$(dev $a)/remove" 1 >/dev/null
	check "drivers_autoprobe 0: a rescanned device stays driverless" "0 ok none" \
		"$(cat "$S/bus/pci/drivers_autoprobe") $(w "$S/bus/pci/rescan" 1) $(test -e "$(dev $a)/driver" || echo none)"
	w "$S/bus/pci/drivers_autoprobe" 1 >/dev/null
	check "drivers_probe still probes it" "ok snd_hda_intel" "$(w "$S/bus/pci/drivers_probe" $a) $(drv $a)"
}

t_faults() {
	local d=0000:02:00.0 t0 p
	check "malformed ctl: unknown op" "EINVAL" "$(ctl "fail $d nosuchop EIO")"
	check "malformed ctl: bad address" "EINVAL" "$(ctl "fail 02:00.0 unbind EIO")"
	check "malformed ctl: bad errno" "EINVAL" "$(ctl "fail $d unbind ENOTANERRNO")"
	check "malformed ctl: unknown command" "EINVAL" "$(ctl "frobnicate")"
	check "fail with count=1 fails once" "ok EBUSY ok nvidia" \
		"$(ctl "fail $d unbind EBUSY count=1") $(w "$S/bus/pci/drivers/nvidia/unbind" $d) \
$(w "$S/bus/pci/drivers/nvidia/unbind" $d) $(w "$S/bus/pci/drivers/nvidia/bind" $d >/dev/null; drv $d)"
	check "fail without count fails every time, errno by number" "ok EIO EIO" \
		"$(ctl "fail $d driver_override 5") $(w "$(dev $d)/driver_override" x) $(w "$(dev $d)/driver_override" x)"
	check "clear drops faults" "ok ok" "$(ctl clear) $(w "$(dev $d)/driver_override" "")"
	check "fail new_id by driver name" "ok ENOMEM" \
		"$(ctl "fail vfio-pci new_id ENOMEM") $(w "$S/bus/pci/drivers/vfio-pci/new_id" "1234 5678")"
	ctl clear >/dev/null
	w "$S/bus/pci/drivers/nvidia/unbind" $d >/dev/null
	check "failprobe: drivers_probe still succeeds, nothing bound" "ok ok none" \
		"$(ctl "failprobe $d nvidia EIO") $(w "$S/bus/pci/drivers_probe" $d) \
$(test -e "$(dev $d)/driver" || echo none)"
	check "failprobe: bind returns the probe error" "EIO" "$(w "$S/bus/pci/drivers/nvidia/bind" $d)"
	check "failprobe logged" "probe $d nvidia EIO" "$(grep "^probe $d nvidia" "$S/.pcisim/log" | tail -1)"
	ctl clear >/dev/null
	w "$S/bus/pci/drivers_probe" $d >/dev/null
	check "after clear it binds" "nvidia" "$(drv $d)"

	# block + release
	ctl "block $d unbind forever" >/dev/null
	(w "$S/bus/pci/drivers/nvidia/unbind" $d >"$R/writer.out") &
	p=$!
	if wait_log "^block $d unbind"; then ok "block: the write parks"; else nok "block: the write parks" "no block event"; fi
	check "block: other requests are served meanwhile" "0x10de nvidia" \
		"$(timeout 3 cat "$(dev $d)/vendor") $(timeout 3 cat "$(dev 0000:01:00.0)/driver_override" >/dev/null; drv 0000:01:00.0)"
	check_true "block: the writer is still waiting" kill -0 $p
	ctl "release $d" >/dev/null
	wait $p
	check "release: the blocked unbind completes normally" "ok none" \
		"$(cat "$R/writer.out") $(test -e "$(dev $d)/driver" || echo none)"
	w "$S/bus/pci/drivers/nvidia/bind" $d >/dev/null

	# timed block
	ctl "block $d unbind 1 count=1" >/dev/null
	t0=$(now)
	check "timed block completes" "ok" "$(w "$S/bus/pci/drivers/nvidia/unbind" $d)"
	check_true "timed block took about a second" awk -v e="$(elapsed "$t0")" 'BEGIN { exit !(e >= 0.9 && e < 3) }'
	w "$S/bus/pci/drivers/nvidia/bind" $d >/dev/null

	# a killed writer: let go at once (the kernel's is not), the unbind still happens at release
	ctl "block $d unbind forever" >/dev/null
	bash -c "printf '%s\n' $d >'$S/bus/pci/drivers/nvidia/unbind'" 2>/dev/null &
	p=$!
	disown $p # no "Killed" notice from this shell
	wait_state $d unbinding
	kill -9 $p
	t0=$(now)
	for _ in $(seq 60); do kill -0 $p 2>/dev/null || break; sleep 0.05; done
	check_true "a blocked writer can be killed" bash -c "! kill -0 $p 2>/dev/null"
	check_true "killed: logged as interrupted" grep -q "^interrupted $d unbind" "$S/.pcisim/log"
	check "killed: the unbind is still pending" "none $d driver=nvidia override=(null) group=2 unbinding" \
		"$(test -e "$(dev $d)/driver" || echo none) $(grep "^$d " "$S/.pcisim/state")"
	ctl "release $d" >/dev/null
	wait_log "^bus/pci/drivers/nvidia/unbind $d -> ok (writer killed)" >/dev/null
	check "killed: the unbind completes at release, logged as such" "$d driver=none override=(null) group=2" \
		"$(grep "^$d " "$S/.pcisim/state")"
	check_true "killed: its log line" grep -q "^bus/pci/drivers/nvidia/unbind $d -> ok (writer killed)" "$S/.pcisim/log"
	w "$S/bus/pci/drivers/nvidia/bind" $d >/dev/null
	ctl clear >/dev/null

	# vanish and remove
	check "vanish: the write gets ENODEV" "ok ENODEV" \
		"$(ctl "vanish $d drivers_probe") $(w "$S/bus/pci/drivers_probe" $d)"
	check "vanish: the device is gone" "absent" "$(test -e "$(dev $d)" && echo present || echo absent)"
	w "$S/bus/pci/rescan" 1 >/dev/null
	check "ctl remove" "ok absent" "$(ctl "remove 0000:02:00.1") $(test -e "$(dev 0000:02:00.1)" && echo present || echo absent)"
	check "ctl remove of an absent device" "ENODEV" "$(ctl "remove 0000:02:00.1")"
	w "$S/bus/pci/rescan" 1 >/dev/null
}

t_unload() {
	local d=0000:02:00.0
	w "$(dev $d)/driver_override" vfio-pci >/dev/null
	w "$(dev $d)/driver/unbind" $d >/dev/null
	w "$S/bus/pci/drivers_probe" $d >/dev/null
	check "unload: driver dir goes, its devices are driverless" "ok absent none absent" \
		"$(ctl "unload vfio-pci") $(test -e "$S/bus/pci/drivers/vfio-pci" && echo present || echo absent) \
$(test -e "$(dev $d)/driver" || echo none) $(test -e "$R/dev/vfio/2" && echo present || echo absent)"
	check "load probes the unbound devices it matches" "ok vfio-pci" "$(ctl "load vfio_pci") $(drv $d)"
}

t_noiommu() {
	local d=0000:0a:00.0
	check_true "no iommu_groups, no class/iommu" test ! -e "$S/kernel/iommu_groups" -a ! -e "$S/class/iommu"
	check_true "no iommu_group link" test ! -e "$(dev $d)/iommu_group"
	check "state shows group=none" "$d driver=amdgpu override=(null) group=none" "$(grep "^$d " "$S/.pcisim/state")"
	PCISIM_ROOT=$R "$MODPROBE" vfio-pci
	w "$(dev $d)/driver_override" vfio-pci >/dev/null
	w "$(dev $d)/driver/unbind" $d >/dev/null
	check "vfio-pci without an IOMMU group: drivers_probe ok, nothing bound" "ok none" \
		"$(w "$S/bus/pci/drivers_probe" $d) $(test -e "$(dev $d)/driver" || echo none)"
	check "vfio-pci without an IOMMU group: bind is EINVAL" "EINVAL" "$(w "$S/bus/pci/drivers/vfio-pci/bind" $d)"
	check_true "probe failure logged" grep -q "^probe $d vfio-pci EINVAL" "$S/.pcisim/log"
	check "no /dev/vfio group nodes" "vfio" "$(ls "$R/dev/vfio" | tr '\n' ' ' | sed 's/ $//')"
}

t_sriov() {
	local pf=0000:06:00.0 pf1=0000:06:00.1
	check "virtfn and physfn links" "../0000:06:10.0 ../0000:06:10.4 ../0000:06:00.0" \
		"$(readlink "$(dev $pf)/virtfn0") $(readlink "$(dev $pf)/virtfn1") $(readlink "$(dev 0000:06:10.4)/physfn")"
	check "VFs bound to their driver, in their own groups" "igbvf 20 21" \
		"$(drv 0000:06:10.0) $(basename "$(readlink "$(dev 0000:06:10.0)/iommu_group")") \
$(basename "$(readlink "$(dev 0000:06:10.4)/iommu_group")")"
	check "sriov_totalvfs, sriov_numvfs" "8 2" "$(cat "$(dev $pf)/sriov_totalvfs") $(cat "$(dev $pf)/sriov_numvfs")"
	check "writing the current numvfs is ok" "ok" "$(w "$(dev $pf)/sriov_numvfs" 2)"
	check "changing numvfs while VFs exist is EBUSY" "EBUSY" "$(w "$(dev $pf)/sriov_numvfs" 4)"
	check "more than total is ERANGE" "ERANGE" "$(w "$(dev $pf)/sriov_numvfs" 9)"
	check "not a number is EINVAL" "EINVAL" "$(w "$(dev $pf)/sriov_numvfs" two)"
	check "0 removes the VFs" "ok 0 absent" \
		"$(w "$(dev $pf)/sriov_numvfs" 0) $(cat "$(dev $pf)/sriov_numvfs") \
$(test -e "$(dev 0000:06:10.0)" && echo present || echo absent)"
	check "N creates N VFs from the template, probed" "ok igbvf igbvf igbvf" \
		"$(w "$(dev $pf)/sriov_numvfs" 3) $(drv 0000:06:10.0) $(drv 0000:06:10.4) $(drv 0000:06:11.0)"
	w "$(dev $pf)/sriov_numvfs" 0 >/dev/null
	w "$(dev $pf)/sriov_drivers_autoprobe" 0 >/dev/null
	check "sriov_drivers_autoprobe 0: new VFs stay driverless, bind is ENODEV" "ok none ENODEV" \
		"$(w "$(dev $pf)/sriov_numvfs" 1) $(test -e "$(dev 0000:06:10.0)/driver" || echo none) \
$(w "$S/bus/pci/drivers/igbvf/bind" 0000:06:10.0)"
	check "a VF with an override probes anyway" "ok ok vfio-pci" \
		"$(PCISIM_ROOT=$R "$MODPROBE" vfio-pci; w "$(dev 0000:06:10.0)/driver_override" vfio-pci) \
$(w "$S/bus/pci/drivers_probe" 0000:06:10.0) $(drv 0000:06:10.0)"
	w "$(dev $pf)/sriov_drivers_autoprobe" 1 >/dev/null
	w "$(dev $pf)/sriov_numvfs" 0 >/dev/null
	w "$(dev $pf)/sriov_numvfs" 3 >/dev/null
	w "$S/bus/pci/drivers/igb/unbind" $pf1 >/dev/null
	check "numvfs on a PF without driver is ENOENT" "ENOENT" "$(w "$(dev $pf1)/sriov_numvfs" 1)"
	check "unbinding the PF takes its VFs" "ok absent" \
		"$(w "$S/bus/pci/drivers/igb/unbind" $pf) $(test -e "$(dev 0000:06:10.0)" && echo present || echo absent)"
	check "platform framebuffer link" "../../devices/platform/efi-framebuffer.0/graphics/fb0" \
		"$(readlink "$S/class/graphics/fb0")"
	check "unbinding efi-framebuffer removes fb0" "ok absent" \
		"$(w "$S/bus/platform/drivers/efi-framebuffer/unbind" efi-framebuffer.0) \
$(test -e "$S/class/graphics/fb0" && echo present || echo absent)"
	check "binding it back" "ok EFI VGA" \
		"$(w "$S/bus/platform/drivers/efi-framebuffer/bind" efi-framebuffer.0) $(cat "$S/class/graphics/fb0/name")"
}

# pyw FILE DATA: exactly DATA in one write(2) (no newline added); prints "ok COUNT" or the errno name
pyw() {
	python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    print("ok %d" % os.write(fd, sys.argv[2].encode()))
except OSError as e:
    print(errno.errorcode[e.errno])
' "$1" "$2"
}

# wait_state ADDR PATTERN: until the function's state line matches (3 s at most)
wait_state() {
	local i
	for i in $(seq 60); do
		grep -q "^$1 .*$2" "$S/.pcisim/state" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

present() { test -e "$1" && echo present || echo absent; }

# What the real kernel answered in tests/vm (Debian 6.1), exactly; see tests/vm/README.md "Kernel facts observed"
t_facts() {
	local n=0000:06:00.0 t=0000:05:00.0 f long
	f="$(dev $n)/driver_override"
	check "fact: driver_override mode 0644" "644" "$(stat -c %a "$f")"
	check "fact: driver_override takes a name of no driver at all" "ok 15 no-such-driver igb" \
		"$(pyw "$f" $'no-such-driver\n') $(cat "$f") $(drv $n)"
	check "fact: driver_override without a newline stores the same" "ok 8 vfio-pci" "$(pyw "$f" vfio-pci) $(cat "$f")"
	check "fact: a zero-length driver_override write returns 0, changes nothing" "ok 0 vfio-pci" \
		"$(pyw "$f" "") $(cat "$f")"
	long=$(head -c 4094 /dev/zero | tr '\0' x)
	check "fact: driver_override of 4095 bytes is EINVAL, old value kept" "EINVAL vfio-pci" \
		"$(pyw "$f" "$long"$'\n') $(cat "$f")"
	check "fact: driver_override of 4094 bytes is taken" "ok 4094 4093" \
		"$(pyw "$f" "${long:1}"$'\n') $(($(wc -c <"$f") - 1))"
	check "fact: \"\\n\" clears driver_override" "ok 1 (null)" "$(pyw "$f" $'\n') $(cat "$f")"
	check "fact: drivers_probe of a short address (no domain) is ENODEV" "ENODEV" \
		"$(w "$S/bus/pci/drivers_probe" "${n#0000:}")"
	check "fact: drivers_probe of garbage is ENODEV" "ENODEV" "$(w "$S/bus/pci/drivers_probe" garbage)"
	pyw "$f" vfio-pci >/dev/null
	w "$S/bus/pci/drivers/igb/unbind" $n >/dev/null
	check "fact: bind to a device whose override names another driver is ENODEV" "ENODEV none" \
		"$(w "$S/bus/pci/drivers/igb/bind" $n) $(test -e "$(dev $n)/driver" || echo none)"
	pyw "$f" none >/dev/null
	check "fact: override none: drivers_probe ok, no driver; host driver's bind ENODEV" "ok none ENODEV" \
		"$(w "$S/bus/pci/drivers_probe" $n) $(test -e "$(dev $n)/driver" || echo none) $(w "$S/bus/pci/drivers/igb/bind" $n)"
	pyw "$f" $'\n' >/dev/null
	check "fact: cleared override: drivers_probe without a newline binds the kernel's pick" "ok 12 igb" \
		"$(pyw "$S/bus/pci/drivers_probe" $n) $(drv $n)"
	w "$S/bus/pci/drivers/igb/unbind" $n >/dev/null
	w "$S/bus/pci/drivers/igb/unbind" $t >/dev/null
	check "fact: new_id binds every driverless device with those ids (both twins)" "ok vfio-pci vfio-pci" \
		"$(w "$S/bus/pci/drivers/vfio-pci/new_id" "8086 1533") $(drv $n) $(drv $t)"
	check "fact: new_id of an id already added is EEXIST" "EEXIST" "$(w "$S/bus/pci/drivers/vfio-pci/new_id" "8086 1533")"
	check "fact: remove_id does not unbind" "ok vfio-pci vfio-pci" \
		"$(w "$S/bus/pci/drivers/vfio-pci/remove_id" "8086 1533") $(drv $n) $(drv $t)"
	w "$S/bus/pci/drivers/vfio-pci/unbind" $n >/dev/null
	w "$S/bus/pci/drivers/vfio-pci/unbind" $t >/dev/null
	w "$S/bus/pci/drivers_probe" $n >/dev/null
	w "$S/bus/pci/drivers_probe" $t >/dev/null
	check "twins back on igb" "igb igb" "$(drv $n) $(drv $t)"
	check "fact: no sriov_* files and no boot_vga on a plain NIC" "absent absent" \
		"$(present "$(dev $n)/sriov_numvfs") $(present "$(dev $n)/boot_vga")"
	w "$(dev 0000:02:00.0)/driver_override" vfio-pci >/dev/null
	w "$S/bus/pci/drivers/nvidia/unbind" 0000:02:00.0 >/dev/null
	w "$S/bus/pci/drivers_probe" 0000:02:00.0 >/dev/null
	check "fact: /dev/vfio/N comes with the first function of the group (sibling still on its host driver)" \
		"vfio-pci snd_hda_intel present" "$(drv 0000:02:00.0) $(drv 0000:02:00.1) $(present "$R/dev/vfio/2")"
	w "$(dev 0000:02:00.0)/driver_override" "" >/dev/null
	w "$S/bus/pci/drivers/vfio-pci/unbind" 0000:02:00.0 >/dev/null
	w "$S/bus/pci/drivers_probe" 0000:02:00.0 >/dev/null
	check "... and goes with the last" "nvidia absent" "$(drv 0000:02:00.0) $(present "$R/dev/vfio/2")"
}

# An unbind that waits for a VFIO user (the kernel's vfio_unregister_group_dev()), as measured in tests/vm
t_blocked_unbind() {
	local n=0000:06:00.0 o=0000:05:00.0 f p q t0
	f="$(dev $n)/driver_override"
	w "$f" vfio-pci >/dev/null
	w "$S/bus/pci/drivers/igb/unbind" $n >/dev/null
	w "$S/bus/pci/drivers_probe" $n >/dev/null
	ctl "block $n unbind forever" >/dev/null
	(w "$S/bus/pci/drivers/vfio-pci/unbind" $n >"$R/unbind.out") &
	p=$!
	wait_state $n unbinding
	check "blocked unbind: the driver link and drivers/vfio-pci/ADDR go at once" "none absent" \
		"$(test -L "$(dev $n)/driver" || echo none) $(present "$S/bus/pci/drivers/vfio-pci/$n")"
	check "blocked unbind: /dev/vfio/9 stays until it completes" "present" "$(present "$R/dev/vfio/9")"
	check "blocked unbind: the state still has the driver, marked unbinding" \
		"$n driver=vfio-pci override=vfio-pci group=9 unbinding" "$(grep "^$n " "$S/.pcisim/state")"
	check "blocked unbind: reading driver_override blocks" "124" "$(timeout 1 cat "$f" >/dev/null 2>&1; echo $?)"
	check "blocked unbind: reading vendor, reset_method does not" "0x8086 flr pm bus" \
		"$(timeout 2 cat "$(dev $n)/vendor") $(timeout 2 cat "$(dev $n)/reset_method")"
	(cat "$f" >"$R/ovr.out" 2>&1) &
	q=$!
	(w "$f" vfio-pci >"$R/ovw.out") &
	t0=$(now)
	check "blocked unbind: drivers_probe of it returns ok at once and does nothing" "ok none" \
		"$(timeout 2 bash -c "printf '%s\n' $n >$S/bus/pci/drivers_probe" && echo ok) $(test -L "$(dev $n)/driver" || echo none)"
	check "blocked unbind: bind of it waits too" "124" \
		"$(timeout 1 bash -c "printf '%s\n' $n >$S/bus/pci/drivers/vfio-pci/bind" 2>/dev/null; echo $?)"
	check "blocked unbind: other devices are unaffected" "(null) igb ok" \
		"$(timeout 2 cat "$(dev $o)/driver_override") $(drv $o) $(timeout 2 bash -c "printf '%s\n' $o >$S/bus/pci/drivers_probe" && echo ok)"
	check "blocked unbind: a reader and a writer of driver_override are waiting" "yes" \
		"$(kill -0 $q 2>/dev/null && pgrep -f "^cat $f" >/dev/null && echo yes)"
	ctl "release $n" >/dev/null
	wait $p
	wait $q
	sleep 0.2
	check "release: the unbind completes; the waiting reader and writer complete" "ok vfio-pci ok" \
		"$(cat "$R/unbind.out") $(cat "$R/ovr.out") $(cat "$R/ovw.out")"
	check_true "release: the unbind came first, then the waiting bind (its writer killed) bound it again" \
		bash -c "grep -A1 '^bus/pci/drivers/vfio-pci/unbind $n -> ok' '$S/.pcisim/log' | grep -q '^unbind $n vfio-pci' &&
			grep -q '^bus/pci/drivers/vfio-pci/bind $n -> ok (writer killed)' '$S/.pcisim/log'"
	w "$S/bus/pci/drivers/vfio-pci/unbind" $n >/dev/null
	check "then unbound: driverless, override kept, /dev/vfio/9 gone" "none vfio-pci absent" \
		"$(test -L "$(dev $n)/driver" || echo none) $(cat "$f") $(present "$R/dev/vfio/9")"
	# a hot-unplug meanwhile waits for the unbind, then removes the device
	w "$S/bus/pci/drivers_probe" $n >/dev/null
	ctl "block $n unbind forever" >/dev/null
	(w "$S/bus/pci/drivers/vfio-pci/unbind" $n >/dev/null) &
	p=$!
	wait_state $n unbinding
	check "blocked unbind: a hot-unplug (ctl remove) waits for it" "ok present" "$(ctl "remove $n") $(present "$(dev $n)")"
	ctl "release $n" >/dev/null
	wait $p
	check "... and the device goes when it completes; drivers_probe is then ENODEV" "absent ENODEV" \
		"$(present "$(dev $n)") $(w "$S/bus/pci/drivers_probe" $n)"
	check "fact: rescan brings it back on its host driver, override forgotten" "ok igb (null)" \
		"$(w "$S/bus/pci/rescan" 1) $(drv $n) $(cat "$f")"
}

# ctl reset: back to the start, whatever happened, blocked writes abandoned
t_ctl_reset() {
	local d=0000:02:00.0 p
	w "$(dev $d)/driver_override" none >/dev/null
	w "$S/bus/pci/drivers/nvidia/unbind" $d >/dev/null
	ctl "fail 0000:02:00.1 driver_override EIO" >/dev/null
	ctl "block 0000:02:00.1 unbind forever" >/dev/null
	(w "$S/bus/pci/drivers/snd_hda_intel/unbind" 0000:02:00.1 >"$R/reset.out") &
	p=$!
	wait_state 0000:02:00.1 unbinding
	check "ctl reset: state as at start, vfio-pci unloaded again" "ok same absent" \
		"$(ctl reset) $(cat "$S/.pcisim/state" >"$R/state1"; cmp -s "$R/state0" "$R/state1" && echo same) \
$(present "$S/bus/pci/drivers/vfio-pci")"
	wait $p
	check "ctl reset: a blocked write ends with nothing done, faults are gone" "EINTR snd_hda_intel ok" \
		"$(cat "$R/reset.out") $(drv 0000:02:00.1) $(w "$(dev 0000:02:00.1)/driver_override" "")"
	check "ctl reset: the log starts again" "1" "$(grep -c . "$S/.pcisim/log")"
}

# eight blocked unbinds of one file at once must not serialise. Written
# without O_TRUNC, like pcibind does: a shell's ">" truncates, and the VFS
# takes the inode lock for that, which a blocked FUSE write holds shared.
t_parallel() {
	local t0 i pids=() bad=0
	for i in 1 2 3 4 5 6 7 8; do ctl "block 0000:${i}1:00.0 unbind 1 count=1" >/dev/null; done
	t0=$(now)
	for i in 1 2 3 4 5 6 7 8; do
		printf '%s\n' 0000:${i}1:00.0 | dd of="$S/bus/pci/drivers/nvidia/unbind" conv=notrunc bs=4096 status=none &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || bad=1; done
	check_true "eight blocked writes to one file run in parallel" \
		awk -v e="$(elapsed "$t0")" -v bad=$bad 'BEGIN { exit !(bad == 0 && e < 2.5) }'
	check "all eight unbound" "8" "$(grep -c '1:00.0 driver=none' "$S/.pcisim/state")"
}

if [ ! -x "$SIM" ]; then
	nok "simulator built" "$SIM is missing (make build/pcisim)"
	exit 0
fi
# what drivers do with SR-IOV (measured in tests/vm, scenario sriov-facts; drivers/pci/iov.c,
# nvme_remove(), vfio_pci_core_register_device(), vfio_pci_sriov_configure())
t_sriov_drivers() {
	local pf=0000:5e:00.0 mlx=0000:af:00.0
	check "VFs of a driver configuring SR-IOV: created and probed (the nvme class matches)" "ok nvme nvme" \
		"$(w "$(dev $pf)/sriov_numvfs" 2) $(drv 0000:5e:00.1) $(drv 0000:5e:00.2)"
	check "sriov_offset and sriov_stride as the VFs sit" "1 1 ../0000:5e:00.2" \
		"$(cat "$(dev $pf)/sriov_offset") $(cat "$(dev $pf)/sriov_stride") $(readlink "$(dev $pf)/virtfn1")"
	check "a driver that leaves SR-IOV on in remove(): unbinding the PF keeps its VFs" "ok 2 nvme" \
		"$(w "$S/bus/pci/drivers/nvme/unbind" $pf) $(cat "$(dev $pf)/sriov_numvfs") $(drv 0000:5e:00.2)"
	check "then no driver can change the count: ENOENT" "ENOENT" "$(w "$(dev $pf)/sriov_numvfs" 0)"
	PCISIM_ROOT=$R "$MODPROBE" vfio-pci
	check "vfio-pci does not take a PF with VFs: drivers_probe ok, nothing bound, bind EBUSY" "ok ok none EBUSY" \
		"$(w "$(dev $pf)/driver_override" vfio-pci) $(w "$S/bus/pci/drivers_probe" $pf) \
$(drv $pf || true)$(test -e "$(dev $pf)/driver" || echo none) $(w "$S/bus/pci/drivers/vfio-pci/bind" $pf)"
	w "$(dev $pf)/driver_override" "" >/dev/null
	w "$S/bus/pci/drivers_probe" $pf >/dev/null
	check "back on its driver, the count can go to 0" "nvme ok 0 absent" \
		"$(drv $pf) $(w "$(dev $pf)/sriov_numvfs" 0) $(cat "$(dev $pf)/sriov_numvfs") \
$(test -e "$(dev 0000:5e:00.1)" && echo present || echo absent)"
	w "$(dev $mlx)/driver_override" vfio-pci >/dev/null
	w "$(dev $mlx)/driver/unbind" $mlx >/dev/null
	w "$S/bus/pci/drivers_probe" $mlx >/dev/null
	check "vfio-pci takes a PF without VFs but cannot configure them (no enable_sriov): ENOENT" "vfio-pci ENOENT" \
		"$(drv $mlx) $(w "$(dev $mlx)/sriov_numvfs" 1)"
	check "sriov_drivers_autoprobe takes kstrtobool words, not others" "ok 0 ok 1 EINVAL 1" \
		"$(w "$(dev $pf)/sriov_drivers_autoprobe" n) $(cat "$(dev $pf)/sriov_drivers_autoprobe") \
$(w "$(dev $pf)/sriov_drivers_autoprobe" on) $(cat "$(dev $pf)/sriov_drivers_autoprobe") \
$(w "$(dev $pf)/sriov_drivers_autoprobe" maybe) $(cat "$(dev $pf)/sriov_drivers_autoprobe")"
	check "a variant driver's module links its driver: module/mlx5_vfio_pci/drivers/pci:mlx5_vfio_pci" "present" \
		"$(PCISIM_ROOT=$R "$MODPROBE" mlx5_vfio_pci; test -L "$S/module/mlx5_vfio_pci/drivers/pci:mlx5_vfio_pci" && echo present)"
}

if start workstation; then
	t_tree
	t_classdevs
	t_hostfiles
	t_override
	t_unbind_probe
	t_load
	t_vfio
	t_new_id
	t_facts
	t_blocked_unbind
	t_reset
	t_remove_rescan
	t_faults
	t_unload
	t_ctl_reset
	stop
fi
start noiommu && t_noiommu && stop
start identity-moved && t_identity && stop
start sriov && t_sriov && stop
start sriov-boot && t_sriov_drivers && stop
start eightgpu && t_parallel && stop
exit 0
