#!/usr/bin/env bash
# Packs the host's static busybox as an OCI image layout tar, by hand.
#   tests/callers/mkimage.sh OUT.tar [NAME [CMD-JSON]]
# NAME (default docker.io/library/hullbox:latest) goes into the index's
# io.containerd.image.name annotation, which `ctr image import` uses.
# CMD-JSON (default ["/bin/sh"]) is the image's Cmd, e.g. a pause image's
# ["/bin/sleep","2147483647"].
set -euo pipefail
out=$(readlink -f "$1")
name=${2:-docker.io/library/hullbox:latest}
cmd=${3:-'["/bin/sh"]'}
tmp=$(mktemp -d /tmp/hullimg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bb=$(command -v busybox)
file -L "$bb" | grep 'statically linked' >/dev/null || { echo "mkimage: $bb is not static" >&2; exit 1; }
r=$tmp/rootfs
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root}
cp "$bb" "$r/bin/busybox"
for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
echo 'root:x:0:' > "$r/etc/group"
chmod 1777 "$r/tmp"
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$r" -cf "$tmp/layer.tar" .
mkdir -p "$tmp/oci/blobs/sha256"
put() { # file -> prints digest (no prefix)
	local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$tmp/oci/blobs/sha256/$d"; echo "$d"
}
ld=$(put "$tmp/layer.tar"); ls=$(stat -c %s "$tmp/layer.tar")
cat > "$tmp/config.json" <<J
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":$cmd,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$ld"]}}
J
cd_=$(put "$tmp/config.json"); cs=$(stat -c %s "$tmp/config.json")
cat > "$tmp/manifest.json" <<J
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cd_","size":$cs},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$ld","size":$ls}]}
J
md=$(put "$tmp/manifest.json"); ms=$(stat -c %s "$tmp/manifest.json")
cat > "$tmp/oci/index.json" <<J
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$md","size":$ms,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"$name","org.opencontainers.image.ref.name":"${name##*:}"}}]}
J
echo '{"imageLayoutVersion":"1.0.0"}' > "$tmp/oci/oci-layout"
tar --numeric-owner --owner=0 --group=0 -C "$tmp/oci" -cf "$out" oci-layout index.json blobs
