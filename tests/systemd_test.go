package tests

// The systemd cgroup driver (--systemd-cgroup). With HULL_TEST_SYSTEMD=1
// (the VM lane under a real systemd, tests/vm/systemd-lane.sh) the whole
// harness runs the runtime with --systemd-cgroup and gives bundles
// systemd-form cgroupsPaths (system.slice:hulltest:NAME, the unit
// hulltest-NAME.scope): the cgroup tests then exercise the systemd driver.
// The tests of this file check what only systemd has (units, properties,
// daemon-reload); the ones that need a running systemd skip without it.

import (
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

// testSystemd: HULL_TEST_SYSTEMD=1 runs the suite on the systemd driver.
var testSystemd = os.Getenv("HULL_TEST_SYSTEMD") == "1"

// setupSystemd, with HULL_TEST_SYSTEMD=1, replaces runtimeBin with a
// wrapper (named hull, in work) that adds --systemd-cgroup to every
// invocation, so that every test's runtime call goes through the driver.
func setupSystemd(work string) error {
	if !testSystemd {
		return nil
	}
	if !systemdRunning() {
		return fmt.Errorf("systemd is not running here (/run/systemd/system is missing)")
	}
	dir := filepath.Join(work, "systemd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	wrapper := filepath.Join(dir, "hull")
	script := fmt.Sprintf("#!/bin/sh\nexec %s --systemd-cgroup \"$@\"\n", runtimeBin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		return err
	}
	fmt.Printf("HULL_TEST_SYSTEMD=1: the runtime runs as %s --systemd-cgroup\n", runtimeBin)
	runtimeBin = wrapper
	return nil
}

func systemdRunning() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// cgSystemdSuffix turns a systemd-form cgroupsPath (slice:prefix:name)
// into the cgroup path systemd gives it below the hierarchy's root
// (system.slice/prefix-name.scope); ok is false for other paths.
func cgSystemdSuffix(cgPath string) (string, bool) {
	parts := strings.Split(cgPath, ":")
	if len(parts) != 3 {
		return "", false
	}
	slice := parts[0]
	if slice == "" {
		slice = "system.slice"
	}
	var dir []string
	if slice != "-.slice" {
		prefix := ""
		for _, c := range strings.Split(strings.TrimSuffix(slice, ".slice"), "-") {
			dir = append(dir, prefix+c+".slice")
			prefix += c + "-"
		}
	}
	unit := parts[1] + "-" + parts[2] + ".scope"
	return strings.Join(append(dir, unit), "/"), true
}

// cgSuffix is what the container's cgroup directory ends in for a
// cgroupsPath: the path itself (cgroupfs driver) or the unit's place.
func cgSuffix(cgPath string) string {
	if s, ok := cgSystemdSuffix(cgPath); ok {
		return s
	}
	return cgPath
}

// cgUnitOf is the unit of a systemd-form cgroupsPath.
func cgUnitOf(cgPath string) string {
	s, _ := cgSystemdSuffix(cgPath)
	return filepath.Base(s)
}

// cgSystemdDirs lists where a unit's cgroup is in every hierarchy.
func cgSystemdDirs(suffix string) []string {
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil
	}
	var dirs []string
	for _, m := range ms {
		if m.Root == "/" {
			dirs = append(dirs, filepath.Join(m.Mountpoint, suffix))
		}
	}
	return dirs
}

// cgHierarchyRoot is the mount point of the hierarchy of ctrl ("": the
// cgroup2 one).
func cgHierarchyRoot(t *testing.T, ctrl string) string {
	t.Helper()
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if ctrl == "" && m.FSType == "cgroup2" {
			return m.Mountpoint
		}
		if ctrl != "" && m.FSType == "cgroup" && cgHas(strings.Split(m.VFSOptions, ","), ctrl) {
			return m.Mountpoint
		}
	}
	t.Fatalf("no cgroup hierarchy for %q", ctrl)
	return ""
}

// needSystemd skips a test that needs the driver under a running systemd.
func needSystemd(t *testing.T) {
	t.Helper()
	if !testSystemd {
		t.Skip("needs HULL_TEST_SYSTEMD=1 under a running systemd (make systemd runs it in a VM)")
	}
	if !isHull {
		t.Skip("checks hull's systemd driver")
	}
}

// unitProp is `systemctl show -p NAME --value UNIT`.
func unitProp(t *testing.T, unit, name string) string {
	t.Helper()
	out, err := exec.Command("systemctl", "show", "-p", name, "--value", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemctl show -p %s %s: %v: %s", name, unit, err, out)
	}
	return strings.TrimSpace(string(out))
}

