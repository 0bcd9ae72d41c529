# moved.sh - the configured card moves to another root port between two boots (issue 24)
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One machine booted three times (run.sh's moved boot, PHASE 1-3); /etc and /var
# are carried from one boot to the next, /run is not.  Every card is a QEMU
# e1000e (8086:10d3, the same subsystem ids); only the PCIe Device Serial
# Number, which QEMU makes from the MAC, tells them apart.
#   boot 1:     A 01:00.0, C 02:00.0, D 03:00.0; setup makes the sets nic (A),
#               fnic (C, follow = yes) and lost (D, follow = yes), all boot = yes
#   boots 2, 3: B 01:00.0 (another card where A was), E 03:00.0 (another card
#               where D was), A 04:00.0, C 05:00.0; D gone, bus 02 empty
# Boot 2 runs the boot path (`pcibind apply`, what pcibind.service runs):
# nothing at an old address is bound, fnic follows its serial number to
# 05:00.0, lost finds no card with its serial and binds nothing; check names
# nic's new address and the fix, `setup --relocate nic` rewrites it.  Boot 3:
# apply binds nic at 04:00.0.
need_pcibind || return 0
CONF=/etc/pcibind/pcibind.conf
MARK=/var/lib/vmtest
LSPCI=/usr/bin/lspci
mkdir -p $MARK

# the serial number QEMU's e1000e makes from a MAC (hw/net/e1000e.c, e1000e_gen_dsn()), as lspci shows it
card_mac() { echo "52:54:00:12:34:0$1"; }
card_sn() { card_mac "$1" | awk -F: '{ print $1 "-" $2 "-" $3 "-ff-ff-" $4 "-" $5 "-" $6 }'; }
# the serial number lspci reads in a function's config space ("" without the capability)
serial_of() { $LSPCI -vvv -s "$1" 2>/dev/null | sed -n 's/.*Device Serial Number \([0-9a-f-]*\).*/\1/p'; }
# vendor:device and subsystem ids as sysfs has them, without 0x
ids_of() {
	echo "$(sed 's/^0x//' $S/devices/$1/vendor):$(sed 's/^0x//' $S/devices/$1/device)" \
		"$(sed 's/^0x//' $S/devices/$1/subsystem_vendor):$(sed 's/^0x//' $S/devices/$1/subsystem_device)"
}
# the function whose config space holds serial number SN, "none" when no function does
where_sn() {
	$LSPCI -D -vvv 2>/dev/null | awk -v sn="$1" '
		/^[0-9a-f]{4}:/ { dev = $1 }
		/Device Serial Number/ && $NF == sn { print dev; found = 1 }
		END { if (!found) print "none" }'
}
# conf_key SET KEY: the value of KEY in section [SET] of pcibind.conf
conf_key() {
	awk -v sec="[$1]" -v key="$2" '
		/^[ \t]*\[/ { cur = $0; gsub(/[ \t]/, "", cur); next }
		cur == sec && index($0, "=") {
			k = substr($0, 1, index($0, "=") - 1); v = substr($0, index($0, "=") + 1)
			gsub(/^[ \t]+|[ \t]+$/, "", k); sub(/[ \t]*[;#].*$/, "", v); gsub(/^[ \t]+|[ \t]+$/, "", v)
			if (k == key) print v
		}' $CONF 2>/dev/null
}
on_vfio() {
	local d
	for d in $S/devices/*; do
		[ "$(drv "${d##*/}")" = vfio-pci ] && printf '%s ' "${d##*/}"
	done
}
# the name of the physical slot a function sits in (bus/pci/slots/NAME/address is its bus:device)
slot_of() {
	local s
	for s in $S/slots/*; do
		[ "$(cat $s/address 2>/dev/null)" = "${1%.*}" ] && echo "${s##*/}"
	done
}
conf_sum() { sha256sum $CONF 2>/dev/null | cut -d' ' -f1; }
# expect_untouched DEV WHAT: a card pcibind must leave alone is on e1000e with no override
expect_untouched() { expect "$2" "$(drv "$1") $(ovr "$1")" "e1000e (null)"; }

A=0000:01:00.0 C=0000:02:00.0 D=0000:03:00.0
A2=0000:04:00.0 C2=0000:05:00.0 B=0000:01:00.0 E=0000:03:00.0
note "boot $PHASE"

case $PHASE in
1)
	# the machine as QEMU built it: the serial numbers are there, and only they differ
	expect "lspci reads card A's serial number (from its MAC) at $A" "$(serial_of $A)" "$(card_sn a)"
	expect "lspci reads card C's serial number at $C" "$(serial_of $C)" "$(card_sn c)"
	expect "lspci reads card D's serial number at $D" "$(serial_of $D)" "$(card_sn d)"
	expect "A, C and D have the same ids and subsystem ids" "$(ids_of $A) $(ids_of $C)" "$(ids_of $D) $(ids_of $D)"
	expect "card A sits in slot 1" "$(slot_of $A)" 1

	pcb setup $A --name nic --boot --yes
	expect_rc "setup of card A as set nic" 0
	pcb setup $C --name fnic --boot --yes
	expect_rc "setup of card C as set fnic" 0
	pcb setup $D --name lost --boot --yes
	expect_rc "setup of card D as set lost" 0
	# follow = yes, as a user writes it into the file
	sed -i -e '/^\[fnic\]/a follow = yes' -e '/^\[lost\]/a follow = yes' $CONF
	note "$CONF: $(tr '\n' '|' <$CONF)"

	expect "setup recorded nic's address" "$(conf_key nic address)" "$A"
	expect "setup recorded nic's serial number as lspci reads it" "$(conf_key nic serial)" "$(serial_of $A)"
	expect "setup recorded fnic's serial number as lspci reads it" "$(conf_key fnic serial)" "$(serial_of $C)"
	expect "setup recorded lost's serial number as lspci reads it" "$(conf_key lost serial)" "$(serial_of $D)"
	expect "setup recorded nic's subsystem ids" "$(conf_key nic subsystem)" "$(ids_of $A | cut -d' ' -f2)"
	expect "setup recorded nic's slot, the one sysfs names for $A" "$(conf_key nic slot)" "$(slot_of $A)"
	expect "fnic has follow = yes" "$(conf_key fnic follow)" "yes"
	expect "setup enabled pcibind.service" "$(ls /etc/systemd/system/*/pcibind.service 2>/dev/null | wc -l)" 1

	pcb apply
	expect_rc "apply where setup ran (5: something was bound)" 5
	expect "apply binds the three cards where setup found them" "$(on_vfio)" "$A $C $D "
	pcb check
	expect_nomatch "check finds no set moved" "$OUT" "relocate"
	conf_sum >$MARK/conf.1
	;;
