# deb12-dracut.sh - Debian 12: dracut, systemd-boot style entries by kernel-install, no /etc/kernel/cmdline, AMD (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# systemd-boot as `bootctl install` leaves Debian's ESP at /boot/efi (loader/entries and the entry
# token's directory) and kernel-install, which reads
# /etc/kernel/cmdline and else the running command line (here the test's, bind-mounted over the
# root's own /proc/cmdline). dracut as Debian ships it: not host-only; its kernel-install plugin
# builds the initramfs the entry names (checked: that is the one that boots). The kernel is the one of
# deb12-grub (dracut would build an initramfs of every driver when installing the package). This
# user's dracut.conf.d leaves out the dracut modules that add every storage and network driver and
# does not compress: an initramfs in 17 s instead of 3 minutes; still not host-only (where dracut
# copies no /etc/modprobe.d file), and pcibind's module adds what it needs. The kernel is installed
# with kernel-install first (its entry directory on the ESP is where dracut then writes the
# initramfs the entry boots).

DRACUT_CONF=('[pcibind]' 'iommu_pt = yes' '' '[gpu]' 'address = 01:00' 'boot = yes')
DRACUT_CMDLINE='initrd=\initrd.img root=UUID=5678 rw quiet'

deb12_dracut_host() {
	local R=$1
	mkdir -p "$R/sys"
	fake_proc "$R" amd "$KVER" "$DRACUT_CMDLINE"
	fake_iommu "$R" amd
	fake_fn "$R" 0000:0c:00.0 1002 73ff 030000 0 amdgpu amdgpu
	echo 1 >"$R/sys/devices/pci0000:00/0000:0c:00.0/boot_vga"
	fake_fn "$R" 0000:01:00.0 10de 2204 030000 1 nouveau nouveau
	fake_fn "$R" 0000:01:00.1 10de 1aef 040300 1 snd_hda_intel snd_hda_intel
	fake_driver "$R" vfio-pci vfio_pci
}

# the kernel of deb12-grub, or of FROM (hard links: nothing writes into a module tree but depmod,
# which renames); FROM's newest if it has several
deb12_dracut_kernel() { # deb12_dracut_kernel R [FROM]
	local R=$1 from=${2:-deb12-grub} K
	K=$WORK/$from/root
	KVER=$(ls "$K/usr/lib/modules" 2>/dev/null | sort -V | tail -n 1)
	[ -n "$KVER" ] && [ -f "$K/boot/vmlinuz-$KVER" ] || { nok "$P: no kernel in $K (run the $from root first)"; return 1; }
	mkdir -p "$R/usr/lib/modules" "$R/boot"
	cp -al "$K/usr/lib/modules/$KVER" "$R/usr/lib/modules/$KVER" &&
		cp -a "$K/boot/vmlinuz-$KVER" "$K/boot/config-$KVER" "$K/boot/System.map-$KVER" "$R/boot/" ||
		{ nok "$P: cannot copy the kernel of $K"; return 1; }
}

