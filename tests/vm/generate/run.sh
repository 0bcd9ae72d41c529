#!/bin/bash
# run.sh - real proof of `pcibind generate --write`: the early claim from the initramfs it makes
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/vm/generate/run.sh WORK VMLINUZ KROOT KVER [initramfs-tools|dracut]
#   (a Debian kernel unpacked as tests/vm/run.sh does; default initramfs-tools)
#
# Boot 1: a bookworm userland with the initramfs tool (tests/lib/debroot.sh, cached), pcibind
# installed by `make install DESTDIR=`, booted as an initramfs with rdinit=/vmtest/gen.sh: the
# guest runs `pcibind generate --write` on its own root "/", which writes the initramfs hook or
# dracut module, modprobe.d and modules-load.d and runs `update-initramfs -u -k all` or `dracut -f
# --regenerate-all`; the new initrd and the kernel arguments generate wants leave the guest through
# a 9p share. Boot 2: that initrd, as the tool made it, with those arguments (dracut:
# rd.driver.pre=vfio-pci). A probe (an init-premount script, or a dracut module's
# initqueue/settled hook, added by this test only) prints which driver each NIC has once udev has
# settled, and whether e1000e ever probed the configured one (dmesg), then powers off.
# The two NICs are identical e1000e (8086:10d3); only 0000:02:00.0 is configured. e1000e is in the
# initramfs (initramfs-tools takes it with MODULES=most; dracut, not host-only, is told to add it
# as for a user whose GPU driver is there): the host driver is there to race.
# shellcheck disable=SC2015,SC2013 # ok() cannot fail; module paths have no blanks
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
# shellcheck source=../../lib/debroot.sh
. "$REPO/tests/lib/debroot.sh"
FLAVOR=${5:-initramfs-tools}
NAME=generate
[ "$FLAVOR" = dracut ] && NAME=generate-dracut
WORK=$(realpath -m "$1/$NAME") VMLINUZ=$(realpath "$2") KROOT=$(realpath "$3") KVER=$4
TIMEOUT=${PCIBIND_VM_BOOT_TIMEOUT:-600}
case $FLAVOR in
initramfs-tools) PKGS=kmod,udev,initramfs-tools,busybox,libinih1,libudev1,libpci3,libexpat1,pciutils,cpio,zstd ;;
dracut) PKGS=kmod,udev,dracut,libinih1,libudev1,libpci3,libexpat1,pciutils,cpio ;;
*) echo "not ok - vm: generate: usage: $0 WORK VMLINUZ KROOT KVER [initramfs-tools|dracut]"; exit 2 ;;
esac
MODULES="vfio vfio_pci vfio_iommu_type1 e1000e 9p 9pnet_virtio virtio_pci"

die() {
	echo "not ok - vm: $NAME: setup: $*"
	exit 1
}
say() { echo "# vm: $NAME: $*"; }
ok() { echo "ok - vm: $NAME: $*"; }
nok() { echo "not ok - vm: $NAME: $*"; FAIL=1; }
FAIL=0