2)
	expect "the pcibind.conf boot 1's setup wrote is there, unchanged" "$(conf_sum)" "$(cat $MARK/conf.1 2>/dev/null)"
	expect "card A (nic) sits at $A2 now" "$(where_sn "$(card_sn a)")" "$A2"
	expect "card C (fnic) sits at $C2 now" "$(where_sn "$(card_sn c)")" "$C2"
	expect "card D (lost) is gone" "$(where_sn "$(card_sn d)")" "none"
	expect "another card of the same model, B, sits at nic's old address $B" "$(serial_of $B)" "$(card_sn b)"
	expect "another card of the same model, E, sits at lost's old address $E" "$(serial_of $E)" "$(card_sn e)"
	expect "card A sits in slot 4 now" "$(slot_of $A2)" 4
	expect "bus 02 (fnic's old one) is empty" "$(ls -d $S/devices/0000:02:* 2>/dev/null)" ""
	expect "B and E have A's ids and subsystem ids" "$(ids_of $B) $(ids_of $E)" "$(ids_of $A2) $(ids_of $A2)"

	# the boot path, as pcibind.service runs it
	pcb apply
	expect_rc "apply at boot with sets refused fails (the unit shows it)" 1 3
	expect_untouched $B "card B at nic's old address is left alone"
	expect_untouched $A2 "nic (no follow) is not bound at its new address $A2"
	expect_untouched $E "card E at lost's old address is left alone (follow = yes, another serial number)"
	expect_driver $C2 vfio-pci "fnic (follow = yes, serial number matched) at its new address: "
	expect "nothing but fnic's card is bound" "$(on_vfio)" "$C2 "
	expect_match "apply says where nic's card is now" "$OUT" "nic.*$A2|$A2.*nic"
	expect_match "apply logs fnic bound at its new address" "$OUT" "fnic.*$C2|$C2.*fnic"

	before=$(snapshot)
	pcb bind nic
	expect_rc "bind nic at its old address is refused" 2 3
	expect_match "the refusal says where nic's card is now" "$OUT" "$A2"
	expect_same "nothing changed" "$before" "$(snapshot)"

	pcb check
	expect_match "check names nic's new address" "$OUT" "$A2"
	expect_match "check gives the fix command" "$OUT" "pcibind setup --relocate nic"

	pcb setup --relocate nic --yes
	expect_rc "setup --relocate nic" 0
	expect_match "the diff takes the old address out" "$OUT" "^-[[:space:]]*address[[:space:]]*=[[:space:]]*$A"
	expect_match "the diff puts the new address in" "$OUT" "^\+[[:space:]]*address[[:space:]]*=[[:space:]]*$A2"
	expect "nic's address is $A2 in pcibind.conf" "$(conf_key nic address)" "$A2"
	expect "nic's serial number is kept" "$(conf_key nic serial)" "$(card_sn a)"
	expect "nic's slot is 4 in pcibind.conf, the one sysfs names for $A2" "$(conf_key nic slot)" "$(slot_of $A2)"
	pcb check
	expect_nomatch "check no longer asks to relocate nic" "$OUT" "relocate nic"
	expect_untouched $B "card B is still left alone"
	conf_sum >$MARK/conf.2
	;;
3)
	expect "pcibind.conf is the one setup --relocate wrote in boot 2" "$(conf_sum)" "$(cat $MARK/conf.2 2>/dev/null)"
	expect "card A sits at $A2, B at $B" "$(serial_of $A2) $(serial_of $B)" "$(card_sn a) $(card_sn b)"
	pcb apply
	expect_match "apply logs fnic followed again" "$OUT" "fnic.*$C2|$C2.*fnic"
	expect_driver $A2 vfio-pci "nic, relocated: "
	expect_driver $C2 vfio-pci "fnic, followed again: "
	expect_untouched $B "card B at nic's old address is left alone"
	expect_untouched $E "card E at lost's old address is left alone"
	expect "nic's and fnic's cards are bound, nothing else" "$(on_vfio)" "$A2 $C2 "
	pcb check
	expect_nomatch "check does not ask to relocate nic" "$OUT" "relocate nic"
	;;
*)
	nok "no boot number (vmtest.phase) on the kernel command line"
	;;
esac
