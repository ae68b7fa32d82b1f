#!/hullvm/busybox sh
# /init of the systemd VM lane (VM_ROOTFS=systemd-rootfs.sh's Debian,
# VM_INIT=this; see systemd-lane.sh). Stage 1: loads the modules run.sh
# packed (/etc/hullvm/modules; binfmt_misc, or systemd ends "degraded" for
# want of proc-sys-fs-binfmt_misc), finds the root: with VM_ROOTFS_DISK
# (/etc/hullvm/rootdisk names the device) the Debian rootfs is an ext4
# disk mounted on /newroot, the payload bind-mounted into it; otherwise it
# is the initramfs itself, bind-mounted on /newroot (pivot_root(2) cannot
# leave the initramfs itself). Then it installs the lane's unit from
# /payload, makes /newroot the root and hands PID 1 to systemd.
B=/hullvm/busybox
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
$B mount -t proc proc /proc
krel=$($B uname -r)
while read -r m; do
	$B insmod "/lib/modules/$krel/$m" 2>/dev/null || echo "HULL-VM: insmod $m failed"
done </etc/hullvm/modules
fail() {
	echo "HULL-VM: $*"
	for w in $($B cat /proc/cmdline); do
		case "$w" in hullvm.nonce=*) echo "HULL-VM-EXIT ${w#*=} 125" ;; esac
	done
	$B poweroff -f
}
if [ -f /etc/hullvm/rootdisk ]; then
	dev=$($B cat /etc/hullvm/rootdisk)
	$B mount -t devtmpfs devtmpfs /dev
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b "$dev" ] && break; $B sleep 0.2; done
	$B mount -t ext4 -o rw,noatime "$dev" /newroot || fail "cannot mount the root disk $dev"
	$B mount --bind /payload /newroot/payload || fail "cannot bind /payload into the root"
	$B umount /dev
	r=/newroot
else
	$B mount --bind / /newroot || fail "cannot bind-mount / on /newroot"
	r=/newroot
fi
if [ -f /payload/hull-lane.service ]; then
	$B cp /payload/hull-lane.service $r/etc/systemd/system/hull-lane.service
	$B mkdir -p $r/etc/systemd/system/multi-user.target.wants
	$B ln -sf ../hull-lane.service $r/etc/systemd/system/multi-user.target.wants/hull-lane.service
fi
# containerd and podman come enabled with their packages: the callers step
# starts containerd.service itself, with its own config; at boot they would
# only cost time.
$B rm -f $r/etc/systemd/system/multi-user.target.wants/containerd.service \
	$r/etc/systemd/system/default.target.wants/podman*.service \
	$r/etc/systemd/system/sockets.target.wants/podman.socket \
	$r/etc/systemd/system/timers.target.wants/podman-auto-update.timer
$B umount /proc
cd $r && $B mount --move . / && exec $B chroot . /lib/systemd/systemd
$B mount -t proc proc /proc
fail "could not start systemd"
