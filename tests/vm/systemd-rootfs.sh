#!/usr/bin/env bash
# Builds (once) the Debian 12 root file system of the systemd VM lane and
# prints its directory: mmdebstrap --variant=essential from the apt
# sources this machine has, with systemd as init, dbus and what the tests
# need (SD_ROOTFS_PKGS; bats and jq for runc's suite; containerd, podman, docker.io, apparmor (apparmor_parser: dockerd loads its docker-default profile with it), criu, uidmap and dbus-user-session for the callers, checkpoint and rootless steps; docker's units are masked: the callers step starts its own dockerd). It is cached under $VM_CACHE/systemd-rootfs-KEY,
# KEY a hash of the package list and of this script, so that a change of
# either builds a new one (older ones are removed). ~160 s and ~200 MiB
# the first time; nothing afterwards.
#
#   tests/vm/systemd-rootfs.sh      (root; prints the rootfs directory)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || vm_die "systemd-rootfs.sh needs root"
cache=${VM_CACHE:-/var/cache/hull-vm}
pkgs=${SD_ROOTFS_PKGS:-systemd,systemd-sysv,dbus,dbus-user-session,kmod,mount,busybox-static,procps,util-linux,bats,jq,mawk,xz-utils,iproute2,uidmap,containerd,podman,criu,docker.io,apparmor}
key=$( (echo "$pkgs"; cat "$0") | sha256sum | cut -c1-16)
dir=$cache/systemd-rootfs-$key
if [ -f "$dir/ok" ]; then
	echo "$dir/rootfs"
	exit 0
fi
mkdir -p "$cache"
exec 8>"$cache/systemd-rootfs.lock"
flock 8
if [ -f "$dir/ok" ]; then
	echo "$dir/rootfs"
	exit 0
fi
vm_ensure_pkgs mmdebstrap
t0=$(vm_now)
src=/etc/apt/sources.list.d/debian.sources
[ -f "$src" ] || src=/etc/apt/sources.list
vm_log "building the systemd rootfs ($pkgs) from $src into $dir"
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
# Docs, man pages and locales are of no use in the VM and cost boot time
# (the rootfs is unpacked from the initramfs at every boot).
mmdebstrap --variant=essential --include="$pkgs" \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/i18n/*' --dpkgopt='path-exclude=/usr/share/zoneinfo/*' \
	--customize-hook='chroot "$1" systemctl mask serial-getty@ttyS0.service getty@tty1.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service e2scrub_all.timer fstrim.timer dpkg-db-backup.timer systemd-networkd-wait-online.service docker.service docker.socket 2>/dev/null || true' \
	--customize-hook='rm -f "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id; : > "$1"/etc/machine-id; echo hullvm > "$1"/etc/hostname' \
	--customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
	bookworm "$dir.tmp/rootfs" "$src" >&2
touch "$dir.tmp/ok"
for old in "$cache"/systemd-rootfs-*; do
	[ "$old" = "$dir.tmp" ] || [ "${old%.lock}" != "$old" ] || rm -rf "$old"
done
mv "$dir.tmp" "$dir"
vm_log "systemd rootfs built in $(vm_since "$t0")s: $(du -sm "$dir/rootfs" | cut -f1) MiB"
echo "$dir/rootfs"
