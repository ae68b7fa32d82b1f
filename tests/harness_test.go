// Package tests is the integration test suite of hull. It drives the runtime
// binary through its runc-compatible command line, exactly as a container
// engine would, and checks what a container sees and what it leaves behind.
//
// By default the suite builds hull from the repository root. Set
// HULL_TEST_RUNTIME to the path of another binary (for example
// /usr/sbin/runc) to run the very same tests against it. Tests for points
// where runc 1.1.5 is known to deviate are skipped unless the runtime under
// test is hull (see isHull).
package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var (
	// runtimeBin is the absolute path of the runtime under test.
	runtimeBin string
	// isHull is true when the runtime under test is hull (built by TestMain,
	// or a HULL_TEST_RUNTIME whose base name contains "hull").
	isHull bool
	// templateRootfs is the busybox rootfs that every bundle copies.
	templateRootfs string
	// rootless is true when the suite runs as an unprivileged user
	// (HULL_TEST_ROOTLESS=1): bundles come from `spec --rootless` and the
	// tests that need root skip themselves (needRoot).
	rootless bool
)

// rootlessBundle adapts `spec --rootless` for the tests: a network
// namespace (which runc's rootless spec leaves out, a user may make one in
// its user namespace, and tests expect one) and, when the lane gave the
// user subordinate ids (HULL_ROOTLESS_SUBUID, _SUBGID), podman's mapping:
// container root is the user, ids 1-65536 its subordinate ids (through
// newuidmap/newgidmap), so that processes can run as other users.
func rootlessBundle(s *specs.Spec) {
	hasNet := false
	for _, n := range s.Linux.Namespaces {
		hasNet = hasNet || n.Type == specs.NetworkNamespace
	}
	if !hasNet {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	if u, g := subIDs(); u > 0 && g > 0 {
		s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: u, Size: 65536})
		s.Linux.GIDMappings = append(s.Linux.GIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: g, Size: 65536})
	}
}

// subIDs are the first of the 65536 subordinate uids and gids of the
// rootless lane's user (0 when not given).
func subIDs() (uid, gid uint32) {
	u, _ := strconv.ParseUint(os.Getenv("HULL_ROOTLESS_SUBUID"), 10, 32)
	g, _ := strconv.ParseUint(os.Getenv("HULL_ROOTLESS_SUBGID"), 10, 32)
	return uint32(u), uint32(g)
}

// needRoot skips t when the suite runs rootless, saying why the test needs
// root.
func needRoot(t testing.TB, why string) {
	t.Helper()
	if rootless {
		t.Skipf("needs root (rootless run): %s", why)
	}
}

// cmdTimeout bounds every invocation of the runtime.
const cmdTimeout = 30 * time.Second

// reaperEnv makes the test binary act as a child-subreaper wrapper instead
// of running tests (see reaperMain).
const reaperEnv = "HULLTEST_REAPER_OUT"

// suiteWork is the suite's own temporary directory, removed when the
// tests end: what tests build once for all (the fault build) goes there.
var suiteWork string

func TestMain(m *testing.M) {
	if out := os.Getenv(reaperEnv); out != "" {
		os.Exit(reaperMain(out, os.Args[1:]))
	}
	if os.Getenv(fakeCriuEnv) != "" {
		os.Exit(fakeCriuMain())
	}
	if os.Geteuid() != 0 {
		if os.Getenv("HULL_TEST_ROOTLESS") != "1" {
			fmt.Fprintf(os.Stderr, "FAIL: hull integration tests run as root, or as an unprivileged user with HULL_TEST_ROOTLESS=1 (rootless containers; `make rootless` does that); euid is %d and HULL_TEST_ROOTLESS is not 1\n", os.Geteuid())
			os.Exit(1)
		}
		rootless = true
	}
	os.Exit(setupAndRun(m))
}

