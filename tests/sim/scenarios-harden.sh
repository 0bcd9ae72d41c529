# scenarios-harden.sh - issue 13: files pcibind reads are not trusted, programs it runs are not waited for forever
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2016
# Each scenario here is a defect of issue 13 as a hostile user would find it; every one failed
# on the code before the fix (see the issue's numbers in the comments).

# the real binary, never valgrind's wrapper: for runs that must end by a deadline of their own
# or run where valgrind is not (a chroot)
# (nor run.sh's json-pcibind, $PCIBIND_REAL's wrapper)
hb_bin() { echo "${PCIBIND_VG_BIN:-${PCIBIND_REAL:-$PCIBIND}}"; }

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

NIC2=0000:06:00.0 # igb, group 9, no use

# 1: post-stop killed while 'systemctl start display-manager' hangs: the GPU is back, the unit, vtcon
# and framebuffer steps are still journaled; a bare restore must undo them (it said "nothing to do")
scenario_harden_restore_after_killed_post_stop() {
	local pid
	single_gpu_start harden-killed-post-stop || return
	pb hook proxmox 200 pre-start
	check "pre-start exits 0" exit_is 0
	echo "start display-manager.service" >"$ROOT/systemctl-hang"
	"$PCIBIND" --root "$ROOT" hook proxmox 200 post-stop >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		grep -qx "start display-manager.service" "$ROOT/systemctl.log" 2>/dev/null && break
		sleep 0.05
	done
	check "post-stop reached the hanging 'systemctl start display-manager.service'" \
		grep -qx "start display-manager.service" "$ROOT/systemctl.log"
	kill -9 $pid
	wait $pid 2>/dev/null
	kill_left_over
	rm -f "$ROOT/systemctl-hang"
	check "the GPU is back on amdgpu" is_driver $SG amdgpu
	check "the journal still holds the unit step" grep -q "^unit	name=display-manager.service" "$ROOT/run/pcibind/journal"
	local calls
	calls=$(wc -l <"$ROOT/systemctl.log")
	pb --dry-run restore
	check "restore --dry-run says it would start the unit again" out_has "then start unit display-manager.service again"
	check "... and bind the console again" out_has "then bind vtcon vtcon1 again"
	check "... running nothing" test "$(wc -l <"$ROOT/systemctl.log")" -eq "$calls"
	pb restore
	check "a bare restore exits 0" exit_is 0
	check "... and does not say 'nothing to do'" out_lacks "nothing to do"
	single_gpu_host_state "after the restore"
	sim_stop
}

# a journal line as pcibind writes it, with one field replaced: jset FIELD VALUE (on every record line)
jset() { sed -i "s|	$1=[^	]*|	$1=$2|" "$ROOT/run/pcibind/journal"; }

