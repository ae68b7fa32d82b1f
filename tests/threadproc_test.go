package tests

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCreateLooksUpNoThreadProcFiles: `create`'s own threads look up no
// per-thread /proc entry (thread-self, PID/task/TID). The dentries such
// a lookup leaves are invalidated twice when the process ends, by the
// exiting thread and by the reaper, which spins until the thread is done:
// with 50 parallel creates on two CPUs the caller's wait4 for one `create`
// took up to 64 ms. The create runs under strace; the init (the processes
// that exec hull's binary, and theirs) is left out, its entries go with it.
func TestCreateLooksUpNoThreadProcFiles(t *testing.T) {
	t.Parallel()
	if !isHull {
		t.Skip("checks hull's own create")
	}
	// Traced, a set-user-ID newuidmap runs without its privilege.
	needRoot(t, "a rootless create under strace cannot map its user namespace (newuidmap loses set-user-ID under ptrace)")
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (make deps installs it)")
	}
	e := newEnv(t)
	bundle := e.newBundle(sleeper)
	id := e.newID()
	out := filepath.Join(e.base, "strace.out")
	pidFile := filepath.Join(e.base, id+".pid")
	// stdio stays /dev/null: the created init keeps it open.
	cmd := exec.Command(strace, "-f", "-qq", "-o", out, "-e", "trace=%file,execve",
		runtimeBin, "--root", e.root, "create", "--bundle", bundle, "--pid-file", pidFile, id)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start strace: %v", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// strace blocks fatal signals while it writes to a file (-I3);
		// when it is killed, the kernel detaches the init, which goes on.
		cmd.Process.Kill()
		cmd.Wait()
	}
	defer stop()

	// create has ended once its pid (the first in the trace) is gone:
	// strace reaps what it traces.
	createPid := ""
	deadline := time.Now().Add(cmdTimeout)
	for {
		if createPid == "" {
			if b, err := os.ReadFile(out); err == nil {
				createPid, _, _ = strings.Cut(string(b), " ")
				if !strings.Contains(string(b), "\n") {
					createPid = ""
				}
			}
		}
		if createPid != "" {
			if _, err := os.Stat("/proc/" + createPid); os.IsNotExist(err) {
				break
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(out)
			t.Fatalf("create under strace did not end within %v; trace:\n%s", cmdTimeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	e.readPidFile(pidFile)

	trace, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	initSide := map[string]bool{}
	sawConfig := false
	sc := bufio.NewScanner(bytes.NewReader(trace))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		pid, call, _ := strings.Cut(sc.Text(), " ")
		if pid != createPid && strings.HasPrefix(call, "execve(") {
			initSide[pid] = true
		}
		if initSide[pid] {
			continue
		}
		sawConfig = sawConfig || strings.Contains(call, "config.json")
		if strings.Contains(call, "thread-self") || strings.Contains(call, "/task/") {
			t.Errorf("create's thread %s looked up a per-thread /proc entry: %s", pid, call)
		}
	}
	if !sawConfig {
		t.Fatalf("the trace shows create's threads never opened config.json; trace:\n%s", trace)
	}
	// strace let go of the init, which starts as any other.
	startsAndRuns(t, e, id)
}
