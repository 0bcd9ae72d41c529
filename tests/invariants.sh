#!/bin/bash
# invariants.sh - who may write what: the journal, sysfs, state files, generated and configuration files, the run directory
# SPDX-License-Identifier: GPL-2.0-or-later
#   tests/invariants.sh   (one "ok - lint: invariant: ..." / "not ok - ..." line each; run by the lint tier)
# Each invariant is a grep over src/: the files that may call the primitive. HACKING.md says why each is
# where it is.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
fail=0

# invariant WHAT PATTERN ALLOWED...: the src/*/*.c files matching PATTERN are among ALLOWED (file names)
invariant() {
	local what=$1 pattern=$2 extra
	shift 2
	extra=$(cd "$SRC" && grep -lE "$pattern" src/*/*.c | while read -r f; do
		case " $* " in *" ${f##*/} "*) ;; *) echo "${f#src/}" ;; esac
	done | paste -sd' ' -)
	if [ -z "$extra" ]; then echo "ok - lint: invariant: $what: only $*"
	else echo "not ok - lint: invariant: $what: also in $extra (allowed: $*)"; fail=1; fi
}

# a sysfs write is one write(2) through kwrite (a child with a deadline) or sysroot_write
invariant "sysfs is written through kwrite" 'kwrite_[a-z_]*\(|[^_]kwrite\(' \
	kwrite.c bind.c console.c session.c
invariant "a plain write of a file below the root" 'sysroot_write\(' sysroot.c udevwait.c
# the journal: one format (journal.c); saved by the session layer (session.c) and, a step ahead of each
# write while a plan is carried out, by bind.c and console.c; no command changes or saves it
invariant "the journal is saved" 'journal_save\(' journal.c bind.c console.c session.c
invariant "the journal is changed" 'journal_(add|remove|add_step|remove_step)\(' journal.c bind.c console.c session.c
invariant "the run lock is taken (session.c for the commands that change state)" 'lock_acquire\(' journal.c session.c
invariant "a session is opened (the lock, the scan, the journal of a state-changing run)" 'session_open\(' \
	session.c main.c
# the run directory and the trusted reads of state files: the state layer only
invariant "the run directory is made" 'mkdirat\([^)]*RUN_NAME|sysroot_mkdir[a-z_]*\([^,]*(RUN_|HOOK_RECORD_DIR)' state.c
invariant "the run directory is opened, owner and mode checked" 'state_run_(sub)?dir\(' \
	state.c journal.c hook-record.c
# files are made, renamed and removed by the state layer (state files), atomicfile (generated files) and
# unitlink (the unit's links, as systemctl makes them); setup removes the configuration file it made
invariant "a file is made, renamed or removed with a system call" 'renameat\(|unlinkat\(|O_CREAT' \
	atomicfile.c sysroot.c state.c journal.c hook-record.c unitlink.c cmd-setup.c
invariant "a state file is read as trusted" 'S_IWOTH' state.c config.c
# files replaced atomically: generated files, the configuration, VM records
invariant "a file is written atomically" 'atomicfile_(write|remove)\(' \
	atomicfile.c state.c bootcfg.c cmd-setup.c hook-record.c
# the configuration is edited by setup alone (confedit: the comment-keeping editor)
invariant "the configuration is edited" 'confedit_[a-z]*\(' confedit.c cmd-setup.c

# each layer's folder is compiled with the include paths of its own and the lower layers only
# (Makefile: INC_*): an upward include fails the build. Here: no file outside src/LAYER/.
loose=$(cd "$SRC" && ls src/*.c src/*.h 2>/dev/null | paste -sd' ' -)
if [ -z "$loose" ]; then echo "ok - lint: invariant: every source file is in its layer's folder"
else echo "not ok - lint: invariant: files outside a layer folder: $loose"; fail=1; fi
# and the include paths really stop there: a basic file cannot reach a tool header, nor a state file a pci one
probe() { printf '#include "%s"\n' "$2" | cc -fsyntax-only $1 -x c - >/dev/null 2>&1; }
if ! probe "-I$SRC/src/basic" cmd.h && ! probe "-I$SRC/src/basic -I$SRC/src/state" pcidev.h &&
	probe "-I$SRC/src/basic -I$SRC/src/state" journal.h; then
	echo "ok - lint: invariant: a layer's include path reaches its own and the lower layers' headers only"
else
	echo "not ok - lint: invariant: an include path reaches a higher layer (or the lower ones are not reached)"
	fail=1
fi
exit $fail
