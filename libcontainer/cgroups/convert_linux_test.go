package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSharesToWeight(t *testing.T) {
	// runc v1.5.1's values (its suite: 100 shares is weight 17).
	for in, want := range map[uint64]uint64{0: 0, 2: 1, 1024: 100, 262144: 10000, 100: 17, 3: 2, 500000: 10000} {
		if got := SharesToWeight(in); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestBlkioWeightToIOWeight(t *testing.T) {
	for in, want := range map[uint16]uint64{0: 0, 10: 1, 500: 4950, 1000: 10000, 100: 910} {
		if got := BlkioWeightToIOWeight(in); got != want {
			t.Errorf("BlkioWeightToIOWeight(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestSwapToV2(t *testing.T) {
	for _, tc := range []struct {
		swap, limit, want int64
		err               bool
	}{
		{0, 0, 0, false},
		{0, -1, -1, false},   // unlimited memory: unlimited swap too
		{-1, 100, -1, false}, // unlimited swap
		{300, 100, 200, false},
		{100, 100, 0, false}, // total == limit: no swap
		{50, 100, 0, true},   // total below memory
		{300, 0, 0, true},    // swap without a memory limit
		{300, -1, 0, true},
	} {
		got, err := SwapToV2(tc.swap, tc.limit)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("SwapToV2(%d, %d) = %d, %v; want %d, error %v", tc.swap, tc.limit, got, err, tc.want, tc.err)
		}
	}
}

func TestHugePageSizeName(t *testing.T) {
	for in, want := range map[string]string{"hugepages-2048kB": "2MB", "hugepages-1048576kB": "1GB", "hugepages-64kB": "64KB", "hugepages-1536kB": "1.5MB"} {
		if got, ok := hugePageSizeName(in); !ok || got != want {
			t.Errorf("hugePageSizeName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := hugePageSizeName("other"); ok {
		t.Error("hugePageSizeName accepted a non-hugepages name")
	}
}

func TestParseList(t *testing.T) {
	got, err := parseList("0-2, 5,7-8")
	if err != nil || len(got) != 6 || got[0] != 0 || got[3] != 5 || got[5] != 8 {
		t.Errorf("parseList = %v, %v", got, err)
	}
	for _, bad := range []string{"a", "3-1", "-1", "1,,2", "0-"} {
		if _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%q) accepted", bad)
		}
	}
}

var fakeHost = host{
	onlineCPUs: func() (string, error) { return "0-3", nil },
	onlineMems: func() (string, error) { return "0", nil },
	hugeSizes:  func() ([]string, error) { return []string{"2MB", "1GB"}, nil },
	blockDev: func(major, minor int64) error {
		if major == 8 && minor == 0 {
			return nil
		}
		return errors.New("no such block device")
	},
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    specs.LinuxResources
		err  string // "" = valid
	}{
		{"ok", specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: p64(1 << 26), Swap: p64(1 << 27), Reservation: p64(-1)},
			CPU:    &specs.LinuxCPU{Shares: pu64(1024), Quota: p64(50000), Period: pu64(100000), Cpus: "0-3", Mems: "0"},
			Pids:   &specs.LinuxPids{Limit: p64(-1)},
			BlockIO: &specs.LinuxBlockIO{Weight: pu16(500), ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1}}},
			HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
			Devices:        []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			Unified:        map[string]string{"memory.high": "max"},
		}, ""},
		{"negative limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-5)}}, "linux.resources.memory.limit: -5 is invalid"},
		{"swap below limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(200), Swap: p64(100)}}, "linux.resources.memory.swap: 100 is below memory.limit 200"},
		{"swappiness", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: pu64(101)}}, "linux.resources.memory.swappiness"},
		{"shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: pu64(1)}}, "linux.resources.cpu.shares: 1 is outside 2-262144"},
		{"quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(10)}}, "linux.resources.cpu.quota"},
		{"period", specs.LinuxResources{CPU: &specs.LinuxCPU{Period: pu64(5000000)}}, "linux.resources.cpu.period"},
		{"burst", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(10000), Burst: pu64(20000)}}, "linux.resources.cpu.burst"},
		{"idle", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: p64(2)}}, "linux.resources.cpu.idle"},
		{"cpus offline", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-7"}}, "linux.resources.cpu.cpus: cpu 4 in \"0-7\" is not online"},
		{"cpus malformed", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "x"}}, "linux.resources.cpu.cpus: malformed"},
		{"mems", specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "1"}}, "linux.resources.cpu.mems"},
		{"blkio weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: pu16(5)}}, "linux.resources.blockIO.weight: 5 is outside 10-1000"},
		{"blkio device", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 9, Minor: 9}}}}}, "linux.resources.blockIO.throttleWriteIOPSDevice[0]: no such block device"},
		{"hugepage size", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB"}}}, "linux.resources.hugepageLimits[0].pageSize"},
		{"ifname", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "a b"}}}}, "linux.resources.network.priorities[0].name"},
		{"device type", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x", Access: "r"}}}, "linux.resources.devices[0].type"},
		{"device access", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "ax"}}}, "linux.resources.devices[0].access"},
		{"device access empty", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c"}}}, "linux.resources.devices[0].access: must not be empty"},
		{"device major", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Major: p64(-2), Access: "r"}}}, "linux.resources.devices[0].major"},
		{"device minor", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "b", Major: p64(8), Minor: p64(1 << 21), Access: "r"}}}, "linux.resources.devices[0].minor"},
		{"unified slash", specs.LinuxResources{Unified: map[string]string{"../memory.max": "1"}}, `linux.resources.unified["../memory.max"]`},
		{"unified procs", specs.LinuxResources{Unified: map[string]string{"cgroup.procs": "1"}}, "not a resource"},
	} {
		err := validate(&tc.r, fakeHost)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
		}
	}
}

