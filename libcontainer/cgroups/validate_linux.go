package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hullrt/hull/internal/sysfile"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// host gives validation the facts it checks values against; the tests
// replace it to validate without depending on the machine.
type host struct {
	onlineCPUs func() (string, error)
	onlineMems func() (string, error)
	hugeSizes  func() ([]string, error)
	blockDev   func(major, minor int64) error
}

var realHost = host{
	onlineCPUs: func() (string, error) { return readSysList("/sys/devices/system/cpu/online") },
	onlineMems: func() (string, error) {
		s, err := readSysList("/sys/devices/system/node/online")
		if errors.Is(err, os.ErrNotExist) {
			// A kernel without NUMA has node 0 only.
			return "0", nil
		}
		return s, err
	},
	hugeSizes: hostHugePageSizes,
	blockDev:  checkBlockDevice,
}

func readSysList(p string) (string, error) {
	b, err := sysfile.ReadFile(p)
	return strings.TrimSpace(string(b)), err
}

// hostHugePageSizes lists the huge page sizes in the spec's format ("2MB",
// "1GB"), as runc names them from /sys/kernel/mm/hugepages.
func hostHugePageSizes() ([]string, error) {
	ents, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if s, ok := hugePageSizeName(e.Name()); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// hugePageSizeName turns "hugepages-2048kB" into "2MB".
func hugePageSizeName(dir string) (string, bool) {
	v, ok := strings.CutPrefix(dir, "hugepages-")
	if !ok {
		return "", false
	}
	v, ok = strings.CutSuffix(v, "kB")
	if !ok {
		return "", false
	}
	kb, err := strconv.ParseUint(v, 10, 64)
	if err != nil || kb == 0 {
		return "", false
	}
	size := float64(kb) * 1024
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return strconv.FormatFloat(size, 'g', -1, 64) + units[i], true
}

// checkBlockDevice accepts a whole disk the kernel knows; throttles and
// weights are per disk, and the kernel refuses partitions.
func checkBlockDevice(major, minor int64) error {
	p := fmt.Sprintf("/sys/dev/block/%d:%d", major, minor)
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("no block device %d:%d on this host", major, minor)
	}
	if _, err := os.Stat(filepath.Join(p, "partition")); err == nil {
		return fmt.Errorf("block device %d:%d is a partition; limits apply to whole disks", major, minor)
	}
	return nil
}

