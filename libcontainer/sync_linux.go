package libcontainer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Message types on the SOCK_STREAM socket between the parent (hull
// create/run/exec) and the process it starts; see the package doc (doc.go)
// for the order in which they are exchanged.
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
	Type  string `json:"type"`
	Pid   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
	// Errno is the errno behind Error, if one is: the parent's error
	// then still matches it (errors.Is(err, unix.EPERM)).
	Errno  int         `json:"errno,omitempty"`
	Config *initConfig `json:"config,omitempty"`
	Mount  *int        `json:"mount,omitempty"` // msgMountSource: index in mounts
}

// syncConn is one end of the socketpair. A message is a frame: its length
// as 4 bytes (big endian), then that many bytes of JSON. A stream has no
// size limit per message, unlike a datagram (about 208 KiB here), so a
// config of any size (thousands of env vars, a large seccomp profile)
// gets through; nsenter.c writes and reads the same frames.
type syncConn struct{ fd int }

// maxMessage bounds what recv accepts, so a corrupt length cannot make
// it allocate without bound.
const maxMessage = 256 << 20

func newSyncPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

func (c syncConn) send(m *message) error { return c.sendRights(m, nil) }

// sendFd sends m with fd attached (SCM_RIGHTS) to the frame's first byte.
func (c syncConn) sendFd(m *message, fd int) error {
	return c.sendRights(m, unix.UnixRights(fd))
}

// sendRights writes m's frame, rights (if any) with its first byte.
func (c syncConn) sendRights(m *message, rights []byte) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	frame := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(frame, uint32(len(b)))
	copy(frame[4:], b)
	for len(frame) > 0 {
		// MSG_NOSIGNAL: a peer that died is an EPIPE error, not a
		// SIGPIPE.
		n, err := unix.SendmsgN(c.fd, frame, rights, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if err == unix.EPIPE || err == unix.ECONNRESET {
				return fmt.Errorf("send %s message: %w", m.Type, errClosed)
			}
			return fmt.Errorf("send %s message: %w", m.Type, err)
		}
		frame, rights = frame[n:], nil
	}
	return nil
}

// errClosed is returned by recv when the peer closed without a word: it
// exited or was killed.
var errClosed = errors.New("the other side closed the sync socket")

// readFull reads len(b) bytes; io.ErrUnexpectedEOF-like errClosed if the
// peer closed before.
func (c syncConn) readFull(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(c.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.ECONNRESET {
			return errClosed
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		if n == 0 {
			return errClosed
		}
		b = b[n:]
	}
	return nil
}

func (c syncConn) recv() (*message, error) {
	var hdr [4]byte
	if err := c.readFull(hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxMessage {
		return nil, fmt.Errorf("receive: bad message length %d", n)
	}
	buf := make([]byte, n)
	if err := c.readFull(buf); err != nil {
		return nil, err
	}
	return decodeMessage(buf)
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

// recvFd receives a message that may carry an fd (-1 if none); the fd is
// close-on-exec. The fd arrives with the frame's first byte, so it is
// read with the frame's length.
func (c syncConn) recvFd() (*message, int, error) {
	var hdr [4]byte
	oob := make([]byte, unix.CmsgSpace(4*4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(c.fd, hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.ECONNRESET {
		return nil, -1, errClosed
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
	fail := func(err error) (*message, int, error) {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, -1, err
	}
	if n == 0 {
		return fail(errClosed)
	}
	if n < len(hdr) {
		if err := c.readFull(hdr[n:]); err != nil {
			return fail(err)
		}
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size == 0 || size > maxMessage {
		return fail(fmt.Errorf("receive: bad message length %d", size))
	}
	buf := make([]byte, size)
	if err := c.readFull(buf); err != nil {
		return fail(err)
	}
	m, err := decodeMessage(buf)
	if err != nil {
		return fail(err)
	}
	return m, fd, nil
}

// errorMessage is the msgError message for err, with its errno if it has
// one.
func errorMessage(err error) *message {
	m := &message{Type: msgError, Error: err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		m.Errno = int(errno)
	}
	return m
}

// childError is an error the child reported; it unwraps to its errno.
type childError struct {
	msg   string
	errno syscall.Errno
}

func (e *childError) Error() string { return e.msg }
func (e *childError) Unwrap() error {
	if e.errno == 0 {
		return nil
	}
	return e.errno
}

// errorOf is the error a msgError message carries.
func errorOf(m *message) error {
	return &childError{msg: m.Error, errno: syscall.Errno(m.Errno)}
}
