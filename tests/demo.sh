#!/bin/bash
# demo.sh - pcibind on a simulated workstation: setup in one command, status, refusals, rollback, a hung unbind, restore
# SPDX-License-Identifier: GPL-2.0-or-later
#   demo.sh PCIBIND PCISIM
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
PCIBIND=$(realpath "$1")
PCISIM=$(realpath "$2")
ROOT=$(mktemp -d /tmp/pcibind-demo.XXXXXX)
case $ROOT in /tmp/pcibind-demo.?*) ;; *) echo "demo: refusing the root '$ROOT'" >&2; exit 1 ;; esac
cleanup() { fusermount3 -u "$ROOT/sys" 2>/dev/null; rm -rf "$ROOT"; }
trap cleanup EXIT
# killed (^C, a closed pipe): the simulator is unmounted all the same
trap 'exit 1' INT TERM HUP PIPE

"$PCISIM" "$SRCDIR/tests/sim/workstation.topo" "$ROOT" || { echo "demo: the simulator did not start" >&2; exit 1; }
# what `generate` and the unit need: a Debian 12 userland with GRUB and initramfs-tools (tests/gen)
g=$SRCDIR/tests/gen/debian12-grub-efi-intel/root
mkdir -p "$ROOT/etc/pcibind" "$ROOT/usr/lib/systemd/system" "$ROOT/run"
cp -a "$g/etc/os-release" "$g/etc/default" "$g/etc/initramfs-tools" "$ROOT/etc/"
cp -a "$g/boot" "$g/usr" "$g/lib" "$ROOT/"
cp -a "$g/proc/cpuinfo" "$g/proc/interrupts" "$g/proc/sys" "$ROOT/proc/"
echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/nvme0n1p2 ro quiet" >"$ROOT/proc/cmdline"
sed 's|@SBINDIR@|/usr/sbin|g' "$SRCDIR/systemd-units/pcibind.service.in" >"$ROOT/usr/lib/systemd/system/pcibind.service"
cat >"$ROOT/etc/pcibind/pcibind.conf" <<'CONF'
# /etc/pcibind/pcibind.conf - this machine's, written by hand
[pcibind]
driver = vfio-pci   ; the default
CONF
chmod 0644 "$ROOT/etc/pcibind/pcibind.conf"
export PCIBIND_MODPROBE=$SRCDIR/tests/sim/fake-modprobe PCISIM_ROOT=$ROOT

# bold only on a terminal: piped or logged output has no escape codes
if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B="" N=""; fi
say() { printf '\n%s$ %s%s\n' "$B" "$*" "$N"; }
note() { printf '%s# %s%s\n' "$B" "$*" "$N"; }
run() {
	say "pcibind $*"
	"$PCIBIND" --root "$ROOT" "$@"
	echo "[exit status $?]"
}
# run_tail N ARGS...: the run, its last N lines only
run_tail() {
	local n=$1
	shift
	say "pcibind $* | tail -n $n"
	"$PCIBIND" --root "$ROOT" "$@" 2>&1 | tail -n "$n"
	echo "[exit status ${PIPESTATUS[0]}]"
}
driver() { basename "$(readlink "$ROOT/sys/bus/pci/devices/$1/driver" 2>/dev/null || echo none)"; }
ctl() { echo "$*" >"$ROOT/sys/.pcisim/ctl"; }

cat <<EOF
A simulated workstation (tests/sim/workstation.topo) mounted at $ROOT/sys:
two identical NVIDIA GPUs with HDMI audio (the first is the boot GPU carrying
the console), an NVMe drive holding / and swap, two identical Intel NICs, and
a USB controller with a keyboard; below it a Debian 12 userland (GRUB,
initramfs-tools). The real pcibind binary runs against it with --root; the
simulated kernel implements driver_override, unbind and drivers_probe as
Linux does. Nothing on this machine is touched.
EOF

note "what is in the second GPU's IOMMU group, and why"
run status --tree 02:00
note "the same, as lspci -k shows it"
run status 02:00

note "the guide's nine steps as one command: first everything it would do, as a diff"
run setup 02:00 --boot --dry-run
note "now for real (the same diff again, then what was run, enabled and why to reboot)"
run_tail 4 setup 02:00 --boot
note "a second run changes nothing"
run setup 02:00 --boot
note "what the boot unit runs"
run apply
note "the reboot it asked for (simulated: the kernel command line gets intel_iommu=on); then the guide's step 8"
echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/nvme0n1p2 ro quiet intel_iommu=on" >"$ROOT/proc/cmdline"
run check

note "refused: the boot GPU without its audio (the group has a sibling on a host driver)"
run bind 01:00.0
note "refused: the NVMe holding /"
run bind 03:00.0

note "a failure half-way is put back: vfio-pci's probe of the NIC fails (injected)"
ctl "failprobe 0000:06:00.0 vfio-pci EIO"
run bind 06:00.0
echo "06:00.0 is on $(driver 0000:06:00.0) again"
ctl clear

note "a VM (qemu, pid 4242) holds the GPU: restore refuses to pull it out of the running guest"
mkdir -p "$ROOT/proc/4242/fd"
echo qemu-system-x86 >"$ROOT/proc/4242/comm"
ln -s /dev/vfio/2 "$ROOT/proc/4242/fd/7"
ctl "block 0000:02:00.0 unbind forever"
run --timeout 1 restore gpu
note "forced: the kernel's unbind waits for the VM, pcibind does not"
run --force --timeout 1 restore gpu
note "the VM lets go: restore finishes the job"
rm -rf "$ROOT/proc/4242"
ctl "release 0000:02:00.0"
sleep 0.3
run restore
echo "02:00.0 is on $(driver 0000:02:00.0), 02:00.1 on $(driver 0000:02:00.1); the boot GPU 01:00.0 stayed on $(driver 0000:01:00.0)"

note "and the whole setup undone: the configuration is the hand-written one again"
run setup --remove gpu
say "cat /etc/pcibind/pcibind.conf"
cat "$ROOT/etc/pcibind/pcibind.conf"
