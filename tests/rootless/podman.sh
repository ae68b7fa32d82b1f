#!/usr/bin/env bash
# Rootless podman drives a runtime (hull, or runc/crun to compare): run as
# the rootless lane's user (lane.sh runs it after the go tests), never as
# root.
#
#   tests/rootless/podman.sh RUNTIME
#
# Podman is Debian's 4.3 (conmon). Everything of podman's is the user's:
# storage in $HOME/podman (overlay, native in the user namespace: the kernel
# allows it unprivileged since 5.13; PODMAN_DRIVER=vfs to change it), run
# root in $XDG_RUNTIME_DIR/podman, a containers.conf of its own
# (CONTAINERS_CONF), the image made by tests/callers/mkimage.sh (the host's
# static busybox: no registry, no network). Options, and why:
#   --cgroup-manager cgroupfs  no systemd here (nor a user's session bus);
#                              on cgroup v1 rootless podman then runs its
#                              containers without cgroups (so no pause,
#                              no limits: podman refuses/ignores them);
#   --events-backend file      no journald;
#   --network none             podman's rootless default, slirp4netns,
#                              opens /dev/net/tun, which is 0600 root here;
#                              --net host is tested once.
# In the systemd VM lane (tests/vm/systemd-rootless.sh) it runs with
# PODMAN_CGROUP_MANAGER=systemd: podman then puts conmon and the container
# in scopes of the user's systemd instance (hull --systemd-cgroup over the
# session bus), and the steps that need the user's delegated cgroup run
# too: the container's scope, a memory limit, pause/unpause.
# PODMAN_IMAGE_TAR: the image, made beforehand (the VM has no mkimage.sh
# tools).
# At the end: podman system reset (containers, images, storage) and podman's
# pause process (it holds the user namespace) killed by its pid; the lane's
# own trap removes whatever is still there.
# The last line: "podman: N passed, M failed"; exit status 1 if M > 0.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rt=$(readlink -f "${1:?usage: podman.sh RUNTIME}")
[ "$(id -u)" != 0 ] || { echo "podman.sh: runs as the rootless lane's user, not root" >&2; exit 2; }
: "${XDG_RUNTIME_DIR:?podman.sh: rootless podman needs XDG_RUNTIME_DIR}"
command -v podman >/dev/null || { echo "podman.sh: no podman (apt-get install podman)" >&2; exit 2; }

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS podman: $1"; }
ko() {
	fail=$((fail + 1))
	echo "FAIL podman: $1"
	shift
	[ $# -gt 0 ] && printf '  %s\n' "$@"
	return 0
}

T=$HOME/podman
cgm=${PODMAN_CGROUP_MANAGER:-cgroupfs}
mkdir -p "$T/tmp"
cat >"$T/containers.conf" <<C
[containers]
netns = "none"
[engine]
cgroup_manager = "$cgm"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/tmp"
image_copy_tmp_dir = "$T/tmp"
C
export CONTAINERS_CONF=$T/containers.conf TMPDIR=$T/tmp
P() {
	podman --root "$T/storage" --runroot "$XDG_RUNTIME_DIR/podman" --tmpdir "$T/tmp" \
		--storage-driver "${PODMAN_DRIVER:-overlay}" --cgroup-manager "$cgm" \
		--events-backend file --runtime "$rt" "$@"
}
img=localhost/hullbox:latest
N=(--network none)

finish() {
	local pp
	pp=$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" 2>/dev/null)
	P rm -af -t 0 >/dev/null 2>&1
	P system reset --force >/dev/null 2>&1
	# Files of subordinate ids: removable in podman's user namespace only.
	[ ! -e "$T/storage" ] || P unshare rm -rf "$T/storage" >/dev/null 2>&1
	# podman's pause process: ours (this uid) and named so, by its pid.
	if [ -n "$pp" ] && [ "$(ps -o uid=,comm= -p "$pp" 2>/dev/null | awk '{print $1, $2}')" = "$(id -u) catatonit" ]; then
		kill -TERM "$pp" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pp" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$pp" 2>/dev/null && kill -KILL "$pp" 2>/dev/null
	fi
	rm -rf "$T" 2>/dev/null
}
trap finish EXIT

echo "podman: $(podman --version), runtime $rt, storage ${PODMAN_DRIVER:-overlay} in $T, cgroup manager $cgm"
tar=${PODMAN_IMAGE_TAR:-$T/hullbox.tar}
[ -n "${PODMAN_IMAGE_TAR:-}" ] || "$here/../callers/mkimage.sh" "$tar" "$img" || { ko "image built"; exit 1; }
o=$(P load -q -i "$tar" 2>&1)
rc=$?
if [ $rc -eq 0 ] && P image exists "$img"; then ok "image load"; else ko "image load" "rc=$rc" "$o"; fi

# The user's mapping (its uid as root, its subordinate ids after), which
# podman's pause process holds and the container shares.
o=$(P run "${N[@]}" --rm "$img" sh -c 'echo hello; echo "$(id -u):$(id -g)"; tr -s " " </proc/self/uid_map' 2>&1)
rc=$?
want=$(printf 'hello\n0:0\n 0 %s 1\n 1 %s 65536' "$(id -u)" "$(awk -F: -v u="$(id -un)" '$1 == u {print $2}' /etc/subuid)")
if [ $rc -eq 0 ] && [ "$o" = "$want" ]; then ok "run --rm (output, uid, the user's uid_map)"; else ko "run --rm (output, uid, the user's uid_map)" "rc=$rc" "got: $o" "want: $want"; fi

o=$(P run "${N[@]}" --rm "$img" sh -c 'exit 7' 2>&1)
rc=$?
if [ $rc -eq 7 ]; then ok "exit code 7 propagated"; else ko "exit code 7 propagated" "rc=$rc" "$o"; fi

o=$(P run "${N[@]}" --rm --user 1000:1000 -e FOO=bar -w /tmp "$img" sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"' 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$o" = "bar /tmp 1000:1000" ]; then ok "-e, -w, --user 1000:1000 (a subordinate id)"; else ko "-e, -w, --user 1000:1000 (a subordinate id)" "rc=$rc" "$o"; fi

o=$(P run -d "${N[@]}" --name p1 "$img" sleep 1000 2>&1)
rc=$?
st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
if [ $rc -eq 0 ] && [ "$st" = running ]; then ok "run -d: running"; else ko "run -d: running" "rc=$rc status=$st" "$o"; fi

o=$(P exec p1 sh -c 'echo in-exec; exit 5' 2>&1)
rc=$?
if [ $rc -eq 5 ] && [ "$o" = in-exec ]; then ok "exec (output, exit 5)"; else ko "exec (output, exit 5)" "rc=$rc" "$o"; fi

o=$(echo piped-in | P exec -i p1 cat 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$o" = piped-in ]; then ok "exec -i (stdin)"; else ko "exec -i (stdin)" "rc=$rc" "$o"; fi

pc="podman --root $T/storage --runroot $XDG_RUNTIME_DIR/podman --tmpdir $T/tmp --storage-driver ${PODMAN_DRIVER:-overlay} --cgroup-manager $cgm --events-backend file --runtime $rt"
o=$(script -qec "$pc exec -t p1 sh -c 'tty; exit 4'" /dev/null 2>&1 </dev/null)
rc=$?
if [ $rc -eq 4 ] && echo "$o" | tr -d '\r' | grep -x '/dev/pts/[0-9]*' >/dev/null; then ok "exec -t (tty, exit 4)"; else ko "exec -t (tty, exit 4)" "rc=$rc" "$o"; fi

o=$(P top p1 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q 'sleep 1000' <<<"$o"; then ok "top"; else ko "top" "rc=$rc" "$o"; fi

if [ "$cgm" = systemd ]; then
	# The container's scope is the user's instance's, in its user.slice,
	# and the cgroup delegated to the user: pause and unpause freeze it.
	pid=$(P inspect -f '{{.State.Pid}}' p1 2>&1)
	cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>&1)
	want="/user.slice/user-$(id -u).slice/user@$(id -u).service/user.slice/libpod-$(P inspect -f '{{.Id}}' p1).scope"
	if [ "$cg" = "$want" ]; then ok "the container's scope in the user's systemd ($cg)"; else ko "the container's scope in the user's systemd" "pid $pid: $cg" "want: $want"; fi
	o=$(P pause p1 2>&1)
	rc=$?
	st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
	fz=$(cat "/sys/fs/cgroup$cg/cgroup.freeze" 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = paused ] && [ "$fz" = 1 ]; then ok "pause (cgroup.freeze 1)"; else ko "pause" "rc=$rc status=$st cgroup.freeze=$fz" "$o"; fi
	o=$(P unpause p1 2>&1)
	rc=$?
	st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = running ]; then ok "unpause"; else ko "unpause" "rc=$rc status=$st" "$o"; fi
	o=$(P run "${N[@]}" --rm --memory 32m "$img" sh -c 'cat /sys/fs/cgroup/memory.max' 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ "$o" = 33554432 ]; then ok "run --memory 32m (memory.max in the container's cgroup)"; else ko "run --memory 32m" "rc=$rc" "$o"; fi
fi

# sleep, pid 1, ignores SIGTERM: stop kills it after 1 s.
o=$(P stop -t 1 p1 2>&1)
rc=$?
st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
if [ $rc -eq 0 ] && [ "$st" = exited ]; then ok "stop"; else ko "stop" "rc=$rc status=$st" "$o"; fi
o=$(P rm p1 2>&1)
rc=$?
if [ $rc -eq 0 ] && ! P container exists p1; then ok "rm"; else ko "rm" "rc=$rc" "$o"; fi

o=$(P run "${N[@]}" --name l1 "$img" sh -c 'echo to-stdout; echo to-stderr >&2' 2>&1)
rc=$?
lg=$(P logs l1 2>&1)
P rm l1 >/dev/null 2>&1
if [ $rc -eq 0 ] && grep -qx to-stdout <<<"$lg" && grep -qx to-stderr <<<"$lg"; then ok "logs (stdout and stderr)"; else ko "logs (stdout and stderr)" "rc=$rc" "$o" "logs: $lg"; fi

o=$(P run --net host --rm "$img" sh -c 'test -e /sys/class/net/lo && echo host-net' 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ "$o" = host-net ]; then ok "run --net host"; else ko "run --net host" "rc=$rc" "$o"; fi

o=$(P run "${N[@]}" --rm "$img" /no/such/binary 2>&1)
rc=$?
if [ $rc -eq 127 ] && grep -q 'no such file' <<<"$o"; then ok "start error reported (127)"; else ko "start error reported (127)" "rc=$rc" "$o"; fi

o=$(P ps -aq 2>&1)
if [ -z "$o" ]; then ok "no containers left"; else ko "no containers left" "$o"; fi

trap - EXIT
pp=$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" 2>/dev/null)
finish
left=
[ -e "$T" ] && left="$T "
[ -n "$pp" ] && kill -0 "$pp" 2>/dev/null && left="${left}pause process $pp"
if [ -z "$left" ]; then ok "reset: storage and pause process gone"; else ko "reset: storage and pause process gone" "left: $left"; fi
echo "podman: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
