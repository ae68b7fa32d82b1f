package tests

// Cgroup tests: resource limits written to the cgroup files and enforced,
// update, pause/resume, ps, events, kill --all, cleanup and the cgroup
// namespace. They run on this project's hybrid hosts (v1 controllers,
// cgroup2 only at /sys/fs/cgroup/unified) and in the tests/vm lane on a
// pure cgroup v2 host: every test looks at the layout and reads the files
// of the version in force. The container's cgroup directory is always
// found from the host through /proc/<pid>/cgroup and the cgroup mounts.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const cgMiB = 1 << 20

// cgUnifiedHost reports whether /sys/fs/cgroup itself is a cgroup2 mount (a
// pure v2 host). On a hybrid or v1 host it is a tmpfs holding the v1
// hierarchies.
func cgUnifiedHost(t testing.TB) bool {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatalf("statfs /sys/fs/cgroup: %v", err)
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC
}

// cgProcDir returns the host directory of the cgroup that pid is in,
// in the v1 hierarchy that has controller ctrl, or in the cgroup2
// hierarchy if ctrl is "". The path comes from /proc/<pid>/cgroup (which
// the kernel shows relative to our own cgroup namespace, the host's) and
// the mount point and root of that hierarchy in our mountinfo.
func cgProcDir(pid int, ctrl string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	path, found := "", false
	for _, l := range lines(string(b)) {
		p := strings.SplitN(l, ":", 3)
		if len(p) != 3 {
			continue
		}
		if ctrl == "" && p[0] == "0" && p[1] == "" {
			path, found = p[2], true
		}
		if ctrl != "" && cgHas(strings.Split(p[1], ","), ctrl) {
			path, found = p[2], true
		}
	}
	if !found {
		return "", fmt.Errorf("/proc/%d/cgroup has no line for %q: %q", pid, ctrl, b)
	}
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return "", err
	}
	best := ""
	for _, m := range ms {
		if ctrl == "" && m.FSType != "cgroup2" || ctrl != "" && (m.FSType != "cgroup" || !cgHas(strings.Split(m.VFSOptions, ","), ctrl)) {
			continue
		}
		rel, err := filepath.Rel(m.Root, path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		d := filepath.Join(m.Mountpoint, rel)
		if best == "" || under(m.Mountpoint, "/sys/fs/cgroup") {
			best = d
		}
	}
	if best == "" {
		return "", fmt.Errorf("no cgroup mount of hierarchy %q holds %s (pid %d)", ctrl, path, pid)
	}
	return best, nil
}

// cgHas reports whether list has s.
func cgHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cgCtl finds, for a container, the directory of its cgroup that holds the
// files of v1 controller ctrl on a v1/hybrid host, or its cgroup2
// directory on a pure v2 host.
type cgCtl struct {
	t    *testing.T
	v2   bool
	pid  int    // the container's init
	path string // the bundle's linux.cgroupsPath
}

func (e *env) cgOf(bundle string, pid int) *cgCtl {
	e.t.Helper()
	return &cgCtl{t: e.t, v2: cgUnifiedHost(e.t), pid: pid, path: loadSpec(e.t, bundle).Linux.CgroupsPath}
}

// dir returns the container's cgroup dir for controller ctrl (see cgCtl);
// it must end in the bundle's cgroupsPath.
func (c *cgCtl) dir(ctrl string) string {
	c.t.Helper()
	if c.v2 {
		ctrl = ""
	}
	d, err := cgProcDir(c.pid, ctrl)
	if err != nil {
		c.t.Fatalf("cgroup dir of the container: %v", err)
	}
	if !strings.HasSuffix(d, "/"+cgSuffix(c.path)) {
		c.t.Fatalf("the container's init %d is in cgroup dir %s (hierarchy %q), which does not end in its cgroupsPath %q", c.pid, d, ctrl, c.path)
	}
	return d
}

