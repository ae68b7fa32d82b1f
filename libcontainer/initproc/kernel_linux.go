package initproc

import (
	"os"
	"syscall"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/lsm"
	"github.com/hullrt/hull/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// kernel is the seam between the init's decisions (the order in which it
// drops privileges: credentials, capabilities, no_new_privs, rlimits and
// the seccomp filter; what it sets of the hostname, domainname and sysctls;
// what /dev/console the pty may be bound onto)
// and the calls that carry them out. Those need root, or change the
// calling process for good (its uid, its capabilities), so the decisions
// could not be unit-tested: with the calls behind this interface, tests
// (kernel_linux_test.go) record them instead, unprivileged.
//
// Besides system calls it holds the other packages' steps that do the
// same (capabilities, LSM labels, the rootfs's last remounts), so that a
// test of the order sees them in it. The production value, sys, is
// hostKernel: each method is the call of its name.
type kernel interface {
	Chdir(path string) error
	Getwd() (string, error)
	Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error
	Setgroups(gids []int) error
	Setresgid(rgid, egid, sgid int) error
	Setresuid(ruid, euid, suid int) error
	Fstat(fd int, st *unix.Stat_t) error
	Fstatfs(fd int, st *unix.Statfs_t) error
	Mount(source, target, fstype string, flags uintptr, data string) error
	Fchown(fd, uid, gid int) error
	Umask(mask int) int
	Setrlimit(resource int, lim *syscall.Rlimit) error
	Getrlimit(resource int, lim *syscall.Rlimit) error
	Sethostname(name []byte) error
	Setdomainname(name []byte) error
	WriteFile(name string, data []byte, perm os.FileMode) error
	DropBounding(keep uint64) error
	ApplyCaps(s *capabilities.Sets) error
	ApplyLSM(p *specs.Process) error
	FinalizeRootfs(spec *specs.Spec, late []rootfs.LateRemount) error
}

// sys is the kernel the init calls; only tests replace it.
var sys kernel = hostKernel{}

// hostKernel is the real kernel.
type hostKernel struct{}

func (hostKernel) Chdir(path string) error { return unix.Chdir(path) }
func (hostKernel) Getwd() (string, error)  { return unix.Getwd() }

func (hostKernel) Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error {
	return unix.Prctl(option, arg2, arg3, arg4, arg5)
}

func (hostKernel) Setgroups(gids []int) error { return unix.Setgroups(gids) }

// Setresgid and Setresuid change this thread's credentials only, as
// Setgroups does and as runc's init does: the thread execs next and the
// others end with the exec. unix.Setresuid goes through the C library
// (cgo), which changes every thread's by signalling each; musl's then
// leaves its signal 34 ignored, and the container's process would
// inherit that through execve.
func (hostKernel) Setresgid(rgid, egid, sgid int) error {
	return rawCall(unix.SYS_SETRESGID, rgid, egid, sgid)
}

func (hostKernel) Setresuid(ruid, euid, suid int) error {
	return rawCall(unix.SYS_SETRESUID, ruid, euid, suid)
}

func rawCall(trap uintptr, a, b, c int) error {
	if _, _, e := unix.RawSyscall(trap, uintptr(a), uintptr(b), uintptr(c)); e != 0 {
		return e
	}
	return nil
}

func (hostKernel) Fstat(fd int, st *unix.Stat_t) error     { return unix.Fstat(fd, st) }
func (hostKernel) Fstatfs(fd int, st *unix.Statfs_t) error { return unix.Fstatfs(fd, st) }

func (hostKernel) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}

func (hostKernel) Fchown(fd, uid, gid int) error { return unix.Fchown(fd, uid, gid) }
func (hostKernel) Umask(mask int) int            { return unix.Umask(mask) }

// Setrlimit and Getrlimit are syscall's, not unix's: see setRlimits.
func (hostKernel) Setrlimit(resource int, lim *syscall.Rlimit) error {
	return syscall.Setrlimit(resource, lim)
}

func (hostKernel) Getrlimit(resource int, lim *syscall.Rlimit) error {
	return syscall.Getrlimit(resource, lim)
}

func (hostKernel) Sethostname(name []byte) error   { return unix.Sethostname(name) }
func (hostKernel) Setdomainname(name []byte) error { return unix.Setdomainname(name) }

func (hostKernel) WriteFile(name string, data []byte, perm os.FileMode) error {
	return os.WriteFile(name, data, perm)
}

func (hostKernel) DropBounding(keep uint64) error       { return capabilities.DropBounding(keep) }
func (hostKernel) ApplyCaps(s *capabilities.Sets) error { return capabilities.Apply(s) }
func (hostKernel) ApplyLSM(p *specs.Process) error      { return lsm.Apply(p) }
func (hostKernel) FinalizeRootfs(spec *specs.Spec, late []rootfs.LateRemount) error {
	return rootfs.Finalize(spec, late)
}
