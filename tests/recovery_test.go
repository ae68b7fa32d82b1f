package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What a runtime finds after things went wrong outside it: a state.json
// damaged by something else, an init that died behind its back, a pid
// reused by an unrelated process. `state` must tell the truth, nothing may
// crash, and `delete --force` must leave nothing (the leftover checker).

func stateFile(e *env, id string) string { return filepath.Join(e.root, id, "state.json") }

// TestDamagedStateJSON damages the state.json of a running container in
// several ways. state and kill must fail naming the file, list must not
// crash, delete without --force must refuse (the init still runs), and
// delete --force must kill the init and remove its cgroup and state.
func TestDamagedStateJSON(t *testing.T) {
	damages := map[string]func(b []byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"empty":     func([]byte) []byte { return nil },
		"garbage":   func([]byte) []byte { return []byte("\x00\x01not json at all\xff") },
		"wrong-id":  func(b []byte) []byte { return []byte(strings.Replace(string(b), `"id":"`, `"id":"x`, 1)) },
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			id, pid := e.create(e.newBundle(withArgs("sleep", "100")))
			e.mustRT("start", id)
			e.waitStatus(id, "running")
			path := stateFile(e, id)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			if !isHull {
				// runc and crun give up on such a container; what
				// follows is hull's recovery record.
				if r := e.rt("state", id); r.Code == 0 {
					t.Errorf("state with a damaged state.json: %v, want an error", r)
				}
				unix.Kill(pid, unix.SIGKILL)
				os.WriteFile(path, b, 0o600)
				return
			}
			r := e.rt("state", id)
			if r.Code != 1 || !strings.Contains(r.Stderr, path) || !strings.Contains(r.Stderr, "damaged") {
				t.Errorf("state with a %s state.json: %v; want exit 1 naming %s as damaged", name, r, path)
			}
			r = e.rt("list", "--format", "json")
			if r.Code != 0 || strings.Contains(r.Stdout, id) || !strings.Contains(r.Stderr, id) {
				t.Errorf("list with a damaged container: %v; want exit 0, the container left out with a warning naming it", r)
			}
			if r = e.rt("kill", id, "KILL"); r.Code != 1 || !strings.Contains(r.Stderr, "damaged") {
				t.Errorf("kill of a damaged container: %v; want exit 1 saying the state is damaged", r)
			}
			for _, c := range [][]string{{"state", id}, {"list"}, {"kill", id}, {"start", id}, {"pause", id}, {"exec", id, "true"}, {"delete", id}} {
				if r := e.rt(c...); strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine ") {
					t.Errorf("%v on a damaged container crashed: %v", c, r)
				}
			}
			if !procAlive(procRef{pid, mustStart(t, pid)}) {
				t.Fatalf("init %d died before delete --force", pid)
			}
			if r = e.rt("delete", id); r.Code == 0 {
				t.Errorf("delete without --force of a damaged container whose init %d still runs: %v; want a refusal", pid, r)
			}
			if r = e.rt("delete", "--force", id); r.Code != 0 {
				t.Fatalf("delete --force of a damaged container: %v", r)
			}
			e.assertNotExist(id)
			// The leftover checker then sees no init, cgroup or state.
		})
	}
}

func mustStart(t *testing.T, pid int) uint64 {
	t.Helper()
	st, err := procStartTime(pid)
	if err != nil {
		t.Fatalf("start time of %d: %v", pid, err)
	}
	return st
}

