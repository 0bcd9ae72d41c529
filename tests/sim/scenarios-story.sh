# scenarios-story.sh - issue 19: README's story on a Debian 12 system with the package installed
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Found on a real Debian 12 guest with the .deb installed (tests/story runs that story whole);
# these are the defects the simulator is enough to show. Uses scenarios-setup.sh's helpers.

# story_merged_usr: the root as Debian 12 lays it out with the package installed: /lib a symlink
# to usr/lib (merged /usr), the unit in /lib/systemd/system (the package's systemdsystemunitdir on
# bookworm) and the link deb-systemd-helper made in postinst, to /lib/systemd/system/pcibind.service
story_merged_usr() {
	mkdir -p "$ROOT/usr/lib" && cp -a "$ROOT/lib/." "$ROOT/usr/lib/" && rm -rf "$ROOT/lib" &&
		ln -s usr/lib "$ROOT/lib" || return 1
	mkdir -p "$ROOT/etc/systemd/system/sysinit.target.wants" &&
		ln -s /lib/systemd/system/pcibind.service "$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service"
}

# a modules.alias for the running kernel: what the kernel would bind, whatever is bound now
story_aliases() {
	local d="$ROOT/lib/modules/6.1.0-13-amd64"
	mkdir -p "$d" && echo "6.1.0-13-amd64" >"$ROOT/proc/sys/kernel/osrelease" &&
		printf '%s\n' 'alias pci:v00008086d00001533sv*sd*bc*sc*i* igb' \
			'alias pci:v000010DEd*sv*sd*bc03sc*i00* nouveau' >"$d/modules.alias"
}

# every file below etc and boot with its content: what a user compares
etc_tree() { (cd "$ROOT" && find etc boot \( -type f -o -type l \) ! -path 'etc/pcibind/*' -printf '%p %l\n' -exec sh -c 'test -L "$1" || md5sum <"$1"' _ {} \; 2>/dev/null | paste - - | sort); }

scenario_story_merged_usr_unit() {
	setup_start story-merged-usr || return
	story_merged_usr || { notok "cannot lay out merged /usr"; setup_stop; return; }
	systemctl --root="$ROOT" is-enabled pcibind.service >"$ROOT.sysd" 2>&1
	check "systemctl itself calls the package's link enabled (the oracle)" grep -qx enabled "$ROOT.sysd"
	pb setup 02:00 --boot --dry-run
	check "setup --dry-run accepts the link the package made on merged /usr (exit 0)" exit_is 0
	check "... and would make no other link" bash -c '! grep -q "would enable pcibind.service" <<<"$1"' _ "$OUT"
	pb setup 02:00 --boot
	check "setup exits 0" exit_is 0
	check "the package's link is left as it was" test "$(readlink "$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service")" = /lib/systemd/system/pcibind.service
	check "pcibind.service is enabled" enabled
	# the way back leaves the unit as the package left it: enabled, its link as it was
	pb setup --remove gpu
	check "setup --remove exits 0" exit_is 0
	check "the unit the package enabled stays enabled" enabled
	check "... with the package's link" test "$(readlink "$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service")" = /lib/systemd/system/pcibind.service
	check "... and it says so" out_has "pcibind.service stays enabled, as it was before setup"
	rm -f "$ROOT.sysd"
	setup_stop
}

scenario_story_split_usr_unit() {
	setup_start story-split-usr || return
	# not merged: the unit only in /lib/systemd/system, the link to it
	mkdir -p "$ROOT/lib/systemd/system" "$ROOT/etc/systemd/system/sysinit.target.wants"
	mv "$ROOT/usr/lib/systemd/system/pcibind.service" "$ROOT/lib/systemd/system/"
	ln -s /lib/systemd/system/pcibind.service "$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service"
	pb setup 02:00 --boot
	check "setup with the unit in /lib/systemd/system only exits 0" exit_is 0
	check "it is enabled, the link as it was" test "$(readlink "$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service")" = /lib/systemd/system/pcibind.service
	# a link to some other file of another name is still a conflict, as systemctl says
	pb setup --remove gpu
	mkdir -p "$ROOT/etc/systemd/system/sysinit.target.wants"
	ln -sf /usr/lib/systemd/system/other.service "$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service"
	pb setup 02:00 --boot --dry-run
	check "a link to another unit file is a conflict (exit 1)" exit_is 1
	check "... named" out_has "is a symlink to /usr/lib/systemd/system/other.service"
	setup_stop
}

