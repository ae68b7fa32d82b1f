package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hullrt/hull/internal/procmounts"
	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/safepath"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountCgroup handles a mount of type "cgroup". On a unified host it is a
// cgroup2 mount. On a v1 or hybrid host it is, as runc makes it, a tmpfs
// holding one mount per hierarchy: a fresh cgroup mount when the container
// has a cgroup namespace (the kernel then shows only its subtree), otherwise
// a bind mount of the container's own cgroup directory.
func mountCgroup(root int, cfg *proto.InitConfig, m specs.Mount, opts *config.MountOpts) error {
	dst, err := safepath.MkdirAll(root, m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dst)
	var st unix.Statfs_t
	if err := sys.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return mountCgroup2(root, cfg, m, opts, dst)
	}
	if err := sys.Mount("tmpfs", safepath.ProcPath(dst), "tmpfs", opts.Flags&^unix.MS_RDONLY, "mode=755"); err != nil {
		return fmt.Errorf("tmpfs for cgroup hierarchies: %w", err)
	}
	// The init's own mount table: it has mounted since it began.
	all, err := procmounts.Self(func(i *mountinfo.Info) (bool, bool) {
		return i.FSType != "cgroup" && i.FSType != "cgroup2", false
	})
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	hiers := cgroupHierarchies(all)
	cgroupns := config.HasNewNS(cfg.Spec, specs.CgroupNamespace)
	for _, h := range hiers {
		name := filepath.Base(h.Mountpoint)
		sub, err := safepath.MkdirAll(root, filepath.Join(m.Destination, name), 0o755)
		if err != nil {
			return err
		}
		target := safepath.ProcPath(sub)
		var data string
		if h.FSType == "cgroup" {
			var keep []string
			for _, o := range strings.Split(h.VFSOptions, ",") {
				if o != "rw" && o != "ro" {
					keep = append(keep, o)
				}
			}
			data = strings.Join(keep, ",")
		}
		err = errNoCgroupns
		if cgroupns {
			// A fresh mount shows the namespace's root: the
			// container's cgroup.
			err = sys.Mount("cgroup", target, h.FSType, opts.Flags, data)
		}
		if err != nil {
			// Without a cgroup namespace (or where the kernel refuses
			// a fresh mount, as in a nested cgroup namespace), bind
			// the container's own directory, as the parent resolved
			// it: the init still sees the host's mounts here.
			src := cfg.CgroupDirs[h.Mountpoint]
			if src == "" && errors.Is(err, errNoCgroupns) {
				// No cgroup of its own here (a rootless container
				// that may not make one): the cgroup the init is
				// in, as runc binds whatever /proc/self/cgroup names.
				src = ownCgroupDir(h)
			}
			if src == "" {
				unix.Close(sub)
				if errors.Is(err, errNoCgroupns) {
					continue // a hierarchy the container has no cgroup in
				}
				return fmt.Errorf("cgroup hierarchy %s: %w", name, err)
			}
			err = sys.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, "")
			if err == nil && opts.Flags != 0 {
				// Through a new fd: the old one is under the mount.
				err = Remount(root, filepath.Join(m.Destination, name), opts.Flags, false)
			}
		}
		unix.Close(sub)
		if err != nil {
			return fmt.Errorf("cgroup hierarchy %s: %w", name, err)
		}
	}
	if opts.Flags&unix.MS_RDONLY != 0 {
		return Remount(root, m.Destination, opts.Flags|unix.MS_RDONLY, false)
	}
	return nil
}

var errNoCgroupns = errors.New("no cgroup namespace")

// cgroupHierarchies are the cgroup mounts under /sys/fs/cgroup/ of a
// mount table (all: the cgroup mounts of this process's mount namespace,
// in mountinfo's order), the first of each name: a hierarchy mounted
// twice on one place (a cgroup namespace's remount stacked on the host's)
// is bound once, as a second bind would sit on the first one's root, the
// container's cgroup directory, which then cannot be removed while it
// stays mounted (without a mount namespace it stays).
func cgroupHierarchies(all []*mountinfo.Info) []*mountinfo.Info {
	seen := map[string]bool{}
	var hiers []*mountinfo.Info
	for _, h := range all {
		if (h.FSType != "cgroup" && h.FSType != "cgroup2") || !strings.HasPrefix(h.Mountpoint, "/sys/fs/cgroup/") {
			continue
		}
		if name := filepath.Base(h.Mountpoint); !seen[name] {
			seen[name] = true
			hiers = append(hiers, h)
		}
	}
	return hiers
}

// mountCgroup2 is the cgroup mount on a unified host: a fresh cgroup2
// mount. In a user namespace without a cgroup namespace of its own (a
// rootless container from `spec --rootless`) the kernel refuses one (EPERM,
// or EBUSY), and as runc the host's /sys/fs/cgroup is bound instead; with a
// cgroup namespace whose fresh mount was refused (nested namespaces), the
// container's own cgroup directory, which is what the mount would show.
func mountCgroup2(root int, cfg *proto.InitConfig, m specs.Mount, opts *config.MountOpts, dst int) error {
	err := sys.Mount("cgroup2", safepath.ProcPath(dst), "cgroup2", opts.Flags, strings.Join(opts.Data, ","))
	if err == nil || !(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
		return err
	}
	src := "/sys/fs/cgroup"
	own := cfg.CgroupDirs[src]
	if config.HasNewNS(cfg.Spec, specs.CgroupNamespace) && own != "" {
		src = own
	}
	if err := sys.Mount(src, safepath.ProcPath(dst), "", unix.MS_BIND|opts.Flags&^unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("bind %s for the refused cgroup2 mount: %w", src, err)
	}
	if opts.Flags != 0 {
		// Through a new fd: the old one is under the mount.
		return Remount(root, m.Destination, opts.Flags, config.HasNewNS(cfg.Spec, specs.UserNamespace))
	}
	return nil
}

// ownCgroupDir is the directory, below hierarchy h's mount point, of the
// cgroup this process is in there ("" when /proc/self/cgroup names none,
// or one outside what h shows).
func ownCgroupDir(h *mountinfo.Info) string {
	b, err := sysfile.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	return cgroupDirIn(string(b), h)
}

// cgroupDirIn finds hierarchy h's line in a /proc/PID/cgroup text
// ("ID:CONTROLLERS:PATH"; cgroup2's is "0::PATH") and makes its path a
// directory below h's mount point.
func cgroupDirIn(procCgroup string, h *mountinfo.Info) string {
	opts := map[string]bool{}
	for _, o := range strings.Split(h.VFSOptions, ",") {
		opts[o] = true
	}
	for _, line := range strings.Split(procCgroup, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		match := false
		if h.FSType == "cgroup2" {
			match = f[0] == "0" && f[1] == ""
		} else {
			for _, c := range strings.Split(f[1], ",") {
				if c != "" && opts[c] {
					match = true
					break
				}
			}
		}
		if !match {
			continue
		}
		rel, err := filepath.Rel(h.Root, f[2])
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return ""
		}
		return filepath.Join(h.Mountpoint, rel)
	}
	return ""
}
