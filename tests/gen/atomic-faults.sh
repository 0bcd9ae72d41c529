#!/bin/bash
# atomic-faults.sh - generate --write with ENOSPC, EIO, short writes and SIGKILL at each of its
# opens, writes, fsyncs and renames below the root (faultfs.so by LD_PRELOAD)
# SPDX-License-Identifier: GPL-2.0-or-later
#   tests/gen/atomic-faults.sh PCIBIND [FAULTFS.so]
#   PCIBIND_FAULT_JOBS: cases at once (default nproc, at most 4); PCIBIND_FAULT_ONLY=REGEX: those
#   cases only; PCIBIND_FAULT_MATRIX=quick (make check-fast): ENOSPC and kill only
# The root: arch-kernel-install-amd with three of its six targets already there in an older text,
# odd modes and owners (one is the user's /etc/kernel/cmdline, which generate edits). A clean
# traced run lists the calls; then for each call and each fault a fresh copy is written under the
# fault, and every target must hold its old bytes (same inode, mode, owner) or exactly the clean
# run's, never a part; nothing else may change; no temporary file is left unless the run was
# killed; an injected errno exits 1, names the file and the error and says which files were and
# were not written; then a clean --write exits 0, removes a killed run's temporary file and gives
# exactly the clean run's tree.
# Prints "ok - gen: atomic-faults: OP:N:FAULT (FILE)" or "not ok - ...: what differed" per case.
set -u
cd "$(dirname "$0")" || exit 1
bin=${1:?usage: atomic-faults.sh PCIBIND [FAULTFS.so]}
case $bin in /*) ;; *) bin=$PWD/../../$bin ;; esac
shim=${2:-$PWD/../../build/faultfs.so}
case $shim in /*) ;; *) shim=$PWD/../../$shim ;; esac
src=arch-kernel-install-amd
tag="gen: atomic-faults"

# tmpfs if there is one: the tree is copied twice per case, and ext4's fsyncs are the slow part
tmpbase=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm
tmp=$(mktemp -d "${PCIBIND_FAULT_TMP:-$tmpbase}/pcibind-atomic.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

die() {
	echo "not ok - $tag: $*"
	exit 1
}
[ -x "$bin" ] || die "$bin is missing"
[ -f "$shim" ] || die "$shim is missing (make build/faultfs.so)"

# gcc's shared ASan runtime must come first in the preload list; its interceptors then call
# the next definition, the shim's, which calls libc's
asan=$(ldd "$bin" 2>/dev/null | awk '/libasan/ { print $3 }')
preload="${asan:+$asan }$shim"

# the original: three targets exist with other text, modes and owners; three are new
before=$tmp/before
cp -a "$src/root" "$before"
chmod 0640 "$before/etc/kernel/cmdline"
chown 4321:4321 "$before/etc/kernel/cmdline"
mkdir -p "$before/etc/modprobe.d" "$before/etc/initcpio/hooks"
printf '# written by an older pcibind\noptions vfio-pci ids=10de:1b80\n' >"$before/etc/modprobe.d/pcibind.conf"
chmod 0600 "$before/etc/modprobe.d/pcibind.conf"
printf '#!/usr/bin/ash\n# an older hook\nrun_hook() { :; }\n' >"$before/etc/initcpio/hooks/pcibind"
chmod 0700 "$before/etc/initcpio/hooks/pcibind"
chown 1234:5678 "$before/etc/initcpio/hooks/pcibind"

# every non-directory: path type mode uid gid size inode
listing() { (cd "$1" && find . ! -type d -printf '%P %y %m %U %G %s %i\n' | sort); }
noinode() { sed 's/ [0-9]*$//'; }

# the clean run, traced: the calls to break and the expected tree
ref=$tmp/ref
cp -a "$before" "$ref"
PCIBIND_FAULT_ROOT=$ref PCIBIND_FAULT_TRACE=$tmp/trace LD_PRELOAD=$preload \
	"$bin" --root "$ref" generate --write >/dev/null 2>"$tmp/ref.err" ||
	die "the clean traced run fails: $(cat "$tmp/ref.err")"
listing "$before" >"$tmp/before.list"
listing "$ref" >"$tmp/ref.list"
targets=$(diff <(noinode <"$tmp/before.list") <(noinode <"$tmp/ref.list") | sed -n 's/^> \(\S*\) .*/\1/p' | sort -u)
# six files, the record of the in-place edit of /etc/kernel/cmdline (its original and the manifest), and the record of the directories it made
[ "$(echo "$targets" | wc -l)" -eq 9 ] || die "the clean run changed $(echo "$targets" | wc -w) files, not 9: $targets"
for t in $targets; do
	if [ "$t" = var/lib/pcibind/created-dirs ]; then
		# the golden case's list, less the directories this root already has
		want=$(while read -r d; do [ -d "$before/$d" ] || echo "$d"; done <"$src/expected/$t")
		[ "$want" = "$(cat "$ref/$t")" ] || die "the clean run recorded other directories than it made: $(cat "$ref/$t")"
		continue
	fi
	cmp -s "$src/expected/$t" "$ref/$t" || die "the clean run under the shim wrote /$t unlike $src/expected"
