package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hullrt/hull/internal/procmounts"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/safepath"
	usernspkg "github.com/hullrt/hull/libcontainer/userns"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Prepare runs in the init, in its new mount namespace, before
// pivot_root: it makes the rootfs a mount of its own, mounts config.json's
// mounts into it, creates devices, and switches root.
//
// A container without a mount namespace (neither new nor joined) gets the
// same setup in the mount namespace hull runs in, as runc's does, and is
// then chrooted into its rootfs (never pivot_root, nor --no-pivot's move
// onto /, which would replace that namespace's root). As with runc, its
// mounts stay there after the container is gone.
//
// beforePivot runs after the mounts, before the root is switched: the
// moment of the createRuntime and createContainer hooks. The read-only
// mounts left for the end are appended to late (see RemountLate).
func Prepare(cfg *proto.InitConfig, conn proto.Conn, beforePivot func() error, late *[]LateRemount) error {
	spec := cfg.Spec
	// Nothing mounted from here on may propagate back to the host: make
	// every mount a slave (private, if the config asks for private) first.
	// rootfsPropagation itself applies to the container's / once it is
	// its own mount, after the root switch.
	initial := uintptr(unix.MS_SLAVE | unix.MS_REC)
	prop := config.PropagationOpts[spec.Linux.RootfsPropagation]
	if prop&unix.MS_PRIVATE != 0 {
		initial = unix.MS_PRIVATE | unix.MS_REC
	}
	if err := sys.Mount("", "/", "", initial, ""); err != nil {
		return fmt.Errorf("set propagation of / to %#x: %w", initial, err)
	}
	if err := sys.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s onto itself: %w", cfg.Rootfs, err)
	}
	root, err := unix.Open(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", cfg.Rootfs, err)
	}
	defer unix.Close(root)
	userns := config.HasNewNS(spec, specs.UserNamespace) || config.JoinsNS(spec, specs.UserNamespace)
	bindDev := false
	for i, m := range spec.Mounts {
		source := func() (int, error) { return mountSourceFrom(conn, i) }
		if err := mountOne(root, cfg, m, userns, source, late); err != nil {
			// runc's wording (callers and runc's tests look for it); a
			// bind source is named as resolved against the bundle.
			src := m.Source
			if config.IsBind(m) && !filepath.IsAbs(src) {
				src = filepath.Join(cfg.Bundle, src)
			}
			return fmt.Errorf("error mounting %q to rootfs at %q: %w", src, m.Destination, err)
		}
		if filepath.Clean(m.Destination) == "/dev" && config.IsBind(m) {
			bindDev = true
		}
	}
	faults.Point("during-mounts")
	// A missing process.cwd is created, as runc does.
	if cwd := spec.Process.Cwd; cwd != "" {
		fd, err := safepath.MkdirAll(root, cwd, 0o755)
		if err != nil {
			return fmt.Errorf("process.cwd %q: %w", cwd, err)
		}
		unix.Close(fd)
	}
	// mknod needs the initial user namespace: in any other (the config's,
	// or the one hull runs in, as under rootless podman) nodes are
	// bind-mounted from the host, as runc does.
	bindNodes := userns || usernspkg.RunningInUserNS()
	if !bindDev {
		if err := createDefaultDevices(root, bindNodes); err != nil {
			return err
		}
	}
	for i, d := range spec.Linux.Devices {
		if !bindDev && filepath.Clean(d.Path) == "/dev/ptmx" && isSymlinkIn(root, "/dev/ptmx") {
			// The container's ptmx is its devpts's (the pts/ptmx
			// link made with the default devices), as runc has it:
			// in a user namespace the bind over that link is
			// refused.
			continue
		}
		if err := createDevice(root, d, bindNodes); err != nil {
			return fmt.Errorf("linux.devices[%d]: %s: %w", i, d.Path, err)
		}
	}
	if err := beforePivot(); err != nil {
		return err
	}
	switch {
	case !config.HasMountNS(spec):
		err = chrootRoot(root, cfg.Rootfs)
	case cfg.NoPivot:
		err = moveRoot(cfg.Rootfs)
	default:
		err = pivotRoot(cfg.Rootfs)
	}
	if err != nil {
		return err
	}
	if prop != 0 {
		if err := sys.Mount("", "/", "", prop, ""); err != nil {
			return fmt.Errorf("set propagation of the container's / to %#x: %w", prop, err)
		}
	}
	if !bindDev {
		if err := reopenDevNull(); err != nil {
			return fmt.Errorf("error reopening /dev/null inside container: %w", err)
		}
	}
	return nil
}

