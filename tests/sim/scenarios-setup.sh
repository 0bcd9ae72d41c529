# scenarios-setup.sh - pcibind setup and setup --remove on the simulated workstation with a Debian 12 userland
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The machine is workstation.topo (tests/sim/scenarios.sh) below a root that also holds
# what generate reads: os-release, GRUB, initramfs-tools, an Intel CPU, a 6.1 kernel
# (tests/gen/debian12-grub-efi-intel) and the built pcibind.service. The running kernel's
# command line lacks intel_iommu=on, so the setup has a kernel argument to add.

SETUP_CONF='# /etc/pcibind/pcibind.conf - hand-written
#
# Lines kept exactly as they are, comments and all.

[pcibind]
driver = vfio-pci   ; the default
unbind_timeout = 10

; the second NIC, for the router VM
[nic]
address = 0000:06:00.0
ids = 8086:1533
   ; nothing after this line belongs to [nic]

# end of file'

# setup_root: what generate and the unit need, below the simulator's root
setup_root() {
	local g=$SRCDIR/tests/gen/debian12-grub-efi-intel/root
	cp -a "$g/etc/os-release" "$g/etc/default" "$g/etc/initramfs-tools" "$ROOT/etc/" &&
		cp -a "$g/boot" "$g/usr" "$g/lib" "$ROOT/" &&
		cp -a "$g/proc/cpuinfo" "$g/proc/interrupts" "$g/proc/sys" "$ROOT/proc/" || return 1
	echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/nvme0n1p2 ro quiet" >"$ROOT/proc/cmdline"
	mkdir -p "$ROOT/usr/lib/systemd/system"
	make -s -C "$SRCDIR" build/pcibind.service >/dev/null 2>&1 &&
		cp "$SRCDIR/build/pcibind.service" "$ROOT/usr/lib/systemd/system/"
}

setup_start() {
	sim_start "$1" "${2:-workstation}" || return 1
	setup_root || { notok "cannot build the Debian userland below the root"; return 1; }
	printf '%s\n' "$SETUP_CONF" | conf
	cp "$ROOT/etc/pcibind/pcibind.conf" "$ROOT.conf.orig"
}

setup_stop() {
	rm -f "$ROOT.conf.orig" "$ROOT.snap"
	sim_stop
}

# every file below the root but the simulated sys (and the run lock, which every run that may change
# something takes), with size, mode and mtime: any write shows
snapshot() { (cd "$ROOT" && find etc run boot lib usr ! -path run/pcibind/lock \( -type f -o -type l \) -printf '%p %s %m %T@ %l\n' 2>/dev/null | sort); }
unchanged_since_snap() { diff <(cat "$ROOT.snap") <(snapshot) >/dev/null; }
enabled() { [ "$(systemctl --root="$ROOT" is-enabled pcibind.service 2>/dev/null)" = enabled ]; }
conf_is_orig() { cmp -s "$ROOT.conf.orig" "$ROOT/etc/pcibind/pcibind.conf"; }
# the hand-written file is the start of the new one, byte for byte
conf_keeps_orig() { cmp -s "$ROOT.conf.orig" <(head -c "$(stat -c %s "$ROOT.conf.orig")" "$ROOT/etc/pcibind/pcibind.conf"); }
file_has() { grep -qF -- "$2" "$ROOT/$1" 2>/dev/null; }

