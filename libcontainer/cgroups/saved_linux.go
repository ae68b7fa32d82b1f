package cgroups

import (
	"sort"
	"strings"
)

// Saved is what a container's state keeps of its manager: the resolved
// directories. A later command (delete, pause, update…) may run in another
// cgroup, where a relative cgroupsPath would resolve elsewhere, so the
// manager is rebuilt from these, never from the config again.
type Saved struct {
	Mode    Mode              `json:"mode"`
	V1      map[string]string `json:"v1,omitempty"`
	V1Roots map[string]string `json:"v1roots,omitempty"`
	Unified string            `json:"unified,omitempty"`
	URoot   string            `json:"uroot,omitempty"`
	V2Ctl   []string          `json:"v2ctl,omitempty"`
	// Rootless: the manager of a rootless container (Rootless).
	Rootless bool `json:"rootless,omitempty"`
	// Systemd is the unit of a container made with --systemd-cgroup.
	Systemd *SavedUnit `json:"systemd,omitempty"`
}

// Save returns what Load needs to rebuild m.
func Save(m Manager) *Saved {
	if sm, ok := m.(*sdManager); ok {
		s := Save(sm.manager)
		s.Systemd = &SavedUnit{Unit: sm.unit, Slice: sm.slice, User: sm.user}
		return s
	}
	mm, ok := m.(*manager)
	if !ok {
		return nil
	}
	s := &Saved{Mode: mm.mode, V1: mm.v1, V1Roots: mm.v1roots, Unified: mm.unified, URoot: mm.uroot, Rootless: mm.rootless}
	for c := range mm.v2ctl {
		s.V2Ctl = append(s.V2Ctl, c)
	}
	sort.Strings(s.V2Ctl)
	return s
}

// Load rebuilds a manager saved by Save.
func Load(s *Saved) Manager {
	m := &manager{mode: s.Mode, v1: s.V1, v1roots: s.V1Roots, unified: s.Unified, uroot: s.URoot, v2ctl: map[string]bool{}, rootless: s.Rootless, pathSet: true}
	if m.v1 == nil {
		m.v1 = map[string]string{}
	}
	if m.v1roots == nil {
		m.v1roots = map[string]string{}
	}
	for _, c := range s.V2Ctl {
		m.v2ctl[c] = true
	}
	if s.Systemd != nil {
		return &sdManager{manager: m, unit: s.Systemd.Unit, slice: s.Systemd.Slice, scope: strings.HasSuffix(s.Systemd.Unit, ".scope"), user: s.Systemd.User}
	}
	return m
}
