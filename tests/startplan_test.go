package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// planProbe is what the process reports of itself: credentials,
// capabilities, no_new_privs, seccomp, umask, cwd, rlimits, and whether
// the seccomp filter refuses mkdir.
const planProbe = `exec >/o/out 2>&1
grep -E '^(Umask|Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp|SigBlk|SigIgn)' /proc/self/status
pwd; ulimit -n; ulimit -s; ulimit -c
mkdir /tmp/plan-probe 2>/dev/null && rmdir /tmp/plan-probe && echo mkdir allowed || echo mkdir refused`

// planCases are configs whose last steps differ in every field the plan
// carries.
var planCases = map[string]func(*specs.Spec){
	"default": func(s *specs.Spec) {},
	"user": func(s *specs.Spec) {
		mask := uint32(0o027)
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 7}, Umask: &mask}
		s.Process.Cwd = "/bin"
		s.Process.Rlimits = append(s.Process.Rlimits,
			specs.POSIXRlimit{Type: "RLIMIT_STACK", Soft: 4 << 20, Hard: 16 << 20},
			specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: 0})
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
	},
	"ambient, no no_new_privs": func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.NoNewPrivileges = false
		c := []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: c, Effective: c, Permitted: c, Inheritable: c, Ambient: c}
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
	},
}

// probeBundle makes a bundle running planProbe with a world-writable /o
// in its rootfs for the report.
func (e *env) probeBundle(mutate func(*specs.Spec)) (bundle string) {
	e.t.Helper()
	bundle = e.newBundle(all(withShell(planProbe), mutate))
	o := filepath.Join(bundle, "rootfs", "o")
	if err := os.MkdirAll(o, 0o777); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(o, 0o777); err != nil {
		e.t.Fatal(err)
	}
	return bundle
}

func readProbe(t *testing.T, bundle string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bundle, "rootfs", "o", "out"))
	if err != nil {
		t.Fatalf("the container's report: %v", err)
	}
	return string(b)
}

// initEnvHas tells whether the waiting init's environment names key,
// once the init has re-executed itself to wait (it does so after ready,
// so after create may have returned); an init set up in C (_HULL_RFS)
// waits where it is.
func initEnvHas(t *testing.T, pid int, key string) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatalf("environment of the created init %d: %v", pid, err)
		}
		env := strings.Split(string(b), "\x00")
		if key == "_HULL_RFS" || slices.Contains(env, "_HULL_INIT=wait") {
			for _, kv := range env {
				if strings.HasPrefix(kv, key+"=") {
					return true
				}
			}
			return false
		}
		if time.Now().After(deadline) {
			t.Fatalf("the created init %d did not re-execute itself to wait within 10s: %q", pid, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStartPlanMatchesRun: a created container's last steps after start
// are carried out in C from a plan the Go init made before ready (issue
// 18), and only when a step needs Go (here a startContainer hook) does
// the Go runtime resume; where the whole setup is C's (rootfs.c), the
// parent makes that plan. The process must come out the same every way:
// `run` by the Go init (it does the steps itself), `run` set up in C,
// create + start set up in C, create + start with the Go init's plan,
// create + start with the Go resume. Checked from inside:
// ids, groups, the five capability sets, no_new_privs, seccomp mode and
// the filter's effect, umask, cwd and rlimits; and from outside: which
// way the waiting init took.
func TestStartPlanMatchesRun(t *testing.T) {
	needRoot(t, "non-root users and capability sets other than the caller's")
	t.Parallel()
	e := newEnv(t)
	hook := func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	}
	for name, mutate := range planCases {
		bundle := e.probeBundle(mutate)
		id := e.newID()
		if r := e.rtEnv(inGo, "run", "--bundle", bundle, id); r.Code != 0 {
			t.Fatalf("%s: run: %v", name, r)
		}
		want := readProbe(t, bundle)
		if !strings.Contains(want, "Uid:") || !strings.Contains(want, "mkdir") {
			t.Fatalf("%s: run's report is incomplete: %q", name, want)
		}
		bundle = e.probeBundle(mutate)
		if r := e.rt("run", "--bundle", bundle, e.newID()); r.Code != 0 {
			t.Fatalf("%s: run set up in C: %v", name, r)
		}
		if got := readProbe(t, bundle); got != want {
			t.Errorf("%s, run set up in C differs from the Go init's:\n--- Go\n%s--- C\n%s", name, want, got)
		}

		for _, way := range []struct {
			name, env string
			hullEnv   []string
			mutate    func(*specs.Spec)
		}{
			{"set up in C, the plan made by the parent", "_HULL_RFS", nil, mutate},
			{"the Go init's plan in C", "_HULL_PLAN", inGo, mutate},
			{"Go resumed (startContainer hook)", "_HULL_RESUME", nil, all(mutate, hook)},
		} {
			bundle := e.probeBundle(way.mutate)
			id := e.newID()
			pidFile := filepath.Join(e.base, id+".pid")
			if r := e.rtEnv(way.hullEnv, "create", "--bundle", bundle, "--pid-file", pidFile, id); r.Code != 0 {
				t.Fatalf("%s, %s: create: %v", name, way.name, r)
			}
			pid := e.readPidFile(pidFile)
			if !initEnvHas(t, pid, way.env) {
				t.Errorf("%s, %s: the created init's environment has no %s", name, way.name, way.env)
			}
			e.mustRT("start", id)
			e.waitStatus(id, "stopped")
			e.mustRT("delete", id)
			if got := readProbe(t, bundle); got != want {
				t.Errorf("%s, create + start (%s) differs from run:\n--- run\n%s--- create + start\n%s", name, way.name, want, got)
			}
		}
	}
}

// TestStartPlanFailure: a last step that fails after start is reported by
// start, in the Go finisher's words, whichever way the init took: here
// the cwd, removed between create and start.
func TestStartPlanFailure(t *testing.T) {
	needRoot(t, "the container's cwd is removed from outside")
	t.Parallel()
	e := newEnv(t)
	hook := func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	}
	for _, way := range []struct {
		name   string
		mutate func(*specs.Spec)
	}{
		{"plan", func(*specs.Spec) {}},
		{"go", hook},
	} {
		bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) { s.Process.Cwd = "/gone" }, way.mutate))
		dir := filepath.Join(bundle, "rootfs", "gone")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		id, _ := e.create(bundle)
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		r := e.rt("start", id)
		want := `chdir to cwd ("/gone") set in config.json: no such file or directory`
		if r.Code != 1 || !strings.Contains(r.Stderr, want) {
			t.Errorf("%s: start with the cwd gone: want exit 1 and %q, got %v", way.name, want, r)
		}
		if st := e.state(id).Status; st != "stopped" {
			t.Errorf("%s: status after the failed start: %q, want stopped", way.name, st)
		}
		e.mustRT("delete", id)
	}
}

