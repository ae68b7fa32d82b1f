#!/bin/bash
# The systemd VM lane's rootless step (systemd-rootless.sh adds it as
# /payload/systemd-rootless/run; lane-payload.sh runs it as root). The
# guest is thrown away after the lane (its disk is a snapshot), so the
# test user is simply added to /etc here. Two parts, both must pass:
#   hull    an ordinary user (uid 1500, subordinate ids 100000:65536, its
#           systemd instance started by lingering) runs hull
#           --systemd-cgroup: the unit is a scope of the user's instance,
#           reached over the session bus ($XDG_RUNTIME_DIR/bus), below
#           user@1500.service in its user.slice, its cgroup delegated to
#           the user; limits in the unit and the files, ps, exec,
#           exec --cgroup into a sub-cgroup, pause/resume, update,
#           events --stats, kill, delete leaves no unit and no cgroup; an
#           unreachable bus is a clear error and leaves nothing
#   podman  rootless podman 4.3 as that user with --cgroup-manager=systemd
#           drives hull (tests/rootless/podman.sh, PODMAN_CGROUP_MANAGER)
# Lines "SD-ROOTLESS: ok|FAIL ...", then "SD-ROOTLESS: P passed, F failed".
export PATH=/payload/bin:/usr/sbin:/usr/bin:/sbin:/bin
D=/payload/systemd-rootless
U=hullrl
UID_=1500
H=/home/$U
XDG=/run/user/$UID_
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "SD-ROOTLESS: ok $*"; }
ko() {
	fail=$((fail + 1))
	echo "SD-ROOTLESS: FAIL $1"
	shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/SD-ROOTLESS:   /'; done
}
finish() {
	echo "SD-ROOTLESS: $pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit
}

# The user, its subordinate ids, its systemd instance.
grep -q "^$U:" /etc/passwd || {
	echo "$U:x:$UID_:$UID_:hull rootless test:$H:/bin/bash" >>/etc/passwd
	echo "$U:x:$UID_:" >>/etc/group
	# user@.service's PAM stack (pam_unix's account check) wants one.
	echo "$U:*:19000:0:99999:7:::" >>/etc/shadow
	echo "$U:100000:65536" >>/etc/subuid
	echo "$U:100000:65536" >>/etc/subgid
}
install -d -o $UID_ -g $UID_ -m 755 "$H"
o=$(loginctl enable-linger "$U" 2>&1) || o="$o; $(systemctl start "user@$UID_.service" 2>&1)"
# The bus socket comes before the manager is up (user@UID.service
# "activating" for seconds under load): wait for both, up to 60 s.
for _ in $(seq 200); do [ -S "$XDG/bus" ] && systemctl is-active -q "user@$UID_.service" && break; sleep 0.3; done
if [ -S "$XDG/bus" ] && systemctl is-active -q "user@$UID_.service"; then
	ok "user@$UID_.service active, session bus at $XDG/bus (delegated: $(cat "/sys/fs/cgroup/user.slice/user-$UID_.slice/user@$UID_.service/cgroup.controllers" 2>&1))"
else
	ko "the user's systemd instance" "$o" "$(systemctl status "user@$UID_.service" 2>&1 | tail -5)"
	finish
fi
# as CMD...: CMD as the user, in a login-like environment, for at most
# AS_TIMEOUT seconds (60): a hang fails the step instead of the lane.
as() {
	timeout -k 5 "${AS_TIMEOUT:-60}" setpriv --reuid=$UID_ --regid=$UID_ --init-groups \
		env -i HOME="$H" USER=$U LOGNAME=$U PATH="$PATH" XDG_RUNTIME_DIR="$XDG" "$@"
}

# A busybox bundle of the user's, from `hull spec --rootless`.
B=$H/bundle
hull=/payload/hull
as mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/sys" "$B/rootfs/dev" "$B/rootfs/tmp"
as cp /bin/busybox "$B/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || as ln -s busybox "$B/rootfs/bin/$a"; done
(cd "$B" && as "$hull" spec --rootless) || { ko "hull spec --rootless"; finish; }
as sh -c "jq '.process.args = [\"sleep\", \"1000\"] | .process.terminal = false | .linux.resources = {memory: {limit: 67108864}, pids: {limit: 50}}' $B/config.json >$B/c.json && mv $B/c.json $B/config.json"

