package cgroups

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestV1CreateApplyDestroy(t *testing.T) {
	m := needV1(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err != nil {
		t.Fatalf("second Create: %v", err)
	}
	for _, d := range m.dirs() {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("after Create: %v", err)
		}
	}
	if !m.Exists() {
		t.Fatal("Exists() = false after Create")
	}
	c := startChild(t, "sleep 100", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	own, err := readOwnCgroups()
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(m.v1["memory"])
	for _, ctl := range []string{"memory", "cpu", "freezer", "pids", "devices", "name=systemd"} {
		if _, ok := m.v1[ctl]; !ok {
			continue
		}
		want := filepath.Join(own.v1[ctl], name)
		if got := procCgroup(t, c.pid(), ctl); got != want {
			t.Errorf("child's %s cgroup = %q, want %q", ctl, got, want)
		}
	}
	if m.unified != "" {
		// Hybrid: the child is tracked in cgroup2 too.
		if got, want := procCgroup(t, c.pid(), ""), filepath.Join(own.v2, name); got != want {
			t.Errorf("child's cgroup2 cgroup = %q, want %q", got, want)
		}
	}
	pids, err := m.Pids()
	if err != nil || len(pids) != 1 || pids[0] != c.pid() {
		t.Errorf("Pids() = %v, %v; want [%d]", pids, err, c.pid())
	}
	// Destroy with a live process kills it first, then removes every
	// directory, unified included.
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	c.wait(t, 5*time.Second)
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want killed by SIGKILL", c.cmd.ProcessState)
	}
	for _, d := range m.dirs() {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Destroy (%v)", d, err)
		}
	}
	if m.Exists() {
		t.Error("Exists() = true after Destroy")
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("Destroy of a removed cgroup: %v", err)
	}
}

func TestV1Memory(t *testing.T) {
	m := needV1(t)
	dir := m.Path("memory")
	if dir == "" {
		t.Skip("skipped: no v1 memory hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	hasSwap := fileExists(dir, "memory.memsw.limit_in_bytes")
	set := func(limit, swap int64) {
		t.Helper()
		mem := &specs.LinuxMemory{Limit: p64(limit), Reservation: p64(limit / 2), Swappiness: pu64(10)}
		if hasSwap {
			mem.Swap = p64(swap)
		}
		if err := m.Set(&specs.LinuxResources{Memory: mem}); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, dir, "memory.limit_in_bytes"); got != strconv.FormatInt(limit, 10) {
			t.Errorf("memory.limit_in_bytes = %s, want %d", got, limit)
		}
		if got := mustRead(t, dir, "memory.soft_limit_in_bytes"); got != strconv.FormatInt(limit/2, 10) {
			t.Errorf("memory.soft_limit_in_bytes = %s, want %d", got, limit/2)
		}
		if hasSwap {
			if got := mustRead(t, dir, "memory.memsw.limit_in_bytes"); got != strconv.FormatInt(swap, 10) {
				t.Errorf("memory.memsw.limit_in_bytes = %s, want %d", got, swap)
			}
		}
	}
	set(64<<20, 96<<20)
	// Lower both: the memory limit must go first (memsw may never drop
	// below it), then up again: memsw first.
	set(32<<20, 32<<20)
	set(128<<20, 256<<20)
	if got := mustRead(t, dir, "memory.swappiness"); got != "10" {
		t.Errorf("memory.swappiness = %s, want 10", got)
	}
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: pbool(true)}}); err != nil {
		t.Fatal(err)
	}
	if kv, _ := readKeyed(dir, "memory.oom_control"); kv["oom_kill_disable"] != 1 {
		t.Errorf("memory.oom_control = %v, want oom_kill_disable 1", kv)
	}
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: pbool(false)}}); err != nil {
		t.Fatal(err)
	}
	// checkBeforeUpdate refuses a limit below what is in use. (v1 does
	// not move a process's charges along, so the child allocates after
	// joining.)
	c := startChild(t, "x=$(head -c 4000000 /dev/zero | tr '\\0' a); echo ready; sleep 100", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	c.release(t)
	waitFor(t, "the child to allocate", 10*time.Second, func() bool { return strings.Contains(c.out.String(), "ready") })
	usage := mustUint(t, dir, "memory.usage_in_bytes")
	if usage < 1<<20 {
		t.Fatalf("memory.usage_in_bytes = %d after the child allocated 4MB", usage)
	}
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(int64(usage) / 2), CheckBeforeUpdate: pbool(true)}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.memory.limit") || !strings.Contains(err.Error(), "checkBeforeUpdate") || !strings.Contains(err.Error(), "rejecting memory limit") {
		t.Errorf("limit below usage with checkBeforeUpdate: err = %v", err)
	}
	if got := mustRead(t, dir, "memory.limit_in_bytes"); got != strconv.Itoa(128<<20) {
		t.Errorf("refused update changed memory.limit_in_bytes to %s", got)
	}
}

