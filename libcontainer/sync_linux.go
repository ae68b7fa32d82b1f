package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Message types on the SOCK_SEQPACKET socket between the parent (hull
// create/run/exec) and the process it starts; see the package doc (doc.go) for the
// order in which they are exchanged.
const (
	msgConfig      = "config"       // parent → init: the initConfig
	msgReady       = "ready"        // init → parent: set up; blocking on exec.fifo
	msgError       = "error"        // init → parent: setup failed; Error says why
	msgPid         = "pid"          // nsenter → parent: Pid goes on into Go
	msgUsermap     = "usermap"      // nsenter → parent: write the id maps of Pid
	msgUsermapDone = "usermap-done" // parent → nsenter
	msgHooks       = "hooks"        // init → parent: mounts done; run prestart and createRuntime hooks
	msgHooksDone   = "hooks-done"   // parent → init: they ran
	// init → parent: make the source of mounts[Mount] (mountsource_linux.go)
	msgMountSource = "mount-source"
	// parent → init: here it is, as the fd attached (SCM_RIGHTS)
	msgMountSourceFd = "mount-source-fd"
)

type message struct {
	Type   string      `json:"type"`
	Pid    int         `json:"pid,omitempty"`
	Error  string      `json:"error,omitempty"`
	Config *initConfig `json:"config,omitempty"`
	Mount  *int        `json:"mount,omitempty"` // msgMountSource: index in mounts
}

// syncConn is one end of the socketpair. Each message is one datagram.
type syncConn struct{ fd int }

func newSyncPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

func (c syncConn) send(m *message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	for {
		_, err = unix.Write(c.fd, b)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, err)
	}
	return nil
}

// errClosed is returned by recv when the peer closed without a word: it
// exited or was killed.
var errClosed = errors.New("the other side closed the sync socket")

func (c syncConn) recv() (*message, error) {
	// Size the datagram first so a large config is never truncated.
	var n int
	var err error
	for {
		n, _, err = unix.Recvfrom(c.fd, nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	if n == 0 {
		return nil, errClosed
	}
	buf := make([]byte, n)
	for {
		n, _, err = unix.Recvfrom(c.fd, buf, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	return decodeMessage(buf[:n])
}

func decodeMessage(b []byte) (*message, error) {
	m := new(message)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("bad message %q: %w", b, err)
	}
	if m.Type == "" {
		return nil, fmt.Errorf("bad message %q: no type", b)
	}
	return m, nil
}

// sendFd sends m with fd attached (SCM_RIGHTS).
func (c syncConn) sendFd(m *message, fd int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	for {
		err = unix.Sendmsg(c.fd, b, unix.UnixRights(fd), nil, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, err)
	}
	return nil
}

// recvFd receives a message that may carry an fd (-1 if none); the fd is
// close-on-exec.
func (c syncConn) recvFd() (*message, int, error) {
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4*4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(c.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, -1, fmt.Errorf("receive: %w", err)
	}
	fd := -1
	if oobn > 0 {
		cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, -1, fmt.Errorf("receive: control message: %w", err)
		}
		for _, cm := range cmsgs {
			fds, err := unix.ParseUnixRights(&cm)
			if err != nil {
				continue
			}
			for _, f := range fds {
				if fd < 0 {
					fd = f
				} else {
					unix.Close(f)
				}
			}
		}
	}
	if n == 0 {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, -1, errClosed
	}
	m, err := decodeMessage(buf[:n])
	if err != nil && fd >= 0 {
		unix.Close(fd)
		fd = -1
	}
	return m, fd, err
}
