// Package rootfs makes the container's root filesystem. It runs in the
// child after the clone (called by initproc), in the container's mount
// namespace, or in hull's for a container without one (then it chroots):
// config.json's mounts with their options and tmpcopyup, the cgroup
// mounts, the default devices and linux.devices, the root switch
// (pivot_root, or a move with --no-pivot) and, after the console,
// masked and read-only paths and the read-only remounts (Finalize). A
// mount source the init cannot open itself it asks the parent for
// (mountsource_linux.go). Every path in the rootfs goes through safepath.
package rootfs
