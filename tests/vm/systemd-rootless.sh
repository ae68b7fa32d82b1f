#!/usr/bin/env bash
# Adds the rootless step to the systemd VM lane's payload (lane.sh's
# VM_LANE_EXTRA, see systemd-lane.sh):
#
#   tests/vm/systemd-rootless.sh PAYLOAD-DIR
#
# An ordinary user runs hull --systemd-cgroup under its own systemd
# instance (over the session bus) and rootless podman with the systemd
# cgroup manager drives hull: systemd-rootless-guest.sh, added to
# lane.env's EXTRA_STEPS as "systemd-rootless". The systemd rootfs has
# uidmap, dbus-user-session and podman (systemd-rootfs.sh). This adds
# tests/rootless/podman.sh and a busybox image for podman
# (tests/callers/mkimage.sh). SD_ROOTLESS_PODMAN=0 skips the podman part.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
payload=${1:?usage: systemd-rootless.sh PAYLOAD-DIR}
d=$payload/systemd-rootless
mkdir -p "$d"
install -m 755 "$here/systemd-rootless-guest.sh" "$d/run"
[ -e "$payload/hull-shim" ] || install -m 755 "$repo/bin/hull-shim" "$payload/hull-shim"
if [ "${SD_ROOTLESS_PODMAN:-1}" != 0 ]; then
	install -m 755 "$repo/tests/rootless/podman.sh" "$d/podman.sh"
	vm_ensure_pkgs busybox-static file
	"$repo/tests/callers/mkimage.sh" "$d/hullbox.tar" localhost/hullbox:latest
	chmod 644 "$d/hullbox.tar"
fi
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
	echo "export SD_ROOTLESS_PODMAN=$(sq "${SD_ROOTLESS_PODMAN:-1}")"
	echo "export EXTRA_STEPS=\"\${EXTRA_STEPS:-} systemd-rootless=/payload/systemd-rootless/run\""
} >>"$payload/lane.env"
vm_log "rootless step added to the systemd payload (podman: ${SD_ROOTLESS_PODMAN:-1})"
