#!/bin/bash
# prefetch.sh - build the consumer tier's Debian userlands that are not cached yet, niced, in the
# background of `make check` (tests/run-all.sh starts it first): mmdebstrap waits mostly on the
# network and dpkg while the unit and simulator tiers run; the tier then finds them built (or
# waits on debroot.sh's lock for the one still being built). Output: build/consumers/prefetch.log.
# SPDX-License-Identifier: GPL-2.0-or-later
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/debroot.sh
. "$HERE/../lib/debroot.sh"
# shellcheck source=roots.sh
. "$HERE/roots.sh"
for r in $CONSUMER_ROOTS fresh; do
	t0=$SECONDS
	if tar=$(root_tar "$r"); then echo "$r: $tar ($((SECONDS - t0)) s)"; else echo "$r: not built ($((SECONDS - t0)) s)"; fi
done
