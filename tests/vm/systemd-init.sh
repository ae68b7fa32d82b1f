#!/hullvm/busybox sh
# /init of the systemd VM lane (VM_ROOTFS=systemd-rootfs.sh's Debian,
# VM_INIT=this; see systemd-lane.sh). Stage 1 on the initramfs: loads the
# modules run.sh packed (/etc/hullvm/modules; binfmt_misc, or systemd ends
# "degraded" for want of proc-sys-fs-binfmt_misc), installs the lane's unit
# from /payload, makes a bind mount of the rootfs the root (pivot_root(2)
# cannot leave the initramfs itself) and hands PID 1 to systemd.
B=/hullvm/busybox
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
$B mount -t proc proc /proc
krel=$($B uname -r)
while read -r m; do
	$B insmod "/lib/modules/$krel/$m" 2>/dev/null || echo "HULL-VM: insmod $m failed"
done </etc/hullvm/modules
if [ -f /payload/hull-lane.service ]; then
	$B cp /payload/hull-lane.service /etc/systemd/system/hull-lane.service
	$B mkdir -p /etc/systemd/system/multi-user.target.wants
	$B ln -sf ../hull-lane.service /etc/systemd/system/multi-user.target.wants/hull-lane.service
fi
$B umount /proc
$B mount --bind / /newroot && cd /newroot && $B mount --move . / && exec $B chroot . /lib/systemd/systemd
echo "HULL-VM: could not start systemd"
$B mount -t proc proc /proc
for w in $($B cat /proc/cmdline); do
	case "$w" in hullvm.nonce=*) echo "HULL-VM-EXIT ${w#*=} 125" ;; esac
done
$B poweroff -f
