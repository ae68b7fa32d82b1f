#!/usr/bin/env bash
# Boots a throwaway VM with a pure cgroup v2 host (Debian 12's kernel with
# cgroup_no_v1=all, qemu under TCG) and runs a payload in it, once.
#
#   tests/vm/run.sh PAYLOAD [OUTDIR]
#
# PAYLOAD is a directory, copied to /payload in the guest, whose
# executable `run` the guest's /init runs as root (cwd /payload, stdin
# /dev/null, HOME=/root, TMPDIR=/tmp); or a single executable file, which
# becomes /payload/run. Everything is in the initramfs (a plain cpio),
# which the kernel unpacks into a tmpfs: no disk, no network, no 9p, so
# bundles made under /tmp are on tmpfs as on a host. ELF files in the payload get the
# shared libraries that ldd(1) names here copied to the same paths; the
# guest has a static busybox (with all its applets) as /bin/busybox.
#
# The guest: 2 vCPUs, 2 GiB, cgroup2 mounted on /sys/fs/cgroup as systemd
# mounts it, every controller enabled in the root's cgroup.subtree_control,
# tmpfs on /tmp, /run and /dev/shm, devpts, loopback up.
#
# The serial console goes to stdout and OUTDIR/console.log (raw:
# serial.raw; qemu's own messages: qemu.log). The exit code is the
# payload's; 124 if the VM ran out of time (VM_TIMEOUT); 125 if it ended
# without reporting one (kernel panic, qemu failure, ...).
#
# Environment:
#   VM_CACHE   kernel cache (default /var/cache/hull-vm)
#   VM_TIMEOUT seconds the VM may run (default 900)
#   VM_MEM     MiB of guest memory (default 2048); VM_SMP vCPUs (default 2);
#   VM_CPU     the guest CPU model, qemu -cpu (default qemu64, see below)
#   VM_TCG_THREAD  qemu's -accel tcg,thread= (default single, see below)
#   VM_STALL   seconds of a silent console before the stall report
#              (default 240, see stall_watch)
#   VM_MODULES kernel modules to load at boot, with their dependencies
#              (default "overlay")
#   VM_APPEND  more kernel command line, e.g. hullvm.cgopts=nsdelegate
#   VM_CGROUP=hybrid  a hybrid cgroup host (v1 controllers, cgroup2 on
#              /sys/fs/cgroup/unified; init.sh's hullvm.cgroup=hybrid)
#              instead of pure cgroup v2 (cgroup_no_v1=all)
#   VM_KERNEL_REFRESH=1  fetch the current linux-image-amd64 again
#   VM_BZIMAGE=1  boot the compressed kernel, not the extracted vmlinux
#   VM_INITRD=gzip  compress the initramfs (default: plain cpio, which the
#              guest unpacks ~1.5 s faster under TCG)
#   VM_KEEP=1  keep OUTDIR/initrd.cpio (and lane.sh's payload) afterwards
#   VM_ROOTFS=DIR  the initramfs is a copy of DIR (a whole root file
#              system, e.g. systemd-rootfs.sh's Debian) instead of the
#              busybox one; busybox is then only at /hullvm/busybox
#   VM_INIT=FILE   the guest's /init instead of init.sh (systemd-init.sh
#              for VM_ROOTFS)
#   VM_ROOTFS_DISK=1  with VM_ROOTFS: DIR is not copied into the initramfs
#              but made (once, cached as DIR.ext4) an ext4 image that the
#              guest gets as a virtio disk, /dev/vda, with snapshot=on (its
#              writes go to a throwaway overlay; the image is never
#              changed); the initramfs is the busybox one, with the
#              modules for the disk (virtio_pci virtio_blk ext4), busybox
#              also at /hullvm/busybox and /etc/hullvm/rootdisk, and the
#              init (VM_INIT) mounts the disk. The payload's ELF files must
#              then find their shared libraries in DIR.
#
# Needs root. Installs qemu-system-x86, busybox-static, cpio, kmod (depmod)
# and xz-utils if they are missing, and downloads Debian's current kernel
# package into the cache on first use (apt-get download + dpkg -x + depmod
# -b: nothing is installed into /boot or /lib/modules); it boots the
# uncompressed vmlinux by PVH, which saves ~7 s of decompression per boot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
[ "$(id -u)" = 0 ] || vm_die "run.sh needs root"
payload=$1
[ -e "$payload" ] || vm_die "no payload at $payload"
payload=$(readlink -f "$payload")
out=${2:-$(mktemp -d /tmp/hull-vm.XXXXXX)}
mkdir -p "$out"
out=$(readlink -f "$out")
case "$out/" in "$payload/"*) vm_die "OUTDIR $out may not be inside the payload $payload" ;; esac
cache=${VM_CACHE:-/var/cache/hull-vm}
timeout_s=${VM_TIMEOUT:-900}
modules=${VM_MODULES-overlay}
t0=$(vm_now)
disk=
if [ -n "${VM_ROOTFS:-}" ] && [ -n "${VM_ROOTFS_DISK:-}" ]; then
	[ -d "$VM_ROOTFS" ] || vm_die "VM_ROOTFS=$VM_ROOTFS is not a directory"
	modules="crc32c_generic virtio_pci virtio_blk ext4 $modules"
