package cgroups

// The pure half of the systemd driver: cgroupsPath parsing, slice
// expansion, and the conversion of linux.resources and of
// org.systemd.property.* annotations into unit properties. Nothing here
// talks to systemd, so all of it is unit-tested on hosts without one.

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	// defaultSlice is the parent of a container whose cgroupsPath names
	// none, as in runc (root containers).
	defaultSlice = "system.slice"
	// defaultUserSlice is that parent in the user's systemd instance
	// (rootless), as in runc.
	defaultUserSlice = "user.slice"
	// defaultScopePrefix is the unit prefix of a container without a
	// cgroupsPath: its unit is hull-ID.scope. runc names it runc-ID.scope;
	// no caller or test matches that literal (runc's suite looks for
	// *-ID.scope).
	defaultScopePrefix = "hull"
	// defCPUPeriod is the kernel's default cpu period (us), which systemd
	// assumes for a quota without one.
	defCPUPeriod = uint64(100000)
	// Versions of systemd that first take a property (runc's bars).
	sdCPUQuotaPeriod = 242
	sdAllowedCPUs    = 244
	sdCPUIdle        = 252
	sdDeviceMajor    = 240
	// annotationPrefix marks annotations that are unit properties.
	annotationPrefix = "org.systemd.property."
)

// unitSpec is a parsed systemd cgroupsPath.
type unitSpec struct {
	// Slice is the parent slice as given ("" means system.slice).
	Slice string
	// Prefix and Name make the unit's name.
	Prefix, Name string
	// User: the unit is one of the user's systemd instance (rootless),
	// whose default slice is user.slice.
	User bool
}

// parseSystemdPath parses linux.cgroupsPath in systemd form,
// "slice:prefix:name", with runc's error for anything else. An empty path
// means the default: system.slice, prefix hull, the container's id.
func parseSystemdPath(cgroupsPath, id string) (unitSpec, error) {
	if cgroupsPath == "" {
		return unitSpec{Prefix: defaultScopePrefix, Name: id}, nil
	}
	parts := strings.Split(cgroupsPath, ":")
	if len(parts) != 3 {
		return unitSpec{}, fmt.Errorf("expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got %q instead", cgroupsPath)
	}
	return unitSpec{Slice: parts[0], Prefix: parts[1], Name: parts[2]}, nil
}

// unit is the unit's name: a scope PREFIX-NAME.scope, unless the name is a
// slice (runc's rule: a name ending in .slice asks for a slice).
func (u unitSpec) unit() string {
	if strings.HasSuffix(u.Name, ".slice") {
		return u.Name
	}
	return u.Prefix + "-" + u.Name + ".scope"
}

// isSlice tells whether the unit is a slice rather than a scope.
func (u unitSpec) isSlice() bool { return strings.HasSuffix(u.unit(), ".slice") }

// slice is the parent slice's unit name.
func (u unitSpec) slice() string {
	switch {
	case u.Slice != "":
		return u.Slice
	case u.User:
		return defaultUserSlice
	}
	return defaultSlice
}

// cgroupPath is the unit's cgroup, relative to the hierarchy's root, as
// systemd makes it: the expanded slice, then the unit. In the user's
// instance the slices are below its manager's own cgroup, managerCG
// (/user.slice/user-UID.slice/user@UID.service); "" for the system's.
func (u unitSpec) cgroupPath(managerCG string) (string, error) {
	dir, err := expandSlice(u.slice())
	if err != nil {
		return "", err
	}
	name := u.unit()
	if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
		return "", fmt.Errorf("invalid unit name %q", name)
	}
	return strings.TrimSuffix(managerCG, "/") + strings.TrimSuffix(dir, "/") + "/" + name, nil
}

// expandSlice turns a slice name into its cgroup path the way systemd
// nests slices: a-b-c.slice is /a.slice/a-b.slice/a-b-c.slice, and -.slice
// is the root. Errors are runc's.
func expandSlice(slice string) (string, error) {
	const suffix = ".slice"
	bad := fmt.Errorf("invalid slice name: %s", slice)
	if len(slice) < len(suffix) || !strings.HasSuffix(slice, suffix) || strings.Contains(slice, "/") {
		return "", bad
	}
	base := strings.TrimSuffix(slice, suffix)
	if base == "-" {
		return "/", nil
	}
	var path, prefix strings.Builder
	for _, part := range strings.Split(base, "-") {
		if part == "" {
			return "", bad
		}
		path.WriteString("/" + prefix.String() + part + suffix)
		prefix.WriteString(part + "-")
	}
	return path.String(), nil
}

