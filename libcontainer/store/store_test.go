package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func TestValidateID(t *testing.T) {
	for _, id := range []string{"", ".", "..", "a/b", "a b", "../x"} {
		if ValidateID(id) == nil {
			t.Errorf("ValidateID(%q) accepted", id)
		}
	}
	for _, id := range []string{"a", "abc-1.2_x", "A+b"} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q): %v", id, err)
		}
	}
	// The loop accepts exactly runc's ^[\w+.-]+$, byte for byte.
	re := regexp.MustCompile(`^[\w+.-]+$`)
	for b := 0; b < 256; b++ {
		for _, id := range []string{string([]byte{byte(b)}), "a" + string([]byte{byte(b)}) + "z"} {
			if got, want := idChars(id), re.MatchString(id); got != want {
				t.Errorf("idChars(%q) = %v, runc's regexp says %v", id, got, want)
			}
		}
	}
	if idChars("é") || ValidateID("caf\u00e9") == nil {
		t.Error("a non-ASCII id was accepted")
	}
}

func TestNewSaveLoad(t *testing.T) {
	s := Store{Root: t.TempDir()}
	h, err := s.New(&State{ID: "c1", Phase: PhaseCreating})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Busy("c1") {
		t.Error("lock not held after New")
	}
	if err := h.Save(&State{ID: "c1", Phase: PhaseCreated, Pid: 42}); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if s.Busy("c1") {
		t.Error("lock held after Close")
	}
	st, err := s.Load("c1")
	if err != nil || st.Pid != 42 || st.Phase != PhaseCreated {
		t.Fatalf("Load = %+v, %v", st, err)
	}
	if _, err := s.New(&State{ID: "c1"}); !errors.Is(err, os.ErrExist) {
		t.Errorf("second New: %v, want ErrExist", err)
	}
	if _, err := s.Load("nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load missing: %v", err)
	}
	ids, _ := s.List()
	if len(ids) != 1 || ids[0] != "c1" {
		t.Errorf("List = %v", ids)
	}
}

func TestNewRace(t *testing.T) {
	s := Store{Root: t.TempDir()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := s.New(&State{ID: "same"})
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
				h.Close()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d creators won, want 1", wins)
	}
}

func TestLockAfterRemove(t *testing.T) {
	s := Store{Root: t.TempDir()}
	h, err := s.New(&State{ID: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		h2, err := s.Lock("gone")
		if err == nil {
			h2.Close()
		}
		done <- err
	}()
	h.Remove()
	h.Close()
	if err := <-done; err == nil {
		t.Fatal("Lock of a removed container succeeded")
	}
}

func TestTryLock(t *testing.T) {
	s := Store{Root: t.TempDir()}
	h, err := s.New(&State{ID: "held"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryLock("held"); !errors.Is(err, ErrBusy) {
		t.Fatalf("TryLock of a held container: %v, want ErrBusy", err)
	}
	h.Close()
	h2, err := s.TryLock("held")
	if err != nil {
		t.Fatalf("TryLock of a free container: %v", err)
	}
	h2.Remove()
	h2.Close()
	if _, err := s.TryLock("held"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("TryLock of a removed container: %v, want ErrNotExist", err)
	}
}

func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"id":"c1","phase":"created","pid":12,"startTime":5}`))
	f.Add([]byte(`{"id":"c1","cgroup":{"mode":1,"v1":{"cpu":"/x"}}}`))
	f.Add([]byte(`garbage`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// In memory: the fuzzer must not wait on the disk.
		st, err := decodeState("c1", data)
		if err == nil && (st == nil || st.ID != "c1") {
			t.Fatalf("accepted a state for another container: %+v", st)
		}
	})
}

func TestRemoveStale(t *testing.T) {
	s := Store{Root: t.TempDir()}
	mk := func(name string) string {
		t.Helper()
		d := s.Root + "/" + name
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(d+"/state.json", []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		return d
	}
	stale := mk(".new-c1-12345")
	other := mk(".new-c1-x-678") // a create of id "c1-x"
	notTemp := mk(".new-c1-abc") // not a name New makes
	busy := mk(".new-c1-999")
	fd, err := lockDir(busy, 0)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := s.RemoveStale("c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != stale {
		t.Errorf("removed %v, want [%s]", removed, stale)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", stale, err)
	}
	for _, d := range []string{other, notTemp, busy} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
	unix.Close(fd)
	if removed, err := s.RemoveStale("c1"); err != nil || len(removed) != 1 || removed[0] != busy {
		t.Errorf("after unlock: removed %v, %v; want [%s]", removed, err, busy)
	}
	if removed, err := (Store{Root: s.Root + "/none"}).RemoveStale("c1"); err != nil || len(removed) != 0 {
		t.Errorf("missing root: %v, %v", removed, err)
	}
	if ids, _ := s.List(); len(ids) != 0 {
		t.Errorf("List shows temporary directories: %v", ids)
	}
}

// TestRemoveFlat: a state directory goes with its files, without
// os.RemoveAll, and with a subdirectory (left to os.RemoveAll); a missing
// one is no error.
func TestRemoveFlat(t *testing.T) {
	calls := 0
	removeAllFn = func(p string) error { calls++; return os.RemoveAll(p) }
	t.Cleanup(func() { removeAllFn = os.RemoveAll })
	base := t.TempDir()
	flat := filepath.Join(base, "flat")
	nested := filepath.Join(base, "nested")
	for _, d := range []string{flat, filepath.Join(nested, "sub")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 300; i++ { // more than one getdents buffer
		for _, d := range []string{flat, nested, filepath.Join(nested, "sub")} {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file-with-a-long-name-%03d", i)), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		dir       string
		removeAll int
	}{{flat, 0}, {nested, 1}, {filepath.Join(base, "missing"), 0}} {
		calls = 0
		if err := removeFlat(c.dir); err != nil {
			t.Errorf("removeFlat %s: %v", c.dir, err)
		}
		if _, err := os.Lstat(c.dir); !os.IsNotExist(err) {
			t.Errorf("%s still there (lstat: %v)", c.dir, err)
		}
		if calls != c.removeAll {
			t.Errorf("removeFlat %s: os.RemoveAll called %d times, want %d", c.dir, calls, c.removeAll)
		}
	}
}
