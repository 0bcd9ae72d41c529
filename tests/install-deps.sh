#!/bin/bash
# install-deps.sh - install what building and testing pcibind needs (Debian/Ubuntu)
# SPDX-License-Identifier: GPL-2.0-or-later
set -e
pkgs="build-essential pkg-config libpci-dev libudev-dev libinih-dev libexpat1-dev pciutils
      libfuse3-dev fuse3 qemu-system-x86 busybox-static cpio kmod socat python3
      groff man-db systemd clang clang-format libclang-rt-14-dev valgrind procps
      debhelper lintian piuparts mmdebstrap curl xz-utils qemu-utils e2fsprogs fdisk
      ansible-core ansible python3-jsonschema python3-voluptuous yamllint python3-pycodestyle pylint"
# --list: print the package names (.ci/run installs exactly these)
if [ "$1" = "--list" ]; then
	echo $pkgs
	exit 0
fi
missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "# installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
