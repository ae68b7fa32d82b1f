package shim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hullrt/hull/libcontainer/cgroups"
)

func fixedLog(t *testing.T, max int64) (*criLog, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ctr.log")
	l, err := openCRILog(path, max)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	l.now = func() time.Time { return ts }
	return l, path
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCRILogLines(t *testing.T) {
	l, path := fixedLog(t, 0)
	for _, w := range []struct{ stream, data string }{
		{"stdout", "one\ntwo\npart"},
		{"stderr", "err\n"},
		{"stdout", "ial\n"},
		{"stdout", "\n"},
	} {
		if err := l.write(w.stream, []byte(w.data)); err != nil {
			t.Fatal(err)
		}
	}
	l.close()
	const ts = "2026-01-02T03:04:05.0000006Z"
	want := ts + " stdout F one\n" +
		ts + " stdout F two\n" +
		ts + " stdout P part\n" +
		ts + " stderr F err\n" +
		ts + " stdout F ial\n" +
		ts + " stdout F \n"
	if got := read(t, path); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	// A closed log drops writes instead of failing the output path.
	if err := l.write("stdout", []byte("late\n")); err != nil {
		t.Errorf("write after close: %v", err)
	}
}

func TestCRILogRotation(t *testing.T) {
	l, path := fixedLog(t, 100)
	rec := len("2026-01-02T03:04:05.0000006Z stdout F ") + len("xxxxxxxxx") + 1 // 48
	for i := 0; i < 5; i++ {
		if err := l.write("stdout", []byte("xxxxxxxxx\n")); err != nil {
			t.Fatal(err)
		}
	}
	// 2 records fit in 100 bytes: .1 holds records 3-4, the log record 5.
	cur, old := read(t, path), read(t, path+".1")
	if len(cur) != rec || len(old) != 2*rec {
		t.Errorf("sizes %d and %d, want %d and %d", len(cur), len(old), rec, 2*rec)
	}
	// One write of many lines is split across files too.
	if err := l.write("stdout", []byte(strings.Repeat("xxxxxxxxx\n", 3))); err != nil {
		t.Fatal(err)
	}
	if cur := read(t, path); len(cur) != 2*rec {
		t.Errorf("after a multi-line write: %d bytes, want %d", len(cur), 2*rec)
	}
	// A record larger than the limit is written whole, alone in its file.
	big := strings.Repeat("y", 200)
	if err := l.write("stderr", []byte(big+"\n")); err != nil {
		t.Fatal(err)
	}
	if cur := read(t, path); !strings.HasSuffix(cur, "stderr F "+big+"\n") || strings.Count(cur, "\n") != 1 {
		t.Errorf("big record: log is %q", cur)
	}
	l.close()
}

func TestCRILogReopen(t *testing.T) {
	l, path := fixedLog(t, 0)
	l.write("stdout", []byte("a\n"))
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := l.reopen(); err != nil {
		t.Fatal(err)
	}
	l.write("stdout", []byte("b\n"))
	l.close()
	if got := read(t, path); !strings.HasSuffix(got, " stdout F b\n") || strings.Contains(got, " a\n") {
		t.Errorf("reopened log: %q", got)
	}
}

func TestOOMCounter(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "memory.events")
	os.WriteFile(f, []byte("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\noom_group_kill 0\n"), 0o644)
	w := newOOMWatch(cgroups.Load(&cgroups.Saved{Mode: cgroups.Unified, Unified: dir}))
	if w == nil || w.base != 2 {
		t.Fatalf("watch = %+v; want a base of 2", w)
	}
	if w.killed(nil) {
		t.Error("killed without a new OOM kill")
	}
	os.WriteFile(f, []byte("oom_kill 3\n"), 0o644)
	if !w.killed(nil) {
		t.Error("not killed after the counter grew")
	}
	var none *oomWatch
	if none.killed(nil) {
		t.Error("a missing watch reports a kill")
	}
	if newOOMWatch(cgroups.Load(&cgroups.Saved{Mode: cgroups.Unified, Unified: t.TempDir()})) != nil {
		t.Error("a watch on a cgroup without a memory controller")
	}
}
