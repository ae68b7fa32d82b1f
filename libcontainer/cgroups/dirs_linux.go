package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Create implements Manager. Directories made by a Create that fails are
// removed again.
func (m *manager) Create() error {
	if err := m.create(); err != nil {
		return err
	}
	m.created = true
	return nil
}

func (m *manager) create() (err error) {
	var made []string
	defer func() {
		if err != nil {
			for i := len(made) - 1; i >= 0; i-- {
				_ = removeDir(made[i])
			}
			return
		}
		m.made = append(m.made, made...)
	}()
	for c, dir := range m.v1 {
		if c == "cpuset" {
			continue // below, once its parent is filled in
		}
		if err := mkdirs(m.v1roots[c], dir, &made); err != nil {
			if m.leaveOut(c, err) {
				continue
			}
			return err
		}
	}
	if dir, ok := m.v1["cpuset"]; ok {
		err := mkdirs(m.v1roots["cpuset"], dir, &made)
		if err == nil {
			err = fillCpuset(m.v1roots["cpuset"], dir)
		}
		if err != nil && !m.leaveOut("cpuset", err) {
			return err
		}
	}
	if m.unified == "" {
		return nil
	}
	if err := mkdirs(m.uroot, m.unified, &made); err != nil {
		if m.leaveOut("", err) {
			return nil
		}
		return err
	}
	if m.mode == Unified {
		// As runc: offer the container every controller the kernel has;
		// a parent that refuses (it has processes of its own) leaves the
		// controller off, and Set says so if a limit needs it.
		_ = m.enableControllers(sortedKeys(m.v2ctl))
	}
	typ, err := readFile(m.unified, "cgroup.type")
	if err == nil && strings.TrimSpace(typ) == "domain invalid" {
		return fmt.Errorf("%s is in the \"domain invalid\" state (a threaded parent), processes cannot join it", m.unified)
	}
	return nil
}

// mkdirs creates dir and the missing directories between root and it,
// noting each directory it made. The directory itself is tried first: its
// parents usually exist (a create's cgroupsPath shares them with the
// other containers), and each mkdir walks the whole path through
// cgroupfs, whose lookups wait on every cgroup being made at the same
// time in that hierarchy.
func mkdirs(root, dir string, made *[]string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("cgroup directory %s is not inside its hierarchy %s", dir, root)
	}
	switch err := makeDir(dir); err {
	case nil:
		*made = append(*made, dir)
		return nil
	case unix.EEXIST:
		return nil
	case unix.ENOENT:
		// A parent is missing: from the top down.
	default:
		return &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	cur := root
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		if err := makeDir(cur); err == nil {
			*made = append(*made, cur)
		} else if err != unix.EEXIST {
			return &os.PathError{Op: "mkdir", Path: cur, Err: err}
		}
	}
	return nil
}

// fillCpuset gives every directory from the hierarchy root down to dir
// the cpus and memory nodes of its parent where it has none: a v1 cpuset
// starts out empty, and no process can join an empty one.
func fillCpuset(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	parent := root
	for _, part := range strings.Split(rel, "/") {
		cur := filepath.Join(parent, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := readFile(cur, f)
			if err != nil {
				return err
			}
			if strings.TrimSpace(v) != "" {
				continue
			}
			pv, err := readFile(parent, f)
			if err != nil {
				return err
			}
			if err := writeFile(cur, f, strings.TrimSpace(pv)); err != nil {
				return err
			}
		}
		parent = cur
	}
	return nil
}

// Apply implements Manager. The directories are created first if needed,
// so that Apply alone is enough to place a process.
func (m *manager) Apply(pid int) error {
	// create makes the cgroup right before the init is cloned; making it
	// again here would repeat a dozen mkdirs and the cpuset fill.
	if !m.created {
		if err := m.Create(); err != nil {
			return err
		}
	}
	p := strconv.Itoa(pid)
	for _, dir := range m.dirs() {
		if err := writeFile(dir, "cgroup.procs", p); err != nil {
			if errors.Is(err, unix.EBUSY) && dir == m.unified {
				return fmt.Errorf("%w (cgroup2 allows no processes in a cgroup whose children have controllers enabled)", err)
			}
			return err
		}
	}
	return nil
}

// Pids implements Manager: the processes of the cgroup and of every
// sub-cgroup, sorted.
func (m *manager) Pids() ([]int, error) {
	dir := m.procsDir()
	if dir == "" {
		return nil, nil
	}
	return procsUnder(dir)
}

