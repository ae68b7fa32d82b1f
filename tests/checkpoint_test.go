package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// checkpoint and restore through criu. Where criu cannot dump (our hosts:
// kernels from 6.13 on split the vvar mapping, and Debian 12's criu 3.17.1
// stops at "vdso: Unexpected rt vDSO area bounds"), the commands must fail
// with criu's own reason and leave nothing; in the VM lane (Debian 12's
// 6.1 kernel, tests/vm/criu-lane.sh) the round trips run.

var criuProbe struct {
	once    sync.Once
	present bool
	works   bool
	reason  string
}

// probeCriu dumps a plain process (a sleep in its own session) with criu
// once: whether criu is installed, whether it can dump on this kernel, and
// if not, the first error it logged.
func probeCriu(t *testing.T) (present, works bool, reason string) {
	t.Helper()
	criuProbe.once.Do(func() {
		p := &criuProbe
		if _, err := exec.LookPath("criu"); err != nil {
			p.reason = "criu is not installed"
			return
		}
		p.present = true
		dir, err := os.MkdirTemp("", "hulltest-criuprobe-")
		if err != nil {
			p.reason = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		sleep := exec.Command("sleep", "100")
		sleep.SysProcAttr = &unix.SysProcAttr{Setsid: true}
		if err := sleep.Start(); err != nil {
			p.reason = err.Error()
			return
		}
		defer func() { sleep.Process.Kill(); sleep.Wait() }()
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, "criu", "dump", "-t", strconv.Itoa(sleep.Process.Pid), "-D", dir, "-o", "dump.log", "-v4").CombinedOutput()
		if err == nil {
			p.works = true
			return
		}
		p.reason = firstCriuError(filepath.Join(dir, "dump.log"))
		if p.reason == "" {
			p.reason = fmt.Sprintf("criu dump: %v: %s", err, out)
		}
	})
	return criuProbe.present, criuProbe.works, criuProbe.reason
}

// firstCriuError is the first line of a criu log that says Error, without
// criu's time stamp.
func firstCriuError(log string) string {
	b, _ := os.ReadFile(log)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "Error") {
			if i := strings.Index(l, ") "); strings.HasPrefix(l, "(") && i > 0 {
				l = l[i+2:]
			}
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// criuLog logs the end of criu's log in dir (dump.log or restore.log),
// for a checkpoint or restore that failed where criu should work.
func criuLog(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		for _, name := range []string{"dump.log", "restore.log"} {
			b, err := os.ReadFile(filepath.Join(d, name))
			if err != nil {
				continue
			}
			ls := strings.Split(string(b), "\n")
			if len(ls) > 60 {
				ls = ls[len(ls)-60:]
			}
			t.Logf("the end of %s:\n%s", filepath.Join(d, name), strings.Join(ls, "\n"))
		}
	}
}

// mustCR is mustRT for checkpoint and restore: criu's log on failure.
func (e *env) mustCR(dir string, args ...string) {
	e.t.Helper()
	if r := e.rt(args...); r.Code != 0 {
		criuLog(e.t, dir)
		e.t.Fatalf("%s: %v", strings.Join(args, " "), r)
	}
}

func needCriuWorks(t *testing.T) {
	t.Helper()
	present, works, reason := probeCriu(t)
	// The criu lane sets HULL_TEST_CRIU_REQUIRED: there, a criu that
	// cannot dump is a failure, not a reason to skip every round trip.
	skip := t.Skipf
	if os.Getenv("HULL_TEST_CRIU_REQUIRED") != "" {
		skip = t.Fatalf
	}
	if !present {
		skip("criu is not installed: checkpoint/restore round trips need it")
	}
	if !works {
		skip("criu cannot dump on this kernel (%s): the round trips run in the VM lane (tests/vm/criu-lane.sh)", reason)
	}
}

