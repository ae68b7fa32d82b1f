package cgroups

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// userHZ is the unit of cpuacct.stat: USER_HZ, 100 on every architecture
// Linux exports to user space.
const userHZ = 100

// Stats implements Manager. Controllers the host lacks leave their part
// zero; a file that disappears because the kernel is older is skipped.
func (m *manager) Stats() (*Stats, error) {
	s := &Stats{Hugetlb: map[string]Hugetlb{}}
	var errs []error
	try := func(err error) {
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	v2 := m.mode == Unified
	if d, ok := m.v1["cpuacct"]; ok {
		try(statCPUAcctV1(d, s))
	}
	if d, ok := m.v1["cpu"]; ok {
		try(statCPUThrottleV1(d, s))
	} else if v2 {
		try(statCPUV2(m.unified, s))
	}
	if d, ok := m.v1["memory"]; ok {
		try(statMemoryV1(d, s))
	} else if v2 && fileExists(m.unified, "memory.stat") {
		try(statMemoryV2(m.unified, s))
	}
	if d, ok := m.v1["pids"]; ok {
		try(statPids(d, s))
	} else if v2 {
		if fileExists(m.unified, "pids.current") {
			try(statPids(m.unified, s))
		} else {
			// No pids controller: count the processes instead.
			pids, err := m.Pids()
			try(err)
			s.Pids.Current = uint64(len(pids))
		}
	}
	if d, ok := m.v1["blkio"]; ok {
		try(statBlkioV1(d, s))
	} else if v2 && fileExists(m.unified, "io.stat") {
		try(statIOV2(m.unified, s))
	}
	if d, ok := m.v1["hugetlb"]; ok {
		try(statHugetlb(d, s, false))
	} else if m.unified != "" && m.v2ctl["hugetlb"] {
		try(statHugetlb(m.unified, s, true))
	}
	if d, ok := m.v1["cpuset"]; ok {
		try(statCpusetV1(d, s))
	} else if v2 && fileExists(m.unified, "cpuset.cpus.effective") {
		try(statCpusetV2(m.unified, s))
	}
	if m.unified != "" {
		// Pressure stall information is part of cgroup2 itself, so a
		// hybrid host has it too.
		for _, p := range []struct {
			file string
			dst  **PSIStats
		}{{"cpu.pressure", &s.CPU.PSI}, {"memory.pressure", &s.Memory.PSI}, {"io.pressure", &s.Blkio.PSI}} {
			psi, err := readPSI(m.unified, p.file)
			try(err)
			*p.dst = psi
		}
	}
	return s, errors.Join(errs...)
}

// OOMKillCount implements Manager.
func (m *manager) OOMKillCount() (uint64, error) {
	if d, ok := m.v1["memory"]; ok {
		kv, err := readKeyed(d, "memory.oom_control")
		if err != nil {
			return 0, err
		}
		return kv["oom_kill"], nil
	}
	if m.unified != "" && fileExists(m.unified, "memory.events") {
		kv, err := readKeyed(m.unified, "memory.events")
		if err != nil {
			return 0, err
		}
		return kv["oom_kill"], nil
	}
	return 0, errors.New("no memory controller on this host to count OOM kills")
}

func readUintList(dir, file string) ([]uint64, error) {
	c, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, f := range strings.Fields(c) {
		v, err := parseUint(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
		}
		out = append(out, v)
	}
	return out, nil
}

func statCPUAcctV1(dir string, s *Stats) error {
	total, err := readUint(dir, "cpuacct.usage")
	if err != nil {
		return err
	}
	s.CPU.Usage.Total = total
	if s.CPU.Usage.Percpu, err = readUintList(dir, "cpuacct.usage_percpu"); err != nil {
		return err
	}
	kv, err := readKeyed(dir, "cpuacct.stat")
	if err != nil {
		return err
	}
	s.CPU.Usage.User = kv["user"] * (1e9 / userHZ)
	s.CPU.Usage.Kernel = kv["system"] * (1e9 / userHZ)
	// cpuacct.usage_all: a "cpu user system" header, then a row per cpu.
	all, err := readFile(dir, "cpuacct.usage_all")
	if err != nil {
		return err
	}
	for i, line := range strings.Split(strings.TrimSpace(all), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) != 3 {
			continue
		}
		u, err1 := parseUint(f[1])
		k, err2 := parseUint(f[2])
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s/cpuacct.usage_all: %w", dir, err)
		}
		s.CPU.Usage.PercpuUser = append(s.CPU.Usage.PercpuUser, u)
		s.CPU.Usage.PercpuKernel = append(s.CPU.Usage.PercpuKernel, k)
	}
	return nil
}

