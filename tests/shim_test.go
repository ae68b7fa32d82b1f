package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hull-shim is built once per test binary; each test runs its own copy
// from its private dir (removed with it).
var (
	shimBuildOnce sync.Once
	shimBuilt     []byte
	shimBuildErr  error
)

func buildShim() ([]byte, error) {
	shimBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hulltest-shimbuild-")
		if err != nil {
			shimBuildErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "hull-shim")
		build := exec.Command("go", "build", "-o", out, "github.com/hullrt/hull/cmd/hull-shim")
		build.Dir = ".."
		if b, err := build.CombinedOutput(); err != nil {
			shimBuildErr = fmt.Errorf("go build -o %s github.com/hullrt/hull/cmd/hull-shim: %v\n%s", out, err, b)
			return
		}
		shimBuilt, shimBuildErr = os.ReadFile(out)
	})
	return shimBuilt, shimBuildErr
}

// shimBin returns the test's copy of hull-shim.
func (e *env) shimBin() string {
	e.t.Helper()
	if !isHull {
		e.t.Skipf("hull-shim drives hull; the runtime under test (%s) is not hull", runtimeBin)
	}
	b, err := buildShim()
	if err != nil {
		e.t.Fatal(err)
	}
	p := filepath.Join(e.base, "hull-shim")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if err := writeExecutable(p, b, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// shimRun is one hull-shim started by a test, under a subreaper of its own
// (see reaperMain): the shim's foreground invocation runs from a `sh -c`
// (the "caller"); the detached shim, once its caller is gone, is
// reparented to the subreaper, which reaps it and every process it leaves.
type shimRun struct {
	e        *env
	id       string
	dir      string // the files of this shim
	logFile  string
	exitFile string
	attach   string
	pidFile  string // the container's init pid
	shimFile string // the shim's pid
	callerF  string // the pid of the sh -c caller
	codeF    string
	errF     string
	reaped   func() map[int]int

	code    int    // of the foreground invocation
	stderr  string // of the foreground invocation
	shimPid int
	initPid int
}

var shimCounter int64
var shimCounterMu sync.Mutex

// startShim starts hull-shim for container id from bundle, with a log
// file, an exit file, an attach socket and pid files in a fresh dir, plus
// extra flags. It does not wait for the foreground invocation (see done).
// Without --runtime in extra, --runtime names the runtime under test.
func (e *env) startShim(id, bundle string, extra ...string) *shimRun {
	e.t.Helper()
	bin := e.shimBin()
	shimCounterMu.Lock()
	shimCounter++
	n := shimCounter
	shimCounterMu.Unlock()
	s := &shimRun{e: e, id: id, dir: e.mkdir(fmt.Sprintf("shim-%d", n))}
	s.logFile = filepath.Join(s.dir, "ctr.log")
	s.exitFile = filepath.Join(s.dir, "exit")
	s.attach = filepath.Join(s.dir, "attach.sock")
	s.pidFile = filepath.Join(s.dir, "init.pid")
	s.shimFile = filepath.Join(s.dir, "shim.pid")
	s.callerF = filepath.Join(s.dir, "caller.pid")
	s.codeF = filepath.Join(s.dir, "code")
	s.errF = filepath.Join(s.dir, "stderr")
	args := []string{bin, "--id", id, "--bundle", bundle, "--root", e.root,
		"--log-file", s.logFile, "--exit-file", s.exitFile, "--attach-socket", s.attach,
		"--pid-file", s.pidFile, "--shim-pid-file", s.shimFile, "--shim-log", filepath.Join(s.dir, "shim.log")}
	hasRuntime := false
	for _, a := range extra {
		if a == "--runtime" || a == "--no-runtime-flag" {
			hasRuntime = true
		}
	}
	if !hasRuntime {
		args = append(args, "--runtime", runtimeBin)
	}
	for _, a := range extra {
		if a != "--no-runtime-flag" {
			args = append(args, a)
		}
	}
	setsid, err := exec.LookPath("setsid")
	if err != nil {
		e.t.Fatalf("setsid (util-linux) is needed to give each shim's caller a session: %v", err)
	}
	// The caller leads a session and process group of its own. It gives
	// the shim fds 5 and 6 (files fd5 and fd6 in the shim's dir) for
	// --stdout-fd and --stderr-fd.
	script := `echo $$ >"$SHIM_CALLER.tmp"; mv "$SHIM_CALLER.tmp" "$SHIM_CALLER"; "$@" 2>"$SHIM_ERR" 5>"$SHIM_FD5" 6>"$SHIM_FD6"; echo $? >"$SHIM_CODE.tmp"; mv "$SHIM_CODE.tmp" "$SHIM_CODE"`
	env := []string{"SHIM_CALLER=" + s.callerF, "SHIM_ERR=" + s.errF, "SHIM_CODE=" + s.codeF,
		"SHIM_FD5=" + filepath.Join(s.dir, "fd5"), "SHIM_FD6=" + filepath.Join(s.dir, "fd6")}
	s.reaped = e.startReapedArgv(env,
		append([]string{setsid, "/bin/sh", "-c", script, "sh"}, args...)...)
	return s
}

// done waits for the foreground invocation to return and reads its
// results and the pid files.
func (s *shimRun) done() *shimRun {
	s.e.t.Helper()
	// The foreground shim runs create and start, each bounded by
	// cmdTimeout in the tests; a slow VM (TCG, systemd) takes more than
	// waitFile's 10s.
	for deadline := time.Now().Add(2 * cmdTimeout); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(s.codeF); err == nil {
			break
		}
		if time.Now().After(deadline) {
			s.e.t.Fatalf("%s did not appear within %v", s.codeF, 2*cmdTimeout)
		}
	}
	b, _ := os.ReadFile(s.codeF)
	s.code, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	b, _ = os.ReadFile(s.errF)
	s.stderr = string(b)
	if b, err := os.ReadFile(s.shimFile); err == nil {
		s.shimPid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if b, err := os.ReadFile(s.pidFile); err == nil {
		s.initPid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		s.e.trackPid(s.initPid)
	}
	s.e.trackPid(s.shimPid)
	return s
}

// started is done that requires the container to have started.
func (s *shimRun) started() *shimRun {
	s.e.t.Helper()
	s.done()
	if s.code != 0 {
		log, _ := os.ReadFile(filepath.Join(s.dir, "shim.log"))
		s.e.t.Fatalf("hull-shim for %s exited %d, stderr %q; shim log: %s", s.id, s.code, s.stderr, log)
	}
	if s.shimPid <= 0 || s.initPid <= 0 {
		s.e.t.Fatalf("hull-shim for %s: no shim pid (%d) or init pid (%d)", s.id, s.shimPid, s.initPid)
	}
	return s
}

// checkGone checks, once the container was deleted, that the shim has
// exited with status 0 and reaped the init itself: the subreaper above the
// shim must have reaped the shim and not the init (it would have, had the
// shim left the init behind).
func (s *shimRun) checkGone() {
	s.e.t.Helper()
	got := s.reaped()
	code, ok := got[s.shimPid]
	switch {
	case !ok:
		s.e.t.Errorf("shim %d was not reaped by its subreaper (reaped: %v)", s.shimPid, got)
	case code != 0:
		s.e.t.Errorf("shim %d exited %d, want 0 (shim log: %s)", s.shimPid, code, s.shimLog())
	}
	if _, ok := got[s.initPid]; ok {
		s.e.t.Errorf("init %d was left to the shim's parent: the shim did not reap it", s.initPid)
	}
	for _, pid := range []int{s.shimPid, s.initPid} {
		if st, _, _, err := procStat(pid); err == nil && (st == 'Z' || st == 'X') {
			s.e.t.Errorf("process %d is a zombie", pid)
		}
	}
	for _, p := range []string{s.attach, s.attach + ".ctl"} {
		if _, err := os.Lstat(p); err == nil {
			s.e.t.Errorf("%s left behind by the shim", p)
		}
	}
}

// leftToReaper is what the subreaper reaped besides the sh -c caller.
func (s *shimRun) leftToReaper() map[int]int {
	got := s.reaped()
	b, _ := os.ReadFile(s.callerF)
	caller, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	delete(got, caller)
	return got
}

func (s *shimRun) shimLog() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "shim.log"))
	return string(b)
}

