#!/bin/bash
# run.sh - the real-kernel tier: pcibind against Debian's own kernel in QEMU guests
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/vm/run.sh PCIBIND_BINARY [BOOT...]
#
# Fetches Debian 12's kernel package (download and unpack, never install),
# builds one busybox initramfs with the needed modules, pcibind and its
# libraries, the VFIO holder and the scenario scripts, and boots it several
# times under qemu-system-x86_64 (q35, TCG, emulated Intel IOMMU), two boots
# at a time.  Each boot runs a list of scenarios; each check in the guest
# prints one "ok - vm: ..." or "not ok - vm: ..." line on the serial console,
# which this script passes on.  Exit status 1 if any check failed, a boot
# failed or hung, or something needed could not be had: this tier never skips.
#
# Environment:
#   PCIBIND_CACHE       downloads, kept between runs (default ~/.cache/pcibind-tests)
#   PCIBIND_VM_WORK     scratch directory (default build/vm in the repository)
#   PCIBIND_VM_JOBS     boots run at once (default: number of CPUs, at most 2)
#   PCIBIND_KERNEL_PKG  a linux-image package to use instead of apt's pick
#   PCIBIND_VM_CYCLES   bind/restore cycles in the cycles boot (default 200)
#   PCIBIND_VM_RUN      scenarios to run instead of each boot's own list
#   PCIBIND_VM_TIMEOUT  seconds before a boot counts as hung (default: per boot, 300-900)
#   PCIBIND_VM_SMP      vCPUs per guest (default 1: two single-CPU guests beat two dual-CPU ones on 2 cores)

set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${PCIBIND_CACHE:-$HOME/.cache/pcibind-tests}
WORK=${PCIBIND_VM_WORK:-$REPO/build/vm}
CYCLES=${PCIBIND_VM_CYCLES:-200}
JOBS=${PCIBIND_VM_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$JOBS" -gt 2 ] 2>/dev/null && JOBS=2
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1

# every boot, in the order their results are printed; BOOT@SUITE runs BOOT on the newest kernel
# of that Debian suite (kernels.sh) instead of Debian 12's (facts@trixie is not in the list: 6.12.117
# showed the same facts as 7.2.13, and the tier's time is bounded; run it by name); the long ones
# early, two boots run at a time
ALL_BOOTS="host boot@unstable cycles boot@trixie hotplug noiommu facts sriov boot generate generate-dracut
 host@unstable host@trixie facts@unstable moved moved@trixie moved@unstable variants variants@trixie variants@unstable"

# modules that go into the initramfs (with their dependencies)
MODULES="vfio vfio_pci vfio_iommu_type1 e1000e e1000 snd_hda_intel bochs ahci i2c_i801 pci_stub nvme"
# host drivers loaded at boot, as udev would on a real machine (not vfio: the
# first scenario proves that pcibind loads it)
HOST_MODULES="e1000e,e1000,snd_hda_intel,bochs,ahci,i2c_i801,nvme"

PACKAGES="qemu-system-x86 busybox-static cpio kmod socat gcc libc6-dev linux-libc-dev pci.ids pciutils curl xz-utils"

T_START=$(date +%s.%N)

# shellcheck source=kernels.sh
. "$HERE/kernels.sh"
# shellcheck source=../lib/hostpkgs.sh
. "$HERE/../lib/hostpkgs.sh"

say() { echo "# vm: $*"; }
die() {
	echo "not ok - vm: setup: $*"
	exit 1
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
	echo "usage: $0 PCIBIND_BINARY [BOOT...]   (boots: $ALL_BOOTS)" >&2
	exit 2
}

# --- what the machine needs ---------------------------------------------------

ensure_packages() {
	local missing why
	# shellcheck disable=SC2086 # a list of names
	missing=$(hostpkgs_missing $PACKAGES)
	[ -z "$missing" ] && return 0
	say "installing $missing"
	# shellcheck disable=SC2086
	why=$(hostpkgs_install "$WORK/apt.log" $PACKAGES) || die "$why"
}

check_qemu() {
	local out
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"
	out=$(qemu-system-x86_64 -machine help 2>&1) || die "qemu-system-x86_64 does not run: $out"
	grep -q '^q35 ' <<<"$out" || die "qemu-system-x86_64 has no q35 machine"
	qemu-system-x86_64 -device help 2>&1 | grep -q '"intel-iommu"' || die "qemu-system-x86_64 has no intel-iommu device"
}

# --- the kernel ---------------------------------------------------------------

# The package apt would install for linux-image-amd64 on Debian 12 (a 6.1
# kernel); the newest 6.1 image apt knows of if the metapackage says nothing.
kernel_pkg() {
	local p
	if [ -n "${PCIBIND_KERNEL_PKG:-}" ]; then
		echo "$PCIBIND_KERNEL_PKG"
		return
	fi
	p=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1)
	[ -n "$p" ] || p=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		awk '{ print $1 }' | sort -V | tail -n 1)
	echo "$p"
}

