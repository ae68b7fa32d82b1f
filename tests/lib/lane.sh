# Shared by the lanes that run a caller or a test suite against a runtime in
# a private mount + cgroup namespace (tests/oci/lane.sh, tests/callers/*.sh).
# Source it; it defines functions only.
#
# The scheme: a lane cgroup is made under this shell's own cgroup in every
# hierarchy (lane_cgroups), the lane's shell moves into it (lane_enter) and
# unshares a mount and a cgroup namespace, whose cgroup root is then that
# lane cgroup; inside, a fresh tmpfs covers /sys/fs/cgroup and every
# hierarchy is mounted again below it (lane_remount_cgroups), so that
# whatever the runtime or its caller puts at "/" of a hierarchy lands under
# the lane cgroup, never at the host's roots. lane_cgroups_remove takes it
# all away again.

# lane_cgroups NAME: makes NAME under our cgroup in each hierarchy, and
# records the directories in the array lane_made.
lane_cgroups() {
	local name=$1 _ ctrls path dir
	lane_made=()
	while IFS=: read -r _ ctrls path; do
		case "$ctrls" in
		"") dir=/sys/fs/cgroup/unified$path ;;
		name=systemd) dir=/sys/fs/cgroup/systemd$path ;;
		*) dir=/sys/fs/cgroup/${ctrls%%,*}$path ;;
		esac
		[ -d "$dir" ] || continue
		mkdir "$dir/$name"
		lane_made+=("$dir/$name")
		# cpuset children start empty: give ours the parent's sets.
		if [ -f "$dir/cpuset.cpus" ]; then
			cat "$dir/cpuset.cpus" > "$dir/$name/cpuset.cpus"
			cat "$dir/cpuset.mems" > "$dir/$name/cpuset.mems"
		fi
	done < /proc/self/cgroup
}

# lane_enter: moves this shell into the lane cgroups. Its pid, exported as
# LANE_OUTER, tells lane_leftovers which processes are the lane's own.
lane_enter() {
	local d
	for d in "${lane_made[@]}"; do echo $$ > "$d/cgroup.procs"; done
	export LANE_OUTER=$$
}

# lane_cgroups_remove [TAG]: moves this shell back out and removes the lane
# cgroups, what was made below them first.
lane_cgroups_remove() {
	local d
	for d in "${lane_made[@]}"; do echo $$ > "$(dirname "$d")/cgroup.procs" 2>/dev/null || true; done
	for d in "${lane_made[@]}"; do
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
		rmdir "$d" 2>/dev/null || echo "${1:-lane}: could not remove $d" >&2
	done
}

# lane_remount_cgroups: in the new mount + cgroup namespace, a tmpfs over
# /sys/fs/cgroup and each hierarchy mounted again below it. (Mounting a
# hierarchy again on its own mount point is refused with EBUSY.) Fails,
# and the caller must stop, unless the cgroup namespace is rooted at the
# lane: the runtime would otherwise make cgroups at the host's roots.
lane_remount_cgroups() {
	local list m dir fstype opts sub
	list=$(awk '$3 ~ /^cgroup2?$/ && $2 ~ /^\/sys\/fs\/cgroup\// {print $2":"$3":"$4}' /proc/self/mounts)
	mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup || return 1
	for m in $list; do
		IFS=: read -r dir fstype opts <<<"$m"
		sub=$(echo "$opts" | tr ',' '\n' | grep -v -E '^(rw|ro|nosuid|nodev|noexec|relatime)$' | paste -sd, -)
		mkdir -p "$dir"
		if [ "$fstype" = cgroup2 ]; then
			mount -t cgroup2 cgroup2 "$dir" || return 1
		else
			mount -t cgroup -o "$sub" cgroup "$dir" || return 1
		fi
	done
	grep -q '^0::/$' /proc/self/cgroup || { echo "lane: cgroup namespace not rooted at the lane" >&2; return 1; }
}

