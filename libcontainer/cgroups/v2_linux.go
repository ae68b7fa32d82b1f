package cgroups

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The cgroup v2 writes of Set, with runc's conversions from the spec's
// v1-shaped values.

// SharesToWeight converts cpu.shares (2-262144) to cpu.weight (1-10000)
// as runc v1.5.1 does: a quadratic in log2(shares) through the minimum,
// the maximum and the defaults (1024 shares is weight 100); 0 stays 0
// (unset). (runc before 1.3 mapped linearly: 1024 was 39.)
func SharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= 2:
		return 1
	case shares >= 262144:
		return 10000
	}
	l := math.Log2(float64(shares))
	return uint64(math.Ceil(math.Pow(10, (l*l+125*l)/612.0-7.0/34.0)))
}

// BlkioWeightToIOWeight converts blkio.weight (10-1000) to io.weight
// (1-10000) with runc's linear mapping; 0 stays 0 (unset).
func BlkioWeightToIOWeight(weight uint16) uint64 {
	if weight == 0 {
		return 0
	}
	return 1 + (uint64(weight)-10)*9999/990
}

// SwapToV2 converts the spec's swap (memory+swap total, v1's
// memory.memsw) into memory.swap.max (swap alone), as runc does. 0 means
// unset and -1 unlimited, in and out.
func SwapToV2(swap, limit int64) (int64, error) {
	// Like v1: unlimited memory with swap unsaid is unlimited swap too.
	if limit == -1 && swap == 0 {
		return -1, nil
	}
	if swap == -1 || swap == 0 {
		return swap, nil
	}
	if limit == 0 || limit == -1 {
		return 0, errors.New("linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2")
	}
	if swap < limit {
		return 0, fmt.Errorf("linux.resources.memory.swap: %d is below memory.limit %d (swap is the memory+swap total)", swap, limit)
	}
	return swap - limit, nil
}

