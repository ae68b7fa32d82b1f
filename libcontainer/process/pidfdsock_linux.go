package process

import (
	"fmt"
	"os"

	"github.com/hullrt/hull/internal/unixsock"
	"golang.org/x/sys/unix"
)

// PidfdSocket is the caller's --pidfd-socket: a unix stream socket that
// receives a pidfd of the container's init (create, run) or of the exec'd
// process (exec), as runc sends it: one message whose payload is the kind
// of process ("standard" for an init, "setns" for an exec, runc's init
// types) with the pidfd in SCM_RIGHTS. runc's init sends it from inside
// the container before the user's process runs; hull opens the pidfd from
// the parent while the process still waits for its config (its pid cannot
// have been reused) and sends it once the process is set up, before
// create/exec returns.
type PidfdSocket struct {
	sock  *os.File
	kind  string
	pidfd int
}

const (
	PidfdKindInit = "standard"
	PidfdKindExec = "setns"
)

// DialPidfdSocket connects to path ("" means no --pidfd-socket: nil).
// Connecting first, before anything is made, means a bad path leaves
// nothing behind.
func DialPidfdSocket(path, kind string) (*PidfdSocket, error) {
	if path == "" {
		return nil, nil
	}
	f, err := unixsock.Dial(path)
	if err != nil {
		return nil, fmt.Errorf("--pidfd-socket: %w", err)
	}
	return &PidfdSocket{sock: f, kind: kind, pidfd: -1}, nil
}

// open takes the pidfd of pid. Call it while pid is known to be the
// process (it is a child that waits for us).
func (s *PidfdSocket) Open(pid int) error {
	if s == nil {
		return nil
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: pidfd_open %d: %w", pid, err)
	}
	if s.pidfd >= 0 {
		unix.Close(s.pidfd)
	}
	s.pidfd = fd
	return nil
}

// send sends the pidfd taken by open.
func (s *PidfdSocket) Send() error {
	if s == nil {
		return nil
	}
	if s.pidfd < 0 {
		return fmt.Errorf("--pidfd-socket %s: no pidfd to send", s.sock.Name())
	}
	for {
		err := unix.Sendmsg(int(s.sock.Fd()), []byte(s.kind), unix.UnixRights(s.pidfd), nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("--pidfd-socket %s: send pidfd: %w", s.sock.Name(), err)
		}
		return nil
	}
}

// Close closes the connection and our pidfd.
func (s *PidfdSocket) Close() {
	if s == nil {
		return
	}
	if s.pidfd >= 0 {
		unix.Close(s.pidfd)
		s.pidfd = -1
	}
	s.sock.Close()
}
