# runtime.sh - the documented runtime dependencies are the libraries the binary links (sourced)
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# README.md's "Runtime dependencies" line names Debian packages; the binary's DT_NEEDED entries,
# each resolved by the dynamic loader and owned by one package (dpkg -S), must be exactly those
# (libc aside). fresh.sh then installs only those into a minimal Debian and runs the binary there.

documented_runtime() {
	sed -n 's/^Runtime dependencies[^:]*://p' "$SRC/README.md" | grep -o '`[a-z0-9.+-]*`' | tr -d '`' | sort -u
}

owner() { dpkg -S "$1" 2>/dev/null | head -n 1 | cut -d: -f1 | grep .; }

linked_runtime() { # linked_runtime BINARY: the packages of its NEEDED libraries, libc6 aside
	local lib path
	for lib in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(ldd "$1" | awk -v l="$lib" '$1 == l { print $3 }')
		[ -n "$path" ] || { echo "unresolved:$lib"; continue; }
		# dpkg knows the path as the package ships it: /lib or /usr/lib (merged /usr), the link or its target
		owner "$path" || owner "$(realpath "$path")" || owner "/usr$path" || owner "${path#/usr}" || echo "unowned:$lib"
	done | grep -vx 'libc6' | sort -u
}

flavor_runtime() {
	local P=runtime bin=$SRC/build/pcibind doc linked
	make -C "$SRC" --no-print-directory build/pcibind >"$WORK/$P.make" 2>&1 || { nok "$P: cannot build $bin"; return; }
	doc=$(documented_runtime | tr '\n' ' ')
	linked=$(linked_runtime "$bin" | tr '\n' ' ')
	check "$P: README's runtime dependencies ($doc) are the packages of the libraries pcibind links ($linked)" \
		test -n "$doc" -a "$doc" = "$linked"
}
