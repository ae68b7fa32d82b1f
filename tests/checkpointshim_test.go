package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCheckpointRestoreDetachShim: restore -d goes through hull-shim, as
// run -d does: the restored init is the shim's child, and its exit is
// recorded, so that `hull wait` and `hull state` report it.
func TestCheckpointRestoreDetachShim(t *testing.T) {
	needCriuWorks(t)
	if !isHull {
		t.Skip("hull-shim is hull's")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(runtimeBin), "hull-shim")); err != nil {
		skip := t.Skipf
		if os.Getenv("HULL_TEST_CRIU_REQUIRED") != "" {
			skip = t.Fatalf // the criu lane puts hull-shim next to hull
		}
		skip("no hull-shim next to %s (make build puts both in bin/): %v", runtimeBin, err)
	}
	e := newEnv(t)
	c := runCounter(t, e, nil)
	id, bundle, vol := c.id, c.bundle, c.vol
	work := filepath.Join(e.base, "work")
	img := e.checkpointImage(id, "--work-path", work)
	at := readCount(t, vol)
	p2 := newPipes(t)
	pidFile := filepath.Join(e.base, "restored.pid")
	if code := e.rtPipes(p2, "restore", "-d", "--bundle", bundle, "--image-path", img, "--work-path", work, "--pid-file", pidFile, id); code != 0 {
		criuLog(t, work)
		t.Fatalf("restore -d: exit %d: %s", code, p2.stderr())
	}
	pid := e.readPidFile(pidFile)
	if s := e.state(id); s.Status != "running" || s.Pid != pid {
		t.Fatalf("restored: status %q pid %d, want running with the pid file's %d", s.Status, s.Pid, pid)
	}
	if parent := parentComm(t, pid); parent != "hull-shim" {
		t.Errorf("the restored init %d is a child of %q, want hull-shim", pid, parent)
	}
	waitCount(t, vol, at+2)
	e.mustRT("kill", id, "KILL")
	r := e.rt("wait", id)
	if strings.TrimSpace(r.Stdout) != "137" || r.Code != 137 {
		t.Errorf("hull wait on the restored container: %v, want 137", r)
	}
	if st := e.mustRT("state", id).Stdout; !strings.Contains(st, `"exitStatus": 137`) {
		t.Errorf("the state of the restored container has no exitStatus 137: %s", st)
	}
	e.mustRT("delete", id)
}

// parentComm is the command name of pid's parent.
func parentComm(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PPid:"); ok {
			c, err := os.ReadFile("/proc/" + strings.TrimSpace(v) + "/comm")
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimSpace(string(c))
		}
	}
	t.Fatalf("no PPid in /proc/%d/status", pid)
	return ""
}
