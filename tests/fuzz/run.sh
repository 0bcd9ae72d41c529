#!/bin/sh
# run.sh - run libFuzzer targets: replay regressions, then fuzz each for SECONDS from its seed corpus
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tests/fuzz/run.sh BUILDDIR SECONDS TARGET...
# BUILDDIR holds fuzz-TARGET binaries. Prints one "ok - fuzz: ..." or
# "not ok - fuzz: ..." line per target and exits 1 if any failed.
# A crash input is kept in BUILDDIR/artifacts/TARGET/; copy it to
# tests/fuzz/regressions/TARGET/ once the bug is fixed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
bdir=$1 secs=$2
shift 2
failed=0

for t in "$@"; do
	bin=$bdir/fuzz-$t
	corpus=$bdir/corpus/$t
	art=$bdir/artifacts/$t
	log=$bdir/log/$t.log
	mkdir -p "$corpus" "$art" "$bdir/log"
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz: $t: $bin is not built"
		failed=1
		continue
	fi
	# every input that ever crashed must still pass
	reg=$here/regressions/$t
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
		if ! "$bin" -runs=1 "$reg"/* >"$log" 2>&1; then
			echo "not ok - fuzz: $t: a regression input fails again (see $log)"
			failed=1
			continue
		fi
		nreg=$(ls "$reg" | wc -l)
	else
		nreg=0
	fi
	# the seeds go first, then what earlier runs found (kept in the build tree)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-artifact_prefix="$art/" -print_final_stats=1 \
		"$corpus" "$here/seeds/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		crash=$(ls -t "$art" 2>/dev/null | head -n 1)
		what=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|property violated)' "$log")
		echo "not ok - fuzz: $t: ${what:-exit $rc} (input $art/$crash, log $log)"
		failed=1
	else
		echo "ok - fuzz: $t: ${runs:-?} runs, no crash ($nreg regression inputs replayed)"
	fi
done
exit $failed
