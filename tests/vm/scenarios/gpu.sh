# gpu.sh - a GPU with its audio function: host -> vfio-pci -> host, the real drivers coming back
# SPDX-License-Identifier: GPL-2.0-or-later
need_pcibind || return 0
VGA=0000:01:00.0
AUD=0000:01:00.1
G=$(grp $VGA)

expect "the boot VGA has a framebuffer console" "$(cat /sys/class/graphics/fb0/name 2>/dev/null)" bochs-drmdrmfb
expect_match "the audio function is a sound card" "$(cat /proc/asound/cards)" "HDA-Intel"

# the boot VGA carries the console: refused unless forced, nothing touched
before=$(snapshot)
pcb bind 01:00
expect_rc "binding the boot VGA with fbcon on it is refused" 3
expect_match "the refusal names the console" "$OUT" "console|fbcon|framebuffer"
expect_same "nothing changed after the refusal" "$before" "$(snapshot)"
expect "no journal after the refusal" "$(journal_entries)" 0

dmesg_mark
pcb --force bind 01:00
expect_rc "forced bind of the slot 01:00" 0
expect_driver $VGA vfio-pci "after bind: "
expect_driver $AUD vfio-pci "after bind: "
expect_override $VGA vfio-pci "after bind: "
expect_override $AUD vfio-pci "after bind: "
expect_node $G present "after bind: "
expect "the framebuffer is gone with bochs-drm" "$(test -e /sys/class/graphics/fb0 && echo present)" ""
expect_nomatch "the sound card is gone with snd_hda_intel" "$(cat /proc/asound/cards)" "HDA-Intel"
expect "the journal records both functions" "$(journal_entries)" 2
expect_match "the journal records the VGA's original driver" "$(journal_of $VGA)" "driver=bochs-drm"
expect_match "the journal records the audio's original driver" "$(journal_of $AUD)" "driver=snd_hda_intel"
hold $VGA && ok "the whole group is viable: a VFIO user opens the VGA" || nok "vfio-hold: $(cat /tmp/hold.log)"
kill $HOLD_PID 2>/dev/null; wait $HOLD_PID 2>/dev/null
note "dmesg: $(dmesg_new | tr '\n' '|' | cut -c1-800)"

pcb bind 01:00
expect_rc "binding again is idempotent" 0
expect "still two journal entries" "$(journal_entries)" 2

dmesg_mark
pcb restore 01:00
expect_rc "restore of the slot" 0
expect_driver $VGA bochs-drm "after restore: "
expect_driver $AUD snd_hda_intel "after restore: "
expect_override $VGA "(null)" "after restore: "
expect_override $AUD "(null)" "after restore: "
expect_node $G absent "after restore: "
expect "the framebuffer is back" "$(cat /sys/class/graphics/fb0/name 2>/dev/null)" bochs-drmdrmfb
expect_match "the sound card is back" "$(cat /proc/asound/cards)" "HDA-Intel"
expect "the journal is empty" "$(journal_entries)" 0
msg=$(dmesg_new)
note "dmesg: $(printf '%s' "$msg" | tr '\n' '|' | cut -c1-800)"
expect_match "dmesg shows bochs-drm initialising again" "$msg" "Initialized bochs-drm"
reset_all