fi

# vmlinux_of BZIMAGE OUT extracts the uncompressed kernel (an ELF file) of
# BZIMAGE, if it has the PVH entry note that lets qemu boot it directly:
# under TCG that spares the ~7 s the kernel's own decompressor takes.
vmlinux_of() {
	local magic cmd off
	while read -r magic cmd; do
		for off in $(LC_ALL=C grep -obUaP "$magic" "$1" | cut -d: -f1); do
			tail -c +$((off + 1)) "$1" | $cmd >"$2" 2>/dev/null || true
			[ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
			if command -v readelf >/dev/null &&
				! readelf -n "$2" 2>/dev/null | grep -E 'PHYS32_ENTRY|\(0x00000012\)' >/dev/null; then
				break
			fi
			return 0
		done
	done <<'EOF'
\xfd7zXZ\x00 xz -dcq
\x1f\x8b\x08 gzip -dcq
\x28\xb5\x2f\xfd zstd -dcq
EOF
	rm -f "$2"
	return 1
}

# --- host tools and the kernel (serialized between concurrent lanes) ---
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
vm_ensure_pkgs qemu-system-x86 busybox-static cpio kmod xz-utils
if [ -n "${VM_KERNEL_REFRESH:-}" ] || [ ! -f "$cache/current/ok" ]; then
	vm_apt_update
	# awk reads to the end (no exit): an early exit would SIGPIPE apt-cache,
	# which pipefail turns into the lane's failure (exit 141).
	pkg=$(apt-cache depends linux-image-amd64 | awk '!p && $1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; p = 1 }')
	[ -n "$pkg" ] || vm_die "apt-cache depends linux-image-amd64 names no kernel package"
	ver=$(apt-cache show --no-all-versions "$pkg" | awk '!v && /^Version:/ { print $2; v = 1 }')
	dir=${pkg}_$ver
	if [ ! -f "$cache/$dir/ok" ]; then
		vm_log "downloading $pkg $ver into $cache/$dir"
		rm -rf "$cache/$dir.tmp"
		mkdir -p "$cache/$dir.tmp/x"
		chmod 755 "$cache/$dir.tmp"
		(cd "$cache/$dir.tmp" && apt-get download -qq "$pkg=$ver" 2>&1 | grep -v 'unsandboxed as root' >&2 || true)
		deb=$(ls "$cache/$dir.tmp"/*.deb 2>/dev/null | head -1)
		[ -n "$deb" ] || vm_die "apt-get download $pkg=$ver got nothing"
		dpkg -x "$deb" "$cache/$dir.tmp/x"
		mkdir -p "$cache/$dir.tmp/k"
		mv "$cache/$dir.tmp"/x/boot/vmlinuz-* "$cache/$dir.tmp/k/vmlinuz"
		kdir=$(ls -d "$cache/$dir.tmp"/x/lib/modules/*/ | head -1)
		kdir=${kdir%/}
		# The package leaves modules.dep to its postinst: make it here.
		depmod -b "$cache/$dir.tmp/x" "$(basename "$kdir")"
		basename "$kdir" >"$cache/$dir.tmp/k/release"
		vmlinux_of "$cache/$dir.tmp/k/vmlinuz" "$cache/$dir.tmp/k/vmlinux" ||
			vm_log "no PVH-bootable vmlinux in $pkg: booting the compressed kernel (slower)"
		touch "$cache/$dir.tmp/k/ok"
		mv "$kdir" "$cache/$dir.tmp/k/modules"
		rm -rf "$cache/$dir"
		mv "$cache/$dir.tmp/k" "$cache/$dir"
		rm -rf "$cache/$dir.tmp"
	fi
	ln -sfn "$dir" "$cache/current.new" && mv -T "$cache/current.new" "$cache/current"
fi
kernel=$(readlink -f "$cache/current")
krel=$(cat "$kernel/release")
image=$kernel/vmlinuz
if [ -f "$kernel/vmlinux" ] && [ -z "${VM_BZIMAGE:-}" ]; then
	image=$kernel/vmlinux
fi
flock -u 9

# --- the root disk (VM_ROOTFS_DISK): DIR.ext4, made once ---
if [ -n "${VM_ROOTFS:-}" ] && [ -n "${VM_ROOTFS_DISK:-}" ]; then
	src=$(readlink -f "$VM_ROOTFS")
	disk=$src.ext4
	if [ ! -f "$disk.ok" ]; then
		exec 7>"$src.ext4.lock"
		flock 7
		if [ ! -f "$disk.ok" ]; then
			td=$(vm_now)
			# the files, and 1.5 GiB free for what the guest writes (a
			# sparse file: the free space costs nothing here)
			size=$(($(du -sm "$src" | cut -f1) + 1536))
			rm -f "$disk.tmp"
			mkfs.ext4 -q -F -L hullroot -O ^has_journal -E lazy_itable_init=0 -d "$src" "$disk.tmp" "${size}M" >&2 ||
				vm_die "mkfs.ext4 -d $src failed"
			# mount points of the init's (the payload; /etc/hullvm)
			for d in payload etc/hullvm; do
				[ -d "$src/$d" ] || debugfs -w -R "mkdir $d" "$disk.tmp" >/dev/null 2>&1 ||
					vm_die "debugfs mkdir $d in $disk.tmp failed"
			done
			mv "$disk.tmp" "$disk"
			touch "$disk.ok"
			vm_log "root disk $disk made in $(vm_since "$td")s (${size} MiB, $(du -m "$disk" | cut -f1) MiB used)"
		fi
		flock -u 7
		exec 7>&-
	fi
fi

# --- the initramfs ---
root=$out/initramfs
rm -rf "$root" "$out/initrd.cpio" "$out/initrd.cpio.gz"
if [ -n "${VM_ROOTFS:-}" ] && [ -z "$disk" ]; then
	[ -d "$VM_ROOTFS" ] || vm_die "VM_ROOTFS=$VM_ROOTFS is not a directory"
	cp -a "$VM_ROOTFS" "$root"
	mkdir -p "$root"/{dev,proc,sys,tmp,run,root,etc/hullvm,newroot,payload,hullvm}
	cp /bin/busybox "$root/hullvm/busybox"
	[ -e "$root/dev/console" ] || mknod -m 600 "$root/dev/console" c 5 1
	[ -e "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3
	install -m 755 "${VM_INIT:-$here/init.sh}" "$root/init"
else
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc/hullvm,newroot,payload,lib,lib64}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp /bin/busybox "$root/bin/busybox"
# every applet as a symlink at its full path, by busybox itself in one
# process (an ln per applet took 45 s on a loaded machine); existing files
# are kept
chroot "$root" /bin/busybox --install -s
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3
install -m 755 "${VM_INIT:-$here/init.sh}" "$root/init"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOF
printf '127.0.0.1 localhost hullvm\n::1 localhost\n' >"$root/etc/hosts"
echo hullvm >"$root/etc/hostname"
if [ -n "$disk" ]; then
	mkdir -p "$root/hullvm"
	ln -s /bin/busybox "$root/hullvm/busybox"
	echo /dev/vda >"$root/etc/hullvm/rootdisk"
fi
fi

# Modules with their dependencies, dependencies first, in load order.
declare -A seen=()
modlist=()
addmod() { # addmod PATH-RELATIVE-TO-MODULES-DIR
	local rel=$1 dep
	[ -n "${seen[$rel]:-}" ] && return 0
	seen[$rel]=1
	for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print; exit }' "$kernel/modules/modules.dep"); do
		addmod "$dep"
	done
	modlist+=("$rel")
}
for m in $modules; do
	rel=$(awk -F: -v n="${m//-/_}" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko.*/, "", b); gsub(/-/, "_", b); if (b == n) { print $1; exit } }' "$kernel/modules/modules.dep")
	if [ -z "$rel" ]; then
		grep -qw "${m//-/_}" "$kernel/modules/modules.builtin" 2>/dev/null && continue # built into the kernel
		vm_die "kernel $krel has no module $m"
	fi
	addmod "$rel"
