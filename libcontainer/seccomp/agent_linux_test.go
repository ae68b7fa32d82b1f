package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// agentMsg is what a test agent got from one connection.
type agentMsg struct {
	fd    int
	state specs.ContainerProcessState
	raw   string
	err   error
}

// listenAgent listens on a unix socket in a temp dir and hands back the
// first message (JSON + SCM_RIGHTS fd), as a seccomp agent would.
func listenAgent(t *testing.T) (string, <-chan agentMsg) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan agentMsg, 1)
	go func() {
		defer l.Close()
		ch <- receiveOne(l)
	}()
	t.Cleanup(func() { l.Close() })
	return path, ch
}

func receiveOne(l *net.UnixListener) agentMsg {
	_ = l.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := l.AcceptUnix()
	if err != nil {
		return agentMsg{err: fmt.Errorf("accept: %w", err)}
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return agentMsg{err: fmt.Errorf("recvmsg: %w", err)}
	}
	// The spec allows the runtime several sendmsg calls: read to EOF.
	rest, err := io.ReadAll(c)
	if err != nil {
		return agentMsg{err: fmt.Errorf("read: %w", err)}
	}
	msg := agentMsg{fd: -1, raw: string(buf[:n]) + string(rest)}
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(cmsgs) != 1 {
		return agentMsg{err: fmt.Errorf("control messages: %d, %v", len(cmsgs), err)}
	}
	fds, err := unix.ParseUnixRights(&cmsgs[0])
	if err != nil || len(fds) != 1 {
		return agentMsg{err: fmt.Errorf("SCM_RIGHTS: %v, %v", fds, err)}
	}
	msg.fd = fds[0]
	if err := json.Unmarshal([]byte(msg.raw), &msg.state); err != nil {
		msg.err = fmt.Errorf("decode %q: %w", msg.raw, err)
	}
	return msg
}

func waitAgent(t *testing.T, ch <-chan agentMsg) agentMsg {
	t.Helper()
	select {
	case m := <-ch:
		if m.err != nil {
			t.Fatalf("agent: %v", m.err)
		}
		t.Cleanup(func() { unix.Close(m.fd) })
		return m
	case <-time.After(40 * time.Second):
		t.Fatal("agent got nothing")
	}
	return agentMsg{}
}

// dialAgent connects to the agent at path, as the runtime does.
func dialAgent(t *testing.T, path string) int {
	t.Helper()
	conn, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(conn) })
	if err := unix.Connect(conn, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatalf("connect to %s: %v", path, err)
	}
	return conn
}

func TestSendToAgentPassesFdAndState(t *testing.T) {
	path, ch := listenAgent(t)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	st := specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 4422, Bundle: "/b", Annotations: map[string]string{"k": "v"}}
	conn := dialAgent(t, path)
	if err := SendToAgent(conn, p[1], st, "MKNOD=/dev/null"); err != nil {
		t.Fatal(err)
	}
	unix.Close(conn) // the agent reads to EOF
	m := waitAgent(t, ch)
	want := specs.ContainerProcessState{Version: specs.Version, Fds: []string{"seccompFd"}, Pid: 4422, Metadata: "MKNOD=/dev/null", State: st}
	if !reflect.DeepEqual(m.state, want) {
		t.Errorf("state = %+v\nwant %+v", m.state, want)
	}
	for _, key := range []string{`"ociVersion"`, `"fds":["seccompFd"]`, `"pid":4422`, `"metadata"`, `"state":{`} {
		if !strings.Contains(m.raw, key) {
			t.Errorf("message %s lacks %s", m.raw, key)
		}
	}
	// The received fd is the same pipe: what goes in there comes out of
	// our read end.
	if _, err := unix.Write(m.fd, []byte("x")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if n, err := unix.Read(p[0], b); err != nil || n != 1 || b[0] != 'x' {
		t.Fatalf("read through passed fd: %d %v %q", n, err, b)
	}
}

// A state larger than the socket's buffers takes several sendmsg calls:
// all of it arrives, the fd with the first.
func TestSendToAgentLargeState(t *testing.T) {
	path, ch := listenAgent(t)
	big := strings.Repeat("v", 1<<20)
	st := specs.State{Version: specs.Version, ID: "c1", Pid: 7, Annotations: map[string]string{"big": big}}
	conn := dialAgent(t, path)
	if err := SendToAgent(conn, 0, st, ""); err != nil {
		t.Fatal(err)
	}
	unix.Close(conn)
	m := waitAgent(t, ch)
	if m.state.State.Annotations["big"] != big {
		t.Errorf("agent got an annotation of %d bytes, want %d", len(m.state.State.Annotations["big"]), len(big))
	}
}

