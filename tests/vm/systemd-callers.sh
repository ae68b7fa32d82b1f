#!/bin/bash
# In the systemd VM (a step of the lane: lane.env's EXTRA_STEPS, added by
# systemd-callers-payload.sh): hull driven by its callers with the systemd
# cgroup driver, as a node runs them.
#
#   CRI     containerd 1.6 (Debian 12's, as containerd.service) with its CRI
#           plugin and a runtime handler "hull" (io.containerd.runc.v2,
#           BinaryName = hull, SystemdCgroup = true), driven by crictl as
#           kubelet does with its systemd driver: a pod whose cgroup_parent
#           is kubepods-besteffort-pod<uid>.slice, a container with a
#           memory limit, exec, stop, rm, stopp, rmp.
#   podman  podman 4.3 with --cgroup-manager=systemd --runtime hull: run
#           --rm, run -d -m + exec + stop + rm.
#   docker  Docker 20.10 (docker.io) with native.cgroupdriver=systemd and
#           hull as its default runtime: load, run --rm, run -d --memory +
#           exec + stop + rm (SD_CALLERS_DOCKER=0 leaves it out).
# Each checks the unit systemd made (Delegate=yes, MemoryMax) and that
# none is left. The images are busybox OCI archives packed on the host
# (tests/callers/mkimage.sh): nothing is pulled.
#   VM-CALLERS: ok NAME | VM-CALLERS: FAIL NAME (then the evidence)
#   VM-CALLERS: P passed, F failed
# Exit 0 only if none failed. Not meant to run on a host.
C=/payload/callers
export PATH=$C/bin:/usr/sbin:/usr/bin:/sbin:/bin
pass=0
fail=0
now() { cut -d' ' -f1 /proc/uptime; }
last=$(now)
# the seconds since the last check (each line says what its check took)
took() { d=$(awk -v a="$last" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'); last=$(now); }
ok() { took; pass=$((pass + 1)); echo "VM-CALLERS: ok $1 (+${d}s)"; }
ko() {
	took
	fail=$((fail + 1))
	echo "VM-CALLERS: FAIL $1 (+${d}s)"
	shift
	for l in "$@"; do printf '%s\n' "$l" | head -20 | sed 's/^/VM-CALLERS:     /'; done
}
phase() { echo "VM-CALLERS: $1 took $(awk -v a="$2" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')s"; }
# prop UNIT PROPERTY: systemd's value of it ("" if no such unit)
prop() { systemctl show -P "$2" "$1" 2>/dev/null; }
loaded() { [ "$(prop "$1" LoadState)" = loaded ] && [ "$(prop "$1" ActiveState)" != inactive ]; }
lim=67108864

# unit_ok UNIT SLICE GLOB: the unit is loaded, in SLICE ("": any), with
# Delegate=yes and MemoryMax=$lim; GLOB lists the caller's units if not.
unit_ok() {
	local unit=$1 slice=$2 in
	in=$(prop "$unit" Slice)
	if loaded "$unit" && { [ -z "$slice" ] || [ "$in" = "$slice" ]; } && [ "$(prop "$unit" Delegate)" = yes ] &&
		[ "$(prop "$unit" MemoryMax)" = $lim ]; then
		ok "systemctl: $unit in $in, Delegate=yes, MemoryMax=$lim"
	else
		ko "systemctl: $unit${slice:+ in $slice}, Delegate=yes, MemoryMax=$lim" \
			"$(systemctl show -p LoadState -p ActiveState -p Slice -p Delegate -p MemoryMax "$unit" 2>&1)" \
			"$(systemctl list-units --all --no-legend --plain "$3" 2>&1)"
	fi
}
# creates_ok: every hull create the wrapper logged had --systemd-cgroup.
creates_ok() {
	if grep -E ' create ' /tmp/callers-hull.log | grep -vq -- '--systemd-cgroup'; then
		ko "every hull create had --systemd-cgroup" "$(grep ' create ' /tmp/callers-hull.log)"
	elif grep -q ' create ' /tmp/callers-hull.log; then
		ok "every hull create had --systemd-cgroup ($(grep -c ' create ' /tmp/callers-hull.log) creates)"
	else
		ko "hull was called" "$(cat /tmp/callers-hull.log)"
	fi
}
# init_in UNIT PID: the init PID is in the unit's cgroup; sets cg.
init_in() {
	cg=$(cut -d: -f3 "/proc/$2/cgroup" 2>&1)
	case "$cg" in
	*/"$1") ok "outside: the container's init in $cg" ;;
	*) ko "outside: the container's init in .../$1" "pid=$2: $cg" ;;
	esac
}

