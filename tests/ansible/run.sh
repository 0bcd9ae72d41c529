#!/bin/bash
# run.sh - the Ansible tier: the pcibind.pcibind collection driven by Debian's ansible against the simulator
# SPDX-License-Identifier: GPL-2.0-or-later
#   run.sh PCIBIND PCISIM
# ansible-doc for each module; ansible-test sanity (every test, on Debian's packages); then, with -c local
# on a simulated workstation (tests/sim/workstation.topo, a Debian 12 userland with GRUB and
# initramfs-tools below the root, pcibind run with --root): --check --diff first (nothing changes, in
# the files or in sysfs), the real run (the same diff), a second run (changed=0), bind/restore round
# trips, a refusal as a failed task with pcibind's message, state: absent. Every pcibind document the
# modules returned is validated against schemas/.
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
PCIBIND=$(realpath "${1:-build/pcibind}")
PCISIM=$(realpath "${2:-build/pcisim}")
T=ansible
ok() { echo "ok - $T: $*"; }
notok() { echo "not ok - $T: $*"; FAILED=1; }
FAILED=0
start=$SECONDS

for tool in ansible-playbook ansible-doc ansible-test; do
	command -v "$tool" >/dev/null || { notok "$tool is missing (tests/install-deps.sh installs ansible-core)"; exit 1; }
done
python3 -c 'import jsonschema' 2>/dev/null || { notok "python3-jsonschema is missing"; exit 1; }
[ -x "$PCIBIND" ] && [ -x "$PCISIM" ] || { notok "no $PCIBIND or $PCISIM (make build/pcibind build/pcisim)"; exit 1; }
if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	notok "FUSE is not available (/dev/fuse, fusermount3): the simulator cannot run"
	exit 1
fi

