package affinity

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ParseCPUList reads "0-3,5,7-8" (the kernel's list format).
func ParseCPUList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q in %q", part, s)
			}
		}
		if b > 8191 {
			return nil, fmt.Errorf("%d is too large in %q", b, s)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

func Set(list string) error {
	cpus, err := ParseCPUList(list)
	if err != nil {
		return err
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("set cpu affinity %q: %w", list, err)
	}
	return nil
}

// Reset allows every CPU the kernel may ever have, as runc does
// for a new process once it is in its cgroup: the process does not keep
// the runtime's own affinity (taskset hull ...), and the kernel narrows
// the mask to the cgroup's cpuset while remembering the request for a
// later cpuset change. A failure only leaves the inherited mask.
func Reset() {
	const maxCPUs = 64 * 1024
	mask := make([]byte, maxCPUs/8)
	for i := range mask {
		mask[i] = 0xff
	}
	unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, 0, uintptr(len(mask)), uintptr(unsafe.Pointer(&mask[0])))
}