done
for t in etc/kernel/cmdline etc/modprobe.d/pcibind.conf etc/initcpio/hooks/pcibind; do
	[ "$(stat -c %a.%u.%g "$before/$t")" = "$(stat -c %a.%u.%g "$ref/$t")" ] ||
		die "the clean run did not keep the mode and owner of /$t"
done

# "OP N TARGET" per traced call: a temporary file's target, or a directory's last one
hex8='[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
sed "s|$ref/||" "$tmp/trace" | awk -v temp="^[.].*[.]pcibind-$hex8\$" '
	{ n = split($3, p, "/")
	  if (p[n] ~ temp) {
		sub(/^[.]/, "", p[n]); sub(/[.]pcibind-[0-9a-f]*$/, "", p[n])
		t = p[1]; for (i = 2; i <= n; i++) t = t "/" p[i]
	  }
	  print $1, $2, t }' >"$tmp/calls"
for op in open write fsync rename; do
	grep -q "^$op " "$tmp/calls" || die "no $op call traced below the root: the shim does not interpose on $bin"
done
# the protocol, which the matrix alone would not notice missing (it breaks the calls there are):
# per file, create the temporary file, write it, fsync it, rename it, fsync the directory
seqs=$(sed "s|$ref/||" "$tmp/trace" | awk -v temp="^[.].*[.]pcibind-$hex8\$" '
	function flush() { if (cur != "") print cur, seq; seq = "" }
	{ n = split($3, p, "/"); d = $3; sub(/\/[^\/]*$/, "", d) }
	$1 == "open" && p[n] ~ temp { flush(); cur = $3; dir = d }
	$3 == cur { seq = seq toupper(substr($1, 1, 1)); next }
	$1 == "fsync" && $3 == dir { seq = seq "D"; next }
	{ seq = seq "?" }
	END { flush() }')
bad_seqs=$(grep -v ' OW\+C*FRD$' <<<"$seqs")
proto=0
if [ "$(grep -c . <<<"$seqs")" -eq 9 ] && [ -z "$bad_seqs" ]; then
	proto=1
	echo "ok - $tag: each of the 9 files: temporary file created, written, fsynced, renamed, directory fsynced"
else
	echo "not ok - $tag: the calls per file are not create, write, fsync, rename, fsync the directory" \
		"(O open, W write, C chmod/chown, F fsync, R rename, D fsync of the directory): $(echo $seqs)"
fi

# the cases: each call with ENOSPC, EIO and a kill; each write short, and short then ENOSPC.
# PCIBIND_FAULT_MATRIX=quick (make check-fast): ENOSPC and a kill only
faults="ENOSPC EIO kill"
[ "${PCIBIND_FAULT_MATRIX:-}" = quick ] && faults="ENOSPC kill"
while read -r op n t; do
	case $op in open | write | fsync | rename) ;; *) continue ;; esac
	for f in $faults; do echo "$op:$n:$f $t"; done
	[ "$op" = write ] && [ "${PCIBIND_FAULT_MATRIX:-}" != quick ] &&
		echo "$op:$n:short $t" && echo "$op:$n:short,write:$((n + 1)):ENOSPC $t"
