#!/bin/bash
# pcibind dracut module: pcibind, its configuration and its udev rule into the initramfs

check() {
	require_binaries pcibind || return 1
	return 0
}

depends() {
	return 0
}

installkernel() {
	# with their dependencies (before 6.2 vfio_pci needs vfio_virqfd)
	hostonly='' instmods vfio vfio_iommu_type1 vfio_pci
	return 0
}

install() {
	local f
	inst_binary "$(command -v pcibind)" /usr/sbin/pcibind
	for f in /etc/pcibind/pcibind.conf /etc/pcibind/conf.d/*.conf; do
		[[ -f $f ]] && inst_simple "$f"
	done
	# vfio-pci loads here and stays: its ids=, disable_vga=1 and the softdeps must be here too.
	# Without hostonly (Debian's default) dracut copies no file of /etc/modprobe.d.
	[[ -f /etc/modprobe.d/pcibind.conf ]] && inst_simple /etc/modprobe.d/pcibind.conf
	# the rule sets driver_override on "add", before 80-drivers.rules loads a host driver
	for f in /usr/lib/udev/rules.d/*pcibind*.rules /etc/udev/rules.d/*pcibind*.rules; do
		[[ -f $f ]] && inst_rules "${f##*/}"
	done
	# pre-udev: before udevd replays "add" and loads the GPU driver
	# shellcheck disable=SC2154 # moddir: set by dracut for each module
	inst_hook pre-udev 01 "$moddir/pcibind-early.sh"
}
