# deb12-grub.sh - Debian 12: GRUB with its drop-in directory, initramfs-tools, kernel 6.1, Intel (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The user's GRUB line has arguments of their own (quiet; console=ttyS0 in GRUB_CMDLINE_LINUX).
# Host: the boot GPU is the iGPU on i915; an NVIDIA GPU with its audio (one slot, on nouveau and
# snd_hda_intel) is a boot set by address; an e1000e NIC a set by ids alone.

deb12_grub_host() { # deb12_grub_host R CPU
	local R=$1
	rm -rf "$R/sys" "$R/.fake"
	mkdir -p "$R/sys"
	fake_proc "$R" "$2" "$KVER" "BOOT_IMAGE=/boot/vmlinuz-$KVER root=UUID=0a1b2c3d-0000-4000-8000-000000000001 ro console=ttyS0 quiet"
	fake_iommu "$R" "$2"
	fake_fn "$R" 0000:00:02.0 8086 a780 030000 0 i915 i915
	echo 1 >"$R/sys/devices/pci0000:00/0000:00:02.0/boot_vga"
	fake_fn "$R" 0000:01:00.0 10de 2204 030000 1 nouveau nouveau
	fake_fn "$R" 0000:01:00.1 10de 1aef 040300 1 snd_hda_intel snd_hda_intel
	fake_fn "$R" 0000:03:00.0 8086 10d3 020000 3 e1000e e1000e
	fake_driver "$R" vfio-pci vfio_pci
}

DEB12_CONF=('[pcibind]' 'iommu_pt = yes' '' '[gpu]' 'address = 01:00' 'boot = yes' '' '[nic]' 'ids = 8086:10d3' 'boot = yes')

# AMD with nothing to add: no GRUB drop-in, no update-grub
deb12_grub_amd() {
	local R=$1
	deb12_grub_host "$R" amd
	conf "$R" '[gpu]' 'address = 01:00' 'boot = yes'
	pcibind "$R" generate
	check "$P: AMD without iommu_pt: generate exits 0" test "$ST" -eq 0
	check "$P: AMD without iommu_pt: no GRUB drop-in, no update-grub" \
		test -z "$(grep -E 'grub.d/pcibind.cfg|update-grub' <<<"$OUT")"
}

# a blacklist of the driver of a GPU no boot set moves: refused, naming it
deb12_grub_hazard() {
	local R=$1 before
	fake_fn "$R" 0000:02:00.0 10de 1b80 030000 2 nvidia nvidia
	conf "$R" '[pcibind]' 'blacklist = nouveau, nvidia' '' '[gpu]' 'address = 01:00' 'boot = yes'
	before=$(snapshot "$R")
	pcibind "$R" generate --write
	check "$P: blacklist = nvidia while 0000:02:00.0 is on nvidia in no boot set: refused (exit 3)" test "$ST" -eq 3
	check "$P: the refusal names 0000:02:00.0 and nvidia" grep -q 'would take 0000:02:00.0 (10de:1b80) from the host.*nvidia' <<<"$OUT"
	check "$P: the refusal writes nothing" test "$before" = "$(snapshot "$R")"
	rm -rf "$R/sys/devices/pci0000:00/0000:02:00.0" "$R/sys/bus/pci/devices/0000:02:00.0" "$R/sys/kernel/iommu_groups/2"
}

deb12_grub_initramfs() {
	local R=$1 x=$1/tmp/initrd f missing=
	in_root "$R" lsinitramfs "/boot/initrd.img-$KVER" >"$WORK/$P.lsinitramfs" 2>&1
	for f in usr/sbin/pcibind etc/pcibind/pcibind.conf usr/lib/udev/rules.d/60-pcibind.rules scripts/init-top/pcibind \
		etc/modprobe.d/pcibind.conf "vfio/pci/vfio-pci.ko" "vfio/vfio_iommu_type1.ko" "vfio/vfio_virqfd.ko"; do
		grep -q "$f\$" "$WORK/$P.lsinitramfs" || missing="$missing $f"
	done
	check "$P: lsinitramfs: pcibind, its configuration, rule, init-top script, modprobe.d and vfio (6.1: vfio_virqfd as vfio_pci's dependency)" \
		test -z "$missing"
	[ -z "$missing" ] || echo "#   missing:$missing"
	rm -rf "$x"
	in_root "$R" unmkinitramfs "/boot/initrd.img-$KVER" /tmp/initrd >"$WORK/$P.unmkinitramfs" 2>&1
	[ -d "$x/main" ] && x=$x/main
	check "$P: in the initramfs init-top/pcibind runs before init-top/udev" \
		awk '/pcibind/ { p = NR } /\/udev/ { u = NR } END { exit !(p && u && p < u) }' "$x/scripts/init-top/ORDER"
	check "$P: the initramfs's modprobe.d/pcibind.conf is the one generated" cmp -s "$x/etc/modprobe.d/pcibind.conf" "$R/etc/modprobe.d/pcibind.conf"
	check "$P: pcibind runs inside the unpacked initramfs (every library it links is there)" \
		quietly chroot "$x" /usr/sbin/pcibind --version
	rm -rf "$R/tmp/initrd"
}

