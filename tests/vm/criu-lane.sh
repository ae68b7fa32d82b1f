#!/usr/bin/env bash
# The checkpoint/restore VM lane: hull's checkpoint tests with criu in a VM.
#
#   tests/vm/criu-lane.sh [OUTDIR]
#
# Debian 12's criu 3.17.1 cannot dump on our hosts' kernels (from 6.13 the
# vvar mapping is split: "vdso: Unexpected rt vDSO area bounds"); in the
# VM lane's guest (Debian 12's 6.1 kernel) it works. This is lane.sh with
# only the integration tests, -test.run VM_LANE_RUN (default 'Checkpoint'),
# criu and iptables-restore in the payload (criu-payload.sh), and the
# modules criu needs at boot: crc32c (criu's kerndat probes), nf_tables and
# the nft_ modules iptables-nft uses, nf_conntrack_netlink (without them:
# "kerndat_has_nftables_concat failed", then "-22 reported by netlink"),
# and the sock_diag modules criu collects sockets with (unix_diag, inet_diag,
# tcp_diag, udp_diag, raw_diag, af_packet_diag, netlink_diag: without them
# the dump fails after "Sockects collect procedure ... -2").
# VM_TIMEOUT defaults to 1500 s (TCG on shared cores). Then a short second
# boot on a hybrid cgroup host (below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export VM_LANE_TESTS=integration
export VM_LANE_RUN=${VM_LANE_RUN:-Checkpoint}
# runc v1.5.1's checkpoint.bats too (criu-suite-payload.sh), unless
# CRIU_LANE_SUITE=0; CRIU_SUITE_RUNC=1 runs upstream runc on it first.
if [ "${CRIU_LANE_SUITE:-1}" = 0 ]; then
	export VM_LANE_EXTRA=$here/criu-payload.sh
else
	export VM_LANE_EXTRA=$here/criu-suite-payload.sh
fi
export VM_LANE_TEST_TIMEOUT=${VM_LANE_TEST_TIMEOUT:-20m}
export VM_TIMEOUT=${VM_TIMEOUT:-1500}
export VM_MODULES=${VM_MODULES-"overlay $VM_CRIU_MODULES"}
rc=0
"$here/lane.sh" "$@" || rc=$?
# A second, short boot on a hybrid host (run.sh's VM_CGROUP=hybrid: v1
# controllers, cgroup2 on /sys/fs/cgroup/unified, our hosts' layout) for
# the checkpoint of a container's cgroup v1 mounts (-test.run
# CRIU_HYBRID_RUN, default TestCheckpointCgroupV1Mounts; ~40 s), unless
# CRIU_LANE_HYBRID=0. Its log: OUTDIR/hybrid/console.log. runc's
# checkpoint.bats "checkpoint and restore (cgroupns)" needs such a host
# too; by hand: VM_CGROUP=hybrid VM_LANE_RUN=none CRIU_SUITE_RUNC=1
# CRIU_SUITE_FILTER='cgroupns' tests/vm/criu-lane.sh (one hybrid boot).
if [ "${CRIU_LANE_HYBRID:-1}" != 0 ] && [ "${VM_CGROUP:-}" != hybrid ]; then
	hrc=0
	VM_CGROUP=hybrid VM_LANE_RUN=${CRIU_HYBRID_RUN:-TestCheckpointCgroupV1Mounts} \
		VM_LANE_EXTRA=$here/criu-payload.sh "$here/lane.sh" ${1:+"$1/hybrid"} || hrc=$?
	[ "$hrc" = 0 ] || echo "VM-LANE: FAIL: the hybrid boot (VM_CGROUP=hybrid) exited $hrc"
	[ "$rc" != 0 ] || rc=$hrc
fi
exit "$rc"