// annotationProps converts the spec's org.systemd.property.NAME=VALUE
// annotations into unit properties, with runc's rules: NAME is at least
// three ASCII letters; VALUE is in GVariant text form (parsed by
// godbus); a NAME ending in a lowercase letter then "Sec" is renamed
// ...USec with its numeric value converted from seconds. The properties
// come sorted by annotation key, so that a run is reproducible.
func annotationProps(ann map[string]string) ([]sd.Property, error) {
	keys := make([]string, 0, len(ann))
	for k := range ann {
		if strings.HasPrefix(k, annotationPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []sd.Property
	for _, k := range keys {
		v := ann[k]
		name := strings.TrimPrefix(k, annotationPrefix)
		if err := checkPropertyName(name); err != nil {
			return nil, fmt.Errorf("annotation %s name incorrect: %w", k, err)
		}
		value, err := dbus.ParseVariant(v, dbus.Signature{})
		if err != nil {
			return nil, fmt.Errorf("annotation %s=%s value parse error: %w", k, v, err)
		}
		if trim, ok := strings.CutSuffix(name, "Sec"); ok && trim != "" {
			if c := trim[len(trim)-1]; c >= 'a' && c <= 'z' {
				name = trim + "USec"
				if value, err = secToUSec(value); err != nil {
					return nil, fmt.Errorf("annotation %s=%s value parse error: %w", k, v, err)
				}
			}
		}
		out = append(out, sd.Property{Name: name, Value: value})
	}
	return out, nil
}

// checkPropertyName: ASCII letters only, at least three (runc's rule and
// wording).
func checkPropertyName(s string) error {
	if len(s) < 3 {
		return errors.New("too short")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return errors.New("contains non-alphabetic character")
		}
	}
	return nil
}

// secToUSec converts a numeric variant in seconds to a uint64 in
// microseconds.
func secToUSec(v dbus.Variant) (dbus.Variant, error) {
	const M = 1000000
	var us uint64
	switch x := v.Value().(type) {
	case byte:
		us = uint64(x) * M
	case int16:
		us = uint64(x) * M
	case uint16:
		us = uint64(x) * M
	case int32:
		us = uint64(x) * M
	case uint32:
		us = uint64(x) * M
	case int64:
		us = uint64(x) * M
	case uint64:
		us = x * M
	case float64:
		us = uint64(x * M)
	default:
		return v, errors.New("not a number")
	}
	return dbus.MakeVariant(us), nil
}

func prop(name string, v any) sd.Property { return sd.Property{Name: name, Value: dbus.MakeVariant(v)} }

// limitProp is a limit as systemd takes it: -1 (and anything negative) is
// infinity.
func limitProp(v int64) uint64 {
	if v < 0 {
		return math.MaxUint64
	}
	return uint64(v)
}

// cpuQuotaProps adds systemd's CPU quota properties for quota/period and
// returns the quota that the cgroup files must get: systemd keeps the
// quota as a whole percentage of a CPU (10 ms per second), so a quota
// between is rounded up, and the file gets the rounded value too (as
// runc does), or systemd would later overwrite it.
func cpuQuotaProps(props []sd.Property, quota int64, period uint64, sdVer int) ([]sd.Property, int64) {
	if period != 0 && sdVer >= sdCPUQuotaPeriod {
		props = append(props, prop("CPUQuotaPeriodUSec", period))
	}
	if quota == 0 && period == 0 {
		return props, quota
	}
	perSec := uint64(math.MaxUint64)
	if quota > 0 {
		if period == 0 {
			period = defCPUPeriod
		}
		perSec = uint64(quota*1000000) / period
		if perSec%10000 != 0 {
			perSec = (perSec/10000 + 1) * 10000
			quota = int64(perSec) * int64(period) / 1000000
		}
	}
	return append(props, prop("CPUQuotaPerSecUSec", perSec)), quota
}

// rangeToBits converts a cpuset list ("0-2,5") to the byte mask systemd
// takes for AllowedCPUs and AllowedMemoryNodes (lowest CPUs first).
func rangeToBits(s string) ([]byte, error) {
	bits := new(big.Int)
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(r, "-")
		start, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return nil, err
		}
		end := start
		if isRange {
			if end, err = strconv.ParseUint(hi, 10, 32); err != nil {
				return nil, err
			}
			if start > end {
				return nil, errors.New("invalid range: " + r)
			}
		}
		for i := start; i <= end; i++ {
			bits.SetBit(bits, int(i), 1)
		}
	}
	b := bits.Bytes()
	if len(b) == 0 {
		return nil, errors.New("empty value")
	}
	for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return b, nil
}

