#!/usr/bin/env bash
# ../shared/runc-suite/setup.sh under a lock: every lane that uses the runc
# suite's files calls this, never setup.sh itself.
#
#   tests/lib/runc-suite-setup.sh [setup.sh's arguments]
#
# make test runs the host lanes (rootless, runc-suite) and the VM lanes
# (systemd, criu) at the same time, and each needs the suite set up under
# RUNC_SUITE_DIR (default /var/tmp/runc-suite). On a fresh machine the
# systemd lane used to copy the suite into its VM while the rootless lane's
# setup.sh was still unpacking and building it (a payload without
# path/udevadm or the helper binaries); two setup.sh runs at once would
# also write the same files. With the lock the second caller waits for the
# first and then finds everything there (setup.sh's self-check, ~5 s).
# Environment: RUNC_SUITE_DIR, RUNC_SUITE_KIT (default ../shared/runc-suite
# beside the checkout), RUNC_SUITE_LOCK_WAIT (seconds, default 1800: a
# holder that hangs is reported, not waited on for ever; one that dies
# releases the lock with its descriptor).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kit=${RUNC_SUITE_KIT:-$top/../shared/runc-suite}
dir=$(realpath -m "${RUNC_SUITE_DIR:-/var/tmp/runc-suite}")
[ -x "$kit/setup.sh" ] || { echo "runc-suite-setup: no kit at $kit (../shared/runc-suite)" >&2; exit 2; }
mkdir -p "$(dirname "$dir")"
exec 9>>"$dir.lock"
wait=${RUNC_SUITE_LOCK_WAIT:-1800}
if ! flock -n 9; then
	echo "runc-suite-setup: another lane is setting up $dir; waiting (at most ${wait}s)" >&2
	flock -w "$wait" 9 || { echo "runc-suite-setup: $dir.lock still held after ${wait}s" >&2; exit 2; }
fi
RUNC_SUITE_DIR=$dir "$kit/setup.sh" "$@"