// read returns the trimmed content of file in the container's cgroup of
// controller ctrl.
func (c *cgCtl) read(ctrl, file string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir(ctrl), file))
	if err != nil {
		c.t.Fatalf("reading the container's cgroup file: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// expect checks file (in ctrl's dir) against want.
func (c *cgCtl) expect(ctrl, file, want string) {
	c.t.Helper()
	if got := c.read(ctrl, file); got != want {
		c.t.Errorf("%s/%s = %q, want %q", c.dir(ctrl), file, got, want)
	}
}

// exists reports whether file exists in ctrl's dir.
func (c *cgCtl) exists(ctrl, file string) bool {
	c.t.Helper()
	_, err := os.Stat(filepath.Join(c.dir(ctrl), file))
	return err == nil
}

// procs returns the pids in the container's cgroup.procs of ctrl.
func (c *cgCtl) procs(ctrl string) []int {
	c.t.Helper()
	var pids []int
	for _, l := range lines(c.read(ctrl, "cgroup.procs")) {
		if p, err := strconv.Atoi(l); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// cgKeyed returns the value of key in a flat-keyed cgroup file text
// ("key value" lines, e.g. memory.events, pids.events, oom_control).
func cgKeyed(text, key string) (int64, bool) {
	for _, l := range lines(text) {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == key {
			n, err := strconv.ParseInt(f[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func cgI64(v int64) *int64   { return &v }
func cgU64(v uint64) *uint64 { return &v }
func cgResources(s *specs.Spec) *specs.LinuxResources {
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	return s.Linux.Resources
}

// cgHostHasMemsw reports whether a v1 memory hierarchy offers memory.memsw.*
// (swap accounting), looking at our own memory cgroup.
func cgHostHasMemsw(t testing.TB) bool {
	d, err := cgProcDir(os.Getpid(), "memory")
	if err != nil {
		t.Fatalf("our memory cgroup: %v", err)
	}
	_, err = os.Stat(filepath.Join(d, "memory.memsw.limit_in_bytes"))
	return err == nil
}

// cgStartLogged starts the runtime with the test's --root and args, its
// stdout and stderr going to files that may be read while it runs. stop
// kills it if it still runs and waits for it.
func (e *env) cgStartLogged(args ...string) (cmd *exec.Cmd, stdout, stderr string, stop func()) {
	e.t.Helper()
	n := idCounter.Add(1)
	stdout = filepath.Join(e.base, fmt.Sprintf("bg-%d.out", n))
	stderr = filepath.Join(e.base, fmt.Sprintf("bg-%d.err", n))
	fo, err1 := os.Create(stdout)
	fe, err2 := os.Create(stderr)
	if err1 != nil || err2 != nil {
		e.t.Fatal(err1, err2)
	}
	cmd = exec.Command(runtimeBin, append([]string{"--root", e.root}, args...)...)
	cmd.Stdout, cmd.Stderr = fo, fe
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); fo.Close(); fe.Close(); close(done) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill() // our own runtime process
			<-done
		}
	}
	e.t.Cleanup(stop)
	return cmd, stdout, stderr, stop
}

// cgReadFile returns a file's content, "" if unreadable.
func cgReadFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// cgEvent is one JSON line of `events`.
type cgEvent struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

func cgParseEvents(t testing.TB, out string) []cgEvent {
	var evs []cgEvent
	for _, l := range lines(out) {
		var ev cgEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Errorf("events printed a line that is not JSON: %q: %v", l, err)
			continue
		}
		evs = append(evs, ev)
	}
	return evs
}

func cgHasEvent(evs []cgEvent, typ, id string) bool {
	for _, ev := range evs {
		if ev.Type == typ && ev.ID == id {
			return true
		}
	}
	return false
}

// cgPoll calls f every 50 ms until it returns true or timeout passes.
func cgPoll(timeout time.Duration, f func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// cgMemoryLimit sets memory.limit (and, where swap can be accounted,
// memory.swap = limit: no swap) in the spec.
func cgMemoryLimit(t *testing.T, limit int64) func(*specs.Spec) {
	swap := cgUnifiedHost(t) || cgHostHasMemsw(t)
	return func(s *specs.Spec) {
		r := cgResources(s)
		r.Memory = &specs.LinuxMemory{Limit: cgI64(limit)}
		if swap {
			r.Memory.Swap = cgI64(limit)
		}
	}
}

// cgCheckMemory checks the memory limit (and no swap) from the host.
func cgCheckMemory(t *testing.T, cg *cgCtl, limit int64) {
	t.Helper()
	want := strconv.FormatInt(limit, 10)
	if cg.v2 {
		cg.expect("memory", "memory.max", want)
		if cg.exists("memory", "memory.swap.max") {
			cg.expect("memory", "memory.swap.max", "0")
		}
		return
	}
	cg.expect("memory", "memory.limit_in_bytes", want)
	if cg.exists("memory", "memory.memsw.limit_in_bytes") {
		cg.expect("memory", "memory.memsw.limit_in_bytes", want)
	} else {
		t.Logf("no memory.memsw.* on this host: swap limit not checked")
	}
}

// cgAllocScript makes one process take ~100 MiB of anonymous memory: dd's
// 100 MiB buffer, filled by a single read of /dev/zero. It is bounded, so
// a missing limit cannot eat the host, and quick even under TCG (a
// `head | tail` pipe took ~15 s there).
const cgAllocScript = `dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null`

// 1. A 32 MiB limit (no swap) is written to the cgroup and enforced: the
// process that allocates ~100 MiB is OOM-killed, and `events` reports it.
func TestCgroupMemoryLimitOOM(t *testing.T) {
	t.Parallel()
	t.Run("run-exits-137", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.run(all(cgMemoryLimit(t, 32*cgMiB), withShell(cgAllocScript)))
		if r.Code != 137 {
			t.Errorf("run of a container allocating 100 MiB under a 32 MiB limit: %v, want exit 137 (SIGKILL by the OOM killer)", r)
		}
	})
	t.Run("events-oom", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bundle := e.newBundle(all(cgMemoryLimit(t, 32*cgMiB),
			withShell(cgAllocScript+`; echo $? > /tmp/rc; sleep 1000`)))
		id, pid := e.create(bundle)
		cg := e.cgOf(bundle, pid)
		cgCheckMemory(t, cg, 32*cgMiB)

		_, out, errf, stop := e.cgStartLogged("events", "--interval", "300ms", id)
		// The first stats line shows that events is up and watching.
		if !cgPoll(10*time.Second, func() bool { return cgHasEvent(cgParseEvents(t, cgReadFile(out)), "stats", id) }) {
			t.Fatalf("events %s printed no stats line within 10s; stdout %q stderr %q", id, cgReadFile(out), cgReadFile(errf))
		}
		e.mustRT("start", id)
		rcFile := filepath.Join(bundle, "rootfs/tmp/rc")
		// Generous: the VM lane runs under TCG.
		if !cgPoll(60*time.Second, func() bool { return strings.TrimSpace(cgReadFile(rcFile)) != "" }) {
			t.Fatalf("the allocating dd did not end within 60s (%s missing); events stdout %q", rcFile, cgReadFile(out))
		}
		if rc := strings.TrimSpace(cgReadFile(rcFile)); rc != "137" {
			t.Errorf("the allocating dd exited %q, want 137 (OOM-killed)", rc)
		}
		if cg.v2 {
			if n, ok := cgKeyed(cg.read("memory", "memory.events"), "oom_kill"); !ok || n < 1 {
				t.Errorf("memory.events oom_kill = %d (found %v), want >= 1", n, ok)
			}
		} else if n, ok := cgKeyed(cg.read("memory", "memory.oom_control"), "oom_kill"); !ok || n < 1 {
			t.Errorf("memory.oom_control oom_kill = %d (found %v), want >= 1", n, ok)
		}
		if !cgPoll(5*time.Second, func() bool { return cgHasEvent(cgParseEvents(t, cgReadFile(out)), "oom", id) }) {
			t.Errorf("events %s printed no {\"type\":\"oom\",\"id\":%q} line within 5s of the OOM kill; stdout %q stderr %q", id, id, cgReadFile(out), cgReadFile(errf))
		}
		if s := e.state(id); s.Status != "running" {
			t.Errorf("the init (sh) should survive the kill of its child: status %q", s.Status)
		}
		e.mustRT("kill", id, "KILL")
		e.waitStatus(id, "stopped")
		stop()
		e.mustRT("delete", id)
	})
}

// 2. pids.limit 10: of 30 background sleeps some cannot be forked.
func TestCgroupPidsLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		cgResources(s).Pids = &specs.LinuxPids{Limit: cgI64(10)}
	}))
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	cg := e.cgOf(bundle, pid)
	cg.expect("pids", "pids.max", "10")

	// ash may give up at the first failed fork; either way the host counts
	// the sleeps that did start. They do not hold exec's stdio (runc's exec
	// waits for that to close).
	r := e.rt("exec", id, "sh", "-c", `i=0; while [ $i -lt 30 ]; do sleep 1000 >/dev/null 2>&1 & i=$((i+1)); done; echo loop-done`)
	t.Logf("exec of the fork loop: %v", r)
	procs := cg.procs("pids")
	for _, p := range procs {
		e.trackPid(p)
	}
	sleeps := len(procs) - 1 // all but the init
	t.Logf("%d of 30 background sleeps started under pids.max 10 (pids.current %s)", sleeps, cg.read("pids", "pids.current"))
	if sleeps <= 0 || sleeps >= 30 {
		t.Errorf("%d of 30 background sleeps run in the container (cgroup.procs %v), want some but not all", sleeps, procs)
	}
	if cur, _ := strconv.Atoi(cg.read("pids", "pids.current")); cur > 10 {
		t.Errorf("pids.current = %d exceeds pids.max 10", cur)
	}
	if len(procs) > 10 {
		t.Errorf("%d processes in a cgroup with pids.max 10", len(procs))
	}
	if cg.exists("pids", "pids.events") {
		if n, ok := cgKeyed(cg.read("pids", "pids.events"), "max"); !ok || n < 1 {
			t.Errorf("pids.events max = %d (found %v), want >= 1 after failed forks", n, ok)
		}
	}
	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)
}

