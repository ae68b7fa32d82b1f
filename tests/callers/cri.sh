#!/usr/bin/env bash
# Drives hull through CRI, the path Kubernetes' kubelet takes: a private
# containerd 1.6 (Debian's `containerd` package) with its CRI plugin, driven
# by crictl (cri-tools, pinned, built once with `go install` and cached in
# /var/cache/hull-cri/<version>). hull is the runc shim v2's BinaryName for
# a runtime handler "hull" (what a RuntimeClass names); pods are run with
# `crictl runp --runtime hull`. Records every hull invocation the shim made.
#
#   tests/callers/cri.sh [HULL] [OUTDIR]
#
# Everything runs in a private mount + cgroup namespace whose cgroup
# hierarchies are rooted at a lane cgroup made under this shell's own cgroup
# in every hierarchy (the same scheme as tests/oci/lane.sh), and with a
# private tmpfs over /run (containerd 1.6 shims put their sockets in
# /run/containerd/s whatever the state dir says). There is no CNI here:
# the pod uses the host's network namespace (network: NODE), so containerd
# never calls a CNI plugin; crictl's streaming (exec) goes to containerd's
# stream server on 127.0.0.1. The pod's sandbox ("pause") image and the
# workload image are the host's static busybox, packed by mkimage.sh and
# imported, so nothing is pulled. Nothing is left behind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lane.sh"
lane_caller cri "apt-get install containerd jq bc" "containerd ctr script jq bc" "$@"

