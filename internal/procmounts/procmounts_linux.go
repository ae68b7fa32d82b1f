// Package procmounts reads the mount table of hull's own process.
//
// moby/sys/mountinfo's GetMounts reads /proc/thread-self/mountinfo, right
// for a Go program whose threads may sit in different mount namespaces.
// hull's threads never do (a thread that joins another mount namespace is
// locked to its goroutine and dies with it), and the per-thread entry
// costs at exit: the lookup leaves /proc/PID/task/TID dentries behind, the
// exiting thread and the process's reaper then both invalidate that
// subtree, and the reaper spins until the thread is done with it. With 50
// containers created in parallel on two CPUs, the caller's wait4 for a
// `hull create` that had looked up thread-self took up to 64 ms (median
// 25 µs); reading /proc/self/mountinfo, at most 0.07 ms.
package procmounts

import (
	"os"
	"sync"

	"github.com/hullrt/hull/internal/sysfile"
	"github.com/moby/sys/mountinfo"
)

// path is the process's mount table: the mount namespace every thread of
// hull's that reads it is in.
const path = "/proc/self/mountinfo"

// Self returns the mounts of this process's mount namespace that filter
// keeps (all of them for a nil filter), in mountinfo's order.
func Self(filter mountinfo.FilterFunc) ([]*mountinfo.Info, error) {
	f, err := sysfile.Open(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mountinfo.GetMountsFromReader(f, filter)
}

// cgroups holds the first read of Cgroups.
var cgroups struct {
	once   sync.Once
	mounts []*mountinfo.Info
	err    error
}

// Cgroups returns the cgroup and cgroup2 mounts of this process's mount
// namespace as they were at its first call (callers must not change
// them): `create` needs them twice, to place the container's cgroups and
// to plan its /sys/fs/cgroup mount, and each read of mountinfo costs with
// every mount of the host's (the kernel prints them all). hull never
// mounts in its own mount namespace; a process that does (a container's
// init) calls Self.
func Cgroups() ([]*mountinfo.Info, error) {
	cgroups.once.Do(func() {
		cgroups.mounts, cgroups.err = Self(func(i *mountinfo.Info) (bool, bool) {
			return i.FSType != "cgroup" && i.FSType != "cgroup2", false
		})
	})
	return cgroups.mounts, cgroups.err
}
