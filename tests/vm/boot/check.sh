#!/bin/bash
# check.sh - in the booted guest: did pcibind's udev rule and unit do their work?
# SPDX-License-Identifier: GPL-2.0-or-later
# vmtest.conf=good|broken on the kernel command line says which configuration was installed.
CONF=$(sed -n 's/.*vmtest\.conf=\([a-z]*\).*/\1/p' /proc/cmdline)
RATIO_MAX=1.5
NIC1=0000:00:06.0 NIC2=0000:02:00.0 VGA=0000:01:00.0 AUD=0000:01:00.1 OLD=0000:04:01.0

ok() { echo "ok - vm: boot-$CONF: $*"; }
nok() { echo "not ok - vm: boot-$CONF: $*"; }
drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null || echo none; }
expect_driver() {
	local d
	d=$(drv "$1")
	if [ "$d" = "$2" ]; then ok "$1 on $2${3:+ ($3)}"; else nok "$1 on $2${3:+ ($3)}: it is on '$d'"; fi
}
# really_probe's dev_dbg line (dyndbg on drivers/base/dd.c): did DRIVER ever probe FN?
probed() { dmesg | grep -F "$2" | grep -q "probing driver $1 with device"; }
never_probed() {
	if probed "$1" "$2"; then nok "$1 never probed $2: $(dmesg | grep -F "$2" | grep -F "driver $1" | head -n 2 | tr '\n' '|')"
	else ok "$1 never probed $2"; fi
}
did_probe() { if probed "$1" "$2"; then ok "$1 probed $2 (control)"; else nok "$1 probed $2 (control): no such dmesg line"; fi; }

