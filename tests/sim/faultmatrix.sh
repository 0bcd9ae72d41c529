#!/bin/bash
# faultmatrix.sh - every fault at every kernel write of a multi-group request, and what must hold afterwards
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: [PCIBIND_FAULT_MATRIX=quick|sample] tests/sim/faultmatrix.sh PCIBIND PCISIM
#
# On workstation.topo: `bind 02:00 06:00.0` (GPU + audio in group 2, a NIC
# in group 9) and the `restore` that follows it. A clean run of each,
# read back from the simulator's log, gives the request's write sequence:
# every (function, operation) it writes. At each of them the matrix
# injects, one case each:
#   fail ERRNO     the write fails (once) with each errno a sysfs store gives
#   block          the write hangs beyond pcibind's --timeout 1, then completes
#   vanish         the function is surprise-removed at that write
#   sigkill        pcibind is SIGKILLed while that write hangs, which then completes
# and, per function, a failing probe of the target driver (drivers_probe
# succeeds, the explicit drivers/X/bind returns the error).
# After each case: every function of the request is where it was before the
# request or on the request's target, all of them alike, never driverless
# or with a stale override unless the journal records it (exactly the
# functions that are away, after a run that ended by itself; at least those
# after a SIGKILL); the lock is free; then a following `restore` exits 0 and
# leaves the machine as it started with an empty journal.
# Prints "ok - sim: fault-matrix: CASE" / "not ok - ..." per case (SIM_TAG in place of
# "sim" when set: run.sh --valgrind), then
# "# fault matrix: N cases run, N passed". One simulator, `ctl reset`
# between cases.

set -u
PCIBIND=$(realpath "$1")
PCISIM=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
ERRNOS="EBUSY EIO ENODEV EINVAL ENOMEM EPERM EAGAIN ENOSPC"
PROBE_ERRNOS="EIO EINVAL ENOMEM EBUSY"
# PCIBIND_FAULT_MATRIX=quick: one errno per write (every step and fault kind still covered)
# PCIBIND_FAULT_MATRIX=sample (the valgrind tier): quick, at the first write of each
# operation only, without the SIGKILL cases (a killed run is not there to be checked), and
# the failing probe of the first function only: each kind of write with each fault that
# pcibind lives through, in both requests
if [ "${PCIBIND_FAULT_MATRIX:-full}" = quick ] || [ "${PCIBIND_FAULT_MATRIX:-full}" = sample ]; then
	ERRNOS="EIO"
	PROBE_ERRNOS="EIO"
fi
FNS="0000:02:00.0 0000:02:00.1 0000:06:00.0"
PROBE_FNS=$FNS
[ "${PCIBIND_FAULT_MATRIX:-full}" = sample ] && PROBE_FNS=${FNS%% *}
BIND_ARGS="bind 02:00 06:00.0"
TARGET="vfio-pci vfio-pci"

ROOT="" S=""
export PCIBIND_MODPROBE=$here/fake-modprobe
cleanup() {
	[ -n "$ROOT" ] || return 0
	[ -e "$S/.pcisim/ctl" ] && echo reset >"$S/.pcisim/ctl" 2>/dev/null
	fusermount3 -u "$S" 2>/dev/null || fusermount3 -uz "$S" 2>/dev/null
	mountpoint -q "$S" 2>/dev/null || rm -rf "$ROOT"
}
trap cleanup EXIT

run=0 passed=0
declare -A ORIG BOUND NOW EXITS
BOUND_JOURNAL=""
declare -a PROBLEMS

ctl() { printf '%s\n' "$*" >"$S/.pcisim/ctl"; }

# pb ARGS...: pcibind on the simulated machine; $OUT, $ST
pb() {
	OUT=$("$PCIBIND" --root "$ROOT" "$@" 2>&1)
	ST=$?
}

# NOW[ADDR]="DRIVER OVERRIDE" for the request's functions, "absent" when gone
read_state() {
	local addr drv ovr _ f
	for f in $FNS; do NOW[$f]=absent; done
	while read -r addr drv ovr _; do
		case " $FNS " in *" $addr "*) NOW[$addr]="${drv#driver=} ${ovr#override=}" ;; esac
	done <"$S/.pcisim/state"
}

