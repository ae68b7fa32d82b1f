#!/bin/bash
# The systemd VM lane's checkpoint/restore step (systemd-criu.sh adds it as
# /payload/systemd-criu/run; lane-payload.sh runs it with HULL_TEST_SYSTEMD=1
# and HULL_TEST_RUNTIME=/payload/hull). Two parts, both must pass:
#   hull   hull's checkpoint tests (-test.run "$SD_CRIU_RUN") with the
#          systemd driver: the harness runs hull --systemd-cgroup with
#          cgroupsPaths system.slice:hulltest:NAME; criu must work here
#          (HULL_TEST_CRIU_REQUIRED=1)
#   podman podman 4.3 driving hull (systemd cgroup manager, conmon): a
#          busybox counter run -d, podman container checkpoint, restore,
#          the counter goes on; then checkpoint --export, rm, restore
#          --import; nothing left (no container, no hull state, no unit)
# Lines "SD-CRIU: ok|FAIL ...", then "SD-CRIU: P passed, F failed".
export PATH=/payload/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HULL_TEST_CRIU_REQUIRED=1
D=/payload/systemd-criu
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "SD-CRIU: ok $*"; }
ko() {
	fail=$((fail + 1))
	echo "SD-CRIU: FAIL $1"
	shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/SD-CRIU:   /'; done
}
echo "SD-CRIU: criu $(criu --version | awk '/^Version/ { print $2 }'); criu check: $(criu check 2>&1 | tail -1)"

# The lane's own integration run (lane.env's INTEGRATION_RUN, with
# HULL_TEST_CRIU_REQUIRED=1 from systemd-criu.sh) may have run them already
# (its VM_LANE_RUN matches them): then they are not run twice. The default
# VM_LANE_RUN matches no checkpoint test but TestCheckpointRestoreCgroupModes
# ("Cgroup"), which skips under --systemd-cgroup, so that the lane's
# integration run keeps its time and timeout.
lane_run=$(. /payload/lane.env && case " $TESTS " in *" integration "*) echo "$INTEGRATION_RUN" ;; esac)
if [ -n "${SD_CRIU_RUN:-}" ] && [ -n "$lane_run" ] && echo "$SD_CRIU_RUN" | grep -Eq -- "$lane_run"; then
	echo "SD-CRIU: hull's $SD_CRIU_RUN ran in the lane's integration run (-test.run '$lane_run'): not again"
	SD_CRIU_RUN=
fi
if [ -n "${SD_CRIU_RUN:-}" ]; then
	log=/tmp/sd-criu-hull.log
	{
		cd /payload/integration && ./integration.test -test.v -test.timeout 8m -test.run "$SD_CRIU_RUN" 2>&1
		echo $? >"$log.rc"
	} | tee "$log"
	rc=$(cat "$log.rc")
	if [ "$rc" = 0 ] && ! grep -q '^testing: warning: no tests to run' "$log"; then
		ok "hull's checkpoint tests with --systemd-cgroup ($(grep -c '^--- PASS' "$log") passed)"
	else
		ko "hull's checkpoint tests with --systemd-cgroup (exit $rc)" "$(tail -40 "$log")"
	fi
fi

