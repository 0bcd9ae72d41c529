#!/bin/bash
# run.sh - make bench: pcibind against its peers on generated hosts, as ratios measured in one run
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: bench/run.sh PCIBIND PCISIM
# environment: BENCH_DIR (trees, default /dev/shm/pcibind-bench), BENCH_SIZES
# (default "64 256 1024 4096"), BENCH_RUNS (fast commands, default 15),
# BENCH_SLOW_RUNS (driverctl, dpdk-devbind.py, default 3), BENCH_SLOW_TIMEOUT
# (seconds one of their runs may take, default 300).
#
# Nothing here reads or writes this machine's own /sys: pcibind and the
# floor read the generated tree through --root; the peers run in a private
# mount namespace with the tree (or the FUSE simulator) bind-mounted over
# /sys, and only their listing commands run, except driverctl set-override,
# which runs only against the simulator and only after checking, inside the
# namespace, that /sys is the simulator and modprobe is the fake one.
set -eu

pcibind_src=$(realpath "$1")
pcisim_src=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
dir=${BENCH_DIR:-/dev/shm/pcibind-bench}
sizes=${BENCH_SIZES:-64 256 1024 4096}
runs=${BENCH_RUNS:-15}
slow_runs=${BENCH_SLOW_RUNS:-3}
big=${sizes##* }
out=$dir/results
mkdir -p "$dir" "$out"
rm -f "$out"/*.json "$out"/*.txt
# private copies: a rebuild in the checkout during the run must not change what is measured
pcibind=$dir/pcibind pcisim=$dir/pcisim
cp "$pcibind_src" "$pcibind"
cp "$pcisim_src" "$pcisim"
py=/usr/bin/python3

say() { printf '%s\n' "$*" >&2; }

# ---- tools ----
need_pkgs=
command -v hyperfine >/dev/null || need_pkgs="$need_pkgs hyperfine"
command -v lspci >/dev/null || need_pkgs="$need_pkgs pciutils"
command -v driverctl >/dev/null || need_pkgs="$need_pkgs driverctl"
command -v dpdk-devbind.py >/dev/null || need_pkgs="$need_pkgs dpdk"
command -v /usr/bin/time >/dev/null || need_pkgs="$need_pkgs time"
if [ -n "$need_pkgs" ]; then
	say "bench: installing$need_pkgs"
	# one package at a time, so that one that is not installable leaves the others
	for p in $need_pkgs; do
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$p" >"$out/apt-$p.txt" 2>&1 ||
			say "bench: $p is not installable (see $out/apt-$p.txt)"
	done
fi
for t in hyperfine $py unshare; do
	command -v $t >/dev/null || { say "bench: $t is required"; exit 1; }
done

floor=$dir/floor
cc -O2 -Wall -Wextra -o "$floor" "$here/floor.c"
events=$dir/events
cc -O2 -Wall -Wextra -o "$events" "$here/events.c"

# ---- trees (regenerated when the generator changes) ----
stamp=$(sha256sum "$here/gen-host" | cut -c1-16)
for n in $sizes; do
	t=$dir/host-$n
	if [ "$(cat "$t.stamp" 2>/dev/null)" != "$stamp" ]; then
		rm -rf "$t" "$t.stamp"
		say "bench: generating $n functions in $t"
		"$here/gen-host" "$n" "$t" >&2
		echo "$stamp" >"$t.stamp"
	fi
done

# Run "$@" in a private mount namespace with tree $1/sys over /sys; refuses
# unless /sys is then the generated tree (its marker file is there).
in_tree() {
	local tree=$1
	shift
	unshare --mount --propagation private -- sh -c '
		mount --bind "$0/sys" /sys || exit 97
		[ -e /sys/.pcibind-bench-tree ] || { echo "bench: /sys is not the generated tree" >&2; exit 97; }
		exec "$@"' "$tree" "$@"
}

hf() { # hyperfine NAME RUNS JSON COMMAND... (each command one argument, no shell)
	local json=$1 nruns=$2
	shift 2
	hyperfine -N --style basic --warmup 1 --runs "$nruns" --export-json "$json" "$@" >&2
}

# ---- listing at the largest size, every tool in one namespace ----
t=$dir/host-$big
say "bench: listing, $big functions"
cmds=("$floor $t" "$floor --modalias $t" "$pcibind --root $t status" "$pcibind --root $t status --json")
command -v lspci >/dev/null && cmds+=("lspci -k")
in_tree "$t" hyperfine -N --style basic --warmup 2 --runs "$runs" --export-json "$out/list-fast.json" "${cmds[@]}" >&2
# The shell and Python peers take seconds to minutes at this size: a few
# runs each, every run cut off after BENCH_SLOW_TIMEOUT seconds.
slow_timeout=${BENCH_SLOW_TIMEOUT:-300}
slow_one() { # NAME COMMAND...: one line "NAME SECONDS" or "NAME timeout" per run
	local name=$1 t0 t1 i rc
	shift
	for i in $(seq "$slow_runs"); do
		t0=$(date +%s.%N)
		rc=0
		in_tree "$t" timeout "$slow_timeout" "$@" >/dev/null 2>&1 || rc=$?
		t1=$(date +%s.%N)
		case $rc in
		0) echo "$name $(echo "$t1 - $t0" | bc)" ;;
		124) echo "$name >$slow_timeout" ;;
		*) echo "$name failed" ;;
		esac
	done
}
command -v bc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y bc >/dev/null 2>&1 || true
if command -v dpdk-devbind.py >/dev/null; then
	say "bench: dpdk-devbind.py --status, $slow_runs runs"
	slow_one "dpdk-devbind.py --status" dpdk-devbind.py --status >>"$out/list-slow.txt"
fi
if command -v driverctl >/dev/null; then
	say "bench: driverctl list-devices, $slow_runs runs"
	slow_one "driverctl list-devices" driverctl list-devices >>"$out/list-slow.txt"
fi
# the peers must have listed the tree, not an empty /sys
in_tree "$t" sh -c 'lspci | wc -l' >"$out/lspci-count.txt" 2>/dev/null || true

# peak memory (max RSS, KiB)
for args in "status" "status --json"; do
	# shellcheck disable=SC2086
	/usr/bin/time -f %M -o "$out/rss.tmp" "$pcibind" --root "$t" $args >/dev/null
	echo "$args $(cat "$out/rss.tmp")" >>"$out/rss.txt"
done
rm -f "$out/rss.tmp"

# ---- growth ----
for n in $sizes; do
	say "bench: growth, $n functions"
	hf "$out/growth-$n.json" "$runs" "$floor $dir/host-$n" "$pcibind --root $dir/host-$n status"
done

# ---- coldplug: the udev rule's event of every function, at 1024 and 4096 functions ----
cold_sizes=
for n in $sizes; do
	case $n in 1024 | 4096) cold_sizes="$cold_sizes $n" ;; esac
done
if [ -n "$cold_sizes" ]; then
	say "bench: coldplug,$cold_sizes functions"
	# shellcheck disable=SC2086 # sizes are words
	$py "$here/coldplug.py" "$pcibind" "$events" "$dir" "$out" $cold_sizes >&2 || say "bench: coldplug benchmark failed"
fi

# ---- binding at boot, against the simulator ----
say "bench: binding 8 GPUs in the simulator"
$py "$here/bind.py" "$pcibind" "$pcisim" "$top" "$dir/sim" "$out" >&2 || say "bench: binding benchmark failed"

$py "$here/report.py" "$out" "$sizes" "$big"
