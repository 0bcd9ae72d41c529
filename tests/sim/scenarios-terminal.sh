# scenarios-terminal.sh - pcibind on a terminal: status and the tree at 80 and 200 columns, setup's questions
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# script(1) gives pcibind a pseudo-terminal of the size stty sets; what it prints there is
# compared with what it prints into a pipe (no terminal: every line whole).

# on_tty COLUMNS ARGS...: pcibind's output on a terminal that wide, \r removed; stdin goes to the terminal
on_tty() {
	local cols=$1 cmd
	shift
	printf -v cmd '%q ' "$PCIBIND" --root "$ROOT" "$@"
	script -qefc "stty cols $cols rows 60 2>/dev/null; $cmd" /dev/null 2>&1 | tr -d '\r'
}

# script(1) that can open a pseudo-terminal (a chroot without devpts has script but no pty)
have_script() { script -qec true /dev/null >/dev/null 2>&1; }

# the widest line, in characters
widest() { awk '{ n = length($0); if (n > w) w = n } END { print w + 0 }' <<<"$1"; }

# every line of A that is not in B whole is B's line cut to COLS, ending in "..."
cut_right() {
	local a=$1 b=$2 cols=$3
	paste -d '\n' <(printf '%s\n' "$a") <(printf '%s\n' "$b") | awk -v c="$cols" '
		NR % 2 == 1 { t = $0; next }
		{ if (t == $0) next
		  if (length(t) != c || substr(t, c - 2) != "..." || index($0, substr(t, 1, c - 3)) != 1) { print "bad: " t; bad = 1 } }
		END { exit bad }'
}

scenario_terminal_status() {
	local piped tty80 tty200
	sim_start terminal-status workstation || return
	if ! have_script; then
		notok "script(1) is missing or cannot open a pseudo-terminal (no devpts?): the terminal test cannot run"
		sim_stop
		return
	fi
	printf '[gpu2]\naddress = 02:00\nids = 10de:2204,10de:1aef\n' | conf
	piped=$("$PCIBIND" --root "$ROOT" status 2>&1)
	tty80=$(on_tty 80 status)
	tty200=$(on_tty 200 status)
	OUT=$tty80
	check "in a pipe, lines are whole (the widest is over 120 characters)" test "$(widest "$piped")" -gt 120
	check "on an 80-column terminal no line is wider than 80" test "$(widest "$tty80")" -le 80
	check "on an 80-column terminal the same lines, the long ones cut to 80 ending in ..." cut_right "$tty80" "$piped" 80
	check "... such as the host bridge's name" grep -qx '  0000:00:00.0 Host bridge \[0600\]: Intel Corporation 8th/9th Gen Core 8-core \.\.\.' <<<"$tty80"
	check "on an 80-column terminal as many lines as in a pipe" test "$(wc -l <<<"$tty80")" -eq "$(wc -l <<<"$piped")"
	OUT=$tty200
	check "on a 200-column terminal no line is wider than 200" test "$(widest "$tty200")" -le 200
	check "on a 200-column terminal every line is whole here (none is that wide)" test "$tty200" = "$piped"
	OUT=$(on_tty 80 status --tree)
	check "the tree on an 80-column terminal: no line wider than 80" test "$(widest "$OUT")" -le 80
	check "... its branches drawn to the cut" grep -qx '|  +- 0000:01:00.0  group 1  VGA compatible controller: NVIDIA Corporation GA\.\.\.' <<<"$OUT"
	check "... and the groups explained" out_has "group 10: 0000:00:1f.0, 0000:00:1f.2, 0000:00:1f.4"
	piped=$("$PCIBIND" --root "$ROOT" status --tree 2>&1)
	check "the tree on an 80-column terminal is the piped tree cut to 80" cut_right "$OUT" "$piped" 80
	OUT=$(on_tty 200 status --tree)
	check "the tree on a 200-column terminal is the piped tree cut to 200" cut_right "$OUT" "$piped" 200
	check "... with its longest lines (over 200 in a pipe) ending in ..." grep -q '^|  \\- 0000:03:00.0  group 5  .*\.\.\.$' <<<"$OUT"
	OUT=$(on_tty 80 status --json)
	check "--json is never cut on a terminal" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$OUT"
	sim_stop
}