// 3. cpu quota, period and shares.
func TestCgroupCPU(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		cgResources(s).CPU = &specs.LinuxCPU{Quota: cgI64(50000), Period: cgU64(100000), Shares: cgU64(512)}
	}))
	id, pid := e.create(bundle)
	cg := e.cgOf(bundle, pid)
	if cg.v2 {
		cg.expect("cpu", "cpu.max", "50000 100000")
		cg.expect("cpu", "cpu.weight", "59") // runc v1.5.1: 512 shares
	} else {
		cg.expect("cpu", "cpu.cfs_quota_us", "50000")
		cg.expect("cpu", "cpu.cfs_period_us", "100000")
		cg.expect("cpu", "cpu.shares", "512")
	}
	e.mustRT("delete", "--force", id)
}

// cgOnlineCPUs counts the host's online CPUs.
func cgOnlineCPUs(t *testing.T) int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		z := a
		if isRange {
			z, _ = strconv.Atoi(hi)
		}
		n += z - a + 1
	}
	return n
}

// 4. cpuset.cpus "0" confines the container to CPU 0.
func TestCgroupCpuset(t *testing.T) {
	t.Parallel()
	if n := cgOnlineCPUs(t); n < 2 {
		t.Skipf("the host has %d online CPU: confining to CPU 0 would prove nothing", n)
	}
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		cgResources(s).CPU = &specs.LinuxCPU{Cpus: "0"}
	}))
	id, pid := e.create(bundle)
	cg := e.cgOf(bundle, pid)
	cg.expect("cpuset", "cpuset.cpus", "0")
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if got := statusField(string(status), "Cpus_allowed_list"); got != "0" {
		t.Errorf("init's Cpus_allowed_list seen from the host = %q, want 0", got)
	}
	e.mustRT("start", id)
	r := e.rt("exec", id, "grep", "Cpus_allowed_list", "/proc/self/status")
	if f := strings.Fields(r.Stdout); r.Code != 0 || len(f) != 2 || f[1] != "0" {
		t.Errorf("exec grep Cpus_allowed_list /proc/self/status: %v, want \"Cpus_allowed_list:\t0\"", r)
	}
	e.mustRT("delete", "--force", id)
}

// cgWithCaps adds capabilities to every set of the process.
func cgWithCaps(caps ...string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		c := s.Process.Capabilities
		if c == nil {
			c = &specs.LinuxCapabilities{}
			s.Process.Capabilities = c
		}
		c.Bounding = append(c.Bounding, caps...)
		c.Effective = append(c.Effective, caps...)
		c.Permitted = append(c.Permitted, caps...)
	}
}

