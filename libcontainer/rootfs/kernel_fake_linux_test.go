package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeKernel records the calls of the kernel seam (kernel_linux.go) instead
// of making them, so that the decisions of this package can be checked
// without root. It works on a real rootfs in a temporary directory: paths
// under it are shown as "$rootfs/...", fds by what they are open on.
//
// What it simulates of the kernel, and no more:
//   - a tmpfs mount on a directory of the rootfs covers it: the directory
//     is moved aside and an empty one takes its place (an fd opened before
//     still reaches the old contents, as under a real mount);
//   - mknod leaves a placeholder file, and Fstat of it reports the node;
//   - open_tree returns an fd on the source, which after move_mount stands
//     for the mount at the destination;
//   - Fstatfs reports statfsFlags as the mount's flags.
type fakeKernel struct {
	root   string // the rootfs's real path
	calls  []call
	fail   func(c call) error // nil, or the error the call c returns
	labels map[int]fdLabel
	nodes  map[string]node // mknod'ed nodes by shown path
	// statfsFlags are the ST_* flags Fstatfs reports; cgroupFs the
	// filesystem type Statfs reports for /sys/fs/cgroup.
	statfsFlags int64
	cgroupFs    int64
}

type fdLabel struct{ real, shown string }

type node struct {
	mode uint32
	dev  uint64
}

// call is one recorded call of the seam. attr is mount_setattr's
// attr_set/attr_clr; mode and dev mknod's.
type call struct {
	op       string
	src, dst string
	fstype   string
	flags    uintptr
	data     string
}

func (c call) String() string {
	flags := fmt.Sprintf("%#x", c.flags)
	if c.op == "mount" {
		flags = msFlagsString(c.flags)
	}
	return fmt.Sprintf("%s(src=%q dst=%q type=%q flags=%s data=%q)", c.op, c.src, c.dst, c.fstype, flags, c.data)
}

// useFake replaces sys with a fake kernel on root for the test's duration.
func useFake(t *testing.T, root string) *fakeKernel {
	t.Helper()
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeKernel{root: real, labels: map[int]fdLabel{}, nodes: map[string]node{}}
	old := sys
	sys = f
	t.Cleanup(func() { sys = old })
	return f
}

func (f *fakeKernel) record(c call) error {
	f.calls = append(f.calls, c)
	if f.fail != nil {
		return f.fail(c)
	}
	return nil
}

// only is the recorded calls of the given kinds (all, with none).
func (f *fakeKernel) only(kinds ...string) []call {
	var out []call
	for _, c := range f.calls {
		if len(kinds) == 0 || contains(kinds, c.op) {
			out = append(out, c)
		}
	}
	return out
}

// expect fails the test unless got is want, call for call.
func expect(t *testing.T, got []call, want ...call) {
	t.Helper()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i] == want[i]
	}
	if same {
		return
	}
	var b strings.Builder
	b.WriteString("calls:\n")
	for _, c := range got {
		b.WriteString("  " + c.String() + "\n")
	}
	b.WriteString("want:\n")
	for _, c := range want {
		b.WriteString("  " + c.String() + "\n")
	}
	t.Error(b.String())
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// show is how a path appears in the record: /proc/self/fd/N as what the
// fd is open on, and the rootfs as $rootfs.
func (f *fakeKernel) show(p string) string {
	for _, pre := range []string{"/proc/self/fd/", "/proc/thread-self/fd/"} {
		if n, err := strconv.Atoi(strings.TrimPrefix(p, pre)); err == nil && strings.HasPrefix(p, pre) {
			return f.showFd(n)
		}
	}
	return f.rel(p)
}

func (f *fakeKernel) rel(p string) string {
	switch {
	case p == f.root:
		return "$rootfs"
	case strings.HasPrefix(p, f.root+"/"):
		return "$rootfs" + strings.TrimPrefix(p, f.root)
	}
	return p
}

func (f *fakeKernel) showFd(fd int) string {
	if fd == unix.AT_FDCWD {
		return "AT_FDCWD"
	}
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return fmt.Sprintf("fd %d (%v)", fd, err)
	}
	if l, ok := f.labels[fd]; ok && l.real == real {
		return l.shown
	}
	return f.rel(real)
}

func (f *fakeKernel) label(fd int, shown string) {
	real, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	f.labels[fd] = fdLabel{real: real, shown: shown}
}