# 4: nothing read back from the journal is trusted: names that would become paths or programs' arguments
scenario_harden_journal_untrusted() {
	sim_start harden-journal-untrusted workstation || return
	export PCIBIND_SYSTEMCTL=$SRCDIR/tests/sim/hook-fake-systemctl
	conf <<-'EOF'
	[gpu]
	address = 0000:01:00
	stop_units = display-manager.service
	EOF
	pb bind $NIC2
	check "bind $NIC2 (exit 0)" exit_is 0
	cp "$ROOT/run/pcibind/journal" "$ROOT/journal.good"
	# a driver name that climbs out of sys/bus/pci/drivers
	mkdir -p "$ROOT/tmp/x" && : >"$ROOT/tmp/x/bind"
	jset driver ../../../../tmp/x
	local n
	n=$(writes)
	pb restore
	check "driver=../../../../tmp/x: restore refuses the journal (exit 1)" exit_is 1
	check "... naming the journal and the line" out_has "the journal run/pcibind/journal is damaged at line 2"
	check "... writing nothing" test "$(writes)" -eq "$n"
	check "... and not into ROOT/tmp/x/bind" test ! -s "$ROOT/tmp/x/bind"
	# a driver name modprobe would take for an option, an override that is not a name
	cp "$ROOT/journal.good" "$ROOT/run/pcibind/journal"
	jset driver -r
	n=$(writes)
	pb restore
	check "driver=-r: refused (exit 1)" exit_is 1
	check "... as a damaged journal, writing nothing" \
		test "$(writes)" -eq "$n" -a -n "$(grep -F 'the journal run/pcibind/journal is damaged at line 2' <<<"$OUT")"
	cp "$ROOT/journal.good" "$ROOT/run/pcibind/journal"
	jset override "vfio pci"
	n=$(writes)
	pb restore
	check "override='vfio pci': refused (exit 1)" exit_is 1
	check "... as a damaged journal, writing nothing" \
		test "$(writes)" -eq "$n" -a -n "$(grep -F 'the journal run/pcibind/journal is damaged at line 2' <<<"$OUT")"
	# a vtconsole step that climbs out of sys/class/vtconsole
	cp "$ROOT/journal.good" "$ROOT/run/pcibind/journal"
	mkdir -p "$ROOT/tmp/z" && : >"$ROOT/tmp/z/bind"
	printf 'vtcon\tname=../../../tmp/z\tdriver=\tfor=%s\n' 0000:01:00.0 >>"$ROOT/run/pcibind/journal"
	pb restore
	check "vtcon name=../../../tmp/z: refused (exit 1)" exit_is 1
	check "... nothing written to ROOT/tmp/z/bind" test ! -s "$ROOT/tmp/z/bind"
	# a unit step for a unit no set stops: never started
	cp "$ROOT/journal.good" "$ROOT/run/pcibind/journal"
	printf 'unit\tname=reboot.target\tdriver=\tfor=%s\n' 0000:01:00.0 >>"$ROOT/run/pcibind/journal"
	pb restore
	check "unit name=reboot.target: restore gives $NIC2 back" is_driver $NIC2 igb
	check "... does not start reboot.target" bash -c '! grep -q "reboot.target" "$1/systemctl.log" 2>/dev/null' _ "$ROOT"
	check "... says why (exit 1)" exit_is 1
	check "... naming the unit" out_has "the journal says reboot.target was stopped, but no set of the configuration stops it"
	check "... and drops its record" no_journal
	# a NUL byte: it used to end the text and drop every record after it, silently
	pb bind $NIC2
	printf '# pcibind journal 1\n\0\n' >"$ROOT/run/pcibind/journal.new"
	cat "$ROOT/run/pcibind/journal" >>"$ROOT/run/pcibind/journal.new"
	mv "$ROOT/run/pcibind/journal.new" "$ROOT/run/pcibind/journal"
	pb restore
	check "a NUL byte in the journal: refused (exit 1)" exit_is 1
	check "... naming the line" out_has "damaged at line 2"
	check "... $NIC2 untouched" is_driver $NIC2 vfio-pci
	sim_stop
}

