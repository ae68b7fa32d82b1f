package shim

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hullrt/hull/libcontainer/cgroups"
)

// fakeMemCgroup is a cgroup2 directory stand-in: memory.events in a
// temporary directory, read as cgroups.Manager.OOMKillCount reads it.
type fakeMemCgroup struct {
	cgroups.Manager
	dir string
}

func (f fakeMemCgroup) Path(string) string { return f.dir }

func (f fakeMemCgroup) OOMKillCount() (uint64, error) {
	b, err := os.ReadFile(filepath.Join(f.dir, "memory.events"))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill "); ok {
			return strconv.ParseUint(v, 10, 64)
		}
	}
	return 0, nil
}

// The systemd driver's case: the OOM kill is counted, then the cgroup is
// gone (the scope ended with its last process) before the shim reads the
// count after the init's exit. The count read when memory.events changed
// stands.
func TestOOMWatchCountSeenBeforeCgroupGoes(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "memory.events")
	if err := os.WriteFile(events, []byte("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newOOMWatch(fakeMemCgroup{dir: dir})
	if w == nil {
		t.Fatal("newOOMWatch: nil for a readable memory.events")
	}
	f, err := os.OpenFile(events, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n")
	f.Close()
	// The watch reads the file on its own (inotify): give it the time,
	// then remove the "cgroup".
	time.Sleep(time.Second)
	if err := os.Remove(events); err != nil {
		t.Fatal(err)
	}
	if !w.killed(t.Logf) {
		t.Error("killed() = false after an OOM kill counted before the cgroup went, want true")
	}
}

// No kill: a cgroup that goes is no kill.
func TestOOMWatchNoKill(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "memory.events")
	if err := os.WriteFile(events, []byte("oom_kill 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newOOMWatch(fakeMemCgroup{dir: dir})
	if w == nil {
		t.Fatal("newOOMWatch: nil for a readable memory.events")
	}
	os.Remove(events)
	if w.killed(t.Logf) {
		t.Error("killed() = true with the count unchanged, want false")
	}
}
