package shim

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The shim does its few unix sockets with plain system calls on
// non-blocking fds served by Go's poller (through os.File): the net
// package would bring cgo's resolver and libc into a process that must stay
// small.

// listener is a listening unix stream socket.
type listener struct {
	f    *os.File
	path string
}

// listenUnix listens on path, replacing a stale socket nobody listens on
// (left by a killed shim) but never one in use.
func listenUnix(path string) (*listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("socket %s: exists and is not a socket", path)
		}
		if inUse(path) {
			return nil, fmt.Errorf("socket %s: in use by another process", path)
		}
		os.Remove(path)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	// Nobody else may connect, not even before the chmod below.
	old := unix.Umask(0o177)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: path})
	unix.Umask(old)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("socket %s: bind: %w", path, err)
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, path, 0o600, 0); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, fmt.Errorf("socket %s: listen: %w", path, err)
	}
	return &listener{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

func inUse(path string) bool {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Connect(fd, &unix.SockaddrUnix{Name: path}) == nil
}

// accept waits for a connection; it fails with os.ErrClosed once the
// listener is closed.
func (l *listener) accept() (*os.File, error) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	for {
		var nfd int
		var aerr error
		err = rc.Read(func(fd uintptr) bool {
			nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			return aerr != unix.EAGAIN
		})
		if err != nil {
			return nil, os.ErrClosed // the poller only fails for a closed file
		}
		switch aerr {
		case nil:
			return os.NewFile(uintptr(nfd), l.path+" (connection)"), nil
		case unix.EINTR, unix.ECONNABORTED:
			continue
		}
		return nil, fmt.Errorf("accept on %s: %w", l.path, aerr)
	}
}

// close stops listening and removes the socket file.
func (l *listener) close() {
	if l.f.Close() == nil {
		os.Remove(l.path)
	}
}
