#!/usr/bin/env bash
# make bench-v2: make bench's scenarios on the vm lane's cgroup v2 host
# (Debian 12's 6.1 kernel with cgroup_no_v1=all under qemu TCG, run.sh),
# for issue 18's "the same ratios with the cgroup v2 host reported beside
# the hybrid host's". Not part of make test: it runs ~15 minutes.
#
#   tests/vm/bench-lane.sh [BENCH FLAGS...]
#
# The payload: the bench (go build ./bench), hull and hull-shim as make
# build makes them, and this machine's runc, crun, GNU time and conmon
# (run.sh copies the shared libraries ldd names). The guest runs the bench
# with -profile=false and, unless BENCH FLAGS say otherwise, fewer
# repetitions than make bench (TCG is 10-20x slower: times there mean
# nothing, ratios do) and no 100-container round (2 GiB guest): -runs 20
# -cycles 10 -execs 20 -par 10,25,50 -par-reps 1 -mem-reps 3 -shim-idle
# 130s. Its results.md comes back over the console, between marker lines,
# into bin/bench/results-v2.md (the console log: OUTDIR, printed at the end).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
export PATH=/usr/local/go/bin:$PATH
[ "$(id -u)" = 0 ] || vm_die "bench-lane.sh needs root"
t0=$(vm_now)
vm_ensure_pkgs runc crun time conmon busybox-static gcc libc6-dev libseccomp-dev
out=$(mktemp -d /tmp/hull-vm-bench.XXXXXX)
payload=$out/payload
mkdir -p "$payload/bin"
cd "$repo"
make -s build >/dev/null || vm_die "hull does not build"
# As installed (bench/run.sh says why: the linker's output file maps in
# large folios).
install -m 0755 bin/hull bin/hull-shim "$payload/bin/"
go build -o "$payload/hullbench" ./bench || vm_die "the bench does not build"
for b in /usr/sbin/runc /usr/bin/crun /usr/bin/time /usr/bin/conmon; do
	install -m 0755 "$b" "$payload/bin/"
done
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-runs 20 -cycles 10 -execs 20 -par 10,25,50 -par-reps 1 -mem-reps 3 -shim-idle 130s)
rev=$(git log -1 --format='%h %s' 2>/dev/null | cut -c1-90 || echo '?')
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
{
	echo '#!/bin/sh'
	echo '# the guest side of tests/vm/bench-lane.sh'
	echo 'mkdir -p /usr/bin && ln -sf /payload/bin/time /usr/bin/time'
	echo 'export PATH=/payload/bin:$PATH'
	printf 'echo "HULLBENCH: $(grep " /sys/fs/cgroup " /proc/mounts | cut -d" " -f3) on /sys/fs/cgroup, controllers: $(cat /sys/fs/cgroup/cgroup.controllers); kernel $(uname -r); hull source %s"\n' "${rev//[\'\"\$\`\\]/}"
	printf './hullbench -hull /payload/bin/hull -runc /payload/bin/runc -crun /payload/bin/crun -repo /payload -out /tmp/bench-out -profile=false'
	for f in "${flags[@]}"; do printf ' %s' "$(sq "$f")"; done
	echo ' >/tmp/bench.log 2>&1 &'
	echo 'pid=$!'
	# Its progress on the console; when the log has not grown for 3
	# minutes, what runs (a hang shows where).
	cat <<'GUEST'
shown=0 still=0
while kill -0 "$pid" 2>/dev/null; do
	sleep 10
	n=$(wc -l </tmp/bench.log)
	if [ "$n" -gt "$shown" ]; then
		sed -n "$((shown + 1)),${n}p" /tmp/bench.log | grep -E "^(== |   |bench:)" | sed "s/^/HULLBENCH: /"
		shown=$n still=0
	else
		still=$((still + 10))
		if [ "$still" -ge 180 ]; then
			echo "HULLBENCH: no progress for ${still}s; processes:"
			ps -o pid,ppid,stat,args | sed "s/^/HULLBENCH:   /"
			for p in /proc/[0-9]*; do echo "HULLBENCH:   ${p#/proc/} $(cat $p/wchan 2>/dev/null) $(tr "\0" " " <$p/cmdline 2>/dev/null | cut -c1-120)"; done
			still=0
		fi
	fi
done
wait "$pid"
rc=$?
GUEST
	echo 'echo HULLBENCH-RESULTS-BEGIN'
	echo 'cat /tmp/bench-out/results.md'
	echo 'echo HULLBENCH-RESULTS-END'
	echo '[ $rc = 0 ] || tail -n 30 /tmp/bench.log'
	echo 'exit $rc'
} >"$payload/run"
chmod 755 "$payload/run"
vm_log "payload built in $(vm_since "$t0")s; booting (bench flags: ${flags[*]})"
rc=0
VM_TIMEOUT=${VM_TIMEOUT:-3600} VM_MEM=${VM_MEM:-2048} "$here/run.sh" "$payload" "$out" >"$out/stdout.log" 2>&1 || rc=$?
grep -E '^HULLBENCH: ' "$out/console.log" | sed 's/^HULLBENCH: /bench-v2: /' || true
mkdir -p bin/bench
if grep -q '^HULLBENCH-RESULTS-END' "$out/console.log"; then
	{
		echo "<!-- make bench-v2 of $rev: the bench in the vm lane's cgroup v2 guest (qemu TCG); compare ratios only -->"
		sed -n '/^HULLBENCH-RESULTS-BEGIN/,/^HULLBENCH-RESULTS-END/p' "$out/console.log" | sed '1d;$d' | tr -d '\r'
	} >bin/bench/results-v2.md
	vm_log "wrote bin/bench/results-v2.md"
	sed -n '/^## Results/,/^Ratios below/p' bin/bench/results-v2.md
else
	vm_log "no results came back"
fi
rm -rf "$payload"
vm_log "bench-v2: exit $rc after $(vm_since "$t0")s; console log $out/console.log"
exit "$rc"
