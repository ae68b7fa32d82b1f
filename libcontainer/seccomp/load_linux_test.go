package seccomp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// goRuntime is what a Go child needs after Load when the default action
// denies: the runtime's own background syscalls, write for the results
// and exit_group. getppid and mkdirat are deliberately not in it.
var goRuntime = []string{
	"arch_prctl", "brk", "clock_gettime", "clock_nanosleep", "clone", "clone3",
	"close", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_wait", "exit",
	"exit_group", "fcntl", "futex", "getpid", "getrandom", "gettid", "madvise",
	"mmap", "mprotect", "munmap", "nanosleep", "openat", "read", "rseq",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sched_getaffinity",
	"sched_yield", "set_robust_list", "sigaltstack", "tgkill", "write",
}

func TestLoadErrnoRuleReturnsThatErrno(t *testing.T) {
	dir := t.TempDir()
	blocked := filepath.Join(dir, "blocked")
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names:    []string{"mkdir", "mkdirat"},
			Action:   specs.ActErrno,
			ErrnoRet: uintp(uint(unix.ENOSYS)),
		}},
	}
	r := runChild(t, prof, "mkdirat:"+blocked)
	r.mustExit0(t)
	r.expect(t, "mkdirat:"+blocked, fmt.Sprintf("errno:%d", unix.ENOSYS))
	if _, err := os.Stat(blocked); !os.IsNotExist(err) {
		t.Errorf("%s was created despite the filter (stat: %v)", blocked, err)
	}
}

func TestLoadErrnoWithoutErrnoRetIsEPERM(t *testing.T) {
	blocked := filepath.Join(t.TempDir(), "blocked")
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno}},
	}
	r := runChild(t, prof, "mkdirat:"+blocked)
	r.mustExit0(t)
	r.expect(t, "mkdirat:"+blocked, fmt.Sprintf("errno:%d", unix.EPERM))
}

func TestLoadDefaultErrnoWithAllowList(t *testing.T) {
	dir := t.TempDir()
	prof := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uintp(uint(unix.ENXIO)),
		Syscalls:        []specs.LinuxSyscall{{Names: goRuntime, Action: specs.ActAllow}},
	}
	r := runChild(t, prof, "getpid", "getppid", "mkdirat:"+filepath.Join(dir, "x"))
	r.mustExit0(t)
	r.expect(t, "getpid", fmt.Sprintf("ok:%d", r.pid))
	r.expect(t, "getppid", fmt.Sprintf("errno:%d", unix.ENXIO))
	r.expect(t, "mkdirat:"+filepath.Join(dir, "x"), fmt.Sprintf("errno:%d", unix.ENXIO))
}

func TestLoadArgEqual(t *testing.T) {
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names:    []string{"personality"},
			Action:   specs.ActErrno,
			ErrnoRet: uintp(uint(unix.EACCES)),
			Args:     []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo}},
		}},
	}
	// personality(0xffffffff) only queries; personality(0) sets PER_LINUX,
	// which the child already has, and returns the old persona (0).
	r := runChild(t, prof, "personality:0xffffffff", "personality:0")
	r.mustExit0(t)
	r.expect(t, "personality:0xffffffff", fmt.Sprintf("errno:%d", unix.EACCES))
	r.expect(t, "personality:0", "ok:0")
}

func TestLoadMaskedEqualAndConditionsAND(t *testing.T) {
	// One entry, two different argument indexes: both must hold. arg1 is
	// compared after masking with 0xf, so SOCK_DGRAM|SOCK_CLOEXEC matches
	// SOCK_DGRAM, which a plain EQ would not.
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names:    []string{"socket"},
			Action:   specs.ActErrno,
			ErrnoRet: uintp(200),
			Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: unix.AF_UNIX, Op: specs.OpEqualTo},
				{Index: 1, Value: 0xf, ValueTwo: unix.SOCK_DGRAM, Op: specs.OpMaskedEqual},
			},
		}},
	}
	unixDgram := fmt.Sprintf("socket:%d,%d", unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC)
	unixStream := fmt.Sprintf("socket:%d,%d", unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC)
	inetDgram := fmt.Sprintf("socket:%d,%d", unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC)
	r := runChild(t, prof, unixDgram, unixStream, inetDgram)
	r.mustExit0(t)
	r.expect(t, unixDgram, "errno:200")
	for _, op := range []string{unixStream, inetDgram} {
		if got := r.lines[op]; !strings.HasPrefix(got, "ok:") {
			t.Errorf("%s = %q, want ok (not matched by the rule)", op, got)
		}
	}
}

