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
	BlkioWeight, CPUPeriod, CPUQuota, CPUBurst, CPUShares, CPURtPeriod, CPURtRuntime *string
	CPUIdle, CpusetCpus, CpusetMems                                                  *string
	Memory, MemoryReservation, MemorySwap, KernelMemory, KernelMemoryTCP, PidsLimit  *string
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

// Resources turns the flags into the linux.resources they ask for: only
// what was given is set. The errors are runc's ("invalid value for
// --memory: ...").
func (u *UpdateValues) Resources() (*specs.LinuxResources, error) {
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
		v, err := ParseBytes(*f.val)
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

// mergeUpdate lays an update over the container's resources the way
// runc's update does: what the update gives replaces what was there,
// block I/O device entries are replaced per device, and the rest stays.
// Device rules, huge pages, network and RDMA are not updated (runc
// ignores them in an update).
func mergeUpdate(cur *specs.LinuxResources, u *specs.LinuxResources) specs.LinuxResources {
	var out specs.LinuxResources
	if cur != nil {
		out = *cur
	}
	if m := u.Memory; m != nil {
		nm := specs.LinuxMemory{}
		if out.Memory != nil {
			nm = *out.Memory
		}
		if m.Limit != nil {
			nm.Limit = m.Limit
			if *m.Limit == -1 && m.Swap == nil {
				// runc: no memory limit takes the swap limit with it
				// (Set makes 0 unlimited along with the memory).
				zero := int64(0)
				nm.Swap = &zero
			}
		}
		if m.Reservation != nil {
			nm.Reservation = m.Reservation
		}
		if m.Swap != nil {
			nm.Swap = m.Swap
		}
		if m.CheckBeforeUpdate != nil {
			nm.CheckBeforeUpdate = m.CheckBeforeUpdate
		}
		out.Memory = &nm
	}
	if c := u.CPU; c != nil {
		nc := specs.LinuxCPU{}
		if out.CPU != nil {
			nc = *out.CPU
		}
		set := func(dst **uint64, v *uint64) {
			if v != nil {
				*dst = v
			}
		}
		set(&nc.Period, c.Period)
		set(&nc.Burst, c.Burst)
		set(&nc.Shares, c.Shares)
		set(&nc.RealtimePeriod, c.RealtimePeriod)
		if c.Quota != nil {
			nc.Quota = c.Quota
		}
		if c.RealtimeRuntime != nil {
			nc.RealtimeRuntime = c.RealtimeRuntime
		}
		if c.Cpus != "" {
			nc.Cpus = c.Cpus
		}
		if c.Mems != "" {
			nc.Mems = c.Mems
		}
		if c.Idle != nil {
			nc.Idle = c.Idle
			if c.Shares == nil {
				// The kernel refuses shares while a group is idle;
				// runc leaves them alone when only idle is given.
				nc.Shares = nil
			}
		}
		out.CPU = &nc
	}
	if b := u.BlockIO; b != nil {
		nb := specs.LinuxBlockIO{}
		if out.BlockIO != nil {
			nb = *out.BlockIO
		}
		if b.Weight != nil {
			nb.Weight = b.Weight
		}
		if b.LeafWeight != nil {
			nb.LeafWeight = b.LeafWeight
		}
		nb.WeightDevice = append([]specs.LinuxWeightDevice{}, nb.WeightDevice...)
		for _, wd := range b.WeightDevice {
			replaced := false
			for i := range nb.WeightDevice {
				if nb.WeightDevice[i].Major == wd.Major && nb.WeightDevice[i].Minor == wd.Minor {
					nb.WeightDevice[i], replaced = wd, true
				}
			}
			if !replaced {
				nb.WeightDevice = append(nb.WeightDevice, wd)
			}
		}
		upsert := func(list []specs.LinuxThrottleDevice, add []specs.LinuxThrottleDevice) []specs.LinuxThrottleDevice {
			list = append([]specs.LinuxThrottleDevice{}, list...)
			for _, td := range add {
				replaced := false
				for i := range list {
					if list[i].Major == td.Major && list[i].Minor == td.Minor {
						list[i], replaced = td, true
					}
				}
				if !replaced {
					list = append(list, td)
				}
			}
			return list
		}
		nb.ThrottleReadBpsDevice = upsert(nb.ThrottleReadBpsDevice, b.ThrottleReadBpsDevice)
		nb.ThrottleWriteBpsDevice = upsert(nb.ThrottleWriteBpsDevice, b.ThrottleWriteBpsDevice)
		nb.ThrottleReadIOPSDevice = upsert(nb.ThrottleReadIOPSDevice, b.ThrottleReadIOPSDevice)
		nb.ThrottleWriteIOPSDevice = upsert(nb.ThrottleWriteIOPSDevice, b.ThrottleWriteIOPSDevice)
		out.BlockIO = &nb
	}
	if u.Pids != nil && u.Pids.Limit != nil {
		out.Pids = &specs.LinuxPids{Limit: u.Pids.Limit}
	}
	if u.Unified != nil {
		out.Unified = u.Unified
	}
	return out
}
