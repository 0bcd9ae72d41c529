#!/bin/bash
# run.sh - the simulator tier: the simulator's self test, then every scenario
# SPDX-License-Identifier: GPL-2.0-or-later
#   run.sh PCIBIND PCISIM [SCENARIO...]
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
PCIBIND=$(realpath "$1")
PCISIM=$(realpath "$2")
shift 2
export PCIBIND PCISIM SRCDIR
if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "not ok - sim: FUSE is not available (/dev/fuse, fusermount3): the simulator tier cannot run"
	exit 1
fi
# shellcheck source=tests/sim/lib.sh
. "$SRCDIR/tests/sim/lib.sh"
# every tests/sim/scenarios*.sh defines scenario_* functions
for f in "$SRCDIR"/tests/sim/scenarios*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done
trap sim_stop EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}

[ -x "$SRCDIR/tests/sim/selftest.sh" ] && "$SRCDIR/tests/sim/selftest.sh" "$PCISIM"
if [ $# -eq 0 ]; then
	set -- $(declare -F | awk '{print $3}' | grep '^scenario_' | sed 's/^scenario_//')
fi
for s in "$@"; do
	"scenario_$s"
	sim_stop
done
