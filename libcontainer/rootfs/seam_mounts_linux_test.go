package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hullrt/hull/libcontainer/internal/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The mount decisions of mountOne, recorded through the fake kernel
// (kernel_fake_linux_test.go): no root needed.

// testRoot makes a rootfs with dirs in a temporary directory: its real
// path, an O_PATH fd of it, and the fake kernel on it.
func testRoot(t *testing.T, dirs ...string) (string, int, *fakeKernel) {
	t.Helper()
	path, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(path, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(root) })
	return path, root, useFake(t, path)
}

func testConfig(rootfs string) *proto.InitConfig {
	return &proto.InitConfig{
		Rootfs: rootfs, Bundle: "/nonexistent-bundle",
		Spec: &specs.Spec{
			Root:    &specs.Root{Path: rootfs},
			Process: &specs.Process{Cwd: "/"},
			Linux:   &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}},
		},
	}
}

// noSource is the parent's side of a mount source: these tests never need it.
func noSource(t *testing.T) func() (int, error) {
	return func() (int, error) {
		t.Error("asked the parent for a mount source")
		return -1, errors.New("no parent")
	}
}

func hostDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const (
	treeFlags = unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	moveFlags = unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH
	remount   = unix.MS_BIND | unix.MS_REMOUNT
)

// A bind mount is cloned (recursively for rbind) and attached; flags are
// then set by a bind remount of the attached tree, the recursive
// attributes by mount_setattr, and propagation last.
func TestBindMountDecisions(t *testing.T) {
	src := hostDir(t)
	tree := "tree(" + src + ")"
	attach := func(flags uintptr) []call {
		return []call{
			{op: "open_tree", src: src, flags: flags},
			{op: "move_mount", src: tree, dst: "$rootfs/data", flags: moveFlags},
		}
	}
	for _, c := range []struct {
		name string
		opts []string
		want []call
	}{
		{"bind", []string{"bind"}, attach(treeFlags)},
		{"rbind is recursive", []string{"rbind"}, attach(treeFlags | unix.AT_RECURSIVE)},
		{"ro is a bind remount read-only", []string{"bind", "ro"}, append(attach(treeFlags),
			call{op: "mount", dst: "$rootfs/data", flags: unix.MS_RDONLY | remount})},
		{"ro,nosuid,nodev on rbind", []string{"rbind", "ro", "nosuid", "nodev"}, append(attach(treeFlags|unix.AT_RECURSIVE),
			call{op: "mount", dst: "$rootfs/data", flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | remount})},
		{"rw (a cleared flag) still remounts", []string{"bind", "rw"}, append(attach(treeFlags),
			call{op: "mount", dst: "$rootfs/data", flags: remount})},
		{"rro is mount_setattr AT_RECURSIVE", []string{"rbind", "rro"}, append(attach(treeFlags|unix.AT_RECURSIVE),
			call{op: "mount_setattr", dst: "$rootfs/data", flags: unix.AT_EMPTY_PATH | unix.AT_RECURSIVE, data: "set=0x1 clr=0x0"})},
		{"rnoatime clears the atime bits", []string{"rbind", "rnoatime"}, append(attach(treeFlags|unix.AT_RECURSIVE),
			call{op: "mount_setattr", dst: "$rootfs/data", flags: unix.AT_EMPTY_PATH | unix.AT_RECURSIVE, data: "set=0x10 clr=0x70"})},
		{"propagation after the mount and its flags", []string{"rbind", "rslave", "ro", "shared"}, append(attach(treeFlags|unix.AT_RECURSIVE),
			call{op: "mount", dst: "$rootfs/data", flags: unix.MS_RDONLY | remount},
			call{op: "mount", dst: "$rootfs/data", flags: unix.MS_SLAVE | unix.MS_REC},
			call{op: "mount", dst: "$rootfs/data", flags: unix.MS_SHARED})},
	} {
		t.Run(c.name, func(t *testing.T) {
			rootfs, root, f := testRoot(t)
			var late []LateRemount
			m := specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: c.opts}
			if err := mountOne(root, testConfig(rootfs), m, false, noSource(t), &late); err != nil {
				t.Fatal(err)
			}
			expect(t, f.calls, c.want...)
			if len(late) != 0 {
				t.Errorf("a bind mount left late remounts: %v", late)
			}
			if fi, err := os.Stat(filepath.Join(rootfs, "data")); err != nil || !fi.IsDir() {
				t.Errorf("destination of a directory bind not a directory: %v", err)
			}
		})
	}
}

