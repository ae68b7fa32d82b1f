package tests

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func withSeccomp(s *specs.LinuxSeccomp) func(*specs.Spec) {
	return func(sp *specs.Spec) { sp.Linux.Seccomp = s }
}

func errnoRet(v uint) *uint { return &v }

// A blocked syscall returns the configured errno inside the container, and
// the process shows a filter in /proc/self/status.
func TestSeccompErrno(t *testing.T) {
	e := newEnv(t)
	out := e.mustRun(withSeccomp(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: errnoRet(uint(unix.ENOSYS)),
		}},
	}), "sh", "-c", "grep '^Seccomp:' /proc/self/status; mkdir /tmp/x 2>&1; test -d /tmp/x && echo created; true")
	if !strings.Contains(out, "Seccomp:\t2") {
		t.Errorf("no seccomp filter in the container: %q", out)
	}
	if !strings.Contains(out, "Function not implemented") || strings.Contains(out, "created") {
		t.Errorf("mkdir was not refused with ENOSYS: %q", out)
	}
}

// An unknown action is refused at create, naming the JSON path, and
// nothing is left (the leftover checker).
func TestSeccompBadAction(t *testing.T) {
	e := newEnv(t)
	r := e.run(withSeccomp(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: "SCMP_ACT_FOO"}},
	}))
	if r.Code == 0 {
		t.Fatalf("run with an unknown seccomp action succeeded")
	}
	if isHull && !strings.Contains(r.Stderr, "linux.seccomp.syscalls[0].action") {
		t.Errorf("error does not name the field: %q", r.Stderr)
	}
}

// SCMP_ACT_NOTIFY: an agent written here receives the listener fd and the
// container process state over the listener socket, and answers the
// container's getppid() with a value of its choosing.
func TestSeccompNotifyAgent(t *testing.T) {
	if !isHull {
		t.Skip("runc 1.1.5 is not built with libseccomp notify support here")
	}
	e := newEnv(t)
	sock := filepath.Join(e.base, "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type got struct {
		state specs.ContainerProcessState
		err   error
	}
	done := make(chan got, 1)
	go func() {
		var g got
		defer func() { done <- g }()
		l.SetDeadline(time.Now().Add(20 * time.Second))
		c, err := l.AcceptUnix()
		if err != nil {
			g.err = err
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			g.err = err
			return
		}
		if err := json.Unmarshal(buf[:n], &g.state); err != nil {
			g.err = err
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			g.err = os.ErrInvalid
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			g.err = os.ErrInvalid
			return
		}
		fd := libseccomp.ScmpFd(fds[0])
		defer unix.Close(fds[0])
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			g.err = err
			return
		}
		g.err = libseccomp.NotifRespond(fd, &libseccomp.ScmpNotifResp{ID: req.ID, Val: 4242, Flags: 0})
	}()
	out := e.mustRun(withSeccomp(&specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     sock,
		ListenerMetadata: "hull-test",
		Syscalls:         []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActNotify}},
	}), "sh", "-c", "echo ppid=$PPID")
	g := <-done
	if g.err != nil {
		t.Fatalf("agent: %v", g.err)
	}
	if g.state.Metadata != "hull-test" || len(g.state.Fds) != 1 || g.state.Fds[0] != specs.SeccompFdName || g.state.Pid <= 0 {
		t.Errorf("container process state: %+v", g.state)
	}
	if !strings.Contains(out, "ppid=4242") {
		t.Errorf("getppid was not answered by the agent: %q", out)
	}
}
