package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/safepath"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Finalize runs in the init in the container's root, after the console:
// read-only and masked paths, then (only in a mount namespace of the
// container's) the read-only tmpfs and /dev mounts left by Prepare in
// late, and last a read-only root.
func Finalize(spec *specs.Spec, late []LateRemount) error {
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	for i, p := range spec.Linux.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return fmt.Errorf("linux.readonlyPaths[%d]: %s: %w", i, p, err)
		}
	}
	masked := map[string]bool{}
	sharedMask := -1 // the first masked directory's tmpfs, bound on the others
	defer func() {
		if sharedMask >= 0 {
			unix.Close(sharedMask)
		}
	}()
	for i, p := range spec.Linux.MaskedPaths {
		if masked[filepath.Clean(p)] {
			continue
		}
		masked[filepath.Clean(p)] = true
		if err := maskPath(root, p, &sharedMask); err != nil {
			return fmt.Errorf("linux.maskedPaths[%d]: %s: %w", i, p, err)
		}
	}
	if !config.HasMountNS(spec) {
		// As runc's finalizeRootfs: the read-only remounts (tmpfs, /dev,
		// root.readonly) only in a mount namespace of the container's.
		return nil
	}
	if err := RemountLate(late, config.HasNewNS(spec, specs.UserNamespace)); err != nil {
		return err
	}
	if spec.Root.Readonly {
		if err := Remount(root, "/", unix.MS_RDONLY, config.HasNewNS(spec, specs.UserNamespace)); err != nil {
			return fmt.Errorf("root.readonly: %w", err)
		}
	}
	return nil
}

func readonlyPath(root int, path string) error {
	fd, err := safepath.Open(root, path, unix.O_PATH|unix.O_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	err = unix.Mount(safepath.ProcPath(fd), safepath.ProcPath(fd), "", unix.MS_BIND|unix.MS_REC, "")
	unix.Close(fd)
	if err != nil {
		return err
	}
	return Remount(root, path, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, true)
}

// maskPath hides path: a directory under an empty read-only tmpfs, a file
// under /dev/null. The /dev/null used is checked to be the real device, so
// a container that replaced it (CVE-2025-31133) makes masking fail instead
// of binding an arbitrary file.
//
// Masked directories share one tmpfs, as in runc: the first gets it, the
// others a bind mount of it (*shared, once set).
func maskPath(root int, path string, shared *int) error {
	fd, err := safepath.Open(root, path, unix.O_PATH|unix.O_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if *shared >= 0 {
			return unix.Mount(safepath.ProcPath(*shared), safepath.ProcPath(fd), "", unix.MS_BIND, "")
		}
		if err := unix.Mount("tmpfs", safepath.ProcPath(fd), "tmpfs", unix.MS_RDONLY, "size=0k"); err != nil {
			return err
		}
		if top, err := safepath.Open(root, path, unix.O_PATH|unix.O_NOFOLLOW); err == nil {
			*shared = top
		}
		return nil
	}
	null, err := safepath.Open(root, "/dev/null", unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("open /dev/null: %w", err)
	}
	defer unix.Close(null)
	var ns unix.Stat_t
	if err := unix.Fstat(null, &ns); err != nil {
		return err
	}
	if ns.Mode&unix.S_IFMT != unix.S_IFCHR || ns.Rdev != unix.Mkdev(1, 3) {
		return errors.New("/dev/null is not the null device: refusing to mask with it")
	}
	return unix.Mount(safepath.ProcPath(null), safepath.ProcPath(fd), "", unix.MS_BIND, "")
}