// reopenDevNull points the stdio fds that are the null device (the
// caller's /dev/null, on a mount of the host: podman's conmon gives a
// container without -i that as stdin) at the container's own /dev/null,
// as runc does: criu cannot dump a file on a mount outside the
// container's namespace ("Can't lookup mount=N for fd=0 path=/dev/null").
func reopenDevNull() error {
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(null)
	var st unix.Stat_t
	if err := unix.Fstat(null, &st); err != nil {
		return err
	}
	if !isDevNull(&st) {
		return errors.New("container's /dev/null is invalid")
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Fstat(fd, &st); err != nil {
			return &os.PathError{Op: "fstat", Path: "fd " + strconv.Itoa(fd), Err: err}
		}
		if isDevNull(&st) {
			if err := unix.Dup3(null, fd, 0); err != nil {
				return fmt.Errorf("dup /dev/null onto fd %d: %w", fd, err)
			}
		}
	}
	return nil
}

func isDevNull(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)
}

// LateRemount is a read-only tmpfs (or /dev) mount: mounted writable, so
// that mount points under it (devpts on /dev/pts, say) and devices can be
// made, and remounted read-only in the container's root at the end
// (finalizeContainer, after the console and the masked paths), as runc
// does.
type LateRemount struct {
	dest  string
	flags uintptr
}

func RemountLate(l []LateRemount, userns bool) error {
	if len(l) == 0 {
		return nil
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	return remountLateIn(root, l, userns)
}

// remountLateIn is RemountLate in the root whose fd is root.
func remountLateIn(root int, l []LateRemount, userns bool) error {
	for _, r := range l {
		if err := Remount(root, r.dest, r.flags|unix.MS_RDONLY, userns); err != nil {
			return fmt.Errorf("mount %s read-only: %w", r.dest, err)
		}
	}
	return nil
}

// chrootRoot jails a container without a mount namespace in its rootfs
// (root is the rootfs mount's fd), as runc's chroot().
func chrootRoot(root int, rootfs string) error {
	if err := sys.Fchdir(root); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", rootfs, err)
	}
	if err := sys.Chroot("."); err != nil {
		return fmt.Errorf("chroot to rootfs %s: %w", rootfs, err)
	}
	return sys.Chdir("/")
}

func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", rootfs, err)
	}
	defer unix.Close(newroot)
	if err := sys.Fchdir(newroot); err != nil {
		return fmt.Errorf("chdir to rootfs: %w", err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one,
	// so no directory for it is needed inside the rootfs.
	if err := sys.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to %s: %w", rootfs, err)
	}
	if err := sys.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Detaching the old root must not propagate the unmount to the host.
	if err := sys.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root slave: %w", err)
	}
	if err := sys.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return sys.Chdir("/")
}

// moveRoot is --no-pivot: for a rootfs on a ramfs, where pivot_root fails.
//
// The host's full proc and sysfs mounts stay in the mount namespace under
// the chroot; while one is reachable, the kernel lets the container mount a
// fresh proc (without the masks). They are unmounted first (covered with a
// tmpfs where that is refused), as runc does.
func moveRoot(rootfs string) error {
	full, err := procmounts.Self(func(i *mountinfo.Info) (bool, bool) {
		keep := i.Root == "/" && (i.FSType == "proc" || i.FSType == "sysfs") && !strings.HasPrefix(i.Mountpoint, rootfs)
		return !keep, false
	})
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	for _, i := range full {
		p := i.Mountpoint
		// The unmount must not propagate to the host.
		if err := sys.Mount("", p, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // under one already gone
			}
			return fmt.Errorf("make %s slave: %w", p, err)
		}
		if err := sys.Unmount(p, unix.MNT_DETACH); err != nil {
			if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
				return fmt.Errorf("unmount host %s %s: %w", i.FSType, p, err)
			}
			if err := sys.Mount("tmpfs", p, "tmpfs", 0, ""); err != nil {
				return fmt.Errorf("cover host %s %s: %w", i.FSType, p, err)
			}
		}
	}
	if err := sys.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", rootfs, err)
	}
	if err := sys.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs %s to /: %w", rootfs, err)
	}
	if err := sys.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return sys.Chdir("/")
}

