# lib.sh - what every guest scenario uses: verdict lines and probes of the kernel's own state
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by /init in a subshell per scenario, with SCEN set.  Every check
# prints exactly one line, "ok - vm: SCEN: what" or "not ok - vm: SCEN: what:
# detail"; the host counts those.  Diagnostics are "# " lines.

S=/sys/bus/pci
PCIBIND=${PCIBIND:-/usr/sbin/pcibind}

ok() { echo "ok - vm: $SCEN: $*"; }
nok() { echo "not ok - vm: $SCEN: $*"; }
note() { echo "# $SCEN: $*"; }

# alive PID: running, not a zombie waiting to be reaped (ash reaps lazily,
# and kill -0 succeeds on a zombie)
alive() { [ -e /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
# gone PID: the opposite, for wait_for
gone() { ! alive "$1"; }

now() { cut -d' ' -f1 /proc/uptime; }
# seconds between two /proc/uptime readings, as a decimal
elapsed() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }

# --- the kernel's state, read the way a user would ---------------------------

# driver bound to a function, "-" for none, "gone" when the device vanished
drv() {
	[ -e "$S/devices/$1" ] || { echo gone; return; }
	if [ -L "$S/devices/$1/driver" ]; then
		basename "$(readlink "$S/devices/$1/driver")"
	else
		echo -
	fi
}
ovr() { cat "$S/devices/$1/driver_override" 2>/dev/null || echo "?"; }
grp() { basename "$(readlink "$S/devices/$1/iommu_group" 2>/dev/null)" 2>/dev/null; }
node() { if [ -e "/dev/vfio/$1" ]; then echo present; else echo absent; fi; }
present() { [ -e "$S/devices/$1" ]; }

# every function of the machine with its driver and override, one line each
snapshot() {
	for d in $S/devices/*; do
		d=${d##*/}
		echo "$d $(drv "$d") $(ovr "$d")"
	done
}

# --- checks ------------------------------------------------------------------

# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got '$2', want '$3'"; fi
}
expect_driver() { expect "$3$1 is on ${2}" "$(drv "$1")" "$2"; }
expect_override() { expect "$3$1 driver_override is '$2'" "$(ovr "$1")" "$2"; }
expect_node() { expect "$3/dev/vfio/$1 $2" "$(node "$1")" "$2"; }
# expect_match WHAT TEXT EXTENDED-REGEX
expect_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		ok "$1"
	else
		nok "$1: /$3/ not found in: $(printf '%s' "$2" | tr '\n' '|' | cut -c1-300)"
	fi
}
expect_nomatch() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		nok "$1: /$3/ found in: $(printf '%s' "$2" | tr '\n' '|' | cut -c1-300)"
	else
		ok "$1"
	fi
}
# expect_same WHAT BEFORE AFTER: two snapshots are equal
expect_same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		nok "$1: changed: $(printf '%s\n%s\n' "$2" "$3" | sort | uniq -u | tr '\n' '|')"
	fi
}

# --- running things ----------------------------------------------------------

# pcb ARGS...: run pcibind; output in $OUT, exit status in $RC, time in $DT (s)
pcb() {
	local t0
	t0=$(now)
	OUT=$("$PCIBIND" "$@" 2>&1)
	RC=$?
	DT=$(elapsed "$t0" "$(now)")
	note "pcibind $* -> exit $RC in ${DT}s"
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | sed "s/^/#   /"
	return 0
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		usleep 100000
		n=$((n - 1))
	done
	return 1
}

# the kernel log since the last dmesg_mark (the ring is cleared, kept in /tmp)
dmesg_mark() { dmesg -c >>/tmp/dmesg.all; }
dmesg_new() { dmesg | tee -a /tmp/dmesg.all; }

# --- the raw kernel interface, as the notes record it --------------------------

