#!/usr/bin/env bash
# The runc-suite lane: runc v1.5.1's own integration suite (../shared/runc-suite)
# against hull as installed (hull-shim beside it), with upstream runc v1.5.1's
# passes on these machines as the bar.
#
# usage: lane.sh            install hull into a temp prefix, run @generic, compare
#        lane.sh --expected RUNC   regenerate expected-runc-v1.5.1.txt from RUNC
#                                  (upstream runc v1.5.1 built with -tags seccomp)
#
# A test is named "<file>: <test name>" as the TAP lines of run.sh's logs name it.
# Every test in expected-runc-v1.5.1.txt must pass ("ok", not a skip) with hull,
# except those in excluded.txt, each with its reason: tests that look at runc's
# internals (its --debug lines), not at behaviour. A file that runs over run.sh's
# TIMEOUT counts its unreported tests as failed, and they are named.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kit=${RUNC_SUITE_KIT:-$top/../shared/runc-suite}
expected=$here/expected-runc-v1.5.1.txt
excluded=$here/excluded.txt

[ -x "$kit/run.sh" ] || { echo "runc-suite lane: no kit at $kit (../shared/runc-suite)" >&2; exit 2; }
RUNC_SUITE_KIT=$kit "$top/tests/lib/runc-suite-setup.sh" >/tmp/runc-suite-setup.$$.log 2>&1 || {
	cat /tmp/runc-suite-setup.$$.log >&2
	echo "runc-suite lane: setup.sh failed" >&2
	exit 2
}
rm -f /tmp/runc-suite-setup.$$.log

# passes LOGDIR: "<file>: <name>" of every test that passed (ok, not skipped)
passes() {
	local tap
	for tap in "$1"/*.tap; do
		sed -nE '/# skip/d; s/^ok [0-9]+ (.*)$/\1/p' "$tap" | sed "s|^|$(basename "$tap" .tap): |"
	done | sort -u
}

if [ "${1:-}" = --expected ]; then
	runc=$(readlink -f "$2")
	logs=$(mktemp -d /tmp/runc-suite-expected.XXXXXX)
	LOGDIR=$logs "$kit/run.sh" "$runc" @generic || true
	{
		echo "# tests upstream runc v1.5.1 passes on these machines: $kit/run.sh $runc @generic"
		echo "# ($("$runc" --version | head -1), $(date -u +%Y-%m-%d))"
		passes "$logs"
	} >"$expected"
	echo "wrote $(grep -vc '^#' "$expected") tests to $expected"
	exit 0
fi

prefix=$(mktemp -d /tmp/hull-lane.XXXXXX)
logs=$prefix/logs
trap 'rm -rf "$prefix/usr"' EXIT
make -C "$top" -s install DESTDIR="$prefix" PREFIX=/usr/local >/dev/null
hull=$prefix/usr/local/sbin/hull
[ -x "$prefix/usr/local/sbin/hull-shim" ] || { echo "runc-suite lane: hull-shim was not installed beside hull" >&2; exit 2; }
echo "runc-suite lane: $hull (hull-shim beside it), logs in $logs (removed if the lane passes)"
rc=0
LOGDIR=$logs "$kit/run.sh" "$hull" @generic || rc=$?
[ "$rc" -le 1 ] || { echo "runc-suite lane: run.sh failed (exit $rc)" >&2; exit 2; }

got=$prefix/hull-passes.txt
passes "$logs" >"$got"
want=$prefix/want.txt
grep -v '^#' "$expected" | grep -vxFf <(sed -nE 's/^([^#\t][^\t]*)\t.*/\1/p' "$excluded") | sort -u >"$want"
missing=$(comm -23 "$want" "$got")

# tapblock TAP NAME: the "not ok" line of test NAME and the "#" lines of
# output that follow it.
tapblock() {
	[ -f "$1" ] || { echo "(no TAP log $1)"; return; }
	awk -v name="$2" '/^not ok [0-9]+ / { s = $0; sub(/^not ok [0-9]+ /, "", s); on = (s == name); if (on) print; next } /^#/ { if (on) print; next } { on = 0 }' "$1"
}

# The suite's own race: setup_recvtty (helpers.bash) starts recvtty in the
# background and does not wait for its socket, so under load a test's
# `run --console-socket` can come first ("connect to .../tty/sock: no such
# file or directory"; runc would fail the same). Such a test, and only
# one whose log shows exactly that, is run once more, alone; it counts as
# passed only if it passes then, and the lane says so.
raced=""
if [ -n "$missing" ]; then
	while IFS= read -r t; do
		f=${t%%: *} name=${t#*: }
		tap=$logs/$f.tap
		[ -f "$tap" ] || continue
		block=$(tapblock "$tap" "$name")
		grep -q 'console socket .*/tty/sock: connect to .*/tty/sock: no such file or directory' <<<"$block" || continue
		re=$(printf '%s' "$name" | sed 's/[][\\.^$*+?(){}|/]/\\&/g')
		if LOGDIR=$prefix/rerun BATS_FILTER="^${re}\$" "$kit/run.sh" "$hull" "$f" >/dev/null 2>&1 &&
			grep -qxF "ok 1 $name" "$prefix/rerun/$f.tap"; then
			raced="$raced$t"$'\n'
			echo "$t" >>"$got"
		fi
		rm -rf "$prefix/rerun"
	done <<<"$missing"
	sort -u -o "$got" "$got"
	missing=$(comm -23 "$want" "$got")
fi
extra=$(comm -13 "$want" "$got" | grep -vxFf <(sed -nE 's/^([^#\t][^\t]*)\t.*/\1/p' "$excluded") || true)

# the per-file table: upstream runc's passes (the bar) against hull's
echo
printf "%-24s %6s %6s\n" FILE RUNC HULL
for tap in "$logs"/*.tap; do
	f=$(basename "$tap" .tap)
	printf "%-24s %6d %6d\n" "$f" "$(grep -c "^$f: " "$want" || true)" "$(grep -c "^$f: " "$got" || true)"
done
printf "%-24s %6d %6d\n" total "$(wc -l <"$want")" "$(wc -l <"$got")"
echo "excluded (runc internals, excluded.txt): $(grep -vc '^#' "$excluded")"
if [ -n "$extra" ]; then
	echo
	echo "hull passes these, upstream runc did not here:"
	echo "$extra" | sed 's/^/  /'
fi
if [ -n "$missing" ]; then
	echo
	echo "FAIL: $(echo "$missing" | wc -l) tests upstream runc v1.5.1 passes here fail with hull:"
	echo "$missing" | sed 's/^/  /'
	# CI keeps only this output, not the logs: show each failure's own
	# (its TAP block, the last 40 lines of it).
	while IFS= read -r t; do
		f=${t%%: *} name=${t#*: }
		echo
		echo "--- $t"
		tapblock "$logs/$f.tap" "$name" | tail -n 40 | sed 's/^/  /'
	done <<<"$missing"
	echo "(TAP logs with each failure's output: $logs)"
	exit 1
fi
if [ -n "$raced" ]; then
	echo
	echo "passed when run again (the first run lost the suite's recvtty race: no console socket yet):"
	printf '%s' "$raced" | sed 's/^/  /'
fi
# Passed: the logs go too (a failure keeps them, named above).
rm -rf "$prefix"
echo
echo "runc-suite lane: every test upstream runc v1.5.1 passes here passes with hull"