// mountOne performs one entry of config.json's mounts. The destination is
// resolved (and created) inside root, and the mount made through the fd of
// the resolved directory, so a symlink in the rootfs cannot send it to the
// host.
//
// source asks the parent for the mount's source (mountsource_linux.go).
func mountOne(root int, cfg *proto.InitConfig, m specs.Mount, userns bool, source func() (int, error), lateRO *[]LateRemount) error {
	opts, err := config.ParseMountOptions(m.Options)
	if err != nil {
		return err
	}
	m.Destination = config.StripRootfs(cfg.Rootfs, m.Destination)
	if m.Type == "bind" || opts.Bind {
		return bindMount(root, cfg, m, opts, userns, source)
	}
	if m.Type == "cgroup" {
		return mountCgroup(root, cfg, m, opts)
	}
	if opts.Tmpcopyup && m.Type != "tmpfs" {
		return fmt.Errorf("option tmpcopyup needs a tmpfs mount, not %q", m.Type)
	}
	data := strings.Join(opts.Data, ",")
	flags := opts.Flags
	switch m.Type {
	case "proc", "sysfs":
		// Never through a symlink: it could lead to another place of
		// the rootfs, where masking would then miss it.
		if fd, err := safepath.Open(root, m.Destination, unix.O_PATH|unix.O_NOFOLLOW); err == nil {
			var st unix.Stat_t
			err = sys.Fstat(fd, &st)
			unix.Close(fd)
			if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return fmt.Errorf("filesystem %q must be mounted on ordinary directory", m.Type)
			}
		}
	case "tmpfs":
		// A tmpfs over an existing directory takes its mode, unless
		// mode= says otherwise (the last mode= wins).
		if fd, err := safepath.Open(root, m.Destination, unix.O_PATH); err == nil {
			var st unix.Stat_t
			err = sys.Fstat(fd, &st)
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("check the mode of %s: %w", m.Destination, err)
			}
			data = strings.TrimSuffix(fmt.Sprintf("mode=%04o,", st.Mode&0o7777)+data, ",")
		}
	}
	if (m.Type == "tmpfs" || filepath.Clean(m.Destination) == "/dev") && flags&unix.MS_RDONLY != 0 {
		flags &^= unix.MS_RDONLY
		*lateRO = append(*lateRO, LateRemount{dest: m.Destination, flags: flags})
	}
	dst, err := safepath.MkdirAll(root, m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dst)
	if opts.Tmpcopyup {
		return tmpcopyupMount(root, dst, m, opts, data)
	}
	err = sys.Mount(m.Source, safepath.ProcPath(dst), m.Type, flags, data)
	if err != nil && m.Type == "sysfs" && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
		// Without a network namespace of its own (or in a user
		// namespace that does not own it) sysfs cannot be mounted:
		// bind the host's, as runc does.
		err = sys.Mount("/sys", safepath.ProcPath(dst), "", unix.MS_BIND|unix.MS_REC, "")
		if err == nil && opts.Flags&unix.MS_RDONLY != 0 {
			err = Remount(root, m.Destination, opts.Flags, userns)
		}
	}
	if err != nil {
		return err
	}
	return setPropagationAndAttrs(root, m.Destination, opts)
}

