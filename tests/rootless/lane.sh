#!/usr/bin/env bash
# The rootless lane (make rootless): hull's integration tests run by an
# unprivileged user, as rootless podman or a user by hand would run hull.
#
# usage: lane.sh HULL [go test -run regex]     (as root)
#        lane.sh --shell HULL                  (as root: the same user and
#                                              environment, an interactive shell)
#
# It adds a temporary user (uid and gid above every existing one, a home of
# its own, 65536 subordinate uids and gids in /etc/subuid and /etc/subgid),
# installs newuidmap/newgidmap (Debian's uidmap) if missing, builds the test
# binary as root and runs it as that user with HULL_TEST_ROOTLESS=1. Tests
# that need root skip themselves, each with its reason. Then rootless podman
# drives the same runtime as that user (podman.sh), then runc's suite runs
# in its rootless modes as that user (suite.sh).
#
# Whatever happens (a failure, ^C, TERM), the trap kills the user's processes
# (by pid, those with its uid), removes its home and the lane's temp dir, and
# puts back /etc/passwd, group, shadow, gshadow, subuid, subgid (and their "-"
# backups) byte for byte, checked with cmp; a file that did not exist is
# removed again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

shell=0
if [ "${1:-}" = --shell ]; then
	shell=1
	shift
fi
hull=${1:?usage: lane.sh HULL [regex]}
hull=$(readlink -f "$hull")
# The tests that make sense for a user: lifecycle, exec, tty, mounts, user
# namespace maps (single and multi-range), bad input, the CLI, the root dir.
regex=${2:-${HULL_ROOTLESS_RUN:-'^(TestCreateStartKillDelete|TestKillSignals|TestStateJSON|TestList|TestRunExitCodes|TestRunRemovesContainer|TestRunKeep|TestRunDetach|TestDeleteRunning|TestDeleteForceCreated|TestKillStopped|TestStartTwice|TestCreateExistingID|TestExec.*|TestTerminal.*|TestTmpfsMount|TestBindMount.*|TestReadonlyRoot|TestMaskedPaths|TestReadonlyPaths|TestDefaultDevices|TestBadInput|TestMissingContainer|TestVersion|TestHelp|TestSpec.*|TestRootless.*|TestUserNamespace.*|TestHostname|TestPid1|TestNamespacesDiffer)$'}}

[ "$(id -u)" = 0 ] || { echo "rootless lane: run it as root: it adds and removes a temporary user" >&2; exit 2; }
[ -x "$hull" ] || { echo "rootless lane: $hull is not an executable" >&2; exit 2; }
# hull-shim beside hull (another runtime, runc say, may be compared without).
case "$(basename "$hull")" in
*hull*) [ -x "$(dirname "$hull")/hull-shim" ] || { echo "rootless lane: no hull-shim beside $hull" >&2; exit 2; } ;;
esac

# One lane at a time on a machine: each restores /etc as it found it, so
# two at once would drop each other's user (or leave one behind). The lock
# goes with the process holding it; a lane that waits half an hour gives up.
exec 9>>/run/lock/hull-rootless-lane.lock
if ! flock -n 9; then
	echo "rootless lane: another rootless lane runs on this machine (lock /run/lock/hull-rootless-lane.lock): waiting for it"
	flock -w 1800 9 || { echo "rootless lane: the other rootless lane still runs after 30 min: giving up" >&2; exit 2; }
fi
etcfiles="passwd group shadow gshadow subuid subgid passwd- group- shadow- gshadow- subuid- subgid-"
user=hullrl$$
work=$(mktemp -d /tmp/hull-rootless.XXXXXX)
chmod 0755 "$work"
backup=$work/etc
mkdir -m 0700 "$backup"
for f in $etcfiles; do
	if [ -e "/etc/$f" ]; then
		cp -a "/etc/$f" "$backup/$f"
	else
		: >"$backup/$f.absent"
	fi
done
uid=
testpid=

