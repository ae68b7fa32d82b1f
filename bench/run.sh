#!/bin/sh
# bench/run.sh HULL: compare hull with runc and crun (Debian's) on one
# busybox bundle; writes bin/bench/results.md, bin/bench/results.svg and
# bin/bench/profile.md (build output, not committed) and prints the
# table. Run as root (make bench).
set -eu
hull=${1:?usage: sh bench/run.sh /path/to/hull [bench flags]}
shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

# Tools: the runtimes compared, busybox-static for the rootfs, time/strace/
# hyperfine/util-linux (unshare, nsenter) for the measurements. perf is
# optional (linux-perf): without it profile.md says so.
need=""
for p in runc crun hyperfine strace time busybox-static util-linux; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
perf=yes
command -v perf >/dev/null 2>&1 || perf=""
if [ -n "$need" ] || [ -z "$perf" ]; then
	apt-get -o DPkg::Lock::Timeout=300 update -qq
fi
if [ -n "$need" ]; then
	echo "bench: installing:$need"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq $need
fi
if [ -z "$perf" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq linux-perf >/dev/null 2>&1 ||
		echo "bench: linux-perf not installable; profile.md will have no perf stat"
fi

tmp=$(mktemp -d /tmp/hullbench-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$repo" && go build -o "$tmp/hullbench" ./bench)
# hull is measured as installed (make install, a package), like runc and
# crun, not as the linker left it: the linker writes its output through a
# shared mapping, which leaves the file's page cache in large folios that
# fault-around maps whole, about 1.3 MB more RSS per hull process.
mkdir "$tmp/bin"
install -m 0755 "$hull" "$tmp/bin/hull"
[ ! -x "$(dirname "$hull")/hull-shim" ] || install -m 0755 "$(dirname "$hull")/hull-shim" "$tmp/bin/hull-shim"
cd "$repo"
"$tmp/hullbench" -hull "$tmp/bin/hull" -hull-from "$hull" -repo "$repo" -out "$repo/bin/bench" "$@"