// hullWait runs `hull wait id` in the background.
func (e *env) hullWait(id string) <-chan result {
	ch := make(chan result, 1)
	go func() { ch <- e.rt("wait", id) }()
	return ch
}

func recvWait(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(cmdTimeout + 5*time.Second):
		t.Fatal("hull wait did not return")
	}
	return result{}
}

// gate makes the container wait for the test to create rootfs/tmp/go.
func gate(then string) func(*specs.Spec) {
	return withShell(`while [ ! -e /tmp/go ]; do sleep 0.05; done; ` + then)
}

func openGate(t *testing.T, bundle string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(bundle, "rootfs/tmp/go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkExitReported checks state, wait and the exit file for code.
func (s *shimRun) checkExitReported(code int, waitRes result) {
	t := s.e.t
	t.Helper()
	if waitRes.Code != code || strings.TrimSpace(waitRes.Stdout) != strconv.Itoa(code) {
		t.Errorf("hull wait: %v, want exit %d and %d printed", waitRes, code, code)
	}
	st := s.e.state(s.id)
	if st.Status != "stopped" {
		t.Errorf("state: status %q, want stopped", st.Status)
	}
	if got, ok := st.Raw["exitStatus"].(float64); !ok || int(got) != code {
		t.Errorf("state: exitStatus %v, want %d (state %v)", st.Raw["exitStatus"], code, st.Raw)
	}
	if at, ok := st.Raw["exitedAt"].(string); !ok {
		t.Errorf("state: no exitedAt: %v", st.Raw)
	} else if ts, err := time.Parse(time.RFC3339Nano, at); err != nil || time.Since(ts) > time.Minute || time.Since(ts) < -time.Second {
		t.Errorf("state: exitedAt %q is not about now (%v)", at, err)
	}
	if _, ok := st.Raw["oomKilled"]; ok {
		t.Errorf("state: oomKilled set for a container that was not OOM-killed: %v", st.Raw)
	}
	if b, err := os.ReadFile(s.exitFile); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(code) {
		t.Errorf("exit file: %q, %v; want %d", b, err, code)
	}
	// Once recorded, wait answers at once.
	if r := s.e.rt("wait", s.id); r.Code != code || strings.TrimSpace(r.Stdout) != strconv.Itoa(code) {
		t.Errorf("second hull wait: %v, want %d", r, code)
	}
}

func TestShimExitStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		code   int
		mutate func(*specs.Spec)
		// end makes the container exit.
		end func(t *testing.T, e *env, s *shimRun, bundle string)
	}{
		{"exit-0", 0, gate("exit 0"), func(t *testing.T, e *env, s *shimRun, b string) { openGate(t, b) }},
		{"exit-7", 7, gate("exit 7"), func(t *testing.T, e *env, s *shimRun, b string) { openGate(t, b) }},
		{"SIGKILL-137", 137, sleeper, func(t *testing.T, e *env, s *shimRun, b string) { e.mustRT("kill", s.id, "KILL") }},
		// Not the init of a pid namespace, so that SIGTERM's default action
		// kills it; sent to the shim, which forwards it.
		{"SIGTERM-143-forwarded", 143, all(sleeper, withoutNamespace(specs.PIDNamespace)), func(t *testing.T, e *env, s *shimRun, b string) {
			if err := unix.Kill(s.shimPid, unix.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			bundle := e.newBundle(c.mutate)
			id := e.newID()
			s := e.startShim(id, bundle).started()
			if st := e.state(id); st.Status != "running" || st.Pid != s.initPid {
				t.Fatalf("after the shim returned: status %q pid %d, want running %d", st.Status, st.Pid, s.initPid)
			}
			if _, ok := e.state(id).Raw["exitStatus"]; ok {
				t.Errorf("a running container shows an exitStatus")
			}
			w := e.hullWait(id)
			select {
			case r := <-w:
				t.Fatalf("hull wait returned while the container runs: %v", r)
			case <-time.After(300 * time.Millisecond):
			}
			c.end(t, e, s, bundle)
			s.checkExitReported(c.code, recvWait(t, w))
			e.mustRT("delete", id)
			e.assertNotExist(id)
			s.checkGone()
		})
	}
}

var criLine = regexp.MustCompile(`^(\S+) (stdout|stderr) ([FP]) (.*)$`)

type criRecord struct {
	t           time.Time
	stream, tag string
	text        string
	line        string
}

func parseCRI(t *testing.T, data string) []criRecord {
	t.Helper()
	var recs []criRecord
	for _, l := range strings.SplitAfter(data, "\n") {
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			t.Errorf("CRI log: last record %q has no newline", l)
			continue
		}
		m := criLine.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
		if m == nil {
			t.Errorf("CRI log: %q is not TIME STREAM F|P TEXT", l)
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Errorf("CRI log: time %q: %v", m[1], err)
		}
		recs = append(recs, criRecord{ts, m[2], m[3], m[4], l})
	}
	return recs
}

