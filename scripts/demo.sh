#!/bin/sh
# demo: build a busybox bundle with `hull spec` and run a container from it.
set -eu
hull=$1
dir=$(mktemp -d /tmp/hull-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp" "$dir/rootfs/etc"
cp /bin/busybox "$dir/rootfs/bin/busybox"
chroot "$dir/rootfs" /bin/busybox --install -s /bin
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
cd "$dir"
"$hull" spec
# A demo without a terminal: print who and where we are, then exit.
sed -i 's/"terminal": true/"terminal": false/' config.json
sed -i 's|"sh"$|"sh", "-c", "echo Hello from a hull container; echo hostname: $(hostname); echo pid: $$; id; echo mounts: $(wc -l < /proc/self/mountinfo); ps"|' config.json
echo "+ hull run demo   (bundle $dir)"
code=0
"$hull" --root "$dir/state" run demo || code=$?
echo "+ exit code: $code"
exit $code
