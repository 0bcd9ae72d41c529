# scenarios-status.sh - status against the outside oracle: the real lspci -k and lspci -PP on the same tree
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The simulator is mounted inside a small chroot that holds the real lspci with
# its libraries, pci.ids and a lib/modules/$(uname -r) built by the real depmod
# from stub modules whose .modinfo carries aliases: lspci (libpci + libkmod)
# runs there, pcibind --root on the same directory, and their answers for every
# function must agree.

# stub_module DIR NAME ALIAS...: DIR/NAME.ko, an object whose .modinfo holds the aliases
stub_module() {
	local dir=$1 name=$2 src i=0
	shift 2
	mkdir -p "$dir"
	src=$(mktemp /tmp/pcibind-stub.XXXXXX.c)
	for a in "$@"; do
		printf 'static const char a%d[] __attribute__((section(".modinfo"), used, aligned(1))) = "alias=%s";\n' $i "$a" >>"$src"
		i=$((i + 1))
	done
	printf 'static const char l[] __attribute__((section(".modinfo"), used, aligned(1))) = "license=GPL";\n' >>"$src"
	cc -c -o "$dir/$name.ko" "$src"
	local rc=$?
	rm -f "$src"
	return $rc
}

# modules_tree ROOT RELEASE: lib/modules/RELEASE as depmod makes it, for workstation.topo's devices
modules_tree() {
	local m=$1/lib/modules/$2 k
	k=$m/kernel/drivers
	stub_module "$k" nvidia 'pci:v000010DEd00002204sv*sd*bc*sc*i*' 'pci:v000010DEd*sv*sd*bc03sc02i00*' || return 1
	stub_module "$k" nouveau 'pci:v000010DEd*sv*sd*bc03sc*i*' 'pci:v000012D2d*sv*sd*bc03sc*i*' || return 1
	stub_module "$k" nvidiafb 'pci:v000010DEd00002204sv*sd*bc03sc00i00*' || return 1
	stub_module "$k" snd-hda-intel 'pci:v*d*sv*sd*bc04sc03i00*' 'pci:v000010DEd*sv*sd*bc04sc03i00*' || return 1
	stub_module "$k" igb 'pci:v00008086d00001533sv*sd*bc*sc*i*' || return 1
	stub_module "$k" nvme 'pci:v*d*sv*sd*bc01sc08i02*' || return 1
	stub_module "$k" ahci 'pci:v*d*sv*sd*bc01sc06i01*' || return 1
	stub_module "$k" i2c-i801 'pci:v00008086d0000A323sv*sd*bc*sc*i*' || return 1
	stub_module "$k" lpc_ich 'pci:v00008086d0000A30[0-9A-F]sv*sd*bc*sc*i*' || return 1
	stub_module "$k" vfio-pci 'vfio_pci:v*d*sv*sd*bc*sc*i*' || return 1
	printf 'kernel/drivers/%s.ko\n' nvidiafb nouveau nvidia snd-hda-intel igb nvme ahci i2c-i801 lpc_ich vfio-pci >"$m/modules.order"
	# built-in drivers: xhci_pci (matches the USB controller), pcieport (no PCI alias)
	printf 'kernel/drivers/usb/host/xhci-pci.ko\nkernel/drivers/pci/pcieport.ko\n' >"$m/modules.builtin"
	printf 'xhci_pci.alias=pci:v*d*sv*sd*bc0Csc03i30*\0xhci_pci.license=GPL\0pcieport.license=GPL\0' >"$m/modules.builtin.modinfo"
	depmod -b "$1" "$2" 2>/dev/null
}

# lspci_chroot ROOT: the real lspci, its libraries and pci.ids copied into ROOT
lspci_chroot() {
	local lib ids
	ids=$(readlink -f /usr/share/misc/pci.ids)
	[ -x /usr/bin/lspci ] && [ -r "$ids" ] || return 1
	mkdir -p "$1/usr/bin" "$1/usr/share/misc"
	cp /usr/bin/lspci "$1/usr/bin/"
	cp "$ids" "$1/usr/share/misc/pci.ids"
	for lib in $(ldd /usr/bin/lspci | grep -o '/[^ ]*'); do
		mkdir -p "$1$(dirname "$lib")"
		cp -L "$lib" "$1$lib"
	done
}