deb12_grub_modprobe() {
	local R=$1
	in_root "$R" modprobe -S "$KVER" -c >"$WORK/$P.modprobe-c" 2>"$WORK/$P.modprobe-c.err"
	check "$P: modprobe -c: softdep nouveau and snd_hda_intel pre: vfio-pci" \
		test -n "$(grep -x 'softdep nouveau pre: vfio-pci' "$WORK/$P.modprobe-c")" -a -n "$(grep -x 'softdep snd_hda_intel pre: vfio-pci' "$WORK/$P.modprobe-c")"
	check "$P: modprobe -c: options vfio_pci ids=8086:10d3 (the set by ids) and disable_vga=1" \
		test -n "$(grep -x 'options vfio_pci ids=8086:10d3' "$WORK/$P.modprobe-c")" -a -n "$(grep -x 'options vfio_pci disable_vga=1' "$WORK/$P.modprobe-c")"
	check "$P: modprobe -c warns about nothing" test ! -s "$WORK/$P.modprobe-c.err"
	in_root "$R" modprobe -S "$KVER" --show-depends nouveau >"$WORK/$P.dep" 2>&1
	check "$P: modprobe --show-depends nouveau inserts vfio-pci first (the softdep)" \
		awk '/vfio-pci.ko/ && !v { v = NR } /nouveau.ko/ { n = NR } END { exit !(v && n && v < n) }' "$WORK/$P.dep"
	check "$P: modules-load.d/pcibind.conf: every module resolves on $KVER, no warning" \
		modules_resolve "$R" "$KVER" etc/modules-load.d/pcibind.conf
}

flavor_deb12_grub() {
	local R=$WORK/deb12-grub/root P=deb12-grub pristine
	unpack_root deb12-grub "$R" || return
	KVER=$(ls "$R/usr/lib/modules")
	# the user's /etc/default/grub as grub-pc's postinst makes it from the template, with arguments of theirs
	sed 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="quiet"/; s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0"/' \
		"$R/usr/share/grub/default/grub" >"$R/etc/default/grub"
	mkdir -p "$R/boot/grub" "$R/etc/default/grub.d"
	stub_grub_probe "$R"
	check "$P: make install DESTDIR= into the root" install_pcibind "$R" "$WORK/$P.install"
	deb12_grub_amd "$R"
	deb12_grub_host "$R" intel
	conf "$R" "${DEB12_CONF[@]}"
	pristine=$(snapshot "$R")
	deb12_grub_hazard "$R"
	conf "$R" "${DEB12_CONF[@]}"

	pcibind "$R" generate --write
	check "$P: generate --write exits 0" test "$ST" -eq 0
	check "$P: it asks for update-initramfs and update-grub" \
		test "$(sed -n 's/^run inside the system: //p' <<<"$OUT" | tr '\n' ';')" = "update-initramfs -u -k all;update-grub;"
	check "$P: update-initramfs and update-grub run in the root" run_refresh "$R" "$P.write"
	deb12_grub_initramfs "$R"
	check "$P: grub-script-check /boot/grub/grub.cfg" in_root "$R" grub-script-check /boot/grub/grub.cfg
	check "$P: grub.cfg: every linux line has intel_iommu=on iommu=pt and the user's quiet and console=ttyS0" \
		grub_lines_have "$R/boot/grub/grub.cfg" intel_iommu=on iommu=pt quiet console=ttyS0
	deb12_grub_modprobe "$R"
	check_unit "$R"
	check_udev_test "$R" /sys/devices/pci0000:00/0000:01:00.0
	pcibind "$R" generate --write
	check "$P: a second generate --write: no changes" grep -qx 'no changes' <<<"$OUT"

	sed -i 's/^iommu_pt = yes$/iommu_pt = no/' "$R/etc/pcibind/pcibind.conf"
	pcibind "$R" generate --write
	check "$P: iommu_pt = no: generate --write, update-grub" run_refresh "$R" "$P.pt"
	check "$P: iommu_pt = no: grub.cfg has intel_iommu=on, no iommu=pt" \
		grub_lines_have "$R/boot/grub/grub.cfg" intel_iommu=on quiet --not iommu=pt

	pcibind "$R" generate --remove
	check "$P: generate --remove exits 0, asks for update-initramfs and update-grub" \
		test "$ST" -eq 0 -a "$(sed -n 's/^run inside the system: //p' <<<"$OUT" | tr '\n' ';')" = "update-initramfs -u -k all;update-grub;"
	check "$P: generate --remove: update-initramfs and update-grub run in the root" run_refresh "$R" "$P.remove"
	check "$P: generate --remove: /etc and the record are as before pcibind, byte for byte" \
		test "$pristine" = "$(snapshot "$R")"
	in_root "$R" lsinitramfs "/boot/initrd.img-$KVER" >"$WORK/$P.lsinitramfs" 2>&1
	check "$P: generate --remove: the initramfs has no pcibind left" \
		test -z "$(grep -E 'pcibind|modprobe.d/pcibind' "$WORK/$P.lsinitramfs")" -a -s "$WORK/$P.lsinitramfs"
	check "$P: generate --remove: grub.cfg has the user's arguments and none of pcibind's" \
		grub_lines_have "$R/boot/grub/grub.cfg" quiet console=ttyS0 --not intel_iommu=on iommu=pt
	check "$P: generate --remove: grub-script-check" in_root "$R" grub-script-check /boot/grub/grub.cfg
	pcibind "$R" generate --remove
	check "$P: a second generate --remove: no changes" grep -qx 'no changes' <<<"$OUT"
}
