package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hullrt/hull/libcontainer/internal/proto"
	usernspkg "github.com/hullrt/hull/libcontainer/userns"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Prepare's and Finalize's sequences, devices, and how failures come back,
// recorded through the fake kernel (kernel_fake_linux_test.go).

// prepare runs Prepare on cfg with the fake kernel; the hooks' moment is
// recorded as a "hooks" call.
func prepare(t *testing.T, f *fakeKernel, cfg *proto.InitConfig) error {
	t.Helper()
	if usernspkg.RunningInUserNS() {
		t.Skip("in a user namespace, devices are bind-mounted: these sequences assume mknod")
	}
	hooks := func() error { f.calls = append(f.calls, call{op: "hooks"}); return nil }
	return Prepare(cfg, proto.Conn{FD: -1}, hooks, new([]LateRemount))
}

var switchOps = []string{"mount", "umount", "pivot_root", "chroot", "chdir", "hooks"}

// Before anything is mounted, / becomes a slave (private for a private
// rootfsPropagation) and the rootfs its own mount; after the hooks the
// root is switched by pivot_root; rootfsPropagation is then applied to the
// container's /.
func TestPreparePivotRoot(t *testing.T) {
	for _, c := range []struct {
		prop          string
		initial, last uintptr
	}{
		{"", unix.MS_SLAVE | unix.MS_REC, 0},
		{"rshared", unix.MS_SLAVE | unix.MS_REC, unix.MS_SHARED | unix.MS_REC},
		{"slave", unix.MS_SLAVE | unix.MS_REC, unix.MS_SLAVE},
		{"rprivate", unix.MS_PRIVATE | unix.MS_REC, unix.MS_PRIVATE | unix.MS_REC},
	} {
		t.Run("rootfsPropagation="+c.prop, func(t *testing.T) {
			rootfs, _, f := testRoot(t)
			cfg := testConfig(rootfs)
			cfg.Spec.Linux.RootfsPropagation = c.prop
			if err := prepare(t, f, cfg); err != nil {
				t.Fatal(err)
			}
			want := []call{
				{op: "mount", dst: "/", flags: c.initial},
				{op: "mount", src: "$rootfs", dst: "$rootfs", flags: unix.MS_BIND | unix.MS_REC},
				{op: "hooks"},
				{op: "chdir", dst: "$rootfs"},
				{op: "pivot_root", src: ".", dst: "."},
				{op: "chdir", dst: "/"}, // the old root, stacked on top
				{op: "mount", dst: ".", flags: unix.MS_SLAVE | unix.MS_REC},
				{op: "umount", dst: ".", flags: unix.MNT_DETACH},
				{op: "chdir", dst: "/"},
			}
			if c.last != 0 {
				want = append(want, call{op: "mount", dst: "/", flags: c.last})
			}
			expect(t, f.only(switchOps...), want...)
		})
	}
}

// --no-pivot: the host's proc and sysfs mounts are made slaves and
// detached (a tmpfs covers one that cannot be), then the rootfs is moved
// onto / and chrooted into.
func TestPrepareNoPivot(t *testing.T) {
	hostProc, err := mountinfo.GetMounts(func(i *mountinfo.Info) (bool, bool) {
		return !(i.Mountpoint == "/proc" && i.FSType == "proc" && i.Root == "/"), false
	})
	if err != nil || len(hostProc) == 0 {
		t.Skipf("no proc mount on /proc here (%v): nothing to detach", err)
	}
	rootfs, _, f := testRoot(t)
	cfg := testConfig(rootfs)
	cfg.NoPivot = true
	// /proc cannot be detached: it is covered.
	f.fail = func(c call) error {
		if c.op == "umount" && c.dst == "/proc" {
			return unix.EINVAL
		}
		return nil
	}
	if err := prepare(t, f, cfg); err != nil {
		t.Fatal(err)
	}
	got := f.only(switchOps...)
	hooks := -1
	for i, c := range got {
		if c.op == "hooks" {
			hooks = i
		}
	}
	if hooks < 0 {
		t.Fatalf("no hooks in %v", got)
	}
	tail := []call{
		{op: "chdir", dst: "$rootfs"},
		{op: "mount", src: "$rootfs", dst: "/", flags: unix.MS_MOVE},
		{op: "chroot", dst: "."},
		{op: "chdir", dst: "/"},
	}
	if len(got) < hooks+1+len(tail) {
		t.Fatalf("too few calls after the hooks: %v", got)
	}
	expect(t, got[len(got)-len(tail):], tail...)
	// Between the hooks and the move: per host mount, slave then detach
	// (or cover); /proc among them.
	var proc []call
	for _, c := range got[hooks+1 : len(got)-len(tail)] {
		if c.dst == "/proc" {
			proc = append(proc, c)
		}
	}
	expect(t, proc,
		call{op: "mount", dst: "/proc", flags: unix.MS_SLAVE | unix.MS_REC},
		call{op: "umount", dst: "/proc", flags: unix.MNT_DETACH},
		call{op: "mount", src: "tmpfs", dst: "/proc", fstype: "tmpfs"})
}

