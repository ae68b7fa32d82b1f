package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// errV1NoUnified is runc's error for linux.resources.unified on a host
// that is not cgroup v2 only.
var errV1NoUnified = errors.New("linux.resources.unified: invalid configuration: cannot use unified on cgroup v1")

// step performs a controller's writes; everything that can fail without
// writing was done when it was prepared.
type step func(*txn) error

// control is one controller as Set sees it.
type control struct {
	field  string // spec field, for errors
	v1, v2 string // controller names in each version ("" = none)
	// wanted tells whether r asks anything of the controller, on v2
	// when v2 is set (a few v1-only knobs are ignored there, as runc
	// ignores them).
	wanted       func(r *specs.LinuxResources, v2 bool) bool
	prep1, prep2 func(dir string, r *specs.LinuxResources) (step, error)
}

// controls in the order Set applies them. Devices go last: they are the
// hardest write to undo, so a refusal elsewhere rarely needs it undone.
var controls = []control{
	{field: "linux.resources.cpu.cpus", v1: "cpuset", v2: "cpuset", wanted: wantCpuset, prep1: prepCpuset, prep2: prepCpuset},
	{field: "linux.resources.memory", v1: "memory", v2: "memory", wanted: wantMemory, prep1: prepMemoryV1, prep2: prepMemoryV2},
	{field: "linux.resources.cpu", v1: "cpu", v2: "cpu", wanted: wantCPU, prep1: prepCPUV1, prep2: prepCPUV2},
	{field: "linux.resources.pids", v1: "pids", v2: "pids", wanted: wantPids, prep1: prepPids, prep2: prepPids},
	{field: "linux.resources.blockIO", v1: "blkio", v2: "io", wanted: wantBlockIO, prep1: prepBlkioV1, prep2: prepIOV2},
	{field: "linux.resources.hugepageLimits", v1: "hugetlb", v2: "hugetlb", wanted: wantHugetlb, prep1: prepHugetlbV1, prep2: prepHugetlbV2},
	{field: "linux.resources.network.classID", v1: "net_cls", wanted: wantNetCls, prep1: prepNetCls},
	{field: "linux.resources.network.priorities", v1: "net_prio", wanted: wantNetPrio, prep1: prepNetPrio},
	{field: "linux.resources.rdma", v1: "rdma", v2: "rdma", wanted: wantRdma, prep1: prepRdma, prep2: prepRdma},
}

// Set implements Manager.
func (m *manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if err := validate(r, realHost); err != nil {
		return err
	}
	t := &txn{}
	defer t.finish()
	steps, err := m.plan(r, t)
	if err != nil {
		return err
	}
	for _, s := range steps {
		if err := s(t); err != nil {
			t.rollback()
			return err
		}
	}
	return nil
}