func TestSendToAgentErrors(t *testing.T) {
	st := specs.State{Version: specs.Version, ID: "c1", Pid: 1}
	if err := SendToAgent(-1, -1, st, ""); err == nil || !strings.Contains(err.Error(), "invalid fd") {
		t.Errorf("bad fd: %v", err)
	}
	if err := SendToAgent(-1, 0, specs.State{Version: specs.Version, ID: "c1"}, ""); err == nil || !strings.Contains(err.Error(), "invalid pid 0") {
		t.Errorf("state without pid: %v", err)
	}

	// An agent that went away: EPIPE, not a SIGPIPE that kills the init.
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	unix.Close(sp[1])
	if err := SendToAgent(sp[0], 0, st, ""); !errors.Is(err, unix.EPIPE) {
		t.Errorf("agent gone: %v, want EPIPE", err)
	}

	// An agent that accepts but never reads: the send ends with an error
	// after agentTimeout instead of blocking the init (and the runtime
	// waiting for it) forever.
	defer func(d time.Duration) { agentTimeout = d }(agentTimeout)
	agentTimeout = 200 * time.Millisecond
	if sp, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sp[0])
	defer unix.Close(sp[1])
	big := specs.State{Version: specs.Version, ID: "c1", Pid: 1, Annotations: map[string]string{"big": strings.Repeat("v", 8<<20)}}
	done := make(chan error, 1)
	go func() { done <- SendToAgent(sp[0], 0, big, "") }()
	select {
	case err := <-done:
		if !errors.Is(err, unix.EAGAIN) {
			t.Errorf("agent that never reads: %v, want EAGAIN after the timeout", err)
		}
	case <-time.After(10 * time.Second):
		unix.Shutdown(sp[1], unix.SHUT_RDWR) // end the send
		<-done
		t.Errorf("SendToAgent to an agent that never reads still blocked after 10s (timeout %v)", agentTimeout)
	}
}

func TestContainerProcessState(t *testing.T) {
	b, err := ContainerProcessState(specs.State{Version: "1.3.0", ID: "x", Status: specs.StateCreating, Pid: 7, Bundle: "/b"}, 7, "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ociVersion":"` + specs.Version + `","fds":["seccompFd"],"pid":7,"state":{"ociVersion":"1.3.0","id":"x","status":"creating","pid":7,"bundle":"/b"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// TestNotifyAgentAnswers is the whole SCMP_ACT_NOTIFY path: the child
// loads a filter that notifies on getppid, sends the listener fd to the
// test (the agent) with SendToAgent over a connection it made, then calls
// getppid, which blocks
// until the agent answers with a value of its choosing.
func TestNotifyAgentAnswers(t *testing.T) {
	if err := actionSupported(specs.ActNotify); err != nil {
		t.Skipf("SCMP_ACT_NOTIFY not usable here: %v", err)
	}
	path, ch := listenAgent(t)
	const answer = 4242
	prof := &specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     path,
		ListenerMetadata: "agent-metadata",
		Syscalls:         []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActNotify}},
	}
	if _, err := Validate(prof); err != nil {
		t.Fatal(err)
	}
	child := startChild(t, prof, []string{"send", "getppid"})
	defer func() {
		if t.Failed() {
			child.cmd.Process.Kill()
		}
	}()
	m := waitAgent(t, ch)
	pid := child.cmd.Process.Pid
	if m.state.Pid != pid || m.state.State.Pid != pid || m.state.Metadata != "agent-metadata" ||
		!reflect.DeepEqual(m.state.Fds, []string{specs.SeccompFdName}) || m.state.State.ID != "notify-test" ||
		m.state.Version != specs.Version {
		t.Errorf("agent got state %+v (child pid %d)", m.state, pid)
	}
	if err := answerOne(m.fd, "getppid", pid, answer); err != nil {
		t.Fatalf("agent: %v", err)
	}
	r := child.wait(t)
	r.mustExit0(t)
	if load := r.lines["load"]; load == "ok:-1" || !strings.HasPrefix(load, "ok:") {
		t.Errorf("Load returned %q, want a listener fd", load)
	}
	r.expect(t, "send", "ok:0")
	r.expect(t, "getppid", fmt.Sprintf("ok:%d", answer))
}

// answerOne receives notifications on fd until one for want from pid has
// been answered with val. A notification can vanish before the answer
// (the child's wait was interrupted by a signal and the syscall restarts
// with a new one): NotifRespond then fails with ENOENT and we go on.
func answerOne(fd int, want string, pid int, val uint64) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 1000)
		if errors.Is(err, unix.EINTR) || n == 0 {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		if pfd[0].Revents&unix.POLLHUP != 0 {
			return errors.New("child went away before notifying")
		}
		req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fd))
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		name, err := req.Data.Syscall.GetName()
		if err != nil || name != want || int(req.Pid) != pid {
			return fmt.Errorf("notification for %q (%v) from pid %d, want %q from %d", name, err, req.Pid, want, pid)
		}
		err = libseccomp.NotifRespond(libseccomp.ScmpFd(fd), &libseccomp.ScmpNotifResp{ID: req.ID, Val: val})
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		return err
	}
	return errors.New("no notification in time")
}

func TestLoadWithoutNotifyReturnsMinusOne(t *testing.T) {
	// A NOTIFY rule whose only syscall is unknown adds nothing, so there
	// is no listener and Load must not invent one.
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		ListenerPath:  "/run/none.sock",
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"hull_not_a_syscall"}, Action: specs.ActNotify}},
	}
	r := runChild(t, prof, "getppid")
	r.mustExit0(t)
	r.expect(t, "load", "ok:-1")
	r.expect(t, "getppid", fmt.Sprintf("ok:%d", os.Getpid()))
}