// TestInitKilledBehindOurBack SIGKILLs the init of a created and of a
// running container directly: state must say stopped, and a plain delete
// removes the container and its cgroup.
func TestInitKilledBehindOurBack(t *testing.T) {
	for _, started := range []bool{false, true} {
		name := "created"
		if started {
			name = "running"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			id, pid := e.create(e.newBundle(withArgs("sleep", "100")))
			if started {
				e.mustRT("start", id)
				e.waitStatus(id, "running")
			}
			ref := procRef{pid, mustStart(t, pid)}
			if err := unix.Kill(pid, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := waitProcGone(ref, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			s := e.waitStatus(id, "stopped")
			if s.Pid != 0 {
				t.Errorf("state of a stopped container: pid %d, want 0 (runc)", s.Pid)
			}
			if r := e.rt("kill", id, "TERM"); r.Code != 1 || !strings.Contains(r.Stderr, "container not running") {
				t.Errorf("kill of a container whose init died: %v; want exit 1 and \"container not running\"", r)
			}
			e.mustRT("delete", id)
			e.assertNotExist(id)
		})
	}
}

// TestPidReused points a stopped container's record at a live process of
// ours that is not its init (as if the kernel had handed the init's pid to
// it): the start time tells them apart, so state says stopped, kill says
// not running, and delete --force does not touch that process.
func TestPidReused(t *testing.T) {
	e := newEnv(t)
	id, pid := e.create(e.newBundle(withArgs("sleep", "100")))
	e.mustRT("start", id)
	e.mustRT("kill", id, "KILL")
	if err := waitProcGone(procRef{pid, 0}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, "stopped")

	decoy := exec.Command("sleep", "100")
	if err := decoy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { decoy.Process.Kill(); decoy.Wait() }()
	decoyRef := procRef{decoy.Process.Pid, mustStart(t, decoy.Process.Pid)}

	path := stateFile(e, id)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state.json of %s: %v", id, err)
	}
	if _, ok := st["pid"]; !ok && isHull {
		t.Fatalf("hull's state.json has no pid field: %s", b)
	}
	st["pid"] = decoy.Process.Pid
	b, _ = json.Marshal(st)
	tmp := path + ".test"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}

	if s := e.state(id); s.Status != "stopped" {
		t.Errorf("state with the pid reused by %d: status %q, want stopped", decoy.Process.Pid, s.Status)
	}
	if r := e.rt("kill", id, "KILL"); r.Code == 0 {
		t.Errorf("kill with the pid reused by an unrelated process: %v; want \"container not running\"", r)
	}
	e.mustRT("delete", "--force", id)
	time.Sleep(100 * time.Millisecond)
	if !procAlive(decoyRef) {
		t.Errorf("delete --force killed process %d that merely reused the init's pid", decoy.Process.Pid)
	}
	e.assertNotExist(id)
}

// TestDeleteForceRemovesKilledCreateDir: a create SIGKILLed after it made
// its directory under a temporary name (".new-<id>-<n>") and before renaming
// it into place leaves that directory, locked by nobody. list must not show
// it, and delete --force <id> must remove it (nothing else would), but not
// the temporary directory of another id that merely starts the same way,
// nor one whose create still runs (holds its lock).
func TestDeleteForceRemovesKilledCreateDir(t *testing.T) {
	e := newEnv(t)
	id := e.newID()
	mk := func(name, stID string) string {
		t.Helper()
		d := filepath.Join(e.root, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		st := `{"id":"` + stID + `","phase":"creating","pid":0}`
		if err := os.WriteFile(filepath.Join(d, "state.json"), []byte(st), 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	stale := mk(".new-"+id+"-2718281828", id)
	other := mk(".new-"+id+"-x-31415", id+"-x")
	busy := mk(".new-"+id+"-1618", id)
	lock, err := unix.Open(busy, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(lock, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer func() {
		unix.Close(lock)
		os.RemoveAll(busy)
		os.RemoveAll(other)
	}()

	for _, args := range [][]string{{"list"}, {"list", "-q"}, {"list", "--format", "json"}} {
		r := e.mustRT(args...)
		if strings.Contains(r.Stdout, id) || strings.Contains(r.Stdout, ".new") {
			t.Errorf("%v shows a temporary directory: %v", args, r)
		}
	}
	if r := e.rt("state", id); r.Code == 0 {
		t.Errorf("state %s of a half-made directory succeeded: %v", id, r)
	}
	e.mustRT("delete", "--force", id)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("delete --force %s left %s (stat: %v)", id, stale, err)
	}
	for _, d := range []string{other, busy} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("delete --force %s removed %s, which is not its to remove: %v", id, d, err)
		}
	}
}
