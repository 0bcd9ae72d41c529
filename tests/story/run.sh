#!/bin/bash
# run.sh - the story tier: README's "Try it" on a Debian 12 disk image booted through its own GRUB
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/story/run.sh
#
# Builds the package as `make deb` does (tests/pkg/build-deb.sh), a Debian 12
# disk image (mmdebstrap through tests/lib/debroot.sh, made bootable with its
# own GRUB in a first boot; cached), and boots it four times under QEMU (TCG,
# q35, emulated Intel IOMMU, boot VGA, virtio root disk, two identical e1000e
# NICs on their own root ports), on a copy-on-write overlay. Each boot runs one
# step of tests/story/steps.sh (a unit baked into the image runs it from a
# small data disk that also carries the .deb) and powers off or reboots; the
# step's "ok - story: ..." lines come back on the second serial port. See
# tests/story/README.md. A boot that hangs, panics or does not finish its step
# is "not ok"; nothing is skipped.
#
# Environment:
#   PCIBIND_CACHE          kept between runs (default ~/.cache/pcibind-tests): rootfs/, story/
#   PCIBIND_STORY_WORK     scratch directory (default build/story in the repository)
#   PCIBIND_STORY_SMP      vCPUs of the guest (default 2)
#   PCIBIND_STORY_TIMEOUT  seconds before any boot counts as hung (default: per boot, 300-900)
#   PCIBIND_STORY_SRC      the tree the package is built from (default: this one), e.g. an older
#                          commit's `git archive` to show which checks fail there
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/debroot.sh
. "$REPO/tests/lib/debroot.sh"
# shellcheck source=../lib/hostpkgs.sh
. "$REPO/tests/lib/hostpkgs.sh"
CACHE=${PCIBIND_CACHE:-$HOME/.cache/pcibind-tests}
WORK=$(realpath -m "${PCIBIND_STORY_WORK:-$REPO/build/story}")
SMP=${PCIBIND_STORY_SMP:-2}
# the guest's packages: the kernel, GRUB, initramfs-tools, systemd, lspci, and
# the package's dependencies (the guest has no network: apt must find them installed)
PKGS=linux-image-amd64,grub-pc,initramfs-tools,systemd,systemd-sysv,udev,kmod,pciutils,iproute2,procps
PKGS=$PKGS,libpci3,libudev1,libinih1,libexpat1
HOST_PKGS="qemu-system-x86 qemu-utils mmdebstrap e2fsprogs fdisk dpkg-dev"
# boots of the story: step name and the seconds after which it counts as hung
BOOTS="install:900 setup:600 removed:900 purged:300"
IMAGE_SIZE_MB=3072
# the guest's own kernel arguments (GRUB_CMDLINE_LINUX in the image, and the first boot's)
GUEST_CMDLINE="console=ttyS0,115200 panic=-1 no_timer_check"

T0=$(date +%s)
say() { echo "# story: $*"; }
die() {
	echo "not ok - story: setup: $*"
	exit 1
}
case "$WORK" in
/ | "") die "refusing the scratch directory '$WORK'" ;;
esac

ensure_packages() {
	local missing why
	# shellcheck disable=SC2086 # a list of names
	missing=$(hostpkgs_missing $HOST_PKGS)
	[ -z "$missing" ] && return 0
	say "installing $missing"
	# shellcheck disable=SC2086
	why=$(hostpkgs_install "$WORK/apt.log" $HOST_PKGS) || die "$why"
}

# --- the image ---------------------------------------------------------------

# What the unpacked userland gets before it becomes a file system (part of the cache key).
customize() {
	local R=$1 uuid=$2 u
	echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >"$R/etc/fstab"
	echo story >"$R/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 story\n' >"$R/etc/hosts"
	# the kernel's messages on the first serial port, a panic ends the boot (QEMU has -no-reboot);
	# no_timer_check: under TCG on a loaded machine the IO-APIC timer check through interrupt
	# remapping fails ("timer doesn't work through Interrupt-remapped IO-APIC": a panic)
	sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/' \
		-e "s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX=\"$GUEST_CMDLINE\"/" "$R/etc/default/grub"
	grep -qx "GRUB_CMDLINE_LINUX=\"$GUEST_CMDLINE\"" "$R/etc/default/grub" || return 1
	# MODULES=most (Debian's default) makes each rebuild take ~15 min under TCG, dep ~2 min; the
	# initramfs mmdebstrap built is still a "most" one: the first boot rebuilds it
	echo MODULES=dep >"$R/etc/initramfs-tools/conf.d/story-modules"
	install -D -m 0755 "$HERE/guest/story-run" "$R/usr/local/sbin/story-run"
	install -D -m 0644 "$HERE/guest/story.service" "$R/etc/systemd/system/story.service"
	mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
	ln -sf /etc/systemd/system/story.service "$R/etc/systemd/system/multi-user.target.wants/story.service"
	# nothing else runs at a boot: no timers that fetch or scrub in the middle of a step
	for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
		ln -sf /dev/null "$R/etc/systemd/system/$u"
	done
	# root may log in on the serial console without a password (for looking into a failed run)
	sed -i 's/^root:[^:]*:/root::/' "$R/etc/shadow"
}