func TestShimLogCRI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell(`echo out-1; echo err-1 >&2; printf partial; sleep 0.3; echo ' rest'; echo err-2 >&2; i=0; while [ $i -lt 3 ]; do echo line-$i; i=$((i+1)); done`))
	id := e.newID()
	// No --runtime: the shim finds hull next to itself.
	if err := os.Symlink(runtimeBin, filepath.Join(e.base, "hull")); err != nil {
		t.Fatal(err)
	}
	ranFile := filepath.Join(e.base, "exit-command.out")
	// The exit command may itself wait for the container: the shim has
	// recorded the exit before it runs it.
	s := e.startShim(id, bundle, "--no-runtime-flag", "--stdout-fd", "5", "--stderr-fd", "6",
		"--exit-command", "/bin/sh", "--exit-command-arg", "-c",
		"--exit-command-arg", fmt.Sprintf(`%q --root %q wait %q >%q.tmp 2>&1; mv %q.tmp %q`, runtimeBin, e.root, id, ranFile, ranFile, ranFile)).started()
	if r := recvWait(t, e.hullWait(id)); r.Code != 0 {
		t.Fatalf("hull wait: %v", r)
	}
	waitFile(t, ranFile)
	if b, _ := os.ReadFile(ranFile); strings.TrimSpace(string(b)) != "0" {
		t.Errorf("hull wait run by --exit-command printed %q, want 0", b)
	}
	for fd, want := range map[string]string{
		"fd5": "out-1\npartial rest\nline-0\nline-1\nline-2\n",
		"fd6": "err-1\nerr-2\n",
	} {
		if b, err := os.ReadFile(filepath.Join(s.dir, fd)); err != nil || string(b) != want {
			t.Errorf("raw copy to %s: %q (%v), want %q", fd, b, err, want)
		}
	}
	b, err := os.ReadFile(s.logFile)
	if err != nil {
		t.Fatal(err)
	}
	recs := parseCRI(t, string(b))
	got := map[string][]string{}
	var last time.Time
	for _, r := range recs {
		got[r.stream] = append(got[r.stream], r.tag+" "+r.text)
		if r.t.Before(last) {
			t.Errorf("CRI log: record %q is older than the one before", r.line)
		}
		last = r.t
		if d := time.Since(r.t); d > time.Minute || d < -time.Second {
			t.Errorf("CRI log: time of %q is not about now", r.line)
		}
	}
	wantOut := []string{"F out-1", "P partial", "F  rest", "F line-0", "F line-1", "F line-2"}
	wantErr := []string{"F err-1", "F err-2"}
	if strings.Join(got["stdout"], "|") != strings.Join(wantOut, "|") {
		t.Errorf("stdout records %q, want %q (log:\n%s)", got["stdout"], wantOut, b)
	}
	if strings.Join(got["stderr"], "|") != strings.Join(wantErr, "|") {
		t.Errorf("stderr records %q, want %q (log:\n%s)", got["stderr"], wantErr, b)
	}
	e.mustRT("delete", id)
	s.checkGone()
}

func TestShimLogRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const max = 2048
	bundle := e.newBundle(withShell(`i=100; while [ $i -lt 400 ]; do echo "line-$i padding-padding"; i=$((i+1)); done`))
	id := e.newID()
	s := e.startShim(id, bundle, "--log-size-max", strconv.Itoa(max)).started()
	if r := recvWait(t, e.hullWait(id)); r.Code != 0 {
		t.Fatalf("hull wait: %v", r)
	}
	cur, err1 := os.ReadFile(s.logFile)
	old, err2 := os.ReadFile(s.logFile + ".1")
	if err1 != nil || err2 != nil {
		t.Fatalf("log %v, rotated log %v", err1, err2)
	}
	if len(cur) > max || len(old) > max {
		t.Errorf("log sizes %d and %d, want both <= %d", len(cur), len(old), max)
	}
	if len(old) < max/2 {
		t.Errorf("rotated log has %d bytes: rotated too early (max %d)", len(old), max)
	}
	recs := append(parseCRI(t, string(old)), parseCRI(t, string(cur))...)
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	// The two files hold the last records, in order, ending with line-399.
	next := -1
	for _, r := range recs {
		var n int
		if _, err := fmt.Sscanf(r.text, "line-%d padding-padding", &n); err != nil || r.tag != "F" || r.stream != "stdout" {
			t.Errorf("unexpected record %q", r.line)
			continue
		}
		if next >= 0 && n != next {
			t.Errorf("record line-%d follows line-%d", n, next-1)
		}
		next = n + 1
	}
	if next != 400 {
		t.Errorf("last record is line-%d, want line-399", next-1)
	}
	e.mustRT("delete", id)
	s.checkGone()
}

