# scenarios-hook-chain.sh - hooks/proxmox-hookscript with the user's own hookscripts chained to it
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
# A Proxmox VM has one hookscript (PVE/GuestHelpers.pm exec_hookscript runs "SCRIPT VMID PHASE";
# only a failed pre-start stops the start). hook-pool.topo: the NIC 04:00.0 goes to VM 100.

NIC=0000:04:00.0

chain_start() {
	sim_start "$1" hook-pool || return 1
	mkdir -p "$ROOT/etc/pve/qemu-server" "$ROOT/chain.d"
	echo pve1 >"$ROOT/etc/hostname"
	echo "hostpci0: 04:00.0" >"$ROOT/etc/pve/qemu-server/100.conf"
	# the entry point as installed, with pcibind pointed at the simulated machine
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$PCIBIND" "$ROOT" >"$ROOT/pcibind"
	chmod 0755 "$ROOT/pcibind"
	export PCIBIND_HOOK_CHAIN_DIR=$ROOT/chain.d
}

# chained NAME [EXIT-AT-PHASE STATUS]: a user's hookscript that logs its name, its arguments and
# where the NIC is when it runs; it fails with STATUS in phase EXIT-AT-PHASE
chained() {
	cat >"$ROOT/chain.d/$1" <<-EOF
	#!/bin/sh
	echo "$1 \$1 \$2 \$(basename "\$(readlink "$ROOT/sys/bus/pci/devices/$NIC/driver")") \${PCIBIND_HOOK_CHAINED:-}" >>"$ROOT/chain.log"
	[ "\$2" = "${2:-none}" ] && exit ${3:-0}
	exit 0
	EOF
	chmod 0755 "$ROOT/chain.d/$1"
}

# hs ARGS...: the entry point, as Proxmox runs it
hs() {
	OUT=$(PCIBIND=$ROOT/pcibind "$SRCDIR/hooks/proxmox-hookscript" "$@" 2>&1)
	ST=$?
}

chain_log() { cat "$ROOT/chain.log" 2>/dev/null; }

scenario_hook_chain_order() {
	chain_start hook-chain-order || return
	chained 10-hugepages
	chained 20-cpufreq
	hs 100 pre-start
	check "pre-start exits 0" exit_is 0
	check "the NIC is on vfio-pci" is_driver $NIC vfio-pci
	check "pcibind first, then the chained scripts in name order, each with VMID PHASE" \
		test "$(chain_log)" = "$(printf '%s\n' "10-hugepages 100 pre-start vfio-pci 1" "20-cpufreq 100 pre-start vfio-pci 1")"
	: >"$ROOT/chain.log"
	hs 100 post-start
	check "post-start exits 0" exit_is 0
	check "post-start runs them in name order" \
		test "$(chain_log | cut -d' ' -f1 | tr '\n' ' ')" = "10-hugepages 20-cpufreq "
	: >"$ROOT/chain.log"
	hs 100 post-stop
	check "post-stop exits 0" exit_is 0
	check "post-stop: the chained scripts in reverse order while the VM still has the NIC, then pcibind" \
		test "$(chain_log)" = "$(printf '%s\n' "20-cpufreq 100 post-stop vfio-pci 1" "10-hugepages 100 post-stop vfio-pci 1")"
	check "the NIC is back on igb" is_driver $NIC igb
	check "journal emptied" no_journal
	sim_stop
}

