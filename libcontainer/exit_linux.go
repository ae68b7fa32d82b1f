package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hullrt/hull/libcontainer/store"
	"golang.org/x/sys/unix"
)

// ShimLockFile is the file hull-shim keeps in a container's state directory
// for as long as it watches the container: it holds an exclusive flock on it
// and releases it only once the init's exit is recorded in state.json (or
// the shim died). `hull wait` takes a shared flock on it to sleep until then.
// cmd/hull-shim (which must not link this package: it is small and has no
// cgo) spells the same name; keep both in step.
const ShimLockFile = "shim.lock"

// ExitStatusOf turns a wait status into the record hull keeps: the exit
// code, or 128+signal for a process killed by a signal.
func ExitStatusOf(ws unix.WaitStatus, oomKilled bool, at time.Time) store.ExitStatus {
	return store.ExitStatus{Code: exitCode(ws), OOMKill: oomKilled, ExitedAt: at.UTC()}
}

// Exit returns how the container's init ended, if that was recorded and the
// container is stopped; nil otherwise.
func (c *Container) Exit() *store.ExitStatus {
	if c.st.Exit == nil || c.Status() != Stopped {
		return nil
	}
	e := *c.st.Exit
	return &e
}

// RecordExit stores how the init of container id ended in its state.json,
// under the container's lock. pid and start name the init that was waited
// for: a record for another process (the container was deleted and its id
// reused) is refused. This is what hull-shim does from its own binary; it
// is here for in-process callers (a foreground run that keeps the
// container).
func (r *Runtime) RecordExit(id string, pid int, start uint64, ex store.ExitStatus) error {
	h, err := r.store.Lock(id)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return notExist(id)
		}
		return err
	}
	defer h.Close()
	st, err := r.store.Load(id)
	if err != nil {
		return err
	}
	if st.Pid != pid || st.StartTime != start {
		return fmt.Errorf("container %s: its state names init %d, not %d: exit not recorded", id, st.Pid, pid)
	}
	st.Exit = &ex
	return h.Save(st)
}