// fakeImage makes a directory that looks like a checkpoint to hull (an
// inventory.img and descriptors.json) but holds nothing criu can restore.
func fakeImage(e *env) string {
	dir := e.mkdir("fake-image")
	if err := os.WriteFile(filepath.Join(dir, "inventory.img"), nil, 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "descriptors.json"), []byte(`["/dev/null","pipe:[1]","pipe:[2]"]`), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

func wantErr(t *testing.T, what string, r result, sub string) {
	t.Helper()
	if r.Code == 0 || !strings.Contains(r.Stderr, sub) {
		t.Errorf("%s: %v; want a failure saying %q", what, r, sub)
	}
}

// TestCheckpointRestoreErrors: what hull refuses before criu does
// anything, with nothing left behind.
func TestCheckpointRestoreErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	r := e.rt("checkpoint", "--image-path", filepath.Join(e.base, "img0"), "hulltest-nosuch")
	wantErr(t, "checkpoint of a missing container", r, "does not exist")

	// A created container has not run anything yet.
	bundle := e.newBundle(withArgs("sleep", "100"))
	id, _ := e.create(bundle)
	r = e.rt("checkpoint", "--image-path", filepath.Join(e.base, "img1"), id)
	wantErr(t, "checkpoint of a created container", r, "cannot be checkpointed in created state")
	if s := e.state(id); s.Status != "created" {
		t.Errorf("after the refused checkpoint: status %q, want created", s.Status)
	}
	e.mustRT("start", id)
	e.waitStatus(id, "running")

	// criu missing: the message names the version needed.
	r = e.rt("--criu", filepath.Join(e.base, "no-criu-here"), "checkpoint", "--image-path", filepath.Join(e.base, "img2"), id)
	wantErr(t, "checkpoint without criu", r, "needs criu 3.0.0 or newer")
	r = e.rt("checkpoint", "--manage-cgroups-mode", "bogus", "--image-path", filepath.Join(e.base, "img3"), id)
	wantErr(t, "checkpoint --manage-cgroups-mode bogus", r, "invalid manage-cgroups-mode")
	r = e.rt("checkpoint", "--parent-path", "/abs", "--image-path", filepath.Join(e.base, "img4"), id)
	wantErr(t, "checkpoint --parent-path /abs", r, "--parent-path must be relative")
	r = e.rt("checkpoint", "--parent-path", "../nope", "--image-path", filepath.Join(e.base, "img5"), id)
	wantErr(t, "checkpoint --parent-path to nothing", r, "invalid --parent-path")
	r = e.rt("checkpoint", "--page-server", "nocolon", "--image-path", filepath.Join(e.base, "img6"), id)
	wantErr(t, "checkpoint --page-server nocolon", r, "use --page-server ADDRESS:PORT")
	r = e.rt("checkpoint", "--empty-ns", "pid", "--image-path", filepath.Join(e.base, "img7"), id)
	wantErr(t, "checkpoint --empty-ns pid", r, `namespace "pid" is not supported`)
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after the refused checkpoints: status %q, want running", s.Status)
	}

	// Restore: an image dir that is missing or is not a checkpoint.
	nb := e.newBundle(withArgs("sleep", "100"))
	id2 := e.newID()
	r = e.rt("restore", "-d", "--bundle", nb, "--image-path", filepath.Join(e.base, "no-image"), id2)
	wantErr(t, "restore from a missing image dir", r, "image directory")
	empty := e.mkdir("empty-image")
	r = e.rt("restore", "-d", "--bundle", nb, "--image-path", empty, id2)
	wantErr(t, "restore from a dir that is no checkpoint", r, "is not a checkpoint")
	e.assertNotExist(id2)
	// An id that exists.
	r = e.rt("restore", "-d", "--bundle", nb, "--image-path", fakeImage(e), id)
	wantErr(t, "restore onto an existing id", r, "container with given ID already exists")
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after the refused restore onto it: status %q, want running", s.Status)
	}
	e.mustRT("delete", "-f", id)
}

// TestCheckpointCriuReason: where criu cannot dump, checkpoint and restore
// fail (never hang) with criu's own first error in the message, the
// container keeps running, and a failed restore leaves nothing.
func TestCheckpointCriuReason(t *testing.T) {
	t.Parallel()
	present, works, reason := probeCriu(t)
	if !present {
		t.Skip("criu is not installed")
	}
	if works {
		t.Skip("criu dumps on this kernel: the round trips (TestCheckpointRestore*) cover it")
	}
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	id := e.newID()
	e.mustRT("run", "-d", "--bundle", bundle, id)
	img := filepath.Join(e.base, "image")
	start := time.Now()
	r := e.rt("checkpoint", "--image-path", img, id)
	wantErr(t, "checkpoint", r, "criu failed: type DUMP")
	if !strings.Contains(r.Stderr, reason) {
		t.Errorf("checkpoint's error %q lacks criu's reason %q", r.Stderr, reason)
	}
	if !strings.Contains(r.Stderr, filepath.Join(img, "dump.log")) {
		t.Errorf("checkpoint's error %q does not name criu's log", r.Stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the failing checkpoint took %v", d)
	}
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after the failed checkpoint: status %q, want running", s.Status)
	}
	e.mustRT("delete", "-f", id)

	id2 := e.newID()
	r = e.rt("restore", "-d", "--bundle", e.newBundle(withArgs("sleep", "100")), "--image-path", fakeImage(e), id2)
	wantErr(t, "restore", r, "criu failed: type RESTORE")
	if !strings.Contains(r.Stderr, reason) {
		t.Errorf("restore's error %q lacks criu's reason %q", r.Stderr, reason)
	}
	e.assertNotExist(id2)
	// The cleanup checks the rest: no cgroup, mount or process.
}

// pipes are a container's stdio as runc's checkpoint tests make them:
// pipes whose far ends the test holds (criu gives the restored process
// the restore's pipes in their place).
type pipes struct {
	inW          *os.File
	inR, outW    *os.File
	errW         *os.File
	devNullIn    bool // stdin is the host's /dev/null (podman's conmon does that)
	mu           sync.Mutex
	out, errb    bytes.Buffer
	outRd, errRd *os.File
	done         sync.WaitGroup
}

