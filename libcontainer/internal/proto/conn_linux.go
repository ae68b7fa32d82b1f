package proto

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"

	jl "github.com/hullrt/hull/libcontainer/internal/jsonlite"
	"golang.org/x/sys/unix"
)

// Message types on the SOCK_STREAM socket between the parent (hull
// create/run/exec) and the process it starts; see the package doc
// for the order in which they are exchanged.
const (
	MsgConfig      = "config"       // parent → init: the initConfig
	MsgReady       = "ready"        // init → parent: set up; blocking on exec.fifo
	MsgError       = "error"        // init → parent: setup failed; Error says why
	MsgPid         = "pid"          // nsenter → parent: Pid goes on into Go
	MsgUsermap     = "usermap"      // nsenter → parent: write the id maps of Pid
	MsgUsermapDone = "usermap-done" // parent → nsenter
	MsgHooks       = "hooks"        // init → parent: mounts done; run prestart and createRuntime hooks
	MsgHooksDone   = "hooks-done"   // parent → init: they ran
	// init → parent: make the source of mounts[Mount] (rootfs asks, process answers)
	MsgMountSource = "mount-source"
	// parent → init: here it is, as the fd attached (SCM_RIGHTS)
	MsgMountSourceFd = "mount-source-fd"
	// A created init set up by preinit's rootfs.c (EnvRootfs):
	MsgRootfsGo       = "rootfs-go"       // parent → init: in the cgroups, resources set: go on
	MsgRootfsDone     = "rootfs-done"     // init → parent: set up; plan the process's last steps
	MsgPlanWritten    = "plan-written"    // parent → init: in the start plan pipe
	MsgRootfsUndo     = "rootfs-undo"     // parent → init: no plan; let the Go init do it all
	MsgRootfsFallback = "rootfs-fallback" // init → parent: undone (Error: the step that failed); send the config
)

type Message struct {
	Type  string `json:"type"`
	Pid   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
	// Errno is the errno behind Error, if one is: the parent's error
	// then still matches it (errors.Is(err, unix.EPERM)).
	Errno  int         `json:"errno,omitempty"`
	Config *InitConfig `json:"config,omitempty"`
	Mount  *int        `json:"mount,omitempty"` // msgMountSource: index in mounts
}

// Conn is one end of the socketpair. A message is a frame: its length
// as 4 bytes (big endian), then that many bytes of JSON. A stream has no
// size limit per message, unlike a datagram (about 208 KiB here), so a
// config of any size (thousands of env vars, a large seccomp profile)
// gets through; preinit.c writes and reads the same frames.
type Conn struct{ FD int }

// MaxMessage bounds what recv accepts, so a corrupt length cannot make
// it allocate without bound.
const MaxMessage = 256 << 20

func NewPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

func (c Conn) Send(m *Message) error { return c.sendRights(m, nil) }

// sendFd sends m with fd attached (SCM_RIGHTS) to the frame's first byte.
func (c Conn) SendFd(m *Message, fd int) error {
	return c.sendRights(m, unix.UnixRights(fd))
}

// sendRights writes m's frame, rights (if any) with its first byte.
func (c Conn) sendRights(m *Message, rights []byte) error {
	b, err := encodeMessage(m)
	if err != nil {
		return err
	}
	frame := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(frame, uint32(len(b)))
	copy(frame[4:], b)
	for len(frame) > 0 {
		// MSG_NOSIGNAL: a peer that died is an EPIPE error, not a
		// SIGPIPE.
		n, err := unix.SendmsgN(c.FD, frame, rights, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if err == unix.EPIPE || err == unix.ECONNRESET {
				return fmt.Errorf("send %s message: %w", m.Type, ErrClosed)
			}
			return fmt.Errorf("send %s message: %w", m.Type, err)
		}
		frame, rights = frame[n:], nil
	}
	return nil
}

// ErrClosed is returned by recv when the peer closed without a word: it
// exited or was killed.
var ErrClosed = errors.New("the other side closed the sync socket")