// Where the kernel refuses the bind remount (flags locked in a user
// namespace), it is retried with the mount's locked flags re-applied;
// clearing a locked flag is an error naming it.
func TestBindRemountLockedFlags(t *testing.T) {
	src := hostDir(t)
	refuseFirst := func(f *fakeKernel) {
		n := 0
		f.fail = func(c call) error {
			if c.op == "mount" && c.flags&unix.MS_REMOUNT != 0 {
				if n++; n == 1 {
					return unix.EPERM
				}
			}
			return nil
		}
	}
	t.Run("locked flags kept", func(t *testing.T) {
		rootfs, root, f := testRoot(t)
		refuseFirst(f)
		f.statfsFlags = unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_RELATIME
		m := specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind", "ro"}}
		if err := mountOne(root, testConfig(rootfs), m, true, noSource(t), new([]LateRemount)); err != nil {
			t.Fatal(err)
		}
		expect(t, f.only("mount"),
			call{op: "mount", dst: "$rootfs/data", flags: unix.MS_RDONLY | remount},
			call{op: "mount", dst: "$rootfs/data", flags: unix.MS_RDONLY | remount | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME})
	})
	t.Run("a locked flag cannot be cleared", func(t *testing.T) {
		rootfs, root, f := testRoot(t)
		refuseFirst(f)
		f.statfsFlags = unix.ST_RDONLY | unix.ST_RELATIME
		m := specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind", "rw"}}
		err := mountOne(root, testConfig(rootfs), m, true, noSource(t), new([]LateRemount))
		if err == nil || !errors.Is(err, unix.EPERM) || !strings.Contains(err.Error(), "cannot clear locked flags MS_RDONLY") ||
			!strings.Contains(err.Error(), "failed to set user-requested vfs flags on bind-mount") {
			t.Fatalf("err = %v, want the locked MS_RDONLY named, wrapping EPERM", err)
		}
		if n := len(f.only("mount")); n != 1 {
			t.Errorf("%d mount calls, want the one refused", n)
		}
	})
}

// A tmpfs takes the mode of the directory it covers (before any mode=);
// a read-only one is mounted writable and left for the late remount;
// propagation follows the mount.
func TestTmpfsMountDecisions(t *testing.T) {
	rootfs, root, f := testRoot(t, "run")
	if err := os.Chmod(filepath.Join(rootfs, "run"), 0o710); err != nil {
		t.Fatal(err)
	}
	var late []LateRemount
	m := specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "ro", "mode=1777", "rslave"}}
	if err := mountOne(root, testConfig(rootfs), m, false, noSource(t), &late); err != nil {
		t.Fatal(err)
	}
	expect(t, f.calls,
		call{op: "mount", src: "tmpfs", dst: "$rootfs/run", fstype: "tmpfs", flags: unix.MS_NOSUID, data: "mode=0710,mode=1777"},
		call{op: "mount", dst: "$rootfs/run", flags: unix.MS_SLAVE | unix.MS_REC})
	if len(late) != 1 || late[0].dest != "/run" || late[0].flags != unix.MS_NOSUID {
		t.Errorf("late = %+v, want /run with MS_NOSUID", late)
	}
	// The late remount adds MS_RDONLY, through the path (the tmpfs).
	f.calls = nil
	if err := remountLateIn(root, late, false); err != nil {
		t.Fatal(err)
	}
	expect(t, f.calls, call{op: "mount", dst: "$rootfs/run", flags: unix.MS_NOSUID | unix.MS_RDONLY | remount})
}