# qemu_boot NAME TIMEOUT DISK DATA [QEMU ARGS...]: one boot; its console in NAME.console, its
# results (the second serial port) in NAME.results; the status of qemu (124: timed out)
qemu_boot() {
	local name=$1 timeout=$2 disk=$3 data=$4 fmt=qcow2
	shift 4
	case "$disk" in *.raw) fmt=raw ;; esac
	rm -f "$WORK/$name.console" "$WORK/$name.results"
	timeout -k 10 "$timeout" nice -n 10 qemu-system-x86_64 \
		-M q35,accel=tcg,kernel-irqchip=split -cpu qemu64,vendor=GenuineIntel -m 1536 -smp "$SMP" \
		-device intel-iommu,intremap=on,caching-mode=on \
		-vga std -display none -monitor none -nic none -no-reboot \
		-serial "file:$WORK/$name.console" -serial "file:$WORK/$name.results" \
		-drive "file=$disk,if=none,id=root,format=$fmt" -device virtio-blk-pci,drive=root,addr=0x4,bootindex=1 \
		-drive "file=$data,if=none,id=data,format=raw,readonly=on" -device virtio-blk-pci,drive=data,addr=0x5 \
		-device pcie-root-port,id=rp1,bus=pcie.0,addr=1c.0,chassis=1,multifunction=on \
		-device pcie-root-port,id=rp2,bus=pcie.0,addr=1c.1,chassis=2 \
		-netdev user,id=n1,restrict=on -device e1000e,bus=rp1,addr=00.0,netdev=n1 \
		-netdev user,id=n2,restrict=on -device e1000e,bus=rp2,addr=00.0,netdev=n2 \
		"$@" >"$WORK/$name.qemu" 2>&1
}

# data_disk NAME STEP: the small disk a boot reads its step from (steps.sh, the step, the .deb)
data_disk() {
	local d=$WORK/data-$1
	rm -rf "$d" "$d.ext4"
	mkdir -p "$d"
	cp "$HERE/steps.sh" "$d/"
	echo "$2" >"$d/step"
	[ -z "${DEB:-}" ] || cp "$DEB" "$d/"
	truncate -s 64M "$d.ext4"
	mkfs.ext4 -q -F -L storydata -d "$d" "$d.ext4" || die "mkfs.ext4 -d of the data disk failed"
	echo "$d.ext4"
}

# boot_ok NAME: the step finished (its end marker is in the results)
boot_ok() { grep -q "^# story-step-end $1" "$WORK/$1.results" 2>/dev/null; }
# why a boot did not finish, in one line
boot_failure() {
	local name=$1 st=$2 why
	if [ "$st" -eq 124 ]; then why="hung: no end of its step in ${3} s"
	elif grep -q 'Kernel panic' "$WORK/$name.console" 2>/dev/null; then why="kernel panic: $(grep -m1 'Kernel panic' "$WORK/$name.console")"
	else why="qemu exited $st before the step ended: $(tail -n 2 "$WORK/$name.qemu" | tr '\n' ' ')"
	fi
	echo "$why; console: $(tail -n 3 "$WORK/$name.console" 2>/dev/null | tr -d '\r' | tr '\n' '|' | cut -c1-300)"
}

