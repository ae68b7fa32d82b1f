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
// the container before it reports ready, so the receiver holds the pidfd
// while the process is still being set up; hull opens it from the parent
// while the process waits for its config (its pid cannot have been
// reused) and sends it there and then. Sent only just before create or
// exec returns, it left a receiver like runc's test helper pidfd-kill
// (which handles SIGTERM only once it holds the pidfd) a few milliseconds
// less than runc does before a caller's SIGTERM can come.
type PidfdSocket struct {
	sock *os.File
	kind string
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
	return &PidfdSocket{sock: f, kind: kind}, nil
}

// Send sends a pidfd of pid. Call it while pid is known to be the
// process (a child that waits for us), at most once.
func (s *PidfdSocket) Send(pid int) error {
	if s == nil {
		return nil
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	for {
		err := unix.Sendmsg(int(s.sock.Fd()), []byte(s.kind), unix.UnixRights(fd), nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("--pidfd-socket %s: send pidfd: %w", s.sock.Name(), err)
		}
		return nil
	}
}

// Close closes the connection.
func (s *PidfdSocket) Close() {
	if s == nil {
		return
	}
	s.sock.Close()
}