// 5. Device cgroup rules: deny all, allow c 1:3. A node made inside the
// container for a device the rules do not allow cannot be opened, while
// /dev/null can. The denied device is c 1:11 (kmsg) opened write-only,
// which needs no capability: a runtime's built-in allow list (runc's
// covers /dev/zero 1:5, /dev/full, ...) does not include it.
func TestCgroupDevices(t *testing.T) {
	t.Parallel()
	script := `echo x > /dev/null && echo null=ok
mknod /dev/hullkmsg c 1 11 && echo mknod=ok
if (: > /dev/hullkmsg) 2>/tmp/err; then echo open=ok; else echo open=fail; echo "err=$(cat /tmp/err)"; fi`
	rules := func(extra ...specs.LinuxDeviceCgroup) func(*specs.Spec) {
		return func(s *specs.Spec) {
			cgResources(s).Devices = append([]specs.LinuxDeviceCgroup{
				{Allow: false, Access: "rwm"},
				{Allow: true, Type: "c", Major: cgI64(1), Minor: cgI64(3), Access: "rwm"},
			}, extra...)
		}
	}
	t.Run("denied", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bundle := e.newBundle(all(withShell("{\n"+script+"\n} > /tmp/out 2>&1; touch /tmp/done; sleep 1000"), cgWithCaps("CAP_MKNOD"), rules()))
		id, pid := e.create(bundle)
		if cg := e.cgOf(bundle, pid); !cg.v2 {
			list := lines(cg.read("devices", "devices.list"))
			if !cgHas(list, "c 1:3 rwm") {
				t.Errorf("devices.list %q lacks the allowed \"c 1:3 rwm\"", list)
			}
			for _, l := range list {
				if strings.HasPrefix(l, "c 1:11 ") || strings.HasPrefix(l, "a ") {
					t.Errorf("devices.list %q allows %q", list, l)
				}
			}
		}
		e.mustRT("start", id)
		waitFile(t, filepath.Join(bundle, "rootfs/tmp/done"))
		out := cgReadFile(filepath.Join(bundle, "rootfs/tmp/out"))
		if got := kv(out); got["null"] != "ok" || got["mknod"] != "ok" || got["open"] != "fail" || !strings.Contains(got["err"], "Operation not permitted") {
			t.Errorf("deny-all + allow c 1:3 (detached): output %q; want null=ok, mknod=ok, open=fail with \"Operation not permitted\"", out)
		}
		e.mustRT("delete", "--force", id)
	})
	t.Run("foreground", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		out, code := e.runContainer(all(withShell(script), cgWithCaps("CAP_MKNOD"), rules()))
		got := kv(out)
		if code != 0 || got["null"] != "ok" || got["mknod"] != "ok" || got["open"] != "fail" || !strings.Contains(got["err"], "Operation not permitted") {
			t.Errorf("deny-all + allow c 1:3: exit %d, output %q; want null=ok, mknod=ok, open=fail with \"Operation not permitted\"", code, out)
		}
	})
	t.Run("control-allowed", func(t *testing.T) {
		t.Parallel()
		// The same open succeeds once a rule allows c 1:11 w: the failure
		// above comes from the device cgroup, nothing else.
		e := newEnv(t)
		out, code := e.runContainer(all(withShell(script), cgWithCaps("CAP_MKNOD"),
			rules(specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: cgI64(1), Minor: cgI64(11), Access: "w"})))
		if got := kv(out); code != 0 || got["mknod"] != "ok" || got["open"] != "ok" {
			t.Errorf("with c 1:11 w allowed: exit %d, output %q; want mknod=ok open=ok", code, out)
		}
	})
}

// updateFiles are the files `update` changes in TestCgroupUpdate.
func (c *cgCtl) updateFiles() map[string]string {
	c.t.Helper()
	m := map[string]string{}
	if c.v2 {
		m["memory.max"] = c.read("memory", "memory.max")
		m["pids.max"] = c.read("pids", "pids.max")
		m["cpu.max"] = c.read("cpu", "cpu.max")
		m["cpuset.cpus"] = c.read("cpuset", "cpuset.cpus")
		return m
	}
	m["memory.limit_in_bytes"] = c.read("memory", "memory.limit_in_bytes")
	m["pids.max"] = c.read("pids", "pids.max")
	m["cpu.cfs_quota_us"] = c.read("cpu", "cpu.cfs_quota_us")
	m["cpu.cfs_period_us"] = c.read("cpu", "cpu.cfs_period_us")
	m["cpuset.cpus"] = c.read("cpuset", "cpuset.cpus")
	return m
}

func (c *cgCtl) expectUpdate(what string, mem int64, pids int, quota, period int) {
	c.t.Helper()
	got := c.updateFiles()
	want := map[string]string{"pids.max": strconv.Itoa(pids)}
	if c.v2 {
		want["memory.max"] = strconv.FormatInt(mem, 10)
		want["cpu.max"] = fmt.Sprintf("%d %d", quota, period)
	} else {
		want["memory.limit_in_bytes"] = strconv.FormatInt(mem, 10)
		want["cpu.cfs_quota_us"] = strconv.Itoa(quota)
		want["cpu.cfs_period_us"] = strconv.Itoa(period)
	}
	for k, v := range want {
		if got[k] != v {
			c.t.Errorf("after %s: %s = %q, want %q", what, k, got[k], v)
		}
	}
}

// 6. update of a running container, from flags and from JSON on stdin;
// invalid values and a stopped container are refused.
func TestCgroupUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	cg := e.cgOf(bundle, pid)

	e.mustRT("update", "--memory", "64m", "--pids-limit", "20", "--cpu-quota", "20000", "--cpu-period", "100000", id)
	cg.expectUpdate("update --memory 64m --pids-limit 20 --cpu-quota 20000 --cpu-period 100000", 64*cgMiB, 20, 20000, 100000)

	cmd, stdout, stderr := e.rtCommand("update", "--resources", "-", id)
	cmd.Stdin = strings.NewReader(`{"memory":{"limit":100663296},"pids":{"limit":30},"cpu":{"quota":30000,"period":200000}}`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := waitCmd(t, cmd); code != 0 {
		t.Errorf("update --resources - (JSON on stdin): exit %d, stdout %q stderr %q", code, stdout, stderr)
	}
	cg.expectUpdate("update --resources - with JSON", 96*cgMiB, 30, 30000, 200000)

	before := cg.updateFiles()
	for _, bad := range []struct {
		args    []string
		mention []string // the error must name one of these
	}{
		{[]string{"--memory", "-5x"}, []string{"-5x", "memory"}},
		{[]string{"--cpuset-cpus", "999"}, []string{"999", "cpuset"}},
	} {
		r := e.rt(append(append([]string{"update"}, bad.args...), id)...)
		t.Logf("update %s: %v", strings.Join(bad.args, " "), r)
		named := false
		for _, m := range bad.mention {
			named = named || strings.Contains(r.Stderr, m)
		}
		if r.Code != 1 || !named {
			t.Errorf("update %s %s: %v, want exit 1 and an error naming one of %q", strings.Join(bad.args, " "), id, r, bad.mention)
		}
		if after := cg.updateFiles(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("a refused update %v changed the cgroup files: before %v, after %v", bad.args, before, after)
		}
	}

	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	r := e.rt("update", "--pids-limit", "5", id)
	t.Logf("update of the stopped container: %v", r)
	if r.Code == 0 || strings.TrimSpace(r.Stderr) == "" {
		t.Errorf("update of a stopped container: %v, want an error", r)
	}
	e.mustRT("delete", id)
}

