# status.sh - status reads the real machine: every function, its driver, override and group
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0

pcb status
expect_rc "status" 0
for d in $S/devices/*; do
	d=${d##*/}
	# its block: the line naming it and the indented lines below it (driver: X)
	line=$(printf '%s\n' "$OUT" | awk -v a="  $d " 'index($0, a) == 1 { p = 1; next } p && /^      / { print; next } { p = 0 }' | grep "driver: ")
	want=$(drv $d)
	[ "$want" = - ] && want=none
	expect_match "status shows $d with driver: $want" "$line" "driver: $want( |$)"
done
expect_match "status groups the GPU's two functions under one IOMMU group" \
	"$(printf '%s\n' "$OUT" | sed -n "/^IOMMU group $(grp 0000:01:00.0)\$/,/^IOMMU group/p")" "0000:01:00.1"
expect_match "status names the vendor from pci.ids" "$OUT" "82574L"

pcb status 01:00
expect_rc "status of a slot" 0
expect "status of a slot lists both functions" "$(printf '%s\n' "$OUT" | grep -c '0000:01:00\.[01]')" 2
pcb status 8086:10d3
expect "status by ids lists both twin NICs" "$(printf '%s\n' "$OUT" | grep -cE '0000:(02:00|00:06)\.0')" 2

pcb status --json
expect_rc "status --json" 0
expect_match "status --json names a function" "$OUT" '"0000:02:00\.0"'
expect "status --json is one document (starts with { or [)" "$(printf '%s' "$OUT" | head -c 1 | tr '[' '{')" "{"

pcb status 0000:09:00.0
expect_rc "status of an address that does not exist" 0 2
expect_match "status says the address matches nothing" "$OUT" "0000:09:00\.0"
pcb status not-a-selector
expect_rc "status of a malformed selector" 2
