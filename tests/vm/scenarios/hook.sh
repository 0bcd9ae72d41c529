# hook.sh - a Proxmox hookscript round trip on the real kernel: the GPU and its audio to vfio-pci at pre-start,
# back on bochs-drm and snd_hda_intel at post-stop with fbcon on the console again (release_console)
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
VGA=0000:01:00.0
AUD=0000:01:00.1
G=$(grp $VGA)

mkdir -p /etc/pve/qemu-server /etc/pcibind
echo pve1 >/etc/hostname
printf 'boot: order=scsi0\nhostpci0: 01:00,pcie=1,x-vga=1\nmachine: q35\nname: gpu-vm\n[snap]\nhostpci1: 02:00.0\n' >/etc/pve/qemu-server/100.conf
printf '[gpu]\naddress = 0000:01:00\nrelease_console = yes\n' >/etc/pcibind/pcibind.conf
chmod 0644 /etc/pcibind/pcibind.conf

fbcon_vtcon() {
	local v
	for v in /sys/class/vtconsole/vtcon*; do
		grep -q "frame buffer" "$v/name" 2>/dev/null && cat "$v/bind"
	done
}
expect "before: fbcon is bound to a vtconsole" "$(fbcon_vtcon)" 1
expect "before: the framebuffer is bochs-drm's" "$(cat /sys/class/graphics/fb0/name 2>/dev/null)" bochs-drmdrmfb

dmesg_mark
pcb hook proxmox 100 pre-start
expect_rc "pre-start" 0
expect_driver $VGA vfio-pci "after pre-start: "
expect_driver $AUD vfio-pci "after pre-start: "
expect_node $G present "after pre-start: "
# the kernel drops fbcon's vtconsole once its last framebuffer is gone: none is bound to fbcon
expect "after pre-start: fbcon released from the console" "$(fbcon_vtcon | grep -c 1)" 0
expect_driver 0000:02:00.0 e1000e "the snapshot's hostpci1 is ignored: "
expect_match "the journal records the console step" "$(cat /run/pcibind/journal)" "vtcon	name=vtcon"
hold $VGA && ok "the group is usable by a VFIO user" || nok "vfio-hold: $(cat /tmp/hold.log)"
kill $HOLD_PID 2>/dev/null; wait $HOLD_PID 2>/dev/null

pcb hook proxmox 100 pre-stop
expect_rc "pre-stop does nothing" 0
pcb hook proxmox 100 post-stop
expect_rc "post-stop" 0
expect_driver $VGA bochs-drm "after post-stop: "
expect_driver $AUD snd_hda_intel "after post-stop: "
expect_override $VGA "(null)" "after post-stop: "
expect_node $G absent "after post-stop: "
expect "after post-stop: fbcon is on the console again" "$(fbcon_vtcon)" 1
expect "after post-stop: the framebuffer is back" "$(cat /sys/class/graphics/fb0/name 2>/dev/null)" bochs-drmdrmfb
expect_match "after post-stop: the sound card is back" "$(cat /proc/asound/cards)" "HDA-Intel"
expect "the journal is empty" "$(journal_entries)" 0
note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-800)"
rm -rf /etc/pve /etc/pcibind/pcibind.conf
reset_all
