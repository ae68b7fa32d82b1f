package cgroups

// The systemd driver (--systemd-cgroup): the container's cgroup is a
// transient unit of systemd's, a scope started over D-Bus with the init's
// pid and Delegate=yes, in the slice the cgroupsPath names. Everything
// systemd has no say in (freezing, statistics, signalling, the process
// list, the files it has no property for) goes through the cgroupfs
// manager on the scope's directories, as runc's driver does.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var systemdSelected bool

// UseSystemd selects the driver of the managers New makes from now on:
// systemd (hull --systemd-cgroup) or the cgroupfs one.
func UseSystemd(on bool) { systemdSelected = on }

// SystemdSelected tells whether UseSystemd(true) was called.
func SystemdSelected() bool { return systemdSelected }

// sdTimeout bounds every wait on systemd: a job that never completes (a
// systemd that died, a stuck D-Bus) ends in an error, not a hang.
const sdTimeout = 30 * time.Second

// SavedUnit is what the state keeps of a systemd-managed cgroup.
type SavedUnit struct {
	Unit  string `json:"unit"`
	Slice string `json:"slice"`
	// User: the unit is the user's systemd instance's (rootless).
	User bool `json:"user,omitempty"`
}

// sdManager is the systemd driver: the cgroupfs manager of the unit's
// directories, plus the unit.
type sdManager struct {
	*manager
	unit, slice string
	scope       bool
	// user: the unit is the user's systemd instance's (rootless).
	user bool
	// props are the org.systemd.property.* annotations, for the start.
	props []sd.Property
	// pending: Create was called, the unit starts with the init's pid
	// (Apply); started: it did.
	pending, started bool
	// applied is what this process's earlier Sets wrote to the files.
	applied *specs.LinuxResources
}

// overlay lays the fields r sets over base.
func overlay(base, r *specs.LinuxResources) *specs.LinuxResources {
	if base == nil {
		return r
	}
	m := *base
	if r.Devices != nil {
		m.Devices = r.Devices
	}
	if r.Memory != nil {
		m.Memory = r.Memory
	}
	if r.CPU != nil {
		m.CPU = r.CPU
	}
	if r.Pids != nil {
		m.Pids = r.Pids
	}
	if r.BlockIO != nil {
		m.BlockIO = r.BlockIO
	}
	if r.HugepageLimits != nil {
		m.HugepageLimits = r.HugepageLimits
	}
	if r.Network != nil {
		m.Network = r.Network
	}
	if r.Rdma != nil {
		m.Rdma = r.Rdma
	}
	if r.Unified != nil {
		m.Unified = r.Unified
	}
	return &m
}

