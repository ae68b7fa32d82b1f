package process

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hullrt/hull/libcontainer/internal/sigcatch"
	"golang.org/x/sys/unix"
)

// abortSignals end a create, run or exec whose process has not started
// yet: what was started is killed and removed, and the command ends as
// runc's does.
var abortSignals = []unix.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP}

// SignalError is the error of a command that a signal aborted before the
// container's process started.
type SignalError struct{ Sig unix.Signal }

func (e *SignalError) Error() string {
	return fmt.Sprintf("interrupted by signal %d (%s) before the process started", int(e.Sig), unix.SignalName(e.Sig))
}

// SignalOf is the signal that aborted the command err ends, 0 if none.
func SignalOf(err error) unix.Signal {
	var se *SignalError
	if errors.As(err, &se) {
		return se.Sig
	}
	return 0
}

// AbortCatch catches abortSignals while a container process is being
// set up; kill, if set, is called once when one arrives. It catches
// through sigcatch, as every user of a signal in hull does (sigcatch's
// package doc says why).
type AbortCatch struct {
	c    chan os.Signal
	done chan struct{}
	mu   sync.Mutex
	sig  unix.Signal
	kill func()
}

func CatchAbort() *AbortCatch {
	a := &AbortCatch{c: make(chan os.Signal, 1), done: make(chan struct{})}
	// abortSignals are catchable; the only failure left is the signal
	// pipe's (no file descriptor free). Then a signal ends hull by the
	// runtime's default, before it cleans up: say so rather than hide it.
	if err := sigcatch.Notify(a.c, abortSignals...); err != nil {
		slog.Warn("TERM, INT and HUP will not abort cleanly", "error", err)
	}
	go func() {
		select {
		case s := <-a.c:
			a.mu.Lock()
			a.sig = s.(unix.Signal)
			kill := a.kill
			a.mu.Unlock()
			if kill != nil {
				kill()
			}
		case <-a.done:
		}
	}()
	return a
}

// setKill sets what a signal must kill (nil: nothing); if one already
// came, it is killed at once.
func (a *AbortCatch) SetKill(kill func()) {
	a.mu.Lock()
	a.kill = kill
	sig := a.sig
	a.mu.Unlock()
	if sig != 0 && kill != nil {
		kill()
	}
}

// err is a *SignalError once a signal came, nil before.
func (a *AbortCatch) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sig == 0 {
		return nil
	}
	return &SignalError{Sig: a.sig}
}

// stop stops catching: the signals have their previous effect again.
func (a *AbortCatch) Stop() {
	sigcatch.Stop(a.c)
	close(a.done)
}

// DieBySignal ends hull by sig with its default action, as a runc killed
// by it ends (after the caller cleaned up).
func DieBySignal(sig unix.Signal) {
	sigcatch.Reset(sig)
	unix.Kill(unix.Getpid(), sig)
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}
