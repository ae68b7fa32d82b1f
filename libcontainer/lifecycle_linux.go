package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

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
		return fmt.Errorf("container %s: init exited before its process was executed", c.ID())
	case out.Len() == 1 && out.Bytes()[0] == store.FifoExecMark:
	default:
		return fmt.Errorf("container %s: %s", c.ID(), out.String())
	}
	// runc: a failing poststart hook fails start and ends the container.
	if err := hooks.Run(c.st.Config.Hooks, hooks.Poststart, c.hookState(Running)); err != nil {
		proc.KillAndWait(c.st.Pid, c.st.StartTime)
		return fmt.Errorf("container %s: %w", c.ID(), err)
	}
	slog.Debug("container started: its process runs", "id", c.ID(), "pid", c.st.Pid)
	return nil
}

// Signal sends sig to the container's init, or with all to every process
// of the container.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	s := c.Status()
	if done, err := c.killShared(sig, s); done {
		return err
	}
	if all && s != Creating {
		// runc: --all signals whatever is in the container's cgroup, also
		// once the init is gone (containerd sends kill --all 9 after the
		// init exits, to end the processes it left in a shared pid
		// namespace), and is no error when nothing is left.
		if cg := c.cgroup(); cg != nil && cg.Exists() {
			if err := cg.Kill(sig); err != nil {
				return fmt.Errorf("container %s: signal all: %w", c.ID(), err)
			}
			if sig == unix.SIGKILL && s == Paused {
				cg.Thaw() // on v1 a frozen process dies only once thawed
			}
			return nil
		}
		if s == Stopped {
			return nil
		}
	}
	if s == Stopped || s == Creating {
		return fmt.Errorf("container %s: %w", c.ID(), ErrNotRunning)
	}
	fd, err := proc.OpenPidfd(c.st.Pid, c.st.StartTime)
	if err != nil {
		return fmt.Errorf("container %s: %w", c.ID(), ErrNotRunning)
	}
	defer unix.Close(fd)
	if all {
		// No cgroup of its own: the processes of its pid namespace.
		for _, pid := range c.processes() {
			if pid != c.st.Pid {
				unix.Kill(pid, sig)
			}
		}
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if err == unix.ESRCH {
			return fmt.Errorf("container %s: %w", c.ID(), ErrNoProcess)
		}
		return fmt.Errorf("container %s: signal %d: %w", c.ID(), sig, err)
	}
	if sig == unix.SIGKILL && s == Paused {
		// On v1 a frozen process dies only once thawed.
		if cg := c.cgroup(); cg != nil {
			cg.Thaw()
		}
	}
	return nil
}

// processes lists the host pids in the container's pid namespace (only the
// init if the container shares the host's).
func (c *Container) processes() []int {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.st.Pid))
	self, _ := os.Readlink("/proc/self/ns/pid")
	if err != nil || want == self {
		return []int{c.st.Pid}
	}
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && ns == want {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Destroy removes the container. A running or paused one is refused unless
// force; a created one is killed (runc does the same).
func (c *Container) Destroy(force bool) error {
	s := c.Status()
	if (s == Running || s == Paused) && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: container is %s", c.ID(), s)
	}
	if cg := c.cgroup(); cg != nil && cg.Exists() && s == Paused {
		// A frozen process takes SIGKILL only once thawed (v1).
		cg.Kill(unix.SIGKILL)
		cg.Thaw()
	}
	if s != Stopped || c.st.Pid > 0 {
		if err := proc.KillAndWait(c.st.Pid, c.st.StartTime); err != nil {
			return fmt.Errorf("container %s: %w", c.ID(), err)
		}
	}
	if c.h == nil {
		return errors.New("destroy needs the container's lock")
	}
	faults.Point("mid-delete")
	if cg := c.cgroup(); cg != nil {
		// Kills what is left in it (processes of exec, forks of the
		// init in a shared pid namespace), then removes it.
		if err := cg.Destroy(); err != nil {
			return fmt.Errorf("container %s: remove cgroup: %w", c.ID(), err)
		}
	}
	if err := c.h.Remove(); err != nil {
		return err
	}
	if c.st.Config != nil && c.st.Phase != store.PhaseCreating {
		hooks.RunWarn(c.st.Config.Hooks, hooks.Poststop, c.hookState(Stopped))
	}
	slog.Debug("container deleted", "id", c.ID(), "forced", force)
	return nil
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

func (c *Container) hookState(s Status) *specs.State {
	return hooks.State(c.ID(), specs.ContainerState(s), c.st.Pid, c.st.Bundle, c.st.Config)
}
