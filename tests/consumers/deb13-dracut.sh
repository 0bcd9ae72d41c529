# deb13-dracut.sh - Debian 13: dracut 106, systemd-boot entries by kernel-install (systemd 257), kernel 6.12, AMD (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# deb12-dracut's user on trixie, with its checks (dracut_flavor in deb12-dracut.sh): the ESP at
# /boot/efi with loader/entries and the entry token's directory, no /etc/kernel/cmdline, dracut
# with the same small configuration (no kernel-modules, not compressed). The kernel is deb13-grub's
# 6.12, which has no vfio_virqfd module. Unlike bookworm's, trixie's dracut kernel-install plugin
# builds the initramfs the entry boots host-only (--add-confdir hostonly): the generated modprobe.d
# file must be there either way.
#
# kernel-install 257 (C) accepts an ESP only where one is mounted (vfat, a mount point): in a chroot
# it falls back to /boot and layout "other", where no entry is written. A machine's firmware
# partition is not to be had here, so every consumer is told where it is, with systemd's own
# variable for that (SYSTEMD_ESP_PATH, what `bootctl --esp-path=` says): the rest of
# kernel-install, its plugins and dracut stay as they are.

flavor_deb13_dracut() {
	# shellcheck disable=SC2034 # P and IN_ROOT_ENV: read by dracut_flavor and in_root
	local P=deb13-dracut IN_ROOT_ENV=SYSTEMD_ESP_PATH=/boot/efi
	dracut_flavor deb13-grub no
}
