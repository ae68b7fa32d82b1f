package initproc

import (
	"errors"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The init's decisions, recorded through the fake kernel
// (kernel_fake_linux_test.go): no root needed, and the test process keeps
// its credentials.

func testCaps(t *testing.T) *capabilities.Sets {
	t.Helper()
	names := []string{"CAP_CHOWN", "CAP_KILL"}
	caps, err := capabilities.Parse(&specs.LinuxCapabilities{Bounding: names, Permitted: names, Effective: names}, "process.capabilities")
	if err != nil {
		t.Fatal(err)
	}
	return caps
}

// testFinisher is a finisher for uid 1000, gid 100, groups 10 and 20,
// umask 027, with an address-space rlimit; its seccomp filter is a
// recorded "seccomp".
func testFinisher(t *testing.T, f *fakeKernel, noNewPriv bool) *finisher {
	umask := uint32(0o027)
	return &finisher{
		cwd:       "/srv",
		user:      specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10, 20}, Umask: &umask},
		caps:      testCaps(t),
		noNewPriv: noNewPriv,
		lsm:       &specs.Process{},
		seccomp:   func() error { return f.record("seccomp") },
		addrSpace: []specs.POSIXRlimit{{Type: "RLIMIT_AS", Soft: 1 << 30, Hard: 1 << 31}},
	}
}

// The credentials part of drop: stdio handed to the user, then
// setgroups, setgid, setuid, between keep-caps on and off; capset after.
var credentials = []string{
	"bounding 0x21",
	"prctl PR_SET_KEEPCAPS 1",
	"fchown 1 1000 -1",
	"setgroups [10 20]",
	"setresgid 100 100 100",
	"setresuid 1000 1000 1000",
	"prctl PR_SET_KEEPCAPS 0",
	"capset",
	"umask 027",
}

func withStdio(f *fakeKernel) {
	null := &unix.Stat_t{Mode: unix.S_IFCHR | 0o666, Rdev: unix.Mkdev(1, 3)}
	pty := &unix.Stat_t{Mode: unix.S_IFCHR | 0o620, Rdev: unix.Mkdev(136, 0)}
	f.stdio = [3]*unix.Stat_t{null, pty, nil} // /dev/null is left alone; fd 2 is closed
}

// With no_new_privs, the filter is the very last step: no_new_privs, the
// address-space rlimits, then the filter, after the user switch.
func TestDropOrderNoNewPrivs(t *testing.T) {
	f := useFake(t)
	withStdio(f)
	if err := testFinisher(t, f, true).drop(); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"lsm", "chdir /srv", "getwd"}, credentials...)
	want = append(want, "prctl PR_SET_NO_NEW_PRIVS 1", "setrlimit RLIMIT_AS 1073741824 2147483648", "seccomp")
	f.expect(t, want...)
}

// Without no_new_privs the filter is loaded first, while the process
// still has CAP_SYS_ADMIN, after the chdir and the address-space
// rlimits; the default umask is 022.
func TestDropOrderWithoutNoNewPrivs(t *testing.T) {
	f := useFake(t)
	withStdio(f)
	fin := testFinisher(t, f, false)
	fin.user.Umask = nil
	if err := fin.drop(); err != nil {
		t.Fatal(err)
	}
	want := []string{"lsm", "chdir /srv", "getwd", "setrlimit RLIMIT_AS 1073741824 2147483648", "seccomp"}
	want = append(want, credentials[:len(credentials)-1]...)
	f.expect(t, append(want, "umask 022")...)
}

// Without process.capabilities the capability sets are left alone.
func TestDropWithoutCapabilities(t *testing.T) {
	f := useFake(t)
	fin := testFinisher(t, f, true)
	fin.caps = nil
	fin.user.AdditionalGids = nil
	fin.addrSpace = nil
	if err := fin.drop(); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "lsm", "chdir /srv", "getwd", "setgroups []", "setresgid 100 100 100", "setresuid 1000 1000 1000",
		"umask 027", "prctl PR_SET_NO_NEW_PRIVS 1", "seccomp")
}

