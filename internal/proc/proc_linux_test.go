package proc

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sleeper is a child that would outlive the test.
type sleeper struct {
	pid   int
	start uint64        // its start time
	done  chan struct{} // closed when it has been reaped, with err
	err   error
}

// startSleeper starts a sleeper; the cleanup kills it if it is still there.
func startSleeper(t *testing.T) *sleeper {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep(1): %v", err)
	}
	c := &sleeper{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
	})
	var err error
	if _, c.start, err = Stat(c.pid); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitKilled asserts that the child ends by SIGKILL within a few seconds.
func (c *sleeper) waitKilled(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
		var ee *exec.ExitError
		if !errors.As(c.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("child ended with %v, want killed by SIGKILL", c.err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("child still running 5s after killAndWait returned")
	}
}

// When pidfd_open fails for another reason than ESRCH (here EMFILE: the
// process is out of fds), the process is not gone: killAndWait must still
// kill it (or say it could not), never report success and leave it.
func TestKillAndWaitWithoutPidfd(t *testing.T) {
	old := pidfdOpen
	t.Cleanup(func() { pidfdOpen = old })
	pidfdOpen = func(int, int) (int, error) { return -1, unix.EMFILE }

	c := startSleeper(t)
	if err := KillAndWait(c.pid, c.start); err != nil {
		t.Fatalf("killAndWait with pidfd_open failing EMFILE: %v", err)
	}
	if Alive(c.pid, c.start) {
		t.Errorf("pid %d still alive after killAndWait returned nil", c.pid)
	}
	c.waitKilled(t)
}

// ESRCH is "already gone": nothing is killed, no error.
func TestKillAndWaitESRCH(t *testing.T) {
	old := pidfdOpen
	t.Cleanup(func() { pidfdOpen = old })
	pidfdOpen = func(int, int) (int, error) { return -1, unix.ESRCH }
	c := startSleeper(t)
	if err := KillAndWait(c.pid, c.start); err != nil {
		t.Fatalf("killAndWait with pidfd_open failing ESRCH: %v", err)
	}
	if !Alive(c.pid, c.start) {
		t.Errorf("pid %d was killed although pidfd_open said it was gone", c.pid)
	}
}

// A pid whose start time is not the recorded one is another process (the
// pid was reused): it is not killed, with or without a pidfd.
func TestKillAndWaitReusedPid(t *testing.T) {
	for _, name := range []string{"pidfd", "no pidfd"} {
		t.Run(name, func(t *testing.T) {
			old := pidfdOpen
			t.Cleanup(func() { pidfdOpen = old })
			if name == "no pidfd" {
				pidfdOpen = func(int, int) (int, error) { return -1, unix.EMFILE }
			}
			c := startSleeper(t)
			if err := KillAndWait(c.pid, c.start+1); err != nil {
				t.Fatalf("killAndWait of a reused pid: %v", err)
			}
			if !Alive(c.pid, c.start) {
				t.Errorf("pid %d was killed although its start time is not the recorded one", c.pid)
			}
		})
	}
}

// With a pidfd, the process is killed and waited for.
func TestKillAndWait(t *testing.T) {
	c := startSleeper(t)
	if err := KillAndWait(c.pid, c.start); err != nil {
		t.Fatalf("killAndWait: %v", err)
	}
	c.waitKilled(t)
}
