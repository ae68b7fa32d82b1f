package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hullrt/hull/internal/sysfile"
	"golang.org/x/sys/unix"
)

// readFile returns a cgroup file's content.
func readFile(dir, file string) (string, error) {
	var b []byte
	err := under(dir, file, func(fd int, name string) (err error) {
		b, err = sysfile.ReadFileAt(fd, name, filepath.Join(dir, file))
		return err
	})
	return string(b), err
}

// writeFile writes one value to a cgroup file. Cgroup files take a value
// per write(2), so the data goes out in one call; the file is never
// created, so a missing knob is ENOENT rather than a stray file.
func writeFile(dir, file, data string) error {
	p := filepath.Join(dir, file)
	err := under(dir, file, func(fd int, name string) error {
		return sysfile.WriteFileAt(fd, name, p, []byte(data))
	})
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Op != "open" {
		// The kernel's refusal of the value: say which value.
		return fmt.Errorf("write %q to %s: %w", data, p, pe.Err)
	}
	return err
}

func fileExists(dir, file string) bool {
	return under(dir, file, func(fd int, name string) error {
		var st unix.Stat_t
		return unix.Fstatat(fd, name, &st, 0)
	}) == nil
}

// parseUint parses a cgroup number; "max" is the largest value, as the
// kernel means it.
func parseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		// v1 files show "unlimited" as a negative number in some
		// places (cfs_quota_us -1); such values read as 0.
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	return v, nil
}

func readUint(dir, file string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	v, err := parseUint(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
	}
	return v, nil
}

// readKeyed parses "key value" lines (memory.stat, cpu.stat,
// memory.events, ...).
func readKeyed(dir, file string) (map[string]uint64, error) {
	f, err := openUnder(dir, file, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) != 2 {
			continue
		}
		v, err := parseUint(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		out[fields[0]] = v
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return out, nil
}

// txn writes cgroup files and remembers how to undo each write, so that
// a Set the kernel refuses half-way can put back what it changed.
type txn struct {
	undo []func()
	// end runs when Set is over, whatever happened: it releases what
	// preparing took (a loaded eBPF program).
	end []func()
}

// atEnd records a release step.
func (t *txn) atEnd(f func()) { t.end = append(t.end, f) }

// finish runs the release steps.
func (t *txn) finish() {
	for _, f := range t.end {
		f()
	}
	t.end = nil
}

// write sets a single-value file and records its old value.
func (t *txn) write(dir, file, val string) error {
	old, err := readFile(dir, file)
	restorable := err == nil
	old = strings.TrimSpace(old)
	if file == "memory.oom_control" {
		old, restorable = oomControlValue(old)
	} else if strings.Contains(old, "\n") {
		restorable = false
	}
	if err := writeFile(dir, file, val); err != nil {
		return err
	}
	if restorable && old != val {
		t.undo = append(t.undo, func() { _ = writeFile(dir, file, old) })
	}
	return nil
}

// writeKeyed writes one entry of a file that holds an entry per key
// (per device, per interface): the undo writes the entry's old line back,
// or absent when the key had no entry.
func (t *txn) writeKeyed(dir, file, key, line, absent string) error {
	content, err := readFile(dir, file)
	old := absent
	if err == nil {
		for _, l := range strings.Split(content, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == key {
				old = strings.TrimSpace(l)
			}
		}
	}
	if err := writeFile(dir, file, line); err != nil {
		return err
	}
	if old != "" {
		t.undo = append(t.undo, func() { _ = writeFile(dir, file, old) })
	}
	return nil
}

// onUndo records a custom undo step.
func (t *txn) onUndo(f func()) { t.undo = append(t.undo, f) }

// rollback undoes the recorded writes, newest first.
func (t *txn) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

// oomControlValue turns memory.oom_control's report into the value
// that restores it.
func oomControlValue(s string) (string, bool) {
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill_disable "); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