# the functions the journal records, sorted, one line
journal_set() {
	local j=$ROOT/run/pcibind/journal
	[ -s "$j" ] || return 0
	grep -v '^#' "$j" | cut -f1 | sort | tr '\n' ' '
}

# the lock free once pcibind has ended: at once, or within a second when a kill caught a thread of
# pcibind's between fork() and the child closing its inherited descriptors (the lock among them)
lock_free() {
	local i
	for i in $(seq 20); do
		[ ! -e "$ROOT/run/pcibind/lock" ] || flock -n "$ROOT/run/pcibind/lock" true && return 0
		sleep 0.05
	done
	return 1
}

problem() { PROBLEMS+=("$*"); }

# all of the request's functions in one of the two states of the request
# (BEFORE: the array name of the state before the request, AFTER: of the target)
# $1: before array name, $2: target ("T" = bind target), $3: "strict" (all alike) or "lax"
check_all_or_nothing() {
	local -n before=$1
	local f n_before=0 n_after=0 want_after
	read_state
	for f in $FNS; do
		if [ "$2" = T ]; then want_after=$TARGET; else want_after=${ORIG[$f]}; fi
		if [ "${NOW[$f]}" = absent ]; then
			continue # surprise-removed by the fault: the journal must say so (check_journal_exact)
		elif [ "${NOW[$f]}" = "${before[$f]}" ]; then
			n_before=$((n_before + 1))
		elif [ "${NOW[$f]}" = "$want_after" ]; then
			n_after=$((n_after + 1))
		elif [ "$3" = strict ]; then
			problem "$f is '${NOW[$f]}': neither where it was ('${before[$f]}') nor on the target ('$want_after')"
		fi
	done
	if [ "$3" = strict ] && [ $n_before -ne 0 ] && [ $n_after -ne 0 ]; then
		problem "half done: $n_before function(s) as before, $n_after on the target"
	fi
	AFTER_ALL=$([ $n_after -eq 3 ] && echo yes || echo no)
}

# the functions away from their original state, sorted, one line
away_set() {
	local f
	read_state
	for f in $FNS; do [ "${NOW[$f]}" != "${ORIG[$f]}" ] && echo "$f"; done | sort | tr '\n' ' '
}

check_journal_exact() {
	local a j
	a=$(away_set)
	j=$(journal_set)
	[ "$a" = "$j" ] || problem "journal records '${j% }', but away are '${a% }'"
}

check_journal_covers() {
	local a j f
	a=$(away_set)
	j=$(journal_set)
	for f in $a; do
		case " $j " in *" $f "*) ;; *) problem "$f is away (${NOW[$f]}) but not in the journal ('${j% }')" ;; esac
	done
}

check_lock() {
	lock_free || problem "the lock is still held"
}

# a following restore brings everything back and empties the journal
check_recovery() {
	local f
	# a function surprise-removed by the fault comes back with a bus rescan (a re-plug)
	printf '1\n' >"$S/bus/pci/rescan"
	pb --timeout 5 restore
	[ "$ST" -eq 0 ] || problem "the following restore exits $ST: $(head -c 300 <<<"$OUT")"
	read_state
	for f in $FNS; do
		[ "${NOW[$f]}" = "${ORIG[$f]}" ] || problem "after the following restore $f is '${NOW[$f]}', not '${ORIG[$f]}'"
	done
	[ -z "$(journal_set)" ] || problem "after the following restore the journal still records $(journal_set)"
	check_lock
}

# start state: the machine as at start, or as a clean bind left it (for restore cases):
# the first time by pcibind itself, then by the same writes and the journal it wrote
prepare() {
	local f drv _
	ctl reset
	rm -f "$ROOT/run/pcibind/journal"
	[ "$1" = restore ] || return 0
	if [ -z "$BOUND_JOURNAL" ]; then
		pb $BIND_ARGS
		[ "$ST" -eq 0 ] || problem "setting up: bind exits $ST"
		BOUND_JOURNAL=$(cat "$ROOT/run/pcibind/journal")
		return 0
	fi
	ctl "load vfio-pci"
	for f in $FNS; do
		read -r drv _ <<<"${ORIG[$f]}"
		printf 'vfio-pci\n' >"$S/bus/pci/devices/$f/driver_override"
		printf '%s\n' "$f" >"$S/bus/pci/drivers/$drv/unbind"
		printf '%s\n' "$f" >"$S/bus/pci/drivers_probe"
	done
	printf '%s\n' "$BOUND_JOURNAL" >"$ROOT/run/pcibind/journal"
	read_state
	for f in $FNS; do [ "${NOW[$f]}" = "${BOUND[$f]}" ] || problem "setting up: $f is '${NOW[$f]}'"; done
}

