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
hull=$(readlink -f "${1:-$here/../../bin/hull}")
out=${2:-$(mktemp -d /tmp/hull-callers-ctr.XXXXXX)}
mkdir -p "$out"
out=$(readlink -f "$out")
for b in containerd ctr script; do
	command -v $b >/dev/null || { echo "callers-ctr: 0 passed, 1 failed ($b not installed; apt-get install containerd)"; exit 1; }
done
T=$(mktemp -d /tmp/hullctr.XXXXXX)

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
		rmdir "$d" 2>/dev/null || echo "callers-ctr: could not remove $d" >&2
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
	grep -q '^0::/$' /proc/self/cgroup || { echo "callers-ctr: cgroup namespace not rooted at the lane" >&2; return 1; }
	mount -t tmpfs -o mode=755 run_private /run || return 1
	mkdir -p /run/containerd

	# hull behind a wrapper that records its argv
	cat > "$T/hull-wrap" <<W
#!/bin/sh
{ printf '%s' hull; for a in "\$@"; do printf ' %s' "\$a"; done; echo; } >> "$T/invocations.log"
prev=; for a in "\$@"; do [ "\$prev" = --bundle ] && cp "\$a/config.json" "$out/config-\$(basename "\$a").json"; prev=\$a; done
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
	cat > "$T/config.toml" <<C
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$T/containerd.sock"
[ttrpc]
  address = "$T/containerd.sock.ttrpc"
[debug]
  level = "info"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