// TestV1OOMKill fills a small memory limit and counts the kill.
func TestV1OOMKill(t *testing.T) {
	m := needV1(t)
	dir := m.Path("memory")
	if dir == "" {
		t.Skip("skipped: no v1 memory hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	mem := &specs.LinuxMemory{Limit: p64(32 << 20)}
	if fileExists(dir, "memory.memsw.limit_in_bytes") {
		mem.Swap = p64(32 << 20) // no swap to escape to
	}
	if err := m.Set(&specs.LinuxResources{Memory: mem}); err != nil {
		t.Fatal(err)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 0 {
		t.Fatalf("OOMKillCount before = %d, %v", n, err)
	}
	// tail keeps a line that never ends entirely in memory.
	c := startChild(t, "head -c 400000000 /dev/zero | tail >/dev/null; echo status=$?", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	c.release(t)
	out := c.wait(t, 60*time.Second)
	n, err := m.OOMKillCount()
	if err != nil || n < 1 {
		t.Errorf("OOMKillCount = %d, %v; want >= 1 (child said %q)", n, err, out)
	}
	if !strings.Contains(out, "status=137") {
		// The OOM killer may take the shell that would report too
		// (seen on Debian's 6.1 kernel, with tail's memory not yet
		// freed): then it counted both kills.
		if out == "" && n >= 2 {
			t.Logf("the reporting shell was OOM-killed too (%d kills counted)", n)
		} else {
			t.Errorf("tail was not SIGKILLed: %q (%d kills counted)", out, n)
		}
	}
}

func TestV1Pids(t *testing.T) {
	m := needV1(t)
	dir := m.Path("pids")
	if dir == "" {
		t.Skip("skipped: no v1 pids hierarchy")
	}
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(4)}}); err == nil {
		t.Fatal("Set before Create succeeded")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(4)}}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, dir, "pids.max"); got != "4" {
		t.Fatalf("pids.max = %s, want 4", got)
	}
	c := startChild(t, "for i in 1 2 3 4 5 6 7 8; do sleep 30 >/dev/null 2>&1 & done; echo spawned; wait", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	c.release(t)
	waitFor(t, "a refused fork in pids.events", 10*time.Second, func() bool {
		ev, _ := readKeyed(dir, "pids.events")
		return ev["max"] > 0
	})
	cur, _ := readUint(dir, "pids.current")
	if cur > 4 {
		t.Errorf("pids.current = %d above the limit 4", cur)
	}
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pids.Limit != 4 || st.Pids.Current == 0 || st.Pids.Current > 4 {
		t.Errorf("Stats().Pids = %+v", st.Pids)
	}
	// A negative limit means no limit; 0 means 1, as runc has it (the
	// suite's "runc run (pids.limit=0 means 1)").
	for _, c := range []struct {
		limit int64
		want  string
	}{{-1, "max"}, {0, "1"}, {-1, "max"}} {
		if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(c.limit)}}); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, dir, "pids.max"); got != c.want {
			t.Errorf("pids.max = %s after limit %d, want %s", got, c.limit, c.want)
		}
	}
}