# Sets IMAGE: the cached, bootable disk image (built, and prepared in a first boot, if not cached).
build_image() {
	local tar key R uuid fs tmp st t
	tar=$(debroot_tar bookworm "$PKGS") || die "no Debian 12 userland: mmdebstrap failed (tests/lib/debroot.sh says why above)"
	key=$({
		basename "$tar"
		echo "$IMAGE_SIZE_MB $GUEST_CMDLINE"
		declare -f customize
		sed -n '/^step_prep()/,/^}/p' "$HERE/steps.sh"
		cat "$HERE/guest/story-run" "$HERE/guest/story.service"
	} | md5sum | cut -c1-10)
	mkdir -p "$CACHE/story" || die "cannot create $CACHE/story"
	IMAGE=$CACHE/story/debian12-$key.raw
	exec 8>"$CACHE/story/debian12-$key.lock"
	flock 8
	if [ -s "$IMAGE" ]; then
		say "image: cached $IMAGE"
		exec 8>&-
		return 0
	fi
	t=$(date +%s)
	R=$WORK/root
	rm -rf "$R" && mkdir -p "$R" && tar -C "$R" -xf "$tar" || die "cannot unpack $tar into $R"
	uuid=$(cat /proc/sys/kernel/random/uuid)
	customize "$R" "$uuid" || die "cannot customize the image's root"
	cp "$R"/boot/vmlinuz-* "$WORK/prep.vmlinuz" && cp "$R"/boot/initrd.img-* "$WORK/prep.initrd" ||
		die "the image has no kernel or initramfs in /boot"
	fs=$WORK/root.ext4
	tmp=${IMAGE%.raw}.tmp$$.raw
	rm -f "$fs" "$tmp"
	truncate -s "$((IMAGE_SIZE_MB - 1))M" "$fs"
	mkfs.ext4 -q -F -L storyroot -U "$uuid" -d "$R" "$fs" >"$WORK/mkfs.log" 2>&1 ||
		die "mkfs.ext4 -d of the root file system failed: $(tail -n 2 "$WORK/mkfs.log" | tr '\n' ' ')"
	rm -rf "$R"
	# one MBR partition from 1 MiB: the gap before it holds GRUB's core.img
	truncate -s "${IMAGE_SIZE_MB}M" "$tmp"
	echo 'start=2048, type=83, bootable' | sfdisk -q "$tmp" >"$WORK/sfdisk.log" 2>&1 ||
		die "sfdisk of the image failed: $(tr '\n' ' ' <"$WORK/sfdisk.log")"
	dd if="$fs" of="$tmp" bs=1M seek=1 conv=notrunc,sparse status=none || die "cannot copy the file system into the image"
	rm -f "$fs"
	say "image: file system built in $(($(date +%s) - t)) s; first boot (-kernel): grub-install, MODULES=dep initramfs"
	t=$(date +%s)
	qemu_boot prep 900 "$tmp" "$(data_disk prep prep)" \
		-kernel "$WORK/prep.vmlinuz" -initrd "$WORK/prep.initrd" \
		-append "root=UUID=$uuid ro $GUEST_CMDLINE"
	st=$?
	grep -E '^(not )?ok - ' "$WORK/prep.results" 2>/dev/null | sed 's/^/# /'
	if ! boot_ok prep; then
		rm -f "$tmp"
		die "image: the first boot did not finish: $(boot_failure prep $st 900)"
	fi
	if grep -q '^not ok - ' "$WORK/prep.results"; then
		rm -f "$tmp"
		die "image: the first boot failed: $(grep -m1 '^not ok - ' "$WORK/prep.results")"
	fi
	mv "$tmp" "$IMAGE" || die "cannot move the image to $IMAGE"
	say "image: prepared in $(($(date +%s) - t)) s: $IMAGE"
	exec 8>&-
}

main() {
	local t boot name timeout st hung="" n=0
	mkdir -p "$WORK" || die "cannot create $WORK"
	rm -f "$WORK"/*.results "$WORK"/*.console
	ensure_packages
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"
	qemu-system-x86_64 -device help 2>&1 | grep -q '"intel-iommu"' || die "qemu-system-x86_64 has no intel-iommu device"

	t=$(date +%s)
	DEB=$("${PCIBIND_STORY_SRC:-$REPO}/tests/pkg/build-deb.sh" "$WORK/deb" 2>"$WORK/deb.log" | tail -n 1)
	[ -n "$DEB" ] && [ -f "$DEB" ] || die "make deb (tests/pkg/build-deb.sh) failed: $(tail -n 3 "$WORK/deb.log" | tr '\n' ' ')"
	say "package: $(basename "$DEB") in $(($(date +%s) - t)) s"

	t=$(date +%s)
	build_image
	say "image: $(($(date +%s) - t)) s"

	qemu-img create -q -f qcow2 -b "$IMAGE" -F raw "$WORK/disk.qcow2" || die "qemu-img create of the overlay failed"
	for boot in $BOOTS; do
		name=${boot%%:*}
		timeout=${PCIBIND_STORY_TIMEOUT:-${boot#*:}}
		n=$((n + 1))
		if [ -n "$hung" ]; then
			echo "not ok - story: boot $n ($name): not run: boot $hung did not finish"
			continue
		fi
		t=$(date +%s)
		qemu_boot "$name" "$timeout" "$WORK/disk.qcow2" "$(data_disk "$name" "$name")"
		st=$?
		grep -E '^(not )?ok - story: ' "$WORK/$name.results" 2>/dev/null
		if boot_ok "$name"; then
			echo "ok - story: boot $n ($name): through GRUB, the step finished ($(($(date +%s) - t)) s)"
		else
			echo "not ok - story: boot $n ($name): $(boot_failure "$name" $st "$timeout")"
			hung="$n ($name)"
		fi
	done
	say "whole tier: $(($(date +%s) - T0)) s; the guest's output: $WORK/*.results, consoles: $WORK/*.console"
	# every boot's verdicts and the boots' own: any "not ok" fails the tier
	! cat "$WORK"/{install,setup,removed,purged}.results 2>/dev/null | grep -q '^not ok - ' && [ -z "$hung" ]
}

main "$@"