# lane_wrapper FILE RUNTIME DIR [LINE]: writes FILE, a runtime wrapper that
# appends each argv to DIR/invocations.log, runs LINE (shell, may use
# "$@") if given, then RUNTIME; a failing call goes to DIR/failures.log
# with the last lines of its --log file.
lane_wrapper() {
	local file=$1 runtime=$2 dir=$3 line=${4:-}
	cat > "$file" <<W
#!/bin/sh
{ printf '%s' hull; for a in "\$@"; do printf ' %s' "\$a"; done; echo; } >> "$dir/invocations.log"
$line
"$runtime" "\$@"
rc=\$?
if [ \$rc -ne 0 ]; then
	log=; prev=
	for a in "\$@"; do case "\$a" in --log=*) log=\${a#--log=};; esac; [ "\$prev" = --log ] && log=\$a; prev=\$a; done
	{ echo "rc=\$rc: hull \$*"; [ -n "\$log" ] && tail -n 3 "\$log" | sed 's/^/    /'; } >> "$dir/failures.log"
fi
exit \$rc
W
	chmod +x "$file"
}

# lane_unsupported_flags RUNTIME FILE: prints, as command:flag, each flag
# of the recorded invocations in FILE that RUNTIME's --help does not list.
lane_unsupported_flags() {
	local runtime=$1 file=$2 cmds cmd where w fl h bad=""
	local -a a
	cmds=" $("$runtime" --help | awk '/^COMMANDS:/{f=1;next} /^[A-Z]/{f=0} f{sub(",","",$1); print $1}' | tr '\n' ' ') "
	while read -r -a a; do
		cmd=""
		for w in "${a[@]:1}"; do case "$cmds" in *" $w "*) cmd=$w; break ;; esac; done
		where=global
		for w in "${a[@]:1}"; do
			if [ "$w" = "$cmd" ] && [ $where = global ]; then where=$cmd; continue; fi
			case "$w" in --* | -[a-z]*) ;; *) continue ;; esac
			fl=${w%%=*}
			if [ $where = global ]; then h=$("$runtime" --help); else h=$("$runtime" "$where" --help); fi
			echo "$h" | grep -qE -- "(^|[ ,])$fl([ ,=]|$)" || bad="$bad $where:$fl"
		done
	done < "$file"
	echo "$bad"
}

# Scenario counters: ok NAME; ko NAME [DETAIL...].
lane_pass=0
lane_fail=0
ok() { lane_pass=$((lane_pass + 1)); echo "PASS $1"; }
ko() {
	lane_fail=$((lane_fail + 1))
	echo "FAIL $1"
	shift
	[ $# -gt 0 ] && printf '  %s\n' "$@"
	return 0
}

# lane_leftovers: the pids in the lane's cgroup tree but the lane's own
# shells (this one, the one that ran lane_enter and its children, such as
# tee): only processes this lane started (a daemon, its shims, their
# containers) are there. Call it inside the namespace, where the
# hierarchies are rooted at the lane cgroup.
lane_leftovers() {
	local h p ppid
	for h in /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ -f "$h/cgroup.procs" ] && break
	done
	find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un | while read -r p; do
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] || [ "$p" = "${LANE_OUTER:-}" ] && continue
		ppid=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || continue # gone (a process of this pipeline)
		[ -n "$ppid" ] || continue
		[ "$ppid" = "${LANE_OUTER:-}" ] && continue
		# this function's own pipeline, forked from this shell
		case "$(cat "/proc/$p/comm" 2>/dev/null)" in
		bash | find | cat | sort | awk) [ "$ppid" = $$ ] || [ "$ppid" = "$BASHPID" ] || [ "$(awk '{print $4}' "/proc/$ppid/stat" 2>/dev/null)" = $$ ] && continue ;;
		esac
		echo "$p"
	done
}