scenario_story_checked_before_writing() {
	setup_start story-before-write || return
	rm -f "$ROOT/usr/lib/systemd/system/pcibind.service"
	snapshot >"$ROOT.snap"
	pb setup 02:00 --boot --yes
	check "setup --boot without the unit installed fails (exit 1)" exit_is 1
	check "... saying why" out_has "pcibind.service is not installed below"
	check "... and that nothing was changed" out_has "nothing was changed"
	check "nothing below the root changed (no configuration, no generated file)" unchanged_since_snap
	# a unit whose link place is taken: the same
	make -s -C "$SRCDIR" build/pcibind.service >/dev/null 2>&1 && cp "$SRCDIR/build/pcibind.service" "$ROOT/usr/lib/systemd/system/"
	mkdir -p "$ROOT/etc/systemd/system/sysinit.target.wants"
	echo "not a link" >"$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service"
	snapshot >"$ROOT.snap"
	pb setup 02:00 --boot --yes
	check "a file in the link's place: setup fails (exit 1)" exit_is 1
	check "nothing below the root changed" unchanged_since_snap
	setup_stop
}

scenario_story_remove_gives_back() {
	setup_start story-remove || return
	rm -f "$ROOT/etc/pcibind/pcibind.conf"
	etc_tree >"$ROOT.before"
	pb setup 02:00 --boot
	check "setup on a host with no configuration (exit 0)" exit_is 0
	check "the GRUB drop-in is written" file_has etc/default/grub.d/pcibind.cfg "intel_iommu=on"
	pb setup --remove gpu
	check "setup --remove gpu exits 0" exit_is 0
	check "the GRUB drop-in is gone (the next boot has no intel_iommu=on)" test ! -e "$ROOT/etc/default/grub.d/pcibind.cfg"
	check "modprobe.d/pcibind.conf is gone" test ! -e "$ROOT/etc/modprobe.d/pcibind.conf"
	check "modules-load.d/pcibind.conf is gone" test ! -e "$ROOT/etc/modules-load.d/pcibind.conf"
	check "it says the boot setup went with the last set" out_has "the last set is gone: pcibind's boot setup is taken out"
	check "no configuration file is left behind (there was none)" test ! -e "$ROOT/etc/pcibind/pcibind.conf"
	check "every file below /etc and /boot is as before setup" diff "$ROOT.before" <(etc_tree)
	check "pcibind.service is disabled (setup had enabled it)" bash -c '! systemctl --root="$1" is-enabled pcibind.service >/dev/null 2>&1' _ "$ROOT"
	check "nothing of pcibind's is left in /var/lib" test ! -e "$ROOT/var/lib/pcibind"
	# a set left: the boot setup stays for it
	setup_stop
	setup_start story-remove-other || return
	pb setup 02:00 --boot
	pb setup nic --boot
	check "the hand-written [nic] at boot too (exit 0)" exit_is 0
	pb setup --remove gpu
	check "with another set left, --remove exits 0" exit_is 0
	check "... and the boot setup stays for it" file_has etc/default/grub.d/pcibind.cfg "intel_iommu=on"
	rm -f "$ROOT.before"
	setup_stop
}

scenario_story_remove_nothing() {
	setup_start story-remove-nothing || return
	pb setup 02:00 --boot
	snapshot >"$ROOT.snap"
	# a generated file out of date: a --remove of nothing must not rewrite it
	echo "# edited by hand" >>"$ROOT/etc/modprobe.d/pcibind.conf"
	snapshot >"$ROOT.snap"
	pb setup --remove nosuch
	check "setup --remove of a set that does not exist exits 0" exit_is 0
	check "it says there is nothing to do" out_has "nothing to do: the configuration has no set [nosuch]"
	check "nothing below the root changed" unchanged_since_snap
	check "the unit stays enabled" enabled
	pb setup --remove 0a:00
	check "--remove of a slot with no function is a usage error (exit 2)" exit_is 2
	check "nothing changed" unchanged_since_snap
	setup_stop
}