WORK=$(mktemp -d /tmp/pcibind-ansible.XXXXXX)
ROOT=$WORK/root
case $ROOT in /tmp/pcibind-ansible.?*/root) ;; *) echo "not ok - $T: refusing the root '$ROOT'"; exit 1 ;; esac
cleanup() {
	fusermount3 -u "$ROOT/sys" 2>/dev/null || umount -l "$ROOT/sys" 2>/dev/null
	# nothing is mounted in the chroots; never follow a mount out of WORK
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP=$WORK/tmp ANSIBLE_HOME=$WORK/home \
	ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_GALAXY_SERVER=http://127.0.0.1:9/
# ---- the collection as users get it: the tarball `make ansible-collection` builds, installed by
# ansible-galaxy from the file (no network); and the tree `make install` puts in the package
if out=$(ansible-galaxy collection build "$SRCDIR/ansible" --output-path "$WORK" 2>&1) &&
	out=$(ansible-galaxy collection install --offline -p "$WORK/collections" "$WORK"/pcibind-pcibind-*.tar.gz 2>&1) &&
	[ -f "$WORK/collections/ansible_collections/pcibind/pcibind/MANIFEST.json" ]; then
	ok "ansible-galaxy collection build, then install from the tarball: pcibind.pcibind $(sed -n 's/^version: //p' "$SRCDIR/ansible/galaxy.yml")"
else
	notok "ansible-galaxy collection build/install: $(tail -3 <<<"$out" | tr '\n' ' ')"
	exit 1
fi
export ANSIBLE_COLLECTIONS_PATH=$WORK/collections
if make -s -C "$SRCDIR" install-ansible DESTDIR="$WORK/dest" >"$WORK/install.log" 2>&1 &&
	[ -z "$(cd "$WORK/dest/usr/share/ansible/collections/ansible_collections/pcibind/pcibind" &&
		diff <(find . -type f ! -name galaxy.yml | sort) <(cd "$WORK/collections/ansible_collections/pcibind/pcibind" && find . -type f ! -path './tests/*' ! -name '*.json' | sort))" ] &&
	ANSIBLE_COLLECTIONS_PATH=$WORK/dest/usr/share/ansible/collections ansible-doc -t module pcibind.pcibind.info >/dev/null 2>&1; then
	ok "make install puts the collection's files in /usr/share/ansible/collections/ansible_collections/pcibind/pcibind, where ansible-doc finds it"
else
	notok "make install-ansible: $(tail -3 "$WORK/install.log" | tr '\n' ' ')"
fi

# ---- the modules' documentation, as ansible-doc shows it: each module's options, those of the doc
# fragment pcibind.pcibind.common (root, executable; address, ids, force in .devices) merged in
declare -A OPTIONS=(
	[device_set]="address:list boot:bool driver:str executable:path force:bool ids:list name:str remove_boot_setup:bool root:path state:str"
	[runtime]="address:list driver:str executable:path force:bool ids:list name:str root:path state:str"
	[info]="address:list check:bool executable:path ids:list name:str root:path vm:str")
# doc_options MODULE [RUNNER...]: its documented options as NAME:TYPE, each with a description
# (ansible-doc run through RUNNER when given, e.g. trixie_run)
doc_options() {
	local m=$1
	shift
	"$@" ansible-doc -j -t module "pcibind.pcibind.$m" 2>/dev/null | python3 -c 'import json, sys
opts = list(json.load(sys.stdin).values())[0]["doc"]["options"]
print(" ".join(sorted("%s:%s" % (k, o["type"]) for k, o in opts.items() if o.get("description"))))'
}
for m in device_set runtime info; do
	opts=
	if out=$(ansible-doc -t module "pcibind.pcibind.$m" 2>&1) && grep -q "OPTIONS" <<<"$out" &&
		grep -q "EXAMPLES" <<<"$out" && grep -q "RETURN VALUES" <<<"$out" && opts=$(doc_options "$m") &&
		[ "$opts" = "${OPTIONS[$m]}" ]; then
		ok "ansible-doc pcibind.pcibind.$m: description, options (with the doc fragment's root and executable), examples, return values"
	else
		notok "ansible-doc pcibind.pcibind.$m: options ${opts:-none}, not ${OPTIONS[$m]}: $(head -3 <<<"$out" | tr '\n' ' ')"
	fi
done
if out=$(ansible-doc -t module -l pcibind.pcibind 2>&1) && [ "$(grep -c '^pcibind\.pcibind\.' <<<"$out")" -eq 3 ]; then
	ok "ansible-doc -l lists the collection's three modules"
else
	notok "ansible-doc -l pcibind.pcibind: $(tr '\n' ' ' <<<"$out" | head -c 300)"
fi

# ---- ansible-test sanity, every test. ansible-test installs each test's requirements with pip
# (the network); ansible-test-offline gives its environments Debian's packages instead.
py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
SAN=$WORK/sanity/ansible_collections/pcibind/pcibind
mkdir -p "$(dirname "$SAN")" && cp -a "$SRCDIR/ansible" "$SAN"
if out=$(cd "$SAN" && HOME=$WORK/home "$SRCDIR/tests/ansible/ansible-test-offline" sanity --local --python "$py" 2>&1); then
	n=$(grep -c '^Running sanity test' <<<"$out")
	ok "ansible-test sanity: all $n tests pass on Python $py (validate-modules, pylint, pep8, yamllint, import, ansible-doc among them)"
else
	notok "ansible-test sanity: $(grep -E 'ERROR|FATAL' <<<"$out" | head -5 | tr '\n' ' ')"
fi

# ---- a simulated workstation with a Debian 12 userland (as tests/sim/scenarios-setup.sh builds it)
if ! "$PCISIM" "$SRCDIR/tests/sim/workstation.topo" "$ROOT" 2>"$WORK/pcisim.err"; then
	notok "the simulator did not start: $(cat "$WORK/pcisim.err")"
	exit 1
fi
g=$SRCDIR/tests/gen/debian12-grub-efi-intel/root
mkdir -p "$ROOT/etc/pcibind" "$ROOT/usr/lib/systemd/system" "$ROOT/run" "$ROOT/dev"
cp -a "$g/etc/os-release" "$g/etc/default" "$g/etc/initramfs-tools" "$ROOT/etc/"
cp -a "$g/boot" "$g/usr" "$g/lib" "$ROOT/"
cp -a "$g/proc/cpuinfo" "$g/proc/interrupts" "$g/proc/sys" "$ROOT/proc/"
echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/nvme0n1p2 ro quiet" >"$ROOT/proc/cmdline"
sed 's|@SBINDIR@|/usr/sbin|g' "$SRCDIR/systemd-units/pcibind.service.in" >"$ROOT/usr/lib/systemd/system/pcibind.service"
printf '# /etc/pcibind/pcibind.conf - by hand\n[pcibind]\ndriver = vfio-pci   ; the default\n' >"$ROOT/etc/pcibind/pcibind.conf"
chmod 0644 "$ROOT/etc/pcibind/pcibind.conf"
cp "$ROOT/etc/pcibind/pcibind.conf" "$WORK/conf.orig"
export PCIBIND_MODPROBE=$SRCDIR/tests/sim/fake-modprobe PCISIM_ROOT=$ROOT

cat >"$WORK/inventory" <<INV
[workstations]
sim ansible_connection=local ansible_python_interpreter=/usr/bin/python3 pcibind_root=$ROOT pcibind_executable=$PCIBIND pcibind_gpu='["02:00"]'
INV

RUNS=0
TASKS=0
# play NAME PLAYBOOK [ARGS...]: ansible-playbook with the json callback; its output in $WORK/NAME.json
play() {
	local name=$1 pb=$2
	shift 2
	RUNS=$((RUNS + 1))
	ANSIBLE_STDOUT_CALLBACK=json ansible-playbook -i "$WORK/inventory" "$SRCDIR/tests/ansible/$pb" "$@" \
		>"$WORK/$name.json" 2>"$WORK/$name.err"
	PST=$?
	STATS=$(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/$name.json" stats 2>/dev/null) ||
		STATS="no report: $(grep -m 2 -E 'ERROR|Error' "$WORK/$name.err" | tr '\n' ' ')"
	local t=${STATS#*tasks=}
	[[ $STATS == *tasks=* ]] && TASKS=$((TASKS + ${t%% *}))
	VALID=$(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/$name.json" validate "$SRCDIR/schemas" 2>&1) ||
		notok "$name: a pcibind document the modules returned does not match its schema: $(tail -3 <<<"$VALID" | tr '\n' ' ')"
	[[ $VALID =~ ^[0-9]+$ ]] && DOCS=$((${DOCS:-0} + VALID))
}
stats_is() { [[ " $STATS" == *" $1"* ]]; }
# everything below the root but the simulated sys and dev (the simulator's /dev/vfio): path, size,
# mode, content hash; tree: and every sysfs write the simulator logged, each function's driver and override
files_tree() {
	(cd "$ROOT" && find . \( -path ./sys -o -path ./dev \) -prune -o \( -type f -o -type l \) ! -path ./run/pcibind/lock -printf '%p %s %m %l\n' | sort &&
		find . \( -path ./sys -o -path ./dev \) -prune -o -type f ! -path ./run/pcibind/lock -print0 | sort -z | xargs -0 md5sum)
}
tree() {
	files_tree
	grep -c ' -> ' "$ROOT/sys/.pcisim/log"
	cat "$ROOT/sys/.pcisim/state"
}
driver_of() { basename "$(readlink "$ROOT/sys/bus/pci/devices/$1/driver" 2>/dev/null || echo none)"; }

# 1. --check --diff before the first run: the diff, nothing changed
files_tree >"$WORK/files.0"
tree >"$WORK/tree.0"
play check setup.yml --check --diff
if [ $PST -eq 0 ] && stats_is "changed=1" && stats_is "failed=0"; then ok "--check --diff: exit 0, the set reported as changed ($STATS)"; else notok "--check --diff: exit $PST, $STATS: $(head -c 300 "$WORK/check.err")"; fi
tree >"$WORK/tree.1"
if cmp -s "$WORK/tree.0" "$WORK/tree.1"; then ok "--check: every file below the root and every sysfs attribute as before (no sysfs write)"; else notok "--check changed something: $(diff "$WORK/tree.0" "$WORK/tree.1" | head -5 | tr '\n' ' ')"; fi
python3 "$SRCDIR/tests/ansible/report.py" "$WORK/check.json" diffs >"$WORK/diff.check"
if grep -q 'grub.d/pcibind.cfg' "$WORK/diff.check" && grep -q 'intel_iommu=on' "$WORK/diff.check" && grep -q '\[gpu\]' "$WORK/diff.check"; then
	ok "--diff shows the configuration and the generated files (the set, the GRUB drop-in with intel_iommu=on)"
else
	notok "--diff: $(head -c 300 "$WORK/diff.check")"
fi

# 2. the real run: the same diff; a reboot due; a second run changes nothing
play first setup.yml --diff
if [ $PST -eq 0 ] && stats_is "changed=1" && stats_is "failed=0"; then ok "first run: exit 0, changed=1 ($STATS)"; else notok "first run: exit $PST, $STATS: $(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/first.json" failmsg 2>&1 | head -3)"; fi
python3 "$SRCDIR/tests/ansible/report.py" "$WORK/first.json" diffs >"$WORK/diff.first"
if cmp -s "$WORK/diff.check" "$WORK/diff.first"; then ok "the real run's diff is exactly the one --check --diff showed"; else notok "the diffs differ: $(diff <(tr ',' '\n' <"$WORK/diff.check") <(tr ',' '\n' <"$WORK/diff.first") | head -5 | tr '\n' ' ')"; fi
if [ -f "$ROOT/etc/default/grub.d/pcibind.cfg" ] && grep -q '^\[gpu\]' "$ROOT/etc/pcibind/pcibind.conf" &&
	[ -n "$(find "$ROOT/etc/systemd/system" -type l -name pcibind.service 2>/dev/null)" ]; then
	ok "the set, the GRUB drop-in and the unit's link are there"
else
	notok "after the first run: $(ls -R "$ROOT/etc" | head -20 | tr '\n' ' ')"
fi
tree >"$WORK/tree.2"
play second setup.yml
if [ $PST -eq 0 ] && stats_is "changed=0" && stats_is "failed=0"; then ok "second run: changed=0 ($STATS)"; else notok "second run: exit $PST, $STATS"; fi
SECOND=$STATS
tree >"$WORK/tree.3"
if diff <(grep -v '^[0-9]*$' "$WORK/tree.2") <(grep -v '^[0-9]*$' "$WORK/tree.3") >/dev/null; then ok "second run: no file changed"; else notok "second run changed files: $(diff "$WORK/tree.2" "$WORK/tree.3" | head -5 | tr '\n' ' ')"; fi

# 3. run time: bound, bound again, restored, restored again
play bound runtime.yml -e pcibind_state=bound
if [ $PST -eq 0 ] && stats_is "changed=1" && [ "$(driver_of 0000:02:00.0)/$(driver_of 0000:02:00.1)" = vfio-pci/vfio-pci ]; then
	ok "state: bound: changed=1, the GPU and its audio on vfio-pci"
else
	notok "state: bound: exit $PST, $STATS, drivers $(driver_of 0000:02:00.0)/$(driver_of 0000:02:00.1)"
fi
play bound2 runtime.yml -e pcibind_state=bound
if [ $PST -eq 0 ] && stats_is "changed=0"; then ok "state: bound again: changed=0"; else notok "state: bound again: exit $PST, $STATS"; fi
tree >"$WORK/tree.4"
play restore-check runtime.yml -e pcibind_state=restored --check
tree >"$WORK/tree.5"
if [ $PST -eq 0 ] && stats_is "changed=1" && cmp -s "$WORK/tree.4" "$WORK/tree.5"; then ok "state: restored --check: changed=1 reported, nothing moved"; else notok "state: restored --check: exit $PST, $STATS, $(diff "$WORK/tree.4" "$WORK/tree.5" | head -3 | tr '\n' ' ')"; fi
play restored runtime.yml -e pcibind_state=restored
if [ $PST -eq 0 ] && stats_is "changed=1" && [ "$(driver_of 0000:02:00.0)/$(driver_of 0000:02:00.1)" = nvidia/snd_hda_intel ]; then
	ok "state: restored: changed=1, back on nvidia and snd_hda_intel"
else
	notok "state: restored: exit $PST, $STATS, drivers $(driver_of 0000:02:00.0)/$(driver_of 0000:02:00.1)"
fi
play restored2 runtime.yml -e pcibind_state=restored
if [ $PST -eq 0 ] && stats_is "changed=0"; then ok "state: restored again: changed=0"; else notok "state: restored again: exit $PST, $STATS"; fi

# 4. a refusal: a failed task with pcibind's message; nothing touched
tree >"$WORK/tree.6"
play refuse refuse.yml
msg=$(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/refuse.json" failmsg 2>&1)
tree >"$WORK/tree.7"
if [ $PST -ne 0 ] && stats_is "failed=1" && grep -qF "IOMMU group 1 also holds 0000:01:00.1 (snd_hda_intel)" <<<"$msg"; then
	ok "a refused bind is a failed task with pcibind's message"
else
	notok "refusal: exit $PST, $STATS, msg: $msg"
fi
if cmp -s "$WORK/tree.6" "$WORK/tree.7"; then ok "the refusal changed nothing"; else notok "the refusal changed: $(diff "$WORK/tree.6" "$WORK/tree.7" | head -3 | tr '\n' ' ')"; fi

# 5. state: absent: the configuration as it was by hand; a second time changes nothing
play absent absent.yml --diff
if [ $PST -eq 0 ] && stats_is "changed=1" && cmp -s "$WORK/conf.orig" "$ROOT/etc/pcibind/pcibind.conf"; then
	ok "state: absent: changed=1, the configuration file byte for byte as written by hand"
else
	notok "state: absent: exit $PST, $STATS, $(diff "$WORK/conf.orig" "$ROOT/etc/pcibind/pcibind.conf" | head -3 | tr '\n' ' ')"
fi
files_tree >"$WORK/files.absent"
if diff "$WORK/files.0" "$WORK/files.absent" >"$WORK/files.diff"; then
	ok "state: absent: every file below the root as before the first run (pcibind's boot setup taken out with the last set)"
else
	notok "state: absent: files not as before: $(grep '^[<>]' "$WORK/files.diff" | cut -d' ' -f1-2 | head -6 | tr '\n' ' ')"
fi
play absent2 absent.yml
if [ $PST -eq 0 ] && stats_is "changed=0"; then ok "state: absent again: changed=0"; else notok "state: absent again: exit $PST, $STATS"; fi

# 6. three hosts in chroots, the .deb installed, through the chroot connection (chroots.sh)
# shellcheck source=tests/ansible/chroots.sh
. "$SRCDIR/tests/ansible/chroots.sh"
chroot_hosts_test
trixie_test

if [ "${DOCS:-0}" -gt 0 ]; then ok "$DOCS pcibind documents returned by the modules valid against schemas/"; else notok "no pcibind document was validated"; fi
echo "# $T: 5 hosts (1 simulated, 3 Debian 12 chroots, 1 in a Debian 13 chroot), $RUNS playbook runs, $TASKS tasks; second runs: simulated $SECOND; chroots ${CSECOND:-none}; trixie ${TSECOND:-none}; $((SECONDS - start)) s"
exit $FAILED
