package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sleeper keeps the container's init alive until it is killed.
var sleeper = withArgs("sleep", "1000")

func TestCreateStartKillDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, pid := e.create(e.newBundle(sleeper))

	s := e.state(id)
	if s.Status != "created" {
		t.Errorf("status after create = %q, want created", s.Status)
	}
	if s.Pid != pid {
		t.Errorf("state pid %d != pid file %d", s.Pid, pid)
	}
	if err := unix.Kill(pid, 0); err != nil {
		t.Errorf("container init %d is not alive after create: %v", pid, err)
	}

	e.mustRT("start", id)
	if s = e.state(id); s.Status != "running" || s.Pid != pid {
		t.Errorf("after start: status %q pid %d, want running pid %d", s.Status, s.Pid, pid)
	}

	e.mustRT("kill", id, "KILL")
	if s = e.waitStatus(id, "stopped"); s.Pid != 0 {
		t.Errorf("stopped container: state pid = %d, want 0", s.Pid)
	}
	if err := waitProcGone(procRef{pid: pid}, 5*time.Second); err != nil {
		t.Error(err)
	}

	e.mustRT("delete", id)
	e.assertNotExist(id)
}

func TestKillSignals(t *testing.T) {
	t.Parallel()
	// The init process of a pid namespace only gets signals it handles, so
	// `sleep` as init only dies from SIGKILL: a runtime that sent anything
	// else for these names would leave it running.
	for _, sig := range []string{"KILL", "SIGKILL", "9"} {
		t.Run(sig, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			id, _ := e.create(e.newBundle(sleeper))
			e.mustRT("start", id)
			e.mustRT("kill", id, sig)
			if s := e.waitStatus(id, "stopped"); s.Pid != 0 {
				t.Errorf("state pid = %d, want 0", s.Pid)
			}
			e.mustRT("delete", id)
		})
	}
	t.Run("default-TERM", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bundle := e.newBundle(withShell(`trap 'echo term > /tmp/got-term; exit 0' TERM; touch /tmp/ready; sleep 1000 & wait`))
		id, _ := e.create(bundle)
		e.mustRT("start", id)
		waitFile(t, filepath.Join(bundle, "rootfs/tmp/ready")) // the trap is set
		e.mustRT("kill", id)
		if s := e.waitStatus(id, "stopped"); s.Pid != 0 {
			t.Errorf("state pid = %d, want 0", s.Pid)
		}
		if b, err := os.ReadFile(filepath.Join(bundle, "rootfs/tmp/got-term")); err != nil || string(b) != "term\n" {
			t.Errorf("container did not see SIGTERM from a plain kill: %v %q", err, b)
		}
		e.mustRT("delete", id)
	})
}

func TestStateJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.hull.test": "yes"}
	}))
	id := e.newID()
	// A relative --bundle must be reported as an absolute path.
	if r := e.rtIn(e.base, "create", "--bundle", filepath.Base(bundle), id); r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	s := e.state(id)
	for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner", "annotations"} {
		if _, ok := s.Raw[k]; !ok {
			t.Errorf("state JSON lacks %q: %v", k, s.Raw)
		}
	}
	if !strings.HasPrefix(s.OCIVersion, "1.") {
		t.Errorf("ociVersion = %q", s.OCIVersion)
	}
	if s.ID != id || s.Status != "created" || s.Pid <= 0 {
		t.Errorf("id/status/pid = %q/%q/%d", s.ID, s.Status, s.Pid)
	}
	if s.Bundle != bundle {
		t.Errorf("bundle = %q, want absolute %q", s.Bundle, bundle)
	}
	if s.Rootfs != filepath.Join(bundle, "rootfs") {
		t.Errorf("rootfs = %q, want %q", s.Rootfs, filepath.Join(bundle, "rootfs"))
	}
	if created, err := time.Parse(time.RFC3339Nano, s.Created); err != nil {
		t.Errorf("created %q is not RFC3339: %v", s.Created, err)
	} else if d := time.Since(created); d < -time.Minute || d > time.Minute {
		t.Errorf("created %v is not about now", created)
	}
	if s.Annotations["org.hull.test"] != "yes" {
		t.Errorf("annotations = %v", s.Annotations)
	}
	e.mustRT("delete", "--force", id)
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id1, pid1 := e.create(e.newBundle(sleeper))
	id2, _ := e.create(e.newBundle(sleeper))
	e.mustRT("start", id2)
	want := []string{id1, id2}
	sort.Strings(want)

	table := lines(e.mustRT("list").Stdout)
	if len(table) != 3 {
		t.Fatalf("list: want header + 2 rows, got %q", table)
	}
	if h := strings.Fields(table[0]); strings.Join(h, " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Errorf("list header = %q", table[0])
	}
	rows := map[string][]string{}
	for _, l := range table[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	if r := rows[id1]; len(r) < 5 || r[2] != "created" || r[1] != strconv.Itoa(pid1) {
		t.Errorf("list row for %s = %q, want pid %d status created", id1, r, pid1)
	}
	if r := rows[id2]; len(r) < 5 || r[2] != "running" {
		t.Errorf("list row for %s = %q, want status running", id2, r)
	}

	var js []containerState
	if err := json.Unmarshal([]byte(e.mustRT("list", "--format", "json").Stdout), &js); err != nil {
		t.Fatalf("list --format json: %v", err)
	}
	var got []string
	for _, s := range js {
		got = append(got, s.ID)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("list --format json ids = %v, want %v", got, want)
	}

	got = lines(e.mustRT("list", "-q").Stdout)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("list -q = %q, want exactly %v", got, want)
	}
	e.mustRT("delete", "--force", id1)
	e.mustRT("delete", "--force", id2)
	if out := e.mustRT("list", "-q").Stdout; strings.TrimSpace(out) != "" {
		t.Errorf("list -q after delete = %q, want empty", out)
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, code := e.runContainer(nil, "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit 7: run exited %d", code)
	}
	// A pid namespace's init ignores SIGKILL sent from inside its namespace,
	// so run without a pid namespace for the process to really die by it.
	if out, code := e.runContainer(withoutPidNS(), "sh", "-c", "kill -9 $$; echo survived"); code != 137 {
		t.Errorf("kill -9 $$: run exited %d (stdout %q), want 137", code, out)
	}
	if _, code := e.runContainer(nil, "true"); code != 0 {
		t.Errorf("true: run exited %d", code)
	}
}

func TestRunRemovesContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell("echo out; echo err >&2"))
	id := e.newID()
	r := e.rt("run", "--bundle", bundle, id)
	if r.Code != 0 || r.Stdout != "out\n" || !strings.Contains(r.Stderr, "err\n") {
		t.Errorf("run: %v; want exit 0, stdout out, stderr err", r)
	}
	e.assertNotExist(id)
}

func TestRunKeep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell("exit 3"))
	id := e.newID()
	if r := e.rt("run", "--keep", "--bundle", bundle, id); r.Code != 3 {
		t.Errorf("run --keep: %v, want exit 3", r)
	}
	if s := e.state(id); s.Status != "stopped" {
		t.Errorf("after run --keep: status %q, want stopped", s.Status)
	}
	e.mustRT("delete", id)
	e.assertNotExist(id)
}

func TestRunDetach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(sleeper)
	id := e.newID()
	start := time.Now()
	e.mustRT("run", "-d", "--bundle", bundle, id)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run -d took %v", d)
	}
	s := e.state(id)
	if s.Status != "running" {
		t.Errorf("after run -d: status %q, want running", s.Status)
	}
	if err := unix.Kill(s.Pid, 0); err != nil {
		t.Errorf("init %d not alive: %v", s.Pid, err)
	}
	e.mustRT("delete", "--force", id)
}

func TestDeleteRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, pid := e.create(e.newBundle(sleeper))
	e.mustRT("start", id)
	if r := e.rt("delete", id); r.Code == 0 {
		t.Errorf("delete of a running container succeeded: %v", r)
	}
	if s := e.state(id); s.Status != "running" || s.Pid != pid {
		t.Errorf("after failed delete: status %q pid %d", s.Status, s.Pid)
	}
	e.mustRT("delete", "--force", id)
	e.assertNotExist(id)
	if err := waitProcGone(procRef{pid: pid}, 5*time.Second); err != nil {
		t.Error(err)
	}
}

func TestDeleteForceCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, pid := e.create(e.newBundle(sleeper))
	e.mustRT("delete", "--force", id)
	e.assertNotExist(id)
	if err := waitProcGone(procRef{pid: pid}, 5*time.Second); err != nil {
		t.Error(err)
	}
}

func TestKillStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _ := e.create(e.newBundle(withArgs("true")))
	e.mustRT("start", id)
	e.waitStatus(id, "stopped")
	r := e.rt("kill", id, "KILL")
	if r.Code == 0 {
		t.Errorf("kill of a stopped container succeeded: %v", r)
	}
	if !strings.Contains(r.Stderr, "not running") {
		t.Errorf("kill of a stopped container: stderr %q, want \"container not running\"", r.Stderr)
	}
	e.mustRT("delete", id)
}

func TestStartTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, pid := e.create(e.newBundle(sleeper))
	e.mustRT("start", id)
	if r := e.rt("start", id); r.Code == 0 {
		t.Errorf("second start succeeded: %v", r)
	}
	if s := e.state(id); s.Status != "running" || s.Pid != pid {
		t.Errorf("after second start: status %q pid %d, want running %d", s.Status, s.Pid, pid)
	}
	e.mustRT("delete", "--force", id)
}

func TestCreateExistingID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(sleeper)
	id, pid := e.create(bundle)
	other := e.newBundle(sleeper)
	r := e.rt("create", "--bundle", other, id)
	if r.Code == 0 {
		t.Fatalf("second create with id %s succeeded", id)
	}
	if !strings.Contains(r.Stderr, "exist") {
		t.Errorf("second create: stderr %q does not say the id exists", r.Stderr)
	}
	s := e.state(id)
	if s.Status != "created" || s.Pid != pid || s.Bundle != bundle {
		t.Errorf("existing container disturbed: %+v (want created, pid %d, bundle %s)", s, pid, bundle)
	}
	e.mustRT("start", id)
	if s := e.state(id); s.Status != "running" {
		t.Errorf("existing container does not start after the failed create: %q", s.Status)
	}
	e.mustRT("delete", "--force", id)
}

func TestConcurrentCreateSameID(t *testing.T) {
	if !isHull {
		// Reproduced by hand: with two simultaneous `runc create` of one id,
		// the loser fails with "exec fifo ... already exists" or "file
		// exists" and its cleanup removes the winner's state dir, orphaning
		// the winner's init process (which this suite would leak).
		t.Skip("runc 1.1.5 deviates: concurrent create with the same id is racy (loser destroys the winner's state)")
	}
	t.Parallel()
	for round := 0; round < 5; round++ {
		e := newEnv(t)
		b1, b2 := e.newBundle(sleeper), e.newBundle(sleeper)
		id := e.newID()
		var wg sync.WaitGroup
		res := make([]result, 2)
		for i, b := range []string{b1, b2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = e.rt("create", "--bundle", b, id)
			}()
		}
		wg.Wait()
		ok := 0
		for _, r := range res {
			if r.Code == 0 {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 2 concurrent creates succeeded, want exactly 1: %v", round, ok, res)
		}
		s := e.state(id)
		if s.Status != "created" || unix.Kill(s.Pid, 0) != nil {
			t.Fatalf("round %d: winner not intact: %+v", round, s)
		}
		e.mustRT("start", id)
		e.mustRT("delete", "--force", id)
		if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
			t.Errorf("round %d: list -q after delete = %q", round, out)
		}
	}
}

