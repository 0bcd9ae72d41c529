#!/bin/bash
# run-unit.sh - run each unit test binary, passing through its ok/not ok lines
# SPDX-License-Identifier: GPL-2.0-or-later
rc=0
for t in "$@"; do
	name=$(basename "$t")
	echo "# unit: $name"
	out=$("$t" 2>&1)
	st=$?
	printf '%s\n' "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
	if [ $st -ne 0 ]; then
		rc=1
		# a crash (sanitizer, signal) before the summary still counts as a failure
		printf '%s\n' "$out" | grep -q '^not ok - ' || echo "not ok - $name: exited with status $st"
	fi
done
exit $rc
