package initproc

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/rootfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fakeKernel records the calls of the init's seam (kernel_linux.go) as
// lines ("setresuid 1000", "prctl PR_SET_NO_NEW_PRIVS 1", ...) instead of
// making them, so that the order of the init's steps can be checked
// without root and without changing the test process.
type fakeKernel struct {
	calls []string
	// fail gives the error of a call by its first word ("setresuid").
	fail map[string]error
	wd   string // what Getwd returns
	// stdio is what Fstat reports of fds 0-2 (EBADF for a missing one).
	stdio [3]*unix.Stat_t
	// limits is what Getrlimit reports, by resource.
	limits map[int]syscall.Rlimit
	// stat is what Fstat reports of other fds; fsType, if set, the
	// filesystem Fstatfs reports.
	stat   map[int]unix.Stat_t
	fsType int64
}

// useFake replaces sys with a fake kernel for the test's duration.
func useFake(t *testing.T) *fakeKernel {
	f := &fakeKernel{fail: map[string]error{}, wd: "/", limits: map[int]syscall.Rlimit{}, stat: map[int]unix.Stat_t{}}
	old := sys
	sys = f
	t.Cleanup(func() { sys = old })
	return f
}

func (f *fakeKernel) record(format string, a ...any) error {
	c := fmt.Sprintf(format, a...)
	f.calls = append(f.calls, c)
	return f.fail[strings.Fields(c)[0]]
}

// expect fails the test unless the recorded calls are want.
func (f *fakeKernel) expect(t *testing.T, want ...string) {
	t.Helper()
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(f.calls, "\n  "), strings.Join(want, "\n  "))
	}
}

var prctlNames = map[int]string{unix.PR_SET_KEEPCAPS: "PR_SET_KEEPCAPS", unix.PR_SET_NO_NEW_PRIVS: "PR_SET_NO_NEW_PRIVS"}

func rlimitName(resource int) string {
	for n, r := range config.RlimitNames {
		if r == resource {
			return n
		}
	}
	return fmt.Sprint(resource)
}

func (f *fakeKernel) Chdir(path string) error { return f.record("chdir %s", path) }

func (f *fakeKernel) Getwd() (string, error) {
	if err := f.record("getwd"); err != nil {
		return "", err
	}
	return f.wd, nil
}

func (f *fakeKernel) Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error {
	name, ok := prctlNames[option]
	if !ok {
		name = fmt.Sprint(option)
	}
	return f.record("prctl %s %d", name, arg2)
}

func (f *fakeKernel) Setgroups(gids []int) error { return f.record("setgroups %v", gids) }

func (f *fakeKernel) Setresgid(rgid, egid, sgid int) error {
	return f.record("setresgid %d %d %d", rgid, egid, sgid)
}

func (f *fakeKernel) Setresuid(ruid, euid, suid int) error {
	return f.record("setresuid %d %d %d", ruid, euid, suid)
}

// Fstat reports stdio as f.stdio says, fds in f.stat as it says, others
// as they are.
func (f *fakeKernel) Fstat(fd int, st *unix.Stat_t) error {
	if s, ok := f.stat[fd]; ok {
		*st = s
		return nil
	}
	if fd >= 0 && fd <= 2 {
		if f.stdio[fd] == nil {
			return unix.EBADF
		}
		*st = *f.stdio[fd]
		return nil
	}
	return unix.Fstat(fd, st)
}

func (f *fakeKernel) Fstatfs(fd int, st *unix.Statfs_t) error {
	if err := unix.Fstatfs(fd, st); err != nil {
		return err
	}
	if f.fsType != 0 {
		st.Type = f.fsType
	}
	return nil
}

// Mount records the paths the /proc/self/fd links name.
func (f *fakeKernel) Mount(source, target, fstype string, flags uintptr, data string) error {
	link := func(p string) string {
		if l, err := os.Readlink(p); err == nil && strings.HasPrefix(p, "/proc/self/fd/") {
			return l
		}
		return p
	}
	return f.record("mount %s %s %q %#x %q", link(source), link(target), fstype, flags, data)
}

func (f *fakeKernel) Fchown(fd, uid, gid int) error { return f.record("fchown %d %d %d", fd, uid, gid) }

func (f *fakeKernel) Umask(mask int) int {
	f.record("umask %#o", mask)
	return 0o022
}

func (f *fakeKernel) Setrlimit(resource int, lim *syscall.Rlimit) error {
	return f.record("setrlimit %s %d %d", rlimitName(resource), lim.Cur, lim.Max)
}

func (f *fakeKernel) Getrlimit(resource int, lim *syscall.Rlimit) error {
	*lim = f.limits[resource]
	return f.fail["getrlimit"]
}

func (f *fakeKernel) Sethostname(name []byte) error   { return f.record("sethostname %s", name) }
func (f *fakeKernel) Setdomainname(name []byte) error { return f.record("setdomainname %s", name) }

func (f *fakeKernel) WriteFile(name string, data []byte, perm os.FileMode) error {
	return f.record("write %s %s", name, data)
}

func (f *fakeKernel) DropBounding(keep uint64) error { return f.record("bounding %#x", keep) }

func (f *fakeKernel) ApplyCaps(s *capabilities.Sets) error { return f.record("capset") }

func (f *fakeKernel) ApplyLSM(p *specs.Process) error { return f.record("lsm") }

func (f *fakeKernel) FinalizeRootfs(spec *specs.Spec, late []rootfs.LateRemount) error {
	return f.record("rootfs-finalize")
}