echo "@@vmtest boot-check $CONF"
echo "# vm: boot-$CONF: up $(cut -d' ' -f1 /proc/uptime)s; pcibind.service: $(systemctl show -p ActiveState,Result,ExecMainStatus --value pcibind.service | tr '\n' ' ')"
journalctl -b -u pcibind.service --no-pager -o short-monotonic 2>&1 | tail -n 15 | sed "s/^/# vm: boot-$CONF: journal: /"
# run time of a oneshot unit in this boot, in microseconds (fork of its process to its exit)
unit_us() {
	local a b
	a=$(systemctl show -p ExecMainStartTimestampMonotonic --value "$1")
	b=$(systemctl show -p ExecMainExitTimestampMonotonic --value "$1")
	echo $((b - a))
}
unit_cpu_us() { echo $(($(systemctl show -p CPUUsageNSec --value "$1" | sed 's/[^0-9]//g;s/^$/0/') / 1000)); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
for u in systemd-modules-load.service pcibind.service systemd-udev-trigger.service vmtest-settle.service; do
	echo "# vm: boot-$CONF: $u: ran $(unit_us $u) us, $(unit_cpu_us $u) us of CPU, from $(systemctl show -p ExecMainStartTimestampMonotonic --value $u) us"
done
if [ "$CONF" = good ]; then
	# the unit on the boot's critical path against systemd-modules-load loading the vfio modules
	# (/etc/modules-load.d/pcibind.conf, as generate writes it) in the same boot, in run time and
	# in CPU time (the guest's clock counts instructions: run.sh's -icount)
	pw=$(unit_us pcibind.service) mw=$(unit_us systemd-modules-load.service)
	pc=$(unit_cpu_us pcibind.service) mc=$(unit_cpu_us systemd-modules-load.service)
	rw=$(ratio "$pw" "$mw") rc=$(ratio "$pc" "$mc")
	if [ "$pc" -gt 0 ] && [ "$mc" -gt 0 ] && [ "$pw" -gt 0 ] && [ "$mw" -gt 0 ] &&
		awk -v a="$rw" -v b="$rc" -v l="$RATIO_MAX" 'BEGIN { exit !(a <= l && b <= l) }'; then
		ok "pcibind.service costs about what loading the vfio modules costs: ${rw}x systemd-modules-load's run time ($pw vs $mw us), ${rc}x its CPU time ($pc vs $mc us); at most ${RATIO_MAX}x"
	else nok "pcibind.service costs about what loading the vfio modules costs: ${rw}x systemd-modules-load's run time ($pw vs $mw us), ${rc}x its CPU time ($pc vs $mc us); at most ${RATIO_MAX}x"; fi
	st=$(systemctl show -p ExecMainExitTimestampMonotonic --value pcibind.service)
	tr=$(systemctl show -p ExecMainStartTimestampMonotonic --value systemd-udev-trigger.service)
	if [ "$st" -gt 0 ] && [ "$tr" -ge "$st" ]; then ok "pcibind.service was done before udev's coldplug replay started"
	else nok "pcibind.service was done before udev's coldplug replay: it ended at $st us, the trigger started at $tr us"; fi
	expect_driver $NIC2 vfio-pci "configured twin"
	expect_driver $VGA vfio-pci "GPU"
	expect_driver $AUD vfio-pci "GPU audio"
	expect_driver $NIC1 e1000e "unconfigured twin keeps its driver"
	expect_driver $OLD vfio-pci "its driver was loaded before udev: moved by the unit"
	never_probed e1000e $NIC2
	never_probed bochs-drm $VGA
	never_probed snd_hda_intel $AUD
	did_probe e1000e $NIC1
	did_probe e1000 $OLD
	st=$(systemctl show -p Result --value pcibind.service)
	act=$(systemctl is-active pcibind.service)
	if [ "$act" = active ] && [ "$st" = success ]; then ok "systemctl: pcibind.service succeeded (active, result success)"
	else nok "systemctl: pcibind.service succeeded: active=$act result=$st"; fi
	en=$(systemctl is-enabled pcibind.service)
	if [ "$en" = enabled ]; then ok "pcibind.service is enabled (systemctl --root enable at image build: WantedBy=sysinit.target)"
	else nok "pcibind.service is enabled: $en"; fi
	out=$(journalctl -b -u pcibind.service --no-pager -o cat 2>&1)
	if grep -q "oldnic: 1 function bound to vfio-pci" <<<"$out"; then ok "the unit reports it moved oldnic"
	else nok "the unit reports it moved oldnic: $(tr '\n' '|' <<<"$out" | cut -c1-600)"; fi
	# what a VM manager ordered after pcibind.service found: every bound group's node, with the owner
	# udev gives it (70-vmtest-vfio.rules: root:kvm 660), not the kernel's root:root 600
	bad=""
	for fn in $NIC2 $VGA $OLD; do
		g=$(basename "$(readlink /sys/bus/pci/devices/$fn/iommu_group)")
		grep -qx "/dev/vfio/$g root:kvm 660" /run/vmtest-vfio-at-start 2>/dev/null || bad+=" $fn (group $g)"
	done
	if [ -z "$bad" ]; then ok "a unit ordered after pcibind.service finds each bound group's /dev/vfio node with its udev owner (root:kvm 660): $(tr '\n' ' ' </run/vmtest-vfio-at-start)"
	else nok "a unit ordered after pcibind.service finds each bound group's /dev/vfio node with its udev owner:$bad not so: $(tr '\n' ' ' </run/vmtest-vfio-at-start 2>&1)"; fi
	# the same for the VFIO cdev (/dev/vfio/devices/vfioN, what iommufd users open), on a kernel that has
	# it: a function's vfio-dev/vfioN/dev; the kernel's config says whether there must be one
	bad="" seen=""
	for fn in $NIC2 $VGA $AUD $OLD; do
		for d in /sys/bus/pci/devices/$fn/vfio-dev/vfio*/dev; do
			[ -e "$d" ] || continue
			n=$(basename "$(dirname "$d")")
			seen+=" $n"
			grep -qx "/dev/vfio/devices/$n root:kvm 660" /run/vmtest-vfio-at-start 2>/dev/null || bad+=" $fn ($n)"
		done
	done
	cdev=no
	grep -q '^CONFIG_VFIO_DEVICE_CDEV=y$' "/boot/config-$(uname -r)" 2>/dev/null && cdev=yes
	if [ ! -s "/boot/config-$(uname -r)" ]; then nok "the kernel's config is in the image: no /boot/config-$(uname -r)"
	elif [ "$cdev" = yes ] && [ -n "$seen" ] && [ -z "$bad" ]; then
		ok "a unit ordered after pcibind.service finds each bound function's /dev/vfio/devices node with its udev owner (root:kvm 660):$seen"
	elif [ "$cdev" = no ] && [ -z "$seen" ]; then
		ok "no bound function has a VFIO cdev, as $(uname -r)'s config says (CONFIG_VFIO_DEVICE_CDEV not set): /dev/vfio/N is all a VM manager gets here"
	else nok "the /dev/vfio/devices nodes: config says cdev=$cdev, cdevs seen:${seen:- none}, not root:kvm 660 at the manager's start:${bad:- none}: $(tr '\n' ' ' </run/vmtest-vfio-at-start 2>&1)"; fi
	if [ -e "/dev/vfio/$(basename "$(readlink /sys/bus/pci/devices/$NIC2/iommu_group)")" ]; then ok "/dev/vfio node of the NIC's group exists"
	else nok "/dev/vfio node of the NIC's group exists: $(ls /dev/vfio 2>&1 | tr '\n' ' ')"; fi
	pcibind apply >/tmp/apply.out 2>&1
	rc=$?
	if [ $rc = 0 ]; then ok "a second apply has nothing to do (exit 0)"; else nok "a second apply exits 0: $rc $(tr '\n' '|' </tmp/apply.out)"; fi
	# the unit took the GPU, its audio and nic2 from no driver at all: boot claims
	claims=$(grep -c $'\tclaimed=boot$' /run/pcibind/journal 2>/dev/null)
	if [ "$claims" = 3 ] && grep -q "^$OLD"$'\tdriver=e1000\t' /run/pcibind/journal; then
		ok "the journal holds the three boot claims and oldnic's e1000"
	else nok "the journal holds the three boot claims and oldnic's e1000: $(tr '\n\t' '| ' </run/pcibind/journal 2>&1)"; fi
	# bind and restore wait for udev: when they return, udev's queue is empty and /dev/vfio/N is there
	G=$(basename "$(readlink /sys/bus/pci/devices/$NIC2/iommu_group)")
	pcibind restore nic2 >/tmp/restore.out 2>&1
	rc=$?; udevadm settle --timeout=0; q=$?
	if [ $rc = 0 ] && [ $q = 0 ] && [ "$(drv $NIC2)" = e1000e ] && [ ! -e /dev/vfio/$G ]; then ok "restore nic2: back on e1000e, udev done when pcibind returns"
	else nok "restore nic2: back on e1000e, udev done when pcibind returns: rc=$rc queue-empty=$q driver=$(drv $NIC2) $(tr '\n' '|' </tmp/restore.out)"; fi
	pcibind bind nic2 >/tmp/bind.out 2>&1
	rc=$?; udevadm settle --timeout=0; q=$?
	if [ $rc = 0 ] && [ $q = 0 ] && [ -c /dev/vfio/$G ]; then ok "bind nic2: udev done and /dev/vfio/$G present when pcibind returns ($(stat -c '%U:%G %a' /dev/vfio/$G))"
	else nok "bind nic2: udev done and /dev/vfio/$G present when pcibind returns: rc=$rc queue-empty=$q $(ls -l /dev/vfio 2>&1 | tr '\n' ' ') $(tr '\n' '|' </tmp/bind.out)"; fi
	# a bare restore gives back everything the boot took, each function to the driver the kernel picks
	pcibind restore >/tmp/restore-all.out 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(drv $NIC2)" = e1000e ] && [ "$(drv $VGA)" = bochs-drm ] && [ "$(drv $AUD)" = snd_hda_intel ] &&
		[ "$(drv $OLD)" = e1000 ] && [ ! -s /run/pcibind/journal ] && ! grep -q vfio /sys/bus/pci/devices/*/driver_override; then
		ok "a bare restore gives the boot sets back: e1000e, bochs-drm, snd_hda_intel, e1000; journal empty"
	else nok "a bare restore gives the boot sets back: rc=$rc $NIC2=$(drv $NIC2) $VGA=$(drv $VGA) $AUD=$(drv $AUD) $OLD=$(drv $OLD) $(tr '\n' '|' </tmp/restore-all.out)"; fi
	# the rule, as at coldplug: both twins appear with e1000e not loaded; vfio-pci is
	rmmod e1000e 2>/tmp/rmmod.out
	echo 1 >/sys/bus/pci/devices/$NIC2/remove
	echo 1 >/sys/bus/pci/devices/$NIC1/remove
	mark=$(dmesg | wc -l)
	echo 1 >/sys/bus/pci/rescan
	udevadm settle --timeout=120
	if [ "$(drv $NIC2)" = vfio-pci ] && [ "$(drv $NIC1)" = e1000e ] && ! dmesg | tail -n +"$mark" | grep -F "$NIC2" | grep -q "probing driver e1000e with device"; then
		ok "the rule, twins appearing together: $NIC2 claimed and bound to vfio-pci, e1000e never probed it, $NIC1 on e1000e"
	else nok "the rule, twins appearing together: $NIC2=$(drv $NIC2) $NIC1=$(drv $NIC1) $(cat /tmp/rmmod.out) $(dmesg | tail -n +"$mark" | grep -F "$NIC2" | head -n 3 | tr '\n' '|')"; fi
	if grep -q "^$NIC2"$'\t.*\tclaimed=boot$' /run/pcibind/journal 2>/dev/null; then ok "the rule journaled its claim"
	else nok "the rule journaled its claim: $(tr '\n\t' '| ' </run/pcibind/journal 2>&1)"; fi
	pcibind restore >/tmp/restore-rule.out 2>&1
	if [ "$(drv $NIC2)" = e1000e ]; then ok "a bare restore gives the rule's claim back to e1000e"
	else nok "a bare restore gives the rule's claim back to e1000e: $(drv $NIC2) $(tr '\n' '|' </tmp/restore-rule.out)"; fi
	# the man pages are checked on the build host (tests/lint-man.sh): no man(1) here
	if systemd-analyze verify --man=no /usr/lib/systemd/system/pcibind.service >/tmp/verify.out 2>&1 && ! grep -q pcibind /tmp/verify.out; then
		ok "systemd-analyze verify pcibind.service"
	else nok "systemd-analyze verify pcibind.service: $(tr '\n' '|' </tmp/verify.out)"; fi
	# udev 252 has no 'udevadm verify': udevadm test shows the rule parsed and its RUN before the module load
	udevadm test --action=add /sys/bus/pci/devices/$NIC1 >/tmp/udevtest.out 2>&1
	run=$(grep -n "pcibind apply --udev" /tmp/udevtest.out | head -n 1 | cut -d: -f1)
	kmod=$(grep -n "kmod load" /tmp/udevtest.out | head -n 1 | cut -d: -f1)
	if [ -n "$run" ] && [ -n "$kmod" ] && [ "$run" -lt "$kmod" ]; then ok "udevadm test: the rule's RUN comes before 80-drivers.rules' kmod load"
	else nok "udevadm test: the rule's RUN comes before the kmod load: run=$run kmod=$kmod $(grep -iE 'pcibind|kmod|error|invalid' /tmp/udevtest.out | head -n 5 | tr '\n' '|')"; fi
	if grep -qiE "invalid|error" /tmp/udevtest.out && grep -iE "invalid|error" /tmp/udevtest.out | grep -q pcibind; then nok "udevadm test reports no error in 60-pcibind.rules"
	else ok "udevadm test reports no error in 60-pcibind.rules"; fi
else
	act=$(systemctl is-active pcibind.service)
	if [ "$act" = failed ]; then ok "pcibind.service failed on the broken config"; else nok "pcibind.service failed on the broken config: it is $act"; fi
	out=$(journalctl -b -u pcibind.service --no-pager -o cat 2>&1)
	if grep -q "/etc/pcibind/pcibind.conf:4:" <<<"$out"; then ok "the journal names pcibind.conf:4"
	else nok "the journal names pcibind.conf:4: $(tr '\n' '|' <<<"$out" | cut -c1-600)"; fi
	expect_driver $NIC2 e1000e "host driver kept"
	expect_driver $NIC1 e1000e "host driver kept"
	expect_driver $VGA bochs-drm "host driver kept"
	expect_driver $AUD snd_hda_intel "host driver kept"
	expect_driver $OLD e1000 "host driver kept"
	if grep -rl vfio /sys/bus/pci/devices/*/driver_override 2>/dev/null | grep -q .; then nok "no driver_override was written"
	else ok "no driver_override was written"; fi
	if [ "$(systemctl is-active multi-user.target)" = active ]; then ok "the system still booted (multi-user.target active)"
	else nok "the system still booted: multi-user.target is $(systemctl is-active multi-user.target)"; fi
	# every PCI "add" event ran the rule on the broken file: it is said once, where the journal shows it
	said=$(dmesg | grep -c "pcibind.conf:4:")
	failed=$(journalctl -b -u systemd-udevd.service --no-pager -o cat 2>&1 | grep -c "pcibind.*failed with exit code")
	events=$(ls /sys/bus/pci/devices | wc -l)
	if [ "$said" = 1 ] && [ "$failed" -le 1 ]; then ok "the rule says the broken configuration once in this boot's kernel log ($events PCI events; udevd logged $failed failure)"
	else nok "the rule says the broken configuration once: $said times in the kernel log, udevd logged $failed failures of $events PCI events"; fi
fi
echo "@@vmtest boot-done $CONF"