func setupAndRun(m *testing.M) int {
	work, err := os.MkdirTemp("", "hulltest-suite-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdtemp:", err)
		return 1
	}
	defer os.RemoveAll(work)
	suiteWork = work

	if bin := os.Getenv("HULL_TEST_RUNTIME"); bin != "" {
		if runtimeBin, err = exec.LookPath(bin); err == nil {
			runtimeBin, err = filepath.Abs(runtimeBin)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "HULL_TEST_RUNTIME=%q: %v\n", bin, err)
			return 1
		}
		isHull = strings.Contains(filepath.Base(runtimeBin), "hull")
	} else {
		runtimeBin = filepath.Join(work, "hull")
		build := exec.Command("go", "build", "-o", runtimeBin, "github.com/hullrt/hull")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: building hull (go build -o %s github.com/hullrt/hull in ..) failed: %v\n%s\n", runtimeBin, err, out)
			return 1
		}
		isHull = true
	}
	if err := setupSystemd(work); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: HULL_TEST_SYSTEMD:", err)
		return 1
	}
	fmt.Printf("runtime under test: %s (isHull=%v, rootless=%v)\n", runtimeBin, isHull, rootless)

	templateRootfs = filepath.Join(work, "rootfs")
	if err := buildTemplateRootfs(templateRootfs); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: building the busybox rootfs template:", err)
		return 1
	}
	return m.Run()
}

