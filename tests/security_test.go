package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// capBits maps capability names to their numbers (linux/capability.h).
var capBits = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// capMask computes the mask /proc/<pid>/status shows for names.
func capMask(t testing.TB, names []string) uint64 {
	t.Helper()
	var m uint64
	for _, n := range names {
		b, ok := capBits[n]
		if !ok {
			t.Fatalf("capMask: unknown capability %q", n)
		}
		m |= 1 << uint(b)
	}
	return m
}

// hostBounding is the test process's bounding set.
func hostBounding(t testing.TB) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseUint(statusField(string(b), "CapBnd"), 16, 64)
	if err != nil {
		t.Fatalf("CapBnd of the test process: %v", err)
	}
	return v
}

// requireHostCaps skips unless the host's bounding set has every name.
func requireHostCaps(t *testing.T, names ...string) {
	t.Helper()
	if miss := capMask(t, names) &^ hostBounding(t); miss != 0 {
		t.Skipf("the host's bounding set lacks capabilities %#x needed by this test", miss)
	}
}

// withAllHostCaps grants every capability of the host's bounding set.
func withAllHostCaps(t *testing.T) func(*specs.Spec) {
	bnd := hostBounding(t)
	var names []string
	for n, b := range capBits {
		if bnd&(1<<uint(b)) != 0 {
			names = append(names, n)
		}
	}
	return func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: names, Effective: names, Permitted: names, Inheritable: names,
		}
	}
}

func TestCapabilitySets(t *testing.T) {
	t.Parallel()
	type sets struct{ bnd, eff, prm, inh, amb []string }
	cases := []struct {
		name string
		user specs.User
		cfg  sets
		// What execve leaves (capabilities(7)): for root without
		// SECBIT_NOROOT, permitted = inheritable|bounding, effective =
		// permitted, ambient cleared; for a non-root user with no file
		// capabilities, permitted = effective = ambient. The configs are
		// chosen so that this is exactly the configured sets.
		want sets
	}{
		{
			name: "root",
			cfg: sets{
				bnd: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_SYSLOG", "CAP_CHECKPOINT_RESTORE"},
				eff: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_SYSLOG", "CAP_CHECKPOINT_RESTORE"},
				prm: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_SYSLOG", "CAP_CHECKPOINT_RESTORE"},
				inh: []string{"CAP_NET_RAW", "CAP_SYSLOG"},
			},
		},
		{
			name: "user-ambient",
			user: specs.User{UID: 1000, GID: 1000},
			cfg: sets{
				bnd: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETUID", "CAP_SETGID", "CAP_SYSLOG", "CAP_AUDIT_READ"},
				eff: []string{"CAP_NET_BIND_SERVICE", "CAP_AUDIT_READ"},
				prm: []string{"CAP_NET_BIND_SERVICE", "CAP_AUDIT_READ"},
				inh: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_AUDIT_READ"},
				amb: []string{"CAP_NET_BIND_SERVICE", "CAP_AUDIT_READ"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireHostCaps(t, tc.cfg.bnd...)
			e := newEnv(t)
			out := e.mustRun(func(s *specs.Spec) {
				s.Process.User = tc.user
				s.Process.Capabilities = &specs.LinuxCapabilities{
					Bounding: tc.cfg.bnd, Effective: tc.cfg.eff, Permitted: tc.cfg.prm,
					Inheritable: tc.cfg.inh, Ambient: tc.cfg.amb,
				}
			}, "cat", "/proc/self/status")
			for _, f := range []struct {
				key   string
				names []string
			}{
				{"CapBnd", tc.cfg.bnd}, {"CapEff", tc.cfg.eff}, {"CapPrm", tc.cfg.prm},
				{"CapInh", tc.cfg.inh}, {"CapAmb", tc.cfg.amb},
			} {
				want := fmt.Sprintf("%016x", capMask(t, f.names))
				if got := statusField(out, f.key); got != want {
					t.Errorf("%s = %s, want %s (%v)", f.key, got, want, f.names)
				}
			}
		})
	}
}

func TestCapabilityUnknownNameSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	known := []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"}
	withFake := append(append([]string{}, known...), "CAP_HULL_FAKE")
	r := e.run(all(withArgs("cat", "/proc/self/status"), func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: withFake, Effective: withFake, Permitted: withFake}
	}))
	if r.Code != 0 {
		// Spec v1.3.0, config.md, capabilities: a value that cannot be
		// mapped to a kernel interface MUST be logged as a warning; the
		// runtime SHOULD NOT fail.
		t.Fatalf("run with an unknown capability name: %v; want the container to run", r)
	}
	want := fmt.Sprintf("%016x", capMask(t, known))
	for _, k := range []string{"CapBnd", "CapEff", "CapPrm"} {
		if got := statusField(r.Stdout, k); got != want {
			t.Errorf("%s = %s, want %s (the known names only)", k, got, want)
		}
	}
	if isHull && !strings.Contains(r.Stderr, "CAP_HULL_FAKE") {
		t.Errorf("no warning naming CAP_HULL_FAKE on stderr: %q", r.Stderr)
	}
}

