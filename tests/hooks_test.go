package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hookKit is a logging hook script and its log, in a host dir that is
// also bind-mounted at the same path into the container, so that the
// startContainer hook (whose path resolves inside the container) finds the
// script and can append to the same log.
type hookKit struct {
	dir, script, log string
}

// hookLine is one line of the hook log.
type hookLine struct {
	name, mntNS, env, arg2 string
	state                  specs.State
	raw                    string
}

func newHookKit(t *testing.T, e *env) *hookKit {
	t.Helper()
	dir := e.mkdir("hooks")
	k := &hookKit{dir: dir, script: filepath.Join(dir, "hook.sh"), log: filepath.Join(dir, "hooks.log")}
	// Runs with the hook's env only: PATH and the log come from there.
	script := `#!/bin/sh
state=$(cat)
echo "$1 $state $(readlink /proc/self/ns/mnt) env=$HULL_HOOK_ENV arg2=$2" >> "$HULL_HOOK_LOG"
`
	if err := writeExecutable(k.script, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return k
}

// hook is a logging hook that logs itself as name.
func (k *hookKit) hook(name string) specs.Hook {
	return specs.Hook{
		Path: k.script,
		Args: []string{k.script, name, "second-arg"},
		Env:  []string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin", "HULL_HOOK_LOG=" + k.log, "HULL_HOOK_ENV=env-" + name},
	}
}

// mount bind-mounts the kit's dir at the same path into the container.
func (k *hookKit) mount() func(*specs.Spec) {
	return withMount(specs.Mount{Destination: k.dir, Type: "bind", Source: k.dir, Options: []string{"rbind", "rw"}})
}

func (k *hookKit) read(t *testing.T) []hookLine {
	t.Helper()
	b, err := os.ReadFile(k.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []hookLine
	for _, l := range lines(string(b)) {
		i, j := strings.IndexByte(l, '{'), strings.LastIndexByte(l, '}')
		if i < 0 || j < i {
			t.Fatalf("hook log line without JSON: %q", l)
		}
		h := hookLine{name: strings.TrimSpace(l[:i]), raw: l}
		if err := json.Unmarshal([]byte(l[i:j+1]), &h.state); err != nil {
			t.Fatalf("hook log line %q: state on stdin is not JSON: %v", l, err)
		}
		for _, f := range strings.Fields(l[j+1:]) {
			switch {
			case strings.HasPrefix(f, "env="):
				h.env = strings.TrimPrefix(f, "env=")
			case strings.HasPrefix(f, "arg2="):
				h.arg2 = strings.TrimPrefix(f, "arg2=")
			case strings.HasPrefix(f, "mnt:"):
				h.mntNS = f
			}
		}
		out = append(out, h)
	}
	return out
}

func hookNames(hs []hookLine) string {
	var n []string
	for _, h := range hs {
		n = append(n, h.name)
	}
	return strings.Join(n, ",")
}

func TestHooksAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	k := newHookKit(t, e)
	bundle := e.newBundle(all(sleeper, k.mount(), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{k.hook("prestart")}, //nolint:staticcheck // deprecated, still run
			CreateRuntime:   []specs.Hook{k.hook("createRuntime")},
			CreateContainer: []specs.Hook{k.hook("createContainer")},
			StartContainer:  []specs.Hook{k.hook("startContainer")},
			Poststart:       []specs.Hook{k.hook("poststart")},
			Poststop:        []specs.Hook{k.hook("poststop")},
		}
	}))
	id, pid := e.create(bundle)
	initMnt, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err != nil {
		t.Fatal(err)
	}
	hostMnt := hostNS(t, "mnt")
	if initMnt == hostMnt {
		t.Fatal("the container shares the host's mount namespace")
	}

	afterCreate := hookNames(k.read(t))
	if want := "prestart,createRuntime,createContainer"; afterCreate != want {
		if isHull {
			t.Errorf("hooks run by create: %s, want %s", afterCreate, want)
		} else {
			// runc 1.1.5 deviates: it runs poststart at the end of create.
			t.Logf("runc: hooks run by create: %s", afterCreate)
		}
	}
	e.mustRT("start", id)
	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)

	got := k.read(t)
	order := []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	if names := hookNames(got); names != strings.Join(order, ",") {
		if isHull {
			t.Errorf("hook order %s, want %s", names, strings.Join(order, ","))
		} else {
			t.Logf("runc: hook order %s", names)
		}
	}
	status := map[string]string{
		"prestart": "created", "createRuntime": "creating", "createContainer": "creating",
		"startContainer": "created", "poststart": "running", "poststop": "stopped",
	}
	inContainer := map[string]bool{"createContainer": true, "startContainer": true}
	seen := map[string]int{}
	for _, h := range got {
		seen[h.name]++
		wantNS, where := hostMnt, "the host's"
		if inContainer[h.name] {
			wantNS, where = initMnt, "the container's"
		}
		if h.mntNS != wantNS {
			t.Errorf("%s hook ran in mount namespace %q, want %s %q", h.name, h.mntNS, where, wantNS)
		}
		if h.state.ID != id || h.state.Bundle != bundle {
			t.Errorf("%s hook state: id %q bundle %q, want %q %q", h.name, h.state.ID, h.state.Bundle, id, bundle)
		}
		if h.name != "poststop" && h.state.Pid != pid {
			if isHull || !inContainer[h.name] {
				t.Errorf("%s hook state: pid %d, want the init's %d", h.name, h.state.Pid, pid)
			} else {
				// runc 1.1.5 deviates: the hooks it runs from the init
				// get the pid in the container's pid namespace (1).
				t.Logf("runc: %s hook state: pid %d (host pid %d)", h.name, h.state.Pid, pid)
			}
		}
		if string(h.state.Status) != status[h.name] {
			if isHull {
				t.Errorf("%s hook state: status %q, want %q", h.name, h.state.Status, status[h.name])
			} else {
				t.Logf("runc: %s hook state: status %q (hull: %q)", h.name, h.state.Status, status[h.name])
			}
		}
		if h.env != "env-"+h.name || h.arg2 != "second-arg" {
			t.Errorf("%s hook: env HULL_HOOK_ENV=%q, $2=%q; want env-%s and second-arg (hook env and args honoured)", h.name, h.env, h.arg2, h.name)
		}
	}
	for _, n := range order {
		if seen[n] != 1 {
			t.Errorf("%s hook ran %d times, want once (log: %q)", n, seen[n], hookNames(got))
		}
	}
}

func TestHookTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	one := 1
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "5"}, Timeout: &one}}}
	}))
	start := time.Now()
	r := e.rt("create", "--bundle", bundle, e.newID())
	took := time.Since(start)
	if r.Code != 1 {
		t.Errorf("create with a createRuntime hook `sleep 5` and timeout 1: %v, want exit 1", r)
	}
	if took > 4500*time.Millisecond {
		t.Errorf("create took %v: the 1s hook timeout was not applied", took)
	}
	if !strings.Contains(strings.ToLower(r.Stderr), "hook") {
		t.Errorf("create: stderr %q does not name the hook", r.Stderr)
	}
	if isHull && !strings.Contains(r.Stderr, "error running createRuntime hook #0:") {
		t.Errorf("create: stderr %q does not contain \"error running createRuntime hook #0:\"", r.Stderr)
	}
	if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
		t.Errorf("list -q after the failed create: %q", out)
	}
}

func TestHookCreateRuntimeFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/false", Args: []string{"false"}}}}
	}))
	r := e.rt("create", "--bundle", bundle, e.newID())
	if r.Code != 1 {
		t.Errorf("create with a failing createRuntime hook: %v, want exit 1", r)
	}
	if isHull && !strings.Contains(r.Stderr, "error running createRuntime hook #0:") {
		t.Errorf("create: stderr %q does not contain \"error running createRuntime hook #0:\"", r.Stderr)
	}
	// The leftover checker also looks for the init and its mounts.
	if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
		t.Errorf("list -q after the failed create: %q", out)
	}
}

// jsonLogLines parses the JSON lines of a --log-format json log file.
func jsonLogLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	var out []map[string]any
	for _, l := range lines(string(b)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("log line %q is not JSON: %v", l, err)
			continue
		}
		out = append(out, m)
	}
	return out
}

// runc 1.5.1: a failing poststart hook fails start (and run), naming the
// hook as "error running poststart hook #N", and ends the container's
// process.
func TestHookPoststartFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/false", Args: []string{"false"}}}}
	}))
	id, _ := e.create(bundle)
	pid := e.state(id).Pid
	r := e.rt("start", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "error running poststart hook #1:") {
		t.Errorf("start with a failing poststart hook: %v, want an error naming poststart hook #1", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for unix.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := unix.Kill(pid, 0); err == nil {
		t.Errorf("the container's process %d still runs after its poststart hook failed", pid)
	}
	e.rt("delete", "--force", id)

	// The same through run --detach.
	id2 := e.newID()
	if r := e.rt("run", "--detach", "--bundle", bundle, id2); r.Code == 0 || !strings.Contains(r.Stderr, "error running poststart hook #1:") {
		t.Errorf("run --detach with a failing poststart hook: %v, want an error naming poststart hook #1", r)
	}
	e.rt("delete", "--force", id2)
}

func TestHookPoststopFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/false", Args: []string{"false"}}}}
	}))
	id, _ := e.create(bundle)
	e.mustRT("start", id)
	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	r := e.rt("delete", id)
	if r.Code != 0 {
		if isHull {
			t.Errorf("delete with a failing poststop hook: %v, want exit 0", r)
		} else {
			// runc 1.1.5 deviates: "unable to run post stop hooks", exit 1.
			t.Logf("runc: delete with a failing poststop hook: %v", r)
		}
	}
	e.assertNotExist(id)
}

func TestHookRelativePath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true"}, {Path: "bin/true"}}}
	}))
	r := e.rt("create", "--bundle", bundle, e.newID())
	if isHull {
		if r.Code != 1 || !strings.Contains(r.Stderr, "hooks.createContainer[1].path") {
			t.Errorf("create with a relative hook path: %v, want exit 1 naming hooks.createContainer[1].path", r)
		}
	} else {
		// runc 1.1.5 deviates: it does not check that hook paths are
		// absolute (config.md: "path MUST be absolute").
		t.Logf("runc: create with a relative hook path: %v", r)
		return
	}
	if out := lines(e.mustRT("list", "-q").Stdout); len(out) != 0 {
		t.Errorf("list -q after the failed create: %q", out)
	}
}
