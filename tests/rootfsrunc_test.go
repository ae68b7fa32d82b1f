package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rootfs behaviours that runc v1.5.1 has and its integration suite checks
// (mounts.bats, mask.bats, run.bats).

// TestTmpfsInheritsMode: a tmpfs over an existing directory takes the
// directory's mode (setuid, setgid and sticky bits too) unless mode= is
// given; over a new directory it keeps tmpfs's default, 1777.
func TestTmpfsInheritsMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(
		withMount(specs.Mount{Destination: "/inherit", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid"}}),
		withMount(specs.Mount{Destination: "/explicit", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1500"}}),
		withMount(specs.Mount{Destination: "/new/dir", Type: "tmpfs", Source: "tmpfs"}),
		withShell("echo I=$(stat -c %a /inherit) E=$(stat -c %a /explicit) N=$(stat -c %a /new/dir)"),
	))
	for _, d := range []string{"inherit", "explicit"} {
		p := filepath.Join(bundle, "rootfs", d)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Chmod(filepath.Join(bundle, "rootfs", "inherit"), 0o2710); err != nil {
		t.Fatal(err)
	}
	r := e.rt("run", "--bundle", bundle, e.newID())
	if got := strings.TrimSpace(r.Stdout); r.Code != 0 || got != "I=2710 E=1500 N=1777" {
		t.Errorf("tmpfs modes: %v, want I=2710 E=1500 N=1777", r)
	}
}

// TestReadonlyDevWithDevpts: a read-only tmpfs on /dev followed by devpts
// on /dev/pts (and the devices, the console) works: /dev is made read-only
// last.
func TestReadonlyDevWithDevpts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) {
		for i, m := range s.Mounts {
			if m.Destination == "/dev" {
				s.Mounts[i].Options = append(s.Mounts[i].Options, "ro")
			}
		}
	}, "sh", "-c", "grep '^tmpfs /dev ' /proc/mounts; test -c /dev/null && echo NULL=ok; { echo x > /dev/x; } 2>/dev/null || echo WRITE=refused")
	if !strings.Contains(out, " ro,") && !strings.Contains(out, " ro ") || !strings.Contains(out, "NULL=ok") || !strings.Contains(out, "WRITE=refused") {
		t.Errorf("read-only /dev: %q, want a ro tmpfs, /dev/null, writes refused", out)
	}
}

// TestProcOnSymlinkRefused: proc (or sysfs) is never mounted through a
// symlink in the rootfs; runc's error.
func TestProcOnSymlinkRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withArgs("true"))
	proc := filepath.Join(bundle, "rootfs", "proc")
	if err := os.RemoveAll(proc); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(bundle, "rootfs", "bad-proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/bad-proc", proc); err != nil {
		t.Fatal(err)
	}
	r := e.rt("run", "--bundle", bundle, e.newID())
	if r.Code == 0 || !strings.Contains(r.Stderr, `filesystem "proc" must be mounted on ordinary directory`) {
		t.Errorf("proc on a symlink: %v, want runc's \"must be mounted on ordinary directory\"", r)
	}
}

