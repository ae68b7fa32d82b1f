package process

import (
	"os"
	"testing"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/userns"
	"golang.org/x/sys/unix"
)

// The clone's decisions, from the config alone: which of the two ways
// into the namespaces, and which ways into the cgroup.
func TestPlanClone(t *testing.T) {
	v2 := &cgroups.Join{FD: 5}
	v1 := &cgroups.Join{FD: -1, Tasks: []*os.File{os.Stdin}}
	hybrid := &cgroups.Join{FD: 5, Tasks: []*os.File{os.Stdin}}
	for _, c := range []struct {
		name  string
		flags uintptr
		joins int
		j     *cgroups.Join
		maps  userns.Plan
		want  clonePlan
		in    bool // in its cgroup after a clone that used CLONE_INTO_CGROUP
	}{
		{"new namespaces by Go's clone", unix.CLONE_NEWPID | unix.CLONE_NEWNS, 0, v2, userns.Plan{},
			clonePlan{cloneFlags: unix.CLONE_NEWPID | unix.CLONE_NEWNS, intoCgroup: true}, true},
		{"cgroup namespace made by the init", unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP, 0, nil, userns.Plan{},
			clonePlan{cloneFlags: unix.CLONE_NEWNS, newCgroupNS: true}, false},
		{"a joined namespace goes through preinit.c", unix.CLONE_NEWNS, 1, v1, userns.Plan{},
			clonePlan{nsenter: true, tasksInC: true}, true},
		{"a time namespace goes through preinit.c", unix.CLONE_NEWTIME, 0, hybrid, userns.Plan{},
			clonePlan{nsenter: true, tasksInC: true, intoCgroup: true}, true},
		{"v1 tasks not written in C by a process cloned into a new user ns", unix.CLONE_NEWUSER, 0, hybrid, userns.Plan{},
			clonePlan{cloneFlags: unix.CLONE_NEWUSER, newUser: true, intoCgroup: true}, false},
		{"a new user ns through preinit.c writes the tasks first", unix.CLONE_NEWUSER, 1, v1, userns.Plan{},
			clonePlan{nsenter: true, tasksInC: true}, true},
		{"a user's subordinate ids: maps by newuidmap, through preinit.c", unix.CLONE_NEWUSER, 0, nil, userns.Plan{UIDHelper: true},
			clonePlan{nsenter: true}, false},
		{"a user's own ids: Go's clone, setgroups denied", unix.CLONE_NEWUSER, 0, nil, userns.Plan{SetgroupsDeny: true},
			clonePlan{cloneFlags: unix.CLONE_NEWUSER, newUser: true, setgroupsDeny: true}, false},
	} {
		got := planClone(c.flags, c.joins, c.j, c.maps)
		if got != c.want {
			t.Errorf("%s: planClone = %+v, want %+v", c.name, got, c.want)
		}
		if in := got.inCgroup(c.j); in != c.in {
			t.Errorf("%s: inCgroup = %v, want %v", c.name, in, c.in)
		}
	}
	// A kernel without CLONE_INTO_CGROUP: the retry clones plainly, and
	// the caller must Apply.
	pl := planClone(0, 0, v2, userns.Plan{})
	pl.intoCgroup = false
	if pl.inCgroup(v2) {
		t.Error("inCgroup after a plain clone with a cgroup2 directory: true, want false")
	}
}
