package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// updateValues are the flags of `update`, as given (nil: not given).
type updateValues struct {
	BlkioWeight, CPUPeriod, CPUQuota, CPUBurst, CPUShares, CPURtPeriod, CPURtRuntime *string
	CPUIdle, CpusetCpus, CpusetMems                                                  *string
	Memory, MemoryReservation, MemorySwap, KernelMemory, KernelMemoryTCP, PidsLimit  *string
}

// readResources reads a full linux.resources JSON (update --resources).
func readResources(r io.Reader, name string) (*specs.LinuxResources, error) {
	var res specs.LinuxResources
	if err := json.NewDecoder(r).Decode(&res); err != nil {
		return nil, fmt.Errorf("resources %s: %w", name, err)
	}
	return &res, nil
}

// parseBytes reads a size as runc's update does: a number of bytes with an
// optional k, m, g or t suffix (powers of 1024); -1 means unlimited.
func parseBytes(s string) (int64, error) {
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

// Resources turns the flags into the linux.resources they ask for: only
// what was given is set. The errors are runc's ("invalid value for
// --memory: ...").
func (u *updateValues) Resources() (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{}, CPU: &specs.LinuxCPU{}}
	invalid := func(flag string, err error) error {
		return fmt.Errorf("invalid value for %s: %w", flag, err)
	}
	if u.BlkioWeight != nil {
		v, err := strconv.ParseUint(*u.BlkioWeight, 10, 16)
		if err != nil {
			return nil, invalid("blkio-weight", err)
		}
		if v != 0 {
			w := uint16(v)
			r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
		}
	}
	if u.CpusetCpus != nil {
		r.CPU.Cpus = *u.CpusetCpus
	}
	if u.CpusetMems != nil {
		r.CPU.Mems = *u.CpusetMems
	}
	if u.CPUIdle != nil && *u.CPUIdle != "" {
		v, err := strconv.ParseInt(*u.CPUIdle, 10, 64)
		if err != nil {
			return nil, invalid("cpu-idle", err)
		}
		r.CPU.Idle = &v
	}
	for _, f := range []struct {
		flag string
		val  *string
		dst  **uint64
	}{
		{"cpu-burst", u.CPUBurst, &r.CPU.Burst}, {"cpu-period", u.CPUPeriod, &r.CPU.Period},
		{"cpu-rt-period", u.CPURtPeriod, &r.CPU.RealtimePeriod}, {"cpu-share", u.CPUShares, &r.CPU.Shares},
	} {
		if f.val == nil || *f.val == "" {
			continue
		}
		v, err := strconv.ParseUint(*f.val, 10, 64)
		if err != nil {
			return nil, invalid(f.flag, err)
		}
		*f.dst = &v
	}
	for _, f := range []struct {
		flag string
		val  *string
		dst  **int64
	}{
		{"cpu-quota", u.CPUQuota, &r.CPU.Quota}, {"cpu-rt-runtime", u.CPURtRuntime, &r.CPU.RealtimeRuntime},
	} {
		if f.val == nil || *f.val == "" {
			continue
		}
		v, err := strconv.ParseInt(*f.val, 10, 64)
		if err != nil {
			return nil, invalid(f.flag, err)
		}
		*f.dst = &v
	}
	for _, f := range []struct {
		flag string
		val  *string
		dst  **int64
	}{
		{"memory", u.Memory, &r.Memory.Limit}, {"memory-swap", u.MemorySwap, &r.Memory.Swap},
		{"kernel-memory", u.KernelMemory, &r.Memory.Kernel}, {"kernel-memory-tcp", u.KernelMemoryTCP, &r.Memory.KernelTCP},
		{"memory-reservation", u.MemoryReservation, &r.Memory.Reservation},
	} {
		if f.val == nil || *f.val == "" {
			continue
		}
		v, err := parseBytes(*f.val)
		if err != nil {
			return nil, invalid(f.flag, err)
		}
		*f.dst = &v
	}
	if u.PidsLimit != nil {
		v, err := strconv.ParseInt(*u.PidsLimit, 10, 64)
		if err != nil {
			return nil, invalid("pids-limit", err)
		}
		r.Pids = &specs.LinuxPids{Limit: &v}
	}
	return r, nil
}