func TestCapabilityMissingOnHost(t *testing.T) {
	if !isHull {
		t.Skip("hull-only: refusing a capability the host's bounding set lacks is hull's choice; runc 1.1.5 does not check capabilities against its own bounding set")
	}
	// Note: spec v1.3.0 (config.md) says a capability that cannot be
	// granted MUST be logged as a warning and runtimes SHOULD NOT fail;
	// refusing it is hull's deliberate stricter choice (a container must
	// not silently get less than its config grants).
	t.Parallel()
	const sysResource = 24
	if hostBounding(t)&(1<<sysResource) != 0 {
		t.Skip("the host's bounding set has CAP_SYS_RESOURCE: nothing to refuse")
	}
	e := newEnv(t)
	caps := []string{"CAP_KILL", "CAP_SYS_RESOURCE"}
	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	}))
	r := e.rt("create", "--bundle", bundle, e.newID())
	if r.Code != 1 || !strings.Contains(r.Stderr, "CAP_SYS_RESOURCE") || !strings.Contains(r.Stderr, "process.capabilities.") {
		t.Errorf("create asking for CAP_SYS_RESOURCE on a host without it: %v; want exit 1 naming CAP_SYS_RESOURCE and process.capabilities.<set>[i]", r)
	}
	if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
		t.Errorf("list -q after the failed create: %q", out)
	}
}

func TestNoNewPrivileges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, nnp := range []bool{true, false} {
		out := e.mustRun(func(s *specs.Spec) { s.Process.NoNewPrivileges = nnp }, "cat", "/proc/self/status")
		want := map[bool]string{true: "1", false: "0"}[nnp]
		if got := statusField(out, "NoNewPrivs"); got != want {
			t.Errorf("noNewPrivileges %v: NoNewPrivs %q, want %s", nnp, got, want)
		}
	}
}

// limitsLine returns the soft and hard columns of one /proc/self/limits row.
func limitsLine(text, name string) (string, string) {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, name); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	return "", ""
}

func TestRlimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Never ask for more than the hard limit the runtime itself has.
	clamp := func(res int, soft, hard uint64) specs.POSIXRlimit {
		var cur unix.Rlimit
		if err := unix.Getrlimit(res, &cur); err != nil {
			t.Fatal(err)
		}
		hard = min(hard, cur.Max)
		return specs.POSIXRlimit{Soft: min(soft, hard), Hard: hard}
	}
	nofile, core, nproc := clamp(unix.RLIMIT_NOFILE, 100, 200), clamp(unix.RLIMIT_CORE, 4096, 8192), clamp(unix.RLIMIT_NPROC, 500, 1000)
	nofile.Type, core.Type, nproc.Type = "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_NPROC"
	out := e.mustRun(func(s *specs.Spec) { s.Process.Rlimits = []specs.POSIXRlimit{nofile, core, nproc} },
		"cat", "/proc/self/limits")
	for _, c := range []struct {
		row string
		rl  specs.POSIXRlimit
	}{{"Max open files", nofile}, {"Max core file size", core}, {"Max processes", nproc}} {
		soft, hard := limitsLine(out, c.row)
		if soft != strconv.FormatUint(c.rl.Soft, 10) || hard != strconv.FormatUint(c.rl.Hard, 10) {
			t.Errorf("%s: soft %q hard %q, want %d %d", c.row, soft, hard, c.rl.Soft, c.rl.Hard)
		}
	}

	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) {
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_HULL", Soft: 1, Hard: 1})
	}))
	r := e.rt("create", "--bundle", bundle, e.newID())
	if r.Code != 1 || !strings.Contains(r.Stderr, "RLIMIT_HULL") {
		t.Errorf("create with rlimit RLIMIT_HULL: %v; want exit 1 naming RLIMIT_HULL", r)
	}
}

