# chroots.sh - the Ansible tier's hosts in chroots: the .deb installed, driven through the chroot connection (sourced by run.sh)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Three Debian 12 userlands (mmdebstrap minbase with python3 and pcibind's libraries, cached by
# tests/lib/debroot.sh), the package built by tests/pkg/build-deb.sh installed with dpkg, and
# below each the fake host of a tests/gen tree: its /sys and /proc as plain files (nothing of
# this machine's is mounted), its boot files and its refresh tools (stubs). GRUB with
# initramfs-tools; dracut with grubby; /etc/kernel/cmdline with proxmox-boot-tool. One playbook
# run over the three through community.general.chroot: pcibind runs inside with no --root.

# shellcheck source=tests/lib/debroot.sh
. "$SRCDIR/tests/lib/debroot.sh"

# name, tests/gen tree, the GPU's slot
CHROOT_HOSTS="grub-initramfs:debian12-grub-efi-intel:01:00 dracut:fedora-grubby-dracut-intel:01:00 kcmdline:proxmox8-sdboot-amd:41:00"
CHROOT_PKGS=python3,libinih1,libpci3,libudev1,libexpat1
CHROOT_OPTS=('--dpkgopt=path-exclude=/usr/share/doc/*' '--dpkgopt=path-exclude=/usr/share/man/*'
	'--dpkgopt=path-exclude=/usr/share/info/*')

# chroot_run DIR CMD...: CMD inside DIR, a private mount namespace, nothing mounted, the environment cleared
chroot_run() {
	local dir=$1
	shift
	case $(realpath -m "$dir") in /tmp/pcibind-ansible.?*/hosts/?*) ;; *) echo "refusing the chroot '$dir'" >&2; return 1 ;; esac
	unshare --mount --propagation private -- chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# every file of a host but ansible's and apt's scratch and /run (a tmpfs on a host; pcibind's lock):
# path, size, mode, link target, content
host_tree() {
	(cd "$1" && find . \( -path ./tmp -o -path ./root/.ansible -o -path ./var/cache -o -path ./var/log -o -path ./run \) -prune -o \
		\( -type f -o -type l \) -printf '%p %s %m %l\n' | sort &&
		find . \( -path ./tmp -o -path ./root/.ansible -o -path ./var/cache -o -path ./var/log -o -path ./run \) -prune -o \
			-type f -print0 | sort -z | xargs -0 md5sum)
}

