package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// writeExecutable writes a file that is executed soon after, through a cp
// child. A file this test process writes itself can be held open for
// writing by a child another test's goroutine forked at that moment (the
// descriptor is close-on-exec, but that child has not reached its exec
// yet), and an exec of the file in that window fails with ETXTBSY
// (golang/go#22315; seen in CI: "hull-shim: Text file busy" from
// TestShimLogCRI). cp's descriptor of the file is in cp's process alone.
func writeExecutable(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".exec-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if out, err := exec.Command("cp", tmp.Name(), path).CombinedOutput(); err != nil {
		return fmt.Errorf("cp %s %s: %v: %s", tmp.Name(), path, err, out)
	}
	return os.Chmod(path, perm)
}

func TestWriteExecutable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	if err := writeExecutable(p, []byte("#!/bin/sh\necho hi\n"), 0o750); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o750 {
		t.Fatalf("stat %s: %v, %v, want mode 0750", p, st, err)
	}
	out, err := exec.Command(p).Output()
	if err != nil || !bytes.Equal(out, []byte("hi\n")) {
		t.Fatalf("run %s: %q, %v", p, out, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".exec-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
