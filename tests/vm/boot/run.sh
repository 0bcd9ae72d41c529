#!/bin/bash
# run.sh - the full-boot test: a Debian userland with systemd and udev, pcibind installed by make install
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/vm/boot/run.sh WORK VMLINUZ KROOT KVER
#   (called by tests/vm/run.sh with its unpacked Debian kernel)
#
# Builds a bookworm userland (mmdebstrap --variant=minbase, cached under
# $PCIBIND_CACHE/rootfs by tests/lib/debroot.sh), installs the
# kernel's needed modules and pcibind (make install DESTDIR=) into it, packs
# it as an uncompressed initramfs and boots it twice with
# rdinit=/lib/systemd/systemd: with a good configuration and with a broken
# one (a second, tiny cpio appended to the first holds the configuration).
# tests/vm/boot/check.sh runs in the guest as a oneshot unit and prints
# "ok - vm: boot-...: ..." lines on the serial console, then powers off.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
# shellcheck source=../../lib/debroot.sh
. "$REPO/tests/lib/debroot.sh"
WORK=$(realpath -m "$1/boot") VMLINUZ=$(realpath "$2") KROOT=$(realpath "$3") KVER=$4
TIMEOUT=${PCIBIND_VM_BOOT_TIMEOUT:-600}
PKGS=systemd,systemd-sysv,udev,kmod,pciutils,libinih1,libudev1,libpci3
MODULES="vfio vfio_pci vfio_iommu_type1 e1000e e1000 snd_hda_intel bochs"

die() {
	echo "not ok - vm: boot: setup: $*"
	exit 1
}
say() { echo "# vm: boot: $*"; }

