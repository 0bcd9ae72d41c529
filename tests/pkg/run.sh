#!/bin/bash
# run.sh - the package tier: build the .deb, lintian, then install, upgrade, remove and purge it in Debian 12 and 13
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   tests/pkg/run.sh      one "ok - pkg: ..." / "not ok - pkg: ..." line per check
#
# 1. tests/pkg/build-deb.sh builds the package twice from clean copies of this
#    tree: the previous build (version V~prev) and this one (V, from
#    debian/changelog).
# 2. The package itself: lintian (no error or warning; an info tag only with
#    an override that gives its reason), Depends exactly the packages of the
#    libraries the binary links, every file it must carry, the conffile,
#    maintainer scripts that never start or restart the unit, the initramfs
#    trigger.
# 3. For each suite (bookworm with initramfs-tools, trixie with dracut; a
#    minbase with systemd and udev from tests/lib/debroot.sh, apt's lists
#    kept): piuparts (install and purge, upgrade from the previous build
#    through a local repository, reinstall after remove), then a scenario in
#    the chroot (scenario.sh): apt-get install ./ of the previous build,
#    versions, the unit enabled, a configured set, the upgrade keeping it,
#    systemd-analyze verify, udevadm, the rule's RUN and the unit's ExecStart
#    run as installed against a fake sysfs, the initramfs after each step,
#    remove, purge, and the file list and /etc compared with the system
#    before the install.
#
# Chroots get their own /proc and a new devpts only, in a private mount
# namespace; their /sys is a plain directory with a fake PCI topology. Nothing
# of this machine's /sys, /dev, /boot or /etc is mounted or written.
#
# Environment: PCIBIND_PKG_SUITES (default "bookworm trixie"), PCIBIND_CACHE
# (debroot's tarballs, and in pkg-archives/ the .debs apt downloads into the chroots).
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/debroot.sh
. "$SRC/tests/lib/debroot.sh"
WORK=$SRC/build/pkg
SUITES=${PCIBIND_PKG_SUITES:-bookworm trixie}
CACHE=${PCIBIND_CACHE:-$HOME/.cache/pcibind-tests}
FAIL=0

ok() { echo "ok - pkg: $*"; }
nok() {
	echo "not ok - pkg: $*"
	FAIL=1
}
say() { echo "# pkg: $*"; }
# check WHAT COMMAND...: ok when COMMAND succeeds; else its output, abridged
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$what"; else nok "$what: $(printf '%s' "$out" | tail -n 6 | tr '\n' '|')"; fi
}

for t in dpkg-buildpackage lintian piuparts dpkg-scanpackages mmdebstrap unshare; do
	command -v "$t" >/dev/null || {
		nok "setup: $t is missing (tests/install-deps.sh installs it)"
		exit 1
	}
done
mkdir -p "$WORK"

# ---- 1. build ----
V=$(sed -n '1s/^pcibind [(]\([^ ]*\)[)] .*/\1/p' "$SRC/debian/changelog")
PREV=$V~prev
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
DEB=$WORK/cur/pcibind_${V}_$ARCH.deb
PREV_DEB=$WORK/prev/pcibind_${PREV}_$ARCH.deb
start=$SECONDS
if "$HERE/build-deb.sh" "$WORK/cur" >"$WORK/build-cur.out" 2>&1 && [ -f "$DEB" ]; then
	ok "dpkg-buildpackage -us -uc -b on a clean copy of the tree: $(basename "$DEB") ($((SECONDS - start)) s)"
else
	nok "dpkg-buildpackage of $V: $(tail -n 8 "$WORK/build-cur.out" | tr '\n' '|')"
	exit 1
fi
if "$HERE/build-deb.sh" "$WORK/prev" "$PREV" >"$WORK/build-prev.out" 2>&1 && [ -f "$PREV_DEB" ]; then
	ok "the previous build to upgrade from: $(basename "$PREV_DEB")"
