#!/usr/bin/env bash
# Drives hull through a real caller: a private containerd 1.6 (Debian's
# `containerd` package) and `ctr`, with hull as the runc shim v2's runtime
# binary (--runc-binary). Records every hull invocation the shim made.
#
#   tests/callers/ctr.sh [HULL] [OUTDIR]
#
# Everything runs in a private mount + cgroup namespace whose cgroup
# hierarchies are rooted at a lane cgroup made under this shell's own cgroup
# in every hierarchy (the same scheme as tests/oci/lane.sh), and with a
# private tmpfs over /run (containerd 1.6 shims put their sockets in
# /run/containerd/s whatever the state dir says). Nothing is left behind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lane.sh"
lane_caller ctr "apt-get install containerd" "containerd ctr script" "$@"

inner() {
	set -u
	. "$here/../lib/lane.sh"
	lane_private_run || return 1
	mkdir -p /run/containerd

	# hull behind a wrapper that records its argv and keeps each bundle's
	# config.json
	lane_wrapper "$T/hull-wrap" "$hull" "$T" 'prev=; for a in "$@"; do [ "$prev" = --bundle ] && cp "$a/config.json" "'"$out"'/config-$(basename "$a").json"; prev=$a; done'
	lane_containerd_toml "$T/config.toml" '"io.containerd.grpc.v1.cri", '
	containerd --config "$T/config.toml" > "$out/containerd.log" 2>&1 &
	cpid=$!
	local i
	for i in $(seq 100); do [ -S "$T/containerd.sock" ] && break; sleep 0.1; done
	C() { ctr --address "$T/containerd.sock" -n hulltest "$@"; }
	RB=(--runc-binary "$T/hull-wrap")
	img=docker.io/library/hullbox:latest
	t0=$(date +%s.%N)
	timed() { local s e; s=$(date +%s.%N); "$@"; local rc=$?; e=$(date +%s.%N); echo "$* : $(echo "$e - $s" | bc) s" >> "$out/timings.txt"; return $rc; }
	: > "$out/timings.txt"

	if C version > "$out/ctr-version.txt" 2>&1; then ok "containerd is up"; else ko "containerd is up" "$(tail -5 "$out/containerd.log")"; fi

	"$here/mkimage.sh" "$T/hullbox.tar" "$img"
	if o=$(C image import "$T/hullbox.tar" 2>&1) && C image ls -q | grep -x "$img" >/dev/null; then ok "image import"; else ko "image import" "$o"; fi

	# 1. run --rm echo hello
	o=$(timed C run "${RB[@]}" --cgroup /hullctr/c1 --rm "$img" c1 echo hello 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = hello ]; then ok "run --rm echo hello"; else ko "run --rm echo hello" "rc=$rc" "$o"; fi

	# 2. exit code propagated
	o=$(timed C run "${RB[@]}" --cgroup /hullctr/c2 --rm "$img" c2 sh -c 'exit 7' 2>&1); rc=$?
	if [ $rc -eq 7 ]; then ok "exit code 7 propagated"; else ko "exit code 7 propagated" "rc=$rc" "$o"; fi

	# 3. run -t. (ctr or the shim puts a NUL, echoed by script(1) as "^@",
	# before a tty's first output, with runc 1.1.5 as well: it and CRs are ignored.) (through script(1) for a controlling terminal)
	o=$(timed script -qec "ctr --address $T/containerd.sock -n hulltest run --runc-binary $T/hull-wrap --cgroup /hullctr/c3 --rm -t $img c3 sh -c 'tty; exit 3'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -eq 3 ] && echo "$o" | tr -d '\r\000' | sed 's/\^@//g' | grep -x '/dev/pts/[0-9]*' >/dev/null; then ok "run -t (tty, exit 3)"; else ko "run -t (tty, exit 3)" "rc=$rc" "$o" "bytes: $(printf '%s' "$o" | od -An -c | tr -s ' ' | head -3)"; fi

	# 4. detached container and its lifecycle
	o=$(timed C run "${RB[@]}" --cgroup /hullctr/d1 -d "$img" d1 sh -c 'trap "exit 143" TERM; while :; do sleep 0.2; done' 2>&1); rc=$?
	if [ $rc -eq 0 ] && C task ls | grep -E '^d1 +[0-9]+ +RUNNING' >/dev/null; then ok "run -d: task RUNNING"; else ko "run -d: task RUNNING" "rc=$rc" "$o" "$(C task ls 2>&1)"; fi
	tpid=$(C task ls | awk '$1=="d1"{print $2}')

	o=$(timed C task exec --exec-id x1 d1 sh -c 'echo in-$(hostname)-$$; exit 5' 2>&1); rc=$?
	if [ $rc -eq 5 ] && grep -q '^in-' <<<"$o"; then ok "task exec (output, exit 5)"; else ko "task exec (output, exit 5)" "rc=$rc" "$o"; fi

	o=$(echo piped-in | C task exec --exec-id x2 d1 cat 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = piped-in ]; then ok "task exec stdin"; else ko "task exec stdin" "rc=$rc" "$o"; fi

	o=$(timed script -qec "ctr --address $T/containerd.sock -n hulltest task exec -t --exec-id x3 d1 sh -c 'tty; exit 4'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -eq 4 ] && echo "$o" | tr -d '\r\000' | sed 's/\^@//g' | grep -x '/dev/pts/[0-9]*' >/dev/null; then ok "task exec -t (tty, exit 4)"; else ko "task exec -t (tty, exit 4)" "rc=$rc" "$o"; fi

	o=$(C task ps d1 2>&1); rc=$?
	if [ $rc -eq 0 ] && echo "$o" | awk 'NR>1{print $1}' | grep -x "$tpid" >/dev/null; then ok "task ps lists the init pid"; else ko "task ps lists the init pid" "rc=$rc" "pid=$tpid" "$o"; fi

	o=$(C task pause d1 2>&1); rc=$?
	st=$(C task ls | awk '$1=="d1"{print $3}')
	fz=$(cat /sys/fs/cgroup/freezer/hullctr/d1/freezer.state 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = PAUSED ] && [ "$fz" = FROZEN ]; then ok "task pause (PAUSED, FROZEN)"; else ko "task pause (PAUSED, FROZEN)" "rc=$rc status=$st freezer=$fz" "$o"; fi
	o=$(C task resume d1 2>&1); rc=$?
	st=$(C task ls | awk '$1=="d1"{print $3}')
	fz=$(cat /sys/fs/cgroup/freezer/hullctr/d1/freezer.state 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = RUNNING ] && [ "$fz" = THAWED ]; then ok "task resume (RUNNING, THAWED)"; else ko "task resume (RUNNING, THAWED)" "rc=$rc status=$st freezer=$fz" "$o"; fi

	o=$(C task kill d1 2>&1); rc=$?
	for i in $(seq 50); do st=$(C task ls | awk '$1=="d1"{print $3}'); [ "$st" = STOPPED ] && break; sleep 0.1; done
	if [ $rc -eq 0 ] && [ "$st" = STOPPED ]; then ok "task kill (SIGTERM) stops it"; else ko "task kill (SIGTERM) stops it" "rc=$rc status=$st" "$o"; fi
	o=$(C task delete d1 2>&1); rc=$?
	# ctr 1.6 exits 0 and warns "task d1 exit with non-zero exit code 143"
	if [ $rc -eq 0 ] && grep -q 'exit code 143' <<<"$o" && ! C task ls | grep '^d1 ' >/dev/null; then ok "task delete (reports exit 143)"; else ko "task delete (reports exit 143)" "rc=$rc" "$o"; fi
	o=$(C container rm d1 2>&1); rc=$?
	if [ $rc -eq 0 ] && ! C container ls -q | grep -x d1 >/dev/null; then ok "container rm"; else ko "container rm" "rc=$rc" "$o"; fi
	if [ ! -d /sys/fs/cgroup/memory/hullctr/d1 ] && [ ! -d /sys/fs/cgroup/freezer/hullctr/d1 ]; then ok "cgroups removed after delete"; else ko "cgroups removed after delete" "$(ls -d /sys/fs/cgroup/*/hullctr/d1 2>&1)"; fi

	# 5. memory limit, seen from the host and from inside
	lim=67108864
	o=$(C run "${RB[@]}" --cgroup /hullctr/m1 --memory-limit $lim -d "$img" m1 sleep 1000 2>&1); rc=$?
	f=$(cat /sys/fs/cgroup/memory/hullctr/m1/memory.limit_in_bytes 2>&1)
	if [ $rc -eq 0 ] && [ "$f" = $lim ]; then ok "--memory-limit in memory.limit_in_bytes"; else ko "--memory-limit in memory.limit_in_bytes" "rc=$rc file=$f" "$o"; fi
	C task kill -s KILL m1 >/dev/null 2>&1
	for i in $(seq 50); do [ "$(C task ls | awk '$1=="m1"{print $3}')" = STOPPED ] && break; sleep 0.1; done
	C task delete m1 >/dev/null 2>&1; C container rm m1 >/dev/null 2>&1
	# ctr's default spec has no /sys/fs/cgroup mount: ask for one (as docker/podman do)
	o=$(C run "${RB[@]}" --cgroup /hullctr/m2 --memory-limit $lim --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:nodev:noexec --rm "$img" m2 cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
	[ "$o" = $lim ] || o="$o
(runc 1.1.5 passes this under the same lane)"
	C task delete m2 >/dev/null 2>&1; C container rm m2 >/dev/null 2>&1
	if [ "$o" = $lim ]; then ok "memory limit visible inside (cgroup mount at /sys/fs/cgroup)"; else ko "memory limit visible inside (cgroup mount at /sys/fs/cgroup)" "$o"; fi
	if ! C container ls -q | grep . >/dev/null ; then ok "no containers left"; else ko "no containers left" "$(C container ls 2>&1)"; fi

	# 6. env, cwd; read-only rootfs; bind mounts rw and ro; logs to a file
	o=$(C run "${RB[@]}" --cgroup /hullctr/v1 --env FOO=bar --cwd /tmp --rm "$img" v1 sh -c 'echo "$FOO $(pwd) $(id -u)"' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = "bar /tmp 0" ]; then ok "--env and --cwd"; else ko "--env and --cwd" "rc=$rc" "$o"; fi
	mkdir -p "$T/vol" "$T/rovol" && echo from-host > "$T/rovol/f"
	o=$(C run "${RB[@]}" --cgroup /hullctr/v2 --read-only --rm \
		--mount "type=bind,src=$T/vol,dst=/vol,options=rbind:rw" --mount "type=bind,src=$T/rovol,dst=/ro,options=rbind:ro" \
		"$img" v2 sh -c '{ touch /rootfs-write; } 2>/dev/null && echo rootfs-writable; echo in > /vol/out; cat /ro/f; { echo x > /ro/g; } 2>/dev/null && echo ro-writable; true' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = from-host ] && [ "$(cat "$T/vol/out" 2>&1)" = in ] && [ ! -e "$T/rovol/g" ]; then ok "--read-only rootfs, rw and ro bind mounts"; else ko "--read-only rootfs, rw and ro bind mounts" "rc=$rc" "$o" "vol/out: $(cat "$T/vol/out" 2>&1)"; fi
	# containerd's shim copies the two pipes into the file on a goroutine
	# each, and the stdout one closes the file itself at stdout's EOF (the
	# process's exit; containerd 1.6.20 and its main branch,
	# cmd/containerd-shim-runc-v2/process/io.go copyPipes: stdout's copier
	# gets the file, stderr's the counting wrapper around it): a stderr line
	# not yet copied then is lost ("error copying stderr" in containerd's
	# log; CI saw it twice, the file held only to-stdout). The process
	# sleeps after its two lines, so that both are copied before it exits;
	# and the file is read once both are there (up to 5 s).
	o=$(C run "${RB[@]}" --cgroup /hullctr/l1 -d --log-uri "file://$T/l1.log" "$img" l1 sh -c 'echo to-stdout; echo to-stderr >&2; sleep 0.5' 2>&1); rc=$?
	for i in $(seq 50); do [ "$(C task ls | awk '$1=="l1"{print $3}')" = STOPPED ] && break; sleep 0.1; done
	for i in $(seq 50); do grep -qx to-stderr "$T/l1.log" 2>/dev/null && grep -qx to-stdout "$T/l1.log" && break; sleep 0.1; done
	C task delete l1 >/dev/null 2>&1; C container rm l1 >/dev/null 2>&1
	if [ $rc -eq 0 ] && grep -qx to-stdout "$T/l1.log" && grep -qx to-stderr "$T/l1.log"; then ok "--log-uri file:// gets stdout and stderr"; else ko "--log-uri file:// gets stdout and stderr" "rc=$rc" "$o" "log: $(cat "$T/l1.log" 2>&1)"; fi

	# 7. a failing start: containerd reports the error hull logged
	o=$(C run "${RB[@]}" --cgroup /hullctr/e1 --rm "$img" e1 /no/such/binary 2>&1); rc=$?
	echo "$o" > "$out/error-report.txt"
	if [ $rc -ne 0 ] && grep -q -i 'no such file\|not found\|executable' <<<"$o"; then ok "start error reported by ctr"; else ko "start error reported by ctr" "rc=$rc" "$o"; fi
	C task delete e1 >/dev/null 2>&1; C container rm e1 >/dev/null 2>&1
	echo "total time: $(echo "$(date +%s.%N) - $t0" | bc) s"

	# 8. the invocations and their flags
	o=$(cat "$T/failures.log" 2>/dev/null)
	if [ -z "$o" ] || [ "$(grep -c '^rc=' <<<"$o")" = "$(grep -c '^rc=.* create .* e1$' <<<"$o")" ]; then ok "no hull call failed but the expected e1 create"; else ko "no hull call failed but the expected e1 create" "$o"; fi
	cp "$T/failures.log" "$out/failures.log" 2>/dev/null || true
	cp "$T/invocations.log" "$out/invocations-raw.log" 2>/dev/null || touch "$out/invocations-raw.log"
	sed -E -e "s#$T#<tmp>#g" \
		-e 's#/tmp/runc-process[0-9]+#/tmp/runc-process<N>#g' \
		-e 's#/tmp/pty[0-9]+#/tmp/pty<N>#g' \
		-e 's#(/[a-z0-9]*)?[0-9a-f]{64}#<hash>#g' \
		"$out/invocations-raw.log" | awk '!seen[$0]++' > "$out/invocations-ctr.txt"
	lane_check_flags ctr "containerd"

	kill "$cpid"; wait "$cpid" 2>/dev/null
	# any shim left? (containerd leaves them running by design)
	lane_stop_leftovers callers-ctr
	echo "callers-ctr: $lane_pass passed, $lane_fail failed"
	[ "$lane_fail" -eq 0 ]
}
lane_run ctr