// A created container's init waits for start in a fresh image of hull
// whose Go runtime must start after start: under rlimits where a thread
// stack (RLIMIT_STACK's soft value) does not fit in RLIMIT_AS, it did not
// ("pthread_create failed", then "init exited before its process was
// executed"; the OCI suite's process_rlimits). The process must still get
// every limit, and create must still fail for a hard limit it cannot set.
func TestRlimitsCreateStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const gib = 1 << 30
	limits := []specs.POSIXRlimit{
		{Type: "RLIMIT_AS", Soft: 1 * gib, Hard: 2 * gib},
		{Type: "RLIMIT_STACK", Soft: 9 * gib, Hard: 10 * gib},
		{Type: "RLIMIT_CPU", Soft: 60, Hard: 120},
	}
	// And a seccomp profile as large as the OCI suite's (an allow list of
	// 311 names for three architectures): libseccomp allocates while it
	// compiles, and RLIMIT_AS left no room for that in a Go process
	// (ENOMEM adding a rule; runc v1.5.1 fails so).
	var allowed []string
	b, err := os.ReadFile("testdata/allowed-syscalls.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &allowed); err != nil {
		t.Fatal(err)
	}
	withLimits := func(s *specs.Spec) {
		s.Process.Rlimits = limits
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			Syscalls:      []specs.LinuxSyscall{{Names: allowed, Action: specs.ActAllow}}}
	}
	// run: the init goes straight on to the process.
	out := e.mustRun(withLimits, "grep", "Max address space", "/proc/self/limits")
	if soft, hard := limitsLine(out, "Max address space"); soft != "1073741824" || hard != "2147483648" {
		t.Errorf("run: RLIMIT_AS soft %q hard %q, want 1 GiB, 2 GiB", soft, hard)
	}
	// create, then start: the init waits in a fresh image.
	bundle := e.newBundle(all(withShell("cat /proc/self/limits > /limits"), withLimits))
	id, _ := e.create(bundle)
	if r := e.rt("start", id); r.Code != 0 {
		t.Fatalf("start under RLIMIT_AS 1 GiB, RLIMIT_STACK 9 GiB, with a seccomp profile: %v", r)
	}
	e.waitStatus(id, "stopped")
	b, err = os.ReadFile(filepath.Join(bundle, "rootfs", "limits"))
	if err != nil {
		t.Fatalf("the process wrote no limits: %v", err)
	}
	for _, c := range []struct {
		row string
		rl  specs.POSIXRlimit
	}{{"Max address space", limits[0]}, {"Max stack size", limits[1]}, {"Max cpu time", limits[2]}} {
		soft, hard := limitsLine(string(b), c.row)
		if soft != strconv.FormatUint(c.rl.Soft, 10) || hard != strconv.FormatUint(c.rl.Hard, 10) {
			t.Errorf("%s: soft %q hard %q, want %d %d", c.row, soft, hard, c.rl.Soft, c.rl.Hard)
		}
	}

	// A hard limit above the runtime's own (no CAP_SYS_RESOURCE on these
	// machines; fs.nr_open caps RLIMIT_NOFILE for everyone) fails create.
	var cur unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &cur); err != nil {
		t.Fatal(err)
	}
	bundle = e.newBundle(all(withArgs("true"), func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1 << 40}}
	}))
	id = e.newID()
	r := e.rt("create", "--bundle", bundle, id)
	if r.Code != 1 || !strings.Contains(r.Stderr, "set RLIMIT_NOFILE") {
		t.Errorf("create with RLIMIT_NOFILE hard 2^40 (runtime's hard %d): %v; want exit 1 naming RLIMIT_NOFILE", cur.Max, r)
	}
	e.assertNotExist(id)
}

func TestOOMScoreAdj(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adj := 500
	out := e.mustRun(func(s *specs.Spec) { s.Process.OOMScoreAdj = &adj }, "cat", "/proc/self/oom_score_adj")
	if strings.TrimSpace(out) != "500" {
		t.Errorf("oom_score_adj = %q, want 500", out)
	}
}