build_image() {
	local R=$WORK/root tar m ko rel lib
	tar=$(debroot_tar bookworm "$PKGS") || die "no Debian userland (tests/lib/debroot.sh says why above)"
	rm -rf "$R"
	mkdir -p "$R"
	tar -C "$R" -xf "$tar" || die "cannot unpack $tar"
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
	# update-initramfs -k all works on the kernels linux-version lists: those with a /boot/vmlinuz-VER
	install -D -m 0644 "$KROOT/boot/config-$KVER" "$R/boot/config-$KVER"
	install -D -m 0644 "$VMLINUZ" "$R/boot/vmlinuz-$KVER"
	# one make at a time in the tree: two boots install at once, and a relink under the other is "Exec format error"
	mkdir -p "$REPO/build" && flock "$REPO/build/.install.lock" make -C "$REPO" --no-print-directory install DESTDIR="$R" PREFIX=/usr SBINDIR=/usr/sbin \
		UDEVDIR=/usr/lib/udev SYSTEMDUNITDIR=/usr/lib/systemd/system >"$WORK/install.log" 2>&1 ||
		die "make install failed: $(tail -n 3 "$WORK/install.log" | tr '\n' ' ')"
	for lib in $(ldd "$REPO/build/pcibind" | grep -o '/[^ ]*'); do
		[ -e "$R$lib" ] || [ -e "$R/usr$lib" ] || install -D -m 0644 "$(readlink -f "$lib")" "$R/usr$lib" ||
			die "cannot copy $lib"
	done
	install -D -m 0644 "$HERE/pcibind.conf" "$R/etc/pcibind/pcibind.conf"
	if [ "$FLAVOR" = initramfs-tools ]; then
		# an initrd for update-initramfs -u to replace, recorded as its own
		: >"$R/boot/initrd.img-$KVER"
		mkdir -p "$R/var/lib/initramfs-tools"
		(cd "$R/boot" && sha1sum "initrd.img-$KVER" | sed "s|initrd.img-$KVER|/boot/initrd.img-$KVER|") \
			>"$R/var/lib/initramfs-tools/$KVER"
		sed -i 's/^COMPRESS=.*/COMPRESS=gzip/' "$R/etc/initramfs-tools/initramfs.conf"
		install -D -m 0755 "$HERE/probe" "$R/etc/initramfs-tools/scripts/init-premount/vmtest-probe"
	else
		# the probe as a dracut module of this test; e1000e in the initramfs (not host-only, dracut
		# adds storage drivers only); not compressed: less work for the guest's emulated CPU
		install -D -m 0755 "$HERE/dracut-probe/module-setup.sh" "$R/usr/lib/dracut/modules.d/99vmtest/module-setup.sh"
		install -D -m 0755 "$HERE/probe" "$R/usr/lib/dracut/modules.d/99vmtest/vmtest-probe.sh"
		printf '%s\n' 'add_dracutmodules+=" vmtest "' 'add_drivers+=" e1000e "' 'compress="cat"' \
			>"$R/etc/dracut.conf.d/90-vmtest.conf"
	fi
	install -D -m 0755 "$HERE/gen.sh" "$R/vmtest/gen.sh"
	(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$WORK/boot1.cpio" || die "cannot pack the image"
}

# two identical e1000e: 0000:02:00.0 behind a root port (configured), 0000:00:06.0 (not)
qemu() { # qemu LOG INITRD APPEND [extra...]
	local log=$1 initrd=$2 append=$3
	shift 3
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -M q35,accel=tcg,kernel-irqchip=split -m 1536 -smp 1 \
		-device intel-iommu,intremap=on,caching-mode=on \
		-kernel "$VMLINUZ" -initrd "$initrd" -append "console=ttyS0 intel_iommu=on no_timer_check panic=-1 $append" \
		-display none -vga none -nic none -no-reboot -monitor none -serial "file:$log" \
		-device pcie-root-port,id=rp1,bus=pcie.0,addr=1c.0,chassis=1,multifunction=on \
		-device pcie-root-port,id=rp2,bus=pcie.0,addr=1c.1,chassis=2 \
		-netdev user,id=n0 -device e1000e,bus=rp2,netdev=n0,mac=52:54:00:12:34:02 \
		-netdev user,id=n1 -device e1000e,bus=pcie.0,addr=06.0,netdev=n1,mac=52:54:00:12:34:01 \
		"$@" >"$log.host" 2>&1
}

main() {
	local t0 log
	[ $# -eq 4 ] || [ $# -eq 5 ] || { echo "not ok - vm: $NAME: usage: $0 WORK VMLINUZ KROOT KVER [initramfs-tools|dracut]"; exit 2; }
	mkdir -p "$WORK" || die "cannot create $WORK"
	t0=$(date +%s)
	build_image
	say "image built in $(($(date +%s) - t0))s"
	rm -rf "$WORK/out"
	mkdir -p "$WORK/out"
	t0=$(date +%s)
	qemu "$WORK/boot1.log" "$WORK/boot1.cpio" "rdinit=/vmtest/gen.sh" \
		-fsdev "local,id=out,path=$WORK/out,security_model=none" -device virtio-9p-pci,fsdev=out,mount_tag=out,bus=rp1
	tr -d '\r' <"$WORK/boot1.log" >"$WORK/boot1.clean"
	say "boot 1 (generate --write and its initramfs refresh): $(($(date +%s) - t0))s"
	grep -aE '^(# vm|(not )?ok - vm)' "$WORK/boot1.clean" | sed "s/vm: generate: /vm: $NAME: /"
	if [ ! -s "$WORK/out/initrd.img" ]; then
		nok "boot 1 produced no initrd (log $WORK/boot1.clean)"
		tail -n 40 "$WORK/boot1.clean" | sed 's/^/#   /'
		return 1
	fi
	t0=$(date +%s)
	# the arguments generate wants for the kernel (intel_iommu=on is there already; dracut: rd.driver.pre=)
	qemu "$WORK/boot2.log" "$WORK/out/initrd.img" "quiet root=/dev/vmtest-none $(cat "$WORK/out/args" 2>/dev/null)"
	tr -d '\r' <"$WORK/boot2.log" >"$WORK/boot2.clean"
	log=$WORK/boot2.clean
	say "boot 2 (from that initrd): $(($(date +%s) - t0))s"
	if grep -aq '^@@probe done' "$log"; then ok "boot 2 reached the probe in the initramfs"; else
		nok "boot 2 never reached the probe (log $log)"
		tail -n 40 "$log" | sed 's/^/#   /'
		return 1
	fi
	grep -aq '^@@drv 0000:02:00.0 vfio-pci$' "$log" && ok "configured e1000e 0000:02:00.0 is on vfio-pci in the initramfs" ||
		nok "configured 0000:02:00.0: $(grep -a '^@@drv 0000:02:00.0' "$log")"
	grep -aq '^@@drv 0000:00:06.0 e1000e$' "$log" && ok "identical unconfigured 0000:00:06.0 keeps e1000e" ||
		nok "unconfigured 0000:00:06.0: $(grep -a '^@@drv 0000:00:06.0' "$log")"
	grep -aq '^@@e1000e-probed 0000:02:00.0 no$' "$log" && ok "e1000e never probed 0000:02:00.0 (dmesg)" ||
		nok "e1000e probed 0000:02:00.0: $(grep -a '^@@e1000e-probed' "$log")"
	grep -aq '^@@hook pcibind yes$' "$log" && ok "the initrd holds pcibind, its config and the udev rule" ||
		nok "initrd contents: $(grep -a '^@@hook' "$log")"
	return $FAIL
}

main "$@"