func statCPUThrottleV1(dir string, s *Stats) error {
	kv, err := readKeyed(dir, "cpu.stat")
	if err != nil {
		return err
	}
	s.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_time"]}
	return nil
}

func statCPUV2(dir string, s *Stats) error {
	kv, err := readKeyed(dir, "cpu.stat")
	if err != nil {
		return err
	}
	s.CPU.Usage.Total = kv["usage_usec"] * 1000
	s.CPU.Usage.User = kv["user_usec"] * 1000
	s.CPU.Usage.Kernel = kv["system_usec"] * 1000
	s.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_usec"] * 1000}
	return nil
}

// memoryEntryV1 reads memory.<part>usage_in_bytes and friends; part is ""
// or "memsw.", "kmem.", "kmem.tcp.".
func memoryEntryV1(dir, part string) (MemoryEntry, error) {
	var e MemoryEntry
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"usage_in_bytes", &e.Usage}, {"max_usage_in_bytes", &e.Max}, {"failcnt", &e.Failcnt}, {"limit_in_bytes", &e.Limit}} {
		v, err := readUint(dir, "memory."+part+f.name)
		if err != nil {
			if part != "" && errors.Is(err, os.ErrNotExist) {
				return MemoryEntry{}, nil // no swap or kmem accounting
			}
			return e, err
		}
		*f.dst = v
	}
	return e, nil
}