func readTrim(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSysctl(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hostShm, hostFwd := readTrim(t, "/proc/sys/kernel/shmmax"), readTrim(t, "/proc/sys/net/ipv4/ip_forward")
	fwd := "1"
	if hostFwd == "1" {
		fwd = "0"
	}
	out := e.mustRun(func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"kernel.shmmax": "123456789", "net.ipv4.ip_forward": fwd}
	}, "sh", "-c", "echo SHMMAX=$(cat /proc/sys/kernel/shmmax); echo FWD=$(cat /proc/sys/net/ipv4/ip_forward)")
	if got := kv(out); got["SHMMAX"] != "123456789" || got["FWD"] != fwd {
		t.Errorf("inside: kernel.shmmax %q, net.ipv4.ip_forward %q; want 123456789 and %s", got["SHMMAX"], got["FWD"], fwd)
	}
	if readTrim(t, "/proc/sys/kernel/shmmax") != hostShm || readTrim(t, "/proc/sys/net/ipv4/ip_forward") != hostFwd {
		t.Errorf("the host's kernel.shmmax or net.ipv4.ip_forward changed")
	}

	// kernel.panic is not namespaced. The value is the host's current one,
	// so that even a runtime that wrongly writes it changes nothing.
	panicNow := readTrim(t, "/proc/sys/kernel/panic")
	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.panic": panicNow} }))
	r := e.rt("create", "--bundle", bundle, e.newID())
	if r.Code != 1 || !strings.Contains(r.Stderr, "kernel.panic") {
		t.Errorf("create with sysctl kernel.panic: %v; want exit 1 naming kernel.panic", r)
	}
	if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
		t.Errorf("list -q after the refused sysctl: %q", out)
	}
}

// statField returns field n (1-based, as in proc(5)) of a /proc/<pid>/stat line.
func statField(stat string, n int) string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3
	if n-3 < 0 || n-3 >= len(f) {
		return ""
	}
	return f[n-3]
}

func TestScheduler(t *testing.T) {
	if !isHull {
		t.Skip("hull-only: runc 1.1.5 predates process.scheduler (runc 1.2) and ignores it")
	}
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5}
	}, "sh", "-c", "cat /proc/self/stat; grep ^policy /proc/self/sched || echo no-sched-file")
	ls := lines(out)
	if len(ls) < 2 {
		t.Fatalf("output %q", out)
	}
	if nice := statField(ls[0], 19); nice != "5" {
		t.Errorf("/proc/self/stat field 19 (nice) = %q, want 5", nice)
	}
	if pol := statField(ls[0], 41); pol != "3" {
		t.Errorf("/proc/self/stat field 41 (policy) = %q, want 3 (SCHED_BATCH)", pol)
	}
	if ls[1] != "no-sched-file" {
		if f := strings.Fields(ls[1]); len(f) != 3 || f[2] != "3" {
			t.Errorf("/proc/self/sched: %q, want policy 3", ls[1])
		}
	}

	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_HULL"}
	}))
	r := e.rt("create", "--bundle", bundle, e.newID())
	if r.Code != 1 || !strings.Contains(r.Stderr, "process.scheduler.policy") {
		t.Errorf("create with scheduler policy SCHED_HULL: %v; want exit 1 naming process.scheduler.policy", r)
	}
}

func TestPersonalityLinux32(t *testing.T) {
	if !isHull {
		t.Skip("hull-only: runc 1.1.5 predates linux.personality (runc 1.2) and ignores it")
	}
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32} }, "uname", "-m")
	if strings.TrimSpace(out) != "i686" {
		t.Errorf("uname -m with personality LINUX32 = %q, want i686", out)
	}
}

func TestAppArmorProfileWithoutAppArmor(t *testing.T) {
	if !isHull {
		t.Skip("hull-only: runc 1.1.5 silently ignores apparmorProfile when AppArmor is not enabled")
	}
	t.Parallel()
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.HasPrefix(string(b), "Y") {
		t.Skip("AppArmor is enabled on this host: nothing to refuse")
	}
	e := newEnv(t)
	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) { s.Process.ApparmorProfile = "hull-test-profile" }))
	r := e.rt("create", "--bundle", bundle, e.newID())
	if r.Code != 1 || !strings.Contains(r.Stderr, "process.apparmorProfile") || !strings.Contains(r.Stderr, "AppArmor") {
		t.Errorf("create with apparmorProfile on a host without AppArmor: %v; want exit 1 naming process.apparmorProfile and AppArmor", r)
	}
	if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
		t.Errorf("list -q after the failed create: %q", out)
	}
}

