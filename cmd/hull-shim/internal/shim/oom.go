package shim

import (
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/store"
)

// oomWatch tells whether the OOM killer killed a process in the
// container's memory cgroup: it reads the cgroup's OOM kill count
// (cgroups.Manager.OOMKillCount: memory.events on cgroup2,
// memory.oom_control on v1) when the container starts and again when it
// has exited. The cgroup is the one hull recorded in state.json.
type oomWatch struct {
	cg   cgroups.Manager
	base uint64
}

// watchOOM starts a watch on the container's cgroup; nil if its state
// names none or the count cannot be read.
func (s *shim) watchOOM() *oomWatch {
	st, err := store.Store{Root: s.o.root}.Load(s.o.id)
	if err != nil || st.Cgroup == nil {
		return nil
	}
	return newOOMWatch(cgroups.Load(st.Cgroup))
}

func newOOMWatch(cg cgroups.Manager) *oomWatch {
	n, err := cg.OOMKillCount()
	if err != nil {
		return nil
	}
	return &oomWatch{cg: cg, base: n}
}

// killed reports whether the count grew since the start.
func (w *oomWatch) killed() bool {
	if w == nil {
		return false
	}
	n, err := w.cg.OOMKillCount()
	return err == nil && n > w.base
}
