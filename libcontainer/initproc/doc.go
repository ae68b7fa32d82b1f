// Package initproc is everything that runs in the child after the clone:
// hull's binary run as "hull init" (after preinit.c), in the container's
// namespaces and cgroups. It receives its config (internal/proto), makes
// the cgroup namespace, sets affinity, lo, the rootfs (package rootfs),
// the console, hostname and sysctls, then the process's rlimits,
// scheduler and other attributes, and reports ready; a created init then
// waits for start (in a fresh C-only image, waitInC) and at start drops
// to the configured credentials and capabilities, loads the seccomp
// filter, runs the startContainer hooks and execs the user's program.
// Init never returns.
package initproc
