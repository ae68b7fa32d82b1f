#!/usr/bin/env bash
# The systemd VM lane (make systemd): hull's systemd cgroup driver under a
# real systemd. Our machines run no systemd; this boots Debian 12's own
# systemd as PID 1 on a pure cgroup v2 host in the VM lane's qemu (run.sh),
# from a Debian rootfs built once with mmdebstrap and cached
# (systemd-rootfs.sh), and runs lane.sh's payload in it from a unit
# (hull-lane.service, systemd-payload.sh) with HULL_TEST_SYSTEMD=1: the
# integration suite then runs hull with --systemd-cgroup and systemd-form
# cgroupsPaths (system.slice:hulltest:NAME), and the Systemd tests check
# units, properties, daemon-reload, delete and a killed create.
#
#   tests/vm/systemd-lane.sh [OUTDIR]
#
# Environment: VM_LANE_RUN (default below), VM_TIMEOUT (default 2400),
# SD_LANE_CALLERS=0 (no callers step), SD_LANE_ROOTLESS=0 (no rootless
# step), SD_LANE_HYBRID=0 (no boot on a hybrid host; SD_HYBRID_RUN its
# -test.run, SD_HYBRID_TIMEOUT its VM_TIMEOUT), SD_SUITE_TIMEOUT (the suite
# boot's VM_TIMEOUT), SD_SMP (each boot's vCPUs, default 1),
# SD_LANE_SERIAL=1 (the boots one after another, not side by side),
# SD_LANE_CGROUP=hybrid (the cgroup v2 boots hybrid),
# SD_LANE_INITRD=1 (the rootfs in the initramfs, not a disk), and lane.sh's
# and run.sh's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || vm_die "systemd-lane.sh needs root"
t0=$(vm_now)
rootfs=$("$here/systemd-rootfs.sh")
vm_log "systemd rootfs: $rootfs (ready after $(vm_since "$t0")s)"
export VM_ROOTFS=$rootfs
export VM_INIT=$here/systemd-init.sh
# The rootfs as a virtio disk (run.sh's VM_ROOTFS_DISK; the ext4 image is
# made once next to the cached rootfs): packing ~450 MiB into the
# initramfs at every run and the guest unpacking it under TCG cost ~50 s.
# SD_LANE_INITRD=1 boots it from the initramfs as before.
[ -n "${SD_LANE_INITRD:-}" ] || export VM_ROOTFS_DISK=1
export VM_MODULES="${VM_MODULES:-overlay binfmt_misc $VM_CRIU_MODULES}"
# SD_LANE_CGROUP=hybrid: systemd on a hybrid host (v1 controllers, cgroup2
# on /sys/fs/cgroup/unified, as systemd.unified_cgroup_hierarchy=0 makes
# it, our hosts' layout), the driver's v1 side; else pure cgroup v2.
unified=1
if [ "${SD_LANE_CGROUP:-}" = hybrid ]; then
	export VM_CGROUP=hybrid
	unified=0
fi
export VM_APPEND="systemd.unified_cgroup_hierarchy=$unified systemd.firstboot=off systemd.show_status=false ${VM_APPEND:-}"
export VM_LANE_SYSTEMD=1
# TCG on shared cores: beside the host lanes of make test the first boot's
# guest ran 1237 s of a 1500 s timeout (2026-12-05, every step passing);
# the timeout guards against a hang, not against a slow machine.
export VM_TIMEOUT=${VM_TIMEOUT:-2400}
# The integration tests took 6 min (lane.sh's -test.timeout) with 6 other
# VMs on the machine; 2 m 45 s to 4 m on a quieter one.
export VM_LANE_TEST_TIMEOUT=${VM_LANE_TEST_TIMEOUT:-15m}
# The callers step (systemd-callers.sh): containerd's CRI + crictl and
# podman with the systemd driver; SD_LANE_CALLERS=0 leaves it out.
if [ "${SD_LANE_CALLERS:-1}" != 0 ]; then
	export VM_LANE_EXTRA="${VM_LANE_EXTRA:+$VM_LANE_EXTRA }$here/systemd-callers-payload.sh"