# raw_bind DEV DRIVER: override, unbind, probe; prints the driver it ended on
raw_bind() {
	echo "$2" >"$S/devices/$1/driver_override"
	[ -L "$S/devices/$1/driver" ] && echo "$1" >"$S/devices/$1/driver/unbind"
	echo "$1" >"$S/drivers_probe"
	drv "$1"
}
# raw_restore DEV: clear the override, unbind, let the kernel pick
raw_restore() {
	echo >"$S/devices/$1/driver_override"
	[ -L "$S/devices/$1/driver" ] && echo "$1" >"$S/devices/$1/driver/unbind"
	echo "$1" >"$S/drivers_probe"
	drv "$1"
}

# put every function back on the kernel's pick and forget pcibind's journal,
# so that one scenario's failure does not cascade into the next
reset_all() {
	local d
	for d in $S/devices/*; do
		d=${d##*/}
		if [ "$(ovr "$d")" != "(null)" ] || [ "$(drv "$d")" = vfio-pci ]; then
			raw_restore "$d" >/dev/null
		fi
	done 2>/dev/null
	rm -rf /run/pcibind
}

hold_settled() { [ -e /tmp/hold.ready ] || gone "$HOLD_PID"; }

# hold DEV: start vfio-hold on DEV in the background; HOLD_PID is its pid
hold() {
	rm -f /tmp/hold.ready
	vfio-hold --ready /tmp/hold.ready "$@" >/tmp/hold.log 2>&1 &
	HOLD_PID=$!
	if wait_for 20 hold_settled && [ -e /tmp/hold.ready ]; then
		return 0
	fi
	note "vfio-hold did not get hold of $*: $(cat /tmp/hold.log)"
	return 1
}

# --- pcibind -------------------------------------------------------------------

JOURNAL=/run/pcibind/journal

need_pcibind() {
	[ -x "$PCIBIND" ] && return 0
	nok "no pcibind in the guest (was the binary built?)"
	return 1
}
# expect_rc WHAT WANT...: the last pcb's exit status is one of WANT
expect_rc() {
	local what=$1 w
	shift
	for w in "$@"; do
		[ "$RC" = "$w" ] && { ok "$what: exit $RC"; return 0; }
	done
	nok "$what: exit $RC, want $*: $(printf '%s' "$OUT" | tr '\n' '|' | cut -c1-300)"
	return 1
}
# journal lines about one function (none when there is no journal)
journal_of() { grep -s "^$1[[:space:]]" "$JOURNAL"; }
journal_entries() { if [ -e "$JOURNAL" ]; then grep -c '^[0-9a-f]\{4\}:' "$JOURNAL"; else echo 0; fi; }
vfio_nodes() { ls /dev/vfio 2>/dev/null | grep -v '^vfio$' | tr '\n' ' '; }

# pcb_deadline SECS ARGS...: pcibind in the background, given SECS to finish;
# like pcb, but RC is "hung" (and PCB_PID still running) if it did not
pcb_deadline() {
	local secs=$1 t0
	shift
	t0=$(now)
	"$PCIBIND" "$@" >/tmp/pcb.out 2>&1 &
	PCB_PID=$!
	if wait_for "$secs" gone $PCB_PID; then
		wait $PCB_PID
		RC=$?
	else
		RC=hung
	fi
	OUT=$(cat /tmp/pcb.out)
	DT=$(elapsed "$t0" "$(now)")
	note "pcibind $* -> exit $RC after ${DT}s"
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | sed "s/^/#   /"
	return 0
}
# processes in uninterruptible sleep, "pid comm" each
dstate() {
	local p
	for p in /proc/[0-9]*; do
		grep -q '^State:[[:space:]]*D' $p/status 2>/dev/null && echo "${p#/proc/} $(cat $p/comm) in $(cat $p/wchan)"
	done
}
# user processes (kernel threads have an empty cmdline)
nprocs() {
	local p n=0
	for p in /proc/[0-9]*; do
		[ -s $p/cmdline ] && n=$((n + 1))
	done
	echo $n
}