// A created container's init waits for start in a fresh image of hull
// whose C constructor blocks before the Go runtime exists, so an idle
// container costs one thread (a Go runtime has at least four). `run`
// skips that re-exec, since its start follows at once; this checks that
// create keeps it.
func TestIdleInitOneThread(t *testing.T) {
	if !isHull {
		t.Skip("hull's idle init design; runc's waits in its Go runtime (6 threads)")
	}
	t.Parallel()
	e := newEnv(t)
	id, pid := e.create(e.newBundle(sleeper))
	// create returns once the init is set up; its exec into the C image
	// follows, so give it a moment.
	var threads string
	for deadline := time.Now().Add(5 * time.Second); threads != "1" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		status := readTrim(t, fmt.Sprintf("/proc/%d/status", pid))
		for _, l := range strings.Split(status, "\n") {
			if v, ok := strings.CutPrefix(l, "Threads:"); ok {
				threads = strings.TrimSpace(v)
			}
		}
	}
	if threads != "1" {
		t.Errorf("idle init %d has %q threads, want 1 (waiting in the C constructor)", pid, threads)
	}
	e.mustRT("start", id)
	if s := e.state(id); s.Status != "running" || s.Pid != pid {
		t.Errorf("after start: status %q pid %d, want running pid %d", s.Status, s.Pid, pid)
	}
	e.mustRT("delete", "--force", id)
	e.assertNotExist(id)
}

// A foreground run forwards the signals it gets to the container's init:
// an ordinary one, a real-time one (systemd units stop with SIGRTMIN+3),
// and a TERM that ends it with the init's exit code.
func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell(`trap "echo got-usr1; touch /tmp/usr1" USR1; trap "echo got-rt3; touch /tmp/rt3" 37; ` +
		`trap "echo got-term; exit 3" TERM; touch /tmp/trap-ready; while :; do sleep 0.1; done`))
	tmp := filepath.Join(bundle, "rootfs/tmp")
	cmd, stdout, stderr := e.rtCommand("run", "--bundle", bundle, e.newID())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(tmp, "trap-ready"))
	// One at a time: the shell runs its traps between sleeps, and two
	// pending signals could be handled in either order.
	for _, s := range []struct {
		sig  unix.Signal
		file string
	}{{unix.SIGUSR1, "usr1"}, {unix.Signal(37), "rt3"}} {
		if err := cmd.Process.Signal(s.sig); err != nil {
			t.Fatal(err)
		}
		waitFile(t, filepath.Join(tmp, s.file))
	}
	if err := cmd.Process.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitCmd(t, cmd)
	if got := strings.Fields(stdout.String()); code != 3 || strings.Join(got, " ") != "got-usr1 got-rt3 got-term" {
		t.Errorf("USR1, RTMIN+3, TERM to a foreground run: exit %d, stdout %q, stderr %q; want exit 3 and got-usr1 got-rt3 got-term", code, stdout, stderr)
	}
}

// An init that dies after `start` opened exec.fifo but before its execve
// (here a startContainer hook SIGKILLs it) ran nothing of the user's:
// start must fail, as runc's does, not report success. Before, start took
// the EOF for an execve, and a caller polling state saw "stopped" with no
// output at all (the runtime-tools validation files' empty TAP).
func TestStartInitDiesBeforeExec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		// No pid namespace: its init would ignore a SIGKILL from inside.
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.PIDNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{
			Path: "/bin/sh",
			Args: []string{"sh", "-c", "kill -9 $PPID; sleep 5"},
		}}}
	}))
	id, _ := e.create(bundle)
	r := e.rt("start", id)
	if r.Code == 0 {
		t.Errorf("start of a container whose init died before its execve succeeded: %v", r)
	}
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)
}
