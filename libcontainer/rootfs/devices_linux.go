package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hullrt/hull/libcontainer/safepath"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func ptr[T any](v T) *T { return &v }

// defaultDevices are the nodes every container gets (runtime spec, "Default
// Devices").
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: ptr(os.FileMode(0o666))},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: ptr(os.FileMode(0o666))},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7, FileMode: ptr(os.FileMode(0o666))},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8, FileMode: ptr(os.FileMode(0o666))},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9, FileMode: ptr(os.FileMode(0o666))},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0, FileMode: ptr(os.FileMode(0o666))},
}

var devSymlinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

func createDefaultDevices(root int, userns bool) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range defaultDevices {
		if err := createDevice(root, d, userns); err != nil {
			return fmt.Errorf("create default device %s: %w", d.Path, err)
		}
	}
	for _, l := range devSymlinks {
		if err := symlinkIn(root, l[0], l[1]); err != nil {
			return err
		}
	}
	// With a devpts of its own the container's ptmx is pts/ptmx.
	if fd, err := safepath.Open(root, "/dev/pts/ptmx", unix.O_PATH|unix.O_NOFOLLOW); err == nil {
		unix.Close(fd)
		if fd, err := safepath.Open(root, "/dev/ptmx", unix.O_PATH|unix.O_NOFOLLOW); err == nil {
			unix.Close(fd)
		} else if err := symlinkIn(root, "pts/ptmx", "/dev/ptmx"); err != nil {
			return err
		}
	}
	return nil
}

// isSymlinkIn tells whether path, below root, is a symlink.
func isSymlinkIn(root int, path string) bool {
	fd, err := safepath.Open(root, path, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

func symlinkIn(root int, target, link string) error {
	dir, err := safepath.MkdirAll(root, filepath.Dir(link), 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	if err := unix.Symlinkat(target, dir, filepath.Base(link)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("symlink %s -> %s: %w", link, target, err)
	}
	return nil
}

// deviceMode is the mode of d's node: its permissions (0666 if none)
// and type.
func deviceMode(d specs.LinuxDevice) uint32 {
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	switch d.Type {
	case "c", "u":
		mode |= unix.S_IFCHR
	case "b":
		mode |= unix.S_IFBLK
	case "p":
		mode |= unix.S_IFIFO
	}
	return mode
}

// createDevice makes d inside root. In a user namespace mknod is not
// allowed, so the host's node is bind-mounted instead (as runc does).
func createDevice(root int, d specs.LinuxDevice, userns bool) error {
	dir, err := safepath.MkdirAll(root, filepath.Dir(d.Path), 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	name := filepath.Base(d.Path)
	mode := deviceMode(d)
	if userns {
		// The host's node is bound over whatever file the rootfs has there
		// (as runc: an existing /dev/null of the image is covered, not
		// kept); a directory or a symlink there is refused.
		fd, err := unix.Openat(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_WRONLY, 0o644)
		switch {
		case err == nil:
			unix.Close(fd)
		case errors.Is(err, unix.EEXIST):
			var st unix.Stat_t
			if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("create device inode %s: %w", d.Path, err)
			}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFDIR:
				return fmt.Errorf("create device inode %s: %w", d.Path, unix.EISDIR)
			case unix.S_IFLNK:
				return fmt.Errorf("create device inode %s: %w", d.Path, unix.ELOOP)
			}
		default:
			return fmt.Errorf("create device inode %s: %w", d.Path, err)
		}
		dst, err := safepath.Open(root, d.Path, unix.O_PATH|unix.O_NOFOLLOW)
		if err != nil {
			return err
		}
		defer unix.Close(dst)
		return sys.Mount(d.Path, safepath.ProcPath(dst), "", unix.MS_BIND, "")
	}
	dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if err := sys.Mknodat(dir, name, mode, int(dev)); err != nil {
		if !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mknod: %w", err)
		}
		// An existing node is replaced only if it is not what was asked.
		var st unix.Stat_t
		if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode == mode && st.Rdev == dev {
			return nil
		}
		if err := unix.Unlinkat(dir, name, 0); err != nil {
			return fmt.Errorf("replace existing %s: %w", d.Path, err)
		}
		if err := sys.Mknodat(dir, name, mode, int(dev)); err != nil {
			return fmt.Errorf("mknod: %w", err)
		}
	}
	// mknod is subject to the umask; set the mode exactly.
	if err := sys.Fchmodat(dir, name, mode&0o7777, 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if uid >= 0 || gid >= 0 {
		if err := sys.Fchownat(dir, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	return nil
}