scenario_story_softdep_stays() {
	setup_start story-softdep || return
	story_aliases || { notok "cannot write modules.alias"; setup_stop; return; }
	pb setup 06:00.0 --boot
	check "setup 06:00.0 --boot (exit 0)" exit_is 0
	check "the softdep names the NIC's host driver" file_has etc/modprobe.d/pcibind.conf "softdep igb pre: vfio-pci"
	pb bind nic
	check "bound to vfio-pci" is_driver 0000:06:00.0 vfio-pci
	pb generate
	check "generate has no change once the NIC is on vfio-pci" out_has "no changes"
	check "... the softdep is not dropped" bash -c '! grep -q "^-softdep igb" <<<"$1"' _ "$OUT"
	pb check
	check "check does not call the generated files out of date" bash -c '! grep -q "out of date" <<<"$1"' _ "$OUT"
	setup_stop
}

scenario_story_small() {
	setup_start story-small || return
	story_aliases || { notok "cannot write modules.alias"; setup_stop; return; }
	snapshot >"$ROOT.snap"
	pb setup 02:00 --boot --driver vfio --dry-run
	check "--driver vfio (a module, no PCI driver) is refused (exit 2)" exit_is 2
	check "... saying it is no PCI driver" out_has "no PCI driver named 'vfio'"
	pb bind 02:00 --driver vfio --dry-run
	check "bind --driver vfio --dry-run is refused the same way (exit 2)" exit_is 2
	pb bind 06:00.0 --driver igb --dry-run
	check "a driver module.alias knows is taken (exit 0)" exit_is 0
	check "nothing changed" unchanged_since_snap
	pb restore 02:00
	check "restore with nothing to restore exits 0" exit_is 0
	check "... and says so" out_has "nothing to restore"
	pb setup eth1 --dry-run
	check "an interface name is a usage error (exit 2)" exit_is 2
	check "... offering the function that carries it" out_has "eth1 is a network interface of 0000:06:00.0"
	pb status 2:00
	check "2:00 is taken as lspci -s takes it" exit_is 0
	check "... as the slot 0000:02:00" out_has "0000:02:00.1"
	pb bind 2:0.0 --dry-run
	check "2:0.0 is 0000:02:00.0 (dry run)" out_has "0000:02:00.0"
	setup_stop
}

scenario_story_check_iommu_default_on() {
	setup_start story-check-iommu || return
	pb setup 02:00 --boot
	# the IOMMU is active (the simulator has groups) without intel_iommu=on: the kernel's default
	pb check
	check "check does not fail the cmdline while the IOMMU is active" bash -c '! grep -q "^fail  cmdline: intel_iommu=on" <<<"$1"' _ "$OUT"
	check "... it says the IOMMU is on anyway" out_has "intel_iommu=on is not on the running kernel's command line; the IOMMU is on anyway"
	setup_stop
}

scenario_story_notes_once() {
	setup_start story-notes-once || return
	if ! have_script; then
		notok "script(1) is missing or cannot open a pseudo-terminal (no devpts?): the terminal test cannot run"
		setup_stop
		return
	fi
	# the package's initramfs-tools integration: generate notes that it leaves it to the package
	mkdir -p "$ROOT/usr/share/initramfs-tools/hooks" "$ROOT/usr/share/initramfs-tools/scripts/init-top"
	cp "$SRCDIR/initramfs/initramfs-tools/hook" "$ROOT/usr/share/initramfs-tools/hooks/pcibind"
	cp "$SRCDIR/initramfs/initramfs-tools/init-top" "$ROOT/usr/share/initramfs-tools/scripts/init-top/pcibind"
	OUT=$(printf 'y\n' | on_tty 100 setup 02:00 --boot)
	check "on a terminal, answered yes: the set is written" file_has etc/pcibind/pcibind.conf "[gpu]"
	check "the initramfs-tools note is there" out_has "note: initramfs-tools: the hook and init-top script are the package's"
	check "... once, not again around the question" test "$(grep -c 'note: initramfs-tools' <<<"$OUT")" -eq 1
	OUT=$("$PCIBIND" --root "$ROOT" setup nic --boot 2>&1)
	check "without a terminal the note is said once too" test "$(grep -c 'note: initramfs-tools' <<<"$OUT")" -eq 1
	setup_stop
}

