package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// badBundle is a bundle whose create fails: its root.path does not exist.
func badBundle(e *env) string {
	return e.newBundle(func(s *specs.Spec) { s.Root.Path = "no-such-rootfs" })
}

func TestLogJSON(t *testing.T) {
	t.Parallel()
	forms := map[string]func(log string) []string{
		"separate":    func(log string) []string { return []string{"--log", log, "--log-format", "json"} },
		"equals":      func(log string) []string { return []string{"--log", log, "--log-format=json"} },
		"both-equals": func(log string) []string { return []string{"--log=" + log, "--log-format=json"} },
	}
	for name, flags := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			log := filepath.Join(e.base, "runtime.log")
			start := time.Now()
			r := e.rt(append(flags(log), "create", "--bundle", badBundle(e), e.newID())...)
			if r.Code != 1 {
				t.Errorf("create of a bundle without rootfs: %v, want exit 1", r)
			}
			if strings.TrimSpace(r.Stderr) == "" {
				t.Errorf("stderr is empty: the error must still be shown there when logging to a file")
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatalf("log file: %v", err)
			}
			var errLine map[string]any
			for _, l := range lines(string(b)) {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("log line %q is not JSON: %v", l, err)
					continue
				}
				if m["level"] == "error" {
					errLine = m
				}
			}
			if errLine == nil {
				t.Fatalf("no JSON line with level \"error\" in the log: %q", b)
			}
			msg, _ := errLine["msg"].(string)
			if msg == "" || !strings.Contains(r.Stderr, msg) {
				t.Errorf("error line msg %q: want the error shown on stderr %q", msg, r.Stderr)
			}
			if !strings.Contains(msg, "no-such-rootfs") && !strings.Contains(strings.ToLower(msg), "rootfs") {
				t.Errorf("error line msg %q does not say what is wrong (the missing rootfs)", msg)
			}
			ts, _ := errLine["time"].(string)
			if tm, err := time.Parse(time.RFC3339, ts); err != nil {
				t.Errorf("error line time %q is not RFC3339: %v", ts, err)
			} else if tm.Before(start.Add(-2*time.Second)) || tm.After(time.Now().Add(2*time.Second)) {
				t.Errorf("error line time %v is not the time of the create (%v)", tm, start)
			}
		})
	}
}

func TestLogText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := filepath.Join(e.base, "runtime.log")
	r := e.rt("--log", log, "--log-format", "text", "create", "--bundle", badBundle(e), e.newID())
	if r.Code != 1 || strings.TrimSpace(r.Stderr) == "" {
		t.Errorf("create of a bundle without rootfs: %v, want exit 1 and the error on stderr", r)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	found := false
	for _, l := range lines(string(b)) {
		if strings.Contains(l, "level=error") && strings.Contains(l, "msg=") {
			found = true
		}
	}
	if !found {
		t.Errorf("no text line with level=error and msg= in the log: %q", b)
	}
}

// TestLogWarningsOfInit: with --log, the runtime's own messages go to the
// log file, also those of the container's init process (here: the warning
// about an unknown capability, which the init meets when it applies the
// capabilities). The init's stderr is the container's: a runtime message
// written there ends up in the workload's output (a container engine
// stores it as the container's log).
func TestLogWarningsOfInit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := filepath.Join(e.base, "runtime.log")
	caps := []string{"CAP_KILL", "CAP_HULL_FAKE"}
	bundle := e.newBundle(all(withShell("echo container-err >&2"), func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	}))
	r := e.rt("--log", log, "--log-format", "json", "run", "--bundle", bundle, e.newID())
	if r.Code != 0 {
		t.Fatalf("run with an unknown capability: %v", r)
	}
	if r.Stderr != "container-err\n" {
		t.Errorf("the container's stderr is %q, want only the workload's \"container-err\\n\" (runtime messages belong in --log)", r.Stderr)
	}
	found := false
	for _, m := range jsonLogLines(t, log) {
		lvl, _ := m["level"].(string)
		if b, _ := json.Marshal(m); (lvl == "warning" || lvl == "warn") && strings.Contains(string(b), "CAP_HULL_FAKE") {
			found = true
		}
	}
	if !found {
		b, _ := os.ReadFile(log)
		t.Errorf("no warning naming CAP_HULL_FAKE in the --log file: %q", b)
	}
}

// TestDebugExec: --debug makes exec (as every command) log debug lines,
// "level=debug" as runc's: on stderr, or only in the --log file when there
// is one.
func TestDebugExec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	r := e.mustRT("--debug", "exec", id, "true")
	if !strings.Contains(r.Stderr, "level=debug") {
		t.Errorf("--debug exec: stderr %q has no level=debug line", r.Stderr)
	}
	log := filepath.Join(e.base, "debug.log")
	r = e.mustRT("--debug", "--log", log, "exec", id, "true")
	if strings.Contains(r.Stderr, "level=debug") {
		t.Errorf("--debug --log exec: debug lines on stderr %q, want them only in the log", r.Stderr)
	}
	if b, err := os.ReadFile(log); err != nil || !strings.Contains(string(b), "level=debug") {
		t.Errorf("--debug --log exec: log file %q (%v) has no level=debug line", b, err)
	}
	// Without --debug, nothing of the kind.
	if r := e.mustRT("exec", id, "true"); r.Stderr != "" {
		t.Errorf("exec without --debug: stderr %q, want nothing", r.Stderr)
	}
}