# lane_stop_leftovers TAG: waits up to 5 s for the lane's processes to end,
# then SIGKILLs, by pid, what is left, saying so.
lane_stop_leftovers() {
	local i p left
	for i in $(seq 50); do
		left=$(lane_leftovers)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	for p in $left; do
		echo "$1: killing leftover $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" >&2
		kill -9 "$p" 2>/dev/null
	done
}

# The callers lanes (tests/callers/<name>.sh) share a frame:
#   lane_begin NAME    the temp dir $T, the lane cgroups, a trap removing both;
#   inner()            the lane's own work, run in the namespaces;
#   lane_run NAME      runs inner there and exits with its status.

# lane_begin NAME: sets lane_name and T, makes the lane cgroups; on exit
# both go away.
lane_begin() {
	lane_name=$1
	T=$(mktemp -d "/tmp/hull$1.XXXXXX")
	lane_cgroups "hullcallers-$$"
	trap 'lane_cgroups_remove "callers-$lane_name"; rm -rf "$T"' EXIT
}

# lane_caller NAME HINT "CMDS" [HULL] [OUTDIR]: how each callers lane
# starts: sets hull (default bin/hull) and out (default a temp dir), fails
# the lane, saying HINT, unless every command of CMDS is installed, then
# lane_begin NAME. Needs here (the script's directory).
lane_caller() {
	local name=$1 hint=$2 cmds=$3 b
	hull=$(readlink -f "${4:-$here/../../bin/hull}")
	out=${5:-$(mktemp -d "/tmp/hull-callers-$name.XXXXXX")}
	mkdir -p "$out"
	out=$(readlink -f "$out")
	for b in $cmds; do
		command -v "$b" >/dev/null || { echo "callers-$name: 0 passed, 1 failed ($b not installed; $hint)"; exit 1; }
	done
	lane_begin "$name"
}

# lane_private_run: first thing in inner: the cgroup hierarchies mounted
# again (lane_remount_cgroups) and a private tmpfs over /run, where
# containerd 1.6 shims put their sockets (/run/containerd/s, whatever the
# state dir says) and podman and dockerd keep state of their own.
lane_private_run() {
	lane_remount_cgroups && mount -t tmpfs -o mode=755 run_private /run
}

# lane_containerd_toml FILE PLUGINS: a private containerd's config in FILE:
# root, state, sockets and opt under $T, the snapshotters this host cannot
# run disabled, and the plugins PLUGINS (quoted, comma-terminated) too.
lane_containerd_toml() {
	cat > "$1" <<C
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = [$2"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
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
}

# lane_run NAME: runs the function inner in a private mount + cgroup
# namespace rooted at the lane cgroup (inner sources this file again), its
# output also in $out/result.txt; copies $out/invocations-NAME.txt into the
# repo (a diff shows a caller's new flags); exits with inner's status.
lane_run() {
	local name=$1 rc
	export -f inner
	export T hull out here
	lane_enter
	set +e
	unshare -m -C --propagation private bash -c inner 2>&1 | tee "$out/result.txt"
	rc=${PIPESTATUS[0]}
	set -e
	if ! grep -q "^callers-$name: [0-9]" "$out/result.txt"; then
		echo "callers-$name: 0 passed, 1 failed (the lane could not be set up)"
		[ "$rc" -ne 0 ] || rc=1
	fi
	cp "$out/invocations-$name.txt" "$here/invocations-$name.txt" 2>/dev/null || true
	echo "callers-$name: output in $out"
	exit "$rc"
}

# lane_check_flags NAME WHO: the scenario "every flag WHO passed is in
# hull's --help", over $out/invocations-NAME.txt.
lane_check_flags() {
	local f="$out/invocations-$1.txt" bad n
	bad=$(lane_unsupported_flags "$hull" "$f")
	n=$(wc -l < "$f")
	if [ "$n" -gt 0 ] && [ -z "$bad" ]; then
		ok "every flag $2 passed is in hull's --help ($n distinct invocations)"
	else
		ko "every flag $2 passed is in hull's --help" "invocations=$n unsupported:$bad"
	fi
}