// buildTemplateRootfs lays out a minimal busybox rootfs at dir.
func buildTemplateRootfs(dir string) error {
	for _, d := range []string{"bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home/user", "opt/hullbin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if !rootless {
		// Rootless, a user's files are the container's root's.
		if err := os.Chown(filepath.Join(dir, "home/user"), 1000, 1000); err != nil {
			return err
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is required: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	if rootless {
		// No chroot for a user: the applets' links are made here, in
		// /bin as busybox --install -s /bin makes them.
		list, err := exec.Command("/bin/busybox", "--list").Output()
		if err != nil {
			return fmt.Errorf("busybox --list: %w", err)
		}
		for _, name := range lines(string(list)) {
			if err := os.Symlink("/bin/busybox", filepath.Join(dir, "bin", name)); err != nil && !os.IsExist(err) {
				return err
			}
		}
	} else {
		install := exec.Command("/bin/busybox", "--install", "-s", "/bin")
		install.SysProcAttr = &unix.SysProcAttr{Chroot: dir}
		if out, err := install.CombinedOutput(); err != nil {
			return fmt.Errorf("busybox --install: %v: %s", err, out)
		}
	}
	for _, applet := range []string{"sh", "ls", "cat", "id", "sleep", "mount", "stat", "readlink", "grep", "wc", "touch", "hostname", "env", "kill", "true"} {
		if _, err := os.Lstat(filepath.Join(dir, "bin", applet)); err != nil {
			return fmt.Errorf("busybox applet %s missing: %w", applet, err)
		}
	}
	files := map[string]string{
		"etc/passwd":      "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n",
		"etc/group":       "root:x:0:\nuser:x:1000:\n",
		"etc/hosts":       "127.0.0.1 localhost\n",
		"etc/hull-marker": "hull-rootfs\n",
		// Only reachable through a PATH lookup done inside the container.
		"opt/hullbin/hullprobe": "#!/bin/sh\necho \"probe-ok $0\"\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return os.Chmod(filepath.Join(dir, "opt/hullbin/hullprobe"), 0o755)
}

// result is the outcome of one runtime invocation.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit=%d stdout=%q stderr=%q", r.Code, r.Stdout, r.Stderr)
}

// execRuntime runs the runtime with args in dir (cwd if empty). Output goes
// to files, not pipes, so that detached container processes that inherit
// the runtime's stdio cannot keep us waiting. The process is killed and the
// test failed after cmdTimeout.
func execRuntime(t testing.TB, dir string, args ...string) result {
	t.Helper()
	return execBin(t, runtimeBin, dir, args...)
}

// execBin is execRuntime for another binary (e.g. a private copy of the
// runtime).
func execBin(t testing.TB, bin, dir string, args ...string) result {
	t.Helper()
	return execBinEnv(t, bin, dir, nil, args...)
}

// execBinEnv is execBin with extraEnv added to the test's environment.
func execBinEnv(t testing.TB, bin, dir string, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	stdout, err1 := os.CreateTemp("", "hulltest-out-")
	stderr, err2 := os.CreateTemp("", "hulltest-err-")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("temp files: %v", err)
	}
	defer func() {
		for _, f := range []*os.File{stdout, stderr} {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	if extraEnv != nil {
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	read := func(f *os.File) string {
		// Through our open file, not its name: a process that runs as
		// another user gets its stdio chowned to it (runc's rule), and
		// rootless that user is not ours anymore.
		b, _ := io.ReadAll(io.NewSectionReader(f, 0, 1<<40))
		return string(b)
	}
	r := result{Stdout: read(stdout), Stderr: read(stderr), Code: exitCode(err)}
	if ctx.Err() != nil {
		t.Errorf("%s %s: timed out after %v and was killed (%v)", bin, strings.Join(args, " "), cmdTimeout, r)
		r.Code = -1
	} else if r.Code == -1 {
		t.Errorf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return r
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(unix.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	default:
		return -1
	}
}

// rt runs the runtime with raw args (no --root added).
func rt(t testing.TB, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	r := execRuntime(t, "", args...)
	return r.Stdout, r.Stderr, r.Code
}

// env is the per-test world: a private temp dir holding the --root state
// dir and all bundles, plus what the leftover checker must verify.
type env struct {
	t    *testing.T
	base string // every path the test creates lives under here
	root string // value of the global --root flag

	mu      sync.Mutex
	ids     []string
	procs   []procRef
	cgroups []string
	nbundle int
	after   []func() // run by cleanup after the containers are deleted
}

type procRef struct {
	pid   int
	start uint64 // start time from /proc/<pid>/stat, to survive pid reuse
}

var idCounter atomic.Int64

// newEnv creates the test's private dirs and registers the leftover checker.
func newEnv(t *testing.T) *env {
	t.Helper()
	base, err := os.MkdirTemp("", "hulltest-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, base: base, root: filepath.Join(base, "state")}
	t.Cleanup(e.cleanup)
	// As an engine's root always is: `list` in a --root that does not
	// exist is an error (runc's too).
	if err := os.Mkdir(e.root, 0o700); err != nil {
		t.Fatal(err)
	}
	return e
}

// newID returns a fresh container id and remembers it for cleanup.
func (e *env) newID() string {
	id := fmt.Sprintf("hulltest-%d-%d", os.Getpid(), idCounter.Add(1))
	e.trackID(id)
	return id
}

func (e *env) trackID(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ids = append(e.ids, id)
}

// trackPid records a container process that must be gone after the test.
func (e *env) trackPid(pid int) {
	if pid <= 0 {
		return
	}
	st, _ := procStartTime(pid)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.procs {
		if p.pid == pid {
			return
		}
	}
	e.procs = append(e.procs, procRef{pid, st})
}

// rt runs the runtime with the test's --root.
func (e *env) rt(args ...string) result {
	e.t.Helper()
	return execRuntime(e.t, "", append([]string{"--root", e.root}, args...)...)
}

// rtIn is rt with a working directory.
func (e *env) rtIn(dir string, args ...string) result {
	e.t.Helper()
	return execRuntime(e.t, dir, append([]string{"--root", e.root}, args...)...)
}

// mustRT is rt that fails the test unless the runtime exits 0.
func (e *env) mustRT(args ...string) result {
	e.t.Helper()
	r := e.rt(args...)
	if r.Code != 0 {
		e.t.Fatalf("%s %s: %v", filepath.Base(runtimeBin), strings.Join(args, " "), r)
	}
	return r
}

// mkdir creates a directory under the test's base dir.
func (e *env) mkdir(name string) string {
	e.t.Helper()
	p := filepath.Join(e.base, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// newBundle makes a bundle dir with a private copy of the template rootfs
// and a config.json generated by `<runtime> spec`, adjusted to defaults
// suitable for tests (no terminal, writable rootfs, args `sh`) and then
// mutated by mutate (may be nil).
func (e *env) newBundle(mutate func(*specs.Spec)) string {
	e.t.Helper()
	e.mu.Lock()
	e.nbundle++
	n := e.nbundle
	e.mu.Unlock()
	dir := e.mkdir(fmt.Sprintf("bundle-%d", n))
	if out, err := exec.Command("cp", "-a", templateRootfs, filepath.Join(dir, "rootfs")).CombinedOutput(); err != nil {
		e.t.Fatalf("copying rootfs: %v: %s", err, out)
	}
	specArgs := []string{"spec"}
	if rootless {
		specArgs = append(specArgs, "--rootless")
	}
	if r := execRuntime(e.t, dir, specArgs...); r.Code != 0 {
		e.t.Fatalf("%s spec: %v", runtimeBin, r)
	}
	spec := loadSpec(e.t, dir)
	if rootless {
		rootlessBundle(spec)
	}
	spec.Process.Terminal = false
	spec.Root.Readonly = false
	if !rootless {
		// Rootless, no cgroupsPath: a user's create then does without
		// the cgroups it may not make (runc's rule); with a path it
		// would fail. Otherwise:
		// the runtime would otherwise put the container in a cgroup named
		// after its id at the root of each hierarchy, which is not ours
		// to touch: a unique relative path nests it under our own cgroup
		// and tells the leftover checker what to look for.
		cg := fmt.Sprintf("hulltest-%d-b%d-%d", os.Getpid(), n, idCounter.Add(1))
		if testSystemd {
			// systemd's form: the unit hulltest-PID-bN-M.scope in
			// system.slice (see systemd_test.go).
			cg = "system.slice:hulltest:" + strings.TrimPrefix(cg, "hulltest-")
		}
		spec.Linux.CgroupsPath = cg
		e.mu.Lock()
		e.cgroups = append(e.cgroups, cg)
		e.mu.Unlock()
	}
	if mutate != nil {
		mutate(spec)
	}
	writeSpec(e.t, dir, spec)
	return dir
}

func loadSpec(t testing.TB, bundle string) *specs.Spec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("config.json from spec does not parse: %v", err)
	}
	if s.Process == nil || s.Root == nil || s.Linux == nil {
		t.Fatalf("config.json from spec lacks process, root or linux: %s", b)
	}
	return &s
}

func writeSpec(t testing.TB, bundle string, s *specs.Spec) {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Spec mutators, combinable with all().

func withArgs(args ...string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.Args = args }
}

func withShell(script string) func(*specs.Spec) {
	return withArgs("sh", "-c", script)
}

func all(ms ...func(*specs.Spec)) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for _, m := range ms {
			if m != nil {
				m(s)
			}
		}
	}
}

func withoutNamespace(typ specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != typ {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
	}
}

// withoutPidNS runs the container in the host's pid namespace. Rootless,
// its /proc is then the host's bound (a user namespace cannot mount the
// proc of a pid namespace it does not own).
func withoutPidNS() func(*specs.Spec) {
	return func(s *specs.Spec) {
		withoutNamespace(specs.PIDNamespace)(s)
		if !rootless {
			return
		}
		for i, m := range s.Mounts {
			if m.Destination == "/proc" {
				s.Mounts[i] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
			}
		}
	}
}

func withNamespace(typ specs.LinuxNamespaceType, path string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		withoutNamespace(typ)(s)
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
	}
}

func withMount(m specs.Mount) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, m) }
}

