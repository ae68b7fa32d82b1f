package shim

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"golang.org/x/sys/unix"
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

// When the count cannot be read after the exit (the scope went first) and
// none was seen, the kernel's log decides: a record saying the OOM killer
// killed the init's pid is a kill; one about another pid is not. A pipe
// stands in for /dev/kmsg.
func TestOOMWatchKernelLog(t *testing.T) {
	for _, c := range []struct {
		name, log string
		want      bool
	}{
		{"memcg", "6,100,5,-;other\n3,101,6,-;Memory cgroup out of memory: Killed process 4242 (tail) total-vm:70000kB, anon-rss:16000kB\n", true},
		{"global", "3,101,6,-;Out of memory: Killed process 4242 (tail) total-vm:1kB\n", true},
		{"other pid", "3,101,6,-;Memory cgroup out of memory: Killed process 42420 (tail) total-vm:1kB\n", false},
		{"nothing", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			events := filepath.Join(dir, "memory.events")
			if err := os.WriteFile(events, []byte("oom_kill 0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			w := newOOMWatch(fakeMemCgroup{dir: dir})
			if w == nil {
				t.Fatal("newOOMWatch: nil for a readable memory.events")
			}
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[1])
			w.kmsg, w.pid = p[0], 4242
			if c.log != "" {
				unix.Write(p[1], []byte(c.log))
			}
			os.Remove(events)
			if got := w.killed(t.Logf); got != c.want {
				t.Errorf("killed() = %v, want %v", got, c.want)
			}
		})
	}
}
