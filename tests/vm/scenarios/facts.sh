# facts.sh - the raw kernel interface, no pcibind: what the simulator must imitate
# SPDX-License-Identifier: GPL-2.0-or-later
for d in $S/devices/*; do
	d=${d##*/}
	note "$d class=$(cat $S/devices/$d/class) id=$(cat $S/devices/$d/vendor):$(cat $S/devices/$d/device) driver=$(drv $d) override=$(ovr $d) group=$(grp $d) reset_method=$(cat $S/devices/$d/reset_method 2>&1 | tr ' ' ,)"
done
ok "booted"