func (f *fakeKernel) Mount(source, target, fstype string, flags uintptr, data string) error {
	shown := f.show(target)
	if err := f.record(call{op: "mount", src: f.show(source), dst: shown, fstype: fstype, flags: flags, data: data}); err != nil {
		return err
	}
	if fstype == "tmpfs" && flags&(unix.MS_REMOUNT|unix.MS_BIND) == 0 && strings.HasPrefix(shown, "$rootfs") {
		dir := f.root + strings.TrimPrefix(shown, "$rootfs")
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil {
			return err
		}
		if err := os.Rename(dir, dir+".covered"); err != nil {
			return err
		}
		return unix.Mkdir(dir, st.Mode&0o7777)
	}
	return nil
}

func (f *fakeKernel) Unmount(target string, flags int) error {
	return f.record(call{op: "umount", dst: f.show(target), flags: uintptr(flags)})
}

func (f *fakeKernel) OpenTree(dirfd int, path string, flags uint) (int, error) {
	src := path
	if path == "" {
		src = f.showFd(dirfd)
	} else if dirfd != unix.AT_FDCWD {
		src = f.showFd(dirfd) + "/" + path
	}
	if err := f.record(call{op: "open_tree", src: f.rel(src), flags: uintptr(flags)}); err != nil {
		return -1, err
	}
	var fd int
	var err error
	if path == "" {
		fd, err = unix.FcntlInt(uintptr(dirfd), unix.F_DUPFD_CLOEXEC, 0)
	} else {
		fd, err = unix.Openat(dirfd, path, unix.O_PATH|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, err
	}
	f.label(fd, "tree("+f.rel(src)+")")
	return fd, nil
}

func (f *fakeKernel) MoveMount(fromDirfd int, fromPath string, toDirfd int, toPath string, flags int) error {
	dst := f.showFd(toDirfd)
	if err := f.record(call{op: "move_mount", src: f.showFd(fromDirfd), dst: dst, flags: uintptr(flags)}); err != nil {
		return err
	}
	f.label(fromDirfd, dst) // the tree is now the mount there
	return nil
}

func (f *fakeKernel) MountSetattr(dirfd int, path string, flags uint, attr *unix.MountAttr) error {
	return f.record(call{op: "mount_setattr", dst: f.showFd(dirfd), flags: uintptr(flags),
		data: fmt.Sprintf("set=%#x clr=%#x", attr.Attr_set, attr.Attr_clr)})
}

func (f *fakeKernel) Fstat(fd int, st *unix.Stat_t) error {
	if err := unix.Fstat(fd, st); err != nil {
		return err
	}
	if n, ok := f.nodes[f.showFd(fd)]; ok && st.Mode&unix.S_IFMT == unix.S_IFREG {
		st.Mode, st.Rdev = n.mode, n.dev
	}
	return nil
}

func (f *fakeKernel) Fstatfs(fd int, st *unix.Statfs_t) error {
	if err := unix.Fstatfs(fd, st); err != nil {
		return err
	}
	st.Flags = f.statfsFlags
	return nil
}

func (f *fakeKernel) Statfs(path string, st *unix.Statfs_t) error {
	if path != "/sys/fs/cgroup" {
		return unix.Statfs(path, st)
	}
	*st = unix.Statfs_t{Type: f.cgroupFs}
	return nil
}

func (f *fakeKernel) PivotRoot(newroot, putold string) error {
	return f.record(call{op: "pivot_root", src: newroot, dst: putold})
}

func (f *fakeKernel) Chroot(path string) error { return f.record(call{op: "chroot", dst: path}) }
func (f *fakeKernel) Chdir(path string) error  { return f.record(call{op: "chdir", dst: f.rel(path)}) }
func (f *fakeKernel) Fchdir(fd int) error      { return f.record(call{op: "chdir", dst: f.showFd(fd)}) }

func (f *fakeKernel) at(dirfd int, name string) string { return f.showFd(dirfd) + "/" + name }

func (f *fakeKernel) Mknodat(dirfd int, path string, mode uint32, dev int) error {
	at := f.at(dirfd, path)
	if err := f.record(call{op: "mknod", dst: at, data: fmt.Sprintf("mode=%#o dev=%d:%d", mode, unix.Major(uint64(dev)), unix.Minor(uint64(dev)))}); err != nil {
		return err
	}
	fd, err := unix.Openat(dirfd, path, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	unix.Close(fd)
	f.nodes[at] = node{mode: mode, dev: uint64(dev)}
	return nil
}

func (f *fakeKernel) Fchmodat(dirfd int, path string, mode uint32, flags int) error {
	return f.record(call{op: "chmod", dst: f.at(dirfd, path), data: fmt.Sprintf("%#o", mode)})
}

func (f *fakeKernel) Fchownat(dirfd int, path string, uid, gid, flags int) error {
	return f.record(call{op: "chown", dst: f.at(dirfd, path), data: fmt.Sprintf("%d:%d", uid, gid)})
}
