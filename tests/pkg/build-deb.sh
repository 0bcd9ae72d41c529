#!/bin/bash
# build-deb.sh - the Debian package from a clean copy of this tree (dpkg-buildpackage -us -uc -b)
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   tests/pkg/build-deb.sh OUTDIR [VERSION]
#
# Copies the tree's files (git's tracked and untracked-but-not-ignored ones,
# so never build/ and nothing a previous build left) to OUTDIR/pcibind-VERSION,
# installs the build dependencies debian/control names if dpkg-checkbuilddeps
# finds some missing (apt-get build-dep), and builds there. The .deb, .changes
# and .buildinfo land in OUTDIR. VERSION, if given, replaces the top version of
# debian/changelog in the copy (the package tier builds an older package to
# upgrade from). The last line printed is the path of the .deb.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build-deb.sh OUTDIR [VERSION]}
version=${2:-}
case "$(realpath -m "$out")" in
/ | "" | "$SRC") echo "build-deb: refusing OUTDIR '$out'" >&2; exit 1 ;;
esac
mkdir -p "$out"
out=$(realpath "$out")
[ -n "$version" ] || version=$(sed -n '1s/^pcibind [(]\([^ ]*\)[)] .*/\1/p' "$SRC/debian/changelog")
[ -n "$version" ] || { echo "build-deb: no version in $SRC/debian/changelog" >&2; exit 1; }
src=$out/pcibind-$version
rm -rf "$src"
rm -f "$out"/pcibind*_"$version"_*
mkdir -p "$src"

if [ "$(git -C "$SRC" rev-parse --show-toplevel 2>/dev/null)" = "$SRC" ]; then
	# what a fresh clone has, plus new files not yet committed (a file deleted but not yet committed is left out)
	(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	tar -C "$SRC" --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$src"
fi
sed -i "1s/^pcibind [(][^ ]*[)] /pcibind ($version) /" "$src/debian/changelog"

cd "$src"
if ! command -v dpkg-checkbuilddeps >/dev/null || ! dpkg-checkbuilddeps >/dev/null 2>&1; then
	echo "# installing the build dependencies: apt-get build-dep ./"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get build-dep -y -q ./ >/dev/null
fi

log=$out/build-$version.log
echo "# dpkg-buildpackage -us -uc -b in $src (log: $log)"
if ! dpkg-buildpackage -us -uc -b -Jauto >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "build-deb: dpkg-buildpackage failed (whole log: $log)" >&2
	exit 1
fi
deb=$out/pcibind_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
[ -f "$deb" ] || { echo "build-deb: dpkg-buildpackage made no $deb" >&2; exit 1; }
echo "$deb"
