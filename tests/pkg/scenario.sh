#!/bin/bash
# scenario.sh - the package's life in one Debian chroot: install, configure, upgrade, run as installed, remove, purge
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   tests/pkg/scenario.sh ROOT SUITE TOOL PREV_DEB DEB ARCHIVES     (run by tests/pkg/run.sh)
#
# ROOT is an unpacked debroot tarball this script changes; TOOL is
# initramfs-tools or dracut (the one ROOT has); PREV_DEB the previous build,
# DEB this one; ARCHIVES a directory kept between runs for the .debs apt
# downloads (bound over the chroot's /var/cache/apt/archives, one apt at a
# time). Every command runs in the chroot in a mount namespace of its own
# with the chroot's own /proc and a new devpts; the chroot's /sys is a plain
# directory holding a fake PCI topology, and pcibind runs against it with
# --root (FAKE below: the chroot's /sys and /etc/pcibind bound into it).
# shellcheck disable=SC2016 # $1 in the bash -c script is its own
set -u -o pipefail
R=$(realpath -m "$1") SUITE=$2 TOOL=$3 PREV_DEB=$4 DEB=$5 ARCHIVES=$(realpath -m "$6")
case $R in / | "") echo "not ok - pkg: $SUITE: refusing the root '$1'"; exit 1 ;; esac
[ -x "$R/usr/bin/apt-get" ] || { echo "not ok - pkg: $SUITE: $R holds no Debian userland"; exit 1; }
LOG=$(dirname "$R")
FAKE=/srv/pcibind-root
# two kernels by name only (an empty module tree and vmlinuz, enough for an initramfs): the
# update-initramfs trigger rebuilds the newest only, remove must leave none of them with pcibind
KERNELS="6.99.0-1-test 6.99.0-2-test"
NEWEST=6.99.0-2-test
PREV=$(dpkg-deb -f "$PREV_DEB" Version)
V=$(dpkg-deb -f "$DEB" Version)
FAIL=0

ok() { echo "ok - pkg: $SUITE: $*"; }
nok() {
	echo "not ok - pkg: $SUITE: $*"
	FAIL=1
}
say() { echo "# pkg: $SUITE: $*"; }
tailof() { tail -n "${2:-5}" "$1" 2>/dev/null | cut -c1-200 | tr '\n' '|'; }

