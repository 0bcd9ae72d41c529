#!/bin/bash
# run-all.sh - every test tier; counts "ok"/"not ok" lines and ends with "N passed, N failed"
# SPDX-License-Identifier: GPL-2.0-or-later
#   --fast: unit and simulator tiers only
cd "$(dirname "$0")/.." || exit 1
fast=0
[ "$1" = "--fast" ] && fast=1
# the quick iteration runs one errno per step of the fault matrix (60 cases instead of 222)
[ $fast -eq 1 ] && export PCIBIND_FAULT_MATRIX=${PCIBIND_FAULT_MATRIX:-quick}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

tier() {
	local name=$1
	shift
	echo "# ==== tier: $name"
	local start=$SECONDS
	"$@" 2>&1 | tee -a "$log"
	local st=${PIPESTATUS[0]}
	if [ "$st" -ne 0 ] && ! grep -q "^not ok - " "$log"; then
		# a tier that failed without saying which test failed still fails
		echo "not ok - tier $name: exited with status $st" | tee -a "$log"
	fi
	echo "# ==== tier $name: $((SECONDS - start)) s"
}

if [ $fast -eq 0 ]; then
	# the consumer tier's Debian userlands, built (if not cached) in the background meanwhile
	mkdir -p build/consumers
	nice -n 19 tests/consumers/prefetch.sh >build/consumers/prefetch.log 2>&1 &
	prefetch=$!
fi
tier unit tests/run-unit.sh build/asan/tests/test-*
tier sim tests/sim/run.sh build/asan/pcibind build/pcisim
tier gen tests/gen/run.sh build/asan/pcibind
tier lint tests/lint-man.sh build/pcibind
if [ $fast -eq 0 ]; then
	# the Ansible collection (ansible/) against the simulator; ansible-doc, ansible-test sanity (tests/ansible)
	tier ansible tests/ansible/run.sh build/pcibind build/pcisim
	# the simulator scenarios again, pcibind under valgrind memcheck (tests/sim/README.md)
	tier valgrind tests/sim/run.sh --valgrind build/pcibind build/pcisim
	tier fuzz make -s --no-print-directory fuzz-quick
	# the Debian package: built, lintian, installed/upgraded/purged in Debian 12 and 13 chroots (tests/pkg)
	tier pkg tests/pkg/run.sh
	tier vm tests/vm/run.sh build/pcibind
	# grub-mkconfig, update-initramfs, dracut, kernel-install, modprobe, udevadm, systemd-analyze in
	# Debian 12 and 13 on pcibind's output; README's commands on a minimal Debian 12
	tier consumers tests/consumers/run.sh
	# README's "Try it" on a Debian 12 disk image booted through its own GRUB: apt install of the
	# .deb, setup, reboot, check, setup --remove, reboot, bind/restore, apt purge, reboot (tests/story)
	tier story tests/story/run.sh
	wait "$prefetch"
fi
passed=$(grep -c "^ok - " "$log")
failed=$(grep -c "^not ok - " "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
