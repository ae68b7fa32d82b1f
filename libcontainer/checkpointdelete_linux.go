package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/store"
	"golang.org/x/sys/unix"
)

// criuRecord is in the state directory while a checkpoint's criu dumps
// the container: criu's pid and start time. A checkpoint holds the
// container's lock until criu is done, and a --lazy-pages (or page
// server) dump is done only when its restore side has fetched every page:
// delete ends that criu rather than wait for it.
const criuRecord = "criu.json"

type criuRun struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// recordCriu writes criuRecord for criu's pid (Checkpoint, under the lock).
func (c *Container) recordCriu(pid int) error {
	if c.h == nil {
		return nil
	}
	_, start, err := proc.Stat(pid)
	if err != nil {
		return fmt.Errorf("container %s: criu (pid %d): %w", c.ID(), pid, err)
	}
	js, err := json.Marshal(criuRun{Pid: pid, Start: start})
	if err != nil {
		return err
	}
	if err := store.WriteFileAt(c.h.DirFd(), criuRecord, js, 0o600); err != nil {
		return fmt.Errorf("container %s: %w", c.ID(), err)
	}
	return nil
}

func (c *Container) forgetCriu() {
	if c.h != nil {
		unix.Unlinkat(c.h.DirFd(), criuRecord, 0)
	}
}

// checkpointCriu is the criu that a checkpoint of id runs now, if any.
func (r *Runtime) checkpointCriu(id string) (criuRun, bool) {
	var run criuRun
	b, err := os.ReadFile(filepath.Join(r.store.Dir(id), criuRecord))
	if err != nil || json.Unmarshal(b, &run) != nil {
		return run, false
	}
	return run, proc.Alive(run.Pid, run.Start)
}

// endCheckpoint kills the criu of a checkpoint of id (if one runs) and
// waits for it to be gone. Once criu is dead its tasks are no longer
// ptrace-stopped, so SIGKILL ends them; the checkpoint, whose criu ended
// without an answer, fails and releases the lock.
func (r *Runtime) endCheckpoint(id string) (bool, error) {
	run, ok := r.checkpointCriu(id)
	if !ok {
		return false, nil
	}
	slog.Debug("delete --force ends the checkpoint's criu", "id", id, "criu", run.Pid)
	if err := proc.KillAndWait(run.Pid, run.Start); err != nil {
		return true, fmt.Errorf("container %s: end the checkpoint's criu: %w", id, err)
	}
	return true, nil
}

// checkpointGrace is how long delete --force waits for a checkpoint to
// release the lock once its criu is dead.
const checkpointGrace = 10 * time.Second

// lockForDelete takes the lock of id for delete. While a checkpoint holds
// it with criu running, delete without --force fails as for any running
// container, and delete --force kills that criu, then waits (bounded) for
// the checkpoint to let go. Any other holder is waited for, as by Lock.
func (r *Runtime) lockForDelete(id string, force bool) (*store.Handle, error) {
	var ended time.Time
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		h, err := r.store.TryLock(id)
		if !errors.Is(err, store.ErrBusy) {
			return h, err
		}
		if !ended.IsZero() {
			if time.Since(ended) > checkpointGrace {
				return nil, fmt.Errorf("container %s: the checkpoint still holds its lock %v after its criu was killed", id, checkpointGrace)
			}
		} else if _, ok := r.checkpointCriu(id); ok {
			if !force {
				s := Running
				if c, err := r.Load(id, false); err == nil {
					s = c.Status()
				}
				return nil, fmt.Errorf("cannot delete container %s that is not stopped: container is %s", id, s)
			}
			killed, err := r.endCheckpoint(id)
			if err != nil {
				return nil, err
			}
			if killed {
				ended = time.Now()
			}
		}
		time.Sleep(delay)
	}
}

// checkpointWait is how long a command waits for the lock that a
// checkpoint's criu keeps (a --lazy-pages dump until its restore side has
// every page) before it fails.
const checkpointWait = 10 * time.Second

// lockCommand takes the lock of id for a command (kill, pause, exec...):
// it waits for another holder as Lock does, but at most checkpointWait
// while a checkpoint's criu runs, then fails naming that criu.
func (r *Runtime) lockCommand(id string) (*store.Handle, error) {
	var since time.Time
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		h, err := r.store.TryLock(id)
		if !errors.Is(err, store.ErrBusy) {
			return h, err
		}
		if run, ok := r.checkpointCriu(id); !ok {
			since = time.Time{}
		} else if since.IsZero() {
			since = time.Now()
		} else if time.Since(since) > checkpointWait {
			return nil, fmt.Errorf("container %s is being checkpointed: its criu (pid %d) has held it for %v (a --lazy-pages checkpoint waits for its restore side; delete --force ends it)", id, run.Pid, checkpointWait)
		}
		time.Sleep(delay)
	}
}
