// Package safepath resolves paths inside a container's rootfs so that no
// symlink, "..", or magic link can lead out of it. Every lookup goes through
// openat2(2) with RESOLVE_IN_ROOT: the kernel treats the rootfs fd as "/"
// for the whole walk, including the targets of symlinks.
package safepath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

const resolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// Open resolves path inside root and opens it with flags (O_CLOEXEC is
// added). path is taken as relative to root even if it starts with "/".
func Open(root int, path string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve}
	if flags&unix.O_CREAT != 0 {
		how.Mode = 0o644
	}
	for {
		fd, err := unix.Openat2(root, clean(path), &how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "openat2", Path: path, Err: err}
		}
		return fd, nil
	}
}

func clean(p string) string {
	c := strings.TrimLeft(filepath.Clean("/"+p), "/")
	if c == "" {
		return "."
	}
	return c
}

// MkdirAll makes path and its missing parents inside root and returns an
// O_PATH fd of the final directory. Each component is created with mkdirat
// relative to its already-resolved parent, so a symlink swapped in between
// two steps is resolved inside root again, never on the host.
func MkdirAll(root int, path string, mode uint32) (int, error) {
	return mkParents(root, path, mode, true)
}

// MkFileAll is MkdirAll for a file: the parents are directories, the last
// component an empty regular file (an existing file or directory is kept).
func MkFileAll(root int, path string, mode uint32) (int, error) {
	return mkParents(root, path, mode, false)
}

func mkParents(root int, path string, mode uint32, dir bool) (int, error) {
	// A dangling symlink on the way is followed by restarting the walk
	// with its target (taken inside root); bounded like the kernel's
	// own symlink limit.
	for hops := 0; hops < 40; hops++ {
		fd, next, err := mkWalk(root, clean(path), mode, dir)
		if next == "" {
			return fd, err
		}
		path = next
	}
	return -1, fmt.Errorf("create %s in rootfs: %w", path, unix.ELOOP)
}

func mkWalk(root int, path string, mode uint32, dir bool) (int, string, error) {
	if path == "." {
		fd, err := Open(root, ".", unix.O_PATH|unix.O_DIRECTORY)
		return fd, "", err
	}
	parts := strings.Split(path, "/")
	cur, err := Open(root, ".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, "", err
	}
	for i, name := range parts {
		last := i == len(parts)-1
		sofar := strings.Join(parts[:i+1], "/")
		fd, err := Open(root, sofar, unix.O_PATH)
		if errors.Is(err, unix.ENOENT) {
			if last && !dir {
				var cfd int
				cfd, err = unix.Openat(cur, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_WRONLY, mode)
				if err == nil {
					unix.Close(cfd)
				}
			} else if dir {
				err = unix.Mkdirat(cur, name, mode)
			} else {
				// The parents of a file are directories: searchable.
				err = unix.Mkdirat(cur, name, 0o755)
			}
			if errors.Is(err, unix.EEXIST) {
				// The name exists but does not resolve: a dangling
				// symlink. Walk again through its target.
				if target, rerr := readlinkat(cur, name); rerr == nil {
					unix.Close(cur)
					base := strings.Join(parts[:i], "/")
					if filepath.IsAbs(target) {
						base = ""
					}
					rest := strings.Join(parts[i+1:], "/")
					return -1, clean(filepath.Join(base, target, rest)), nil
				}
			}
			if err != nil && !errors.Is(err, unix.EEXIST) {
				unix.Close(cur)
				return -1, "", fmt.Errorf("create %s in rootfs: %w", sofar, err)
			}
			fd, err = Open(root, sofar, unix.O_PATH)
		}
		unix.Close(cur)
		if err != nil {
			return -1, "", err
		}
		if !last {
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
				unix.Close(fd)
				return -1, "", fmt.Errorf("create %s in rootfs: %s is not a directory", path, sofar)
			}
		}
		cur = fd
	}
	return cur, "", nil
}

func readlinkat(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// ProcPath is the magic link through which a path opened as fd is reached
// by syscalls that take only paths, such as mount(2).
func ProcPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }
