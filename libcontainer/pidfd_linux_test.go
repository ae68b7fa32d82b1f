package libcontainer

import (
	"errors"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sleeperContainer starts a sleep(1) child and records it as the running
// init of container "c1" under a fresh root (no cgroup, no pid namespace).
func sleeperContainer(t *testing.T) (*Runtime, *exec.Cmd, *reaped) {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep(1): %v", err)
	}
	done := &reaped{c: make(chan struct{})}
	go func() { done.err = cmd.Wait(); close(done.c) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done.c
	})
	_, start, err := proc.Stat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	r := New(t.TempDir())
	h, err := r.store.New(&store.State{
		ID: "c1", Phase: store.PhaseCreated, Pid: cmd.Process.Pid, StartTime: start,
		Created: time.Now(), Config: store.ConfigOf(&specs.Spec{Linux: &specs.Linux{}}),
	})
	if err != nil {
		t.Fatalf("store.New: %v", err)
	}
	h.Close()
	return r, cmd, done
}

// reaped is closed (c) once the sleeper was reaped, with its error.
type reaped struct {
	c   chan struct{}
	err error
}

// failPidfd makes openPidfd fail with errno and counts its calls.
func failPidfd(t *testing.T, errno error) *atomic.Int64 {
	old := openPidfd
	t.Cleanup(func() { openPidfd = old })
	var n atomic.Int64
	openPidfd = func(int, uint64) (int, error) { n.Add(1); return -1, errno }
	return &n
}

// A pidfd_open failing with EMFILE (hull out of fds) does not mean the
// init is gone: Signal must still deliver the signal (kill(2) after the
// start-time check), not answer "not running".
func TestSignalWithoutPidfd(t *testing.T) {
	r, _, done := sleeperContainer(t)
	failPidfd(t, unix.EMFILE)
	c, err := r.Load("c1", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := c.Status(); s != Running {
		t.Fatalf("status %v, want running", s)
	}
	if err := c.Signal(unix.SIGTERM, false); err != nil {
		t.Fatalf("Signal(SIGTERM) with pidfd_open failing EMFILE: %v", err)
	}
	select {
	case <-done.c:
		err := done.err
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Errorf("sleeper ended with %v, want killed by SIGTERM", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("sleeper still running 5s after Signal(SIGTERM) returned nil")
	}
}

// ESRCH from pidfd_open is "gone": not running, nothing signalled.
func TestSignalPidfdESRCH(t *testing.T) {
	r, _, done := sleeperContainer(t)
	failPidfd(t, unix.ESRCH)
	c, err := r.Load("c1", true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Signal(unix.SIGTERM, false); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Signal with pidfd_open failing ESRCH: %v, want ErrNotRunning", err)
	}
	select {
	case <-done.c:
		t.Errorf("sleeper ended (%v) although pidfd_open said it was gone", done.err)
	case <-time.After(100 * time.Millisecond):
	}
}

// Wait without a shim, when pidfd_open fails with EMFILE, must wait for
// the init to exit without asking pidfd_open again in a busy loop, and
// return once it has.
func TestWaitWithoutPidfd(t *testing.T) {
	r, cmd, done := sleeperContainer(t)
	calls := failPidfd(t, unix.EMFILE)
	res := make(chan error, 1)
	go func() { _, err := r.Wait("c1"); res <- err }()
	select {
	case err := <-res:
		t.Fatalf("Wait returned (%v) while the init runs", err)
	case <-time.After(300 * time.Millisecond):
	}
	if n := calls.Load(); n > 3 {
		t.Errorf("pidfd_open tried %d times in 300 ms: Wait spins instead of waiting", n)
	}
	cmd.Process.Kill()
	<-done.c
	select {
	case err := <-res:
		if !errors.Is(err, ErrExitUnknown) {
			t.Errorf("Wait after the init exited: %v, want ErrExitUnknown", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("Wait still waiting 5s after the init exited")
	}
}
