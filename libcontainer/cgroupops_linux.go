package libcontainer

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func (c *Container) needCgroup() (cgroups.Manager, error) {
	cg := c.cgroup()
	if cg == nil || !cg.Exists() {
		return nil, fmt.Errorf("container %s has no cgroup", c.ID())
	}
	return cg, nil
}

// Pause freezes every process of the container.
func (c *Container) Pause() error {
	if err := c.Status().check(c.ID(), OpPause); err != nil {
		return err
	}
	cg, err := c.needCgroup()
	if err != nil {
		return err
	}
	if err := cg.Freeze(); err != nil {
		return fmt.Errorf("container %s: pause: %w", c.ID(), err)
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if s := c.Status(); s != Paused {
		return fmt.Errorf("container %s is not paused (it is %s)", c.ID(), s)
	}
	cg, err := c.needCgroup()
	if err != nil {
		return err
	}
	if err := cg.Thaw(); err != nil {
		return fmt.Errorf("container %s: resume: %w", c.ID(), err)
	}
	return nil
}

// Processes lists the host pids in the container's cgroup, as runc
// does also for a stopped container (whose cgroup may still hold
// processes, or none: then the list is nil).
func (c *Container) Processes() ([]int, error) {
	if cg := c.cgroup(); cg != nil && cg.Exists() {
		pids, err := cg.Pids()
		if len(pids) == 0 {
			pids = nil
		}
		return pids, err
	}
	if c.Status() == Stopped {
		return nil, nil
	}
	return c.processes(), nil
}

// Update applies new limits to a running or paused container, runc's
// way: u is laid over the container's linux.resources (see mergeUpdate)
// and the result is written. The device rules are left as they are, as
// runc's update leaves them. On error the existing limits are unchanged.
func (c *Container) Update(u *specs.LinuxResources) error {
	s := c.Status()
	if s == Stopped || s == Creating {
		return fmt.Errorf("container %s: %w", c.ID(), ErrNotRunning)
	}
	cg, err := c.needCgroup()
	if err != nil {
		return err
	}
	spec := *c.st.Config
	lin := *spec.Linux
	merged := mergeUpdate(lin.Resources, u)
	apply := merged
	apply.Devices = nil
	if err := cg.Set(&apply); err != nil {
		return fmt.Errorf("container %s: update: %w", c.ID(), err)
	}
	lin.Resources = &merged
	spec.Linux = &lin
	c.st.Config = &spec
	return c.h.Save(c.st)
}

// Event is one line of `events`, runc's shape.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Events writes the container's events to w as JSON lines: with statsOnly
// one stats event; otherwise a stats event every interval and an oom event
// whenever the kernel OOM-kills a process of the container, until the
// container stops.
func (c *Container) Events(w io.Writer, statsOnly bool, interval time.Duration) error {
	cg, err := c.needCgroup()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	stats := func() error {
		st, err := cg.Stats()
		if err != nil {
			return fmt.Errorf("container %s: stats: %w", c.ID(), err)
		}
		return enc.Encode(Event{Type: "stats", ID: c.ID(), Data: st})
	}
	if statsOnly {
		return stats()
	}
	ooms, _ := cg.OOMKillCount()
	// OOM kills are looked for often, statistics every interval.
	const tick = 100 * time.Millisecond
	next := time.Now()
	for proc.Alive(c.st.Pid, c.st.StartTime) || cg.Exists() && len(c.mustPids(cg)) > 0 {
		if n, err := cg.OOMKillCount(); err == nil && n > ooms {
			ooms = n
			if err := enc.Encode(Event{Type: "oom", ID: c.ID()}); err != nil {
				return err
			}
		}
		if !time.Now().Before(next) {
			if err := stats(); err != nil {
				return err
			}
			next = time.Now().Add(interval)
		}
		time.Sleep(tick)
	}
	// A last look: the OOM kill may be what ended the container.
	if n, err := cg.OOMKillCount(); err == nil && n > ooms {
		return enc.Encode(Event{Type: "oom", ID: c.ID()})
	}
	return nil
}

func (c *Container) mustPids(cg cgroups.Manager) []int {
	p, _ := cg.Pids()
	return p
}

// killShared is SIGKILL for a container without a pid namespace of its
// own, as runc does it: its init is no pid 1 whose death takes the rest
// along, so every process of its cgroup is killed, also once the init is
// gone. It reports whether it handled the signal.
func (c *Container) killShared(sig unix.Signal, s Status) (bool, error) {
	if sig != unix.SIGKILL || s == Creating || c.st.Config == nil || c.st.Config.Linux == nil || config.HasNewNS(c.st.Config, specs.PIDNamespace) {
		return false, nil
	}
	cg := c.cgroup()
	if cg == nil || !cg.Exists() {
		if s == Stopped {
			return true, fmt.Errorf("container %s: %w", c.ID(), ErrNotRunning)
		}
		return false, nil // no cgroup to go through: the init alone
	}
	if err := cg.Kill(unix.SIGKILL); err != nil {
		return true, fmt.Errorf("container %s: unable to kill all processes: %w", c.ID(), err)
	}
	return true, nil
}
