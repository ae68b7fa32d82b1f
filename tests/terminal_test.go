package tests

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// receivePty accepts one connection on l and returns the single fd sent
// over it with SCM_RIGHTS.
func receivePty(l *net.UnixListener) (*os.File, error) {
	_ = l.SetDeadline(time.Now().Add(cmdTimeout))
	conn, err := l.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(cmdTimeout))
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4*8))
	_, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	if flags&unix.MSG_CTRUNC != 0 {
		return nil, errors.New("control message truncated: more than one fd sent")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		rights, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return nil, err
		}
		fds = append(fds, rights...)
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errors.New("want exactly one fd over the console socket")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

func TestTerminalConsoleSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sock := filepath.Join(e.base, "console.sock")
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

	bundle := e.newBundle(all(withShell("echo hello-tty; tty"), func(s *specs.Spec) { s.Process.Terminal = true }))
	id := e.newID()
	pidFile := filepath.Join(e.base, "init.pid")
	// Under a subreaper, so that we learn the init process's exit status.
	wait := e.startReaped("create", "--bundle", bundle, "--console-socket", sock, "--pid-file", pidFile, id)

	rv := <-got
	if rv.err != nil {
		t.Fatalf("console socket: %v", rv.err)
	}
	master := rv.f
	defer master.Close()
	output := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(master) // ends with EIO once the pty slave is closed
		output <- string(b)
	}()

	waitFile(t, pidFile)
	e.waitStatus(id, "created")
	pid := e.readPidFile(pidFile)
	e.mustRT("start", id)

	var out string
	select {
	case out = <-output:
	case <-time.After(cmdTimeout):
		t.Fatalf("no EOF on the pty master after %v", cmdTimeout)
	}
	if !strings.Contains(out, "hello-tty") {
		t.Errorf("pty output %q lacks hello-tty", out)
	}
	if !strings.Contains(out, "/dev/pts/0") && !strings.Contains(out, "/dev/console") {
		t.Errorf("pty output %q: tty is neither /dev/pts/0 nor /dev/console", out)
	}
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)

	statuses := wait()
	if code, ok := statuses[pid]; !ok {
		t.Errorf("init %d was not reaped by our subreaper (reaped: %v)", pid, statuses)
	} else if code != 0 {
		t.Errorf("container exited %d, want 0", code)
	}
}