func newPipes(t *testing.T) *pipes {
	p := &pipes{}
	var err error
	if p.inR, p.inW, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	if p.outRd, p.outW, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	if p.errRd, p.errW, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		f *os.File
		b *bytes.Buffer
	}{{p.outRd, &p.out}, {p.errRd, &p.errb}} {
		p.done.Add(1)
		go func(f *os.File, b *bytes.Buffer) {
			defer p.done.Done()
			buf := make([]byte, 4096)
			for {
				n, err := f.Read(buf)
				p.mu.Lock()
				b.Write(buf[:n])
				p.mu.Unlock()
				if err != nil {
					return
				}
			}
		}(x.f, x.b)
	}
	t.Cleanup(func() {
		for _, f := range []*os.File{p.inW, p.inR, p.outW, p.errW, p.outRd, p.errRd} {
			f.Close()
		}
	})
	return p
}

func (p *pipes) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

// rtPipes runs the runtime with the pipes as its stdio (the container's,
// for run -d and restore -d) and returns its exit code.
func (e *env) rtPipes(p *pipes, args ...string) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, append([]string{"--root", e.root}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.inR, p.outW, p.errW
	if p.devNullIn {
		null, err := os.Open(os.DevNull)
		if err != nil {
			e.t.Fatal(err)
		}
		defer null.Close()
		cmd.Stdin = null
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("%s: timed out after %v", strings.Join(args, " "), cmdTimeout)
	}
	return exitCode(err)
}

// counterBundle: the init counts in a shell loop, one number every 0.1 s,
// into the bind-mounted volume (/vol/count: the last, /vol/log: all, with
// the shell's pid).
func counterBundle(e *env, vol string, extra ...func(*specs.Spec)) string {
	script := `i=0; while :; do i=$((i+1)); echo $i > /vol/count; echo "$$ $i" >> /vol/log; sleep 0.1; done`
	ms := append([]func(*specs.Spec){withShell(script), withMount(specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}})}, extra...)
	return e.newBundle(all(ms...))
}

// counter is a counter container (counterBundle) that run -d started.
type counter struct {
	id, bundle, vol string
}

// runCounter runs a counter container (counterBundle with extra) with
// run -d on p's pipes (new ones if p is nil) and waits until it has
// counted past 3.
func runCounter(t *testing.T, e *env, p *pipes, extra ...func(*specs.Spec)) counter {
	t.Helper()
	vol := e.mkdir("vol")
	c := counter{id: e.newID(), bundle: counterBundle(e, vol, extra...), vol: vol}
	if p == nil {
		p = newPipes(t)
	}
	if code := e.rtPipes(p, "run", "-d", "--bundle", c.bundle, c.id); code != 0 {
		t.Fatalf("run -d: exit %d: %s", code, p.stderr())
	}
	waitCount(t, vol, 3)
	return c
}

// checkpointImage checkpoints id with args into the image directory
// <base>/image, which it returns; on failure, it logs criu's log (from
// --work-path if args have it) and fails the test.
func (e *env) checkpointImage(id string, args ...string) string {
	e.t.Helper()
	img := filepath.Join(e.base, "image")
	logDir := img
	for i, a := range args {
		if a == "--work-path" && i+1 < len(args) {
			logDir = args[i+1]
		}
	}
	e.mustCR(logDir, append(append([]string{"checkpoint"}, args...), "--image-path", img, id)...)
	return img
}

func readCount(t *testing.T, vol string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vol, "count"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// waitCount waits until the counter passes n.
func waitCount(t *testing.T, vol string, n int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := readCount(t, vol)
		if c > n {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the counter in %s stays at %d, want past %d", vol, c, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkLog checks that /vol/log is one counter: one pid, numbers one after
// the other from 1 (nothing restarted from 0, nothing repeated after the
// restore, except from: the count written again after a restore from a
// --leave-running checkpoint).
func checkLog(t *testing.T, vol string, allowRestartAt int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vol, "log"))
	if err != nil {
		t.Fatal(err)
	}
	var pid string
	prev := 0
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue // a line being written
		}
		n, _ := strconv.Atoi(f[1])
		if pid == "" {
			pid = f[0]
		}
		if f[0] != pid {
			t.Errorf("the counter's pid changed from %s to %s: restored under another pid in its namespace", pid, f[0])
			return
		}
		if n != prev+1 && !(allowRestartAt > 0 && n == allowRestartAt+1) {
			t.Errorf("the counter went from %d to %d (log %s)", prev, n, filepath.Join(vol, "log"))
			return
		}
		prev = n
	}
}

