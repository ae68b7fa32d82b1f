// Package sysfile reads and writes the small files of /proc, /sys and
// cgroupfs (and hull's own state files) with plain open, read, write and
// close.
//
// Why not os.ReadFile and os.OpenFile: an *os.File tries to put every
// descriptor in the Go netpoller: fcntl(F_GETFL), fcntl(F_SETFL,
// O_NONBLOCK), epoll_ctl(ADD), and, for a regular file epoll refuses,
// two more fcntl to undo that; on close an epoll_ctl(DEL). A kernfs file
// (cgroupfs, sysfs) epoll accepts and reports ready at once, which wakes
// the netpoller's thread for nothing. `hull create` read or wrote about 45
// such files: some 200 system calls and a thread wake-up per cgroup file
// more than the three or four each file needs. None of these files ever
// blocks, so there is nothing for the poller to do.
//
// Errors are *os.PathError, as os's, so errors.Is(err, fs.ErrNotExist)
// and the like work unchanged.
package sysfile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Open opens path with flags (O_CLOEXEC added; never O_CREAT) as an
// *os.File left out of the netpoller: reads and writes on it are plain
// blocking system calls.
func Open(path string, flags int) (*os.File, error) {
	return OpenAt(unix.AT_FDCWD, path, path, flags)
}

// OpenAt is Open of name under the directory dirfd; path is the file's
// full name, for the *os.File and errors.
func OpenAt(dirfd int, name, path string, flags int) (*os.File, error) {
	fd, err := openat(dirfd, name, path, flags)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

func openat(dirfd int, name, path string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// ReadFile returns the whole content of path.
func ReadFile(path string) ([]byte, error) {
	return ReadFileAt(unix.AT_FDCWD, path, path)
}

// ReadFileAt is ReadFile of name under the directory dirfd; path is its
// full name, for errors.
func ReadFileAt(dirfd int, name, path string) ([]byte, error) {
	fd, err := openat(dirfd, name, path, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	// Kernel files say size 0 or 4096 whatever they hold: read until
	// EOF. The first reads go to the stack and the content is copied out
	// at its size: most files read here (cgroup files, /proc) hold a few
	// bytes, and a 4 KB buffer for each was a fresh page of heap or two
	// (a `create` read 12, 48 KB; its commands end before the first
	// garbage collection, so nothing allocated is ever reused). A larger
	// file (a state file) continues in a heap buffer of 4 KB and up.
	var small [512]byte
	n := 0
	for n < len(small) {
		k, err := unix.Read(fd, small[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if k == 0 {
			return append(make([]byte, 0, n), small[:n]...), nil
		}
		n += k
	}
	b := append(make([]byte, 0, 4096), small[:]...)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// WriteFile writes data to the existing file path (O_WRONLY|O_TRUNC) in
// one write(2): cgroup and /proc files take one value per write, and a
// short write is an error.
func WriteFile(path string, data []byte) error {
	return WriteFileAt(unix.AT_FDCWD, path, path, data)
}

// WriteFileAt is WriteFile of name under the directory dirfd; path is its
// full name, for errors.
func WriteFileAt(dirfd int, name, path string, data []byte) error {
	fd, err := openat(dirfd, name, path, unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		return err
	}
	var n int
	for {
		n, err = unix.Write(fd, data)
		if err != unix.EINTR {
			break
		}
	}
	cerr := unix.Close(fd)
	switch {
	case err != nil:
		return &os.PathError{Op: "write", Path: path, Err: err}
	case n != len(data):
		return &os.PathError{Op: "write", Path: path, Err: errShort}
	case cerr != nil && cerr != unix.EINTR:
		return &os.PathError{Op: "close", Path: path, Err: cerr}
	}
	return nil
}

var errShort = errors.New("short write")