H_() { as "$hull" --systemd-cgroup "$@"; }
unit=hull-c1.scope
mcg=/user.slice/user-$UID_.slice/user@$UID_.service
want=$mcg/user.slice/$unit
# The container keeps run's stdio: files, not this script's pipes.
H_ run -d --bundle "$B" --pid-file "$H/c1.pid" c1 </dev/null >"$H/c1.out" 2>"$H/c1.err"
rc=$?
o=$(cat "$H/c1.err")
pid=$(cat "$H/c1.pid" 2>/dev/null)
st=$(H_ state c1 2>/dev/null | jq -r .status)
if [ $rc = 0 ] && [ "$st" = running ]; then ok "hull --systemd-cgroup run -d as uid $UID_ (pid $pid)"; else
	ko "hull --systemd-cgroup run -d as uid $UID_" "rc=$rc status=$st" "$o"
	finish
fi
cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
[ "$cg" = "$want" ] && ok "the init's cgroup: $cg" || ko "the init's cgroup" "got $cg" "want $want"
props=$(as systemctl --user show -p ActiveState -p Delegate -p MemoryMax -p TasksMax -p ControlGroup "$unit" 2>&1 | sort | tr '\n' ' ')
wp="ActiveState=active ControlGroup=$want Delegate=yes MemoryMax=67108864 TasksMax=50 "
[ "$props" = "$wp" ] && ok "the unit of the user's instance: $props" || ko "the unit's properties" "got  $props" "want $wp"
f="$(cat "/sys/fs/cgroup$want/memory.max" 2>&1) $(cat "/sys/fs/cgroup$want/pids.max" 2>&1) $(stat -c %u "/sys/fs/cgroup$want/cgroup.procs")"
[ "$f" = "67108864 50 $UID_" ] && ok "memory.max, pids.max, cgroup.procs owned by the user: $f" || ko "the cgroup's files" "got $f" "want 67108864 50 $UID_"

o=$(H_ ps c1 2>&1)
echo "$o" | awk 'NR > 1 { print $2 }' | grep -qx "$pid" && ok "ps lists the init" || ko "ps" "$o"
# The container has a cgroup namespace (spec --rootless keeps runc's), its
# root the scope: a process outside the scope would see "/../..".
# This script runs in system.slice, outside the user's tree, so the user
# cannot write the scope's cgroup.procs for the exec'd process (the
# common ancestor's is root's): systemd moves it (AttachProcessesToUnit),
# as for runc.
o=$(H_ exec c1 cat /proc/self/cgroup 2>&1)
[ "$o" = "0::/" ] && ok "exec joins the scope (from outside the user's tree)" || ko "exec joins the scope" "$o"
as mkdir "/sys/fs/cgroup$want/sub"
o=$(H_ exec --cgroup sub c1 cat /proc/self/cgroup 2>&1)
[ "$o" = "0::/sub" ] && ok "exec --cgroup sub (a sub-cgroup the user made)" || ko "exec --cgroup sub" "$o"

o=$(H_ pause c1 2>&1)
rc=$?
st=$(H_ state c1 2>/dev/null | jq -r .status)
fz=$(cat "/sys/fs/cgroup$want/cgroup.freeze")
[ $rc = 0 ] && [ "$st" = paused ] && [ "$fz" = 1 ] && ok "pause (cgroup.freeze 1)" || ko "pause" "rc=$rc status=$st freeze=$fz" "$o"
o=$(H_ resume c1 2>&1)
rc=$?
st=$(H_ state c1 2>/dev/null | jq -r .status)
fz=$(cat "/sys/fs/cgroup$want/cgroup.freeze")
[ $rc = 0 ] && [ "$st" = running ] && [ "$fz" = 0 ] && ok "resume" || ko "resume" "rc=$rc status=$st freeze=$fz" "$o"

o=$(H_ update --memory 134217728 --pids-limit 60 c1 2>&1)
rc=$?
got="$(as systemctl --user show -p MemoryMax --value "$unit") $(as systemctl --user show -p TasksMax --value "$unit") $(cat "/sys/fs/cgroup$want/memory.max") $(cat "/sys/fs/cgroup$want/pids.max")"
[ $rc = 0 ] && [ "$got" = "134217728 60 134217728 60" ] && ok "update (unit and files: $got)" || ko "update" "rc=$rc got $got" "$o"

o=$(H_ events --stats c1 2>&1)
mu=$(echo "$o" | jq -r '.data.memory.usage.usage' 2>/dev/null)
[ -n "$mu" ] && [ "$mu" -gt 0 ] 2>/dev/null && ok "events --stats (memory usage $mu)" || ko "events --stats" "$o"

o=$(H_ kill c1 KILL 2>&1) || ko "kill" "$o"
for _ in $(seq 50); do [ "$(H_ state c1 2>/dev/null | jq -r .status)" = stopped ] && break; sleep 0.1; done
o=$(H_ delete c1 2>&1)
rc=$?
left=$(as systemctl --user list-units --all --no-legend --plain "$unit" 2>&1)
[ $rc = 0 ] && [ -z "$left" ] && [ ! -e "/sys/fs/cgroup$want" ] && [ ! -e "$XDG/hull/c1" ] &&
	ok "delete: no unit, no cgroup, no state" || ko "delete" "rc=$rc units: $left" "$(ls -d "/sys/fs/cgroup$want" "$XDG/hull/c1" 2>&1)" "$o"