scenario_setup_flow() {
	setup_start setup-flow || return
	pb setup 02:00 --boot
	check "setup 02:00 --boot exits 0" exit_is 0
	check "it shows the IOMMU group with the bridge that stays" out_has "0000:00:01.1  PCI bridge"
	check "it shows both functions with names and drivers" grep -q '^  \* 0000:02:00.1  Audio device: NVIDIA .*driver: snd_hda_intel' <<<"$OUT"
	check "the hand-written configuration is kept byte for byte" conf_keeps_orig
	check "the new set follows it, guarded by the ids and the subsystem found there" \
		test "$(tail -n 7 "$ROOT/etc/pcibind/pcibind.conf" | grep -v '^#')" = "$(printf '\n[gpu]\naddress = 0000:02:00\nids = 10de:2204,10de:1aef\nsubsystem = 1458:403b\nboot = yes')"
	check "the configuration reads back: status knows [gpu] as ready" bash -c "'$PCIBIND' --root '$ROOT' status gpu | grep -q '^  gpu .*boot=yes  ready'"
	check "generate's files are written (softdep for nvidia)" file_has etc/modprobe.d/pcibind.conf "softdep nvidia pre: vfio-pci"
	check "the GRUB drop-in adds intel_iommu=on" file_has etc/default/grub.d/pcibind.cfg "intel_iommu=on"
	check "the initramfs hook is written" test -x "$ROOT/etc/initramfs-tools/hooks/pcibind"
	check "the refresh commands are named (not run below a root)" out_has "run inside the system: update-initramfs -u -k all"
	check "pcibind.service is enabled (systemctl --root says so)" enabled
	check "the link is the one systemctl makes" test "$(readlink "$ROOT/etc/systemd/system/sysinit.target.wants/pcibind.service")" = /usr/lib/systemd/system/pcibind.service
	check "it says a reboot is needed, and why: intel_iommu=on" grep -q '^reboot: needed: the running kernel lacks intel_iommu=on' <<<"$OUT"
	check "... and the initramfs" out_has "the initramfs changed: from the next boot it claims 0000:02:00.0 (nvidia), 0000:02:00.1 (snd_hda_intel)"
	check "setup binds nothing (no sysfs write)" test "$(writes)" -eq 0
	snapshot >"$ROOT.snap"
	pb setup 02:00 --boot
	check "a second run exits 0" exit_is 0
	check "it says there is nothing to do" out_has "nothing to do: the generated files are up to date and pcibind.service is enabled"
	check "it shows no diff" bash -c '! grep -q "^+++ " <<<"$1"' _ "$OUT"
	check "a second run changes no file (size, mode, mtime)" unchanged_since_snap
	pb setup gpu
	check "setup by the set's name changes nothing either" unchanged_since_snap
	check "... and exits 0" exit_is 0
	pb apply
	check "the set it wrote is what apply binds (exit 5)" exit_is 5
	check "GPU on vfio-pci after apply" is_driver $GPU2 vfio-pci
	check "audio on vfio-pci after apply" is_driver $AUD2 vfio-pci
	pb generate
	check "once bound, generate still has nothing to change (the softdeps do not follow the binding)" out_has "no changes"
	pb setup 02:00 --boot
	check "nor has setup" out_has "nothing to do: the generated files are up to date"
	# the reboot: the kernel has the argument now
	echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/nvme0n1p2 ro quiet intel_iommu=on" >"$ROOT/proc/cmdline"
	pb check
	check "after it, check confirms the guide's step 8: the set on vfio-pci" grep -q '^ok    set gpu: bound: 2 functions on vfio-pci$' <<<"$OUT"
	check "... its IOMMU group holding only it and its bridge" out_has "ok    set gpu: IOMMU group 2 holds only the set and the bridge 0000:00:01.1, which stays with the host"
	check "... the IOMMU active, the argument on the command line, the unit enabled" \
		bash -c 'grep -q "^ok    iommu: " <<<"$1" && grep -q "^ok    cmdline: intel_iommu=on is on" <<<"$1" && grep -q "^ok    unit: pcibind.service is enabled" <<<"$1"' _ "$OUT"
	check "... and the generated files up to date" grep -q '^ok    generate: generated files are up to date' <<<"$OUT"
	pb setup 02:00 --boot
	check "setup now says no reboot is needed" out_has "reboot: not needed: [gpu] is on vfio-pci already"
	setup_stop
}

scenario_setup_dry_run() {
	setup_start setup-dry-run || return
	snapshot >"$ROOT.snap"
	pb setup 02:00 --boot --dry-run
	check "setup --dry-run exits 0" exit_is 0
	check "it shows the configuration as a diff" grep -q '^+\[gpu\]$' <<<"$OUT"
	check "... against the file as it is" out_has "+++ b/etc/pcibind/pcibind.conf"
	check "it shows generate's files as diffs" out_has "+softdep nvidia pre: vfio-pci"
	check "it names the commands it would run" out_has "would run: update-grub"
	check "it names the unit link it would make" out_has "would enable pcibind.service: /etc/systemd/system/sysinit.target.wants/pcibind.service -> /usr/lib/systemd/system/pcibind.service"
	check "it says a reboot would be needed" out_has "reboot: would be needed"
	check "nothing below the root changed" unchanged_since_snap
	check "the unit is not enabled" bash -c '! systemctl --root="$1" is-enabled pcibind.service >/dev/null 2>&1' _ "$ROOT"
	setup_stop
}

