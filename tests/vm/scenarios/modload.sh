# modload.sh - vfio-pci is not loaded: pcibind loads it, or refuses before touching anything
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
NIC=0000:02:00.0
KO=$(find /lib/modules -name vfio-pci.ko)

expect "vfio-pci is not loaded at the start" "$(test -e $S/drivers/vfio-pci && echo loaded)" ""

# the module cannot be had: refuse before any change
before=$(snapshot)
mv "$KO" /tmp/vfio-pci.ko.hidden
pcb bind $NIC
mv /tmp/vfio-pci.ko.hidden "$KO"
expect_rc "bind without a loadable vfio-pci refuses" 1 3
expect_match "the message names vfio-pci" "$OUT" "vfio-pci"
expect_same "nothing changed when the module could not be loaded" "$before" "$(snapshot)"
expect "no journal entry after the refusal" "$(journal_of $NIC)" ""
expect_driver $NIC e1000e "after the refusal: "

# the module is there: pcibind loads it, with its soft dependency
pcb bind $NIC
expect_rc "bind with vfio-pci not loaded" 0
expect "vfio-pci was loaded by pcibind" "$(test -d $S/drivers/vfio-pci && echo loaded)" loaded
expect "vfio_iommu_type1 came with it (softdep: pcibind ran the real modprobe)" \
	"$(grep -c '^vfio_iommu_type1 ' /proc/modules)" 1
expect_driver $NIC vfio-pci
expect_override $NIC vfio-pci
expect_node "$(grp $NIC)" present
hold $NIC && ok "the bound device opens through VFIO" || nok "vfio-hold: $(cat /tmp/hold.log)"
kill $HOLD_PID 2>/dev/null; wait $HOLD_PID 2>/dev/null
pcb restore $NIC
expect_rc "restore" 0
expect_driver $NIC e1000e "after restore: "
expect_override $NIC "(null)" "after restore: "
reset_all
