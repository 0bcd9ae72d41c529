#!/bin/bash
# seams.sh - issue 20's seams of generate found by a hostile tester: a lost original, a killed run's
# leftovers, a file that already has the argument, a record that is binary or a FIFO
# SPDX-License-Identifier: GPL-2.0-or-later
#   tests/gen/seams.sh PCIBIND   (run by tests/gen/run.sh; "ok - gen: seams: ..." lines)
set -u
cd "$(dirname "$0")" || exit 1
bin=${1:?usage: seams.sh PCIBIND}
case $bin in /*) ;; *) bin=$PWD/../../$bin ;; esac
tmp=$(mktemp -d /tmp/pcibind-seams.XXXXXX)
case $tmp in /tmp/pcibind-seams.*) ;; *) echo "not ok - gen: seams: no temporary directory"; exit 1 ;; esac
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - gen: seams: $*"; }
nok() { echo "not ok - gen: seams: $*"; fail=1; }
check() { # check DESC CMD...
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
# fresh ROOT from a case; refuses an empty or / root
fresh() {
	root=$tmp/$2
	case $root in "$tmp"/?*) ;; *) echo "not ok - gen: seams: bad root '$root'"; exit 1 ;; esac
	rm -rf "$root" && cp -a "$1/root" "$root"
}
files() { (cd "$root" && find . ! -type d -printf '%p\n' | sort); }

# 2: the saved original of an in-place edited file is gone; --remove takes out the rest, and its own
# arguments from the file as it is now
lost_original() {
	local out st
	fresh arch-mkinitcpio-intel lost
	cp "$root/etc/default/grub" "$tmp/grub.before"
	"$bin" --root "$root" generate --write >/dev/null 2>&1
	check "lost original: --write edited /etc/default/grub" grep -q 'intel_iommu=on' "$root/etc/default/grub"
	rm "$root/var/lib/pcibind/orig/etc/default/grub"
	out=$("$bin" --root "$root" generate --remove 2>&1)
	st=$?
	check "lost original: --remove exits 0" test "$st" -eq 0
	check "... takes out the modprobe.d and modules-load.d files and the initramfs hook" \
		test ! -e "$root/etc/modprobe.d/pcibind.conf" -a ! -e "$root/etc/modules-load.d/pcibind.conf" -a ! -e "$root/etc/initcpio/install/pcibind"
	check "... takes pcibind's arguments out of /etc/default/grub" bash -c '! grep -q "intel_iommu=on" "$1"' _ "$root/etc/default/grub"
	# pcibind replaced the user's intel_iommu=off: that value was in the lost original only
	check "... leaves the user's own words in it" grep -qx 'GRUB_CMDLINE_LINUX_DEFAULT="loglevel=3 quiet"' "$root/etc/default/grub"
	check "... and says what it could not put back" grep -q 'a value it replaced (intel_iommu=on) cannot be put back' <<<"$out"
	check "... says the original was missing" grep -q 'its original (/var/lib/pcibind/orig/etc/default/grub) is missing' <<<"$out"
	check "... and its record is gone" test ! -e "$root/var/lib/pcibind/boot-edits"
	# --write with the original lost: the file as it is now becomes the original
	fresh arch-mkinitcpio-intel lost2
	"$bin" --root "$root" generate --write >/dev/null 2>&1
	rm "$root/var/lib/pcibind/orig/etc/default/grub"
	"$bin" --root "$root" generate --write >/dev/null 2>&1
	st=$?
	check "lost original: a second --write exits 0" test "$st" -eq 0
	check "... and keeps a new original, without pcibind's arguments" \
		bash -c 'test -f "$1" && ! grep -q "intel_iommu=on" "$1"' _ "$root/var/lib/pcibind/orig/etc/default/grub"
}

# 3: what a killed --write left (a temporary file beside a target it never renamed, the directory it
# made for it) goes with --remove
killed_leftovers() {
	local st
	fresh debian12-grub-efi-intel killed
	files >"$tmp/killed.before"
	# as a run killed between its record and its rename leaves it
	mkdir -p "$root/var/lib/pcibind" "$root/etc/modprobe.d"
	printf 'etc/modprobe.d\n' >"$root/var/lib/pcibind/created-dirs"
	printf 'half\n' >"$root/etc/modprobe.d/.pcibind.conf.pcibind-0badc0de"
	"$bin" --root "$root" generate --remove >/dev/null 2>&1
	st=$?
	check "killed run: --remove exits 0" test "$st" -eq 0
	check "... the temporary file it left is gone" test ! -e "$root/etc/modprobe.d/.pcibind.conf.pcibind-0badc0de"
	check "... and the directory it made for it" test ! -e "$root/etc/modprobe.d"
	check "... every file as before" diff "$tmp/killed.before" <(files)
	# the same from real kills: SIGKILL at random moments of --write, then --remove
	local i left=0
	for i in $(seq 1 10); do
		fresh debian12-grub-efi-intel kill$i
		files >"$tmp/kill.before"
		"$bin" --root "$root" generate --write >/dev/null 2>&1 &
		sleep "0.00$((RANDOM % 9))"
		kill -9 $! 2>/dev/null
		wait $! 2>/dev/null
		"$bin" --root "$root" generate --remove >/dev/null 2>&1
		if ! diff "$tmp/kill.before" <(files) >"$tmp/kill.diff"; then
			left=$((left + 1))
			sed 's/^/#   /' "$tmp/kill.diff" | head -5
		fi
	done
	check "10 runs killed at random: --remove leaves every file as before" test "$left" -eq 0
}

# 4: the argument is already where the user put it: the file is not edited at all
already_there() {
	local out
	fresh arch-mkinitcpio-intel already
	sed -i 's/intel_iommu=off/intel_iommu=on/' "$root/etc/default/grub"
	cp "$root/etc/default/grub" "$tmp/grub.user"
	out=$("$bin" --root "$root" generate --write 2>&1)
	check "argument already there: /etc/default/grub is not edited (no marker line)" cmp -s "$tmp/grub.user" "$root/etc/default/grub"
	check "... no record of an edit" test ! -e "$root/var/lib/pcibind/boot-edits"
	check "... and grub-mkconfig is not run" bash -c '! grep -q "grub-mkconfig" <<<"$1"' _ "$out"
}

# 6: a record that is binary or a FIFO: named, with the line and what is wrong
bad_record() {
	local out st
	fresh proxmox8-sdboot-amd badrec
	"$bin" --root "$root" generate --write >/dev/null 2>&1
	printf '# pcibind\nedit etc/kernel/cmdline copy \001\000x\n' >"$root/var/lib/pcibind/boot-edits"
	out=$("$bin" --root "$root" generate --remove 2>&1)
	st=$?
	check "binary record: refused (exit 1)" test "$st" -eq 1
	check "... naming the file, the line and what is wrong" grep -q 'boot-edits:2: not text (a NUL byte)' <<<"$out"
	rm "$root/var/lib/pcibind/boot-edits"
	mkfifo "$root/var/lib/pcibind/boot-edits"
	out=$(timeout 10 "$bin" --root "$root" generate --remove 2>&1)
	st=$?
	check "FIFO record: refused at once (exit 1)" test "$st" -eq 1
	check "... naming the file and what it is" grep -q 'boot-edits: not a regular file (a FIFO, a device or a directory)' <<<"$out"
	rm -f "$root/var/lib/pcibind/boot-edits" "$root/var/lib/pcibind/created-dirs"
	mkfifo "$root/var/lib/pcibind/created-dirs"
	out=$(timeout 10 "$bin" --root "$root" generate --remove 2>&1)
	check "FIFO created-dirs: named too" grep -q 'created-dirs: not a regular file' <<<"$out"
}

lost_original
killed_leftovers
already_there
bad_record
exit $fail