# hull behind a wrapper that logs its argv: the callers must pass
# --systemd-cgroup.
cat >"$C/hull-wrap" <<'W'
#!/bin/sh
echo "$*" >>/tmp/callers-hull.log
exec /payload/hull "$@"
W
chmod 755 "$C/hull-wrap"
: >/tmp/callers-hull.log

# --- containerd's CRI + crictl --------------------------------------------
cri() {
	local t0 o rc pod c st pid cg unit sb
	t0=$(now)
	mkdir -p /etc/containerd
	cat >/etc/containerd/config.toml <<T
version = 2
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/hullbox:latest"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "hull"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull.options]
        BinaryName = "$C/hull-wrap"
        SystemdCgroup = true
T
	cat >/etc/crictl.yaml <<T
runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock
timeout: 60
pull-image-on-create: false
disable-pull-on-run: true
T
	if ! o=$(systemctl start containerd.service 2>&1); then
		ko "containerd.service starts" "$o" "$(journalctl -u containerd --no-pager -n 20 2>&1)"
		return
	fi
	for _ in $(seq 100); do crictl version >/dev/null 2>&1 && break; sleep 0.2; done
	if o=$(crictl version 2>&1) && echo "$o" | grep -q 'RuntimeName: *containerd'; then
		ok "containerd.service's CRI is up ($(echo "$o" | awk '/RuntimeVersion/ { print $2 }'))"
	else
		ko "containerd.service's CRI is up" "$o" "$(journalctl -u containerd --no-pager -n 20 2>&1)"
		return
	fi
	o=$(crictl info 2>&1)
	if echo "$o" | jq -e '.config.containerd.runtimes.hull.options.SystemdCgroup == true' >/dev/null 2>&1; then
		ok "runtime handler hull with SystemdCgroup = true"
	else
		ko "runtime handler hull with SystemdCgroup = true" "$(echo "$o" | jq -c '.config.containerd.runtimes' 2>&1)"
	fi
	# one image for the sandbox (its Cmd is a sleep) and the container
	o=$(ctr -n k8s.io image import "$C/hullbox.tar" 2>&1)
	rc=$?
	if [ $rc = 0 ] && crictl inspecti docker.io/library/hullbox:latest >/dev/null 2>&1; then
		ok "image imported (ctr image import)"
	else
		ko "image imported (ctr image import)" "rc=$rc" "$o"
		return
	fi
	phase "CRI setup" "$t0"

	# The pod as kubelet sends it with the systemd driver: its slice.
	local uid=0c1d2e3f_4a5b_6c7d_8e9f_hullcri
	local slice=kubepods-besteffort-pod$uid.slice
	cat >/tmp/cri-pod.json <<J
{"metadata":{"name":"hullpod","namespace":"default","uid":"$uid","attempt":0},
 "log_directory":"/tmp/cri-logs",
 "linux":{"cgroup_parent":"$slice","security_context":{"namespace_options":{"network":2,"pid":1,"ipc":0}}}}
J
	cat >/tmp/cri-c1.json <<J
{"metadata":{"name":"c1"},"image":{"image":"docker.io/library/hullbox:latest"},"log_path":"c1.log",
 "command":["sh","-c","trap 'exit 143' TERM; while :; do sleep 0.2; done"],
 "linux":{"resources":{"memory_limit_in_bytes":$lim},"security_context":{"namespace_options":{"network":2,"pid":1,"ipc":0}}}}
J
	mkdir -p /tmp/cri-logs
	pod=$(crictl runp --runtime hull /tmp/cri-pod.json 2>/tmp/cri-runp.err)
	rc=$?
	st=$(crictl inspectp -o go-template --template '{{.status.state}}' "$pod" 2>&1)
	if [ $rc = 0 ] && [ "$st" = SANDBOX_READY ]; then
		ok "runp --runtime hull (cgroup_parent $slice): SANDBOX_READY"
	else
		ko "runp --runtime hull (cgroup_parent $slice): SANDBOX_READY" "rc=$rc state=$st" "$(cat /tmp/cri-runp.err)" "$(journalctl -u containerd --no-pager -n 15 2>&1)"
		return
	fi
	sb=cri-containerd-$pod.scope
	if loaded "$sb" && [ "$(prop "$sb" Slice)" = "$slice" ]; then
		ok "sandbox unit $sb in $slice"
	else
		ko "sandbox unit in $slice" "$(systemctl status "$sb" --no-pager 2>&1)"
	fi
	c=$(crictl create "$pod" /tmp/cri-c1.json /tmp/cri-pod.json 2>&1) && o=$(crictl start "$c" 2>&1)
	rc=$?
	st=$(crictl inspect -o go-template --template '{{.status.state}}' "$c" 2>&1)
	if [ $rc = 0 ] && [ "$st" = CONTAINER_RUNNING ]; then
		ok "create+start: CONTAINER_RUNNING"
	else
		ko "create+start: CONTAINER_RUNNING" "rc=$rc id=$c state=$st" "$o"
		crictl stopp "$pod" >/dev/null 2>&1
		crictl rmp "$pod" >/dev/null 2>&1
		return
	fi
	unit=cri-containerd-$c.scope
	# outside: the unit, its properties, the process in it
	unit_ok "$unit" "$slice" 'cri-containerd-*'
	pid=$(crictl inspect "$c" 2>/dev/null | jq -r '.info.pid // empty')
	cg=/kubepods.slice/kubepods-besteffort.slice/$slice/$unit
	o=$(cat "/proc/$pid/cgroup" 2>&1)
	if [ "$o" = "0::$cg" ] && [ "$(cat "/sys/fs/cgroup$cg/memory.max" 2>&1)" = $lim ]; then
		ok "outside: the container's init in $cg, memory.max $lim"
	else
		ko "outside: the container's init in $cg, memory.max $lim" "pid=$pid: $o" "$(cat "/sys/fs/cgroup$cg/memory.max" 2>&1)"
	fi
	# inside: exec; CRI gives the container a cgroup namespace on cgroup v2,
	# whose root is the scope: the exec'd process sees itself at "/" (it
	# would see a path up and out, /../.., if hull put it elsewhere) and
	# the scope's memory.max.
	o=$(crictl exec -s "$c" sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max' 2>&1)
	rc=$?
	if [ $rc = 0 ] && { [ "$o" = "$(printf '0::/\n%s' $lim)" ] || [ "$o" = "$(printf '0::%s\n%s' "$cg" $lim)" ]; }; then
		ok "exec inside: /proc/self/cgroup $(echo "$o" | head -1) (the scope), memory.max $lim"
	else
		ko "exec inside: /proc/self/cgroup is the scope, memory.max $lim" "rc=$rc" "$o"
	fi
	creates_ok
	o=$(crictl stop -t 10 "$c" 2>&1)
	rc=$?
	st=$(crictl inspect -o go-template --template '{{.status.state}} {{.status.exitCode}}' "$c" 2>&1)
	if [ $rc = 0 ] && [ "$st" = "CONTAINER_EXITED 143" ]; then ok "stop -t 10: exit 143"; else ko "stop -t 10: exit 143" "rc=$rc state=$st" "$o"; fi
	o=$(crictl rm "$c" 2>&1)
	rc=$?
	if [ $rc = 0 ] && ! loaded "$unit" && [ ! -d "/sys/fs/cgroup$cg" ]; then ok "rm: no unit, no cgroup"; else ko "rm: no unit, no cgroup" "rc=$rc" "$o" "$(systemctl status "$unit" --no-pager 2>&1)"; fi
	o=$({ crictl stopp "$pod" && crictl rmp "$pod"; } 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ -z "$(crictl pods -q 2>&1)" ]; then ok "stopp, rmp: no pod left"; else ko "stopp, rmp: no pod left" "rc=$rc" "$o"; fi
	# kubelet removes the pod's slice itself once the pod is gone
	systemctl stop "$slice" >/dev/null 2>&1
	o=$(systemctl list-units --all --no-legend --plain 'cri-containerd-*' 2>&1)
	if [ -z "$o" ] && ! loaded "$sb"; then ok "no cri-containerd unit left"; else ko "no cri-containerd unit left" "$o"; fi
	o=$(systemctl stop containerd.service 2>&1)
	rc=$?
	left=$(ps -eo pid,args | grep -E '[c]ontainerd-shim|[h]ull' | grep -v systemd-callers)
	if [ $rc = 0 ] && [ -z "$left" ]; then ok "containerd.service stopped, no shim left"; else ko "containerd.service stopped, no shim left" "rc=$rc" "$o" "$left"; fi
	phase CRI "$t0"
}

# --- podman ------------------------------------------------------------------
# (each podman command takes seconds under TCG: as few as the checks need)
pod_man() {
	local t0 o rc id img unit cg pid st
	t0=$(now)
	mkdir -p /tmp/podman/tmp
	P() {
		podman --root /tmp/podman/root --runroot /tmp/podman/runroot --tmpdir /tmp/podman/tmp \
			--storage-driver vfs --events-backend file --cgroup-manager=systemd --runtime "$C/hull-wrap" "$@"
	}
	: >/tmp/callers-hull.log
	o=$(P load -q -i "$C/hullbox.tar" 2>&1)
	rc=$?
	img=$(echo "$o" | sed -n 's/^Loaded image: *//p' | tail -1)
	if [ $rc = 0 ] && [ -n "$img" ]; then ok "podman load ($img)"; else ko "podman load" "rc=$rc" "$o"; return; fi
	o=$(P run --network none --rm "$img" echo hello 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ "$o" = hello ]; then ok "podman run --rm echo hello"; else ko "podman run --rm echo hello" "rc=$rc" "$o"; fi
	id=$(P run --network none -d --name p1 --memory 64m "$img" sleep 1000 2>&1)
	rc=$?
	st=$(P inspect -f '{{.State.Status}} {{.State.Pid}}' p1 2>&1)
	if [ $rc = 0 ] && [ "${st% *}" = running ]; then
		ok "podman run -d --memory 64m: running"
	else
		ko "podman run -d --memory 64m: running" "rc=$rc" "$id" "$st"
		P rm -f p1 >/dev/null 2>&1
		return
	fi
	pid=${st#* }
	unit=libpod-$id.scope
	unit_ok "$unit" "" 'libpod*'
	init_in "$unit" "$pid"
	o=$(P exec p1 sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max; exit 5' 2>&1)
	rc=$?
	if [ $rc = 5 ] && { [ "$o" = "$(printf '0::/\n%s' $lim)" ] || [ "$o" = "$(printf '0::%s\n%s' "$cg" $lim)" ]; }; then
		ok "podman exec (exit 5): /proc/self/cgroup $(echo "$o" | head -1) (the scope), memory.max $lim"
	else
		ko "podman exec (exit 5): /proc/self/cgroup is the scope, memory.max $lim" "rc=$rc" "$o"
	fi
	creates_ok
	o=$(P stop -t 1 p1 2>&1)
	rc=$?
	if [ $rc = 0 ] && ! loaded "$unit"; then ok "podman stop: the unit is gone"; else ko "podman stop: the unit is gone" "rc=$rc" "$o" "$(systemctl status "$unit" --no-pager 2>&1)"; fi
	o=$(P rm p1 2>&1)
	rc=$?
	if [ $rc = 0 ]; then ok "podman rm"; else ko "podman rm" "rc=$rc" "$o"; fi
	o=$(systemctl list-units --all --no-legend --plain 'libpod-*' 2>&1)
	if [ -z "$o" ] && [ ! -d "/sys/fs/cgroup$cg" ]; then ok "no libpod unit or cgroup left"; else ko "no libpod unit or cgroup left" "$o" "$(ls -d "/sys/fs/cgroup$cg" 2>&1)"; fi
	phase podman "$t0"
}

# --- docker ------------------------------------------------------------------
# Docker 20.10 (Debian's docker.io) with native.cgroupdriver=systemd and
# hull as its default runtime: a dockerd of our own (its units are masked
# in the rootfs), no bridge, no iptables; the containerd it starts itself.
docker_() {
	local t0 o rc id unit cg pid st T=/tmp/docker dpid
	t0=$(now)
	command -v dockerd >/dev/null || { ko "dockerd in the rootfs"; return; }
	mkdir -p "$T/cli"
	export DOCKER_CONFIG=$T/cli
	echo '{}' >"$T/daemon.json"
	dockerd --config-file "$T/daemon.json" --data-root "$T/data" --exec-root "$T/exec" \
		--pidfile "$T/docker.pid" -H "unix://$T/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
		--storage-driver overlay2 --exec-opt native.cgroupdriver=systemd \
		--add-runtime "hull=$C/hull-wrap" --default-runtime hull >"$T/dockerd.log" 2>&1 &
	dpid=$!
	D() { timeout -k 5 120 docker -H "unix://$T/docker.sock" "$@"; }
	# Debian's kernel has AppArmor on: dockerd loads its docker-default
	# profile (apparmor_parser, from the rootfs's apparmor) and gives it as
	# the containers' process.apparmorProfile.
	local DS=(--network none)
	for _ in $(seq 120); do D version >/dev/null 2>&1 && break; kill -0 $dpid 2>/dev/null || break; sleep 0.5; done
	if D version >/dev/null 2>&1; then ok "dockerd up (native.cgroupdriver=systemd, default runtime hull)"; else
		ko "dockerd up" "$(tail -20 "$T/dockerd.log")"
		kill $dpid 2>/dev/null
		return
	fi
	: >/tmp/callers-hull.log
	o=$(D load -i "$C/hullbox-docker.tar" 2>&1)
	rc=$?
	if [ $rc = 0 ] && D image inspect hullbox:latest >/dev/null 2>&1; then ok "docker load"; else ko "docker load" "rc=$rc" "$o"; fi
	o=$(D run --rm "${DS[@]}" hullbox:latest echo hello 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ "$o" = hello ]; then ok "docker run --rm echo hello"; else ko "docker run --rm echo hello" "rc=$rc" "$o" "$(tail -5 "$T/dockerd.log")"; fi
	id=$(D run -d "${DS[@]}" --name d1 --memory 64m hullbox:latest sleep 1000 2>&1)
	rc=$?
	st=$(D inspect -f '{{.State.Status}} {{.State.Pid}}' d1 2>&1)
	if [ $rc = 0 ] && [ "${st% *}" = running ]; then ok "docker run -d --memory 64m: running"; else
		ko "docker run -d --memory 64m: running" "rc=$rc" "$id" "$st" "$(tail -5 "$T/dockerd.log")"
		D rm -f d1 >/dev/null 2>&1
		kill $dpid 2>/dev/null
		wait $dpid 2>/dev/null
		return
	fi
	pid=${st#* }
	unit=docker-$id.scope
	unit_ok "$unit" system.slice 'docker*'
	init_in "$unit" "$pid"
	o=$(D exec d1 sh -c 'cat /sys/fs/cgroup/memory.max; exit 5' 2>&1)
	rc=$?
	if [ $rc = 5 ] && [ "$o" = $lim ]; then ok "docker exec (exit 5, memory.max $lim)"; else ko "docker exec (exit 5, memory.max $lim)" "rc=$rc" "$o"; fi
	o="$(cat "/proc/$pid/attr/current" 2>&1 | tr -d '\0'); $(D exec d1 cat /proc/self/attr/current 2>&1 | tr -d '\0')"
	if [ "$o" = "docker-default (enforce); docker-default (enforce)" ]; then ok "AppArmor: init and exec under docker-default (enforce)"; else ko "AppArmor: init and exec under docker-default (enforce)" "$o"; fi
	creates_ok
	o=$(D stop -t 1 d1 2>&1)
	rc=$?
	st=$(D inspect -f '{{.State.Status}}' d1 2>&1)
	if [ $rc = 0 ] && [ "$st" = exited ] && ! loaded "$unit"; then ok "docker stop: exited, the unit is gone"; else ko "docker stop: exited, the unit is gone" "rc=$rc status=$st" "$o" "$(systemctl status "$unit" --no-pager 2>&1)"; fi
	o=$(D rm d1 2>&1)
	rc=$?
	if [ $rc = 0 ]; then ok "docker rm"; else ko "docker rm" "rc=$rc" "$o"; fi
	kill $dpid 2>/dev/null
	for _ in $(seq 100); do kill -0 $dpid 2>/dev/null || break; sleep 0.2; done
	o=$(systemctl list-units --all --no-legend --plain 'docker-*' 2>&1)
	if [ -z "$o" ] && [ ! -d "/sys/fs/cgroup$cg" ] && ! kill -0 $dpid 2>/dev/null; then ok "dockerd stopped; no docker unit or cgroup left"; else ko "dockerd stopped; no docker unit or cgroup left" "$o" "$(ls -d "/sys/fs/cgroup$cg" 2>&1)"; fi
	phase docker "$t0"
}

cri
pod_man
[ "${SD_CALLERS_DOCKER:-1}" = 0 ] || docker_
echo "VM-CALLERS: $pass passed, $fail failed"
[ "$fail" = 0 ]
