package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/store"
	"golang.org/x/sys/unix"
)

// ErrExitUnknown is returned by Wait when the init is gone and nobody
// recorded how it ended (it was not started by hull-shim, or the shim was
// killed).
var ErrExitUnknown = errors.New("exit status unknown")

// Wait blocks until the init of container id has exited and returns the
// recorded exit status. It works from any process, not only the init's
// parent:
//
//   - a recorded exit in state.json is returned at once;
//   - while a hull-shim watches the container (it holds an exclusive flock
//     on ShimLockFile until the exit is recorded), Wait sleeps on a shared
//     flock of that file, then reads the record;
//   - without a shim, it waits for the init through a pidfd and then fails
//     with ErrExitUnknown, since no one saw the status.
func (r *Runtime) Wait(id string) (*store.ExitStatus, error) {
	if err := store.ValidateID(id); err != nil {
		return nil, err
	}
	seen := false
	for {
		st, err := r.store.Load(id)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				if seen {
					return nil, fmt.Errorf("container %s was deleted while waiting: %w", id, ErrExitUnknown)
				}
				return nil, notExist(id)
			}
			return nil, err
		}
		seen = true
		if st.Exit != nil {
			return st.Exit, nil
		}
		if waited, err := r.waitShim(id); err != nil {
			return nil, err
		} else if waited {
			continue // the shim is gone: its record, if any, is there now
		}
		if st.Phase == store.PhaseCreating && st.Pid == 0 {
			if !r.store.Busy(id) {
				return nil, fmt.Errorf("container %s: its create did not finish: %w", id, ErrExitUnknown)
			}
			time.Sleep(50 * time.Millisecond) // create is cloning the init
			continue
		}
		if proc.Alive(st.Pid, st.StartTime) {
			fd, err := proc.OpenPidfd(st.Pid, st.StartTime)
			if err == nil {
				waitPidfdForever(fd)
				unix.Close(fd)
			}
			continue // a shim may have recorded the exit meanwhile
		}
		// The init is gone and no shim holds the lock. Read the record
		// once more: a shim records before it lets go of the lock.
		// (It may be deleted meanwhile: st stays the first read.)
		pid := st.Pid
		if again, err := r.store.Load(id); err == nil && again.Exit != nil {
			return again.Exit, nil
		}
		return nil, fmt.Errorf("container %s: %w: its init %d has exited and no hull-shim recorded how", id, ErrExitUnknown, pid)
	}
}

// waitShim sleeps until the hull-shim of container id (if one holds its
// lock file) lets go of it. It reports whether there was a shim.
func (r *Runtime) waitShim(id string) (bool, error) {
	path := filepath.Join(r.store.Dir(id), store.ShimLockFile)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, nil // no shim ever watched it (or the dir is gone)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB); err == nil {
		return false, nil // a shim made it but is gone
	} else if err != unix.EWOULDBLOCK {
		return false, fmt.Errorf("container %s: lock %s: %w", id, path, err)
	}
	for {
		err := unix.Flock(fd, unix.LOCK_SH)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("container %s: wait for the shim: lock %s: %w", id, path, err)
		}
		return true, nil
	}
}

// waitPidfdForever waits until the process behind fd has exited.
func waitPidfdForever(fd int) {
	for {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
		if err != unix.EINTR {
			return
		}
	}
}
