package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hullrt/hull/internal/procmounts"
	"github.com/hullrt/hull/internal/sysfile"
	"github.com/moby/sys/mountinfo"
)

// hierarchy is one mounted cgroup hierarchy.
type hierarchy struct {
	mountpoint string
	// root is the cgroup shown at the mountpoint (mountinfo's root
	// field): "/" normally, a sub-cgroup inside a container that bind
	// mounts its own cgroup.
	root string
	// controllers of a v1 hierarchy, with named hierarchies as "name=X".
	controllers []string
	v2          bool
}

// v1Controllers are the controller names a v1 mount's options can carry;
// the other options (rw, noprefix, clone_children, ...) are not
// controllers.
var v1Controllers = map[string]bool{
	"cpuset": true, "cpu": true, "cpuacct": true, "blkio": true, "memory": true,
	"devices": true, "freezer": true, "net_cls": true, "perf_event": true,
	"net_prio": true, "hugetlb": true, "pids": true, "rdma": true, "misc": true, "debug": true,
}

func readHierarchies() ([]hierarchy, error) {
	mounts, err := procmounts.Cgroups()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", procMountinfo, err)
	}
	return hierarchiesOf(mounts), nil
}

// cgroupMounts keeps the cgroup and cgroup2 mounts of a mount table.
func cgroupMounts(i *mountinfo.Info) (skip, stop bool) {
	return i.FSType != "cgroup" && i.FSType != "cgroup2", false
}

// parseHierarchies lists the cgroup mounts of a mountinfo file (the
// tests' tables).
func parseHierarchies(r io.Reader) ([]hierarchy, error) {
	mounts, err := mountinfo.GetMountsFromReader(r, cgroupMounts)
	if err != nil {
		return nil, err
	}
	return hierarchiesOf(mounts), nil
}

// hierarchiesOf lists the hierarchies of cgroup mounts. A hierarchy
// mounted twice is listed once, preferring the mount under
// /sys/fs/cgroup, so that bind mounts elsewhere do not shadow it.
func hierarchiesOf(mounts []*mountinfo.Info) []hierarchy {
	var out []hierarchy
	index := map[string]int{}
	for _, mi := range mounts {
		h := hierarchy{mountpoint: mi.Mountpoint, root: mi.Root, v2: mi.FSType == "cgroup2"}
		key := "cgroup2"
		if !h.v2 {
			for _, o := range strings.Split(mi.VFSOptions, ",") {
				if v1Controllers[o] || strings.HasPrefix(o, "name=") {
					h.controllers = append(h.controllers, o)
				}
			}
			if len(h.controllers) == 0 {
				continue
			}
			key = strings.Join(h.controllers, ",")
		}
		if i, ok := index[key]; ok {
			if !underCgroupRoot(out[i].mountpoint) && underCgroupRoot(h.mountpoint) {
				out[i] = h
			}
			continue
		}
		index[key] = len(out)
		out = append(out, h)
	}
	return out
}

func underCgroupRoot(p string) bool {
	return p == cgroupRoot || strings.HasPrefix(p, cgroupRoot+"/")
}

// ownCgroups is the calling process's place in each hierarchy, from
// /proc/self/cgroup.
type ownCgroups struct {
	v1    map[string]string // controller or "name=X" -> path
	v2    string
	hasV2 bool
}

func readOwnCgroups() (ownCgroups, error) {
	f, err := sysfile.Open(procSelfCgroup, os.O_RDONLY)
	if err != nil {
		return ownCgroups{}, err
	}
	defer f.Close()
	o, err := parseOwnCgroups(f)
	if err != nil {
		return ownCgroups{}, fmt.Errorf("read %s: %w", procSelfCgroup, err)
	}
	return o, nil
}

// parseOwnCgroups reads lines "ID:controllers:path"; the cgroup2 line is
// "0::path".
func parseOwnCgroups(r io.Reader) (ownCgroups, error) {
	o := ownCgroups{v1: map[string]string{}}
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return o, fmt.Errorf("malformed line %q", line)
		}
		if parts[0] == "0" && parts[1] == "" {
			o.v2, o.hasV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c != "" {
				o.v1[c] = parts[2]
			}
		}
	}
	return o, s.Err()
}

// readControllers lists the controllers offered in a cgroup2 directory.
func readControllers(dir string) ([]string, error) {
	s, err := readFile(dir, "cgroup.controllers")
	if err != nil {
		return nil, err
	}
	return strings.Fields(s), nil
}

// dirFor places the container's inner path in this hierarchy: an
// absolute path straight under the mountpoint, a relative one under the
// caller's own cgroup (own, as /proc/self/cgroup shows it, relative to the
// mount's root).
func (h hierarchy) dirFor(own string, haveOwn bool, inner string) (string, error) {
	if filepath.IsAbs(inner) {
		return filepath.Join(h.mountpoint, inner), nil
	}
	if !haveOwn {
		return "", fmt.Errorf("relative cgroups path %q: no entry for the hierarchy at %s in %s", inner, h.mountpoint, procSelfCgroup)
	}
	rel, err := filepath.Rel(h.root, own)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("relative cgroups path %q: own cgroup %s is not visible in the hierarchy at %s (mount root %s)", inner, own, h.mountpoint, h.root)
	}
	return filepath.Join(h.mountpoint, rel, inner), nil
}

// innerPath checks and cleans the spec's cgroupsPath; empty means
// "/"+id, runc's default.
func innerPath(cgroupsPath, id string) (string, error) {
	p := cgroupsPath
	if p == "" {
		if id == "" || strings.Contains(id, "/") || id == "." || id == ".." {
			return "", fmt.Errorf("container id %q cannot name a cgroup", id)
		}
		p = "/" + id
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return "", fmt.Errorf("linux.cgroupsPath %q: \"..\" components are not allowed", cgroupsPath)
		}
	}
	clean := filepath.Clean(p)
	if clean == "/" || clean == "." {
		return "", fmt.Errorf("linux.cgroupsPath %q names the hierarchy root, not a cgroup of its own", cgroupsPath)
	}
	return clean, nil
}

// ProcessCgroup2Dir is the cgroup2 directory pid is in, from
// /proc/PID/cgroup, on a unified host only ("" elsewhere or when it
// cannot be read). An exec falls back to it when the container's cgroup
// refuses a process: its init moved to a sub-cgroup and enabled
// controllers in the container cgroup's subtree_control (cgroup2's "no
// internal processes" rule), or it left that cgroup altogether.
func ProcessCgroup2Dir(pid int) string {
	if pid <= 0 || DetectMode() != Unified {
		return ""
	}
	f, err := sysfile.Open("/proc/"+strconv.Itoa(pid)+"/cgroup", os.O_RDONLY)
	if err != nil {
		return ""
	}
	defer f.Close()
	o, err := parseOwnCgroups(f)
	if err != nil || !o.hasV2 || !strings.HasPrefix(o.v2, "/") {
		return ""
	}
	return filepath.Join(cgroupRoot, o.v2)
}