func cpusetProps(props []sd.Property, cpus, mems string, sdVer int) ([]sd.Property, error) {
	if sdVer < sdAllowedCPUs {
		return props, nil // the files still get them
	}
	for _, x := range []struct{ field, val, name string }{
		{"linux.resources.cpu.cpus", cpus, "AllowedCPUs"},
		{"linux.resources.cpu.mems", mems, "AllowedMemoryNodes"},
	} {
		if x.val == "" {
			continue
		}
		b, err := rangeToBits(x.val)
		if err != nil {
			return nil, fmt.Errorf("%s=%q conversion error: %w", x.field, x.val, err)
		}
		props = append(props, prop(x.name, b))
	}
	return props, nil
}

// deviceAllow is one DeviceAllow= entry, D-Bus type (ss).
type deviceAllow struct {
	Path  string
	Perms string
}

// deviceProps converts the device rules to DevicePolicy/DeviceAllow as
// runc does: an allow-all list is DevicePolicy=auto with no entries; an
// allow-list is DevicePolicy=strict with one entry per exception
// (/dev/char/M:N, char-M for all minors, char-* for all); a deny-list,
// which systemd cannot express, is strict and empty (hull's own filter
// decides then, as runc's). nil rules leave the devices alone.
func deviceProps(rules []devRule, sdVer int) ([]sd.Property, error) {
	if rules == nil {
		return nil, nil
	}
	e, err := buildEmulator(rules)
	if err != nil {
		return nil, err
	}
	props := []sd.Property{prop("DeviceAllow", []deviceAllow{}), prop("DevicePolicy", "strict")}
	if e.defaultAllow {
		if len(e.rules) == 0 {
			return []sd.Property{prop("DeviceAllow", []deviceAllow{}), prop("DevicePolicy", "auto")}, nil
		}
		return props, nil
	}
	var list []deviceAllow
	for _, m := range e.ordered() {
		group := "char-"
		dir := "/dev/char/"
		if m.typ == 'b' {
			group, dir = "block-", "/dev/block/"
		}
		entry := deviceAllow{Perms: e.rules[m].String()}
		switch {
		case m.major == wildcard && m.minor != wildcard:
			continue // systemd has no "*:N"; hull's filter has it
		case m.major == wildcard:
			entry.Path = group + "*"
		case m.minor == wildcard:
			if sdVer < sdDeviceMajor {
				continue
			}
			entry.Path = group + strconv.FormatInt(m.major, 10)
		default:
			entry.Path = fmt.Sprintf("%s%d:%d", dir, m.major, m.minor)
		}
		list = append(list, entry)
	}
	return append(props, prop("DeviceAllow", list)), nil
}

// resourceProps converts linux.resources into unit properties for the
// given layout (v2: unified; otherwise systemd's v1 names) and systemd
// version. It returns the resources the cgroup files must get: a copy of
// r, with the CPU quota rounded as systemd keeps it.
func resourceProps(r *specs.LinuxResources, v2 bool, sdVer int) ([]sd.Property, *specs.LinuxResources, error) {
	if r == nil {
		return nil, nil, nil
	}
	cp := *r
	r = &cp
	var props []sd.Property
	if r.Devices != nil {
		rules, err := deviceRules(r.Devices)
		if err != nil {
			return nil, nil, err
		}
		dp, err := deviceProps(rules, sdVer)
		if err != nil {
			return nil, nil, err
		}
		props = append(props, dp...)
	}
	if m := r.Memory; m != nil {
		if m.Limit != nil && *m.Limit != 0 {
			name := "MemoryMax"
			if !v2 {
				name = "MemoryLimit"
			}
			props = append(props, prop(name, limitProp(*m.Limit)))
		}
		if v2 && m.Reservation != nil && *m.Reservation != 0 {
			props = append(props, prop("MemoryLow", limitProp(*m.Reservation)))
		}
		if v2 && m.Swap != nil {
			var limit int64
			if m.Limit != nil {
				limit = *m.Limit
			}
			swap, err := SwapToV2(*m.Swap, limit)
			if err != nil {
				return nil, nil, err
			}
			if swap != 0 {
				props = append(props, prop("MemorySwapMax", limitProp(swap)))
			}
		}
	}
	if c := r.CPU; c != nil {
		cc := *c
		r.CPU = &cc
		idle := false
		if v2 && c.Idle != nil && *c.Idle == 1 && sdVer >= sdCPUIdle {
			props = append(props, prop("CPUWeight", uint64(0)))
			idle = true
		}
		if c.Shares != nil && *c.Shares != 0 {
			if !v2 {
				props = append(props, prop("CPUShares", *c.Shares))
			} else if !idle {
				props = append(props, prop("CPUWeight", SharesToWeight(*c.Shares)))
			} else {
				// runc's words; its suite matches them.
				slog.Warn("unable to apply both CPUWeight and CpuIdle to systemd, ignoring CPUWeight")
			}
		}
		var quota int64
		var period uint64
		if c.Quota != nil {
			quota = *c.Quota
		}
		if c.Period != nil {
			period = *c.Period
		}
		var rounded int64
		props, rounded = cpuQuotaProps(props, quota, period, sdVer)
		if c.Quota != nil && rounded != quota {
			cc.Quota = &rounded
		}
		var err error
		if props, err = cpusetProps(props, c.Cpus, c.Mems, sdVer); err != nil {
			return nil, nil, err
		}
	}
	if !v2 && r.BlockIO != nil && r.BlockIO.Weight != nil && *r.BlockIO.Weight != 0 {
		props = append(props, prop("BlockIOWeight", uint64(*r.BlockIO.Weight)))
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		n := limitProp(*r.Pids.Limit)
		if n == 0 {
			n = 1 // systemd has no TasksMax=0; the file gets 1 as well
		}
		props = append(props, prop("TasksMax", n))
	}
	if v2 && r.Unified != nil {
		up, err := unifiedProps(r.Unified, sdVer)
		if err != nil {
			return nil, nil, err
		}
		props = append(props, up...)
	}
	return props, r, nil
}

