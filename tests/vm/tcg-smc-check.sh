#!/bin/sh
# A payload for run.sh: does the VM survive the guest kernel patching its
# own code while the other vCPU runs it?
#
#   tests/vm/run.sh tests/vm/tcg-smc-check.sh
#   VM_TCG_THREAD=multi VM_STALL=30 VM_TIMEOUT=150 tests/vm/run.sh tests/vm/tcg-smc-check.sh
#
# (the guest gets no environment from the host: the 4000 is fixed here).
# Not part of make test: it checks qemu, not hull.
#
# Setting and clearing cpu.max of an empty cgroup flips the cfs bandwidth
# static key, which Linux patches in place (text_poke_bp) in the
# scheduler's hot paths; three shell loops of short sleeps keep both CPUs
# going through those paths. With qemu's multi-threaded TCG (7.2,
# VM_TCG_THREAD=multi) the guest hung within 250 toggles in each of three
# tries (both vCPUs in the kernel, one taking the int3 at the patched site
# over and over); with single (run.sh's default) 4000 passed.
set -e
mkdir /sys/fs/cgroup/smc-check
for n in 1 2 3; do (while :; do sleep 0.001; done) & done
i=0
while [ "$i" -lt 4000 ]; do
	echo "50000 100000" >/sys/fs/cgroup/smc-check/cpu.max
	echo "max 100000" >/sys/fs/cgroup/smc-check/cpu.max
	i=$((i + 1))
	[ $((i % 250)) != 0 ] || echo "tcg-smc-check: $i toggles, up $(cut -d' ' -f1 /proc/uptime)s"
done
echo "tcg-smc-check: $i toggles, no hang"
