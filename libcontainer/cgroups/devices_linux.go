package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Access bits, with the values the kernel's bpf_cgroup_dev_ctx uses so
// that the eBPF filter can test them directly.
type perms uint8

const (
	permMknod perms = 1 // BPF_DEVCG_ACC_MKNOD
	permRead  perms = 2 // BPF_DEVCG_ACC_READ
	permWrite perms = 4 // BPF_DEVCG_ACC_WRITE
	permAll         = permMknod | permRead | permWrite
)

func (p perms) String() string {
	var b strings.Builder
	if p&permRead != 0 {
		b.WriteByte('r')
	}
	if p&permWrite != 0 {
		b.WriteByte('w')
	}
	if p&permMknod != 0 {
		b.WriteByte('m')
	}
	return b.String()
}

// parsePerms reads an access string. Letters other than r, w and m are
// ignored, as runc ignores them ("rwa" is "rw"), but at least one of the
// three must be there.
func parsePerms(s string) (perms, error) {
	var p perms
	for _, c := range s {
		switch c {
		case 'r':
			p |= permRead
		case 'w':
			p |= permWrite
		case 'm':
			p |= permMknod
		}
	}
	if s == "" {
		return 0, errors.New("must not be empty")
	}
	if p == 0 {
		return 0, fmt.Errorf("%q names none of r, w and m", s)
	}
	return p, nil
}

// wildcard is the major or minor number that matches every device.
const wildcard = -1

// Kernel limits of device numbers (MINORBITS is 20).
const (
	maxMajor = 1<<12 - 1
	maxMinor = 1<<20 - 1
)

// devRule is one checked rule of linux.resources.devices.
type devRule struct {
	typ          byte // 'a', 'b' or 'c'
	major, minor int64
	perms        perms
	allow        bool
}

func numString(n int64) string {
	if n == wildcard {
		return "*"
	}
	return strconv.FormatInt(n, 10)
}

// v1String is the rule as devices.allow and devices.deny take it.
func (r devRule) v1String() string {
	return fmt.Sprintf("%c %s:%s %s", r.typ, numString(r.major), numString(r.minor), r.perms)
}

// deviceRules checks and converts the spec's rules. A rule of type "a"
// (or no type) covers every device with every access, whatever its
// numbers say: that is what the kernel's v1 controller makes of it, and
// the v2 filter follows it so that both behave alike.
func deviceRules(spec []specs.LinuxDeviceCgroup) ([]devRule, error) {
	var errs []error
	out := make([]devRule, 0, len(spec))
	for i, d := range spec {
		field := fmt.Sprintf("linux.resources.devices[%d]", i)
		r := devRule{allow: d.Allow, major: wildcard, minor: wildcard}
		switch d.Type {
		case "", "a":
			r.typ = 'a'
		case "b", "c":
			r.typ = d.Type[0]
		default:
			errs = append(errs, fmt.Errorf("%s.type: %q is not a cgroup device type (a, b or c)", field, d.Type))
		}
		p, err := parsePerms(d.Access)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.access: %w", field, err))
		}
		r.perms = p
		num := func(name string, v *int64, limit int64) int64 {
			if v == nil || *v == wildcard {
				return wildcard
			}
			if *v < 0 || *v > limit {
				errs = append(errs, fmt.Errorf("%s.%s: %d is not a device %s number (0-%d, or omitted for all)", field, name, *v, name, limit))
			}
			return *v
		}
		r.major = num("major", d.Major, maxMajor)
		r.minor = num("minor", d.Minor, maxMinor)
		if r.typ == 'a' {
			r.major, r.minor, r.perms = wildcard, wildcard, permAll
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// AllowedDevices are the rules runc appends to every container's list
// (after the spec's own): mknod of any node, the standard character
// devices, /dev/pts, /dev/ptmx and /dev/net/tun. The caller that builds the list for
// Set appends them the same way to behave like runc.
var AllowedDevices = []specs.LinuxDeviceCgroup{
	{Allow: true, Type: "c", Major: nil, Minor: nil, Access: "m"},
	{Allow: true, Type: "b", Major: nil, Minor: nil, Access: "m"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},    // /dev/null
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"},    // /dev/random
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"},    // /dev/full
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"},    // /dev/tty
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},    // /dev/zero
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"},    // /dev/urandom
	{Allow: true, Type: "c", Major: i64(136), Minor: nil, Access: "rwm"},     // /dev/pts/*
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},    // /dev/ptmx
	{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}, // /dev/net/tun
}