// roundTrip runs a counter container, checkpoints it with ckArgs, restores
// it with rsArgs as the same id, and checks the restored container: it
// counts on from where it was, state/exec/kill/delete work on it.
func roundTrip(t *testing.T, e *env, ckArgs, rsArgs []string, extra ...func(*specs.Spec)) {
	t.Helper()
	c := runCounter(t, e, nil, extra...)
	id, bundle, vol := c.id, c.bundle, c.vol
	before := e.state(id)
	waitCount(t, vol, 5)
	work := filepath.Join(e.base, "work")
	img := e.checkpointImage(id, append([]string{"--work-path", work}, ckArgs...)...)
	e.assertNotExist(id)
	at := readCount(t, vol)
	time.Sleep(300 * time.Millisecond)
	if c := readCount(t, vol); c != at {
		t.Fatalf("the counter went on after the checkpoint: %d then %d", at, c)
	}
	p2 := newPipes(t)
	pidFile := filepath.Join(e.base, "restored.pid")
	if code := e.rtPipes(p2, append(append([]string{"restore", "-d", "--bundle", bundle, "--image-path", img, "--work-path", work, "--pid-file", pidFile}, rsArgs...), id)...); code != 0 {
		criuLog(t, work)
		t.Fatalf("restore: exit %d: %s", code, p2.stderr())
	}
	pid := e.readPidFile(pidFile)
	s := e.state(id)
	if s.Status != "running" || s.Pid != pid {
		t.Errorf("restored: status %q pid %d, want running with the pid file's %d", s.Status, s.Pid, pid)
	}
	if s.Bundle != before.Bundle || s.Rootfs != before.Rootfs {
		t.Errorf("restored: bundle %q rootfs %q, want %q %q", s.Bundle, s.Rootfs, before.Bundle, before.Rootfs)
	}
	waitCount(t, vol, at+3)
	checkLog(t, vol, 0)
	if r := e.rt("exec", id, "sh", "-c", "echo ok; cat /proc/1/cmdline"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "ok\nsh") {
		t.Errorf("exec in the restored container: %v", r)
	}
	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)
}

func TestCheckpointRestoreCounter(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	roundTrip(t, e, nil, nil)
}

// TestCheckpointRestoreHooks: restore runs the prestart and createRuntime
// hooks, in that order, and no other (runc runs them at criu's
// setup-namespaces notification). Their state has the restored init's pid
// and the status runc's hooks see then: "stopped" (runc's container has no
// init process yet, so its status is stopped).
func TestCheckpointRestoreHooks(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	k := newHookKit(t, e)
	c := runCounter(t, e, nil, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			Prestart:      []specs.Hook{k.hook("prestart")},
			CreateRuntime: []specs.Hook{k.hook("createRuntime")},
			Poststart:     []specs.Hook{k.hook("poststart")},
		}
	})
	if got := hookNames(k.read(t)); got != "prestart,createRuntime,poststart" {
		t.Fatalf("hooks at run: %s, want prestart,createRuntime,poststart", got)
	}
	if err := os.Truncate(k.log, 0); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(e.base, "work")
	img := e.checkpointImage(c.id, "--work-path", work)
	if hs := k.read(t); len(hs) != 0 {
		t.Errorf("hooks ran at checkpoint: %s", hookNames(hs))
	}
	p := newPipes(t)
	pidFile := filepath.Join(e.base, "restored.pid")
	if code := e.rtPipes(p, "restore", "-d", "--bundle", c.bundle, "--image-path", img, "--work-path", work, "--pid-file", pidFile, c.id); code != 0 {
		criuLog(t, work)
		t.Fatalf("restore: exit %d: %s", code, p.stderr())
	}
	pid := e.readPidFile(pidFile)
	hs := k.read(t)
	if got := hookNames(hs); got != "prestart,createRuntime" {
		t.Errorf("hooks at restore: %q, want prestart,createRuntime", got)
	}
	for _, h := range hs {
		if h.state.ID != c.id || h.state.Pid != pid || h.state.Status != "stopped" || h.state.Bundle != c.bundle {
			t.Errorf("%s hook at restore: state id %q pid %d status %q bundle %q, want %q %d stopped %q",
				h.name, h.state.ID, h.state.Pid, h.state.Status, h.state.Bundle, c.id, pid, c.bundle)
		}
		if h.env != "env-"+h.name || h.arg2 != "second-arg" {
			t.Errorf("%s hook at restore: env %q arg2 %q", h.name, h.env, h.arg2)
		}
	}
	waitCount(t, c.vol, readCount(t, c.vol)+3)
	e.mustRT("kill", c.id, "KILL")
	e.waitStatus(c.id, "stopped")
	e.mustRT("delete", c.id)
}

