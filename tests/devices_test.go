package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// In a user namespace mknod is refused, so the host's device is bound over
// the node's path, whatever the rootfs has there: an image whose /dev/null
// is a regular file (no /dev tmpfs in the spec) must still see the device.
func TestUserNSExistingDevNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := userNSBundle(t, e, all(
		withShell("stat -c '%F %t:%T' /dev/null /dev/zero; echo x >/dev/null; echo SIZE=$(wc -c </dev/null)"),
		func(s *specs.Spec) {
			var ms []specs.Mount
			for _, m := range s.Mounts {
				if m.Destination != "/dev" {
					ms = append(ms, m)
				}
			}
			s.Mounts = ms
		}))
	dev := filepath.Join(bundle, "rootfs", "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"null", "zero"} {
		p := filepath.Join(dev, n)
		os.Remove(p)
		if err := os.WriteFile(p, []byte("not a device\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, 100000, 100000); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Lchown(dev, 100000, 100000); err != nil {
		t.Fatal(err)
	}
	r := e.rt("run", "--bundle", bundle, e.newID())
	want := []string{"character special file 1:3", "character special file 1:5", "SIZE=0"}
	if got := lines(r.Stdout); r.Code != 0 || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("/dev/null and /dev/zero inside: %q (%v), want %q", got, r, want)
	}
	// The image's files are covered, not changed.
	for _, n := range []string{"null", "zero"} {
		if b, err := os.ReadFile(filepath.Join(dev, n)); err != nil || string(b) != "not a device\n" {
			t.Errorf("rootfs /dev/%s after the run: %q, %v; want the image's file unchanged", n, b, err)
		}
	}
}
