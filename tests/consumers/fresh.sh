# fresh.sh - a fresh machine: the README's commands on a minimal Debian 12, as a new user would (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# An mmdebstrap --variant=minbase bookworm (no procps, python3, libexpat1, ...) with the tracked
# files of this tree in /root/pcibind (what a clone holds), its own /proc, a /dev/fuse node of its
# own (FUSE for the simulator; nothing of this machine's /dev is mounted), apt's archives cached
# in $PCIBIND_CACHE/apt-archives/bookworm. First only README's runtime dependencies go in and the
# binary built here must run: they are enough. Then, as README says: `apt-get install -y make`,
# `make demo`, and `make check-fast` (PCIBIND_FRESH=check: `make check`). check-fast is the unit,
# simulator, generate and lint tiers: each installs and uses what its tier needs (tests/sim
# needs procps, lint groff and systemd) through the same `make deps` as `make check`; the tiers it
# leaves out (valgrind, fuzz, VM, this one) would add some 25 minutes in a chroot of a chroot,
# beyond the 40-minute budget of `make check` on two cores.

flavor_fresh() {
	local R=$WORK/fresh/root P=fresh what=${PCIBIND_FRESH:-check-fast} last pkgs cache
	cache=${PCIBIND_CACHE:-$HOME/.cache/pcibind-tests}/apt-archives/bookworm
	unpack_root fresh "$R" || return
	mkdir -p "$R/root/pcibind" "$cache/partial"
	(cd "$SRC" && git ls-files -z | tar --null -T - -cf -) | tar -C "$R/root/pcibind" -xf - ||
		{ nok "$P: cannot copy the tracked files of $SRC"; return; }
	cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
	[ -e "$R/dev/fuse" ] || mknod -m 0666 "$R/dev/fuse" c 10 229
	export IN_ROOT_CACHE=$cache
	if ! in_root "$R" apt-get update -q >"$WORK/$P.update" 2>&1; then
		nok "$P: apt-get update in the minimal Debian failed: $(tail -n 2 "$WORK/$P.update" | tr '\n' ' ')"
		unset IN_ROOT_CACHE
		return
	fi

	pkgs=$(documented_runtime | tr '\n' ' ')
	# shellcheck disable=SC2086
	in_root "$R" apt-get install -y -q --no-install-recommends $pkgs >"$WORK/$P.runtime" 2>&1
	check "$P: apt-get install of README's runtime dependencies ($pkgs)" test $? -eq 0
	install -D -m 0755 "$SRC/build/pcibind" "$R/usr/local/sbin/pcibind"
	check "$P: with only those, every library of pcibind is found" test -z "$(in_root "$R" ldd /usr/local/sbin/pcibind | grep 'not found')"
	last=$(in_root "$R" /usr/local/sbin/pcibind --version 2>&1)
	check "$P: with only those, pcibind runs (--version: ${last:-nothing})" test $? -eq 0 -a -n "$last"
	rm -f "$R/usr/local/sbin/pcibind"

	in_root "$R" apt-get install -y -q make >"$WORK/$P.make" 2>&1
	check "$P: apt-get install -y make (README)" test $? -eq 0
	in_root "$R" sh -c 'cd /root/pcibind && make demo' >"$WORK/$P.demo" 2>&1
	check "$P: make demo in the fresh clone exits 0 (log $WORK/$P.demo)" test $? -eq 0
	grep -aE '^(# installing|not ok|.*rror)' "$WORK/$P.demo" | head -n 5 | sed 's/^/#   demo: /'
	in_root "$R" sh -c "cd /root/pcibind && make $what" >"$WORK/$P.check" 2>&1
	last=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$WORK/$P.check" | tail -n 1)
	check "$P: make $what in the fresh clone: ${last:-no summary line} (log $WORK/$P.check)" \
		test -n "$last" -a "${last#* passed, }" = "0 failed"
	grep -a '^not ok' "$WORK/$P.check" | head -n 10 | sed 's/^/#   /'
	unset IN_ROOT_CACHE
}