chroot_hosts_make() {
	local tar deb h name gen slot dir
	for t in mmdebstrap unshare chroot dpkg-buildpackage; do
		command -v "$t" >/dev/null || { notok "chroots: $t is missing (tests/install-deps.sh)"; return 1; }
	done
	[ "$(id -u)" -eq 0 ] || { notok "chroots: chroot needs root"; return 1; }
	ansible-doc -t connection community.general.chroot >/dev/null 2>&1 ||
		{ notok "chroots: no community.general.chroot connection (the ansible package)"; return 1; }
	tar=$(debroot_tar bookworm "$CHROOT_PKGS" minbase "${CHROOT_OPTS[@]}") ||
		{ notok "chroots: no Debian 12 userland (mmdebstrap, see ~/.cache/pcibind-tests/rootfs/*.log)"; return 1; }
	deb=$(nice "$SRCDIR/tests/pkg/build-deb.sh" "$WORK/deb" 2>"$WORK/deb.err" | tail -n 1)
	[ -f "$deb" ] || { notok "chroots: the package did not build: $(tail -3 "$WORK/deb.err" | tr '\n' ' ')"; return 1; }
	printf '[chroots]\n' >"$WORK/chroots.ini"
	for h in $CHROOT_HOSTS; do
		name=${h%%:*} gen=${h#*:} slot=${gen#*:} gen=${gen%%:*}
		dir=$WORK/hosts/$name
		debroot_unpack "$tar" "$dir" || { notok "chroots: $name: cannot unpack $tar"; return 1; }
		cp "$deb" "$dir/tmp/pcibind.deb"
		if ! chroot_run "$dir" dpkg -i /tmp/pcibind.deb >"$WORK/$name.dpkg.log" 2>&1; then
			notok "chroots: $name: dpkg -i: $(tail -3 "$WORK/$name.dpkg.log" | tr '\n' ' ')"
			return 1
		fi
		rm -f "$dir/tmp/pcibind.deb"
		# the fake host; its configuration without the sets the gen case had (the playbook makes the GPU's)
		# (through tar: /lib and /sbin are links into /usr in the userland, directories in the tree)
		tar -C "$SRCDIR/tests/gen/$gen/root" -cf - . | tar -C "$dir" -xf - --keep-directory-symlink
		awk '/^\[/ { keep = ($0 == "[pcibind]") } keep' "$SRCDIR/tests/gen/$gen/root/etc/pcibind/pcibind.conf" >"$dir/etc/pcibind/pcibind.conf"
		chmod 0644 "$dir/etc/pcibind/pcibind.conf"
		printf '%s ansible_connection=community.general.chroot ansible_host=%s ansible_python_interpreter=/usr/bin/python3 pcibind_gpu='"'"'["%s"]'"'"'\n' \
			"$name" "$dir" "$slot" >>"$WORK/chroots.ini"
	done
	ok "chroots: three Debian 12 hosts with $(basename "$deb") installed by dpkg (GRUB + initramfs-tools, dracut + grubby, /etc/kernel/cmdline + proxmox-boot-tool)"
}

chroot_trees() { # chroot_trees N: every host's tree into $WORK/ctree.N.HOST
	local h
	for h in $CHROOT_HOSTS; do host_tree "$WORK/hosts/${h%%:*}" >"$WORK/ctree.$1.${h%%:*}"; done
}
chroot_trees_same() { # chroot_trees_same A B: the names of the hosts whose trees differ (none: 0)
	local h bad=""
	for h in $CHROOT_HOSTS; do cmp -s "$WORK/ctree.$1.${h%%:*}" "$WORK/ctree.$2.${h%%:*}" || bad="$bad ${h%%:*}"; done
	DIFFERING=$bad
	[ -z "$bad" ]
}

chroot_hosts_test() {
	local inv=$WORK/inventory
	chroot_hosts_make || return 1
	cp "$WORK/chroots.ini" "$inv"
	chroot_trees 0
	play c-check setup.yml --check --diff
	if [ $PST -eq 0 ] && stats_is "hosts=3" && stats_is "changed=3" && stats_is "failed=0"; then
		ok "chroots: --check --diff over three hosts: changed=3 ($STATS)"
	else
		notok "chroots: --check --diff: exit $PST, $STATS: $(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/c-check.json" failmsg 2>&1 | head -3 | tr '\n' ' ') $(head -c 300 "$WORK/c-check.err")"
	fi
	chroot_trees 1
	if chroot_trees_same 0 1; then ok "chroots: --check changed no file on any host"; else notok "chroots: --check changed files on:$DIFFERING"; fi
	python3 "$SRCDIR/tests/ansible/report.py" "$WORK/c-check.json" diffs >"$WORK/c-diff.check"
	play c-first setup.yml --diff
	if [ $PST -eq 0 ] && stats_is "changed=3" && stats_is "failed=0"; then
		ok "chroots: first run: changed=3, a reboot due on each host with pcibind's reasons ($STATS)"
	else
		notok "chroots: first run: exit $PST, $STATS: $(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/c-first.json" failmsg 2>&1 | head -3 | tr '\n' ' ')"
	fi
	python3 "$SRCDIR/tests/ansible/report.py" "$WORK/c-first.json" diffs >"$WORK/c-diff.first"
	if [ -s "$WORK/c-diff.check" ] && cmp -s "$WORK/c-diff.check" "$WORK/c-diff.first" &&
		grep -q 'grub.d/pcibind.cfg' "$WORK/c-diff.first" && grep -q 'dracut.conf.d/pcibind.conf' "$WORK/c-diff.first" &&
		grep -q 'etc/kernel/cmdline' "$WORK/c-diff.first"; then
		ok "chroots: each host's diff is exactly the one --check --diff showed (GRUB drop-in, dracut.conf.d, /etc/kernel/cmdline)"
	else
		notok "chroots: the diffs differ or miss a boot file: $(diff <(tr ',' '\n' <"$WORK/c-diff.check") <(tr ',' '\n' <"$WORK/c-diff.first") | head -5 | tr '\n' ' ')"
	fi
	chroot_trees 2
	play c-second setup.yml
	CSECOND=$STATS
	chroot_trees 3
	if [ $PST -eq 0 ] && stats_is "changed=0" && stats_is "failed=0" && chroot_trees_same 2 3; then
		ok "chroots: second run: changed=0, no file changed on any host ($STATS)"
	else
		notok "chroots: second run: exit $PST, $STATS, files changed on:$DIFFERING"
	fi
	play c-absent absent.yml
	chroot_trees 4
	if [ $PST -eq 0 ] && stats_is "changed=3" && chroot_trees_same 0 4; then
		ok "chroots: state: absent: changed=3, every file of every host as before the first run"
	else
		local first=${DIFFERING# }
		first=${first%% *}
		notok "chroots: state: absent: exit $PST, $STATS, files not as before on:$DIFFERING: $(diff "$WORK/ctree.0.${first:-grub-initramfs}" "$WORK/ctree.4.${first:-grub-initramfs}" | grep '^[<>]' | cut -d' ' -f1-2 | head -8 | tr '\n' ' ')"
	fi
	echo "# $T: chroots: 3 hosts, second run: $CSECOND"
}

