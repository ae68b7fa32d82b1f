package cgroups

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// resetDirFDs closes what earlier tests left kept.
func resetDirFDs(t *testing.T) {
	t.Helper()
	forgetDirs("/")
	dirFDs.Lock()
	n := len(dirFDs.m)
	dirFDs.Unlock()
	if n != 0 {
		t.Fatalf("forgetDirs(\"/\") left %d descriptors", n)
	}
	t.Cleanup(func() { forgetDirs("/") })
}

func TestDirFDs(t *testing.T) {
	resetDirFDs(t)
	root := t.TempDir()
	cg := filepath.Join(root, "parent", "c1")
	var made []string
	if err := mkdirs(root, cg, &made); err != nil {
		t.Fatal(err)
	}
	if len(made) != 2 {
		t.Fatalf("made %v, want parent and c1", made)
	}
	if err := os.WriteFile(filepath.Join(cg, "knob"), []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := readFile(cg, "knob"); err != nil || v != "1" {
		t.Fatalf("readFile: %q, %v", v, err)
	}
	// The file is reached under the kept descriptor, not by its path:
	// moved away, c1 is still what readFile and writeFile see.
	moved := filepath.Join(root, "moved")
	if err := os.Rename(cg, moved); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(cg, "knob", "2"); err != nil {
		t.Fatalf("writeFile under the kept descriptor: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(moved, "knob")); string(b) != "2" {
		t.Errorf("knob in the directory the descriptor is on: %q, want \"2\"", b)
	}
	if err := os.Rename(moved, cg); err != nil {
		t.Fatal(err)
	}
	// Errors name the whole path.
	_, err := readFile(cg, "missing")
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != filepath.Join(cg, "missing") {
		t.Errorf("readFile of a missing file: %v, want ENOENT naming %s", err, filepath.Join(cg, "missing"))
	}
	if !statDir(cg) || statDir(filepath.Join(root, "parent", "nope")) {
		t.Errorf("statDir: wrong answer")
	}
	// removeDir forgets: a directory made again at the path is the one
	// seen next.
	os.Remove(filepath.Join(cg, "knob"))
	if err := removeDir(cg); err != nil {
		t.Fatal(err)
	}
	if statDir(cg) {
		t.Fatalf("%s still there after removeDir", cg)
	}
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cg, "knob"), []byte("3"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := readFile(cg, "knob"); err != nil || v != "3" {
		t.Errorf("after removeDir and a new mkdir: %q, %v; want the new directory's \"3\"", v, err)
	}
}

// Past maxDirFDs nothing more is kept, and files are reached by path.
func TestDirFDsBounded(t *testing.T) {
	resetDirFDs(t)
	root := t.TempDir()
	for i := range maxDirFDs + 5 {
		d := filepath.Join(root, strconv.Itoa(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte(strconv.Itoa(i)), 0o600); err != nil {
			t.Fatal(err)
		}
		if v, err := readFile(d, "f"); err != nil || v != strconv.Itoa(i) {
			t.Fatalf("dir %d: %q, %v", i, v, err)
		}
	}
	dirFDs.Lock()
	n := len(dirFDs.m)
	dirFDs.Unlock()
	if n != maxDirFDs {
		t.Errorf("%d descriptors kept, want %d", n, maxDirFDs)
	}
}

// A descriptor forgotten while another goroutine reads under it is never
// used closed, nor as the number of another directory's descriptor: every
// read sees its own directory's file.
func TestDirFDsForgetWhileInUse(t *testing.T) {
	resetDirFDs(t)
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "f"), []byte(filepath.Base(d)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// b's descriptor takes the number a's just freed.
			forgetDirs(a)
			forgetDirs(b)
			readFile(b, "f")
		}
	}()
	var bad error
	for i := 0; i < 20000 && bad == nil; i++ {
		v, err := readFile(a, "f")
		switch {
		case err != nil:
			bad = err
		case v != "a":
			bad = errors.New("read " + v + " from " + a)
		}
	}
	close(stop)
	<-done
	if bad != nil {
		t.Fatal(bad)
	}
}
