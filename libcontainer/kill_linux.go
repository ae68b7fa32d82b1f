package libcontainer

import (
	"fmt"
	"os"
	"strconv"

	"github.com/hullrt/hull/internal/proc"
	"golang.org/x/sys/unix"
)

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