scenario_hook_chain_failures() {
	chain_start hook-chain-failures || return
	chained 10-first
	chained 20-fails pre-start 7
	chained 30-never
	hs 100 pre-start
	check "a chained script failing at pre-start stops the start with its status (7)" exit_is 7
	check "the message names it" out_has "20-fails failed (exit 7)"
	check "pcibind gave the NIC back before the start was aborted" is_driver $NIC igb
	check "the scripts after it did not run" bash -c '! grep -q "^30-never" "$1/chain.log"' _ "$ROOT"
	check "journal emptied" no_journal
	rm -f "$ROOT/chain.d/20-fails"
	: >"$ROOT/chain.log"
	echo "hostpci0: 05:00.0" >"$ROOT/etc/pve/qemu-server/100.conf" # the uplink: pcibind refuses it
	hs 100 pre-start
	check "pcibind refusing the start stops it with pcibind's status (3)" exit_is 3
	check "the chained scripts did not run" test -z "$(chain_log)"
	echo "hostpci0: 04:00.0" >"$ROOT/etc/pve/qemu-server/100.conf"
	hs 100 pre-start
	chained 20-fails post-stop 9
	hs 100 post-stop
	check "a chained script failing at post-stop: the exit status says so (9)" exit_is 9
	check "and pcibind gave the NIC back all the same" is_driver $NIC igb
	sim_stop
}

scenario_hook_chain_what_runs() {
	chain_start hook-chain-what-runs || return
	chained 10-mine
	chained 20-open
	chmod 0777 "$ROOT/chain.d/20-open"
	chained 30-old
	mv "$ROOT/chain.d/30-old" "$ROOT/chain.d/30-old.dpkg-old"
	printf '#!/bin/sh\necho noexec >>%q/chain.log\n' "$ROOT" >"$ROOT/chain.d/40-noexec"
	ln -s "$ROOT/chain.d/10-mine" "$ROOT/chain.d/50-link"
	hs 100 pre-start
	check "pre-start exits 0" exit_is 0
	check "only the script that qualifies ran" test "$(chain_log | cut -d' ' -f1)" = 10-mine
	check "a script writable by others is skipped, and named" out_has "skipping $ROOT/chain.d/20-open: not root's, or writable"
	check "a name with a dot is skipped, and named" out_has "skipping $ROOT/chain.d/30-old.dpkg-old"
	check "a file that is not executable is skipped" out_has "skipping $ROOT/chain.d/40-noexec"
	check "a symlink is skipped" out_has "skipping $ROOT/chain.d/50-link"
	hs 100 post-stop
	# a chained script that calls the entry point back runs pcibind only: no loop
	printf '#!/bin/sh\nPCIBIND=%q %q "$1" "$2"\n' "$ROOT/pcibind" "$SRCDIR/hooks/proxmox-hookscript" >"$ROOT/chain.d/60-calls-back"
	chmod 0755 "$ROOT/chain.d/60-calls-back"
	hs 100 pre-start
	check "a script calling the entry point back: pre-start ends, exit 0" exit_is 0
	check "and the chain ran once" test "$(chain_log | grep -c '^10-mine 100 pre-start')" -eq 2
	hs 100 post-stop
	hs 100
	check "a missing PHASE is a usage error" exit_is 2
	sim_stop
}

# the other way round: the user's script stays the VM's hookscript and calls pcibind's
scenario_hook_chain_theirs_calls_ours() {
	chain_start hook-chain-theirs || return
	cat >"$ROOT/theirs" <<-EOF
	#!/bin/sh
	echo "theirs \$1 \$2" >>"$ROOT/chain.log"
	PCIBIND=$ROOT/pcibind $SRCDIR/hooks/proxmox-hookscript "\$1" "\$2" || exit \$?
	echo "theirs after \$2" >>"$ROOT/chain.log"
	EOF
	chmod 0755 "$ROOT/theirs"
	OUT=$("$ROOT/theirs" 100 pre-start 2>&1)
	ST=$?
	check "their script, calling ours: pre-start exits 0" exit_is 0
	check "the NIC is on vfio-pci" is_driver $NIC vfio-pci
	OUT=$("$ROOT/theirs" 100 post-stop 2>&1)
	check "post-stop gives it back" is_driver $NIC igb
	echo "hostpci0: 05:00.0" >"$ROOT/etc/pve/qemu-server/100.conf"
	OUT=$("$ROOT/theirs" 100 pre-start 2>&1)
	ST=$?
	check "pcibind's refusal passes through their script to Proxmox (exit 3)" exit_is 3
	check "their script stopped there" bash -c '! grep -q "theirs after pre-start" <(tail -n 1 "$1/chain.log")' _ "$ROOT"
	sim_stop
}
