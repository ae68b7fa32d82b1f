package libcontainer

import (
	"testing"

	"github.com/hullrt/hull/libcontainer/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func hasRule(rules []specs.LinuxDeviceCgroup, typ string, major, minor int64) bool {
	for _, r := range rules {
		if r.Allow && r.Type == typ && r.Major != nil && *r.Major == major && r.Minor != nil && *r.Minor == minor {
			return true
		}
	}
	return false
}

// resourcesOf gives the cgroup the config's rules and runc's default list
// only: a linux.devices entry is no allow rule, and one that redefines a
// default node (/dev/null) drops that node's default rule, as in runc.
func TestResourcesOfDevices(t *testing.T) {
	deny := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	spec := &specs.Spec{Linux: &specs.Linux{
		Resources: &specs.LinuxResources{Devices: deny},
		Devices: []specs.LinuxDevice{
			{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11},
			{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
		},
	}}
	r := resourcesOf(spec)
	if len(r.Devices) != 1+len(cgroups.AllowedDevices)-1 || r.Devices[0].Allow {
		t.Errorf("rules = %+v; want the config's deny-all, then the default list less /dev/null's rule", r.Devices)
	}
	if hasRule(r.Devices, "c", 1, 11) {
		t.Errorf("linux.devices /dev/kmsg became an allow rule: %+v", r.Devices)
	}
	if hasRule(r.Devices, "c", 1, 3) {
		t.Errorf("the default /dev/null rule stayed although linux.devices redefines /dev/null: %+v", r.Devices)
	}
	for _, d := range [][2]int64{{1, 5}, {5, 2}, {10, 200}} {
		if !hasRule(r.Devices, "c", d[0], d[1]) {
			t.Errorf("default rule c %d:%d missing: %+v", d[0], d[1], r.Devices)
		}
	}
	if len(spec.Linux.Resources.Devices) != 1 {
		t.Errorf("resourcesOf changed the spec's own rules: %+v", spec.Linux.Resources.Devices)
	}
}
