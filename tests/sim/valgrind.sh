# valgrind.sh - run.sh --valgrind: the scenarios with pcibind under valgrind memcheck, and the verdicts
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced by run.sh. Every "$PCIBIND" of a scenario (lib.sh's pb, the scenarios' own runs,
# faultmatrix.sh) becomes tests/sim/valgrind-pcibind, which execs valgrind with a log file
# per process in $PCIBIND_VG_DIR. After each scenario vg_report reads them: any memcheck
# error or definite/indirect leak is a "not ok - valgrind: SCENARIO: memcheck: ..." line
# with the log's excerpt, else one "ok - valgrind: SCENARIO: memcheck clean" line.
# Without a list of scenarios, vg_all runs every one, PCIBIND_VG_JOBS (2) at a time.

VG_SCEN_START=$SECONDS

# generate and check have no simulator scenario, and read files only: each root of the gen
# tier (tests/gen/*/root, copied) through generate, --write, --remove, --write (the inject-* ones
# are refused), then check on one of them before and after its "reboot". The gen tier's
# golden files and its fault matrix of --write (atomic-faults.sh) stay in the gen tier.
# shellcheck disable=SC2034 # SCEN, OUT and ST are read by lib.sh's check
scenario_generate_check() {
	local c root tmp
	SCEN=generate-check
	tmp=$(mktemp -d /tmp/pcibind-valgrind-gen.XXXXXX) || return
	for root in "$SRCDIR"/tests/gen/*/root; do
		c=${root%/root}
		c=${c##*/}
		cp -a "$root" "$tmp/$c"
		OUT=$("$PCIBIND" --root "$tmp/$c" generate 2>&1)
		ST=$?
		case $c in
		inject-*)
			check "$c: generate refuses the configuration (exit 2)" exit_is 2
			continue
			;;
		esac
		check "$c: generate exits 0" exit_is 0
		OUT=$("$PCIBIND" --root "$tmp/$c" generate --write 2>&1)
		ST=$?
		check "$c: generate --write exits 0" exit_is 0
		OUT=$("$PCIBIND" --root "$tmp/$c" generate --remove 2>&1)
		ST=$?
		check "$c: generate --remove exits 0" exit_is 0
		OUT=$("$PCIBIND" --root "$tmp/$c" generate --write 2>&1)
		ST=$?
		check "$c: generate --write exits 0 again" exit_is 0
	done
	root=$tmp/debian12-grub-efi-intel
	if [ -d "$root" ]; then
		OUT=$("$PCIBIND" --root "$root" check 2>&1)
		ST=$?
		check "check: not ready before the reboot (exit 1)" exit_is 1
		echo 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet splash intel_iommu=on iommu=pt' >"$root/proc/cmdline"
		# after the reboot, as tests/gen/run.sh check_case() has it: the unit enabled, the set on vfio-pci
		mkdir -p "$root/usr/lib/systemd/system" "$root/etc/systemd/system/sysinit.target.wants"
		printf '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=sysinit.target\n' >"$root/usr/lib/systemd/system/pcibind.service"
		ln -sfn /usr/lib/systemd/system/pcibind.service "$root/etc/systemd/system/sysinit.target.wants/pcibind.service"
		for f in 0000:01:00.0 0000:01:00.1; do
			ln -sfn ../../../bus/pci/drivers/vfio-pci "$root/sys/bus/pci/devices/$f/driver"
		done
		OUT=$("$PCIBIND" --root "$root" check --json 2>&1)
		ST=$?
		check "check --json: ready after it (exit 0)" exit_is 0
	else
		notok "tests/gen/debian12-grub-efi-intel is gone: check was not run"
	fi
	rm -rf "$tmp"
}

vg_setup() {
	if ! command -v valgrind >/dev/null; then
		echo "not ok - valgrind: valgrind is not installed (tests/install-deps.sh installs it): the memcheck tier cannot run"
		return 1
	fi
	if grep -qa __asan_init "$PCIBIND"; then
		echo "not ok - valgrind: $PCIBIND is an ASan build; valgrind needs the normal one (build/pcibind)"
		return 1
	fi
	# counts and valgrind's warnings, shared by the workers of vg_all
	if [ -z "${PCIBIND_VG_SHARED:-}" ]; then
		PCIBIND_VG_SHARED=$(mktemp -d /tmp/pcibind-valgrind-run.XXXXXX) || return 1
		VG_OWNER=1
		echo "# valgrind: $(valgrind --version) memcheck on $PCIBIND, logs in /tmp/pcibind-valgrind.*"
		echo "# valgrind: a run without --timeout gets --timeout ${PCIBIND_VG_TIMEOUT:-30} (tests/sim/valgrind-pcibind)"
	fi
	PCIBIND_VG_DIR=$(mktemp -d /tmp/pcibind-valgrind.XXXXXX) || return 1
	mkdir "$PCIBIND_VG_DIR/failed"
	PCIBIND_VG_BIN=$PCIBIND
	PCIBIND=$SRCDIR/tests/sim/valgrind-pcibind
	# the fault matrix: 222 cases of 2-3 runs each in full, 78 quick (8 minutes under
	# valgrind); its sample has each kind of write with each fault pcibind lives through, in
	# both requests (20 cases). PCIBIND_VG_FAULT_MATRIX=quick|full for more.
	PCIBIND_FAULT_MATRIX=${PCIBIND_VG_FAULT_MATRIX:-sample}
	export PCIBIND PCIBIND_VG_BIN PCIBIND_VG_DIR PCIBIND_VG_SHARED PCIBIND_FAULT_MATRIX
}

