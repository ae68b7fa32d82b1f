package libcontainer

import (
	"fmt"

	"github.com/hullrt/hull/libcontainer/cgroups"
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

// resourcesOf is linux.resources as the cgroup manager applies it: the
// config's device rules, then the devices every container may use (runc's
// list), then the config's linux.devices, so that the last match allows
// what the container was given.
func resourcesOf(spec *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if spec.Linux.Resources != nil {
		r = *spec.Linux.Resources
	}
	rules := append([]specs.LinuxDeviceCgroup{}, r.Devices...)
	rules = append(rules, cgroups.AllowedDevices...)
	for _, d := range spec.Linux.Devices {
		major, minor := d.Major, d.Minor
		t := d.Type
		switch t {
		case "u":
			t = "c"
		case "p":
			continue // a FIFO is no device to the devices cgroup
		}
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: t, Major: &major, Minor: &minor, Access: "rwm"})
	}
	r.Devices = rules
	return &r
}

// newCgroup resolves linux.cgroupsPath for a new container.
func newCgroup(spec *specs.Spec, id string) (cgroups.Manager, error) {
	m, err := cgroups.New(spec.Linux.CgroupsPath, id)
	if err != nil {
		return nil, fmt.Errorf("%s: linux.cgroupsPath: %w", ConfigName, err)
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
