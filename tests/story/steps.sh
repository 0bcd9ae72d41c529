#!/bin/bash
# steps.sh - in the story guest: the one step of README's story this boot does, with its checks
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage (in the guest, from story-run): steps.sh STEP
#   prep     image build only (booted with -kernel): GRUB onto the disk, MODULES=dep initramfs
#   install  apt install ./pcibind_*.deb; status --tree, setup --dry-run, setup; reboot
#   setup    after that reboot: cmdline, lspci -k, the unit, check, restore/bind; setup --remove; reboot
#   removed  after that reboot: the boot as before; bind/restore at run time; apt purge; reboot
#   purged   after that reboot: nothing of pcibind left
#
# Prints "ok - story: STEP: what" / "not ok - story: STEP: what: detail" and,
# as "# " comments, the output of the commands README has the user type. The
# slot is 02:00 (the NIC on the second root port); its twin at 01:00.0 (same
# ids) must stay on e1000e throughout. State between boots (the boot files'
# checksum lists) lives in /var/lib/story on the guest's disk.
set -u
STEP=${1:?usage: steps.sh STEP}
DATA=$(dirname "$0")
STATE=/var/lib/story
SLOT=02:00
FN=0000:02:00.0
TWIN=0000:01:00.0
NAME=nic
mkdir -p "$STATE"
cd /root || exit 1

ok() { echo "ok - story: $STEP: $*"; }
nok() { echo "not ok - story: $STEP: $*"; }
# verdict COND_STATUS WHAT [DETAIL]: ok when the status is 0
verdict() {
	if [ "$1" -eq 0 ]; then ok "$2"; else nok "$2${3:+: $3}"; fi
}
# run TAG CMD...: run a command as the user would, keep its output in $STATE/TAG.out, show it as
# comments, and leave its status in $RC and its duration in $SECS
run() {
	local tag=$1 t0
	shift
	echo "# \$ $*"
	t0=$(date +%s.%N)
	"$@" </dev/null >"$STATE/$tag.out" 2>&1
	RC=$?
	SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
	sed 's/^/#   /' "$STATE/$tag.out" | tail -n 60
	echo "# (exit $RC, $SECS s)"
	echo "$tag $SECS" >>"$STATE/times"
}
# a line of TAG's output for a failure's detail: the first matching PATTERN, else pcibind's first
# message that is not a note, else the last line
line() {
	local l
	l=$(grep -m1 -E "${2:-^$^}" "$STATE/$1.out")
	[ -n "$l" ] || l=$(grep -E '^pcibind: ' "$STATE/$1.out" | grep -v '^pcibind: note:' | head -n 1)
	[ -n "$l" ] || l=$(tail -n 1 "$STATE/$1.out")
	echo "$l" | cut -c1-240
}
# rebuilds of an initramfs that TAG's output shows
rebuilds() { grep -c '^update-initramfs: Generating' "$STATE/$1.out"; }

# the driver `lspci -k` shows for a function ("none" when it has none)
lspci_driver() {
	local d
	d=$(lspci -k -s "$1" | sed -n 's/^[[:space:]]*Kernel driver in use: //p')
	echo "${d:-none}"
}
expect_driver() {
	local d
	d=$(lspci_driver "$1")
	if [ "$d" = "$2" ]; then ok "$3: lspci -k shows $1 on $2"; else nok "$3: lspci -k shows $1 on $d, not $2"; fi
}

# The boot files as a sorted list: each file or link under the trees below
# with its checksum or target, and the linux lines of grub.cfg.
TREES="/etc/default/grub /etc/default/grub.d /etc/modprobe.d /etc/modules-load.d /etc/kernel
       /etc/initramfs-tools /usr/share/initramfs-tools/hooks /usr/share/initramfs-tools/scripts
       /etc/pcibind /etc/systemd/system /var/lib/pcibind"
