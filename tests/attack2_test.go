package tests

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestAttackDevConsoleSymlink is CVE-2025-52565: with terminal: true the
// runtime bind-mounts the pty over /dev/console. If /dev is the rootfs's
// own directory, the image controls /dev/console; a naive runtime follows
// a symlink there and mounts the pty over, say, a procfs file, making it
// writable. The runtime must refuse.
func TestAttackDevConsoleSymlink(t *testing.T) {
	if !isHull {
		t.Skip("runc 1.1.5 predates the fix for CVE-2025-52565")
	}
	e := newEnv(t)
	corePattern := readTrim(t, "/proc/sys/kernel/core_pattern")
	t.Cleanup(func() {
		if now := readTrim(t, "/proc/sys/kernel/core_pattern"); now != corePattern {
			t.Errorf("the host's kernel.core_pattern changed to %q; restoring %q", now, corePattern)
			_ = os.WriteFile("/proc/sys/kernel/core_pattern", []byte(corePattern), 0)
		}
	})
	bundle := e.newBundle(all(withShell("echo started"), func(s *specs.Spec) {
		s.Process.Terminal = true
		var ms []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination == "/proc" {
				m.Options = append(m.Options, "ro") // belt and braces
			}
			if m.Destination != "/dev" {
				ms = append(ms, m)
			}
		}
		s.Mounts = ms
	}))
	console := filepath.Join(bundle, "rootfs/dev/console")
	_ = os.Remove(console)
	if err := os.Symlink("/proc/sys/kernel/core_pattern", console); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(e.base, "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if f, err := receivePty(l); err == nil {
			f.Close()
		}
	}()
	id := e.newID()
	r := e.rt("create", "--bundle", bundle, "--console-socket", sock, id)
	if r.Code == 0 {
		e.rt("delete", "--force", id)
		t.Fatalf("create with /dev/console a symlink to a procfs file succeeded")
	}
	if !strings.Contains(r.Stderr, "/dev/console") {
		t.Errorf("the error does not name /dev/console: %v", r)
	}
}

// The user's process sees no fd of the runtime: only 0, 1 and 2.
func TestNoLeakedFds(t *testing.T) {
	e := newEnv(t)
	// ls opens the directory itself: one more fd, the highest.
	out := e.mustRun(nil, "ls", "/proc/self/fd")
	fds := strings.Fields(out)
	if len(fds) != 4 || fds[0] != "0" || fds[1] != "1" || fds[2] != "2" {
		t.Errorf("fds in the container: %q, want 0 1 2 and ls's own", fds)
	}
}