fi
export VM_LANE_EXTRA="${VM_LANE_EXTRA:-} $here/systemd-criu.sh" # checkpoint/restore, podman's too
# The rootless step (systemd-rootless.sh): a user's hull and rootless
# podman under the user's systemd instance; SD_LANE_ROOTLESS=0 leaves it
# out. It runs in the suite's boot (below), or in the first one if there
# is no suite boot.
rootless_extra=""
[ "${SD_LANE_ROOTLESS:-1}" = 0 ] || rootless_extra=$here/systemd-rootless.sh
# The tests whose path differs under the systemd driver: the cgroup ones
# (exec joining the scope or a sub-cgroup, kill --all, pause, update,
# events, ps, OOM: all named Cgroup...), the Systemd ones, and exec's CPU
# affinity (the scope's cpuset). The other exec and kill tests, which ran
# here until 2026-12-06 (218 s of test time under TCG, a third of the
# step), take no cgroup path of their own: the host lanes run them.
export VM_LANE_RUN="${VM_LANE_RUN:-Systemd|Cgroup|Resources|Pause|Update|Events|Ps|OOM|TestExecCPUAffinity}"
# runc v1.5.1's bats files that exercise the systemd driver, run against
# upstream runc and hull in the VM (systemd-suite.sh); "" skips them.
# Whole files take ~8 min per runtime under TCG: the default filter keeps
# the tests that involve systemd itself and the cgroup ones that differ
# under it, among them cgroups.bats "runc exec (cgroup v2 + init process
# in non-root cgroup)" (the exec falls back to the init's cgroup on EBUSY).
export VM_SUITE_FILES="${VM_SUITE_FILES-cgroups delete update dev run}"
export VM_SUITE_FILTER="${VM_SUITE_FILTER-systemd|daemon-reload|--keep|update cgroup cpu limits|set cpu period with no quota|update cgroup v2 resources via unified map|CheckBeforeUpdate|runc delete|update cgroup v1/v2 common limits|pids.limit|init process in non-root cgroup}"
# Three boots, each its own lane.sh run and VM with one vCPU (SD_SMP), side
# by side (SD_LANE_SERIAL=1: one after another), each one's output
# prefixed by its name:
#   sd-v2      cgroup v2: smoke, cgroups.test, the integration tests, the
#              callers and checkpoint steps;
#   sd-suite   cgroup v2 (VM_SUITE_FILES; none when that is ""): the
#              rootless step, then runc's suite;
#   sd-hybrid  systemd on a hybrid host (below).
# Measured on the idle machine (2026-12-06, make systemd, rootfs cached):
# - one cgroup v2 boot with every step (and 2 vCPUs), then the hybrid
#   boot: 557 s, 693 s of CPU (integration tests 57 s, callers 57 s,
#   checkpoint 65 s, rootless 107 s, suite 171 s; hybrid boot 59 s);
# - the suite in a boot of its own, the three boots side by side, 2 vCPUs
#   each: 555 s, but 965 s of CPU. Six vCPU threads on two cores: a
#   guest's vCPU that waits for another one that is not running spins
#   (the integration tests took 192 s);
# - the cgroup v2 boot with 2 vCPUs beside the suite's and then the
#   hybrid boot's with one: 470 s, 832 s of CPU; with one vCPU for the
#   first boot too: 453 s, 749 s of CPU, the first boot the longest
#   (integration tests 116 s, callers 76 s, checkpoint 85 s, rootless
#   ~100 s) while the other two were done at 330 s. Hence the rootless
#   step in the suite's boot and the hybrid boot beside both: 388-400 s,
#   715-719 s of CPU.
# Logs: OUTDIR/console.log, OUTDIR/suite/, OUTDIR/hybrid/.
out=${1:-}
rcdir=$(mktemp -d /tmp/hull-sd-lane.XXXXXX)
# stop: SIGTERM to every boot's session (lane.sh, run.sh, which passes it
# on to its qemu, timeout, qemu), then wait for them. A signal to this
# script alone (not to its process group, as lanes.sh and a terminal's ^C
# send) stops the lane too.
stop() {
	local f
	for f in "$rcdir"/*.pid; do
		[ -e "$f" ] && kill -TERM -- "-$(cat "$f")" 2>/dev/null
	done
	wait
}
trap 'rm -rf "$rcdir"' EXIT
trap 'stop; exit 130' INT TERM
# boot NAME SUBDIR ENV=VALUE... : lane.sh with that environment and
# OUTDIR/SUBDIR, in the background (SD_LANE_SERIAL=1: in the foreground),
# in a session of its own (setsid: a background job here is no process
# group leader, so setsid forks no more and $! is the session's id); its
# exit code in $rcdir/NAME.
boot() {
	local name=$1 subdir=$2
	shift 2
	{
		r=0
		setsid env VM_SMP="${SD_SMP:-1}" "$@" "$here/lane.sh" ${out:+"$out$subdir"} \
			> >(sed -u "s/^/$name| /") 2>&1 </dev/null &
		echo $! >"$rcdir/$name.pid"
		wait $! || r=$?
		echo "$r" >"$rcdir/$name"
	} &
	[ "${SD_LANE_SERIAL:-0}" != 1 ] || wait $!
}
boots=(sd-v2)
if [ -n "$VM_SUITE_FILES" ]; then
	boot sd-v2 "" VM_SUITE_FILES=
	boots+=(sd-suite)
	# Its own timeout: alone it runs ~5 minutes.
	boot sd-suite /suite VM_LANE_TESTS=none VM_LANE_EXTRA="$rootless_extra" VM_TIMEOUT="${SD_SUITE_TIMEOUT:-1500}"
else
	boot sd-v2 "" VM_LANE_EXTRA="$VM_LANE_EXTRA $rootless_extra"
fi
# The hybrid boot: systemd on a hybrid host (the driver's v1 side:
# MemoryLimit, the v1 hierarchies systemd manages and those it leaves to
# us, OOM with no memory.events), -test.run SD_HYBRID_RUN, no callers,
# checkpoint, rootless or suite steps (the rootless driver is v2 only, the
# suite's expected list is the v2 boot's); SD_LANE_HYBRID=0 leaves it out.
if [ "${SD_LANE_HYBRID:-1}" != 0 ] && [ "${SD_LANE_CGROUP:-}" != hybrid ]; then
	boots+=(sd-hybrid)
	# Its own timeout: it runs ~2 minutes, ~4 beside the host lanes; a
	# guest that hangs (once both its CPUs spun in the kernel) then costs
	# 15 minutes, not the first boot's 40.
	boot sd-hybrid /hybrid VM_CGROUP=hybrid \
		VM_APPEND="${VM_APPEND/systemd.unified_cgroup_hierarchy=1/systemd.unified_cgroup_hierarchy=0}" \
		VM_TIMEOUT="${SD_HYBRID_TIMEOUT:-900}" VM_LANE_EXTRA= VM_SUITE_FILES= \
		VM_LANE_RUN="${SD_HYBRID_RUN:-TestSystemd|TestShimOOM|TestCgroupKillAll|TestCgroupPauseResume|TestCgroupUpdate|TestCgroupExecJoins|TestCgroupPs|TestCgroupEventsStats}"
fi
wait
rc=0
for b in "${boots[@]}"; do
	brc=$(cat "$rcdir/$b" 2>/dev/null || echo "none")
	if [ "$brc" != 0 ]; then
		echo "VM-LANE: FAIL: the $b boot exited $brc"
		rc=1
	fi
done
vm_log "systemd lane: exit $rc after $(vm_since "$t0")s"
exit "$rc"
