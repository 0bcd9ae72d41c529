# kernels.sh - the tier's newer kernels: Debian 13's and the newest of Debian's unstable suite
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
# (sourced by run.sh: the variables set here are its own)
#
# Sourced by tests/vm/run.sh (needs its CACHE, WORK, say).  apt on the build
# machine knows bookworm only, so a newer suite's kernel is found in that
# suite's package list, below the archive URI apt already uses (the URIs: line
# of apt's deb822 sources), and downloaded by its Filename: with curl, checked
# against the list's SHA256.  Packages are cached by name and version in
# $CACHE/debs (download to a temporary name, then rename); the packages a
# suite's kernel was made of last time are remembered in $CACHE/kernels/SUITE,
# so that a run without network boots the cached kernel, and a run with
# neither network nor cache fails that kernel loudly.
#
# Since Debian 14's packaging, linux-image-VERSION is a metapackage depending
# on linux-binary-VERSION (the image at usr/lib/modules/VERSION/vmlinuz),
# linux-modules-VERSION and linux-base-VERSION (config, modules.builtin);
# Debian 13's linux-image-VERSION holds all of it.

# The archive apt uses for Debian itself (not -security): first URIs: of
# debian.sources whose Suites: are not a -security suite, else a deb line of
# sources.list.
archive_uri() {
	local f=/etc/apt/sources.list.d/debian.sources u
	if [ -r "$f" ]; then
		u=$(awk 'BEGIN { RS = ""; FS = "\n" }
			{ uri = ""; sec = 0
			  for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
				if ($i ~ /^Suites:.*-security/) sec = 1
			  }
			  if (uri != "" && !sec) { print uri; exit } }' "$f")
	fi
	if [ -z "${u:-}" ] && [ -r /etc/apt/sources.list ]; then
		u=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
			/etc/apt/sources.list)
	fi
	echo "${u%/}"
}

# pkg_field PACKAGES-FILE PACKAGE FIELD: a field of one stanza of a Packages file
pkg_field() {
	awk -v p="Package: $2" -v f="$3" 'BEGIN { RS = ""; FS = "\n" }
		$1 == p { for (i = 2; i <= NF; i++) if (index($i, f ": ") == 1) { print substr($i, length(f) + 3); exit } }' "$1"
}

# suite_kernel_debs SUITE PACKAGES-FILE URI OUT: downloads the packages of the kernel that SUITE's
# linux-image-amd64 depends on; writes their cached paths to OUT, one a line
suite_kernel_debs() {
	local suite=$1 pk=$2 uri=$3 out=$4 img dep pkgs p ver fn sum deb tmp
	: >"$out" || return 1
	img=$(pkg_field "$pk" linux-image-amd64 Depends | tr ',' '\n' |
		sed -n 's/^ *\(linux-image-[0-9][^ ]*-amd64\).*/\1/p' | head -n 1)
	[ -n "$img" ] || { say "$suite: linux-image-amd64 names no kernel package"; return 1; }
	dep=$(pkg_field "$pk" "$img" Depends)
	pkgs=$img
	if grep -q "linux-binary-${img#linux-image-}" <<<"$dep"; then
		# linux-base-VERSION: config, System.map, modules.builtin and modules.order
		pkgs="linux-binary-${img#linux-image-} linux-modules-${img#linux-image-} linux-base-${img#linux-image-}"
	fi
	for p in $pkgs; do
		ver=$(pkg_field "$pk" "$p" Version) fn=$(pkg_field "$pk" "$p" Filename) sum=$(pkg_field "$pk" "$p" SHA256)
		[ -n "$ver" ] && [ -n "$fn" ] && [ -n "$sum" ] || { say "$suite: no complete stanza for $p"; return 1; }
		deb="$CACHE/debs/${p}_${ver//:/%3a}_amd64.deb"
		if [ ! -s "$deb" ]; then
			say "downloading $p $ver ($suite) into $CACHE/debs"
			tmp=$(mktemp "$CACHE/debs/.dl.XXXXXX") || return 1
			if ! curl -sSfL --retry 2 -o "$tmp" "$uri/$fn" 2>"$WORK/curl.log"; then
				say "$suite: download of $uri/$fn failed: $(tr '\n' ' ' <"$WORK/curl.log")"
				rm -f "$tmp"
				return 1
			fi
			if [ "$(sha256sum <"$tmp" | cut -d' ' -f1)" != "$sum" ]; then
				say "$suite: $fn does not have the SHA256 of $suite's package list"
				rm -f "$tmp"
				return 1
			fi
			chmod 0644 "$tmp" && mv "$tmp" "$deb" || return 1
		fi
		echo "$deb" >>"$out"
	done
}

# fetch_suite_kernel SUITE: sets KDEBS to the cached packages of SUITE's newest kernel
fetch_suite_kernel() {
	local suite=$1 uri list="$CACHE/kernels/$1" pk="$WORK/Packages-$1" debs d
	mkdir -p "$CACHE/debs" "$CACHE/kernels" || return 1
	uri=$(archive_uri)
	debs=
	if [ -z "$uri" ]; then
		say "$suite: apt's sources name no Debian archive"
	elif curl -sSfL --retry 2 -o "$pk.xz" "$uri/dists/$suite/main/binary-amd64/Packages.xz" 2>"$WORK/curl.log" &&
		xz -dc "$pk.xz" >"$pk"; then
		if suite_kernel_debs "$suite" "$pk" "$uri" "$list.tmp.$$"; then
			debs=$(cat "$list.tmp.$$")
			mv "$list.tmp.$$" "$list"
		fi
		rm -f "$list.tmp.$$"
	else
		say "$suite: cannot read the package list below $uri: $(tr '\n' ' ' <"$WORK/curl.log")"
	fi
	if [ -z "$debs" ] && [ -s "$list" ]; then
		debs=$(cat "$list")
		say "$suite: using the cached $(xargs -n1 basename <"$list" | tr '\n' ' ')"
	fi
	[ -n "$debs" ] || return 1
	for d in $debs; do
		[ -s "$d" ] || { say "$suite: cached $d is missing"; return 1; }
	done
	KDEBS=$debs
}

# unpack_debs ROOT DEB...: dpkg -x each into ROOT; sets KROOT, KVER, VMLINUZ; lib/modules is where
# depmod -b and modprobe -d look; the modules stay compressed here (kmod reads .ko.xz)
unpack_debs() {
	local root=$1 d
	shift
	if [ ! -e "$root/.unpacked" ]; then
		rm -rf "$root"
		mkdir -p "$root" || return 1
		for d in "$@"; do
			dpkg -x "$d" "$root" || return 1
		done
		[ -e "$root/lib/modules" ] || [ ! -d "$root/usr/lib/modules" ] || ln -s usr/lib "$root/lib"
		KVER=$(ls "$root/lib/modules" | head -n 1)
		depmod -b "$root" "$KVER" || return 1
		touch "$root/.unpacked"
	fi
	KROOT=$root
	KVER=$(ls "$root/lib/modules" | head -n 1)
	VMLINUZ="$root/boot/vmlinuz-$KVER"
	[ -f "$VMLINUZ" ] || VMLINUZ="$root/lib/modules/$KVER/vmlinuz"
	[ -f "$VMLINUZ" ]
}
