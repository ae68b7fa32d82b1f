#!/usr/bin/env bash
# Adds the callers step to the systemd VM lane's payload (lane.sh's
# VM_LANE_EXTRA, see systemd-lane.sh):
#
#   tests/vm/systemd-callers-payload.sh PAYLOAD-DIR
#
# systemd-callers.sh as /payload/callers/run, crictl (the callers lane's
# pinned build, cached in /var/cache/hull-cri/VERSION by
# tests/callers/cri.sh; built here the same way if missing), and
# a busybox OCI archive made by tests/callers/mkimage.sh (the pod's
# sandbox image and the containers'), and the same as a docker-archive for
# docker, so that nothing is pulled in the guest. containerd, ctr, podman,
# conmon and dockerd are the rootfs's (systemd-rootfs.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
payload=${1:?usage: systemd-callers-payload.sh PAYLOAD-DIR}
export PATH=/usr/local/go/bin:$PATH
vm_ensure_pkgs file busybox-static jq
ver=${HULL_CRICTL_VERSION:-v1.34.0}
crictl=/var/cache/hull-cri/$ver/crictl
if [ ! -x "$crictl" ]; then
	vm_log "building crictl $ver into ${crictl%/*}"
	mkdir -p "${crictl%/*}"
	(cd / && GOBIN=${crictl%/*} GOFLAGS= go install "sigs.k8s.io/cri-tools/cmd/crictl@$ver") >&2 ||
		vm_die "could not go install crictl $ver"
fi
mkdir -p "$payload/callers/bin"
install -m 755 "$crictl" "$payload/callers/bin/crictl"
install -m 755 "$here/systemd-callers.sh" "$payload/callers/run"
# one image: the pod's sandbox runs its Cmd (a sleep), the containers
# their own commands
"$here/../callers/mkimage.sh" "$payload/callers/hullbox.tar" docker.io/library/hullbox:latest '["/bin/sleep","2147483647"]'
# Docker 20.10's `docker load` reads a docker-archive, not an OCI layout:
# the same image repacked (manifest.json naming the config and layer
# blobs), as tests/callers/docker.sh does.
t=$(mktemp -d /tmp/hull-dimg.XXXXXX)
trap 'rm -rf "$t"' EXIT
"$here/../callers/mkimage.sh" "$t/oci.tar" docker.io/library/hullbox:latest
mkdir "$t/img"
tar -C "$t/img" -xf "$t/oci.tar"
md=$(jq -r '.manifests[0].digest' "$t/img/index.json")
jq -c '[{Config: ("blobs/sha256/" + (.config.digest | sub("^sha256:"; ""))), RepoTags: ["hullbox:latest"], Layers: [.layers[].digest | sub("^sha256:"; "") | "blobs/sha256/" + .]}]' \
	"$t/img/blobs/sha256/${md#sha256:}" >"$t/img/manifest.json"
tar --numeric-owner --owner=0 --group=0 -C "$t/img" -cf "$payload/callers/hullbox-docker.tar" manifest.json blobs
echo "EXTRA_STEPS=\"\${EXTRA_STEPS:-} callers=/payload/callers/run\"" >>"$payload/lane.env"
vm_log "callers step added to the payload: crictl $ver, a busybox image"
