#!/usr/bin/env bash
# Drives hull through podman 4.3 (Debian's `podman`, conmon): --runtime
# points at a wrapper that records every hull invocation, then runs hull.
# Private --root/--runroot/--tmpdir, cgroupfs, file events, no network.
#
#   tests/callers/podman.sh [HULL] [OUTDIR]
#
# Everything runs in a private mount + cgroup namespace whose cgroup
# hierarchies are rooted at a lane cgroup made under this shell's own cgroup
# in every hierarchy (the same scheme as tests/oci/lane.sh), and with a
# private tmpfs over /run and /dev/shm (podman's shm lock segment). Nothing is left behind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/lane.sh"
lane_caller podman "apt-get install podman" "podman conmon" "$@"

inner() {
	set -u
	. "$here/../lib/lane.sh"
	lane_private_run || return 1
	mount -t tmpfs -o mode=1777 shm_private /dev/shm || return 1

	lane_wrapper "$T/hull-wrap" "$hull" "$T"
	# CAP_SYS_RESOURCE is missing here, so the containers' rlimits may not
	# exceed the runtime's hard limits: podman's defaults (1048576) do.
	# podman runs the runtime with RLIMIT_NPROC lowered to 32768 (seen
	# here), below this shell's: ask for less than either.
	cat > "$T/containers.conf" <<C
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/tmp"
static_dir = "$T/root/libpod"
volume_path = "$T/root/volumes"
image_copy_tmp_dir = "$T/tmp"
runtime = "hull"
[engine.runtimes]
hull = ["$T/hull-wrap"]
C
	mkdir -p "$T/tmp"
	export CONTAINERS_CONF=$T/containers.conf TMPDIR=$T/tmp
	P() { podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime "$T/hull-wrap" "$@"; }
	: > "$out/timings.txt"
	timed() { local s e; s=$(date +%s.%N); "$@"; local rc=$?; e=$(date +%s.%N); echo "$* : $(echo "$e - $s" | bc) s" >> "$out/timings.txt"; return $rc; }
	img=localhost/hullbox:latest
	t0=$(date +%s.%N)
	CP=(--network none --cgroup-parent /hullpod)

	"$here/mkimage.sh" "$T/hullbox.tar" "$img"
	o=$(P load -i "$T/hullbox.tar" 2>&1); rc=$?
	id=$(P images -q 2>/dev/null | head -1)
	[ -n "$id" ] && P tag "$id" "$img" >/dev/null 2>&1
	if [ $rc -eq 0 ] && P image exists "$img"; then ok "image load"; else ko "image load" "rc=$rc" "$o"; fi

	o=$(timed P run "${CP[@]}" --rm "$img" echo hello 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = hello ]; then ok "run --rm echo hello"; else ko "run --rm echo hello" "rc=$rc" "$o"; fi

	o=$(timed P run "${CP[@]}" --rm "$img" sh -c 'exit 7' 2>&1); rc=$?
	if [ $rc -eq 7 ]; then ok "exit code 7 propagated"; else ko "exit code 7 propagated" "rc=$rc" "$o"; fi

	o=$(timed P run "${CP[@]}" -d --name p1 "$img" sleep 1000 2>&1); rc=$?
	st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = running ]; then ok "run -d: running"; else ko "run -d: running" "rc=$rc status=$st" "$o"; fi

	o=$(timed P exec p1 sh -c 'echo in-exec; exit 5' 2>&1); rc=$?
	if [ $rc -eq 5 ] && [ "$o" = in-exec ]; then ok "exec (output, exit 5)"; else ko "exec (output, exit 5)" "rc=$rc" "$o"; fi

	o=$(echo piped-in | P exec -i p1 cat 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = piped-in ]; then ok "exec -i stdin"; else ko "exec -i stdin" "rc=$rc" "$o"; fi

	o=$(timed script -qec "podman --root $T/root --runroot $T/runroot --tmpdir $T/tmp --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime $T/hull-wrap exec -t p1 sh -c 'tty; exit 4'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -eq 4 ] && echo "$o" | tr -d '\r' | grep -x '/dev/pts/[0-9]*' >/dev/null; then ok "exec -t (tty, exit 4)"; else ko "exec -t (tty, exit 4)" "rc=$rc" "$o"; fi

	o=$(P top p1 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -q 'sleep 1000' <<<"$o"; then ok "top"; else ko "top" "rc=$rc" "$o"; fi

	o=$(P pause p1 2>&1); rc=$?; st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = paused ]; then ok "pause"; else ko "pause" "rc=$rc status=$st" "$o"; fi
	o=$(P unpause p1 2>&1); rc=$?; st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = running ]; then ok "unpause"; else ko "unpause" "rc=$rc status=$st" "$o"; fi

	o=$(timed P stop -t 1 p1 2>&1); rc=$?; st=$(P inspect -f '{{.State.Status}}' p1 2>&1)
	if [ $rc -eq 0 ] && [ "$st" = exited ]; then ok "stop"; else ko "stop" "rc=$rc status=$st" "$o"; fi
	o=$(P rm p1 2>&1); rc=$?
	if [ $rc -eq 0 ] && ! P container exists p1; then ok "rm"; else ko "rm" "rc=$rc" "$o"; fi

	o=$(P run "${CP[@]}" --rm -m 64m "$img" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = 67108864 ]; then ok "-m 64m visible inside"; else ko "-m 64m visible inside" "rc=$rc" "$o"; fi

	o=$(P run "${CP[@]}" --rm -e FOO=bar -w /tmp --user 1000:1000 "$img" sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = "bar /tmp 1000:1000" ]; then ok "-e, -w, --user 1000:1000"; else ko "-e, -w, --user 1000:1000" "rc=$rc" "$o"; fi

	mkdir -p "$T/vol" "$T/rovol" && echo from-host > "$T/rovol/f"
	o=$(P run "${CP[@]}" --rm --read-only -v "$T/vol:/vol:rw" -v "$T/rovol:/ro:ro" "$img" \
		sh -c '{ touch /rootfs-write; } 2>/dev/null && echo rootfs-writable; echo in > /vol/out; cat /ro/f; { echo x > /ro/g; } 2>/dev/null && echo ro-writable; true' 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = from-host ] && [ "$(cat "$T/vol/out" 2>&1)" = in ] && [ ! -e "$T/rovol/g" ]; then ok "--read-only rootfs, -v rw and ro"; else ko "--read-only rootfs, -v rw and ro" "rc=$rc" "$o" "vol/out: $(cat "$T/vol/out" 2>&1)"; fi

	o=$(P run "${CP[@]}" --name l1 "$img" sh -c 'echo to-stdout; echo to-stderr >&2' 2>&1); rc=$?
	lg=$(P logs l1 2>&1)
	P rm l1 >/dev/null 2>&1
	if [ $rc -eq 0 ] && grep -qx to-stdout <<<"$lg" && grep -qx to-stderr <<<"$lg"; then ok "logs (stdout and stderr)"; else ko "logs (stdout and stderr)" "rc=$rc" "$o" "logs: $lg"; fi

	o=$(P run "${CP[@]}" --rm "$img" /no/such/binary 2>&1); rc=$?
	echo "$o" > "$out/error-report.txt"
	if [ $rc -ne 0 ] && grep -q -i 'no such file\|not found' <<<"$o"; then ok "start error reported"; else ko "start error reported" "rc=$rc" "$o"; fi

	if [ -z "$(P ps -aq 2>/dev/null)" ]; then ok "no containers left"; else ko "no containers left" "$(P ps -a 2>&1)"; fi
	echo "total time: $(echo "$(date +%s.%N) - $t0" | bc) s"

	cp "$T/failures.log" "$out/failures.log" 2>/dev/null || true
	cp "$T/invocations.log" "$out/invocations-raw.log" 2>/dev/null || touch "$out/invocations-raw.log"
	sed -E -e "s#$T#<tmp>#g" -e 's#[0-9a-f]{64}#<id>#g' -e 's#/proc/[0-9]+/#/proc/<pid>/#g' -e 's#exec[0-9a-zA-Z_-]*\.json#exec<N>.json#g' -e 's#exec-process-[0-9]+#exec-process-<N>#g' -e 's#/tmp/conmon-term\.[A-Za-z0-9]+#/tmp/conmon-term.<N>#g' \
		"$out/invocations-raw.log" | awk '!seen[$0]++' > "$out/invocations-podman.txt"
	lane_check_flags podman "podman"

	P rm -af >/dev/null 2>&1
	P system prune -af >/dev/null 2>&1 || true
	echo "callers-podman: $lane_pass passed, $lane_fail failed"
	[ "$lane_fail" -eq 0 ]
}
lane_run podman
