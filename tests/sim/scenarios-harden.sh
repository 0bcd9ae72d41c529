# scenarios-harden.sh - issue 13: files pcibind reads are not trusted, programs it runs are not waited for forever
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
# Each scenario here is a defect of issue 13 as a hostile user would find it; every one failed
# on the code before the fix (see the issue's numbers in the comments).

# the real binary, never valgrind's wrapper: for runs that must end by a deadline of their own
# or run where valgrind is not (a chroot)
hb_bin() { echo "${PCIBIND_VG_BIN:-$PCIBIND}"; }

# tpb SECONDS ARGS...: pb with an outer deadline (a hang is a failure, not a hung test); $DT: seconds taken
tpb() {
	local limit=$1 t0
	shift
	t0=$(ms_now)
	OUT=$(timeout -k 5 "$limit" "$PCIBIND" --root "$ROOT" "$@" 2>&1)
	ST=$?
	DT=$(ms_since "$t0")
}
ms_now() { echo $(($(date +%s%N) / 1000000)); }
# seconds since T0 (ms), with one decimal
ms_since() { local d=$(($(ms_now) - $1)); echo "$((d / 1000)).$((d % 1000 / 100))"; }
within() { [ "${DT%.*}" -lt "$1" ]; }

# processes still running with an environment naming this simulated machine (fake systemctl, sleeps)
left_over() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "PCISIM_ROOT=$ROOT" && cat "$p/comm" 2>/dev/null
	done
	return 0
}
nothing_left() { [ -z "$(left_over)" ]; }
kill_left_over() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "PCISIM_ROOT=$ROOT" && kill -9 "${p#/proc/}" 2>/dev/null
	done
	return 0
}

# 2: systemctl stop that hangs: pre-start ends by the program deadline (3 x --timeout), puts everything back
scenario_harden_hung_systemctl() {
	single_gpu_start harden-hung-systemctl || return
	echo "stop pipewire.service" >"$ROOT/systemctl-hang"
	tpb 60 --timeout 1 hook proxmox 200 pre-start
	check "pre-start fails (exit 1) instead of hanging" exit_is 1
	timing_check "... after the program deadline, 3 s, not later ($DT s)" within 8
	check "the message names the unit and the deadline" \
		out_has "cannot stop pipewire.service: 'systemctl stop pipewire.service' did not finish within 3 s; killed"
	check "the hung systemctl and what it started are gone" nothing_left
	rm -f "$ROOT/systemctl-hang"
	single_gpu_host_state "after the hung stop"
	check "the lock is free" flock -n "$ROOT/run/pcibind/lock" true
	kill_left_over
	sim_stop
}

# 2: modprobe that hangs: bind ends by the deadline, nothing changed
scenario_harden_hung_modprobe() {
	sim_start harden-hung-modprobe workstation || return
	printf '#!/bin/sh\nexec sleep 3600\n' >"$ROOT/hang-modprobe"
	chmod 755 "$ROOT/hang-modprobe"
	PCIBIND_MODPROBE=$ROOT/hang-modprobe tpb 60 --timeout 1 bind 0000:06:00.0
	check "bind gives up (exit 4: timed out) instead of hanging" exit_is 4
	timing_check "... after the program deadline, 3 s, not later ($DT s)" within 8
	check "the message names modprobe, the module and the deadline" \
		out_has "'$ROOT/hang-modprobe vfio-pci' did not finish within 3 s; killed"
	check "nothing changed" test "$(writes)" -eq 0
	check "the NIC still on igb" is_driver 0000:06:00.0 igb
	check "modprobe and its children are gone" nothing_left
	kill_left_over
	sim_stop
}

