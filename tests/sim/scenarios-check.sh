# scenarios-check.sh - check: groups too large named by the bridge without ACS, kvm ignore_msrs, allow_unsafe_interrupts
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash

# not "finding": scenarios-check-vm.sh has its own (LEVEL CHECK TEXT), and the file read last would win
check_line() { grep -q -- "$1" <<<"$OUT"; }

scenario_check_acs() {
	local rel
	sim_start check-acs acs || return
	printf '[nic]\naddress = 04:00.0\n\n[gpu]\naddress = 01:00.0\n\n[nic3]\naddress = 06:00.0\n' | conf
	pb check
	check "check fails for a set whose group holds a host device (exit 1)" exit_is 1
	check "it names the sibling and the root port without ACS" \
		check_line "^fail  set nic: group: group 2 also holds 0000:05:00.0 on driver igb: the root port 0000:00:1c.0 above both does not isolate the devices below it (no ACS); fix: "
	check "a function without its sibling function: the device has no ACS between them" \
		check_line "^fail  set gpu: group: group 1 also holds 0000:01:00.1 on driver snd_hda_intel: 0000:01:00.0 and 0000:01:00.1 are functions of one device (0000:01:00) without ACS isolation between them"
	check "a set alone in its group: its group is confirmed" check_line "^ok    set nic3: IOMMU group 4 holds only the set"
	pb status --tree 04:00.0
	check "the tree shows the switch below the root port" grep -q '^      +- 0000:03:08.0  group 2' <<<"$OUT"
	check "... and says why group 2 is one group" out_has "why: the root port 0000:00:1c.0 does not isolate the devices below it (no ACS)"
	if lspci_chroot "$ROOT"; then
		check "the tree agrees with lspci -PP through the switch" facts_agree "$(tree_paths <<<"$("$PCIBIND" --root "$ROOT" status --tree 2>/dev/null)")" \
			"$(chroot "$ROOT" /usr/bin/lspci -PP -D 2>/dev/null | awk '{ print $1 }' | sort)"
	else
		notok "cannot copy lspci into the chroot: the oracle cannot run"
	fi
	sim_stop
}

# a plain directory as the root (no simulator): the Debian 12 tree of the gen tier, with module parameters
check_root() {
	SCEN=$1
	ROOT=$(mktemp -d /tmp/pcibind-check.XXXXXX)
	cp -a "$SRCDIR/tests/gen/debian12-grub-efi-intel/root/." "$ROOT/"
}

kvm_params() {
	rm -rf "$ROOT/sys/module/kvm"
	[ -n "$1" ] || return 0
	mkdir -p "$ROOT/sys/module/kvm/parameters"
	echo "$1" >"$ROOT/sys/module/kvm/parameters/ignore_msrs"
	echo "$2" >"$ROOT/sys/module/kvm/parameters/report_ignored_msrs"
}

scenario_check_kvm() {
	check_root check-kvm
	kvm_params ""
	pb check
	check "kvm not loaded: said so" check_line "^info  kvm: kvm is not loaded$"
	kvm_params N Y
	pb check
	check "ignore_msrs=N: the default, and when a guest needs it" check_line "^info  kvm: ignore_msrs=N (the default): .*need kvm_ignore_msrs = yes"
	kvm_params Y Y
	pb check
	check "ignore_msrs=Y: its risk is named" check_line "^warn  kvm: ignore_msrs=Y (set outside pcibind): .*hides what a guest does wrong"
	check "report_ignored_msrs=Y: the log flood and its fix" \
		check_line "^warn  kvm: report_ignored_msrs=Y: every ignored MSR access is logged, .*; fix: add \`options kvm report_ignored_msrs=0\`"
	kvm_params Y N
	pb check
	check "report_ignored_msrs=N is fine" check_line "^ok    kvm: report_ignored_msrs=N"
	sed -i 's/^iommu_pt = yes$/&\nkvm_ignore_msrs = yes/' "$ROOT/etc/pcibind/pcibind.conf"
	kvm_params N Y
	pb check
	check "kvm_ignore_msrs = yes not in effect yet: said so, with the fix" \
		check_line "^warn  kvm: kvm_ignore_msrs = yes is not in effect: kvm has ignore_msrs=N; fix: \`pcibind generate --write\`, then reload kvm"
	rm -rf "$ROOT"
	ROOT=""
}

