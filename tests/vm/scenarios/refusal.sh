# refusal.sh - half a group is refused, with the sibling named, and nothing changes
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
VGA=0000:01:00.0

before=$(snapshot)
pcb --force bind 01:00.0
expect_rc "bind of 01:00.0 alone (forced past the console) is refused" 3
expect_match "the refusal names the sibling 0000:01:00.1" "$OUT" "0000:01:00\.1"
expect_match "the refusal names the sibling's driver" "$OUT" "snd_hda_intel"
expect_same "nothing changed" "$before" "$(snapshot)"
expect "no journal" "$(journal_entries)" 0
expect_node "$(grp $VGA)" absent

pcb bind 00:1f.2
expect_rc "bind of the AHCI function of the ICH9 group alone is refused" 3
expect_match "the refusal names the SMBus sibling 0000:00:1f.3" "$OUT" "0000:00:1f\.3"
expect_nomatch "the driverless LPC function is not held against it" "$OUT" "0000:00:1f\.0"
expect_same "nothing changed" "$before" "$(snapshot)"

pcb --dry-run --force bind 01:00
expect_rc "a dry run of the whole slot" 0
expect_match "the dry run names both functions" "$OUT" "0000:01:00\.0.*|0000:01:00\.1"
expect_same "a dry run changes nothing" "$before" "$(snapshot)"
expect "a dry run writes no journal" "$(journal_entries)" 0

pcb bind 0000:09:00.0
expect_rc "bind of an address that does not exist" 2
expect_match "the error names the address" "$OUT" "0000:09:00\.0"
pcb bind 1:2:3
expect_rc "bind of a malformed address" 2
expect_same "nothing changed by the bad requests" "$before" "$(snapshot)"
