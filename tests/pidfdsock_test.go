package tests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pidfdListener listens on a unix socket for what --pidfd-socket sends
// (runc's protocol: one message, the process kind as payload, the pidfd
// in SCM_RIGHTS).
type pidfdListener struct {
	path string
	ln   *net.UnixListener
	got  chan pidfdMsg
}

type pidfdMsg struct {
	kind  string
	pidfd int
	err   error
}

func listenPidfd(t *testing.T, e *env, name string) *pidfdListener {
	t.Helper()
	path := filepath.Join(e.base, name)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l := &pidfdListener{path: path, ln: ln, got: make(chan pidfdMsg, 1)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			l.got <- pidfdMsg{err: err}
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4*4))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			l.got <- pidfdMsg{err: err}
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			l.got <- pidfdMsg{err: fmt.Errorf("control messages %v: %v", msgs, err)}
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			l.got <- pidfdMsg{err: fmt.Errorf("fds %v: %v", fds, err)}
			for _, fd := range fds {
				unix.Close(fd)
			}
			return
		}
		l.got <- pidfdMsg{kind: string(buf[:n]), pidfd: fds[0]}
	}()
	return l
}

// receive waits for the message, checks its kind and that its pidfd
// refers to pid, and returns the pidfd (closed at the test's end).
func (l *pidfdListener) receive(t *testing.T, kind string, pid int) int {
	t.Helper()
	select {
	case m := <-l.got:
		if m.err != nil {
			t.Fatalf("pidfd socket: %v", m.err)
		}
		t.Cleanup(func() { unix.Close(m.pidfd) })
		if m.kind != kind {
			t.Errorf("pidfd socket payload %q, want %q", m.kind, kind)
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", m.pidfd))
		if err != nil {
			t.Fatal(err)
		}
		want := "Pid:\t" + strconv.Itoa(pid) + "\n"
		if !strings.Contains(string(info), want) {
			t.Errorf("the fd received is not a pidfd of %d: fdinfo %q", pid, info)
		}
		return m.pidfd
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received on the pidfd socket in 10s")
	}
	return -1
}

// TestPidfdSocket: create, run -d and exec --pidfd-socket send a pidfd of
// the init (payload "standard") or of the exec'd process ("setns"), and
// it signals that process.
func TestPidfdSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// create: a pidfd of the waiting init; SIGKILL through it stops it.
	l := listenPidfd(t, e, "create.sock")
	id, pid := e.create(e.newBundle(sleeper), "--pidfd-socket", l.path)
	fd := l.receive(t, "standard", pid)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("pidfd_send_signal: %v", err)
	}
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)

	// run -d (through hull-shim when it is there), from another
	// directory with a relative socket path.
	l = listenPidfd(t, e, "run.sock")
	id = e.newID()
	pidFile := filepath.Join(e.base, id+".pid")
	e.rtIn(e.base, "run", "-d", "--bundle", e.newBundle(sleeper), "--pid-file", pidFile, "--pidfd-socket", "run.sock", id)
	pid = e.readPidFile(pidFile)
	fd = l.receive(t, "standard", pid)
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after run -d: status %q", s.Status)
	}

	// exec -d: a pidfd of the exec'd process, not of the init.
	l = listenPidfd(t, e, "exec.sock")
	execPidFile := filepath.Join(e.base, "exec.pid")
	e.mustRT("exec", "-d", "--pid-file", execPidFile, "--pidfd-socket", l.path, id, "sleep", "1000")
	execPid := e.readPidFile(execPidFile)
	efd := l.receive(t, "setns", execPid)
	if err := unix.PidfdSendSignal(efd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("pidfd_send_signal to the exec'd process: %v", err)
	}
	if err := waitProcGone(procRef{pid: execPid}, 5*time.Second); err != nil {
		t.Error(err)
	}
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after killing the exec'd process: status %q, want running", s.Status)
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatalf("pidfd_send_signal to the init: %v", err)
	}
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)

	// A socket nobody listens on: an error, nothing left behind.
	id = e.newID()
	r := e.rt("create", "--bundle", e.newBundle(sleeper), "--pidfd-socket", filepath.Join(e.base, "nobody.sock"), id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "nobody.sock") {
		t.Errorf("create with a dead --pidfd-socket: %v; want an error naming the socket", r)
	}
	e.assertNotExist(id)
}
