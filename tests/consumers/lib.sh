# lib.sh - the consumer tier's helpers: checks, a chroot with its own /proc, a fake sysfs/proc (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Every root R is a directory below the tier's work directory, never "/" (guard). Inside it the
# consumers run through in_root, in a private mount namespace with R's own /proc mounted (and
# R/.fake/cmdline over /proc/cmdline, so a consumer that reads the running command line reads the
# test's); nothing of this machine's /sys, /dev or /boot is mounted: R/sys is a plain directory
# holding the fake PCI topology pcibind reads through --root, R/dev the device nodes mmdebstrap made.

PASS=0
FAIL=0
TAG=consumers

ok() { echo "ok - $TAG: $*"; PASS=$((PASS + 1)); }
nok() { echo "not ok - $TAG: $*"; FAIL=$((FAIL + 1)); }
say() { echo "# $TAG: $*"; }
fails() { ! "$@"; }
check() { # check DESC CMD...
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
# CMD with its output thrown away, or kept in FILE: a redirection after `check ...` would take the
# ok/not ok line with it (tests/lint-man.sh looks for one)
quietly() { "$@" >/dev/null 2>&1; }
logged() { # logged FILE CMD...
	local f=$1
	shift
	"$@" >"$f" 2>&1
}
# show a file's interesting part under a failed check
show() { sed 's/^/#   /' "$@" | head -n 30; }

guard_root() {
	case "$(realpath -m "$1")" in
	/ | "" | /usr | /etc | /boot | /sys | /dev | /proc) echo "not ok - $TAG: refusing to use '$1' as a root"; exit 1 ;;
	esac
}

# in_root R CMD...: CMD inside R (env cleared), its own /proc and devpts, the fake /proc/cmdline over it;
# IN_ROOT_CACHE=DIR: DIR (a cache of this machine's, never /sys, /dev or /boot) as R's apt archives;
# IN_ROOT_ENV="VAR=VALUE...": more of CMD's environment (words without blanks)
in_root() {
	local R=$1
	shift
	guard_root "$R"
	unshare --mount --propagation private -- /bin/sh -c '
		R=$1 cache=$2 extra=$3; shift 3
		# R on itself: its "/" is a mount point, as a machine'"'"'s is (unshare --propagation needs one)
		mount --bind "$R" "$R" || exit 125
		mount -t proc proc "$R/proc" || exit 125
		mkdir -p "$R/dev/pts"
		# a devpts instance of its own (not this machine'"'"'s ptys), as a machine has: script(1) needs one
		mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts" || exit 125
		if [ -f "$R/.fake/cmdline" ]; then mount --bind "$R/.fake/cmdline" "$R/proc/cmdline" || exit 125; fi
		if [ -n "$cache" ]; then mount --bind "$cache" "$R/var/cache/apt/archives" || exit 125; fi
		exec chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
			SYSTEMD_DEVICE_VERIFY_SYSFS=0 DEBIAN_FRONTEND=noninteractive TERM=dumb $extra "$@"
	' sh "$R" "${IN_ROOT_CACHE:-}" "${IN_ROOT_ENV:-}" "$@"
}

# ---- the fake host below R: /proc files and a sysfs PCI topology, as the kernel lays them out ----

fake_proc() { # fake_proc R intel|amd KVER CMDLINE
	local R=$1 cpu=$2 kver=$3 cmdline=$4
	mkdir -p "$R/proc/sys/kernel" "$R/.fake"
	if [ "$cpu" = intel ]; then
		printf 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse msr vmx ept\n' >"$R/proc/cpuinfo"
	else
		printf 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme de pse msr svm npt\n' >"$R/proc/cpuinfo"
	fi
	printf '           CPU0\n  0:         10   IO-APIC    2-edge      timer\n 24:         99  IR-PCI-MSI 327680-edge      xhci_hcd\n' \
		>"$R/proc/interrupts"
	echo "$kver" >"$R/proc/sys/kernel/osrelease"
	echo "$cmdline" >"$R/proc/cmdline"
	cp "$R/proc/cmdline" "$R/.fake/cmdline"
}

fake_iommu() { # fake_iommu R intel|amd
	local u=dmar0
	[ "$2" = amd ] && u=ivhd0
	mkdir -p "$1/sys/class/iommu/$u" "$1/sys/kernel/iommu_groups"
	[ "$2" = intel ] && mkdir -p "$1/sys/class/iommu/$u/intel-iommu" && echo f050da >"$1/sys/class/iommu/$u/intel-iommu/ecap"
	return 0
}