# Debian 13's own ansible (ansible-core 2.19 and the ansible package: its json callback is ansible.posix's)
# in a trixie chroot: the .deb installed by dpkg (the collection where ansible looks), and ansible-playbook -c local driving
# pcibind with --root on a fake host (tests/gen/debian12-grub-efi-intel) inside the chroot.
TRIXIE_PKGS=ansible,ansible-core,python3,python3-jsonschema,libinih1,libpci3,libudev1,libexpat1

# trixie_run CMD...: CMD in the trixie chroot, with a /proc of its own (a private mount namespace)
trixie_run() {
	local dir=$WORK/hosts/trixie
	unshare --mount --propagation private -- /bin/sh -c '
		mount --bind "$1" "$1" && mount -t proc proc "$1/proc" || exit 125
		d=$1; shift
		exec chroot "$d" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
			ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=json ANSIBLE_GALAXY_SERVER=http://127.0.0.1:9/ "$@"
	' sh "$dir" "$@"
}

# trixie_play NAME PLAYBOOK ARGS...: like play, inside the chroot; its output in $WORK/NAME.json
trixie_play() {
	local name=$1 pb=$2
	shift 2
	RUNS=$((RUNS + 1))
	trixie_run ansible-playbook -i /srv/inventory "/srv/$pb" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"
	PST=$?
	STATS=$(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/$name.json" stats 2>/dev/null) ||
		STATS="no report: $(grep -m 2 -E 'ERROR|Error' "$WORK/$name.err" | tr '\n' ' ')"
	local t=${STATS#*tasks=}
	[[ $STATS == *tasks=* ]] && TASKS=$((TASKS + ${t%% *}))
}

trixie_test() {
	local tar dir=$WORK/hosts/trixie deb v host=/srv/host m opts bad
	deb=$(ls "$WORK"/deb/pcibind_*.deb 2>/dev/null | head -n 1)
	[ -f "$deb" ] || { notok "trixie: no package built"; return 1; }
	tar=$(debroot_tar trixie "$TRIXIE_PKGS" minbase "${CHROOT_OPTS[@]}") ||
		{ notok "trixie: no Debian 13 userland with ansible-core (mmdebstrap, see ~/.cache/pcibind-tests/rootfs/*.log)"; return 1; }
	debroot_unpack "$tar" "$dir" || { notok "trixie: cannot unpack $tar"; return 1; }
	cp "$deb" "$dir/tmp/pcibind.deb"
	cp "$SRCDIR"/tests/ansible/*.yml "$dir/srv/"
	cp -a "$SRCDIR/tests/gen/debian12-grub-efi-intel/root" "$dir$host"
	awk '/^\[/ { keep = ($0 == "[pcibind]") } keep' "$SRCDIR/tests/gen/debian12-grub-efi-intel/root/etc/pcibind/pcibind.conf" >"$dir$host/etc/pcibind/pcibind.conf"
	mkdir -p "$dir$host/usr/lib/systemd/system"
	sed 's|@SBINDIR@|/usr/sbin|g' "$SRCDIR/systemd-units/pcibind.service.in" >"$dir$host/usr/lib/systemd/system/pcibind.service"
	printf 'host ansible_connection=local ansible_python_interpreter=/usr/bin/python3 pcibind_root=%s pcibind_gpu='"'"'["01:00"]'"'"'\n' "$host" >"$dir/srv/inventory"
	if ! trixie_run dpkg -i /tmp/pcibind.deb >"$WORK/trixie.dpkg.log" 2>&1; then
		notok "trixie: dpkg -i: $(tail -3 "$WORK/trixie.dpkg.log" | tr '\n' ' ')"
		return 1
	fi
	v=$(trixie_run ansible --version 2>/dev/null | sed -n '1s/.*core \([0-9.]*\).*/\1/p')
	if trixie_run ansible-doc -t module pcibind.pcibind.device_set pcibind.pcibind.runtime pcibind.pcibind.info 2>&1 | grep -c '^> ' | grep -qx 3; then
		ok "trixie: ansible-core $v finds the package's collection in /usr/share/ansible/collections: ansible-doc shows its three modules"
	else
		notok "trixie: ansible-core $v: ansible-doc: $(trixie_run ansible-doc -t module pcibind.pcibind.device_set 2>&1 | head -3 | tr '\n' ' ')"
	fi
	bad=""
	for m in device_set runtime info; do
		opts=$(doc_options "$m" trixie_run)
		[ "$opts" = "${OPTIONS[$m]}" ] || bad+="$m: ${opts:-none}, not ${OPTIONS[$m]}; "
	done
	if [ -z "$bad" ]; then
		ok "trixie: ansible-core $v: each module's options by name and type (the doc fragments' merged in), as ansible-core 2.14 shows them"
	else
		notok "trixie: ansible-core $v: ansible-doc -j options: $bad"
	fi
	(cd "$dir$host" && find . -type f -print0 | sort -z | xargs -0 md5sum) >"$WORK/trixie.0"
	trixie_play t-check setup.yml --check --diff
	(cd "$dir$host" && find . -type f -print0 | sort -z | xargs -0 md5sum) >"$WORK/trixie.1"
	if [ $PST -eq 0 ] && stats_is "changed=1" && cmp -s "$WORK/trixie.0" "$WORK/trixie.1"; then
		ok "trixie: ansible-core $v --check --diff: changed=1 reported, no file changed"
	else
		notok "trixie: --check --diff: exit $PST, $STATS: $(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/t-check.json" failmsg 2>&1 | head -3 | tr '\n' ' ')$(head -c 300 "$WORK/t-check.err")"
	fi
	trixie_play t-first setup.yml --diff
	if [ $PST -eq 0 ] && stats_is "changed=1" && stats_is "failed=0" && [ -f "$dir$host/etc/default/grub.d/pcibind.cfg" ]; then
		ok "trixie: first run: changed=1, the GRUB drop-in written ($STATS)"
	else
		notok "trixie: first run: exit $PST, $STATS: $(python3 "$SRCDIR/tests/ansible/report.py" "$WORK/t-first.json" failmsg 2>&1 | head -3 | tr '\n' ' ')"
	fi
	python3 "$SRCDIR/tests/ansible/report.py" "$WORK/t-check.json" diffs >"$WORK/t-diff.check" 2>&1
	python3 "$SRCDIR/tests/ansible/report.py" "$WORK/t-first.json" diffs >"$WORK/t-diff.first" 2>&1
	if grep -q 'grub.d/pcibind.cfg' "$WORK/t-diff.first" && cmp -s "$WORK/t-diff.check" "$WORK/t-diff.first"; then
		ok "trixie: the real run's diff is the one --check --diff showed"
	else
		notok "trixie: the diffs differ or miss the GRUB drop-in: $(head -c 200 "$WORK/t-diff.first")"
	fi
	trixie_play t-second setup.yml
	TSECOND=$STATS
	if [ $PST -eq 0 ] && stats_is "changed=0" && stats_is "failed=0"; then ok "trixie: second run: changed=0 ($STATS)"; else notok "trixie: second run: exit $PST, $STATS"; fi
	trixie_play t-absent absent.yml
	(cd "$dir$host" && find . -path ./run -prune -o -type f -print0 | sort -z | xargs -0 md5sum) >"$WORK/trixie.4"
	if [ $PST -eq 0 ] && stats_is "changed=1" && cmp -s "$WORK/trixie.0" "$WORK/trixie.4"; then
		ok "trixie: state: absent: changed=1, every file of the host as before"
	else
		notok "trixie: state: absent: exit $PST, $STATS, $(diff "$WORK/trixie.0" "$WORK/trixie.4" | grep '^[<>]' | head -4 | tr '\n' ' ')"
	fi
	echo "# $T: trixie: ansible-core $v, second run: $TSECOND"
}
