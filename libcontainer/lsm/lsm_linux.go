package lsm

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Apply sets the label the process gets at execve. The write goes
// through a procfs handle checked to be a real procfs (a container could
// have mounted something else over /proc: CVE-2019-16884), to
// thread-self's attribute, resolved within that one mount (no magic link
// followed, no mount crossed: something bound over the attribute file is
// refused).
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
	var errOpen = errors.New("cannot open the attribute")
	write := func(attr, value string) error {
		// thread-self is a plain symlink (to PID/task/TID), which the
		// resolution may follow; the magic links of /proc/PID it may not.
		how := unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS}
		path := "thread-self/attr/" + attr
		fd, err := unix.Openat2(proc, path, &how)
		if err != nil {
			return fmt.Errorf("%w /proc/%s: %w", errOpen, path, err)
		}
		defer unix.Close(fd)
		if _, err := unix.Write(fd, []byte(value)); err != nil {
			return fmt.Errorf("write /proc/%s: %w", path, err)
		}
		return nil
	}
	if p.ApparmorProfile != "" {
		err := write("apparmor/exec", "exec "+p.ApparmorProfile)
		if errors.Is(err, errOpen) && errors.Is(err, unix.ENOENT) {
			// Kernels before 5.8 have only the shared attribute
			// (runc falls back to it too).
			err = write("exec", "exec "+p.ApparmorProfile)
		}
		if err != nil {
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