# in_chroot CMD...: run in $ROOT; lspci finds its sysfs at /sys and kmod /lib/modules/$(uname -r)
in_chroot() { chroot "$ROOT" "$@"; }

# status blocks as "ADDR|line1|subsystem|driver|modules", one per function, sorted
pcibind_facts() {
	awk '/^  [0-9a-f]+:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]\.[0-7] / { if (a) print a "|" l "|" s "|" d "|" m; a = $1; l = substr($0, 3); s = d = m = ""; next }
	     /^      subsystem: / { s = substr($0, 18); next }
	     /^      driver: / { d = $2; if (d == "none") d = ""; if (match($0, /modules: .*/)) m = substr($0, RSTART + 9); next }
	     END { if (a) print a "|" l "|" s "|" d "|" m }' | sort
}

lspci_facts() {
	awk '/^[0-9a-f]/ { if (a) print a "|" l "|" s "|" d "|" m; a = $1; l = $0; sub(/ \(rev [0-9a-f]+\)$/, "", l); s = d = m = ""; next }
	     /^\tSubsystem: / { s = substr($0, 13); next }
	     /^\tKernel driver in use: / { d = substr($0, 24); next }
	     /^\tKernel modules: / { m = substr($0, 18); next }
	     END { if (a) print a "|" l "|" s "|" d "|" m }' | sort
}

facts_agree() {
	if diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") >/dev/null; then return 0; fi
	echo "#   pcibind (<) and lspci (>) differ:"
	diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed 's/^/#   /' | head -20
	return 1
}

scenario_status_lspci() {
	local rel mine theirs
	sim_start status-lspci workstation || return
	rel=$(uname -r)
	if ! lspci_chroot "$ROOT" || ! modules_tree "$ROOT" "$rel"; then
		notok "cannot build the lspci chroot (lspci, pci.ids, cc, depmod): the oracle cannot run"
		sim_stop
		return
	fi
	echo "$rel" >"$ROOT/proc/sys/kernel/osrelease" 2>/dev/null || { mkdir -p "$ROOT/proc/sys/kernel" && echo "$rel" >"$ROOT/proc/sys/kernel/osrelease"; }
	if ! theirs=$(in_chroot /usr/bin/lspci -D -nn -k 2>&1) || grep -q '^lspci:' <<<"$theirs"; then
		notok "lspci -k in the chroot failed: $(head -n 3 <<<"$theirs" | tr '\n' '|')"
		sim_stop
		return
	fi
	pb status
	check "status exits 0" exit_is 0
	mine=$(pcibind_facts <<<"$OUT")
	theirs=$(lspci_facts <<<"$theirs")
	check "lspci -k lists every function pcibind does ($(wc -l <<<"$mine"))" test "$(cut -d'|' -f1 <<<"$mine")" = "$(cut -d'|' -f1 <<<"$theirs")"
	check "each function's line, subsystem, driver and modules agree with lspci -D -nn -k" facts_agree "$mine" "$theirs"
	check "the GPU's candidates are nvidiafb, nouveau, nvidia in depmod's order" fn_shows 0000:02:00.0 "modules: nvidiafb, nouveau, nvidia"
	check "a built-in driver is a candidate when no module matches (xhci_pci)" fn_shows 0000:00:14.0 "modules: xhci_pci"
	check "a bracket pattern matches as fnmatch does (lpc_ich for a305)" fn_shows 0000:00:1f.0 "modules: lpc_ich"
	pb status --json
	check "status --json lists the candidates too" json_is '[f["modules"] for g in d["groups"] for f in g["functions"] if f["address"] == "0000:00:1f.4"][0]' "['i2c_i801']"
	rm -rf "$ROOT/lib/modules/$rel"
	pb status 02:00.0
	check "without modules.alias: no modules: part" bash -c '! grep -q "modules:" <<<"$1"' _ "$OUT"
	pb status --json 02:00.0
	check "without modules.alias: modules is null in JSON" json_is 'd["groups"][0]["functions"][0]["modules"]' None
	sim_stop
	# a switch, and a class pci.ids knows only without its subclass
	sim_start status-lspci acs || return
	lspci_chroot "$ROOT" || { notok "cannot copy lspci into the chroot: the oracle cannot run"; sim_stop; return; }
	pb status
	check "acs.topo: every function agrees with lspci -D -nn -k" facts_agree "$(pcibind_facts <<<"$OUT")" \
		"$(in_chroot /usr/bin/lspci -D -nn -k 2>/dev/null | lspci_facts)"
	check "acs.topo: a class known without its subclass is named once with its number" \
		fn_shows 0000:00:1e.0 "Unassigned class \[ff00\]: Red Hat"
	sim_stop
}