# issue 20, seam 1: two setups at once, of different sets; neither may say it added its set and lose it
scenario_story_two_setups() {
	local lost=0 refused=0 a b round
	setup_start story-two-setups || return
	for round in 1 2 3 4 5 6; do
		printf '%s\n' "$SETUP_CONF" | conf
		"$PCIBIND" --root "$ROOT" setup 02:00 --boot >"$ROOT.a" 2>&1 &
		a=$!
		"$PCIBIND" --root "$ROOT" setup nic --boot >"$ROOT.b" 2>&1 &
		b=$!
		if wait $a; then grep -q '^\[gpu\]' "$ROOT/etc/pcibind/pcibind.conf" || lost=$((lost + 1))
		else refused=$((refused + 1)); fi
		if wait $b; then awk '/^\[nic\]/ { s = 1; next } /^\[/ { s = 0 } s && /^boot = yes/ { f = 1 } END { exit !f }' \
			"$ROOT/etc/pcibind/pcibind.conf" || lost=$((lost + 1))
		else refused=$((refused + 1)); fi
	done
	check "6 rounds of two setups at once: no run that exited 0 lost its set" test "$lost" -eq 0
	check "... and none failed: the second waits for the lock, then reads what the first wrote" test "$refused" -eq 0
	rm -f "$ROOT.a" "$ROOT.b"
	setup_stop
}

# issue 20, item 5: an option a command does not take is a usage error naming it
scenario_story_own_options() {
	setup_start story-own-options || return
	snapshot >"$ROOT.snap"
	pb status --write --vm 100 --tree --udev
	check "status --write --vm 100 --tree --udev is a usage error (exit 2)" exit_is 2
	check "... naming the first option status does not take" out_has "status does not take --write"
	pb bind 02:00 --boot
	check "bind --boot is a usage error (exit 2)" exit_is 2
	pb generate --tree
	check "generate --tree is a usage error" exit_is 2
	pb check --name x
	check "check --name is a usage error" exit_is 2
	pb status --tree 02:00
	check "status --tree still works (exit 0)" exit_is 0
	check "nothing changed" unchanged_since_snap
	setup_stop
}

# issue 20, seam 5: setup and setup --remove give the configuration back byte for byte: absent stays
# absent, an empty file stays an empty file, a file without a final newline stays without one
scenario_story_conf_bytes() {
	setup_start story-conf-bytes || return
	printf '' >"$ROOT/etc/pcibind/pcibind.conf"
	pb setup 02:00 --boot
	pb setup --remove gpu
	check "an empty pcibind.conf is empty again after setup and --remove" test -f "$ROOT/etc/pcibind/pcibind.conf" -a ! -s "$ROOT/etc/pcibind/pcibind.conf"
	rm -f "$ROOT/etc/pcibind/pcibind.conf"
	pb setup 02:00 --boot
	check "with no pcibind.conf, setup makes one that says so" grep -q '^# made by `pcibind setup`' "$ROOT/etc/pcibind/pcibind.conf"
	pb setup --remove gpu
	check "... and --remove leaves none" test ! -e "$ROOT/etc/pcibind/pcibind.conf"
	printf '# mine\n[pcibind]\ndriver = vfio-pci' >"$ROOT/etc/pcibind/pcibind.conf"
	cp "$ROOT/etc/pcibind/pcibind.conf" "$ROOT.conf"
	pb setup 02:00 --boot
	check "setup adds [gpu] to a pcibind.conf without a final newline (exit 0)" exit_is 0
	check "... after the user's last line, kept" grep -qx 'driver = vfio-pci' "$ROOT/etc/pcibind/pcibind.conf"
	pb setup --remove gpu
	check "... and --remove gives the file back byte for byte (no newline gained)" cmp -s "$ROOT.conf" "$ROOT/etc/pcibind/pcibind.conf"
	rm -f "$ROOT.conf"
	setup_stop
}
