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
// It is set in this package's init, as early as Go lets a program. That
// is late: the runtime has started with a P per CPU, woken threads to
// spin on the second, and the call stops the world to destroy it. The
// runtime reads only the environment (its own copy, which a C
// constructor cannot change) and the CPU mask. So the Makefile's build
// (tag pinstart, pin.c) restricts the process to the CPU it runs on in a
// C constructor, before the runtime counts its CPUs, and puts the mask
// back at the runtime's first pthread_create (sysmon's, right after the
// count; the linker's --wrap=pthread_create): the runtime starts with
// one P, and no thread or child ever has the narrowed mask. The call
// here then only marks GOMAXPROCS as chosen. On the KVM guest,
// `--version` took 4.81 ms of CPU with the call alone and 4.45 ms with
// GOMAXPROCS=1 in its environment (400 interleaved runs). runtime.NumCPU
// is then 1 in hull's commands; nothing in hull uses it.
//
// The same build gives sysmon's thread, and no other, a timer slack of
// 5 ms (slack.c, at the same first pthread_create): sysmon sleeps 20 µs
// at a time while the process is busy, and in a command of a few
// milliseconds it woke some 15 times (nanosleep, a timer programmed on
// the CPU, often a P taken back and a thread started for it). With the
// slack its sleeps end within 5 ms, so a P blocked in a system call is
// taken back after at most about that long, as when sysmon has backed
// off to 10 ms. On the KVM guest, 100 containers created and started in
// parallel took 9-12% less CPU and 11-14% less wall time (six alternated
// rounds), 40 sequential `run`s 10% less. Threads sysmon starts get the
// process's slack back before they exist, so hooks and containers
// inherit the caller's.
package oneproc

import (
	"os"
	"runtime"
)

// chosen: this package set GOMAXPROCS (the environment did not).
var chosen bool

func init() {
	unpin()
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
