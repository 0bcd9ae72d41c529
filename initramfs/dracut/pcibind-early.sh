#!/bin/sh
# pcibind dracut hook (pre-udev): claim the boot=yes devices before udev loads their host drivers
if [ -x /usr/sbin/pcibind ]; then
	modprobe -q vfio_pci || :
	/usr/sbin/pcibind apply || echo "pcibind: early claim failed; the devices stay with their host drivers" >&2
fi
