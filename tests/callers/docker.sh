#!/usr/bin/env bash
# Drives hull through Docker 20.10 (Debian's `docker.io`): a private dockerd
# with hull registered as its default runtime (--add-runtime hull=WRAPPER
# --default-runtime hull), the containerd 1.6 that dockerd starts and
# supervises itself, and its runc shim v2, which runs the wrapper. The
# wrapper records every hull invocation, then runs hull. No bridge, no
# iptables, containers with --network none; the image is built here (from
# mkimage.sh's layout) and loaded with `docker load`: no registry.
#
#   tests/callers/docker.sh [HULL] [OUTDIR]
#
# Everything runs in a private mount + cgroup namespace whose cgroup
# hierarchies are rooted at a lane cgroup made under this shell's own cgroup
# in every hierarchy (the same scheme as tests/oci/lane.sh), with a private
# tmpfs over /run (containerd 1.6 shims put their sockets in
# /run/containerd/s whatever the state dir says) and over /etc/docker.
# dockerd's --data-root, --exec-root, socket, pidfile and config file, and
# its containerd's root, state and sockets (below them), are in a temp dir.
# Nothing is left behind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# /usr/bin/docker: the 20.10 client of the package, not whatever else is
# earlier in PATH.
. "$here/../lib/lane.sh"
lane_caller docker "apt-get install docker.io" "/usr/sbin/dockerd /usr/bin/docker containerd containerd-shim-runc-v2 script jq" "$@"

