package libcontainer

import (
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// selfExe returns the path through which to execute hull's own binary as a
// container's init or exec process, and a file to close after the start.
//
// The process runs hull's binary inside the container until it execs the
// user's command, so a container process could reach the binary through
// /proc/<pid>/exe and, by reopening it for writing, replace the host's hull
// (CVE-2019-5736). runc copies the binary into a memfd per container, which
// costs ~10 MB of the container's memory. hull instead executes the binary
// from a detached, read-only clone of the mount that holds it (open_tree +
// mount_setattr): /proc/<pid>/exe then leads to a read-only mount, every
// reopen for writing fails with EROFS, and nothing is copied.
func selfExe(minFd int) (string, *os.File) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		slog.Warn("cannot protect the hull binary with a read-only mount (open_tree)", "error", err)
		return "/proc/self/exe", nil
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		slog.Warn("cannot protect the hull binary with a read-only mount (mount_setattr)", "error", err)
		return "/proc/self/exe", nil
	}
	// The child dups its ExtraFiles to 3, 4, … before execve: the fd of
	// the binary must sit above them to survive until the exec.
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minFd)
	unix.Close(fd)
	if err != nil {
		return "/proc/self/exe", nil
	}
	f := os.NewFile(uintptr(high), "hull-exe")
	return fmt.Sprintf("/proc/self/fd/%d", high), f
}