// v2Num is a limit as cgroup2 files take it: "max" for -1.
func v2Num(v int64) string {
	if v == -1 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

func prepMemoryV2(dir string, r *specs.LinuxResources) (step, error) {
	m := r.Memory
	limit, swap := val(m.Limit), val(m.Swap)
	s, err := SwapToV2(swap, limit)
	if err != nil {
		return nil, err
	}
	swapVal := ""
	if s != 0 || swap > 0 {
		// A swap total equal to the limit converts to 0: no swap at all.
		swapVal = v2Num(s)
	}
	if swapVal != "" && !fileExists(dir, "memory.swap.max") {
		// Without swap accounting there is no swap to limit: "max" and
		// "0" have nothing to do, a real swap limit cannot be honoured.
		if swapVal != "max" && swapVal != "0" {
			return nil, fmt.Errorf("linux.resources.memory.swap: swap accounting is not enabled on this host (%s has no memory.swap.max)", dir)
		}
		swapVal = ""
	}
	if val(m.CheckBeforeUpdate) {
		if err := checkUsage(dir, limit, swap, "memory.current", "memory.swap.current", false); err != nil {
			return nil, err
		}
	}
	return func(t *txn) error {
		if swapVal != "" {
			if err := t.write(dir, "memory.swap.max", swapVal); err != nil {
				return fmt.Errorf("linux.resources.memory.swap: %w", err)
			}
		}
		if limit != 0 {
			if err := t.write(dir, "memory.max", v2Num(limit)); err != nil {
				return fmt.Errorf("linux.resources.memory.limit: %w", err)
			}
		}
		if v := val(m.Reservation); v != 0 {
			if err := t.write(dir, "memory.low", v2Num(v)); err != nil {
				return fmt.Errorf("linux.resources.memory.reservation: %w", err)
			}
		}
		return nil
	}, nil
}

func prepCPUV2(dir string, r *specs.LinuxResources) (step, error) {
	c := r.CPU
	if val(c.RealtimeRuntime) != 0 || val(c.RealtimePeriod) != 0 {
		return nil, errors.New("linux.resources.cpu.realtimeRuntime: realtime scheduling limits do not exist on cgroup v2")
	}
	if val(c.Idle) != 0 && !fileExists(dir, "cpu.idle") {
		return nil, fmt.Errorf("linux.resources.cpu.idle: %s has no cpu.idle", dir)
	}
	if val(c.Burst) != 0 && !fileExists(dir, "cpu.max.burst") {
		return nil, fmt.Errorf("linux.resources.cpu.burst: %s has no cpu.max.burst", dir)
	}
	quota, period := val(c.Quota), val(c.Period)
	var max string
	if quota != 0 || period != 0 {
		q := "max"
		if quota > 0 {
			q = strconv.FormatInt(quota, 10)
		} else if quota == 0 {
			// Only the period changes: keep the quota in force.
			cur, err := readFile(dir, "cpu.max")
			if err != nil {
				return nil, err
			}
			if f := strings.Fields(cur); len(f) > 0 {
				q = f[0]
			}
		}
		max = q
		if period != 0 {
			max += " " + strconv.FormatUint(period, 10)
		}
	}
	return func(t *txn) error {
		if w := SharesToWeight(val(c.Shares)); w != 0 {
			if err := t.write(dir, "cpu.weight", strconv.FormatUint(w, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.shares: %w", err)
			}
		}
		if c.Idle != nil && fileExists(dir, "cpu.idle") {
			if err := t.write(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.idle: %w", err)
			}
		}
		// A burst above the old quota is refused until the new quota is
		// in: retry it after cpu.max then.
		burstLater := false
		if c.Burst != nil && fileExists(dir, "cpu.max.burst") {
			if err := t.write(dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10)); err != nil {
				if !errors.Is(err, unix.EINVAL) || max == "" {
					return fmt.Errorf("linux.resources.cpu.burst: %w", err)
				}
				burstLater = true
			}
		}
		if max != "" {
			if err := t.write(dir, "cpu.max", max); err != nil {
				return fmt.Errorf("linux.resources.cpu.quota: %w", err)
			}
		}
		if burstLater {
			if err := t.write(dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.burst: %w", err)
			}
		}
		return nil
	}, nil
}

func prepIOV2(dir string, r *specs.LinuxResources) (step, error) {
	b := r.BlockIO
	if val(b.LeafWeight) != 0 {
		return nil, errors.New("linux.resources.blockIO.leafWeight: leaf weights do not exist on cgroup v2")
	}
	// BFQ takes blkio's own scale in io.bfq.weight, per device too; the
	// generic io.weight needs the conversion and has no per-device form
	// that hull could map.
	bfq := fileExists(dir, "io.bfq.weight")
	if val(b.Weight) != 0 && !bfq && !fileExists(dir, "io.weight") {
		return nil, fmt.Errorf("linux.resources.blockIO.weight: %s has neither io.bfq.weight nor io.weight", dir)
	}
	for i, wd := range b.WeightDevice {
		if val(wd.LeafWeight) != 0 {
			return nil, fmt.Errorf("linux.resources.blockIO.weightDevice[%d].leafWeight: leaf weights do not exist on cgroup v2", i)
		}
		if val(wd.Weight) != 0 && !bfq {
			return nil, fmt.Errorf("linux.resources.blockIO.weightDevice[%d]: per-device weights need the BFQ scheduler (%s has no io.bfq.weight)", i, dir)
		}
	}
	return func(t *txn) error {
		if w := val(b.Weight); w != 0 {
			var err error
			if bfq {
				err = t.write(dir, "io.bfq.weight", strconv.Itoa(int(w)))
			} else {
				err = t.write(dir, "io.weight", strconv.FormatUint(BlkioWeightToIOWeight(w), 10))
			}
			if err != nil {
				return fmt.Errorf("linux.resources.blockIO.weight: %w", err)
			}
		}
		for i, wd := range b.WeightDevice {
			if w := val(wd.Weight); w != 0 {
				k := devKey(wd.LinuxBlockIODevice)
				if err := t.writeKeyed(dir, "io.bfq.weight", k, fmt.Sprintf("%s %d", k, w), ""); err != nil {
					return fmt.Errorf("linux.resources.blockIO.weightDevice[%d]: %w", i, err)
				}
			}
		}
		for _, tl := range throttles(b) {
			for i, td := range tl.devs {
				k := devKey(td.LinuxBlockIODevice)
				// 0 is "no limit" in the spec (as on v1); io.max says max.
				rate := "max"
				if td.Rate != 0 {
					rate = strconv.FormatUint(td.Rate, 10)
				}
				line := fmt.Sprintf("%s %s=%s", k, tl.v2key, rate)
				if err := t.writeKeyed(dir, "io.max", k, line, k+" rbps=max wbps=max riops=max wiops=max"); err != nil {
					return fmt.Errorf("linux.resources.blockIO.%s[%d]: %w", tl.field, i, err)
				}
			}
		}
		return nil
	}, nil
}
