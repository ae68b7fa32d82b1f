package libcontainer

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/hooks"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/store"
	"golang.org/x/sys/unix"
)

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
