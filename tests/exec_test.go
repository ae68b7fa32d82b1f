package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
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

// started creates and starts a container from a new bundle and returns its
// id, init pid and bundle.
func (e *env) started(mutate func(*specs.Spec)) (string, int, string) {
	e.t.Helper()
	bundle := e.newBundle(mutate)
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	return id, pid, bundle
}

// rtCommand prepares (does not start) the runtime with the test's --root
// and its stdout and stderr captured; see waitCmd.
func (e *env) rtCommand(args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	cmd = exec.Command(runtimeBin, append([]string{"--root", e.root}, args...)...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	return cmd, stdout, stderr
}

// waitCmd waits for a started cmd, killing it (and failing the test) after
// cmdTimeout, and returns its exit code (128+N for death by signal N).
func waitCmd(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(err)
	case <-time.After(cmdTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("%v did not finish within %v; killed", cmd.Args, cmdTimeout)
		return -1
	}
}

var execNSNames = []string{"pid", "mnt", "net", "ipc", "uts", "cgroup", "user"}

// checkExecNamespaces execs a process in container id and compares its
// namespaces with those of the init (read on the host).
func checkExecNamespaces(t *testing.T, e *env, id string, pid int) {
	t.Helper()
	script := ""
	for _, n := range execNSNames {
		script += fmt.Sprintf("echo %s=$(readlink /proc/self/ns/%s); ", n, n)
	}
	r := e.rt("exec", id, "sh", "-c", script)
	if r.Code != 0 {
		t.Fatalf("exec %s sh -c ...: %v", id, r)
	}
	got := kv(r.Stdout)
	for _, n := range execNSNames {
		want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, n))
		if err != nil {
			t.Fatal(err)
		}
		if got[n] != want {
			t.Errorf("%s namespace: exec'd process has %q, the init %d has %q (host %q)", n, got[n], pid, want, hostNS(t, n))
		}
	}
}

func TestExecNamespaces(t *testing.T) {
	t.Parallel()
	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		id, pid, _ := e.started(all(sleeper, withNamespace(specs.CgroupNamespace, "")))
		for _, n := range []string{"pid", "mnt", "net", "ipc", "uts", "cgroup"} {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, n)); l == hostNS(t, n) {
				t.Fatalf("the init shares the host's %s namespace: the comparison would prove nothing", n)
			}
		}
		checkExecNamespaces(t, e, id, pid)
	})
	t.Run("userns", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		id, pid := e.create(userNSBundle(t, e, all(sleeper, withNamespace(specs.CgroupNamespace, ""))))
		e.mustRT("start", id)
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid)); l == hostNS(t, "user") {
			t.Fatalf("the init shares the host's user namespace")
		}
		checkExecNamespaces(t, e, id, pid)
		// Joining the user namespace must also give the mapped ids.
		r := e.rt("exec", id, "sh", "-c", "id -u; cat /proc/self/uid_map")
		if f := strings.Fields(r.Stdout); r.Code != 0 || len(f) != 4 || f[0] != "0" || f[2] != "100000" {
			t.Errorf("exec in the userns container: id -u and uid_map = %v, want 0 and \"0 100000 65536\"", r)
		}
	})
}