// parseList parses a cpuset list ("0-3,7"). Empty means unset.
func parseList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("malformed list %q at %q", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("malformed list %q at %q", s, part)
			}
		}
		if b-a > 1<<16 {
			return nil, fmt.Errorf("list %q: range %q is too large", s, part)
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

// checkSubset checks that the cpuset list want only names members of
// the host's online list.
func checkSubset(field, want string, online func() (string, error), what string) error {
	ws, err := parseList(want)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	on, err := online()
	if err != nil {
		return fmt.Errorf("%s: read the host's online %s: %w", field, what, err)
	}
	onl, err := parseList(on)
	if err != nil {
		return fmt.Errorf("%s: host's online %s: %w", field, what, err)
	}
	have := map[int]bool{}
	for _, i := range onl {
		have[i] = true
	}
	for _, i := range ws {
		if !have[i] {
			return fmt.Errorf("%s: %s %d in %q is not online on this host (online: %s)", field, what, i, want, on)
		}
	}
	return nil
}

func val[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}

// validate checks every value of r that can be checked without the
// cgroup itself, so that Set refuses bad input before writing anything.
// The error names each spec field at fault.
func validate(r *specs.LinuxResources, h host) error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("linux.resources.%s: %s", field, fmt.Sprintf(format, a...)))
	}
	if m := r.Memory; m != nil {
		for _, f := range []struct {
			name string
			v    *int64
		}{{"limit", m.Limit}, {"reservation", m.Reservation}, {"swap", m.Swap}, {"kernel", m.Kernel}, {"kernelTCP", m.KernelTCP}} {
			if f.v != nil && *f.v < -1 {
				bad("memory."+f.name, "%d is invalid (a byte count, or -1 for unlimited)", *f.v)
			}
		}
		if l, s := val(m.Limit), val(m.Swap); l > 0 && s > 0 && s < l {
			bad("memory.swap", "%d is below memory.limit %d (swap is the memory+swap total)", s, l)
		}
		if m.Swappiness != nil && *m.Swappiness > 100 {
			bad("memory.swappiness", "%d is outside 0-100", *m.Swappiness)
		}
	}
	if c := r.CPU; c != nil {
		if s := val(c.Shares); s != 0 && (s < 2 || s > 262144) {
			bad("cpu.shares", "%d is outside 2-262144", s)
		}
		if q := val(c.Quota); q < -1 || (q > 0 && q < 1000) {
			bad("cpu.quota", "%d is invalid (at least 1000 µs, or -1 for unlimited)", q)
		}
		if p := val(c.Period); p != 0 && (p < 1000 || p > 1000000) {
			bad("cpu.period", "%d is outside 1000-1000000 µs", p)
		}
		if b, q := val(c.Burst), val(c.Quota); b > 0 && q > 0 && b > uint64(q) {
			bad("cpu.burst", "%d exceeds cpu.quota %d", b, q)
		}
		if rt := val(c.RealtimeRuntime); rt < -1 {
			bad("cpu.realtimeRuntime", "%d is invalid (µs, or -1 for unlimited)", rt)
		} else if p := val(c.RealtimePeriod); p > 0 && rt > 0 && uint64(rt) > p {
			bad("cpu.realtimeRuntime", "%d exceeds cpu.realtimePeriod %d", rt, p)
		}
		if i := val(c.Idle); i != 0 && i != 1 {
			bad("cpu.idle", "%d is invalid (0 or 1)", i)
		}
		if c.Cpus != "" {
			if err := checkSubset("linux.resources.cpu.cpus", c.Cpus, h.onlineCPUs, "cpu"); err != nil {
				errs = append(errs, err)
			}
		}
		if c.Mems != "" {
			if err := checkSubset("linux.resources.cpu.mems", c.Mems, h.onlineMems, "memory node"); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if b := r.BlockIO; b != nil {
		weight := func(field string, w *uint16) {
			if v := val(w); v != 0 && (v < 10 || v > 1000) {
				bad(field, "%d is outside 10-1000", v)
			}
		}
		weight("blockIO.weight", b.Weight)
		weight("blockIO.leafWeight", b.LeafWeight)
		dev := func(field string, d specs.LinuxBlockIODevice) {
			if d.Major < 0 || d.Minor < 0 {
				bad(field, "device %d:%d is invalid", d.Major, d.Minor)
			} else if err := h.blockDev(d.Major, d.Minor); err != nil {
				bad(field, "%v", err)
			}
		}
		for i, wd := range b.WeightDevice {
			f := fmt.Sprintf("blockIO.weightDevice[%d]", i)
			dev(f, wd.LinuxBlockIODevice)
			weight(f+".weight", wd.Weight)
			weight(f+".leafWeight", wd.LeafWeight)
		}
		for _, t := range throttles(b) {
			for i, td := range t.devs {
				dev(fmt.Sprintf("blockIO.%s[%d]", t.field, i), td.LinuxBlockIODevice)
			}
		}
	}
	if len(r.HugepageLimits) > 0 {
		sizes, err := h.hugeSizes()
		if err != nil {
			bad("hugepageLimits", "read the host's huge page sizes: %v", err)
		}
		for i, l := range r.HugepageLimits {
			if !contains(sizes, l.Pagesize) {
				bad(fmt.Sprintf("hugepageLimits[%d].pageSize", i), "%q is not a huge page size of this host (%s)", l.Pagesize, strings.Join(sizes, ", "))
			}
		}
	}
	if n := r.Network; n != nil {
		for i, p := range n.Priorities {
			if p.Name == "" || strings.ContainsAny(p.Name, " \t\n/") {
				bad(fmt.Sprintf("network.priorities[%d].name", i), "%q is not an interface name", p.Name)
			}
		}
	}
	for _, dev := range sortedKeys(r.Rdma) {
		if dev == "" || strings.ContainsAny(dev, " \t\n") {
			bad(fmt.Sprintf("rdma[%q]", dev), "not a device name")
		}
	}
	if _, err := deviceRules(r.Devices); err != nil {
		errs = append(errs, err)
	}
	for _, k := range sortedKeys(r.Unified) {
		if err := checkUnifiedKey(k); err != nil {
			bad(fmt.Sprintf("unified[%q]", k), "%v", err)
		}
	}
	return errors.Join(errs...)
}

type throttleList struct {
	field, v1file, v2key string
	devs                 []specs.LinuxThrottleDevice
}

func throttles(b *specs.LinuxBlockIO) []throttleList {
	return []throttleList{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", b.ThrottleWriteIOPSDevice},
	}
}

// checkUnifiedKey accepts a plain file name; anything that could reach
// outside the cgroup directory, or that is process placement rather than
// a resource, is refused.
func checkUnifiedKey(k string) error {
	switch {
	case k == "" || k == "." || k == "..":
		return errors.New("not a file name")
	case strings.Contains(k, "/") || strings.Contains(k, ".."):
		return errors.New(`a key must be a file name of the cgroup, without "/" or ".."`)
	case k == "cgroup.procs" || k == "cgroup.threads" || k == "cgroup.kill" || k == "cgroup.freeze":
		return errors.New("moves, signals or freezes processes; it is not a resource")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