# inroot CMD...: CMD in the chroot, with a clean environment
inroot() {
	unshare -m --propagation private -- /bin/bash -c '
		r=$1 archives=$2 fake=$3
		shift 3
		mount -t proc proc "$r/proc" &&
			mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts" &&
			mount --bind "$r/dev/pts/ptmx" "$r/dev/ptmx" &&
			mount --bind "$archives" "$r/var/cache/apt/archives" &&
			mount --bind "$r/sys" "$r$fake/sys" || exit 125
		if [ -d "$r/etc/pcibind" ]; then mount --bind "$r/etc/pcibind" "$r$fake/etc/pcibind" || exit 125; fi
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive SYSTEMD_DEVICE_VERIFY_SYSFS=0 "$@"' \
		inroot "$R" "$ARCHIVES" "$FAKE" "$@"
}
# apt_get ARGS...: apt-get in the chroot, one at a time per archive directory, stdin closed (a conffile prompt fails)
apt_get() { (flock 9 && inroot apt-get -y -q "$@" </dev/null) 9>"$ARCHIVES.lock"; }
installed() { [ "$(inroot dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

# ---- the fake PCI topology: a GPU with its audio (group 14), a NIC on e1000e (group 15) ----
# fn ADDR VENDOR DEVICE CLASS GROUP [DRIVER]
fn() {
	local s=$R/sys d=$R/sys/devices/pci0000:00/$1 v=${2^^} dv=${3^^} m
	mkdir -p "$d" "$s/bus/pci/devices" "$s/kernel/iommu_groups/$5/devices"
	printf '0x%s\n' "$2" >"$d/vendor"
	printf '0x%s\n' "$3" >"$d/device"
	printf '0x%s\n' "$4" >"$d/class"
	printf '(null)\n' >"$d/driver_override"
	m="pci:v0000${v}d0000${dv}sv00000000sd00000000bc${4:0:2}sc${4:2:2}i${4:4:2}"
	echo "$m" >"$d/modalias"
	{
		[ -n "${6:-}" ] && echo "DRIVER=$6"
		printf 'PCI_CLASS=%s\nPCI_ID=%s:%s\nPCI_SUBSYS_ID=0000:0000\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n' "${4#0}" "$v" "$dv" "$1" "$m"
	} >"$d/uevent"
	ln -sfn ../../../bus/pci "$d/subsystem"
	ln -sfn "../../../kernel/iommu_groups/$5" "$d/iommu_group"
	ln -sfn "../../../../devices/pci0000:00/$1" "$s/kernel/iommu_groups/$5/devices/$1"
	ln -sfn "../../../devices/pci0000:00/$1" "$s/bus/pci/devices/$1"
	if [ -n "${6:-}" ]; then ln -sfn "../../../bus/pci/drivers/$6" "$d/driver"; fi
}
fake_sysfs() {
	rm -rf "${R:?}/sys" && mkdir -p "$R/sys/bus/pci/drivers/vfio-pci" "$R/sys/bus/pci/drivers/e1000e" &&
		: >"$R/sys/bus/pci/drivers_probe" &&
		fn 0000:01:00.0 10de 2204 030000 14 &&
		fn 0000:01:00.1 10de 1aef 040300 14 &&
		fn 0000:02:00.0 8086 10d3 020000 15 e1000e &&
		mkdir -p "$R$FAKE/sys" "$R$FAKE/etc/pcibind" "$R$FAKE/run"
}
override() { cat "$R/sys/devices/pci0000:00/$1/driver_override"; }

# ---- counting initramfs builds: a hook (initramfs-tools) or module (dracut) that logs the kernel ----
count_builds_start() {
	rm -f "$R/tmp/initramfs-builds.log"
	case $TOOL in
	initramfs-tools)
		printf '#!/bin/sh\n[ "$1" = prereqs ] && exit 0\necho "$version" >>/tmp/initramfs-builds.log\n' \
			>"$R/etc/initramfs-tools/hooks/zz-count-builds" && chmod 0755 "$R/etc/initramfs-tools/hooks/zz-count-builds" ;;
	dracut)
		mkdir -p "$R/usr/lib/dracut/modules.d/99countbuilds" &&
			printf 'check() { return 0; }\ndepends() { return 0; }\ninstall() { echo "$kernel" >>/tmp/initramfs-builds.log; }\n' \
				>"$R/usr/lib/dracut/modules.d/99countbuilds/module-setup.sh" ;;
	*) return 1 ;;
	esac
}
# the kernels built since count_builds_start, sorted, space separated; the counter taken out
count_builds_stop() {
	rm -rf "$R/etc/initramfs-tools/hooks/zz-count-builds" "$R/usr/lib/dracut/modules.d/99countbuilds"
	sort "$R/tmp/initramfs-builds.log" 2>/dev/null | paste -sd' ' -
	rm -f "$R/tmp/initramfs-builds.log"
}

