# lib.sh - helpers for simulator scenarios: start a simulated machine, run pcibind, assert
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Set by run.sh: PCIBIND, PCISIM, SRCDIR, SIM_TAG. Each scenario starts its own machine.

SCEN=""       # current scenario name
ROOT=""       # the simulated machine's root
OUT=""        # stdout+stderr of the last pb
ST=0          # exit status of the last pb

# SIM_TAG names the tier in each line: "sim", or "valgrind" for run.sh --valgrind
ok() { echo "ok - ${SIM_TAG:-sim}: $SCEN: $*"; }
notok() { echo "not ok - ${SIM_TAG:-sim}: $SCEN: $*"; }

# check DESCRIPTION COMMAND...: ok if the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else notok "$what"; echo "#   output of the last pcibind run (exit $ST):"; sed 's/^/#   | /' <<<"$OUT"; fi
}

# timing_check DESCRIPTION COMMAND...: check for a wall-clock bound (groups overlap, ...).
# Under valgrind (run.sh --valgrind) every run costs about a CPU second and its forked
# children share the CPUs, so such a bound says nothing there: not judged, and said so.
timing_check() {
	if [ "${SIM_TAG:-sim}" = valgrind ]; then
		echo "# skip - valgrind: $SCEN: $1: a wall-clock bound, not judged under valgrind"
		return 0
	fi
	check "$@"
}

sim_start() {
	SCEN=$1
	ROOT=$(mktemp -d /tmp/pcibind-sim.XXXXXX)
	if ! "$PCISIM" "$SRCDIR/tests/sim/$2.topo" "$ROOT" 2>"$ROOT.err"; then
		notok "simulator did not start on $2.topo: $(cat "$ROOT.err")"
		return 1
	fi
	rm -f "$ROOT.err"
	mkdir -p "$ROOT/etc/pcibind" "$ROOT/run" "$ROOT/dev"
	export PCISIM_ROOT=$ROOT PCIBIND_MODPROBE=$SRCDIR/tests/sim/fake-modprobe
}

sim_stop() {
	[ -n "$ROOT" ] || return 0
	fusermount3 -u "$ROOT/sys" 2>/dev/null || umount -l "$ROOT/sys" 2>/dev/null
	rm -rf "$ROOT"
	ROOT=""
}

# pb ARGS...: run pcibind on the simulated machine; output in $OUT, status in $ST
pb() {
	OUT=$("$PCIBIND" --root "$ROOT" "$@" 2>&1)
	ST=$?
}

ctl() { echo "$*" >"$ROOT/sys/.pcisim/ctl"; }
sim_log() { cat "$ROOT/sys/.pcisim/log"; }
# number of writes to the simulated sysfs ("PATH DATA -> RESULT" lines; control writes excluded)
writes() { sim_log | grep ' -> ' | grep -vc '^\.pcisim/'; }

driver_of() {
	local l
	l=$(readlink "$ROOT/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo none; return; }
	basename "$l"
}
override_of() { cat "$ROOT/sys/bus/pci/devices/$1/driver_override" 2>/dev/null || echo missing; }
journal_lines() { grep -vc '^#' "$ROOT/run/pcibind/journal" 2>/dev/null || echo 0; }

# the block status prints for ADDR in $OUT: its line ("  ADDR class: name") and the indented lines below it
fn_block() { awk -v a="  $1 " 'index($0, a) == 1 { p = 1; print; next } p && /^      / { print; next } { p = 0 }' <<<"$OUT"; }
fn_shows() { fn_block "$1" | grep -q -- "$2"; }

is_driver() { [ "$(driver_of "$1")" = "$2" ]; }
is_override() { [ "$(override_of "$1")" = "$2" ]; }
exit_is() { [ "$ST" -eq "$1" ]; }
out_has() { grep -qF -- "$1" <<<"$OUT"; }
no_journal() { [ ! -s "$ROOT/run/pcibind/journal" ]; }

conf() {
	mkdir -p "$ROOT/etc/pcibind"
	cat >"$ROOT/etc/pcibind/pcibind.conf"
	chmod 0644 "$ROOT/etc/pcibind/pcibind.conf"
}

# a process holding a device node, as /proc shows it: fake_holder PID COMM NODE
fake_holder() {
	mkdir -p "$ROOT/proc/$1/fd"
	echo "$2" >"$ROOT/proc/$1/comm"
	ln -sf "$3" "$ROOT/proc/$1/fd/7"
}
