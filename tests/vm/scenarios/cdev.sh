# cdev.sh - the VFIO character-device interface (vfio-dev/vfioN, /dev/iommu) as the kernel offers it,
# and what `pcibind check` says of it; the kernel's own config (/boot/config-VERSION, from the
# package) is the oracle
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
NIC=0000:02:00.0
CFG=/boot/config-$(uname -r)

if [ ! -s "$CFG" ]; then
	nok "the kernel's config is in the guest: no $CFG"
	return 0
fi
cdev=n
grep -q '^CONFIG_VFIO_DEVICE_CDEV=y$' "$CFG" && cdev=y
note "$(grep -E '^(# )?CONFIG_(IOMMUFD|VFIO_DEVICE_CDEV)[ =]' "$CFG" | tr '\n' ' ')"
pcb bind 02:00.0
expect_rc "bind $NIC" 0
expect_driver $NIC vfio-pci "after bind: "
note "vfio-dev of the bound function: $(ls "$S/devices/$NIC/vfio-dev" "$S/devices/$NIC"/vfio-dev/* 2>&1 | tr '\n' ' ')"
got=n
ls "$S/devices/$NIC"/vfio-dev/vfio*/dev >/dev/null 2>&1 && got=y
expect "a character device (vfio-dev/vfioN/dev) under the bound function exactly when the config has CONFIG_VFIO_DEVICE_CDEV=y" "$got" "$cdev"
iommu=n
[ -e /dev/iommu ] || /sbin/modprobe iommufd 2>/dev/null
[ -e /dev/iommu ] && iommu=y
expect "/dev/iommu (iommufd) exactly when the cdev is built" "$iommu" "$cdev"
pcb check
line=$(printf '%s\n' "$OUT" | grep ' vfio-cdev: ')
if [ "$cdev" = y ]; then
	expect_match "check says the cdev is offered" "$line" "^ok +vfio-cdev: VFIO cdev offered: /dev/vfio/devices/vfioN"
	n=$(ls "$S/devices/$NIC/vfio-dev" 2>/dev/null | head -n 1)
	expect "/dev/vfio/devices/$n exists" "$(test -c "/dev/vfio/devices/$n" && echo yes)" yes
else
	expect_match "check says this kernel has no cdev, and that iommufd is unavailable" "$line" \
		"^info +vfio-cdev: no VFIO cdev in $(uname -r | sed 's/[.+]/\\&/g') \(CONFIG_VFIO_DEVICE_CDEV not set\): VM managers open /dev/vfio/N; iommufd .* is not available"
	expect "no /dev/vfio/devices either" "$(ls /dev/vfio/devices 2>/dev/null | tr '\n' ' ')" ""
fi
pcb restore 02:00.0
expect_rc "restore $NIC" 0
expect_driver $NIC e1000e "after restore: "
reset_all