scenario_setup_refused() {
	setup_start setup-refused || return
	snapshot >"$ROOT.snap"
	pb setup 02:00.0 --boot
	check "the GPU without its audio is refused (exit 3)" exit_is 3
	check "the refusal names the sibling as bind does" out_has "IOMMU group 2 also holds 0000:02:00.1 (snd_hda_intel)"
	check "nothing changed" unchanged_since_snap
	pb setup 01:00 --boot
	check "the boot GPU with the console is refused (exit 3)" exit_is 3
	check "... saying why" out_has "carries the console"
	pb setup 03:00.0 --boot
	check "the NVMe under / is refused (exit 3)" exit_is 3
	pb setup 09:00 --boot
	check "a slot with nothing in it is a usage error (exit 2)" exit_is 2
	check "... with bind's message" out_has "no PCI function in slot 0000:09:00 on this host"
	pb setup 06:00.0 --name other --boot
	check "a function in a hand-written set under another --name is refused (exit 2)" exit_is 2
	check "... naming that set" out_has "they are in [nic] already"
	pb setup 02:00 --name nic --boot
	check "a --name taken by a set of other functions is refused (exit 2)" exit_is 2
	check "after every refusal nothing changed, no unit link" unchanged_since_snap
	check "no sysfs write" test "$(writes)" -eq 0
	setup_stop
}

scenario_setup_remove() {
	setup_start setup-remove || return
	pb setup 02:00 --boot
	check "setup first (exit 0)" exit_is 0
	pb setup --remove gpu
	check "setup --remove gpu exits 0" exit_is 0
	check "the configuration is the hand-written one again, byte for byte" conf_is_orig
	check "generate's files no longer claim the GPU" bash -c '! grep -q "softdep nvidia" "$1/etc/modprobe.d/pcibind.conf"' _ "$ROOT"
	check "pcibind.service is disabled (no set has boot = yes)" bash -c '[ "$(systemctl --root="$1" is-enabled pcibind.service 2>/dev/null)" = disabled ]' _ "$ROOT"
	check "no link is left, as systemctl disable leaves none" test ! -e "$ROOT/etc/systemd/system/sysinit.target.wants"
	snapshot >"$ROOT.snap"
	pb setup --remove gpu
	check "a second --remove exits 0" exit_is 0
	check "it says there is nothing to do" out_has "nothing to do: the configuration has no set [gpu]"
	check "a second --remove changes nothing" unchanged_since_snap
	# taken out by its functions, while they are bound: the hint to give them back
	pb setup 02:00 --boot
	pb apply
	pb setup --remove 02:00.1
	check "--remove by an address of the set exits 0" exit_is 0
	check "the configuration is the hand-written one again" conf_is_orig
	check "it says how to give the bound functions back" out_has "stay on vfio-pci until \`pcibind restore 0000:02:00.0 0000:02:00.1\`"
	check "the functions stay where they are (no sysfs write by setup)" is_driver $GPU2 vfio-pci
	setup_stop
}

scenario_setup_existing_set() {
	setup_start setup-existing || return
	printf '%s\n\n# my GPU, by hand\n[mygpu]\naddress = 02:00   ; the second card\n  ; its audio too\nboot = no\n\n# trailer\n' \
		"$SETUP_CONF" | conf
	cp "$ROOT/etc/pcibind/pcibind.conf" "$ROOT.conf.orig"
	pb setup 02:00 --boot
	check "setup of a hand-written set's functions exits 0" exit_is 0
	check "it works on that set" out_has "[mygpu] in /etc/pcibind/pcibind.conf: changed (boot = yes)"
	check "only its boot line changed, in place" \
		test "$(diff "$ROOT.conf.orig" "$ROOT/etc/pcibind/pcibind.conf" | grep '^[<>]' | tr '\n' '|')" = "< boot = no|> boot = yes|"
	check "pcibind.service is enabled" enabled
	pb setup mygpu --no-boot
	check "setup NAME --no-boot exits 0" exit_is 0
	check "the file is as it was by hand" conf_is_orig
	check "pcibind.service is disabled with no set at boot" bash -c '! systemctl --root="$1" is-enabled pcibind.service >/dev/null 2>&1' _ "$ROOT"
	setup_stop
}

scenario_setup_dropin() {
	setup_start setup-dropin || return
	mkdir -p "$ROOT/etc/pcibind/conf.d"
	printf '# by config management\n[gpu2]\naddress = 0000:02:00\nboot = no\n' >"$ROOT/etc/pcibind/conf.d/50-gpu.conf"
	chmod 0644 "$ROOT/etc/pcibind/conf.d/50-gpu.conf"
	pb setup 02:00 --boot
	check "a set in a drop-in is edited there (exit 0)" exit_is 0
	check "the drop-in has boot = yes" file_has etc/pcibind/conf.d/50-gpu.conf "boot = yes"
	check "the main file is untouched" conf_is_orig
	pb setup --remove gpu2
	check "--remove takes it out of the drop-in (exit 0)" exit_is 0
	check "the drop-in keeps its comment" test "$(cat "$ROOT/etc/pcibind/conf.d/50-gpu.conf")" = "# by config management"
	setup_stop
}