// cgListStatus returns the status that `list --format json` shows for id.
func (e *env) cgListStatus(id string) string {
	e.t.Helper()
	r := e.mustRT("list", "--format", "json")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &entries); err != nil {
		e.t.Fatalf("list --format json: %v: %q", err, r.Stdout)
	}
	for _, en := range entries {
		if en["id"] == id {
			s, _ := en["status"].(string)
			return s
		}
	}
	return "(not listed)"
}

// freezeState is freezer.state (v1) or cgroup.freeze (v2).
func (c *cgCtl) freezeState() string {
	c.t.Helper()
	if c.v2 {
		return c.read("", "cgroup.freeze")
	}
	return c.read("freezer", "freezer.state")
}

// cgRTWithin runs the runtime with the test's --root like rt, but gives up
// (killing it) after d and reports whether it finished.
func (e *env) cgRTWithin(d time.Duration, args ...string) (result, bool) {
	e.t.Helper()
	cmd, stdout, stderr := e.rtCommand(args...)
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: exitCode(err)}, true
	case <-time.After(d):
		_ = cmd.Process.Kill() // our own runtime process
		<-done
		return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: -1}, false
	}
}

// cgResumeAtCleanup resumes container id at the end of the test if it is
// still paused, before the env's cleanup deletes it: a runtime that cannot
// delete a paused container must not leave it (and its cgroups) behind.
func (e *env) cgResumeAtCleanup(id string) {
	e.t.Cleanup(func() {
		r := execRuntime(e.t, "", "--root", e.root, "state", id)
		if strings.Contains(r.Stdout, `"paused"`) {
			execRuntime(e.t, "", "--root", e.root, "resume", id)
		}
	})
}

// cgCounterBundle makes a container that counts every 50 ms into the file
// "counter" of a bind-mounted host dir, and returns a reader of it.
func (e *env) cgCounterBundle() (bundle string, read func() int) {
	e.t.Helper()
	data := e.mkdir(fmt.Sprintf("data-%d", idCounter.Add(1)))
	counter := filepath.Join(data, "counter")
	bundle = e.newBundle(all(
		withShell(`i=0; while true; do i=$((i+1)); echo $i > /data/counter.tmp; mv /data/counter.tmp /data/counter; sleep 0.05; done`),
		withMount(specs.Mount{Destination: "/data", Type: "bind", Source: data, Options: []string{"rbind", "rw"}})))
	return bundle, func() int {
		n, _ := strconv.Atoi(strings.TrimSpace(cgReadFile(counter)))
		return n
	}
}

// 7. pause/resume of a container that counts into a bind-mounted host dir.
func TestCgroupPauseResume(t *testing.T) {
	t.Parallel()
	t.Run("pause-resume-kill", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bundle, read := e.cgCounterBundle()
		id, pid := e.create(bundle)
		e.mustRT("start", id)
		e.cgResumeAtCleanup(id)
		cg := e.cgOf(bundle, pid)
		if !cgPoll(10*time.Second, func() bool { return read() >= 3 }) {
			t.Fatalf("the counter did not move: %d", read())
		}

		e.mustRT("pause", id)
		if s := e.state(id); s.Status != "paused" {
			t.Errorf("state after pause: %q, want paused", s.Status)
		}
		if st := e.cgListStatus(id); st != "paused" {
			t.Errorf("list after pause shows %q, want paused", st)
		}
		if f := cg.freezeState(); f != "FROZEN" && f != "1" {
			t.Errorf("freezer after pause: %q, want FROZEN (v1) or 1 (v2)", f)
		}
		c1 := read()
		time.Sleep(500 * time.Millisecond)
		if c2 := read(); c2 != c1 {
			t.Errorf("the counter moved from %d to %d within 500ms of pause", c1, c2)
		}
		if r := e.rt("exec", id, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "paused") {
			t.Errorf("exec into a paused container: %v, want an error that mentions paused", r)
		}

		e.mustRT("resume", id)
		if s := e.state(id); s.Status != "running" {
			t.Errorf("state after resume: %q, want running", s.Status)
		}
		if st := e.cgListStatus(id); st != "running" {
			t.Errorf("list after resume shows %q, want running", st)
		}
		if f := cg.freezeState(); f != "THAWED" && f != "0" {
			t.Errorf("freezer after resume: %q, want THAWED (v1) or 0 (v2)", f)
		}
		c3 := read()
		if !cgPoll(3*time.Second, func() bool { return read() > c3 }) {
			t.Errorf("the counter did not move after resume (stuck at %d)", c3)
		}

		// SIGKILL reaches a paused container (runc thaws it for that; on
		// cgroup v1 a frozen task does not die before it is thawed).
		e.mustRT("pause", id)
		e.waitStatus(id, "paused")
		e.mustRT("kill", id, "KILL")
		if !cgPoll(10*time.Second, func() bool { return e.state(id).Status == "stopped" }) {
			t.Errorf("kill %s KILL of the paused container: status still %q after 10s, want stopped (freezer %s)", id, e.state(id).Status, cg.freezeState())
			e.mustRT("resume", id) // lets the pending SIGKILL through
			e.waitStatus(id, "stopped")
		}
		e.mustRT("delete", id)
	})
	t.Run("delete-force-paused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bundle, read := e.cgCounterBundle()
		id, _ := e.create(bundle)
		e.mustRT("start", id)
		e.cgResumeAtCleanup(id)
		if !cgPoll(10*time.Second, func() bool { return read() >= 1 }) {
			t.Fatalf("the counter did not move: %d", read())
		}
		e.mustRT("pause", id)
		if r, ok := e.cgRTWithin(20*time.Second, "delete", "--force", id); !ok || r.Code != 0 {
			t.Errorf("delete --force of a paused container: finished=%v %v, want exit 0", ok, r)
		} else {
			e.assertNotExist(id)
		}
	})
	t.Run("exec-ignore-paused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bundle, read := e.cgCounterBundle()
		id, _ := e.create(bundle)
		e.mustRT("start", id)
		e.cgResumeAtCleanup(id)
		if !cgPoll(10*time.Second, func() bool { return read() >= 3 }) {
			t.Fatalf("the counter did not move: %d", read())
		}
		e.mustRT("pause", id)
		// --ignore-paused lets the exec through; its process is frozen in
		// the cgroup until resume, so it can only finish after that.
		ign, ignOut, ignErr := e.rtCommand("exec", "--ignore-paused", id, "echo", "ignored-pause")
		if err := ign.Start(); err != nil {
			t.Fatal(err)
		}
		ignDone, ignCode := make(chan struct{}), 0
		go func() { ignCode = exitCode(ign.Wait()); close(ignDone) }()
		killIgn := func() {
			select {
			case <-ignDone:
			default:
				_ = ign.Process.Kill() // our own runtime process
				<-ignDone
			}
		}
		t.Cleanup(killIgn) // before the env's cleanup, which needs the container
		time.Sleep(300 * time.Millisecond)

		if r, ok := e.cgRTWithin(10*time.Second, "resume", id); !ok || r.Code != 0 {
			t.Errorf("resume while an `exec --ignore-paused` waits for its frozen process: finished=%v %v, want exit 0 at once", ok, r)
			if !ok {
				killIgn() // frees what it holds; then resume for real
				e.mustRT("resume", id)
			}
		}
		select {
		case <-ignDone:
			if out := strings.TrimSpace(ignOut.String()); ignCode != 0 || out != "ignored-pause" {
				t.Errorf("exec --ignore-paused on the paused container: exit %d, stdout %q, stderr %q; want 0 and ignored-pause", ignCode, out, ignErr)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("exec --ignore-paused did not finish within 10s of resume")
		}
		if s := e.state(id); s.Status != "running" {
			t.Errorf("state after resume: %q, want running", s.Status)
		}
		c := read()
		if !cgPoll(3*time.Second, func() bool { return read() > c }) {
			t.Errorf("the counter did not move after resume (stuck at %d)", c)
		}
		e.mustRT("delete", "--force", id)
	})
}

