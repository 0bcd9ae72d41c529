# scenarios-messages.sh - each thing said once: no hint repeated, no phrase doubled, no claim the lines above contradict
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash

# count FIXED-STRING: how many times it occurs in $OUT
count() { grep -oF -- "$1" <<<"$OUT" | wc -l; }

scenario_messages_once() {
	sim_start messages-once workstation || return
	pb --force bind 01:00
	check "a forced refusal is said as overridden" out_has "overridden by --force: 0000:01:00.0 is the boot VGA"
	check "... without telling to use --force again" test "$(count "use --force if you mean it")" -eq 0
	pb restore 01:00
	pb bind 01:00
	check "unforced, the hint is there once" test "$(count "use --force if you mean it")" -eq 1
	pb bind 02:00
	fake_holder 4242 qemu-system-x86 /dev/vfio/2
	ctl "block $GPU2 unbind forever"
	# --force: a held device is refused first (scenarios-harden.sh); forced, the kernel's unbind waits
	pb --force --timeout 1 restore 02:00
	check "a hung restore exits 4" exit_is 4
	check "it says once that the function was not put back" test "$(grep -oi "not put back" <<<"$OUT" | wc -l)" -eq 1
	check "it names what to run afterwards once" test "$(count "run 'pcibind restore $GPU2'")" -eq 1
	rm -rf "$ROOT/proc/4242"
	ctl "release $GPU2"
	sleep 0.3
	pb restore
	check "then restore finishes (exit 0)" exit_is 0
	# apply: a set whose unbind hangs is not reported as put back
	printf '[gpu2]\naddress = 02:00\nboot = yes\n' | conf
	fake_holder 4243 qemu-system-x86 /dev/nvidia0
	ctl "block $GPU2 unbind forever"
	pb --timeout 1 apply
	check "apply with a hung unbind exits 4" exit_is 4
	check "its summary does not say 'put back as it was' when a function was not" bash -c '! grep -q "put back as it was" <<<"$1"' _ "$OUT"
	check "... it says not all were, pointing at the lines that name them" out_has "not all put back (see above)"
	ctl "release $GPU2"
	sim_stop
}