podman_part() { # podman_part RUNTIME
	local rt=$1 T=/tmp/sd-criu-podman img=localhost/hullbox:latest o rc st c1 c2 n
	rm -rf "$T"
	mkdir -p "$T/tmp"
	export TMPDIR=$T/tmp
	# Private --root and --runroot (a database of our own: one made at
	# boot with another storage driver is refused), vfs storage; the
	# cgroup manager is podman's default as root under systemd: systemd,
	# so hull runs with --systemd-cgroup.
	P() { podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp" --runtime "$rt" \
		--storage-driver vfs --events-backend file "$@"; }
	o=$(P load -i "$D/hullbox.tar" 2>&1)
	rc=$?
	if [ $rc = 0 ] && P image exists "$img"; then ok "podman load"; else
		ko "podman load" "rc=$rc" "$o"
		return
	fi
	# The counter: a number a tenth of a second on stdout (podman logs)
	# and in /count (podman exec), renamed into place: a `cat` between
	# the truncation and the write of `echo $i > /count` read nothing
	# (CI of e91858e: "after restore: " empty, the log counting on).
	local script='i=0; while :; do i=$((i+1)); echo $i; echo $i > /count.new; mv /count.new /count; sleep 0.1; done'
	o=$(P run -d --name c1 --network none "$img" sh -c "$script" 2>&1)
	rc=$?
	st=$(P inspect -f '{{.State.Status}} {{.State.Pid}}' c1 2>&1)
	if [ $rc = 0 ] && [ "${st%% *}" = running ]; then ok "podman run -d (pid ${st#* })"; else
		ko "podman run -d" "rc=$rc status=$st" "$o"
		P rm -f c1 >/dev/null 2>&1
		return
	fi
	cid=$(P inspect -f '{{.Id}}' c1)
	unit=$(systemctl list-units --all --no-legend --plain "libpod-$cid.scope" | awk '{ print $1 }')
	if [ "$unit" = "libpod-$cid.scope" ]; then ok "the container is in $unit"; else ko "no libpod-$cid.scope unit" "$(cat /proc/"${st#* }"/cgroup)"; fi
	sleep 1
	o=$(P container checkpoint c1 2>&1)
	rc=$?
	st=$(P inspect -f '{{.State.Status}}' c1 2>&1)
	c1=$(P logs c1 2>/dev/null | tail -1)
	if [ $rc = 0 ] && [ "$st" = exited ] && [ -n "$c1" ]; then ok "podman container checkpoint (status $st, counter at $c1)"; else
		ko "podman container checkpoint" "rc=$rc status=$st counter=$c1" "$o"
		# criu's usual complaint: an fd on a mount outside the container.
		pid=$(P inspect -f '{{.State.Pid}}' c1)
		echo "SD-CRIU: debug: fd 0 of $pid: $(readlink /proc/$pid/fd/0); $(grep mnt_id /proc/$pid/fdinfo/0)"
		mid=$(awk '/mnt_id/ { print $2 }' /proc/$pid/fdinfo/0)
		echo "SD-CRIU: debug: host mountinfo: $(awk -v m="$mid" '$1 == m' /proc/self/mountinfo); container's: $(awk -v m="$mid" '$1 == m' /proc/$pid/mountinfo)"
	fi
	if [ -n "$(hull_state "$cid")" ]; then ko "hull still lists $cid after the checkpoint" "$(hull_state "$cid")"; fi
	if systemctl is-active -q "libpod-$cid.scope"; then ko "libpod-$cid.scope still active after the checkpoint"; fi
	o=$(P container restore c1 2>&1)
	rc=$?
	st=$(P inspect -f '{{.State.Status}} {{.State.Pid}}' c1 2>&1)
	if [ $rc = 0 ] && [ "${st%% *}" = running ]; then ok "podman container restore (pid ${st#* })"; else
		ko "podman container restore" "rc=$rc status=$st" "$o"
	fi
	sleep 1
	c2=$(P exec c1 cat /count 2>&1)
	n=$(P logs c1 2>/dev/null | grep -cx 1)
	if [ -n "$c1" ] && [ "$c2" -gt "$c1" ] 2>/dev/null && [ "$n" = 1 ]; then ok "the restored counter goes on ($c1 -> $c2; podman exec)"; else
		ko "the restored counter does not go on" "at checkpoint $c1, after restore: $c2; lines '1' in the log: $n" "$(P logs c1 2>&1 | tail -5)"
	fi
	if systemctl is-active -q "libpod-$cid.scope" && grep -q "libpod-$cid.scope" /proc/"${st#* }"/cgroup; then ok "the restored container is in libpod-$cid.scope again"; else
		ko "the restored container is not in libpod-$cid.scope" "$(cat /proc/"${st#* }"/cgroup 2>&1)" "$(systemctl status "libpod-$cid.scope" 2>&1 | head -5)"
	fi

	# --export, rm, --import: a new container from the archive.
	o=$(P container checkpoint --export "$T/c1.tar.gz" c1 2>&1)
	rc=$?
	c1=$(P logs c1 2>/dev/null | tail -1)
	if [ $rc = 0 ] && [ -s "$T/c1.tar.gz" ]; then ok "podman container checkpoint --export (counter at $c1)"; else
		ko "podman container checkpoint --export" "rc=$rc" "$o"
	fi
	o=$(P rm c1 2>&1) || ko "podman rm after the export" "$o"
	o=$(P container restore --import "$T/c1.tar.gz" 2>&1)
	rc=$?
	st=$(P inspect -f '{{.State.Status}} {{.State.Pid}}' c1 2>&1)
	if [ $rc = 0 ] && [ "${st%% *}" = running ]; then ok "podman container restore --import (pid ${st#* })"; else
		ko "podman container restore --import" "rc=$rc status=$st" "$o"
	fi
	sleep 1
	c2=$(P exec c1 cat /count 2>&1)
	if [ -n "$c1" ] && [ "$c2" -gt "$c1" ] 2>/dev/null; then ok "the imported counter goes on ($c1 -> $c2)"; else
		ko "the imported counter does not go on" "at export $c1, after import: $c2" "$(P logs c1 2>&1 | tail -5)"
	fi
	cid=$(P inspect -f '{{.Id}}' c1 2>/dev/null)
	o=$(P rm -f c1 2>&1) || ko "podman rm -f" "$o"
	if [ -n "$(P ps -aq 2>/dev/null)" ]; then ko "podman containers left" "$(P ps -a 2>&1)"; fi
	if [ -n "$cid" ] && [ -n "$(hull_state "$cid")" ]; then ko "hull state left for $cid" "$(hull_state "$cid")"; fi
	sleep 0.5
	left=$(systemctl list-units --all --no-legend --plain 'libpod-*' 2>/dev/null | grep -v conmon)
	if [ -z "$left" ]; then ok "nothing left (containers, hull state, units)"; else ko "units left" "$left"; fi
	P rmi -af >/dev/null 2>&1
	rm -rf "$T"
}
# hull_state ID: hull's state directory of the container, under whatever
# --root podman gives hull (below /run).
hull_state() {
	find /run -maxdepth 4 -type f -name state.json -path "*/$1/*" 2>/dev/null
}
if [ "${SD_CRIU_PODMAN:-1}" != 0 ]; then
	for rt in ${SD_CRIU_PODMAN_RUNTIMES:-/payload/hull}; do
		echo "SD-CRIU: podman --runtime $rt"
		podman_part "$rt"
	done
fi
echo "SD-CRIU: $pass passed, $fail failed"
[ "$fail" = 0 ]
