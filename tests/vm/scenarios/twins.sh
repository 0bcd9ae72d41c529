# twins.sh - two identical NICs: only the addressed one moves; config sections; rollback
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
NIC=0000:02:00.0
TWIN=0000:00:06.0
ifname() { ls $S/devices/$1/net 2>/dev/null; }
IF=$(ifname $NIC)
TIF=$(ifname $TWIN)
note "interfaces: $NIC=$IF $TWIN=$TIF"

pcb bind 02:00.0
expect_rc "bind of the short address 02:00.0" 0
expect_driver $NIC vfio-pci "the addressed NIC: "
expect_driver $TWIN e1000e "its twin with the same ids: "
expect_override $TWIN "(null)" "its twin: "
expect "the addressed NIC's interface is gone" "$(ifname $NIC)" ""
expect "the twin keeps its interface" "$(ifname $TWIN)" "$TIF"
expect_node "$(grp $NIC)" present
expect_node "$(grp $TWIN)" absent "the twin's group: "
pcb restore
expect_rc "restore with no selector" 0
expect_driver $NIC e1000e "after restore: "
expect "the interface comes back under its name" "$(ifname $NIC)" "$IF"
expect "the journal is gone or empty" "$(journal_entries)" 0

# the same through a config section with an ids guard
mkdir -p /etc/pcibind
conf() { printf '%s\n' "$@" >/etc/pcibind/pcibind.conf; chmod 0644 /etc/pcibind/pcibind.conf; }
conf "[pcibind]" "driver = vfio-pci" "" "[vmnic]" "address = $NIC" "ids = 8086:10d3"
pcb bind vmnic
expect_rc "bind of config section vmnic" 0
expect "only the section's NIC moved" "$(drv $NIC) $(drv $TWIN)" "vfio-pci e1000e"
pcb restore vmnic
expect_rc "restore of config section vmnic" 0
expect_driver $NIC e1000e "after restore vmnic: "
before=$(snapshot)
conf "[wrongnic]" "address = $NIC" "ids = 10de:2204"
pcb bind wrongnic
expect_rc "a section whose ids guard does not match is refused" 2 3
expect_match "the refusal names the address" "$OUT" "$NIC"
expect_same "nothing changed" "$before" "$(snapshot)"
conf "[vmnic]" "address = $NIC"
chmod 0666 /etc/pcibind/pcibind.conf
pcb bind vmnic
expect_rc "a world-writable config is refused" 2 3
expect_same "nothing changed" "$before" "$(snapshot)"
rm -f /etc/pcibind/pcibind.conf

# the NIC that carries the default route
ip link set "$IF" up
ip addr add 10.0.2.15/24 dev "$IF"
ip route add default via 10.0.2.2 dev "$IF"
pcb bind $NIC
expect_rc "binding the NIC of the default route is refused" 3
expect_match "the refusal names the route or the interface" "$OUT" "route|$IF"
expect_same "nothing changed" "$before" "$(snapshot)"
ip route del default
ip addr flush dev "$IF"
ip link set "$IF" down

# a bind that the kernel does not carry out is rolled back
dmesg_mark
pcb bind --driver e1000 $NIC
expect_rc "binding to a driver that does not take the device fails" 1
expect_match "the failure names the device" "$OUT" "$NIC"
expect_driver $NIC e1000e "rolled back: "
expect_override $NIC "(null)" "rolled back: "
expect "no journal entry left by the rolled-back bind" "$(journal_of $NIC)" ""
note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-400)"
reset_all
