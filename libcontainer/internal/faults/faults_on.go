//go:build hullfaults

package faults

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Point, in a test build (-tags hullfaults), stops the process at the
// named stage when HULL_FAULT names it: it says so on stderr and sleeps,
// for a test to SIGKILL it there. Release builds have no such code.
func Point(stage string) {
	if reached(stage) {
		for {
			time.Sleep(time.Hour)
		}
	}
}

// Delay, in a test build, holds the process for d at the named stage
// when HULL_FAULT names it, saying so on stderr first: a test widens a
// window there, where a race would otherwise be rare.
func Delay(stage string, d time.Duration) {
	if reached(stage) {
		time.Sleep(d)
	}
}

// Linger, in a test build, closes f and holds the process for d at the
// named stage when HULL_FAULT names it: an exiting process closes its
// files first, and the rest of its exit (its namespaces torn down) may
// take a while on a busy machine.
func Linger(stage string, d time.Duration, f io.Closer) {
	if reached(stage) {
		f.Close()
		time.Sleep(d)
	}
}

// reached tells whether HULL_FAULT names stage and, if so, says on stderr
// that the process got there (the line the tests wait for).
func reached(stage string) bool {
	if os.Getenv("HULL_FAULT") != stage {
		return false
	}
	fmt.Fprintf(os.Stderr, "hull-fault: reached %s\n", stage)
	return true
}

// Env passes HULL_FAULT on to the init, whose environment is made
// anew.
func Env() []string {
	if v := os.Getenv("HULL_FAULT"); v != "" {
		return []string{"HULL_FAULT=" + v}
	}
	return nil
}

// Migrate, with HULL_FAULT=init-migrate, tries to move the init's
// goroutine off the process's main thread before Init locks it (busy
// goroutines on every P while it sleeps in a syscall, up to half a second),
// then says on
// stderr which thread it runs on: "hull-fault: init on thread TID of PID".
func Migrate() {
	if os.Getenv("HULL_FAULT") != "init-migrate" {
		return
	}
	stop := make(chan struct{})
	for i := 0; i < 2*runtime.GOMAXPROCS(0); i++ {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		}()
	}
	// A blocking syscall hands the goroutine's P to another thread;
	// back from it with every P busy, the goroutine is queued and run
	// by whichever thread comes next.
	for i := 0; i < 100 && unix.Gettid() == unix.Getpid(); i++ {
		ts := unix.NsecToTimespec(int64(5 * time.Millisecond))
		unix.Nanosleep(&ts, nil)
	}
	close(stop)
	fmt.Fprintf(os.Stderr, "hull-fault: init on thread %d of %d\n", unix.Gettid(), unix.Getpid())
}
