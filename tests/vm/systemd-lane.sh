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
# step), SD_LANE_HYBRID=0 (no second boot on a hybrid host; SD_HYBRID_RUN
# its -test.run), SD_LANE_CGROUP=hybrid (the one boot hybrid),
# SD_LANE_INITRD=1 (the rootfs in the
# initramfs, not a disk), and
# lane.sh's and run.sh's.
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
# podman under the user's systemd instance; SD_LANE_ROOTLESS=0 leaves it out.
if [ "${SD_LANE_ROOTLESS:-1}" != 0 ]; then
	export VM_LANE_EXTRA="$VM_LANE_EXTRA $here/systemd-rootless.sh"
fi
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
rc=0
"$here/lane.sh" "$@" || rc=$?
# A second, short boot: systemd on a hybrid host (the driver's v1 side:
# MemoryLimit, the v1 hierarchies systemd manages and those it leaves to
# us, OOM with no memory.events), -test.run SD_HYBRID_RUN, no callers,
# checkpoint, rootless or suite steps (the rootless driver is v2 only, the
# suite's expected list is the v2 boot's); SD_LANE_HYBRID=0 leaves it out.
# Its log: OUTDIR/hybrid/console.log.
if [ "${SD_LANE_HYBRID:-1}" != 0 ] && [ "${SD_LANE_CGROUP:-}" != hybrid ]; then
	hrc=0
	# Its own timeout: it runs ~2 minutes, ~4 beside the host lanes; a
	# guest that hangs (once both its CPUs spun in the kernel) then costs
	# 15 minutes, not the first boot's 40.
	VM_CGROUP=hybrid VM_APPEND="${VM_APPEND/systemd.unified_cgroup_hierarchy=1/systemd.unified_cgroup_hierarchy=0}" \
		VM_TIMEOUT="${SD_HYBRID_TIMEOUT:-900}" VM_LANE_EXTRA="" VM_SUITE_FILES="" \
		VM_LANE_RUN="${SD_HYBRID_RUN:-TestSystemd|TestShimOOM|TestCgroupKillAll|TestCgroupPauseResume|TestCgroupUpdate|TestCgroupExecJoins|TestCgroupPs|TestCgroupEventsStats}" \
		"$here/lane.sh" ${1:+"$1/hybrid"} || hrc=$?
	[ "$hrc" = 0 ] || echo "VM-LANE: FAIL: the hybrid boot (systemd.unified_cgroup_hierarchy=0) exited $hrc"
	[ "$rc" != 0 ] || rc=$hrc
fi
vm_log "systemd lane: exit $rc after $(vm_since "$t0")s"
exit "$rc"
