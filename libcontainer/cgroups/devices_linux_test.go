package cgroups

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func specRule(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	r := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major != wildcard {
		r.Major = p64(major)
	}
	if minor != wildcard {
		r.Minor = p64(minor)
	}
	return r
}

func mustRules(t *testing.T, spec []specs.LinuxDeviceCgroup) []devRule {
	t.Helper()
	rules, err := deviceRules(spec)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func v1Lines(rules []devRule) []string {
	var out []string
	for _, r := range rules {
		file := "deny"
		if r.allow {
			file = "allow"
		}
		out = append(out, file+" "+r.v1String())
	}
	return out
}

// TestDevicesV1Transition checks the v1 writes for the usual container
// list, from a fresh (allow-all) cgroup: deny "a" first, then one allow
// per device in the order the rules list them (the runtime spec's "MUST
// apply entries in the listed order", which devices.list shows), an
// entry merged into an earlier one keeping that one's place.
func TestDevicesV1Transition(t *testing.T) {
	spec := append([]specs.LinuxDeviceCgroup{specRule(false, "", wildcard, wildcard, "rwm")}, AllowedDevices...)
	spec = append(spec, specRule(true, "b", 8, 0, "r"), specRule(true, "c", 1, 3, "r")) // merges into 1:3 rwm
	target, err := buildEmulator(mustRules(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := emulatorFromList("a *:* rwm\n")
	if err != nil {
		t.Fatal(err)
	}
	got := v1Lines(fresh.transition(target))
	want := []string{
		"deny a *:* rwm",
		"allow c *:* m",
		"allow b *:* m",
		"allow c 1:3 rwm",
		"allow c 1:8 rwm",
		"allow c 1:7 rwm",
		"allow c 5:0 rwm",
		"allow c 1:5 rwm",
		"allow c 1:9 rwm",
		"allow c 136:* rwm",
		"allow c 5:2 rwm",
		"allow c 10:200 rwm",
		"allow b 8:0 r",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transition:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// An update from that state changes only what differs, with no
	// disruptive "a": 8:0 loses r, 1:5 loses w, 10:229 is new.
	list := "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nb 8:0 r\nc 10:200 rwm\nc 136:* rwm\n"
	cur, err := emulatorFromList(list)
	if err != nil {
		t.Fatal(err)
	}
	if !cur.equal(target) {
		t.Fatalf("devices.list round trip differs: %+v vs %+v", cur, target)
	}
	spec2 := append([]specs.LinuxDeviceCgroup{specRule(false, "a", wildcard, wildcard, "rwm")}, AllowedDevices...)
	spec2 = append(spec2, specRule(false, "c", 1, 5, "w"), specRule(true, "c", 10, 229, "rwm"))
	target2, err := buildEmulator(mustRules(t, spec2))
	if err != nil {
		t.Fatal(err)
	}
	got = v1Lines(cur.transition(target2))
	want = []string{"deny c 1:5 w", "deny b 8:0 r", "allow c 10:229 rwm"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("update transition = %q, want %q", got, want)
	}
}

func TestDevicesEmulatorRules(t *testing.T) {
	// Allow-by-default with deny exceptions.
	e, err := buildEmulator(mustRules(t, []specs.LinuxDeviceCgroup{
		specRule(true, "a", wildcard, wildcard, "rwm"),
		specRule(false, "c", 1, 3, "w"),
		specRule(true, "c", 1, 3, "w"), // takes the exception back
		specRule(false, "b", 8, wildcard, "rw"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !e.defaultAllow || len(e.rules) != 1 || e.rules[devMeta{'b', 8, wildcard}] != permRead|permWrite {
		t.Errorf("emulator = %+v", e)
	}
	// Punching a hole into a wildcard allow cannot be written to v1.
	_, err = buildEmulator(mustRules(t, []specs.LinuxDeviceCgroup{
		specRule(false, "a", wildcard, wildcard, "rwm"),
		specRule(true, "c", wildcard, wildcard, "rwm"),
		specRule(false, "c", 1, 3, "w"),
	}))
	if err == nil || !strings.Contains(err.Error(), "punches a hole") {
		t.Errorf("hole punch: err = %v", err)
	}
	// Type "a" resets whatever its numbers and access say, as the kernel
	// does.
	r := mustRules(t, []specs.LinuxDeviceCgroup{specRule(false, "", 5, wildcard, "r")})
	if r[0].typ != 'a' || r[0].major != wildcard || r[0].perms != permAll {
		t.Errorf("type a rule = %+v", r[0])
	}
	if _, err := emulatorFromList("c 1:3 rwx\n"); err == nil {
		t.Error("malformed devices.list accepted")
	}
}

// vm runs a device filter program the way the kernel would, for the
// instructions deviceFilter emits.
func vm(t *testing.T, prog []bpfInsn, typ uint32, acc perms, major, minor uint32) uint64 {
	t.Helper()
	var reg [11]uint64
	ctx := []uint32{uint32(acc)<<16 | typ, major, minor}
	for pc, steps := 0, 0; ; pc, steps = pc+1, steps+1 {
		if pc < 0 || pc >= len(prog) || steps > 100000 {
			t.Fatalf("program ran off at pc %d", pc)
		}
		in := prog[pc]
		switch in.code {
		case opLdxW:
			if in.src != regCtx || in.off%4 != 0 || int(in.off/4) >= len(ctx) {
				t.Fatalf("bad ctx load %+v", in)
			}
			reg[in.dst] = uint64(ctx[in.off/4])
		case opAnd32K:
			reg[in.dst] = uint64(uint32(reg[in.dst]) & uint32(in.imm))
		case opRsh32K:
			reg[in.dst] = uint64(uint32(reg[in.dst]) >> uint32(in.imm))
		case opMov32K:
			reg[in.dst] = uint64(uint32(in.imm))
		case opMov32X:
			reg[in.dst] = uint64(uint32(reg[in.src]))
		case opJeqK:
			if reg[in.dst] == uint64(int64(in.imm)) {
				pc += int(in.off)
			}
		case opJneK:
			if reg[in.dst] != uint64(int64(in.imm)) {
				pc += int(in.off)
			}
		case opJa:
			pc += int(in.off)
		case opExit:
			return reg[0]
		default:
			t.Fatalf("unknown opcode %#x", in.code)
		}
	}
}

// reference is the documented meaning of a rule list: for every access
// bit asked for, the last rule matching the device and naming the bit
// decides; none means deny.
func reference(rules []devRule, typ byte, acc perms, major, minor int64) bool {
	for _, bit := range []perms{permMknod, permRead, permWrite} {
		if acc&bit == 0 {
			continue
		}
		decided := false
		for i := len(rules) - 1; i >= 0 && !decided; i-- {
			r := rules[i]
			if r.perms&bit == 0 {
				continue
			}
			if r.typ != 'a' && (r.typ != typ || r.major != wildcard && r.major != major || r.minor != wildcard && r.minor != minor) {
				continue
			}
			if !r.allow {
				return false
			}
			decided = true
		}
		if !decided {
			return false
		}
	}
	return true
}

var filterCases = map[string][]specs.LinuxDeviceCgroup{
	"empty (deny all)": nil,
	"runc default":     append([]specs.LinuxDeviceCgroup{specRule(false, "", wildcard, wildcard, "rwm")}, AllowedDevices...),
	"allow all":        {specRule(true, "a", wildcard, wildcard, "rwm")},
	"blacklist": {
		specRule(true, "a", wildcard, wildcard, "rwm"),
		specRule(false, "c", 1, 7, "rwm"),
		specRule(false, "b", 8, wildcard, "w"),
	},
	"later deny wins": {
		specRule(true, "c", wildcard, wildcard, "rwm"),
		specRule(false, "c", 1, 3, "w"),
		specRule(true, "c", 1, 3, "r"),
	},
	"reset in the middle": {
		specRule(true, "c", 1, 3, "rwm"),
		specRule(false, "a", wildcard, wildcard, "rwm"),
		specRule(true, "b", 8, 0, "r"),
		specRule(true, "c", 1, wildcard, "m"),
	},
}

func TestDeviceFilterSemantics(t *testing.T) {
	types := []struct {
		b byte
		k uint32
	}{{'c', devChar}, {'b', devBlock}}
	for name, spec := range filterCases {
		rules := mustRules(t, spec)
		prog, err := deviceFilter(rules)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, ty := range types {
			for _, dev := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {8, 0}, {8, 1}, {136, 4}, {5, 2}, {10, 200}} {
				for acc := perms(1); acc <= permAll; acc++ {
					want := reference(rules, ty.b, acc, dev[0], dev[1])
					got := vm(t, prog, ty.k, acc, uint32(dev[0]), uint32(dev[1])) == 1
					if got != want {
						t.Errorf("%s: %c %d:%d %s: filter says %v, rules say %v", name, ty.b, dev[0], dev[1], acc, got, want)
					}
				}
			}
		}
	}
	// Spot checks of what the rules mean, so that the reference itself
	// is pinned down.
	rules := mustRules(t, filterCases["later deny wins"])
	for _, c := range []struct {
		acc  perms
		want bool
	}{{permRead, true}, {permWrite, false}, {permRead | permWrite, false}, {permMknod, true}} {
		if got := reference(rules, 'c', c.acc, 1, 3); got != c.want {
			t.Errorf("later deny wins: c 1:3 %s = %v, want %v", c.acc, got, c.want)
		}
	}
	if reference(mustRules(t, filterCases["runc default"]), 'c', permRead, 1, 7) != true ||
		reference(mustRules(t, filterCases["runc default"]), 'b', permRead, 8, 0) != false {
		t.Error("runc default list: /dev/full must be readable, block devices not")
	}
}

// TestDeviceFilterLoads proves the kernel's verifier accepts the
// programs: BPF_PROG_TYPE_CGROUP_DEVICE loads without being attached.
func TestDeviceFilterLoads(t *testing.T) {
	needRoot(t)
	for name, spec := range filterCases {
		prog, err := deviceFilter(mustRules(t, spec))
		if err != nil {
			t.Fatal(err)
		}
		fd, err := loadDeviceFilter(prog)
		if err != nil {
			if name == "empty (deny all)" && strings.Contains(err.Error(), "operation not permitted") {
				t.Skipf("skipped: bpf(2) not permitted here: %v", err)
			}
			t.Errorf("%s: %v", name, err)
			continue
		}
		unix.Close(fd)
	}
	// And a program the verifier must refuse comes back with its log.
	if _, err := loadDeviceFilter([]bpfInsn{{code: opExit}}); err == nil || !strings.Contains(err.Error(), "R0") {
		t.Errorf("bad program: err = %v, want the verifier's complaint about R0", err)
	}
}

func TestDeviceFilterEncoding(t *testing.T) {
	b := encodeInsns([]bpfInsn{{code: opLdxW, dst: 2, src: 1, off: 4, imm: 0}, {code: opJneK, dst: 4, off: -1, imm: 136}})
	want := "61120400000000005504ffff88000000"
	if got := fmt.Sprintf("%x", b); got != want {
		t.Errorf("encoding = %s, want %s", got, want)
	}
}

// runc ignores access letters other than r, w and m (the suite's "update
// devices [minimal transition rules]" denies "rwa"); at least one of them
// must be there.
func TestParsePermsLenient(t *testing.T) {
	for in, want := range map[string]perms{"rwa": permRead | permWrite, "m": permMknod, "rwm": permAll, "xr": permRead} {
		got, err := parsePerms(in)
		if err != nil || got != want {
			t.Errorf("parsePerms(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a", "xyz"} {
		if _, err := parsePerms(in); err == nil {
			t.Errorf("parsePerms(%q) accepted", in)
		}
	}
}