# Sets KDEB to a cached .deb of the kernel, downloading it if needed.
fetch_kernel() {
	local pkg ver tmp
	mkdir -p "$CACHE/debs" || die "cannot create $CACHE/debs"
	pkg=$(kernel_pkg)
	ver=
	[ -n "$pkg" ] && ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[ "$ver" = "(none)" ] && ver=
	if [ -n "$pkg" ] && [ -n "$ver" ]; then
		KDEB="$CACHE/debs/${pkg}_${ver}_amd64.deb"
		[ -s "$KDEB" ] && return 0
		say "downloading $pkg $ver into $CACHE/debs"
		tmp=$(mktemp -d "$CACHE/debs/.dl.XXXXXX") || die "cannot write to $CACHE/debs"
		if (cd "$tmp" && apt-get download "$pkg=$ver") >"$WORK/download.log" 2>&1 &&
			mv "$tmp"/"${pkg}"_*.deb "$KDEB" 2>/dev/null; then
			rm -rf "$tmp"
			return 0
		fi
		rm -rf "$tmp"
		say "download of $pkg $ver failed: $(tail -n 2 "$WORK/download.log" | tr '\n' ' ')"
	fi
	# no apt answer, or no network: the newest kernel already cached
	KDEB=$(ls "$CACHE"/debs/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -n 1)
	[ -n "$KDEB" ] || die "cannot fetch a Debian 12 kernel: apt offers '${pkg:-nothing}' '${ver:-}', nothing cached in $CACHE/debs"
	say "using the cached $(basename "$KDEB")"
}

# Unpacks the kernel once per work directory; sets KROOT, KVER, VMLINUZ.
unpack_kernel() {
	local stamp
	KVER=$(dpkg-deb -f "$KDEB" Package) || die "$KDEB is not a Debian package"
	KVER=${KVER#linux-image-}
	KROOT="$WORK/kernel-$(basename "$KDEB" .deb)"
	stamp="$KROOT/.unpacked"
	if [ ! -e "$stamp" ]; then
		rm -rf "$WORK"/kernel-linux-image-*
		dpkg -x "$KDEB" "$KROOT" || die "dpkg -x $KDEB failed"
		depmod -b "$KROOT" "$KVER" || die "depmod -b $KROOT $KVER failed"
		touch "$stamp"
	fi
	VMLINUZ="$KROOT/boot/vmlinuz-$KVER"
	[ -f "$VMLINUZ" ] || die "no $VMLINUZ in $KDEB"
}

# --- the initramfs ------------------------------------------------------------

# copy_bin FILE DEST-IN-ROOT: a dynamically linked program and what ldd says it needs
copy_bin() {
	local lib
	install -D -m 0755 "$1" "$R$2" || die "cannot copy $1"
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$R$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$R$lib" || die "cannot copy $lib"
	done
}

# copy_module KO DEST: one module, as a plain .ko (from 6.12 on Debian's are .ko.xz, which busybox's
# insmod cannot read); the depmod that follows finds it under its plain name
copy_module() {
	local dest=${2%.xz}
	[ -e "$dest" ] && return 0
	mkdir -p "$(dirname "$dest")" || die "cannot create $(dirname "$dest")"
	case $1 in
	*.xz) xz -dc "$1" >"$dest" || die "cannot decompress $1" ;;
	*) install -m 0644 "$1" "$dest" || die "cannot copy $1" ;;
	esac
}