// assertNoUnit checks that systemd no longer knows the unit (or only as
// not loaded).
func assertNoUnit(t *testing.T, unit, when string) {
	t.Helper()
	var st string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st = unitProp(t, unit, "LoadState") + "/" + unitProp(t, unit, "ActiveState"); st == "not-found/inactive" {
			return
		}
	}
	t.Errorf("%s: unit %s is still there (LoadState/ActiveState %s)", when, unit, st)
}

// Without a running systemd, --systemd-cgroup fails with runc's error and
// leaves nothing. Before the driver existed hull refused the flag itself
// (for every command, spec and features included).
func TestSystemdNotRunning(t *testing.T) {
	if systemdRunning() {
		t.Skip("systemd runs here: this checks the error where it does not")
	}
	if !isHull {
		t.Skip("checks hull's message")
	}
	e := newEnv(t)
	bundle := e.newBundle(func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:hulltest:" + e.newID() })
	id := e.newID()
	r := e.rt("--systemd-cgroup", "run", "--bundle", bundle, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "systemd not running on this host, cannot use systemd cgroups manager") {
		t.Fatalf("run --systemd-cgroup without systemd: %v, want runc's error", r)
	}
	e.assertNotExist(id)
	r = e.rt("--systemd-cgroup", "features")
	if r.Code != 0 {
		t.Fatalf("features: %v", r)
	}
	var f struct {
		Linux struct {
			Cgroup struct{ Systemd *bool } `json:"cgroup"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil || f.Linux.Cgroup.Systemd == nil || !*f.Linux.Cgroup.Systemd {
		t.Errorf("features: linux.cgroup.systemd is not true: %v %s", err, r.Stdout)
	}
}

// A cgroupsPath that is not slice:prefix:name, or a slice name systemd
// cannot have, is refused with runc's messages, and nothing is left.
func TestSystemdBadPath(t *testing.T) {
	needSystemd(t)
	for _, c := range []struct{ path, want string }{
		{"/hulltest-abs", `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/hulltest-abs" instead`},
		{"a:b", `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "a:b" instead`},
		{"bad--name.slice:hulltest:x", "invalid slice name: bad--name.slice"},
		{"system.scope:hulltest:x", "invalid slice name: system.scope"},
	} {
		e := newEnv(t)
		bundle := e.newBundle(func(s *specs.Spec) { s.Linux.CgroupsPath = c.path })
		id := e.newID()
		r := e.rt("run", "--bundle", bundle, id)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("cgroupsPath %q: %v, want an error with %q", c.path, r, c.want)
		}
		e.assertNotExist(id)
	}
}

// A property systemd rejects (annotation) fails the create with an error
// naming the unit; no unit, cgroup, state or process is left.
func TestSystemdBadProperty(t *testing.T) {
	needSystemd(t)
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.systemd.property.NoSuchPropertyXyz": "true"}
	}))
	cg := loadSpec(t, bundle).Linux.CgroupsPath
	id := e.newID()
	r := e.rt("run", "-d", "--bundle", bundle, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, cgUnitOf(cg)) {
		t.Fatalf("run with a property systemd does not know: %v, want an error naming the unit", r)
	}
	e.assertNotExist(id)
	assertNoUnit(t, cgUnitOf(cg), "after the failed run")
	// A name that breaks runc's rules is refused before systemd is asked.
	bundle = e.newBundle(func(s *specs.Spec) { s.Annotations = map[string]string{"org.systemd.property.Ab": "true"} })
	r = e.rt("run", "--bundle", bundle, e.newID())
	if r.Code == 0 || !strings.Contains(r.Stderr, "annotation org.systemd.property.Ab name incorrect: too short") {
		t.Errorf("short property name: %v", r)
	}
}