# D-Bus unreachable: a clear error, nothing left.
as env DBUS_SESSION_BUS_ADDRESS=unix:path=$H/no-bus "$hull" --systemd-cgroup run -d --bundle "$B" c2 </dev/null >"$H/c2.out" 2>"$H/c2.err"
rc=$?
o=$(cat "$H/c2.err")
if [ $rc != 0 ] && echo "$o" | grep -q "connect to systemd over D-Bus (user bus unix:path=$H/no-bus)" && [ ! -e "$XDG/hull/c2" ]; then
	ok "an unreachable user bus: $o"
else
	ko "an unreachable user bus" "rc=$rc" "$o" "$(ls "$XDG/hull" 2>&1)"
fi

# The cgroupfs driver in the user's delegated subtree (no --systemd-cgroup):
# a cgroupsPath below user@UID.service, which its manager delegates to the
# user; hull runs from a scope of the user's own (systemd-run --user
# --scope), inside that tree, so that it may move processes into it (a
# process outside would need the root cgroup's cgroup.procs).
fs=$mcg/hull-fs/c3
as sh -c "jq '.linux.cgroupsPath = \"$fs\" | .linux.resources = {memory: {limit: 33554432}, pids: {limit: 40}}' $B/config.json >$B/c3.json"
as mkdir -p "$H/b3" && as cp "$B/c3.json" "$H/b3/config.json" && as ln -sfn "$B/rootfs" "$H/b3/rootfs"
U_() { as env DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG/bus systemd-run --user --scope --quiet "$hull" "$@"; }
U_ run -d --bundle "$H/b3" --pid-file "$H/c3.pid" c3 </dev/null >"$H/c3.out" 2>"$H/c3.err"
rc=$?
pid=$(cat "$H/c3.pid" 2>/dev/null)
cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>&1)
f="$(cat "/sys/fs/cgroup$fs/memory.max" 2>&1) $(cat "/sys/fs/cgroup$fs/pids.max" 2>&1)"
if [ $rc = 0 ] && [ "$cg" = "$fs" ] && [ "$f" = "33554432 40" ]; then ok "cgroupfs driver in the delegated subtree: $cg, memory.max pids.max $f"; else
	ko "cgroupfs driver in the delegated subtree" "rc=$rc cgroup $cg files $f" "$(cat "$H/c3.err")"
fi
o=$(U_ exec c3 cat /proc/self/cgroup 2>&1)
[ "$o" = "0::/" ] && ok "  exec joins it" || ko "  exec joins it" "$o"
o=$(as "$hull" ps c3 2>&1)
echo "$o" | awk 'NR > 1 { print $2 }' | grep -qx "$pid" && ok "  ps" || ko "  ps" "$o"
o=$(as "$hull" pause c3 2>&1)
rc=$?
st=$(as "$hull" state c3 2>/dev/null | jq -r .status)
fz=$(cat "/sys/fs/cgroup$fs/cgroup.freeze" 2>&1)
[ $rc = 0 ] && [ "$st" = paused ] && [ "$fz" = 1 ] && ok "  pause (the delegated freezer)" || ko "  pause" "rc=$rc status=$st freeze=$fz" "$o"
o=$(as "$hull" resume c3 2>&1) || ko "  resume" "$o"
o=$(as "$hull" delete -f c3 2>&1)
rc=$?
[ $rc = 0 ] && [ ! -e "/sys/fs/cgroup$fs" ] && ok "  delete -f: no cgroup left" || ko "  delete -f" "rc=$rc" "$o" "$(ls -d "/sys/fs/cgroup$fs" 2>&1)"
as rmdir "/sys/fs/cgroup$mcg/hull-fs" 2>/dev/null

# Rootless podman, systemd cgroup manager, hull as its runtime.
if [ "${SD_ROOTLESS_PODMAN:-1}" != 0 ]; then
	o=$(AS_TIMEOUT=400 as env PODMAN_CGROUP_MANAGER=systemd PODMAN_IMAGE_TAR="$D/hullbox.tar" "$D/podman.sh" "$hull" 2>&1)
	rc=$?
	echo "$o" | sed 's/^/SD-ROOTLESS: podman| /'
	if [ $rc = 0 ]; then ok "rootless podman --cgroup-manager=systemd: $(echo "$o" | tail -1)"; else ko "rootless podman --cgroup-manager=systemd (exit $rc)" "$(echo "$o" | grep -A3 '^FAIL' | head -30)"; fi
fi
finish
