package libcontainer

import (
	"fmt"
	"path/filepath"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cgroup returns the container's cgroup manager, or nil for a container
// recorded without one.
func (c *Container) cgroup() cgroups.Manager {
	if c.st.Cgroup == nil {
		return nil
	}
	return cgroups.Load(c.st.Cgroup)
}

// resourcesOf is linux.resources as the cgroup manager applies it, as
// runc builds it: the config's device rules, then runc's default allow
// list, less the default rule of a node that linux.devices redefines
// (/dev/null, ...). The entries of linux.devices are not allowed by
// themselves: a config that denies all devices keeps them denied unless
// one of its rules allows them.
func resourcesOf(spec *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if spec.Linux.Resources != nil {
		r = *spec.Linux.Resources
	}
	rules := append([]specs.LinuxDeviceCgroup{}, r.Devices...)
	dropped := map[specs.LinuxDeviceCgroup]bool{}
	for _, d := range spec.Linux.Devices {
		if rule, ok := cgroups.DefaultDevicePaths[filepath.Clean(d.Path)]; ok {
			dropped[rule] = true
		}
	}
	for _, rule := range cgroups.AllowedDevices {
		if !dropped[rule] {
			rules = append(rules, rule)
		}
	}
	r.Devices = rules
	return &r
}

// splitPids separates linux.resources.pids from the rest: as runc, the
// pids limit is written when the init reports ready, once its threads
// exist; a limit written earlier (say pids.max=1) would leave the init's
// Go runtime unable to start them. The second result is nil when the
// config sets no pids limit.
func splitPids(r *specs.LinuxResources) (rest, pids *specs.LinuxResources) {
	if r == nil || r.Pids == nil {
		return r, nil
	}
	cp := *r
	cp.Pids = nil
	return &cp, &specs.LinuxResources{Pids: r.Pids}
}

// newCgroup resolves linux.cgroupsPath for a new container.
func newCgroup(spec *specs.Spec, id string, rootless bool) (cgroups.Manager, error) {
	m, err := cgroups.NewFor(spec.Linux.CgroupsPath, id, spec.Annotations, rootless)
	if err != nil {
		return nil, fmt.Errorf("%s: linux.cgroupsPath: %w", config.ConfigName, err)
	}
	return m, nil
}

// cgroupDirs maps each hierarchy's mount point to the container's
// directory in it.
func cgroupDirs(s *cgroups.Saved) map[string]string {
	if s == nil {
		return nil
	}
	m := map[string]string{}
	for c, dir := range s.V1 {
		if root := s.V1Roots[c]; root != "" {
			m[root] = dir
		}
	}
	if s.URoot != "" && s.Unified != "" {
		m[s.URoot] = s.Unified
	}
	return m
}