done <"$tmp/calls" >"$tmp/cases"
# PCIBIND_FAULT_ONLY=REGEX: only the matching cases, to look at one
if [ -n "${PCIBIND_FAULT_ONLY:-}" ]; then
	grep -E -- "$PCIBIND_FAULT_ONLY" "$tmp/cases" >"$tmp/only"
	mv "$tmp/only" "$tmp/cases"
fi

declare -A errtext=([ENOSPC]="No space left on device" [EIO]="Input/output error")

# the checks run ~100 times, on bash tables with few processes: a listing is PATH -> "type mode
# uid gid size[ inode]", a text table is target -> bytes (without NULs; '' if absent)
load_listing() { # NAME DIR [inode]
	local -n tab=$1
	local p rest
	tab=()
	while read -r p rest; do tab[$p]=$rest; done < <(find "$2" ! -type d -printf "%P %y %m %U %G %s${3:+ %i}\n")
}
slurp() { # NAME FILE
	local -n var=$1
	var=
	[ -f "$2" ] && { IFS= read -r -d '' var <"$2" || :; }
}
load_texts() { # NAME DIR
	local -n tab=$1
	local x
	tab=()
	for x in $targets; do slurp "tab[$x]" "$2/$x"; done
}
declare -A REF OLD NEW IS_TARGET
load_listing REF "$ref"
load_texts OLD "$before"
load_texts NEW "$ref"
for t in $targets; do IS_TARGET[$t]=1; done

# STATE[target] from PRE, POST (with inodes) and TEXT of the case's tree: old, new or what it is
target_state() {
	local t=$1 pre=${PRE[$1]-} post=${POST[$1]-}
	if [ -z "$post" ]; then
		[ -z "$pre" ] && STATE[$t]=old || STATE[$t]=gone
	elif [ "$post" = "$pre" ] && [ "${TEXT[$t]}" = "${OLD[$t]}" ]; then
		STATE[$t]=old
	elif [ "${post% *}" = "${REF[$t]}" ] && [ "${TEXT[$t]}" = "${NEW[$t]}" ]; then
		STATE[$t]=new
	else
		STATE[$t]="neither old nor new: '${post% *}' (type mode uid gid size)${pre:+, old '${pre% *}'}, new '${REF[$t]}'"
	fi
}

