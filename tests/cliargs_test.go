package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command line as runc v1.5.1's (urfave/cli v1) takes it.

// TestKillSignalZero: signal 0 sends nothing and tells whether the init is
// there: accepted while the container runs, "container not running" once
// it has stopped, and no error with --all (runc's kill.bats).
func TestKillSignalZero(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _ := e.create(e.newBundle(sleeper))
	e.mustRT("start", id)
	e.mustRT("kill", id, "0")
	if s := e.state(id); s.Status != "running" {
		t.Errorf("after kill %s 0: status %q, want running", id, s.Status)
	}
	e.mustRT("kill", "--all", id, "0")
	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	r := e.rt("kill", id, "0")
	if r.Code == 0 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("kill %s 0 of a stopped container: %v; want an error with \"container not running\"", id, r)
	}
	e.mustRT("kill", "-a", id, "0")
	e.mustRT("delete", id)
}

// TestListMissingRoot: list in a --root that does not exist is an error
// (runc: "open <root>: no such file or directory"), and creates nothing.
func TestListMissingRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := filepath.Join(e.base, "no-such-root")
	for _, args := range [][]string{{"--root", missing, "list"}, {"--root=" + missing, "list", "-q"}} {
		stdout, stderr, code := rt(t, args...)
		if code == 0 || !strings.Contains(stderr, "open "+missing+": no such file or directory") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want an error naming %s", args, code, stdout, stderr, missing)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("list created %s (stat: %v)", missing, err)
	}
}

// TestFlagsAfterID: for every command but exec and ps, runc takes the
// command's flags after the container id too ("delete ID --force",
// "state ID --help").
func TestFlagsAfterID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(sleeper)
	id := e.newID()
	e.mustRT("create", id, "--bundle", bundle)
	e.mustRT("start", id)
	if r := e.mustRT("state", id, "--help"); !strings.Contains(r.Stdout, "state") || strings.Contains(r.Stdout, `"status"`) {
		t.Errorf("state %s --help: want the help text, got %v", id, r)
	}
	if r := e.mustRT("list", "-q", "--format", "json"); strings.TrimSpace(r.Stdout) != id {
		t.Errorf("list -q --format json: stdout %q, want %q", r.Stdout, id)
	}
	e.mustRT("kill", id, "KILL", "--all")
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id, "--force")
	e.assertNotExist(id)

	// exec keeps everything after the id for the process: "--env" is the
	// command to run, not a flag.
	id2, _ := e.create(e.newBundle(sleeper))
	e.mustRT("start", id2)
	if r := e.rt("exec", id2, "--env", "X=1", "true"); r.Code == 0 {
		t.Errorf("exec %s --env X=1 true: ran, want \"--env\" taken as the command: %v", id2, r)
	}
	e.mustRT("delete", "-f", id2)
}

// TestExecExitCodes: exec exits with its process's status, and with 255
// (runc's "exec failed: ...") whenever it could not give one: no such
// container, no command, a missing binary, a pid file it cannot write, a
// paused container.
func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"exec", id, "false"}, 1},
		{[]string{"exec", id, "sh", "-c", "exit 42"}, 42},
		{[]string{"exec", "--pid-file", filepath.Join(e.base, "no-such-dir", "pid"), id, "true"}, 255},
		{[]string{"exec", id, "hull-no-such-binary"}, 255},
		{[]string{"exec", id}, 255},
		{[]string{"exec", "hull-no-such-container", "true"}, 255},
	} {
		r := e.rt(tc.args...)
		if r.Code != tc.code {
			t.Errorf("%v: %v, want exit %d", tc.args, r, tc.code)
		}
		if tc.code == 255 && !strings.Contains(r.Stderr, "exec failed: ") {
			t.Errorf("%v: stderr %q, want runc's \"exec failed: ...\"", tc.args, r.Stderr)
		}
	}
	needRoot(t, "the rest pauses the container: a freezer cgroup, which a user without delegated cgroups does not get")
	e.mustRT("pause", id)
	if r := e.rt("exec", id, "true"); r.Code != 255 {
		t.Errorf("exec into a paused container: %v, want exit 255", r)
	}
	e.mustRT("resume", id)
	if s := e.state(id); s.Status != "running" {
		t.Errorf("container status after the failed execs: %q", s.Status)
	}
}
