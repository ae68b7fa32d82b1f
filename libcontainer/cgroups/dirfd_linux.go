package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hullrt/hull/internal/sysfile"
	"golang.org/x/sys/unix"
)

// dirFDs keeps an O_PATH descriptor for each cgroup directory this
// process opens files in, stats or makes cgroups under, so that the file
// is reached by its one name under the descriptor rather than by its whole
// path. In cgroupfs each component of a path is checked under its
// hierarchy's lock, which every cgroup being made or removed in that
// hierarchy at the same time holds for writing: a create on a hybrid host
// walked some 60 such paths, each 6-7 components, and with 50 creates at
// once their lookups waited on each other's mkdirs.
//
// A descriptor stays on the directory it was opened on. rmdir here
// forgets it and everything under it; a directory another process removes
// and makes again while this one runs reads as removed (ENOENT), as its
// path did between the two. At most maxDirFDs are kept (a long-lived
// process such as hull-shim watches one container); past that, files are
// opened by path.
var dirFDs = struct {
	sync.Mutex
	m map[string]int
}{m: map[string]int{}}

const maxDirFDs = 64

// under runs op with a kept descriptor of dir and file's name under it,
// or with AT_FDCWD and file's whole path when dir cannot be kept. op runs
// with the lock held: descriptors are closed only under it (forgetDirs),
// so op never uses one closed, or its number reused by another open.
// The ops are single system calls on small kernel files.
func under(dir, file string, op func(fd int, name string) error) error {
	dirFDs.Lock()
	defer dirFDs.Unlock()
	if fd, ok := dirFD(dir); ok {
		return op(fd, file)
	}
	return op(unix.AT_FDCWD, filepath.Join(dir, file))
}

// dirFD returns a descriptor of dir, opened the first time under its
// parent's when that is kept; false when dir cannot be opened or no more
// are kept. The caller holds the lock.
func dirFD(dir string) (int, bool) {
	dir = filepath.Clean(dir)
	if fd, ok := dirFDs.m[dir]; ok {
		return fd, true
	}
	if len(dirFDs.m) >= maxDirFDs {
		return -1, false
	}
	const flags = unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC
	var fd int
	var err error
	if pfd, ok := dirFDs.m[filepath.Dir(dir)]; ok {
		fd, err = openatRetry(pfd, filepath.Base(dir), flags)
	} else {
		fd, err = openatRetry(unix.AT_FDCWD, dir, flags)
	}
	if err != nil {
		return -1, false
	}
	dirFDs.m[dir] = fd
	return fd, true
}

func openatRetry(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// forgetDirs closes the descriptors of dir and of the directories under
// it, once removed.
func forgetDirs(dir string) {
	dirFDs.Lock()
	defer dirFDs.Unlock()
	forgetLocked(dir)
}

func forgetLocked(dir string) {
	dir = filepath.Clean(dir)
	below := strings.TrimSuffix(dir, "/") + "/"
	for d, fd := range dirFDs.m {
		if d == dir || strings.HasPrefix(d, below) {
			unix.Close(fd)
			delete(dirFDs.m, d)
		}
	}
}

// openUnder opens file of dir with flags, as sysfile.Open of its path.
func openUnder(dir, file string, flags int) (*os.File, error) {
	var f *os.File
	err := under(dir, file, func(fd int, name string) (err error) {
		f, err = sysfile.OpenAt(fd, name, filepath.Join(dir, file), flags)
		return err
	})
	return f, err
}

// removeDir removes the (empty) directory dir, and forgets the kept
// descriptors of it and under it once it is gone.
func removeDir(dir string) error {
	return under(filepath.Dir(dir), filepath.Base(dir), func(fd int, name string) error {
		err := unix.Unlinkat(fd, name, unix.AT_REMOVEDIR)
		if err == nil || err == unix.ENOENT {
			forgetLocked(dir)
		}
		return err
	})
}

// makeDir makes the directory dir (mode 0755) under its parent's kept
// descriptor.
func makeDir(dir string) error {
	return under(filepath.Dir(dir), filepath.Base(dir), func(fd int, name string) error {
		return unix.Mkdirat(fd, name, 0o755)
	})
}

// statDir says whether dir exists, looked up under its parent's kept
// descriptor.
func statDir(dir string) bool {
	return under(filepath.Dir(dir), filepath.Base(dir), func(fd int, name string) error {
		var st unix.Stat_t
		return unix.Fstatat(fd, name, &st, 0)
	}) == nil
}
