#!/bin/bash
# mkroots.sh - (re)build the input trees tests/gen/<case>/root from the descriptions below
# SPDX-License-Identifier: GPL-2.0-or-later
# The trees are committed; this script documents how they were made and rebuilds them.
# shellcheck disable=SC2016 # shell syntax in the trees is literal on purpose
set -eu
cd "$(dirname "$0")"

R=
w() { # w PATH TEXT...: a file below the case root
	mkdir -p "$R/$(dirname "$1")"
	printf '%s\n' "${@:2}" >"$R/$1"
}
tool() { for t; do w "$t" '#!/bin/sh' 'exit 0'; chmod 0755 "$R/$t"; done; }
os() { w etc/os-release "$@"; }
cpu() { # cpu intel|amd
	if [ "$1" = intel ]; then
		w proc/cpuinfo 'processor	: 0' 'vendor_id	: GenuineIntel' 'flags		: fpu vme de pse msr vmx ept'
	else
		w proc/cpuinfo 'processor	: 0' 'vendor_id	: AuthenticAMD' 'flags		: fpu vme de pse msr svm npt'
	fi
}
kernel() { # kernel VER [builtin] [defaulton]
	mkdir -p "$R/lib/modules/$1/kernel/drivers/vfio/pci"
	if [ "${2:-}" = builtin ]; then
		w "lib/modules/$1/modules.builtin" kernel/drivers/vfio/vfio.ko kernel/drivers/vfio/pci/vfio-pci.ko
	else
		w "lib/modules/$1/modules.builtin" kernel/drivers/pci/pcieport.ko
		: >"$R/lib/modules/$1/kernel/drivers/vfio/pci/vfio-pci.ko"
	fi
	if [ "${3:-}" = defaulton ]; then
		w "boot/config-$1" '# CONFIG' 'CONFIG_INTEL_IOMMU=y' 'CONFIG_INTEL_IOMMU_DEFAULT_ON=y' 'CONFIG_X=y'
	else
		w "boot/config-$1" '# CONFIG' 'CONFIG_INTEL_IOMMU=y' '# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set'
	fi
}
running() { # running VER CMDLINE
	w proc/sys/kernel/osrelease "$1"
	w proc/cmdline "$2"
}
iommu() { # iommu intel|amd ir|noir
	local u=dmar0
	[ "$1" = amd ] && u=ivhd0
	mkdir -p "$R/sys/class/iommu/$u" "$R/sys/kernel/iommu_groups/0" "$R/sys/kernel/iommu_groups/1"
	[ "$1" = intel ] && w "sys/class/iommu/$u/intel-iommu/ecap" 'f050da'
	if [ "$2" = ir ]; then
		w proc/interrupts '           CPU0' '  0:         10   IO-APIC    2-edge      timer' \
			' 24:         99  IR-PCI-MSI 327680-edge      xhci_hcd'
	else
		w proc/interrupts '           CPU0' '  0:         10   IO-APIC    2-edge      timer' \
			' 24:         99  PCI-MSI 327680-edge      xhci_hcd'
	fi
}
efi() { mkdir -p "$R/sys/firmware/efi/efivars"; }
driver() { # driver NAME [MODULE]: a PCI driver directory, with its module link unless built in
	mkdir -p "$R/sys/bus/pci/drivers/$1"
	if [ -n "${2:-}" ]; then
		mkdir -p "$R/sys/module/$2"
		ln -sfn "../../../../module/$2" "$R/sys/bus/pci/drivers/$1/module"
	fi
}
fn() { # fn ADDR VENDOR DEVICE CLASS GROUP [DRIVER]
	local d="$R/sys/bus/pci/devices/$1"
	mkdir -p "$d"
	printf '0x%s\n' "$2" >"$d/vendor"
	printf '0x%s\n' "$3" >"$d/device"
	printf '0x%s\n' "$4" >"$d/class"
	printf '(null)\n' >"$d/driver_override"
	mkdir -p "$R/sys/kernel/iommu_groups/$5/devices"
	ln -sfn "../../../kernel/iommu_groups/$5" "$d/iommu_group"
	if [ -n "${6:-}" ]; then
		ln -sfn "../../../bus/pci/drivers/$6" "$d/driver"
	fi
}
conf() { mkdir -p "$R/etc/pcibind"; printf '%s\n' "$@" >"$R/etc/pcibind/pcibind.conf"; chmod 0644 "$R/etc/pcibind/pcibind.conf"; }

newcase() { R=$1/root; rm -rf "$R"; mkdir -p "$R"; }