scenario_setup_hostile() {
	setup_start setup-hostile || return
	mv "$ROOT/etc/pcibind/pcibind.conf" "$ROOT/etc/pcibind/real.conf"
	ln -s real.conf "$ROOT/etc/pcibind/pcibind.conf"
	snapshot >"$ROOT.snap"
	pb setup 02:00 --boot
	# no symlink on the way to the configuration, read or written (issue 13): a configuration error
	check "a configuration that is a symlink is not read, nor written through (exit 2)" exit_is 2
	check "... saying so" out_has "pcibind.conf: is a symlink"
	check "nothing changed" unchanged_since_snap
	rm "$ROOT/etc/pcibind/pcibind.conf"
	mv "$ROOT/etc/pcibind/real.conf" "$ROOT/etc/pcibind/pcibind.conf"
	printf 'adress = 1\n' >>"$ROOT/etc/pcibind/pcibind.conf"
	snapshot >"$ROOT.snap"
	pb setup 02:00 --boot
	check "a broken configuration stops setup (exit 2)" exit_is 2
	check "... naming the file and line" out_has "pcibind.conf:16: unknown key 'adress'"
	check "nothing changed" unchanged_since_snap
	printf '%s\n' "$SETUP_CONF" | conf
	ln -s /dev/null "$ROOT/etc/systemd/system/pcibind.service" 2>/dev/null || { mkdir -p "$ROOT/etc/systemd/system" && ln -s /dev/null "$ROOT/etc/systemd/system/pcibind.service"; }
	pb setup 02:00 --boot
	check "a masked unit is not enabled (exit 1)" exit_is 1
	check "... and the message says how to unmask it" out_has "systemctl unmask pcibind.service"
	setup_stop
}

scenario_setup_noiommu() {
	setup_start setup-noiommu noiommu || return
	pb setup 0a:00.1 0a:00.0 --boot --force
	check "the IOMMU being off does not refuse the setup (exit 0)" exit_is 0
	check "the forced refusal is named" out_has "overridden by --force"
	check "it says the groups are known after the reboot" out_has "\`pcibind check\` says whether each group holds only its set"
	check "reboot needed: the IOMMU is off now" out_has "reboot: needed: the IOMMU is off now (no IOMMU groups)"
	check "the address list is written as given" file_has etc/pcibind/pcibind.conf "address = 0000:0a:00.1,0000:0a:00.0"
	setup_stop
}

scenario_setup_json() {
	setup_start setup-json || return
	# the dry run's document carries each generated file's diff, what the real run then writes
	OUT=$("$PCIBIND" --root "$ROOT" setup 02:00 --boot --dry-run --json 2>/dev/null)
	check "--dry-run --json: each generated file with its action and diff" json_is \
		'sorted((f["path"], f["action"], f["diff"].startswith("--- ")) for f in d["files"])' \
		"[('/etc/default/grub.d/pcibind.cfg', 'create', True), ('/etc/initramfs-tools/hooks/pcibind', 'create', True), ('/etc/initramfs-tools/scripts/init-top/pcibind', 'create', True), ('/etc/modprobe.d/pcibind.conf', 'create', True), ('/etc/modules-load.d/pcibind.conf', 'create', True)]"
	local planned=$OUT
	OUT=$("$PCIBIND" --root "$ROOT" setup 02:00 --boot --json 2>/dev/null)
	ST=$?
	check "setup --json exits 0" exit_is 0
	check "one document: the set, its action, the functions" json_is '(d["set"], d["action"], d["functions"])' "('gpu', 'create', ['0000:02:00.0', '0000:02:00.1'])"
	check "the unit link and the reboot verdict" json_is '(d["unit_links_changed"], d["reboot_needed"], len(d["reboot_reasons"]))' "(1, True, 2)"
	check "the real run's files and diffs are the dry run's" python3 -c 'import json, sys; a, b = (json.loads(x) for x in sys.argv[1:]); sys.exit(a["files"] != b["files"])' "$planned" "$OUT"
	check "each diff's new side is the file written" python3 -c '
import json, os, sys
d = json.loads(sys.argv[2])
for f in d["files"]:
    new = "".join(l[1:] + "\n" for l in f["diff"].splitlines()[3:] if l[:1] in "+ ")
    if open(sys.argv[1] + f["path"]).read() != new:
        sys.exit(f["path"])' "$ROOT" "$OUT"
	OUT=$("$PCIBIND" --root "$ROOT" setup 02:00 --boot --json 2>/dev/null)
	check "a second run: unchanged, no link made" json_is '(d["action"], d["unit_links_changed"], d["generated_files_changed"])' "('unchanged', 0, 0)"
	check "a second run: no file in its files" json_is 'd["files"]' "[]"
	setup_stop
}