# 5: the run directory must be a real directory of root's: journal and lock never land outside
scenario_harden_run_dir() {
	local out
	sim_start harden-run-dir workstation || return
	out=$(mktemp -d /tmp/pcibind-harden-out.XXXXXX)
	ln -s "$out" "$ROOT/run/pcibind"
	pb bind $NIC2
	check "a symlink at run/pcibind: bind refused (exit 1)" exit_is 1
	check "... saying what is wrong" out_has "run/pcibind is a symlink"
	check "... nothing written outside the root" test -z "$(ls -A "$out")"
	check "... nothing changed" is_driver $NIC2 igb
	rm "$ROOT/run/pcibind"
	ln -s ../elsewhere "$ROOT/run/pcibind"
	mkdir -p "$ROOT/elsewhere"
	pb bind $NIC2
	check "a relative symlink: refused too (exit 1)" exit_is 1
	check "... nothing in its target" test -z "$(ls -A "$ROOT/elsewhere")"
	rm "$ROOT/run/pcibind"
	mkdir -m 0777 "$ROOT/run/pcibind"
	pb bind $NIC2
	check "a world-writable run/pcibind: refused (exit 1)" exit_is 1
	check "... naming its mode" out_has "with mode 0777"
	check "... nothing changed" is_driver $NIC2 igb
	chmod 0700 "$ROOT/run/pcibind"
	chown 1000 "$ROOT/run/pcibind"
	pb bind $NIC2
	check "a run/pcibind owned by uid 1000: refused (exit 1)" exit_is 1
	check "... naming the owner" out_has "owned by uid 1000"
	pb restore
	check "restore refuses it too (exit 1)" exit_is 1
	rm -rf "$ROOT/run/pcibind"
	chmod 0777 "$ROOT/run"
	pb bind $NIC2
	check "a world-writable run/: refused (exit 1)" exit_is 1
	check "... naming run/ and its mode, not run/pcibind" out_has "/run is owned by uid 0 with mode 0777"
	check "... nothing changed" is_driver $NIC2 igb
	# a tmpfs mounted without mode= (a rescue shell's /run) is 1777: nobody else can take what root made there
	chmod 1777 "$ROOT/run"
	pb bind $NIC2
	check "a sticky world-writable run/ (tmpfs's default 1777): bind works (exit 0)" exit_is 0
	check "... run/pcibind made root's, mode 0700" test "$(stat -c '%u %a' "$ROOT/run/pcibind")" = "0 700"
	pb restore
	check "... and restore (exit 0)" exit_is 0
	rm -rf "$ROOT/run/pcibind"
	mkdir -m 0700 "$ROOT/run/pcibind"
	chown 1000 "$ROOT/run/pcibind"
	pb bind $NIC2
	check "under a sticky run/, a run/pcibind made first by uid 1000: refused (exit 1)" exit_is 1
	check "... naming the owner" out_has "owned by uid 1000"
	check "... nothing changed" is_driver $NIC2 igb
	rm -rf "$ROOT/run/pcibind"
	chmod 0755 "$ROOT/run"
	pb bind $NIC2
	check "a missing run/pcibind is created (exit 0)" exit_is 0
	check "... as a directory of root's, mode 0700" test "$(stat -c '%u %a %F' "$ROOT/run/pcibind")" = "0 700 directory"
	pb restore
	rm -rf "$out"
	sim_stop
}

# 6: FIFOs where pcibind reads files: nothing waits on them
scenario_harden_fifos() {
	sim_start harden-fifos workstation || return
	pb bind $NIC2
	mv "$ROOT/run/pcibind/journal" "$ROOT/journal.good"
	mkfifo -m 0600 "$ROOT/run/pcibind/journal"
	tpb 30 restore
	check "a FIFO as the journal: restore fails at once (exit 1, $DT s)" exit_is 1
	timing_check "... within 5 s" within 5
	check "... saying it is not a regular file" out_has "is not a regular file"
	check "the lock is free" flock -n "$ROOT/run/pcibind/lock" true
	rm "$ROOT/run/pcibind/journal"
	mv "$ROOT/journal.good" "$ROOT/run/pcibind/journal"
	pb restore
	check "with the journal back, restore works (exit 0)" exit_is 0
	mkdir -p "$ROOT/etc/pve/qemu-server" "$ROOT/etc/pve/mapping"
	echo pve1 >"$ROOT/etc/hostname"
	mkfifo "$ROOT/etc/pve/qemu-server/300.conf"
	tpb 30 hook proxmox 300 pre-start
	check "a FIFO as the VM config: pre-start fails at once (exit 1, $DT s)" exit_is 1
	timing_check "... within 5 s" within 5
	check "... saying it is not a regular file" out_has "cannot read /etc/pve/qemu-server/300.conf: not a regular file"
	rm "$ROOT/etc/pve/qemu-server/300.conf"
	echo "hostpci0: $NIC2" >"$ROOT/etc/pve/qemu-server/300.conf"
	mkfifo "$ROOT/etc/pve/mapping/pci.cfg"
	tpb 30 hook proxmox 300 pre-start
	check "a FIFO as pci.cfg: pre-start fails at once (exit 1, $DT s)" exit_is 1
	timing_check "... within 5 s" within 5
	check "... naming it" out_has "cannot read /etc/pve/mapping/pci.cfg: not a regular file"
	rm "$ROOT/etc/pve/mapping/pci.cfg" "$ROOT/etc/hostname"
	mkfifo "$ROOT/etc/hostname"
	tpb 30 hook proxmox 300 pre-start
	check "a FIFO as /etc/hostname: pre-start does not wait on it (exit 0, $DT s)" exit_is 0
	timing_check "... within 5 s" within 5
	check "... and hands the NIC over" is_driver $NIC2 vfio-pci
	tpb 30 hook proxmox 300 post-stop
	sim_stop
}

