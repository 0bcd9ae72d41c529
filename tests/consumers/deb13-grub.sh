# deb13-grub.sh - Debian 13: GRUB edited in place, initramfs-tools, kernels 6.12 and 6.1, systemd 257, Intel (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# pcibind uses GRUB's drop-in directory where os-release says Debian or Ubuntu; elsewhere it edits
# GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub. Here /etc/os-release names another
# distribution, so the in-place edit is what Debian 13's own grub-mkconfig reads. The user had
# intel_iommu=off on that line. The 6.1 kernel of deb12-grub is installed beside 6.12 as its
# module index (and empty module files): what modprobe and pcibind read of a kernel.
# Then the second pass, a Debian 13 user's own path: the real os-release (Debian), so pcibind
# writes the drop-in /etc/default/grub.d/pcibind.cfg that Debian's GRUB 2.12 grub-mkconfig sources;
# the user's quiet and console=ttyS0 in /etc/default/grub. grub2-common ships the grub.d directory:
# --remove leaves it; a user who deleted it gets it made by --write and taken out by --remove.

DEB13_CONF=('[pcibind]' 'iommu_pt = yes' '' '[gpu]' 'address = 01:00' 'boot = yes')

# the module tree of deb12-grub's kernel as modprobe needs it to resolve: index files, empty modules
deb13_old_kernel() {
	local R=$1 K=$WORK/deb12-grub/root k M
	k=$(ls "$K/usr/lib/modules" 2>/dev/null)
	[ -n "$k" ] || { nok "$P: no 6.1 kernel in $K (run the deb12-grub root first)"; return 1; }
	M=$R/usr/lib/modules/$k
	mkdir -p "$M"
	cp "$K/usr/lib/modules/$k"/modules.* "$M/"
	(cd "$M" && cut -d: -f1 modules.dep | sed 's|/[^/]*$||' | sort -u | xargs mkdir -p && cut -d: -f1 modules.dep | xargs touch)
	OLDK=$k
}

resolve_both() {
	local st=0
	modules_resolve "$1" "$OLDK" etc/modules-load.d/pcibind.conf || st=1
	modules_resolve "$1" "$KVER" etc/modules-load.d/pcibind.conf || st=1
	return $st
}

