# harden-lib.sh - the machine and the invariants shared by concurrency.sh and random-signals.sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced after lib.sh. workstation.topo with two boot sets (the GPU 02:00 with its audio, the
# NIC 06:00.0) and two Proxmox VMs holding the same functions: requests on overlapping and
# disjoint sets of functions.

declare -A HOSTDRV=([0000:02:00.0]=nvidia [0000:02:00.1]=snd_hda_intel [0000:06:00.0]=igb)

harden_machine() {
	sim_start "$1" workstation || return 1
	conf <<-'EOF'
	[gpu2]
	address = 0000:02:00
	boot = yes

	[nic2]
	address = 0000:06:00.0
	boot = yes
	EOF
	mkdir -p "$ROOT/etc/pve/qemu-server"
	echo pve1 >"$ROOT/etc/hostname"
	echo "hostpci0: 02:00" >"$ROOT/etc/pve/qemu-server/200.conf"
	echo "hostpci0: 0000:06:00.0" >"$ROOT/etc/pve/qemu-server/201.conf"
	printf 'hostpci0: 02:00\nhostpci1: 0000:06:00.0\n' >"$ROOT/etc/pve/qemu-server/202.conf"
}

# the requests, by name; each is what a user, the boot unit or a VM manager runs
HARDEN_REQUESTS=(
	"bind 02:00" "bind 0000:06:00.0" "bind 02:00 06:00.0" "restore" "restore 02:00" "restore 0000:06:00.0"
	"apply" "hook proxmox 200 pre-start" "hook proxmox 200 post-stop" "hook proxmox 201 pre-start"
	"hook proxmox 201 post-stop" "hook proxmox 202 pre-start" "hook proxmox 202 post-stop"
)

# the journal's record line of a function, "" if none
record_of() { grep "^$1	" "$ROOT/run/pcibind/journal" 2>/dev/null; }

# Every function on its host driver with no override and no record, or on vfio-pci with the
# override and a record of its host driver; no step line, no function twice. Prints the problems.
consistent() {
	local f host d o rec n bad=0
	for f in "${!HOSTDRV[@]}"; do
		host=${HOSTDRV[$f]}
		d=$(driver_of "$f")
		o=$(override_of "$f")
		rec=$(record_of "$f")
		n=$(grep -c "^$f	" "$ROOT/run/pcibind/journal" 2>/dev/null)
		if [ "${n:-0}" -gt 1 ]; then
			echo "$f is in the journal $n times"
			bad=1
		elif [ "$d" = "$host" ] && [ "$o" = "(null)" ] && [ -z "$rec" ]; then
			:
		elif [ "$d" = vfio-pci ] && [ "$o" = vfio-pci ] && [[ $rec == "$f	driver=$host	override=	"* ]]; then
			:
		else
			echo "$f: driver=$d override=$o record='${rec:-none}'"
			bad=1
		fi
	done
	if grep -qv '^#\|^0000:' "$ROOT/run/pcibind/journal" 2>/dev/null; then
		echo "the journal holds other lines: $(grep -v '^#\|^0000:' "$ROOT/run/pcibind/journal" | head -3)"
		bad=1
	fi
	return $bad
}

# after a SIGKILL: whatever is away from its host driver (or keeps an override) has a record of it
covered() {
	local f bad=0
	for f in "${!HOSTDRV[@]}"; do
		[ "$(driver_of "$f")" = "${HOSTDRV[$f]}" ] && [ "$(override_of "$f")" = "(null)" ] && continue
		[[ $(record_of "$f") == "$f	driver=${HOSTDRV[$f]}	"* ]] && continue
		echo "$f: driver=$(driver_of "$f") override=$(override_of "$f"), no record of ${HOSTDRV[$f]}"
		bad=1
	done
	return $bad
}

# the GPU and its audio move together: after a run that ended by itself (or a polite stop), alike
group_alike() {
	local a b
	a=$(driver_of 0000:02:00.0)
	b=$(driver_of 0000:02:00.1)
	[ "$a" = vfio-pci ] && [ "$b" = vfio-pci ] && return 0
	[ "$a" != vfio-pci ] && [ "$b" != vfio-pci ] && return 0
	echo "0000:02:00.0 on $a, 0000:02:00.1 on $b"
	return 1
}

all_home() {
	local f
	for f in "${!HOSTDRV[@]}"; do
		[ "$(driver_of "$f")" = "${HOSTDRV[$f]}" ] && [ "$(override_of "$f")" = "(null)" ] || return 1
	done
	no_journal
}

# processes still running with this machine in their environment (a kwrite child a SIGKILL left behind)
machine_procs() {
	local p n=0
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "PCISIM_ROOT=$ROOT" && n=$((n + 1))
	done
	echo $n
}

wait_machine_quiet() {
	for _ in $(seq 100); do
		[ "$(machine_procs)" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}