func TestV1CPU(t *testing.T) {
	m := needV1(t)
	dir := m.Path("cpu")
	if dir == "" {
		t.Skip("skipped: no v1 cpu hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	cpu := &specs.LinuxCPU{Shares: pu64(512), Quota: p64(50000), Period: pu64(100000)}
	if fileExists(dir, "cpu.cfs_burst_us") {
		cpu.Burst = pu64(10000)
	}
	if err := m.Set(&specs.LinuxResources{CPU: cpu}); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"cpu.shares": "512", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000"} {
		if got := mustRead(t, dir, f); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
	if cpu.Burst != nil {
		if got := mustRead(t, dir, "cpu.cfs_burst_us"); got != "10000" {
			t.Errorf("cpu.cfs_burst_us = %s, want 10000", got)
		}
	}
	// Unlimited again.
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: p64(-1)}}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, dir, "cpu.cfs_quota_us"); got != "-1" {
		t.Errorf("cpu.cfs_quota_us = %s, want -1", got)
	}
	if fileExists(dir, "cpu.idle") {
		if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: p64(1)}}); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, dir, "cpu.idle"); got != "1" {
			t.Errorf("cpu.idle = %s, want 1", got)
		}
	}
}

// A shorter rt period than the current runtime is refused by the kernel
// until the runtime is lowered: Set writes the runtime first then, as runc
// does (runc#4094; the suite's "update rt period and runtime").
func TestV1RealtimeOrder(t *testing.T) {
	m := needV1(t)
	dir := m.Path("cpu")
	if dir == "" {
		t.Skip("skipped: no v1 cpu hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if !fileExists(dir, "cpu.rt_runtime_us") {
		t.Skip("skipped: no real-time group scheduling (cpu.rt_runtime_us) in this kernel")
	}
	// 2% of a CPU, from what the test's own cgroup has left.
	err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: pu64(1000000), RealtimeRuntime: p64(20000)}})
	if err != nil {
		t.Skipf("skipped: the parent of %s has no 2%% real-time budget left to give (%v)", dir, err)
	}
	// Period 10000 < runtime 20000: written first, the period is refused.
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: pu64(10000), RealtimeRuntime: p64(200)}}); err != nil {
		t.Fatalf("rt period 10000 runtime 200 after period 1000000 runtime 20000: %v", err)
	}
	for f, want := range map[string]string{"cpu.rt_period_us": "10000", "cpu.rt_runtime_us": "200"} {
		if got := mustRead(t, dir, f); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
	// And back up: the period first (the runtime fits the old one).
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: pu64(100000), RealtimeRuntime: p64(2000)}}); err != nil {
		t.Fatalf("rt period 100000 runtime 2000: %v", err)
	}
	for f, want := range map[string]string{"cpu.rt_period_us": "100000", "cpu.rt_runtime_us": "2000"} {
		if got := mustRead(t, dir, f); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
}

func TestV1Cpuset(t *testing.T) {
	m := needV1(t)
	dir := m.Path("cpuset")
	if dir == "" {
		t.Skip("skipped: no v1 cpuset hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	// A fresh v1 cpuset is empty; Create copied the parent's.
	parent := filepath.Dir(dir)
	if got, want := mustRead(t, dir, "cpuset.cpus"), mustRead(t, parent, "cpuset.cpus"); got != want {
		t.Errorf("cpuset.cpus = %q after Create, want the parent's %q", got, want)
	}
	online, _ := parseList(mustRead(t, "/sys/devices/system/cpu", "online"))
	last := strconv.Itoa(online[len(online)-1])
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: last, Mems: "0"}}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, dir, "cpuset.cpus"); got != last {
		t.Errorf("cpuset.cpus = %q, want %q", got, last)
	}
	c := startChild(t, "sleep 100", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	status, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c.pid()), "status"))
	if !strings.Contains(string(status), "Cpus_allowed_list:\t"+last+"\n") {
		t.Errorf("child's affinity is not cpu %s:\n%s", last, status)
	}
	err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-4096"}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.cpus") {
		t.Errorf("cpus beyond the host: err = %v", err)
	}
}

