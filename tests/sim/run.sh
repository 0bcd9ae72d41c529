#!/bin/bash
# run.sh - the simulator tier: the simulator's self test, then every scenario
# SPDX-License-Identifier: GPL-2.0-or-later
#   run.sh [--valgrind] PCIBIND PCISIM [SCENARIO...]
# --valgrind: the memcheck tier (tests/sim/valgrind.sh). PCIBIND is a normal build
# (build/pcibind, not the ASan one); every run of it goes through tests/sim/valgrind-pcibind,
# and after each scenario a "valgrind: SCENARIO: memcheck ..." line says whether its runs
# and the processes they forked were clean. The checks say "valgrind:" in place of "sim:";
# no self test (the simulator is not what is checked).
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
VALGRIND=0
if [ "$1" = "--valgrind" ]; then
	VALGRIND=1
	shift
fi
PCIBIND=$(realpath "$1")
PCISIM=$(realpath "$2")
shift 2
SIM_TAG=sim
[ $VALGRIND -eq 1 ] && SIM_TAG=valgrind
export PCIBIND PCISIM SRCDIR SIM_TAG
if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "not ok - $SIM_TAG: FUSE is not available (/dev/fuse, fusermount3): the simulator tier cannot run"
	exit 1
fi
# shellcheck source=tests/sim/lib.sh
. "$SRCDIR/tests/sim/lib.sh"
# every tests/sim/scenarios*.sh defines scenario_* functions
for f in "$SRCDIR"/tests/sim/scenarios*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done
if [ $VALGRIND -eq 1 ]; then
	# shellcheck source=tests/sim/valgrind.sh
	. "$SRCDIR/tests/sim/valgrind.sh"
	vg_setup || exit 1
	trap 'sim_stop; vg_cleanup' EXIT
else
	trap sim_stop EXIT
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}

if [ $VALGRIND -eq 0 ]; then
	[ -x "$SRCDIR/tests/sim/selftest.sh" ] && "$SRCDIR/tests/sim/selftest.sh" "$PCISIM"
fi
# every --json document the scenarios make is kept and validated against schemas/ at the end (json-pcibind)
JSON_ALL=0
if [ $VALGRIND -eq 0 ]; then
	PCIBIND_JSON_DIR=$(mktemp -d /tmp/pcibind-json.XXXXXX)
	PCIBIND_REAL=$PCIBIND PCIBIND=$SRCDIR/tests/sim/json-pcibind
	export PCIBIND_JSON_DIR PCIBIND_REAL PCIBIND
	trap 'sim_stop; rm -rf "$PCIBIND_JSON_DIR"' EXIT
	[ $# -eq 0 ] && JSON_ALL=1
fi
if [ $# -eq 0 ]; then
	set -- $(declare -F | awk '{print $3}' | grep '^scenario_' | sed 's/^scenario_//')
	# under valgrind the longest first, beside the others; some left out, said so (valgrind.sh)
	if [ $VALGRIND -eq 1 ]; then
		# shellcheck disable=SC2046 # scenario names are words
		set -- $(vg_select fault_matrix $(printf '%s\n' "$@" | grep -vx fault_matrix))
		vg_left_out
	fi
fi
if [ $VALGRIND -eq 1 ] && [ $# -gt 1 ]; then
	vg_all "$@"
	vg_summary
	exit
fi
for s in "$@"; do
	"scenario_$s"
	sim_stop
	[ $VALGRIND -eq 1 ] && vg_report "$s"
done
if [ $VALGRIND -eq 0 ]; then
	python3 "$SRCDIR/tests/sim/json-validate.py" "$SRCDIR/schemas" "$PCIBIND_JSON_DIR" "$SIM_TAG" $JSON_ALL || exit 1
fi
# a worker of vg_all leaves the summary to the run.sh that started it
if [ $VALGRIND -eq 1 ] && [ "$VG_OWNER" = 1 ]; then
	vg_summary
	exit
fi
exit 0
