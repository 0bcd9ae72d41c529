# roots.sh - the Debian userlands of the consumer tier, built by tests/lib/debroot.sh (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034 # read by run.sh and prefetch.sh
#
# root_tar NAME: the cached tarball of root NAME (built when missing; its messages on stderr)
# Each root: a suite, the packages on top of minbase (pcibind's runtime libraries among them) and
# mmdebstrap options. MODULES=list is the initramfs-tools setting of these "users": the kernel's
# postinst and every update-initramfs of the tier take seconds instead of a minute and a half
# (MODULES=most), and pcibind's hook adds what it needs either way. No documentation or man pages.

CONSUMER_RUNTIME=libinih1,libpci3,libudev1,libexpat1
CONSUMER_GRUB=systemd,udev,kmod,initramfs-tools,busybox,zstd,grub2-common,grub-pc-bin,linux-image-amd64,$CONSUMER_RUNTIME
# no kernel package: the tier copies the one of deb12-grub (dracut would build an initramfs of every driver at install)
CONSUMER_DRACUT=systemd,udev,kmod,dracut,zstd,$CONSUMER_RUNTIME
CONSUMER_OPTS=(
	'--setup-hook=mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=list >"$1/etc/initramfs-tools/conf.d/modules.conf"'
	'--dpkgopt=path-exclude=/usr/share/doc/*' '--dpkgopt=path-exclude=/usr/share/man/*'
	'--dpkgopt=path-exclude=/usr/share/info/*'
)
CONSUMER_ROOTS="deb12-grub deb12-dracut deb13-grub deb13-dracut"

root_tar() {
	case $1 in
	deb12-grub) debroot_tar bookworm "$CONSUMER_GRUB" minbase "${CONSUMER_OPTS[@]}" ;;
	deb12-dracut) debroot_tar bookworm "$CONSUMER_DRACUT" minbase "${CONSUMER_OPTS[@]}" ;;
	deb13-grub) debroot_tar trixie "$CONSUMER_GRUB" minbase "${CONSUMER_OPTS[@]}" ;;
	deb13-dracut) debroot_tar trixie "$CONSUMER_DRACUT" minbase "${CONSUMER_OPTS[@]}" ;;
	fresh) debroot_tar bookworm "" minbase ;;
	*) echo "roots.sh: no root $1" >&2; return 1 ;;
	esac
}