snapshot() {
	local f
	{
		for f in $(find $TREES \( -type f -o -type l \) 2>/dev/null | sort); do
			if [ -L "$f" ]; then
				echo "$f -> $(readlink "$f")"
			else
				echo "$f $(sha256sum <"$f" | cut -c1-16)"
			fi
		done
		grep -E '^[[:space:]]*linux[[:space:]]' /boot/grub/grub.cfg | sed 's/^[[:space:]]*/grub.cfg: /'
	} >"$STATE/$1.sums"
}
# same NAME_A NAME_B WHAT [EXCLUDE_REGEX]: the two lists equal (but for lines matching EXCLUDE)
same() {
	local ex=${4:-^NONE^} d
	d=$(diff <(grep -Ev "$ex" "$STATE/$1.sums") <(grep -Ev "$ex" "$STATE/$2.sums") | grep '^[<>]')
	if [ -z "$d" ]; then
		ok "$3"
	else
		nok "$3: $(echo "$d" | head -n 6 | tr '\n' ';' | cut -c1-400)"
		echo "$d" | sed 's/^/#   /'
	fi
}
initrd() { echo "/boot/initrd.img-$(uname -r)"; }
# in_initrd PATTERN: the running kernel's initramfs lists a path matching it
in_initrd() { lsinitramfs "$(initrd)" | grep -qE "$1"; }
cmdline_has() { grep -qw -- "$1" /proc/cmdline; }
# the command line is the first boot's (not cmp: /proc/cmdline says its size is 0, and cmp believes it)
cmdline_as_before() { [ "$(cat /proc/cmdline)" = "$(cat "$STATE/cmdline.before")" ]; }
unit_state() { systemctl is-enabled pcibind.service 2>&1 | head -n 1; }