// 8. ps: JSON and table.
func TestCgroupPs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, pid, _ := e.started(sleeper)
	pidFile := filepath.Join(e.base, "exec.pid")
	e.mustRT("exec", "-d", "--pid-file", pidFile, id, "sleep", "1000")
	execPid := e.readPidFile(pidFile)

	r := e.mustRT("ps", "--format", "json", id)
	var pids []int
	if err := json.Unmarshal([]byte(r.Stdout), &pids); err != nil {
		t.Fatalf("ps --format json: not a JSON array of pids: %v: %q", err, r.Stdout)
	}
	has := func(p int) bool {
		for _, x := range pids {
			if x == p {
				return true
			}
		}
		return false
	}
	if !has(pid) || !has(execPid) || len(pids) != 2 {
		t.Errorf("ps --format json = %v, want exactly the init %d and the exec'd sleep %d", pids, pid, execPid)
	}

	t.Run("table", func(t *testing.T) {
		if _, err := exec.LookPath("ps"); err != nil {
			t.Skipf("no ps(1) on this host, which the table format runs: %v", err)
		}
		r := e.mustRT("ps", id)
		ls := lines(r.Stdout)
		if len(ls) < 3 || !cgHas(strings.Fields(ls[0]), "PID") {
			t.Fatalf("ps %s: want a header line with PID and a line per process, got %q", id, r.Stdout)
		}
		col := -1
		for i, f := range strings.Fields(ls[0]) {
			if f == "PID" {
				col = i
			}
		}
		found := map[int]bool{}
		for _, l := range ls[1:] {
			if f := strings.Fields(l); col < len(f) {
				n, _ := strconv.Atoi(f[col])
				found[n] = true
			}
		}
		if !found[pid] || !found[execPid] {
			t.Errorf("ps %s: the PID column lacks the init %d or the exec'd %d: %q", id, pid, execPid, r.Stdout)
		}
	})
	e.mustRT("delete", "--force", id)
}