// NewSystemd makes the systemd manager of a new container.
// cgroupsPath is in systemd's form, slice:prefix:name (empty: the
// default); annotations may add unit properties. user (rootless cgroups,
// as runc's config.Rootless) puts the unit in the user's own systemd
// instance, over the session bus, below its manager's cgroup: cgroup v2
// only, as runc.
func NewSystemd(cgroupsPath, id string, annotations map[string]string, user bool) (Manager, error) {
	if !isRunningSystemd() {
		return nil, errors.New("systemd not running on this host, cannot use systemd cgroups manager")
	}
	u, err := parseSystemdPath(cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	u.User = user
	props, err := annotationProps(annotations)
	if err != nil {
		return nil, err
	}
	if _, err := u.cgroupPath(""); err != nil {
		return nil, err
	}
	b := busOf(user)
	if _, err := sdConn(b); err != nil {
		return nil, err
	}
	managerCG := ""
	if user {
		if DetectMode() != Unified {
			return nil, errors.New("cannot use rootless systemd cgroups manager on cgroup v1")
		}
		// The user's manager runs in a cgroup of the system's
		// (/user.slice/user-UID.slice/user@UID.service): its slices
		// are below it.
		if managerCG, err = managerString(b, "ControlGroup"); err != nil {
			return nil, fmt.Errorf("systemd cgroup driver: the user manager's ControlGroup: %w", err)
		}
	}
	dir, err := u.cgroupPath(managerCG)
	if err != nil {
		return nil, err
	}
	fm, err := New(dir, id)
	if err != nil {
		return nil, err
	}
	return &sdManager{manager: fm.(*manager), unit: u.unit(), slice: u.slice(), scope: !u.isSlice(), props: props, user: user}, nil
}

// bus is the systemd the unit is in.
func (m *sdManager) bus() bus { return busOf(m.user) }

// isRunningSystemd is sd_booted(3): /run/systemd/system is a directory.
func isRunningSystemd() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// startUnit starts the transient unit and waits for the job. A unit of
// that name that exists already (left by a create that was killed) is
// reset and the start tried once more, as runc does.
func (m *sdManager) startUnit(pid int) error {
	props := []sd.Property{sd.PropDescription("hull container " + m.unit)}
	if m.scope {
		props = append(props, sd.PropSlice(m.slice), prop("Delegate", true))
	} else {
		props = append(props, sd.PropWants(m.slice))
	}
	if pid > 0 {
		props = append(props, prop("PIDs", []uint32{uint32(pid)}))
	}
	props = append(props,
		prop("MemoryAccounting", true), prop("CPUAccounting", true),
		prop("IOAccounting", true), prop("TasksAccounting", true),
		prop("DefaultDependencies", false))
	props = append(props, m.props...)
	ch := make(chan string, 1)
	for retry := true; ; retry = false {
		err := sdDo(m.bus(), func(ctx context.Context, c *sd.Conn) error {
			_, err := c.StartTransientUnitContext(ctx, m.unit, "replace", props, ch)
			return err
		})
		if err == nil {
			break
		}
		if retry && isDbusError(err, "org.freedesktop.systemd1.UnitExists") {
			if rerr := resetFailed(m.bus(), m.unit); rerr != nil {
				slog.Warn("reset a leftover unit", "unit", m.unit, "error", rerr)
			}
			continue
		}
		return fmt.Errorf("unable to start unit %q: %w", m.unit, err)
	}
	res, err := waitJob(ch, "create "+m.unit)
	if err == nil && res != "done" {
		err = fmt.Errorf("error creating systemd unit `%s`: got `%s`", m.unit, res)
	}
	if err != nil {
		_ = resetFailed(m.bus(), m.unit)
		return err
	}
	return nil
}

// stopUnit stops the unit and waits; a unit that is not there is fine.
func (m *sdManager) stopUnit() error {
	ch := make(chan string, 1)
	err := sdDo(m.bus(), func(ctx context.Context, c *sd.Conn) error {
		_, err := c.StopUnitContext(ctx, m.unit, "replace", ch)
		return err
	})
	switch {
	case err == nil:
		res, werr := waitJob(ch, "stop "+m.unit)
		if werr != nil {
			return werr
		}
		if res != "done" {
			slog.Warn("stop unit", "unit", m.unit, "result", res)
		}
	case isDbusError(err, "org.freedesktop.systemd1.NoSuchUnit"):
	default:
		return fmt.Errorf("unable to stop unit %q: %w", m.unit, err)
	}
	_ = resetFailed(m.bus(), m.unit)
	return nil
}

// Create implements Manager: the unit starts only with the init's pid
// (a scope cannot start empty), in Apply. The connection was checked by
// NewSystemd.
func (m *sdManager) Create() error {
	m.pending = true
	return nil
}

// OpenJoin implements Manager: before the unit exists there is nothing
// to clone into (nil: the init is placed by Apply).
func (m *sdManager) OpenJoin() (*Join, error) {
	if m.pending && !m.started {
		return nil, nil
	}
	return m.manager.OpenJoin()
}

// Apply implements Manager. For a new container it starts the unit with
// pid in it, then makes the directories systemd does not (v1 hierarchies
// it has no controller in, controllers it left off) and joins them. For
// an existing container (exec) it is the cgroupfs placement.
func (m *sdManager) Apply(pid int) error {
	if m.pending && !m.started {
		if err := m.startUnit(pid); err != nil {
			return err
		}
		m.started = true
		if err := m.manager.Create(); err != nil {
			return err
		}
	}
	return m.manager.Apply(pid)
}

// Set implements Manager: the limits are checked and written to the files
// first (the cgroupfs manager validates everything before a write), then
// given to systemd as unit properties so that a daemon-reload keeps them.
func (m *sdManager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if m.rootless && r.Devices != nil {
		cp := *r
		cp.Devices = nil
		r = &cp
	}
	props, files, err := resourceProps(r, m.mode == Unified, sdVersion(m.bus()))
	if err != nil {
		return err
	}
	// Everything is checked before systemd is told anything; then, as
	// runc, the properties first and the files last, so that a file
	// systemd has its own idea of (cpu.idle from CPUWeight=0, say) ends
	// with the value asked for.
	if err := validate(files, realHost); err != nil {
		return err
	}
	// ... including what the cgroup's state rules out (checkBeforeUpdate:
	// a MemoryMax below the usage would have systemd OOM-kill the
	// container): the cgroupfs plan, without its writes.
	if m.Exists() {
		t := &txn{}
		_, err := m.manager.plan(files, t)
		t.finish()
		if err != nil {
			return err
		}
	}
	// On v1, systemd rewrites the devices lists disruptively (deny all
	// first): processes would see spurious EPERMs. Freeze around it.
	thaw := false
	if m.mode != Unified && r.Devices != nil {
		if st, err := m.State(); err == nil && st == Thawed {
			if err := m.Freeze(); err == nil {
				thaw = true
			}
		}
	}
	if thaw {
		defer m.Thaw()
	}
	if len(props) > 0 {
		if err := sdDo(m.bus(), func(ctx context.Context, c *sd.Conn) error {
			return c.SetUnitPropertiesContext(ctx, m.unit, true, props...)
		}); err != nil {
			return fmt.Errorf("unable to set unit properties of %s: %w", m.unit, err)
		}
	}
	// A later Set (create sets the pids limit last) has systemd rewrite
	// the unit's cgroup from its properties, undoing what only the files
	// hold (cpu.max's period without a quota, say): the files of the
	// earlier Sets are written again with it.
	all := overlay(m.applied, files)
	if err := m.manager.Set(all); err != nil {
		return err
	}
	m.applied = all
	return nil
}

// OOMKillCount implements Manager. A scope whose last process the OOM
// killer took is gone with its cgroup at once; systemd then keeps the
// unit, failed with the result oom-kill, until it is reset (Destroy): that
// counts as one kill.
func (m *sdManager) OOMKillCount() (uint64, error) {
	n, err := m.manager.OOMKillCount()
	if err == nil || m.Exists() {
		return n, err
	}
	var res string
	if perr := sdDo(m.bus(), func(ctx context.Context, c *sd.Conn) error {
		p, err := c.GetUnitTypePropertyContext(ctx, m.unit, "Scope", "Result")
		if err == nil {
			res, _ = p.Value.Value().(string)
		}
		return err
	}); perr != nil {
		return 0, fmt.Errorf("%w; unit %s: %w", err, m.unit, perr)
	}
	if res == "oom-kill" {
		return 1, nil
	}
	return 0, fmt.Errorf("%w; unit %s: Result %q", err, m.unit, res)
}

// Destroy implements Manager: the unit is stopped (systemd kills what is
// left and removes its cgroup), then what systemd does not remove (v1
// hierarchies it does not manage, sub-cgroups) goes as with cgroupfs. A
// systemd that cannot be reached does not keep the container: its cgroup
// is removed directly and the scope ends when empty.
func (m *sdManager) Destroy() error {
	// What is left is killed first, as with cgroupfs: a stop would send
	// SIGTERM and wait out the unit's TimeoutStopSec for processes that
	// ignore it.
	if m.Exists() && len(m.remaining()) > 0 {
		_ = m.Thaw()
		_ = m.Kill(unix.SIGKILL)
		for deadline := time.Now().Add(5 * time.Second); len(m.remaining()) > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := m.stopUnit(); err != nil {
		slog.Warn("systemd cgroup driver", "unit", m.unit, "error", err)
	}
	return m.manager.Destroy()
}

// Attach asks systemd to move pid into the unit's cgroup, or its
// sub-cgroup sub ("" for the unit's own): AttachProcessesToUnit (systemd
// 248), what runc's exec does. The user's instance, which cannot write the
// cgroup.procs of a process from outside its tree, asks the system's.
func (m *sdManager) Attach(pid int, sub string) error {
	p := "/" + strings.TrimPrefix(sub, "/")
	if p != path.Clean(p) {
		return fmt.Errorf("bad sub cgroup path: %s", sub)
	}
	err := sdDo(m.bus(), func(ctx context.Context, c *sd.Conn) error {
		return c.AttachProcessesToUnit(ctx, m.unit, p, []uint32{uint32(pid)})
	})
	if err != nil {
		return fmt.Errorf("systemd: attach pid %d to %s (%s): %w", pid, m.unit, p, err)
	}
	return nil
}

// Exists implements Manager: whether the unit's cgroup is there. On a v1
// or hybrid host systemd removes the unit's directories in the
// hierarchies it manages when the scope ends, while those it leaves to us
// (freezer, say) stay until Destroy: as runc's legacy driver, the devices
// hierarchy's tells.
func (m *sdManager) Exists() bool {
	if m.mode != Unified {
		if d := m.Path("devices"); d != "" {
			_, err := os.Stat(d)
			return err == nil
		}
	}
	return m.manager.Exists()
}

// Unit is the name of the container's unit.
func (m *sdManager) Unit() string { return m.unit }

// NewFor makes the manager of a new container with the selected driver
// (see UseSystemd).
func NewFor(cgroupsPath, id string, annotations map[string]string, rootless bool) (Manager, error) {
	if systemdSelected {
		return NewSystemd(cgroupsPath, id, annotations, rootless)
	}
	return New(cgroupsPath, id)
}
