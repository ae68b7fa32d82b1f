package libcontainer

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/store"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestCgroupBindsExternal: on a v1 or hybrid host, the per-hierarchy bind
// mounts of a "cgroup" mount (no cgroup namespace) are external mounts for
// criu: every hierarchy keyed at dump, the container's directory as the
// source at restore; none with a cgroup namespace.
func TestCgroupBindsExternal(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type == unix.CGROUP2_SUPER_MAGIC {
		t.Skip("/sys/fs/cgroup is cgroup2 (a unified host): a cgroup mount is a real cgroup2 mount there, no binds")
	}
	hiers, err := mountinfo.GetMounts(func(i *mountinfo.Info) (bool, bool) {
		return i.FSType != "cgroup" || !strings.HasPrefix(i.Mountpoint, "/sys/fs/cgroup/"), false
	})
	if err != nil || len(hiers) == 0 {
		t.Skipf("no cgroup v1 hierarchy under /sys/fs/cgroup (%v)", err)
	}
	h := hiers[0]
	name := filepath.Base(h.Mountpoint)
	dir := filepath.Join(h.Mountpoint, "hulltest-x")
	c := &Container{st: &store.State{ID: "x", Cgroup: &cgroups.Saved{
		Mode: cgroups.Legacy, V1: map[string]string{name: dir}, V1Roots: map[string]string{name: h.Mountpoint},
	}}}
	spec := &specs.Spec{
		Mounts: []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro"}}},
		Linux:  &specs.Linux{},
	}
	rootfs := t.TempDir()
	keys := func(ms []extMount) map[string]string {
		m := map[string]string{}
		for _, e := range ms {
			if strings.HasPrefix(e.key, "/sys/fs/cgroup/") {
				m[e.key] = e.source
			}
		}
		return m
	}
	key := "/sys/fs/cgroup/" + name
	dump := keys(c.extMounts(spec, rootfs, rootfs, true))
	if !hasKey(dump, key) {
		t.Errorf("dump: no external mount %s (got %v)", key, dump)
	}
	for _, o := range hiers {
		if k := "/sys/fs/cgroup/" + filepath.Base(o.Mountpoint); !hasKey(dump, k) {
			t.Errorf("dump: no external mount %s for hierarchy %s", k, o.Mountpoint)
		}
	}
	restore := keys(c.extMounts(spec, rootfs, rootfs, false))
	if restore[key] != dir {
		t.Errorf("restore: external mount %s from %q, want the container's %s (got %v)", key, restore[key], dir, restore)
	}
	spec.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.CgroupNamespace}}
	if ms := keys(c.extMounts(spec, rootfs, rootfs, true)); len(ms) != 0 {
		t.Errorf("with a cgroup namespace: external mounts %v, want none (real cgroup mounts)", ms)
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
