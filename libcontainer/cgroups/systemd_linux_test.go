package cgroups

import (
	"bytes"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExpandSlice(t *testing.T) {
	good := map[string]string{
		"system.slice":                    "/system.slice",
		"-.slice":                         "/",
		"a-b-c.slice":                     "/a.slice/a-b.slice/a-b-c.slice",
		"kubepods-burstable-pod123.slice": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice",
	}
	for in, want := range good {
		got, err := expandSlice(in)
		if err != nil || got != want {
			t.Errorf("expandSlice(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".slice", "a", "a.scope", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "../x.slice"} {
		_, err := expandSlice(in)
		if err == nil || err.Error() != "invalid slice name: "+in {
			t.Errorf("expandSlice(%q): err %v, want runc's \"invalid slice name: %s\"", in, err, in)
		}
	}
}

func TestParseSystemdPath(t *testing.T) {
	cases := []struct {
		in, unit, slice, dir string
	}{
		{"", "hull-ctr.scope", "system.slice", "/system.slice/hull-ctr.scope"},
		{"system.slice:hull:abc", "hull-abc.scope", "system.slice", "/system.slice/hull-abc.scope"},
		{"kubepods-burstable-pod123.slice:cri-containerd:abc", "cri-containerd-abc.scope", "kubepods-burstable-pod123.slice",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice/cri-containerd-abc.scope"},
		{":docker:x", "docker-x.scope", "system.slice", "/system.slice/docker-x.scope"},
		{"-.slice:p:x", "p-x.scope", "-.slice", "/p-x.scope"},
		{"machine.slice:p:x.slice", "x.slice", "machine.slice", "/machine.slice/x.slice"},
	}
	for _, c := range cases {
		u, err := parseSystemdPath(c.in, "ctr")
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		dir, err := u.cgroupPath("")
		if u.unit() != c.unit || u.slice() != c.slice || dir != c.dir || err != nil {
			t.Errorf("%q: unit %q slice %q dir %q (%v); want %q %q %q", c.in, u.unit(), u.slice(), dir, err, c.unit, c.slice, c.dir)
		}
	}
	for _, in := range []string{"/system.slice/x", "a:b", "a:b:c:d", "system.slice"} {
		_, err := parseSystemdPath(in, "ctr")
		want := `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "` + in + `" instead`
		if err == nil || err.Error() != want {
			t.Errorf("%q: err %v, want %s", in, err, want)
		}
	}
	u, _ := parseSystemdPath("bad--slice.slice:p:x", "ctr")
	if _, err := u.cgroupPath(""); err == nil || !strings.Contains(err.Error(), "invalid slice name: bad--slice.slice") {
		t.Errorf("bad slice: err %v", err)
	}
	u, _ = parseSystemdPath("system.slice:p:a/b", "ctr")
	if _, err := u.cgroupPath(""); err == nil {
		t.Errorf("a unit name with a slash was accepted")
	}
}

// In the user's instance (rootless) the default slice is user.slice and
// the slices are below the user manager's own cgroup, as runc's.
func TestUserUnitPath(t *testing.T) {
	const mcg = "/user.slice/user-1000.slice/user@1000.service"
	cases := []struct{ in, slice, dir string }{
		{"", "user.slice", mcg + "/user.slice/hull-ctr.scope"},
		{"user.slice:libpod:abc", "user.slice", mcg + "/user.slice/libpod-abc.scope"},
		{"app-x.slice:p:c", "app-x.slice", mcg + "/app.slice/app-x.slice/p-c.scope"},
	}
	for _, c := range cases {
		u, err := parseSystemdPath(c.in, "ctr")
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		u.User = true
		dir, err := u.cgroupPath(mcg)
		if u.slice() != c.slice || dir != c.dir || err != nil {
			t.Errorf("%q: slice %q dir %q (%v); want %q %q", c.in, u.slice(), dir, err, c.slice, c.dir)
		}
	}
}

func TestMapID(t *testing.T) {
	const m = "         0       1000          1\n         1     100000      65536\n"
	for _, c := range []struct {
		id, want int
		ok       bool
	}{{0, 1000, true}, {1, 100000, true}, {65536, 165535, true}, {65537, -1, false}} {
		got, ok, err := mapID(strings.NewReader(m), c.id)
		if got != c.want || ok != c.ok || err != nil {
			t.Errorf("mapID(%d) = %d %v %v; want %d %v", c.id, got, ok, err, c.want, c.ok)
		}
	}
	if _, _, err := mapID(strings.NewReader("0 x 1\n"), 0); err == nil {
		t.Error("a bad uid_map line was accepted")
	}
}

func TestUserBusAddress(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/x/bus")
	if a, err := userBusAddress(); a != "unix:path=/x/bus" || err != nil {
		t.Errorf("from the environment: %q %v", a, err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", dir)
	if _, err := userBusAddress(); err == nil || !strings.Contains(err.Error(), "could not detect DBUS_SESSION_BUS_ADDRESS") {
		t.Errorf("no bus: err %v, want runc's", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if a, err := userBusAddress(); a != "unix:path="+dbus.EscapeBusAddressValue(filepath.Join(dir, "bus")) || err != nil {
		t.Errorf("$XDG_RUNTIME_DIR/bus: %q %v", a, err)
	}
}

func TestAnnotationProps(t *testing.T) {
	props, err := annotationProps(map[string]string{
		"org.systemd.property.TimeoutStopSec": "uint64 3",
		"org.systemd.property.CollectMode":    "'inactive-or-failed'",
		"org.systemd.property.ExecStopPre":    "true",
		"other.annotation":                    "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []sd.Property{
		{Name: "CollectMode", Value: dbus.MakeVariant("inactive-or-failed")},
		{Name: "ExecStopPre", Value: dbus.MakeVariant(true)},
		{Name: "TimeoutStopUSec", Value: dbus.MakeVariant(uint64(3000000))},
	}
	if !reflect.DeepEqual(props, want) {
		t.Errorf("got %v, want %v", props, want)
	}
	for k, v := range map[string]string{
		"org.systemd.property.Ab":         "1",
		"org.systemd.property.Foo1":       "1",
		"org.systemd.property.Foo":        "not a gvariant",
		"org.systemd.property.RuntimeSec": "'x'",
	} {
		_, err := annotationProps(map[string]string{k: v})
		if err == nil || !strings.HasPrefix(err.Error(), "annotation "+k) {
			t.Errorf("%s=%s: err %v, want one naming the annotation", k, v, err)
		}
	}
}

func TestRangeToBits(t *testing.T) {
	for in, want := range map[string][]byte{"0": {1}, "0-2,5": {0x27}, "8": {0, 1}, " 1 , 3-4,": {0x1a}} {
		got, err := rangeToBits(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "3-1", ","} {
		if _, err := rangeToBits(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func propMap(props []sd.Property) map[string]any {
	m := map[string]any{}
	for _, p := range props {
		m[p.Name] = p.Value.Value()
	}
	return m
}

func TestResourceProps(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	u := func(v uint64) *uint64 { return &v }
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i(1 << 30), Reservation: i(1 << 20), Swap: i(2 << 30)},
		CPU:    &specs.LinuxCPU{Shares: u(1024), Quota: i(4000), Period: u(10000), Cpus: "0-1", Mems: "0"},
		Pids:   &specs.LinuxPids{Limit: i(0)},
	}
	props, files, err := resourceProps(r, true, 252)
	if err != nil {
		t.Fatal(err)
	}
	got := propMap(props)
	want := map[string]any{
		"MemoryMax": uint64(1 << 30), "MemoryLow": uint64(1 << 20), "MemorySwapMax": uint64(1 << 30),
		"CPUWeight": SharesToWeight(1024), "CPUQuotaPeriodUSec": uint64(10000), "CPUQuotaPerSecUSec": uint64(400000),
		"AllowedCPUs": []byte{3}, "AllowedMemoryNodes": []byte{1}, "TasksMax": uint64(1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v2 props\n got %v\nwant %v", got, want)
	}
	// 4000/10000 is 40%, a whole percentage: no rounding. 4050 is not.
	if *files.CPU.Quota != 4000 {
		t.Errorf("quota changed to %d", *files.CPU.Quota)
	}
	r.CPU.Quota = i(4050)
	props, files, _ = resourceProps(r, true, 252)
	if got := propMap(props)["CPUQuotaPerSecUSec"]; got != uint64(410000) || *files.CPU.Quota != 4100 || *r.CPU.Quota != 4050 {
		t.Errorf("rounding: prop %v, file quota %d, caller's %d; want 410000, 4100, 4050", got, *files.CPU.Quota, *r.CPU.Quota)
	}
	// Old systemd: no period, no AllowedCPUs (files only).
	props, _, _ = resourceProps(r, true, 241)
	got = propMap(props)
	if _, ok := got["CPUQuotaPeriodUSec"]; ok {
		t.Errorf("CPUQuotaPeriodUSec sent to systemd 241")
	}
	if _, ok := got["AllowedCPUs"]; ok {
		t.Errorf("AllowedCPUs sent to systemd 241")
	}
	// v1 names.
	r = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i(-1)}, CPU: &specs.LinuxCPU{Shares: u(512)},
		Pids: &specs.LinuxPids{Limit: i(-1)}}
	props, _, _ = resourceProps(r, false, 252)
	want = map[string]any{"MemoryLimit": uint64(math.MaxUint64), "CPUShares": uint64(512), "TasksMax": uint64(math.MaxUint64)}
	if got := propMap(props); !reflect.DeepEqual(got, want) {
		t.Errorf("v1 props\n got %v\nwant %v", got, want)
	}
	// unified keys.
	props, _, err = resourceProps(&specs.LinuxResources{Unified: map[string]string{
		"memory.high": "max", "pids.max": "10", "cpu.max": "max 50000", "io.weight": "100"}}, true, 252)
	want = map[string]any{"MemoryHigh": uint64(math.MaxUint64), "TasksMax": uint64(10),
		"CPUQuotaPeriodUSec": uint64(50000), "CPUQuotaPerSecUSec": uint64(math.MaxUint64)}
	if got := propMap(props); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("unified props\n got %v (%v)\nwant %v", got, err, want)
	}
	if _, _, err := resourceProps(&specs.LinuxResources{Unified: map[string]string{"memory.max": "lots"}}, true, 252); err == nil || !strings.Contains(err.Error(), "memory.max") {
		t.Errorf("bad unified value: err %v", err)
	}
}

// cpu.idle 1 goes to systemd (252 and later) as CPUWeight=0; a weight
// given beside it is left out of the properties, with runc's warning,
// which runc's suite matches ("unable to apply both").
func TestIdleProps(t *testing.T) {
	var logged bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	defer slog.SetDefault(old)
	i := func(v int64) *int64 { return &v }
	u := func(v uint64) *uint64 { return &v }
	for _, tc := range []struct {
		name string
		r    specs.LinuxResources
		ver  int
		want map[string]any
		warn string
	}{
		{"idle and shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i(1), Shares: u(200)}}, 252,
			map[string]any{"CPUWeight": uint64(0)}, "unable to apply both CPUWeight and CpuIdle to systemd, ignoring CPUWeight"},
		{"idle 0 and shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i(0), Shares: u(200)}}, 252,
			map[string]any{"CPUWeight": SharesToWeight(200)}, ""},
		{"idle, systemd 251", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i(1), Shares: u(200)}}, 251,
			map[string]any{"CPUWeight": SharesToWeight(200)}, ""},
		{"unified idle and weight", specs.LinuxResources{Unified: map[string]string{"cpu.idle": "1", "cpu.weight": "8"}}, 252,
			map[string]any{"CPUWeight": uint64(0)}, "unable to apply both cpu.weight and cpu.idle to systemd, ignoring cpu.weight"},
		{"unified weight", specs.LinuxResources{Unified: map[string]string{"cpu.weight": "8"}}, 252,
			map[string]any{"CPUWeight": uint64(8)}, ""},
	} {
		logged.Reset()
		props, _, err := resourceProps(&tc.r, true, tc.ver)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := propMap(props); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: props %v, want %v", tc.name, got, tc.want)
		}
		if tc.warn == "" && logged.Len() > 0 {
			t.Errorf("%s: logged %q, want nothing", tc.name, logged.String())
		}
		if tc.warn != "" && !strings.Contains(logged.String(), "level=WARN msg=\""+tc.warn+"\"") {
			t.Errorf("%s: logged %q, want the warning %q", tc.name, logged.String(), tc.warn)
		}
	}
}

func TestDeviceProps(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	rules := append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, AllowedDevices...)
	props, _, err := resourceProps(&specs.LinuxResources{Devices: rules}, true, 252)
	if err != nil {
		t.Fatal(err)
	}
	if len(props) != 3 || props[1].Value.Value() != "strict" {
		t.Fatalf("props %v", props)
	}
	list := props[2].Value.Value().([]deviceAllow)
	want := []deviceAllow{{"char-*", "m"}, {"block-*", "m"}, {"/dev/char/1:3", "rwm"}, {"/dev/char/1:8", "rwm"},
		{"/dev/char/1:7", "rwm"}, {"/dev/char/5:0", "rwm"}, {"/dev/char/1:5", "rwm"}, {"/dev/char/1:9", "rwm"},
		{"char-136", "rwm"}, {"/dev/char/5:2", "rwm"}, {"/dev/char/10:200", "rwm"}}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("DeviceAllow\n got %v\nwant %v", list, want)
	}
	// Allow all: auto, empty. A deny-list: strict, empty.
	props, _, _ = resourceProps(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}}, true, 252)
	if props[1].Value.Value() != "auto" || len(props[0].Value.Value().([]deviceAllow)) != 0 {
		t.Errorf("allow all: %v", props)
	}
	props, _, _ = resourceProps(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"},
		{Allow: false, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}}}, true, 252)
	if len(props) != 2 || props[1].Value.Value() != "strict" || len(props[0].Value.Value().([]deviceAllow)) != 0 {
		t.Errorf("deny list: %v", props)
	}
	// No rules: devices left alone.
	if props, _, _ := resourceProps(&specs.LinuxResources{}, true, 252); len(props) != 0 {
		t.Errorf("no rules: %v", props)
	}
}