// The container's cgroup is a transient scope with Delegate=yes in its
// slice; limits are unit properties too, and an annotation adds one;
// update goes through systemd, so that a daemon-reload (systemd
// rewrites every unit's cgroup from its properties) keeps the limits;
// delete stops the unit and leaves no cgroup.
func TestSystemdScopeDaemonReload(t *testing.T) {
	needSystemd(t)
	e := newEnv(t)
	bundle := e.newBundle(all(sleeper, cgMemoryLimit(t, 64*cgMiB), func(s *specs.Spec) {
		cgResources(s).Pids = &specs.LinuxPids{Limit: cgI64(50)}
		s.Annotations = map[string]string{"org.systemd.property.TimeoutStopSec": "uint64 7"}
	}))
	cg := loadSpec(t, bundle).Linux.CgroupsPath
	unit := cgUnitOf(cg)
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	dir, err := cgProcDir(pid, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dir, "/"+cgSuffix(cg)) {
		t.Fatalf("init %d in %s, want the unit's cgroup .../%s", pid, dir, cgSuffix(cg))
	}
	// On a hybrid or v1 host systemd's memory property is MemoryLimit,
	// the files are the v1 hierarchies' (runc's legacy driver).
	memProp, memFile, memCtl, pidsCtl := "MemoryMax", "memory.max", "", ""
	if !cgUnifiedHost(t) {
		memProp, memFile, memCtl, pidsCtl = "MemoryLimit", "memory.limit_in_bytes", "memory", "pids"
	}
	for prop, want := range map[string]string{
		"ActiveState": "active", "Delegate": "yes", "Slice": "system.slice",
		memProp: strconv.Itoa(64 * cgMiB), "TasksMax": "50", "TimeoutStopUSec": "7s",
	} {
		if got := unitProp(t, unit, prop); got != want {
			t.Errorf("unit %s: %s=%q, want %q", unit, prop, got, want)
		}
	}
	e.mustRT("update", "--memory", strconv.Itoa(128*cgMiB), "--memory-swap", strconv.Itoa(256*cgMiB), "--pids-limit", "70", id)
	if got := unitProp(t, unit, memProp); got != strconv.Itoa(128*cgMiB) {
		t.Errorf("after update: %s=%s, want %d", memProp, got, 128*cgMiB)
	}
	if out, err := exec.Command("systemctl", "daemon-reload").CombinedOutput(); err != nil {
		t.Fatalf("systemctl daemon-reload: %v: %s", err, out)
	}
	for _, f := range []struct{ ctl, file, want string }{{memCtl, memFile, strconv.Itoa(128 * cgMiB)}, {pidsCtl, "pids.max", "70"}} {
		d, err := cgProcDir(pid, f.ctl)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(cgReadFile(filepath.Join(d, f.file))); got != f.want {
			t.Errorf("after daemon-reload: %s=%q, want %q (the update's)", filepath.Join(d, f.file), got, f.want)
		}
	}
	e.mustRT("delete", "--force", id)
	assertNoUnit(t, unit, "after delete")
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("after delete: %s still exists", dir)
	}
}

// A create killed half-way (here: while its createRuntime hook runs, after
// the unit started) leaves a unit with the init in it; delete --force
// removes both. A new container on the same cgroupsPath then reuses the
// name (the leftover unit is reset, as runc does).
func TestSystemdKilledCreate(t *testing.T) {
	needSystemd(t)
	e := newEnv(t)
	hookPid := filepath.Join(e.base, "hook.pid")
	timeout := 60
	bundle := e.newBundle(all(sleeper, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh",
			Args: []string{"sh", "-c", "echo $$ > " + hookPid + ".tmp; mv " + hookPid + ".tmp " + hookPid + "; exec sleep 1000"}, Timeout: &timeout}}}
	}))
	cg := loadSpec(t, bundle).Linux.CgroupsPath
	unit := cgUnitOf(cg)
	id := e.newID()
	cmd := exec.Command(runtimeBin, "--root", e.root, "create", "--bundle", bundle, id)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	waitFile(t, hookPid)
	b, _ := os.ReadFile(hookPid)
	hook, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if got := unitProp(t, unit, "ActiveState"); got != "active" {
		t.Errorf("while create runs its hook: unit %s is %q, want active", unit, got)
	}
	_ = cmd.Process.Kill()
	<-done
	if hook > 0 {
		_ = unix.Kill(hook, unix.SIGKILL)
	}
	st := e.state(id)
	e.mustRT("delete", "--force", id)
	assertNoUnit(t, unit, "after delete --force of a killed create")
	for _, d := range cgroupDirs(cg) {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("after delete --force: %s still exists", d)
		}
	}
	if st.Pid > 0 {
		if err := unix.Kill(st.Pid, 0); err == nil {
			t.Errorf("the killed create's init %d still runs", st.Pid)
		}
	}
	// The same cgroupsPath again, after a leftover unit was stopped by
	// systemd itself (its last process killed directly).
	bundle2 := e.newBundle(all(sleeper, func(s *specs.Spec) { s.Linux.CgroupsPath = cg }))
	id2, pid2 := e.create(bundle2)
	_ = unix.Kill(pid2, unix.SIGKILL)
	e.waitStatus(id2, "stopped")
	id3, _ := e.create(bundle2)
	if got := unitProp(t, unit, "ActiveState"); got != "active" {
		t.Errorf("the reused unit %s is %q, want active", unit, got)
	}
	e.mustRT("delete", "--force", id3)
	e.mustRT("delete", "--force", id2)
	assertNoUnit(t, unit, "after delete")
}
