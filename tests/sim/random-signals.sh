#!/bin/bash
# random-signals.sh - pcibind killed at random points, politely or not, and what must hold afterwards
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: [PCIBIND_SIGNAL_KILLS=50] [PCIBIND_SIGNAL_SEED=N] tests/sim/random-signals.sh PCIBIND PCISIM
#
# One simulated workstation (harden-lib.sh). Each kill: a request drawn from bind, restore, apply
# and hook pre-start / post-stop, a signal drawn from SIGKILL, SIGTERM and SIGINT, sent after a
# random delay or, every third kill, while an unbind of the request is blocked in the (simulated)
# kernel for a second. Then:
# - SIGTERM / SIGINT: pcibind ends by that signal or by itself; nothing is left for a restore:
#   every function home or on vfio-pci with its record, the GPU and its audio alike;
# - SIGKILL: whatever is away from its host driver has a record of it; a restore then exits 0 and
#   returns everything;
# and the lock is free. At the end a restore returns everything. Prints a line per kill and the counts.

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

KILLS=${PCIBIND_SIGNAL_KILLS:-50}
SEED=${PCIBIND_SIGNAL_SEED:-$$}
RANDOM=$SEED
echo "# random-signals: $KILLS kills (seed $SEED)"
harden_machine random-signals || exit 1
SCEN=random-signals
declare -A BYSIG=() ENDED=()
blocked=0 restores=0 failed=0 start=$SECONDS
SIGNALS=(KILL KILL KILL TERM TERM INT)
FORWARD=("bind 02:00" "bind 0000:06:00.0" "bind 02:00 06:00.0" "apply" "hook proxmox 200 pre-start"
	"hook proxmox 201 pre-start" "hook proxmox 202 pre-start")
BACK=("restore" "restore 02:00" "restore 0000:06:00.0" "hook proxmox 200 post-stop" "hook proxmox 201 post-stop"
	"hook proxmox 202 post-stop")
# a request that has something to do from the state it meets: the kill lands on work more often
pick() {
	local f=0000:02:00.0
	[ $((RANDOM % 2)) -eq 0 ] && f=0000:06:00.0
	if [ "$(driver_of $f)" = "${HOSTDRV[$f]}" ]; then
		echo "${FORWARD[RANDOM % ${#FORWARD[@]}]}"
	else
		echo "${BACK[RANDOM % ${#BACK[@]}]}"
	fi
}
# an unbind the request makes
unbind_target() {
	case $1 in
	*06:00.0* | "hook proxmox 201"*) echo 0000:06:00.0 ;;
	*) echo 0000:02:00.0 ;;
	esac
}

landed=0 i=0
# until KILLS signals have landed on a run still at work (at most four times as many tries)
while [ "$landed" -lt "$KILLS" ] && [ "$i" -lt $((KILLS * 4)) ]; do
	i=$((i + 1))
	req=$(pick)
	sig=${SIGNALS[RANDOM % ${#SIGNALS[@]}]}
	at="after $((RANDOM % 250)) ms"
	ctl "mark kill $i"
	if [ $((i % 3)) -eq 0 ]; then
		at="during a blocked unbind"
		ctl "block $(unbind_target "$req") unbind 1"
	fi
	# a background job of a script starts with SIGINT ignored: give it back its default
	# shellcheck disable=SC2086 # a request is words
	env --default-signal=INT "$PCIBIND" --root "$ROOT" $req >/dev/null 2>&1 &
	pid=$!
	if [ "$at" = "during a blocked unbind" ]; then
		for _ in $(seq 100); do
			sim_log | sed -n "/^mark kill $i\$/,\$p" | grep -q "^block .* unbind" && break
			kill -0 $pid 2>/dev/null || break
			sleep 0.02
		done
		sim_log | sed -n "/^mark kill $i\$/,\$p" | grep -q "^block .* unbind" || at="after it ended by itself (no unbind)"
		[ "$at" = "during a blocked unbind" ] && blocked=$((blocked + 1))
	else
		sleep "0.$(printf '%03d' "${at//[^0-9]/}")"
	fi
	kill -"$sig" $pid 2>/dev/null
	{ wait $pid; } 2>/dev/null
	st=$?
	[ "$st" -ge 128 ] && landed=$((landed + 1))
	[ "$st" -ge 128 ] || at="$at, too late (it had ended)"
	ENDED[$st]=$((${ENDED[$st]:-0} + 1))
	BYSIG[$sig]=$((${BYSIG[$sig]:-0} + 1))
	ctl clear
	wait_machine_quiet || echo "# random-signals: kill $i: a process of the machine is still running"
	problems=""
	# (no lock file: the signal came before pcibind had started, and ended it there)
	[ ! -e "$ROOT/run/pcibind/lock" ] || flock -w 5 "$ROOT/run/pcibind/lock" true || problems+="the lock is held; "
	if [ "$sig" = KILL ]; then
		problems+=$(covered)
		pb restore
		restores=$((restores + 1))
		[ "$ST" -eq 0 ] || problems+="the restore after it exited $ST: $(head -c 300 <<<"$OUT"); "
		all_home || problems+="the restore did not return everything: $(consistent); "
	else
		case $st in 0 | 5 | 130 | 143) ;; *) problems+="it exited $st; " ;; esac
		problems+=$(consistent; group_alike)
	fi
	if [ -z "$problems" ]; then
		ok "kill $i: SIG$sig $at of '$req' (exit $st): $([ "$sig" = KILL ] && echo "covered by the journal, restored" || echo "nothing left for a restore")"
	else
		notok "kill $i: SIG$sig $at of '$req' (exit $st): $problems"
		failed=$((failed + 1))
		pb restore
	fi
done
pb restore
check "a final restore exits 0" exit_is 0
check "... and returns everything, journal empty" all_home
check "$landed signals landed on a run at work (at least $KILLS), $blocked during a blocked unbind" \
	test "$landed" -ge "$KILLS" -a "$blocked" -gt 0
echo "# random-signals: $i signals sent in $((SECONDS - start)) s, $landed landed on a run at work: $(for s in "${!BYSIG[@]}"; do printf 'SIG%s x%s, ' "$s" "${BYSIG[$s]}"; done)$blocked during a blocked unbind; $restores restores after SIGKILL"
echo "# random-signals: pcibind ended with: $(for e in "${!ENDED[@]}"; do printf '%s x%s, ' "$e" "${ENDED[$e]}"; done | sed 's/, $//')"
[ "$failed" -eq 0 ]
