// Package oneproc runs hull's commands on one P (GOMAXPROCS=1) unless
// GOMAXPROCS is set: a command is a few milliseconds of mostly sequential
// system calls, and a second P only makes the Go runtime start threads
// for it, wake them to look for work and spin, and tear them down at
// exit. On the KVM guest of issue 18, with 50 containers created and
// started in parallel on two CPUs, one P cut the busy CPU of the run by
// 9% (GOMAXPROCS=1 in hull's environment) or 3-4% (set by Go in main),
// wall time 5% (8 alternated runs each); sequentially, `exec` 0.65 ms
// and `create` 0.23 ms less CPU, wall time unchanged or lower.
//
// The price of one P: while the main goroutine blocks in a system call,
// another goroutine runs only once sysmon takes the P back (after 20 µs
// to 10 ms). Commands that run alongside their container's process
// (foreground `run`, `exec`, `restore`, and `events`), relaying signals
// and a terminal while they wait, take the runtime's default back with
// Foreground.
//
// It is set in this package's init, as early as Go lets a program: the
// runtime starts before any Go code and reads only the environment,
// which a C constructor could change only for the C library, not for
// the runtime's own copy.
package oneproc

import (
	"os"
	"runtime"
)

// chosen: this package set GOMAXPROCS (the environment did not).
var chosen bool

func init() {
	if _, ok := os.LookupEnv("GOMAXPROCS"); ok {
		return
	}
	runtime.GOMAXPROCS(1)
	chosen = true
}

// Foreground gives the runtime its default GOMAXPROCS back (as if the
// environment set none), for a command that stays beside its container's
// process. It does nothing when the environment chose GOMAXPROCS.
func Foreground() {
	if chosen {
		chosen = false
		runtime.SetDefaultGOMAXPROCS()
	}
}