// TestMaskedPathsDedupShared: a path listed twice is masked once, and the
// masked directories share one read-only tmpfs.
func TestMaskedPathsDedupShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(func(s *specs.Spec) {
		s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/d1", "/d1", "/d2", "/f", "/f")
	}, withShell(`echo D1=$(grep -c ' /d1 ' /proc/self/mountinfo) F=$(grep -c ' /f ' /proc/self/mountinfo)
[ "$(stat -c %d /d1)" = "$(stat -c %d /d2)" ] && echo SHARED=yes
{ touch /d2/x; } 2>/dev/null || echo RO=yes`)))
	for _, d := range []string{"d1", "d2"} {
		if err := os.Mkdir(filepath.Join(bundle, "rootfs", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "rootfs", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.rt("run", "--bundle", bundle, e.newID())
	got := kv(strings.ReplaceAll(r.Stdout, " ", "\n"))
	if r.Code != 0 || got["D1"] != "1" || got["F"] != "1" || got["SHARED"] != "yes" || got["RO"] != "yes" {
		t.Errorf("masked paths: %v, want D1=1 F=1 SHARED=yes RO=yes", r)
	}
}

// TestBindDestinations: a destination given as a host path inside the
// rootfs is taken relative to the rootfs, and the directories made for a
// file bind mount through a dangling symlink are searchable.
func TestBindDestinations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.mkdir("src")
	if err := os.WriteFile(filepath.Join(src, "file"), []byte("content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := e.newBundle(nil)
	rootfs := filepath.Join(bundle, "rootfs")
	s := loadSpec(t, bundle)
	s.Mounts = append(s.Mounts,
		specs.Mount{Source: src, Destination: filepath.Join(rootfs, "hostpath"), Type: "bind", Options: []string{"bind"}},
		specs.Mount{Source: filepath.Join(src, "file"), Destination: "/link", Type: "bind", Options: []string{"bind"}})
	s.Process.Args = []string{"sh", "-c", "cat /hostpath/file /a/b/file"}
	writeSpec(t, bundle, s)
	if err := os.Symlink("/a/b/file", filepath.Join(rootfs, "link")); err != nil {
		t.Fatal(err)
	}
	r := e.rt("run", "--bundle", bundle, e.newID())
	if r.Code != 0 || r.Stdout != "content\ncontent\n" {
		t.Errorf("bind destinations: %v, want the file twice", r)
	}
	if _, err := os.Stat(filepath.Join(rootfs, rootfs)); err == nil {
		t.Errorf("the rootfs path was made inside the rootfs")
	}
}

// TestNoPivotNoBareProc: with --no-pivot the host's full proc mounts are
// gone from the container's mount namespace, so a process that makes its
// own user and mount namespaces cannot mount a fresh, unmasked proc.
func TestNoPivotNoBareProc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run(all(func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SETFCAP")
		c.Permitted = append(c.Permitted, "CAP_SETFCAP")
	}, withArgs("unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo MOUNTED")), "--no-pivot")
	if strings.Contains(r.Stdout, "MOUNTED") || !strings.Contains(r.Stderr, "mount: permission denied") {
		t.Errorf("proc mount in a --no-pivot container's own namespaces: %v, want \"mount: permission denied\"", r)
	}
}

// TestBindFlagsAsRunc: the flags of a bind mount as runc sets them: only
// the ones asked for, but the atime mode kept when none is given; in a
// user namespace the source's locked flags are kept (ro stays ro), and
// clearing one of them (rw of a ro source) is an error.
func TestBindFlagsAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.mkdir("src")
	if out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", src).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", src).Run() })
	// Per-mount flags (the superblock stays writable).
	if out, err := exec.Command("mount", "--bind", "-o", "remount,ro,noexec,nodiratime", src).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	if err := os.Chmod(e.base, 0o755); err != nil {
		t.Fatal(err)
	}
	show := withShell(`awk '$2 == "/mnt" { print $4 }' /proc/self/mounts`)
	bind := func(opts ...string) func(*specs.Spec) {
		return withMount(specs.Mount{Source: src, Destination: "/mnt", Type: "bind", Options: append([]string{"bind"}, opts...)})
	}
	r := e.run(all(bind("dev"), show))
	if f := strings.TrimSpace(r.Stdout); r.Code != 0 || !hasOpt(f, "rw") || hasOpt(f, "noexec") || !hasOpt(f, "nodiratime") {
		t.Errorf("bind,dev of a ro,noexec,nodiratime source: %v, want rw, exec, nodiratime kept", r)
	}
	r = e.rt("run", "--bundle", userNSBundle(t, e, all(bind("nosuid", "nodev"), show)), e.newID())
	if f := strings.TrimSpace(r.Stdout); r.Code != 0 || !hasOpt(f, "ro") || !hasOpt(f, "nosuid") || !hasOpt(f, "noexec") {
		t.Errorf("bind,nosuid,nodev of a ro source in a user namespace: %v, want ro (locked), nosuid, noexec", r)
	}
	r = e.rt("run", "--bundle", userNSBundle(t, e, all(bind("rw"), show)), e.newID())
	if r.Code == 0 || !strings.Contains(r.Stderr, "cannot clear locked flags") || !strings.Contains(r.Stderr, "operation not permitted") {
		t.Errorf("bind,rw of a ro source in a user namespace: %v, want runc's \"cannot clear locked flags\" error", r)
	}
}