cleanup() {
	local rc=$? f pids n
	trap - EXIT INT TERM HUP
	set +e
	for p in $testpid; do
		if kill -0 "$p" 2>/dev/null; then
			# timeout passes TERM on to the tests, and kills them 10 s later.
			kill -TERM "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	if [ -n "$uid" ]; then
		# The user's processes (containers, shims a test left): by pid,
		# only those with its uid; again until none is left.
		for n in 1 2 3 4 5 6 7 8 9 10; do
			# Zombies (a container's init killed and reparented to
			# pid 1) are pid 1's to reap, and cannot be killed.
			pids=$(ps -e -o pid=,uid=,stat= | awk -v u="$uid" '$2 == u && $3 !~ /^Z/ {print $1}')
			[ -z "$pids" ] && break
			if [ "$n" = 1 ]; then
				echo "rootless lane: killing processes the user $user left:" >&2
				ps -o pid=,ppid=,stat=,args= -p "$(echo $pids | tr ' ' ,)" >&2
				rc=1
			fi
			for p in $pids; do kill -KILL "$p" 2>/dev/null; done
			sleep 0.5
		done
		[ -n "$pids" ] && { echo "rootless lane: processes of uid $uid remain: $(echo $pids)" >&2; rc=1; }
	fi
	# Mounts are the user's own (its namespaces): gone with its processes.
	rm -rf "$work/home" "$work/tmp" "$work/xdg" "$work/bin" "$work/hulltests.test"
	# Rootless podman's shared-memory lock for the user's uid outlives
	# `podman system reset` and the user (the uid is one no user had).
	[ -z "$uid" ] || rm -f "/dev/shm/libpod_rootless_lock_$uid"
	# The suite's logs, kept for a look, belong to root once the user
	# is gone (not to a uid no user has).
	[ -z "${slog:-}" ] || [ ! -d "$slog" ] || chown -R 0:0 "$slog"
	for f in $etcfiles; do
		if [ -e "$backup/$f.absent" ]; then
			rm -f "/etc/$f"
		else
			cp -a "$backup/$f" "/etc/$f"
			cmp -s "$backup/$f" "/etc/$f" || { echo "rootless lane: /etc/$f differs from its backup $backup/$f (kept)" >&2; rc=1; continue; }
			rm -f "$backup/$f"
		fi
		rm -f "$backup/$f.absent"
	done
	if rmdir "$backup" 2>/dev/null; then
		rm -rf "$work"
	else
		echo "rootless lane: backups kept in $backup" >&2
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if ! command -v newuidmap >/dev/null || ! command -v newgidmap >/dev/null; then
	echo "rootless lane: installing uidmap (newuidmap, newgidmap)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq uidmap >/dev/null
fi

# A uid and gid above every one in use; subordinate ids after every range
# in /etc/subuid and /etc/subgid (and above 100000).
uid=$(awk -F: 'BEGIN {m = 1999} $3 > m && $3 < 60000 {m = $3} END {print m + 1}' /etc/passwd)
gid=$(awk -F: 'BEGIN {m = 1999} $3 > m && $3 < 60000 {m = $3} END {print m + 1}' /etc/group)
[ "$uid" -lt 60000 ] && [ "$gid" -lt 60000 ] || { echo "rootless lane: no free uid/gid below 60000" >&2; exit 2; }
subid() { awk -F: 'BEGIN {m = 100000} $2 + $3 > m {m = $2 + $3} END {print m}' "$1" 2>/dev/null || echo 100000; }
subu=$(subid /etc/subuid)
subg=$(subid /etc/subgid)
home=$work/home
echo "$user:x:$uid:$gid:hull rootless lane:$home:/bin/sh" >>/etc/passwd
echo "$user:x:$gid:" >>/etc/group
echo "$user:!:$(($(date +%s) / 86400)):0:99999:7:::" >>/etc/shadow
echo "$user:!::" >>/etc/gshadow
echo "$user:$subu:65536" >>/etc/subuid
echo "$user:$subg:65536" >>/etc/subgid
chmod 0644 /etc/subuid /etc/subgid
for d in home tmp xdg bin; do
	install -d -m 0700 -o "$uid" -g "$gid" "$work/$d"
done
chmod 0755 "$work/bin"
name=$(basename "$hull")
cp "$hull" "$work/bin/$name"
[ ! -x "$(dirname "$hull")/hull-shim" ] || cp "$(dirname "$hull")/hull-shim" "$work/bin/hull-shim"
echo "rootless lane: user $user uid $uid gid $gid, subuid $subu:65536, subgid $subg:65536, work $work"

asuser=(setpriv --reuid="$uid" --regid="$gid" --clear-groups --reset-env
	env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/sh
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	TMPDIR="$work/tmp" XDG_RUNTIME_DIR="$work/xdg" HULL_TEST_ROOTLESS=1
	HULL_TEST_RUNTIME="$work/bin/$name" HULL_ROOTLESS_SUBUID="$subu" HULL_ROOTLESS_SUBGID="$subg")
if [ "$shell" = 1 ]; then
	"${asuser[@]}" /bin/bash -i || true
	exit 0
fi

(cd "$top/tests" && go test -c -o "$work/hulltests.test" .)
chmod 0755 "$work/hulltests.test"
echo "rootless lane: go test -run '$regex' as $user"
cd "$top/tests"
rc=0
log=${HULL_ROOTLESS_LOG:-/tmp/hull-rootless-lane.log}
# In the background, so that ^C or TERM runs the trap at once (bash defers
# traps while a foreground child runs); the trap stops the tests first.
timeout -k 10 10m "${asuser[@]}" "$work/hulltests.test" -test.count=1 -test.timeout=8m -test.v -test.run "$regex" >"$log" 2>&1 &
testpid=$!
wait "$testpid" || rc=$?
testpid=
grep -E '^\s*--- (PASS|FAIL|SKIP)' "$log" || true
pass=$(grep -cE '^\s*--- PASS' "$log" || true)
skip=$(grep -cE '^\s*--- SKIP' "$log" || true)
fail=$(grep -cE '^\s*--- FAIL' "$log" || true)
if [ "$rc" != 0 ]; then
	echo "---- failures (full log: $log) ----"
	grep -vE '^=== (RUN|PAUSE|CONT)|^\s*--- (PASS|SKIP)' "$log" | head -400 || true
fi

# Rootless podman drives the runtime under test (tests/rootless/podman.sh,
# as the user; HULL_ROOTLESS_PODMAN=0 leaves it out).
prc=0
ppass=0
pfail=0
if [ "${HULL_ROOTLESS_PODMAN:-1}" != 0 ]; then
	if ! command -v podman >/dev/null; then
		echo "rootless lane: installing podman"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
	fi
	plog=${HULL_ROOTLESS_PODMAN_LOG:-/tmp/hull-rootless-podman.log}
	timeout -k 10 5m "${asuser[@]}" "$here/podman.sh" "$work/bin/$name" >"$plog" 2>&1 &
	testpid=$!
	wait "$testpid" || prc=$?
	testpid=
	grep -E '^(PASS|FAIL) podman' "$plog" || true
	ppass=$(grep -cE '^PASS podman' "$plog" || true)
	pfail=$(grep -cE '^FAIL podman' "$plog" || true)
	if [ "$prc" != 0 ]; then
		echo "---- podman failures (full log: $plog) ----"
		grep -vE '^PASS podman' "$plog" | head -200 || true
		[ "$pfail" -gt 0 ] || pfail=1
	fi
fi

# runc v1.5.1's suite in its rootless modes (suite.sh, as the user), in the
# run.sh work dir HULL_ROOTLESS_SUITE_DIR (default /var/tmp/runc-suite, made
# by ../shared/runc-suite/setup.sh; HULL_ROOTLESS_SUITE=0 leaves it out).
# Every "MODE FILE: TEST" of expected-runc-v1.5.1.txt must pass;
# HULL_ROOTLESS_SUITE_EXPECTED=1 writes that list from this runtime's passes
# instead (upstream runc v1.5.1: lane.sh /tmp/runc-upstream/runc).
# For iteration: HULL_ROOTLESS_SUITE_FILES (a regex on file names),
# HULL_ROOTLESS_SUITE_MODES ("none idmap"), HULL_ROOTLESS_SUITE_SERIAL=1
# (one mode after the other), HULL_ROOTLESS_SUITE_LOG (the logs' dir).
# HULL_ROOTLESS_SUITE_TIMEOUT: seconds per file (default 240: a guard
# against a hang; the two modes at once on a busy machine take some files
# past run.sh's 120).
src=0
spass=0
sfail=0
sdir=${HULL_ROOTLESS_SUITE_DIR:-/var/tmp/runc-suite}
expected=$here/expected-runc-v1.5.1.txt
if [ "${HULL_ROOTLESS_SUITE:-1}" != 0 ]; then
	if [ ! -r "$sdir/runc-v1.5.1/tests/integration/helpers.bash" ]; then
		echo "rootless lane: no runc suite in $sdir (../shared/runc-suite/setup.sh makes it)" >&2
		src=2
		sfail=1
	else
		slog=${HULL_ROOTLESS_SUITE_LOG:-/tmp/hull-rootless-suite}
		rm -rf "$slog"
		install -d -m 0755 -o "$uid" -g "$gid" "$slog"
		# @generic: every file but runc's own (checkpoint debug help version).
		# HULL_ROOTLESS_SUITE_FILES (a regex on the file names) limits it,
		# for iteration; the comparison then covers those files only.
		files=$(cd "$sdir/runc-v1.5.1/tests/integration" && ls *.bats | sed 's/\.bats$//' | grep -vxE 'checkpoint|debug|help|version' |
			grep -E "${HULL_ROOTLESS_SUITE_FILES:-.}")
		# spec.bats "spec validator" builds runtime-spec's validate.go as
		# the user: with a cold Go build cache that is minutes (the
		# standard packages it needs; over the file's timeout on a busy
		# machine). The user's GOCACHE starts as a copy of one kept in
		# the suite dir, filled here once by the same build as root.
		gocache=$sdir/rootless-gocache
		if [ ! -d "$gocache" ]; then
			echo "rootless lane: filling $gocache (once per suite dir)"
			fill=$(mktemp -d)
			(
				cd "$fill" &&
					export PATH=/usr/local/go/bin:$PATH GIT_CONFIG_COUNT=1 \
						GIT_CONFIG_KEY_0="url.$sdir/runtime-spec.git.insteadOf" \
						GIT_CONFIG_VALUE_0=https://github.com/opencontainers/runtime-spec.git \
						GOCACHE=$gocache.new GOMODCACHE=$fill/gomod GOPROXY=file://$sdir/gomod/cache/download \
						GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false &&
					ref=$(awk '$1 == "github.com/opencontainers/runtime-spec" {print $2}' "$sdir/runc-v1.5.1/go.mod") &&
					git clone -q https://github.com/opencontainers/runtime-spec.git &&
					cd runtime-spec && git reset -q --hard "$ref" && cd schema &&
					go mod init runtime-spec && go mod tidy && go build ./validate.go
			) >"$work/gocache-fill.log" 2>&1 && mv "$gocache.new" "$gocache" ||
				{ echo "rootless lane: could not fill $gocache (spec validator starts cold):" >&2; tail -5 "$work/gocache-fill.log" >&2; }
			chmod -R u+w "$fill" 2>/dev/null
			rm -rf "$fill" "$gocache.new"
		fi
		if [ -d "$gocache" ]; then
			cp -a "$gocache" "$home/gocache"
			chown -R "$uid:$gid" "$home/gocache"
		fi
		# root's clone of runtime-spec, read by the user's git only when
		# named safe in its global config (written here, not by the two
		# suite.sh at once).
		"${asuser[@]}" git config --global --add safe.directory "$sdir/runtime-spec.git" || true
		# The two modes share nothing (each test has its own dirs and
		# --root): they run at the same time, one suite.sh each, unless
		# HULL_ROOTLESS_SUITE_SERIAL=1.
		modes=${HULL_ROOTLESS_SUITE_MODES:-none idmap}
		echo "rootless lane: runc suite (rootless modes: $modes) as $user, logs in $slog"
		sstart=$SECONDS
		testpid=
		for m in $modes; do
			# shellcheck disable=SC2086
			timeout -k 10 60m "${asuser[@]}" ROOTLESS_MODES="$m" TIMEOUT="${HULL_ROOTLESS_SUITE_TIMEOUT:-240}" "$here/suite.sh" "$work/bin/$name" "$sdir" "$slog" $files >"$slog/summary-$m.txt" 2>&1 &
			if [ "${HULL_ROOTLESS_SUITE_SERIAL:-0}" = 1 ]; then
				testpid=$!
				wait "$testpid" || src=$?
				testpid=
			else
				testpid="$testpid $!"
			fi
		done
		for p in $testpid; do
			wait "$p" || src=$?
		done
		testpid=
		for m in $modes; do cat "$slog/summary-$m.txt"; done | tee "$slog/summary.txt"
		echo "rootless lane: runc suite took $((SECONDS - sstart))s"
		got=$work/suite-passes.txt
		for tap in "$slog"/*/*.tap; do
			m=$(basename "$(dirname "$tap")")
			f=$(basename "$tap" .tap)
			sed -nE '/# skip/d; s/^ok [0-9]+ (.*)$/\1/p' "$tap" | sed "s|^|$m $f: |"
		done | sort -u >"$got"
		if [ "${HULL_ROOTLESS_SUITE_EXPECTED:-0}" = 1 ]; then
			{
				echo "# runc v1.5.1's suite, rootless modes, tests upstream runc passes here as the rootless lane's user:"
				echo "# HULL_ROOTLESS_SUITE_EXPECTED=1 tests/rootless/lane.sh $hull ($("$hull" --version | head -1), $(date -u +%Y-%m-%d))"
				cat "$got"
			} >"$expected"
			spass=$(wc -l <"$got")
			echo "rootless lane: wrote $spass tests to $expected"
		else
			want=$work/suite-expected.txt
			# the expected passes of the files that ran
			grep -v '^#' "$expected" | awk -v fl="$(echo $files)" 'BEGIN {n = split(fl, a, " "); for (i = 1; i <= n; i++) ran[a[i] ":"] = 1} $2 in ran' | sort -u >"$want"
			# The runc-suite lane's exclusions (tests/runc-suite/excluded.txt:
			# tests that grep runc's own --debug lines or its name; the
			# behaviour each checks is in hull's own tests) hold here too,
			# in both modes, when the runtime is not runc.
			excl=$work/suite-excluded.txt
			: >"$excl"
			case "$(basename "$hull")" in
			runc*) ;;
			*)
				grep -v '^#' "$top/tests/runc-suite/excluded.txt" | cut -f1 | grep . |
					while IFS= read -r t; do for m in $modes; do echo "$m $t"; done; done | sort -u |
					comm -12 - "$want" >"$excl"
				;;
			esac
			nexcl=$(wc -l <"$excl")
			if [ "$nexcl" -gt 0 ]; then
				echo "rootless lane: $nexcl expected tests excluded as in the runc-suite lane (tests/runc-suite/excluded.txt):"
				while IFS= read -r t; do
					if grep -qxF "$t" "$got"; then echo "  passed: $t"; else echo "  failed: $t"; fi
				done <"$excl"
				comm -23 "$want" "$excl" >"$want.kept"
				mv "$want.kept" "$want"
			fi
			missing=$(comm -23 "$want" "$got")
			spass=$(comm -12 "$want" "$got" | wc -l)
			sfail=$(printf '%s' "$missing" | grep -c . || true)
			extra=$(comm -13 "$want" "$got" | comm -23 - "$excl")
			[ -z "$extra" ] || printf 'rootless lane: passes that upstream runc does not here:\n%s\n' "$extra"
			if [ -n "$missing" ]; then
				printf 'rootless lane: expected passes that failed (logs: %s):\n%s\n' "$slog" "$missing"
			fi
		fi
	fi
fi
echo "rootless lane: $pass passed, $skip skipped, $fail failed (go test exit $rc); podman: $ppass passed, $pfail failed; runc suite (rootless): $spass passed, $sfail failed${nexcl:+ ($nexcl excluded)}"
[ "$rc" = 0 ] && [ "$prc" = 0 ] && [ "$sfail" = 0 ]
