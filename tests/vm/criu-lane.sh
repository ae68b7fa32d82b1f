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
# VM_TIMEOUT defaults to 1500 s (TCG on shared cores).
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
exec "$here/lane.sh" "$@"