# ---- the initramfs of the fake kernels ----
fake_kernels() {
	local k m
	# uncompressed: a third of dracut's time, and it runs about ten times here
	[ "$TOOL" != dracut ] || echo 'compress="cat"' >"$R/etc/dracut.conf.d/90-pcibind-test.conf"
	for k in $KERNELS; do
		m=$R/usr/lib/modules/$k
		mkdir -p "$m" && touch "$m/modules.order" "$m/modules.builtin" "$m/modules.builtin.modinfo" &&
			inroot depmod "$k" 2>/dev/null && : >"$R/boot/vmlinuz-$k" &&
			printf 'CONFIG_BLK_DEV_INITRD=y\nCONFIG_RD_GZIP=y\nCONFIG_RD_ZSTD=y\n' >"$R/boot/config-$k" || return 1
		case $TOOL in
		initramfs-tools) inroot update-initramfs -c -k "$k" || return 1 ;;
		dracut) inroot dracut -q --force "/boot/initrd.img-$k" "$k" || return 1 ;;
		esac
	done
}
# initramfs_list KVER: one line per file in its initramfs (path), and per dracut module ("module NAME")
initramfs_list() {
	case $TOOL in
	initramfs-tools) inroot lsinitramfs "/boot/initrd.img-$1" ;;
	dracut)
		inroot lsinitrd "/boot/initrd.img-$1" | awk '
			/^dracut modules:/ { m = 1; next }
			m && /^=+$/ { m = 0; next }
			m && NF == 1 && $1 != "countbuilds" { print "module " $1; next }
			m && NF == 1 { next } # the test'"'"'s own build counter (count_builds_start)
			length($1) == 10 && $1 ~ /^[-dlcbps]/ && match($0, / [A-Z][a-z][a-z] +[0-9]+ +[0-9:]+ /) {
				print substr($0, RSTART + RLENGTH) }'
		;;
	esac | LC_ALL=C sort
}
# has_early_claim KVER: what the early claim needs is in its initramfs: the binary, the rule, the boot script
has_early_claim() {
	local l
	l=$(initramfs_list "$1") || return 1
	grep -qx 'usr/sbin/pcibind' <<<"$l" && grep -q 'udev/rules.d/60-pcibind.rules$' <<<"$l" &&
		case $TOOL in
		initramfs-tools) grep -qx 'scripts/init-top/pcibind' <<<"$l" ;;
		dracut) grep -qx 'module pcibind' <<<"$l" && grep -q 'hooks/pre-udev/01-pcibind-early.sh$' <<<"$l" ;;
		esac
}
all_early_claim() {
	local k
	for k in $KERNELS; do has_early_claim "$k" || return 1; done
}
# the kernels whose initramfs holds anything of pcibind's (or cannot be listed)
initramfs_with_pcibind() {
	local k l
	for k in $KERNELS; do
		# the list first: grep -q ending a pipe early would fail it under pipefail
		if ! l=$(initramfs_list "$k") || [ -z "$l" ] || grep -q pcibind <<<"$l"; then echo "$k"; fi
	done
}

# ---- the boot loader: /etc/default/grub as on a Proxmox host, update-grub a stand-in ----
# (what is tested here is generate's GRUB drop-in and refresh, not GRUB: tests/consumers runs the
# real grub-mkconfig). The stand-in fails once when /tmp/update-grub.fail exists. grub.d/ is there
# already, as on Proxmox (proxmox-ve.cfg); where it is not, generate --remove takes out the grub.d/
# that --write made (tests/gen: dirs).
fake_grub() {
	mkdir -p "$R/etc/default/grub.d" &&
		printf '%s\n' 'GRUB_DEFAULT=0' 'GRUB_TIMEOUT=5' \
			'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`' \
			'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' 'GRUB_CMDLINE_LINUX=""' >"$R/etc/default/grub" &&
		printf 'GRUB_DISTRIBUTOR="Proxmox VE"\n' >"$R/etc/default/grub.d/proxmox-ve.cfg" &&
		cat >"$R/usr/sbin/update-grub" <<'GRUBEOF' && chmod 0755 "$R/usr/sbin/update-grub"
#!/bin/sh
if [ -e /tmp/update-grub.fail ]; then
	rm -f /tmp/update-grub.fail
	echo "update-grub: failing once, as asked by the test" >&2
	exit 1
fi
echo ran >>/tmp/update-grub.log
GRUBEOF
}
grub_runs() { cat "$R/tmp/update-grub.log" 2>/dev/null | wc -l; }