// Where AppArmor is enabled (Debian's kernel in the VM lanes; these hosts
// have none), process.apparmorProfile is the profile the process runs
// under: "unconfined" here (a real profile needs apparmor_parser), for the
// init and for an exec with --apparmor; a profile the kernel does not
// have fails create, naming it.
func TestAppArmorProfile(t *testing.T) {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	if err != nil || !strings.HasPrefix(string(b), "Y") {
		t.Skip("AppArmor is not enabled on this host (the VM lanes' kernel has it)")
	}
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) { s.Process.ApparmorProfile = "unconfined" }, "cat", "/proc/self/attr/current")
	if strings.TrimSpace(out) != "unconfined" {
		t.Errorf("init's /proc/self/attr/current = %q, want unconfined", out)
	}
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) { s.Process.ApparmorProfile = "unconfined" }))
	id, _ := e.create(bundle)
	e.mustRT("start", id)
	if r := e.rt("exec", "--apparmor", "unconfined", id, "cat", "/proc/self/attr/current"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "unconfined" {
		t.Errorf("exec --apparmor unconfined: %v", r)
	}
	e.mustRT("delete", "-f", id)
	bundle = e.newBundle(all(withArgs("true"), func(s *specs.Spec) { s.Process.ApparmorProfile = "hull-no-such-profile" }))
	id = e.newID()
	r := e.rt("run", "--bundle", bundle, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, `apparmor profile "hull-no-such-profile"`) {
		t.Errorf("run with a profile the kernel does not have: %v, want an error naming it", r)
	}
	e.assertNotExist(id)
}

func fileSum(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestAttackOverwriteRuntimeBinary is CVE-2019-5736. Until `start`, the
// container's pid 1 is the runtime binary itself; a process exec'd into the
// container keeps an O_RDONLY fd on it through /proc/1/exe and, once the
// binary no longer runs (the init has exec'd the user's process and
// `start` has exited), reopens that fd for writing through
// /proc/self/fd/3. A naive runtime that executes its host binary directly
// gets it overwritten with "pwned": every later use of the runtime on the
// host runs the container's code. The runtime must execute the binary from
// something that cannot be reopened for writing (a sealed memfd copy, a
// read-only mount).
func TestAttackOverwriteRuntimeBinary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A private copy, used for every command of this test: nothing else
	// runs it, so only the attack's own defences can stop the write.
	bin := filepath.Join(e.mkdir("rtcopy"), filepath.Base(runtimeBin))
	if out, err := exec.Command("cp", runtimeBin, bin).CombinedOutput(); err != nil {
		t.Fatalf("cp %s %s: %v %s", runtimeBin, bin, err, out)
	}
	before := fileSum(t, bin)
	out := e.mkdir("attack-out")
	bundle := e.newBundle(all(sleeper, withAllHostCaps(t),
		withMount(specs.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"rbind", "rw"}})))
	id := e.newID()
	rtc := func(args ...string) result {
		t.Helper()
		return execBin(t, bin, "", append([]string{"--root", e.root}, args...)...)
	}
	pidFile := filepath.Join(e.base, "init.pid")
	if r := rtc("create", "--bundle", bundle, "--pid-file", pidFile, id); r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	e.readPidFile(pidFile)
	// The result is written aside and renamed into place: the test polls
	// for /out/result and must never read it between create and write.
	script := `
res() { echo "$1" > /out/result.tmp; mv /out/result.tmp /out/result; }
exec 3</proc/1/exe || { res open-failed; exit 0; }
first=$(readlink /proc/1/exe)
echo "first=$first" > /out/log
touch /out/opened
i=0
while [ "$(readlink /proc/1/exe)" = "$first" ]; do
	i=$((i+1)); if [ $i -gt 300 ]; then echo timeout-waiting-for-start >> /out/log; break; fi
	sleep 0.05
done
echo "now=$(readlink /proc/1/exe)" >> /out/log
n=0
while [ $n -lt 30 ]; do
	if (echo pwned >/proc/self/fd/3) 2>>/out/err; then res write-ok; exit 0; fi
	n=$((n+1)); sleep 0.1
done
res write-failed
`
	if r := rtc("exec", "--detach", id, "sh", "-c", script); r.Code != 0 {
		t.Fatalf("exec --detach: %v", r)
	}
	waitFile(t, filepath.Join(out, "opened"))
	if r := rtc("start", id); r.Code != 0 {
		t.Fatalf("start: %v", r)
	}
	// The attacker retries for ~3s after the init exec'd.
	resultFile := filepath.Join(out, "result")
	for deadline := time.Now().Add(25 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(resultFile); err == nil || time.Now().After(deadline) {
			break
		}
	}
	res, _ := os.ReadFile(resultFile)
	logb, _ := os.ReadFile(filepath.Join(out, "log"))
	errb, _ := os.ReadFile(filepath.Join(out, "err"))
	t.Logf("attacker: result %q, log %q, last errors %q", res, logb, lastLines(string(errb), 2))
	if after := fileSum(t, bin); after != before {
		t.Errorf("the runtime binary %s was modified by the container", bin)
	}
	switch strings.TrimSpace(string(res)) {
	case "write-failed":
	case "open-failed":
		t.Errorf("the attacker could not open /proc/1/exe: the test proves nothing (err %q)", errb)
	default:
		t.Errorf("attacker result %q, want write-failed (log %q)", res, logb)
	}
	if !strings.Contains(string(logb), "now=") || strings.Contains(string(logb), "timeout-waiting-for-start") {
		t.Errorf("the init never exec'd the user's process while the attacker watched: %q", logb)
	}
	rtc("delete", "--force", id)
}

