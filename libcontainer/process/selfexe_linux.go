package process

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// selfExe returns hull's own binary, open in a read-only detached mount, to
// execute as a container's init or exec process.
//
// The process runs hull's binary inside the container until it execs the
// user's command, so a container process could reach the binary through
// /proc/<pid>/exe and, by reopening it for writing, replace the host's hull
// (CVE-2019-5736). runc copies the binary into a memfd per container, which
// costs ~10 MB of the container's memory. hull instead executes the binary
// from a detached, read-only clone of the mount that holds it (open_tree +
// mount_setattr): /proc/<pid>/exe then leads to a read-only mount, every
// reopen for writing fails with EROFS, and nothing is copied.
//
// Without that protection the container could overwrite hull: an error,
// never a fallback to the unprotected /proc/self/exe.
func selfExe() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err == unix.EPERM && os.Geteuid() != 0 {
		return userExe() // selfexe_user_linux.go
	}
	if err != nil {
		return nil, fmt.Errorf("cannot protect the hull binary with a read-only mount: open_tree /proc/self/exe: %w", err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("cannot protect the hull binary with a read-only mount: mount_setattr: %w", err)
	}
	return os.NewFile(uintptr(fd), "hull-exe"), nil
}
