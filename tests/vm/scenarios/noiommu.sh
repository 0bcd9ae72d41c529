# noiommu.sh - a host without an IOMMU: pcibind refuses and the device stays where it was
# SPDX-License-Identifier: GPL-2.0-or-later
NIC=0000:02:00.0
D=$S/devices/$NIC

expect "no IOMMU groups exist" "$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)" 0
expect "the device has no iommu_group link" "$(test -e $D/iommu_group && echo present)" ""
if need_pcibind; then
	before=$(snapshot)
	pcb bind $NIC
	expect_rc "bind without an IOMMU is refused" 3
	expect_match "the refusal says why (IOMMU)" "$OUT" "IOMMU|iommu"
	expect_same "nothing changed" "$before" "$(snapshot)"
	expect "no journal" "$(journal_entries)" 0

	dmesg_mark
	pcb --force bind $NIC
	expect_rc "a forced bind without an IOMMU refuses or fails and rolls back" 1 3
	expect_driver $NIC e1000e "after the forced bind: "
	expect_override $NIC "(null)" "after the forced bind: "
	expect "no journal after the forced bind" "$(journal_entries)" 0
	note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-500)"

	pcb status
	expect_rc "status without an IOMMU" 0
	expect_match "status lists the device" "$OUT" "$NIC"
fi

# the raw kernel: vfio-pci refuses the device and drivers_probe does not say so
/sbin/modprobe vfio-pci
dmesg_mark
sysw $D/driver_override vfio-pci >/dev/null
sysw $D/driver/unbind $NIC >/dev/null
expect "raw: drivers_probe reports success without an IOMMU" "$(sysw $S/drivers_probe $NIC)" "ok 13"
expect_driver $NIC - "raw: vfio-pci did not take it: "
expect_match "raw: dmesg says vfio-pci's probe failed with -EINVAL" "$(dmesg_new)" \
	"vfio-pci: probe of $NIC failed with error -22"
expect "raw: drivers/vfio-pci/bind returns the probe's error" "$(sysw $S/drivers/vfio-pci/bind $NIC)" "err EINVAL 22"
expect "raw restore" "$(raw_restore $NIC)" e1000e
reset_all
