package sysfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	// Sizes around the stack buffer's, the first heap buffer's and its
	// growth.
	for _, n := range []int{0, 1, 511, 512, 513, 4095, 4096, 4097, 4608, 4609, 100000} {
		want := bytes.Repeat([]byte("x"), n)
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || !bytes.Equal(got, want) || got == nil {
			t.Fatalf("size %d: got %d bytes, %v", n, len(got), err)
		}
	}
	// A small file costs the heap its size (and the path's for open),
	// not a 4 KB buffer: the read buffer is on the stack (every byte of
	// heap is a fresh page in a command).
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("0-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 100; i++ {
		ReadFile(small)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 512 {
		t.Errorf("ReadFile of 4 bytes: %d bytes of heap, want its size and the path's", per)
	}
	// A kernel file whose size says 0.
	b, err := ReadFile("/proc/self/status")
	if err != nil || !strings.Contains(string(b), "Pid:") {
		t.Fatalf("/proc/self/status: %q, %v", b, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v, want ErrNotExist", err)
	}
	var pe *os.PathError
	if _, err := ReadFile(dir); !errors.As(err, &pe) || pe.Op != "read" {
		t.Fatalf("directory: %v, want a read *os.PathError", err)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, []byte("1")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v, want ErrNotExist (never created)", err)
	}
	if err := os.WriteFile(p, []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("content %q, want it truncated to %q", b, "new")
	}
	// The kernel's refusal comes back as the write's error.
	err := WriteFile("/proc/self/oom_score_adj", []byte("not a number"))
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "write" {
		t.Fatalf("bad value: %v, want a write *os.PathError", err)
	}
}

// kernfsFile is a sysfs file: epoll accepts kernfs files, so os.Open
// would put it in the netpoller.
const kernfsFile = "/sys/kernel/mm/transparent_hugepage/enabled"

func TestOpenNotPolled(t *testing.T) {
	if g, err := os.Open(kernfsFile); err != nil {
		t.Skipf("no %s to test with: %v", kernfsFile, err)
	} else {
		// The premise: os's own file would be polled.
		err := g.SetReadDeadline(time.Now())
		g.Close()
		if err != nil {
			t.Skipf("os.Open's %s is not in the netpoller either (%v): nothing to tell apart", kernfsFile, err)
		}
	}
	f, err := Open(kernfsFile, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// os.NewFile leaves a blocking descriptor out of the poller: a
	// deadline, which needs the poller, is refused.
	if err := f.SetReadDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
		t.Fatalf("SetReadDeadline: %v, want ErrNoDeadline (not in the netpoller)", err)
	}
}

// The At functions open a name under a directory descriptor (an O_PATH
// one, as the cgroup code holds) and name the full path in errors.
func TestAt(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "knob")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	if err := WriteFileAt(dfd, "knob", p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFileAt(dfd, "knob", p); err != nil || string(b) != "new" {
		t.Fatalf("ReadFileAt: %q, %v; want \"new\"", b, err)
	}
	f, err := OpenAt(dfd, "knob", p, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != p {
		t.Errorf("OpenAt: file named %q, want %q", f.Name(), p)
	}
	f.Close()
	missing := filepath.Join(dir, "missing")
	_, err = ReadFileAt(dfd, "missing", missing)
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != missing {
		t.Errorf("ReadFileAt of a missing file: %v, want ENOENT naming %s", err, missing)
	}
	if err := WriteFileAt(dfd, "missing", missing, []byte("x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFileAt of a missing file: %v, want ENOENT (never created)", err)
	}
}
