#!/bin/bash
# In the systemd VM (systemd-payload.sh runs it when the payload has
# /payload/suite): runc v1.5.1's bats files that test the systemd driver
# (SUITE_FILES; SUITE_FILTER: bats --filter), with RUNC_USE_SYSTEMD=1,
# against hull. Fails if a test of the expected list ($S/expected: what
# upstream runc v1.5.1 passed under this systemd, committed as
# tests/vm/systemd-expected-runc-v1.5.1.txt) does not pass with hull.
# With SUITE_RUNTIMES="runc hull" (VM_SUITE_EXPECTED=1) runc runs first and
# its list is printed ("VM-SUITE: runc: ok ..." lines) to make that file.
#   VM-SUITE: runc P passed, F failed, S skipped; hull ...; N regressions
S=/payload/suite
export PATH=$S/path:/usr/sbin:/usr/bin:/sbin:/bin RUNC_USE_SYSTEMD=1
# get-images.sh asks `go env GOARCH`; the guest has no Go.
mkdir -p /tmp/suite-go
printf '#!/bin/sh\ncase "$*" in "env GOARCH") echo amd64 ;; "env GOARM") ;; *) exit 1 ;; esac\n' >/tmp/suite-go/go
chmod 755 /tmp/suite-go/go
export PATH=$PATH:/tmp/suite-go
cd "$S/runc-v1.5.1/tests/integration" || exit 1
files=
for f in $SUITE_FILES; do files="$files $f.bats"; done
for rt in ${SUITE_RUNTIMES:-hull}; do
	echo "VM-SUITE: === $rt --systemd-cgroup: $SUITE_FILES"
	tmp=/tmp/suite-$rt
	mkdir -p "$tmp"
	start=$(cut -d' ' -f1 /proc/uptime)
	RUNC=$S/bin/$rt TMPDIR=$tmp BATS_TMPDIR=$tmp timeout -k 15 "${SUITE_TIMEOUT:-900}" \
		bats --tap --timing ${SUITE_FILTER:+--filter "$SUITE_FILTER"} $files >"/tmp/suite-$rt.tap" 2>&1
	grep -E '^(not )?ok ' "/tmp/suite-$rt.tap" | sed "s/^/VM-SUITE: $rt: /"
	# the output of the first failure, for the log
	awk '/^not ok/ { n++ } n == 1' "/tmp/suite-$rt.tap" | head -40 | sed "s/^/VM-SUITE: $rt first failure: /"
	echo "VM-SUITE: $rt: $(grep -c '^ok .*# skip' "/tmp/suite-$rt.tap") skipped, $(grep '^ok ' "/tmp/suite-$rt.tap" | grep -vc '# skip') passed, $(grep -c '^not ok ' "/tmp/suite-$rt.tap") failed in $(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.0f", b - a }')s"
	# state left by a failed test must not leak into the next runtime's run
	systemctl list-units --all --no-legend --plain 'runc-*' 2>/dev/null | sed "s/^/VM-SUITE: $rt left unit: /"
done
# bats --timing puts " in Nms" after the name (before a skip's reason)
name() { sed -E 's/^(not )?ok [0-9]+ //; s/ # skip.*//; s/ in [0-9]+ms$//'; }
sort "$S/expected" >/tmp/suite-expected
if [ -f /tmp/suite-runc.tap ]; then
	grep '^ok ' /tmp/suite-runc.tap | grep -v '# skip' | name | sort >/tmp/suite-runc-ok
	comm -3 /tmp/suite-expected /tmp/suite-runc-ok | sed 's/^/VM-SUITE: runc now differs from the expected list: /'
fi
grep '^ok ' /tmp/suite-hull.tap | grep -v '# skip' | name | sort >/tmp/suite-hull-ok
missing=$(comm -23 /tmp/suite-expected /tmp/suite-hull-ok)
n=0
[ -n "$missing" ] && n=$(echo "$missing" | wc -l)
echo "$missing" | grep . | sed 's/^/VM-SUITE: regression (runc passes, hull does not): /'
if [ "$n" -gt 0 ]; then
	sed -n '/^not ok/,/^ok /p' /tmp/suite-hull.tap | head -200 | sed 's/^/VM-SUITE: hull tap: /'
fi
echo "VM-SUITE: $(wc -l </tmp/suite-expected) tests runc passes; hull passes $(wc -l </tmp/suite-hull-ok); $n regressions"
if [ ! -s /tmp/suite-expected ]; then
	echo "VM-SUITE: FAIL: the expected list is empty"
	exit 1
fi
[ "$n" = 0 ]
