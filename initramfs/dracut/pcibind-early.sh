#!/bin/sh
# pcibind dracut hook (pre-udev): claim the boot=yes devices before udev loads their host drivers
if [ -x /usr/sbin/pcibind ]; then
	modprobe -q vfio_pci || :
	# apply: 0 nothing to do, 5 changed, anything else failed
	/usr/sbin/pcibind apply
	st=$?
	if [ "$st" -ne 0 ] && [ "$st" -ne 5 ]; then
		echo "pcibind: early claim failed (status $st); the devices stay with their host drivers" >&2
	fi
fi
