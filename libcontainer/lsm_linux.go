package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func apparmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

func selinuxEnabled() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/selinux", &st) == nil && st.Type == unix.SELINUX_MAGIC
}

// validateLSM refuses a label for a security module the host does not run:
// the container would otherwise run unconfined while its config says it
// is confined.
func validateLSM(s *specs.Spec, path string, p *specs.Process) error {
	if p.ApparmorProfile != "" && !apparmorEnabled() {
		return fieldErr(path+".apparmorProfile", "profile %q given, but AppArmor is not enabled on this host", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !selinuxEnabled() {
		return fieldErr(path+".selinuxLabel", "label %q given, but SELinux is not enabled on this host", p.SelinuxLabel)
	}
	return nil
}

// applyLSM sets the label the process gets at execve. The write goes
// through a procfs handle checked to be a real procfs (a container could
// have mounted something else over /proc: CVE-2019-16884), opening the
// attribute without following symlinks.
func applyLSM(p *specs.Process) error {
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

// namespacedSysctl tells which namespace a sysctl belongs to; "" means it
// is not namespaced and must not be set from a container.
func namespacedSysctl(name string) specs.LinuxNamespaceType {
	switch name {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
		"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return specs.IPCNamespace
	case "kernel.hostname", "kernel.domainname":
		return specs.UTSNamespace
	}
	switch {
	case strings.HasPrefix(name, "fs.mqueue."):
		return specs.IPCNamespace
	case strings.HasPrefix(name, "net."):
		return specs.NetworkNamespace
	case strings.HasPrefix(name, "user."):
		return specs.UserNamespace
	}
	return ""
}

// validateSysctl refuses a sysctl that would change the host, with
// runc's messages: each namespaced sysctl needs its namespace in the
// container, kernel.hostname also conflicts with the hostname field.
func validateSysctl(s *specs.Spec) error {
	for k := range s.Linux.Sysctl {
		name := sysctlName(k)
		if !validSysctlPath(sysctlPath(k)) {
			return fieldErr("linux.sysctl."+k, "invalid name")
		}
		ns := namespacedSysctl(name)
		has := ns != "" && (hasNewNS(s, ns) || joinsNS(s, ns))
		switch {
		case ns == specs.IPCNamespace && !has:
			return fieldErr("linux.sysctl."+k, "sysctl %q is not allowed in the hosts ipc namespace", name)
		case ns == specs.NetworkNamespace && !has:
			return fieldErr("linux.sysctl."+k, "sysctl %q not allowed in host network namespace", name)
		case ns == specs.UserNamespace && !has:
			return fieldErr("linux.sysctl."+k, "setting ucounts without a user namespace not allowed: %v", name)
		case ns == specs.UTSNamespace && has && name == "kernel.hostname":
			return fieldErr("linux.sysctl."+k, "sysctl %q is not allowed as it conflicts with the OCI %q field", name, "hostname")
		case !has:
			return fieldErr("linux.sysctl."+k, "sysctl %q is not in a separate kernel namespace", name)
		}
	}
	return nil
}
