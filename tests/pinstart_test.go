package tests

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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
	r := execBin(t, runtimeBin, "", "--root", e.root, "run", "--bundle", bundle, e.newID())
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
	// one P from the start. Taken from `create`, which keeps one P: `run`
	// takes the runtime's default back (oneproc.Foreground), and on a
	// busy machine its first trace came after that, with two (CI of
	// c80cdaf). Printed after oneproc's init, the trace shows one P also
	// without the pin: then this cannot fail, the checks above still can.
	if _, ok := os.LookupEnv("GOMAXPROCS"); ok {
		t.Log("GOMAXPROCS is set here: hull keeps it and does not pin; the P count is not checked")
		return
	}
	id := e.newID()
	r = execBinEnv(t, runtimeBin, "", []string{"GODEBUG=schedtrace=1"}, "--root", e.root, "create", "--bundle", bundle, id)
	if r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	e.mustRT("delete", "--force", id)
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

// hull's build gives the Go runtime's sysmon thread a timer slack of 5 ms
// (internal/oneproc, slack.c), and no other thread: threads sysmon starts
// get the process's slack back, so hooks and container processes inherit
// the caller's, as under runc. A createRuntime hook lists the slack of
// every thread of the `run` that runs it ($PPID), and its own; the
// container prints its own.
func TestSysmonSlackOnlyOnSysmon(t *testing.T) {
	if !isHull {
		t.Skip("hull's own start-up")
	}
	t.Parallel()
	const sysmonSlack = "5000000"
	b, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		t.Skipf("no /proc/self/timerslack_ns: %v", err)
	}
	own := strings.TrimSpace(string(b))
	if n, err := strconv.Atoi(own); err != nil || n >= 5000000 {
		t.Skipf("this process's timer slack is %q: hull leaves a slack of 5 ms or more alone", own)
	}
	e := newEnv(t)
	slacks := filepath.Join(e.base, "hook-slacks")
	hook := `for t in /proc/$PPID/task/*; do echo "thread $(cat /proc/${t##*/}/timerslack_ns)"; done > ` + slacks +
		`; echo "hook $(cat /proc/self/timerslack_ns)" >> ` + slacks
	bundle := e.newBundle(all(withShell("echo container $(cat /proc/self/timerslack_ns)"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", hook}}}}
	}))
	r := execBin(t, runtimeBin, "", "--root", e.root, "run", "--bundle", bundle, e.newID())
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	if got := strings.TrimSpace(r.Stdout); got != "container "+own {
		t.Errorf("the container printed %q, want %q (this process's slack)", got, "container "+own)
	}
	out, err := os.ReadFile(slacks)
	if err != nil {
		t.Fatalf("the hook wrote nothing: %v", err)
	}
	var sysmon, others int
	for _, l := range lines(string(out)) {
		f := strings.Fields(l)
		switch {
		case len(f) != 2:
			// cat failed: reading another process's slack needs
			// CAP_SYS_NICE, which a rootless hull's hook lacks.
			t.Skipf("the hook could not read every slack: %q", out)
		case f[0] == "thread" && f[1] == sysmonSlack:
			sysmon++
		case f[1] == own:
			others++
		default:
			t.Errorf("%s with slack %s, want %s (sysmon's thread alone %s): all %q", f[0], f[1], own, sysmonSlack, out)
		}
	}
	if sysmon != 1 || others < 2 {
		t.Errorf("%d threads of hull with sysmon's slack (want 1) and %d others with %s (want 2 at least: a thread and the hook): %q", sysmon, others, own, out)
	}
}