# build_initramfs OUT: the busybox guest for the kernel in KROOT/KVER
build_initramfs() {
	local a m ko
	R="${1%.gz}-root"
	rm -rf "$R"
	mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/share/misc,etc,proc,sys,dev,run,tmp,root,vmtest/scenarios}

	# the real modprobe, as Debian ships it (kmod); busybox for the rest
	copy_bin "$(command -v kmod)" /bin/kmod
	for a in modprobe insmod rmmod lsmod depmod modinfo; do
		ln -s ../bin/kmod "$R/sbin/$a"
	done
	install -m 0755 /bin/busybox "$R/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$R/bin/$a" ] || [ -e "$R/sbin/$a" ] || ln -s busybox "$R/bin/$a"
	done

	if [ -x "$BIN" ]; then
		copy_bin "$BIN" /usr/sbin/pcibind
	fi
	# lspci, an oracle of what the config space holds (the moved scenario reads serial numbers with it)
	copy_bin "$(command -v lspci)" /usr/bin/lspci
	# the unit, where `make install` puts it: setup enables it (a link in /etc), and refuses without it
	mkdir -p "$R/usr/lib/systemd/system"
	sed 's|@SBINDIR@|/usr/sbin|g' "$REPO/systemd-units/pcibind.service.in" >"$R/usr/lib/systemd/system/pcibind.service" ||
		die "cannot make pcibind.service"
	cp /usr/share/misc/pci.ids "$R/usr/share/misc/pci.ids" || die "no /usr/share/misc/pci.ids"

	gcc -static -O2 -Wall -Wextra -Werror -o "$R/usr/bin/vfio-hold" "$HERE/vfio-hold.c" ||
		die "cannot build tests/vm/vfio-hold.c"
	gcc -static -O2 -Wall -Wextra -Werror -o "$R/usr/bin/sysw" "$HERE/sysw.c" ||
		die "cannot build tests/vm/sysw.c"

	for m in $MODULES; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" >"$WORK/deps.txt" 2>&1 ||
			die "module $m: $(cat "$WORK/deps.txt")"
		for ko in $(awk '$1 == "insmod" { print $2 }' "$WORK/deps.txt"); do
			copy_module "$ko" "$R/${ko#"$KROOT"/}"
		done
	done
	cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$KVER/"
	depmod -b "$R" "$KVER" || die "depmod in the initramfs failed"

	# the kernel's config, where Debian installs it: the cdev scenario's oracle, and check reads it
	for a in "$KROOT/boot/config-$KVER" "$KROOT/lib/modules/$KVER/config"; do
		[ -f "$a" ] && install -D -m 0644 "$a" "$R/boot/config-$KVER" && break
	done
	install -m 0755 "$HERE/guest/init" "$R/init"
	install -m 0644 "$HERE/guest/lib.sh" "$R/vmtest/lib.sh"
	install -m 0644 "$HERE"/scenarios/*.sh "$R/vmtest/scenarios/"
	echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
	echo "root:x:0:" >"$R/etc/group"

	(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$1" ||
		die "cannot pack the initramfs"
}

# --- the guests ---------------------------------------------------------------

# A machine that looks like a passthrough host:
#   01:00.0 VGA (bochs) + 01:00.1 HDA audio   one slot behind root port 1c.0, one group
#   02:00.0 e1000e behind root port 1c.1      twin of 00:06.0 (same ids)
#   00:06.0 e1000e on the root complex
#   03:00.0 PCIe-to-PCI bridge behind 1c.2, 04:01.0 e1000 behind it (a group with a bridge)
#   00:1f.0/.2/.3 ICH9 LPC, AHCI, SMBus      one group of several functions
TOPOLOGY="
 -device pcie-root-port,id=rp1,bus=pcie.0,addr=1c.0,chassis=1,multifunction=on
 -device pcie-root-port,id=rp2,bus=pcie.0,addr=1c.1,chassis=2
 -device pcie-root-port,id=rp3,bus=pcie.0,addr=1c.2,chassis=3
 -device VGA,id=gpu,bus=rp1,addr=00.0,multifunction=on
 -device ich9-intel-hda,id=gpuaudio,bus=rp1,addr=00.1
 -netdev user,id=n0 -device e1000e,id=nic2,bus=rp2,netdev=n0,mac=52:54:00:12:34:02
 -netdev user,id=n1 -device e1000e,id=nic1,bus=pcie.0,addr=06.0,netdev=n1,mac=52:54:00:12:34:01
 -device pcie-pci-bridge,id=pbr,bus=rp3
 -netdev user,id=n2 -device e1000,id=oldnic,bus=pbr,addr=01.0,netdev=n2,mac=52:54:00:12:34:04
"

# The sriov boot's SR-IOV device: QEMU 7.2 has no igb (8.0 and later do); its nvme does SR-IOV
# when linked to an nvme-subsys, with flexible queue and interrupt resources for the VFs
# (docs/system/devices/nvme.rst): PF 05:00.0 (1b36:0010), VFs 05:00.1-05:00.4 (offset 1, stride 1)
SRIOV_DEVICES="
 -device pcie-root-port,id=rp4,bus=pcie.0,addr=1c.3,chassis=4
 -device nvme-subsys,id=nvsub0
 -device nvme,id=nvm,serial=pcibind-sriov,subsys=nvsub0,bus=rp4,sriov_max_vfs=4,sriov_vq_flexible=8,sriov_vi_flexible=4
"

# The moved boot (scenarios/moved.sh): one machine booted three times, the cards moved between boot 1
# and boot 2 (a reboot with the hardware changed), the guest's /etc and /var carried over.  Identical
# e1000e NICs (8086:10d3, the same subsystem ids) told apart only by their MAC, from which QEMU's
# e1000e makes its PCIe Device Serial Number (hw/net/e1000e.c, e1000e_gen_dsn(): MAC
# 52:54:00:12:34:0a gives 52-54-00-ff-ff-12-34-0a); five root ports, bus N behind port 1c.(N-1), in
# physical slot N: with native PCIe hotplug (pciehp, not QEMU 7.2's default ACPI hotplug, whose slots
# are all named 0, 0-2, 0-3, ...) sysfs names bus/pci/slots/N by the port's physical slot number.
#   boot 1:     A 01:00.0, C 02:00.0, D 03:00.0
#   boots 2, 3: B 01:00.0 (another card where A was), E 03:00.0 (another where D was),
#               A 04:00.0, C 05:00.0; D is gone, port 1c.1 empty
MOVED_PORTS="
 -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
 -device pcie-root-port,id=rp1,bus=pcie.0,addr=1c.0,chassis=1,slot=1,multifunction=on
 -device pcie-root-port,id=rp2,bus=pcie.0,addr=1c.1,chassis=2,slot=2
 -device pcie-root-port,id=rp3,bus=pcie.0,addr=1c.2,chassis=3,slot=3
 -device pcie-root-port,id=rp4,bus=pcie.0,addr=1c.3,chassis=4,slot=4
 -device pcie-root-port,id=rp5,bus=pcie.0,addr=1c.4,chassis=5,slot=5
"
# moved_card LETTER PORT: an e1000e with the MAC (and so the serial number) of card LETTER
moved_card() { echo " -device e1000e,id=card$1,bus=$2,mac=52:54:00:12:34:0$1"; }

# phase_devices BOOT PHASE: the devices of one boot of a multi-boot BOOT
phase_devices() {
	case ${1%@*}:$2 in
	moved:1) echo "$MOVED_PORTS $(moved_card a rp1) $(moved_card c rp2) $(moved_card d rp3)" ;;
	moved:*) echo "$MOVED_PORTS $(moved_card b rp1) $(moved_card e rp3) $(moved_card a rp4) $(moved_card c rp5)" ;;
	esac
}

# boot_def NAME: sets B_RUN (scenarios), B_IOMMU, B_TIMEOUT (s, per boot of the guest), B_TOPOLOGY,
# B_DEVICES (beyond it), B_PHASES (times the guest boots, its /etc and /var kept from one to the next)
boot_def() {
	B_IOMMU=1
	B_DEVICES=
	B_TOPOLOGY=$TOPOLOGY
	B_PHASES=1
	case $1 in
	*@trixie | *@unstable) boot_def "${1%@*}" || return 1 ;;
	host)
		B_RUN=modload,status,gpu,hook,hookmap,hookgroup,twins,detach,refusal,ich9,bridge,holder,cdev
		B_TIMEOUT=600 ;;
	cycles)
		B_RUN=cycles
		B_TIMEOUT=900 ;;
	hotplug)
		B_RUN=hotplug
		B_TIMEOUT=300 ;;
	noiommu)
		B_RUN=noiommu
		B_IOMMU=0
		B_TIMEOUT=300 ;;
	facts)
		B_RUN=facts,facts-hold
		B_TIMEOUT=300 ;;
	moved) # three boots, the devices moved between the first and the second (phase_devices)
		B_RUN=moved
		B_TOPOLOGY=
		B_PHASES=3
		B_TIMEOUT=240 ;;
	sriov)
		B_RUN=sriov-facts,sriov
		B_DEVICES=$SRIOV_DEVICES
		B_TIMEOUT=450 ;;
	boot) # tests/vm/boot: full Debian boots with systemd and udev, its own image and checks
		B_RUN=
		B_TIMEOUT=1500 ;;
	generate) # tests/vm/generate: generate --write, update-initramfs, then a boot from that initrd
		B_RUN=
		B_TIMEOUT=1500 ;;
	generate-dracut) # the same with dracut
		B_RUN=
		B_TIMEOUT=1500 ;;
	variants) # tests/vm/variants.sh: driver = auto against the kernel's modules.alias; no guest
		B_RUN=
		B_TIMEOUT=60 ;;
	*) return 1 ;;
	esac
	# for working on one scenario: PCIBIND_VM_RUN=scen1,scen2 tests/vm/run.sh BIN BOOT
	B_RUN=${PCIBIND_VM_RUN:-$B_RUN}
	B_TIMEOUT=${PCIBIND_VM_TIMEOUT:-$B_TIMEOUT}
}

# qemu_cmd NAME [PHASE]: the command line of one boot (of boot PHASE of a multi-boot NAME), in the
# array QEMU; its files are $WORK/STEM.* (STEM: NAME, or NAME.PHASE)
qemu_cmd() {
	local stem=$1 initrd=$INITRD
	# no_timer_check: under TCG on a busy host the IO-APIC timer test can miss its window, and with
	# interrupt remapping the kernel then panics ("timer doesn't work through Interrupt-remapped IO-APIC")
	local append="console=ttyS0 panic=-1 loglevel=1 no_timer_check vmtest.boot=$1 vmtest.run=$B_RUN"
	append+=" vmtest.modules=$HOST_MODULES vmtest.cycles=$CYCLES"
	if [ -n "${2:-}" ]; then
		stem=$1.$2
		append+=" vmtest.phase=$2"
		# every boot but the last hands its /etc and /var on (guest/init); the next boots with them
		[ "$2" -lt "$B_PHASES" ] && append+=" vmtest.persist=1"
		[ "$2" -gt 1 ] && initrd=$WORK/$stem.initrd
		B_DEVICES=$(phase_devices "$1" "$2")
	fi
	# shellcheck disable=SC2054 # commas belong to QEMU options
	QEMU=(qemu-system-x86_64 -M q35,accel=tcg,kernel-irqchip=split -m 1024 -smp "${PCIBIND_VM_SMP:-1}")
	if [ "$B_IOMMU" = 1 ]; then
		# shellcheck disable=SC2054
		QEMU+=(-device intel-iommu,intremap=on,caching-mode=on)
		append="intel_iommu=on iommu=pt $append"
	fi
	QEMU+=(-kernel "$VMLINUZ" -initrd "$initrd" -append "$append")
	QEMU+=(-display none -vga none -nic none -no-reboot -monitor none)
	QEMU+=(-serial "file:$WORK/$stem.log" -qmp "unix:$WORK/$stem.qmp,server=on,wait=off")
	# shellcheck disable=SC2206
	QEMU+=($B_TOPOLOGY $B_DEVICES)
}

# The guest asks the host for QEMU monitor commands by printing
# "@@qmp {json}@@" on its console; this runs them, in order, while QEMU lives.
qmp_bridge() {
	local name=$1 pid=$2 done=0 i json reply
	local log="$WORK/$name.log" sock="$WORK/$name.qmp"
	local -a cmds
	while kill -0 "$pid" 2>/dev/null; do
		mapfile -t cmds < <(tr -d '\r' <"$log" 2>/dev/null | grep -ao '@@qmp .*@@')
		for ((i = done; i < ${#cmds[@]}; i++)); do
			json=${cmds[$i]#@@qmp }
			json=${json%@@}
			reply=$(printf '%s\n%s\n' '{"execute":"qmp_capabilities"}' "$json" |
				socat -t 2 - "UNIX-CONNECT:$sock" 2>&1 | tr -d '\r' | tail -n +3 | tr '\n' ' ')
			echo "# vm: $name: qmp $json -> ${reply:0:300}" >>"$WORK/$name.host"
		done
		done=${#cmds[@]}
		sleep 0.2
	done
}

# run_guest NAME [PHASE]: one boot of the guest (boot PHASE of a multi-boot NAME), start to
# power-off; its verdicts are appended to NAME.out
run_guest() {
	local name=$1 stem=$1 t0 t1 rc bridge qpid
	[ -n "${2:-}" ] && stem=$1.$2
	qemu_cmd "$name" ${2:+"$2"}
	rm -f "$WORK/$stem".{log,host,qmp}
	: >"$WORK/$stem.log"
	printf '%q ' "${QEMU[@]}" >"$WORK/$stem.cmd"
	t0=$(date +%s.%N)
	timeout -k 10 "$B_TIMEOUT" "${QEMU[@]}" >>"$WORK/$stem.host" 2>&1 &
	qpid=$!
	qmp_bridge "$stem" "$qpid" &
	bridge=$!
	wait "$qpid"
	rc=$?
	t1=$(date +%s.%N)
	wait "$bridge" 2>/dev/null
	verdict "$name" "$rc" "$(secs "$t0" "$t1")" "$stem" >>"$WORK/$name.out"
}

# carry_state NAME FROM TO: what boot FROM of NAME left of its /etc and /var (guest/init prints it
# as a base64 tar between @@vmtest state-begin/end@@ on the console) unpacked into $WORK/NAME.state
# (the harness's copy of the machine's disk, to look at), then packed as a cpio appended to the
# initramfs of boot TO: the kernel unpacks it over the first, so boot TO starts with those files
carry_state() {
	local name=$1 st="$WORK/$1.state" n
	rm -rf "$st" "$WORK/$1.$3.initrd"
	mkdir -p "$st" || return 1
	if ! sed -n '/^@@vmtest state-begin@@$/,/^@@vmtest state-end@@$/p' "$WORK/$1.$2.clean" | grep -av '^@@' |
		base64 -d 2>/dev/null | tar -xzf - -C "$st" 2>"$WORK/$1.state.err"; then
		echo "not ok - vm: $name: boot $2 handed on no state for boot $3 ($(head -c 200 "$WORK/$1.state.err" | tr '\n' ' '))"
		return 1
	fi
	n=$(find "$st" -type f | wc -l)
	if ! (cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$WORK/$1.state.cpio.gz" ||
		! cat "$INITRD" "$WORK/$1.state.cpio.gz" >"$WORK/$1.$3.initrd"; then
		echo "not ok - vm: $name: cannot pack boot $2's state for boot $3"
		return 1
	fi
	echo "ok - vm: $name: boot $2's /etc and /var ($n files) carried into boot $3"
}

# run_boot NAME: one guest, start to power-off (each of its boots); verdicts end up in NAME.out
run_boot() {
	local name=$1 p
	kernel_of "$name" || return
	if [ "${name%@*}" = variants ]; then
		timeout 60 "$HERE/variants.sh" "$BIN" "$KROOT" "$KVER" >"$WORK/$name.out" 2>&1 ||
			grep -q '^not ok' "$WORK/$name.out" || echo "not ok - vm: variants: tests/vm/variants.sh failed" >>"$WORK/$name.out"
		return
	fi
	if [ "$name" != "${name%@*}" ] && [ "${name%@*}" = boot ]; then
		# the full boot on a newer kernel: Debian 12's userland, the good configuration only (the
		# broken one proves nothing about the kernel); its own work directory
		PCIBIND_VM_BOOT_CONFS=good PCIBIND_VM_BOOT_TIMEOUT=${PCIBIND_VM_TIMEOUT:-} \
			"$HERE/boot/run.sh" "$WORK/${name#*@}" "$VMLINUZ" "$KROOT" "$KVER" >"$WORK/$name.out" 2>&1
		return
	fi
	if [ "$name" = boot ] || [ "$name" = generate ]; then
		PCIBIND_VM_BOOT_TIMEOUT=${PCIBIND_VM_TIMEOUT:-} "$HERE/$name/run.sh" "$WORK" "$VMLINUZ" "$KROOT" "$KVER" >"$WORK/$name.out" 2>&1
		return
	fi
	if [ "$name" = generate-dracut ]; then
		PCIBIND_VM_BOOT_TIMEOUT=${PCIBIND_VM_TIMEOUT:-} "$HERE/generate/run.sh" "$WORK" "$VMLINUZ" "$KROOT" "$KVER" dracut >"$WORK/$name.out" 2>&1
		return
	fi
	boot_def "$name"
	: >"$WORK/$name.out"
	if [ "$B_PHASES" = 1 ]; then
		run_guest "$name"
		return
	fi
	for ((p = 1; p <= B_PHASES; p++)); do
		if [ $p -gt 1 ] && ! carry_state "$name" $((p - 1)) $p >>"$WORK/$name.out"; then
			echo "not ok - vm: $name: boots $p to $B_PHASES not run: no state from boot $((p - 1))" >>"$WORK/$name.out"
			return
		fi
		run_guest "$name" $p
	done
}

# verdict NAME QEMU-STATUS SECONDS [STEM]: the boot's check lines, and a "not ok"
# for every way a boot can fail to give an answer (STEM: NAME.PHASE for one boot of a multi-boot NAME)
verdict() {
	local name=$1 rc=$2 dt=$3 stem=${4:-$1} s started ran bad=0
	local log="$WORK/$stem.clean" what=$1
	[ "$stem" = "$name" ] || what="$name boot ${stem##*.}"
	tr -d '\r' <"$WORK/$stem.log" >"$log"
	boot_def "$name"
	say "boot $what: ${dt}s (qemu exit $rc)"
	[ -s "$WORK/$stem.host" ] && sed 's/^\([^#]\)/# vm: '"$what"': qemu: \1/' "$WORK/$stem.host"
	grep -aE '^(not )?ok - vm: ' "$log"
	grep -aqE '^not ok - vm: ' "$log" && bad=1
	for s in ${B_RUN//,/ }; do
		started=$(grep -ac "^@@vmtest scenario-start $s " "$log")
		ran=$(grep -ac "^@@vmtest scenario-done $s " "$log")
		if [ "$started" = 0 ]; then
			echo "not ok - vm: $what: scenario $s never started"
			bad=1
		elif [ "$ran" = 0 ]; then
			echo "not ok - vm: $what: scenario $s did not finish (hung or crashed; qemu exit $rc after ${dt}s)"
			bad=1
		elif ! sed -n "/^@@vmtest scenario-start $s /,/^@@vmtest scenario-done $s /p" "$log" |
			grep -aE '^(not )?ok - vm: ' >/dev/null; then
			echo "not ok - vm: $what: scenario $s printed no verdict"
			bad=1
		fi
	done
	if ! grep -aq "^@@vmtest boot-done $name " "$log"; then
		if [ "$rc" = 124 ]; then
			echo "not ok - vm: $what: boot timed out after ${B_TIMEOUT}s without a verdict"
		else
			echo "not ok - vm: $what: boot gave no verdict (qemu exit $rc after ${dt}s)"
		fi
		bad=1
	elif [ "$rc" != 0 ]; then
		echo "not ok - vm: $what: qemu exited with status $rc"
		bad=1
	fi
	if [ $bad = 1 ]; then
		say "boot $what: the guest said (full log: $log):"
		sed '/^@@vmtest state-begin@@$/,/^@@vmtest state-end@@$/d' "$log" | grep -avE '^(not )?ok - vm: ' |
			tail -n 60 | sed 's/^/#   /'
	fi
}

# --- the kernels --------------------------------------------------------------

# Each kernel the boots need, fetched, unpacked, with its own initramfs: K_ROOT[S], K_VER[S],
# K_LINUZ[S], K_INITRD[S], K_TAG[S] ("" for Debian 12's, "[6.12]" for a newer one), or K_FAIL[S]
declare -A K_ROOT K_VER K_LINUZ K_INITRD K_TAG K_FAIL

prepare_debian12() {
	fetch_kernel
	unpack_kernel
	build_initramfs "$WORK/initrd.gz"
	K_ROOT[12]=$KROOT K_VER[12]=$KVER K_LINUZ[12]=$VMLINUZ K_INITRD[12]=$WORK/initrd.gz K_TAG[12]=
	say "kernel $KVER, initramfs $(du -k "$WORK/initrd.gz" | cut -f1) KiB"
}

# prepare_suite SUITE: a newer kernel; a kernel that cannot be had fails its boots, not the others
prepare_suite() {
	local s=$1 t0 dir d
	t0=$(date +%s.%N)
	K_TAG[$s]="[$s]"
	if ! fetch_suite_kernel "$s"; then
		K_FAIL[$s]="cannot fetch $s's kernel and none is cached in $CACHE/kernels/$s"
		return
	fi
	dir="$WORK/kernels/$s-$(basename "$(head -n 1 <<<"$KDEBS")" .deb)"
	for d in "$WORK/kernels/$s"-*; do
		[ "$d" = "$dir" ] || rm -rf "$d"
	done
	# shellcheck disable=SC2086 # a list of paths without blanks
	if ! unpack_debs "$dir" $KDEBS; then
		K_FAIL[$s]="cannot unpack $(tr '\n' ' ' <<<"$KDEBS")"
		return
	fi
	build_initramfs "$WORK/initrd-$s.gz"
	K_ROOT[$s]=$KROOT K_VER[$s]=$KVER K_LINUZ[$s]=$VMLINUZ K_INITRD[$s]=$WORK/initrd-$s.gz
	K_TAG[$s]="[$(sed 's/^\([0-9]*\.[0-9]*\).*/\1/' <<<"$KVER")]"
	say "$s: kernel $KVER, initramfs $(du -k "$WORK/initrd-$s.gz" | cut -f1) KiB, ready in $(secs "$t0" "$(date +%s.%N)")s"
}

