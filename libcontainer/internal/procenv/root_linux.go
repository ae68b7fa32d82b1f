// Package procenv decides what a container process's execve gets from
// its root filesystem: the environment (HOME from /etc/passwd) and the
// executable (PATH search), with runc's rules and os/exec's error texts.
// The init decides them inside the container (Host); `exec` may decide
// them from outside, through the container's root (InRoot), to hand a
// plan to C (internal/plan).
package procenv

import (
	"errors"
	"io/fs"
	"os"

	"github.com/hullrt/hull/libcontainer/safepath"
	"golang.org/x/sys/unix"
)

// Root is where absolute paths of the process are looked up.
type Root interface {
	Stat(path string) (fs.FileInfo, error)
	Open(path string) (*os.File, error)
}

// Host is the caller's own root: the init's, in the container.
var Host Root = hostRoot{}

type hostRoot struct{}

func (hostRoot) Stat(path string) (fs.FileInfo, error) { return os.Stat(path) }
func (hostRoot) Open(path string) (*os.File, error)    { return os.Open(path) }

// InRoot looks paths up below dir (a container's root directory, open),
// never leaving it: openat2 with RESOLVE_IN_ROOT (safepath). Errors read
// as os.Stat's and os.Open's do for the same path.
func InRoot(dir *os.File) Root { return inRoot{dir} }

type inRoot struct{ dir *os.File }

func (r inRoot) open(op, path string, flags int) (*os.File, error) {
	fd, err := safepath.Open(int(r.dir.Fd()), path, flags)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &os.PathError{Op: op, Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

func (r inRoot) Stat(path string) (fs.FileInfo, error) {
	f, err := r.open("stat", path, unix.O_PATH)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return fi, nil
}

func (r inRoot) Open(path string) (*os.File, error) {
	return r.open("open", path, unix.O_RDONLY)
}
