#!/usr/bin/env bash
# The cgroup v2 VM lane: hull's cgroup tests on a pure cgroup v2 host.
#
#   tests/vm/lane.sh [OUTDIR]
#
# Our machines are hybrid (v1 controllers, cgroup2 only on
# /sys/fs/cgroup/unified), so this builds hull and the test binaries here
# and runs them in one VM booted by run.sh (Debian 12's kernel with
# cgroup_no_v1=all, everything in the initramfs):
#   smoke             hull --version and `echo hello` in a busybox container
#   cgroups.test      go test -c ./libcontainer/cgroups/, run with -test.v
#   integration.test  go test -c ./tests, run with -test.v -test.run
#                     "$VM_LANE_RUN" against /payload/hull (the suite
#                     cannot build hull in the guest: no go there; the
#                     `go build`s it does itself, e.g. of hull-shim, are
#                     served from binaries built here, see guest-go.sh)
# The guest prints `VM-LANE: N passed, M failed`; the exit code is the
# guest's (0: all passed), or run.sh's 124/125 when the VM timed out or
# died. A package that does not compile fails the lane before the boot.
#
# Environment: VM_LANE_RUN (default 'Cgroup|Resources|Pause|Update|Events|Ps|OOM|AppArmor'),
# VM_LANE_TESTS (the test binaries, default 'cgroups integration'; none:
# only the smoke check and the lane's own steps),
# VM_LANE_EXTRA (programs, space-separated, each run with the payload
# directory before the boot, to add files to it and lines to its lane.env,
# which the guest sources),
# VM_LANE_TEST_TIMEOUT (go test -test.timeout per binary, default 6m), and
# run.sh's (VM_TIMEOUT, default 900 s for the whole VM, VM_CACHE, ...).
# Logs: OUTDIR (default a new /tmp/hull-vm-lane.XXXXXX, removed if the
# lane passes)/console.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
export PATH=/usr/local/go/bin:$PATH
[ "$(id -u)" = 0 ] || vm_die "lane.sh needs root"
own_out=""
[ -n "${1:-}" ] || own_out=1
out=${1:-$(mktemp -d /tmp/hull-vm-lane.XXXXXX)}
mkdir -p "$out"
out=$(readlink -f "$out")
t0=$(vm_now)

vm_ensure_pkgs gcc libc6-dev libseccomp-dev busybox-static
command -v go >/dev/null || vm_die "go is not installed (looked in PATH and /usr/local/go/bin)"

payload=$out/payload
rm -rf "$payload"
mkdir -p "$payload"
# Interrupted (systemd-lane.sh's stop, lanes.sh, ^C): the payload goes, and
# the whole OUTDIR when it is ours (run.sh, in the same process group, has
# stopped its qemu).
trap '[ -n "${VM_KEEP:-}" ] || rm -rf "$payload"; [ -z "$own_out" ] || rm -rf "$out"; exit 130' INT TERM
cd "$repo"
# The release build (static, as the Makefile makes it), the binary the
# other lanes test too.
vm_log "building hull: make build"
make -s build >/dev/null || vm_die "hull does not build"
cp bin/hull "$payload/hull"

# VM_LANE_TESTS=none: no test binary (a boot for a lane's own steps, e.g.
# systemd-lane.sh's runc-suite boot).
tests=${VM_LANE_TESTS:-cgroups integration}
[ "$tests" != none ] || tests=""

# Every main package of the module, for the integration suite's own `go
# build`s in the guest (guest-go.sh stands in for go there).
# Named by import path with / as %: a package can be a prefix of another.
# In the background, while the test binaries build (each link is serial).
gopids=()
case " $tests " in *" integration "*)
	mkdir -p "$payload/gobin"
	for p in $(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./...); do
		{ go build -o "$payload/gobin/${p//\//%}" "$p" || { echo "VM-LANE: FAIL: $p does not build"; exit 1; }; } &
		gopids+=($!)
	done
	install -D -m 755 "$here/guest-go.sh" "$payload/bin/go"
	;;
esac

# testbin NAME PKG-DIR: go test -c of the package into payload/NAME/.
testbin() {
	local name=$1 pkg=$2
	[ -d "$repo/$pkg" ] || { echo "VM-LANE: FAIL: $pkg does not exist in this checkout; not booting the VM"; exit 1; }
	mkdir -p "$payload/$name"
	vm_log "building $name.test: (cd $pkg && go test -c -o $name.test .)"
	if ! (cd "$repo/$pkg" && go test -c -o "$payload/$name/$name.test" .); then
		echo "VM-LANE: FAIL: $pkg does not compile (go test -c above); not booting the VM"
		exit 1
	fi
	[ -x "$payload/$name/$name.test" ] ||
		{ echo "VM-LANE: FAIL: go test -c in $pkg made no test binary (no test files?)"; exit 1; }
	[ -d "$repo/$pkg/testdata" ] && cp -a "$repo/$pkg/testdata" "$payload/$name/"
	return 0
}
for t in $tests; do
	case "$t" in
	cgroups) testbin cgroups libcontainer/cgroups ;;
	integration) testbin integration tests ;;
	*) vm_die "VM_LANE_TESTS: unknown test binary $t" ;;
	esac
