package rootfs

import (
	"testing"

	"github.com/moby/sys/mountinfo"
)

// The cgroup a process is in, found in its /proc/PID/cgroup for one
// hierarchy, as a directory below the hierarchy's mount point.
func TestCgroupDirIn(t *testing.T) {
	const pc = "12:pids:/user.slice/u\n" +
		"5:cpu,cpuacct:/a/b\n" +
		"1:name=systemd:/user.slice/u\n" +
		"0::/user.slice/u/session\n"
	for _, c := range []struct {
		h    mountinfo.Info
		want string
	}{
		{mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/pids", Root: "/", VFSOptions: "rw,pids"}, "/sys/fs/cgroup/pids/user.slice/u"},
		{mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", VFSOptions: "rw,cpu,cpuacct"}, "/sys/fs/cgroup/cpu,cpuacct/a/b"},
		{mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", VFSOptions: "rw,xattr,name=systemd"}, "/sys/fs/cgroup/systemd/user.slice/u"},
		{mountinfo.Info{FSType: "cgroup2", Mountpoint: "/sys/fs/cgroup/unified", Root: "/", VFSOptions: "rw"}, "/sys/fs/cgroup/unified/user.slice/u/session"},
		// a mount rooted below / (a cgroup namespace's): relative to it
		{mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/pids", Root: "/user.slice", VFSOptions: "rw,pids"}, "/sys/fs/cgroup/pids/u"},
		// outside what the mount shows, or no line for it: none
		{mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/pids", Root: "/other", VFSOptions: "rw,pids"}, ""},
		{mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/memory", Root: "/", VFSOptions: "rw,memory"}, ""},
	} {
		if got := cgroupDirIn(pc, &c.h); got != c.want {
			t.Errorf("%s (root %s, %s): %q, want %q", c.h.Mountpoint, c.h.Root, c.h.VFSOptions, got, c.want)
		}
	}
}

// cgroupHierarchies keeps the cgroup mounts under /sys/fs/cgroup/, the
// first of each name, in the table's order.
func TestCgroupHierarchies(t *testing.T) {
	host := &mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/pids", Root: "/"}
	stacked := &mountinfo.Info{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup/pids", Root: "/ns"}
	unified := &mountinfo.Info{FSType: "cgroup2", Mountpoint: "/sys/fs/cgroup/unified", Root: "/"}
	all := []*mountinfo.Info{
		{FSType: "tmpfs", Mountpoint: "/sys/fs/cgroup/tmp"},
		host,
		{FSType: "cgroup", Mountpoint: "/elsewhere/memory", Root: "/"},
		{FSType: "cgroup", Mountpoint: "/sys/fs/cgroup", Root: "/"},
		stacked,
		unified,
	}
	got := cgroupHierarchies(all)
	if len(got) != 2 || got[0] != host || got[1] != unified {
		var names []string
		for _, h := range got {
			names = append(names, h.FSType+" "+h.Mountpoint+" "+h.Root)
		}
		t.Fatalf("got %q, want the host's pids and unified", names)
	}
}