# kernel_of BOOT: sets KROOT, KVER, VMLINUZ, INITRD for it; or writes its not ok
kernel_of() {
	local s=12
	[ "$1" = "${1%@*}" ] || s=${1#*@}
	if [ -n "${K_FAIL[$s]:-}" ] || [ -z "${K_VER[$s]:-}" ]; then
		echo "not ok - vm: $1: ${K_FAIL[$s]:-no kernel}" >"$WORK/$1.out"
		return 1
	fi
	KROOT=${K_ROOT[$s]} KVER=${K_VER[$s]} VMLINUZ=${K_LINUZ[$s]} INITRD=${K_INITRD[$s]}
}

# tagged BOOT: its lines, "vm[6.12]:" instead of "vm:" for a newer kernel's
tagged() {
	local s=12
	[ "$1" = "${1%@*}" ] || s=${1#*@}
	sed "s/^\(\(not \)\{0,1\}ok - vm\|# vm\):/\1${K_TAG[$s]:-}:/" "$WORK/$1.out"
}

main() {
	local b boots running=0 fail=0 s
	[ $# -ge 1 ] || usage
	BIN=$1
	shift
	boots=${*:-$ALL_BOOTS}
	for b in $boots; do
		boot_def "$b" || usage
	done
	mkdir -p "$WORK" || die "cannot create $WORK"
	case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac

	ensure_packages
	check_qemu
	grep -qE '(^| )[a-z-]+( |$)' <<<"$boots" && prepare_debian12
	for s in trixie unstable; do
		grep -q "@$s" <<<"$boots" && prepare_suite "$s"
	done
	say "boots: $boots, $JOBS at a time"
	if [ ! -x "$BIN" ]; then
		echo "not ok - vm: setup: pcibind binary $BIN not found; scenarios that need it will fail"
		fail=1
	fi

	for b in $boots; do
		if [ $running -ge "$JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_boot "$b" &
		running=$((running + 1))
	done
	wait

	for b in $boots; do
		tagged "$b"
		grep -q '^not ok' "$WORK/$b.out" && fail=1
	done
	say "tier done in $(secs "$T_START" "$(date +%s.%N)")s"
	return $fail
}

main "$@"