done
: >"$root/etc/hullvm/modules"
for rel in "${modlist[@]}"; do
	dst=$root/lib/modules/$krel/${rel%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	case "$rel" in
	*.ko) cp "$kernel/modules/$rel" "$dst" ;;
	*.ko.xz) xz -dc "$kernel/modules/$rel" >"$dst" ;;
	*.ko.zst) zstd -qdc "$kernel/modules/$rel" >"$dst" ;;
	*.ko.gz) gzip -dc "$kernel/modules/$rel" >"$dst" ;;
	*) vm_die "module $rel: unknown compression" ;;
	esac
	echo "${rel%.ko*}.ko" >>"$root/etc/hullvm/modules"
done

# The payload, and the shared libraries of its ELF files.
if [ -d "$payload" ]; then
	cp -a "$payload/." "$root/payload/"
	chmod 755 "$root/payload"
else
	install -m 755 "$payload" "$root/payload/run"
fi
[ -x "$root/payload/run" ] || vm_die "the payload has no executable run"
# (the ELF magic read by bash itself, and one ldd for all the files: a
# head | od and an ldd per file cost ~30 s on a loaded machine)
elfs=()
while IFS= read -r -d '' f; do
	magic=
	IFS= read -r -N 4 magic <"$f" 2>/dev/null || true
	[ "$magic" = $'\x7fELF' ] && elfs+=("$f")