# the tree: each function's chain of bridges, as lspci -PP prints it ("0000:00:01.0/01:00.0")
tree_paths() {
	awk '{ line = $0; d = 0
	       while (substr(line, 1, 3) == "|  " || substr(line, 1, 3) == "   ") { d++; line = substr(line, 4) }
	       if (substr(line, 1, 3) != "+- " && substr(line, 1, 3) != "\\- ") next
	       split(substr(line, 4), w, " "); a = w[1]; path[d] = a
	       p = d ? path[0] : a
	       for (i = 1; i <= d; i++) p = p "/" substr(path[i], 6)
	       print p }' | sort
}

scenario_status_tree() {
	local mine theirs
	sim_start status-tree workstation || return
	lspci_chroot "$ROOT" || { notok "cannot copy lspci into the chroot: the oracle cannot run"; sim_stop; return; }
	pb status --tree
	check "status --tree exits 0" exit_is 0
	mine=$(tree_paths <<<"$OUT")
	theirs=$(in_chroot /usr/bin/lspci -PP -D 2>/dev/null | awk '{ print $1 }' | sort)
	check "every function sits below the bridges lspci -PP names ($(wc -l <<<"$theirs") functions)" facts_agree "$mine" "$theirs"
	check "the tree names each function's group" grep -q '^|  +- 0000:01:00.0  group 1  VGA compatible controller' <<<"$OUT"
	check "group 1 is explained by its root port" out_has "group 1: 0000:00:01.0, 0000:01:00.0, 0000:01:00.1"
	check "... without ACS" out_has "why: the root port 0000:00:01.0 does not isolate the devices below it (no ACS)"
	check "group 10 by its multi-function device" out_has "why: the functions of one device (0000:00:1f) without ACS isolation between them"
	pb status --tree 02:00.1
	check "a selector shows its group and the bridges above it" test "$(tree_paths <<<"$OUT" | tr '\n' ' ')" = "0000:00:01.1 0000:00:01.1/02:00.0 0000:00:01.1/02:00.1 "
	sim_stop
}

# status and bind agree on a selector that matches nothing (issue 16): both exit 2 with one message
scenario_status_unmatched() {
	local bind_out
	sim_start status-unmatched workstation || return
	printf '[gone]\naddress = 0000:09:00\n' | conf
	for sel in 0000:09:00.0 09:00 1234:5678 gone; do
		pb bind "$sel"
		check "bind $sel exits 2" exit_is 2
		bind_out=$OUT
		pb status "$sel"
		check "status $sel exits 2 like bind" exit_is 2
		check "status $sel says what bind says" out_has "${bind_out#pcibind: }"
	done
	pb status 02:00.0 09:00
	check "status still shows what the other selector matched" fn_shows 0000:02:00.0 "driver: nvidia"
	check "... and exits 2" exit_is 2
	OUT=$("$PCIBIND" --root "$ROOT" status --json 09:00 2>/dev/null)
	check "status --json of nothing is still one document" json_is 'd["groups"]' "[]"
	sim_stop
}
