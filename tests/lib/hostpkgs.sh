# hostpkgs.sh - the packages a tier needs on the machine it runs on, installed when missing (sourced, not run)
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   hostpkgs_missing PKG...        print the ones not installed (dpkg's view), one line, space-separated
#   hostpkgs_install LOG PKG...    apt-get install the missing ones (apt-get update first only if the
#                                  install fails: a fresh machine's lists may be stale); the log in LOG.
#                                  0 when all are installed; 1 with the reason on stdout otherwise
#                                  (not root, or apt-get's last lines)
#
# Each tier says and dies in its own voice: it calls these and turns a failure into its own
# "not ok - TIER: setup: ..." line.

hostpkgs_missing() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
	done
	echo "${missing[*]}"
}

hostpkgs_install() {
	local log=$1 missing
	shift
	read -ra missing <<<"$(hostpkgs_missing "$@")"
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to have them installed, or apt-get install them)"
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1 && return 0
	apt-get update -q >>"$log" 2>&1
	apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 && return 0
	echo "apt-get install ${missing[*]} failed: $(tail -n 3 "$log" | tr '\n' ' ')"
	return 1
}
