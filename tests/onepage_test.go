package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// smapsMapping is one mapping of an smaps file.
type smapsMapping struct {
	perms, path string
	size, rss   int // kB
	uw          bool
}

func parseSmaps(s string) []smapsMapping {
	var ms []smapsMapping
	for _, l := range lines(s) {
		f := strings.Fields(l)
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			m := smapsMapping{perms: f[1]}
			if len(f) >= 6 {
				m.path = f[5]
			}
			ms = append(ms, m)
			continue
		}
		if len(ms) == 0 || len(f) < 2 {
			continue
		}
		m := &ms[len(ms)-1]
		switch f[0] {
		case "Size:":
			m.size, _ = strconv.Atoi(f[1])
		case "Rss:":
			m.rss, _ = strconv.Atoi(f[1])
		case "VmFlags:":
			for _, fl := range f[1:] {
				m.uw = m.uw || fl == "uw"
			}
		}
	}
	return ms
}

// hull registers its own read-only segments with a userfaultfd so that
// the kernel maps them a page per fault (internal/prefault, onepage.c);
// the container's init, which hull starts, has no such registration and
// no such fd. A createRuntime hook copies hull's and the init's smaps and
// fd lists.
func TestOnePageOnlyInHull(t *testing.T) {
	if !isHull {
		t.Skip("hull's own start-up")
	}
	t.Parallel()
	e := newEnv(t)
	d := e.base
	hook := `read -r state; pid=$(echo "$state" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'); ` +
		`readlink /proc/$PPID/exe > ` + d + `/hull.exe; cat /proc/$PPID/smaps > ` + d + `/hull.smaps; ` +
		`ls -l /proc/$PPID/fd > ` + d + `/hull.fd; cat /proc/$pid/smaps > ` + d + `/init.smaps; ` +
		`ls -l /proc/$pid/fd > ` + d + `/init.fd`
	bundle := e.newBundle(all(withShell("ls -l /proc/self/fd"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", hook}}}}
	}))
	r := execBin(t, runtimeBin, "", "--root", e.root, "run", "--bundle", bundle, e.newID())
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(d, name))
		if err != nil || len(b) == 0 {
			t.Fatalf("the hook wrote no %s: %v", name, err)
		}
		return string(b)
	}
	exe := strings.TrimSpace(read("hull.exe"))
	var text *smapsMapping
	hullMaps := parseSmaps(read("hull.smaps"))
	for i, m := range hullMaps {
		if m.path == exe && m.perms == "r-xp" {
			text = &hullMaps[i]
		}
	}
	if text == nil {
		t.Fatalf("no r-xp mapping of %s in hull's smaps", exe)
	}
	if !text.uw {
		var u unix.Utsname
		_ = unix.Uname(&u)
		release := unix.ByteSliceToString(u.Release[:])
		var maj, mnr int
		fmt.Sscanf(release, "%d.%d", &maj, &mnr)
		switch {
		case text.rss == text.size:
			t.Skipf("hull's code is all resident (%d kB): populated, a fault is expensive here", text.rss)
		case maj < 6 || maj == 6 && mnr < 7:
			t.Skipf("Linux %s: no userfaultfd with asynchronous write-protection before 6.7", release)
		}
		// UFFD_USER_MODE_ONLY (1), as hull asks.
		fd, _, errno := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|1, 0, 0)
		if errno != 0 {
			t.Skipf("no userfaultfd here (a kernel without it, or a seccomp filter): %v", errno)
		}
		unix.Close(int(fd))
		t.Errorf("hull's code mapping (%d of %d kB resident) is not registered with a userfaultfd (no uw in VmFlags)", text.rss, text.size)
	}
	// Every mapping of hull's file not writable, no other.
	for _, m := range hullMaps {
		if m.path == exe && m.uw != !strings.Contains(m.perms, "w") {
			t.Errorf("hull's mapping %s of its file: registered %v, want %v", m.perms, m.uw, !m.uw)
		}
		if m.path != exe && m.uw {
			t.Errorf("hull's mapping %s %q is registered", m.perms, m.path)
		}
	}
	if n := strings.Count(read("hull.fd"), "anon_inode:[userfaultfd]"); n != 1 {
		t.Errorf("hull has %d userfaultfds, want 1: %s", n, read("hull.fd"))
	}
	for _, m := range parseSmaps(read("init.smaps")) {
		if m.uw {
			t.Errorf("the init's mapping %s %s is registered with a userfaultfd", m.perms, m.path)
		}
	}
	if strings.Contains(read("init.fd"), "userfaultfd") {
		t.Errorf("the init has a userfaultfd: %s", read("init.fd"))
	}
	if strings.Contains(r.Stdout, "userfaultfd") {
		t.Errorf("the container's process has a userfaultfd: %s", r.Stdout)
	}
}

// Fds a command passes on by number (--preserve-fds, LISTEN_FDS) are the
// caller's; where the caller did not open them, the lowest free number is
// the one hull's userfaultfd took, and a container's process holding it
// could register and fill ranges of hull's memory. Neither `run` nor
// `exec` may pass it (prefault.Release). Started from here, hull has no
// fd 3 or 4 of the caller's.
func TestOnePageNeverPassedOn(t *testing.T) {
	if !isHull {
		t.Skip("hull's own userfaultfd")
	}
	t.Parallel()
	e := newEnv(t)
	// Whether hull has one here at all: a plain run's hook lists hull's
	// fds. (With --preserve-fds 2 it is closed before the hook runs.)
	hullFds := filepath.Join(e.base, "hull.fd")
	hook := `ls -l /proc/$PPID/fd > ` + hullFds
	e.mustRT("run", "--bundle", e.newBundle(all(withShell("true"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", hook}}}}
	})), e.newID())
	b, err := os.ReadFile(hullFds)
	if err != nil {
		t.Fatalf("the hook wrote nothing: %v", err)
	}
	if !strings.Contains(string(b), "anon_inode:[userfaultfd]") {
		t.Skipf("hull has no userfaultfd here (a kernel before 6.7, faults populated instead, or refused): %s", b)
	}

	r := execBin(t, runtimeBin, "", "--root", e.root, "run", "--preserve-fds", "2", "--bundle", e.newBundle(withShell("ls -l /proc/self/fd")), e.newID())
	t.Logf("run --preserve-fds 2: %v", r)
	if strings.Contains(r.Stdout+r.Stderr, "userfaultfd") {
		t.Errorf("run --preserve-fds 2 passed hull's userfaultfd to the container: %v", r)
	}

	id := e.newID()
	e.mustRT("run", "-d", "--bundle", e.newBundle(withShell("sleep 100")), id)
	defer e.mustRT("delete", "--force", id)
	r = execBin(t, runtimeBin, "", "--root", e.root, "exec", "--preserve-fds", "2", id, "ls", "-l", "/proc/self/fd")
	t.Logf("exec --preserve-fds 2: %v", r)
	if strings.Contains(r.Stdout+r.Stderr, "userfaultfd") {
		t.Errorf("exec --preserve-fds 2 passed hull's userfaultfd to the process: %v", r)
	}
}
