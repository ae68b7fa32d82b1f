package libcontainer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
func mountCgroup(root int, cfg *initConfig, m specs.Mount, opts *mountOpts) error {
	dst, err := safepath.MkdirAll(root, m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer unix.Close(dst)
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return unix.Mount("cgroup2", safepath.ProcPath(dst), "cgroup2", opts.flags, strings.Join(opts.data, ","))
	}
	if err := unix.Mount("tmpfs", safepath.ProcPath(dst), "tmpfs", opts.flags&^unix.MS_RDONLY, "mode=755"); err != nil {
		return fmt.Errorf("tmpfs for cgroup hierarchies: %w", err)
	}
	hiers, err := mountinfo.GetMounts(func(i *mountinfo.Info) (bool, bool) {
		ok := (i.FSType == "cgroup" || i.FSType == "cgroup2") && strings.HasPrefix(i.Mountpoint, "/sys/fs/cgroup/")
		return !ok, false
	})
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	own, err := ownCgroups()
	if err != nil {
		return err
	}
	cgroupns := hasNewNS(cfg.Spec, specs.CgroupNamespace)
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
		flags := opts.flags
		if cgroupns {
			err = unix.Mount("cgroup", target, h.FSType, flags, data)
		} else {
			src := filepath.Join(h.Mountpoint, ownPath(own, h, data))
			err = unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, "")
			if err == nil && flags != 0 {
				err = unix.Mount("", target, "", flags|unix.MS_BIND|unix.MS_REMOUNT, "")
			}
		}
		unix.Close(sub)
		if err != nil {
			return fmt.Errorf("cgroup hierarchy %s: %w", name, err)
		}
	}
	if opts.flags&unix.MS_RDONLY != 0 {
		return remount(root, m.Destination, opts.flags|unix.MS_RDONLY, false)
	}
	return nil
}

// ownCgroups maps a hierarchy's controller list ("cpu", "name=systemd", ""
// for cgroup2) to this process's cgroup path in it.
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 {
			res[parts[1]] = parts[2]
		}
	}
	return res, sc.Err()
}

// ownPath finds this process's cgroup in hierarchy h, whose mount options
// (data) name its controllers.
func ownPath(own map[string]string, h *mountinfo.Info, data string) string {
	if h.FSType == "cgroup2" {
		return own[""]
	}
	opts := map[string]bool{}
	for _, o := range strings.Split(data, ",") {
		opts[o] = true
	}
	for key, path := range own {
		if key == "" {
			continue
		}
		all := true
		for _, c := range strings.Split(key, ",") {
			all = all && opts[c]
		}
		if all {
			return path
		}
	}
	return "/"
}
