package tests

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestRunDetachKeepsNoCallerFds: the fds hull run -d inherits beyond its
// stdio (without --preserve-fds) are not held by the detached hull-shim,
// nor by the container: once the caller closes its end of a pipe it gave
// hull as fd 9, the reader sees EOF while the container runs, as with runc
// (runc run -d leaves no process of its own). runc's checkpoint.bats waits
// for such an EOF (check_pipes); before the fix the shim kept the pipe
// open until the container exited, and the container waited for that EOF.
func TestRunDetachKeepsNoCallerFds(t *testing.T) {
	if !isHull {
		t.Skip("hull-shim is hull's")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(runtimeBin), "hull-shim")); err != nil {
		t.Skipf("no hull-shim next to %s (make build puts both in bin/): %v", runtimeBin, err)
	}
	e := newEnv(t)
	bundle := e.newBundle(withShell("sleep 100"))
	id := e.newID()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := os.Create(filepath.Join(e.base, "run.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(runtimeBin, "--root", e.root, "run", "-d", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = out, out
	// fd 9, not passed on (no --preserve-fds); fds 3-6 of the detached
	// shim are its own, which would hide a leak of fd 3.
	cmd.ExtraFiles = []*os.File{nil, nil, nil, nil, nil, nil, w}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("run -d: %v: %s", err, b)
		}
	case <-time.After(cmdTimeout):
		cmd.Process.Kill()
		t.Fatalf("run -d did not return in %v", cmdTimeout)
	}
	defer e.rt("delete", "-f", id)
	w.Close()
	if s := e.state(id); s.Status != "running" {
		t.Fatalf("container %s is %q, want running", id, s.Status)
	}
	r.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := r.Read(make([]byte, 1))
	if !errors.Is(err, io.EOF) {
		t.Errorf("read of the pipe given to run -d as fd 9: n=%d %v; want EOF (someone still holds its write end: %s)", n, err, holders(t, r))
	}
}

// holders names the processes that hold the other end of pipe r (by the
// pipe's inode), for the error message.
func holders(t *testing.T, r *os.File) string {
	link, err := os.Readlink("/proc/self/fd/" + itoa(int(r.Fd())))
	if err != nil {
		return err.Error()
	}
	var who []string
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, p := range procs {
		if l, err := os.Readlink(p); err == nil && l == link {
			pid := filepath.Base(filepath.Dir(filepath.Dir(p)))
			if pid == itoa(os.Getpid()) {
				continue
			}
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			who = append(who, pid+" "+string(comm[:max(0, len(comm)-1)]))
		}
	}
	return link + " held by " + joinOr(who, "nobody else")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func joinOr(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}
