// Package cgroups manages the control groups of one container: it creates
// them, moves processes in, applies the limits of linux.resources, freezes,
// signals, reports statistics and removes them again. It drives the kernel's
// cgroup file systems directly (runc's "cgroupfs" driver) on the three host
// layouts: unified (cgroup2 only), hybrid (v1 controllers plus a cgroup2
// hierarchy at /sys/fs/cgroup/unified) and legacy (v1 only).
package cgroups

import (
	"fmt"
	"os"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Manager handles the cgroups of one container.
type Manager interface {
	// Create makes the cgroup directories (all hierarchies). Idempotent.
	Create() error
	// OpenJoin opens what lets a new process enter the cgroup without a
	// write of its pid to cgroup.procs (see Join). The caller closes it.
	OpenJoin() (*Join, error)
	// Apply moves pid into the cgroup in every hierarchy.
	Apply(pid int) error
	// Set applies limits. Everything is validated first, so a bad value
	// changes nothing; if the kernel refuses a write half-way, the files
	// already written are restored.
	Set(r *specs.LinuxResources) error
	Freeze() error
	Thaw() error
	State() (FreezerState, error)
	// Pids lists every process of the cgroup and of its sub-cgroups.
	Pids() ([]int, error)
	Stats() (*Stats, error)
	// OOMKillCount is the number of processes the OOM killer killed in
	// the cgroup.
	OOMKillCount() (uint64, error)
	// Kill signals every process of the cgroup.
	Kill(sig unix.Signal) error
	// Destroy kills the remaining processes and removes the cgroup (and
	// any sub-cgroups) from every hierarchy. A missing cgroup is fine.
	Destroy() error
	// Path is the directory of a controller; "" asks for the cgroup2
	// directory (unified or hybrid). It is "" when there is none.
	Path(controller string) string
	// Exists tells whether the cgroup directory exists in any hierarchy.
	Exists() bool
	// CheckUnused refuses a cgroup that a new container cannot take:
	// one that already holds processes (they are not the container's,
	// and its delete would kill them) or one that is frozen (the init
	// would freeze on its first instruction).
	CheckUnused() error
}

// FreezerState is the state of the freezer, with runc's names.
type FreezerState string

const (
	Undefined FreezerState = ""
	Frozen    FreezerState = "FROZEN"
	Thawed    FreezerState = "THAWED"
)

// Mode is the layout of the host's cgroup file systems.
type Mode int

const (
	// Legacy: only cgroup v1 hierarchies.
	Legacy Mode = iota
	// Hybrid: v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified.
	Hybrid
	// Unified: cgroup2 mounted at /sys/fs/cgroup.
	Unified
)

func (m Mode) String() string {
	switch m {
	case Legacy:
		return "legacy"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "unified"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

const (
	cgroupRoot     = "/sys/fs/cgroup"
	hybridUnified  = "/sys/fs/cgroup/unified"
	procSelfCgroup = "/proc/self/cgroup"
	procMountinfo  = "/proc/self/mountinfo"
)

// DetectMode tells the host's layout, the way runc does: by the file
// system type of /sys/fs/cgroup and of /sys/fs/cgroup/unified.
func DetectMode() Mode {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Unified
	}
	if err := unix.Statfs(hybridUnified, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Hybrid
	}
	return Legacy
}

// manager is the one implementation of Manager for all three layouts: a
// controller is served by its v1 hierarchy when it has one, otherwise by
// the cgroup2 directory when that hierarchy offers it.
type manager struct {
	mode Mode
	// v1 maps each v1 controller (and named hierarchies as "name=X") to
	// the container's directory in its hierarchy.
	v1 map[string]string
	// v1roots maps the same keys to the hierarchy's mountpoint, the top
	// when walking down to create directories.
	v1roots map[string]string
	// unified is the container's cgroup2 directory ("" when none) and
	// uroot the cgroup2 mountpoint.
	unified, uroot string
	// v2ctl holds the controllers this manager takes from cgroup2: every
	// controller the kernel offers there on a unified host, only those
	// without a v1 hierarchy on a hybrid one.
	v2ctl map[string]bool
	// created: this manager's Create succeeded.
	created bool
	// made: the directories Create made, parents first, for Rollback
	// (a failed create) to remove.
	made []string
	// rootless, pathSet, lost: see Rootless (rootless_linux.go); lost
	// names the hierarchies left out ("" for cgroup2).
	rootless, pathSet bool
	lost              map[string]bool
}

// New makes the manager for a container. cgroupsPath is the spec's
// linux.cgroupsPath: an absolute path is taken as is under each hierarchy's
// root, a relative one is nested under the calling process's own cgroup in
// each hierarchy, and an empty one means "/"+id.
func New(cgroupsPath, id string) (Manager, error) {
	inner, err := innerPath(cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	mode := DetectMode()
	hiers, err := readHierarchies()
	if err != nil {
		return nil, err
	}
	own, err := readOwnCgroups()
	if err != nil {
		return nil, err
	}
	var offered []string
	switch mode {
	case Unified:
		offered, err = readControllers(cgroupRoot)
	case Hybrid:
		offered, err = readControllers(hybridUnified)
	}
	if err != nil {
		return nil, err
	}
	return newManager(mode, hiers, own, offered, inner)
}

// newManager builds the manager from parsed host facts; it is separate
// from New so that the layouts can be tested from fixtures.
func newManager(mode Mode, hiers []hierarchy, own ownCgroups, offered []string, inner string) (*manager, error) {
	m := &manager{mode: mode, v1: map[string]string{}, v1roots: map[string]string{}, v2ctl: map[string]bool{}}
	for _, h := range hiers {
		switch {
		case h.v2 && mode != Legacy:
			want := cgroupRoot
			if mode == Hybrid {
				want = hybridUnified
			}
			if h.mountpoint != want {
				continue
			}
			dir, err := h.dirFor(own.v2, own.hasV2, inner)
			if err != nil {
				return nil, err
			}
			m.unified, m.uroot = dir, h.mountpoint
		case !h.v2 && mode != Unified:
			for _, c := range h.controllers {
				if _, dup := m.v1[c]; dup {
					continue
				}
				p, ok := own.v1[c]
				dir, err := h.dirFor(p, ok, inner)
				if err != nil {
					return nil, err
				}
				m.v1[c], m.v1roots[c] = dir, h.mountpoint
			}
		}
	}
	if mode != Legacy && m.unified == "" {
		return nil, fmt.Errorf("cgroup2 hierarchy of the %s layout not found in %s", mode, procMountinfo)
	}
	for _, c := range offered {
		if _, onV1 := m.v1[c]; !onV1 {
			m.v2ctl[c] = true
		}
	}
	return m, nil
}

// newUnifiedManager makes a manager that treats the cgroup2 hierarchy at
// root as a unified host, taking only the listed controllers from it.
// The tests use it to run the v2 code on a hybrid host's
// /sys/fs/cgroup/unified.
func newUnifiedManager(root, dir string, controllers []string) *manager {
	m := &manager{mode: Unified, v1: map[string]string{}, v1roots: map[string]string{}, unified: dir, uroot: root, v2ctl: map[string]bool{}}
	for _, c := range controllers {
		m.v2ctl[c] = true
	}
	return m
}

// Path implements Manager.
func (m *manager) Path(controller string) string {
	if controller == "" {
		return m.unified
	}
	if d, ok := m.v1[controller]; ok {
		return d
	}
	if m.mode == Unified || m.v2ctl[controller] {
		return m.unified
	}
	return ""
}

// Exists implements Manager.
func (m *manager) Exists() bool {
	for _, d := range m.dirs() {
		if statDir(d) {
			return true
		}
	}
	return false
}

// Join is what puts a new process in its cgroup before it runs anything,
// without a write of its pid to cgroup.procs: such a write takes the
// kernel's global threadgroup lock, whose first taking in a while waits
// for an RCU grace period (5-15 ms on these machines, most of a run).
type Join struct {
	// FD is the cgroup2 directory, for clone3's CLONE_INTO_CGROUP; -1
	// when the container has none.
	FD int
	// Tasks are the v1 hierarchies' tasks files, open for writing. A
	// single-threaded process that writes "0" to one moves itself (its
	// one thread) without that lock; preinit.c does it before the Go
	// runtime starts threads.
	Tasks []*os.File
}

// Close closes the descriptors.
func (j *Join) Close() {
	if j == nil {
		return
	}
	if j.FD >= 0 {
		unix.Close(j.FD)
	}
	for _, f := range j.Tasks {
		f.Close()
	}
}

// OpenJoin implements Manager.
func (m *manager) OpenJoin() (*Join, error) {
	j := &Join{FD: -1}
	for _, d := range m.dirs() {
		if d == m.unified {
			fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				j.Close()
				return nil, &os.PathError{Op: "open", Path: d, Err: err}
			}
			j.FD = fd
			continue
		}
		f, err := openUnder(d, "tasks", os.O_WRONLY)
		if err != nil {
			j.Close()
			return nil, err
		}
		j.Tasks = append(j.Tasks, f)
	}
	return j, nil
}

// dirs lists the container's directories, one per hierarchy, v1 first
// and in a stable order.
func (m *manager) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range m.v1 {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	if m.unified != "" {
		out = append(out, m.unified)
	}
	return out
}

// procsDir is where Pids and Kill look for processes: the cgroup2
// directory on a unified host; on v1 the freezer hierarchy first, so that
// the processes listed are the ones a freeze stops.
func (m *manager) procsDir() string {
	if m.mode == Unified {
		return m.unified
	}
	for _, c := range []string{"freezer", "devices", "pids", "memory", "cpu"} {
		if d, ok := m.v1[c]; ok {
			return d
		}
	}
	if ds := m.dirs(); len(ds) > 0 {
		return ds[0]
	}
	return ""
}

// errNoController names a controller a request needs and the host lacks.
func errNoController(field, controller string) error {
	return fmt.Errorf("%s: the %s cgroup controller is not available on this host", field, controller)
}
