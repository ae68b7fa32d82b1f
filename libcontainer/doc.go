// Package libcontainer is hull's API to its commands: a Runtime (a state
// root) and its Containers, with Create, Start, Run, Exec, Signal,
// Destroy, Wait, Update, Pause and Resume, Checkpoint and Restore; the
// statuses and the operations each allows (status.go); the features hull
// reports. It runs in the parent, on the host, and decides the order of
// the steps: the start of a container process is package process, what
// runs in the container after the clone is initproc (and preinit's C
// before it), the rootfs is rootfs, config.json is config, and the
// messages between the two sides are internal/proto.
package libcontainer