func lastLines(s string, n int) []string {
	ls := lines(s)
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return ls
}

// TestAttackCwdLeakedFd is CVE-2024-21626: process.cwd /proc/self/fd/N
// names whatever directory fd N of the runtime's init is at the chdir. A
// naive runtime that leaks a host directory fd (runc leaked one on
// /sys/fs/cgroup) starts the process with its cwd on the host, outside
// the container's root, from where ../../.. reaches the host's files. The
// runtime must fail the create or start, or the cwd must lie inside the
// container's root.
func TestAttackCwdLeakedFd(t *testing.T) {
	t.Parallel()
	// Walk up from the cwd until reaching the container's / (same device
	// and inode): from a cwd outside the root one never gets there.
	script := `echo "PWD=$(pwd 2>&1)"; d=.; i=0
while [ $i -lt 40 ]; do
	if [ "$(stat -c %d:%i $d)" = "$(stat -c %d:%i /)" ]; then echo INROOT=yes; break; fi
	d=$d/..; i=$((i+1))
done`
	for n := 3; n <= 10; n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.run(all(withShell(script), func(s *specs.Spec) { s.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", n) }))
			if !strings.Contains(r.Stdout, "PWD=") {
				if r.Code == 0 {
					t.Errorf("run exited 0 but the container's output never reached its stdout: %v", r)
				}
				t.Logf("refused: %s", strings.TrimSpace(r.Stderr))
				return
			}
			t.Logf("ran: %v", r)
			got := kv(r.Stdout)
			if got["INROOT"] != "yes" || !strings.HasPrefix(got["PWD"], "/") || strings.Contains(got["PWD"], "unreachable") {
				t.Errorf("cwd /proc/self/fd/%d: the process runs with a cwd outside the container's root: %v", n, r)
			}
		})
	}
}

