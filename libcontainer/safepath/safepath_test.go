package safepath

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSymlinkStaysInRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../..", filepath.Join(root, "up")); err != nil {
		t.Fatal(err)
	}
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	for _, p := range []string{"evil/x/y", "up/z", "/../../w"} {
		fd, err := MkdirAll(rfd, p, 0o755)
		if err != nil {
			t.Fatalf("MkdirAll(%s): %v", p, err)
		}
		got, _ := os.Readlink(ProcPath(fd))
		unix.Close(fd)
		rel, err := filepath.Rel(root, got)
		if err != nil || rel == ".." || len(rel) >= 2 && rel[:2] == ".." {
			t.Errorf("MkdirAll(%s) reached %s, outside %s", p, got, root)
		}
	}
	ents, _ := os.ReadDir(outside)
	if len(ents) != 0 {
		t.Errorf("something was created outside the root: %v", ents)
	}
	fd, err := MkFileAll(rfd, "a/b/file", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if fi, err := os.Stat(filepath.Join(root, "a/b/file")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("MkFileAll: %v %v", fi, err)
	}
}
