// Package proc names a host process by pid and start time, so that a
// reused pid is never mistaken for it, and signals and waits for it
// through a pidfd. It runs on the host, in hull and in hull-shim, and
// needs no cgo.
package proc
