#!/usr/bin/env bash
# The callers lane: hull driven by containerd + ctr, containerd's CRI +
# crictl, podman + conmon and dockerd, each in its own private namespaces
# (tests/lib/lane.sh). Each writes its invocations-<caller>.txt here.
#
#   tests/callers/run.sh HULL [OUTDIR]
#
# OUTDIR defaults to a new /tmp/hull-callers.XXXXXX, removed if every
# caller passed (kept, and named, if one failed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hull=$(readlink -f "$1")
own_out=""
[ -n "${2:-}" ] || own_out=1
out=${2:-$(mktemp -d /tmp/hull-callers.XXXXXX)}
mkdir -p "$out"
summary=()
rc=0
for c in ctr cri podman docker; do
	echo "=== callers: $c"
	s=$(date +%s)
	bash "$here/$c.sh" "$hull" "$out/$c" > "$out/$c.log" 2>&1
	r=$?
	cat "$out/$c.log"
	line=$(grep -E "^callers-$c: [0-9]+ passed" "$out/$c.log" | tail -1)
	[ -n "$line" ] || line="callers-$c: 0 passed, 1 failed (no summary; exit $r)"
	[ $r -eq 0 ] || rc=1
	summary+=("$line ($(($(date +%s) - s)) s)")
done
echo "=== callers summary"
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
if [ -n "$own_out" ]; then
	if [ $rc -eq 0 ]; then
		rm -rf "$out"
	else
		echo "callers: logs kept in $out"
	fi
fi
exit $rc
