package tests

// A new container's cgroup may already exist (an absolute or shared
// cgroupsPath). Like runc, hull refuses one that holds processes or is
// frozen, before it has made anything, and never touches the processes
// that were there.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cgPreDir returns the directory that the bundle's relative cgroupsPath
// occupies in the hierarchy of controller ctrl (v1), or in the cgroup2
// hierarchy when ctrl is "" or the host is unified.
func cgPreDir(t *testing.T, cgPath, ctrl string) string {
	t.Helper()
	if cgUnifiedHost(t) {
		ctrl = ""
	}
	if sdSuffix, ok := cgSystemdSuffix(cgPath); ok {
		// systemd puts the unit under its slice from the root.
		return cgHierarchyRoot(t, ctrl) + "/" + sdSuffix
	}
	own, err := cgProcDir(os.Getpid(), ctrl)
	if err != nil {
		t.Fatalf("our own cgroup: %v", err)
	}
	return filepath.Join(own, cgPath)
}

// cgMkdirOwned makes dir (a cgroup of ours) and removes it at cleanup.
func cgMkdirOwned(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if err := unix.Rmdir(dir); err == nil || err == unix.ENOENT {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("could not remove the test's cgroup %s", dir)
	})
}

// A foreign process (started by the test, not by the runtime) sits in the
// cgroup: create fails with runc's error, leaves no state, and the process
// lives on in its cgroup. Before the fix create succeeded and delete then
// SIGKILLed the process.
func TestCgroupCreateRefusesNonEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	cgPath := loadSpec(t, bundle).Linux.CgroupsPath
	dir := cgPreDir(t, cgPath, "pids")
	cgMkdirOwned(t, dir)

	sleeper := exec.Command("sleep", "1000")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	pid := sleeper.Process.Pid
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()
	t.Cleanup(func() {
		// Ours: out of the cgroup (so that it can be removed) and gone.
		own, _ := cgProcDir(os.Getpid(), "pids")
		if cgUnifiedHost(t) {
			own, _ = cgProcDir(os.Getpid(), "")
		}
		_ = os.WriteFile(filepath.Join(own, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
		_ = sleeper.Process.Kill()
		<-exited
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatalf("moving our sleep %d into %s: %v", pid, dir, err)
	}

	id := e.newID()
	r := e.rt("create", "--bundle", bundle, id)
	if r.Code == 0 {
		e.rt("delete", "--force", id)
		t.Fatalf("create into a cgroup holding a foreign process: exit 0, want an error")
	}
	if !strings.Contains(r.Stderr, "container's cgroup is not empty: 1 process(es) found") || !strings.Contains(r.Stderr, id) {
		t.Errorf("create into a non-empty cgroup: %v; want runc's \"container's cgroup is not empty: 1 process(es) found\" naming %s", r, id)
	}
	e.assertNotExist(id)
	select {
	case <-exited:
		t.Fatalf("the foreign process %d in the cgroup was killed", pid)
	case <-time.After(200 * time.Millisecond):
	}
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
		t.Errorf("%s/cgroup.procs = %q (%v), want the foreign process %d still there", dir, b, err, pid)
	}
}

// Two containers given the same cgroupsPath: the second is refused and the
// first keeps running.
func TestCgroupCreateSharedPathRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	id1, pid1 := e.create(bundle)
	e.mustRT("start", id1)
	id2 := e.newID()
	r := e.rt("run", "-d", "--bundle", bundle, id2)
	if r.Code == 0 || !strings.Contains(r.Stderr, "container's cgroup is not empty") {
		t.Errorf("run -d of a second container in the first one's cgroup: %v; want an error with \"container's cgroup is not empty\"", r)
	}
	e.assertNotExist(id2)
	if st := e.state(id1); st.Status != "running" || st.Pid != pid1 {
		t.Errorf("the first container after the refused second one: status %q pid %d, want running %d", st.Status, st.Pid, pid1)
	}
	e.mustRT("delete", "--force", id1)
}

// A pre-existing frozen cgroup: create fails at once with runc's error
// (before the fix it hung with a frozen init), leaving no state and no
// process.
func TestCgroupCreateRefusesFrozen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	cgPath := loadSpec(t, bundle).Linux.CgroupsPath
	v2 := cgUnifiedHost(t)
	dir := cgPreDir(t, cgPath, "freezer")
	cgMkdirOwned(t, dir)
	file, frozen, thawed := "freezer.state", "FROZEN", "THAWED"
	if v2 {
		file, frozen, thawed = "cgroup.freeze", "1", "0"
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(frozen), 0); err != nil {
		t.Fatalf("freezing %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = os.WriteFile(filepath.Join(dir, file), []byte(thawed), 0) })

	id := e.newID()
	r, finished := e.cgRTWithin(15*time.Second, "create", "--bundle", bundle, id)
	if !finished {
		t.Fatalf("create into a frozen cgroup did not return within 15s (%v)", r)
	}
	if r.Code == 0 || !strings.Contains(r.Stderr, "container's cgroup unexpectedly frozen") || !strings.Contains(r.Stderr, id) {
		t.Errorf("create into a frozen cgroup: %v; want runc's \"container's cgroup unexpectedly frozen\" naming %s", r, id)
	}
	e.assertNotExist(id)
	if b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs")); strings.TrimSpace(string(b)) != "" {
		t.Errorf("%s/cgroup.procs = %q after the refused create, want empty", dir, b)
	}
}