// A failing step stops drop there, its error wrapped with what it was
// setting; nothing after it is done.
func TestDropErrors(t *testing.T) {
	for _, c := range []struct {
		call    string // the failing call's first word
		err     error
		msg     string
		lastRun string // the last call made
	}{
		{"chdir", unix.ENOENT, `chdir to cwd ("/srv") set in config.json: no such file or directory`, "chdir /srv"},
		{"getwd", unix.ENOENT, `cwd "/srv" is outside the container's root`, "getwd"},
		{"bounding", unix.EPERM, "operation not permitted", "bounding 0x21"},
		{"fchown", unix.EIO, "chown stdio fd 1 to uid 1000: input/output error", "fchown 1 1000 -1"},
		{"setgroups", unix.EPERM, "setgroups [10 20]: operation not permitted", "setgroups [10 20]"},
		{"setresgid", unix.EINVAL, "setgid 100: invalid argument", "setresgid 100 100 100"},
		{"setresuid", unix.EAGAIN, "setuid 1000: resource temporarily unavailable", "setresuid 1000 1000 1000"},
		{"capset", unix.EPERM, "operation not permitted", "capset"},
		{"setrlimit", unix.EPERM, "set RLIMIT_AS to soft 1073741824 hard 2147483648: operation not permitted", "setrlimit RLIMIT_AS 1073741824 2147483648"},
		{"seccomp", unix.EINVAL, "invalid argument", "seccomp"},
	} {
		t.Run(c.call, func(t *testing.T) {
			f := useFake(t)
			withStdio(f)
			f.fail[c.call] = c.err
			err := testFinisher(t, f, true).drop()
			if err == nil || !errors.Is(err, c.err) && c.call != "getwd" || err.Error() != c.msg {
				t.Errorf("err = %v, want %q wrapping %v", err, c.msg, c.err)
			}
			if last := f.calls[len(f.calls)-1]; last != c.lastRun {
				t.Errorf("went on after the failure: calls %q", f.calls)
			}
		})
	}
}

// A stdio the user cannot be given (EPERM: an owner not mapped; EROFS) is
// left as it is; setgroups([]) refused (EPERM in a user namespace with
// setgroups denied) is no error, setgroups of a list is.
func TestSetUserTolerated(t *testing.T) {
	for _, e := range []error{unix.EPERM, unix.EROFS, unix.EINVAL} {
		f := useFake(t)
		withStdio(f)
		f.fail["fchown"] = e
		if err := setUser(specs.User{UID: 1000, GID: 100}); err != nil {
			t.Errorf("fchown %v: %v", e, err)
		}
	}
	f := useFake(t)
	f.fail["setgroups"] = unix.EPERM
	if err := setUser(specs.User{UID: 1000, GID: 100}); err != nil {
		t.Errorf("setgroups([]) EPERM: %v", err)
	}
	f.expect(t, "setgroups []", "setresgid 100 100 100", "setresuid 1000 1000 1000")
	// A stdio already the user's is not chowned.
	f = useFake(t)
	f.stdio[0] = &unix.Stat_t{Mode: unix.S_IFREG, Uid: 1000}
	if err := setUser(specs.User{UID: 1000, GID: 100}); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "setgroups []", "setresgid 100 100 100", "setresuid 1000 1000 1000")
}

// process.rlimits: each set as given (soft and hard); raiseHardLimits
// only raises a hard limit above the current one, keeping the soft one.
func TestRlimits(t *testing.T) {
	f := useFake(t)
	rl := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}, {Type: "RLIMIT_CORE", Soft: 0, Hard: 0}}
	if err := setRlimits(rl); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "setrlimit RLIMIT_NOFILE 1024 4096", "setrlimit RLIMIT_CORE 0 0")

	f = useFake(t)
	f.limits[unix.RLIMIT_NOFILE] = syscall.Rlimit{Cur: 512, Max: 2048}
	f.limits[unix.RLIMIT_CORE] = syscall.Rlimit{Cur: 0, Max: 100}
	f.limits[unix.RLIMIT_NPROC] = syscall.Rlimit{Cur: 10, Max: 4096}
	if err := raiseHardLimits(append(rl, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 4096, Hard: 4096})); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "setrlimit RLIMIT_NOFILE 512 4096")

	f = useFake(t)
	f.fail["setrlimit"] = unix.EPERM
	err := setRlimits(rl)
	if !errors.Is(err, unix.EPERM) || err.Error() != "set RLIMIT_NOFILE to soft 1024 hard 4096: operation not permitted" {
		t.Errorf("err = %v", err)
	}
	f.expect(t, "setrlimit RLIMIT_NOFILE 1024 4096")
}