func TestV1Devices(t *testing.T) {
	m := needV1(t)
	dir := m.Path("devices")
	if dir == "" {
		t.Skip("skipped: no v1 devices hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	rules := []specs.LinuxDeviceCgroup{
		specRule(false, "", wildcard, wildcard, "rwm"),
		specRule(true, "c", 1, 3, "rwm"), // /dev/null
		specRule(true, "c", 1, 5, "r"),   // /dev/zero, read only
	}
	if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, dir, "devices.list"); got != "c 1:3 rwm\nc 1:5 r" {
		t.Errorf("devices.list = %q", got)
	}
	c := startChild(t, deviceProbe, nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	c.release(t)
	out := c.wait(t, 10*time.Second)
	for _, want := range []string{"zero-read-ok", "zero-write-denied", "full-denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("device probe output %q lacks %q", out, want)
		}
	}
	// An update: /dev/zero becomes writable, no disruptive rule needed.
	rules[2].Access = "rw"
	if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, dir, "devices.list"); got != "c 1:3 rwm\nc 1:5 rw" {
		t.Errorf("devices.list after update = %q", got)
	}
	// A list v1 cannot express changes nothing.
	err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		specRule(false, "", wildcard, wildcard, "rwm"), specRule(true, "c", wildcard, wildcard, "rwm"), specRule(false, "c", 1, 3, "rwm"),
	}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.devices") {
		t.Errorf("hole punch: err = %v", err)
	}
	if got := mustRead(t, dir, "devices.list"); got != "c 1:3 rwm\nc 1:5 rw" {
		t.Errorf("devices.list after a refused Set = %q", got)
	}
}

// deviceProbe tries /dev/zero (read, write) and /dev/full (read).
const deviceProbe = `head -c1 /dev/zero >/dev/null && echo zero-read-ok
( : >/dev/zero ) 2>/dev/null || echo zero-write-denied
( : </dev/full ) 2>/dev/null && echo full-allowed || echo full-denied`

