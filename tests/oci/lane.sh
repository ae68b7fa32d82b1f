#!/usr/bin/env bash
# The OCI conformance lane: runs the runtime-tools validation suite against
# a runtime and checks that every test file runc or crun passes on these
# machines (shared/facts/oci-validation-baseline.md) is clean for it too.
#
#   tests/oci/lane.sh RUNTIME [OUTDIR]
#
# Each program runs in a private mount and cgroup namespace, with the
# cgroup hierarchies remounted inside it, so that the suite's fixed cgroup
# paths (/cgrouptest, …) land under this lane's own cgroup, which is made
# for the run and removed after it. Nothing is left on the host.
set -euo pipefail
runtime=$(readlink -f "$1")
# OUTDIR (default a new /tmp/hull-oci.XXXXXX, removed if the lane passes):
# each file's TAP and exit code, and table.md.
own_out=""
[ -n "${2:-}" ] || own_out=1
out=${2:-$(mktemp -d /tmp/hull-oci.XXXXXX)}
here=$(cd "$(dirname "$0")" && pwd)
version=v0.9.1-0.20251205004911-5e639034dcdc
mod=github.com/opencontainers/runtime-tools
export PATH=/usr/local/go/bin:$PATH

bin=${OCI_BIN:-/var/cache/hull-oci/$version}
if [ ! -x "$bin/runtimetest" ] || [ ! -x "$bin/state" ]; then
	mkdir -p "$bin"
	# runtimetest runs inside the suite's busybox rootfs: it must be static.
	(cd /tmp && CGO_ENABLED=0 GOBIN="$bin" GOFLAGS=-mod=mod go install "$mod/cmd/runtimetest@$version")
	(cd /tmp && GOBIN="$bin" GOFLAGS=-mod=mod go install "$mod/validation/...@$version")
fi
work=$out/work
mkdir -p "$work"
cp "$(go env GOMODCACHE)/$mod@$version/rootfs-amd64.tar.gz" "$work/"
chmod 644 "$work/rootfs-amd64.tar.gz"
cp "$bin/runtimetest" "$work/"

# The lane's cgroup: one directory under this shell's own cgroup in every
# hierarchy; the suite's containers go below it (tests/lib/lane.sh).
. "$here/../lib/lane.sh"
lane_cgroups hull-oci-lane-$$
# Searchable by all: a container in a user namespace reaches its rootfs
# in there as a mapped user.
bundles=$(mktemp -d /tmp/hull-oci-bundles.XXXXXX)
chmod 755 "$bundles"
trap 'lane_cgroups_remove oci-lane; rm -rf "$bundles"' EXIT

# Files clean for runc 1.1.5 or crun 1.8.1 on these machines (the baseline).
expected="config_updates_without_affect create default delete_only_create_resources hostname kill
kill_no_effect killsig linux_cgroups_cpus linux_cgroups_relative_cpus linux_masked_paths linux_ns_itype
linux_ns_nopath linux_ns_path linux_ns_path_type linux_readonly_paths linux_sysctl linux_uid_mappings
poststop prestart_fail process process_oom_score_adj process_rlimits_fail process_user root_readonly_true
state hooks_stdin linux_cgroups_devices linux_cgroups_relative_devices linux_mount_label linux_seccomp
poststart poststart_fail poststop_fail linux_devices mounts linux_rootfs_propagation"


inner() {
	set -e
	# In the new mount namespace, the hierarchies rooted at the lane's
	# cgroup. If that fails, stop: the suite would otherwise make cgroups
	# at the host's roots.
	. "$here/../lib/lane.sh"
	lane_remount_cgroups || exit 1
	# The suite uses the runtime's default --root: a private one, so that
	# what its tests leave can be found and removed below.
	mkdir -p /run/hull
	mount -t tmpfs -o mode=700 hull-oci-state /run/hull
	# The suite's bundles (ocitestNNN, which some files leave) in a
	# directory of the lane's, removed at its end.
	export TMPDIR=$bundles
	cd "$work"
	# runone NAME: runs one file, its exit code in NAME.rc. A timeout, or
	# no output with a failing exit (a crash, util.Fatal), is written into
	# its TAP as a failure. (The *_fail files print nothing and exit 0
	# when the runtime refused the config as it must.)
	runone() {
		local rc=0
		RUNTIME=$runtime timeout 120 "$bin/$1" > "$out/$1.tap" 2>&1 || rc=$?
		echo $rc > "$out/$1.rc"
		if [ $rc -eq 124 ]; then
			echo "not ok - lane: $1 timed out after 120 s" >> "$out/$1.tap"
		elif [ $rc -ne 0 ] && ! grep -q '^\(not \)\?ok' "$out/$1.tap"; then
			echo "not ok - lane: $1 exited $rc without a test result" >> "$out/$1.tap"
		fi
	}
	for t in "$bin"/*; do
		name=$(basename "$t")
		[ "$name" = runtimetest ] && continue
		[ -n "${OCI_ONLY:-}" ] && ! grep -q " $name " <<<" $OCI_ONLY " && continue
		runone "$name"
	done
	for id in $("$runtime" list -q); do "$runtime" delete --force "$id" || true; done
}
export -f inner
export runtime bin work out expected here bundles
# Enter the lane's cgroup, then unshare: the new cgroup namespace's root is it.
lane_enter
if ! unshare -m -C --propagation private bash -c inner; then
	echo "oci-lane: 0 passed, 1 failed (the lane's namespaces could not be set up)"
	exit 1
fi
pass=0 fail=0
printf '| file | ok | not ok | exit | clean | expected clean |\n|---|---|---|---|---|---|\n' > "$out/table.md"
for f in "$out"/*.tap; do
	name=$(basename "$f" .tap)
	ok=$(grep -c '^ok' "$f" || true)
	nok=$(grep -c '^not ok' "$f" || true)
	clean=yes; [ "$nok" -gt 0 ] && clean=no
	# A file that exits non-zero failed, "not ok" or not (process_capabilities_fail
	# prints its verdict, "MUST cause an error", and exits 1).
	[ "$(cat "$out/$name.rc" 2>/dev/null || echo 0)" = 0 ] || clean=no
	# A file that asserted nothing because the container never ran is
	# no pass either (the *_fail files expect exactly that).
	case "$name" in *_fail) ;; *)
		if [ "$ok" -eq 0 ] && grep -q -E '^failed to (create|start) the container' "$f"; then clean=no; fi ;;
	esac
	want=no; echo " $expected " | tr '\n' ' ' | grep " $name " >/dev/null && want=yes
	printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$ok" "$nok" "$(cat "$out/$name.rc" 2>/dev/null)" "$clean" "$want" >> "$out/table.md"
	if [ "$want" = yes ]; then
		if [ "$clean" = yes ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name (expected clean):"; grep -A8 '^not ok' "$f" | head -20; fi
	fi
done
cat "$out/table.md"
total=$(ls "$out"/*.tap | wc -l)
nclean=$(grep -c '| yes | [a-z]* |$' "$out/table.md" || true)
where="table in $out/table.md"
if [ "$fail" -eq 0 ] && [ -n "$own_out" ]; then
	rm -rf "$out"
	where="its files removed (the lane passed)"
fi
echo "oci lane: $nclean of $total files clean; $where"
echo "oci-lane: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
