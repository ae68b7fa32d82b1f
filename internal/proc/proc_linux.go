package proc

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/hullrt/hull/internal/sysfile"
	"golang.org/x/sys/unix"
)

// Stat returns the state letter and start time (clock ticks after boot)
// of pid from /proc/<pid>/stat.
func Stat(pid int) (state byte, start uint64, err error) {
	state, start, _, err = stat(pid)
	return state, start, err
}

// StatParent returns the start time and the parent of pid.
func StatParent(pid int) (start uint64, ppid int, err error) {
	_, start, ppid, err = stat(pid)
	return start, ppid, err
}

func stat(pid int) (state byte, start uint64, ppid int, err error) {
	b, err := sysfile.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	// comm may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := bytes.Fields(b[i+2:])
	// fields[0] is field 3 (state), fields[1] field 4 (ppid); start time
	// is field 22.
	if len(fields) < 20 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ppid, _ = strconv.Atoi(string(fields[1]))
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	return fields[0][0], start, ppid, err
}

// Alive reports whether pid is still the process that started at start
// and has not exited (a zombie has exited).
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, s, err := Stat(pid)
	if err != nil {
		return false
	}
	return s == start && st != 'Z' && st != 'X'
}

// pidfdOpen is pidfd_open(2); a variable so that tests can make it fail.
var pidfdOpen = unix.PidfdOpen

// OpenPidfd opens a pidfd for pid and then checks that pid is still the
// process started at start: a signal sent through the pidfd can no longer
// reach a process that reused the pid.
func OpenPidfd(pid int, start uint64) (int, error) {
	fd, err := pidfdOpen(pid, 0)
	if err != nil {
		return -1, err
	}
	if !Alive(pid, start) {
		unix.Close(fd)
		return -1, unix.ESRCH
	}
	return fd, nil
}

// WaitPidfd waits until the process behind fd has exited, or timeout.
func WaitPidfd(fd int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return false
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// KillAndWait SIGKILLs pid (if it is still the process started at start)
// and waits for it to be gone.
func KillAndWait(pid int, start uint64) error {
	fd, err := OpenPidfd(pid, start)
	if err == unix.ESRCH {
		return nil // already gone
	}
	if err != nil {
		// No pidfd (EMFILE, ENFILE, ENOMEM, ENOSYS...): kill(2), checking
		// the start time first, and poll /proc until it is gone.
		if !Alive(pid, start) {
			return nil
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
			return fmt.Errorf("kill pid %d: %w", pid, err)
		}
		for deadline := time.Now().Add(10 * time.Second); Alive(pid, start); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				return fmt.Errorf("pid %d did not exit 10s after SIGKILL (no pidfd: %w)", pid, err)
			}
		}
		return nil
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
		return fmt.Errorf("kill pid %d: %w", pid, err)
	}
	if !WaitPidfd(fd, 10*time.Second) {
		return fmt.Errorf("pid %d did not exit 10s after SIGKILL", pid)
	}
	return nil
}