done

for pid in "${gopids[@]}"; do
	wait "$pid" || vm_die "a main package does not build (above)"
done

sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; } # single-quoted for sh
install -m 755 "$here/lane-payload.sh" "$payload/run"
if [ -n "${VM_LANE_SYSTEMD:-}" ]; then
	# systemd-lane.sh: systemd runs the payload (systemd-init.sh installs
	# the unit).
	install -m 755 "$here/systemd-payload.sh" "$payload/systemd-payload.sh"
	install -m 644 "$here/hull-lane.service" "$payload/hull-lane.service"
	# runc's own bats files for the systemd driver (systemd-suite.sh),
	# from the runc-suite setup (../shared/runc-suite) and upstream runc.
	if [ -n "${VM_SUITE_FILES:-}" ]; then
		sdir=${RUNC_SUITE_DIR:-/var/tmp/runc-suite}
		# Set up (or checked) under the lock the other lanes take: the
		# rootless lane may be setting it up at this moment.
		RUNC_SUITE_DIR=$sdir "$repo/tests/lib/runc-suite-setup.sh" >"$out/runc-suite-setup.log" 2>&1 ||
			{ tail -n 20 "$out/runc-suite-setup.log"; vm_die "the runc suite's setup in $sdir failed"; }
		mkdir -p "$payload/suite/bin" "$payload/suite/runc-v1.5.1/tests/cmd"
		cp -aL "$sdir/runc-v1.5.1/tests/integration" "$payload/suite/runc-v1.5.1/tests/"
		cp -aL "$sdir/runc-v1.5.1/tests/cmd/_bin" "$payload/suite/runc-v1.5.1/tests/cmd/"
		cp -aL "$sdir/path" "$payload/suite/path"
		cp bin/hull bin/hull-shim "$payload/suite/bin/"
		if [ "${VM_SUITE_EXPECTED:-}" = 1 ]; then
			runc_bin=${VM_SUITE_RUNC:-/tmp/runc-upstream/runc}
			[ -x "$runc_bin" ] || vm_die "no upstream runc at $runc_bin (VM_SUITE_RUNC)"
			cp "$runc_bin" "$payload/suite/bin/runc"
		fi
		install -m 755 "$here/systemd-suite.sh" "$payload/suite/run"
		echo "SUITE_FILES=$(sq "$VM_SUITE_FILES")" >>"$payload/suite/env"
		echo "SUITE_FILTER=$(sq "${VM_SUITE_FILTER:-}")" >>"$payload/suite/env"
		# The expected list is committed (what upstream runc v1.5.1 passed
		# in this VM); VM_SUITE_EXPECTED=1 runs runc too and prints it anew.
		cp "$here/systemd-expected-runc-v1.5.1.txt" "$payload/suite/expected"
		echo "SUITE_RUNTIMES=$(sq "$([ "${VM_SUITE_EXPECTED:-}" = 1 ] && echo "runc hull" || echo hull)")" >>"$payload/suite/env"
	fi
fi
{
	echo "TESTS=$(sq "$tests")"
	echo "INTEGRATION_RUN=$(sq "${VM_LANE_RUN:-Cgroup|Resources|Pause|Update|Events|Ps|OOM|AppArmor}")"
	echo "TEST_TIMEOUT=$(sq "${VM_LANE_TEST_TIMEOUT:-6m}")"
} >"$payload/lane.env"
# A lane built on this one adds to the payload (and to lane.env) here.
# VM_LANE_EXTRA may name several programs (space-separated), run in order.
for x in ${VM_LANE_EXTRA:-}; do
	"$x" "$payload" || vm_die "VM_LANE_EXTRA $x failed"
done
vm_log "payload built in $(vm_since "$t0")s: $(du -sm "$payload" | cut -f1) MiB in $payload"

rc=0
"$here/run.sh" "$payload" "$out" || rc=$?
[ -n "${VM_KEEP:-}" ] || rm -rf "$payload"
if [ "$rc" = 0 ] && [ -n "$own_out" ] && [ -z "${VM_KEEP:-}" ]; then
	# Its steps' results and times were printed as they came.
	rm -rf "$out"
	vm_log "lane: exit 0 after $(vm_since "$t0")s; its logs removed (the lane passed)"
	exit 0
fi
vm_log "lane: exit $rc after $(vm_since "$t0")s; console log $out/console.log"
exit "$rc"