// procsUnder lists the processes of dir and its sub-cgroups.
func procsUnder(dir string) ([]int, error) {
	seen := map[int]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			// A sub-cgroup removed during the walk is not an error.
			if errors.Is(err, os.ErrNotExist) && p != dir {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		pids, err := readProcs(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && p != dir {
				return nil
			}
			return err
		}
		for _, pid := range pids {
			seen[pid] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(seen))
	for pid := range seen {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out, nil
}

// remaining lists the processes left in any of the container's
// hierarchies; a process can sit in one hierarchy's sub-cgroup and not in
// another's.
func (m *manager) remaining() []int {
	seen := map[int]bool{}
	var out []int
	for _, d := range m.dirs() {
		pids, _ := procsUnder(d)
		for _, p := range pids {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func readProcs(dir string) ([]int, error) {
	f, err := openUnder(dir, "cgroup.procs", os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []int
	s := bufio.NewScanner(f)
	for s.Scan() {
		pid, err := strconv.Atoi(strings.TrimSpace(s.Text()))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		out = append(out, pid)
	}
	return out, s.Err()
}

// Kill implements Manager. SIGKILL goes through cgroup.kill where cgroup2
// has it: the kernel then kills the whole tree, forks in flight included.
// Otherwise the cgroup is frozen while its processes are listed and
// signalled, so that none forks a new one unseen in between.
func (m *manager) Kill(sig unix.Signal) error {
	if sig == unix.SIGKILL && m.unified != "" {
		err := writeFile(m.unified, "cgroup.kill", "1")
		if err == nil {
			// On a hybrid host a v1 freezer keeps killed processes frozen
			// (and alive) until it thaws.
			if m.mode != Unified {
				if st, _ := m.State(); st == Frozen {
					return m.Thaw()
				}
			}
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	prev, _ := m.State()
	froze := m.Freeze() == nil
	pids, err := m.Pids()
	if err == nil {
		for _, pid := range pids {
			if kerr := unix.Kill(pid, sig); kerr != nil && kerr != unix.ESRCH {
				err = fmt.Errorf("kill %d with %v: %w", pid, sig, kerr)
			}
		}
	}
	// Leave a paused container paused, except that SIGKILL must be let
	// through.
	if froze && (prev != Frozen || sig == unix.SIGKILL) {
		if terr := m.Thaw(); err == nil {
			err = terr
		}
	}
	return err
}

// Destroy implements Manager.
func (m *manager) Destroy() error {
	if !m.Exists() {
		return nil
	}
	if m.removeEmpty() {
		return nil
	}
	if len(m.remaining()) > 0 {
		kerr := m.Kill(unix.SIGKILL)
		// Killed processes leave the cgroup when they exit, which takes
		// a moment after the signal. Whatever Kill could not reach (its
		// hierarchy gone, say) is signalled directly, by PID.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			left := m.remaining()
			if len(left) == 0 {
				break
			}
			if kerr != nil {
				_ = m.Thaw() // a v1 freezer holds killed processes
				for _, pid := range left {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
	}
	var errs []error
	for _, dir := range m.dirs() {
		if err := removeCgroup(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Rollback undoes the Create of a container whose create failed: Destroy,
// then the directories above the container's that this Create made, those
// that are empty (deepest first; a parent of another cgroup too stays),
// so that a failed create leaves no level of a nested cgroupsPath behind.
// Destroy alone (delete) leaves the levels above, as runc.
func Rollback(m Manager) error {
	err := m.Destroy()
	var mm *manager
	switch v := m.(type) {
	case *manager:
		mm = v
	case *sdManager:
		mm = v.manager
	}
	if mm != nil {
		for i := len(mm.made) - 1; i >= 0; i-- {
			_ = removeDir(mm.made[i])
		}
		mm.made = nil
	}
	return err
}

// removeEmpty is Destroy's common case, a container whose processes are
// all gone (run's teardown, delete of a stopped container): one rmdir per
// hierarchy, against a read of cgroup.procs and a walk for sub-cgroups in
// each before it. It reports whether every directory is gone; the kernel
// refuses a directory that still has processes or sub-cgroups, and those
// take Destroy's full path (what it removed here, Kill and the walks skip).
func (m *manager) removeEmpty() bool {
	all := true
	for _, dir := range m.dirs() {
		if err := removeDir(dir); err != nil && err != unix.ENOENT {
			all = false
		}
	}
	return all
}

// removeCgroup removes a cgroup directory and its sub-cgroups, deepest
// first (a cgroup with children cannot be removed).
func removeCgroup(dir string) error {
	if err := rmdir(dir, false); err == nil {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdir(dir, true)
}

// rmdir removes one cgroup directory. The kernel says EBUSY while exiting
// processes are still being taken out; with retry it tries again with a
// doubling delay, about a second in all.
func rmdir(dir string, retry bool) error {
	delay := time.Millisecond
	for tries := 10; ; tries-- {
		err := removeDir(dir)
		switch {
		case err == nil || err == unix.ENOENT:
			return nil
		case err == unix.EINTR:
			continue
		case err == unix.EBUSY && retry && tries > 0:
			time.Sleep(delay)
			delay *= 2
			continue
		}
		return &os.PathError{Op: "rmdir", Path: dir, Err: err}
	}
}

// CheckUnused implements Manager, with runc's wording. Every hierarchy is
// looked at (runc looks at one), and both freezers on a hybrid host: a
// process cloned into a frozen cgroup2 directory freezes as well.
func (m *manager) CheckUnused() error {
	if !m.Exists() {
		return nil
	}
	if pids := m.remaining(); len(pids) > 0 {
		where := m.procsDir()
		if p, _ := procsUnder(where); len(p) == 0 {
			for _, d := range m.dirs() {
				if p, _ := procsUnder(d); len(p) > 0 {
					where = d
					break
				}
			}
		}
		return fmt.Errorf("container's cgroup is not empty: %d process(es) found (in %s)", len(pids), where)
	}
	if dir, ok := m.v1["freezer"]; ok {
		st, err := stateV1(dir)
		if err != nil {
			return fmt.Errorf("unable to get cgroup freezer state: %w", err)
		}
		if st == Frozen {
			return fmt.Errorf("container's cgroup unexpectedly frozen (%s)", dir)
		}
	}
	if m.unified != "" {
		v, err := readFile(m.unified, "cgroup.freeze")
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("unable to get cgroup freezer state: %w", err)
		}
		if strings.TrimSpace(v) == "1" {
			return fmt.Errorf("container's cgroup unexpectedly frozen (%s)", m.unified)
		}
	}
	return nil
}