flavor_deb13_grub() {
	local R=$WORK/deb13-grub/root P=deb13-grub pristine
	unpack_root deb13-grub "$R" || return
	KVER=$(ls "$R/usr/lib/modules")
	deb13_old_kernel "$R" || return
	cp -a "$R/etc/os-release" "$WORK/$P.os-release"
	rm -f "$R/etc/os-release"
	printf 'PRETTY_NAME="Other Linux"\nNAME="Other"\nID=other\n' >"$R/etc/os-release"
	sed 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=off"/' \
		"$R/usr/share/grub/default/grub" >"$R/etc/default/grub"
	mkdir -p "$R/boot/grub"
	stub_grub_probe "$R"
	check "$P: make install DESTDIR= into the root" install_pcibind "$R" "$WORK/$P.install"
	mkdir -p "$R/sys"
	fake_proc "$R" intel "$KVER" "BOOT_IMAGE=/boot/vmlinuz-$KVER root=UUID=0a1b2c3d-0000-4000-8000-000000000001 ro quiet intel_iommu=off"
	fake_iommu "$R" intel
	fake_fn "$R" 0000:00:02.0 8086 a780 030000 0 i915 i915
	fake_fn "$R" 0000:01:00.0 10de 2204 030000 1 nouveau nouveau
	fake_fn "$R" 0000:01:00.1 10de 1aef 040300 1 snd_hda_intel snd_hda_intel
	fake_driver "$R" vfio-pci vfio_pci
	conf "$R" "${DEB13_CONF[@]}"
	cp -p "$R/etc/default/grub" "$WORK/$P.grub.orig"
	pristine=$(snapshot "$R")

	pcibind "$R" generate --write
	check "$P: generate --write exits 0, asks for update-initramfs and update-grub" \
		test "$ST" -eq 0 -a "$(sed -n 's/^run inside the system: //p' <<<"$OUT" | tr '\n' ';')" = "update-initramfs -u -k all;update-grub;"
	check "$P: /etc/default/grub: the user's line edited in place, intel_iommu=off replaced" \
		grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"' "$R/etc/default/grub"
	check "$P: update-initramfs and update-grub run in the root" run_refresh "$R" "$P.write"
	check "$P: grub-script-check /boot/grub/grub.cfg (GRUB 2.12)" in_root "$R" grub-script-check /boot/grub/grub.cfg
	check "$P: grub.cfg: linux lines have intel_iommu=on iommu=pt quiet, not intel_iommu=off" \
		grub_lines_have "$R/boot/grub/grub.cfg" intel_iommu=on iommu=pt quiet --not intel_iommu=off
	in_root "$R" lsinitramfs "/boot/initrd.img-$KVER" >"$WORK/$P.lsinitramfs" 2>&1
	check "$P: lsinitramfs (6.12): pcibind, its rule, modprobe.d, vfio-pci; no vfio_virqfd (part of vfio)" \
		test -n "$(grep 'usr/sbin/pcibind$' "$WORK/$P.lsinitramfs")" -a -n "$(grep 'etc/modprobe.d/pcibind.conf$' "$WORK/$P.lsinitramfs")" \
		-a -n "$(grep 'vfio/pci/vfio-pci.ko' "$WORK/$P.lsinitramfs")" -a -n "$(grep '60-pcibind.rules$' "$WORK/$P.lsinitramfs")" \
		-a -z "$(grep vfio_virqfd "$WORK/$P.lsinitramfs")"

	# vfio_virqfd, measured on the two kernels: a dependency of vfio_pci on 6.1, no module on 6.12
	in_root "$R" modprobe -S "$OLDK" --show-depends vfio_pci >"$WORK/$P.dep61" 2>&1
	check "$P: $OLDK: vfio_pci depends on vfio_virqfd (modprobe loads it with vfio_pci)" grep -q 'vfio_virqfd.ko' "$WORK/$P.dep61"
	check "$P: $KVER: there is no vfio_virqfd module (it is part of vfio)" fails in_root "$R" modprobe -q -S "$KVER" --show-depends vfio_virqfd
	check "$P: modules-load.d/pcibind.conf resolves on $OLDK and on $KVER, no warning (systemd-modules-load would fail)" \
		resolve_both "$R"
	in_root "$R" modprobe -S "$KVER" -c >"$WORK/$P.modprobe-c" 2>"$WORK/$P.modprobe-c.err"
	check "$P: modprobe -c (kmod 34): the softdeps and disable_vga=1, no warning" \
		test -n "$(grep -x 'softdep nouveau pre: vfio-pci' "$WORK/$P.modprobe-c")" -a -n "$(grep -x 'options vfio_pci disable_vga=1' "$WORK/$P.modprobe-c")" -a ! -s "$WORK/$P.modprobe-c.err"

	in_root "$R" udevadm verify /usr/lib/udev/rules.d/60-pcibind.rules >"$WORK/$P.udevverify" 2>&1
	check "$P: udevadm verify 60-pcibind.rules (systemd 257)" test $? -eq 0 -a -z "$(grep -iE 'warn|error|invalid' "$WORK/$P.udevverify")"
	check_unit "$R"
	check_udev_test "$R" /sys/devices/pci0000:00/0000:01:00.0

	sed -i 's/^iommu_pt = yes$/iommu_pt = no/' "$R/etc/pcibind/pcibind.conf"
	pcibind "$R" generate --write
	check "$P: iommu_pt = no: /etc/default/grub loses exactly iommu=pt" \
		grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on"' "$R/etc/default/grub"
	check "$P: iommu_pt = no: update-grub" run_refresh "$R" "$P.pt"
	check "$P: iommu_pt = no: grub.cfg has intel_iommu=on, no iommu=pt" \
		grub_lines_have "$R/boot/grub/grub.cfg" intel_iommu=on quiet --not iommu=pt

	pcibind "$R" generate --remove
	check "$P: generate --remove exits 0" test "$ST" -eq 0
	check "$P: generate --remove: update-initramfs and update-grub run in the root" run_refresh "$R" "$P.remove"
	check "$P: generate --remove: /etc/default/grub is the user's, byte for byte" cmp "$WORK/$P.grub.orig" "$R/etc/default/grub"
	check "$P: generate --remove: /etc and the record are as before pcibind" test "$pristine" = "$(snapshot "$R")"
	check "$P: generate --remove: grub.cfg has the user's intel_iommu=off again, none of pcibind's" \
		grub_lines_have "$R/boot/grub/grub.cfg" quiet intel_iommu=off --not intel_iommu=on iommu=pt
	deb13_grub_dropin "$R"
}