step_prep() {
	local disk
	disk=/dev/$(lsblk -no pkname "$(findmnt -no source /)")
	echo "# root disk: $disk"
	run grub-install grub-install --target=i386-pc "$disk"
	verdict $RC "image: grub-install --target=i386-pc $disk" "$(tail -n 1 "$STATE/grub-install.out")"
	run update-grub update-grub
	verdict $RC "image: update-grub" "$(tail -n 1 "$STATE/update-grub.out")"
	grep -qE '^[[:space:]]*linux[[:space:]].*root=UUID=' /boot/grub/grub.cfg
	verdict $? "image: grub.cfg boots the image's kernel by UUID"
	grep -q '^MODULES=dep' /etc/initramfs-tools/conf.d/*
	verdict $? "image: initramfs-tools has MODULES=dep"
	run update-initramfs update-initramfs -u -k all
	verdict $RC "image: update-initramfs -u with MODULES=dep ($SECS s)"
	in_initrd 'virtio_blk\.ko'
	verdict $? "image: the initramfs has virtio_blk (the root disk's driver)"
}

step_install() {
	cp /proc/cmdline "$STATE/cmdline.before"
	grep -q 'BOOT_IMAGE=' /proc/cmdline
	verdict $? "booted through the image's own GRUB" "$(cat /proc/cmdline)"
	! cmdline_has intel_iommu=on
	verdict $? "no intel_iommu=on before pcibind" "$(cat /proc/cmdline)"
	expect_driver $FN e1000e "before"
	expect_driver $TWIN e1000e "before"
	snapshot before-install

	cp "$DATA"/pcibind_*.deb /root/
	run apt-install apt install -y ./pcibind_*.deb
	verdict $RC "apt install ./pcibind_*.deb ($SECS s, $(rebuilds apt-install) initramfs rebuilds)" "exit $RC: $(line apt-install '^E:|rror')"
	dpkg-query -W -f '${Status}' pcibind 2>/dev/null | grep -q ' installed$'
	verdict $? "dpkg says pcibind is installed"
	[ "$(unit_state)" = enabled ]
	verdict $? "systemctl is-enabled pcibind.service: enabled after install" "$(unit_state)"
	in_initrd '(usr/)?s?bin/pcibind$'
	verdict $? "lsinitramfs: the initramfs carries pcibind after install"
	snapshot after-install

	run status pcibind status --tree $SLOT
	[ $RC -eq 0 ] && grep -q "$FN\|${FN#0000:}" "$STATE/status.out"
	verdict $? "pcibind status --tree $SLOT shows the function" "exit $RC"

	run dry-run pcibind setup $SLOT --boot --dry-run
	[ $RC -eq 0 ] && grep -q 'intel_iommu=on' "$STATE/dry-run.out"
	verdict $? "pcibind setup $SLOT --boot --dry-run: exit 0, the diff has intel_iommu=on" "exit $RC: $(line dry-run)"
	snapshot after-dry-run
	same after-install after-dry-run "setup --dry-run changed no boot file"

	run setup pcibind setup $SLOT --boot
	[ $RC -eq 0 ]
	verdict $? "pcibind setup $SLOT --boot: exit 0 ($SECS s, $(rebuilds setup) initramfs rebuilds)" "exit $RC: $(line setup)"
	grep -q '^reboot: needed' "$STATE/setup.out"
	verdict $? "setup says a reboot is needed, and why" "$(line setup '^reboot')"
	awk -v n="[$NAME]" '$0 == n { s = 1; next } /^\[/ { s = 0 } s' /etc/pcibind/pcibind.conf >"$STATE/set.txt"
	grep -qE "^address *= *(0000:)?$SLOT\$" "$STATE/set.txt" && grep -qE '^boot *= *yes' "$STATE/set.txt"
	verdict $? "pcibind.conf has the set [$NAME] with address $SLOT and boot = yes"
	[ "$(unit_state)" = enabled ]
	verdict $? "systemctl is-enabled pcibind.service: enabled after setup" "$(unit_state)"
	# the default entry (the first); its recovery entry has GRUB_CMDLINE_LINUX only, by GRUB's design
	grep -m1 -E '^[[:space:]]*linux[[:space:]]' /boot/grub/grub.cfg | grep -qw 'intel_iommu=on'
	verdict $? "grub.cfg: the default entry's linux line has intel_iommu=on" \
		"$(grep -m1 -E '^[[:space:]]*linux[[:space:]]' /boot/grub/grub.cfg)"
	in_initrd 'etc/pcibind/pcibind.conf$' && in_initrd 'etc/modprobe.d/pcibind.conf$'
	verdict $? "lsinitramfs: the initramfs carries pcibind.conf and modprobe.d/pcibind.conf"
	# README: "sudo reboot   # only if it said so"
	grep -q '^reboot: needed' "$STATE/setup.out" && touch /run/story-reboot
}

step_setup() {
	cmdline_has intel_iommu=on
	verdict $? "/proc/cmdline has intel_iommu=on after setup and reboot" "$(cat /proc/cmdline)"
	dmesg | grep -qE 'DMAR: IOMMU enabled'
	verdict $? "dmesg: DMAR: IOMMU enabled"
	[ -n "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]
	verdict $? "the kernel has IOMMU groups"
	expect_driver $FN vfio-pci "claimed at boot"
	expect_driver $TWIN e1000e "claimed at boot, the twin"
	[ "$(unit_state)" = enabled ]
	verdict $? "systemctl is-enabled pcibind.service: enabled" "$(unit_state)"
	! systemctl is-failed --quiet pcibind.service && [ "$(systemctl is-active pcibind.service)" = active ]
	verdict $? "pcibind.service ran and did not fail" "$(systemctl is-active pcibind.service)"
	journalctl -b -o cat -u pcibind.service 2>/dev/null | sed 's/^/#   pcibind.service: /' | tail -n 20

	run check pcibind check
	verdict $RC "pcibind check: ready (exit 0)" "exit $RC: $(line check '^(not ok|warn|fail)')"
	run generate pcibind generate
	[ $RC -eq 0 ] && grep -qx 'no changes' "$STATE/generate.out"
	verdict $? "pcibind generate after the reboot: no changes" "exit $RC: $(line generate '^[-+][^-+]')"

	run restore pcibind restore $SLOT
	verdict $RC "pcibind restore $SLOT (what the boot took)" "exit $RC: $(line restore)"
	expect_driver $FN e1000e "after restore"
	expect_driver $TWIN e1000e "after restore, the twin"
	run bind pcibind bind $SLOT
	verdict $RC "pcibind bind $SLOT" "exit $RC: $(line bind)"
	expect_driver $FN vfio-pci "after bind"
	expect_driver $TWIN e1000e "after bind, the twin"

	run remove pcibind setup --remove $NAME
	verdict $RC "pcibind setup --remove $NAME: exit 0 ($SECS s, $(rebuilds remove) initramfs rebuilds)" "exit $RC: $(line remove)"
	grep -q "${FN#0000:}" "$STATE/remove.out"
	verdict $? "setup --remove names the function still on vfio-pci"
	# the package's postinst enabled the unit before setup: the way back leaves it so
	[ "$(unit_state)" = enabled ]
	verdict $? "systemctl is-enabled pcibind.service: enabled after setup --remove, as the package left it" "$(unit_state)"
	snapshot after-remove
	same after-install after-remove "the boot files and the unit's link after setup --remove are those before setup"
	! in_initrd 'etc/modprobe.d/pcibind.conf$' && ! grep -q '^\[nic\]' /etc/pcibind/pcibind.conf
	verdict $? "setup --remove: the set and modprobe.d/pcibind.conf are out of the initramfs and the file"
	run restore2 pcibind restore $SLOT
	expect_driver $FN e1000e "after setup --remove and restore"
	touch /run/story-reboot
}

step_removed() {
	local st
	! cmdline_has intel_iommu=on
	verdict $? "/proc/cmdline has no intel_iommu=on after setup --remove and reboot" "$(cat /proc/cmdline)"
	cmdline_as_before
	verdict $? "/proc/cmdline is the one before pcibind" "$(cat /proc/cmdline)"
	expect_driver $FN e1000e "after setup --remove and reboot"
	expect_driver $TWIN e1000e "after setup --remove and reboot, the twin"
	[ "$(unit_state)" = enabled ]
	verdict $? "systemctl is-enabled pcibind.service: enabled, as the package left it (no set: it claims nothing)" "$(unit_state)"
	! systemctl is-failed --quiet pcibind.service
	verdict $? "systemctl is-failed pcibind.service: not failed"
	# not a promise while the package is installed (its init-top script loads vfio_pci on every
	# boot, set or no set): shown, not checked; after purge it is checked
	echo "# vfio modules loaded: $(lsmod | awk '/^vfio/ { printf " %s", $1 }')"
	journalctl -b -o short-monotonic 2>/dev/null | grep -iE 'vfio|pcibind' | head -n 8 | sed 's/^/#   /'

	# bind and restore at run time, as the user would for a VM
	if [ -n "$(ls /sys/kernel/iommu_groups 2>/dev/null)" ]; then
		run rt-bind pcibind bind $SLOT
		verdict $RC "run time: pcibind bind $SLOT" "exit $RC: $(line rt-bind)"
		expect_driver $FN vfio-pci "run time bind"
		expect_driver $TWIN e1000e "run time bind, the twin"
		run rt-restore pcibind restore $SLOT
		verdict $RC "run time: pcibind restore $SLOT" "exit $RC: $(line rt-restore)"
		expect_driver $FN e1000e "run time restore"
	else
		echo "# no IOMMU groups without intel_iommu=on: bind must refuse, saying why, and change nothing"
		run rt-bind pcibind bind $SLOT
		[ $RC -ne 0 ] && grep -qi 'iommu' "$STATE/rt-bind.out"
		verdict $? "run time without IOMMU: pcibind bind $SLOT fails naming the IOMMU" "exit $RC"
		expect_driver $FN e1000e "run time bind without IOMMU"
	fi

	run purge apt purge -y pcibind
	verdict $RC "apt purge pcibind ($SECS s, $(rebuilds purge) initramfs rebuilds)" "exit $RC: $(line purge '^E:|rror')"
	[ "$(rebuilds purge)" -le 1 ]
	verdict $? "apt purge rebuilds the initramfs once" "$(rebuilds purge) rebuilds"
	# purged: dpkg knows nothing of it, or "unknown ok not-installed" (not "config-files")
	st=$(dpkg-query -W -f '${Status}' pcibind 2>/dev/null)
	[ -z "$st" ] || [ "${st##* }" = not-installed ]
	verdict $? "dpkg: pcibind is purged" "$st"
	[ ! -e /etc/pcibind ] && [ ! -e /var/lib/pcibind ] && [ ! -e /run/pcibind ]
	verdict $? "purge leaves no /etc/pcibind, /var/lib/pcibind, /run/pcibind"
	snapshot after-purge
	same before-install after-purge "the boot files (and unit links) after purge are those before install"
	! in_initrd 'pcibind'
	verdict $? "lsinitramfs: no pcibind in the initramfs after purge"
	touch /run/story-reboot
}

step_purged() {
	cmdline_as_before
	verdict $? "/proc/cmdline after purge and reboot is the one before pcibind" "$(cat /proc/cmdline)"
	expect_driver $FN e1000e "after purge and reboot"
	expect_driver $TWIN e1000e "after purge and reboot, the twin"
	! systemctl cat pcibind.service >/dev/null 2>&1
	verdict $? "systemd knows no pcibind.service" "$(unit_state)"
	! lsmod | grep -q '^vfio'
	verdict $? "no vfio module loaded at boot"
	! dmesg | grep -qi pcibind
	verdict $? "dmesg: nothing of pcibind"
	! in_initrd 'pcibind'
	verdict $? "lsinitramfs: no pcibind in the booted initramfs"
	snapshot after-purge-boot
	same before-install after-purge-boot "the boot files after purge and reboot are those before install"
}

case $STEP in
prep | install | setup | removed | purged) "step_$STEP" ;;
*)
	nok "unknown step '$STEP'"
	exit 1
	;;
esac