# the message must name the file and the error, and list what is written (new) and what not (old)
check_message() { # ERR TARGET FAULT ROOT
	local err=$1 t=$2 fault=$3 root=$4 x w nw
	local -A listed=()
	[[ $err == *"/$t below $root"*"${errtext[$fault]}"* ]] || bad+=("no message naming /$t and '${errtext[$fault]}': $err")
	if ! [[ $err =~ written:\ ([^;]*)\;\ not\ written:\ ([^;]*)\; ]]; then
		bad+=("no 'written: ...; not written: ...' message: $err")
		return
	fi
	w=${BASH_REMATCH[1]//,/} nw=${BASH_REMATCH[2]//,/}
	for x in $w; do
		[ "$x" = none ] && continue
		listed[${x#/}]=1
		[ "${STATE[${x#/}]-}" = new ] || bad+=("says $x is written; it is ${STATE[${x#/}]-not a target}")
	done
	for x in $nw; do
		[ "$x" = none ] && continue
		listed[${x#/}]=1
		[ "${STATE[${x#/}]-}" = old ] || bad+=("says $x is not written; it is ${STATE[${x#/}]-not a target}")
	done
	for x in $targets; do
		[ -n "${listed[$x]-}" ] || bad+=("/$x is neither in 'written' nor in 'not written'")
	done
}

# one case; bad: what differed
run_case() {
	local spec=$1 t=$2 root=$3 fault=${1##*:} st err x k
	local -A PRE POST TEXT STATE seen=()
	local extra=()
	bad=()
	rm -rf "$root"
	cp -a "$before" "$root"
	load_listing PRE "$root" inode
	{ # (the braces take bash's "Killed")
		PCIBIND_FAULT_ROOT=$root PCIBIND_FAULT=$spec LD_PRELOAD=$preload \
			"$bin" --root "$root" generate --write >/dev/null 2>"$root.err"
	} 2>/dev/null
	st=$?
	slurp err "$root.err"
	err=${err//$'\n'/ | }
	load_listing POST "$root" inode
	load_texts TEXT "$root"

	case $fault in
	kill) [ "$st" -eq 137 ] || bad+=("exit $st, not 137 (SIGKILL)") ;;
	short) [ "$st" -eq 0 ] || bad+=("exit $st after a short write, not 0: $err") ;;
	*) [ "$st" -eq 1 ] || bad+=("exit $st, not 1: $err") ;;
	esac
	for x in $targets; do
		target_state "$x"
		case ${STATE[$x]} in old | new) ;; *) bad+=("/$x: ${STATE[$x]}") ;; esac
		[ "$fault" = short ] && [ "${STATE[$x]}" != new ] && bad+=("after a short write /$x is ${STATE[$x]}, not new")
	done
	# nothing else changed; a killed run may leave its one temporary file, next to its target
	for k in "${!PRE[@]}" "${!POST[@]}"; do
		[ -z "${IS_TARGET[$k]-}" ] && [ -z "${seen[$k]-}" ] && [ "${PRE[$k]-}" != "${POST[$k]-}" ] && extra+=("$k")
		seen[$k]=1
	done
	if [ ${#extra[@]} -gt 0 ] && ! { [ "$fault" = kill ] && [ ${#extra[@]} -eq 1 ] &&
		[[ ${extra[0]} == "${t%/*}/.${t##*/}.pcibind-"???????? ]]; }; then
		bad+=("left behind or changed: ${extra[*]}")
	fi
	[ "$fault" != kill ] && [ "$fault" != short ] && check_message "$err" "$t" "$fault" "$root"

	# the next clean run finishes the job and removes a killed run's temporary file (its leaks
	# are the golden tests' business: LeakSanitizer's exit scan would double the matrix's time)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		"$bin" --root "$root" generate --write >/dev/null 2>"$root.err"
	st=$?
	slurp err "$root.err"
	[ "$st" -eq 0 ] || bad+=("the next clean run exits $st: ${err//$'\n'/ | }")
	load_listing POST "$root"
	load_texts TEXT "$root"
	seen=()
	for k in "${!REF[@]}" "${!POST[@]}"; do
		[ -z "${seen[$k]-}" ] && [ "${REF[$k]-}" != "${POST[$k]-}" ] &&
			bad+=("after the next clean run /$k is '${POST[$k]-absent}', not '${REF[$k]-absent}'")
		seen[$k]=1
	done
	for x in $targets; do
		[ "${TEXT[$x]}" = "${NEW[$x]}" ] || bad+=("after the next clean run /$x differs from the clean run's")
	done
}

jobs=${PCIBIND_FAULT_JOBS:-$(nproc)}
[ "$jobs" -gt 4 ] && jobs=4
n_cases=$(wc -l <"$tmp/cases")
start=$SECONDS
for ((w = 0; w < jobs; w++)); do
	(
		i=0
		while read -r spec t; do
			i=$((i + 1))
			[ $(((i - 1) % jobs)) -eq "$w" ] || continue
			run_case "$spec" "$t" "$tmp/case$w"
			if [ ${#bad[@]} -eq 0 ]; then
				printf '%d\tok - %s: %s (/%s)\n' "$i" "$tag" "$spec" "$t"
			else
				printf '%d\tnot ok - %s: %s (/%s): %s\n' "$i" "$tag" "$spec" "$t" "$(printf '%s; ' "${bad[@]}")"
			fi
		done <"$tmp/cases" >"$tmp/out$w"
	) &
done
wait
sort -n -k1,1 "$tmp"/out* | cut -f2-
done_cases=$(cat "$tmp"/out* | wc -l)
[ "$done_cases" -eq "$n_cases" ] || die "$done_cases of $n_cases cases ran"
echo "# $tag: $n_cases cases ($(grep -c . "$tmp/calls") calls traced) in $((SECONDS - start)) s${asan:+, $asan preloaded first}"
[ "$proto" -eq 1 ] && ! grep -q '^[0-9]*	not ok' "$tmp"/out*
