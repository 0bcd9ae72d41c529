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
	hostonly='' instmods vfio vfio_iommu_type1 vfio_pci
	# gone since 6.2 (merged into vfio)
	hostonly='' instmods vfio_virqfd 2>/dev/null || :
	return 0
}

install() {
	local f
	inst_binary "$(command -v pcibind)" /usr/sbin/pcibind
	for f in /etc/pcibind/pcibind.conf /etc/pcibind/conf.d/*.conf; do
		[[ -f $f ]] && inst_simple "$f"
	done
	# the rule sets driver_override on "add", before 80-drivers.rules loads a host driver
	for f in /usr/lib/udev/rules.d/*pcibind*.rules /etc/udev/rules.d/*pcibind*.rules; do
		[[ -f $f ]] && inst_rules "${f##*/}"
	done
	# pre-udev: before udevd replays "add" and loads the GPU driver
	# shellcheck disable=SC2154 # moddir: set by dracut for each module
	inst_hook pre-udev 01 "$moddir/pcibind-early.sh"
}