// readFull reads len(b) bytes; io.ErrUnexpectedEOF-like errClosed if the
// peer closed before.
func (c Conn) readFull(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(c.FD, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.ECONNRESET {
			return ErrClosed
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		if n == 0 {
			return ErrClosed
		}
		b = b[n:]
	}
	return nil
}

func (c Conn) Recv() (*Message, error) {
	var hdr [4]byte
	if err := c.readFull(hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxMessage {
		return nil, fmt.Errorf("receive: bad message length %d", n)
	}
	buf := make([]byte, n)
	if err := c.readFull(buf); err != nil {
		return nil, err
	}
	return DecodeMessage(buf)
}

// encodeMessage is json.Marshal(m), without encoding/json but for the
// bulk config (issue 18: jsonlite).
func encodeMessage(m *Message) ([]byte, error) {
	if m.Config != nil {
		return json.Marshal(m)
	}
	e := jl.NewEnc(64)
	w := e.Open()
	jl.S(e, "type", m.Type)
	jl.OI(e, "pid", m.Pid)
	jl.OS(e, "error", m.Error)
	jl.OI(e, "errno", m.Errno)
	jl.OP(e, "mount", m.Mount, jl.VI[int])
	e.Close(w)
	return e.Bytes(), nil
}

// decodeSmall reads a message without a config as json.Unmarshal does,
// or declines (issue 18: jsonlite).
func decodeSmall(b []byte) (*Message, bool) {
	d := jl.NewDec(b)
	if !d.Object() {
		return nil, false
	}
	m := new(Message)
	d.Obj(func(k string) bool {
		switch k {
		case "type":
			jl.Str(d, &m.Type)
		case "pid":
			jl.Int(d, &m.Pid)
		case "error":
			jl.Str(d, &m.Error)
		case "errno":
			jl.Int(d, &m.Errno)
		case "mount":
			jl.Ptr(d, &m.Mount, jl.Int[int])
		default:
			return false
		}
		return true
	})
	return m, d.Done()
}

func DecodeMessage(b []byte) (*Message, error) {
	m, ok := decodeSmall(b)
	if !ok {
		m = new(Message)
		if err := json.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("bad message %q: %w", b, err)
		}
	}
	if m.Type == "" {
		return nil, fmt.Errorf("bad message %q: no type", b)
	}
	return m, nil
}

// RecvFd receives a message that may carry an fd (-1 if none); the fd is
// close-on-exec. The fd arrives with the frame's first byte, so it is
// read with the frame's length.
func (c Conn) RecvFd() (*Message, int, error) {
	var hdr [4]byte
	oob := make([]byte, unix.CmsgSpace(4*4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(c.FD, hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.ECONNRESET {
		return nil, -1, ErrClosed
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
	fail := func(err error) (*Message, int, error) {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, -1, err
	}
	if n == 0 {
		return fail(ErrClosed)
	}
	if n < len(hdr) {
		if err := c.readFull(hdr[n:]); err != nil {
			return fail(err)
		}
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size == 0 || size > MaxMessage {
		return fail(fmt.Errorf("receive: bad message length %d", size))
	}
	buf := make([]byte, size)
	if err := c.readFull(buf); err != nil {
		return fail(err)
	}
	m, err := DecodeMessage(buf)
	if err != nil {
		return fail(err)
	}
	return m, fd, nil
}

// ErrorMessage is the msgError message for err, with its errno if it has
// one.
func ErrorMessage(err error) *Message {
	m := &Message{Type: MsgError, Error: err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		m.Errno = int(errno)
	}
	return m
}

// ChildError is an error the child reported; it unwraps to its errno.
type ChildError struct {
	msg   string
	errno syscall.Errno
}

func (e *ChildError) Error() string { return e.msg }
func (e *ChildError) Unwrap() error {
	if e.errno == 0 {
		return nil
	}
	return e.errno
}

// ErrorOf is the error a msgError message carries.
func ErrorOf(m *Message) error {
	return &ChildError{msg: m.Error, errno: syscall.Errno(m.Errno)}
}

// FillPipe writes all of data into the pipe's buffer (wfd, its write
// end), growing it as needed, without blocking: for a pipe nobody reads
// until a process execs or is cloned (the init's plan or config, exec's
// plan). False if it does not fit (a user over fs.pipe-user-pages-soft
// gets one-page pipes); the write end is left non-blocking.
func FillPipe(wfd int, data []byte) bool {
	if len(data) > 1<<16 {
		if _, err := unix.FcntlInt(uintptr(wfd), unix.F_SETPIPE_SZ, len(data)); err != nil {
			return false
		}
	}
	if err := unix.SetNonblock(wfd, true); err != nil {
		return false
	}
	for len(data) > 0 {
		n, err := unix.Write(wfd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return false
		}
		data = data[n:]
	}
	return true
}