# 8: started with stdout and stderr closed, the lock must not become fd 2 and receive the messages
scenario_harden_closed_std_fds() {
	sim_start harden-closed-std-fds workstation || return
	# refused (the boot VGA with the console): the refusal is printed while the lock is held
	"$PCIBIND" --root "$ROOT" bind 0000:01:00 >&- 2>&-
	ST=$?
	check "bind refused as usual (exit 3)" exit_is 3
	check "the lock file holds only the pid" grep -qx '[0-9]*' "$ROOT/run/pcibind/lock"
	"$PCIBIND" --root "$ROOT" bind $NIC2 <&- >&- 2>&-
	ST=$?
	check "bind with stdin, stdout and stderr closed works (exit 0)" exit_is 0
	check "the journal is intact" grep -q "^$NIC2	driver=igb" "$ROOT/run/pcibind/journal"
	check "the lock file still holds only the pid" grep -qx '[0-9]*' "$ROOT/run/pcibind/lock"
	pb restore
	sim_stop
}

# 9: a driver name that modprobe would take for an option never reaches it
scenario_harden_driver_option() {
	sim_start harden-driver-option workstation || return
	printf '#!/bin/sh\necho "$@" >>"%s/modprobe.args"\nexec "%s" "$@"\n' "$ROOT" "$SRCDIR/tests/sim/fake-modprobe" \
		>"$ROOT/log-modprobe"
	chmod 755 "$ROOT/log-modprobe"
	export PCIBIND_MODPROBE=$ROOT/log-modprobe
	pb bind --driver -r $NIC2
	check "--driver -r: usage error (exit 2)" exit_is 2
	check "... naming the rule" out_has "invalid --driver '-r'"
	pb bind --driver=--remove $NIC2
	check "--driver=--remove: usage error (exit 2)" exit_is 2
	conf <<-EOF
	[nic]
	address = $NIC2
	driver = -r
	EOF
	pb bind nic
	check "driver = -r in the configuration: configuration error (exit 2)" exit_is 2
	check "... naming the file and line" out_has "pcibind.conf:3: invalid driver '-r'"
	check "modprobe was never run" test ! -e "$ROOT/modprobe.args"
	conf <<-EOF
	[nic]
	address = $NIC2
	EOF
	pb bind nic
	check "a good one loads vfio-pci (exit 0)" exit_is 0
	check "... with '--' before the name" grep -qx -- "-- vfio-pci" "$ROOT/modprobe.args"
	pb restore
	export PCIBIND_MODPROBE=$SRCDIR/tests/sim/fake-modprobe
	sim_stop
}

