#!/usr/bin/env bash
# runc v1.5.1's integration suite in its rootless modes, run as the rootless
# lane's user (lane.sh runs it after podman), as runc's CI does with
# tests/rootless.sh: bats as an unprivileged user, ROOTLESS_FEATURES naming
# what the machine gives that user.
#
#   tests/rootless/suite.sh RUNTIME SUITEDIR LOGDIR [FILE...]
#
# SUITEDIR is a run.sh work dir (../shared/runc-suite/setup.sh made it; the
# user only reads it). Modes ($ROOTLESS_MODES, default "none idmap"):
#   none   ROOTLESS_FEATURES="": the user's own ids only;
#   idmap  ROOTLESS_FEATURES=idmap: subordinate ids through newuidmap/
#          newgidmap (the lane's /etc/subuid, /etc/subgid ranges, given as
#          ROOTLESS_{UID,GID}MAP_START by lane.sh).
# The "cgroup" feature is not run: it needs cgroups chown'd to the user at
# the root of every hierarchy (/sys/fs/cgroup/*/runc-cgroups-integration-test),
# which are the machine's (README, "Rootless").
# Each file runs under script(1) (a tty, as in runc's CI) with a timeout;
# after it, the containers the runtime still knows of are deleted and what
# bats left in its session is killed by pid. TAP logs: LOGDIR/MODE/FILE.tap.
# Output: "MODE FILE PASS FAIL SKIP SECONDS" lines; the lane compares the passes
# ("MODE FILE: TEST") with the expected list.
set -uo pipefail
rt=$(readlink -f "${1:?usage: suite.sh RUNTIME SUITEDIR LOGDIR [FILE...]}")
W=$(readlink -f "${2:?}")
logdir=${3:?}
shift 3
[ "$(id -u)" != 0 ] || { echo "suite.sh: runs as the rootless lane's user, not root" >&2; exit 2; }
T=$W/runc-v1.5.1/tests/integration
[ -r "$T/helpers.bash" ] || { echo "suite.sh: no suite in $W" >&2; exit 2; }
files=("$@")
[ ${#files[@]} -gt 0 ] || files=($(cd "$T" && ls *.bats | sed 's/\.bats$//'))
export PATH=/usr/local/go/bin:$PATH:$W/path RUNC=$rt
unset RUNC_USE_SYSTEMD ROOTLESS_TESTPATH
export ROOTLESS_UIDMAP_START=${HULL_ROOTLESS_SUBUID:-} ROOTLESS_UIDMAP_LENGTH=65536
export ROOTLESS_GIDMAP_START=${HULL_ROOTLESS_SUBGID:-} ROOTLESS_GIDMAP_LENGTH=65536
TIMEOUT=${TIMEOUT:-120}
# spec.bats "spec validator", as run.sh: the git clone from setup.sh's clone,
# Go modules from its cache (extracted into the user's own GOMODCACHE).
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.$W/runtime-spec.git.insteadOf" \
	GIT_CONFIG_VALUE_0=https://github.com/opencontainers/runtime-spec.git
# root's clone: git's upload-pack reads it for the user only when the user's
# global config (its temporary home) names it safe.
git config --global --get-all safe.directory 2>/dev/null | grep -xF "$W/runtime-spec.git" >/dev/null ||
	git config --global --add safe.directory "$W/runtime-spec.git"
export GOMODCACHE=$HOME/gomod GOCACHE=$HOME/gocache GOPROXY=file://$W/gomod/cache/download \
	GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

onefile() { # FILE TAP TMP, as script's session leader
	local f=$1 tap=$2 tmp=$3 rc sid pid
	cd "$T" || return 1
	TMPDIR=$tmp BATS_TMPDIR=$tmp timeout --foreground -k 10 "$TIMEOUT" bats --tap --no-tempdir-cleanup "$T/$f.bats" >"$tap" 2>&1
	rc=$?
	sid=$(ps -o sid= -p $$ | tr -d ' ')
	for pid in $(ps -e -o pid=,sid= | awk -v s="$sid" -v me=$$ '$2 == s && $1 != me {print $1}'); do
		kill -9 "$pid" 2>/dev/null
	done
	return $rc
}
if [ "${SUITE_ONEFILE:-}" = 1 ]; then
	onefile "${files[@]}"
	exit
fi

exec {keep}<> <(:)
for mode in ${ROOTLESS_MODES:-none idmap}; do
	case $mode in
	none) export ROOTLESS_FEATURES= ;;
	idmap) export ROOTLESS_FEATURES=idmap ;;
	*) echo "suite.sh: unknown mode $mode" >&2; exit 2 ;;
	esac
	mkdir -p "$logdir/$mode"
	for f in "${files[@]}"; do
		tap=$logdir/$mode/$f.tap
		start=$SECONDS
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/rsuite.XXXXXX")
		chmod 0755 "$tmp"
		SUITE_ONEFILE=1 script -qefc "$(printf '%q ' "$0" "$rt" "$W" "$logdir" "$f" "$tap" "$tmp")" /dev/null <&"$keep" >"$logdir/$mode/$f.script" 2>&1
		for d in "$tmp"/bats-run-*/runc.*/state; do
			[ -d "$d" ] || continue
			for ct in $(timeout 30 "$rt" --root "$d" list -q 2>/dev/null); do
				timeout 30 "$rt" --root "$d" delete -f "$ct" >/dev/null 2>&1
			done
		done
		rm -rf "$tmp" 2>/dev/null
		s=$(grep -cE '^ok [0-9]+ .*# skip' "$tap")
		p=$(grep -E '^ok [0-9]+ ' "$tap" | grep -cvE '# skip')
		fl=$(grep -cE '^not ok [0-9]+ ' "$tap")
		printf "%-6s %-24s %4d %4d %4d %4ds\n" "$mode" "$f" "$p" "$fl" "$s" $((SECONDS - start))
	done
done
