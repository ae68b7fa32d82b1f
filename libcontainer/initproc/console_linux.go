package initproc

import (
	"errors"
	"fmt"

	"github.com/hullrt/hull/libcontainer/safepath"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupConsole makes a pty in the container's devpts, sends its master over
// consoleFd (one SCM_RIGHTS fd, runc's console-socket protocol, which
// containerd and conmon implement), and makes the slave the process's
// controlling terminal and stdio. With bindConsole, /dev/console inside is
// bound to the slave.
func setupConsole(consoleFd int, bindConsole bool, size *specs.Box) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("get pty number: %w", err)
	}
	if size != nil && size.Height != 0 && size.Width != 0 {
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("process.consoleSize: set the pty's window size: %w", err)
		}
	}
	slavePath := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", slavePath, err)
	}
	defer unix.Close(slave)
	if bindConsole {
		if err := bindDevConsole(slave); err != nil {
			return err
		}
	}
	rights := unix.UnixRights(master)
	if err := unix.Sendmsg(consoleFd, []byte("/dev/ptmx"), rights, nil, 0); err != nil {
		return fmt.Errorf("send pty master over the console socket: %w", err)
	}
	unix.Close(consoleFd)
	if _, err := unix.Setsid(); err != nil && err != unix.EPERM {
		return fmt.Errorf("setsid: %w", err)
	}
	if err := unix.IoctlSetInt(slave, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make %s the controlling terminal: %w", slavePath, err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("dup pty to fd %d: %w", fd, err)
		}
	}
	return nil
}

// bindDevConsole binds the pty slave onto /dev/console. /dev/console is
// opened without following a symlink, and only a regular file or a
// character device is mounted over: a container that made it a symlink to,
// say, a procfs file must not get the pty mounted there (CVE-2025-52565).
func bindDevConsole(slave int) error {
	var sst unix.Stat_t
	if err := unix.Fstat(slave, &sst); err != nil {
		return err
	}
	if sst.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(sst.Rdev) < 136 || unix.Major(sst.Rdev) > 143 {
		return fmt.Errorf("pty slave is not a pts device")
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	dst, err := safepath.Open(root, "/dev/console", unix.O_PATH|unix.O_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		dst, err = safepath.MkFileAll(root, "/dev/console", 0o600)
	}
	if err != nil {
		return fmt.Errorf("open /dev/console: %w", err)
	}
	defer unix.Close(dst)
	var st unix.Stat_t
	if err := unix.Fstat(dst, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG && st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return fmt.Errorf("/dev/console is not a file or device: refusing to mount over it")
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(dst, &sfs); err == nil && (sfs.Type == unix.PROC_SUPER_MAGIC || sfs.Type == unix.SYSFS_MAGIC) {
		return fmt.Errorf("/dev/console is on procfs or sysfs: refusing to mount over it")
	}
	if err := unix.Mount(safepath.ProcPath(slave), safepath.ProcPath(dst), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind pty onto /dev/console: %w", err)
	}
	return nil
}