# 10: the libvirt hook with a stdin that never ends: only the two phases that act read it, with a deadline
scenario_harden_libvirt_stdin() {
	local t0 writer
	sim_start harden-libvirt-stdin workstation || return
	# a writer that holds stdin open and never writes
	mkfifo "$ROOT/stdin"
	sleep 120 >"$ROOT/stdin" &
	writer=$!
	t0=$(ms_now)
	OUT=$(timeout -k 5 60 "$PCIBIND" --root "$ROOT" hook libvirt win11 started begin - <"$ROOT/stdin" 2>&1)
	ST=$?
	DT=$(ms_since "$t0")
	check "'started begin' with a stalled stdin: exit 0 at once ($DT s)" exit_is 0
	timing_check "... within 5 s" within 5
	t0=$(ms_now)
	OUT=$(timeout -k 5 60 "$PCIBIND" --root "$ROOT" --timeout 1 hook libvirt win11 prepare begin - <"$ROOT/stdin" 2>&1)
	ST=$?
	DT=$(ms_since "$t0")
	check "'prepare begin' with a stalled stdin: fails (exit 1) by the deadline ($DT s)" exit_is 1
	timing_check "... within 5 s" within 5
	check "... saying the XML did not come" out_has "the domain XML did not come on stdin within 1 s; nothing was changed"
	check "nothing written" test "$(writes)" -eq 0
	kill "$writer" 2>/dev/null
	wait "$writer" 2>/dev/null
	sim_stop
}

# 11: a selector of 4 KB is not echoed whole
scenario_harden_long_selector() {
	local long
	sim_start harden-long-selector workstation || return
	long=$(head -c 4096 /dev/zero | tr '\0' a)
	for verb in bind restore status; do
		pb $verb "$long"
		check "$verb: a 4 KB selector is a usage error (exit 2)" exit_is 2
		check "$verb: ... the message is short (${#OUT} bytes)" test "${#OUT}" -lt 400
		check "$verb: ... and shows the start of it" out_has "invalid selector 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	done
	pb bind --driver "$long" $NIC2
	check "a 4 KB --driver: exit 2, a short message (${#OUT} bytes)" test "$ST" -eq 2 -a "${#OUT}" -lt 400
	pb "$long"
	check "a 4 KB command: exit 2, a short message (${#OUT} bytes)" test "$ST" -eq 2 -a "${#OUT}" -lt 400
	sim_stop
}

# 12: restore of a function whose /dev/vfio/N a running VM holds: refused, naming the process
scenario_harden_restore_held() {
	sim_start harden-restore-held workstation || return
	pb bind $NIC2
	check "bind $NIC2 (exit 0)" exit_is 0
	fake_holder 4242 qemu-system-x86 /dev/vfio/9
	local n
	n=$(writes)
	pb restore $NIC2
	check "restore of a held function: refused (exit 3)" exit_is 3
	check "... naming the process and the node" out_has "qemu-system-x86 (pid 4242) holds /dev/vfio/9"
	check "... saying what it would do" out_has "pull it out of the running guest"
	check "... nothing written" test "$(writes)" -eq "$n"
	check "... still on vfio-pci" is_driver $NIC2 vfio-pci
	pb restore
	check "a bare restore: refused too (exit 3)" exit_is 3
	pb unbind $NIC2
	check "unbind: refused too (exit 3)" exit_is 3
	pb --force restore $NIC2
	check "--force: restore goes on (exit 0)" exit_is 0
	check "... saying what it overrides" out_has "overridden by --force: $NIC2 is in use"
	check "... back on igb" is_driver $NIC2 igb
	sim_stop
}

# wait_log TEXT: until a line of the simulator's log starts with TEXT (10 s at most)
wait_log() {
	for _ in $(seq 200); do
		sim_log | grep -q "^$1" && return 0
		sleep 0.05
	done
	return 1
}