fake_driver() { # fake_driver R NAME [MODULE]: a PCI driver, its module link unless built in
	mkdir -p "$1/sys/bus/pci/drivers/$2"
	if [ -n "${3:-}" ]; then
		mkdir -p "$1/sys/module/$3"
		ln -sfn "../../../../module/$3" "$1/sys/bus/pci/drivers/$2/module"
	fi
}

# fake_fn R ADDR VENDOR DEVICE CLASS GROUP [DRIVER [MODULE]]: a function below /sys/devices/pci0000:00,
# linked from /sys/bus/pci/devices and its IOMMU group, with the uevent and modalias udev reads
fake_fn() {
	local R=$1 a=$2 v=$3 d=$4 c=$5 g=$6 drv=${7:-} mod=${8:-}
	local dir=$R/sys/devices/pci0000:00/$a alias
	local V=${v^^} D=${d^^}
	alias=$(printf 'pci:v0000%sd0000%ssv00000000sd00000000bc%ssc%si%s' "$V" "$D" "${c:0:2}" "${c:2:2}" "${c:4:2}")
	mkdir -p "$dir" "$R/sys/bus/pci/devices" "$R/sys/kernel/iommu_groups/$g/devices"
	printf '0x%s\n' "$v" >"$dir/vendor"
	printf '0x%s\n' "$d" >"$dir/device"
	printf '0x%s\n' "$c" >"$dir/class"
	printf '0x0000\n' >"$dir/subsystem_vendor"
	printf '0x0000\n' >"$dir/subsystem_device"
	printf '(null)\n' >"$dir/driver_override"
	echo "$alias" >"$dir/modalias"
	{
		[ -n "$drv" ] && echo "DRIVER=$drv"
		printf 'PCI_CLASS=%X\nPCI_ID=%s:%s\nPCI_SUBSYS_ID=0000:0000\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n' \
			"$((16#$c))" "$V" "$D" "$a" "$alias"
	} >"$dir/uevent"
	ln -sfn ../../../bus/pci "$dir/subsystem"
	ln -sfn "../../../devices/pci0000:00/$a" "$R/sys/bus/pci/devices/$a"
	ln -sfn "../../../kernel/iommu_groups/$g" "$dir/iommu_group"
	ln -sfn "../../../../devices/pci0000:00/$a" "$R/sys/kernel/iommu_groups/$g/devices/$a"
	if [ -n "$drv" ]; then
		fake_driver "$R" "$drv" "$mod"
		ln -sfn "../../../bus/pci/drivers/$drv" "$dir/driver"
	fi
}

# ---- pcibind in the root ----

# make install into R as a distribution would lay it out
install_pcibind() { # install_pcibind R LOG
	mkdir -p "$SRC/build" && flock "$SRC/build/.install.lock" make -C "$SRC" --no-print-directory install DESTDIR="$1" PREFIX=/usr SBINDIR=/usr/sbin \
		UDEVDIR=/usr/lib/udev SYSTEMDUNITDIR=/usr/lib/systemd/system >"$2" 2>&1
}

conf() { # conf R LINE...: the configuration (root's, 0644)
	mkdir -p "$1/etc/pcibind"
	printf '%s\n' "${@:2}" >"$1/etc/pcibind/pcibind.conf"
	chmod 0644 "$1/etc/pcibind/pcibind.conf"
}

# pcibind R ARGS...: the installed binary, on the root from outside (what an image builder does);
# output in $OUT, status in $ST
pcibind() {
	local R=$1
	shift
	OUT=$("$R/usr/sbin/pcibind" --root "$R" "$@" 2>&1)
	ST=$?
}

# the refresh commands pcibind printed ("run inside the system: CMD"), run inside R as pcibind
# runs them on a host (/bin/sh -c), each output in $WORK/NAME.N.log; 0 if all exit 0
run_refresh() { # run_refresh R NAME
	local R=$1 name=$2 cmd n=0 st=0
	CMDS=$(sed -n 's/^run inside the system: //p' <<<"$OUT")
	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		n=$((n + 1))
		if ! in_root "$R" /bin/sh -c "$cmd" >"$WORK/$name.$n.log" 2>&1; then
			echo "#   '$cmd' failed:"
			show "$WORK/$name.$n.log"
			st=1
		fi
	done <<<"$CMDS"
	return $st
}

