#!/bin/bash
# concurrency.sh - rounds of 24 pcibind runs at once on overlapping and disjoint sets, and what must hold
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: [PCIBIND_CONCURRENCY_ROUNDS=20] tests/sim/concurrency.sh PCIBIND PCISIM
#
# One simulated workstation (harden-lib.sh: the GPU 02:00 with its audio and the NIC 06:00.0,
# as boot sets and in three Proxmox VMs). Each round starts 24 runs at once, drawn from bind,
# restore, apply and hook pre-start / post-stop of the VMs, and waits for all of them. Then:
# every run ended by itself with a documented status (no crash, no sanitizer report, no hang);
# every function is on its host driver with no override and no record, or on vfio-pci with its
# override and a record of its host driver; the GPU and its audio alike; no function twice in
# the journal; the lock is free. At the end a restore returns everything and empties the
# journal. Prints one "ok"/"not ok" line per round and the counts.

set -u
PCIBIND=$(realpath "$1")
PCISIM=$(realpath "$2")
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
export PCIBIND PCISIM SRCDIR
# shellcheck source=tests/sim/lib.sh
. "$SRCDIR/tests/sim/lib.sh"
# shellcheck source=tests/sim/harden-lib.sh
. "$SRCDIR/tests/sim/harden-lib.sh"
trap sim_stop EXIT

ROUNDS=${PCIBIND_CONCURRENCY_ROUNDS:-20}
PER_ROUND=24
RANDOM=${PCIBIND_CONCURRENCY_SEED:-$$}
echo "# concurrency: $ROUNDS rounds of $PER_ROUND runs at once (seed $RANDOM)"
harden_machine concurrency || exit 1
SCEN=concurrency
declare -A COUNT=() EXITS=()
tmp=$(mktemp -d /tmp/pcibind-concurrency.XXXXXX)
failed=0 start=$SECONDS

for round in $(seq "$ROUNDS"); do
	pids=() reqs=()
	for k in $(seq $PER_ROUND); do
		req=${HARDEN_REQUESTS[RANDOM % ${#HARDEN_REQUESTS[@]}]}
		reqs+=("$req")
		# shellcheck disable=SC2086 # a request is words
		timeout -k 5 120 "$PCIBIND" --root "$ROOT" $req >"$tmp/$k" 2>&1 &
		pids+=($!)
	done
	bad=""
	for k in $(seq $PER_ROUND); do
		wait "${pids[k - 1]}"
		st=$?
		req=${reqs[k - 1]}
		kind=${req% *}
		case $req in hook*) kind=${req##* } ;; bind* | restore*) kind=${req%% *} ;; esac
		COUNT[$kind]=$((${COUNT[$kind]:-0} + 1))
		EXITS[$st]=$((${EXITS[$st]:-0} + 1))
		# nothing fails here: 0 done (or nothing to do), 5 apply changed something
		case $st in 0 | 5) ;; *) bad+="'$req' exited $st: $(head -c 300 "$tmp/$k"); " ;; esac
		grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$tmp/$k" &&
			bad+="'$req': a sanitizer report: $(grep -m1 'ERROR\|runtime error' "$tmp/$k"); "
	done
	problems=$(consistent; group_alike)
	flock -n "$ROOT/run/pcibind/lock" true || problems+=" the lock is held"
	if [ -z "$bad$problems" ]; then
		ok "round $round: $PER_ROUND runs at once, each ended by itself; every function home or on vfio-pci with its record"
	else
		notok "round $round: $bad$problems"
		failed=$((failed + 1))
	fi
done
pb restore
check "a final restore exits 0" exit_is 0
check "... and returns everything, journal empty" all_home
rm -rf "$tmp"
summary=""
for k in "${!COUNT[@]}"; do summary+="$k ${COUNT[$k]}, "; done
echo "# concurrency: $((ROUNDS * PER_ROUND)) runs in $((SECONDS - start)) s: ${summary%, }"
echo "# concurrency: exit statuses: $(for e in "${!EXITS[@]}"; do printf '%s x%s, ' "$e" "${EXITS[$e]}"; done | sed 's/, $//')"
[ "$failed" -eq 0 ]