// TestCheckpointCgroupV1Mounts: on a v1 or hybrid host (the criu lane's
// hybrid boot: v1 controllers, cgroup2 on /sys/fs/cgroup/unified), the
// container's cgroup mount (the default spec's /sys/fs/cgroup, ro) is a
// tmpfs of per-hierarchy bind mounts of the container's cgroup directories
// without a cgroup namespace (criu must take them as external mounts),
// and fresh cgroup mounts with one (runc's checkpoint.bats "checkpoint and
// restore (cgroupns)"): both round trips work.
func TestCheckpointCgroupV1Mounts(t *testing.T) {
	needCriuWorks(t)
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type == unix.CGROUP2_SUPER_MAGIC {
		t.Skip("/sys/fs/cgroup is cgroup2 (a unified host): a container's cgroup mount is a cgroup2 mount; the criu lane's hybrid boot runs this")
	}
	cgroupMount := func(s *specs.Spec) {
		for _, m := range s.Mounts {
			if m.Type == "cgroup" {
				return
			}
		}
		t.Fatalf("the spec has no cgroup mount: %v", s.Mounts)
	}
	for name, ns := range map[string]func(*specs.Spec){
		"no-cgroupns": withoutNamespace(specs.CgroupNamespace),
		"cgroupns":    withNamespace(specs.CgroupNamespace, ""),
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			roundTrip(t, e, nil, nil, cgroupMount, ns)
		})
	}
}

// TestCheckpointRestoreShellJob: --shell-job at checkpoint. (A restore
// with --shell-job needs a terminal on criu's stdin, the job's: criu
// stores fd 0 as the session's tty; restore -d with pipes has none.)
func TestCheckpointRestoreShellJob(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	roundTrip(t, e, []string{"--shell-job"}, nil)
}

func TestCheckpointRestoreCgroupModes(t *testing.T) {
	if testSystemd {
		t.Skip("--systemd-cgroup: TestCheckpointScopeUnit runs each mode, with the unit's checks")
	}
	needCriuWorks(t)
	for _, mode := range []string{"soft", "full", "ignore"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			roundTrip(t, e, []string{"--manage-cgroups-mode", mode}, []string{"--manage-cgroups-mode", mode})
		})
	}
	// strict: criu 3.17.1 refuses to restore into a cgroup that exists,
	// and the container's does (criu is put in it first, as runc does):
	// the restore fails with criu's reason and leaves nothing.
	t.Run("strict", func(t *testing.T) {
		e := newEnv(t)
		c := runCounter(t, e, nil)
		id, bundle := c.id, c.bundle
		img := e.checkpointImage(id, "--manage-cgroups-mode", "strict")
		e.assertNotExist(id)
		p2 := newPipes(t)
		code := e.rtPipes(p2, "restore", "-d", "--manage-cgroups-mode", "strict", "--bundle", bundle, "--image-path", img, id)
		if code == 0 {
			t.Fatalf("restore --manage-cgroups-mode strict into the existing cgroup succeeded; criu 3.17.1 refuses it")
		}
		// hull's stderr is a pipe drained by a goroutine: give it time.
		for deadline := time.Now().Add(2 * time.Second); !strings.Contains(p2.stderr(), "Abort restore") && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(p2.stderr(), "Abort restore of existing cgroups") {
			t.Errorf("restore --manage-cgroups-mode strict: %s; want criu's reason", p2.stderr())
		}
		e.assertNotExist(id)
	})
}

// TestCheckpointLeaveRunning: the container runs on after the checkpoint;
// once deleted, the checkpoint restores it as it was then.
func TestCheckpointLeaveRunning(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	// The counter writes into a tmpfs of the container, not into a host
	// volume: the container runs on after the dump, and a file of the
	// host that criu caught open mid-write (echo > count) has another
	// size by the restore, which criu refuses ("File count has bad size").
	// A tmpfs's content is in the image.
	script := `i=0; while :; do i=$((i+1)); echo $i > /run/c/count; sleep 0.1; done`
	bundle := e.newBundle(all(withShell(script),
		withMount(specs.Mount{Destination: "/run/c", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}})))
	count := func(id string) int {
		t.Helper()
		r := e.rt("exec", id, "cat", "/run/c/count")
		n, _ := strconv.Atoi(strings.TrimSpace(r.Stdout))
		return n
	}
	wait := func(id string, n int) int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if c := count(id); c > n {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("the counter of %s stays at or below %d", id, n)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	id := e.newID()
	p := newPipes(t)
	if code := e.rtPipes(p, "run", "-d", "--bundle", bundle, id); code != 0 {
		t.Fatalf("run -d: exit %d: %s", code, p.stderr())
	}
	wait(id, 3)
	img := filepath.Join(e.base, "image")
	e.mustCR(img, "checkpoint", "--leave-running", "--image-path", img, id)
	at := count(id)
	if s := e.state(id); s.Status != "running" {
		t.Fatalf("after checkpoint --leave-running: status %q, want running", s.Status)
	}
	wait(id, at+3)
	e.mustRT("delete", "-f", id)
	p2 := newPipes(t)
	if code := e.rtPipes(p2, "restore", "-d", "--bundle", bundle, "--image-path", img, id); code != 0 {
		criuLog(t, img)
		t.Fatalf("restore: exit %d: %s", code, p2.stderr())
	}
	if s := e.state(id); s.Status != "running" {
		t.Fatalf("restored: status %q, want running", s.Status)
	}
	// It goes on from the checkpoint's count (at most a few past the
	// count read right after it), not from where it was deleted.
	got := wait(id, 0)
	if got > at+20 {
		t.Errorf("restored counter at %d, want it to go on from the checkpoint's %d", got, at)
	}
	e.mustRT("delete", "-f", id)
}

