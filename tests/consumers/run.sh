#!/bin/bash
# run.sh - the real-consumer tier: pcibind's boot setup read by the programs that read it, in Debian 12 and 13
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/consumers/run.sh [ROOT...]      (roots: deb12-grub deb12-dracut deb13-grub deb13-dracut runtime fresh)
#
# Each root is a Debian userland from tests/lib/debroot.sh (cached), unpacked afresh below
# $PCIBIND_CONSUMERS_WORK (default build/consumers); pcibind goes in with `make install DESTDIR=`
# and runs from outside with --root on a fake sysfs/proc below the root; the refresh commands it
# prints run inside, then the real consumers (grub-mkconfig, grub-script-check, update-initramfs,
# lsinitramfs, dracut, lsinitrd, kernel-install, modprobe, systemd-analyze, udevadm) and checks on
# what they made. See tests/consumers/README.md. "runtime": the documented runtime dependencies
# are the linked ones; "fresh": the README's commands on a minimal Debian 12 (fresh.sh).
#
# Environment: PCIBIND_CACHE (tarballs, with debroot.sh), PCIBIND_CONSUMERS_WORK,
# PCIBIND_CONSUMERS_SRC (the tree `make install` runs in; default this one: for trying an older
# pcibind against these checks), PCIBIND_FRESH (fresh.sh's: what to run in the fresh root).
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SRC=${PCIBIND_CONSUMERS_SRC:-$REPO}
WORK=$(realpath -m "${PCIBIND_CONSUMERS_WORK:-$REPO/build/consumers}")
T_START=$SECONDS

# shellcheck source=../lib/debroot.sh
. "$REPO/tests/lib/debroot.sh"
# shellcheck source=roots.sh
. "$HERE/roots.sh"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
for f in "$HERE"/deb1*.sh "$HERE"/runtime.sh "$HERE"/fresh.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

# unpack_root NAME DIR: the cached userland NAME, afresh in DIR
unpack_root() {
	local tar t0=$SECONDS
	guard_root "$2"
	if ! tar=$(root_tar "$1" 2>"$WORK/$1.debroot"); then
		nok "$1: no Debian userland: $(tail -n 3 "$WORK/$1.debroot" | tr '\n' ' ')"
		return 1
	fi
	if ! debroot_unpack "$tar" "$2" 2>"$WORK/$1.unpack"; then
		nok "$1: cannot unpack $tar: $(tail -n 3 "$WORK/$1.unpack" | tr '\n' ' ')"
		return 1
	fi
	say "$1: $(basename "$tar") unpacked in $((SECONDS - t0)) s"
}

main() {
	local r roots=${*:-$CONSUMER_ROOTS runtime fresh} t0
	for r in $roots; do
		case $r in deb12-grub | deb12-dracut | deb13-grub | deb13-dracut | runtime | fresh) ;; *)
			echo "usage: $0 [deb12-grub|deb12-dracut|deb13-grub|deb13-dracut|runtime|fresh]..." >&2
			exit 2
			;;
		esac
	done
	guard_root "$WORK"
	mkdir -p "$WORK" || { nok "cannot create $WORK"; exit 1; }
	for tool in unshare chroot mount; do
		command -v "$tool" >/dev/null || { nok "$tool is missing: the consumer tier cannot run"; exit 1; }
	done
	if [ "$(id -u)" != 0 ]; then
		nok "the consumer tier needs root (chroot, mount namespaces)"
		exit 1
	fi
	# the fresh machine (mostly CPU: dpkg, compilers, the simulator) alongside the others (mostly disk)
	if [[ " $roots " == *" fresh "* ]]; then
		(
			t0=$SECONDS
			flavor_fresh
			say "fresh: $((SECONDS - t0)) s"
		) >"$WORK/fresh.out" 2>&1 &
		fresh=$!
		roots=${roots//fresh/}
	fi
	for r in $roots; do
		t0=$SECONDS
		"flavor_${r//-/_}"
		say "$r: $((SECONDS - t0)) s"
	done
	if [ -n "${fresh:-}" ]; then
		wait "$fresh"
		cat "$WORK/fresh.out"
		PASS=$((PASS + $(grep -c '^ok - ' "$WORK/fresh.out")))
		FAIL=$((FAIL + $(grep -c '^not ok - ' "$WORK/fresh.out")))
	fi
	say "$PASS passed, $FAIL failed ($((SECONDS - T_START)) s)"
	[ "$FAIL" -eq 0 ]
}

main "$@"
