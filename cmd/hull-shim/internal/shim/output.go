package shim

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// stream is one output of the container: a pipe (or the pty master) the
// shim reads.
type stream struct {
	name string // "stdout" or "stderr", as the CRI log names it
	r    *os.File
	raw  *os.File // --stdout-fd/--stderr-fd copy, if any
	pty  bool
}

// output fans the container's output out to the log, the passed-through
// fds and the attach clients. One goroutine reads each stream.
type output struct {
	log  *criLog
	logf func(string, ...any)

	mu      sync.Mutex
	clients map[*client]struct{}
	running int
	done    chan struct{} // closed when running drops to 0
}

func newOutput(log *criLog, logf func(string, ...any)) *output {
	o := &output{log: log, logf: logf, clients: map[*client]struct{}{}, done: make(chan struct{})}
	return o
}

// pumpBuf is the size of a stream's read buffer. A variable, not a
// constant: a buffer of constant size that does not escape would live on
// the goroutine's stack, zeroed as the goroutine starts (8 pages) on a
// stack grown to 64 KiB for it; from the heap its pages stay untouched
// until output comes. An idle shim: 2012 -> 1936 kB RSS (three pairs).
var pumpBuf = 32 << 10

func (o *output) pump(s stream) {
	o.mu.Lock()
	o.running++
	o.mu.Unlock()
	go func() {
		defer func() {
			s.r.Close()
			o.mu.Lock()
			o.running--
			if o.running == 0 {
				close(o.done)
			}
			o.mu.Unlock()
		}()
		buf := make([]byte, pumpBuf)
		for {
			n, err := s.r.Read(buf)
			if n > 0 {
				o.emit(&s, buf[:n])
			}
			if err != nil {
				// EOF once every writer is gone; a pty master reports
				// EIO once the last slave fd is closed.
				var errno syscall.Errno
				if !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) && !(errors.As(err, &errno) && errno == syscall.EIO) {
					o.logf("read %s: %v", s.name, err)
				}
				return
			}
		}
	}()
}

func (o *output) emit(s *stream, p []byte) {
	if s.raw != nil {
		if _, err := s.raw.Write(p); err != nil {
			o.logf("write %s to its fd: %v; not copying it there any more", s.name, err)
			s.raw = nil
		}
	}
	if o.log != nil {
		if err := o.log.write(s.name, p); err != nil {
			o.logf("log: %v", err)
		}
	}
	o.mu.Lock()
	if len(o.clients) > 0 {
		b := append([]byte(nil), p...) // shared, never written again
		for c := range o.clients {
			select {
			case c.out <- b:
			default:
				o.logf("attach client too slow: disconnected")
				o.dropLocked(c)
			}
		}
	}
	o.mu.Unlock()
}

// wait waits until every stream reached its end, or timeout.
func (o *output) wait(timeout time.Duration) bool {
	o.mu.Lock()
	n := o.running
	o.mu.Unlock()
	if n == 0 {
		return true
	}
	select {
	case <-o.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (o *output) closeLog() {
	if o.log != nil {
		o.log.close()
	}
}

func (o *output) add(c *client) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.clients == nil {
		return false // closed
	}
	o.clients[c] = struct{}{}
	return true
}

func (o *output) drop(c *client) {
	o.mu.Lock()
	o.dropLocked(c)
	o.mu.Unlock()
}

func (o *output) dropLocked(c *client) {
	if _, ok := o.clients[c]; ok {
		delete(o.clients, c)
		close(c.out) // its writer sends what is queued, then closes
	}
}

// closeClients ends every attach client (after what is queued for it) and
// refuses new ones.
func (o *output) closeClients() {
	o.mu.Lock()
	for c := range o.clients {
		o.dropLocked(c)
	}
	o.clients = nil
	o.mu.Unlock()
}

// criLog writes the CRI log format: "TIME STREAM F|P TEXT\n", one record
// per line of output; P marks a line the container has not ended yet (its
// rest follows in the next records).
type criLog struct {
	mu   sync.Mutex
	path string
	max  int64 // rotate before the file would exceed max bytes; 0: never
	f    *os.File
	size int64
	buf  []byte
	now  func() time.Time
}

func openCRILog(path string, max int64) (*criLog, error) {
	l := &criLog{path: path, max: max, now: time.Now}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *criLog) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

func (l *criLog) write(name string, p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil // closed
	}
	ts := l.now().Format(time.RFC3339Nano)
	l.buf = l.buf[:0]
	var err error
	for len(p) > 0 {
		tag, line := "F", p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i], p[i+1:]
		} else {
			tag, p = "P", nil
		}
		n := int64(len(ts) + 1 + len(name) + 3 + len(line) + 1)
		if l.max > 0 && l.size+int64(len(l.buf))+n > l.max && l.size+int64(len(l.buf)) > 0 {
			if err = l.flush(); err != nil {
				break
			}
			if err = l.rotate(); err != nil {
				break
			}
		}
		l.buf = append(l.buf, ts...)
		l.buf = append(l.buf, ' ')
		l.buf = append(l.buf, name...)
		l.buf = append(l.buf, ' ')
		l.buf = append(l.buf, tag...)
		l.buf = append(l.buf, ' ')
		l.buf = append(l.buf, line...)
		l.buf = append(l.buf, '\n')
	}
	if ferr := l.flush(); err == nil {
		err = ferr
	}
	if cap(l.buf) > 64<<10 {
		l.buf = nil // do not keep a large buffer for a burst
	}
	return err
}

func (l *criLog) flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	n, err := l.f.Write(l.buf)
	l.size += int64(n)
	l.buf = l.buf[:0]
	return err
}

// rotate renames the log to PATH.1 (replacing it) and starts a new one.
func (l *criLog) rotate() error {
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return err
	}
	l.f.Close()
	l.f = nil
	return l.open()
}

// reopen starts writing to PATH anew (after someone else moved it away).
func (l *criLog) reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("the log is closed")
	}
	old := l.f
	if err := l.open(); err != nil {
		l.f = old
		return err
	}
	old.Close()
	return nil
}

func (l *criLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