// tmpcopyup: the tmpfs is mounted (writable), then filled from the
// directory it covers, owners and modes kept; ro stays for the late
// remount. On anything but a tmpfs it is an error.
func TestTmpcopyup(t *testing.T) {
	rootfs, root, f := testRoot(t, "etc/app/sub")
	dir := filepath.Join(rootfs, "etc/app")
	if err := os.WriteFile(filepath.Join(dir, "conf"), []byte("hello"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("conf", filepath.Join(dir, "sub/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var late []LateRemount
	m := specs.Mount{Destination: "/etc/app", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "ro"}}
	if err := mountOne(root, testConfig(rootfs), m, false, noSource(t), &late); err != nil {
		t.Fatal(err)
	}
	mounts := f.only("mount")
	expect(t, mounts, call{op: "mount", src: "tmpfs", dst: "$rootfs/etc/app", fstype: "tmpfs", data: "mode=0755"})
	// After the mount: the copy lands in the (fake) tmpfs.
	if f.calls[0].op != "mount" {
		t.Errorf("first call %v, want the mount before the copy", f.calls[0])
	}
	if b, err := os.ReadFile(filepath.Join(dir, "conf")); err != nil || string(b) != "hello" {
		t.Errorf("conf in the tmpfs: %q, %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dir, "sub/link")); err != nil || l != "conf" {
		t.Errorf("sub/link in the tmpfs: %q, %v", l, err)
	}
	own := strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	var chowns, chmods []string
	for _, c := range f.calls {
		switch c.op {
		case "chown":
			chowns = append(chowns, strings.TrimPrefix(c.dst, "$rootfs/etc/app/")+" "+c.data)
		case "chmod":
			chmods = append(chmods, strings.TrimPrefix(c.dst, "$rootfs/etc/app/")+" "+c.data)
		}
	}
	// The directory's order is the filesystem's.
	sort.Strings(chowns)
	sort.Strings(chmods)
	wantChown := []string{"conf " + own, "sub " + own, "sub/link " + own}
	if strings.Join(chowns, ",") != strings.Join(wantChown, ",") {
		t.Errorf("chowns %v, want %v", chowns, wantChown)
	}
	if strings.Join(chmods, ",") != "conf 0640,sub 0755" {
		t.Errorf("chmods %v, want conf 0640, sub 0755 (no chmod of a symlink)", chmods)
	}
	if len(late) != 1 || late[0].dest != "/etc/app" {
		t.Errorf("late = %+v, want /etc/app for the read-only remount", late)
	}

	// A proc mount with tmpcopyup is refused before any call.
	f.calls = nil
	m = specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"tmpcopyup"}}
	err := mountOne(root, testConfig(rootfs), m, false, noSource(t), &late)
	if err == nil || !strings.Contains(err.Error(), `option tmpcopyup needs a tmpfs mount, not "proc"`) {
		t.Errorf("err = %v, want tmpcopyup refused on proc", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("calls after a refused tmpcopyup: %v", f.calls)
	}
}

// On a cgroup v2 host a "cgroup" mount is a cgroup2 mount with the
// mount's flags and data.
func TestCgroupMountUnified(t *testing.T) {
	rootfs, root, f := testRoot(t)
	f.cgroupFs = unix.CGROUP2_SUPER_MAGIC
	m := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro", "nsdelegate"}}
	if err := mountOne(root, testConfig(rootfs), m, false, noSource(t), new([]LateRemount)); err != nil {
		t.Fatal(err)
	}
	expect(t, f.calls, call{op: "mount", src: "cgroup2", dst: "$rootfs/sys/fs/cgroup", fstype: "cgroup2",
		flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RELATIME | unix.MS_RDONLY, data: "nsdelegate"})
}

// A cgroup2 mount the kernel refuses (EPERM, EBUSY: a user namespace
// without a cgroup namespace of its own, as `spec --rootless` makes) is
// the host's /sys/fs/cgroup bound instead, then remounted with the
// mount's flags; with a cgroup namespace, the container's own directory.
// Any other error stays one.
func TestCgroupMountUnifiedRefused(t *testing.T) {
	m := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}}
	flags := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RELATIME | unix.MS_RDONLY)
	for _, c := range []struct {
		name     string
		errno    unix.Errno
		cgroupns bool
		src      string
	}{
		{"EBUSY", unix.EBUSY, false, "/sys/fs/cgroup"},
		{"EPERM", unix.EPERM, false, "/sys/fs/cgroup"},
		{"cgroupns", unix.EPERM, true, "/sys/fs/cgroup/user.slice/c1.scope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rootfs, root, f := testRoot(t)
			f.cgroupFs = unix.CGROUP2_SUPER_MAGIC
			f.fail = func(k call) error {
				if k.op == "mount" && k.fstype == "cgroup2" {
					return c.errno
				}
				return nil
			}
			cfg := testConfig(rootfs)
			cfg.CgroupDirs = map[string]string{"/sys/fs/cgroup": "/sys/fs/cgroup/user.slice/c1.scope"}
			if c.cgroupns {
				cfg.Spec.Linux.Namespaces = append(cfg.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
			}
			if err := mountOne(root, cfg, m, false, noSource(t), new([]LateRemount)); err != nil {
				t.Fatal(err)
			}
			expect(t, f.only("mount"),
				call{op: "mount", src: "cgroup2", dst: "$rootfs/sys/fs/cgroup", fstype: "cgroup2", flags: flags},
				call{op: "mount", src: c.src, dst: "$rootfs/sys/fs/cgroup", flags: unix.MS_BIND | flags&^unix.MS_RDONLY},
				call{op: "mount", dst: "$rootfs/sys/fs/cgroup", flags: unix.MS_BIND | unix.MS_REMOUNT | flags})
		})
	}
	rootfs, root, f := testRoot(t)
	f.cgroupFs = unix.CGROUP2_SUPER_MAGIC
	f.fail = func(k call) error {
		if k.fstype == "cgroup2" {
			return unix.EINVAL
		}
		return nil
	}
	if err := mountOne(root, testConfig(rootfs), m, false, noSource(t), new([]LateRemount)); err == nil {
		t.Error("an EINVAL of the cgroup2 mount was not an error")
	}
}
