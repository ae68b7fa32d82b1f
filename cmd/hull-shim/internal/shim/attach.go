package shim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// clientQueue is how many output chunks may wait for a slow attach client.
const clientQueue = 256

// client is one attach connection: a writer goroutine sends it the output
// queued in out; a reader goroutine copies what it sends to the stdin.
type client struct {
	conn *os.File
	out  chan []byte
}

type attachServer struct {
	s    *shim
	data *listener
	ctl  *listener
}

// listenAttach listens on path (output and stdin) and path.ctl (control).
func listenAttach(path string, s *shim) (*attachServer, error) {
	a := &attachServer{s: s}
	var err error
	if a.data, err = listenUnix(path); err != nil {
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	if a.ctl, err = listenUnix(path + ".ctl"); err != nil {
		a.data.close()
		return nil, fmt.Errorf("attach socket: %w", err)
	}
	go a.serve(a.data, a.attach)
	go a.serve(a.ctl, a.control)
	return a, nil
}

func (a *attachServer) serve(l *listener, handle func(*os.File)) {
	for {
		c, err := l.accept()
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				a.s.logf("%v", err)
			}
			return
		}
		handle(c)
	}
}

// close stops listening and removes both sockets.
func (a *attachServer) close() {
	a.data.close()
	a.ctl.close()
}

func (a *attachServer) attach(conn *os.File) {
	c := &client{conn: conn, out: make(chan []byte, clientQueue)}
	if !a.s.out.add(c) {
		conn.Close()
		return
	}
	go func() {
		for b := range c.out {
			if _, err := conn.Write(b); err != nil {
				a.s.out.drop(c)
				break
			}
		}
		conn.Close()
	}()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if n > 0 && a.s.stdin != nil {
				a.s.stdin.Write(buf[:n]) // fails once stdin is closed: dropped
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					a.s.out.drop(c)
				}
				return // EOF: the client only half-closed, it may still read
			}
		}
	}()
}

// control serves the line commands of PATH.ctl on one connection.
func (a *attachServer) control(conn *os.File) {
	go func() {
		defer conn.Close()
		lines(conn, func(cmd string) string {
			if err := a.command(cmd); err != nil {
				return "error " + err.Error() + "\n"
			}
			return "ok\n"
		}, conn)
	}()
}

func (a *attachServer) command(line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return errors.New("empty command")
	}
	switch f[0] {
	case "resize":
		if len(f) != 3 {
			return errors.New("usage: resize ROWS COLS")
		}
		rows, err1 := strconv.ParseUint(f[1], 10, 16)
		cols, err2 := strconv.ParseUint(f[2], 10, 16)
		if err1 != nil || err2 != nil {
			return errors.New("usage: resize ROWS COLS (numbers up to 65535)")
		}
		if a.s.pty == nil {
			return errors.New("the container has no terminal")
		}
		return control(a.s.pty, func(fd int) error {
			return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)})
		})
	case "close-stdin":
		if a.s.pty != nil || a.s.stdin == nil {
			return errors.New("the container has no stdin pipe (see --stdin)")
		}
		return a.s.stdin.Close()
	case "reopen-log":
		if a.s.out.log == nil {
			return errors.New("no --log-file")
		}
		return a.s.out.log.reopen()
	}
	return fmt.Errorf("unknown command %q", f[0])
}

// control runs f on the fd of file without making it blocking (as Fd
// would).
func control(file *os.File, f func(fd int) error) error {
	rc, err := file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