// tmpcopyupMount mounts a tmpfs on dst filled with what was there: the
// underlying directory, opened first, is still reachable through its fd.
// A read-only tmpfs is made so after the copy.
func tmpcopyupMount(root, dst int, m specs.Mount, opts *config.MountOpts, data string) error {
	under, err := unix.Openat(dst, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(under)
	if err := sys.Mount(m.Source, safepath.ProcPath(dst), m.Type, opts.Flags&^unix.MS_RDONLY, data); err != nil {
		return err
	}
	top, err := safepath.Open(root, m.Destination, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	err = copyTree(under, top)
	unix.Close(top)
	if err != nil {
		return fmt.Errorf("tmpcopyup into %s: %w", m.Destination, err)
	}
	return setPropagationAndAttrs(root, m.Destination, opts)
}

// bindMount clones the source (open_tree), gives the clone its flags and
// attributes while it is detached, and attaches it through the fd of the
// destination (move_mount): no step after the mount re-resolves the
// destination by path, so a symlink swapped in meanwhile (CVE-2021-30465's
// shape) cannot send the flags, a read-only one say, to another place.
//
// An id-mapped source comes from the parent, mapped and detached; so does
// a source the init cannot see (an O_PATH fd), as in runc.
func bindMount(root int, cfg *proto.InitConfig, m specs.Mount, opts *config.MountOpts, userns bool, source func() (int, error)) error {
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(cfg.Bundle, src)
	}
	idmapped := config.IsIDMapped(m, opts)
	srcFd := -1
	var st unix.Stat_t
	err := unix.Stat(src, &st)
	if idmapped || err != nil {
		if srcFd, err = source(); err != nil {
			return err
		}
		defer func() {
			if srcFd >= 0 {
				unix.Close(srcFd)
			}
		}()
		if err := sys.Fstat(srcFd, &st); err != nil {
			return fmt.Errorf("stat the source %s: %w", src, err)
		}
	}
	var dst int
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		dst, err = safepath.MkdirAll(root, m.Destination, 0o755)
	} else {
		dst, err = safepath.MkFileAll(root, m.Destination, 0o644)
	}
	if err != nil {
		return err
	}
	defer unix.Close(dst)
	how := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if opts.Recursive {
		how |= unix.AT_RECURSIVE
	}
	var tree int
	switch {
	case idmapped:
		tree, srcFd = srcFd, -1 // the parent's clone
	case srcFd >= 0:
		tree, err = sys.OpenTree(srcFd, "", how|unix.AT_EMPTY_PATH)
	default:
		tree, err = sys.OpenTree(unix.AT_FDCWD, src, how)
	}
	if err != nil {
		return fmt.Errorf("clone the mount of %s: %w", src, err)
	}
	defer unix.Close(tree)
	if err := sys.MoveMount(tree, "", dst, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach the mount of %s: %w", src, err)
	}
	// The fd now is the attached mount's root: the flags are set through
	// it (never through a path), by a bind remount as runc makes it, then
	// the recursive attributes.
	if opts.Flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 || opts.Clear != 0 {
		if err := bindRemount(tree, m.Destination, opts); err != nil {
			return fmt.Errorf("failed to set user-requested vfs flags on bind-mount: %w", err)
		}
	}
	if opts.AttrSet != 0 || opts.AttrClr != 0 || opts.Atime {
		if err := sys.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, recursiveAttr(opts)); err != nil {
			return fmt.Errorf("set recursive attributes on %s: %w", m.Destination, err)
		}
	}
	// The fd now is the attached mount's root.
	for _, p := range opts.Propagation {
		if err := sys.Mount("", safepath.ProcPath(tree), "", p, ""); err != nil {
			return fmt.Errorf("set propagation %#x on %s: %w", p, m.Destination, err)
		}
	}
	return nil
}

// stNoSymfollow is ST_NOSYMFOLLOW (Linux 5.10), not in x/sys/unix.
const stNoSymfollow = 0x2000

const (
	msAtimeEnum = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME
	msAtime     = msAtimeEnum | unix.MS_NODIRATIME
	// msLocked are the flags the kernel locks on a mount inherited from
	// another user namespace (MNT_LOCK_*).
	msLocked = unix.MS_RDONLY | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSUID | msAtime
)

