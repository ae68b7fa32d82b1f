#!/bin/sh
# /payload/run of the cgroup v2 VM lane (see lane.sh), run by the guest's
# /init as root. Not meant to run on a host.
#
# /payload holds hull, lane.env and one directory per Go test binary
# (NAME/NAME.test, with the package's testdata if it has one), run in that
# directory as `go test` would. A smoke check (hull --version, one real
# container) runs first. Every step counts once in the closing line
#   VM-LANE: N passed, M failed
# and the exit code is 0 only if none failed.
. /payload/lane.env
export HULL_TEST_RUNTIME=/payload/hull
export PATH=/payload/bin:/bin:/sbin:/usr/bin:/usr/sbin
passed=0
failed=0
results=
note() { echo "VM-LANE: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
record() { # record NAME RC START
	d=$(awk -v a="$3" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		results="$results $1=ok(${d}s)"
		note "--- $1 passed in ${d}s"
	else
		failed=$((failed + 1))
		results="$results $1=FAIL($2,${d}s)"
		note "--- $1 FAILED (exit $2) in ${d}s"
	fi
}

# hull --version, then `echo hello` in a busybox container (bundle on the
# guest's tmpfs, config from `hull spec`, the script on the container's
# stdin since the spec's args are `sh`).
smoke() {
	/payload/hull --version || return 1
	b=/tmp/vm-lane-smoke
	mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" "$b/rootfs/tmp" || return 1
	cp /bin/busybox "$b/rootfs/bin/busybox" || return 1
	for a in sh echo cat; do ln -s busybox "$b/rootfs/bin/$a"; done
	(cd "$b" && /payload/hull spec) || return 1
	sed -i 's/"terminal": true/"terminal": false/' "$b/config.json"
	out=$(printf 'echo hello\necho "container cgroup: $(cat /proc/self/cgroup)"\n' |
		/payload/hull $HULL_SMOKE_ARGS --root /run/vm-lane-smoke run --bundle "$b" vm-lane-smoke 2>&1)
	rc=$?
	echo "$out"
	rm -rf "$b"
	[ "$rc" = 0 ] || { echo "hull run exited $rc"; return 1; }
	echo "$out" | grep -qx hello || { echo "no hello from the container"; return 1; }
}

# gotest NAME ARGS...: runs /payload/NAME/NAME.test ARGS... in its dir.
gotest() {
	name=$1
	shift
	note "=== $name.test $*"
	start=$(uptime_s)
	log=/tmp/vm-lane-$name.log
	{
		cd "/payload/$name" && "./$name.test" "$@" 2>&1
		echo $? >"$log.rc"
	} | tee "$log"
	rc=$(cat "$log.rc")
	if [ "$rc" = 0 ] && grep -q '^testing: warning: no tests to run' "$log"; then
		note "$name.test: no test matched (counted as passed)"
	fi
	record "$name.test" "$rc" "$start"
}

note "=== smoke: hull --version and one container"
start=$(uptime_s)
smoke
record smoke $? "$start"

for t in $TESTS; do
	case "$t" in
	integration) gotest integration -test.v -test.timeout "$TEST_TIMEOUT" -test.run "$INTEGRATION_RUN" ;;
	*) gotest "$t" -test.v -test.timeout "$TEST_TIMEOUT" ;;
	esac
done

# A lane's own steps (lane.env's EXTRA_STEPS: NAME=PROGRAM ..., added by its
# VM_LANE_EXTRA), each counted as one.
for s in ${EXTRA_STEPS:-}; do
	note "=== ${s%%=*}: ${s#*=}"
	start=$(uptime_s)
	"${s#*=}"
	record "${s%%=*}" $? "$start"
done

if [ -n "$HULL_TEST_SYSTEMD" ]; then
	# Under systemd the tree is systemd's: only the tests' units count.
	left=$(find /sys/fs/cgroup -mindepth 1 -type d -name '*hulltest*' 2>/dev/null)
	units=$(systemctl list-units --all --no-legend --plain 'hulltest-*' 'hull-*.scope' 2>/dev/null)
	[ -n "$units" ] && note "units left in the VM (for information): $(echo $units)"
else
	left=$(find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null)
fi
[ -n "$left" ] && note "cgroups left in the VM (for information): $(echo $left)"
note "results:$results"
note "$passed passed, $failed failed"
[ "$failed" = 0 ]
