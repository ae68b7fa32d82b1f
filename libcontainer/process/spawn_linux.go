package process

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// spawned is the first process of a bootstrap, started with
// syscall.StartProcess: what exec.Cmd gave Start (a pid, kill, wait),
// without what os.StartProcess costs first.
//
// Why not exec.Cmd: the first os.StartProcess of a process checks that
// pidfds work by cloning and reaping a throwaway child (os.checkPidfd):
// 0.4-0.5 ms of every create, run and exec here (medians of 30
// os.StartProcess against syscall.StartProcess of /bin/true, each the
// first of its process). A parent signalling its own child needs no
// pidfd: the pid cannot be reused before the parent reaps it, and Kill
// and Wait below take the same lock, Wait reaping only once the child
// has exited (waitid WNOWAIT). Nothing else reaps it meanwhile: run's
// reaper (reapUntil) starts after the bootstrap is over.
type spawned struct {
	Pid int

	mu     sync.Mutex
	reaped bool
	status unix.WaitStatus
}

// spawn starts path with argv and env, stdio as fds 0-2 (/dev/null for a
// nil one, as exec.Cmd does) and extra as fds 3 on.
func spawn(path string, argv, env []string, stdio [3]*os.File, extra []*os.File, attr *syscall.SysProcAttr) (*spawned, error) {
	files := make([]uintptr, 0, 3+len(extra))
	var null *os.File
	for _, f := range stdio {
		if f == nil {
			if null == nil {
				var err error
				if null, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return nil, err
				}
				defer null.Close()
			}
			f = null
		}
		files = append(files, f.Fd())
	}
	for _, f := range extra {
		files = append(files, f.Fd())
	}
	pid, _, err := syscall.StartProcess(path, argv, &syscall.ProcAttr{Env: env, Files: files, Sys: attr})
	// The fds must stay open until the child has them.
	runtime.KeepAlive(stdio)
	runtime.KeepAlive(extra)
	if err != nil {
		return nil, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return &spawned{Pid: pid}, nil
}

// Kill sends SIGKILL, unless the process was already reaped.
func (s *spawned) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.reaped {
		unix.Kill(s.Pid, unix.SIGKILL)
	}
}

// Wait waits for the process to exit, reaps it, and says how it ended:
// nil for exit status 0. A second Wait returns the same.
func (s *spawned) Wait() error {
	s.mu.Lock()
	reaped := s.reaped
	s.mu.Unlock()
	if !reaped {
		// Until it has exited, the pid stays ours whatever Kill does.
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, s.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				if err == unix.ECHILD {
					// Reaped behind our back: its pid may be
					// anyone's now, Kill must not use it.
					s.mu.Lock()
					s.reaped = true
					s.mu.Unlock()
				}
				return fmt.Errorf("wait for %d: %w", s.Pid, err)
			}
			break
		}
		s.mu.Lock()
		if !s.reaped {
			var ws unix.WaitStatus
			for {
				_, err := unix.Wait4(s.Pid, &ws, 0, nil)
				if err != unix.EINTR {
					if err != nil {
						s.mu.Unlock()
						return fmt.Errorf("wait for %d: %w", s.Pid, err)
					}
					break
				}
			}
			s.reaped, s.status = true, ws
		}
		s.mu.Unlock()
	}
	return waitErr(s.status)
}

// waitErr words a wait status as exec.ExitError does.
func waitErr(ws unix.WaitStatus) error {
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	case ws.Exited():
		return fmt.Errorf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Errorf("signal: %v", ws.Signal())
	}
	return fmt.Errorf("wait status %#x", uint32(ws))
}
