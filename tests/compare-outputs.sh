#!/bin/bash
# compare-outputs.sh - two pcibind binaries, the same outputs? For a restructuring that must not change behaviour
# SPDX-License-Identifier: GPL-2.0-or-later
#   tests/compare-outputs.sh OLD_PCIBIND NEW_PCIBIND [PCISIM]
# Runs the commands that only read (status, status --tree, status --json, check, check --json, generate,
# generate --json, setup SEL --dry-run) with each binary on every simulator topology (with a Debian 12
# userland below the root, as tests/sim/scenarios-setup.sh lays it) and every tests/gen tree, on the
# same root, and compares stdout, stderr and the exit status byte for byte. Prints one "same"/"DIFFERS"
# line per command and machine, then "N compared, N differ"; exit 1 if any differs.
# To build the old binary: git worktree add /tmp/old REV && make -C /tmp/old build/pcibind
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
old=$(realpath "${1:?usage: compare-outputs.sh OLD_PCIBIND NEW_PCIBIND [PCISIM]}")
new=$(realpath "${2:?usage: compare-outputs.sh OLD_PCIBIND NEW_PCIBIND [PCISIM]}")
sim=$(realpath "${3:-$SRCDIR/build/pcisim}")
tmp=$(mktemp -d /tmp/pcibind-compare.XXXXXX)
case $tmp in /tmp/pcibind-compare.?*) ;; *) echo "compare: refusing the directory '$tmp'" >&2; exit 1 ;; esac
ROOT=""
cleanup() { [ -n "$ROOT" ] && fusermount3 -u "$ROOT/sys" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
compared=0
differ=0

# one command with each binary on ROOT; the outputs compared
one() {
	local what=$1 a b
	shift
	a=$("$old" --root "$ROOT" "$@" 2>&1; echo "[exit $?]")
	b=$("$new" --root "$ROOT" "$@" 2>&1; echo "[exit $?]")
	compared=$((compared + 1))
	if [ "$a" = "$b" ]; then
		echo "same     $what: pcibind $*"
	else
		differ=$((differ + 1))
		echo "DIFFERS  $what: pcibind $*"
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -n 12 | sed 's/^/#   /'
	fi
}

commands() {
	local what=$1 sel=$2
	one "$what" status
	one "$what" status --tree
	one "$what" status --json
	one "$what" check
	one "$what" check --json
	one "$what" generate
	one "$what" generate --json
	[ -n "$sel" ] && one "$what" setup "$sel" --boot --dry-run
	[ -n "$sel" ] && one "$what" setup "$sel" --boot --dry-run --json
}

# the simulator's machines, each with a Debian 12 userland below the root
g=$SRCDIR/tests/gen/debian12-grub-efi-intel/root
for topo in "$SRCDIR"/tests/sim/*.topo; do
	name=$(basename "$topo" .topo)
	ROOT=$tmp/$name
	mkdir -p "$ROOT"
	if ! "$sim" "$topo" "$ROOT" 2>"$tmp/sim.err"; then
		echo "DIFFERS  $name: the simulator did not start: $(cat "$tmp/sim.err")"
		differ=$((differ + 1))
		continue
	fi
	mkdir -p "$ROOT/etc/pcibind" "$ROOT/run" "$ROOT/usr/lib/systemd/system"
	cp -a "$g/etc/os-release" "$g/etc/default" "$g/etc/initramfs-tools" "$ROOT/etc/"
	cp -a "$g/boot" "$g/usr" "$g/lib" "$ROOT/"
	cp -a "$g/proc/cpuinfo" "$g/proc/interrupts" "$g/proc/sys" "$ROOT/proc/"
	sed 's|@SBINDIR@|/usr/sbin|g' "$SRCDIR/systemd-units/pcibind.service.in" >"$ROOT/usr/lib/systemd/system/pcibind.service"
	printf '[pcibind]\ndriver = vfio-pci\n' >"$ROOT/etc/pcibind/pcibind.conf"
	chmod 0644 "$ROOT/etc/pcibind/pcibind.conf"
	# the first function on a driver that is neither a bridge nor the boot GPU: a slot to set up
	sel=$(awk '$1 == "fn" && /driver=/ && !/class=06/ && !/boot_vga=1/ { split($2, a, "."); print a[1]; exit }' "$topo")
	commands "$name" "$sel"
	fusermount3 -u "$ROOT/sys" 2>/dev/null
	ROOT=""
done
# the generator's trees (a plain sysfs of files and links)
for c in "$SRCDIR"/tests/gen/*/root; do
	name=gen-$(basename "$(dirname "$c")")
	ROOT=$tmp/$name
	cp -a "$c" "$ROOT"
	commands "$name" ""
	ROOT=""
done
echo "$compared compared, $differ differ"
[ "$differ" -eq 0 ]