// TestExecPlanMatchesGo: an exec'd process's last steps run from a plan
// in C (issue 18) unless a step needs Go; the process must come out the
// same either way. Go is made to do them here by an oomScoreAdj in the
// process (a step the plan does not carry) equal to the value the exec'd
// process inherits anyway; which way each exec took is read from its
// --debug line.
func TestExecPlanMatchesGo(t *testing.T) {
	needRoot(t, "non-root users and capability sets other than the caller's")
	t.Parallel()
	e := newEnv(t)
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	adj, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("/proc/self/oom_score_adj %q: %v", b, err)
	}
	for name, mutate := range planCases {
		bundle := e.probeBundle(all(sleeper, mutate))
		id := e.newID()
		e.mustRT("run", "-d", "--bundle", bundle, id)
		out := filepath.Join(bundle, "rootfs", "o", "out")
		var reports []string
		for _, way := range []struct {
			name, debug string
			oom         *int
		}{
			{"plan", "run from a plan, in C", nil},
			{"Go", "run in Go", &adj},
		} {
			// The exec'd process gets the config's process: its own
			// user, capabilities, rlimits and cwd, and the
			// container's seccomp filter.
			proc := *loadSpec(t, bundle).Process
			proc.Args = []string{"sh", "-c", planProbe}
			proc.OOMScoreAdj = way.oom
			pj := filepath.Join(e.base, id+"."+way.name+".json")
			b, err := json.Marshal(&proc)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pj, b, 0o644); err != nil {
				t.Fatal(err)
			}
			r := e.mustRT("--debug", "exec", "--process", pj, id)
			if !strings.Contains(r.Stderr, way.debug) {
				t.Errorf("%s: exec (%s) did not say %q; its debug lines: %s", name, way.name, way.debug, r.Stderr)
			}
			rep, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%s: the report of the exec (%s): %v", name, way.name, err)
			}
			if !strings.Contains(string(rep), "Uid:") {
				t.Fatalf("%s: incomplete report (%s) %q", name, way.name, rep)
			}
			reports = append(reports, string(rep))
			os.Remove(out)
		}
		if reports[0] != reports[1] {
			t.Errorf("%s: exec with the plan differs from exec in Go:\n--- Go\n%s--- plan\n%s", name, reports[1], reports[0])
		}
		e.mustRT("delete", "-f", id)
	}
}

// TestExecPlanFailures: what fails in the plan's steps is reported as in
// Go: before the process runs, exec fails (255) with the reason; a
// failed execve is the process's own error, on its stderr, status 255.
func TestExecPlanFailures(t *testing.T) {
	needRoot(t, "rlimits above the caller's")
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(sleeper)
	id := e.newID()
	e.mustRT("run", "-d", "--bundle", bundle, id)
	// Found and executable, but its interpreter is missing: the execve
	// itself fails.
	bad := filepath.Join(bundle, "rootfs", "bin", "badinterp")
	if err := writeExecutable(bad, []byte("#!/nonexistent/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.rt("--debug", "exec", id, "badinterp")
	if r.Code != 255 || !strings.Contains(r.Stderr, "exec /bin/badinterp: no such file or directory") {
		t.Errorf("exec of a script without its interpreter: want 255 and the execve's error, got %v", r)
	}
	if !strings.Contains(r.Stderr, "run from a plan, in C") {
		t.Errorf("exec of badinterp did not use the plan: %s", r.Stderr)
	}
	// Not executable: exec's own lookup refuses it, Go says why.
	if err := os.Chmod(bad, 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.rt("exec", id, "/bin/badinterp")
	if r.Code != 255 || !strings.Contains(r.Stderr, `exec: "/bin/badinterp": permission denied`) {
		t.Errorf("exec of a file without x bits: want 255 and os/exec's error, got %v", r)
	}
	// A cwd that is not there: chdir fails after ready, in the process.
	r = e.rt("--debug", "exec", "--cwd", "/nonexistent", id, "true")
	if r.Code != 255 || !strings.Contains(r.Stderr, `chdir to cwd ("/nonexistent") set in config.json: no such file or directory`) {
		t.Errorf("exec with a missing cwd: want 255 and the chdir error, got %v", r)
	}
	if !strings.Contains(r.Stderr, "run from a plan, in C") {
		t.Errorf("exec with a missing cwd did not use the plan: %s", r.Stderr)
	}
	e.mustRT("delete", "-f", id)
}
