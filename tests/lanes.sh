#!/usr/bin/env bash
# The lanes of `make test` after lint, unit and fuzz: the host lanes
# (integration, rootless, runc-suite, oci, callers) one after another, and
# beside them, at the same time, the VM lanes (vm, systemd, criu) one after
# another. The VM lanes are qemu under TCG, pure CPU; the host lanes spend
# much of their time waiting on processes, sockets and sleeps, so running
# both groups at once takes the longer group's time rather than the sum.
#
#   tests/lanes.sh            (root; from make test: bin/hull built)
#
# Environment: LANES_HOST, LANES_VM: the lanes of each group (make targets,
# in order; "" leaves a group out); LANES_SERIAL=1 runs the groups one
# after the other (host first).
#
# The VM group's output is streamed with a "vm| " prefix. Packages that
# lanes of both groups would install are installed here first, so that no
# two apt-get runs race for the dpkg lock; should one still be needed, apt
# waits for the lock (DPkg::Lock::Timeout) instead of failing. At the end a
# table gives each lane's result and time; the exit status is 0 only if
# every lane passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 2
now() { date +%s; }
# group NAME LANES...: runs the lanes in order, each "make -o build LANE"
# (bin/hull is built once, before: the other group runs it meanwhile),
# recording "NAME LANE RC SECONDS" in $LANES_OUT/results.
group() {
	local g=$1 lane t0 rc
	shift
	for lane in "$@"; do
		t0=$(now)
		echo "=== lane $lane ($g group) started at $(date -u +%T)"
		# Its output also to a file, for the digest of failures at the end.
		make --no-print-directory -o build "$lane" 2>&1 | tee "$LANES_OUT/$lane.log"
		rc=${PIPESTATUS[0]}
		echo "=== lane $lane: exit $rc after $(($(now) - t0))s"
		echo "$g $lane $rc $(($(now) - t0))" >>"$LANES_OUT/results"
	done
}
if [ "${1:-}" = --group ]; then
	shift
	group "$@"
	exit 0
fi


host_lanes=${LANES_HOST-integration rootless runc-suite oci callers}
vm_lanes=${LANES_VM-vm systemd criu}
out=$(mktemp -d /tmp/hull-lanes.XXXXXX)
trap 'rm -rf "$out"' EXIT

printf 'DPkg::Lock::Timeout "900";\n' >"$out/apt.conf"
export APT_CONFIG=$out/apt.conf

# The packages lanes of both groups install on first use (callers: Makefile
# CALLER_PKGS; rootless: uidmap, podman; VM lanes: qemu and the rootfs and
# payload tools).
pkgs="containerd podman docker.io jq bc uidmap qemu-system-x86 busybox-static cpio kmod xz-utils mmdebstrap criu iptables bats iproute2"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "lanes: installing:$missing"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		echo "lanes: apt-get install failed; the lanes will say what they miss"
fi

export LANES_OUT=$out
: >"$out/results"
t0=$(now)
vmpid=
if [ -n "$vm_lanes" ] && [ "${LANES_SERIAL:-0}" != 1 ]; then
	# Its own session, so that an interrupted run stops all of it (qemu
	# included) with one kill of the process group.
	# shellcheck disable=SC2086
	setsid bash "$0" --group vm $vm_lanes > >(sed -u 's/^/vm| /') 2>&1 &
	vmpid=$!
	trap 'kill -TERM -- -$vmpid 2>/dev/null; wait "$vmpid" 2>/dev/null; rm -rf "$out"' EXIT
	trap 'exit 143' INT TERM
fi
# shellcheck disable=SC2086
[ -z "$host_lanes" ] || group host $host_lanes
if [ -n "$vmpid" ]; then
	echo "=== host lanes done after $(($(now) - t0))s; waiting for the VM lanes"
	wait "$vmpid"
	trap 'rm -rf "$out"' EXIT
	sleep 1 # the last of sed's output
elif [ -n "$vm_lanes" ]; then
	# shellcheck disable=SC2086
	group vm $vm_lanes
fi

echo
echo "lanes: results (wall $(($(now) - t0))s)"
fail=0
while read -r g lane rc secs; do
	res=passed
	[ "$rc" = 0 ] || { res="FAILED (exit $rc)"; fail=1; }
	printf '  %-5s %-11s %5ss  %s\n' "$g" "$lane" "$secs" "$res"
done <"$out/results"
for lane in $host_lanes $vm_lanes; do
	grep -q " $lane " "$out/results" || { echo "  lane $lane did not report"; fail=1; }
done
# CI keeps only the last lines of this output: the lines that say what
# failed in each failed lane come last, a few per lane, short.
while read -r g lane rc secs; do
	[ "$rc" != 0 ] || continue
	echo "lanes: $lane failed with:"
	# A Go test's failure with the first line it logged (file_test.go:N: ...);
	# when nothing says FAIL, the lane's last lines.
	# A list's heading ("...that failed...:", "...fail with hull:") with its
	# first three entries.
	# Go prints a parallel test's lines before its "--- FAIL" (after "===
	# NAME"), a sequential one's after it: the line just before and the
	# one just after. (The systemd lane prefixes its boots' lines with
	# "sd-v2| " and the like.)
	d=$(awk 'after && /_test\.go:[0-9]+:/ { print; } { after = 0 }
		more > 0 { more--; print; next }
		/--- FAIL/ { after = 1; if (last != "") print last; last = "" }
		/_test\.go:[0-9]+:/ { last = $0 }
		/^(vm\| )?([a-z0-9-]+\| )?=== (RUN|CONT|PAUSE)/ { last = "" }
		/(that failed|fail with hull).*:$/ { more = 3 }
		/--- FAIL|not ok [0-9]|(^|[ :])FAIL[ :]|FAILED|regression|that failed|fail with hull|panic:|timed out/ && !/^=== lane|PASS +FAIL +SKIP|^0 not run/ { print }' "$out/$lane.log" |
		awk '!seen[$0]++' | head -n 10)
	[ -n "$d" ] || d=$(grep -av '^=== lane' "$out/$lane.log" | tail -n 4)
	cut -c1-150 <<<"$d" | sed 's/^[[:space:]]*/  /'
done <"$out/results"
exit "$fail"