scenario_check_unsafe_interrupts() {
	check_root check-unsafe-interrupts
	printf '           CPU0\n  0:         10   IO-APIC    2-edge      timer\n 24:   99  PCI-MSI 327680-edge  xhci_hcd\n' \
		>"$ROOT/proc/interrupts"
	pb check
	check "no remapping: allow_unsafe_interrupts is offered" check_line "^warn  irq-remap: no interrupt remapping .*accept the risk with allow_unsafe_interrupts = yes"
	sed -i 's/^iommu_pt = yes$/iommu_pt = yes\nallow_unsafe_interrupts = yes/' "$ROOT/etc/pcibind/pcibind.conf"
	pb check
	check "with it set, it is not suggested again" bash -c '! grep -q "accept the risk with allow_unsafe_interrupts" <<<"$1"' _ "$OUT"
	check "... the risk is said, and that it is not in effect yet" check_line "^fail  irq-remap: no interrupt remapping .*allow_unsafe_interrupts = yes lets vfio assign devices anyway, at the risk .*; not in effect yet"
	mkdir -p "$ROOT/sys/module/vfio_iommu_type1/parameters"
	echo Y >"$ROOT/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
	pb check
	check "in effect: a warning without a fix that suggests it" check_line "^warn  irq-remap: .*; in effect (vfio_iommu_type1 allow_unsafe_interrupts=Y); fix: enable x2APIC"
	cp "$SRCDIR/tests/gen/debian12-grub-efi-intel/root/proc/interrupts" "$ROOT/proc/interrupts"
	pb check
	check "with remapping active, the key is named as not needed" check_line "^info  irq-remap: allow_unsafe_interrupts = yes is not needed with interrupt remapping"
	rm -rf "$ROOT"
	ROOT=""
}

# The VFIO cdev: Debian's kernels up to 7.3 build neither CONFIG_IOMMUFD nor CONFIG_VFIO_DEVICE_CDEV
# (tests/vm: the real 6.12 and 7.2 show no vfio-dev class and no /dev/iommu)
scenario_check_vfio_cdev() {
	local cfg
	check_root check-vfio-cdev
	cfg="$ROOT/boot/config-6.1.0-13-amd64"
	echo "# CONFIG_IOMMUFD is not set" >>"$cfg"
	pb check
	check "a kernel config without the cdev: groups only, iommufd unavailable" \
		check_line "^info  vfio-cdev: no VFIO cdev in 6.1.0-13-amd64 (CONFIG_VFIO_DEVICE_CDEV not set): VM managers open /dev/vfio/N; iommufd .* is not available"
	printf 'CONFIG_IOMMUFD=m\nCONFIG_VFIO_DEVICE_CDEV=y\n' >>"$cfg"
	pb check
	check "built with it, nothing on vfio-pci: offered" check_line "^info  vfio-cdev: VFIO cdev offered by 6.1.0-13-amd64 (CONFIG_VFIO_DEVICE_CDEV=y); no function on vfio-pci shows it yet$"
	mkdir -p "$ROOT/sys/class/vfio-dev/vfio0"
	pb check
	check "a vfio-dev device without a dev attribute (6.1's class, for sysfs only) is no cdev" \
		check_line "^info  vfio-cdev: no VFIO cdev in 6.1.0-13-amd64 (its vfio-dev devices have no character device)"
	echo 511:0 >"$ROOT/sys/class/vfio-dev/vfio0/dev"
	pb check
	check "vfio loaded with it, iommufd not: the fix loads iommufd" \
		check_line "^info  vfio-cdev: VFIO cdev offered (/dev/vfio/devices/vfioN), /dev/iommu absent: iommufd not loaded; fix: modprobe iommufd"
	mkdir -p "$ROOT/dev" && : >"$ROOT/dev/iommu"
	pb check
	check "both: ok" check_line "^ok    vfio-cdev: VFIO cdev offered: /dev/vfio/devices/vfioN for each function on vfio-pci, /dev/iommu (iommufd)$"
	rm -rf "$ROOT/sys/class/vfio-dev" "$ROOT/dev/iommu" "$ROOT/boot"
	pb check
	check "neither config nor vfio-dev: unknown, said so" check_line "^info  vfio-cdev: VFIO cdev unknown: no function on vfio-pci, no kernel config found$"
	mkdir -p "$ROOT/usr/lib/modules/6.1.0-13-amd64"
	echo "CONFIG_VFIO_DEVICE_CDEV=y" >"$ROOT/usr/lib/modules/6.1.0-13-amd64/config"
	pb check
	check "Debian 14's place of the config, /usr/lib/modules/VERSION/config, is read" check_line "^info  vfio-cdev: VFIO cdev offered by 6.1.0-13-amd64 (CONFIG_VFIO_DEVICE_CDEV=y)"
	rm -rf "$ROOT"
	ROOT=""
}
