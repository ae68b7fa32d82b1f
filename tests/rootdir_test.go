package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The --root state directory on a filesystem that refuses writes: a
// command must fail with the cause on stderr and leave nothing behind —
// no half-written state, no temp dir, no init, no cgroup (the leftover
// checker) — and a container made before the disk filled up must still be
// deletable.

// smallTmpfs mounts a tmpfs of size bytes at dir under the test's base and
// unmounts it before the leftover checker runs.
func smallTmpfs(t *testing.T, e *env, name, opts string) string {
	t.Helper()
	dir := e.mkdir(name)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Fatalf("mount tmpfs at %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// fill writes into dir until the filesystem is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("filling %s: %v", dir, err)
			}
			break
		}
	}
	// Leave no free inode either.
	for i := 0; ; i++ {
		g, err := os.Create(filepath.Join(dir, "inode-"+string(rune('a'+i%26))+strings.Repeat("x", i/26)))
		if err != nil {
			break
		}
		g.Close()
	}
}

// entries lists dir's names, for "nothing half-written" checks.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, en := range ents {
		names = append(names, en.Name())
	}
	return names
}

func TestRootReadOnly(t *testing.T) {
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	fs := smallTmpfs(t, e, "rofs", "size=1m")
	if err := os.Mkdir(filepath.Join(fs, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("", fs, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", fs, err)
	}
	for _, root := range []string{filepath.Join(fs, "state"), filepath.Join(fs, "missing")} {
		id := e.newID()
		r := execRuntime(t, "", "--root", root, "create", "--bundle", bundle, id)
		if r.Code != 1 || !strings.Contains(r.Stderr, "read-only file system") || !strings.Contains(r.Stderr, root) {
			t.Errorf("create with --root %s on a read-only fs: %v; want exit 1 naming the root and \"read-only file system\"", root, r)
		}
		if names := entries(t, root); len(names) > 0 {
			t.Errorf("--root %s has %v after a failed create", root, names)
		}
		r = execRuntime(t, "", "--root", root, "run", "--bundle", bundle, id)
		if r.Code != 1 || !strings.Contains(r.Stderr, "read-only file system") {
			t.Errorf("run with --root %s on a read-only fs: %v; want exit 1 and \"read-only file system\"", root, r)
		}
		r = execRuntime(t, "", "--root", root, "list")
		if _, err := os.Stat(root); err == nil && r.Code != 0 {
			t.Errorf("list with --root %s on a read-only fs: %v; want an empty list", root, r)
		} else if err != nil && (r.Code == 0 || !strings.Contains(r.Stderr, "no such file or directory")) {
			// runc: a --root given and missing is an error for list.
			t.Errorf("list with a missing --root %s: %v; want \"no such file or directory\"", root, r)
		}
	}
	// The leftover checker: no init, no cgroup from the failed creates.
}

func TestRootFull(t *testing.T) {
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	fs := smallTmpfs(t, e, "fullfs", "size=256k,nr_inodes=64")
	root := filepath.Join(fs, "state")

	// A container made while there was room, then the disk fills up.
	early := e.newID()
	t.Cleanup(func() { execRuntime(t, "", "--root", root, "delete", "--force", early) })
	if r := execRuntime(t, "", "--root", root, "create", "--bundle", bundle, early); r.Code != 0 {
		t.Fatalf("create on a tmpfs with room: %v", r)
	}
	if r := execRuntime(t, "", "--root", root, "create", "--bundle", bundle, early); r.Code == 0 {
		t.Fatalf("second create of %s succeeded", early)
	}
	fill(t, fs)
	before := entries(t, root)

	id := e.newID()
	r := execRuntime(t, "", "--root", root, "create", "--bundle", bundle, id)
	if r.Code != 1 || !strings.Contains(r.Stderr, "no space left on device") {
		t.Errorf("create with --root on a full fs: %v; want exit 1 and \"no space left on device\"", r)
	}
	if after := entries(t, root); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("--root %s: %v before the failed create, %v after: something was half-written", root, before, after)
	}
	if r := execRuntime(t, "", "--root", root, "state", id); r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("state of the container whose create failed on a full fs: %v; want \"does not exist\"", r)
	}

	// The early container: starting it needs no new file (the fifo
	// goes away), and delete --force must work however full the disk.
	if r := execRuntime(t, "", "--root", root, "state", early); r.Code != 0 || !strings.Contains(r.Stdout, `"created"`) {
		t.Errorf("state of %s on the full fs: %v; want created", early, r)
	}
	if r := execRuntime(t, "", "--root", root, "start", early); r.Code != 0 {
		t.Logf("start of %s on the full fs: %v", early, r)
	}
	if r := execRuntime(t, "", "--root", root, "delete", "--force", early); r.Code != 0 {
		t.Errorf("delete --force of %s on the full fs: %v", early, r)
	}
	if r := execRuntime(t, "", "--root", root, "state", early); r.Code != 1 || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("state of %s after delete --force: %v; want \"does not exist\"", early, r)
	}
	if names := entries(t, root); len(names) > 0 {
		t.Errorf("--root %s has %v after every container was deleted", root, names)
	}
}