done < <(find "$root/payload" -type f -print0)
libs=
if [ ${#elfs[@]} -gt 0 ]; then
	# (with several files ldd heads each one's list with "FILE:")
	libs=$(ldd "${elfs[@]}" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\// && $i !~ /:$/) print $i }' | sort -u || true)
fi
for lib in $libs; do
	if [ -n "$disk" ]; then
		# the guest's root is the disk: the library must be there
		[ -e "$VM_ROOTFS$lib" ] || [ -e "$VM_ROOTFS/usr$lib" ] ||
			vm_die "the payload needs $lib, which $VM_ROOTFS lacks"
		continue
	fi
	[ -e "$root$lib" ] && continue
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

initrd=$out/initrd.cpio
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initrd"
if [ "${VM_INITRD:-cpio}" = gzip ]; then
	gzip -1 "$initrd"
	initrd=$initrd.gz
fi
rm -rf "$root"
vm_log "kernel $krel ($(basename "$kernel")/$(basename "$image")); initramfs $(basename "$initrd") $(du -m "$initrd" | cut -f1) MiB${disk:+; root disk $disk}; modules: ${modlist[*]:-none}; built in $(vm_since "$t0")s"
drive=()
# snapshot=on: the guest's writes go to a temporary overlay, the image is
# only read (several VMs can share it).
[ -n "$disk" ] && drive=(-drive "file=$disk,format=raw,if=virtio,snapshot=on,cache=unsafe")

# --- boot ---
nonce=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
# VM_CGROUP=hybrid: v1 controllers and cgroup2 on /sys/fs/cgroup/unified
# (our hosts' layout; init.sh makes it) instead of a pure cgroup v2 host.
cgargs="cgroup_no_v1=all"
[ "${VM_CGROUP:-}" = hybrid ] && cgargs="hullvm.cgroup=hybrid"
# loglevel=5 after quiet: the kernel's warnings and the lines without a
# level reach the console too, among them the registers and call trace of
# a soft lockup (a guest whose both CPUs spun in the kernel for 10 minutes
# showed only "BUG: soft lockup ... [hull:1270]" under quiet).
append="console=ttyS0 $cgargs quiet loglevel=5 panic=-1 mitigations=off hullvm.nonce=$nonce ${VM_APPEND:-}"
raw=$out/serial.raw
: >"$raw"
tboot=$(vm_now)
# stall_watch: when the console has been silent for VM_STALL seconds
# (default 240; the Go tests print a line per test and time out after 6
# minutes), what the guest is doing goes to $out/stall.txt, once: qemu's
# CPU use over 5 s (a spinning guest ~100% per vCPU, a sleeping one ~0)
# and each vCPU's instruction pointer and privilege level, from qemu's
# monitor (a pipe chardev: $out/monitor.in/.out), with the kernel's _text
# as init.sh printed it (Debian's System.map is a placeholder; the guest's
# /proc/kallsyms names the addresses). The VM goes on to its timeout; the
# report's summary is among the FAIL lines then.
vm_monitor() { # vm_monitor COMMAND: qemu's answer (what the monitor printed in 2 s)
	echo "$1" >"$out/monitor.in"
	timeout 2 cat "$out/monitor.out" | tr -d '\r'
}
stall_watch() {
	local size=-1 now_size since=$SECONDS qpid t1 t2
	set +e
	exec >/dev/null 2>&1
	while sleep 10; do
		now_size=$(stat -c %s "$raw" 2>/dev/null || echo 0)
		if [ "$now_size" != "$size" ]; then
			size=$now_size since=$SECONDS
			continue
		fi
		[ $((SECONDS - since)) -ge "${VM_STALL:-240}" ] || continue
		qpid=$(cat "/proc/$vm_pid/task/$vm_pid/children" 2>/dev/null | awk '{ print $1 }')
		{
			echo "silent for $((SECONDS - since)) s"
			if [ -n "$qpid" ]; then
				t1=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat")
				sleep 5
				t2=$(awk '{ print $14 + $15 }' "/proc/$qpid/stat")
				echo "qemu cpu $(((t2 - t1) * 100 / $(getconf CLK_TCK) / 5))%"
			fi
			tr -d '\r' <"$raw" | awk '$1 == "HULL-VM:" && $2 == "_text" { print "kernel _text " $3; exit }'
			# Three samples a second apart (one place or a loop), then the
			# kernel addresses on each vCPU's stack (return addresses among
			# them: a rough call trace, for /proc/kallsyms).
			for i in 1 2 3; do
				vm_monitor "info registers -a" >"$out/registers.txt"
				awk '/^CPU#/ { cpu = $1 }
					/RSP=/ { match($0, /RSP=[0-9a-f]+/); rsp[cpu] = substr($0, RSTART + 4, RLENGTH - 4) }
					/RIP=/ { match($0, /RIP=[0-9a-f]+/); rip = substr($0, RSTART + 4, RLENGTH - 4) }
					/CPL=/ { match($0, /CPL=[0-3]/); cpl = substr($0, RSTART + 4, 1)
						printf "%s RIP %s CPL %s%s; ", cpu, rip, cpl, match($0, /HLT=1/) ? " halted" : "" }
					END { print ""; for (c in rsp) print c, rsp[c] > "/dev/stderr" }' "$out/registers.txt" 2>"$out/rsp.txt"
				sleep 1
			done
			while read -r cpu rsp; do
				vm_monitor "cpu ${cpu#CPU#}" >/dev/null
				printf '%s stack:' "$cpu"
				# (the monitor's line editor garbled such a line now and
				# then: "x: extraneous characters"; once more then)
				for i in 1 2 3; do
					vm_monitor "x/64gx 0x$rsp" >"$out/stack.txt"
					grep -q '^[0-9a-f]*: 0x' "$out/stack.txt" && break
				done
				grep -oE '0xffffffff(8|c)[0-9a-f]{7}' "$out/stack.txt" | head -n 16 | tr '\n' ' '
				echo
			done <"$out/rsp.txt"
		} >"$out/stall.txt"
		return 0
	done
}
rm -f "$out/monitor.in" "$out/monitor.out" "$out/stall.txt" "$out/registers.txt"
mkfifo "$out/monitor.in" "$out/monitor.out"
# timeout(1) is our child; it passes a signal on to qemu, its only child.
# One host thread runs both vCPUs (VM_TCG_THREAD=single), not one thread
# each (multi): with multi-threaded TCG (qemu 7.2) the guest kernel's live
# code patching (text_poke_bp: int3 on the site, an IPI to sync the other
# CPU, then the new bytes) left the other vCPU taking the int3 at the
# patched site for ever, both CPUs spinning in the kernel, the console
# silent; hull's tests toggle such sites when they set and clear cpu.max
# (the cfs bandwidth static key). tcg-smc-check.sh, the check: 4000 such
# toggles in single, a hang within 250 in multi (each of three tries). The
# vm lane's guest took 42.6 s against 34 s (three runs each, loaded host).
# The guest CPU is qemu64 (VM_CPU), not "max": under TCG the vm lane's
# integration tests took 17.1-21.8 s with it against 22.2-25.5 s with max
# (and 21.1-26.2 s with max less AVX), four and three runs interleaved.
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
	-nodefaults -no-user-config -machine pc -accel "tcg,thread=${VM_TCG_THREAD:-single}" -cpu "${VM_CPU:-qemu64}" \
	-smp "${VM_SMP:-2}" -m "${VM_MEM:-2048}" -display none -no-reboot \
	-serial "file:$raw" -kernel "$image" -initrd "$initrd" "${drive[@]}" \
	-chardev "pipe,id=mon,path=$out/monitor" -mon chardev=mon,mode=readline \
	-append "$append" </dev/null >"$out/qemu.log" 2>&1 &
vm_pid=$!
stall_watch &
stall_pid=$!
trap 'kill "$vm_pid" "$stall_pid" 2>/dev/null || true' EXIT
trap 'kill "$vm_pid" "$stall_pid" 2>/dev/null || true; exit 130' INT TERM
vm_log "booting (pid $vm_pid, timeout ${timeout_s}s, log $out/console.log): $append"
# In the background too, so that a signal to this script is acted on at
# once (bash runs traps only when a foreground command ends).
tail -c +1 -f --pid="$vm_pid" "$raw" | stdbuf -o0 tr -d '\r' | tee "$out/console.log" &
tail_pid=$!
vm_rc=0
wait "$vm_pid" || vm_rc=$?
wait "$tail_pid" || true
kill "$stall_pid" 2>/dev/null || true
wait "$stall_pid" 2>/dev/null || true
trap - EXIT INT TERM
tr -d '\r' <"$raw" >"$out/console.log" # complete, whatever tail caught
[ -n "${VM_KEEP:-}" ] || rm -f "$initrd"

code=$(grep -ao "HULL-VM-EXIT $nonce [0-9]*" "$out/console.log" | tail -1 | awk '{ print $3 }' || true)
vm_log "VM ran $(vm_since "$tboot")s; total $(vm_since "$t0")s"
if [ -z "$code" ]; then
	if [ "$vm_rc" = 124 ] || [ "$vm_rc" = 137 ]; then
		vm_log "FAIL: the VM did not finish in ${timeout_s}s (VM_TIMEOUT) and was killed"
		rc=124
	else
		vm_log "FAIL: the VM ended (qemu exit $vm_rc) without reporting the payload's exit code"
		[ -s "$out/qemu.log" ] && sed 's/^/qemu: /' "$out/qemu.log" >&2
		rc=125
	fi
	# CI keeps only the last lines of a run and the lanes' digest of lines
	# with FAIL: what the guest was doing goes into such lines. The Go
	# tests started and not ended, the kernel's complaints (a soft lockup,
	# an RCU stall, a BUG or an oops), the first call trace's frames, and
	# the stall report (stall_watch).
	awk '{ sub(/^.*\] /, "", $0) }
		/^=== RUN/ { run[$3] = 1; next }
		/^ *--- (PASS|FAIL|SKIP):/ { delete run[$3]; next }
		/soft lockup|rcu.*(stall|detected)|blocked for more than|BUG:|Oops|general protection/ && n++ < 4 { print "guest kernel: " $0 }
		/RIP: [0-9]+:[a-z_]/ && !rip { rip = 1; print "guest kernel: " $0 }
		/Call Trace:/ && !trace { trace = 1; next }
		trace == 1 && /<IRQ>/ { irq = 1 }
		trace == 1 && /<\/IRQ>/ { irq = 0; next }
		trace == 1 && !irq && /^ *[a-z_][a-z0-9_.]*\+0x/ { split($1, f, "+"); frames = frames (frames ? " < " : "") f[1]; if (++nf == 12) trace = 2; next }
		trace == 1 && /<\/TASK>|^ *$/ { trace = 2 }
		END {
			for (t in run) left = left " " t
			if (left != "") print "tests still running:" left
			if (frames != "") print "guest call trace: " frames
		}' "$out/console.log" | cut -c1-300 | sed 's/^/vm: FAIL: /' >&2 || true
	if [ -s "$out/stall.txt" ]; then
		{
			sed -n 1,2p "$out/stall.txt" | paste -sd';'
			grep -m1 '^CPU#.*RIP' "$out/stall.txt"
			grep 'stack:' "$out/stall.txt"
		} | sed 's/^/vm: FAIL: stall: /' >&2 || true # (a report without stacks: grep's 1 would end the script)
	fi
	exit "$rc"
fi
vm_log "payload exit code: $code"
exit "$code"
