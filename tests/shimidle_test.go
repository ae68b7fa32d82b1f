package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hullrt/hull/internal/idlemem"
)

// An idle hull-shim gives back the pages of its binary it ran through
// while it started (internal/idlemem): once its container runs, at most
// half of the binary's read-only mappings is resident in it (without that,
// 3.4 of 3.6 MB were). It still does its work afterwards: it logs the
// container's output and records its exit.
func TestShimIdleGivesBackItsBinary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(gate("echo after-idle; exit 3"))
	id := e.newID()
	s := e.startShim(id, bundle).started()
	bin := e.shimBin()
	var rss, size uint64
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		if rss, size, err = readOnlyResident(s.shimPid, bin); err != nil {
			t.Fatal(err)
		}
		if rss*2 <= size || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if size == 0 {
		t.Fatalf("no read-only mapping of %s in the shim's smaps", bin)
	}
	if rss*2 > size {
		t.Errorf("idle shim: %d of the %d kB of its binary's read-only mappings resident, want at most half", rss, size)
	}
	t.Logf("idle shim: %d of %d kB of its binary's read-only mappings resident", rss, size)
	w := e.hullWait(id)
	openGate(t, bundle)
	s.checkExitReported(3, recvWait(t, w))
	waitLogContains(t, s.logFile, "after-idle")
	e.mustRT("delete", id)
	e.assertNotExist(id)
	s.checkGone()
}

// readOnlyResident sums Rss and Size (kB) of pid's read-only mappings of
// the file path.
func readOnlyResident(pid int, path string) (rss, size uint64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	rs, err := idlemem.ParseSmaps(f)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rs {
		if r.Path == path && r.Perms[1] != 'w' {
			rss += r.Rss
			size += (r.End - r.Start) / 1024
		}
	}
	return rss, size, nil
}

// The detached shim runs with GOMAXPROCS=1, GOGC=50 and
// GODEBUG=disablethp=1 added to the environment it was given (no huge page
// for its heap: see options.go), and takes them out again before it runs
// anything: the --exit-command (and hull) get the caller's environment.
func TestShimEnvNotPassedOn(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"GODEBUG", "GOGC", "GOMAXPROCS"} {
		if _, ok := os.LookupEnv(v); ok {
			t.Skipf("%s is set in the test's environment: the shim leaves a caller's own setting alone, and this test checks the values it adds", v)
		}
	}
	e := newEnv(t)
	bundle := e.newBundle(gate("exit 0"))
	id := e.newID()
	envFile := filepath.Join(e.base, "exit-command.env")
	s := e.startShim(id, bundle, "--exit-command", "/bin/sh", "--exit-command-arg", "-c",
		"--exit-command-arg", fmt.Sprintf(`env >%q.tmp; mv %q.tmp %q`, envFile, envFile, envFile)).started()
	own, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", s.shimPid))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GODEBUG=disablethp=1", "GOGC=50", "GOMAXPROCS=1"} {
		if !strings.Contains("\x00"+string(own)+"\x00", "\x00"+want+"\x00") {
			t.Errorf("the detached shim was not started with %s: %q", want, own)
		}
	}
	w := e.hullWait(id)
	openGate(t, bundle)
	s.checkExitReported(0, recvWait(t, w))
	waitFile(t, envFile)
	got, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(got), "\n") {
		for _, v := range []string{"GODEBUG=", "GOGC=", "GOMAXPROCS=", "_HULL_SHIM_DAEMON="} {
			if strings.HasPrefix(l, v) {
				t.Errorf("--exit-command got %q from the shim", l)
			}
		}
	}
	e.mustRT("delete", id)
	e.assertNotExist(id)
	s.checkGone()
}
