#!/usr/bin/env bash
# Adds the checkpoint/restore step to the systemd VM lane's payload
# (lane.sh's VM_LANE_EXTRA, see systemd-lane.sh):
#
#   tests/vm/systemd-criu.sh PAYLOAD-DIR
#
# The systemd rootfs has Debian's criu 3.17.1, iptables-nft, GNU tar and
# podman 4.3 (systemd-rootfs.sh); this adds hull-shim next to /payload/hull
# (run -d and restore -d go through it), a busybox OCI image for podman
# (tests/callers/mkimage.sh) and the guest step systemd-criu-guest.sh,
# added to lane.env's EXTRA_STEPS as "systemd-criu". The kernel modules
# criu needs at boot are systemd-lane.sh's VM_MODULES (VM_CRIU_MODULES in
# lib.sh, the criu lane's list).
#
# Environment (passed to the guest): SD_CRIU_RUN, the -test.run of hull's
# checkpoint tests there (default TestCheckpointScopeUnit, not run again if
# the lane's VM_LANE_RUN matched it; "" skips them; TestCheckpointLazyPages
# and the others run in the criu lane); SD_CRIU_PODMAN=0
# skips the podman part.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
payload=${1:?usage: systemd-criu.sh PAYLOAD-DIR}
d=$payload/systemd-criu
mkdir -p "$d"
install -m 755 "$repo/bin/hull-shim" "$payload/hull-shim"
install -m 755 "$here/systemd-criu-guest.sh" "$d/run"
if [ "${SD_CRIU_PODMAN:-1}" != 0 ]; then
	vm_ensure_pkgs busybox-static file
	"$repo/tests/callers/mkimage.sh" "$d/hullbox.tar" localhost/hullbox:latest
fi
# SD_CRIU_RUNC=1: upstream runc (RUNC_UPSTREAM, default
# /tmp/runc-upstream/runc) goes in too, and podman runs it first.
if [ "${SD_CRIU_RUNC:-0}" = 1 ]; then
	install -m 755 "${RUNC_UPSTREAM:-/tmp/runc-upstream/runc}" "$d/runc"
	echo "export SD_CRIU_PODMAN_RUNTIMES='/payload/systemd-criu/runc /payload/hull'" >>"$payload/lane.env"
fi
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
	echo "export SD_CRIU_RUN=$(sq "${SD_CRIU_RUN-TestCheckpointScopeUnit}")"
	# Should the lane's own integration run match checkpoint tests,
	# criu must work there too.
	echo "export HULL_TEST_CRIU_REQUIRED=1"
	echo "export SD_CRIU_PODMAN=$(sq "${SD_CRIU_PODMAN:-1}")"
	echo "export EXTRA_STEPS=\"\${EXTRA_STEPS:-} systemd-criu=/payload/systemd-criu/run\""
} >>"$payload/lane.env"
vm_log "checkpoint/restore step added to the systemd payload (hull tests: ${SD_CRIU_RUN-TestCheckpointScopeUnit}; podman: ${SD_CRIU_PODMAN:-1})"
