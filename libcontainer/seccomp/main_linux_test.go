package seccomp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The real-filter tests cannot load a filter into the test binary itself
// (it would stay for the rest of the run), so they re-exec the binary:
// TestMain sees childEnv, loads the profile from profileEnv and runs the
// operations listed in opsEnv, printing one "op=result" line each, where
// result is "ok:<return value>" or "errno:<n>".
const (
	childEnv   = "SECCOMP_CHILD"
	profileEnv = "SECCOMP_PROFILE"
	opsEnv     = "SECCOMP_OPS"
	noNNPEnv   = "SECCOMP_NO_NNP"
)

// Exit codes of the child before it gets to the operations.
const (
	exitSetup = 3
	exitLoad  = 4
	exitOp    = 5
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMain()
	}
	os.Exit(m.Run())
}

func childMain() {
	// Load is documented to run on the locked OS thread, like the init.
	runtime.LockOSThread()
	var prof specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(os.Getenv(profileEnv)), &prof); err != nil {
		fail(exitSetup, "decode profile: %v", err)
	}
	// The kill tests end in SIGSYS, which would otherwise dump core.
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		fail(exitSetup, "rlimit core: %v", err)
	}
	// Setting no_new_privs lets the filter load without CAP_SYS_ADMIN,
	// so the tests also run unprivileged; noNNPEnv shows that Load does
	// not set it by itself.
	if os.Getenv(noNNPEnv) == "" {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fail(exitSetup, "no_new_privs: %v", err)
		}
	}
	fd, err := Load(&prof)
	if err != nil {
		fail(exitLoad, "load: %v", err)
	}
	out("load=ok:%d", fd)
	for _, op := range strings.Split(os.Getenv(opsEnv), ";") {
		if op != "" {
			runOp(op, fd, &prof)
		}
	}
	os.Exit(0)
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

// out writes straight to fd 1 so that each line is one write(2), which
// every test profile allows, and nothing is lost if a later op kills us.
func out(format string, args ...any) {
	_, _ = unix.Write(1, []byte(fmt.Sprintf(format, args...)+"\n"))
}

func result(name string, r uintptr, errno syscall.Errno) {
	if errno != 0 {
		out("%s=errno:%d", name, int(errno))
	} else {
		out("%s=ok:%d", name, int64(r))
	}
}

func runOp(op string, notifyFd int, prof *specs.LinuxSeccomp) {
	name, arg, _ := strings.Cut(op, ":")
	nums := func() []uintptr {
		var v []uintptr
		for _, f := range strings.Split(arg, ",") {
			n, err := strconv.ParseUint(f, 0, 64)
			if err != nil {
				fail(exitOp, "%s: bad number %q", op, f)
			}
			v = append(v, uintptr(n))
		}
		return v
	}
	switch name {
	case "mkdirat":
		p, err := unix.BytePtrFromString(arg)
		if err != nil {
			fail(exitOp, "%s: %v", op, err)
		}
		atFdcwd := unix.AT_FDCWD // a variable: the constant is negative
		r, _, e := unix.Syscall(unix.SYS_MKDIRAT, uintptr(atFdcwd), uintptr(unsafe.Pointer(p)), 0o755)
		result(op, r, e)
	case "personality":
		r, _, e := unix.Syscall(unix.SYS_PERSONALITY, nums()[0], 0, 0)
		result(op, r, e)
	case "socket":
		a := nums()
		r, _, e := unix.Syscall(unix.SYS_SOCKET, a[0], a[1], 0)
		result(op, r, e)
		if e == 0 {
			unix.Close(int(r))
		}
	case "raw": // raw:NR - syscall NR with no arguments
		r, _, e := unix.Syscall(nums()[0], 0, 0, 0)
		result(op, r, e)
	case "getppid", "getpid":
		nr := map[string]uintptr{"getppid": unix.SYS_GETPPID, "getpid": unix.SYS_GETPID}[name]
		r, _, e := unix.Syscall(nr, 0, 0, 0)
		result(op, r, e)
	case "status":
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			fail(exitOp, "%s: %v", op, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && (k == "Seccomp" || k == "NoNewPrivs") {
				out("%s=%s", k, strings.TrimSpace(v))
			}
		}
	case "send":
		st := specs.State{
			Version: specs.Version, ID: "notify-test", Status: specs.StateCreating,
			Pid: os.Getpid(), Bundle: "/bundles/notify-test",
		}
		conn, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			err = unix.Connect(conn, &unix.SockaddrUnix{Name: prof.ListenerPath})
		}
		if err == nil {
			err = SendToAgent(conn, notifyFd, st, prof.ListenerMetadata)
		}
		if err != nil {
			fail(exitOp, "%s: %v", op, err)
		}
		unix.Close(conn)
		unix.Close(notifyFd)
		out("send=ok:0")
	default:
		fail(exitOp, "unknown op %q", op)
	}
}

// childResult is what a re-exec'd child did.
type childResult struct {
	lines  map[string]string // op -> result
	stdout string
	stderr string
	status syscall.WaitStatus
	pid    int
}

// startChild starts the test binary as a child that loads prof and runs
// ops; wait with (*childProc).wait.
type childProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	cancel         context.CancelFunc
}

func startChild(t *testing.T, prof *specs.LinuxSeccomp, ops []string, extraEnv ...string) *childProc {
	t.Helper()
	b, err := json.Marshal(prof)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	c := &childProc{cancel: cancel}
	c.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"=1", profileEnv+"="+string(b), opsEnv+"="+strings.Join(ops, ";"))
	c.cmd.Env = append(c.cmd.Env, extraEnv...)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return c
}

func (c *childProc) wait(t *testing.T) childResult {
	t.Helper()
	defer c.cancel()
	err := c.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("wait for child: %v", err)
	}
	r := childResult{
		lines:  map[string]string{},
		stdout: c.stdout.String(),
		stderr: c.stderr.String(),
		status: c.cmd.ProcessState.Sys().(syscall.WaitStatus),
		pid:    c.cmd.Process.Pid,
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			r.lines[k] = v
		}
	}
	return r
}

func runChild(t *testing.T, prof *specs.LinuxSeccomp, ops ...string) childResult {
	t.Helper()
	return startChild(t, prof, ops).wait(t)
}

// mustExit0 fails the test unless the child loaded the filter and exited 0.
func (r childResult) mustExit0(t *testing.T) {
	t.Helper()
	if !r.status.Exited() || r.status.ExitStatus() != 0 {
		t.Fatalf("child: status %v (exit %d)\nstdout:\n%s\nstderr:\n%s", r.status, r.status.ExitStatus(), r.stdout, r.stderr)
	}
}

func (r childResult) expect(t *testing.T, op, want string) {
	t.Helper()
	if got, ok := r.lines[op]; !ok {
		t.Errorf("%s: no result; stdout:\n%s\nstderr:\n%s", op, r.stdout, r.stderr)
	} else if got != want {
		t.Errorf("%s = %s, want %s", op, got, want)
	}
}

func uintp(v uint) *uint { return &v }