inner() {
	set -u
	. "$here/../lib/lane.sh"
	lane_private_run || return 1
	# dockerd 20.10 writes its trust key to /etc/docker/key.json: keep it
	# (and anything else it puts there) off the host.
	mount -t tmpfs -o mode=755 etc_docker_private /etc/docker || return 1

	lane_wrapper "$T/hull-wrap" "$hull" "$T"
	echo '{}' > "$T/daemon.json"
	mkdir -p "$T/cli" "$T/tmp"
	export DOCKER_CONFIG=$T/cli
	unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
	# No --default-ulimit: dockerd 20.10 puts no rlimits of its own in the
	# spec (the containers inherit the shim's, within the hard limits we
	# have without CAP_SYS_RESOURCE); --ulimit is tried below.
	/usr/sbin/dockerd --config-file "$T/daemon.json" \
		--data-root "$T/data" --exec-root "$T/exec" --pidfile "$T/docker.pid" -H "unix://$T/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
		--storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent /hulldocker \
		--add-runtime "hull=$T/hull-wrap" --default-runtime hull \
		> "$out/dockerd.log" 2>&1 &
	dpid=$!
	# stop_daemon: dockerd stops its containers and its containerd; then
	# whatever is left in the lane's cgroups (a containerd, a shim) is
	# killed by pid.
	stop_daemon() {
		[ -n "${dpid:-}" ] || return 0
		kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
		dpid=
		lane_stop_leftovers callers-docker
	}
	trap stop_daemon EXIT
	D() { /usr/bin/docker -H "unix://$T/docker.sock" "$@"; }
	DS="/usr/bin/docker -H unix://$T/docker.sock"
	local i
	for i in $(seq 150); do
		D version >/dev/null 2>&1 && break
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.2
	done
	timed() { local s e; s=$(date +%s.%N); "$@"; local rc=$?; e=$(date +%s.%N); echo "$* : $(echo "$e - $s" | bc) s" >> "$out/timings.txt"; return $rc; }
	: > "$out/timings.txt"
	t0=$(date +%s.%N)
	if ! D version > "$out/docker-version.txt" 2>&1; then
		why=$(grep -E 'level=(error|fatal)|^failed to start daemon' "$out/dockerd.log" | tail -4)
		kill -0 "$dpid" 2>/dev/null && st="still running, not answering" || { wait "$dpid"; st="exited with status $?"; dpid=; }
		ko "dockerd is up" "dockerd $st; its errors ($out/dockerd.log):" "${why:-$(tail -4 "$out/dockerd.log")}"
		stop_daemon
		echo "callers-docker: $lane_pass passed, $lane_fail failed"
		return 1
	fi
	ok "dockerd is up ($(D info -f 'storage {{.Driver}}, cgroup driver {{.CgroupDriver}}, default runtime {{.DefaultRuntime}}' 2>&1))"
	CP=(--network none)
	img=hullbox:latest

	# dockerd runs `RUNTIME --version` and parses its "commit:" line for
	# docker info.
	want=$("$hull" --version | sed -n 's/^commit: *//p')
	got=$(D info -f '{{.RuncCommit.ID}}' 2>&1)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "docker info reads the runtime's --version (commit $got)"; else ko "docker info reads the runtime's --version" "want commit '$want', docker info says '$got'"; fi

	# The image: mkimage.sh's OCI layout, repacked as a docker-archive
	# (manifest.json naming the config and layer blobs), which is what
	# `docker load` in 20.10 reads (it takes the OCI layout itself for a
	# legacy one: "open .../blobs/json: no such file or directory").
	"$here/mkimage.sh" "$T/hullbox-oci.tar" "docker.io/library/$img"
	mkdir -p "$T/img"
	tar -C "$T/img" -xf "$T/hullbox-oci.tar"
	md=$(jq -r '.manifests[0].digest' "$T/img/index.json")
	jq -c --arg tag "$img" '[{Config: ("blobs/sha256/" + (.config.digest | sub("^sha256:"; ""))), RepoTags: [$tag], Layers: [.layers[].digest | sub("^sha256:"; "") | "blobs/sha256/" + .]}]' \
		"$T/img/blobs/sha256/${md#sha256:}" > "$T/img/manifest.json"
	tar --numeric-owner --owner=0 --group=0 -C "$T/img" -cf "$T/hullbox-docker.tar" manifest.json blobs
	o=$(D load -i "$T/hullbox-docker.tar" 2>&1); rc=$?
	if [ $rc -eq 0 ] && D image inspect "$img" >/dev/null 2>&1; then ok "docker load (docker-archive)"; else ko "docker load (docker-archive)" "rc=$rc" "$o"; fi

	# 1. run, stdout; exit code; tty
	o=$(timed D run "${CP[@]}" --rm "$img" echo hello 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = hello ]; then ok "run --rm echo hello"; else ko "run --rm echo hello" "rc=$rc" "$o"; fi

	o=$(timed D run "${CP[@]}" --rm "$img" sh -c 'exit 7' 2>&1); rc=$?
	if [ $rc -eq 7 ]; then ok "exit code 7 propagated"; else ko "exit code 7 propagated" "rc=$rc" "$o"; fi

	o=$(timed script -qec "$DS run --network none --rm -t $img sh -c 'tty; exit 3'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -eq 3 ] && echo "$o" | tr -d '\r' | grep -x '/dev/pts/[0-9]*' >/dev/null; then ok "run -t (tty, exit 3)"; else ko "run -t (tty, exit 3)" "rc=$rc" "$o"; fi

	# 2. a detached container: exec, top, pause/unpause, stop, rm
	o=$(timed D run "${CP[@]}" -d --name d1 "$img" sh -c 'trap "exit 143" TERM; while :; do sleep 0.2; done' 2>&1); rc=$?
	st=$(D inspect -f '{{.State.Status}}' d1 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = running ] && D ps -q --no-trunc | grep -x "$o" >/dev/null; then ok "run -d: running, in docker ps"; else ko "run -d: running, in docker ps" "rc=$rc status=$st" "$o"; fi
	id=$(D inspect -f '{{.Id}}' d1 2>/dev/null)
	ipid=$(D inspect -f '{{.State.Pid}}' d1 2>/dev/null)

	o=$(timed D exec d1 sh -c 'echo in-exec; exit 5' 2>&1); rc=$?
	if [ $rc -eq 5 ] && [ "$o" = in-exec ]; then ok "exec (output, exit 5)"; else ko "exec (output, exit 5)" "rc=$rc" "$o"; fi

	o=$(echo piped-in | D exec -i d1 cat 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = piped-in ]; then ok "exec -i stdin"; else ko "exec -i stdin" "rc=$rc" "$o"; fi

	o=$(timed script -qec "$DS exec -t d1 sh -c 'tty; exit 4'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -eq 4 ] && echo "$o" | tr -d '\r' | grep -x '/dev/pts/[0-9]*' >/dev/null; then ok "exec -t (tty, exit 4)"; else ko "exec -t (tty, exit 4)" "rc=$rc" "$o"; fi

	o=$(D top d1 2>&1); rc=$?
	if [ $rc -eq 0 ] && echo "$o" | awk 'NR>1{print $2}' | grep -x "$ipid" >/dev/null && grep -q 'trap' <<<"$o"; then ok "top lists the init process"; else ko "top lists the init process" "rc=$rc pid=$ipid" "$o"; fi

	o=$(D pause d1 2>&1); rc=$?
	st=$(D inspect -f '{{.State.Status}}' d1 2>&1)
	fz=$(cat "/sys/fs/cgroup/freezer/hulldocker/$id/freezer.state" 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = paused ] && [ "$fz" = FROZEN ]; then ok "pause (paused, FROZEN)"; else ko "pause (paused, FROZEN)" "rc=$rc status=$st freezer=$fz" "$o"; fi
	o=$(D unpause d1 2>&1); rc=$?
	st=$(D inspect -f '{{.State.Status}}' d1 2>&1)
	fz=$(cat "/sys/fs/cgroup/freezer/hulldocker/$id/freezer.state" 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = running ] && [ "$fz" = THAWED ]; then ok "unpause (running, THAWED)"; else ko "unpause (running, THAWED)" "rc=$rc status=$st freezer=$fz" "$o"; fi

	o=$(timed D stop -t 1 d1 2>&1); rc=$?
	st=$(D inspect -f '{{.State.Status}} {{.State.ExitCode}}' d1 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = "exited 143" ]; then ok "stop -t 1 (SIGTERM, exit 143)"; else ko "stop -t 1 (SIGTERM, exit 143)" "rc=$rc status/exit=$st" "$o"; fi
	o=$(D rm d1 2>&1); rc=$?
	if [ $rc -eq 0 ] && ! D inspect d1 >/dev/null 2>&1; then ok "rm"; else ko "rm" "rc=$rc" "$o"; fi
	if [ -n "$id" ] && ! ls -d /sys/fs/cgroup/*/hulldocker/"$id" >/dev/null 2>&1; then ok "cgroups removed after rm"; else ko "cgroups removed after rm" "$(ls -d /sys/fs/cgroup/*/hulldocker/"$id" 2>&1)"; fi

	# a container that ignores SIGTERM: stop -t 1 kills it
	o=$(D run "${CP[@]}" -d --name d2 "$img" sleep 1000 2>&1); rc=$?
	o2=$(timed D stop -t 1 d2 2>&1); rc2=$?
	st=$(D inspect -f '{{.State.Status}} {{.State.ExitCode}}' d2 2>&1)
	D rm -f d2 >/dev/null 2>&1
	if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$st" = "exited 137" ]; then ok "stop -t 1 of a SIGTERM-deaf init (SIGKILL, exit 137)"; else ko "stop -t 1 of a SIGTERM-deaf init (SIGKILL, exit 137)" "rc=$rc/$rc2 status/exit=$st" "$o" "$o2"; fi

	# 3. memory limit, seen in the cgroup file and from inside
	lim=67108864
	o=$(D run "${CP[@]}" -d --name m1 -m 64m "$img" sleep 1000 2>&1); rc=$?
	mid=$(D inspect -f '{{.Id}}' m1 2>/dev/null)
	f=$(cat "/sys/fs/cgroup/memory/hulldocker/$mid/memory.limit_in_bytes" 2>&1)
	in=$(D exec m1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
	D rm -f m1 >/dev/null 2>&1
	if [ $rc -eq 0 ] && [ "$f" = $lim ]; then ok "-m 64m in memory.limit_in_bytes (hulldocker/<id>)"; else ko "-m 64m in memory.limit_in_bytes (hulldocker/<id>)" "rc=$rc file=$f" "$o"; fi
	if [ "$in" = $lim ]; then ok "-m 64m visible inside"; else ko "-m 64m visible inside" "$in"; fi

	# 4. env, cwd, user; read-only rootfs, bind mounts rw and ro; logs
	# uid 1000 has no passwd entry in the image: docker gives it gid 0
	o=$(D run "${CP[@]}" --rm -e FOO=bar -w /tmp --user 1000 "$img" sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = "bar /tmp 1000:0" ]; then ok "-e, -w, --user 1000"; else ko "-e, -w, --user 1000" "rc=$rc" "$o"; fi

	o=$(D run "${CP[@]}" --rm --ulimit nofile=1024:2048 "$img" sh -c 'echo "$(ulimit -Sn) $(ulimit -Hn)"' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = "1024 2048" ]; then ok "--ulimit nofile=1024:2048"; else ko "--ulimit nofile=1024:2048" "rc=$rc" "$o"; fi

	mkdir -p "$T/vol" "$T/rovol" && echo from-host > "$T/rovol/f"
	o=$(D run "${CP[@]}" --rm --read-only -v "$T/vol:/vol:rw" -v "$T/rovol:/ro:ro" "$img" \
		sh -c '{ touch /rootfs-write; } 2>/dev/null && echo rootfs-writable; echo in > /vol/out; cat /ro/f; { echo x > /ro/g; } 2>/dev/null && echo ro-writable; true' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = from-host ] && [ "$(cat "$T/vol/out" 2>&1)" = in ] && [ ! -e "$T/rovol/g" ]; then ok "--read-only rootfs, -v rw and ro"; else ko "--read-only rootfs, -v rw and ro" "rc=$rc" "$o" "vol/out: $(cat "$T/vol/out" 2>&1)"; fi

	o=$(D run "${CP[@]}" --name l1 "$img" sh -c 'echo to-stdout; echo to-stderr >&2' 2>&1); rc=$?
	lo=$(D logs l1 2>/dev/null); le=$(D logs l1 2>&1 >/dev/null)
	D rm l1 >/dev/null 2>&1
	if [ $rc -eq 0 ] && [ "$lo" = to-stdout ] && [ "$le" = to-stderr ]; then ok "logs (stdout and stderr apart)"; else ko "logs (stdout and stderr apart)" "rc=$rc" "$o" "stdout: $lo" "stderr: $le"; fi

	# 5. a failing start: docker reports the error hull logged
	o=$(D run "${CP[@]}" --rm "$img" /no/such/binary 2>&1); rc=$?
	echo "$o" > "$out/error-report.txt"
	if [ $rc -eq 127 ] && grep -q -i 'no such file\|not found' <<<"$o"; then ok "start error reported (exit 127)"; else ko "start error reported (exit 127)" "rc=$rc" "$o"; fi

	if [ -z "$(D ps -aq 2>/dev/null)" ]; then ok "no containers left"; else ko "no containers left" "$(D ps -a 2>&1)"; fi
	echo "total time: $(echo "$(date +%s.%N) - $t0" | bc) s"

	# 6. the invocations and their flags. (dockerd.log has "failed to
	# remove runc container ... exit status 255" cleanup warnings from the
	# shim's delete action after `docker run --rm` and `rm`; runc 1.1.5
	# gets the same, and the wrapper sees every such delete --force exit 0.)
	o=$(cat "$T/failures.log" 2>/dev/null)
	if [ -z "$o" ] || [ "$(grep -c '^rc=' <<<"$o")" = "$(grep -c '^rc=.* create ' <<<"$o")" ] && [ "$(grep -c '^rc=' <<<"$o")" -le 1 ]; then ok "no hull call failed but the expected create"; else ko "no hull call failed but the expected create" "$o"; fi
	cp "$T/failures.log" "$out/failures.log" 2>/dev/null || true
	cp "$T/invocations.log" "$out/invocations-raw.log" 2>/dev/null || touch "$out/invocations-raw.log"
	sed -E -e "s#$T#<tmp>#g" \
		-e 's#/tmp/runc-process[0-9]+#/tmp/runc-process<N>#g' \
		-e 's#/tmp/pty[0-9]+#/tmp/pty<N>#g' \
		-e 's#[0-9a-f]{64}#<id>#g' \
		"$out/invocations-raw.log" | awk '!seen[$0]++' > "$out/invocations-docker.txt"
	lane_check_flags docker "docker"

	D rm -f $(D ps -aq) >/dev/null 2>&1
	stop_daemon
	echo "callers-docker: $lane_pass passed, $lane_fail failed"
	[ "$lane_fail" -eq 0 ]
}
lane_run docker
