# scenarios-faults.sh - pcibind while the kernel blocks it, and the generated fault matrix
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# workstation.topo: GPU 02:00.0 + audio 02:00.1 in group 2.

# An unbind waiting for a VFIO user, as the real kernel shows it (tests/vm
# "holder"): the driver link is gone and driver_override reads block. Neither
# status nor a second restore may hang on it.
scenario_blocked_unbind() {
	local gpu=0000:02:00.0 t0 t1
	sim_start blocked-unbind workstation || return
	pb bind 02:00
	check "bind 02:00 first (exit 0)" exit_is 0
	fake_holder 4242 qemu-system-x86 /dev/vfio/2
	ctl "block $gpu unbind forever"
	# --force: a held device is refused first (scenarios-harden.sh); forced, the kernel's unbind waits
	pb --force --timeout 1 restore 02:00
	check "restore times out (exit 4)" exit_is 4
	check "the kernel shows the unbind under way: no driver link, /dev/vfio/2 kept" \
		bash -c '[ ! -L "$1/sys/bus/pci/devices/$2/driver" ] && [ -e "$1/dev/vfio/2" ] &&
			grep -q "^$2 .*unbinding" "$1/sys/.pcisim/state"' _ "$ROOT" "$gpu"
	check "its driver_override cannot be read meanwhile" \
		bash -c '! timeout 1 cat "$1/sys/bus/pci/devices/$2/driver_override" >/dev/null 2>&1' _ "$ROOT" "$gpu"
	t0=$SECONDS
	OUT=$(timeout 20 "$PCIBIND" --root "$ROOT" status 2>&1)
	ST=$?
	t1=$SECONDS
	check "status does not hang (exit 0, $((t1 - t0)) s)" exit_is 0
	check "status shows the function as busy" fn_shows $gpu "busy"
	check "status still shows the other functions" fn_shows 0000:02:00.1 "driver: vfio-pci"
	t0=$SECONDS
	OUT=$(timeout 20 "$PCIBIND" --root "$ROOT" --timeout 1 restore 2>&1)
	ST=$?
	t1=$SECONDS
	check "a second restore does not hang (exit 4, $((t1 - t0)) s)" exit_is 4
	check "it says the function is busy" out_has "$gpu is busy"
	check "it names the holder" out_has "qemu-system-x86 (pid 4242) holds /dev/vfio/2"
	check "the journal keeps both records" test "$(journal_lines)" -eq 2
	check "the lock is free" flock -n "$ROOT/run/pcibind/lock" true
	rm -rf "$ROOT/proc/4242"
	ctl "release $gpu"
	sleep 0.3
	pb restore 02:00
	check "once the holder lets go, restore completes (exit 0)" exit_is 0
	check "GPU back on nvidia" is_driver $gpu nvidia
	check "GPU override cleared" is_override $gpu "(null)"
	check "audio back on snd_hda_intel" is_driver 0000:02:00.1 snd_hda_intel
	check "journal emptied" no_journal
	sim_stop
}

# issue 7: every fault at every write of `bind 02:00 06:00.0` and of its restore
scenario_fault_matrix() {
	"$SRCDIR/tests/sim/faultmatrix.sh" "$PCIBIND" "$PCISIM"
}

# a function the kernel holds locked while no process holds its nodes (the unbind of a writer that
# was killed, a probe) is waited for a few seconds by bind and restore; one a VM holds is not
scenario_unheld_lock_waited() {
	local nic=0000:06:00.0 t0 t1
	sim_start unheld-lock workstation || return
	pb bind $nic
	check "bind $nic first (exit 0)" exit_is 0
	ctl "block $nic unbind 2"
	(echo "$nic" >"$ROOT/sys/bus/pci/drivers/vfio-pci/unbind") 2>/dev/null &
	sleep 0.5
	check "the kernel holds $nic's lock, no process its nodes" \
		bash -c '! timeout 0.5 cat "$1/sys/bus/pci/devices/$2/driver_override" >/dev/null 2>&1' _ "$ROOT" "$nic"
	t0=$(date +%s%N)
	pb restore
	t1=$(date +%s%N)
	wait
	check "restore waits for it and gives it back (exit 0, $(((t1 - t0) / 1000000)) ms)" exit_is 0
	check "... the NIC on igb again" is_driver $nic igb
	ctl "block $nic unbind 2"
	(echo "$nic" >"$ROOT/sys/bus/pci/drivers/igb/unbind") 2>/dev/null &
	sleep 0.5
	pb bind $nic
	wait
	check "bind waits for one too (exit 0)" exit_is 0
	check "... $nic on vfio-pci" is_driver $nic vfio-pci
	pb restore
	sim_stop
}