# the failing logs stay for reading; a clean run leaves nothing
vg_cleanup() {
	[ -n "${PCIBIND_VG_DIR:-}" ] || return 0
	rm -f "$PCIBIND_VG_DIR"/vg.* "$PCIBIND_VG_DIR"/cmd.*
	rmdir "$PCIBIND_VG_DIR/failed" 2>/dev/null && rmdir "$PCIBIND_VG_DIR"
	[ "${VG_OWNER:-0}" -eq 1 ] && rm -rf "$PCIBIND_VG_SHARED"
	return 0
}

# Left out of the default run, each with what covers it instead; PCIBIND_VG_SCENARIOS=all
# runs them too (about twice as long). The fault matrix runs as "sample" (vg_setup).
VG_LEAVE_OUT=(
	"sigkill: a SIGKILLed run is not there to be checked; restore after a SIGKILL: hook_single_gpu_sigkill"
	"apply_parallel: eight job threads, as in parallel_groups (bind) and apply_one_set_fails (apply)"
	"terminal_status: status and --tree cut to a terminal; the same code runs in status and status_tree"
	"setup_dry_run: setup's preview also runs in terminal_setup_questions, the rest in setup_flow"
	"demo: make demo's story; each of its commands runs in the scenarios of its own"
	"harden_concurrency: 480 runs racing for the lock, a test of the lock and the journal, not of memory; the sim tier runs it"
	"harden_random_signals: killed runs are not there to be checked; the sim tier runs it, and the polite stops in harden_polite_stop"
	"harden_refresh_deadline: runs pcibind in a chroot, where valgrind is not; the sim tier runs it"
	"boot_claims_journaled: the rule on every function of a host (17 runs); its claims and journal records run in boot_udev_probe, apply's in boot_vga_console"
)

# vg_select SCENARIO...: those the run has
vg_select() {
	local s why keep
	for s in "$@"; do
		keep=1
		if [ "${PCIBIND_VG_SCENARIOS:-}" != all ]; then
			for why in "${VG_LEAVE_OUT[@]}"; do
				[ "${why%%:*}" = "$s" ] && keep=0
			done
		fi
		[ $keep -eq 1 ] && echo "$s"
	done
	return 0
}

# the left-out ones, each with why
vg_left_out() {
	local why
	[ "${PCIBIND_VG_SCENARIOS:-}" = all ] && return 0
	for why in "${VG_LEAVE_OUT[@]}"; do
		echo "# valgrind: left out (PCIBIND_VG_SCENARIOS=all runs it): $why"
	done
	echo "# valgrind: the fault matrix runs as '$PCIBIND_FAULT_MATRIX' (tests/sim/faultmatrix.sh; PCIBIND_VG_FAULT_MATRIX=quick|full)"
}

# vg_judged FILE CHILD: the records of a log that fail the scenario, each ending in a blank
# "==PID== " line. pcibind's own process (CHILD=0): every memory error and every definite or
# indirect leak. A forked child (CHILD=1): its memory errors; its leaks are not judged: it
# _exits right after its write or read, and blocks that only pcibind's other threads
# pointed to (their stacks are gone in the child) look definitely lost there.
vg_judged() {
	awk -v child="$2" '
	function flush() { if (rec != "" && !(child && leak)) printf "%s", rec; rec = ""; leak = 0 }
	/^==[0-9]+== $/ { if (rec != "") rec = rec $0 "\n"; flush(); next }
	/^==[0-9]+== / {
		if (rec == "" && $0 ~ /are (definitely|indirectly) lost in loss record/) leak = 1
		rec = rec $0 "\n"
	}
	END { flush() }' "$1"
}

# vg_alive FILE: the process that writes vg.TOP.PID is still running under valgrind
vg_alive() {
	local pid=${1##*.}
	[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == *memcheck* ]]
}