// plan routes each request to its hierarchy and prepares the writes,
// failing before any write when a controller is missing or the cgroup's
// state rules a value out.
func (m *manager) plan(r *specs.LinuxResources, t *txn) ([]step, error) {
	var steps []step
	add := func(s step, err error) error {
		if err != nil {
			return err
		}
		if s != nil {
			steps = append(steps, s)
		}
		return nil
	}
	for _, c := range controls {
		dir, onV1 := m.v1[c.v1]
		onV2 := !onV1 && c.v2 != "" && m.unified != "" && m.v2ctl[c.v2]
		// A controller missing everywhere is judged by the rules of the
		// host's main version.
		if !c.wanted(r, onV2 || (!onV1 && m.mode == Unified)) {
			continue
		}
		var err error
		switch {
		case onV1:
			err = add(c.prep1(dir, r))
		case onV2:
			if err = m.ensureEnabled(c.field, c.v2); err == nil {
				err = add(c.prep2(m.unified, r))
			}
		default:
			if err = m.errLost(c.v1, c.v2); err != nil {
				break
			}
			name := c.v1
			if m.mode == Unified && c.v2 != "" {
				name = c.v2
			}
			err = errNoController(c.field, name)
		}
		if err != nil {
			return nil, err
		}
	}
	if r.Unified != nil && m.mode != Unified {
		// runc's check and words: the unified map is for cgroup v2
		// hosts, even where a hybrid host has a cgroup2 hierarchy.
		return nil, errV1NoUnified
	}
	if len(r.Unified) > 0 {
		if err := add(prepUnified(m.unified, r.Unified)); err != nil {
			return nil, err
		}
	}
	if len(r.Devices) > 0 && !m.devicesIgnored() {
		rules, err := deviceRules(r.Devices)
		if err != nil {
			return nil, err
		}
		if dir, ok := m.v1["devices"]; ok {
			err = add(prepareDevicesV1(dir, rules))
		} else if m.mode == Unified {
			err = add(prepareDevicesV2(m.unified, rules, t))
		} else {
			err = errNoController("linux.resources.devices", "devices")
		}
		if err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// ensureEnabled makes sure a controller is enabled for the cgroup2
// directory, enabling it down the path when it is not yet. On a hybrid
// host that happens only here, when a limit needs a controller that only
// cgroup2 has, so that merely creating a container touches no
// subtree_control above it.
func (m *manager) ensureEnabled(field, c string) error {
	if has, err := m.enabled(c); err != nil || has {
		return err
	}
	if err := m.enableControllers([]string{c}); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if has, err := m.enabled(c); err != nil || has {
		return err
	}
	return fmt.Errorf("%s: the %s controller cannot be enabled for %s (see cgroup.subtree_control of its parents)", field, c, m.unified)
}

func (m *manager) enabled(c string) (bool, error) {
	have, err := readControllers(m.unified)
	if err != nil {
		return false, err
	}
	return contains(have, c), nil
}

// enableControllers writes "+name" into cgroup.subtree_control of each
// directory from the cgroup2 root down to the container's parent, where
// it is offered and not enabled yet. Directories that already have it are
// not written.
func (m *manager) enableControllers(ctrls []string) error {
	rel, err := filepath.Rel(m.uroot, filepath.Dir(m.unified))
	if err != nil {
		return err
	}
	dir := m.uroot
	parts := []string{}
	if rel != "." {
		parts = strings.Split(rel, "/")
	}
	for i := 0; ; i++ {
		offered, err := readControllers(dir)
		if err != nil {
			return err
		}
		on, err := readFile(dir, "cgroup.subtree_control")
		if err != nil {
			return err
		}
		var want []string
		for _, c := range ctrls {
			if contains(offered, c) && !contains(strings.Fields(on), c) {
				want = append(want, "+"+c)
			}
		}
		if len(want) > 0 {
			if err := writeFile(dir, "cgroup.subtree_control", strings.Join(want, " ")); err != nil {
				// One at a time, so that one refusal does not keep
				// the others off.
				var last error
				for _, w := range want {
					if err := writeFile(dir, "cgroup.subtree_control", w); err != nil {
						last = err
					}
				}
				if last != nil {
					return last
				}
			}
		}
		if i == len(parts) {
			return nil
		}
		dir = filepath.Join(dir, parts[i])
	}
}

// prepUnified checks the unified map against the cgroup's files; the step
// writes each value, line by line for multi-line values (io.max takes one
// device per write).
func prepUnified(dir string, u map[string]string) (step, error) {
	keys := sortedKeys(u)
	for _, k := range keys {
		if !fileExists(dir, k) {
			ctl, _, _ := strings.Cut(k, ".")
			return nil, fmt.Errorf("linux.resources.unified[%q]: %s has no such file (controller %q unknown or not enabled)", k, dir, ctl)
		}
	}
	return func(t *txn) error {
		for _, k := range keys {
			v := strings.TrimRight(u[k], "\n")
			if !strings.Contains(v, "\n") {
				if err := t.write(dir, k, v); err != nil {
					return fmt.Errorf("linux.resources.unified[%q]: %w", k, err)
				}
				continue
			}
			for _, line := range strings.Split(v, "\n") {
				if err := writeFile(dir, k, line); err != nil {
					return fmt.Errorf("linux.resources.unified[%q]: %w", k, err)
				}
			}
		}
		return nil
	}, nil
}

func wantCpuset(r *specs.LinuxResources, _ bool) bool {
	return r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "")
}

func prepCpuset(dir string, r *specs.LinuxResources) (step, error) {
	return func(t *txn) error {
		if c := r.CPU.Cpus; c != "" {
			if err := t.write(dir, "cpuset.cpus", c); err != nil {
				return fmt.Errorf("linux.resources.cpu.cpus: %w", err)
			}
		}
		if c := r.CPU.Mems; c != "" {
			if err := t.write(dir, "cpuset.mems", c); err != nil {
				return fmt.Errorf("linux.resources.cpu.mems: %w", err)
			}
		}
		return nil
	}, nil
}

func wantPids(r *specs.LinuxResources, _ bool) bool {
	return r.Pids != nil && r.Pids.Limit != nil
}

// prepPids: pids.max is the same file in both versions; a negative limit
// means no limit, and 0 means 1, as in runc (systemd has no TasksMax=0,
// and runc's drivers agree).
func prepPids(dir string, r *specs.LinuxResources) (step, error) {
	v := "max"
	if l := *r.Pids.Limit; l > 0 {
		v = fmt.Sprint(l)
	} else if l == 0 {
		v = "1"
	}
	return func(t *txn) error {
		if err := t.write(dir, "pids.max", v); err != nil {
			return fmt.Errorf("linux.resources.pids.limit: %w", err)
		}
		return nil
	}, nil
}

func wantHugetlb(r *specs.LinuxResources, _ bool) bool { return len(r.HugepageLimits) > 0 }

func prepHugetlbV1(dir string, r *specs.LinuxResources) (step, error) {
	return prepHugetlb(dir, r, ".limit_in_bytes")
}

func prepHugetlbV2(dir string, r *specs.LinuxResources) (step, error) {
	return prepHugetlb(dir, r, ".max")
}

// prepHugetlb sets each size's limit, and the reservation limit as well
// where the kernel has one, as runc does: reservations are what a
// mmap(MAP_HUGETLB) is charged first.
func prepHugetlb(dir string, r *specs.LinuxResources, suffix string) (step, error) {
	for i, l := range r.HugepageLimits {
		if f := "hugetlb." + l.Pagesize + suffix; !fileExists(dir, f) {
			return nil, fmt.Errorf("linux.resources.hugepageLimits[%d]: %s has no %s", i, dir, f)
		}
	}
	return func(t *txn) error {
		for i, l := range r.HugepageLimits {
			v := fmt.Sprint(l.Limit)
			for _, f := range []string{"hugetlb." + l.Pagesize + suffix, "hugetlb." + l.Pagesize + ".rsvd" + suffix} {
				if !fileExists(dir, f) {
					continue
				}
				if err := t.write(dir, f, v); err != nil {
					return fmt.Errorf("linux.resources.hugepageLimits[%d]: %w", i, err)
				}
			}
		}
		return nil
	}, nil
}

func wantRdma(r *specs.LinuxResources, _ bool) bool { return len(r.Rdma) > 0 }

func prepRdma(dir string, r *specs.LinuxResources) (step, error) {
	return func(t *txn) error {
		for _, dev := range sortedKeys(r.Rdma) {
			l := r.Rdma[dev]
			line := dev
			if l.HcaHandles != nil {
				line += fmt.Sprintf(" hca_handle=%d", *l.HcaHandles)
			}
			if l.HcaObjects != nil {
				line += fmt.Sprintf(" hca_object=%d", *l.HcaObjects)
			}
			if line == dev {
				continue
			}
			if err := t.writeKeyed(dir, "rdma.max", dev, line, dev+" hca_handle=max hca_object=max"); err != nil {
				return fmt.Errorf("linux.resources.rdma[%q]: %w", dev, err)
			}
		}
		return nil
	}, nil
}
