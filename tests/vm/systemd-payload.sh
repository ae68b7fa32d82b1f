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
# Where the boot's time went (the guest's clock, from the kernel's start):
# the initramfs unpacked (the kernel's messages), systemd started as PID 1,
# and this unit started.
us=$(systemctl show -P UserspaceTimestampMonotonic)
echo "VM-LANE: boot: $(dmesg | grep -m1 -iE 'Trying to unpack rootfs|Unpacking initramfs' | sed -E 's/^\[ *([0-9.]+)\].*/initramfs unpack started at \1s/'), $(dmesg | grep -m1 -iE 'Freeing initrd memory' | sed -E 's/^\[ *([0-9.]+)\].*/done at \1s/'); systemd PID 1 at $(awk -v u="$us" 'BEGIN { printf "%.1f", u / 1e6 }')s; this unit at $(cut -d' ' -f1 /proc/uptime)s"
# the boot's slow steps: journal messages that came 2 s or more after the
# one before
journalctl -b -q -o short-monotonic --no-pager 2>/dev/null |
	awk -F'[][]' '{ t = $2 + 0; if (t - p >= 2) printf "VM-LANE: boot: +%.1fs to %s\n", t - p, $0; p = t }' | cut -c1-200
# and the units that took longest to start (systemd-analyze blame needs a
# finished boot; this unit is part of it)
systemctl show -p Id -p InactiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic '*' 2>/dev/null |
	awk -F= '$1 == "Id" { id = $2 } $1 == "InactiveExitTimestampMonotonic" { s = $2 }
		$1 == "ActiveEnterTimestampMonotonic" { if (s > 0 && $2 > s) printf "%.1f %s\n", ($2 - s) / 1e6, id }' |
	sort -rn | head -8 | tr '\n' ' ' | sed 's/^/VM-LANE: boot: slowest units (s): /; s/$/\n/'
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
