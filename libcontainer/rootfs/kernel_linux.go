package rootfs

import "golang.org/x/sys/unix"

// kernel is the seam between this package's decisions (which mounts, with
// which flags, in which order; mknod or a bind of the host's node; pivot_root,
// MS_MOVE or chroot) and the system calls that carry them out. Those calls
// need root, or change the calling process's root and working directory, so
// the decisions could not be unit-tested: with the calls behind this
// interface, tests (kernel_linux_test.go) record them instead, unprivileged,
// on a rootfs in a temporary directory.
//
// Only the calls that need privilege, change the process, or whose answer a
// test must choose (Fstat of a device, Fstatfs of a mount's locked flags, Statfs of the
// host's cgroup mount)
// are here; opening, creating and reading files in the rootfs stay direct
// unix calls, which work on a temporary directory as they do on a rootfs.
// The production value, sys, is hostKernel: each method is the unix call
// itself.
type kernel interface {
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string, flags int) error
	OpenTree(dirfd int, path string, flags uint) (int, error)
	MoveMount(fromDirfd int, fromPath string, toDirfd int, toPath string, flags int) error
	MountSetattr(dirfd int, path string, flags uint, attr *unix.MountAttr) error
	Fstat(fd int, st *unix.Stat_t) error
	Fstatfs(fd int, st *unix.Statfs_t) error
	Statfs(path string, st *unix.Statfs_t) error
	PivotRoot(newroot, putold string) error
	Chroot(path string) error
	Chdir(path string) error
	Fchdir(fd int) error
	Mknodat(dirfd int, path string, mode uint32, dev int) error
	Fchmodat(dirfd int, path string, mode uint32, flags int) error
	Fchownat(dirfd int, path string, uid, gid, flags int) error
}

// sys is the kernel every function of this package calls; only tests
// replace it.
var sys kernel = hostKernel{}

// hostKernel is the real kernel: each method is the unix call of its name.
type hostKernel struct{}

func (hostKernel) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}

func (hostKernel) Unmount(target string, flags int) error { return unix.Unmount(target, flags) }

func (hostKernel) OpenTree(dirfd int, path string, flags uint) (int, error) {
	return unix.OpenTree(dirfd, path, flags)
}

func (hostKernel) MoveMount(fromDirfd int, fromPath string, toDirfd int, toPath string, flags int) error {
	return unix.MoveMount(fromDirfd, fromPath, toDirfd, toPath, flags)
}

func (hostKernel) MountSetattr(dirfd int, path string, flags uint, attr *unix.MountAttr) error {
	return unix.MountSetattr(dirfd, path, flags, attr)
}

func (hostKernel) Fstat(fd int, st *unix.Stat_t) error     { return unix.Fstat(fd, st) }
func (hostKernel) Fstatfs(fd int, st *unix.Statfs_t) error { return unix.Fstatfs(fd, st) }
func (hostKernel) Statfs(path string, st *unix.Statfs_t) error {
	return unix.Statfs(path, st)
}

func (hostKernel) PivotRoot(newroot, putold string) error { return unix.PivotRoot(newroot, putold) }
func (hostKernel) Chroot(path string) error               { return unix.Chroot(path) }
func (hostKernel) Chdir(path string) error                { return unix.Chdir(path) }
func (hostKernel) Fchdir(fd int) error                    { return unix.Fchdir(fd) }

func (hostKernel) Mknodat(dirfd int, path string, mode uint32, dev int) error {
	return unix.Mknodat(dirfd, path, mode, dev)
}

func (hostKernel) Fchmodat(dirfd int, path string, mode uint32, flags int) error {
	return unix.Fchmodat(dirfd, path, mode, flags)
}

func (hostKernel) Fchownat(dirfd int, path string, uid, gid, flags int) error {
	return unix.Fchownat(dirfd, path, uid, gid, flags)
}