// TestAttackDevNullReplaced is CVE-2025-31133: maskedPaths hides a file by
// bind-mounting /dev/null over it. If /dev is the rootfs's own directory,
// the container image controls /dev/null; a naive runtime that bind-mounts
// whatever /dev/null is ends up binding /proc/sys/kernel/core_pattern (a
// symlink target, resolved in the container) read-write over the masked
// file, so the container can write the host's core_pattern (and run code
// on the host at the next crash), or it binds an arbitrary image file
// instead of hiding the path. The runtime must refuse, or mask with a real
// null device.
func TestAttackDevNullReplaced(t *testing.T) {
	if !isHull {
		t.Skip("runc 1.1.5 predates the fix for CVE-2025-31133 (runc 1.2.8/1.3.3): it keeps and uses the image's /dev/null (for masking, and to reopen the container's stdio)")
	}
	t.Parallel()
	corePattern := readTrim(t, "/proc/sys/kernel/core_pattern")
	// Should a vulnerable runtime let anything through, put it back.
	t.Cleanup(func() {
		if now := readTrim(t, "/proc/sys/kernel/core_pattern"); now != corePattern {
			t.Errorf("the host's kernel.core_pattern changed to %q; restoring %q", now, corePattern)
			_ = os.WriteFile("/proc/sys/kernel/core_pattern", []byte(corePattern), 0)
		}
	})
	for _, tc := range []struct {
		name    string
		replace func(path string) error
		userns  bool
	}{
		{"symlink", func(p string) error { return os.Symlink("/proc/sys/kernel/core_pattern", p) }, false},
		{"regular-file", func(p string) error { return os.WriteFile(p, []byte("not-the-null-device\n"), 0o666) }, false},
		{"symlink-userns", func(p string) error { return os.Symlink("/proc/sys/kernel/core_pattern", p) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mutate := all(
				withShell(`echo "MASKED=$(cat /etc/hull-marker)"; echo "TYPE=$(stat -c '%F %t:%T' /etc/hull-marker)"`),
				func(s *specs.Spec) {
					var ms []specs.Mount
					for _, m := range s.Mounts {
						// /proc read-only: a vulnerable runtime must not be
						// able to write the host's core_pattern through the
						// replaced /dev/null while this test runs (runc
						// 1.1.5, for one, reopens stdio on "/dev/null").
						// The attack shape is the same: a bind mount is
						// writable whatever its source mount.
						if m.Destination == "/proc" {
							m.Options = append(m.Options, "ro")
						}
						if m.Destination != "/dev" {
							ms = append(ms, m)
						}
					}
					s.Mounts = ms
					s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/etc/hull-marker")
				})
			var bundle string
			if tc.userns {
				bundle = userNSBundle(t, e, mutate)
			} else {
				bundle = e.newBundle(mutate)
			}
			null := filepath.Join(bundle, "rootfs/dev/null")
			_ = os.Remove(null)
			if err := tc.replace(null); err != nil {
				t.Fatal(err)
			}
			if tc.userns {
				_ = os.Lchown(null, 100000, 100000)
			}
			r := e.rt("run", "--bundle", bundle, e.newID())
			if !strings.Contains(r.Stdout, "MASKED=") {
				if r.Code == 0 {
					t.Errorf("run exited 0 but the container's output never reached its stdout: %v", r)
				}
				t.Logf("refused: %s", strings.TrimSpace(r.Stderr))
				return
			}
			got := kv(r.Stdout)
			if got["MASKED"] != "" || got["TYPE"] != "character special file 1:3" {
				t.Errorf("masked /etc/hull-marker with /dev/null replaced: content %q, type %q; want empty and a character special file 1:3 (%v)", got["MASKED"], got["TYPE"], r)
			}
		})
	}
}

// TestAttackStdioDevNull: with stdio on the host's /dev/null, a naive
// runtime that hands stdio to the container user by fchown'ing fds 0-2
// (so that a non-root process can reopen /proc/self/fd/N) changes the
// owner of the host's /dev/null, which every host process shares.
func TestAttackStdioDevNull(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var before syscall.Stat_t
	if err := syscall.Stat("/dev/null", &before); err != nil {
		t.Fatal(err)
	}
	bundle := e.newBundle(all(withShell("id -u >/dev/null; ls -l /proc/self/fd/ >/dev/null; true"),
		func(s *specs.Spec) { s.Process.User = specs.User{UID: 1000, GID: 1000} }))
	cmd := exec.Command(runtimeBin, "--root", e.root, "run", "--bundle", bundle, e.newID())
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	cmd.Stdin, cmd.Stdout = null, null
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := waitCmd(t, cmd); code != 0 {
		t.Errorf("run with stdio on /dev/null: exit %d, stderr %q", code, stderr.String())
	}
	var after syscall.Stat_t
	if err := syscall.Stat("/dev/null", &after); err != nil {
		t.Fatal(err)
	}
	if after.Uid != before.Uid || after.Gid != before.Gid || after.Mode != before.Mode {
		t.Errorf("host /dev/null changed: owner %d:%d mode %o, was %d:%d mode %o; restoring",
			after.Uid, after.Gid, after.Mode, before.Uid, before.Gid, before.Mode)
		_ = os.Chown("/dev/null", int(before.Uid), int(before.Gid))
		_ = os.Chmod("/dev/null", os.FileMode(before.Mode&0o777))
	}
}