// TestCheckpointPreDump: a pre-dump leaves the container running; the dump
// with --parent-path links to it, and restores.
func TestCheckpointPreDump(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	parent := e.mkdir("parent")
	roundTripPre := func() {
		c := runCounter(t, e, nil)
		id, bundle, vol := c.id, c.bundle, c.vol
		e.mustCR(parent, "checkpoint", "--pre-dump", "--image-path", parent, id)
		if s := e.state(id); s.Status != "running" {
			t.Fatalf("after --pre-dump: status %q, want running", s.Status)
		}
		img := e.checkpointImage(id, "--parent-path", "../parent")
		if fi, err := os.Lstat(filepath.Join(img, "parent")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("image/parent: %v, want criu's symlink to the pre-dump", err)
		}
		at := readCount(t, vol)
		p2 := newPipes(t)
		if code := e.rtPipes(p2, "restore", "-d", "--bundle", bundle, "--image-path", img, id); code != 0 {
			t.Fatalf("restore: exit %d: %s", code, p2.stderr())
		}
		waitCount(t, vol, at+2)
		checkLog(t, vol, 0)
		e.mustRT("delete", "-f", id)
	}
	roundTripPre()
}

// TestCheckpointTCPEstablished: a TCP connection on the loopback of the
// container's network namespace survives checkpoint and restore with
// --tcp-established (and checkpoint refuses it without).
func TestCheckpointTCPEstablished(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	vol := e.mkdir("vol")
	// The server writes what it receives to /vol/recv; the client sends a
	// counter over one connection.
	script := `sleep 1000 | nc -l -p 5555 > /vol/recv & sleep 0.5; i=0; while :; do i=$((i+1)); echo $i; echo $i > /vol/count; sleep 0.1; done | nc 127.0.0.1 5555`
	bundle := e.newBundle(all(withShell(script), withMount(specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}})))
	id := e.newID()
	p := newPipes(t)
	if code := e.rtPipes(p, "run", "-d", "--bundle", bundle, id); code != 0 {
		t.Fatalf("run -d: exit %d: %s", code, p.stderr())
	}
	waitCount(t, vol, 5)
	img := filepath.Join(e.base, "image")
	if r := e.rt("checkpoint", "--image-path", filepath.Join(e.base, "image-no-tcp"), id); r.Code == 0 {
		t.Fatalf("checkpoint without --tcp-established of an established connection succeeded")
	}
	if s := e.state(id); s.Status != "running" {
		t.Fatalf("after the refused checkpoint: status %q, want running", s.Status)
	}
	e.mustCR(img, "checkpoint", "--tcp-established", "--image-path", img, id)
	at := readCount(t, vol)
	p2 := newPipes(t)
	if code := e.rtPipes(p2, "restore", "-d", "--tcp-established", "--bundle", bundle, "--image-path", img, id); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, p2.stderr())
	}
	waitCount(t, vol, at+5)
	// The server got every number, in order, over the one connection.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(vol, "recv"))
		ns := strings.Fields(string(b))
		ok := len(ns) > at+2
		for i, n := range ns {
			if n != strconv.Itoa(i+1) {
				t.Fatalf("the server received %q at position %d, want %d: the connection did not carry on", n, i, i+1)
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server received %d numbers, want more than %d after the restore", len(ns), at+2)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.mustRT("delete", "-f", id)
}

// TestCheckpointTerminal: a container with a terminal (console socket) is
// restored with a new pty, sent to the restore's console socket; what it
// prints there goes on from where it was.
func TestCheckpointTerminal(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	listen := func(name string) (*net.UnixListener, string) {
		sock := filepath.Join(e.base, name)
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l, sock
	}
	type recv struct {
		f   *os.File
		err error
	}
	getPty := func(l *net.UnixListener) chan recv {
		c := make(chan recv, 1)
		go func() { f, err := receivePty(l); c <- recv{f, err} }()
		return c
	}
	vol := e.mkdir("vol")
	script := `i=0; while :; do i=$((i+1)); echo "tick $i"; echo $i > /vol/count; sleep 0.1; done`
	bundle := e.newBundle(all(withShell(script), func(s *specs.Spec) { s.Process.Terminal = true },
		withMount(specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}})))
	l1, s1 := listen("c1.sock")
	got1 := getPty(l1)
	id := e.newID()
	e.mustRT("run", "-d", "--console-socket", s1, "--bundle", bundle, id)
	rv := <-got1
	if rv.err != nil {
		t.Fatal(rv.err)
	}
	defer rv.f.Close()
	go drain(rv.f)
	waitCount(t, vol, 3)
	img := filepath.Join(e.base, "image")
	e.mustCR(img, "checkpoint", "--image-path", img, id)
	at := readCount(t, vol)
	l2, s2 := listen("c2.sock")
	got2 := getPty(l2)
	e.mustCR(img, "restore", "-d", "--console-socket", s2, "--bundle", bundle, "--image-path", img, id)
	rv2 := <-got2
	if rv2.err != nil {
		t.Fatalf("the restore's console socket: %v", rv2.err)
	}
	defer rv2.f.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := rv2.f.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	want := fmt.Sprintf("tick %d", at+3)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		s := out.String()
		mu.Unlock()
		if strings.Contains(s, want) {
			if strings.Contains(s, "tick 1\r\n") {
				t.Errorf("the restored terminal shows the count from 1: %q", s)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored pty shows %q, want %q", s, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.mustRT("delete", "-f", id)
}

func drain(f *os.File) {
	buf := make([]byte, 4096)
	for {
		if _, err := f.Read(buf); err != nil {
			return
		}
	}
}

// lazyCheckpoint is a checkpoint --lazy-pages (with a page server on
// loopback and --status-fd) that is ready: criu has dumped the container
// and waits for its restore side.
type lazyCheckpoint struct {
	cmd  *exec.Cmd
	port int
	done chan error // the checkpoint's exit
	out  *bytes.Buffer
}

// startLazyCheckpoint starts checkpoint --lazy-pages of id and waits until
// criu says (on the status fd) that its page server is ready.
func startLazyCheckpoint(t *testing.T, e *env, id, img, work string, global ...string) *lazyCheckpoint {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	sr, sw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*cmdTimeout)
	lz := &lazyCheckpoint{port: port, done: make(chan error, 1), out: new(bytes.Buffer)}
	args := append(append([]string{"--root", e.root}, global...), "checkpoint", "--lazy-pages",
		"--page-server", fmt.Sprintf("127.0.0.1:%d", port), "--status-fd", "3", "--manage-cgroups-mode", "ignore",
		"--work-path", work, "--image-path", img, id)
	lz.cmd = exec.CommandContext(ctx, runtimeBin, args...)
	lz.cmd.ExtraFiles = []*os.File{sw}
	lz.cmd.Stdout, lz.cmd.Stderr = lz.out, lz.out
	if err := lz.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	sw.Close()
	go func() { lz.done <- lz.cmd.Wait(); cancel() }()
	// criu writes \0 to the status fd once the page server is ready.
	ready := make(chan []byte, 1)
	go func() {
		b := make([]byte, 1)
		n, _ := sr.Read(b)
		ready <- b[:n]
	}()
	select {
	case b := <-ready:
		if len(b) != 1 || b[0] != 0 {
			<-lz.done
			criuLog(t, work)
			t.Fatalf("--status-fd: read %q, want a \\0 (checkpoint: %s)", b, lz.out.String())
		}
	case err := <-lz.done:
		criuLog(t, work)
		t.Fatalf("checkpoint --lazy-pages ended before it was ready: %v: %s", err, lz.out.String())
	case <-time.After(cmdTimeout):
		t.Fatalf("no status from checkpoint --lazy-pages after %v", cmdTimeout)
	}
	return lz
}

