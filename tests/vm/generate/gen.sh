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
for f in /etc/initramfs-tools/hooks/pcibind /etc/initramfs-tools/scripts/init-top/pcibind \
	/etc/modprobe.d/pcibind.conf /etc/modules-load.d/pcibind.conf; do
	if [ -f "$f" ]; then echo "ok - vm: generate: wrote $f"; else echo "not ok - vm: generate: no $f"; fi
done
modprobe virtio_pci; modprobe 9pnet_virtio && modprobe 9p && mkdir -p /out &&
	mount -t 9p -o trans=virtio,version=9p2000.L out /out &&
	cp "/boot/initrd.img-$kver" /out/initrd.img && sync
echo "# vm: generate: initrd $(wc -c <"/boot/initrd.img-$kver") bytes"
echo o >/proc/sysrq-trigger
sleep 30
