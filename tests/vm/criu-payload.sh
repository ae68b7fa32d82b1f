#!/usr/bin/env bash
# Adds criu to a VM lane payload (lane.sh's VM_LANE_EXTRA, see criu-lane.sh):
#
#   tests/vm/criu-payload.sh PAYLOAD-DIR
#
# criu (Debian's, installed here if missing) as /payload/bin/criu, which
# the guest finds in PATH; bin/hull-shim as /payload/hull-shim; iptables-restore (Debian's xtables-nft-multi,
# with its extensions in /payload/xtables: XTABLES_LIBDIR in lane.env),
# which criu runs to lock the network of a --tcp-established dump; GNU tar,
# with which criu saves tmpfs contents. run.sh
# copies the shared libraries they need. No criu configuration is made:
# `network-lock nftables` crashed criu 3.17.1 in this VM.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
payload=${1:?usage: criu-payload.sh PAYLOAD-DIR}
vm_ensure_pkgs criu iptables
mkdir -p "$payload/bin"
install -m 755 "$(command -v criu)" "$payload/bin/criu"
# hull-shim next to hull (lane.sh's make build made it): run -d and
# restore -d go through it, as on a host.
install -m 755 "$here/../../bin/hull-shim" "$payload/hull-shim"
multi=$(readlink -f /usr/sbin/xtables-nft-multi)
install -m 755 "$multi" "$payload/bin/xtables-nft-multi"
for n in iptables iptables-restore iptables-save ip6tables ip6tables-restore ip6tables-save; do
	ln -sf xtables-nft-multi "$payload/bin/$n"
done
# criu saves and restores tmpfs contents with GNU tar's options
# (--no-unquote ...), which busybox's tar lacks.
install -m 755 "$(readlink -f /bin/tar)" "$payload/bin/tar"
xt=/usr/lib/x86_64-linux-gnu/xtables
[ -d "$xt" ] && cp -a "$xt" "$payload/xtables"
echo "export XTABLES_LIBDIR=/payload/xtables" >>"$payload/lane.env"
# In the guest criu must work: the round trips fail instead of skipping.
echo "export HULL_TEST_CRIU_REQUIRED=1" >>"$payload/lane.env"
vm_log "criu $(criu --version | awk '/^Version/ { print $2 }') and iptables-restore (nft) added to the payload"
