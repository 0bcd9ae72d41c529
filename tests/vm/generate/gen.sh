#!/bin/sh
# gen.sh - boot 1 as PID 1: pcibind generate --write on this guest's own root, the new initrd out through 9p
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
kver=$(uname -r)
echo "# vm: generate: guest kernel $kver"
if pcibind generate --write >/tmp/gen.out 2>&1; then
	echo "ok - vm: generate: pcibind generate --write exits 0 in the guest"
else
	echo "not ok - vm: generate: pcibind generate --write failed in the guest (status $?)"
fi
sed 's/^/#   /' /tmp/gen.out
if [ -x /usr/sbin/update-initramfs ]; then
	files="/etc/initramfs-tools/hooks/pcibind /etc/initramfs-tools/scripts/init-top/pcibind"
else
	files="/usr/lib/dracut/modules.d/90pcibind/module-setup.sh /usr/lib/dracut/modules.d/90pcibind/pcibind-early.sh /etc/dracut.conf.d/pcibind.conf"
fi
for f in $files /etc/modprobe.d/pcibind.conf /etc/modules-load.d/pcibind.conf; do
	if [ -f "$f" ]; then echo "ok - vm: generate: wrote $f"; else echo "not ok - vm: generate: no $f"; fi
done
# the kernel arguments generate wants, for boot 2 (no bootloader here to put them on its line)
args=$(pcibind -v generate 2>/dev/null | sed -n 's/^kernel command line ([^)]*): //p' | grep -v '^(nothing to add)$')
echo "# vm: generate: kernel arguments wanted: ${args:-none}"
modprobe virtio_pci; modprobe 9pnet_virtio && modprobe 9p && mkdir -p /out &&
	mount -t 9p -o trans=virtio,version=9p2000.L out /out &&
	cp "/boot/initrd.img-$kver" /out/initrd.img && echo "$args" >/out/args && sync
echo "# vm: generate: initrd $(wc -c <"/boot/initrd.img-$kver") bytes"
echo o >/proc/sysrq-trigger
sleep 30
