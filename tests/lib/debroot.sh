# debroot.sh - the one builder of Debian userlands for the test tiers (sourced, not run)
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   debroot_tar SUITE PKGS [VARIANT [OPTION...]]
#                                      print the path of a cached tarball of `mmdebstrap
#                                      --variant=VARIANT --include=PKGS OPTION... SUITE`
#                                      (OPTIONs, such as hooks, are part of the cache key)
#   debroot_unpack TAR DIR             unpack it into DIR (which must not be / or empty)
#
# Tarballs live under $PCIBIND_CACHE/rootfs (default ~/.cache/pcibind-tests),
# outside the repository, keyed by suite, variant, the sorted package list
# and the ISO week (so security updates come in weekly). When mmdebstrap
# fails (no network), the newest cached tarball of the same key is used and
# that is said; with none cached, debroot_tar fails. Concurrent callers of
# the same key wait on one lock and build once. Errors go to stderr.

DEBROOT_CACHE=${PCIBIND_CACHE:-$HOME/.cache/pcibind-tests}/rootfs

debroot_tar() {
	local suite=$1 pkgs=$2 variant=${3:-minbase} sorted key tar tmp old log
	local -a extra=("${@:4}")
	sorted=$(echo "$pkgs" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)
	key="$suite-$variant-$({ echo "$sorted"; [ ${#extra[@]} -eq 0 ] || printf '%s\n' "${extra[@]}"; } | md5sum | cut -c1-8)"
	tar="$DEBROOT_CACHE/$key-$(date +%G-W%V).tar"
	mkdir -p "$DEBROOT_CACHE" || return 1
	(
		flock 9
		[ -s "$tar" ] && exit 0
		if ! command -v mmdebstrap >/dev/null; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >/dev/null 2>&1 ||
				{ echo "debroot: cannot install mmdebstrap" >&2; exit 1; }
		fi
		tmp="$tar.tmp.$$"
		log="$DEBROOT_CACHE/$key.log"
		if mmdebstrap --format=tar --variant="$variant" ${sorted:+--include="$sorted"} "${extra[@]}" "$suite" "$tmp" >"$log" 2>&1; then
			mv "$tmp" "$tar"
			for old in "$DEBROOT_CACHE/$key"-*.tar; do
				[ "$old" = "$tar" ] || rm -f "$old"
			done
			exit 0
		fi
		rm -f "$tmp"
		old=$(ls "$DEBROOT_CACHE/$key"-*.tar 2>/dev/null | sort | tail -n 1)
		if [ -n "$old" ]; then
			echo "debroot: mmdebstrap $suite failed ($(tail -n 2 "$log" | tr '\n' ' ')); using $old" >&2
			exit 0
		fi
		echo "debroot: mmdebstrap $suite failed and nothing is cached: $(tail -n 3 "$log" | tr '\n' ' ')" >&2
		exit 1
	) 9>"$DEBROOT_CACHE/$key.lock" || return 1
	[ -s "$tar" ] || tar=$(ls "$DEBROOT_CACHE/$key"-*.tar 2>/dev/null | sort | tail -n 1)
	[ -n "$tar" ] && [ -s "$tar" ] || return 1
	echo "$tar"
}

debroot_unpack() {
	local tar=$1 dir=$2
	case "$(realpath -m "$dir")" in
	/ | "") echo "debroot: refusing to unpack into '$dir'" >&2; return 1 ;;
	esac
	rm -rf "$dir" && mkdir -p "$dir" && tar -C "$dir" -xf "$tar"
}