// DefaultDevicePaths are the nodes of AllowedDevices that a runtime
// creates by default. A linux.devices entry with one of these paths
// replaces the default node, and runc then drops its rule from the
// list: the config's own rules decide about that device.
var DefaultDevicePaths = map[string]specs.LinuxDeviceCgroup{
	"/dev/null":    AllowedDevices[2],
	"/dev/random":  AllowedDevices[3],
	"/dev/full":    AllowedDevices[4],
	"/dev/tty":     AllowedDevices[5],
	"/dev/zero":    AllowedDevices[6],
	"/dev/urandom": AllowedDevices[7],
}

func i64(v int64) *int64 { return &v }

// devMeta is what a v1 exception matches on.
type devMeta struct {
	typ          byte
	major, minor int64
}

// emulator models the v1 devices controller: a default (allow or deny)
// and exceptions keyed by device, as the kernel keeps them. It exists to
// compute the fewest writes from the current state to the wanted one, so
// that an update does not briefly deny everything to running processes
// (and works while the cgroup has children, where "a" is refused).
type emulator struct {
	defaultAllow bool
	rules        map[devMeta]perms
	// order is the order in which exceptions were first added: the v1
	// kernel lists them (devices.list) in the order they were written,
	// and the runtime spec wants the config's order there.
	order []devMeta
}