build_image() {
	local R=$WORK/root ko m rel tar
	tar=$(debroot_tar bookworm "$PKGS") || die "no Debian userland (tests/lib/debroot.sh says why above)"
	rm -rf "$R"
	mkdir -p "$R"
	tar -C "$R" -xf "$tar" || die "cannot unpack $tar"
	# smaller image, faster unpacking in the guest
	rm -rf "$R"/usr/share/{doc,man,locale,info} "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/*
	for m in $MODULES; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" >"$WORK/deps.txt" 2>&1 || die "module $m: $(cat "$WORK/deps.txt")"
		for ko in $(awk '$1 == "insmod" { print $2 }' "$WORK/deps.txt"); do
			rel=${ko#"$KROOT"/}
			[ -e "$R/usr/$rel" ] || install -D -m 0644 "$ko" "$R/usr/$rel"
		done
	done
	cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$R/usr/lib/modules/$KVER/"
	depmod -b "$R/usr" "$KVER" || die "depmod in the image failed"
	make -C "$REPO" --no-print-directory install DESTDIR="$R" PREFIX=/usr SBINDIR=/usr/sbin \
		UDEVDIR=/usr/lib/udev SYSTEMDUNITDIR=/usr/lib/systemd/system >"$WORK/install.log" 2>&1 ||
		die "make install DESTDIR=$R failed: $(tail -n 3 "$WORK/install.log" | tr '\n' ' ')"
	# libraries the binary needs beyond those of the Debian packages in the image
	for lib in $(ldd "$REPO/build/pcibind" | grep -o '/[^ ]*'); do
		[ -e "$R$lib" ] || [ -e "$R/usr$lib" ] || install -D -m 0644 "$(readlink -f "$lib")" "$R/usr$lib" ||
			die "cannot copy $lib"
	done
	rm -f "$R/etc/pcibind/pcibind.conf" # each boot brings its own
	systemctl --root="$R" enable pcibind.service >"$WORK/enable.log" 2>&1 || die "systemctl --root enable pcibind.service: $(tr '\n' ' ' <"$WORK/enable.log")"
	install -D -m 0755 "$HERE/check.sh" "$R/vmtest/check.sh"
	install -m 0644 "$HERE/vmtest-early.service" "$HERE/vmtest-check.service" "$R/etc/systemd/system/"
	ln -sf ../vmtest-early.service "$R/etc/systemd/system/sysinit.target.wants/vmtest-early.service"
	mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
	ln -sf ../vmtest-check.service "$R/etc/systemd/system/multi-user.target.wants/vmtest-check.service"
	# nothing waits for a login on the console; no network to configure
	ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS0.service"
	ln -sf /dev/null "$R/etc/systemd/system/getty@tty1.service"
	ln -sf /dev/null "$R/etc/systemd/system/systemd-networkd.service"
	echo pcibind-boot >"$R/etc/hostname"
	ln -sf /lib/systemd/systemd "$R/init"
	(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$WORK/root.cpio" || die "cannot pack the image"
	for c in good broken; do
		rm -rf "$WORK/conf-$c"
		install -D -m 0644 "$HERE/$c.conf" "$WORK/conf-$c/etc/pcibind/pcibind.conf"
		(cd "$WORK/conf-$c" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$WORK/conf-$c.cpio"
		cat "$WORK/root.cpio" "$WORK/conf-$c.cpio" >"$WORK/initrd-$c"
	done
	rm -f "$WORK/root.cpio"
}

# the guest of tests/vm (two identical e1000e, a GPU with audio, an e1000 behind a bridge),
# plus a first VGA on the root bus that is the boot display, as on a host with an iGPU
boot() {
	local c=$1 t0 rc
	t0=$(date +%s)
	# shellcheck disable=SC2054
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -M q35,accel=tcg,kernel-irqchip=split -m 1536 -smp 1 \
		-device intel-iommu,intremap=on,caching-mode=on \
		-kernel "$VMLINUZ" -initrd "$WORK/initrd-$c" \
		-append "console=ttyS0 intel_iommu=on iommu=pt no_timer_check panic=-1 loglevel=3 log_buf_len=4M rdinit=/lib/systemd/systemd dyndbg=\"file drivers/base/dd.c +p\" systemd.show_status=0 vmtest.conf=$c" \
		-display none -vga none -nic none -no-reboot -monitor none -serial "file:$WORK/$c.log" \
		-device VGA,id=igpu,bus=pcie.0,addr=02.0 \
		-device pcie-root-port,id=rp1,bus=pcie.0,addr=1c.0,chassis=1,multifunction=on \
		-device pcie-root-port,id=rp2,bus=pcie.0,addr=1c.1,chassis=2 \
		-device pcie-root-port,id=rp3,bus=pcie.0,addr=1c.2,chassis=3 \
		-device VGA,id=gpu,bus=rp1,addr=00.0,multifunction=on \
		-device ich9-intel-hda,id=gpuaudio,bus=rp1,addr=00.1 \
		-netdev user,id=n0 -device e1000e,id=nic2,bus=rp2,netdev=n0,mac=52:54:00:12:34:02 \
		-netdev user,id=n1 -device e1000e,id=nic1,bus=pcie.0,addr=06.0,netdev=n1,mac=52:54:00:12:34:01 \
		-device pcie-pci-bridge,id=pbr,bus=rp3 \
		-netdev user,id=n2 -device e1000,id=oldnic,bus=pbr,addr=01.0,netdev=n2,mac=52:54:00:12:34:04 \
		>"$WORK/$c.host" 2>&1
	rc=$?
	echo "$rc $(($(date +%s) - t0))" >"$WORK/$c.rc"
}

verdict() {
	local c=$1 rc dt log=$WORK/$1.clean
	read -r rc dt <"$WORK/$c.rc"
	tr -d '\r' <"$WORK/$c.log" >"$log"
	say "boot-$c: ${dt}s to power-off (qemu exit $rc)"
	grep -aE '^# vm: boot-' "$log"
	grep -aE '^(not )?ok - vm: ' "$log"
	if ! grep -aq "^@@vmtest boot-done $c" "$log"; then
		echo "not ok - vm: boot-$c: no verdict (qemu exit $rc after ${dt}s; log $log)"
		tail -n 40 "$log" | sed 's/^/#   /'
		return 1
	fi
	! grep -aqE '^not ok - vm: ' "$log"
}

main() {
	local t0 fail=0
	[ $# -eq 4 ] || { echo "usage: $0 WORK VMLINUZ KROOT KVER" >&2; exit 2; }
	mkdir -p "$WORK" || die "cannot create $WORK"
	t0=$(date +%s)
	build_image
	say "image built in $(($(date +%s) - t0))s ($(du -m "$WORK/initrd-good" | cut -f1) MiB)"
	boot good &
	boot broken &
	wait
	# TCG on a loaded host: the kernel's early timer check can panic; one retry
	for c in good broken; do
		grep -aq "^@@vmtest boot-done" "$WORK/$c.log" || ! grep -aq "Kernel panic" "$WORK/$c.log" || {
			say "boot-$c: the kernel panicked early ($(grep -a -m1 'Kernel panic' "$WORK/$c.log" | tr -d '\r')); booting again"
			boot "$c"
		}
	done
	verdict good || fail=1
	verdict broken || fail=1
	return $fail
}

main "$@"