# ---- Debian 12, GRUB, EFI, Intel, vfio-pci as module, kernel 6.1 (vfio_virqfd) ----
newcase debian12-grub-efi-intel
os 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'NAME="Debian GNU/Linux"' 'VERSION_ID="12"' 'ID=debian'
w etc/default/grub 'GRUB_DEFAULT=0' 'GRUB_TIMEOUT=5' 'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`' \
	'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"' 'GRUB_CMDLINE_LINUX=""'
mkdir -p "$R/etc/default/grub.d" "$R/etc/initramfs-tools/hooks"
w etc/initramfs-tools/initramfs.conf 'MODULES=most'
tool usr/sbin/update-grub usr/sbin/update-initramfs
cpu intel; efi; iommu intel ir
kernel 6.1.0-13-amd64
running 6.1.0-13-amd64 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=UUID=1234 ro quiet splash'
driver amdgpu amdgpu; driver snd_hda_intel snd_hda_intel; driver vfio-pci vfio_pci
fn 0000:01:00.0 1002 73bf 030000 14 amdgpu
fn 0000:01:00.1 1002 ab28 040300 14 snd_hda_intel
fn 0000:02:00.0 1002 73bf 030000 15 amdgpu
conf '[pcibind]' 'iommu_pt = yes' '' '[gpu]' 'address = 0000:01:00' 'ids = 1002:73bf, 1002:ab28' 'boot = yes'

# ---- Debian 12, GRUB, legacy BIOS, AMD, two kernels 6.1 and 6.5, unbound NVIDIA, ids set, opt-ins ----
newcase debian12-grub-legacy-amd
os 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'ID=debian' 'VERSION_ID="12"'
w etc/default/grub 'GRUB_DEFAULT=0' 'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"' 'GRUB_CMDLINE_LINUX="console=ttyS0"'
mkdir -p "$R/etc/default/grub.d"
tool usr/sbin/update-grub usr/sbin/update-initramfs
cpu amd; iommu amd ir
kernel 6.1.0-13-amd64; kernel 6.5.0-0.deb12.4-amd64
running 6.1.0-13-amd64 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/sda1 ro quiet iommu=pt'
driver nouveau nouveau; driver e1000e e1000e; driver vfio-pci vfio_pci
fn 0000:0a:00.0 10de 2204 030000 20
fn 0000:0a:00.1 10de 1aef 040300 20
fn 0000:0b:00.0 8086 10d3 020000 21 e1000e
conf '[pcibind]' 'iommu_pt = yes' 'kvm_ignore_msrs = yes' 'blacklist = nouveau' '' \
	'[gpu]' 'address = 0a:00' 'boot = yes' '' '[nics]' 'ids = 8086:10d3' 'boot = yes' '' '[spare]' 'address = 0000:0c:00.0'

# ---- Proxmox VE 8, proxmox-boot-tool with systemd-boot (EFI), AMD, kernel 6.5, no interrupt remapping ----
newcase proxmox8-sdboot-amd
os 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'ID=debian' 'VERSION_ID="12"'
w etc/kernel/proxmox-boot-uuids '4A5B-1C2D'
w etc/kernel/cmdline 'root=ZFS=rpool/ROOT/pve-1 boot=zfs'
w etc/default/grub 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"'
tool usr/sbin/proxmox-boot-tool usr/sbin/update-initramfs usr/sbin/update-grub usr/bin/pveversion
cpu amd; efi; iommu amd noir
kernel 6.5.11-4-pve
running 6.5.11-4-pve 'initrd=\EFI\proxmox\6.5.11-4-pve\initrd.img-6.5.11-4-pve root=ZFS=rpool/ROOT/pve-1 boot=zfs'
driver nvidia nvidia; driver snd_hda_intel snd_hda_intel; driver xhci_hcd xhci_pci; driver vfio-pci vfio_pci
fn 0000:41:00.0 10de 2204 030000 30 nvidia
fn 0000:41:00.1 10de 1aef 040300 30 snd_hda_intel
fn 0000:42:00.0 1022 149c 0c0330 31 xhci_hcd
conf '[pcibind]' 'iommu_pt = yes' 'allow_unsafe_interrupts = yes' '' \
	'[gpu]' 'address = 41:00' 'boot = yes' '' '[usb]' 'address = 0000:42:00.0' 'boot = yes'