# SIGTERM / SIGINT: the write in flight finishes, the request is put back (a restore completes), and the
# signal then ends pcibind: nothing is left for a later restore
polite_stop_case() {
	local sig=$1 op=$2 verb=$3 pid want
	sim_start "harden-polite-$sig-at-$op-$verb" workstation || return
	if [ "$verb" = restore ]; then
		pb bind 02:00
		ctl "mark restore"
	fi
	ctl "block $GPU2 $op 2"
	# a background job of a script starts with SIGINT ignored, and pcibind keeps an ignored one ignored
	env --default-signal="$sig" "$PCIBIND" --root "$ROOT" "$verb" 02:00 >"$ROOT.out" 2>&1 &
	pid=$!
	check "$verb reached the blocked $op" wait_log "block $GPU2 $op"
	kill -"$sig" $pid
	wait $pid
	ST=$?
	OUT=$(cat "$ROOT.out")
	rm -f "$ROOT.out"
	want=$((128 + $(kill -l "$sig")))
	check "the signal ends it once the work is done (status $want)" exit_is $want
	check "the write in flight was not cut short" bash -c '! grep -q "^interrupted $1 $2" "$3/sys/.pcisim/log"' _ "$GPU2" "$op" "$ROOT"
	check "it says what it did" out_has "SIG$sig received: what was under way was finished or put back"
	check "GPU on nvidia" is_driver $GPU2 nvidia
	check "audio on snd_hda_intel" is_driver $AUD2 snd_hda_intel
	check "no override left" bash -c '[ "$(cat "$1/sys/bus/pci/devices/$2/driver_override")" = "(null)" ] &&
		[ "$(cat "$1/sys/bus/pci/devices/$3/driver_override")" = "(null)" ]' _ "$ROOT" $GPU2 $AUD2
	check "nothing left in the journal for a restore" no_journal
	check "the lock is free" flock -n "$ROOT/run/pcibind/lock" true
	sim_stop
}

scenario_harden_polite_stop() {
	polite_stop_case TERM unbind bind
	polite_stop_case INT driver_override bind
	polite_stop_case TERM unbind restore
	# a hook's pre-start: the single-GPU steps done so far are undone as well
	local pid
	single_gpu_start harden-polite-stop-pre-start || return
	ctl "block efi-framebuffer.0 unbind 2"
	"$PCIBIND" --root "$ROOT" hook proxmox 200 pre-start >"$ROOT.out" 2>&1 &
	pid=$!
	check "pre-start reached the blocked framebuffer unbind" wait_log "block efi-framebuffer.0 unbind"
	kill -TERM $pid
	wait $pid
	ST=$?
	OUT=$(cat "$ROOT.out")
	rm -f "$ROOT.out"
	check "pre-start ends by the signal (143)" exit_is 143
	single_gpu_host_state "after SIGTERM during pre-start"
	sim_stop
}

# the concurrency test: 20 rounds of 24 runs at once (tests/sim/concurrency.sh)
scenario_harden_concurrency() {
	"$SRCDIR/tests/sim/concurrency.sh" "$PCIBIND" "$PCISIM"
}

# the random-signal test: 50 kills that land on a run at work, a third during a blocked unbind
scenario_harden_random_signals() {
	"$SRCDIR/tests/sim/random-signals.sh" "$PCIBIND" "$PCISIM"
}

# 7: the configuration's directory is trusted only as its files are: root's, writable by nobody else
scenario_harden_config_dir() {
	sim_start harden-config-dir workstation || return
	printf '[nic]\naddress = %s\n' "$NIC2" | conf
	chmod 0777 "$ROOT/etc/pcibind"
	pb bind nic
	check "a world-writable etc/pcibind: refused as a configuration error (exit 2)" exit_is 2
	check "... naming the directory and the fix" out_has "etc/pcibind: is world-writable (mode 0777); run chmod go-w"
	check "... nothing changed" is_driver $NIC2 igb
	chmod 0755 "$ROOT/etc/pcibind"
	chown 1000 "$ROOT/etc/pcibind"
	pb bind nic
	check "an etc/pcibind owned by uid 1000: refused (exit 2)" exit_is 2
	check "... naming the owner" out_has "etc/pcibind: is owned by uid 1000, not root"
	check "... nothing changed" is_driver $NIC2 igb
	mkdir -p "$ROOT/etc/pcibind/conf.d"
	chown 0 "$ROOT/etc/pcibind"
	chmod 0775 "$ROOT/etc/pcibind/conf.d"
	pb bind nic
	check "a group-writable conf.d: refused (exit 2)" exit_is 2
	check "... naming it" out_has "conf.d: is group-writable (mode 0775)"
	chmod 0755 "$ROOT/etc/pcibind/conf.d"
	pb bind nic
	check "put right, the same bind works (exit 0)" exit_is 0
	pb restore
	sim_stop
}