// unifiedProps converts the linux.resources.unified keys systemd has a
// property for; the others reach only the files.
func unifiedProps(u map[string]string, sdVer int) ([]sd.Property, error) {
	var props []sd.Property
	keys := make([]string, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	num := func(k, v string) (uint64, error) {
		if v == "max" {
			return math.MaxUint64, nil
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("linux.resources.unified[%q]: value conversion error: %w", k, err)
		}
		return n, nil
	}
	memNames := map[string]string{"memory.high": "MemoryHigh", "memory.low": "MemoryLow", "memory.min": "MemoryMin", "memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax"}
	idle := strings.TrimSpace(u["cpu.idle"]) == "1" && sdVer >= sdCPUIdle
	for _, k := range keys {
		if err := checkUnifiedKey(k); err != nil {
			return nil, fmt.Errorf("linux.resources.unified[%q]: %w", k, err)
		}
		v := strings.TrimSpace(u[k])
		switch k {
		case "cpu.idle":
			if idle {
				props = append(props, prop("CPUWeight", uint64(0)))
			}
		case "cpu.max":
			f := strings.Fields(v)
			if len(f) < 1 || len(f) > 2 {
				return nil, fmt.Errorf("linux.resources.unified[%q]: value invalid: %q", k, v)
			}
			var quota int64
			period := defCPUPeriod
			var err error
			if f[0] != "max" {
				if quota, err = strconv.ParseInt(f[0], 10, 64); err != nil {
					return nil, fmt.Errorf("linux.resources.unified[%q]: quota value conversion error: %w", k, err)
				}
			}
			if len(f) == 2 {
				if period, err = strconv.ParseUint(f[1], 10, 64); err != nil {
					return nil, fmt.Errorf("linux.resources.unified[%q]: period value conversion error: %w", k, err)
				}
			}
			props, _ = cpuQuotaProps(props, quota, period, sdVer)
		case "cpu.weight":
			if idle {
				slog.Warn("unable to apply both cpu.weight and cpu.idle to systemd, ignoring cpu.weight")
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("linux.resources.unified[%q]: value conversion error: %w", k, err)
			}
			props = append(props, prop("CPUWeight", n))
		case "cpuset.cpus", "cpuset.mems":
			if sdVer < sdAllowedCPUs {
				continue
			}
			b, err := rangeToBits(v)
			if err != nil {
				return nil, fmt.Errorf("linux.resources.unified[%q]=%q conversion error: %w", k, v, err)
			}
			name := "AllowedCPUs"
			if k == "cpuset.mems" {
				name = "AllowedMemoryNodes"
			}
			props = append(props, prop(name, b))
		case "memory.high", "memory.low", "memory.min", "memory.max", "memory.swap.max":
			n, err := num(k, v)
			if err != nil {
				return nil, err
			}
			props = append(props, prop(memNames[k], n))
		case "pids.max":
			n, err := num(k, v)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				n = 1
			}
			props = append(props, prop("TasksMax", n))
		}
	}
	return props, nil
}