# ---- the state compared before install and after purge ----
snapshot() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ".$FAKE" \) -prune \
		-o -printf '%y %m %U:%G %p %l\n' | LC_ALL=C sort)
}
etc_sums() { (cd "$R" && find ./etc -xdev -type f ! -path ./etc/ld.so.cache -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
# apt's, dpkg's and debconf's own records and logs change with any install (debconf 1.5.87 in Debian 13
# leaves an empty tmp.ci after any package); nothing of pcibind's is in them
bookkeeping='[^ ]+ [0-7]+ [0-9]+:[0-9]+ \./var/(log/(apt/|dpkg\.log|alternatives\.log)|lib/apt/(extended_states|lists/auxfiles)|cache/apt/(src)?pkgcache\.bin|cache/debconf/([a-z]+\.dat-old|tmp\.ci)|cache/ldconfig/aux-cache|lib/dpkg/(status|diversions|statoverride)-old)'

# ---- setup ----
mkdir -p "$R/tmp/pkg" && cp "$PREV_DEB" "$DEB" "$R/tmp/pkg/" || { nok "setup: cannot copy the packages into $R"; exit 1; }
fake_sysfs || { nok "setup: cannot make the fake sysfs in $R/sys"; exit 1; }
fake_grub || { nok "setup: cannot write /etc/default/grub and update-grub in $R"; exit 1; }
fake_kernels >"$LOG/kernel.log" 2>&1 || { nok "setup: no initramfs for the test kernels: $(tailof "$LOG/kernel.log")"; exit 1; }
for k in $KERNELS; do initramfs_list "$k" >"$LOG/before.initramfs-$k"; done
if [ -s "$LOG/before.initramfs-$NEWEST" ] && [ -z "$(initramfs_with_pcibind)" ]; then
	ok "$TOOL makes an initramfs for each test kernel, without pcibind ($(wc -l <"$LOG/before.initramfs-$NEWEST") entries)"
else
	nok "$TOOL initramfs before the install: empty, or pcibind already in it"
fi
snapshot >"$LOG/before.files"
etc_sums >"$LOG/before.etc"
deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/^ *//; s/[ (].*//')
absent=$(for p in $deps; do installed "$p" || echo "$p"; done | paste -sd' ' -)

# ---- install the previous build from the minimal base, with dependency resolution ----
if apt_get install "/tmp/pkg/$(basename "$PREV_DEB")" >"$LOG/install.log" 2>&1; then
	missing=$(for p in $deps; do installed "$p" || echo "$p"; done | paste -sd' ' -)
	pulled="all of it there before"
	[ -z "$absent" ] || pulled="absent before, pulled in: $absent"
	if [ -z "$missing" ]; then
		ok "apt-get install ./$(basename "$PREV_DEB") on a minbase: installed with what it depends on ($pulled)"
	else
		nok "apt-get install ./$(basename "$PREV_DEB"): installed, but not what it depends on: $missing"
	fi
else
	nok "apt-get install ./$(basename "$PREV_DEB"): $(tailof "$LOG/install.log" 8)"
	exit 1
fi
check_version() {
	local want=$1 bin dpkg
	bin=$(inroot pcibind --version 2>&1)
	dpkg=$(inroot dpkg-query -W -f '${Version}' pcibind 2>&1)
	if [ "$bin" = "pcibind $want" ] && [ "$dpkg" = "$want" ]; then
		ok "pcibind --version prints the package's version: '$bin'"
	else
		nok "pcibind --version '$bin', package version '$dpkg', expected $want"
	fi
}
check_version "$PREV"
check_enabled() {
	local st
	st=$(inroot systemctl is-enabled pcibind.service 2>&1)
	if [ "$st" = enabled ] && [ -L "$R/etc/systemd/system/sysinit.target.wants/pcibind.service" ]; then
		ok "pcibind.service is enabled $1 (sysinit.target.wants)"
	else
		nok "pcibind.service $1: systemctl is-enabled says '$st'"
	fi
}
check_enabled "after the install"
if has_early_claim "$NEWEST"; then ok "the trigger after the install put pcibind, its rule and the early claim into the $TOOL initramfs"
else nok "the $TOOL initramfs after the install lacks pcibind, its rule or the early-claim script"; fi

# ---- a configured set: the administrator edits the conffile and adds a drop-in ----
conf=$R/etc/pcibind/pcibind.conf
cat >>"$conf" <<'EOF'

# added by the administrator
[gpu]
address = 0000:01:00
ids = 10de:2204, 10de:1aef
boot = yes
EOF
printf '[nic]\naddress = 0000:02:00.0\n' >"$R/etc/pcibind/conf.d/nic.conf"
conf_sums=$(cd "$R" && sha256sum etc/pcibind/pcibind.conf etc/pcibind/conf.d/nic.conf)

# ---- upgrade to this build ----
if apt_get install "/tmp/pkg/$(basename "$DEB")" >"$LOG/upgrade.log" 2>&1 &&
	grep -q "Unpacking pcibind ($V) over ($PREV)" "$LOG/upgrade.log"; then
	ok "apt-get install ./$(basename "$DEB") upgrades $PREV to $V"
else
	nok "upgrade from $PREV to $V: $(tailof "$LOG/upgrade.log" 8)"
fi
check_version "$V"
left=$(cd "$R" && find etc/pcibind -name '*.dpkg-*' -o -name '*.ucf-*')
if [ "$(cd "$R" && sha256sum etc/pcibind/pcibind.conf etc/pcibind/conf.d/nic.conf 2>&1)" = "$conf_sums" ] && [ -z "$left" ]; then
	ok "the upgrade keeps the edited pcibind.conf and the drop-in byte for byte, with no prompt and no .dpkg-* file"
else
	nok "the upgrade changed the configuration (or left ${left:-nothing}): $(cd "$R" && sha256sum -c <<<"$conf_sums" 2>&1 | tr '\n' '|')"
fi
check_enabled "after the upgrade"

unit=$(inroot dpkg -L pcibind | grep '/systemd/system/pcibind.service$')
rule=$(inroot dpkg -L pcibind | grep '/udev/rules.d/60-pcibind.rules$')
out=$(inroot systemd-analyze verify --man=no "$unit" 2>&1)
st=$?
if [ $st -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $unit: clean"
else nok "systemd-analyze verify $unit (status $st): $(printf '%s' "$out" | head -n 5 | tr '\n' '|')"; fi
if inroot udevadm verify --help >/dev/null 2>&1; then
	out=$(inroot udevadm verify "$rule" 2>&1)
	st=$?
	if [ $st -eq 0 ]; then ok "udevadm verify $rule"; else nok "udevadm verify $rule (status $st): $(printf '%s' "$out" | tr '\n' '|')"; fi
else
	say "udevadm verify: not in this systemd ($(inroot udevadm --version)); needs 254"
fi

# ---- the rule and the unit, as installed, on the fake sysfs ----
# udevadm test and systemd-analyze leave their own state in /run (a tmpfs on a real system): not pcibind's
cleanrun() { rm -rf "$R/run/udev" "$R/run/systemd"; }
# run_as_installed WHAT CMDLINE: the command line with --root FAKE after its program
run_as_installed() {
	local prog args
	read -r prog args <<<"$2"
	# shellcheck disable=SC2086 # the installed command line, word-split as udev and systemd do (no quotes in it)
	inroot "$prog" --root "$FAKE" $args >"$LOG/$1.log" 2>&1
}
# the RUN list of an "add" event, one command a line: "run: 'CMD'" (systemd 252), "  RUN{program} : CMD" (257)
udev_runs() {
	inroot udevadm test --action=add "$1" 2>&1 | sed -n -e "s/^run: '\(.*\)'$/\1/p" -e 's/^ *RUN{[a-z]*} *: \(.*\)$/\1/p'
}
runs=$(udev_runs /sys/devices/pci0000:00/0000:01:00.0)
first=$(head -n 1 <<<"$runs")
if [ "$first" = "/usr/sbin/pcibind apply --udev 0000:01:00.0" ] && grep -qx 'kmod load' <<<"$runs"; then
	ok "udevadm test on an added GPU: RUN '$first' first, before 80-drivers.rules' kmod load"
else
	nok "udevadm test on an added GPU: RUN list '$(tr '\n' '|' <<<"$runs")'"
fi
if [ -n "$first" ] && run_as_installed rule-gpu "$first" &&
	[ "$(override 0000:01:00.0)" = vfio-pci ] && [ "$(override 0000:01:00.1)" = vfio-pci ]; then
	ok "the rule's command, run as installed: driver_override vfio-pci on both functions of the boot set"
else
	nok "the rule's command '$first': overrides '$(override 0000:01:00.0)' '$(override 0000:01:00.1)': $(tailof "$LOG/rule-gpu.log")"
fi
cmd=$(udev_runs /sys/devices/pci0000:00/0000:02:00.0 | grep pcibind)
if [ -n "$cmd" ] && run_as_installed rule-nic "$cmd" && [ "$(override 0000:02:00.0)" = "(null)" ]; then
	ok "the rule's command for a function in no boot set ('$cmd') changes nothing"
else
	nok "the rule's command '$cmd' for the NIC: override '$(override 0000:02:00.0)': $(tailof "$LOG/rule-nic.log")"
fi
cleanrun
# the kernel binds vfio-pci once its module loads; then the unit finds the set done
for a in 0000:01:00.0 0000:01:00.1; do ln -sfn ../../../bus/pci/drivers/vfio-pci "$R/sys/devices/pci0000:00/$a/driver"; done
exec_start=$(sed -n 's/^ExecStart=//p' "$R$unit")
run_as_installed unit "$exec_start"
st=$?
if [ $st -eq 0 ] && grep -q 'gpu: already bound' "$LOG/unit.log"; then
	ok "the unit's ExecStart ($exec_start), run as installed: status 0, the set already bound"
else
	nok "the unit's ExecStart '$exec_start': status $st: $(tailof "$LOG/unit.log")"
fi
if run_as_installed status "/usr/sbin/pcibind status" && grep -Eq '^  gpu ' "$LOG/status.log" && grep -Eq '^  nic ' "$LOG/status.log"; then
	ok "pcibind status reads the edited conffile and the drop-in (sets gpu and nic)"
else
	nok "pcibind status: $(tailof "$LOG/status.log" 8)"
fi
l=$(initramfs_list "$NEWEST")
if grep -qx 'etc/pcibind/pcibind.conf' <<<"$l" && grep -qx 'etc/pcibind/conf.d/nic.conf' <<<"$l" && has_early_claim "$NEWEST"; then
	ok "the trigger after the upgrade rebuilt the initramfs with pcibind and the edited configuration"
else
	nok "the $TOOL initramfs after the upgrade: $(grep pcibind <<<"$l" | tr '\n' ' ')"
fi

# ---- the boot setup, as the administrator makes it ----
printf '[pcibind]\niommu_pt = yes\n' >"$R/etc/pcibind/conf.d/00-global.conf"
runs=$(grub_runs)
if inroot pcibind generate --write >"$LOG/generate.log" 2>&1 && [ -f "$R/etc/modprobe.d/pcibind.conf" ] &&
	grep -q 'iommu=pt' "$R/etc/default/grub.d/pcibind.cfg" && [ "$(grub_runs)" -gt "$runs" ] &&
	all_early_claim; then
	ok "pcibind generate --write on the installed system: modprobe.d, the GRUB drop-in, update-grub, every kernel's initramfs"
else
	nok "pcibind generate --write: $(tailof "$LOG/generate.log")"
fi
# the package's own files are dpkg's: generate writes beside them, never over them
verify=$(inroot dpkg --verify pcibind 2>&1 | grep -v ' c /etc/pcibind/') # (the configuration: the test's)
if [ -z "$verify" ] && ! ls "$R/etc/initramfs-tools/hooks/pcibind" "$R/etc/initramfs-tools/scripts/init-top/pcibind" >/dev/null 2>&1; then
	ok "after generate --write, dpkg --verify pcibind finds every file of the package as shipped; no /etc copy of its initramfs hook"
else
	nok "generate --write changed the package's files or copied its hook into /etc: ${verify:-/etc/initramfs-tools holds a copy}"
fi

# ---- remove: what still depends on pcibind is named; the configuration stays ----
mkdir -p "$R/run/pcibind" "$R/etc/pve/qemu-server" "$R/etc/libvirt/hooks/qemu.d" && chmod 0700 "$R/run/pcibind"
printf '# pcibind journal 1: original state of functions pcibind changed; do not edit\n0000:01:00.0\tdriver=nouveau\toverride=\treset_method=\tsriov_numvfs=\n' \
	>"$R/run/pcibind/journal"
printf 'hookscript: local:snippets/pcibind-hook\nhostpci0: 01:00\n' >"$R/etc/pve/qemu-server/100.conf"
printf 'hookscript: local:snippets/other-hook\n' >"$R/etc/pve/qemu-server/101.conf"
printf 'memory: 4096\n\n[before]\nhookscript: local:snippets/pcibind-hook\n' >"$R/etc/pve/qemu-server/102.conf"
install -m 0755 "$R/usr/share/pcibind/hooks/libvirt-qemu" "$R/etc/libvirt/hooks/qemu.d/pcibind"
# a refresh that fails stops the removal; the next attempt, once it works, finishes it
: >"$R/tmp/update-grub.fail"
if ! apt_get remove pcibind >"$LOG/remove-fail.log" 2>&1 && installed pcibind &&
	grep -q "'pcibind generate --remove' failed (status 1" "$LOG/remove-fail.log" &&
	grep -q 'update-grub: failing once' "$LOG/remove-fail.log"; then
	ok "a failing refresh command stops apt-get remove: pcibind stays installed, the message names the failure"
else
	nok "apt-get remove with update-grub failing: $(grep -E '^(pcibind|dpkg|E):' "$LOG/remove-fail.log" | tail -n 4 | tr '\n' '|')"
fi
rm -f "$R/tmp/update-grub.fail"
count_builds_start || { nok "setup: cannot install the initramfs build counter"; exit 1; }
if apt_get remove pcibind >"$LOG/remove.log" 2>&1 && ! installed pcibind && [ ! -e "$R/usr/sbin/pcibind" ]; then
	ok "apt-get remove pcibind"
else
	nok "apt-get remove pcibind: $(tailof "$LOG/remove.log" 8)"
fi
builds=$(count_builds_stop)
if [ "$builds" = "$(printf '%s\n' $KERNELS | sort | paste -sd' ' -)" ]; then
	ok "remove rebuilt each kernel's initramfs once ($builds), not again in prerm or by the trigger"
else
	nok "remove's initramfs builds: '$builds' (each of $KERNELS once is right)"
fi
left=$(cd "$R" && ls -d etc/modprobe.d/pcibind.conf etc/modules-load.d/pcibind.conf etc/default/grub.d/pcibind.cfg \
	etc/initramfs-tools/hooks/pcibind etc/initramfs-tools/scripts/init-top/pcibind etc/dracut.conf.d/pcibind.conf \
	var/lib/pcibind 2>/dev/null | paste -sd' ' -)
if [ -z "$left" ]; then
	ok "remove took the boot setup generate wrote out again (pcibind generate --remove in prerm)"
else
	nok "remove left the boot setup: $left"
fi
if grep -q 'still moved by pcibind: 0000:01:00.0;' "$LOG/remove.log" &&
	grep -q 'VM 100 has the hookscript local:snippets/pcibind-hook' "$LOG/remove.log" &&
	grep -q 'libvirt hook /etc/libvirt/hooks/qemu.d/pcibind runs pcibind' "$LOG/remove.log" &&
	! grep -Eq 'VM 10[12] ' "$LOG/remove.log"; then
	ok "remove names the function still on vfio-pci, the VM whose hookscript runs pcibind, the libvirt hook (not VM 101 or a snapshot's hookscript)"
else
	nok "remove's warnings: $(grep '^pcibind:' "$LOG/remove.log" | tr '\n' '|')"
fi
rm -rf "$R/etc/pve" "$R/etc/libvirt"
if [ "$(cd "$R" && sha256sum etc/pcibind/pcibind.conf etc/pcibind/conf.d/nic.conf 2>&1)" = "$conf_sums" ] &&
	[ -s "$R/run/pcibind/journal" ]; then
	ok "remove keeps the configuration and the journal (a reinstall can still restore)"
else
	nok "remove lost the configuration or the journal"
fi
with=$(initramfs_with_pcibind | paste -sd' ' -)
if [ -z "$with" ]; then ok "after the remove no kernel's initramfs holds pcibind ($(wc -w <<<"$KERNELS") kernels)"
else nok "after the remove the $TOOL initramfs of $with still holds: $(initramfs_list "${with%% *}" | grep pcibind | head -n 4 | tr '\n' ' ')"; fi

# ---- purge: nothing of pcibind is left, the system is the one before the install ----
count_builds_start || { nok "setup: cannot install the initramfs build counter"; exit 1; }
if apt_get purge --autoremove pcibind >"$LOG/purge.log" 2>&1 && ! inroot dpkg-query -W pcibind >/dev/null 2>&1; then
	ok "apt-get purge --autoremove pcibind"
else
	nok "apt-get purge --autoremove pcibind: $(tailof "$LOG/purge.log" 8)"
fi
builds=$(count_builds_stop)
if [ -z "$builds" ]; then ok "the purge of a removed pcibind rebuilt no initramfs"
else nok "the purge rebuilt the initramfs of: $builds"; fi
snapshot >"$LOG/after.files"
etc_sums >"$LOG/after.etc"
diff "$LOG/before.files" "$LOG/after.files" | grep '^[<>]' | grep -Ev "^[<>] $bookkeeping" >"$LOG/files.diff"
if [ ! -s "$LOG/files.diff" ]; then
	ok "after the purge every file, directory and link (type, mode, owner, target) is as before the install"
else
	nok "the purge left the system changed: $(head -n 8 "$LOG/files.diff" | tr '\n' '|')"
fi
if cmp -s "$LOG/before.etc" "$LOG/after.etc"; then ok "after the purge /etc holds the same bytes as before the install"
else nok "/etc after the purge: $(diff "$LOG/before.etc" "$LOG/after.etc" | grep '^[<>]' | head -n 5 | tr '\n' '|')"; fi
differ=""
for k in $KERNELS; do
	initramfs_list "$k" >"$LOG/after.initramfs-$k"
	cmp -s "$LOG/before.initramfs-$k" "$LOG/after.initramfs-$k" || differ="$differ $k"
done
if [ -z "$differ" ]; then ok "after the purge each initramfs holds what it held before the install"
else nok "the initramfs after the purge differs for$differ: $(diff "$LOG/before.initramfs-${differ# }" "$LOG/after.initramfs-${differ# }" 2>&1 | grep '^[<>]' | head -n 5 | tr '\n' '|')"; fi
exit $FAIL
