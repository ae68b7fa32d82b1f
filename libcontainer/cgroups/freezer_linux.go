package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Freeze implements Manager: the v1 freezer where it is mounted, else
// cgroup.freeze of cgroup2. It returns once every process is frozen.
func (m *manager) Freeze() error { return m.setFreezer(Frozen) }

// Thaw implements Manager.
func (m *manager) Thaw() error { return m.setFreezer(Thawed) }

func (m *manager) setFreezer(want FreezerState) error {
	if dir, ok := m.v1["freezer"]; ok {
		return freezeV1(dir, want)
	}
	if m.unified != "" && fileExists(m.unified, "cgroup.freeze") {
		return freezeV2(m.unified, want)
	}
	return errors.New("no freezer on this host: neither a v1 freezer hierarchy nor cgroup2's cgroup.freeze")
}

// State implements Manager.
func (m *manager) State() (FreezerState, error) {
	if dir, ok := m.v1["freezer"]; ok {
		return stateV1(dir)
	}
	if m.unified != "" {
		return stateV2(m.unified)
	}
	return Undefined, nil
}

// freezeV1 writes freezer.state until it reads back as wanted. Freezing
// can stall in FREEZING when a task is busy in the kernel; like runc, it
// thaws now and then so that such a task can move on, and gives up after
// a few seconds.
func freezeV1(dir string, want FreezerState) error {
	if want == Thawed {
		return writeFile(dir, "freezer.state", string(Thawed))
	}
	for i := 0; i < 1000; i++ {
		if i%50 == 49 {
			if err := writeFile(dir, "freezer.state", string(Thawed)); err != nil {
				return err
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := writeFile(dir, "freezer.state", string(Frozen)); err != nil {
			return err
		}
		if i%25 == 24 {
			time.Sleep(10 * time.Microsecond)
		}
		s, err := readFile(dir, "freezer.state")
		if err != nil {
			return err
		}
		switch strings.TrimSpace(s) {
		case "FROZEN":
			return nil
		case "FREEZING":
			// Give the tasks time to reach the refrigerator: a busy
			// loop is over in well under a second on a loaded host.
			time.Sleep(time.Millisecond)
			continue
		default:
			return fmt.Errorf("%s/freezer.state: unexpected %q while freezing", dir, strings.TrimSpace(s))
		}
	}
	_ = writeFile(dir, "freezer.state", string(Thawed))
	return fmt.Errorf("%s: the processes could not be frozen (stuck in FREEZING)", dir)
}

func stateV1(dir string) (FreezerState, error) {
	for i := 0; ; i++ {
		s, err := readFile(dir, "freezer.state")
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) {
				return Undefined, nil
			}
			return Undefined, err
		}
		switch strings.TrimSpace(s) {
		case "THAWED":
			return Thawed, nil
		case "FROZEN":
			// Frozen because an ancestor is, rather than by us, counts
			// as thawed: thawing this cgroup would not help.
			self, err := readFile(dir, "freezer.self_freezing")
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return Undefined, err
			}
			if err == nil && strings.TrimSpace(self) != "1" {
				return Thawed, nil
			}
			return Frozen, nil
		case "FREEZING":
			// In transition; a stable state follows shortly.
			if i > 1000 {
				return Thawed, nil
			}
			time.Sleep(time.Millisecond)
		default:
			return Undefined, fmt.Errorf("%s/freezer.state: unknown state %q", dir, strings.TrimSpace(s))
		}
	}
}

// freezeV2 writes cgroup.freeze and waits for cgroup.events to report the
// whole subtree frozen (or thawed).
func freezeV2(dir string, want FreezerState) error {
	v := uint64(0)
	if want == Frozen {
		v = 1
	}
	if err := writeFile(dir, "cgroup.freeze", fmt.Sprint(v)); err != nil {
		return err
	}
	err := waitEventsFrozen(dir, v)
	if err != nil && want == Frozen {
		_ = writeFile(dir, "cgroup.freeze", "0")
	}
	return err
}

// waitEventsFrozen polls cgroup.events until its "frozen" key is want.
// The kernel sets it once every task has stopped, which is quick unless a
// task is stuck in an uninterruptible sleep.
func waitEventsFrozen(dir string, want uint64) error {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ev, err := readKeyed(dir, "cgroup.events")
		if err != nil {
			return err
		}
		if ev["frozen"] == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: timed out waiting for cgroup.events to show \"frozen %d\"", dir, want)
		}
	}
}

func stateV2(dir string) (FreezerState, error) {
	s, err := readFile(dir, "cgroup.freeze")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) {
			return Undefined, nil
		}
		return Undefined, err
	}
	switch strings.TrimSpace(s) {
	case "0":
		return Thawed, nil
	case "1":
		// Asked to freeze; it is frozen once cgroup.events says so.
		if err := waitEventsFrozen(dir, 1); err != nil {
			return Undefined, err
		}
		return Frozen, nil
	}
	return Undefined, fmt.Errorf("%s/cgroup.freeze: unknown state %q", dir, strings.TrimSpace(s))
}