// statusField returns the value of key in /proc/<pid>/status text.
func statusField(status, key string) string {
	for _, l := range lines(status) {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestExecProcessOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// noNewPrivileges false in the config, so that --no-new-privs shows.
	id, _, bundle := e.started(all(sleeper, func(s *specs.Spec) { s.Process.NoNewPrivileges = false }))
	spec := loadSpec(t, bundle)

	t.Run("cwd", func(t *testing.T) {
		if r := e.rt("exec", "--cwd", "/home/user", id, "pwd"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "/home/user" {
			t.Errorf("exec --cwd /home/user pwd: %v, want /home/user", r)
		}
	})
	t.Run("env", func(t *testing.T) {
		// A comma stays in its value: runc's CLI never splits a
		// repeated flag's value (hull's wrapped flags keep urfave/cli's
		// separator setting: flagnames.go).
		r := e.rt("exec", "--env", "HULL_X=1,2", "--env", "HULL_Y=two words", id, "sh", "-c", `echo "$HULL_X|$HULL_Y|$PATH"`)
		want := "1,2|two words|"
		if r.Code != 0 || !strings.HasPrefix(strings.TrimSpace(r.Stdout), want) || strings.TrimSpace(r.Stdout) == want {
			t.Errorf("exec --env: %v, want %q followed by the config's PATH", r, want)
		}
	})
	t.Run("env-override", func(t *testing.T) {
		// An --env for a variable of the config replaces it: the process
		// gets one PATH. With two, getenv(3) returns the first, the
		// config's, and ignores the override.
		r := e.rt("exec", "--env", "PATH=/opt/hullbin:/bin", id, "cat", "/proc/self/environ")
		var paths []string
		for _, kv := range strings.Split(r.Stdout, "\x00") {
			if strings.HasPrefix(kv, "PATH=") {
				paths = append(paths, kv)
			}
		}
		if r.Code != 0 || len(paths) != 1 || paths[0] != "PATH=/opt/hullbin:/bin" {
			t.Errorf("exec --env PATH=/opt/hullbin:/bin cat /proc/self/environ: PATH entries %q (exit %d, stderr %q), want exactly [PATH=/opt/hullbin:/bin]", paths, r.Code, r.Stderr)
		}
	})
	t.Run("user", func(t *testing.T) {
		r := e.rt("exec", "--user", "1000:1000", id, "id")
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "uid=1000(user) gid=1000(user)") {
			t.Errorf("exec --user 1000:1000 id: %v, want uid=1000(user) gid=1000(user)", r)
		}
		r = e.rt("exec", "--user", "1000:1000", "--additional-gids", "10", "--additional-gids", "20", id, "id", "-G")
		if rootless {
			// runc's refusal for a user, whatever the mapping.
			if want := "cannot set any additional groups in a rootless container"; r.Code == 0 || !strings.Contains(r.Stderr, want) {
				t.Errorf("rootless exec --additional-gids 10 --additional-gids 20: %v, want a failure %q", r, want)
			}
			return
		}
		if r.Code != 0 || strings.Join(strings.Fields(r.Stdout), " ") != "1000 10 20" {
			t.Errorf("exec --user 1000:1000 --additional-gids 10 --additional-gids 20 id -G: %v, want 1000 10 20", r)
		}
	})
	t.Run("cap", func(t *testing.T) {
		const netRaw = 13
		base := capMask(t, spec.Process.Capabilities.Effective)
		r := e.rt("exec", id, "cat", "/proc/self/status")
		if got := statusField(r.Stdout, "CapEff"); r.Code != 0 || got != fmt.Sprintf("%016x", base) {
			t.Errorf("exec without --cap: CapEff %q (%v), want %016x", got, r.Code, base)
		}
		r = e.rt("exec", "--cap", "CAP_NET_RAW", id, "cat", "/proc/self/status")
		want := fmt.Sprintf("%016x", base|1<<netRaw)
		if got := statusField(r.Stdout, "CapEff"); r.Code != 0 || got != want {
			t.Errorf("exec --cap CAP_NET_RAW: CapEff %q (exit %d, stderr %q), want %s", got, r.Code, r.Stderr, want)
		}
		// --cap adds to the bounding, effective and permitted sets only.
		// An exec'd process with inheritable (or ambient) capabilities the
		// container was not given could raise them to permitted through
		// file capabilities at a later execve: CVE-2022-29162, fixed in
		// runc 1.1.2. The config has no inheritable or ambient set.
		for _, k := range []string{"CapInh", "CapAmb"} {
			if got := statusField(r.Stdout, k); got != "0000000000000000" {
				t.Errorf("exec --cap CAP_NET_RAW: %s = %s, want 0000000000000000 (the config has none; CVE-2022-29162)", k, got)
			}
		}
	})
	t.Run("no-new-privs", func(t *testing.T) {
		r := e.rt("exec", id, "cat", "/proc/self/status")
		if got := statusField(r.Stdout, "NoNewPrivs"); r.Code != 0 || got != "0" {
			t.Errorf("exec (config noNewPrivileges false): NoNewPrivs %q, exit %d; want 0", got, r.Code)
		}
		r = e.rt("exec", "--no-new-privs", id, "cat", "/proc/self/status")
		if got := statusField(r.Stdout, "NoNewPrivs"); r.Code != 0 || got != "1" {
			t.Errorf("exec --no-new-privs: NoNewPrivs %q, exit %d; want 1", got, r.Code)
		}
	})
	t.Run("exit-codes", func(t *testing.T) {
		for _, c := range []struct {
			script string
			want   int
		}{{"exit 0", 0}, {"exit 7", 7}, {"kill -9 $$; echo survived", 137}} {
			if r := e.rt("exec", id, "sh", "-c", c.script); r.Code != c.want {
				t.Errorf("exec sh -c %q: %v, want exit %d", c.script, r, c.want)
			}
		}
	})
}

func TestExecDetachPidFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, initPid, _ := e.started(sleeper)
	pidFile := filepath.Join(e.base, "exec.pid")
	e.mustRT("exec", "--detach", "--pid-file", pidFile, id, "sleep", "1001")
	// No waiting: the file must be there when exec returns.
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("pid file right after exec --detach returned: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("pid file content %q is not a pid", b)
	}
	e.trackPid(pid)
	if err := unix.Kill(pid, 0); err != nil {
		t.Fatalf("exec'd pid %d is not alive: %v", pid, err)
	}
	// The runtime may return before the process has exec'd (runc 1.1.5
	// does): give it a moment to become `sleep 1001`.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if string(cmd) == "sleep\x001001\x00" {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("pid %d runs %q, want sleep 1001", pid, cmd)
			break
		}
	}
	want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", initPid))
	if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); got != want {
		t.Errorf("exec'd pid %d is in pid namespace %q, the container's is %q", pid, got, want)
	}
	e.mustRT("delete", "--force", id)
}

func TestExecProcessJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	p := specs.Process{
		Args: []string{"sh", "-c", `echo "$HULL_P $(pwd) $(id -u):$(id -g)"`},
		Env:  []string{"PATH=/bin", "HULL_P=from-json"},
		Cwd:  "/tmp",
		User: specs.User{UID: 1000, GID: 1000},
	}
	b, _ := json.Marshal(p)
	file := filepath.Join(e.base, "process.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.rt("exec", "--process", file, id); r.Code != 0 || strings.TrimSpace(r.Stdout) != "from-json /tmp 1000:1000" {
		t.Errorf("exec --process %s: %v, want \"from-json /tmp 1000:1000\"", file, r)
	}

	bad := filepath.Join(e.base, "bad-process.json")
	if err := os.WriteFile(bad, []byte(`{"args": ["sh", "-c", `), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.rt("exec", "--process", bad, id)
	msg := strings.ToLower(strings.TrimSpace(r.Stderr))
	if isHull {
		if r.Code != 255 { // runc v1.5.1: every exec failure exits 255
			t.Errorf("exec --process with malformed JSON: %v, want exit 255", r)
		}
		if !strings.Contains(msg, "json") && !strings.Contains(msg, "unexpected end") && !strings.Contains(msg, "invalid character") {
			t.Errorf("exec --process with malformed JSON: stderr %q does not say the JSON is bad", r.Stderr)
		}
		if !strings.Contains(r.Stderr, bad) {
			t.Errorf("exec --process with malformed JSON: stderr %q does not name the file %s", r.Stderr, bad)
		}
	} else if r.Code == 0 || msg == "" {
		// runc 1.1.5 deviates: exit 255 and just "exec failed: unexpected EOF".
		t.Errorf("exec --process with malformed JSON: %v, want a failure with a message", r)
	}
	if s := e.state(id); s.Status != "running" {
		t.Errorf("container status after a failed exec: %q", s.Status)
	}
}

func TestExecPreserveFds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
	defer ours.Close()

	// The container reads a line from fd 3 and answers on it.
	cmd, stdout, stderr := e.rtCommand("exec", "--preserve-fds", "1", id, "sh", "-c", `read -r l <&3 && echo "pong:$l" >&3 && echo done`)
	cmd.ExtraFiles = []*os.File{theirs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	if _, err := ours.Write([]byte("ping-from-host\n")); err != nil {
		t.Fatal(err)
	}
	_ = ours.SetReadDeadline(time.Now().Add(cmdTimeout))
	line, err := bufio.NewReader(ours).ReadString('\n')
	if code := waitCmd(t, cmd); code != 0 || strings.TrimSpace(stdout.String()) != "done" {
		t.Errorf("exec --preserve-fds 1: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if err != nil || line != "pong:ping-from-host\n" {
		t.Errorf("reply on fd 3: %q (%v), want pong:ping-from-host", line, err)
	}

	// Without --preserve-fds the extra fd must not reach the process.
	f, err := os.Open("/etc/hostname")
	if err != nil {
		f, err = os.Open("/etc/passwd")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd, stdout, stderr = e.rtCommand("exec", id, "sh", "-c", `if readlink /proc/self/fd/3 >/dev/null 2>&1; then echo "fd3=$(readlink /proc/self/fd/3)"; else echo fd3-closed; fi`)
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The readlink itself would not open fd 3, but sh might: accept any
	// fd 3 that is not our file.
	if code := waitCmd(t, cmd); code != 0 || strings.Contains(stdout.String(), "/etc/") {
		t.Errorf("exec without --preserve-fds and an extra fd 3: exit %d, stdout %q, stderr %q; fd 3 must not be the host's file", code, stdout, stderr)
	}
}

func TestExecStoppedContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _ := e.create(e.newBundle(withArgs("true")))
	e.mustRT("start", id)
	e.waitStatus(id, "stopped")
	r := e.rt("exec", id, "true")
	if r.Code == 0 || !(strings.Contains(r.Stderr, "not running") || strings.Contains(r.Stderr, "stopped")) {
		t.Errorf("exec into a stopped container: %v; want non-zero and \"not running\" or \"stopped\" on stderr", r)
	}
	e.mustRT("delete", id)
}

func TestExecBadBinary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	r := e.rt("exec", id, "hull-no-such-binary")
	if r.Code == 0 || !strings.Contains(r.Stderr, "executable file not found in $PATH") {
		t.Errorf("exec of a missing binary: %v; want non-zero and \"executable file not found in $PATH\"", r)
	}
	r = e.rt("exec", id, "/etc/hull-marker") // mode 0644
	if r.Code == 0 || !strings.Contains(strings.ToLower(r.Stderr), "permission denied") {
		t.Errorf("exec of a non-executable file: %v; want non-zero and \"permission denied\"", r)
	}
	if s := e.state(id); s.Status != "running" {
		t.Errorf("container status after failed execs: %q", s.Status)
	}
}

func TestExecTTYConsoleSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	sock := filepath.Join(e.base, "exec-console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type recv struct {
		f   *os.File
		err error
	}
	got := make(chan recv, 1)
	go func() { f, err := receivePty(l); got <- recv{f, err} }()

	pidFile := filepath.Join(e.base, "exec-tty.pid")
	e.mustRT("exec", "--tty", "--console-socket", sock, "--detach", "--pid-file", pidFile, id,
		"sh", "-c", "echo TTY=$(tty); echo exec-tty-ok; stty size")
	e.readPidFile(pidFile)
	rv := <-got
	if rv.err != nil {
		t.Fatalf("console socket: %v", rv.err)
	}
	defer rv.f.Close()
	output := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(rv.f) // EIO once the slave is closed
		output <- string(b)
	}()
	var out string
	select {
	case out = <-output:
	case <-time.After(cmdTimeout):
		t.Fatalf("no EOF on the exec's pty master after %v", cmdTimeout)
	}
	if !strings.Contains(out, "exec-tty-ok") || !strings.Contains(out, "TTY=/dev/pts/") {
		t.Errorf("exec pty output %q: want exec-tty-ok and TTY=/dev/pts/N", out)
	}
}

func TestExecForwardsSIGTERM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, bundle := e.started(sleeper)
	ready := filepath.Join(bundle, "rootfs/tmp/trap-ready")
	cmd, stdout, stderr := e.rtCommand("exec", id, "sh", "-c",
		`trap "echo got-term; exit 3" TERM; touch /tmp/trap-ready; while :; do sleep 0.1; done`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, ready) // the trap is set
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitCmd(t, cmd)
	if code != 3 || strings.TrimSpace(stdout.String()) != "got-term" {
		t.Errorf("SIGTERM to the foreground exec: exit %d, stdout %q, stderr %q; want exit 3 and got-term", code, stdout, stderr)
	}
}

// hull's binary is executed through an fd that must survive the child's fd
// shuffle whatever fds the caller left open. It did not when the caller
// left a few open (hull's own fds then sat low and Go's shuffle moved
// them over it: "fork/exec /proc/self/fd/35: permission denied"), nor
// with many preserved fds. The container sees exactly the fds given.
func TestExecWithCallerFds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var files []*os.File
	for i := 0; i < 100; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	// ls opens one more fd (the directory) beside 0-2 and those given.
	count := `ls /proc/self/fd | wc -l`
	id, _, _ := e.started(sleeper)
	bundle := e.newBundle(withShell(count))
	type fdCase struct {
		inherited, preserved int
		run                  bool
	}
	cases := []fdCase{{100, 100, false}, {100, 100, true}}
	// Which count of caller fds puts one of hull's over the binary's
	// depends on how many fds hull opens: try a range.
	for n := 0; n <= 12; n++ {
		cases = append(cases, fdCase{n, 0, false}, fdCase{n, 0, true})
	}
	for _, tc := range cases {
		args := []string{"exec", "--preserve-fds", strconv.Itoa(tc.preserved), id, "sh", "-c", count}
		if tc.run {
			args = []string{"run", "--preserve-fds", strconv.Itoa(tc.preserved), "--bundle", bundle, e.newID()}
		}
		cmd, stdout, stderr := e.rtCommand(args...)
		// fds 3 and 4 stay free: hull's first fds then sit below their
		// places in the child, which is what Go's fd shuffle moves.
		cmd.ExtraFiles = append([]*os.File{nil, nil}, files[:tc.inherited]...)
		if tc.preserved > 0 {
			cmd.ExtraFiles = files[:tc.inherited]
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		want := strconv.Itoa(3 + tc.preserved + 1)
		if code := waitCmd(t, cmd); code != 0 || strings.TrimSpace(stdout.String()) != want {
			t.Errorf("%s with %d fds open: exit %d, stdout %q (want %s fds), stderr %q", args[:3], tc.inherited, code, stdout, want, stderr)
		}
	}
}