// Without a mount namespace the container is chrooted (never pivot_root
// nor MS_MOVE, which would replace the namespace's root).
func TestPrepareNoMountNamespace(t *testing.T) {
	rootfs, _, f := testRoot(t)
	cfg := testConfig(rootfs)
	cfg.Spec.Linux.Namespaces = nil
	if err := prepare(t, f, cfg); err != nil {
		t.Fatal(err)
	}
	expect(t, f.only(switchOps...),
		call{op: "mount", dst: "/", flags: unix.MS_SLAVE | unix.MS_REC},
		call{op: "mount", src: "$rootfs", dst: "$rootfs", flags: unix.MS_BIND | unix.MS_REC},
		call{op: "hooks"},
		call{op: "chdir", dst: "$rootfs"},
		call{op: "chroot", dst: "."},
		call{op: "chdir", dst: "/"})
}

// A failing call comes back wrapped, naming the mount (runc's wording,
// with a relative bind source resolved against the bundle) or the device.
func TestPrepareErrors(t *testing.T) {
	failOn := func(f *fakeKernel, op, dst string, err error) {
		f.fail = func(c call) error {
			if c.op == op && (dst == "" || c.dst == dst) {
				return err
			}
			return nil
		}
	}
	t.Run("tmpfs", func(t *testing.T) {
		rootfs, _, f := testRoot(t)
		cfg := testConfig(rootfs)
		cfg.Spec.Mounts = []specs.Mount{{Destination: "/run", Type: "tmpfs", Source: "tmpfs"}}
		failOn(f, "mount", "$rootfs/run", unix.EPERM)
		err := prepare(t, f, cfg)
		if err == nil || !errors.Is(err, unix.EPERM) || err.Error() != `error mounting "tmpfs" to rootfs at "/run": operation not permitted` {
			t.Fatalf("err = %v", err)
		}
		if n := len(f.only("hooks", "pivot_root")); n != 0 {
			t.Errorf("went on after the failed mount: %v", f.calls)
		}
	})
	t.Run("relative bind source", func(t *testing.T) {
		rootfs, _, f := testRoot(t)
		cfg := testConfig(rootfs)
		cfg.Bundle = hostDir(t)
		if err := os.Mkdir(filepath.Join(cfg.Bundle, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		cfg.Spec.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: "data", Options: []string{"rbind"}}}
		failOn(f, "move_mount", "", unix.ENOENT)
		err := prepare(t, f, cfg)
		src := filepath.Join(cfg.Bundle, "data")
		want := `error mounting "` + src + `" to rootfs at "/data": attach the mount of ` + src + `: no such file or directory`
		if err == nil || !errors.Is(err, unix.ENOENT) || err.Error() != want {
			t.Fatalf("err = %v, want %s", err, want)
		}
	})
	t.Run("device", func(t *testing.T) {
		rootfs, _, f := testRoot(t)
		cfg := testConfig(rootfs)
		cfg.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
		failOn(f, "mknod", "$rootfs/dev/fuse", unix.EPERM)
		err := prepare(t, f, cfg)
		if err == nil || !errors.Is(err, unix.EPERM) || err.Error() != "linux.devices[0]: /dev/fuse: mknod: operation not permitted" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("pivot_root", func(t *testing.T) {
		rootfs, _, f := testRoot(t)
		failOn(f, "pivot_root", "", unix.EINVAL)
		err := prepare(t, f, testConfig(rootfs))
		if err == nil || !errors.Is(err, unix.EINVAL) || err.Error() != "pivot_root to "+rootfs+": invalid argument" {
			t.Fatalf("err = %v", err)
		}
	})
}

// Devices: mknod (then the exact mode, and the owner if one is given) in
// the initial user namespace; in another, the host's node bound onto a
// file made for it.
func TestCreateDevice(t *testing.T) {
	fuse := specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229,
		FileMode: ptr(os.FileMode(0o620)), UID: ptr(uint32(1000)), GID: ptr(uint32(5))}
	t.Run("mknod", func(t *testing.T) {
		_, root, f := testRoot(t)
		if err := createDevice(root, fuse, false); err != nil {
			t.Fatal(err)
		}
		expect(t, f.calls,
			call{op: "mknod", dst: "$rootfs/dev/fuse", data: "mode=020620 dev=10:229"},
			call{op: "chmod", dst: "$rootfs/dev/fuse", data: "0620"},
			call{op: "chown", dst: "$rootfs/dev/fuse", data: "1000:5"})
	})
	t.Run("block, no owner", func(t *testing.T) {
		_, root, f := testRoot(t)
		if err := createDevice(root, specs.LinuxDevice{Path: "/dev/loop9", Type: "b", Major: 7, Minor: 9}, false); err != nil {
			t.Fatal(err)
		}
		expect(t, f.calls,
			call{op: "mknod", dst: "$rootfs/dev/loop9", data: "mode=060666 dev=7:9"},
			call{op: "chmod", dst: "$rootfs/dev/loop9", data: "0666"})
	})
	t.Run("owner uid only", func(t *testing.T) {
		_, root, f := testRoot(t)
		d := fuse
		d.GID = nil
		if err := createDevice(root, d, false); err != nil {
			t.Fatal(err)
		}
		expect(t, f.only("chown"), call{op: "chown", dst: "$rootfs/dev/fuse", data: "1000:-1"})
	})
	t.Run("user namespace", func(t *testing.T) {
		rootfs, root, f := testRoot(t)
		if err := createDevice(root, fuse, true); err != nil {
			t.Fatal(err)
		}
		expect(t, f.calls, call{op: "mount", src: "/dev/fuse", dst: "$rootfs/dev/fuse", flags: unix.MS_BIND})
		if fi, err := os.Lstat(filepath.Join(rootfs, "dev/fuse")); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("no file to bind onto: %v", err)
		}
	})
	t.Run("user namespace, a directory in the way", func(t *testing.T) {
		_, root, f := testRoot(t, "dev/fuse")
		err := createDevice(root, fuse, true)
		if !errors.Is(err, unix.EISDIR) || !strings.Contains(err.Error(), "/dev/fuse") {
			t.Errorf("err = %v, want EISDIR naming /dev/fuse", err)
		}
		expect(t, f.calls)
	})
	t.Run("defaults", func(t *testing.T) {
		rootfs, root, f := testRoot(t)
		if err := createDefaultDevices(root, false); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range f.only("mknod") {
			got = append(got, strings.TrimPrefix(c.dst, "$rootfs")+" "+c.data)
		}
		want := "/dev/null mode=020666 dev=1:3,/dev/zero mode=020666 dev=1:5,/dev/full mode=020666 dev=1:7," +
			"/dev/random mode=020666 dev=1:8,/dev/urandom mode=020666 dev=1:9,/dev/tty mode=020666 dev=5:0"
		if strings.Join(got, ",") != want {
			t.Errorf("mknods %v\nwant %s", got, want)
		}
		if l, err := os.Readlink(filepath.Join(rootfs, "dev/stderr")); err != nil || l != "/proc/self/fd/2" {
			t.Errorf("/dev/stderr -> %q, %v", l, err)
		}
	})
}