verb_args() {
	if [ "$1" = bind ]; then echo "$BIND_ARGS"; else echo restore; fi
}

finish_case() {
	local name=$1
	run=$((run + 1))
	if [ ${#PROBLEMS[@]} -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - ${SIM_TAG:-sim}: fault-matrix: $name"
	else
		echo "not ok - ${SIM_TAG:-sim}: fault-matrix: $name"
		printf '#   %s\n' "${PROBLEMS[@]}"
		printf '#   | %s\n' "$(head -c 600 <<<"$OUT")"
		# whatever happened, the next case starts clean
		ctl reset
		rm -f "$ROOT/run/pcibind/journal"
	fi
	PROBLEMS=()
}

# the before-state array of a request
before_of() { if [ "$1" = bind ]; then echo ORIG; else echo BOUND; fi; }
target_of() { if [ "$1" = bind ]; then echo T; else echo O; fi; }

# a fault that pcibind sees as a write result: it ends by itself
case_result() {
	local verb=$1 name=$2 fault=$3
	prepare "$verb"
	ctl "$fault"
	# shellcheck disable=SC2046
	pb --timeout 5 $(verb_args "$verb")
	EXITS[$ST]=$((${EXITS[$ST]:-0} + 1))
	ctl clear
	check_all_or_nothing "$(before_of "$verb")" "$(target_of "$verb")" strict
	if [ "$ST" -eq 0 ] && [ "$AFTER_ALL" != yes ]; then problem "exit 0 but not everything is on the target"; fi
	if [ "$ST" -ne 0 ] && [ "$AFTER_ALL" = yes ]; then problem "exit $ST but everything is on the target"; fi
	check_journal_exact
	check_lock
	check_recovery
	finish_case "$verb: $name"
}

# wait_log PATTERN: until a log line matches (5 s at most)
wait_log() {
	local i
	for i in $(seq 100); do
		grep -q -- "$1" "$S/.pcisim/log" && return 0
		sleep 0.05
	done
	return 1
}

# the write hangs beyond --timeout 1, then the holder lets go and it completes
case_block() {
	local verb=$1 addr=$2 op=$3
	prepare "$verb"
	ctl "block $addr $op forever count=1"
	# shellcheck disable=SC2046
	pb --timeout 1 $(verb_args "$verb")
	EXITS[$ST]=$((${EXITS[$ST]:-0} + 1))
	[ "$ST" -eq 4 ] || problem "a hung $op exits $ST, not 4 (timeout)"
	grep -q "$addr" <<<"$OUT" || problem "the message does not name $addr"
	check_journal_covers
	check_lock
	ctl "release $addr"
	wait_log "^unblock $addr $op" || problem "the hung write did not complete after release"
	sleep 0.1
	check_recovery
	finish_case "$verb: block $addr $op"
}

case_sigkill() {
	local verb=$1 addr=$2 op=$3 pid
	prepare "$verb"
	ctl "block $addr $op forever count=1"
	# shellcheck disable=SC2046
	"$PCIBIND" --root "$ROOT" --timeout 30 $(verb_args "$verb") >/dev/null 2>&1 &
	pid=$!
	wait_log "^block $addr $op" || problem "pcibind never reached $op of $addr"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	OUT="(killed)"
	check_journal_covers
	check_lock
	ctl "release $addr"
	wait_log "^unblock $addr $op" || problem "the hung write did not complete after release"
	sleep 0.1
	check_journal_covers
	check_recovery
	finish_case "$verb: sigkill at $addr $op"
}

# "ADDR OP" for each kernel write of a clean run of the request, in order, once each
discover() {
	local verb=$1 line path data op addr
	prepare "$verb"
	ctl "mark matrix clean run"
	# shellcheck disable=SC2046
	pb $(verb_args "$verb")
	[ "$ST" -eq 0 ] || { echo "not ok - ${SIM_TAG:-sim}: fault-matrix: clean $verb exits $ST: $OUT"; return 1; }
	sed -n '/^mark matrix clean run/,$p' "$S/.pcisim/log" | grep -- ' -> ' | grep -v '^\.pcisim/' |
		while read -r path data _; do
			case $path in
			bus/pci/devices/*/*) addr=${path#bus/pci/devices/}; op=${addr#*/}; addr=${addr%%/*} ;;
			bus/pci/drivers/*/bind | bus/pci/drivers/*/unbind) op=${path##*/}; addr=$data ;;
			bus/pci/drivers_probe) op=drivers_probe; addr=$data ;;
			*) continue ;;
			esac
			echo "$addr $op"
		done | awk '!seen[$0]++'
}