// readUntil reads r until want appears (or 10s), returning what it read.
func readUntil(t *testing.T, c net.Conn, want string) string {
	t.Helper()
	var got bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	_ = c.SetReadDeadline(deadline)
	for !strings.Contains(got.String(), want) {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("attach: reading until %q: %v; got %q", want, err, got.String())
		}
	}
	return got.String()
}

func ctl(t *testing.T, path, cmd string) string {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("control socket: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("control %q: %v", cmd, err)
	}
	return strings.TrimSpace(l)
}

func waitLogContains(t *testing.T, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lacks %q after 10s: %q", path, want, b)
		}
	}
}

func TestShimAttach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell(`echo ready; while read l; do echo "got $l"; done; echo bye; exit 3`))
	id := e.newID()
	s := e.startShim(id, bundle, "--stdin").started()
	waitLogContains(t, s.logFile, "ready")
	c, err := net.Dial("unix", s.attach)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	defer c.Close()
	// A second client sees the same live output.
	c2, err := net.Dial("unix", s.attach)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	defer c2.Close()
	time.Sleep(100 * time.Millisecond) // both registered
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		t.Fatal(err)
	}
	got := readUntil(t, c, "got hello\n")
	got2 := readUntil(t, c2, "got hello\n")
	if strings.Contains(got, "ready") || strings.Contains(got2, "ready") {
		t.Errorf("attach replayed output from before it connected: %q / %q", got, got2)
	}
	if r := ctl(t, s.attach+".ctl", "resize 10 20"); !strings.HasPrefix(r, "error") {
		t.Errorf("resize without a terminal: %q, want an error", r)
	}
	if r := ctl(t, s.attach+".ctl", "frobnicate"); !strings.HasPrefix(r, "error") {
		t.Errorf("unknown control command: %q, want an error", r)
	}
	if r := ctl(t, s.attach+".ctl", "close-stdin"); r != "ok" {
		t.Fatalf("close-stdin: %q", r)
	}
	readUntil(t, c, "bye\n")
	// The shim closes the clients once the container has exited.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, err := io.ReadAll(c); err != nil {
		t.Errorf("attach after exit: %v (read %q), want EOF", err, rest)
	}
	r := recvWait(t, e.hullWait(id))
	s.checkExitReported(3, r)
	waitLogContains(t, s.logFile, "stdout F got hello")
	e.mustRT("delete", id)
	s.checkGone()
}

func TestShimAttachTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withArgs("sh"), func(s *specs.Spec) { s.Process.Terminal = true }))
	id := e.newID()
	s := e.startShim(id, bundle).started()
	c, err := net.Dial("unix", s.attach)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	defer c.Close()
	time.Sleep(100 * time.Millisecond)
	if r := ctl(t, s.attach+".ctl", "resize 33 101"); r != "ok" {
		t.Fatalf("resize: %q", r)
	}
	if _, err := io.WriteString(c, "stty size; tty; exit 5\n"); err != nil {
		t.Fatal(err)
	}
	got := readUntil(t, c, "33 101")
	r := recvWait(t, e.hullWait(id))
	s.checkExitReported(5, r)
	b, _ := os.ReadFile(s.logFile)
	if !strings.Contains(string(b), "stdout F 33 101") && !strings.Contains(string(b), "stdout P 33 101") {
		t.Errorf("log of the terminal lacks the stty output; attach read %q; log:\n%s", got, b)
	}
	e.mustRT("delete", id)
	s.checkGone()
}