// ordered returns the exceptions in the order they were added.
func (e *emulator) ordered() []devMeta {
	var out []devMeta
	seen := map[devMeta]bool{}
	for _, m := range e.order {
		if _, ok := e.rules[m]; ok && !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	// Exceptions of unknown origin (read back from devices.list) last, in
	// a stable order.
	for _, m := range sortedMetas(e.rules) {
		if !seen[m] {
			out = append(out, m)
		}
	}
	return out
}

func (e *emulator) apply(r devRule) error {
	if r.typ == 'a' {
		e.defaultAllow, e.rules = r.allow, nil
		return nil
	}
	meta := devMeta{r.typ, r.major, r.minor}
	// An allow rule on an allow-by-default cgroup removes a deny
	// exception, and the other way round.
	if r.allow == e.defaultAllow {
		return e.remove(meta, r.perms)
	}
	if e.rules == nil {
		e.rules = map[devMeta]perms{}
	}
	if _, ok := e.rules[meta]; !ok {
		e.order = append(e.order, meta)
	}
	e.rules[meta] |= r.perms
	return nil
}

// remove takes access away from an exact exception. The kernel silently
// ignores a removal that overlaps a wider (wildcard) exception, which
// would leave access the user meant to take away; like runc, that is an
// error instead.
func (e *emulator) remove(meta devMeta, p perms) error {
	for _, wide := range []devMeta{
		{meta.typ, wildcard, meta.minor},
		{meta.typ, meta.major, wildcard},
		{meta.typ, wildcard, wildcard},
	} {
		if wide == meta {
			continue
		}
		if e.rules[wide]&p != 0 {
			return fmt.Errorf("rule %s cannot be expressed by the v1 devices controller: it punches a hole in the wider rule %s",
				devRule{typ: meta.typ, major: meta.major, minor: meta.minor, perms: p}.v1String(),
				devRule{typ: wide.typ, major: wide.major, minor: wide.minor, perms: e.rules[wide]}.v1String())
		}
	}
	if left := e.rules[meta] &^ p; left != 0 {
		e.rules[meta] = left
	} else {
		delete(e.rules, meta)
	}
	return nil
}

func buildEmulator(rules []devRule) (*emulator, error) {
	e := &emulator{}
	for _, r := range rules {
		if err := e.apply(r); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// emulatorFromList reads devices.list. In allow-by-default mode the file
// only says "a *:* rwm" (the kernel does not list deny exceptions), so
// such a cgroup reads as allow-all with unknown exceptions.
func emulatorFromList(list string) (*emulator, error) {
	e := &emulator{}
	for _, line := range strings.Split(list, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		nums := []string{}
		if len(f) == 3 {
			nums = strings.Split(f[1], ":")
		}
		if len(f) != 3 || len(f[0]) != 1 || len(nums) != 2 {
			return nil, fmt.Errorf("devices.list line %q is malformed", line)
		}
		if f[0] == "a" {
			e.defaultAllow, e.rules = true, nil
			continue
		}
		r := devRule{typ: f[0][0], allow: true}
		if r.typ != 'b' && r.typ != 'c' {
			return nil, fmt.Errorf("devices.list line %q: unknown type", line)
		}
		for i, dst := range []*int64{&r.major, &r.minor} {
			if nums[i] == "*" {
				*dst = wildcard
				continue
			}
			v, err := strconv.ParseUint(nums[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("devices.list line %q: %w", line, err)
			}
			*dst = int64(v)
		}
		p, err := parsePerms(f[2])
		if err == nil && strings.Trim(f[2], "rwm") != "" {
			err = fmt.Errorf("%q is not made of r, w and m", f[2])
		}
		if err != nil {
			return nil, fmt.Errorf("devices.list line %q: %w", line, err)
		}
		r.perms = p
		if err := e.apply(r); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// sortedMetas orders exceptions by (major, minor, type), runc's order,
// so that the same request always produces the same writes.
func sortedMetas(rules map[devMeta]perms) []devMeta {
	ms := make([]devMeta, 0, len(rules))
	for m := range rules {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.major != b.major {
			return a.major < b.major
		}
		if a.minor != b.minor {
			return a.minor < b.minor
		}
		return a.typ < b.typ
	})
	return ms
}

// transition returns the writes that take a cgroup from e to target.
// A disruptive "a" rule comes first when the default changes, and also
// whenever e allows by default, since its deny exceptions are unknown.
func (e *emulator) transition(target *emulator) []devRule {
	var out []devRule
	old := e.rules
	if e.defaultAllow || e.defaultAllow != target.defaultAllow {
		out = append(out, devRule{typ: 'a', major: wildcard, minor: wildcard, perms: permAll, allow: target.defaultAllow})
		old = nil
	}
	for _, m := range sortedMetas(old) {
		if dropped := old[m] &^ target.rules[m]; dropped != 0 {
			out = append(out, devRule{typ: m.typ, major: m.major, minor: m.minor, perms: dropped, allow: target.defaultAllow})
		}
	}
	for _, m := range target.ordered() {
		if gained := target.rules[m] &^ old[m]; gained != 0 {
			out = append(out, devRule{typ: m.typ, major: m.major, minor: m.minor, perms: gained, allow: !target.defaultAllow})
		}
	}
	return out
}

func (e *emulator) equal(o *emulator) bool {
	return e.defaultAllow == o.defaultAllow && maps.Equal(e.rules, o.rules)
}

// prepareDevicesV1 computes the v1 writes for rules; the returned step
// performs them.
func prepareDevicesV1(dir string, rules []devRule) (func(*txn) error, error) {
	target, err := buildEmulator(rules)
	if err != nil {
		return nil, fmt.Errorf("linux.resources.devices: %w", err)
	}
	list, err := readFile(dir, "devices.list")
	if err != nil {
		return nil, err
	}
	current, err := emulatorFromList(list)
	if err != nil {
		return nil, fmt.Errorf("%s/devices.list: %w", dir, err)
	}
	return func(t *txn) error {
		t.onUndo(func() {
			// Back to what devices.list showed before; deny exceptions of
			// an allow-by-default cgroup were not visible, so that state
			// comes back as plain allow-all.
			if list, err := readFile(dir, "devices.list"); err == nil {
				if now, err := emulatorFromList(list); err == nil {
					_ = writeDeviceRules(dir, now.transition(current))
				}
			}
		})
		if err := writeDeviceRules(dir, current.transition(target)); err != nil {
			return err
		}
		list, err := readFile(dir, "devices.list")
		if err != nil {
			return err
		}
		after, err := emulatorFromList(list)
		if err != nil {
			return fmt.Errorf("%s/devices.list: %w", dir, err)
		}
		// Check what the kernel made of it: exactly the target when it
		// denies by default; at least the mode otherwise.
		if (!target.defaultAllow && !after.equal(target)) || after.defaultAllow != target.defaultAllow {
			return fmt.Errorf("%s/devices.list does not match the requested device rules after writing them", dir)
		}
		return nil
	}, nil
}

func writeDeviceRules(dir string, rules []devRule) error {
	for _, r := range rules {
		file := "devices.deny"
		if r.allow {
			file = "devices.allow"
		}
		if err := writeFile(dir, file, r.v1String()); err != nil {
			return err
		}
	}
	return nil
}