# what the user's configuration is before pcibind: /etc (but pcibind's own config), the dracut
# modules, pcibind's record; path, type, mode, target or checksum
snapshot() { # snapshot R
	(
		cd "$1" || exit 1
		find etc usr/lib/dracut/modules.d var/lib/pcibind -path etc/pcibind -prune -o \( -type f -o -type l \) \
			-printf '%p %y %m %l\n' 2>/dev/null | sort
		find etc usr/lib/dracut/modules.d var/lib/pcibind -path etc/pcibind -prune -o -type f -print0 2>/dev/null |
			sort -z | xargs -0 -r sha256sum
		find usr/lib/dracut/modules.d var/lib/pcibind -type d 2>/dev/null | sort
	)
}

# ---- what the consumers made ----

# the "linux" lines of the normal (not recovery) entries of a grub.cfg
grub_linux_lines() { grep -E '^\s*linux\s' "$1" | grep -v ' single\b'; }

# every normal entry's linux line has every word given, and none of the words after --not
grub_lines_have() { # grub_lines_have CFG WORD... [--not WORD...]
	local cfg=$1 w line want=1 n=0
	shift
	while IFS= read -r line; do
		n=$((n + 1))
		want=1
		for w in "$@"; do
			[ "$w" = --not ] && { want=0; continue; }
			if [ $want = 1 ] && ! grep -qE "(^|\s)$w(\s|$)" <<<"$line"; then echo "#   lacks $w: $line"; return 1; fi
			if [ $want = 0 ] && grep -qE "(^|\s)$w(\s|$)" <<<"$line"; then echo "#   has $w: $line"; return 1; fi
		done
	done < <(grub_linux_lines "$cfg")
	[ "$n" -gt 0 ] || { echo "#   no linux line in $cfg"; return 1; }
}

# every module of a modules-load.d file resolves for a kernel, without a warning
modules_resolve() { # modules_resolve R KVER FILE: it names modules, and each resolves without a word
	local R=$1 k=$2 m bad=0
	[ -n "$(grep -v '^#' "$R/$3" 2>/dev/null)" ] || { echo "#   $3 names no module"; return 1; }
	for m in $(grep -v '^#' "$R/$3"); do
		if ! in_root "$R" modprobe -S "$k" --show-depends "$m" >"$WORK/resolve.out" 2>&1 || grep -qiE 'warn|error|fatal' "$WORK/resolve.out"; then
			echo "#   $m on $k: $(tr '\n' ' ' <"$WORK/resolve.out" | cut -c1-200)"
			bad=1
		fi
	done
	return $bad
}

# a stub for grub-probe, which cannot probe devices in a chroot; the command-line handling stays real
stub_grub_probe() {
	install -m 0755 "$HERE/grub-probe" "$1/usr/sbin/grub-probe"
}

# systemd-analyze verify of the installed unit, as systemd of this root reads it
check_unit() { # check_unit R
	local st
	in_root "$1" systemd-analyze verify --man=no /usr/lib/systemd/system/pcibind.service >"$WORK/$P.verify" 2>&1
	st=$?
	check "$P: systemd-analyze verify pcibind.service ($(in_root "$1" systemctl --version | head -n 1 | cut -d' ' -f1,2))" \
		test "$st" -eq 0 -a ! -s "$WORK/$P.verify"
	[ "$st" -eq 0 ] && [ ! -s "$WORK/$P.verify" ] || show "$WORK/$P.verify"
}

# udevadm test on the add event of a function: the rule's RUN comes before 80-drivers.rules' module load
check_udev_test() { # check_udev_test R DEVPATH
	local run kmod
	in_root "$1" udevadm test --action=add "$2" >"$WORK/$P.udevtest" 2>&1
	# the RUN list at the end, in execution order: "run: 'CMD'" (udev 252), "  RUN{program} : CMD" (257)
	run=$(grep -nE "^(run: '|  RUN\{program\} : )/usr/sbin/pcibind" "$WORK/$P.udevtest" | head -n 1 | cut -d: -f1)
	kmod=$(grep -nE "^(run: '|  RUN\{builtin\} : )kmod load" "$WORK/$P.udevtest" | head -n 1 | cut -d: -f1)
	check "$P: udevadm test: 60-pcibind.rules runs pcibind before 80-drivers.rules loads the module" \
		test -n "$run" -a -n "$kmod" -a "${run:-0}" -lt "${kmod:-0}"
	[ -n "$run" ] && [ -n "$kmod" ] || grep -E "^run:|pcibind|rror" "$WORK/$P.udevtest" | show
	check "$P: udevadm test: no error in 60-pcibind.rules" \
		test -z "$(grep -i 'pcibind.rules' "$WORK/$P.udevtest" | grep -iE 'error|invalid|unknown')"
}
