#!/bin/bash
# variants.sh - driver = auto against a real kernel's modules.alias, with the real modprobe as the oracle
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/vm/variants.sh PCIBIND KROOT KVER
#   (called by tests/vm/run.sh for each kernel it unpacked)
#
# A plain directory stands for a host running KVER: its modules.alias is the kernel's own (depmod -b
# of the unpacked package), its sysfs one function per vfio_pci: alias of that file (each alias made
# concrete) and per vfio variant driver upstream has (xe, mlx5, hisi_acc, pds, virtio, nvgrace-gpu,
# qat), each a set with driver = auto.  pcibind's pick for each (status --json) must be the module
# `modprobe -d KROOT -S KVER --resolve-alias` names for that function's vfio_pci: modalias, and, where
# modprobe names several, the one whose alias has the fewest wildcards (libvirt's rule).
set -u -o pipefail
PCIBIND=$1 KROOT=$2 KVER=$3
ALIAS="$KROOT/lib/modules/$KVER/modules.alias"
ok() { echo "ok - vm: variants: $*"; }
nok() { echo "not ok - vm: variants: $*"; }

[ -s "$ALIAS" ] || { nok "no $ALIAS"; exit 1; }
ROOT=$(mktemp -d /tmp/pcibind-variants.XXXXXX) || { nok "mktemp"; exit 1; }
case $ROOT in "" | /) nok "refusing to use '$ROOT' as a root"; exit 1 ;; esac
trap 'rm -rf "$ROOT"' EXIT

# vendor device subvendor subdevice class: the upstream variant drivers' devices, then the aliases
DEVS="8086 e20b 8086 1100 030000 xe (Battlemage)
15b3 101e 15b3 0001 020000 mlx5 (ConnectX-7 VF)
19e5 a256 19e5 0000 120000 hisi_acc (ZIP VF)
1dd8 1003 1dd8 0000 020000 pds (DSC VF)
1af4 1041 1af4 0001 020000 virtio (virtio-net)
10de 2342 10de 0000 030200 nvgrace-gpu (GH200)
8086 4941 8086 0000 0b4000 qat (4xxx VF)"
# each vfio_pci: alias, its wildcards filled in (class fields from the alias, else a NIC's)
while read -r _ pat mod; do
	v=$(sed -n 's/^vfio_pci:v\([0-9A-F]*\)d.*/\1/p' <<<"$pat") d=$(sed -n 's/.*d\([0-9A-F]\{8\}\)sv.*/\1/p' <<<"$pat")
	DEVS+=$'\n'"$(printf '%04x %04x 0000 0000 020000 %s' "$((16#${v:-00001234}))" "$((16#${d:-00001111}))" "$mod:$pat")"
done < <(grep '^alias vfio_pci:' "$ALIAS")
N=$(grep -c '^alias vfio_pci:' "$ALIAS")
echo "# vm: variants: $KVER's modules.alias has $N vfio_pci: aliases: $(grep '^alias vfio_pci:' "$ALIAS" | awk '{ print $3 }' | sort | uniq -c | tr -s ' \n' ' ')"

mkdir -p "$ROOT/proc/sys/kernel" "$ROOT/lib/modules/$KVER" "$ROOT/etc/pcibind" "$ROOT/sys/kernel/iommu_groups"
echo "$KVER" >"$ROOT/proc/sys/kernel/osrelease"
cp "$ALIAS" "$ROOT/lib/modules/$KVER/modules.alias"
i=0
while read -r v d sv sd cls what; do
	i=$((i + 1))
	fn=$(printf '0000:%02x:00.0' "$i")
	D="$ROOT/sys/bus/pci/devices/$fn"
	mkdir -p "$D" "$ROOT/sys/kernel/iommu_groups/$i/devices"
	printf '0x%s\n' "$v" >"$D/vendor"
	printf '0x%s\n' "$d" >"$D/device"
	printf '0x%s\n' "$sv" >"$D/subsystem_vendor"
	printf '0x%s\n' "$sd" >"$D/subsystem_device"
	printf '0x%s\n' "$cls" >"$D/class"
	echo "(null)" >"$D/driver_override"
	ln -s "../../../kernel/iommu_groups/$i" "$D/iommu_group"
	printf '[f%d]\naddress = %s\ndriver = auto\n\n' "$i" "$fn" >>"$ROOT/etc/pcibind/pcibind.conf"
	echo "$fn $v $d $sv $sd $cls $what" >>"$ROOT/list"
done <<<"$DEVS"
chmod 0644 "$ROOT/etc/pcibind/pcibind.conf"

if ! "$PCIBIND" --root "$ROOT" status --json >"$ROOT/status.json" 2>"$ROOT/status.err"; then
	nok "pcibind --root status --json: $(tr '\n' '|' <"$ROOT/status.err")"
	exit 1
fi
fail=0
while read -r fn v d sv sd cls what; do
	ma=$(printf 'vfio_pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X' "$((16#$v))" "$((16#$d))" "$((16#$sv))" "$((16#$sd))" \
		"$((16#${cls:0:2}))" "$((16#${cls:2:2}))" "$((16#${cls:4:2}))")
	want=$(modprobe -d "$KROOT" -S "$KVER" --resolve-alias "$ma" 2>/dev/null | tr '\n' ' ')
	got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for g in d["groups"]:
    for f in g["functions"]:
        if f["address"] == sys.argv[2]:
            print((f.get("variant") or {}).get("module", "") or "-")' "$ROOT/status.json" "$fn")
	if [ -n "$want" ] && [ "${got:-?}" = "$(tr -d ' ' <<<"${want%% *}")" ] && [ "$(wc -w <<<"$want")" = 1 ]; then
		ok "$v:$d class $cls ($what): pcibind picks $got, as modprobe --resolve-alias $ma"
	elif [ -n "$want" ] && [ "$(wc -w <<<"$want")" -gt 1 ] && grep -qw -- "${got:-?}" <<<"$want"; then
		ok "$v:$d class $cls ($what): pcibind picks $got of modprobe's $want"
	else
		nok "$v:$d class $cls ($what): pcibind picks '${got:-?}', modprobe --resolve-alias $ma says '$want'"
		fail=1
	fi
done <"$ROOT/list"
exit $fail