func TestSavedSystemd(t *testing.T) {
	m := &sdManager{manager: newUnifiedManager("/sys/fs/cgroup", "/sys/fs/cgroup/system.slice/hull-x.scope", []string{"memory"}),
		unit: "hull-x.scope", slice: "system.slice", scope: true}
	s := Save(m)
	if s == nil || s.Systemd == nil || s.Systemd.Unit != "hull-x.scope" || s.Unified != "/sys/fs/cgroup/system.slice/hull-x.scope" {
		t.Fatalf("saved %+v", s)
	}
	l, ok := Load(s).(*sdManager)
	if !ok || l.unit != "hull-x.scope" || l.slice != "system.slice" || !l.scope || l.Path("") != s.Unified {
		t.Fatalf("loaded %+v", l)
	}
}

func TestNewSystemdWithoutSystemd(t *testing.T) {
	if isRunningSystemd() {
		t.Skip("systemd runs here: this checks the error where it does not")
	}
	_, err := NewFor("system.slice:hull:x", "x", nil, false)
	if err != nil {
		t.Fatalf("cgroupfs driver refused a relative path: %v", err)
	}
	UseSystemd(true)
	defer UseSystemd(false)
	_, err = NewFor("system.slice:hull:x", "x", nil, false)
	if err == nil || err.Error() != "systemd not running on this host, cannot use systemd cgroups manager" {
		t.Errorf("err %v, want runc's", err)
	}
}

func TestOverlay(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	u := func(v uint64) *uint64 { return &v }
	base := &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u(1000000)}, Pids: &specs.LinuxPids{Limit: i(5)}}
	got := overlay(base, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i(9)}})
	if got.CPU == nil || *got.CPU.Period != 1000000 || *got.Pids.Limit != 9 || *base.Pids.Limit != 5 {
		t.Errorf("overlay: %+v (base %+v)", got, base)
	}
	if r := (&specs.LinuxResources{}); overlay(nil, r) != r {
		t.Errorf("overlay of nothing is not r")
	}
}
