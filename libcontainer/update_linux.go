package libcontainer

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// UpdateValues are the flags of `update`, as given (nil: not given).
type UpdateValues struct {
	BlkioWeight, CPUPeriod, CPUQuota, CPUShares, CPURtPeriod, CPURtRuntime *string
	CpusetCpus, CpusetMems                                                 *string
	Memory, MemoryReservation, MemorySwap, PidsLimit                       *string
}

// ReadResources reads a full linux.resources JSON (update --resources).
func ReadResources(r io.Reader, name string) (*specs.LinuxResources, error) {
	var res specs.LinuxResources
	if err := json.NewDecoder(r).Decode(&res); err != nil {
		return nil, fmt.Errorf("resources %s: %w", name, err)
	}
	return &res, nil
}

// ParseBytes reads a size as runc's update does: a number of bytes with an
// optional k, m, g or t suffix (powers of 1024); -1 means unlimited.
func ParseBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(v * float64(mult)), nil
}

// Apply merges the given values into r.
func (u *UpdateValues) Apply(r *specs.LinuxResources) error {
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	sizes := []struct {
		flag string
		val  *string
		dst  **int64
	}{
		{"--memory", u.Memory, &r.Memory.Limit},
		{"--memory-reservation", u.MemoryReservation, &r.Memory.Reservation},
		{"--memory-swap", u.MemorySwap, &r.Memory.Swap},
	}
	for _, s := range sizes {
		if s.val == nil {
			continue
		}
		v, err := ParseBytes(*s.val)
		if err != nil {
			return fmt.Errorf("%s: %w", s.flag, err)
		}
		*s.dst = &v
	}
	uints := []struct {
		flag string
		val  *string
		dst  **uint64
	}{
		{"--cpu-period", u.CPUPeriod, &r.CPU.Period}, {"--cpu-share", u.CPUShares, &r.CPU.Shares},
		{"--cpu-rt-period", u.CPURtPeriod, &r.CPU.RealtimePeriod},
	}
	for _, s := range uints {
		if s.val == nil {
			continue
		}
		v, err := strconv.ParseUint(*s.val, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a non-negative number", s.flag, *s.val)
		}
		*s.dst = &v
	}
	ints := []struct {
		flag string
		val  *string
		dst  **int64
	}{
		{"--cpu-quota", u.CPUQuota, &r.CPU.Quota}, {"--cpu-rt-runtime", u.CPURtRuntime, &r.CPU.RealtimeRuntime},
	}
	for _, s := range ints {
		if s.val == nil {
			continue
		}
		v, err := strconv.ParseInt(*s.val, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number", s.flag, *s.val)
		}
		*s.dst = &v
	}
	if u.CpusetCpus != nil {
		r.CPU.Cpus = *u.CpusetCpus
	}
	if u.CpusetMems != nil {
		r.CPU.Mems = *u.CpusetMems
	}
	if u.PidsLimit != nil {
		v, err := strconv.ParseInt(*u.PidsLimit, 10, 64)
		if err != nil {
			return fmt.Errorf("--pids-limit: %q is not a number", *u.PidsLimit)
		}
		r.Pids = &specs.LinuxPids{Limit: &v}
	}
	if u.BlkioWeight != nil {
		v, err := strconv.ParseUint(*u.BlkioWeight, 10, 16)
		if err != nil {
			return fmt.Errorf("--blkio-weight: %q is not a number", *u.BlkioWeight)
		}
		w := uint16(v)
		if r.BlockIO == nil {
			r.BlockIO = &specs.LinuxBlockIO{}
		}
		r.BlockIO.Weight = &w
	}
	return nil
}
