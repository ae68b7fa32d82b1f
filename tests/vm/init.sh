#!/bin/sh
# /init of the hull test VM (busybox sh, PID 1). Packed into the initramfs
# by run.sh; not meant to run anywhere else.
#
# Stage 1 runs on the initramfs (rootfs), which pivot_root(2) refuses to
# leave, so a container runtime could not start a single container there:
# it makes a bind mount of it the root and runs itself again. Stage 2 mounts
# the API filesystems, makes a pure cgroup v2 host (cgroup2 on
# /sys/fs/cgroup, every controller enabled for the children of the root),
# runs /payload/run and prints its exit code on the console as
#   HULL-VM-EXIT <nonce> <code>
# (the nonce comes from the kernel command line, so that no output of the
# payload can be taken for that line), then powers the VM off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

arg() { # arg NAME: the value of hullvm.NAME= on the kernel command line
	for w in $(cat /proc/cmdline); do
		case "$w" in "hullvm.$1="*) echo "${w#*=}"; return ;; esac
	done
}

off() {
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 3600
}

if [ "$HULLVM_STAGE" != 2 ]; then
	# The console is the initramfs' /dev/console, opened by the kernel.
	# A bind mount of the rootfs on itself, made the root as switch_root
	# would (which refuses a bind): the files stay where the kernel
	# unpacked them, the root now has a parent mount.
	export HULLVM_STAGE=2
	mount --bind / /newroot && cd /newroot && mount --move . / && exec chroot . /init
	# PID 1 may not exit (the kernel would panic): report and power off.
	mount -t proc proc /proc
	echo "HULL-VM: stage 1 could not make a root that pivot_root(2) can leave"
	echo "HULL-VM-EXIT $(arg nonce) 125"
	off
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
stty -onlcr 2>/dev/null # plain \n on the serial line
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
# The options of a systemd host's cgroup2 mount (hullvm.cgopts= on the
# kernel command line replaces them).
cgopts=$(arg cgopts)
if [ "$(arg cgroup)" = hybrid ]; then
	# run.sh's VM_CGROUP=hybrid: a hybrid host as systemd makes one (our
	# hosts' layout): a tmpfs, one v1 hierarchy per controller, cgroup2
	# (no controllers) on /sys/fs/cgroup/unified.
	mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup_root /sys/fs/cgroup
	for c in $(awk 'NR > 1 && $4 == 1 { print $1 }' /proc/cgroups); do
		mkdir -p "/sys/fs/cgroup/$c"
		mount -t cgroup -o "nosuid,nodev,noexec,relatime,$c" cgroup "/sys/fs/cgroup/$c" || rmdir "/sys/fs/cgroup/$c"
	done
	mkdir -p /sys/fs/cgroup/unified
	mount -t cgroup2 -o nosuid,nodev,noexec,relatime cgroup2 /sys/fs/cgroup/unified
else
	mount -t cgroup2 -o "${cgopts:-nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot}" cgroup2 /sys/fs/cgroup ||
		mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi
hostname hullvm
ip link set lo up 2>/dev/null
nonce=$(arg nonce)

echo "HULL-VM: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB; up $(cut -d' ' -f1 /proc/uptime)s"
# Where the kernel is (KASLR, when the kernel is booted through its
# decompressor): the addresses in run.sh's stall report are relative to it.
echo "HULL-VM: _text $(awk '$3 == "_text" { print $1; exit }' /proc/kallsyms 2>/dev/null)"

if [ -s /etc/hullvm/modules ]; then
	while read -r m; do
		insmod "/lib/modules/$(uname -r)/$m" || echo "HULL-VM: insmod $m failed"
	done </etc/hullvm/modules
	echo "HULL-VM: modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
fi

# Every controller the kernel offers, one at a time (one that fails to
# enable, e.g. with no device to control, must not keep the others out).
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	for c in cpu cpuset io memory pids hugetlb rdma misc $(cat /sys/fs/cgroup/cgroup.controllers); do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
	done
fi
echo "HULL-VM: mounts: $(grep cgroup /proc/mounts | tr '\n' ';')"
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	echo "HULL-VM: /sys/fs/cgroup/cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
	echo "HULL-VM: /sys/fs/cgroup/cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
fi
echo "HULL-VM: /proc/self/cgroup: $(cat /proc/self/cgroup)"

start=$(cut -d' ' -f1 /proc/uptime)
echo "HULL-VM: booted in ${start}s (guest uptime); running /payload/run"
if [ -x /payload/run ]; then
	(cd /payload && exec env HOME=/root TMPDIR=/tmp /payload/run </dev/null)
	rc=$?
else
	echo "HULL-VM: /payload/run is missing or not executable"
	rc=127
fi
end=$(cut -d' ' -f1 /proc/uptime)
echo "HULL-VM: payload exited $rc after $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')s"
if [ "$rc" != 0 ]; then
	echo "HULL-VM: last kernel messages:"
	dmesg | tail -n 30
fi
echo "HULL-VM-EXIT $nonce $rc"
off