// bindRemount gives the attached bind mount tree the flags asked for, as
// runc does: MS_BIND|MS_REMOUNT with exactly those flags (mount(8)'s "-o
// bind,..." intent; the atime flags are kept unless one is given). Where the
// kernel refuses (flags locked in a user namespace), it is "-o
// remount,...": the mount's locked flags are re-applied, but clearing a
// locked flag or changing a locked atime mode is an error.
func bindRemount(tree int, dest string, opts *config.MountOpts) error {
	// The init's thread is locked: its fd table is the process's.
	p := fmt.Sprintf("/proc/thread-self/fd/%d", tree)
	flags := opts.Flags | unix.MS_BIND | unix.MS_REMOUNT
	mount := func(flags uintptr) error {
		if err := sys.Mount("", p, "", flags, ""); err != nil {
			return &mountError{target: dest, dstFd: p, flags: flags, err: err}
		}
		return nil
	}
	err := mount(flags)
	if err == nil {
		return nil
	}
	var st unix.Statfs_t
	if serr := sys.Fstatfs(tree, &st); serr != nil {
		return fmt.Errorf("%w (statfs: %v)", err, serr)
	}
	cur := statfsFlags(&st)
	if locked := cur & opts.Clear & msLocked; locked != 0 {
		return fmt.Errorf("cannot clear locked flags %s: %w", msFlagsString(locked), err)
	}
	if opts.Flags&msAtime != 0 && opts.Flags&msAtime != cur&msAtime {
		return fmt.Errorf("cannot change locked atime flags %s: %w", msFlagsString(cur&msAtime), err)
	}
	flags |= cur & msLocked
	if err := mount(flags); err != nil {
		return fmt.Errorf("remount with locked flags %s re-applied: %w", msFlagsString(cur&msLocked), err)
	}
	return nil
}

// statfsFlags is the MS_* flags of a mount from its statfs f_flags; no
// atime flag means strictatime.
func statfsFlags(st *unix.Statfs_t) uintptr {
	var flags uintptr
	for _, f := range stFlags {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	if uintptr(st.Flags)&stNoSymfollow != 0 {
		flags |= unix.MS_NOSYMFOLLOW
	}
	if flags&msAtimeEnum == 0 {
		flags |= unix.MS_STRICTATIME
	}
	return flags
}

// recursiveAttr is the mount_attr for the r* options (rro, rnosuid, ...).
func recursiveAttr(opts *config.MountOpts) *unix.MountAttr {
	attr := &unix.MountAttr{Attr_set: opts.AttrSet, Attr_clr: opts.AttrClr}
	if opts.Atime {
		attr.Attr_clr |= unix.MOUNT_ATTR__ATIME
	}
	return attr
}

// stFlags maps statfs f_flag bits to mount flags, for the flags that a
// remount inside a user namespace must keep (the kernel locks them).
var stFlags = []struct{ st, ms uintptr }{
	{unix.ST_RDONLY, unix.MS_RDONLY}, {unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV},
	{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_NOATIME, unix.MS_NOATIME},
	{unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
}

// Remount re-opens path (the new mount now on top) and remounts it with
// flags. In a user namespace the locked flags of the mount are kept.
func Remount(root int, path string, flags uintptr, userns bool) error {
	fd, err := safepath.Open(root, path, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	p := safepath.ProcPath(fd)
	flags |= unix.MS_BIND | unix.MS_REMOUNT
	err = sys.Mount("", p, "", flags, "")
	if err != nil && (userns || errors.Is(err, unix.EPERM)) {
		var st unix.Statfs_t
		if serr := sys.Fstatfs(fd, &st); serr == nil {
			for _, f := range stFlags {
				if uintptr(st.Flags)&f.st != 0 && f.ms != unix.MS_RDONLY {
					flags |= f.ms
				}
			}
			err = sys.Mount("", p, "", flags, "")
		}
	}
	if err != nil {
		return fmt.Errorf("remount %s with flags %#x: %w", path, flags, err)
	}
	return nil
}

func setPropagationAndAttrs(root int, path string, opts *config.MountOpts) error {
	if len(opts.Propagation) == 0 && opts.AttrSet == 0 && opts.AttrClr == 0 && !opts.Atime {
		return nil
	}
	fd, err := safepath.Open(root, path, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, p := range opts.Propagation {
		if err := sys.Mount("", safepath.ProcPath(fd), "", p, ""); err != nil {
			return fmt.Errorf("set propagation %#x on %s: %w", p, path, err)
		}
	}
	if opts.AttrSet != 0 || opts.AttrClr != 0 || opts.Atime {
		if err := sys.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, recursiveAttr(opts)); err != nil {
			return fmt.Errorf("set recursive attributes on %s: %w", path, err)
		}
	}
	return nil
}