func TestV1Freezer(t *testing.T) {
	m := needV1(t)
	if m.Path("freezer") == "" {
		t.Skip("skipped: no v1 freezer hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	testFreezer(t, m, func() string { return mustRead(t, m.Path("freezer"), "freezer.state") }, "FROZEN", "THAWED")
}

// testFreezer freezes a ticking child and checks that it stops ticking,
// then thaws it and checks that it goes on.
func testFreezer(t *testing.T, m *manager, state func() string, frozen, thawed string) {
	c := startChild(t, "while :; do echo tick; sleep 0.02; done", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	c.release(t)
	ticks := func() int { return strings.Count(c.out.String(), "tick") }
	waitFor(t, "the child to tick", 5*time.Second, func() bool { return ticks() > 2 })
	if st, err := m.State(); err != nil || st != Thawed {
		t.Errorf("State() = %q, %v before freezing", st, err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if st, err := m.State(); err != nil || st != Frozen {
		t.Errorf("State() = %q, %v after Freeze", st, err)
	}
	if got := state(); got != frozen {
		t.Errorf("freezer file = %q after Freeze, want %q", got, frozen)
	}
	n := ticks()
	time.Sleep(300 * time.Millisecond)
	if got := ticks(); got != n {
		t.Errorf("the frozen child ticked %d times", got-n)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if st, err := m.State(); err != nil || st != Thawed {
		t.Errorf("State() = %q, %v after Thaw", st, err)
	}
	if got := state(); got != thawed {
		t.Errorf("freezer file = %q after Thaw, want %q", got, thawed)
	}
	waitFor(t, "the thawed child to tick again", 5*time.Second, func() bool { return ticks() > n })
}

func TestV1Kill(t *testing.T) {
	m := needV1(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	a := startChild(t, "sleep 100", nil)
	b := startChild(t, "sleep 100", nil)
	for _, c := range []*child{a, b} {
		if err := m.Apply(c.pid()); err != nil {
			t.Fatal(err)
		}
	}
	// SIGTERM: freeze, signal each process, thaw.
	if err := m.Kill(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*child{a, b} {
		c.wait(t, 5*time.Second)
		if ws := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGTERM {
			t.Errorf("child %d: %v, want SIGTERM", c.pid(), c.cmd.ProcessState)
		}
	}
	if st, _ := m.State(); st != Thawed && st != Undefined {
		t.Errorf("State() = %q after Kill, want thawed", st)
	}
	// SIGKILL: cgroup.kill where there is one (hybrid), even when frozen.
	c := startChild(t, "sleep 100", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	if m.Path("freezer") != "" {
		if err := m.Freeze(); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Kill(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.wait(t, 5*time.Second)
}

func TestV1Stats(t *testing.T) {
	m := needV1(t)
	if m.Path("memory") == "" || m.Path("pids") == "" || m.Path("cpuacct") == "" {
		t.Skip("skipped: needs v1 memory, pids and cpuacct hierarchies")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(64 << 20)}, Pids: &specs.LinuxPids{Limit: p64(20)}}); err != nil {
		t.Fatal(err)
	}
	// exec: one task from start to end. With a plain "sleep 100" dash
	// forks it, and in the slow systemd VM the fork came after Stats read
	// pids.current (1) and before the test read it (2): CI of 7a2ebbf.
	c := startChild(t, "exec sleep 100", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	c.release(t)
	time.Sleep(100 * time.Millisecond)
	before, _ := readUint(m.Path("cpuacct"), "cpuacct.usage")
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	after, _ := readUint(m.Path("cpuacct"), "cpuacct.usage")
	if st.CPU.Usage.Total < before || st.CPU.Usage.Total > after || st.CPU.Usage.Total == 0 {
		t.Errorf("cpu total %d outside the file's %d..%d", st.CPU.Usage.Total, before, after)
	}
	if len(st.CPU.Usage.Percpu) == 0 || len(st.CPU.Usage.PercpuUser) != len(st.CPU.Usage.Percpu) {
		t.Errorf("per-cpu usage = %v / %v", st.CPU.Usage.Percpu, st.CPU.Usage.PercpuUser)
	}
	md := m.Path("memory")
	for name, pair := range map[string][2]uint64{
		"limit":   {st.Memory.Usage.Limit, mustUint(t, md, "memory.limit_in_bytes")},
		"failcnt": {st.Memory.Usage.Failcnt, mustUint(t, md, "memory.failcnt")},
		"raw":     {st.Memory.Raw["hierarchical_memory_limit"], 64 << 20},
		"pids":    {st.Pids.Current, mustUint(t, m.Path("pids"), "pids.current")},
		"plimit":  {st.Pids.Limit, 20},
	} {
		if pair[0] != pair[1] {
			t.Errorf("stats %s = %d, file says %d", name, pair[0], pair[1])
		}
	}
	if st.Memory.Usage.Usage == 0 || st.Memory.Usage.Limit != 64<<20 {
		t.Errorf("memory usage = %+v", st.Memory.Usage)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"cpu":{"usage":{"total":`, `"percpu":[`, `"memory":{`, `"usage":{"limit":67108864`, `"pids":{"current":`, `"blkio":{`, `"hugetlb":{`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("stats JSON lacks %s: %s", key, b)
		}
	}
}

func mustUint(t *testing.T, dir, file string) uint64 {
	t.Helper()
	v, err := readUint(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestV1BadValueChangesNothing: a request with one bad value is refused
// whole, before writing; a request the kernel refuses half-way is undone.
func TestV1BadValueChangesNothing(t *testing.T) {
	m := needV1(t)
	md, pd := m.Path("memory"), m.Path("pids")
	if md == "" || pd == "" {
		t.Skip("skipped: needs v1 memory and pids hierarchies")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	good := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(64 << 20)}, Pids: &specs.LinuxPids{Limit: p64(10)}}
	if err := m.Set(good); err != nil {
		t.Fatal(err)
	}
	unchanged := func(when string) {
		t.Helper()
		if got := mustRead(t, md, "memory.limit_in_bytes"); got != strconv.Itoa(64<<20) {
			t.Errorf("%s: memory.limit_in_bytes = %s, want %d", when, got, 64<<20)
		}
		if got := mustRead(t, pd, "pids.max"); got != "10" {
			t.Errorf("%s: pids.max = %s, want 10", when, got)
		}
	}
	for name, tc := range map[string]struct {
		r   specs.LinuxResources
		err string
	}{
		"cpuset outside the host": {specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(32 << 20)}, Pids: &specs.LinuxPids{Limit: p64(5)},
			CPU: &specs.LinuxCPU{Cpus: "0-99999"}}, "linux.resources.cpu.cpus"},
		"negative memory": {specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(-7)}, Pids: &specs.LinuxPids{Limit: p64(5)}}, "linux.resources.memory.limit"},
		"bad device rule": {specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(5)}, Devices: []specs.LinuxDeviceCgroup{{Type: "q", Access: "r"}}}, "linux.resources.devices[0].type"},
		"absent controller": {specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(5)},
			Network: &specs.LinuxNetwork{ClassID: func() *uint32 { v := uint32(7); return &v }()}}, "net_cls"},
		"unified on v1": {specs.LinuxResources{Pids: &specs.LinuxPids{Limit: p64(5)}, Unified: map[string]string{"memory.max": "1"}}, "linux.resources.unified: invalid configuration"},
	} {
		if name == "absent controller" && m.Path("net_cls") != "" {
			continue
		}
		err := m.Set(&tc.r)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want one naming %q", name, err, tc.err)
		}
		unchanged(name)
	}
	// The kernel refuses a realtime runtime above the parent's budget
	// after the memory and pids limits were written: they are put back.
	if cd := m.Path("cpu"); cd != "" && fileExists(cd, "cpu.rt_runtime_us") {
		parentRT := mustUint(t, filepath.Dir(cd), "cpu.rt_runtime_us")
		err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: p64(48 << 20)}, Pids: &specs.LinuxPids{Limit: p64(3)},
			CPU: &specs.LinuxCPU{RealtimeRuntime: p64(int64(parentRT) + 10000), RealtimePeriod: pu64(1000000)}})
		if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.realtimeRuntime") {
			t.Errorf("rt runtime above the parent's: err = %v", err)
		}
		unchanged("kernel refusal")
	} else {
		t.Log("no cpu.rt_runtime_us: the rollback-after-kernel-refusal case is not run")
	}
}

func TestV1Blkio(t *testing.T) {
	m := needV1(t)
	dir := m.Path("blkio")
	if dir == "" {
		t.Skip("skipped: no v1 blkio hierarchy")
	}
	disk := wholeDisk(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	dev := specs.LinuxBlockIODevice{Major: disk[0], Minor: disk[1]}
	if err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
		ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 1 << 20}},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 100}},
	}}); err != nil {
		t.Fatal(err)
	}
	key := devKey(dev)
	if got := mustRead(t, dir, "blkio.throttle.read_bps_device"); got != key+" 1048576" {
		t.Errorf("blkio.throttle.read_bps_device = %q", got)
	}
	if got := mustRead(t, dir, "blkio.throttle.write_iops_device"); got != key+" 100" {
		t.Errorf("blkio.throttle.write_iops_device = %q", got)
	}
	// Weights need a scheduler that has them; say which field when not.
	err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: pu16(500)}})
	hasWeight := fileExists(dir, "blkio.weight") || fileExists(dir, "blkio.bfq.weight")
	if hasWeight && err != nil {
		t.Errorf("weight: %v", err)
	}
	if !hasWeight && (err == nil || !strings.Contains(err.Error(), "linux.resources.blockIO.weight")) {
		t.Errorf("weight without scheduler support: err = %v", err)
	}
}

// wholeDisk finds a block device that is a whole disk.
func wholeDisk(t *testing.T) [2]int64 {
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "loop") || strings.HasPrefix(e.Name(), "ram") {
			continue
		}
		s, err := readFile(filepath.Join("/sys/block", e.Name()), "dev")
		if err != nil {
			continue
		}
		var d [2]int64
		maj, min, _ := strings.Cut(strings.TrimSpace(s), ":")
		d[0], _ = strconv.ParseInt(maj, 10, 64)
		d[1], _ = strconv.ParseInt(min, 10, 64)
		return d
	}
	t.Skip("skipped: no whole-disk block device in /sys/block")
	return [2]int64{}
}

func TestV1Nested(t *testing.T) {
	needRoot(t)
	if DetectMode() == Unified {
		t.Skip("skipped: the host is unified")
	}
	parent := testName(t)
	mg, err := New(parent+"/ctr", "")
	if err != nil {
		t.Fatal(err)
	}
	m := mg.(*manager)
	t.Cleanup(func() {
		cleanupManager(t, m)
		for _, d := range m.dirs() {
			_ = removeCgroup(filepath.Dir(d)) // the parent the test asked for
		}
	})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	// A container's own sub-cgroups go with it.
	sub := filepath.Join(m.procsDir(), "inner")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "sleep 100", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(sub, "cgroup.procs", strconv.Itoa(c.pid())); err != nil {
		t.Fatal(err)
	}
	if pids, err := m.Pids(); err != nil || len(pids) != 1 {
		t.Errorf("Pids() = %v, %v; want the child from the sub-cgroup", pids, err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.dirs() {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left after Destroy", d)
		}
		if _, err := os.Stat(filepath.Dir(d)); err != nil {
			t.Errorf("the parent %s was removed too (only the container's cgroup should be)", filepath.Dir(d))
		}
	}
}

// TestV1DestroyFrozen: a paused container is destroyed too; a v1 freezer
// would keep killed processes alive until thawed.
func TestV1DestroyFrozen(t *testing.T) {
	m := needV1(t)
	if m.Path("freezer") == "" {
		t.Skip("skipped: no v1 freezer hierarchy")
	}
	c := startChild(t, "sleep 100", nil)
	if err := m.Apply(c.pid()); err != nil {
		t.Fatal(err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	c.wait(t, 5*time.Second)
	if m.Exists() {
		t.Errorf("cgroup left after Destroy: %v", m.dirs())
	}
}

// OpenJoin's way in, as preinit.c takes it: a single-threaded process
// (bash here) writes "0" to each inherited tasks file and is then in the
// cgroup in every v1 hierarchy; on a hybrid host the cgroup2 directory
// comes as a fd for CLONE_INTO_CGROUP, and the clone puts it there.
func TestV1JoinThroughTasks(t *testing.T) {
	m := needV1(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	j, err := m.OpenJoin()
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if n := len(m.dirs()); m.unified != "" {
		if j.FD < 0 || len(j.Tasks) != n-1 {
			t.Fatalf("hybrid OpenJoin: fd %d and %d tasks files; want a fd and %d", j.FD, len(j.Tasks), n-1)
		}
	} else if j.FD != -1 || len(j.Tasks) != n {
		t.Fatalf("legacy OpenJoin: fd %d and %d tasks files; want -1 and %d", j.FD, len(j.Tasks), n)
	}
	script := "read go; for fd in"
	for i := range j.Tasks {
		script += " " + strconv.Itoa(3+i)
	}
	script += `; do echo 0 >&$fd || exit 1; done; echo joined; exec sleep 100`
	cmd := exec.Command("bash", "-c", script)
	cmd.ExtraFiles = j.Tasks
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if j.FD >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: j.FD}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	stdin.Write([]byte("go\n"))
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "joined"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the child did not join: %q", out.String())
		}
	}
	own, err := readOwnCgroups()
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(m.v1["memory"])
	for ctl := range m.v1 {
		if want, got := filepath.Join(own.v1[ctl], name), procCgroup(t, cmd.Process.Pid, ctl); got != want {
			t.Errorf("child's %s cgroup = %q, want %q", ctl, got, want)
		}
	}
	if m.unified != "" {
		if want, got := filepath.Join(own.v2, name), procCgroup(t, cmd.Process.Pid, ""); got != want {
			t.Errorf("child's cgroup2 cgroup = %q, want %q", got, want)
		}
	}
}

// linux.resources.unified on a v1 or hybrid host is refused with runc's
// "invalid configuration" (the suite's "runc run (cgroup v1 + unified
// resources should fail)"), even where the hybrid cgroup2 hierarchy has
// the file, and nothing is written.
func TestV1UnifiedRefused(t *testing.T) {
	m := needV1(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	for _, u := range []map[string]string{{"memory.min": "131072"}, {"pids.max": "10"}, {}} {
		err := m.Set(&specs.LinuxResources{Unified: u, Pids: &specs.LinuxPids{Limit: p64(7)}})
		if err == nil || !strings.Contains(err.Error(), "invalid configuration: cannot use unified on cgroup v1") {
			t.Errorf("Set(unified %v) on a %s host: %v, want runc's \"invalid configuration\" error", u, m.mode, err)
		}
	}
	if d := m.Path("pids"); d != "" {
		if got := mustRead(t, d, "pids.max"); got != "max" {
			t.Errorf("pids.max = %s after refused Sets, want max (nothing written)", got)
		}
	}
}

// The directories above a container's cgroup that its Create made go with
// Rollback (a failed create), in every hierarchy; those that were there
// before stay.
func TestRollbackRemovesMadeParents(t *testing.T) {
	needRoot(t)
	if DetectMode() == Unified {
		t.Skip("skipped: the host is unified; New there enables controllers above the test's own cgroup, which this test does not want to touch")
	}
	before := testName(t) // exists before Create: kept
	pre, err := New(before, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := pre.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupManager(t, pre.(*manager)) })
	mg, err := New(filepath.Join(before, "made", "ctr"), "")
	if err != nil {
		t.Fatal(err)
	}
	m := mg.(*manager)
	t.Cleanup(func() { cleanupManager(t, m) })
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := Rollback(m); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.dirs() {
		if _, err := os.Stat(filepath.Dir(d)); !os.IsNotExist(err) {
			t.Errorf("%s, made by Create, left after Rollback (%v)", filepath.Dir(d), err)
			_ = removeCgroup(filepath.Dir(d))
		}
		if _, err := os.Stat(filepath.Dir(filepath.Dir(d))); err != nil {
			t.Errorf("%s, there before Create, removed by Rollback (%v)", filepath.Dir(filepath.Dir(d)), err)
		}
	}
	// Destroy (delete) removes only the container's own directory, as
	// runc (TestV1Nested); so does a Rollback through a manager that did
	// not make it (loaded from the saved state).
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := Rollback(Load(Save(m))); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.dirs() {
		if _, err := os.Stat(filepath.Dir(d)); err != nil {
			t.Errorf("%s removed by the Rollback of a loaded manager (%v); only the container's directory goes", filepath.Dir(d), err)
		}
	}
	if err := Rollback(m); err != nil {
		t.Fatal(err)
	}
}