# ---- Ubuntu 24.04, GRUB, Intel, vfio-pci built in, IOMMU on by default, cloud-image drop-in ----
newcase ubuntu-grub-intel-builtin
os 'PRETTY_NAME="Ubuntu 24.04 LTS"' 'ID=ubuntu' 'ID_LIKE=debian' 'VERSION_ID="24.04"'
w etc/default/grub 'GRUB_DEFAULT=0' 'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"' 'GRUB_CMDLINE_LINUX=""'
w etc/default/grub.d/50-cloudimg-settings.cfg 'GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"'
tool usr/sbin/update-grub usr/sbin/update-initramfs
cpu intel; efi; iommu intel ir
kernel 6.8.0-31-generic builtin defaulton
running 6.8.0-31-generic 'BOOT_IMAGE=/vmlinuz-6.8.0-31-generic root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0'
driver i915 i915; driver vfio-pci
fn 0000:00:02.0 8086 a780 030000 0 i915
conf '[igpu]' 'ids = 8086:a780' 'boot = yes'

# ---- Fedora 41, grubby (BLS) and dracut, Intel, kernel 6.11 ----
newcase fedora-grubby-dracut-intel
os 'NAME="Fedora Linux"' 'VERSION_ID=41' 'ID=fedora' 'PRETTY_NAME="Fedora Linux 41 (Workstation Edition)"'
w etc/default/grub 'GRUB_TIMEOUT=5' 'GRUB_CMDLINE_LINUX="rhgb quiet"' 'GRUB_ENABLE_BLSCFG=true'
w boot/loader/entries/0123abcd-6.11.4-301.fc41.x86_64.conf 'title Fedora Linux (6.11.4-301.fc41.x86_64) 41' \
	'version 6.11.4-301.fc41.x86_64' 'linux /vmlinuz-6.11.4-301.fc41.x86_64' \
	'options root=UUID=abcd ro rootflags=subvol=root rhgb quiet'
mkdir -p "$R/boot/grub2" "$R/etc/dracut.conf.d"
tool usr/sbin/grubby usr/bin/dracut usr/sbin/grub2-mkconfig
cpu intel; efi; iommu intel ir
kernel 6.11.4-301.fc41.x86_64
running 6.11.4-301.fc41.x86_64 'BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.11.4-301.fc41.x86_64 root=UUID=abcd ro rootflags=subvol=root rhgb quiet'
driver nouveau nouveau; driver snd_hda_intel snd_hda_intel; driver vfio-pci vfio_pci
fn 0000:01:00.0 10de 2204 030000 12 nouveau
fn 0000:01:00.1 10de 1aef 040300 12 snd_hda_intel
conf '[gpu]' 'address = 01:00' 'boot = yes'

# ---- Pop!_OS 22.04, kernelstub (systemd-boot), AMD, kernel 6.9 ----
newcase popos-kernelstub-amd
os 'NAME="Pop!_OS"' 'VERSION_ID="22.04"' 'ID=pop' 'ID_LIKE="ubuntu debian"' 'PRETTY_NAME="Pop!_OS 22.04 LTS"'
w etc/kernelstub/configuration '{' '  "default": {' '    "kernel_options": [' '      "quiet",' '      "splash"' '    ],' \
	'    "esp_path": "/boot/efi",' '    "setup_loader": false,' '    "manage_mode": false,' '    "force_update": false,' \
	'    "live_mode": false,' '    "config_rev": 3' '  },' '  "user": {' '    "kernel_options": [' '      "quiet",' \
	'      "loglevel=0",' '      "systemd.show_status=false",' '      "splash"' '    ],' '    "esp_path": "/boot/efi",' \
	'    "setup_loader": true,' '    "manage_mode": true,' '    "force_update": false,' '    "live_mode": false,' \
	'    "config_rev": 3' '  }' '}'
tool usr/bin/kernelstub usr/sbin/update-initramfs
cpu amd; efi; iommu amd ir
kernel 6.9.3-76060903-generic
running 6.9.3-76060903-generic 'initrd=\EFI\Pop_OS-1234\initrd.img root=UUID=1234 ro quiet loglevel=0 systemd.show_status=false splash'
driver amdgpu amdgpu; driver snd_hda_intel snd_hda_intel; driver vfio-pci vfio_pci
fn 0000:03:00.0 1002 744c 030000 17 amdgpu
fn 0000:03:00.1 1002 ab30 040300 17 snd_hda_intel
conf '[pcibind]' 'iommu_pt = yes' '' '[gpu]' 'address = 03:00' 'boot = yes'

# ---- Arch, GRUB without drop-ins (in-place edit), mkinitcpio, Intel, kernel 6.10 ----
newcase arch-mkinitcpio-intel
os 'NAME="Arch Linux"' 'PRETTY_NAME="Arch Linux"' 'ID=arch' 'BUILD_ID=rolling'
w etc/default/grub '# GRUB boot loader configuration' 'GRUB_DEFAULT=0' 'GRUB_TIMEOUT=5' \
	'GRUB_CMDLINE_LINUX_DEFAULT="loglevel=3 quiet intel_iommu=off"' 'GRUB_CMDLINE_LINUX=""' '#GRUB_DISABLE_OS_PROBER=false'
