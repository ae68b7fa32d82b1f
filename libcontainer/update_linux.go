package libcontainer

import specs "github.com/opencontainers/runtime-spec/specs-go"

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