scenario_terminal_setup_questions() {
	local conf
	setup_start terminal-setup || return
	if ! have_script; then
		notok "script(1) is missing or cannot open a pseudo-terminal (no devpts?): the terminal test cannot run"
		setup_stop
		return
	fi
	OUT=$(printf '\nn\n' | on_tty 100 setup 02:00)
	check "on a terminal setup asks whether to claim the set at boot, yes by default" out_has "Claim it at boot, before a host driver takes it (boot = yes)? [Y/n]"
	check "it shows the diff before asking to make the changes" grep -q '^+boot = yes' <<<"$OUT"
	check "... then asks, no by default" out_has "Make these changes? [y/N]"
	check "answered no: nothing was changed" conf_is_orig
	check "... and no link made" test ! -e "$ROOT/etc/systemd/system/sysinit.target.wants"
	OUT=$(printf 'n\ny\n' | on_tty 100 setup 02:00)
	check "answered no to boot, yes to the changes: the set is written with boot = no" file_has etc/pcibind/pcibind.conf "boot = no"
	check "... the diff is shown once (not again while writing)" test "$(grep -c '^+++ b/etc/pcibind/pcibind.conf' <<<"$OUT")" -eq 1
	check "... and no unit enabled for an on-demand set" test ! -e "$ROOT/etc/systemd/system/sysinit.target.wants"
	conf=$(cat "$ROOT/etc/pcibind/pcibind.conf")
	OUT=$(on_tty 100 setup 02:00 --boot --yes </dev/null)
	check "every question has a flag: --boot --yes asks nothing" bash -c '! grep -q "\[Y/n\]\|\[y/N\]" <<<"$1"' _ "$OUT"
	check "... and the set is changed to boot = yes" file_has etc/pcibind/pcibind.conf "boot = yes"
	check "... the rest of the file as it was" test "$(sed 's/^boot = yes$/boot = no/' "$ROOT/etc/pcibind/pcibind.conf")" = "$conf"
	check "... and the unit enabled" enabled
	OUT=$(on_tty 100 setup 02:00 </dev/null)
	check "a second run on a terminal asks nothing: nothing to do" bash -c 'grep -q "nothing to do" <<<"$1" && ! grep -q "\[y/N\]" <<<"$1"' _ "$OUT"
	setup_stop
}

# make demo: the whole story, in seconds, and no escape codes unless on a terminal
scenario_demo() {
	local t0 t1
	SCEN=demo
	t0=$(date +%s%N)
	OUT=$("$SRCDIR/tests/demo.sh" "$PCIBIND" "$PCISIM" 2>&1)
	ST=$?
	t1=$(date +%s%N)
	check "tests/demo.sh exits 0" exit_is 0
	check "piped, it prints no escape codes" bash -c '! grep -q $'"'"'\033'"'"' <<<"$1"' _ "$OUT"
	check "it tells the setup with its diff" bash -c 'grep -q "^+\[gpu\]$" <<<"$1" && grep -q "^reboot: needed: " <<<"$1"' _ "$OUT"
	check "... a second run with nothing to do" out_has "nothing to do: the generated files are up to date and pcibind.service is enabled"
	check "... check ready after the reboot" grep -qx "ready" <<<"$OUT"
	check "... a refused group with its sibling" out_has "IOMMU group 1 also holds 0000:01:00.1 (snd_hda_intel)"
	check "... a rollback after an injected failure" out_has "put back as it was: 0000:06:00.0 on igb"
	check "... a hung unbind ending in a clear error" \
		out_has "unbind from vfio-pci did not finish within 1 s: qemu-system-x86 (pid 4242) holds /dev/vfio/2"
	check "... restore, and the setup undone" bash -c 'grep -q "02:00.0 is on nvidia" <<<"$1" && grep -q "taken out" <<<"$1"' _ "$OUT"
	timing_check "it takes seconds ($(((t1 - t0) / 1000000)) ms, at most 20 s)" test $(((t1 - t0) / 1000000)) -lt 20000
	if have_script; then
		OUT=$(script -qefc "$(printf '%q ' "$SRCDIR/tests/demo.sh" "$PCIBIND" "$PCISIM")" /dev/null 2>&1)
		check "on a terminal, its commands are in bold" grep -q $'\033\[1m\$ pcibind status --tree 02:00' <<<"$OUT"
	else
		notok "script(1) is missing: the demo's terminal output cannot be checked"
	fi
}