// Finalize's order: read-only paths (bind, then remount read-only), masked
// paths (/dev/null on a file, one read-only tmpfs shared by the
// directories, a missing path skipped), the late read-only remounts, and
// last a read-only root.
func TestFinalize(t *testing.T) {
	rootfs, root, f := testRoot(t, "proc/sys", "proc/acpi", "proc/scsi", "run")
	if err := os.WriteFile(filepath.Join(rootfs, "proc/kcore"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := createDevice(root, specs.LinuxDevice{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}, false); err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	spec := testConfig(rootfs).Spec
	spec.Root.Readonly = true
	spec.Linux.ReadonlyPaths = []string{"/proc/sys", "/proc/nothere"}
	spec.Linux.MaskedPaths = []string{"/proc/kcore", "/proc/acpi", "/proc/missing", "/proc/scsi", "/proc/acpi/"}
	late := []LateRemount{{dest: "/run", flags: unix.MS_NOSUID}}
	if err := finalizeIn(root, spec, late); err != nil {
		t.Fatal(err)
	}
	ro := uintptr(unix.MS_RDONLY | remount)
	expect(t, f.only("mount", "umount"),
		call{op: "mount", src: "$rootfs/proc/sys", dst: "$rootfs/proc/sys", flags: unix.MS_BIND | unix.MS_REC},
		call{op: "mount", dst: "$rootfs/proc/sys", flags: ro | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		call{op: "mount", src: "$rootfs/dev/null", dst: "$rootfs/proc/kcore", flags: unix.MS_BIND},
		call{op: "mount", src: "tmpfs", dst: "$rootfs/proc/acpi", fstype: "tmpfs", flags: unix.MS_RDONLY, data: "size=0k"},
		call{op: "mount", src: "$rootfs/proc/acpi", dst: "$rootfs/proc/scsi", flags: unix.MS_BIND},
		call{op: "mount", dst: "$rootfs/run", flags: ro | unix.MS_NOSUID},
		call{op: "mount", dst: "$rootfs", flags: ro})

	// Without a mount namespace of its own: no late remounts, no
	// read-only root.
	f.calls = nil
	spec.Linux.Namespaces = nil
	spec.Linux.ReadonlyPaths, spec.Linux.MaskedPaths = nil, nil
	if err := finalizeIn(root, spec, late); err != nil {
		t.Fatal(err)
	}
	expect(t, f.calls)
}

// A /dev/null that is not the null device (CVE-2025-31133: a regular
// file, or another character device) makes masking a file fail, naming the
// path, with nothing mounted.
func TestMaskWithFakeDevNull(t *testing.T) {
	for _, c := range []struct {
		name string
		dev  *specs.LinuxDevice
	}{
		{"a regular file", nil},
		{"/dev/zero's node", &specs.LinuxDevice{Path: "/dev/null", Type: "c", Major: 1, Minor: 5}},
		{"a block device 1:3", &specs.LinuxDevice{Path: "/dev/null", Type: "b", Major: 1, Minor: 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rootfs, root, f := testRoot(t, "dev", "proc")
			if err := os.WriteFile(filepath.Join(rootfs, "proc/kcore"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if c.dev == nil {
				if err := os.WriteFile(filepath.Join(rootfs, "dev/null"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if err := createDevice(root, *c.dev, false); err != nil {
				t.Fatal(err)
			}
			spec := testConfig(rootfs).Spec
			spec.Linux.MaskedPaths = []string{"/proc/kcore"}
			err := finalizeIn(root, spec, nil)
			if err == nil || err.Error() != "linux.maskedPaths[0]: /proc/kcore: /dev/null is not the null device: refusing to mask with it" {
				t.Errorf("err = %v", err)
			}
			expect(t, f.only("mount"))
		})
	}
}