// run runs a container in the foreground (`run --bundle B ID`, plus extra
// flags) with its stdout and stderr captured through pipes, and returns
// the result; the container is expected to be gone afterwards.
func (e *env) run(mutate func(*specs.Spec), extra ...string) result {
	e.t.Helper()
	return e.runBundle(nil, nil, e.newBundle(mutate), extra...)
}

// runBundle runs a new container from bundle in the foreground, with
// extraEnv for the runtime and its global flags before `run`.
func (e *env) runBundle(extraEnv, global []string, bundle string, extra ...string) result {
	e.t.Helper()
	id := e.newID()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	args := append(append([]string{"--root", e.root}, global...), "run", "--bundle", bundle)
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, runtimeBin, append(args, id)...)
	if extraEnv != nil {
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := result{Stdout: stdout.String(), Stderr: stderr.String(), Code: exitCode(err)}
	if ctx.Err() != nil {
		e.t.Errorf("run %s timed out after %v and was killed (%v)", id, cmdTimeout, r)
		r.Code = -1
	}
	return r
}

// runContainer runs args (nil: keep spec's) in a fresh container in the
// foreground and returns its stdout and exit code.
func (e *env) runContainer(mutate func(*specs.Spec), args ...string) (string, int) {
	e.t.Helper()
	m := mutate
	if len(args) > 0 {
		m = all(mutate, withArgs(args...))
	}
	r := e.run(m)
	if r.Code != 0 {
		e.t.Logf("container exited %d; stderr: %s", r.Code, r.Stderr)
	}
	return r.Stdout, r.Code
}

