# cycles.sh - many bind/restore cycles of one NIC: no drift in the kernel or in pcibind's state
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
NIC=0000:02:00.0
G=$(grp $NIC)
N=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmtest\.cycles=//p')
N=${N:-200}
ifname() { ls $S/devices/$1/net 2>/dev/null; }
IF=$(ifname $NIC)
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# one failure note per kind is enough to debug from
first() { eval "[ -n \"\${seen_$1:-}\" ]" || { eval "seen_$1=1"; note "cycle $i: $2"; }; }

bad_rc=0 bad_bind=0 bad_node=0 bad_restore=0 bad_ovr=0 bad_leak=0 bad_journal=0 bad_if=0
jsizes=" " runfiles=
procs0=$(nprocs)
mem0=$(meminfo MemAvailable)
slab0=$(meminfo Slab)
dmesg_mark
t0=$(now)
i=1
while [ $i -le $N ]; do
	if ! "$PCIBIND" -q bind $NIC >/tmp/c.out 2>&1; then
		bad_rc=$((bad_rc + 1)); first rc "bind: exit $?: $(cat /tmp/c.out)"
	fi
	[ "$(drv $NIC)" = vfio-pci ] || { bad_bind=$((bad_bind + 1)); first bind "bound to $(drv $NIC)"; }
	[ -e /dev/vfio/$G ] || { bad_node=$((bad_node + 1)); first node "no /dev/vfio/$G while bound"; }
	s=$(stat -c %s $JOURNAL 2>/dev/null || echo none)
	case "$jsizes" in *" $s "*) ;; *) jsizes="$jsizes$s " ;; esac
	if ! "$PCIBIND" -q restore $NIC >/tmp/c.out 2>&1; then
		bad_rc=$((bad_rc + 1)); first rrc "restore: exit $?: $(cat /tmp/c.out)"
	fi
	[ "$(drv $NIC)" = e1000e ] || { bad_restore=$((bad_restore + 1)); first restore "restored to $(drv $NIC)"; }
	[ "$(ovr $NIC)" = "(null)" ] || { bad_ovr=$((bad_ovr + 1)); first ovr "override left: $(ovr $NIC)"; }
	[ -z "$(vfio_nodes)" ] || { bad_leak=$((bad_leak + 1)); first leak "left in /dev/vfio: $(vfio_nodes)"; }
	[ "$(journal_entries)" = 0 ] || { bad_journal=$((bad_journal + 1)); first journal "journal: $(cat $JOURNAL)"; }
	[ "$(ifname $NIC)" = "$IF" ] || { bad_if=$((bad_if + 1)); first if "interface $(ifname $NIC), was $IF"; }
	[ $i = 1 ] && runfiles=$(ls -A /run/pcibind 2>/dev/null | tr '\n' ' ')
	i=$((i + 1))
done
dt=$(elapsed $t0 "$(now)")
note "$N cycles in ${dt}s ($(echo "$dt $N" | awk '{ printf "%.2f", $1 / $2 }')s per bind+restore)"

expect "every pcibind call of $N cycles exited 0" $bad_rc 0
expect "$N binds landed on vfio-pci" $bad_bind 0
expect "/dev/vfio/$G was there after each bind" $bad_node 0
expect "$N restores landed on e1000e" $bad_restore 0
expect "the override was cleared after every restore" $bad_ovr 0
expect "no /dev/vfio node was left after any restore" $bad_leak 0
expect "the journal was empty after every restore" $bad_journal 0
expect "the interface kept its name ($IF) through every cycle" $bad_if 0
expect "the journal had one size whenever the NIC was bound (no growth)" "$(echo $jsizes | wc -w)" 1
expect "/run/pcibind holds the same files as after the first cycle" "$(ls -A /run/pcibind 2>/dev/null | tr '\n' ' ')" "$runfiles"
expect "no process left behind" "$(nprocs)" "$procs0"
msg=$(dmesg_new)
expect_nomatch "no kernel warning, BUG or oops in dmesg" "$msg" "WARNING|BUG|Oops|refcount|leak"
note "MemAvailable $mem0 -> $(meminfo MemAvailable) kB, Slab $slab0 -> $(meminfo Slab) kB, journal sizes while bound:$jsizes"
note "dmesg lines during the cycles: $(printf '%s\n' "$msg" | wc -l)"
reset_all