else
	nok "dpkg-buildpackage of $PREV: $(tail -n 8 "$WORK/build-prev.out" | tr '\n' '|')"
	exit 1
fi

# ---- 2. the package itself ----
lintian --fail-on error,warning -I "$WORK/cur/pcibind_${V}_$ARCH.changes" >"$WORK/lintian.log" 2>&1
st=$?
out=$(cat "$WORK/lintian.log")
if [ "$st" -eq 0 ] && ! grep -q '^[EWIX]: ' <<<"$out"; then
	ok "lintian: no error, warning or info tag left (lintian $(lintian --version | awk '{print $2}'))"
else
	nok "lintian (status $st): $(printf '%s\n' "$out" | grep '^[EWIX]: ' | head -n 8 | tr '\n' '|')"
fi
check "every lintian override says why (a comment above it)" awk '
	/^#/ { why = 1; next }
	/^[[:space:]]*$/ { why = 0; next }
	!why { print FILENAME ": no reason above: " $0; bad = 1 }
	END { exit bad }' "$SRC"/debian/*lintian-overrides

# Depends: what dpkg-shlibdeps found, nothing by hand
depends=$(dpkg-deb -f "$DEB" Depends)
want=$(tmp=$(mktemp -d) && dpkg-deb -x "$DEB" "$tmp" &&
	for lib in $(readelf -d "$tmp/usr/sbin/pcibind" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		dpkg -S "*/$lib" 2>/dev/null | sed -n '1s/:.*//p'
	done | sort -u | paste -sd' ' -; rm -rf "$tmp")
got=$(printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' | sort -u | paste -sd' ' -)
if [ -n "$want" ] && [ "$want" = "$got" ] &&
	grep -Eq '^Depends: \$\{misc:Depends\},$' "$SRC/debian/control" &&
	grep -Eqx '[[:space:]]+\$\{shlibs:Depends\},?' <<<"$(sed -n '/^Depends:/,/^[A-Z]/p' "$SRC/debian/control" | sed '1d;$d')"; then
	ok "Depends are dpkg-shlibdeps' only, one per linked library: $depends"
else
	nok "Depends '$depends' (packages: $got) against the linked libraries' packages ($want), or debian/control has a hand-written dependency"
fi

files=$(dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|')
missing=""
for f in /usr/sbin/pcibind '*/udev/rules.d/60-pcibind.rules' '*/systemd/system/pcibind.service' \
	/usr/share/man/man8/pcibind.8.gz /usr/share/man/man5/pcibind.conf.5.gz \
	/usr/share/bash-completion/completions/pcibind \
	/usr/share/pcibind/hooks/proxmox-hookscript /usr/share/pcibind/hooks/libvirt-qemu \
	/usr/share/initramfs-tools/hooks/pcibind /usr/share/initramfs-tools/scripts/init-top/pcibind \
	/usr/lib/dracut/modules.d/90pcibind/module-setup.sh /usr/lib/dracut/modules.d/90pcibind/pcibind-early.sh \
	/etc/pcibind/pcibind.conf /etc/pcibind/conf.d/ /usr/share/doc/pcibind/examples/pcibind.conf; do
	found=0
	while read -r p; do
		# shellcheck disable=SC2053 # $f is a pattern
		[[ $p == $f ]] && found=1 && break
	done <<<"$files"
	[ $found -eq 1 ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "carries the binary, rule, unit, man pages, completion, hooks, initramfs-tools and dracut integration, configuration"
else nok "files missing from the package:$missing"; fi

ctl=$(mktemp -d)
dpkg-deb -e "$DEB" "$ctl"
check "the one conffile is /etc/pcibind/pcibind.conf" test "$(cat "$ctl/conffiles")" = /etc/pcibind/pcibind.conf
check "the unit is enabled by postinst and never started, stopped or restarted by a maintainer script" \
	sh -c "grep -q \"deb-systemd-helper enable 'pcibind.service'\" '$ctl/postinst' &&
		! grep -hE 'deb-systemd-invoke|systemctl .*(start|restart|stop|try-restart)|invoke-rc.d' '$ctl'/p*"
check "the initramfs trigger is activated by postinst on configure only (no DEBIAN/triggers activation, which fires at removal too)" \
	sh -c "grep -q 'dpkg-trigger --no-await update-initramfs' '$ctl/postinst' && ! grep -qs '^activate' '$ctl/triggers'"
rm -rf "$ctl"

# ---- 3. the suites ----
# one suite: piuparts, then the scenario; its lines go to stdout
suite_run() {
	local suite=$1 tool tar R log repo start=$SECONDS
	case $suite in
	bookworm) tool=initramfs-tools ;;
	trixie) tool=dracut ;;
	*) nok "$suite: no initramfs tool chosen for this suite"; return 1 ;;
	esac
	# apt's package lists stay in the tarball: apt-get install ./pcibind_*.deb resolves against them
	tar=$(debroot_tar "$suite" "systemd,systemd-sysv,udev,$tool" minbase --skip=cleanup/apt/lists) || {
		nok "$suite: no Debian userland (tests/lib/debroot.sh says why above)"
		return 1
	}
	R=$WORK/$suite/root
	debroot_unpack "$tar" "$R" || {
		nok "$suite: cannot unpack $tar"
		return 1
	}

	# piuparts on the pristine base: the previous build comes from a local repository it can upgrade
	# from, one per suite (piuparts kills what holds a file below its chroot open, bind mounts included)
	# (debconf in Debian 13 leaves an empty tmp.ci after installing any package)
	repo=$WORK/$suite/repo
	rm -rf "$repo" && mkdir -p "$repo" && cp "$PREV_DEB" "$repo/" &&
		(cd "$repo" && dpkg-scanpackages --multiversion . >Packages 2>/dev/null) || {
		nok "$suite: cannot make the local repository $repo"
		return 1
	}
	echo "deb [trusted=yes] file://$repo ./" >"$R/etc/apt/sources.list.d/pcibind-prev.list"
	log=$WORK/$suite/piuparts.log
	rm -f "$log"
	if piuparts -e "$R" -d "$suite" --keep-sources-list --update-retries=3 --bindmount "$repo" --install-remove-install \
		-i /var/cache/debconf/tmp.ci/ -t "$WORK/$suite" -l "$log" "$DEB" >/dev/null 2>&1 &&
		grep -q 'PASS: Installation and purging test' "$log" &&
		grep -q 'PASS: Installation, upgrade and purging tests' "$log" && grep -q 'PASS: All tests' "$log"; then
		ok "$suite: piuparts: install and purge, reinstall after remove, upgrade from $PREV: nothing left, nothing broken"
	else
		nok "$suite: piuparts: $(grep -E 'FAIL|ERROR' "$log" 2>/dev/null | grep -v 'WARN: Broken symlinks' | head -n 5 | cut -c1-200 | tr '\n' '|') (log: $log)"
	fi
	rm -f "$R/etc/apt/sources.list.d/pcibind-prev.list"

	mkdir -p "$CACHE/pkg-archives/$suite/partial"
	bash "$HERE/scenario.sh" "$R" "$suite" "$tool" "$PREV_DEB" "$DEB" "$CACHE/pkg-archives/$suite"
	say "$suite: $((SECONDS - start)) s"
}

# the suites side by side (mostly waiting on dpkg, apt and the initramfs tools), their lines in order
for suite in $SUITES; do
	mkdir -p "$WORK/$suite"
	suite_run "$suite" >"$WORK/$suite.out" 2>&1 &
done
wait
for suite in $SUITES; do
	cat "$WORK/$suite.out"
	grep -q '^not ok - ' "$WORK/$suite.out" && FAIL=1
done
exit $FAIL