func statMemoryV1(dir string, s *Stats) error {
	raw, err := readKeyed(dir, "memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw, s.Memory.Cache = raw, raw["cache"]
	for _, p := range []struct {
		part string
		dst  *MemoryEntry
	}{{"", &s.Memory.Usage}, {"memsw.", &s.Memory.Swap}, {"kmem.", &s.Memory.Kernel}, {"kmem.tcp.", &s.Memory.KernelTCP}} {
		if *p.dst, err = memoryEntryV1(dir, p.part); err != nil {
			return err
		}
	}
	return nil
}

func statMemoryV2(dir string, s *Stats) error {
	raw, err := readKeyed(dir, "memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw, s.Memory.Cache = raw, raw["file"]
	u := &s.Memory.Usage
	if u.Usage, err = readUint(dir, "memory.current"); err != nil {
		return err
	}
	if u.Limit, err = readUint(dir, "memory.max"); err != nil {
		return err
	}
	if v, err := readUint(dir, "memory.peak"); err == nil { // since 5.19
		u.Max = v
	}
	if ev, err := readKeyed(dir, "memory.events"); err == nil {
		u.Failcnt = ev["max"]
	}
	// v1 reports swap as memory+swap; so does hull on v2, for the same
	// consumers.
	if cur, err := readUint(dir, "memory.swap.current"); err == nil {
		sw := MemoryEntry{Usage: cur + u.Usage}
		if lim, err := readUint(dir, "memory.swap.max"); err == nil {
			sw.Limit = lim
			if lim != math.MaxUint64 && u.Limit != math.MaxUint64 {
				sw.Limit = lim + u.Limit
			} else {
				sw.Limit = math.MaxUint64
			}
		}
		if ev, err := readKeyed(dir, "memory.swap.events"); err == nil {
			sw.Failcnt = ev["fail"]
		}
		s.Memory.Swap = sw
	}
	return nil
}

func statPids(dir string, s *Stats) error {
	cur, err := readUint(dir, "pids.current")
	if err != nil {
		return err
	}
	lim, err := readUint(dir, "pids.max")
	if err != nil {
		return err
	}
	if lim == math.MaxUint64 {
		lim = 0 // runc reports "max" as 0, no limit
	}
	s.Pids = Pids{Current: cur, Limit: lim}
	return nil
}

// readBlkioV1 parses "major:minor Op value" lines; the "Total" line is
// left out, as runc does.
func readBlkioV1(dir, file string) ([]BlkioEntry, error) {
	c, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	var out []BlkioEntry
	for _, line := range strings.Split(c, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] == "Total" {
			continue
		}
		maj, min, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		e := BlkioEntry{}
		var errs [3]error
		e.Major, errs[0] = strconv.ParseUint(maj, 10, 64)
		e.Minor, errs[1] = strconv.ParseUint(min, 10, 64)
		v := f[len(f)-1]
		if len(f) == 3 {
			e.Op = f[1]
		}
		e.Value, errs[2] = strconv.ParseUint(v, 10, 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("%s: line %q: %w", filepath.Join(dir, file), line, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// statBlkioV1 takes the first family of files that has data: BFQ's, then
// the throttling layer's (which counts I/O whatever the scheduler).
func statBlkioV1(dir string, s *Stats) error {
	for _, prefix := range []string{"blkio.bfq.", "blkio.throttle."} {
		serviced, err := readBlkioV1(dir, prefix+"io_serviced_recursive")
		if errors.Is(err, os.ErrNotExist) || err == nil && len(serviced) == 0 {
			continue
		}
		if err != nil {
			return err
		}
		bytes, err := readBlkioV1(dir, prefix+"io_service_bytes_recursive")
		if err != nil {
			return err
		}
		s.Blkio.IoServicedRecursive, s.Blkio.IoServiceBytesRecursive = serviced, bytes
		return nil
	}
	return nil
}

// statIOV2 maps io.stat to v1's tables, as runc does.
func statIOV2(dir string, s *Stats) error {
	c, err := readFile(dir, "io.stat")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(c, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		maj, min, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		major, err1 := strconv.ParseUint(maj, 10, 64)
		minor, err2 := strconv.ParseUint(min, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("%s/io.stat: %w", dir, err)
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := BlkioEntry{Major: major, Minor: minor, Value: n}
			switch k {
			case "rbytes":
				e.Op = "Read"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "wbytes":
				e.Op = "Write"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "dbytes":
				e.Op = "Discard"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "rios":
				e.Op = "Read"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			case "wios":
				e.Op = "Write"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			case "dios":
				e.Op = "Discard"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			}
		}
	}
	return nil
}

func statHugetlb(dir string, s *Stats, v2 bool) error {
	sizes, err := hostHugePageSizes()
	if err != nil {
		return err
	}
	for _, size := range sizes {
		p := "hugetlb." + size + "."
		var h Hugetlb
		if v2 {
			if h.Usage, err = readUint(dir, p+"current"); err != nil {
				return err
			}
			ev, err := readKeyed(dir, p+"events")
			if err != nil {
				return err
			}
			h.Failcnt = ev["max"]
		} else {
			if h.Usage, err = readUint(dir, p+"usage_in_bytes"); err != nil {
				return err
			}
			if h.Max, err = readUint(dir, p+"max_usage_in_bytes"); err != nil {
				return err
			}
			if h.Failcnt, err = readUint(dir, p+"failcnt"); err != nil {
				return err
			}
		}
		s.Hugetlb[size] = h
	}
	return nil
}

func readCPUList(dir, file string) ([]uint16, error) {
	c, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	l, err := parseList(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
	}
	out := make([]uint16, len(l))
	for i, v := range l {
		out[i] = uint16(v)
	}
	return out, nil
}

func statCpusetV1(dir string, s *Stats) error {
	var err error
	c := &s.CPUSet
	if c.CPUs, err = readCPUList(dir, "cpuset.cpus"); err != nil {
		return err
	}
	if c.Mems, err = readCPUList(dir, "cpuset.mems"); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		dst  *uint64
	}{
		{"cpu_exclusive", &c.CPUExclusive}, {"mem_hardwall", &c.MemHardwall}, {"mem_exclusive", &c.MemExclusive},
		{"memory_migrate", &c.MemoryMigrate}, {"memory_spread_page", &c.MemorySpreadPage},
		{"memory_spread_slab", &c.MemorySpreadSlab}, {"memory_pressure", &c.MemoryPressure},
		{"sched_load_balance", &c.SchedLoadBalance},
	} {
		v, err := readUint(dir, "cpuset."+f.name)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		*f.dst = v
	}
	if v, err := readFile(dir, "cpuset.sched_relax_domain_level"); err == nil {
		if c.SchedRelaxDomainLevel, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return fmt.Errorf("%s/cpuset.sched_relax_domain_level: %w", dir, err)
		}
	}
	return nil
}

func statCpusetV2(dir string, s *Stats) error {
	var err error
	if s.CPUSet.CPUs, err = readCPUList(dir, "cpuset.cpus.effective"); err != nil {
		return err
	}
	s.CPUSet.Mems, err = readCPUList(dir, "cpuset.mems.effective")
	return err
}

// readPSI parses "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and the
// "full" line.
func readPSI(dir, file string) (*PSIStats, error) {
	c, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	psi := &PSIStats{}
	for _, line := range strings.Split(c, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var d *PSIData
		switch f[0] {
		case "some":
			d = &psi.Some
		case "full":
			d = &psi.Full
		default:
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var perr error
			switch k {
			case "avg10":
				d.Avg10, perr = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, perr = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, perr = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, perr = strconv.ParseUint(v, 10, 64)
			}
			if perr != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, file), perr)
			}
		}
	}
	return psi, nil
}
