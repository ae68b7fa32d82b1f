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
hull=$(readlink -f "${1:-$here/../../bin/hull}")
out=${2:-$(mktemp -d /tmp/hull-callers-podman.XXXXXX)}
mkdir -p "$out"
out=$(readlink -f "$out")
for b in podman conmon; do
	command -v $b >/dev/null || { echo "callers-podman: 0 passed, 1 failed ($b not installed; apt-get install podman)"; exit 1; }
done
T=$(mktemp -d /tmp/hullpod.XXXXXX)

lane=hullcallers-$$
made=()
while IFS=: read -r _ ctrls path; do
	case "$ctrls" in
	"") dir=/sys/fs/cgroup/unified$path ;;
	name=systemd) dir=/sys/fs/cgroup/systemd$path ;;
	*) dir=/sys/fs/cgroup/${ctrls%%,*}$path ;;
	esac
	[ -d "$dir" ] || continue
	mkdir "$dir/$lane"
	made+=("$dir/$lane")
	if [ -f "$dir/cpuset.cpus" ]; then
		cat "$dir/cpuset.cpus" > "$dir/$lane/cpuset.cpus"
		cat "$dir/cpuset.mems" > "$dir/$lane/cpuset.mems"
	fi
done < /proc/self/cgroup
cleanup() {
	for d in "${made[@]}"; do echo $$ > "$(dirname "$d")/cgroup.procs" 2>/dev/null || true; done
	for d in "${made[@]}"; do
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
		rmdir "$d" 2>/dev/null || echo "callers-podman: could not remove $d" >&2
	done
	rm -rf "$T"
}
trap cleanup EXIT

inner() {
	set -u
	local list
	list=$(awk '$3 ~ /^cgroup2?$/ && $2 ~ /^\/sys\/fs\/cgroup\// {print $2":"$3":"$4}' /proc/self/mounts)
	mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup || return 1
	for m in $list; do
		IFS=: read -r dir fstype opts <<<"$m"
		sub=$(echo "$opts" | tr ',' '\n' | grep -v -E '^(rw|ro|nosuid|nodev|noexec|relatime)$' | paste -sd, -)
		mkdir -p "$dir"
		if [ "$fstype" = cgroup2 ]; then mount -t cgroup2 cgroup2 "$dir" || return 1
		else mount -t cgroup -o "$sub" cgroup "$dir" || return 1; fi
	done
	grep -q '^0::/$' /proc/self/cgroup || { echo "callers-podman: cgroup namespace not rooted at the lane" >&2; return 1; }
	mount -t tmpfs -o mode=755 run_private /run || return 1
	mount -t tmpfs -o mode=1777 shm_private /dev/shm || return 1

	cat > "$T/hull-wrap" <<W
#!/bin/sh
{ printf '%s' hull; for a in "\$@"; do printf ' %s' "\$a"; done; echo; } >> "$T/invocations.log"
"$hull" "\$@"
rc=\$?
if [ \$rc -ne 0 ]; then
	log=; prev=
	for a in "\$@"; do [ "\$prev" = --log ] && log=\$a; prev=\$a; done
	{ echo "rc=\$rc: hull \$*"; [ -n "\$log" ] && tail -n 3 "\$log" | sed 's/^/    /'; } >> "$T/failures.log"
fi
exit \$rc
W
	chmod +x "$T/hull-wrap"
	# CAP_SYS_RESOURCE is missing here: default ulimits no higher than ours
	cat > "$T/containers.conf" <<C
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$(ulimit -Hu):$(ulimit -Hu)"]
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
	pass=0 fail=0
	ok() { pass=$((pass + 1)); echo "PASS $1"; }
	ko() { fail=$((fail + 1)); echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@"; }
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

	o=$(P top p1 2>&1); rc=$?
	if [ $rc -eq 0 ] && echo "$o" | grep -q 'sleep 1000'; then ok "top"; else ko "top" "rc=$rc" "$o"; fi

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

	o=$(P run "${CP[@]}" --rm "$img" /no/such/binary 2>&1); rc=$?
	echo "$o" > "$out/error-report.txt"
	if [ $rc -ne 0 ] && echo "$o" | grep -q -i 'no such file\|not found'; then ok "start error reported"; else ko "start error reported" "rc=$rc" "$o"; fi

	if [ -z "$(P ps -aq 2>/dev/null)" ]; then ok "no containers left"; else ko "no containers left" "$(P ps -a 2>&1)"; fi
	echo "total time: $(echo "$(date +%s.%N) - $t0" | bc) s"

	cp "$T/failures.log" "$out/failures.log" 2>/dev/null || true
	cp "$T/invocations.log" "$out/invocations-raw.log" 2>/dev/null || touch "$out/invocations-raw.log"
	sed -E -e "s#$T#<tmp>#g" -e 's#[0-9a-f]{64}#<id>#g' -e 's#/proc/[0-9]+/#/proc/<pid>/#g' -e 's#exec[0-9a-zA-Z_-]*\.json#exec<N>.json#g' \
		"$out/invocations-raw.log" | awk '!seen[$0]++' > "$out/invocations-podman.txt"
	cmds=" $("$hull" --help | awk '/^COMMANDS:/{f=1;next} /^[A-Z]/{f=0} f{sub(",","",$1); print $1}' | tr '\n' ' ') "
	bad=""
	while read -r -a a; do
		cmd="" ; for w in "${a[@]:1}"; do case " $cmds " in *" $w "*) cmd=$w; break;; esac; done
		where=global
		for w in "${a[@]:1}"; do
			if [ "$w" = "$cmd" ] && [ $where = global ]; then where=$cmd; continue; fi
			case "$w" in --*|-[a-z]*) ;; *) continue;; esac
			fl=${w%%=*}
			if [ $where = global ]; then h=$("$hull" --help); else h=$("$hull" "$where" --help); fi
			echo "$h" | grep -qE -- "(^|[ ,])$fl([ ,=]|$)" || bad="$bad $where:$fl"
		done
	done < "$out/invocations-podman.txt"
	n=$(wc -l < "$out/invocations-podman.txt")
	if [ "$n" -gt 0 ] && [ -z "$bad" ]; then ok "every flag podman passed is in hull's --help ($n distinct invocations)"; else ko "every flag podman passed is in hull's --help" "invocations=$n unsupported:$bad"; fi

	P rm -af >/dev/null 2>&1
	P system prune -af >/dev/null 2>&1 || true
	echo "callers-podman: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
export -f inner
export T hull out here
for d in "${made[@]}"; do echo $$ > "$d/cgroup.procs"; done
set +e
unshare -m -C --propagation private bash -c inner 2>&1 | tee "$out/result.txt"
rc=${PIPESTATUS[0]}
set -e
grep -q '^callers-podman: ' "$out/result.txt" || echo "callers-podman: 0 passed, 1 failed (the lane could not be set up)"
cp "$out/invocations-podman.txt" "$here/invocations-podman.txt" 2>/dev/null || true
echo "callers-podman: output in $out"
exit $rc
