#!/usr/bin/env bash
# Adds runc v1.5.1's checkpoint.bats to the criu lane's payload (criu-lane.sh's
# VM_LANE_EXTRA; it runs criu-payload.sh first):
#
#   tests/vm/criu-suite-payload.sh PAYLOAD-DIR
#
# From the runc suite kit (../shared/runc-suite, set up in RUNC_SUITE_DIR,
# default /var/tmp/runc-suite; setup.sh is run if it is not there):
# tests/integration (helpers.bash, checkpoint.bats, get-images.sh), the
# busybox image and recvtty, the udevadm stand-in. From the host: bash,
# bats (Debian's, under /payload/bats), jq, iproute2's ip (netns), and GNU
# mktemp, stat, find and awk (the tests use templates with a suffix,
# `find -quit` and awk's getline<"-", which busybox lacks). Upstream runc v1.5.1 (RUNC_UPSTREAM,
# default /tmp/runc-upstream/runc; else built from the kit's source with
# -tags seccomp) goes in too when CRIU_SUITE_RUNC=1, to run before hull and
# make the expected list. The guest step is criu-suite-guest.sh, added to
# lane.env's EXTRA_STEPS; it compares hull's passes with
# expected-checkpoint-runc-v1.5.1.txt. CRIU_SUITE_FILTER (bats --filter)
# and CRIU_SUITE_TIMEOUT (seconds per runtime, default 480) go to the guest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
payload=${1:?usage: criu-suite-payload.sh PAYLOAD-DIR}
"$here/criu-payload.sh" "$payload"

W=$(realpath -m "${RUNC_SUITE_DIR:-/var/tmp/runc-suite}")
src=$W/runc-v1.5.1
# Set up (or checked, ~5 s) under the lock the other lanes take: a host lane
# may be setting it up at this moment.
RUNC_SUITE_DIR=$W "$repo/tests/lib/runc-suite-setup.sh" >/dev/null || vm_die "the runc suite's setup in $W failed"
vm_ensure_pkgs bats jq iproute2 coreutils findutils

s=$payload/runc-suite
mkdir -p "$s/runc-v1.5.1/tests/integration/testdata" "$s/runc-v1.5.1/tests/cmd/_bin" "$s/bin"
cp -a "$src/tests/integration/helpers.bash" "$src/tests/integration/get-images.sh" \
	"$src/tests/integration/checkpoint.bats" "$s/runc-v1.5.1/tests/integration/"
cp -L "$src/tests/integration/testdata/busybox-amd64.tar.xz" "$s/runc-v1.5.1/tests/integration/testdata/"
# get-images.sh only checks that the Debian image exists; checkpoint.bats
# does not use it (6 MiB saved).
: >"$s/runc-v1.5.1/tests/integration/testdata/debian-amd64.tar.xz"
install -m 755 "$src/tests/cmd/_bin/recvtty" "$s/runc-v1.5.1/tests/cmd/_bin/"
install -m 755 "$W/path/udevadm" "$s/bin/udevadm"
# get-images.sh asks `go env GOARCH`; the guest has no go.
cat >"$s/bin/go" <<'EOS'
#!/bin/sh
[ "$1 $2" = "env GOARCH" ] && { echo amd64; exit 0; }
echo "go (criu suite stub): only 'go env GOARCH' works here, not: go $*" >&2
exit 1
EOS
chmod 755 "$s/bin/go"
for b in bash jq ip mktemp stat find gawk comm sort; do
	install -m 755 "$(readlink -f "$(command -v "$b")")" "$s/bin/$b"
done
# helpers.bash's update_config: awk 'BEGIN{RS="";getline<"-";...}', which
# busybox awk does not read as stdin (config.json came out empty).
ln -sf gawk "$s/bin/awk"
mkdir -p "$payload/bats/bin" "$payload/bats/lib" "$payload/bats/libexec"
cp -a /usr/bin/bats "$payload/bats/bin/"
cp -a /usr/lib/bats-core "$payload/bats/lib/"
cp -a /usr/libexec/bats-core "$payload/bats/libexec/"
install -m 755 "$here/criu-suite-guest.sh" "$s/run"
install -m 644 "$here/expected-checkpoint-runc-v1.5.1.txt" "$s/expected.txt"

if [ "${CRIU_SUITE_RUNC:-0}" = 1 ]; then
	runc=${RUNC_UPSTREAM:-/tmp/runc-upstream/runc}
	if [ ! -x "$runc" ]; then
		vm_log "no upstream runc at $runc: building it from $src (-tags seccomp)"
		runc=$s/runc.build
		(cd "$src" && PATH=/usr/local/go/bin:$PATH go build -mod=vendor -tags seccomp -o "$runc" .) ||
			vm_die "upstream runc does not build from $src"
	fi
	install -m 755 "$runc" "$s/runc"
	rm -f "$s/runc.build"
fi
for v in CRIU_SUITE_FILTER CRIU_SUITE_TIMEOUT; do
	[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}" >>"$payload/lane.env"
done
echo "export EXTRA_STEPS=\"\${EXTRA_STEPS:-} checkpoint.bats=/payload/runc-suite/run\"" >>"$payload/lane.env"
vm_log "runc's checkpoint.bats added to the payload$([ -x "$s/runc" ] && echo ", with upstream runc $("$s/runc" --version | head -1)")"