func TestShimSurvivesCallerDeath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell(`echo started; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo finished; exit 9`))
	id := e.newID()
	s := e.startShim(id, bundle)
	// As soon as the shim exists (it writes its pid file before it
	// creates the container), kill its caller's whole process group, as a
	// terminal hangup or a killed job would: the caller (a session leader
	// here) and the foreground invocation of the shim die, the shim must
	// not.
	waitFile(t, s.shimFile)
	waitFile(t, s.callerF)
	readInt := func(p string) int {
		b, _ := os.ReadFile(p)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	caller, shim := readInt(s.callerF), readInt(s.shimFile)
	if pgid, err := unix.Getpgid(caller); err != nil || pgid != caller {
		t.Fatalf("the caller %d does not lead its process group (%d, %v)", caller, pgid, err)
	}
	if err := unix.Kill(-caller, unix.SIGKILL); err != nil {
		t.Fatalf("kill the caller's process group %d: %v", caller, err)
	}
	time.Sleep(100 * time.Millisecond)
	if !procAlive(procRef{pid: shim}) {
		t.Fatalf("the shim %d died with its caller's process group", shim)
	}
	s.shimPid = shim
	e.trackPid(shim)
	st := e.waitStatus(id, "running")
	s.initPid = st.Pid
	if err := unix.Kill(shim, 0); err != nil {
		t.Fatalf("the shim died with its caller: %v", err)
	}
	waitLogContains(t, s.logFile, "stdout F started")
	openGate(t, bundle)
	r := recvWait(t, e.hullWait(id))
	s.checkExitReported(9, r)
	waitLogContains(t, s.logFile, "stdout F finished")
	e.mustRT("delete", id)
	s.checkGone()
}

func TestShimTwoForOneID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell(`echo first; exec sleep 1000`))
	id := e.newID()
	s1 := e.startShim(id, bundle).started()
	waitLogContains(t, s1.logFile, "first")
	logBefore, _ := os.ReadFile(s1.logFile)
	// The second shim uses the first one's log, exit file and attach
	// socket: it must refuse without touching them.
	s2 := e.startShim(id, bundle, "--log-file", s1.logFile, "--exit-file", s1.exitFile, "--attach-socket", s1.attach).done()
	if s2.code == 0 {
		t.Fatalf("a second shim for %s started: %q", id, s2.stderr)
	}
	if !strings.Contains(s2.stderr, "already exists") {
		t.Errorf("second shim: stderr %q, want hull's \"already exists\"", s2.stderr)
	}
	if st := e.state(id); st.Status != "running" || st.Pid != s1.initPid {
		t.Errorf("after the second shim: status %q pid %d, want running %d", st.Status, st.Pid, s1.initPid)
	}
	if err := unix.Kill(s1.shimPid, 0); err != nil {
		t.Errorf("the first shim is gone: %v", err)
	}
	c, err := net.Dial("unix", s1.attach)
	if err != nil {
		t.Errorf("the first shim's attach socket: %v", err)
	} else {
		c.Close()
	}
	if b, _ := os.ReadFile(s1.logFile); !bytes.Equal(b, logBefore) {
		t.Errorf("the log changed: %q, was %q", b, logBefore)
	}
	// The second shim's subreaper first (see TestShimCreateFails).
	if got := s2.leftToReaper(); len(got) != 0 {
		// Its detached part is the foreground's child, reaped by it.
		t.Errorf("the failed shim left processes to its subreaper: %v", got)
	}
	if pids := procsWithArg(s2.shimFile); len(pids) > 0 {
		t.Errorf("the second shim is still running: %v", pids)
	}
	e.mustRT("kill", id, "KILL")
	s1.checkExitReported(137, recvWait(t, e.hullWait(id)))
	e.mustRT("delete", id)
	s1.checkGone()
}

// procsWithArg lists the processes that have arg among their arguments.
func procsWithArg(arg string) []int { return procsWhose("cmdline", arg) }

// procsWithEnv lists the processes whose environment holds kv.
func procsWithEnv(kv string) []int { return procsWhose("environ", kv) }