// TestTxnRollback checks the undo log on plain files: single values come
// back, keyed entries come back or are removed.
func TestTxnRollback(t *testing.T) {
	dir := t.TempDir()
	write := func(f, s string) {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "100\n")
	write("oom", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
	write("keyed", "8:0 500\n")
	write("multi", "x 1\ny 2\n")
	tx := &txn{}
	if err := tx.write(dir, "a", "200"); err != nil {
		t.Fatal(err)
	}
	if v, ok := oomControlValue("oom_kill_disable 0\nunder_oom 0"); !ok || v != "0" {
		t.Fatalf("oomControlValue = %q, %v", v, ok)
	}
	if err := tx.writeKeyed(dir, "keyed", "8:0", "8:0 900", "8:0 0"); err != nil {
		t.Fatal(err)
	}
	if err := tx.write(dir, "multi", "z"); err != nil {
		t.Fatal(err)
	}
	if err := tx.write(dir, "missing", "1"); err == nil {
		t.Fatal("write to a missing file succeeded (it must not create files)")
	}
	if got := mustRead(t, dir, "a"); got != "200" {
		t.Fatalf("a = %q before rollback", got)
	}
	tx.rollback()
	if got := mustRead(t, dir, "a"); got != "100" {
		t.Errorf("a = %q after rollback, want 100", got)
	}
	if got := mustRead(t, dir, "keyed"); got != "8:0 500" {
		t.Errorf("keyed = %q after rollback, want the old line", got)
	}
	if got := mustRead(t, dir, "multi"); got != "z" {
		t.Errorf("multi-line file = %q: it has no undo and must keep the new value", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was created")
	}
}

func TestParsers(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"cpu.pressure":                         "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
		"blkio.throttle.io_serviced_recursive": "254:0 Read 10\n254:0 Write 3\n254:0 Total 13\nTotal 13\n",
		"io.stat":                              "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
		"memory.stat":                          "cache 10\nrss 20\n",
	}
	for f, c := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	psi, err := readPSI(dir, "cpu.pressure")
	if err != nil || psi.Some.Avg10 != 1.5 || psi.Some.Avg60 != 0.25 || psi.Some.Total != 12345 || psi.Full.Total != 7 {
		t.Errorf("readPSI = %+v, %v", psi, err)
	}
	ents, err := readBlkioV1(dir, "blkio.throttle.io_serviced_recursive")
	if err != nil || len(ents) != 3 || ents[0] != (BlkioEntry{Major: 254, Minor: 0, Op: "Read", Value: 10}) {
		t.Errorf("readBlkioV1 = %+v, %v", ents, err)
	}
	var s Stats
	if err := statIOV2(dir, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Blkio.IoServiceBytesRecursive) != 3 || s.Blkio.IoServiceBytesRecursive[1] != (BlkioEntry{Major: 254, Op: "Write", Value: 8192}) {
		t.Errorf("statIOV2 bytes = %+v", s.Blkio.IoServiceBytesRecursive)
	}
	kv, err := readKeyed(dir, "memory.stat")
	if err != nil || kv["cache"] != 10 || kv["rss"] != 20 {
		t.Errorf("readKeyed = %v, %v", kv, err)
	}
	if v, err := parseUint("max"); err != nil || v != ^uint64(0) {
		t.Errorf(`parseUint("max") = %d, %v`, v, err)
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0-3,5", "0", "", "3-1", "a", "0-99999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseList(s)
		if err != nil {
			return
		}
		for _, v := range l {
			if v < 0 {
				t.Fatalf("parseList(%q) gave %d", s, v)
			}
		}
	})
}