// 9. events --stats prints one stats line whose numbers match the files.
func TestCgroupEventsStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// 10 MiB in the container's tmpfs /dev/shm is charged to its memory
	// cgroup; then three processes stay.
	bundle := e.newBundle(withShell(`head -c 10m /dev/zero > /dev/shm/x; sleep 1000 & sleep 1000 & touch /tmp/ready; wait`))
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	waitFile(t, filepath.Join(bundle, "rootfs/tmp/ready"))
	cg := e.cgOf(bundle, pid)
	if !cgPoll(5*time.Second, func() bool { return cg.read("pids", "pids.current") == "3" }) {
		t.Fatalf("pids.current = %s, want 3 (sh and two sleeps)", cg.read("pids", "pids.current"))
	}

	r := e.mustRT("events", "--stats", id)
	usageFile := "memory.usage_in_bytes"
	if cg.v2 {
		usageFile = "memory.current"
	}
	fileUsage, _ := strconv.ParseFloat(cg.read("memory", usageFile), 64)
	filePids, _ := strconv.Atoi(cg.read("pids", "pids.current"))
	ls := lines(r.Stdout)
	if len(ls) != 1 {
		t.Fatalf("events --stats printed %d lines, want 1: %q", len(ls), r.Stdout)
	}
	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			Memory struct {
				Usage struct {
					Usage uint64 `json:"usage"`
				} `json:"usage"`
			} `json:"memory"`
			Pids struct {
				Current int `json:"current"`
			} `json:"pids"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(ls[0]), &ev); err != nil {
		t.Fatalf("events --stats: not JSON: %v: %q", err, ls[0])
	}
	if ev.Type != "stats" || ev.ID != id {
		t.Errorf("events --stats: type %q id %q, want stats and %q", ev.Type, ev.ID, id)
	}
	u := float64(ev.Data.Memory.Usage.Usage)
	if u < 10*cgMiB || u < fileUsage*0.9 || u > fileUsage*1.1 {
		t.Errorf("events --stats: data.memory.usage.usage = %.0f, want >= 10 MiB and within 10%% of %s = %.0f", u, usageFile, fileUsage)
	}
	if ev.Data.Pids.Current != filePids || filePids != 3 {
		t.Errorf("events --stats: data.pids.current = %d, pids.current file = %d, want both 3", ev.Data.Pids.Current, filePids)
	}
	e.mustRT("delete", "--force", id)
}

// 10. kill --all reaches the children of an init that has no pid
// namespace (killing the init alone would leave them running).
func TestCgroupKillAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withShell(`sleep 100 & sleep 100 & wait`), withoutNamespace(specs.PIDNamespace)))
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	cg := e.cgOf(bundle, pid)
	if !cgPoll(5*time.Second, func() bool { return len(cg.procs("pids")) == 3 }) {
		t.Fatalf("cgroup.procs = %v, want sh and two sleeps", cg.procs("pids"))
	}
	dirs := map[string]string{}
	for _, ctrl := range []string{"pids", "memory", "freezer"} {
		dirs[ctrl] = cg.dir(ctrl)
	}
	for _, p := range cg.procs("pids") {
		e.trackPid(p)
	}
	e.mustRT("kill", "--all", id, "KILL")
	for ctrl, d := range dirs {
		var left string
		if !cgPoll(5*time.Second, func() bool {
			b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			left = strings.TrimSpace(string(b))
			return err != nil || left == ""
		}) {
			t.Errorf("%s/cgroup.procs after kill --all KILL: %q, want empty", d, left)
		}
		if cg.v2 {
			break // one dir for all controllers
		}
		t.Logf("%s: %s empty", ctrl, d)
	}
	e.waitStatus(id, "stopped")
	e.mustRT("delete", id)
}

// 11. kill --all after the init exited (containerd sends it before
// delete): the processes the init left in the cgroup are killed and the
// command succeeds, as runc's; then, nothing left, it still succeeds, while
// a plain kill says the container is not running.
func TestCgroupKillAllStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withShell(`sleep 100 </dev/null >/dev/null 2>&1 & echo $! > /tmp/child; exit 0`), withoutNamespace(specs.PIDNamespace)))
	id, pid := e.create(bundle)
	// The dir now: it is found through the init, which is about to exit.
	dir := e.cgOf(bundle, pid).dir("pids")
	procs := func() []int {
		var pids []int
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, l := range lines(string(b)) {
			if p, err := strconv.Atoi(l); err == nil {
				pids = append(pids, p)
			}
		}
		return pids
	}
	e.mustRT("start", id)
	e.waitStatus(id, "stopped")
	left := procs()
	if len(left) != 1 {
		t.Fatalf("cgroup.procs after the init exited = %v, want the orphaned sleep", left)
	}
	e.trackPid(left[0])
	if r := e.rt("kill", "--all", id, "KILL"); r.Code != 0 {
		t.Errorf("kill --all KILL of a stopped container with a process left: %v, want exit 0 (runc)", r)
	}
	if !cgPoll(5*time.Second, func() bool { return len(procs()) == 0 }) {
		t.Errorf("%s/cgroup.procs after kill --all = %v, want empty", dir, procs())
	}
	if testSystemd {
		// A systemd scope goes with its last process: no cgroup and no
		// init is "container not running", as with runc's systemd driver.
		if r := e.rt("kill", "--all", id, "KILL"); r.Code != 1 || !strings.Contains(r.Stderr, "container not running") {
			t.Errorf("kill --all of a stopped container whose scope is gone: %v, want exit 1 and \"container not running\" (runc --systemd-cgroup)", r)
		}
	} else if r := e.rt("kill", "--all", id, "KILL"); r.Code != 0 {
		t.Errorf("kill --all of a stopped, empty container: %v, want exit 0 (runc)", r)
	}
	// SIGKILL without a pid namespace goes to the cgroup, empty or not
	// (runc exits 0); any other signal needs the init.
	if r := e.rt("kill", id, "TERM"); r.Code != 1 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("kill TERM (no --all) of a stopped container: %v, want exit 1 and \"container not running\"", r)
	}
	e.mustRT("delete", id)
}

// cgAllDirs returns every host cgroup dir (one per hierarchy
// listed in /proc/<pid>/cgroup) that pid is in.
func cgAllDirs(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, l := range lines(string(b)) {
		p := strings.SplitN(l, ":", 3)
		if len(p) != 3 {
			continue
		}
		ctrl := ""
		if p[1] != "" {
			ctrl = strings.Split(p[1], ",")[0]
		}
		d, err := cgProcDir(pid, ctrl)
		if err != nil {
			t.Errorf("hierarchy %q: %v", p[1], err)
			continue
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// cgNoneLeft asserts that the bundle's cgroupsPath exists in no
// hierarchy (including the cgroup2 one).
func cgNoneLeft(t *testing.T, cgPath, when string) {
	t.Helper()
	for _, d := range cgroupDirs(cgPath) {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s: cgroup dir %s still exists", when, d)
		}
	}
}

// 11. No cgroup dir is left after delete or after a failed create.
func TestCgroupCleanup(t *testing.T) {
	t.Parallel()
	t.Run("after-delete", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bundle := e.newBundle(all(sleeper, cgMemoryLimit(t, 64*cgMiB), func(s *specs.Spec) {
			cgResources(s).Pids = &specs.LinuxPids{Limit: cgI64(50)}
		}))
		cgPath := loadSpec(t, bundle).Linux.CgroupsPath
		id, pid := e.create(bundle)
		e.mustRT("start", id)
		dirs := cgAllDirs(t, pid)
		inPath := 0
		for _, d := range dirs {
			if strings.HasSuffix(d, "/"+cgSuffix(cgPath)) {
				inPath++
			}
		}
		if inPath == 0 {
			t.Fatalf("the init %d is in none of its cgroupsPath %q: %v", pid, cgPath, dirs)
		}
		e.mustRT("kill", id, "KILL")
		e.waitStatus(id, "stopped")
		e.mustRT("delete", id)
		for _, d := range dirs {
			if !strings.HasSuffix(d, "/"+cgSuffix(cgPath)) {
				continue // a hierarchy where the container stayed in our cgroup
			}
			if _, err := os.Stat(d); err == nil {
				t.Errorf("after delete: cgroup dir %s still exists", d)
			}
		}
		cgNoneLeft(t, cgPath, "after delete")
		if _, sd := cgSystemdSuffix(cgPath); !cgUnifiedHost(t) && !sd {
			// The hybrid layout's cgroup2 hierarchy, explicitly.
			if d, err := cgProcDir(os.Getpid(), ""); err == nil {
				if _, err := os.Stat(filepath.Join(d, cgPath)); err == nil {
					t.Errorf("after delete: %s still exists in the cgroup2 hierarchy", filepath.Join(d, cgPath))
				}
			}
		}
	})
	for _, c := range []struct {
		name     string
		mutate   func(*specs.Spec)
		hullOnly string // why runc is not held to this
	}{
		{"no-such-binary", withArgs("/no/such/binary"), ""},
		{"cpuset-999", func(s *specs.Spec) { cgResources(s).CPU = &specs.LinuxCPU{Cpus: "999"} }, ""},
		{"memory-minus-5", func(s *specs.Spec) { cgResources(s).Memory = &specs.LinuxMemory{Limit: cgI64(-5)} },
			"runc 1.1.5 passes -5 to the kernel, which may take it"},
	} {
		t.Run("failed-create-"+c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			bundle := e.newBundle(c.mutate)
			cgPath := loadSpec(t, bundle).Linux.CgroupsPath
			id := e.newID()
			r := e.rt("create", "--bundle", bundle, id)
			if r.Code == 0 {
				if c.hullOnly != "" && !isHull {
					t.Skipf("create succeeded on %s (%s)", runtimeBin, c.hullOnly)
				}
				t.Fatalf("create with %s: %v, want it to fail", c.name, r)
			}
			cgNoneLeft(t, cgPath, "after a failed create ("+c.name+")")
			e.assertNotExist(id)
		})
	}
}

// 12. In a cgroup namespace the container sees itself at the root of every
// hierarchy and its own limit in /sys/fs/cgroup.
func TestCgroupNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	limitFile := "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	if cgUnifiedHost(t) {
		limitFile = "/sys/fs/cgroup/memory.max"
	}
	out, code := e.runContainer(all(cgMemoryLimit(t, 32*cgMiB), withNamespace(specs.CgroupNamespace, ""),
		withShell(`cat /proc/self/cgroup; echo limit=$(cat `+limitFile+`)`)))
	if code != 0 {
		t.Fatalf("container exited %d: %q", code, out)
	}
	n := 0
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "limit=") {
			if l != fmt.Sprintf("limit=%d", 32*cgMiB) {
				t.Errorf("inside the container %s: %q, want %d", limitFile, l, 32*cgMiB)
			}
			continue
		}
		n++
		if p := strings.SplitN(l, ":", 3); len(p) != 3 || p[2] != "/" {
			t.Errorf("inside a cgroup namespace /proc/self/cgroup line %q, want path /", l)
		}
	}
	if n == 0 {
		t.Errorf("no /proc/self/cgroup lines in %q", out)
	}
}

// An exec'd process joins the init's cgroups, in every hierarchy.
func TestCgroupExecJoins(t *testing.T) {
	t.Parallel()
	for _, cgns := range []bool{false, true} {
		t.Run(fmt.Sprintf("cgroupns=%v", cgns), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			m := all(sleeper, func(s *specs.Spec) { cgResources(s).Pids = &specs.LinuxPids{Limit: cgI64(50)} })
			if cgns {
				m = all(m, withNamespace(specs.CgroupNamespace, ""))
			}
			bundle := e.newBundle(m)
			id, pid := e.create(bundle)
			e.mustRT("start", id)
			pidFile := filepath.Join(e.base, "exec.pid")
			e.mustRT("exec", "-d", "--pid-file", pidFile, id, "sleep", "1000")
			execPid := e.readPidFile(pidFile)
			initCg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
			execCg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", execPid))
			if len(initCg) == 0 || !bytes.Equal(initCg, execCg) {
				t.Errorf("/proc/%d/cgroup of the exec'd sleep:\n%s\ndiffers from the init %d's:\n%s", execPid, execCg, pid, initCg)
			}
			cg := e.cgOf(bundle, pid)
			if !cgHas(func() []string {
				var s []string
				for _, p := range cg.procs("pids") {
					s = append(s, strconv.Itoa(p))
				}
				return s
			}(), strconv.Itoa(execPid)) {
				t.Errorf("the exec'd pid %d is not in %s/cgroup.procs", execPid, cg.dir("pids"))
			}
			if cgns {
				l1, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/cgroup", pid))
				l2, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/cgroup", execPid))
				if l1 != l2 || l1 == hostNS(t, "cgroup") {
					t.Errorf("cgroup namespace: init %q, exec %q, host %q", l1, l2, hostNS(t, "cgroup"))
				}
			}
			e.mustRT("delete", "--force", id)
		})
	}
}

// ps of a stopped container (not deleted) prints runc's empty table (the
// header) and exits 0; its JSON form is runc's null.
func TestCgroupPsStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	e.mustRT("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	r := e.rt("ps", "--format", "json", id)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "null" {
		t.Errorf("ps --format json of a stopped container: %v, want exit 0 and null", r)
	}
	if _, err := exec.LookPath("ps"); err != nil {
		t.Logf("no ps(1) on this host, which the table format runs: table not checked (%v)", err)
	} else {
		r = e.rt("ps", id)
		ls := lines(r.Stdout)
		if r.Code != 0 || len(ls) != 1 || !cgHas(strings.Fields(ls[0]), "PID") {
			t.Errorf("ps of a stopped container: %v, want exit 0 and the header line alone", r)
		}
	}
	e.mustRT("delete", id)
}
