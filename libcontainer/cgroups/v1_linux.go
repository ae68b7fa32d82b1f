package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The cgroup v1 writes of Set, controller by controller, following runc's
// fs driver.

func wantMemory(r *specs.LinuxResources, v2 bool) bool {
	m := r.Memory
	if m == nil {
		return false
	}
	if val(m.Limit) != 0 || val(m.Reservation) != 0 || val(m.Swap) != 0 {
		return true
	}
	// swappiness, the OOM killer switch and the TCP buffer limit exist
	// on v1 only; runc ignores them on v2 and so does hull.
	return !v2 && (m.Swappiness != nil || m.DisableOOMKiller != nil || val(m.KernelTCP) != 0)
}

func prepMemoryV1(dir string, r *specs.LinuxResources) (step, error) {
	m := r.Memory
	limit, swap := val(m.Limit), val(m.Swap)
	const memsw = "memory.memsw.limit_in_bytes"
	hasSwap := fileExists(dir, memsw)
	// Unlimited memory with swap unsaid means unlimited memory+swap too.
	if limit == -1 && swap == 0 && hasSwap {
		swap = -1
	}
	if swap != 0 && !hasSwap {
		if swap > 0 {
			return nil, fmt.Errorf("linux.resources.memory.swap: swap accounting is not enabled on this host (%s has no %s)", dir, memsw)
		}
		swap = 0
	}
	cur, err := readUint(dir, "memory.limit_in_bytes")
	if err != nil {
		return nil, err
	}
	if swap > 0 && limit == 0 && cur > uint64(swap) {
		return nil, fmt.Errorf("linux.resources.memory.swap: %d is below the current memory limit %d", swap, cur)
	}
	if val(m.CheckBeforeUpdate) {
		if err := checkUsage(dir, limit, swap, "memory.usage_in_bytes", "memory.memsw.usage_in_bytes", true); err != nil {
			return nil, err
		}
	}
	if m.KernelTCP != nil && !fileExists(dir, "memory.kmem.tcp.limit_in_bytes") {
		return nil, fmt.Errorf("linux.resources.memory.kernelTCP: %s has no memory.kmem.tcp.limit_in_bytes", dir)
	}
	return func(t *txn) error {
		setLimit := func() error {
			if limit == 0 {
				return nil
			}
			if err := t.write(dir, "memory.limit_in_bytes", strconv.FormatInt(limit, 10)); err != nil {
				if errors.Is(err, unix.EBUSY) {
					return fmt.Errorf("linux.resources.memory.limit: %w (usage could not be reclaimed below the limit)", err)
				}
				return fmt.Errorf("linux.resources.memory.limit: %w", err)
			}
			return nil
		}
		setSwap := func() error {
			if swap == 0 {
				return nil
			}
			if err := t.write(dir, memsw, strconv.FormatInt(swap, 10)); err != nil {
				return fmt.Errorf("linux.resources.memory.swap: %w", err)
			}
			return nil
		}
		// The kernel keeps memory <= memory+swap at every moment, so the
		// order of the two writes depends on which way the limits move.
		first, second := setLimit, setSwap
		if limit != 0 && swap != 0 && (swap == -1 || cur < uint64(swap)) {
			first, second = setSwap, setLimit
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		if v := val(m.Reservation); v != 0 {
			if err := t.write(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(v, 10)); err != nil {
				return fmt.Errorf("linux.resources.memory.reservation: %w", err)
			}
		}
		if v := val(m.KernelTCP); v != 0 {
			if err := t.write(dir, "memory.kmem.tcp.limit_in_bytes", strconv.FormatInt(v, 10)); err != nil {
				return fmt.Errorf("linux.resources.memory.kernelTCP: %w", err)
			}
		}
		if m.DisableOOMKiller != nil {
			v := "0"
			if *m.DisableOOMKiller {
				v = "1"
			}
			if err := t.write(dir, "memory.oom_control", v); err != nil {
				return fmt.Errorf("linux.resources.memory.disableOOMKiller: %w", err)
			}
		}
		if m.Swappiness != nil {
			if err := t.write(dir, "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10)); err != nil {
				return fmt.Errorf("linux.resources.memory.swappiness: %w", err)
			}
		}
		return nil
	}, nil
}

// checkUsage implements memory.checkBeforeUpdate: a new limit at or below
// what the cgroup uses now is refused instead of reclaiming (v1) or
// OOM-killing (v2). swapIsTotal tells whether the swap file already counts
// memory and swap together (v1) or swap alone (v2).
func checkUsage(dir string, limit, swap int64, usageFile, swapFile string, swapIsTotal bool) error {
	if limit <= 0 && swap <= 0 {
		return nil
	}
	usage, err := readUint(dir, usageFile)
	if err != nil {
		return err
	}
	// The memory+swap total first, as runc: its message is the one a
	// request with both gets.
	if swap > 0 {
		su, err := readUint(dir, swapFile)
		if err != nil {
			return err
		}
		if !swapIsTotal {
			su += usage
		}
		if su >= uint64(swap) {
			return fmt.Errorf("linux.resources.memory.swap: rejecting memory+swap limit %d <= usage %d (checkBeforeUpdate)", swap, su)
		}
	}
	if limit > 0 && usage >= uint64(limit) {
		return fmt.Errorf("linux.resources.memory.limit: rejecting memory limit %d <= usage %d (checkBeforeUpdate)", limit, usage)
	}
	return nil
}

func wantCPU(r *specs.LinuxResources, _ bool) bool {
	c := r.CPU
	return c != nil && (val(c.Shares) != 0 || val(c.Quota) != 0 || val(c.Period) != 0 || c.Burst != nil ||
		val(c.RealtimeRuntime) != 0 || val(c.RealtimePeriod) != 0 || c.Idle != nil)
}

func prepCPUV1(dir string, r *specs.LinuxResources) (step, error) {
	c := r.CPU
	if val(c.Burst) != 0 && !fileExists(dir, "cpu.cfs_burst_us") {
		return nil, fmt.Errorf("linux.resources.cpu.burst: this kernel has no cpu.cfs_burst_us")
	}
	if val(c.Idle) != 0 && !fileExists(dir, "cpu.idle") {
		return nil, fmt.Errorf("linux.resources.cpu.idle: this kernel has no cpu.idle")
	}
	if (val(c.RealtimeRuntime) != 0 || val(c.RealtimePeriod) != 0) && !fileExists(dir, "cpu.rt_runtime_us") {
		return nil, fmt.Errorf("linux.resources.cpu.realtimeRuntime: realtime group scheduling is not available on this kernel (no cpu.rt_runtime_us)")
	}
	return func(t *txn) error {
		if s := val(c.Shares); s != 0 {
			if err := t.write(dir, "cpu.shares", strconv.FormatUint(s, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.shares: %w", err)
			}
			// The kernel clamps out-of-range shares silently; say so.
			got, err := readUint(dir, "cpu.shares")
			if err != nil {
				return err
			}
			if got != s {
				return fmt.Errorf("linux.resources.cpu.shares: the kernel took %d as %d", s, got)
			}
		}
		quota, period := val(c.Quota), val(c.Period)
		// A shorter period can be refused (EINVAL) until the quota is
		// lowered to fit, and a burst until the quota is raised: in those
		// cases the write is retried after the quota.
		var retry []func() error
		if period != 0 {
			w := func() error { return t.write(dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10)) }
			if err := w(); err != nil {
				if !errors.Is(err, unix.EINVAL) || quota == 0 {
					return fmt.Errorf("linux.resources.cpu.period: %w", err)
				}
				retry = append(retry, w)
			}
		}
		if c.Burst != nil && fileExists(dir, "cpu.cfs_burst_us") {
			w := func() error { return t.write(dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10)) }
			if err := w(); err != nil {
				if !errors.Is(err, unix.EINVAL) || quota == 0 {
					return fmt.Errorf("linux.resources.cpu.burst: %w", err)
				}
				retry = append(retry, w)
			}
		}
		if quota != 0 {
			if err := t.write(dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.quota: %w", err)
			}
			for _, w := range retry {
				if err := w(); err != nil {
					return fmt.Errorf("linux.resources.cpu: %w", err)
				}
			}
		}
		if c.Idle != nil && fileExists(dir, "cpu.idle") {
			if err := t.write(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.idle: %w", err)
			}
		}
		// The kernel refuses a period shorter than the current runtime
		// (EINVAL): then the runtime goes first and the period after
		// it, as runc does (runc#4094).
		rtPeriod, rtRuntime := val(c.RealtimePeriod), val(c.RealtimeRuntime)
		periodLater := false
		if rtPeriod != 0 {
			if err := t.write(dir, "cpu.rt_period_us", strconv.FormatUint(rtPeriod, 10)); err != nil {
				if !errors.Is(err, unix.EINVAL) || rtRuntime == 0 {
					return fmt.Errorf("linux.resources.cpu.realtimePeriod: %w", err)
				}
				periodLater = true
			}
		}
		if rtRuntime != 0 {
			if err := t.write(dir, "cpu.rt_runtime_us", strconv.FormatInt(rtRuntime, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.realtimeRuntime: %w", err)
			}
			if periodLater {
				if err := t.write(dir, "cpu.rt_period_us", strconv.FormatUint(rtPeriod, 10)); err != nil {
					return fmt.Errorf("linux.resources.cpu.realtimePeriod: %w", err)
				}
			}
		}
		return nil
	}, nil
}

func wantBlockIO(r *specs.LinuxResources, _ bool) bool {
	b := r.BlockIO
	return b != nil && (val(b.Weight) != 0 || val(b.LeafWeight) != 0 || len(b.WeightDevice) > 0 ||
		len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0)
}

func devKey(d specs.LinuxBlockIODevice) string { return fmt.Sprintf("%d:%d", d.Major, d.Minor) }

func prepBlkioV1(dir string, r *specs.LinuxResources) (step, error) {
	b := r.BlockIO
	// BFQ names its knobs blkio.bfq.*; CFQ (gone from current kernels)
	// used blkio.weight. Neither means the I/O schedulers in use have no
	// cgroup weights.
	weight, weightDev := "blkio.weight", "blkio.weight_device"
	if fileExists(dir, "blkio.bfq.weight") {
		weight, weightDev = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	wantsWeight := val(b.Weight) != 0
	for _, wd := range b.WeightDevice {
		wantsWeight = wantsWeight || val(wd.Weight) != 0
	}
	if wantsWeight && !fileExists(dir, weight) {
		return nil, fmt.Errorf("linux.resources.blockIO.weight: %s has neither blkio.weight nor blkio.bfq.weight (no I/O scheduler with cgroup weights)", dir)
	}
	wantsLeaf := val(b.LeafWeight) != 0
	for _, wd := range b.WeightDevice {
		wantsLeaf = wantsLeaf || val(wd.LeafWeight) != 0
	}
	if wantsLeaf && !fileExists(dir, "blkio.leaf_weight") {
		return nil, fmt.Errorf("linux.resources.blockIO.leafWeight: %s has no blkio.leaf_weight (CFQ only)", dir)
	}
	return func(t *txn) error {
		if w := val(b.Weight); w != 0 {
			if err := t.write(dir, weight, strconv.Itoa(int(w))); err != nil {
				return fmt.Errorf("linux.resources.blockIO.weight: %w", err)
			}
		}
		if w := val(b.LeafWeight); w != 0 {
			if err := t.write(dir, "blkio.leaf_weight", strconv.Itoa(int(w))); err != nil {
				return fmt.Errorf("linux.resources.blockIO.leafWeight: %w", err)
			}
		}
		for i, wd := range b.WeightDevice {
			k := devKey(wd.LinuxBlockIODevice)
			if w := val(wd.Weight); w != 0 {
				if err := t.writeKeyed(dir, weightDev, k, fmt.Sprintf("%s %d", k, w), ""); err != nil {
					return fmt.Errorf("linux.resources.blockIO.weightDevice[%d]: %w", i, err)
				}
			}
			if w := val(wd.LeafWeight); w != 0 {
				if err := t.writeKeyed(dir, "blkio.leaf_weight_device", k, fmt.Sprintf("%s %d", k, w), ""); err != nil {
					return fmt.Errorf("linux.resources.blockIO.weightDevice[%d].leafWeight: %w", i, err)
				}
			}
		}
		for _, tl := range throttles(b) {
			for i, td := range tl.devs {
				k := devKey(td.LinuxBlockIODevice)
				// On v1 a rate of 0 removes the device's limit, which is
				// also how the undo takes away an entry that was not there.
				if err := t.writeKeyed(dir, tl.v1file, k, fmt.Sprintf("%s %d", k, td.Rate), k+" 0"); err != nil {
					return fmt.Errorf("linux.resources.blockIO.%s[%d]: %w", tl.field, i, err)
				}
			}
		}
		return nil
	}, nil
}

func wantNetCls(r *specs.LinuxResources, _ bool) bool {
	return r.Network != nil && r.Network.ClassID != nil
}

func prepNetCls(dir string, r *specs.LinuxResources) (step, error) {
	return func(t *txn) error {
		if err := t.write(dir, "net_cls.classid", strconv.FormatUint(uint64(*r.Network.ClassID), 10)); err != nil {
			return fmt.Errorf("linux.resources.network.classID: %w", err)
		}
		return nil
	}, nil
}

func wantNetPrio(r *specs.LinuxResources, _ bool) bool {
	return r.Network != nil && len(r.Network.Priorities) > 0
}

func prepNetPrio(dir string, r *specs.LinuxResources) (step, error) {
	return func(t *txn) error {
		for i, p := range r.Network.Priorities {
			if err := t.writeKeyed(dir, "net_prio.ifpriomap", p.Name, fmt.Sprintf("%s %d", p.Name, p.Priority), p.Name+" 0"); err != nil {
				return fmt.Errorf("linux.resources.network.priorities[%d]: %w", i, err)
			}
		}
		return nil
	}, nil
}