# vg_report SCENARIO: the verdict on every process of the scenario
vg_report() {
	local scen=$1 f top pid who what i judged keep n=0 bad=0 runs leaks=0
	# a child left behind at a deadline ends once the simulator is unmounted: wait for its log
	for i in $(seq 100); do
		for f in "$PCIBIND_VG_DIR"/vg.*; do
			[ -e "$f" ] && vg_alive "$f" && break
			f=""
		done
		[ -z "$f" ] && break
		sleep 0.1
	done
	runs=$(find "$PCIBIND_VG_DIR" -maxdepth 1 -name 'cmd.*' | wc -l)
	for f in "$PCIBIND_VG_DIR"/vg.*; do
		[ -e "$f" ] || continue
		if vg_alive "$f"; then
			echo "# valgrind: $scen: pid ${f##*.} still runs 10 s after the scenario; its log is read later"
			continue
		fi
		n=$((n + 1))
		top=${f##*/vg.}
		pid=${top#*.}
		top=${top%%.*}
		# valgrind's own limits (an unknown syscall) are "--PID--" lines: told once, not errors
		grep -- '^--[0-9]*-- WARNING' "$f" | sed 's/^--[0-9]*-- //' >>"$PCIBIND_VG_SHARED/warnings"
		if [ "$pid" = "$top" ]; then
			judged=$(vg_judged "$f" 0)
		else
			judged=$(vg_judged "$f" 1)
			leaks=$((leaks + $(grep -c 'are \(definitely\|indirectly\) lost in loss record' "$f")))
		fi
		if [ -z "$judged" ]; then
			rm -f "$f"
			continue
		fi
		bad=$((bad + 1))
		who="pcibind $(cat "$PCIBIND_VG_DIR/cmd.$top" 2>/dev/null)"
		[ "$pid" != "$top" ] && who="a child (pid $pid) forked by $who"
		what=$(sed -n '1s/^==[0-9]*== //p' <<<"$judged")
		keep=$PCIBIND_VG_DIR/failed/$scen.vg.$top.$pid
		mv "$f" "$keep"
		echo "not ok - valgrind: $scen: memcheck: $what, in $who"
		echo "#   log: $keep"
		head -n 40 <<<"$judged" | sed 's/^==[0-9]*== /#   | /'
	done
	rm -f "$PCIBIND_VG_DIR"/cmd.*
	echo "$runs $n $bad $leaks" >>"$PCIBIND_VG_SHARED/counts"
	[ "$bad" -eq 0 ] && echo "ok - valgrind: $scen: memcheck clean ($runs pcibind runs, $n processes, $((SECONDS - VG_SCEN_START)) s)"
	VG_SCEN_START=$SECONDS
	return 0
}

# vg_all SCENARIO...: each in a run.sh of its own, PCIBIND_VG_JOBS (2) at a time, the
# output of each as soon as it is done
vg_all() {
	local s i=0 jobs=${PCIBIND_VG_JOBS:-2}
	VG_OUT=$(mktemp -d /tmp/pcibind-valgrind-out.XXXXXX) || return 1
	for s in "$@"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
			vg_flush
		done
		{
			"$SRCDIR/tests/sim/run.sh" --valgrind "$PCIBIND_VG_BIN" "$PCISIM" "$s" >"$VG_OUT/$i" 2>&1
			touch "$VG_OUT/$i.done"
		} &
		i=$((i + 1))
	done
	wait
	vg_flush
	rm -rf "$VG_OUT"
}

# the outputs of the runs done since the last call
vg_flush() {
	local d
	for d in "$VG_OUT"/*.done; do
		[ -e "$d" ] || continue
		cat "${d%.done}"
		rm -f "$d" "${d%.done}"
	done
}

vg_summary() {
	local runs procs bad leaks
	read -r runs procs bad leaks < <(awk '{r += $1; p += $2; b += $3; l += $4} END {print r + 0, p + 0, b + 0, l + 0}' \
		"$PCIBIND_VG_SHARED/counts" 2>/dev/null || echo 0 0 0 0)
	if [ -s "$PCIBIND_VG_SHARED/warnings" ]; then
		echo "# valgrind said (not counted as errors):"
		sort "$PCIBIND_VG_SHARED/warnings" | uniq -c | sed 's/^ */#   /'
		grep -q 'syscall: 434$' "$PCIBIND_VG_SHARED/warnings" &&
			echo "#   (434 is pidfd_open: under this valgrind spawn.c waits for its children by its waitpid fallback)"
		grep -q 'syscall: 437$' "$PCIBIND_VG_SHARED/warnings" &&
			echo "#   (437 is openat2: under this valgrind sysroot.c resolves paths by its walk, once per process)"
	fi
	[ "$leaks" -gt 0 ] &&
		echo "# valgrind: $leaks leak records in forked children at _exit, not judged (tests/sim/valgrind.sh vg_judged)"
	echo "# valgrind: $(wc -l <"$PCIBIND_VG_SHARED/counts" 2>/dev/null || echo 0) scenarios, $runs pcibind runs," \
		"$procs processes checked, $bad with errors ($SECONDS s)"
	[ "$bad" -eq 0 ]
}