# 2: a refresh command that hangs (generate --write on "/": in a chroot whose /sys is absent)
harden_chroot() {
	local dir=$1 p t lib
	shift
	for p in "$@"; do
		t=${p%%=*}
		p=${p#*=}
		install -D "$p" "$dir$t" || return 1
		for lib in $(ldd "$p" 2>/dev/null | grep -o '/[^ ]*'); do
			[ -e "$dir$lib" ] || install -D "$lib" "$dir$lib" || return 1
		done
	done
}

scenario_harden_refresh_deadline() {
	local dir
	SCEN=harden-refresh-deadline
	dir=$(mktemp -d /tmp/pcibind-chroot.XXXXXX)
	# the chroot is where generate writes as on its own "/": never the host's
	if [ -z "$dir" ] || [ "$dir" = / ] || [ ! -d "$dir" ]; then
		notok "no chroot directory"
		return
	fi
	if ! harden_chroot "$dir" "/usr/sbin/pcibind=$(hb_bin)" /bin/sh=/bin/sh /bin/sleep=/bin/sleep; then
		notok "cannot build the chroot in $dir"
		rm -rf "$dir"
		return
	fi
	mkdir -p "$dir/etc/pcibind" "$dir/proc" "$dir/tmp"
	printf '[gpu]\naddress = 0000:01:00\nboot = yes\n' >"$dir/etc/pcibind/pcibind.conf"
	printf '#!/bin/sh\necho "update-initramfs: Generating /boot/initrd.img"\nexec /bin/sleep 3600\n' \
		>"$dir/usr/sbin/update-initramfs"
	chmod 755 "$dir/usr/sbin/update-initramfs"
	local t0
	t0=$(ms_now)
	OUT=$(timeout -k 5 60 unshare -m --propagation private \
		sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" /usr/sbin/pcibind --timeout 2 generate --write' \
		_ "$dir" 2>&1)
	ST=$?
	DT=$(ms_since "$t0")
	check "generate --write fails (exit 1) instead of hanging on update-initramfs" exit_is 1
	timing_check "... after --timeout 2 s ($DT s)" within 8
	check "the message names the command and the deadline" \
		out_has "'update-initramfs -u -k all' did not finish within 2 s; killed; the files are written"
	check "the command's own output is passed on" out_has "update-initramfs: Generating /boot/initrd.img"
	check "the files were written" test -s "$dir/etc/modprobe.d/pcibind.conf"
	check "nothing is left running in the chroot" \
		bash -c '! ls -l /proc/[0-9]*/root 2>/dev/null | grep -qF -- "$1"' _ "$dir"
	rm -rf "$dir"
}

# 3: generate --write never writes through a symlinked directory on the way (only the last component was checked)
scenario_harden_generate_symlinked_dir() {
	local tmp root out link
	SCEN=harden-generate-symlinked-dir
	tmp=$(mktemp -d /tmp/pcibind-harden-gen.XXXXXX) || return
	for link in absolute relative; do
		root=$tmp/$link/root
		out=$tmp/$link/outside
		mkdir -p "$out"
		cp -a "$SRCDIR/tests/gen/debian12-grub-efi-intel/root" "$root"
		rm -rf "$root/etc/modprobe.d"
		# the outside is a directory of this test, never the host's /etc
		if [ $link = absolute ]; then ln -s "$out" "$root/etc/modprobe.d"; else ln -s ../../outside "$root/etc/modprobe.d"; fi
		OUT=$("$PCIBIND" --root "$root" generate --write 2>&1)
		ST=$?
		check "$link link at etc/modprobe.d: --write fails (exit 1)" exit_is 1
		check "$link link: nothing written outside the root" test -z "$(ls -A "$out")"
		check "$link link: the message names the file and the symlink" \
			out_has "cannot write /etc/modprobe.d/pcibind.conf below $root: Too many levels of symbolic links (a symlink, there or on the way"
		check "$link link: it does not claim to have written it" bash -c '! grep -q "wrote /etc/modprobe.d" <<<"$1"' _ "$OUT"
		check "$link link: the link is still a link" test -L "$root/etc/modprobe.d"
	done
	rm -rf "$tmp"
}