// The address-space limits are set apart (last, before the filter).
func TestSplitRlimits(t *testing.T) {
	others, as := splitRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}, {Type: "RLIMIT_AS"}, {Type: "RLIMIT_CORE"},
		{Type: "RLIMIT_STACK"}, {Type: "RLIMIT_DATA"}})
	var o, a []string
	for _, r := range others {
		o = append(o, r.Type)
	}
	for _, r := range as {
		a = append(a, r.Type)
	}
	if strings.Join(o, ",") != "RLIMIT_NOFILE,RLIMIT_CORE" || strings.Join(a, ",") != "RLIMIT_AS,RLIMIT_STACK,RLIMIT_DATA" {
		t.Errorf("others %v, address space %v", o, a)
	}
}

// finalizeContainer: hostname and domainname (only when given; config
// validation refuses them without a UTS namespace), the sysctls written
// under /proc/sys (dots are slashes, a slash a dot), then the rootfs.
func TestFinalizeContainer(t *testing.T) {
	cfg := &proto.InitConfig{Spec: &specs.Spec{
		Hostname: "box", Domainname: "example.org",
		Linux: &specs.Linux{Sysctl: map[string]string{
			"net.ipv4.ip_forward":               "1",
			"net.ipv4.conf.eth0/100.forwarding": "0",
			"kernel/shm_rmid_forced":            "1",
		}},
	}}
	f := useFake(t)
	if err := finalizeContainer(cfg, nil); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 6 {
		t.Fatalf("calls %q", f.calls)
	}
	writes := append([]string(nil), f.calls[2:5]...)
	sort.Strings(writes)
	f.calls = append(append(f.calls[:2:2], writes...), f.calls[5])
	f.expect(t, "sethostname box", "setdomainname example.org",
		"write /proc/sys/kernel/shm_rmid_forced 1",
		"write /proc/sys/net/ipv4/conf/eth0.100/forwarding 0",
		"write /proc/sys/net/ipv4/ip_forward 1",
		"rootfs-finalize")

	// Nothing set that the config does not give.
	f = useFake(t)
	if err := finalizeContainer(&proto.InitConfig{Spec: &specs.Spec{Linux: &specs.Linux{}}}, nil); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "rootfs-finalize")
	f = useFake(t)
	if err := finalizeContainer(&proto.InitConfig{Spec: &specs.Spec{Hostname: "box", Linux: &specs.Linux{}}}, nil); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "sethostname box", "rootfs-finalize")
	f = useFake(t)
	if err := finalizeContainer(&proto.InitConfig{Spec: &specs.Spec{Domainname: "example.org", Linux: &specs.Linux{}}}, nil); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "setdomainname example.org", "rootfs-finalize")

	for _, c := range []struct{ call, msg string }{
		{"sethostname", `set hostname "box": operation not permitted`},
		{"setdomainname", `set domainname "example.org": operation not permitted`},
	} {
		f = useFake(t)
		f.fail[c.call] = unix.EPERM
		err := finalizeContainer(cfg, nil)
		if !errors.Is(err, unix.EPERM) || err.Error() != c.msg {
			t.Errorf("err = %v, want %s", err, c.msg)
		}
	}
	f = useFake(t)
	f.fail["write"] = unix.EACCES
	cfg.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	err := finalizeContainer(cfg, nil)
	if !errors.Is(err, unix.EACCES) || err.Error() != "linux.sysctl: set net.ipv4.ip_forward=1: permission denied" {
		t.Errorf("err = %v", err)
	}
	if f.calls[len(f.calls)-1] == "rootfs-finalize" {
		t.Errorf("the rootfs finalized after a failed sysctl")
	}
}
