#!/bin/bash
# lint-man.sh - the installed files: man pages render without warnings, the unit verifies, the completion parses
# SPDX-License-Identifier: GPL-2.0-or-later
#   tests/lint-man.sh PCIBIND_BINARY    (one "ok - lint: ..." / "not ok - lint: ..." line per check)
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$SRC/build/pcibind}")
fail=0
ok() { echo "ok - lint: $*"; }
nok() { echo "not ok - lint: $*"; fail=1; }
# check WHAT COMMAND...: ok when the command succeeds and prints nothing
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1) && [ -z "$out" ]; then ok "$what"; else nok "$what: $(printf '%s' "$out" | head -n 5 | tr '\n' '|')"; fi
}

for m in man/pcibind.8 man/pcibind.conf.5; do
	check "groff -man -ww -z $m" groff -man -ww -z "$SRC/$m"
	if command -v mandoc >/dev/null; then
		check "mandoc -T lint $m" mandoc -T lint -W warning "$SRC/$m"
	fi
	check "man --warnings -l $m" sh -c "MANWIDTH=80 man --warnings -l '$SRC/$m' 2>&1 >/dev/null"
done

# every command the binary has is in pcibind(8)
for c in $("$BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
	if grep -q "^\.B $c\b\|^\.B $c \|^\.B $c$" "$SRC/man/pcibind.8"; then ok "pcibind(8) documents '$c'"
	else nok "pcibind(8) documents '$c'"; fi
done

# every exit status pcibind(8) documents is in --help too, with the same number
help=$("$BIN" --help)
for st in $(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$SRC/man/pcibind.8" | sed -n '/^\.TP/{n;s/^\.B \([0-9]\)$/\1/p}'); do
	if grep -q "^  $st  " <<<"$help"; then ok "pcibind --help lists exit status $st"
	else nok "pcibind --help lists exit status $st (pcibind(8) documents it)"; fi
done

# make install into a staging root; systemd-analyze verify the unit there (man pages found through MANPATH)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
if make -C "$SRC" --no-print-directory install DESTDIR="$stage" PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system \
	UDEVDIR=/usr/lib/udev >"$stage.log" 2>&1; then
	ok "make install DESTDIR="
else
	nok "make install DESTDIR=: $(tail -n 3 "$stage.log" | tr '\n' '|')"
fi
rm -f "$stage.log"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify pcibind.service" env MANPATH="$stage/usr/share/man" \
		systemd-analyze verify --root="$stage" "$stage/usr/lib/systemd/system/pcibind.service"
else
	nok "systemd-analyze is missing"
fi
check "the installed rule and unit name the installed binary" \
	sh -c "grep -q '/usr/sbin/pcibind apply --udev %k' '$stage/usr/lib/udev/rules.d/60-pcibind.rules' && grep -q '^ExecStart=/usr/sbin/pcibind apply$' '$stage/usr/lib/systemd/system/pcibind.service'"
check "an existing pcibind.conf is kept by make install" sh -c "echo '[mine]' >'$stage/etc/pcibind/pcibind.conf' &&
	make -C '$SRC' --no-print-directory -s install DESTDIR='$stage' PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system UDEVDIR=/usr/lib/udev >/dev/null 2>&1 && grep -qx '\[mine\]' '$stage/etc/pcibind/pcibind.conf'"
check "make uninstall leaves only the configuration" sh -c "make -C '$SRC' --no-print-directory -s uninstall DESTDIR='$stage' PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system UDEVDIR=/usr/lib/udev >/dev/null 2>&1 &&
	! find '$stage' -type f | grep -v '/etc/pcibind/pcibind.conf$'"
check "bash -n completion/pcibind.bash" bash -n "$SRC/completion/pcibind.bash"
# `check DESC CMD >FILE` sends the check's own ok/not ok line into FILE: a test that cannot report
hidden=$(cd "$SRC" && git ls-files 'tests/*.sh' | while read -r f; do
	awk -v F="$f" '{ line = line $0 } /\\$/ { sub(/\\$/, "", line); next }
		{ if (line ~ /^[ \t]*(check|timing_check)[ \t]+"/ && line ~ /[^2&]>[ ]*("[^"]*"|[^ "]+)([ ]+2>&1)?[ ]*$/)
			print F ":" NR; line = "" }' "$f"
done)
check "no test redirects its own check line away (${hidden:-none})" test -z "$hidden"
# the C follows .clang-format (clang-format 14, Debian 12's): a file it would change fails here
unformatted=$(cd "$SRC" && for f in $(git ls-files 'src/*.[ch]'); do clang-format "$f" | cmp -s - "$f" || printf '%s ' "$f"; done)
check "src/ follows .clang-format (${unformatted:-all files do})" test -z "$unformatted"
# who may write what (HACKING.md): the journal, sysfs, state and configuration files
"$SRC/tests/invariants.sh" || fail=1
exit $fail
