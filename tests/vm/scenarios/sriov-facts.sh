# sriov-facts.sh - SR-IOV on the real kernel, no pcibind: what the simulator (sriov-boot.topo) imitates
# SPDX-License-Identifier: GPL-2.0-or-later
#
# QEMU's nvme with sriov_max_vfs=4 behind root port 1c.3. Its VFs come up
# offline (no flexible resources assigned through NVMe virtualization
# management), so the nvme driver's probe of a VF fails a moment later:
# it still shows which driver got to a VF first. Runs before vfio-pci is
# loaded.

PF=$(for d in $S/devices/*; do [ -e "$d/sriov_totalvfs" ] && basename "$d"; done | head -n 1)
if [ -z "$PF" ]; then
	nok "there is an SR-IOV PF (QEMU nvme with sriov_max_vfs)"
	return 0
fi
D=$S/devices/$PF
vf() { basename "$(readlink "$D/virtfn$1")"; }
note "PF $PF: $(cat $D/vendor):$(cat $D/device) driver=$(drv $PF) group=$(grp $PF) reset_method=$(cat $D/reset_method)"

expect "the PF is on nvme" "$(drv $PF)" nvme
expect "sriov_totalvfs, sriov_numvfs, sriov_drivers_autoprobe" \
	"$(cat $D/sriov_totalvfs) $(cat $D/sriov_numvfs) $(cat $D/sriov_drivers_autoprobe)" "4 0 1"
expect "sriov_offset 1, sriov_stride 1 (VFs follow the PF in its slot)" "$(cat $D/sriov_offset) $(cat $D/sriov_stride)" "1 1"
expect "the PF's reset_method" "$(cat $D/reset_method)" "flr bus"

dmesg_mark
expect "writing 2 creates the VFs (the write returns with them there)" "$(sysw $D/sriov_numvfs 2; ls $D | grep -c '^virtfn')" "ok 2
2"
V0=$(vf 0)
V1=$(vf 1)
expect "virtfnN links: VF N at the PF's routing ID + offset + N * stride" "$V0 $V1" "${PF%.0}.1 ${PF%.0}.2"
expect "physfn link of a VF" "$(readlink $S/devices/$V0/physfn)" "../$PF"
expect "a VF has the PF's vendor and sriov_vf_device" "$(cat $S/devices/$V0/vendor) $(cat $S/devices/$V0/device)" \
	"$(cat $D/vendor) 0x00$(cat $D/sriov_vf_device)"
expect "no sriov_numvfs on a VF" "$(test -e $S/devices/$V0/sriov_numvfs && echo present)" ""
expect "a VF's reset_method" "$(cat $S/devices/$V0/reset_method)" "flr"
[ -n "$(grp $V0)" ] && [ "$(grp $V0)" != "$(grp $V1)" ] && [ "$(grp $V0)" != "$(grp $PF)" ] &&
	ok "each VF in an IOMMU group of its own (groups $(grp $PF) $(grp $V0) $(grp $V1))" ||
	nok "each VF in an IOMMU group of its own: PF $(grp $PF), VFs $(grp $V0) $(grp $V1)"
expect_match "with autoprobe on, nvme probed the new VFs in the write itself" "$(dmesg_new)" "nvme nvme[0-9]+: pci function $V0"

expect "changing a non-zero count is EBUSY" "$(sysw $D/sriov_numvfs 1)" "err EBUSY 16"
expect "the current count is accepted" "$(sysw $D/sriov_numvfs 2)" "ok 2"
expect "more than sriov_totalvfs is ERANGE" "$(sysw $D/sriov_numvfs 5)" "err ERANGE 34"
expect "not a number is EINVAL" "$(sysw $D/sriov_numvfs two)" "err EINVAL 22"
expect "0 removes the VFs" "$(sysw $D/sriov_numvfs 0; ls $D | grep -c '^virtfn'; present $V0 && echo present)" "ok 2
0"

expect "sriov_drivers_autoprobe takes kstrtobool words" "$(sysw $D/sriov_drivers_autoprobe n; cat $D/sriov_drivers_autoprobe)" "ok 2
0"
expect "and refuses others with EINVAL" "$(sysw $D/sriov_drivers_autoprobe maybe; cat $D/sriov_drivers_autoprobe)" "err EINVAL 22
0"
dmesg_mark
sysw $D/sriov_numvfs 2 >/dev/null
sleep 1
expect "with autoprobe off the new VFs stay driverless" "$(drv $V0) $(drv $V1)" "- -"
expect_nomatch "and nvme never saw them" "$(dmesg_new)" "nvme nvme[0-9]+: pci function ${PF%.0}\.[12]"
expect "drivers_probe of a VF without an override: ok, nothing binds" "$(sysw $S/drivers_probe $V1; drv $V1)" "ok 13
-"
/sbin/modprobe vfio-pci # kmod's: busybox's ignores the softdep on vfio_iommu_type1
expect "with an override it probes anyway: vfio-pci" \
	"$(sysw $S/devices/$V0/driver_override vfio-pci; sysw $S/drivers_probe $V0; drv $V0)" "ok 9
ok 13
vfio-pci"
expect_node "$(grp $V0)" present "the VF's group: "
expect "turning autoprobe back on probes nothing by itself" "$(sysw $D/sriov_drivers_autoprobe 1; drv $V1)" "ok 2
-"
dmesg_mark
expect "then drivers_probe gives a VF to its host driver" "$(sysw $S/drivers_probe $V1; drv $V1)" "ok 13
nvme"
expect_match "(nvme's probe of it, in dmesg)" "$(dmesg_new)" "nvme nvme[0-9]+: pci function $V1"

expect "unbinding nvme from the PF: ok" "$(sysw $S/drivers/nvme/unbind $PF)" "ok 13"
expect "nvme leaves SR-IOV enabled: the VFs stay, the VF on vfio-pci too" \
	"$(cat $D/sriov_numvfs) $(drv $V0)" "2 vfio-pci"
expect_match "(the kernel says so)" "$(dmesg_new)" "driver left SR-IOV enabled after remove"
expect "no driver: sriov_numvfs is ENOENT" "$(sysw $D/sriov_numvfs 0)" "err ENOENT 2"
expect "vfio-pci does not take a PF with VFs: drivers_probe ok, no driver; bind EBUSY" \
	"$(sysw $D/driver_override vfio-pci; sysw $S/drivers_probe $PF; drv $PF; sysw $S/drivers/vfio-pci/bind $PF)" "ok 9
ok 13
-
err EBUSY 16"
expect_match "(Cannot bind to PF with SR-IOV enabled)" "$(dmesg_new)" "Cannot bind to PF with SR-IOV enabled"
sysw $D/driver_override "" >/dev/null
sysw $S/drivers_probe $PF >/dev/null
expect "back on nvme, the count can go to 0 and the VFs go, the one on vfio-pci too" \
	"$(drv $PF) $(sysw $D/sriov_numvfs 0) $(present $V0 && echo present || echo gone)" "nvme ok 2 gone"
expect "vfio-pci on a PF without VFs cannot configure any (enable_sriov=0): ENOENT" \
	"$(raw_bind $PF vfio-pci; sysw $D/sriov_numvfs 1)" "vfio-pci
err ENOENT 2"
raw_restore $PF >/dev/null
expect "the PF back on nvme" "$(drv $PF)" nvme
expect "a depmod-made modules.alias has vfio_pci's all-wildcard line" \
	"$(grep -c '^alias vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\* vfio_pci$' /lib/modules/$(uname -r)/modules.alias)" 1
reset_all