w etc/mkinitcpio.conf 'MODULES=()' 'HOOKS=(base udev autodetect modconf block filesystems fsck)'
tool usr/bin/mkinitcpio usr/bin/grub-mkconfig
cpu intel; efi; iommu intel ir
kernel 6.10.10-arch1-1
running 6.10.10-arch1-1 'BOOT_IMAGE=/vmlinuz-linux root=UUID=1234 rw loglevel=3 quiet intel_iommu=off'
driver xhci_hcd xhci_pci; driver nvme nvme; driver vfio-pci vfio_pci
fn 0000:05:00.0 1b21 2142 0c0330 40 xhci_hcd
fn 0000:06:00.0 144d a808 010802 41
conf '[usb]' 'address = 05:00.0' 'boot = yes' '' '[nvme]' 'address = 06:00.0' 'driver = vfio-pci' 'boot = yes'

# ---- Arch, systemd-boot through kernel-install (/etc/kernel/cmdline), mkinitcpio, AMD, kernel 6.11 ----
newcase arch-kernel-install-amd
os 'NAME="Arch Linux"' 'PRETTY_NAME="Arch Linux"' 'ID=arch'
w etc/kernel/cmdline 'root=UUID=5678 rw quiet'
w etc/mkinitcpio.conf 'MODULES=()' 'HOOKS=(base systemd autodetect modconf block filesystems)'
tool usr/bin/mkinitcpio usr/bin/kernel-install
cpu amd; efi; iommu amd ir
kernel 6.11.5-arch1-1
: >"$R/lib/modules/6.11.5-arch1-1/vmlinuz"
running 6.11.5-arch1-1 'initrd=\initramfs-linux.img root=UUID=5678 rw quiet'
driver amdgpu amdgpu; driver snd_hda_intel snd_hda_intel; driver vfio-pci vfio_pci
fn 0000:0c:00.0 1002 73ff 030000 22 amdgpu
fn 0000:0c:00.1 1002 ab28 040300 22 snd_hda_intel
conf '[pcibind]' 'iommu_pt = yes' '' '[gpu]' 'address = 0c:00' 'ids = 1002:73ff,1002:ab28' 'boot = yes'

# ---- Arch, plain systemd-boot without /etc/kernel/cmdline: kernel-install takes the running
# command line; pcibind writes the file from it (with its arguments), Intel ----
newcase arch-sdboot-nocmdline-intel
os 'NAME="Arch Linux"' 'PRETTY_NAME="Arch Linux"' 'ID=arch'
w etc/mkinitcpio.conf 'MODULES=()' 'HOOKS=(base systemd autodetect modconf block filesystems)'
mkdir -p "$R/boot/loader/entries"
tool usr/bin/mkinitcpio usr/bin/kernel-install
cpu intel; efi; iommu intel ir
kernel 6.11.5-arch1-1
: >"$R/lib/modules/6.11.5-arch1-1/vmlinuz"
running 6.11.5-arch1-1 'initrd=\initramfs-linux.img root=UUID=9abc rw quiet'
driver nvidia nvidia; driver snd_hda_intel snd_hda_intel; driver vfio-pci vfio_pci
fn 0000:01:00.0 10de 2204 030000 12 nvidia
fn 0000:01:00.1 10de 1aef 040300 12 snd_hda_intel
conf '[gpu]' 'address = 01:00' 'boot = yes'

# ---- injection attempt: a value with $( ) in the INI file ----
newcase inject-cmdline
os 'ID=debian' 'VERSION_ID="12"'
w etc/default/grub 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"'
tool usr/sbin/update-grub usr/sbin/update-initramfs
cpu intel; iommu intel ir
kernel 6.1.0-13-amd64
conf '[gpu]' 'address = 01:00' 'driver = vfio-pci$(reboot)' 'boot = yes'

newcase inject-newline
os 'ID=debian' 'VERSION_ID="12"'
tool usr/sbin/update-grub
cpu intel
conf '[pcibind]' 'blacklist = nouveau`id`' '' '[gpu]' 'address = 01:00'

newcase inject-quote
os 'ID=debian'
tool usr/sbin/update-grub
conf '[gpu]' 'address = 01:00' 'ids = 10de:2204"' 'boot = yes'

# git keeps no empty directories: mark each one
find . -path './*/root/*' -type d -empty -exec touch {}/.keep \;
