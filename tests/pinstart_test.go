package tests

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hull's commands start the Go runtime restricted to one CPU, so that it
// makes one P (internal/oneproc, pin.c), and put the CPU mask back before
// the runtime's first thread: no thread of hull, no hook it runs and no
// container process keeps the narrowed mask. A createRuntime hook lists
// the mask of every thread of the `run` that runs it ($PPID), and its own.
func TestPinnedStartLeavesNoNarrowMask(t *testing.T) {
	if !isHull {
		t.Skip("hull's own start-up")
	}
	t.Parallel()
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	own := statusField(string(self), "Cpus_allowed_list")
	if runtime.NumCPU() < 2 {
		t.Skipf("this process may use one CPU (%q): a narrowed mask would look the same", own)
	}
	e := newEnv(t)
	masks := filepath.Join(e.base, "hook-masks")
	hook := `for t in /proc/$PPID/task/*; do grep Cpus_allowed_list $t/status; done > ` + masks +
		`; grep Cpus_allowed_list /proc/self/status >> ` + masks
	bundle := e.newBundle(all(withShell("grep Cpus_allowed_list /proc/self/status"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", hook}}}}
	}))
	r := execBinEnv(t, runtimeBin, "", []string{"GODEBUG=schedtrace=1"}, "--root", e.root, "run", "--bundle", bundle, e.newID())
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	if got := statusField(r.Stdout, "Cpus_allowed_list"); got != own {
		t.Errorf("the container's process may use CPUs %q, want this process's %q", got, own)
	}
	b, err := os.ReadFile(masks)
	if err != nil {
		t.Fatalf("the hook wrote nothing: %v", err)
	}
	ls := lines(string(b))
	if len(ls) < 3 { // two threads of hull at least, and the hook
		t.Fatalf("the hook saw %d masks: %q", len(ls), b)
	}
	for _, l := range ls {
		if got := statusField(l, "Cpus_allowed_list"); got != own {
			t.Errorf("a thread of hull or its hook may use CPUs %q, want %q (all it saw: %q)", got, own, b)
			break
		}
	}
	// The runtime's scheduler trace, first printed by sysmon as it starts:
	// one P from the start. (Printed later on a busy machine, it would
	// show one P also without the pin: then this cannot fail, the checks
	// above still can.)
	if _, ok := os.LookupEnv("GOMAXPROCS"); ok {
		t.Log("GOMAXPROCS is set here: hull keeps it and does not pin; the P count is not checked")
		return
	}
	for _, l := range lines(r.Stderr) {
		if strings.HasPrefix(l, "SCHED ") {
			if !strings.Contains(l, " gomaxprocs=1 ") {
				t.Errorf("hull's runtime started with more than one P: %q", l)
			}
			return
		}
	}
	t.Errorf("no scheduler trace on hull's stderr (GODEBUG=schedtrace=1): %q", r.Stderr)
}