// TestCheckpointLazyPages: checkpoint --lazy-pages with a page server and
// --status-fd, criu's lazy-pages daemon, restore --lazy-pages as a new
// container (its own cgroup: the checkpointed one lives until the last
// page is fetched), as runc's checkpoint.bats does it. The restored
// counter goes on; the checkpoint then ends and the old container is gone.
func TestCheckpointLazyPages(t *testing.T) {
	needCriuWorks(t)
	if out, err := exec.Command("criu", "check", "--feature", "uffd-noncoop").CombinedOutput(); err != nil {
		t.Skipf("criu check --feature uffd-noncoop: %v: %s (lazy pages need userfaultfd with non-cooperative events in this kernel)", err, bytes.TrimSpace(out))
	}
	e := newEnv(t)
	c := runCounter(t, e, nil)
	id, vol := c.id, c.vol
	img := e.mkdir("image")
	work := e.mkdir("work")
	lz := startLazyCheckpoint(t, e, id, img, work)
	port, ckDone, ckOut := lz.port, lz.done, lz.out
	ctx, cancel := context.WithTimeout(context.Background(), 3*cmdTimeout)
	defer cancel()
	if _, err := os.Stat(filepath.Join(img, "inventory.img")); err != nil {
		t.Fatalf("checkpoint --lazy-pages ready, but: %v", err)
	}
	at := readCount(t, vol)
	var lpOut bytes.Buffer
	lp := exec.CommandContext(ctx, "criu", "lazy-pages", "--page-server", "--address", "127.0.0.1", "--port", strconv.Itoa(port), "-D", img)
	lp.Stdout, lp.Stderr = &lpOut, &lpOut
	if err := lp.Start(); err != nil {
		t.Fatal(err)
	}
	lpDone := make(chan error, 1)
	go func() { lpDone <- lp.Wait() }()
	// The restored container: another id and cgroup, the same rootfs
	// content and volume.
	id2 := e.newID()
	bundle2 := counterBundle(e, vol)
	p2 := newPipes(t)
	if code := e.rtPipes(p2, "restore", "-d", "--lazy-pages", "--manage-cgroups-mode", "ignore", "--work-path", img, "--image-path", img, "--bundle", bundle2, id2); code != 0 {
		criuLog(t, img, work)
		t.Fatalf("restore --lazy-pages: exit %d: %s", code, p2.stderr())
	}
	if s := e.state(id2); s.Status != "running" {
		t.Errorf("restored: status %q, want running", s.Status)
	}
	if r := e.rt("exec", id2, "echo", "ok"); r.Code != 0 || r.Stdout != "ok\n" {
		t.Errorf("exec in the restored container: %v", r)
	}
	waitCount(t, vol, at+3)
	for name, c := range map[string]chan error{"checkpoint --lazy-pages": ckDone, "criu lazy-pages": lpDone} {
		select {
		case err := <-c:
			if err != nil {
				criuLog(t, work)
				t.Errorf("%s: %v: %s%s", name, err, ckOut.String(), lpOut.String())
			}
		case <-time.After(cmdTimeout):
			t.Fatalf("%s still runs %v after the restore", name, cmdTimeout)
		}
	}
	e.assertNotExist(id)
	checkLog(t, vol, 0)
	e.mustRT("delete", "-f", id2)
}