# the second pass: the real os-release, the GRUB drop-in, GRUB 2.12's grub-mkconfig reading it
deb13_grub_dropin() {
	local R=$1 D=$1/etc/default/grub.d pristine
	rm -f "$R/etc/os-release"
	cp -a "$WORK/$P.os-release" "$R/etc/os-release"
	check "$P: drop-in: os-release is Debian 13's own" grep -qx 'VERSION_ID="13"' "$R/etc/os-release"
	sed 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="quiet"/; s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0"/' \
		"$R/usr/share/grub/default/grub" >"$R/etc/default/grub"
	cp -p "$R/etc/default/grub" "$WORK/$P.grub.orig"
	sed -i 's/^iommu_pt = no$/iommu_pt = yes/' "$R/etc/pcibind/pcibind.conf"
	check "$P: drop-in: grub2-common's /etc/default/grub.d is there, without pcibind.cfg" test -d "$D" -a ! -e "$D/pcibind.cfg"
	pristine=$(snapshot "$R")

	pcibind "$R" generate --write
	check "$P: drop-in: generate --write exits 0, asks for update-initramfs and update-grub" \
		test "$ST" -eq 0 -a "$(sed -n 's/^run inside the system: //p' <<<"$OUT" | tr '\n' ';')" = "update-initramfs -u -k all;update-grub;"
	# shellcheck disable=SC2016 # the drop-in's own $GRUB_CMDLINE_LINUX_DEFAULT, literally
	check "$P: drop-in: /etc/default/grub.d/pcibind.cfg adds intel_iommu=on iommu=pt to the user's GRUB_CMDLINE_LINUX_DEFAULT" \
		grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on iommu=pt"' "$D/pcibind.cfg"
	check "$P: drop-in: /etc/default/grub is the user's, byte for byte" cmp "$WORK/$P.grub.orig" "$R/etc/default/grub"
	check "$P: drop-in: update-initramfs and update-grub run in the root" run_refresh "$R" "$P.dropin"
	check "$P: drop-in: grub-script-check /boot/grub/grub.cfg (GRUB 2.12)" in_root "$R" grub-script-check /boot/grub/grub.cfg
	check "$P: drop-in: grub.cfg: every linux line has intel_iommu=on iommu=pt and the user's quiet and console=ttyS0" \
		grub_lines_have "$R/boot/grub/grub.cfg" intel_iommu=on iommu=pt quiet console=ttyS0

	pcibind "$R" generate --remove
	check "$P: drop-in: generate --remove exits 0, asks for update-initramfs and update-grub" \
		test "$ST" -eq 0 -a "$(sed -n 's/^run inside the system: //p' <<<"$OUT" | tr '\n' ';')" = "update-initramfs -u -k all;update-grub;"
	check "$P: drop-in: generate --remove takes pcibind.cfg out, leaves the package's grub.d" test -d "$D" -a ! -e "$D/pcibind.cfg"
	check "$P: drop-in: generate --remove: /etc and the record as before, byte for byte" test "$pristine" = "$(snapshot "$R")"
	check "$P: drop-in: generate --remove: update-initramfs and update-grub run in the root" run_refresh "$R" "$P.dropin-remove"
	check "$P: drop-in: generate --remove: grub.cfg has the user's quiet and console=ttyS0, none of pcibind's" \
		grub_lines_have "$R/boot/grub/grub.cfg" quiet console=ttyS0 --not intel_iommu=on iommu=pt

	# a user who deleted the (empty) grub.d: --write makes it, --remove takes it out again
	rmdir "$D"
	pristine=$(snapshot "$R")
	pcibind "$R" generate --write
	check "$P: drop-in without grub.d: generate --write makes it and writes pcibind.cfg" test "$ST" -eq 0 -a -f "$D/pcibind.cfg"
	pcibind "$R" generate --remove
	check "$P: drop-in without grub.d: generate --remove takes pcibind.cfg and the grub.d it made out" \
		test "$ST" -eq 0 -a ! -e "$D" -a "$pristine" = "$(snapshot "$R")"
	[ ! -e "$D" ] || ls -la "$D" | show
}
