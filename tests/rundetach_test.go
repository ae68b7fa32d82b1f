package tests

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hull run -d goes through hull-shim (next to hull): the exit status of the
// detached container is recorded, and hull wait and hull state report it.
func TestRunDetachExitRecorded(t *testing.T) {
	if !isHull {
		t.Skip("hull wait and the recorded exit status are hull's")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(runtimeBin), "hull-shim")); err != nil {
		t.Skipf("no hull-shim next to %s (make build puts both in bin/): %v", runtimeBin, err)
	}
	for _, tc := range []struct {
		name   string
		script string
		kill   string
		want   string
	}{
		{"exit0", "exit 0", "", "0"},
		{"exit7", "exit 7", "", "7"},
		{"sigkill", "sleep 100", "KILL", "137"},
		// Without a pid namespace: a pid namespace's init ignores a
		// SIGTERM it has no handler for.
		{"sigterm-nopidns", "sleep 100", "TERM", "143"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			mutate := withShell(tc.script)
			if strings.HasSuffix(tc.name, "nopidns") {
				mutate = all(mutate, withoutNamespace(specs.PIDNamespace))
			}
			bundle := e.newBundle(mutate)
			id := e.newID()
			e.mustRT("run", "-d", "--bundle", bundle, id)
			if tc.kill != "" {
				e.mustRT("kill", id, tc.kill)
			}
			r := e.rt("wait", id)
			if strings.TrimSpace(r.Stdout) != tc.want || r.Code != atoi(tc.want) {
				t.Errorf("hull wait: %v, want %s", r, tc.want)
			}
			st := e.mustRT("state", id).Stdout
			if !strings.Contains(st, `"exitStatus": `+tc.want) {
				t.Errorf("state has no exitStatus %s: %s", tc.want, st)
			}
			e.mustRT("delete", id)
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// hull run -d with a terminal, its output captured through a pipe (as
// out=$(hull run -d …) does), returns at once: the detached hull-shim
// holds none of the caller's fds when the container's stdio is a pty.
// Before the fix the pipe stayed open until the container exited.
func TestRunDetachTerminalReleasesCallerPipe(t *testing.T) {
	if !isHull {
		t.Skip("hull-shim is hull's")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(runtimeBin), "hull-shim")); err != nil {
		t.Skipf("no hull-shim next to %s (make build puts both in bin/): %v", runtimeBin, err)
	}
	e := newEnv(t)
	sock := filepath.Join(e.base, "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan *os.File, 1)
	go func() { f, _ := receivePty(l); got <- f }()

	bundle := e.newBundle(all(withShell("sleep 100"), func(s *specs.Spec) { s.Process.Terminal = true }))
	id := e.newID()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(runtimeBin, "--root", e.root, "run", "-d", "--console-socket", sock, "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	eof := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(r); eof <- b }()
	select {
	case b := <-eof:
		if err := cmd.Wait(); err != nil {
			t.Errorf("run -d: %v: %s", err, b)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("the caller's pipe is still open 15 s after run -d (the container sleeps 100 s)")
		cmd.Process.Kill()
		cmd.Wait()
	}
	r.Close()
	if f := <-got; f != nil {
		f.Close()
	}
	if st := e.state(id); st.Status != "running" {
		t.Errorf("container status %q, want running", st.Status)
	}
	// A failing run -d with a terminal still says why (create's own
	// stderr is not the caller's then): once.
	r2 := e.rt("run", "-d", "--console-socket", sock, "--bundle", bundle, id)
	if r2.Code != 1 || strings.Count(r2.Stderr, "already exists") != 1 {
		t.Errorf("run -d --console-socket of an existing id: %v; want exit 1 and the error once", r2)
	}
	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)
}

// TestRunDetachStdioIsCallers: without a terminal, hull run -d gives the
// container the caller's stdio fds themselves, as runc does (it used to
// get pipes that hull-shim copied): the container's stdout and stderr are
// the caller's file, and the exit is still recorded.
func TestRunDetachStdioIsCallers(t *testing.T) {
	if !isHull {
		t.Skip("hull-shim is hull's")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(runtimeBin), "hull-shim")); err != nil {
		t.Skipf("no hull-shim next to %s (make build puts both in bin/): %v", runtimeBin, err)
	}
	e := newEnv(t)
	bundle := e.newBundle(withShell(`for f in 0 1 2; do readlink /proc/self/fd/$f; done; echo to-stderr >&2; exit 3`))
	id := e.newID()
	outPath := filepath.Join(e.base, "caller.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(runtimeBin, "--root", e.root, "run", "-d", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(outPath)
		t.Fatalf("run -d: %v: %s", err, b)
	}
	// A failed run -d says why once, though hull create (run by the
	// shim) had the caller's stderr.
	r := e.rt("run", "-d", "--bundle", bundle, id)
	if r.Code != 1 || strings.Count(r.Stderr, "already exists") != 1 {
		t.Errorf("run -d of an existing id: %v; want exit 1 and the error once", r)
	}
	if r := e.rt("wait", id); strings.TrimSpace(r.Stdout) != "3" {
		t.Errorf("hull wait: %v, want 3", r)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	// The container's root hides the host path; the link names the file
	// as the host sees it.
	got := lines(string(b))
	if len(got) != 4 || got[0] != "/dev/null" || got[1] != outPath || got[2] != outPath || got[3] != "to-stderr" {
		t.Errorf("the container's stdio: %q; want [/dev/null %s %s to-stderr] (the caller's file itself, not a pipe)", got, outPath, outPath)
	}
	e.mustRT("delete", id)
}