// mustRun is runContainer that requires exit status 0.
func (e *env) mustRun(mutate func(*specs.Spec), args ...string) string {
	e.t.Helper()
	out, code := e.runContainer(mutate, args...)
	if code != 0 {
		e.t.Fatalf("container exited %d, want 0; stdout: %q", code, out)
	}
	return out
}

// containerState is the state JSON printed by `state`.
type containerState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     string            `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations"`
	Raw         map[string]any    `json:"-"`
}

// state returns the parsed `state ID`, failing the test on error.
func (e *env) state(id string) containerState {
	e.t.Helper()
	r := e.mustRT("state", id)
	var s containerState
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		e.t.Fatalf("state %s: bad JSON: %v: %q", id, err, r.Stdout)
	}
	_ = json.Unmarshal([]byte(r.Stdout), &s.Raw)
	e.trackPid(s.Pid)
	return s
}

// waitStatus polls `state` until the container has status want.
func (e *env) waitStatus(id, want string) containerState {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.state(id)
		if s.Status == want {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %q, want %q after 10s", id, s.Status, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// create runs `create --pid-file` for a new container from bundle and
// returns its id and the pid from the pid file.
func (e *env) create(bundle string, extra ...string) (string, int) {
	e.t.Helper()
	id := e.newID()
	pidFile := filepath.Join(e.base, id+".pid")
	args := append([]string{"create", "--bundle", bundle, "--pid-file", pidFile}, extra...)
	e.mustRT(append(args, id)...)
	return id, e.readPidFile(pidFile)
}

func (e *env) readPidFile(path string) int {
	e.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatalf("pid file right after create: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		e.t.Fatalf("pid file content %q is not a pid", b)
	}
	e.trackPid(pid)
	return pid
}

// assertNotExist checks that `state id` reports a missing container.
func (e *env) assertNotExist(id string) {
	e.t.Helper()
	r := e.rt("state", id)
	if r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") {
		e.t.Errorf("state %s: want exit 1 and \"does not exist\" on stderr, got %v", id, r)
	}
}

// cleanup force-deletes the test's containers, then checks that nothing is
// left: no state under --root, no mount under the test's dirs, no live
// container process, no cgroup we asked for.
func (e *env) cleanup() {
	t := e.t
	e.mu.Lock()
	ids, procs, cgroups := e.ids, e.procs, e.cgroups
	e.mu.Unlock()
	for _, id := range ids {
		execRuntime(t, "", "--root", e.root, "delete", "--force", id)
	}
	e.mu.Lock()
	after := e.after
	e.mu.Unlock()
	for _, f := range after {
		f()
	}

	if entries, err := os.ReadDir(e.root); err == nil && len(entries) > 0 {
		var names []string
		for _, en := range entries {
			names = append(names, en.Name())
		}
		t.Errorf("leftover: --root %s still has entries %v", e.root, names)
	} else if err != nil && !os.IsNotExist(err) {
		t.Errorf("leftover check: reading --root: %v", err)
	}

	for _, p := range procs {
		if err := waitProcGone(p, 5*time.Second); err != nil {
			t.Errorf("leftover: %v; killing it", err)
			// It is a container process this test made (same pid and start
			// time as when the test saw it): do not leak it.
			if procAlive(p) {
				_ = unix.Kill(p.pid, unix.SIGKILL)
				_ = waitProcGone(p, 5*time.Second)
			}
		}
	}

	// Processes nobody told us about (e.g. an init orphaned by a runtime
	// bug) are found by their root mount coming from our test dir.
	leaked := procsRootedUnder(e.base)
	for deadline := time.Now().Add(2 * time.Second); len(leaked) > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // maybe still exiting
		leaked = procsRootedUnder(e.base)
	}
	for _, pid := range leaked {
		t.Errorf("leftover: process %d runs in a mount namespace built from %s; killing it", pid, e.base)
		_ = unix.Kill(pid, unix.SIGKILL)
	}

	if len(leaked) > 0 {
		time.Sleep(500 * time.Millisecond) // let the killed processes leave their cgroups
	}
	// The cgroupsPath we set for runc, and cgroups named after a container
	// id (runc's default when cgroupsPath is unset), relative to ours.
	for _, cg := range append(cgroups, ids...) {
		for _, dir := range cgroupDirs(cg) {
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("leftover: cgroup %s still exists", dir)
				_ = unix.Rmdir(dir) // ours, uniquely named; empty ones go away
			}
		}
	}

	mounts := mountsUnder(e.base)
	for _, m := range mounts {
		t.Errorf("leftover: mount %s (root %s, %s) under the test dir %s", m.Mountpoint, m.Root, m.FSType, e.base)
	}
	if len(mounts) > 0 {
		sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].Mountpoint) > len(mounts[j].Mountpoint) })
		for _, m := range mounts {
			if strings.HasPrefix(m.Mountpoint, e.base+"/") {
				_ = unix.Unmount(m.Mountpoint, unix.MNT_DETACH)
			}
		}
		if len(mountsUnder(e.base)) > 0 {
			t.Errorf("not removing %s: mounts remain under it", e.base)
			return
		}
	}
	if err := os.RemoveAll(e.base); err != nil {
		t.Logf("removing %s: %v", e.base, err)
	}
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// mountsUnder lists mounts of our mount namespace whose mount point or
// root lies under dir.
func mountsUnder(dir string) []*mountinfo.Info {
	ms, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		return !under(i.Mountpoint, dir) && !under(i.Root, dir), false
	})
	if err != nil {
		panic(err)
	}
	return ms
}

