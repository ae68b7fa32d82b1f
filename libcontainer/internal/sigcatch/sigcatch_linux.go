// Package sigcatch catches signals for hull's foreground commands with a
// small C handler that writes each signal's number to a pipe, read by one
// goroutine that relays it to the channels that asked for it.
//
// Why not os/signal: it enables a signal by a round trip to the Go
// runtime's signal-mask thread, a goroutine locked to its own thread, so
// each signal costs two thread hand-offs. Catching every signal (as `run`
// and `exec` must, to forward them as runc does) took 2.6 ms of CPU and
// 160 context switches per process here, a tenth of a `run`'s CPU; this
// package's C takes 51 sigaction calls, about 20 µs (issue 18).
//
// The C handler follows os/signal's rules for non-Go handlers: SA_ONSTACK
// (Go's threads have small stacks and an alternate signal stack), only
// asynchronous signals, never the ones the Go runtime needs itself
// (SIGURG for preemption, SIGPROF, the synchronous SIGSEGV/SIGBUS/SIGFPE/
// SIGILL/SIGTRAP, the C library's from 32 below its SIGRTMIN: glibc's
// 32 and 33, musl's 32 to 34). While a signal is installed here,
// os/signal's Notify has no effect on it: every user of a signal in the
// process goes through this package. Stop and Reset put the runtime's
// handler back once nothing here wants a signal, so that the signal then
// does what it would have done in a Go program that never caught it
// (SIGTERM ends the process, SIGWINCH is ignored).
package sigcatch

// #cgo CFLAGS: -Wall -O2
// #include "sigcatch.h"
import "C"

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const nsig = C.SC_NSIG

// rtmin is the C library's SIGRTMIN: 34 with glibc, 35 with musl (the
// Makefile's build).
var rtmin = unix.Signal(C.sc_rtmin())

var (
	mu        sync.Mutex
	started   bool
	installed [nsig]bool
	subs      = map[chan<- os.Signal]*[nsig]bool{}
)

// Catchable tells whether sig can be caught here: not KILL or STOP, not
// a signal the Go runtime needs (see the package doc).
func Catchable(sig unix.Signal) bool {
	switch sig {
	case unix.SIGKILL, unix.SIGSTOP,
		unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP,
		unix.SIGSTKFLT, unix.SIGSYS, unix.SIGURG, unix.SIGPROF:
		return false
	}
	if sig >= 32 && sig < rtmin {
		return false // the C library's
	}
	return sig > 0 && sig < nsig
}

// All is every catchable signal: what a foreground run or exec forwards.
func All() []unix.Signal {
	var all []unix.Signal
	for s := unix.Signal(1); s < nsig; s++ {
		if Catchable(s) {
			all = append(all, s)
		}
	}
	return all
}

// Notify relays sigs to c from now on. As with os/signal, a send never
// blocks: a signal c has no room for is dropped, so c must be buffered.
func Notify(c chan<- os.Signal, sigs ...unix.Signal) error {
	mu.Lock()
	defer mu.Unlock()
	for _, s := range sigs {
		if !Catchable(s) {
			return fmt.Errorf("signal %d (%s) cannot be caught here", int(s), unix.SignalName(s))
		}
	}
	if err := start(); err != nil {
		return err
	}
	var add []C.int
	for _, s := range sigs {
		if !installed[s] {
			add = append(add, C.int(s))
		}
	}
	if len(add) > 0 {
		var done C.int
		rc := C.sc_install((*C.int)(unsafe.Pointer(&add[0])), C.int(len(add)), &done)
		// Those installed before a failure stay, marked so that Stop
		// and Reset restore them.
		markInstalled(add[:done])
		if rc < 0 {
			return fmt.Errorf("catch signal %d: %w", int(add[done]), syscall.Errno(-rc))
		}
	}
	want := subs[c]
	if want == nil {
		want = new([nsig]bool)
		subs[c] = want
	}
	for _, s := range sigs {
		want[s] = true
	}
	return nil
}

// Stop relays nothing more to c; a signal nothing here wants any more
// gets the Go runtime's handling back.
func Stop(c chan<- os.Signal) {
	mu.Lock()
	defer mu.Unlock()
	delete(subs, c)
	for s := range installed {
		if installed[s] && !wanted(s) {
			restore(s)
		}
	}
}

// Reset relays sig to no channel and gives it the Go runtime's handling
// back, as if it was never caught (os/signal's Reset).
func Reset(sig unix.Signal) {
	mu.Lock()
	defer mu.Unlock()
	if sig <= 0 || sig >= nsig {
		return
	}
	for _, want := range subs {
		want[sig] = false
	}
	if installed[sig] {
		restore(int(sig))
	}
}

func markInstalled(sigs []C.int) {
	for _, s := range sigs {
		installed[s] = true
	}
}

func wanted(s int) bool {
	for _, want := range subs {
		if want[s] {
			return true
		}
	}
	return false
}

// restore puts back the action sc_install replaced. It can only fail
// for a bad number, which Notify never installs.
func restore(s int) {
	C.sc_restore(C.int(s))
	installed[s] = false
}

// start makes the pipe and its reader, once. The write end is
// non-blocking: a handler never waits; with the pipe full (thousands of
// signals unread) it drops the signal.
func start() error {
	if started {
		return nil
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return fmt.Errorf("signal pipe: %w", err)
	}
	// Non-blocking, so os.NewFile gives the read end to Go's poller
	// instead of a thread of its own.
	r := os.NewFile(uintptr(p[0]), "sigcatch")
	C.sc_setup(C.int(p[1]))
	started = true
	go relay(r)
	return nil
}

func relay(r *os.File) {
	var buf [64]byte
	for {
		n, err := r.Read(buf[:])
		if err != nil {
			return // never: the write end stays open for the process's life
		}
		mu.Lock()
		for _, b := range buf[:n] {
			sig := unix.Signal(b)
			for c, want := range subs {
				if want[sig] {
					select {
					case c <- sig:
					default:
					}
				}
			}
		}
		mu.Unlock()
	}
}
