package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// The init must run, and so execve, on its process's main thread: an
// execve from another thread makes the kernel hold the old main thread
// as a zombie until the exec is done, and whoever reads the init's
// /proc/PID/stat meanwhile (`start`, `state`, `kill`) sees a dead init.
// Seen as "cannot start container X: container is stopped, not created"
// in 50 parallel create+start (issue 18): the create's init re-executes
// itself to wait for start, and `start` came in that window. Go may run
// the main goroutine on any thread until it is locked; the fault stage
// init-migrate makes the init's goroutine move off the main thread if it
// can, and report the thread it runs on.
func TestInitRunsOnMainThread(t *testing.T) {
	t.Parallel()
	bin := faultRuntime(t)
	e := newEnv(t)
	thread := regexp.MustCompile(`hull-fault: init on thread (\d+) of (\d+)`)
	for i := 0; i < 2; i++ {
		bundle := e.newBundle(withArgs("true"))
		id := e.newID()
		// The init's stderr is create's: a file, so create does not
		// wait for the init to let go of a pipe.
		errFile := filepath.Join(e.base, id+".init-stderr")
		f, err := os.Create(errFile)
		if err != nil {
			t.Fatal(err)
		}
		c := exec.Command(bin, "--root", e.root, "create", "--bundle", bundle, id)
		c.Env = append(os.Environ(), "HULL_FAULT=init-migrate")
		c.Stderr = f
		err = c.Run()
		f.Close()
		if err != nil {
			b, _ := os.ReadFile(errFile)
			t.Fatalf("create with HULL_FAULT=init-migrate: %v: %s", err, b)
		}
		e.mustRT("start", id)
		e.waitStatus(id, "stopped")
		e.mustRT("delete", id)
		b, err := os.ReadFile(errFile)
		if err != nil {
			t.Fatal(err)
		}
		// The init of create, and the one resumed after start.
		ms := thread.FindAllStringSubmatch(string(b), -1)
		if len(ms) < 2 {
			t.Fatalf("init stderr %q: want a thread report from the init and from the resumed init", b)
		}
		for _, m := range ms {
			if m[1] != m[2] {
				t.Errorf("container %s: the init ran on thread %s of process %s, not on its main thread", id, m[1], m[2])
			}
		}
	}
}