C
	containerd --config "$T/config.toml" > "$out/containerd.log" 2>&1 &
	cpid=$!
	local i
	for i in $(seq 100); do [ -S "$T/containerd.sock" ] && break; sleep 0.1; done
	C() { ctr --address "$T/containerd.sock" -n hulltest "$@"; }
	pass=0 fail=0
	ok() { pass=$((pass + 1)); echo "PASS $1"; }
	ko() { fail=$((fail + 1)); echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@"; }
	RB=(--runc-binary "$T/hull-wrap")
	img=docker.io/library/hullbox:latest
	t0=$(date +%s.%N)
	timed() { local s e; s=$(date +%s.%N); "$@"; local rc=$?; e=$(date +%s.%N); echo "$* : $(echo "$e - $s" | bc) s" >> "$out/timings.txt"; return $rc; }
	: > "$out/timings.txt"

	if C version > "$out/ctr-version.txt" 2>&1; then ok "containerd is up"; else ko "containerd is up" "$(tail -5 "$out/containerd.log")"; fi

	"$here/mkimage.sh" "$T/hullbox.tar" "$img"
	if o=$(C image import "$T/hullbox.tar" 2>&1) && C image ls -q | grep -qx "$img"; then ok "image import"; else ko "image import" "$o"; fi

	# 1. run --rm echo hello
	o=$(timed C run "${RB[@]}" --cgroup /hullctr/c1 --rm "$img" c1 echo hello 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = hello ]; then ok "run --rm echo hello"; else ko "run --rm echo hello" "rc=$rc" "$o"; fi

	# 2. exit code propagated
	o=$(timed C run "${RB[@]}" --cgroup /hullctr/c2 --rm "$img" c2 sh -c 'exit 7' 2>&1); rc=$?
	if [ $rc -eq 7 ]; then ok "exit code 7 propagated"; else ko "exit code 7 propagated" "rc=$rc" "$o"; fi

	# 3. run -t. (ctr or the shim puts a NUL, echoed by script(1) as "^@",
	# before a tty's first output, with runc 1.1.5 as well: it and CRs are ignored.) (through script(1) for a controlling terminal)
	o=$(timed script -qec "ctr --address $T/containerd.sock -n hulltest run --runc-binary $T/hull-wrap --cgroup /hullctr/c3 --rm -t $img c3 sh -c 'tty; exit 3'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -eq 3 ] && echo "$o" | tr -d '\r\000' | sed 's/\^@//g' | grep -qx '/dev/pts/[0-9]*'; then ok "run -t (tty, exit 3)"; else ko "run -t (tty, exit 3)" "rc=$rc" "$o" "bytes: $(printf '%s' "$o" | od -An -c | tr -s ' ' | head -3)"; fi

	# 4. detached container and its lifecycle
	o=$(timed C run "${RB[@]}" --cgroup /hullctr/d1 -d "$img" d1 sh -c 'trap "exit 143" TERM; while :; do sleep 0.2; done' 2>&1); rc=$?
	if [ $rc -eq 0 ] && C task ls | grep -qE '^d1 +[0-9]+ +RUNNING'; then ok "run -d: task RUNNING"; else ko "run -d: task RUNNING" "rc=$rc" "$o" "$(C task ls 2>&1)"; fi
	tpid=$(C task ls | awk '$1=="d1"{print $2}')

	o=$(timed C task exec --exec-id x1 d1 sh -c 'echo in-$(hostname)-$$; exit 5' 2>&1); rc=$?
	if [ $rc -eq 5 ] && echo "$o" | grep -q '^in-'; then ok "task exec (output, exit 5)"; else ko "task exec (output, exit 5)" "rc=$rc" "$o"; fi

	o=$(echo piped-in | C task exec --exec-id x2 d1 cat 2>&1); rc=$?
	if [ $rc -eq 0 ] && [ "$o" = piped-in ]; then ok "task exec stdin"; else ko "task exec stdin" "rc=$rc" "$o"; fi

	o=$(timed script -qec "ctr --address $T/containerd.sock -n hulltest task exec -t --exec-id x3 d1 sh -c 'tty; exit 4'" /dev/null 2>&1 </dev/null); rc=$?
	if [ $rc -eq 4 ] && echo "$o" | tr -d '\r\000' | sed 's/\^@//g' | grep -qx '/dev/pts/[0-9]*'; then ok "task exec -t (tty, exit 4)"; else ko "task exec -t (tty, exit 4)" "rc=$rc" "$o"; fi

	o=$(C task ps d1 2>&1); rc=$?
	if [ $rc -eq 0 ] && echo "$o" | awk 'NR>1{print $1}' | grep -qx "$tpid"; then ok "task ps lists the init pid"; else ko "task ps lists the init pid" "rc=$rc" "pid=$tpid" "$o"; fi

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
	if [ $rc -eq 0 ] && echo "$o" | grep -q 'exit code 143' && ! C task ls | grep -q '^d1 '; then ok "task delete (reports exit 143)"; else ko "task delete (reports exit 143)" "rc=$rc" "$o"; fi
	o=$(C container rm d1 2>&1); rc=$?
	if [ $rc -eq 0 ] && ! C container ls -q | grep -qx d1; then ok "container rm"; else ko "container rm" "rc=$rc" "$o"; fi
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
	if ! C container ls -q | grep -q . ; then ok "no containers left"; else ko "no containers left" "$(C container ls 2>&1)"; fi

	# 6. a failing start: containerd reports the error hull logged
	o=$(C run "${RB[@]}" --cgroup /hullctr/e1 --rm "$img" e1 /no/such/binary 2>&1); rc=$?
	echo "$o" > "$out/error-report.txt"
	if [ $rc -ne 0 ] && echo "$o" | grep -q -i 'no such file\|not found\|executable'; then ok "start error reported by ctr"; else ko "start error reported by ctr" "rc=$rc" "$o"; fi
	C task delete e1 >/dev/null 2>&1; C container rm e1 >/dev/null 2>&1
	echo "total time: $(echo "$(date +%s.%N) - $t0" | bc) s"

	# 7. the invocations and their flags
	o=$(cat "$T/failures.log" 2>/dev/null)
	if [ -z "$o" ] || [ "$(grep -c '^rc=' <<<"$o")" = "$(grep -c '^rc=.* create .* e1$' <<<"$o")" ]; then ok "no hull call failed but the expected e1 create"; else ko "no hull call failed but the expected e1 create" "$o"; fi
	cp "$T/failures.log" "$out/failures.log" 2>/dev/null || true
	cp "$T/invocations.log" "$out/invocations-raw.log" 2>/dev/null || touch "$out/invocations-raw.log"
	sed -E -e "s#$T#<tmp>#g" \
		-e 's#/tmp/runc-process[0-9]+#/tmp/runc-process<N>#g' \
		-e 's#/tmp/pty[0-9]+#/tmp/pty<N>#g' \
		-e 's#(/[a-z0-9]*)?[0-9a-f]{64}#<hash>#g' \
		"$out/invocations-raw.log" | awk '!seen[$0]++' > "$out/invocations-ctr.txt"
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
	done < "$out/invocations-ctr.txt"
	n=$(wc -l < "$out/invocations-ctr.txt")
	if [ "$n" -gt 0 ] && [ -z "$bad" ]; then ok "every flag containerd passed is in hull's --help ($n distinct invocations)"; else ko "every flag containerd passed is in hull's --help" "invocations=$n unsupported:$bad"; fi

	kill "$cpid"; wait "$cpid" 2>/dev/null
	# any shim left?
	for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $T" || true); do kill "$p"; done
	echo "callers-ctr: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
export -f inner
export T hull out here
for d in "${made[@]}"; do echo $$ > "$d/cgroup.procs"; done
set +e
unshare -m -C --propagation private bash -c inner 2>&1 | tee "$out/result.txt"
rc=${PIPESTATUS[0]}
set -e
grep -q '^callers-ctr: ' "$out/result.txt" || echo "callers-ctr: 0 passed, 1 failed (the lane could not be set up)"
cp "$out/invocations-ctr.txt" "$here/invocations-ctr.txt" 2>/dev/null || true
echo "callers-ctr: output in $out"
exit $rc