// TestCheckpointLazyDelete: while checkpoint --lazy-pages waits for its
// restore side (criu's page server is up, the container's tasks are
// ptrace-stopped by criu, and the checkpoint holds the container's lock),
// delete fails at once as for a running container, and delete -f returns
// in bounded time: criu ended, the checkpoint failed, and nothing left
// (state dir, cgroup, init, criu).
func TestCheckpointLazyDelete(t *testing.T) {
	needCriuWorks(t)
	if out, err := exec.Command("criu", "check", "--feature", "uffd-noncoop").CombinedOutput(); err != nil {
		t.Skipf("criu check --feature uffd-noncoop: %v: %s (lazy pages need userfaultfd with non-cooperative events in this kernel)", err, bytes.TrimSpace(out))
	}
	lazyDelete(t, false)
}

// TestCheckpointDevNullStdin: a container whose stdin is the host's
// /dev/null (what podman's conmon gives a container run without -i),
// outside the container's mount namespace, checkpoints and restores (with
// the restore's /dev/null in its place).
func TestCheckpointDevNullStdin(t *testing.T) {
	needCriuWorks(t)
	e := newEnv(t)
	p := newPipes(t)
	p.devNullIn = true
	c := runCounter(t, e, p)
	id, bundle, vol := c.id, c.bundle, c.vol
	img := e.checkpointImage(id)
	at := readCount(t, vol)
	p2 := newPipes(t)
	p2.devNullIn = true
	if code := e.rtPipes(p2, "restore", "-d", "--bundle", bundle, "--image-path", img, id); code != 0 {
		criuLog(t, img)
		t.Fatalf("restore: exit %d: %s", code, p2.stderr())
	}
	waitCount(t, vol, at+3)
	checkLog(t, vol, 0)
	if r := e.rt("exec", id, "sh", "-c", "readlink /proc/1/fd/0"); r.Code != 0 || r.Stdout != "/dev/null\n" {
		t.Errorf("the restored init's stdin: %v, want /dev/null", r)
	}
	e.mustRT("delete", "-f", id)
}

// TestDevNullStdioReopened: stdio that is the caller's /dev/null (the
// host's, on a mount outside the container) is reopened on the
// container's own /dev/null, as runc does: the fd's mount is one of the
// container's (criu could not dump it otherwise). create gets the host's
// /dev/null as stdin (e.rt), which the init inherits, as under conmon.
func TestDevNullStdioReopened(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vol := e.mkdir("vol")
	script := `m=$(sed -n 's/^mnt_id:[[:space:]]*//p' /proc/$$/fdinfo/0); if grep -q "^$m " /proc/$$/mountinfo; then echo "in the container: $(readlink /proc/$$/fd/0)"; else echo "fd 0 ($(readlink /proc/$$/fd/0)) is on mount $m, not one of the container's"; fi > /vol/out`
	bundle := e.newBundle(all(withShell(script), withMount(specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}})))
	id, _ := e.create(bundle)
	e.mustRT("start", id)
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)
	b, err := os.ReadFile(filepath.Join(vol, "out"))
	if err != nil || string(b) != "in the container: /dev/null\n" {
		t.Errorf("stdin /dev/null: %q %v, want it reopened on the container's /dev/null", b, err)
	}
}
