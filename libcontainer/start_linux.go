package libcontainer

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/hooks"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Start lets a created container's init exec the user's process. It returns
// once the exec has happened, or with the error that stopped it.
func (c *Container) Start() error {
	if err := c.Status().check(c.ID(), OpStart); err != nil {
		return err
	}
	// The poststart hooks are read first: a config that does not decode
	// stops start before the container's process runs.
	poststart, err := c.st.Config.Hooks()
	if err != nil {
		return fmt.Errorf("container %s: %w", c.ID(), err)
	}
	fifo := filepath.Join(c.rt.store.Dir(c.ID()), store.FifoName)
	// Non-blocking, so a dead init cannot leave us waiting forever.
	fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("container %s: open %s: %w", c.ID(), fifo, err)
	}
	defer unix.Close(fd)
	faults.Point("start-fifo-open")
	// The init opens the fifo for writing, then either execs (its end is
	// close-on-exec: we read EOF) or writes why it could not.
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 200)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("container %s: poll %s: %w", c.ID(), fifo, err)
		}
		if n == 0 {
			if !proc.Alive(c.st.Pid, c.st.StartTime) {
				return fmt.Errorf("container %s: init exited before start", c.ID())
			}
			continue
		}
		r, err := unix.Read(fd, buf)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("container %s: read %s: %w", c.ID(), fifo, err)
		}
		if r == 0 {
			break
		}
		out.Write(buf[:r])
	}
	os.Remove(fifo)
	// The init writes FifoExecMark right before its execve, or why it
	// failed. Nothing at all: it died before (a signal, a crash), and the
	// container's process never ran.
	switch {
	case out.Len() == 0:
		c.waitInitGone()
		return fmt.Errorf("container %s: init exited before its process was executed", c.ID())
	case out.Len() == 1 && out.Bytes()[0] == store.FifoExecMark:
	default:
		c.waitInitGone()
		return fmt.Errorf("container %s: %s", c.ID(), out.String())
	}
	// runc: a failing poststart hook fails start and ends the container.
	if len(hooks.Of(poststart, hooks.Poststart)) > 0 {
		if err := hooks.Run(poststart, hooks.Poststart, c.hookState(Running)); err != nil {
			proc.KillAndWait(c.st.Pid, c.st.StartTime)
			return fmt.Errorf("container %s: %w", c.ID(), err)
		}
	}
	slog.Debug("container started: its process runs", "id", c.ID(), "pid", c.st.Pid)
	return nil
}

// waitInitGone waits, for a while, for an init that failed its start
// to be gone: it wrote why (or nothing) and is exiting, but an exiting
// process's files (its end of the fifo) close before the kernel tears
// down its namespaces and reports the exit, and `state` right after
// start's error must say stopped. Under load in CI it once said running
// (TestStartPlanFailure).
func (c *Container) waitInitGone() {
	fd, err := proc.OpenPidfd(c.st.Pid, c.st.StartTime)
	if err != nil {
		return // gone already, or no pidfd: state reads /proc anyway
	}
	defer unix.Close(fd)
	proc.WaitPidfd(fd, 5*time.Second)
}

func exitCode(ws unix.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return 255
}

// hookState is the state a hook reads; of the config it needs only the
// annotations.
func (c *Container) hookState(s Status) *specs.State {
	ann, err := c.st.Config.Annotations()
	if err != nil {
		slog.Warn("hook state: no annotations", "id", c.ID(), "error", err)
	}
	return hooks.State(c.ID(), specs.ContainerState(s), c.st.Pid, c.st.Bundle, &specs.Spec{Annotations: ann})
}