// procsRootedUnder returns the processes in other mount namespaces that
// have a mount whose root (source path) lies under dir: container processes
// whose rootfs or bind mounts come from dir.
func procsRootedUnder(dir string) []int {
	self, _ := os.Readlink("/proc/self/ns/mnt")
	ents, _ := os.ReadDir("/proc")
	verdict := map[string]bool{} // mount namespace -> uses dir
	var pids []int
	for _, en := range ents {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
		if err != nil || ns == self {
			continue
		}
		uses, ok := verdict[ns]
		if !ok {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
			if err != nil {
				continue
			}
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) > 4 && under(f[3], dir) {
					uses = true
					break
				}
			}
			verdict[ns] = uses
		}
		if uses {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStartTime reads field 22 (starttime) of /proc/<pid>/stat.
func procStartTime(pid int) (uint64, error) {
	_, start, _, err := procStat(pid)
	return start, err
}

// procStat returns state, start time and parent pid of pid.
func procStat(pid int) (state byte, start uint64, ppid int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, 0, fmt.Errorf("bad stat %q", s)
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3 (state)
	if len(f) < 20 {
		return 0, 0, 0, fmt.Errorf("bad stat %q", s)
	}
	ppid, _ = strconv.Atoi(f[1])
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, ppid, nil
}

// procAlive reports whether p still runs (not a zombie, not a new process
// that reuses the pid).
func procAlive(p procRef) bool {
	if err := unix.Kill(p.pid, 0); errors.Is(err, unix.ESRCH) {
		return false
	}
	state, start, _, err := procStat(p.pid)
	if err != nil {
		return false
	}
	if p.start != 0 && start != p.start {
		return false // pid reused by an unrelated process
	}
	return state != 'Z' && state != 'X'
}

func waitProcGone(p procRef, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := unix.Kill(p.pid, 0); errors.Is(err, unix.ESRCH) {
			return nil
		}
		state, start, ppid, err := procStat(p.pid)
		switch {
		case err != nil:
			return nil
		case p.start != 0 && start != p.start:
			return nil // a different process reuses the pid
		case (state == 'Z' || state == 'X') && ppid != os.Getpid():
			return nil // a zombie waiting for its (not our) reaper
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container process %d still exists (state %c, ppid %d)", p.pid, state, ppid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cgroupDirs lists the directories that a relative cgroupsPath cg would
// occupy in each hierarchy (relative to our own cgroup there). It may list
// paths that never exist; cg is unique, so that is harmless.
func cgroupDirs(cg string) []string {
	if sdSuffix, ok := cgSystemdSuffix(cg); ok {
		return cgSystemdDirs(sdSuffix)
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(own)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, m := range ms {
			rel, err := filepath.Rel(m.Root, parts[2])
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			d := filepath.Join(m.Mountpoint, rel, cg)
			if !seen[d] {
				seen[d] = true
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}

// waitFile waits up to 10s for path to exist.
func waitFile(t testing.TB, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within 10s", path)
		}
	}
}

// hostNS returns the target of /proc/self/ns/<name> for the test process.
func hostNS(t testing.TB, name string) string {
	t.Helper()
	l, err := os.Readlink("/proc/self/ns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// lines splits output into trimmed non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// kv parses "key=value" lines printed by a container script.
func kv(s string) map[string]string {
	m := map[string]string{}
	for _, l := range lines(s) {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// reaperMain makes this process a child subreaper, runs args and waits for
// every descendant that gets reparented to it, then writes "pid status"
// lines (status 128+N for death by signal N) to out. It lets a test learn
// the exit status of a detached container's init process.
func reaperMain(out string, args []string) int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "reaper: prctl:", err)
		return 1
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "reaper: no command")
		return 1
	}
	if _, err := os.StartProcess(args[0], args, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		return 1
	}
	var report strings.Builder
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			break // ECHILD: every descendant is gone
		}
		code := ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		fmt.Fprintf(&report, "%d %d\n", pid, code)
	}
	if err := os.WriteFile(out, []byte(report.String()), 0o644); err != nil {
		return 1
	}
	return 0
}

// startReaped starts the runtime with args under a subreaper (see
// reaperMain). wait returns the exit status of every reaped process.
func (e *env) startReaped(args ...string) (wait func() map[int]int) {
	e.t.Helper()
	return e.startReapedArgv(nil, append([]string{runtimeBin, "--root", e.root}, args...)...)
}

// startReapedArgv runs argv (with extra environment) under a child
// subreaper (reaperMain). wait returns the exit status of every process the
// subreaper reaped.
func (e *env) startReapedArgv(extraEnv []string, argv ...string) (wait func() map[int]int) {
	e.t.Helper()
	self, err := os.Executable()
	if err != nil {
		e.t.Fatal(err)
	}
	out := filepath.Join(e.base, fmt.Sprintf("reaper-%d.out", idCounter.Add(1)))
	logf, err := os.Create(out + ".log")
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command(self, argv...)
	cmd.Env = append(append(os.Environ(), extraEnv...), reaperEnv+"="+out)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			select {
			case <-done:
			case <-time.After(cmdTimeout):
				e.t.Errorf("subreaper for %v did not finish in %v; killing it", argv, cmdTimeout)
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}
	e.mu.Lock()
	e.after = append(e.after, stop) // after the containers are force-deleted
	e.mu.Unlock()
	return func() map[int]int {
		e.t.Helper()
		stop()
		b, err := os.ReadFile(out)
		if err != nil {
			log, _ := os.ReadFile(out + ".log")
			e.t.Fatalf("subreaper report: %v; output: %s", err, log)
		}
		m := map[int]int{}
		for _, l := range lines(string(b)) {
			var pid, code int
			if _, err := fmt.Sscan(l, &pid, &code); err == nil {
				m[pid] = code
			}
		}
		return m
	}
}