func TestLoadSameArgIndexIsOR(t *testing.T) {
	// libseccomp refuses two conditions on one argument in a rule; like
	// runc, each becomes a rule of its own, so either value matches.
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names:    []string{"socket"},
			Action:   specs.ActErrno,
			ErrnoRet: uintp(201),
			Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: unix.AF_INET6, Op: specs.OpEqualTo},
				{Index: 0, Value: unix.AF_PACKET, Op: specs.OpEqualTo},
			},
		}},
	}
	inet6 := fmt.Sprintf("socket:%d,%d", unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC)
	packet := fmt.Sprintf("socket:%d,%d", unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC)
	local := fmt.Sprintf("socket:%d,%d", unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC)
	r := runChild(t, prof, inet6, packet, local)
	r.mustExit0(t)
	r.expect(t, inet6, "errno:201")
	r.expect(t, packet, "errno:201")
	if got := r.lines[local]; !strings.HasPrefix(got, "ok:") {
		t.Errorf("%s = %q, want ok", local, got)
	}
}

func TestLoadKillProcess(t *testing.T) {
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActKillProcess}},
	}
	r := runChild(t, prof, "getpid", "getppid", "getpid")
	if r.lines["load"] == "" {
		t.Fatalf("filter did not load: %v\n%s", r.status, r.stderr)
	}
	if !r.status.Signaled() || r.status.Signal() != syscall.SIGSYS {
		t.Fatalf("child status %v, want killed by SIGSYS\nstdout:\n%s", r.status, r.stdout)
	}
	r.expect(t, "getpid", fmt.Sprintf("ok:%d", r.pid))
	if strings.Count(r.stdout, "getpid=") != 1 {
		t.Errorf("child went on after getppid:\n%s", r.stdout)
	}
}

func TestLoadStatusShowsFilterMode(t *testing.T) {
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{flagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno}},
	}
	r := runChild(t, prof, "status")
	r.mustExit0(t)
	r.expect(t, "load", "ok:-1")
	r.expect(t, "Seccomp", "2") // SECCOMP_MODE_FILTER
}

func TestLoadDoesNotSetNoNewPrivs(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("needs root: without no_new_privs only CAP_SYS_ADMIN may load a filter")
	}
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno}},
	}
	r := startChild(t, prof, []string{"status", "getppid"}, noNNPEnv+"=1").wait(t)
	r.mustExit0(t)
	r.expect(t, "Seccomp", "2")
	r.expect(t, "NoNewPrivs", "0")
	r.expect(t, "getppid", fmt.Sprintf("errno:%d", unix.EPERM))
}

func TestLoadDockerLikeProfile(t *testing.T) {
	prof := dockerLikeProfile(t)
	dir := t.TempDir()
	vsock := fmt.Sprintf("socket:%d,%d", unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC)
	local := fmt.Sprintf("socket:%d,%d", unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC)
	mk := "mkdirat:" + filepath.Join(dir, "ok")
	r := runChild(t, prof, "getpid", mk, "personality:0xffffffff", "personality:0x40000", vsock, local, "status")
	r.mustExit0(t)
	r.expect(t, "getpid", fmt.Sprintf("ok:%d", r.pid))
	r.expect(t, mk, "ok:0")
	r.expect(t, "personality:0xffffffff", "ok:0")
	// ADDR_NO_RANDOMIZE is not among the allowed personalities: default
	// errno (defaultErrnoRet 1).
	r.expect(t, "personality:0x40000", fmt.Sprintf("errno:%d", unix.EPERM))
	r.expect(t, vsock, fmt.Sprintf("errno:%d", unix.EPERM))
	if got := r.lines[local]; !strings.HasPrefix(got, "ok:") {
		t.Errorf("%s = %q, want ok", local, got)
	}
	r.expect(t, "Seccomp", "2")
}

func TestBuildAddsArchitectures(t *testing.T) {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		t.Fatal(err)
	}
	if native != libseccomp.ArchAMD64 {
		t.Skipf("test lists x86 architectures; native is %v", native)
	}
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32},
	}
	b, err := build(prof)
	if err != nil {
		t.Fatal(err)
	}
	defer b.filter.Release()
	for _, a := range []libseccomp.ScmpArch{libseccomp.ArchAMD64, libseccomp.ArchX86, libseccomp.ArchX32} {
		if ok, err := b.filter.IsArchPresent(a); err != nil || !ok {
			t.Errorf("arch %v present = %v, %v; want true", a, ok, err)
		}
	}
	if ok, _ := b.filter.IsArchPresent(libseccomp.ArchARM64); ok {
		t.Errorf("arm64 present although not listed")
	}
}
