package lsm

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Apply sets the label the process gets at execve. The write goes
// through a procfs handle checked to be a real procfs (a container could
// have mounted something else over /proc: CVE-2019-16884), opening the
// attribute without following symlinks.
func Apply(p *specs.Process) error {
	if p.ApparmorProfile == "" && p.SelinuxLabel == "" {
		return nil
	}
	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open /proc: %w", err)
	}
	defer unix.Close(proc)
	var st unix.Statfs_t
	if err := unix.Fstatfs(proc, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return errors.New("/proc is not a procfs: refusing to set the security label through it")
	}
	write := func(attr, value string) error {
		how := unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS}
		// thread-self is itself a symlink: resolve it by hand.
		path := fmt.Sprintf("self/task/%d/attr/%s", unix.Gettid(), attr)
		fd, err := unix.Openat2(proc, path, &how)
		if err != nil {
			return fmt.Errorf("open /proc/%s: %w", path, err)
		}
		defer unix.Close(fd)
		if _, err := unix.Write(fd, []byte(value)); err != nil {
			return fmt.Errorf("write /proc/%s: %w", path, err)
		}
		return nil
	}
	if p.ApparmorProfile != "" {
		if err := write("apparmor/exec", "exec "+p.ApparmorProfile); err != nil {
			return fmt.Errorf("apparmor profile %q: %w", p.ApparmorProfile, err)
		}
	}
	if p.SelinuxLabel != "" {
		if err := write("exec", p.SelinuxLabel); err != nil {
			return fmt.Errorf("selinux label %q: %w", p.SelinuxLabel, err)
		}
	}
	return nil
}
