#!/payload/runc-suite/bin/bash
# /payload/runc-suite/run in the criu lane's guest (criu-suite-payload.sh
# puts it there; lane-payload.sh runs it as the step "checkpoint.bats"):
# runc v1.5.1's checkpoint.bats with bats, first against upstream runc
# v1.5.1 if the payload has it (CRIU_SUITE_RUNC=1), then against hull.
# Passes if hull passes every test of the expected list (expected.txt:
# what runc passed in this VM), and every test runc passed in this boot.
# The TAP output goes to the console. Not meant to run on a host.
set -u
s=/payload/runc-suite
integ=$s/runc-v1.5.1/tests/integration
export PATH=$s/bin:/payload/bats/bin:/payload/bin:/bin:/sbin:/usr/bin:/usr/sbin
export BATS_ROOT=/payload/bats
# The comparisons below need comm and a sort in the same collation; the
# guest's busybox has no comm (the lists then compared as empty, and a
# missing test could not fail the step).
export LC_ALL=C
for b in comm sort; do
	command -v $b >/dev/null || { echo "criu-suite: FAIL: no $b in the guest's PATH ($PATH)"; exit 1; }
done
timeout_s=${CRIU_SUITE_TIMEOUT:-480}
# bash's <(...) and the tests' /proc/self/fd games want /dev/fd (devtmpfs
# has none).
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# The dummy module made a dummy0 when it was loaded (numdummies=1);
# "checkpoint and restore with netdevice" adds its own.
ip link del dummy0 2>/dev/null
# get-images.sh and the helpers are #!/bin/bash
[ -e /bin/bash ] || ln -s $s/bin/bash /bin/bash
for i in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${i#*:}" ] || ln -s "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"
done

passes() { grep -E '^ok [0-9]+ ' "$1" | grep -vE '# skip' | sed -E 's/^ok [0-9]+ //' | sort; }

# suite NAME RUNTIME: checkpoint.bats against RUNTIME, TAP in /tmp/NAME.tap.
suite() {
	local name=$1 rt=$2 tmp=/tmp/criu-suite-$1 start rc
	rm -rf "$tmp"
	mkdir -p "$tmp"
	chmod 755 "$tmp"
	echo "criu-suite: === checkpoint.bats against $rt ($("$rt" --version | head -1))"
	start=$(cut -d' ' -f1 /proc/uptime)
	(cd "$integ" && RUNC=$rt TMPDIR=$tmp BATS_TMPDIR=$tmp exec setsid \
		bats --tap ${CRIU_SUITE_FILTER:+--filter "$CRIU_SUITE_FILTER"} checkpoint.bats) >"/tmp/$name.tap" 2>&1 &
	local bpid=$! n=0
	while kill -0 $bpid 2>/dev/null && [ $n -lt "$timeout_s" ]; do
		sleep 1
		n=$((n + 1))
	done
	if kill -0 $bpid 2>/dev/null; then
		# what hangs: the processes and who holds which pipe
		echo "criu-suite: $name: bats still runs after ${timeout_s}s (CRIU_SUITE_TIMEOUT); processes:"
		ps -o pid,ppid,args | sed "s/^/criu-suite: $name:   /"
		for p in /proc/[0-9]*; do
			f=$(ls -l "$p/fd" 2>/dev/null | awk '/pipe:/ { printf " %s->%s", $(NF-2), $NF }')
			[ -n "$f" ] && echo "criu-suite: $name:   pipes of ${p#/proc/} ($(cat "$p/comm" 2>/dev/null)):$f"
		done
		kill -KILL -- -$bpid 2>/dev/null
		kill -KILL $bpid 2>/dev/null
	fi
	wait $bpid
	rc=$?
	sed "s/^/criu-suite: $name: /" "/tmp/$name.tap"
	# what the runtime still knows of, and the bats dirs
	for d in "$tmp"/bats-run-*/runc.*/state; do
		[ -d "$d" ] || continue
		for ct in $("$rt" --root "$d" list -q 2>/dev/null); do
			"$rt" --root "$d" delete -f "$ct" >/dev/null 2>&1
		done
	done
	rm -rf "$tmp"
	echo "criu-suite: $name: bats exit $rc in $(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }')s;" \
		"$(passes "/tmp/$name.tap" | wc -l) passed, $(grep -cE '^not ok ' "/tmp/$name.tap") failed, $(grep -cE '^ok .*# skip' "/tmp/$name.tap") skipped"
}

if [ -x $s/runc ]; then
	suite runc $s/runc
	echo "criu-suite: runc's passes (the expected list):"
	passes /tmp/runc.tap | sed 's/^/criu-suite: expected: /'
fi
suite hull /payload/hull

fail=0
# ran TAP: every test of the plan reported
ran() {
	local plan
	plan=$(grep -m1 -E '^1\.\.[0-9]+$' "$1" | cut -d. -f3)
	[ -n "$plan" ] && [ "$plan" -gt 0 ] && [ "$(grep -cE '^(not )?ok [0-9]+ ' "$1")" = "$plan" ]
}
for t in /tmp/runc.tap /tmp/hull.tap; do
	[ -f "$t" ] || continue
	ran "$t" || { echo "criu-suite: FAIL: $t: bats did not report every test of its plan"; fail=1; }
done
passes /tmp/hull.tap >/tmp/hull.pass
missing=$(grep -v '^#' $s/expected.txt | grep -v '^$' | sort | comm -23 - /tmp/hull.pass)
if [ -n "$missing" ]; then
	echo "criu-suite: FAIL: hull misses tests of expected.txt:"
	echo "$missing" | sed 's/^/criu-suite:   /'
	fail=1
fi
if [ -f /tmp/runc.tap ]; then
	missing=$(passes /tmp/runc.tap | comm -23 - /tmp/hull.pass)
	if [ -n "$missing" ]; then
		echo "criu-suite: FAIL: hull misses tests runc passed in this VM:"
		echo "$missing" | sed 's/^/criu-suite:   /'
		fail=1
	fi
fi
extra=$(grep -v '^#' $s/expected.txt | grep -v '^$' | sort | comm -13 - /tmp/hull.pass)
[ -n "$extra" ] && echo "criu-suite: hull passes tests not in expected.txt: $(echo $extra)"
exit $fail