# crictl, pinned; built from the Go module proxy once, then reused.
crictl_version=${HULL_CRICTL_VERSION:-v1.34.0}
crictl=/var/cache/hull-cri/$crictl_version/crictl
if [ ! -x "$crictl" ]; then
	gobin=$(command -v go || echo /usr/local/go/bin/go)
	echo "callers-cri: building crictl $crictl_version into ${crictl%/*}"
	mkdir -p "${crictl%/*}"
	if ! (cd / && GOBIN=${crictl%/*} GOFLAGS= "$gobin" install "sigs.k8s.io/cri-tools/cmd/crictl@$crictl_version") >"$out/crictl-install.log" 2>&1 || [ ! -x "$crictl" ]; then
		tail -5 "$out/crictl-install.log"
		echo "callers-cri: 0 passed, 1 failed (could not go install crictl $crictl_version; see $out/crictl-install.log)"
		exit 1
	fi
fi

inner() {
	set -u
	. "$here/../lib/lane.sh"
	lane_private_run || return 1
	mkdir -p /run/containerd "$T/cni/conf" "$T/cni/bin" "$T/logs"

	# hull behind a wrapper that records its argv and keeps each bundle's
	# config.json
	lane_wrapper "$T/hull-wrap" "$hull" "$T" 'prev=; for a in "$@"; do [ "$prev" = --bundle ] && cp "$a/config.json" "'"$out"'/config-$(basename "$a" | cut -c1-12).json"; prev=$a; done'
	img=docker.io/library/hullbox:latest
	pause=docker.io/library/hullpause:latest
	# restrict_oom_score_adj: the sandbox's spec asks for oom_score_adj
	# -998, and this machine's root lacks CAP_SYS_RESOURCE to lower it
	# (kubelet-in-a-container setups set the same). No AppArmor here.
	lane_containerd_toml "$T/config.toml" ""
	cat >> "$T/config.toml" <<C
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_tcp_service = true
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$T/cni/bin"
    conf_dir = "$T/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "hull"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull.options]
        BinaryName = "$T/hull-wrap"
        SystemdCgroup = false
C
	cat > "$T/crictl.yaml" <<C
runtime-endpoint: unix://$T/containerd.sock
image-endpoint: unix://$T/containerd.sock
timeout: 30
debug: false
pull-image-on-create: false
disable-pull-on-run: true
C
	containerd --config "$T/config.toml" > "$out/containerd.log" 2>&1 &
	cpid=$!
	CRS="$crictl --config $T/crictl.yaml"
	CR() { $CRS "$@"; }
	C() { ctr --address "$T/containerd.sock" -n k8s.io "$@"; }
	local i o rc
	for i in $(seq 150); do [ -S "$T/containerd.sock" ] && CR version >/dev/null 2>&1 && break; sleep 0.1; done
	t0=$(date +%s.%N)
	# each scenario's end, seconds since t0, in $out/scenario-times.txt
	eval "lane_ok() $(declare -f ok | tail -n +2)"
	eval "lane_ko() $(declare -f ko | tail -n +2)"
	since() { echo "$(echo "$(date +%s.%N) - $t0" | bc) $1" >> "$out/scenario-times.txt"; }
	ok() { lane_ok "$@"; since "$1"; }
	ko() { lane_ko "$@"; since "$1"; }
	: > "$out/scenario-times.txt"
	timed() { local s e; s=$(date +%s.%N); "$@"; local rc=$?; e=$(date +%s.%N); echo "$* : $(echo "$e - $s" | bc) s" >> "$out/timings.txt"; return $rc; }
	: > "$out/timings.txt"
	# state NAME-OR-ID: the container's CRI state (CONTAINER_RUNNING, ...)
	cstate() { CR inspect -o go-template --template '{{.status.state}}' "$1" 2>&1; }
	cexit() { CR inspect -o go-template --template '{{.status.exitCode}}' "$1" 2>&1; }
	wait_exited() { local i; for i in $(seq 100); do [ "$(cstate "$1")" = CONTAINER_EXITED ] && return 0; sleep 0.1; done; return 1; }
	# ctrcfg NAME FIELDS [SECURITY-CONTEXT-FIELDS [LINUX-FIELDS]]: a
	# container config for image $img, with kubelet's default namespaces
	# (the pod's network and IPC, a PID namespace of its own; $pidns=0
	# for the pod's, shareProcessNamespace)
	ctrcfg() { echo "{\"metadata\":{\"name\":\"$1\"},\"image\":{\"image\":\"$img\"},\"log_path\":\"$1.log\",$2,\"linux\":{${4:+$4,}\"security_context\":{\"namespace_options\":{\"network\":2,\"pid\":${pidns:-1},\"ipc\":0}${3:+,$3}}}}" > "$T/$1.json"; }
	# mk NAME: crictl create in the pod; prints the container id
	mk() { CR create "$pod" "$T/$1.json" "$T/pod.json"; }
	gone() { CR stop -t 0 "$1" >/dev/null 2>&1; CR rm "$1" >/dev/null 2>&1; }

	# bail WHY: the rest cannot run; stop containerd and say so
	bail() {
		echo "callers-cri: $1: the remaining scenarios cannot run (see $out/containerd.log)"
		kill "$cpid"; wait "$cpid" 2>/dev/null
		if declare -F lane_stop_leftovers >/dev/null; then lane_stop_leftovers callers-cri; fi
		echo "callers-cri: $lane_pass passed, $((lane_fail + 1)) failed"
	}
	if o=$(CR version 2>&1) && grep -q 'RuntimeName: *containerd' <<<"$o"; then ok "containerd CRI is up ($crictl_version)"; else ko "containerd CRI is up ($crictl_version)" "$o" "$(grep -E 'level=(error|fatal)' "$out/containerd.log" | tail -5)"; bail "no CRI"; return 1; fi
	echo "$o" > "$out/crictl-version.txt"
	CR info > "$out/crictl-info.json" 2>&1 || true
	if jq -e '.status.conditions[] | select(.type=="RuntimeReady") | .status' "$out/crictl-info.json" 2>/dev/null | grep -x true >/dev/null; then ok "RuntimeReady (NetworkReady may be false: no CNI here)"; else ko "RuntimeReady" "$(head -c 2000 "$out/crictl-info.json")"; fi
	if jq -e '.config.containerd.runtimes.hull.options.BinaryName' "$out/crictl-info.json" 2>/dev/null | grep hull-wrap >/dev/null; then ok "runtime handler hull registered"; else ko "runtime handler hull registered" "$(jq -c '.config.containerd.runtimes' "$out/crictl-info.json" 2>&1 | head -c 2000)"; fi

	"$here/mkimage.sh" "$T/hullbox.tar" "$img"
	"$here/mkimage.sh" "$T/hullpause.tar" "$pause" '["/bin/sleep","2147483647"]'
	o=$( { C image import "$T/hullbox.tar" && C image import "$T/hullpause.tar"; } 2>&1); rc=$?
	if [ $rc -eq 0 ] && CR inspecti "$img" >/dev/null 2>&1 && CR inspecti "$pause" >/dev/null 2>&1; then ok "images imported, seen by CRI"; else ko "images imported, seen by CRI" "rc=$rc" "$o" "$(CR images 2>&1)"; fi

	# the pod: host network (no CNI), its own PID namespaces per container
	# as kubelet's default, a cgroupfs parent
	cat > "$T/pod.json" <<J
{"metadata":{"name":"hullpod","namespace":"hulltest","uid":"hullpod-uid-$$","attempt":0},
 "log_directory":"$T/logs",
 "linux":{"cgroup_parent":"/hullcri","security_context":{"namespace_options":{"network":2,"pid":1,"ipc":0}}}}
J
	pod=$(timed CR runp --runtime hull "$T/pod.json" 2>"$T/runp.err"); rc=$?
	st=$(CR inspectp -o go-template --template '{{.status.state}}' "$pod" 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = SANDBOX_READY ]; then ok "runp --runtime hull: sandbox READY"; else ko "runp --runtime hull: sandbox READY" "rc=$rc state=$st" "$(cat "$T/runp.err")" "$(tail -5 "$out/containerd.log")"; fi
	if [ -z "$pod" ]; then bail "no pod sandbox"; return 1; fi
	sbpid=$(CR inspectp "$pod" 2>/dev/null | jq -r '.info.pid // empty' 2>/dev/null)
	if [ -n "$sbpid" ] && [ "$(cat /proc/$sbpid/comm 2>&1)" = sleep ] && [ -d "/sys/fs/cgroup/memory/hullcri/$pod" ]; then ok "sandbox runs the pause image in /hullcri/<pod>"; else ko "sandbox runs the pause image in /hullcri/<pod>" "pid=$sbpid comm=$(cat /proc/$sbpid/comm 2>&1)" "$(ls /sys/fs/cgroup/memory/hullcri 2>&1)"; fi

	# 1. run a container and read its stdout (through the CRI log)
	ctrcfg c1 '"command":["echo","hello"]'
	c1=$(timed mk c1 2>&1) && o=$(timed CR start "$c1" 2>&1 >/dev/null) && wait_exited "$c1"; rc=$?
	o="$o$(CR logs "$c1" 2>&1)"
	if [ $rc -eq 0 ] && [ "$o" = hello ] && [ "$(cexit "$c1")" = 0 ]; then ok "create+start echo hello, logs read it, exit 0"; else ko "create+start echo hello, logs read it, exit 0" "rc=$rc id=$c1 state=$(cstate "$c1") exit=$(cexit "$c1")" "$o"; fi
	gone "$c1"

	# 2. exit code propagated
	ctrcfg c2 '"command":["sh","-c","exit 7"]'
	c2=$(mk c2 2>&1) && o=$(CR start "$c2" 2>&1 >/dev/null) && wait_exited "$c2"; rc=$?
	e=$(cexit "$c2")
	if [ $rc -eq 0 ] && [ "$e" = 7 ]; then ok "exit code 7 in crictl inspect"; else ko "exit code 7 in crictl inspect" "rc=$rc exitCode=$e state=$(cstate "$c2")" "$o"; fi
	gone "$c2"

	# 3. a long-running container: exec (sync, streamed, stdin, tty), ps,
	# stop (SIGTERM, then exit 143), rm
	ctrcfg d1 '"command":["sh","-c","trap \"exit 143\" TERM; while :; do sleep 0.2; done"]'
	d1=$(mk d1 2>&1) && o=$(timed CR start "$d1" 2>&1 >/dev/null); rc=$?
	st=$(cstate "$d1")
	if [ $rc -eq 0 ] && [ "$st" = CONTAINER_RUNNING ]; then ok "start detached: CONTAINER_RUNNING"; else ko "start detached: CONTAINER_RUNNING" "rc=$rc id=$d1 state=$st" "$o"; fi
	# (CRI has no top: crictl ps lists containers, ps inside lists processes)
	if CR ps -q --state running 2>&1 | grep -x "$d1" >/dev/null && CR ps --pod "$pod" 2>&1 | grep ' d1 ' >/dev/null; then ok "crictl ps lists it running in the pod"; else ko "crictl ps lists it running in the pod" "$(CR ps -a 2>&1)"; fi

	# crictl itself exits 1 and names the command's exit code
	# (and prints no output then)
	o=$(timed CR exec -s "$d1" sh -c 'echo in-sync-$$' 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -q '^in-sync-[0-9]*$' <<<"$o"; then ok "exec -s (sync: output)"; else ko "exec -s (sync: output)" "rc=$rc" "$o"; fi
	o=$(CR exec -s "$d1" sh -c 'exit 5' 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -q 'exited with 5' <<<"$o"; then ok "exec -s (sync: exit 5)"; else ko "exec -s (sync: exit 5)" "rc=$rc" "$o"; fi
	o=$(timed CR exec "$d1" sh -c 'echo in-stream-$$; exit 6' 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -q '^in-stream-' <<<"$o" && grep -q 'exit code 6' <<<"$o"; then ok "exec (streamed: output, exit 6)"; else ko "exec (streamed: output, exit 6)" "rc=$rc" "$o"; fi
	o=$(echo piped-in | CR exec -i "$d1" cat 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = piped-in ]; then ok "exec -i stdin"; else ko "exec -i stdin" "rc=$rc" "$o"; fi
	o=$(timed script -qec "$CRS exec -i -t $d1 sh -c 'tty; exit 4'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -ne 0 ] && grep -q 'exit code 4' <<<"$o" && echo "$o" | tr -d '\r\000' | sed 's/\^@//g' | grep -x '/dev/pts/[0-9]*' >/dev/null; then ok "exec -i -t (tty, exit 4)"; else ko "exec -i -t (tty, exit 4)" "rc=$rc" "$o"; fi
	# ps inside: its own PID namespace, the init is sh as pid 1
	o=$(CR exec -s "$d1" ps -o pid,args 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -qE '^ *1 +sh -c trap' <<<"$o"; then ok "ps inside: own PID namespace, init is pid 1"; else ko "ps inside: own PID namespace, init is pid 1" "rc=$rc" "$o"; fi
	dpid=$(CR inspect "$d1" 2>/dev/null | jq -r '.info.pid // empty' 2>/dev/null)
	if [ -n "$dpid" ] && grep -q "hullcri/$d1\$" "/proc/$dpid/cgroup" 2>/dev/null; then ok "container in the cgroup /hullcri/<id>"; else ko "container in the cgroup /hullcri/<id>" "pid=$dpid" "$(cat "/proc/$dpid/cgroup" 2>&1)"; fi
	o=$(timed CR stop -t 10 "$d1" 2>&1); rc=$?
	st=$(cstate "$d1"); e=$(cexit "$d1")
	if [ $rc -eq 0 ] && [ "$st" = CONTAINER_EXITED ] && [ "$e" = 143 ]; then ok "stop -t 10 (SIGTERM; exit 143)"; else ko "stop -t 10 (SIGTERM; exit 143)" "rc=$rc state=$st exitCode=$e" "$o"; fi
	o=$(CR rm "$d1" 2>&1); rc=$?
	if [ $rc -eq 0 ] && ! CR ps -a -q 2>&1 | grep -x "$d1" >/dev/null; then ok "rm"; else ko "rm" "rc=$rc" "$o"; fi
	if ! ls -d /sys/fs/cgroup/*/hullcri/"$d1" >/dev/null 2>&1; then ok "cgroups removed after rm"; else ko "cgroups removed after rm" "$(ls -d /sys/fs/cgroup/*/hullcri/"$d1" 2>&1)"; fi

	# 3b. the pod's PID namespace (shareProcessNamespace): the pause
	# process is pid 1. When the container's init exits, no PID namespace
	# of its own goes away with it: containerd (CRI's exit handler,
	# WithProcessKill) has the runtime kill what it left behind with
	# `kill --all <id> 9`, the container stopped by then, then deletes the
	# task. The leftover here holds the container's stdout: until it is
	# killed the shim waits for the I/O, 2 s, before it deletes.
	pidns=0 ctrcfg s1 '"command":["sh","-c","sleep 1000 & ps -o pid,args; exit 0"]'
	s1=$(mk s1 2>&1) && ts=$(date +%s.%N) && o=$(CR start "$s1" 2>&1 >/dev/null) && wait_exited "$s1"; rc=$?
	el=$(echo "$(date +%s.%N) - ${ts:-0}" | bc)
	o="$o$(CR logs "$s1" 2>&1)"
	if [ $rc -eq 0 ] && grep -qE '^ *1 +/bin/sleep 2147483647$' <<<"$o"; then ok "pod PID namespace: pause is pid 1"; else ko "pod PID namespace: pause is pid 1" "rc=$rc id=$s1" "$o"; fi
	kf=$(grep -A1 "^rc=.* kill --all $s1 9\$" "$T/failures.log" 2>/dev/null | head -2)
	if [ $rc -eq 0 ] && [ "$(echo "$el < 1.5" | bc)" = 1 ] && [ -z "$kf" ]; then ok "pod PID namespace: kill --all at exit kills the leftover (exited in ${el%%.??????*} s)"; else ko "pod PID namespace: kill --all at exit kills the leftover" "rc=$rc: start to CONTAINER_EXITED took $el s (runc 1.1.5: 0.3 s; 2 s is the shim's I/O wait)" "$kf"; fi
	for i in $(seq 30); do left=$(grep -l "hullcri/$s1\$" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3); [ -z "$left" ] && break; sleep 0.1; done
	if [ -z "$left" ]; then ok "pod PID namespace: nothing left in its cgroup once exited"; else ko "pod PID namespace: nothing left in its cgroup once exited" "left in /hullcri/<id>: $(for p in $left; do echo "$p $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)"; done)" "$(grep -A2 "kill --all $s1" "$T/failures.log" 2>/dev/null | head -3)"; fi
	for p in $left; do kill "$p" 2>/dev/null; done
	gone "$s1"

	# 4. memory limit: the cgroup file, inside, and crictl update
	lim=67108864
	ctrcfg m1 '"command":["sleep","1000"]' '' '"resources":{"memory_limit_in_bytes":'$lim'}'
	m1=$(mk m1 2>&1) && o=$(CR start "$m1" 2>&1 >/dev/null); rc=$?
	f=$(cat "/sys/fs/cgroup/memory/hullcri/$m1/memory.limit_in_bytes" 2>&1)
	if [ $rc -eq 0 ] && [ "$f" = $lim ]; then ok "memory_limit_in_bytes in memory.limit_in_bytes"; else ko "memory_limit_in_bytes in memory.limit_in_bytes" "rc=$rc id=$m1 file=$f" "$o"; fi
	# CRI's spec mounts the cgroup hierarchies at /sys/fs/cgroup (ro)
	o=$(CR exec -s "$m1" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
	if [ "$o" = $lim ]; then ok "memory limit visible inside at /sys/fs/cgroup/memory"; else ko "memory limit visible inside at /sys/fs/cgroup/memory" "$o"; fi
	o=$(timed CR update --memory $((2 * lim)) "$m1" 2>&1); rc=$?
	f=$(cat "/sys/fs/cgroup/memory/hullcri/$m1/memory.limit_in_bytes" 2>&1)
	if [ $rc -eq 0 ] && [ "$f" = $((2 * lim)) ]; then ok "crictl update --memory (hull update)"; else ko "crictl update --memory (hull update)" "rc=$rc file=$f" "$o"; fi
	o=$(CR stop -t 0 "$m1" 2>&1); rc=$?
	e=$(cexit "$m1")
	if [ $rc -eq 0 ] && [ "$e" = 137 ]; then ok "stop -t 0 (SIGKILL; exit 137)"; else ko "stop -t 0 (SIGKILL; exit 137)" "rc=$rc exitCode=$e state=$(cstate "$m1")" "$o"; fi
	gone "$m1"

	# 5. env, cwd, user 1000
	ctrcfg v1 '"command":["sh","-c","echo \"$FOO $(pwd) $(id -u)\""],"envs":[{"key":"FOO","value":"bar"}],"working_dir":"/tmp"' '"run_as_user":{"value":1000}'
	v1=$(mk v1 2>&1) && o=$(CR start "$v1" 2>&1 >/dev/null) && wait_exited "$v1"; rc=$?
	o="$o$(CR logs "$v1" 2>&1)"
	if [ $rc -eq 0 ] && [ "$o" = "bar /tmp 1000" ]; then ok "envs, working_dir, run_as_user 1000"; else ko "envs, working_dir, run_as_user 1000" "rc=$rc id=$v1" "$o"; fi
	gone "$v1"

	# 6. read-only rootfs, rw and ro bind mounts
	mkdir -p "$T/vol" "$T/rovol" && echo from-host > "$T/rovol/f"
	ctrcfg v2 '"command":["sh","-c","{ touch /rootfs-write; } 2>/dev/null && echo rootfs-writable; echo in > /vol/out; cat /ro/f; { echo x > /ro/g; } 2>/dev/null && echo ro-writable; true"],"mounts":[{"container_path":"/vol","host_path":"'"$T/vol"'","readonly":false},{"container_path":"/ro","host_path":"'"$T/rovol"'","readonly":true}]' '"readonly_rootfs":true'
	v2=$(mk v2 2>&1) && o=$(CR start "$v2" 2>&1 >/dev/null) && wait_exited "$v2"; rc=$?
	o="$o$(CR logs "$v2" 2>&1)"
	if [ $rc -eq 0 ] && [ "$o" = from-host ] && [ "$(cat "$T/vol/out" 2>&1)" = in ] && [ ! -e "$T/rovol/g" ]; then ok "readonly_rootfs, rw and ro bind mounts"; else ko "readonly_rootfs, rw and ro bind mounts" "rc=$rc id=$v2" "$o" "vol/out: $(cat "$T/vol/out" 2>&1)"; fi
	gone "$v2"

	# 7. logs: stdout and stderr, in CRI's format in the pod's log directory
	ctrcfg l1 '"command":["sh","-c","echo to-stdout; echo to-stderr >&2"]'
	l1=$(mk l1 2>&1) && o=$(CR start "$l1" 2>&1 >/dev/null) && wait_exited "$l1"; rc=$?
	so=$(CR logs "$l1" 2>/dev/null); se=$(CR logs "$l1" 2>&1 >/dev/null)
	lf=$T/logs/l1.log
	if [ $rc -eq 0 ] && [ "$so" = to-stdout ] && [ "$se" = to-stderr ] && grep -qE '^[^ ]+ stdout F to-stdout$' "$lf" && grep -qE '^[^ ]+ stderr F to-stderr$' "$lf"; then ok "logs: stdout and stderr, CRI log file"; else ko "logs: stdout and stderr, CRI log file" "rc=$rc id=$l1 stdout=$so stderr=$se" "$o" "file: $(cat "$lf" 2>&1)"; fi
	gone "$l1"

	# 8. a failing start: CRI reports the error hull logged
	ctrcfg e1 '"command":["/no/such/binary"]'
	e1=$(mk e1 2>&1) && o=$(CR start "$e1" 2>&1 >/dev/null); rc=$?
	echo "$o" > "$out/error-report.txt"
	if [ $rc -ne 0 ] && grep -q -i 'no such file\|not found\|executable' <<<"$o"; then ok "start error reported by crictl"; else ko "start error reported by crictl" "rc=$rc id=$e1" "$o"; fi
	gone "$e1"

	# 9. the pod goes away
	if ! CR ps -a -q 2>&1 | grep . >/dev/null; then ok "no containers left"; else ko "no containers left" "$(CR ps -a 2>&1)"; fi
	o=$(timed CR stopp "$pod" 2>&1); rc=$?
	st=$(CR inspectp -o go-template --template '{{.status.state}}' "$pod" 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = SANDBOX_NOTREADY ]; then ok "stopp: sandbox NOTREADY"; else ko "stopp: sandbox NOTREADY" "rc=$rc state=$st" "$o"; fi
	o=$(timed CR rmp "$pod" 2>&1); rc=$?
	if [ $rc -eq 0 ] && ! CR pods -q 2>&1 | grep . >/dev/null; then ok "rmp: no pods left"; else ko "rmp: no pods left" "rc=$rc" "$o" "$(CR pods 2>&1)"; fi
	o=$(find /sys/fs/cgroup/*/hullcri -mindepth 1 -type d 2>&1)
	if [ -z "$o" ]; then ok "no container cgroups left under /hullcri"; else ko "no container cgroups left under /hullcri" "$o"; fi
	if [ -z "$(ls -A /run/containerd/runc/k8s.io 2>/dev/null)" ]; then ok "no hull state left in --root"; else ko "no hull state left in --root" "$(ls /run/containerd/runc/k8s.io 2>&1)"; fi
	echo "total time: $(echo "$(date +%s.%N) - $t0" | bc) s"

	# 10. the invocations and their flags
	norm() {
		sed -E -e "s#$T#<tmp>#g" \
			-e 's#/tmp/runc-process[0-9]+#/tmp/runc-process<N>#g' \
			-e 's#/tmp/pty[0-9]+#/tmp/pty<N>#g' \
			-e 's#[0-9a-f]{64}#<id>#g' \
			-e 's#"time":"[^"]*",##' "$@" | awk '!seen[$0]++'
	}
	o=$(cat "$T/failures.log" 2>/dev/null)
	if [ -z "$o" ] || [ "$(grep -c '^rc=' <<<"$o")" = "$(grep -c "^rc=.* create .* $e1\$" <<<"$o")" ]; then ok "no hull call failed but the expected e1 create"; else ko "no hull call failed but the expected e1 create" "$(grep -c '^rc=' <<<"$o") failed calls (all in $out/failures.log), distinct:" "$(norm <<<"$o")"; fi
	cp "$T/failures.log" "$out/failures.log" 2>/dev/null || true
	cp "$T/invocations.log" "$out/invocations-raw.log" 2>/dev/null || touch "$out/invocations-raw.log"
	norm "$out/invocations-raw.log" > "$out/invocations-cri.txt"
	lane_check_flags cri "containerd's CRI"

	kill "$cpid"; wait "$cpid" 2>/dev/null
	# any shim left? (containerd leaves them running by design)
	lane_stop_leftovers callers-cri
	echo "callers-cri: $lane_pass passed, $lane_fail failed"
	[ "$lane_fail" -eq 0 ]
}
export crictl crictl_version
lane_run cri
