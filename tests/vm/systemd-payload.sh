#!/bin/sh
# The systemd VM lane in the guest (run by hull-lane.service under
# systemd as PID 1): what the system looks like, then lane-payload.sh
# (/payload/run) with HULL_TEST_SYSTEMD=1, its exit code reported as
#   HULL-VM-EXIT <nonce> <code>
# on the console, then the VM powered off.
nonce=
for w in $(cat /proc/cmdline); do
	case "$w" in hullvm.nonce=*) nonce=${w#*=} ;; esac
done
echo "VM-LANE: systemd $(systemctl --version | head -1 | cut -d' ' -f2) is PID 1 ($(cat /proc/1/comm)); system state: $(systemctl is-system-running)"
systemctl --failed --no-legend --plain | sed 's/^/VM-LANE: failed unit: /'
echo "VM-LANE: cgroup2 root controllers: $(cat /sys/fs/cgroup/cgroup.controllers); system.slice subtree: $(cat /sys/fs/cgroup/system.slice/cgroup.subtree_control)"
echo "VM-LANE: our cgroup: $(cat /proc/self/cgroup)"
export HULL_TEST_SYSTEMD=1 HULL_SMOKE_ARGS=--systemd-cgroup
cd /payload && ./run
rc=$?
if [ -x /payload/suite/run ]; then
	. /payload/suite/env
	export SUITE_FILES SUITE_FILTER SUITE_RUNTIMES
	/payload/suite/run || rc=1
fi
echo "HULL-VM-EXIT $nonce $rc"
systemctl --no-block poweroff
