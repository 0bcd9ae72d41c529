#!/bin/bash
# demo.sh - pcibind on a simulated workstation: status, bind by address, refusals, restore
# SPDX-License-Identifier: GPL-2.0-or-later
#   demo.sh PCIBIND PCISIM
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
PCIBIND=$(realpath "$1")
PCISIM=$(realpath "$2")
ROOT=$(mktemp -d /tmp/pcibind-demo.XXXXXX)
cleanup() { fusermount3 -u "$ROOT/sys" 2>/dev/null; rm -rf "$ROOT"; }
trap cleanup EXIT

"$PCISIM" "$SRCDIR/tests/sim/workstation.topo" "$ROOT" || { echo "demo: the simulator did not start" >&2; exit 1; }
mkdir -p "$ROOT/etc/pcibind"
cat >"$ROOT/etc/pcibind/pcibind.conf" <<'CONF'
[pcibind]
driver = vfio-pci

[gpu2]
address = 0000:02:00
ids = 10de:2204,10de:1aef
CONF
chmod 0644 "$ROOT/etc/pcibind/pcibind.conf"
export PCIBIND_MODPROBE=$SRCDIR/tests/sim/fake-modprobe PCISIM_ROOT=$ROOT

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() {
	say "pcibind $*"
	"$PCIBIND" --root "$ROOT" "$@"
	echo "[exit status $?]"
}
driver() { basename "$(readlink "$ROOT/sys/bus/pci/devices/$1/driver" 2>/dev/null || echo none)"; }

cat <<EOF2
A simulated workstation (tests/sim/workstation.topo) mounted at $ROOT/sys:
two identical NVIDIA GPUs with HDMI audio (the first is the boot GPU carrying
the console), an NVMe drive holding / and swap, two identical Intel NICs, and
a USB controller with a keyboard. The real pcibind binary runs against it
with --root; the simulated kernel implements driver_override, unbind and
drivers_probe as Linux does.
EOF2
run status
run bind 0000:02:00
say "readlink .../0000:02:00.0/driver ; readlink .../0000:02:00.1/driver"
echo "$(driver 0000:02:00.0) $(driver 0000:02:00.1)   (the identical boot GPU 01:00.0 stays on $(driver 0000:01:00.0))"
run bind 0000:01:00
run bind 0000:03:00.0
run status gpu2
run restore 0000:02:00
say "readlink .../0000:02:00.0/driver ; readlink .../0000:02:00.1/driver"
echo "$(driver 0000:02:00.0) $(driver 0000:02:00.1)"