// procsWhose lists the processes whose /proc/PID/file (NUL-separated
// entries) holds entry.
func procsWhose(file, entry string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, en := range ents {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + en.Name() + "/" + file)
		if err != nil {
			continue
		}
		for _, a := range strings.Split(string(b), "\x00") {
			if a == entry {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func TestShimCreateFails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		breakIt func(t *testing.T, bundle string)
	}{
		{"malformed-json", func(t *testing.T, b string) {
			if err := os.WriteFile(filepath.Join(b, "config.json"), []byte(`{"ociVersion": "1.0.2", "process": {,}}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"no-args", func(t *testing.T, b string) {
			spec := loadSpec(t, b)
			spec.Process.Args = nil
			writeSpec(t, b, spec)
		}},
		{"missing-rootfs", func(t *testing.T, b string) {
			if err := os.RemoveAll(filepath.Join(b, "rootfs")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			bundle := e.newBundle(sleeper)
			c.breakIt(t, bundle)
			id := e.newID()
			direct := e.rt("create", "--bundle", bundle, id)
			if direct.Code == 0 {
				t.Fatalf("hull create of the broken bundle succeeded")
			}
			msg := strings.TrimPrefix(strings.TrimSpace(direct.Stderr), "hull: ")
			s := e.startShim(id, bundle).done()
			if s.code != 1 {
				t.Errorf("shim exited %d, want 1 (stderr %q)", s.code, s.stderr)
			}
			if !strings.Contains(s.stderr, msg) {
				t.Errorf("shim stderr %q lacks hull's message %q", s.stderr, msg)
			}
			e.assertNotExist(id)
			if ents, _ := os.ReadDir(e.root); len(ents) != 0 {
				t.Errorf("--root holds %v after a failed create", ents)
			}
			for _, p := range []string{s.logFile, s.exitFile, s.attach, s.pidFile, s.shimFile} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s exists after a failed create", p)
				}
			}
			// The subreaper first: it and the sh -c caller have the shim's
			// arguments in their own argv and may still be exiting when the
			// exit code file appears (seen under load). Once it has
			// reported, everything below it is gone; a process still
			// carrying the shim's arguments then escaped it.
			if got := s.leftToReaper(); len(got) != 0 {
				t.Errorf("the failed shim left processes to its subreaper: %v", got)
			}
			if pids := procsWithArg(s.shimFile); len(pids) > 0 {
				t.Errorf("shim processes left: %v", pids)
			}
		})
	}
}

func TestShimKilled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withShell(`while :; do echo tick; sleep 0.1; done`))
	id := e.newID()
	s := e.startShim(id, bundle).started()
	waitLogContains(t, s.logFile, "tick")
	if err := unix.Kill(s.shimPid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := waitProcGone(procRef{pid: s.shimPid}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if st := e.state(id); st.Status != "running" || st.Pid != s.initPid {
		t.Fatalf("after the shim was killed: status %q pid %d, want running %d", st.Status, st.Pid, s.initPid)
	}
	if err := unix.Kill(s.initPid, 0); err != nil {
		t.Fatalf("the container died with its shim: %v", err)
	}
	// Nobody records this container's exit any more: wait says so.
	w := e.hullWait(id)
	select {
	case r := <-w:
		t.Fatalf("hull wait returned while the container runs: %v", r)
	case <-time.After(300 * time.Millisecond):
	}
	e.mustRT("delete", "--force", id)
	e.assertNotExist(id)
	if r := recvWait(t, w); r.Code == 0 || !strings.Contains(r.Stderr, "exit status unknown") || r.Stdout != "" {
		t.Errorf("hull wait for a container deleted without a shim: %v, want an error saying the exit status is unknown", r)
	}
	got := s.reaped()
	if code, ok := got[s.shimPid]; !ok || code != 137 {
		t.Errorf("shim: reaped %v (status %d), want killed by SIGKILL", ok, code)
	}
	if code, ok := got[s.initPid]; !ok || code != 137 {
		t.Errorf("init %d: reaped %v (status %d) by the subreaper it was left to, want 137", s.initPid, ok, code)
	}
}

func TestWaitWithoutShim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.rt("wait", "hulltest-no-such-container"); r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") || r.Stdout != "" {
		t.Errorf("wait for a missing container: %v", r)
	}
	if !isHull {
		return
	}
	id, pid := e.create(e.newBundle(gate("exit 4")))
	e.mustRT("start", id)
	w := e.hullWait(id)
	select {
	case r := <-w:
		t.Fatalf("hull wait returned while the container runs: %v", r)
	case <-time.After(300 * time.Millisecond):
	}
	openGate(t, e.state(id).Bundle)
	r := recvWait(t, w)
	if r.Code == 0 || r.Code == 4 || !strings.Contains(r.Stderr, "exit status unknown") || r.Stdout != "" {
		t.Errorf("wait without a shim: %v, want an error saying the exit status is unknown", r)
	}
	if err := waitProcGone(procRef{pid: pid}, 5*time.Second); err != nil {
		t.Error(err)
	}
	if st := e.state(id); st.Raw["exitStatus"] != nil {
		t.Errorf("state shows an exitStatus nobody recorded: %v", st.Raw)
	}
	e.mustRT("delete", id)
}

func withMemoryLimit(limit int64) func(*specs.Spec) {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	}
}

// swapTotal is the host's swap in kB (SwapTotal of /proc/meminfo).
func swapTotal(t *testing.T) int64 {
	t.Helper()
	for _, l := range lines(readTrim(t, "/proc/meminfo")) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "SwapTotal:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("/proc/meminfo: %q: %v", l, err)
			}
			return n
		}
	}
	t.Fatal("/proc/meminfo has no SwapTotal")
	return 0
}

func TestShimOOM(t *testing.T) {
	// Under --systemd-cgroup the scope, with its memory.events, goes as
	// soon as the OOM-killed init is gone, maybe before hull-shim reads
	// the count: the shim then reads the kernel's log (oomWatch).
	t.Parallel()
	e := newEnv(t)
	// tail -c keeps the last 64 MiB of its endless input in memory, past
	// the 16 MiB limit (and bounded should the limit not hold); it is the
	// init itself, so the OOM kill ends the container (137), not just a
	// child of a surviving shell.
	hog := withShell(`exec tail -c 67108864 /dev/zero`)
	limit := withMemoryLimit(16 << 20)
	// Where the host has swap, memory+swap is limited too (swap = limit:
	// no swap), else the hog would be swapped out rather than killed.
	if swapTotal(t) > 0 {
		limit = all(limit, func(s *specs.Spec) { s.Linux.Resources.Memory.Swap = s.Linux.Resources.Memory.Limit })
	}
	bundle := e.newBundle(all(limit, hog))
	id := e.newID()
	s := e.startShim(id, bundle).started()
	r := recvWait(t, e.hullWait(id))
	if r.Code != 137 {
		t.Errorf("hull wait: %v, want 137", r)
	}
	st := e.state(id)
	if st.Raw["oomKilled"] != true {
		t.Errorf("state after an OOM kill: %v, want oomKilled true; shim log: %s", st.Raw, s.shimLog())
	} else if l := s.shimLog(); strings.Contains(l, "kernel's log") {
		t.Logf("decided by the kernel's log: %s", l)
	}
	e.mustRT("delete", id)
	s.checkGone()
}

// The CRI record pattern above must be able to fail.
func TestShimCRIPatternRejects(t *testing.T) {
	for _, bad := range []string{"no-time stdout F x\n", "2020-01-01T00:00:00Z stdin F x\n", "2020-01-01T00:00:00Z stdout X x\n"} {
		m := criLine.FindStringSubmatch(strings.TrimSuffix(bad, "\n"))
		if m != nil {
			if _, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				t.Errorf("%q parsed as a CRI record", bad)
			}
		}
	}
}

func TestShimReapsOrphans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Without a pid namespace the init's children are reparented to the
	// shim (a child subreaper) when the init exits. This one still holds
	// stdout: its late line must be in the log by the time wait returns.
	bundle := e.newBundle(all(withoutNamespace(specs.PIDNamespace),
		withShell(`(sleep 0.5; echo late) & echo $! >/tmp/orphan.pid; exit 6`)))
	id := e.newID()
	s := e.startShim(id, bundle).started()
	r := recvWait(t, e.hullWait(id))
	s.checkExitReported(6, r)
	if b, _ := os.ReadFile(s.logFile); !strings.Contains(string(b), "stdout F late\n") {
		t.Errorf("log lacks the orphan's output written after the init exited: %q", b)
	}
	b, err := os.ReadFile(filepath.Join(bundle, "rootfs/tmp/orphan.pid"))
	if err != nil {
		t.Fatal(err)
	}
	orphan, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	e.mustRT("delete", id)
	got := s.reaped()
	if _, ok := got[orphan]; ok || orphan <= 0 {
		t.Errorf("orphan %d was left to the shim's parent instead of being reaped by the shim (reaped there: %v)", orphan, got)
	}
	s.checkGone()
}