# the matrix of one request, on a simulator of its own
matrix() {
	local verb=$1 steps addr op e want f _
	ROOT=$(mktemp -d /tmp/pcibind-faultmatrix.XXXXXX)
	S=$ROOT/sys
	export PCISIM_ROOT=$ROOT
	if ! "$PCISIM" "$here/workstation.topo" "$ROOT"; then
		echo "not ok - ${SIM_TAG:-sim}: fault-matrix: $verb: the simulator did not start"
		return 1
	fi
	mkdir -p "$ROOT/etc/pcibind" "$ROOT/run"
	read_state
	for f in $FNS; do ORIG[$f]=${NOW[$f]}; done
	PROBLEMS=()
	prepare restore
	read_state
	for f in $FNS; do BOUND[$f]=${NOW[$f]}; done
	steps=$(discover "$verb") || return 1
	echo "# fault matrix: $verb writes: $(tr '\n' ',' <<<"$steps" | sed 's/,$//; s/,/, /g')"
	[ "${PCIBIND_FAULT_MATRIX:-full}" = sample ] && steps=$(awk '!seen[$2]++' <<<"$steps")
	while read -r addr op; do
		for e in $ERRNOS; do
			case_result "$verb" "fail $addr $op $e" "fail $addr $op $e count=1"
		done
		case_result "$verb" "vanish $addr $op" "vanish $addr $op"
		case_block "$verb" "$addr" "$op"
		[ "${PCIBIND_FAULT_MATRIX:-full}" = sample ] || case_sigkill "$verb" "$addr" "$op"
	done <<<"$steps"
	for addr in $PROBE_FNS; do
		read -r want _ <<<"$([ "$verb" = bind ] && echo "$TARGET" || echo "${ORIG[$addr]}")"
		for e in $PROBE_ERRNOS; do
			case_result "$verb" "failprobe $addr $want $e (drivers_probe ok, bind fails)" "failprobe $addr $want $e"
		done
	done
	echo "# fault matrix: $verb: pcibind exits: $(for e in "${!EXITS[@]}"; do printf '%s x%s, ' "$e" "${EXITS[$e]}"; done | sed 's/, $//')"
	echo "@@ $run $passed"
}

# the two requests run side by side, one simulator each (two cores)
start=$SECONDS
out_bind=$(mktemp) out_restore=$(mktemp)
# each in a subshell of its own, which does not inherit the EXIT trap: set it there
(trap cleanup EXIT; matrix bind) >"$out_bind" 2>&1 &
pid_bind=$!
(trap cleanup EXIT; matrix restore) >"$out_restore" 2>&1 &
pid_restore=$!
wait $pid_bind $pid_restore
total=0 good=0
for o in "$out_bind" "$out_restore"; do
	grep -v '^@@ ' "$o"
	read -r _ r p < <(grep '^@@ ' "$o" || echo "@@ 0 0")
	total=$((total + r)) good=$((good + p))
done
rm -f "$out_bind" "$out_restore"
echo "# fault matrix: $total cases run, $good passed ($((SECONDS - start)) s)"
[ "$total" -gt 0 ] && [ "$total" -eq "$good" ]
