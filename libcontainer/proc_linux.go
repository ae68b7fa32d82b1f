package libcontainer

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// procStat returns the state letter and start time (clock ticks after boot)
// of pid from /proc/<pid>/stat.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// comm may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := bytes.Fields(b[i+2:])
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	return fields[0][0], start, err
}

// alive reports whether pid is still the process that started at start
// and has not exited (a zombie has exited).
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, s, err := procStat(pid)
	if err != nil {
		return false
	}
	return s == start && st != 'Z' && st != 'X'
}

// pidfdOpen is pidfd_open(2); a variable so that tests can make it fail.
var pidfdOpen = unix.PidfdOpen

// openPidfd opens a pidfd for pid and then checks that pid is still the
// process started at start: a signal sent through the pidfd can no longer
// reach a process that reused the pid.
func openPidfd(pid int, start uint64) (int, error) {
	fd, err := pidfdOpen(pid, 0)
	if err != nil {
		return -1, err
	}
	if !alive(pid, start) {
		unix.Close(fd)
		return -1, unix.ESRCH
	}
	return fd, nil
}

// waitPidfd waits until the process behind fd has exited, or timeout.
func waitPidfd(fd int, timeout time.Duration) bool {
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

// killAndWait SIGKILLs pid (if it is still the process started at start)
// and waits for it to be gone.
func killAndWait(pid int, start uint64) error {
	fd, err := openPidfd(pid, start)
	if err == unix.ESRCH {
		return nil // already gone
	}
	if err != nil {
		// No pidfd (EMFILE, ENFILE, ENOMEM, ENOSYS...): kill(2), checking
		// the start time first, and poll /proc until it is gone.
		if !alive(pid, start) {
			return nil
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
			return fmt.Errorf("kill pid %d: %w", pid, err)
		}
		for deadline := time.Now().Add(10 * time.Second); alive(pid, start); time.Sleep(10 * time.Millisecond) {
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
	if !waitPidfd(fd, 10*time.Second) {
		return fmt.Errorf("pid %d did not exit 10s after SIGKILL", pid)
	}
	return nil
}