# the loader entry kernel-install wrote for the kernel; its options; the initramfs it boots
entry() { grep -l "^version *$KVER" "$1"/boot/efi/loader/entries/*.conf 2>/dev/null | head -n 1; }
entry_options() { local f; f=$(entry "$1") && [ -n "$f" ] && sed -n 's/^options *//p' "$f"; }
entry_initrd() { # the path in the root (entries name it below the ESP's mount point or the ESP)
	local f i
	f=$(entry "$1") && [ -n "$f" ] && i=$(sed -n 's|^initrd *||p' "$f" | head -n 1) && [ -n "$i" ] || return 1
	if [ -f "$1$i" ]; then echo "$i"; else echo "/boot/efi$i"; fi
}

has_words() { # has_words LINE WORD... [--not WORD...]
	local line=$1 w want=1
	shift
	for w in "$@"; do
		[ "$w" = --not ] && { want=0; continue; }
		if [ $want = 1 ] && ! grep -qE "(^|\s)$w(\s|$)" <<<"$line"; then echo "#   lacks $w: '$line'"; return 1; fi
		if [ $want = 0 ] && grep -qE "(^|\s)$w(\s|$)" <<<"$line"; then echo "#   has $w: '$line'"; return 1; fi
	done
}

# VIRQFD: yes, the kernel's vfio_pci needs vfio_virqfd.ko (6.1); no, it has none (6.12: part of vfio)
deb12_dracut_initramfs() { # deb12_dracut_initramfs R [VIRQFD]
	local R=$1 virqfd=${2:-yes} f missing= img
	img=$(entry_initrd "$R")
	check "$P: the entry boots an initramfs on the ESP" test -n "$img" -a -f "$R$img"
	in_root "$R" lsinitrd "$img" >"$WORK/$P.lsinitrd" 2>&1
	for f in usr/sbin/pcibind etc/pcibind/pcibind.conf usr/lib/udev/rules.d/60-pcibind.rules \
		pre-udev/01-pcibind-early.sh vfio/pci/vfio-pci.ko vfio/vfio_iommu_type1.ko; do
		# a module as the kernel package ships it: .ko (6.1), .ko.xz (6.12)
		grep -qE "$f(\.xz|\.zst)?\$" "$WORK/$P.lsinitrd" || missing="$missing $f"
	done
	if [ "$virqfd" = yes ]; then
		grep -qE 'vfio/vfio_virqfd.ko(\.xz|\.zst)?$' "$WORK/$P.lsinitrd" || missing="$missing vfio/vfio_virqfd.ko"
		check "$P: lsinitrd: pcibind, its configuration, rule, pre-udev hook and vfio ($KVER: vfio_virqfd)" test -z "$missing"
	else
		check "$P: lsinitrd: pcibind, its configuration, rule, pre-udev hook and vfio ($KVER: no vfio_virqfd, part of vfio)" \
			test -z "$missing" -a -z "$(grep vfio_virqfd "$WORK/$P.lsinitrd")"
	fi
	[ -z "$missing" ] || echo "#   missing:$missing"
	in_root "$R" lsinitrd -f etc/modprobe.d/pcibind.conf "$img" >"$WORK/$P.modprobe.d" 2>&1
	check "$P: lsinitrd: the initramfs has /etc/modprobe.d/pcibind.conf as generated (vfio-pci's options, softdeps)" \
		cmp -s "$WORK/$P.modprobe.d" "$R/etc/modprobe.d/pcibind.conf"
	in_root "$R" sh -c "rm -rf /tmp/un && mkdir /tmp/un && cd /tmp/un && lsinitrd --unpack $img" >/dev/null 2>&1
	check "$P: pcibind runs inside the unpacked initramfs (every library it links is there)" \
		quietly chroot "$R/tmp/un" /usr/sbin/pcibind --version
	rm -rf "$R/tmp/un"
}

flavor_deb12_dracut() {
	local P=deb12-dracut
	dracut_flavor deb12-grub yes
}

# the checks of a dracut root (named $P), its kernel from root FROM; VIRQFD as deb12_dracut_initramfs's;
# IN_ROOT_ENV as the caller sets it, for every consumer run inside
dracut_flavor() { # dracut_flavor FROM VIRQFD
	local R=$WORK/$P/root pristine opts
	unpack_root "$P" "$R" || return
	deb12_dracut_kernel "$R" "$1" || return
	mkdir -p "$R/boot/efi/loader/entries" "$R/boot/efi/0123456789abcdef0123456789abcdef" "$R/etc/dracut.conf.d"
	echo 0123456789abcdef0123456789abcdef >"$R/etc/machine-id"
	printf '%s\n' 'omit_dracutmodules+=" kernel-modules kernel-modules-extra kernel-network-modules "' 'compress="cat"' \
		>"$R/etc/dracut.conf.d/10-small.conf"
	check "$P: the kernel installed by kernel-install before pcibind" \
		logged "$WORK/$P.setup" in_root "$R" kernel-install add "$KVER" "/boot/vmlinuz-$KVER"
	check "$P: make install DESTDIR= into the root" install_pcibind "$R" "$WORK/$P.install"
	deb12_dracut_host "$R"
	conf "$R" "${DRACUT_CONF[@]}"
	pristine=$(snapshot "$R")

	pcibind "$R" generate --write
	check "$P: generate --write exits 0" test "$ST" -eq 0
	check "$P: kernel-install is found without /etc/kernel/cmdline (systemd-boot's loader/entries on the ESP)" \
		test -z "$(grep 'bootloader not recognised' <<<"$OUT")" -a -f "$R/etc/kernel/cmdline"
	check "$P: /etc/kernel/cmdline is the running command line with iommu=pt and rd.driver.pre=vfio-pci (AMD: no IOMMU argument)" \
		test "$(cat "$R/etc/kernel/cmdline" 2>/dev/null)" = "root=UUID=5678 rw quiet iommu=pt rd.driver.pre=vfio-pci"
	check "$P: it asks for dracut and kernel-install add for the kernel in /boot" \
		test "$(sed -n 's/^run inside the system: //p' <<<"$OUT" | tr '\n' ';')" = "dracut -f --regenerate-all;kernel-install add $KVER /boot/vmlinuz-$KVER;"
	check "$P: dracut and kernel-install run in the root" run_refresh "$R" "$P.write"
	opts=$(entry_options "$R")
	check "$P: kernel-install's entry: options from /etc/kernel/cmdline" \
		has_words "$opts" root=UUID=5678 rw quiet iommu=pt rd.driver.pre=vfio-pci
	deb12_dracut_initramfs "$R" "$2"
	in_root "$R" modprobe -S "$KVER" -c >"$WORK/$P.modprobe-c" 2>&1
	check "$P: modprobe -c: softdep amdgpu is not there, nouveau is; disable_vga=1" \
		test -n "$(grep -x 'softdep nouveau pre: vfio-pci' "$WORK/$P.modprobe-c")" -a -n "$(grep -x 'options vfio_pci disable_vga=1' "$WORK/$P.modprobe-c")" -a -z "$(grep '^softdep amdgpu' "$WORK/$P.modprobe-c")"
	check "$P: modules-load.d/pcibind.conf: every module resolves on $KVER" modules_resolve "$R" "$KVER" etc/modules-load.d/pcibind.conf

	sed -i 's/^iommu_pt = yes$/iommu_pt = no/' "$R/etc/pcibind/pcibind.conf"
	pcibind "$R" generate --write
	check "$P: iommu_pt = no: /etc/kernel/cmdline loses exactly iommu=pt" \
		test "$(cat "$R/etc/kernel/cmdline")" = "root=UUID=5678 rw quiet rd.driver.pre=vfio-pci"
	check "$P: iommu_pt = no: kernel-install add runs" run_refresh "$R" "$P.pt"
	check "$P: iommu_pt = no: the entry has no iommu=pt" has_words "$(entry_options "$R")" rd.driver.pre=vfio-pci quiet --not iommu=pt

	pcibind "$R" generate --remove
	check "$P: generate --remove exits 0, asks for dracut and kernel-install" \
		test "$ST" -eq 0 -a "$(sed -n 's/^run inside the system: //p' <<<"$OUT" | tr '\n' ';')" = "dracut -f --regenerate-all;kernel-install add $KVER /boot/vmlinuz-$KVER;"
	check "$P: generate --remove: dracut and kernel-install run in the root" run_refresh "$R" "$P.remove"
	check "$P: generate --remove: /etc/kernel/cmdline (pcibind made it) is gone, /etc and the dracut modules as before" \
		test "$pristine" = "$(snapshot "$R")" -a ! -e "$R/etc/kernel/cmdline"
	check "$P: generate --remove: the entry has the running command line, none of pcibind's arguments" \
		has_words "$(entry_options "$R")" root=UUID=5678 rw quiet --not iommu=pt rd.driver.pre=vfio-pci
	in_root "$R" lsinitrd "$(entry_initrd "$R")" >"$WORK/$P.lsinitrd" 2>&1
	check "$P: generate --remove: the initramfs the entry boots has no pcibind left" \
		test -z "$(grep pcibind "$WORK/$P.lsinitrd")" -a -s "$WORK/$P.lsinitrd"
}
