#!/bin/bash
# module-setup.sh - test only (tests/vm/generate): the probe as a dracut module, run once udev settled

check() {
	return 0
}

depends() {
	return 0
}

install() {
	inst_multiple readlink basename dmesg grep sed ls sleep
	# shellcheck disable=SC2154 # moddir: set by dracut for each module
	inst_hook initqueue/settled 99 "$moddir/vmtest-probe.sh"
}
