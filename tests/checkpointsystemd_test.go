package tests

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkpoint/restore with the systemd driver (HULL_TEST_SYSTEMD=1 under a
// running systemd with criu that works: the systemd VM lane's
// checkpoint step, tests/vm/systemd-criu.sh). The checkpoint ends the
// container's scope unit; the restore starts it again (criu is placed in
// it, the restored tree lands in it) with the limits as unit properties;
// delete, and a failed restore, leave no unit.

// sdInitIn checks that pid's cgroup v2 path is the unit's cgroup.
func sdInitIn(t *testing.T, pid int, cgPath, when string) {
	t.Helper()
	dir, err := cgProcDir(pid, "")
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	if !strings.HasSuffix(dir, "/"+cgSuffix(cgPath)) {
		t.Errorf("%s: pid %d in %s, want the unit's cgroup .../%s", when, pid, dir, cgSuffix(cgPath))
	}
}

// sdUnitState checks the unit's ActiveState and MemoryMax.
func sdUnitState(t *testing.T, unit, when string, memMax int64) {
	t.Helper()
	if got := unitProp(t, unit, "ActiveState"); got != "active" {
		t.Errorf("%s: unit %s ActiveState=%q, want active", when, unit, got)
	}
	if got := unitProp(t, unit, "MemoryMax"); got != strconv.FormatInt(memMax, 10) {
		t.Errorf("%s: unit %s MemoryMax=%q, want %d", when, unit, got, memMax)
	}
}

func TestCheckpointScopeUnit(t *testing.T) {
	needSystemd(t)
	needCriuWorks(t)
	const mem = 96 << 20
	for _, mode := range []string{"soft", "full", "ignore"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			c := runCounter(t, e, nil, withMemoryLimit(mem))
			id, bundle, vol := c.id, c.bundle, c.vol
			cg := loadSpec(t, bundle).Linux.CgroupsPath
			unit := cgUnitOf(cg)
			sdInitIn(t, e.state(id).Pid, cg, "run -d")
			sdUnitState(t, unit, "run -d", mem)
			img := e.checkpointImage(id, "--manage-cgroups-mode", mode)
			e.assertNotExist(id)
			assertNoUnit(t, unit, "after checkpoint")
			at := readCount(t, vol)
			p2 := newPipes(t)
			pidFile := filepath.Join(e.base, "restored.pid")
			if code := e.rtPipes(p2, "restore", "-d", "--manage-cgroups-mode", mode, "--bundle", bundle, "--image-path", img, "--pid-file", pidFile, id); code != 0 {
				criuLog(t, img)
				t.Fatalf("restore: exit %d: %s", code, p2.stderr())
			}
			pid := e.readPidFile(pidFile)
			if s := e.state(id); s.Status != "running" || s.Pid != pid {
				t.Errorf("restored: status %q pid %d, want running with the pid file's %d", s.Status, s.Pid, pid)
			}
			sdInitIn(t, pid, cg, "restored")
			sdUnitState(t, unit, "restored", mem)
			waitCount(t, vol, at+3)
			checkLog(t, vol, 0)
			if r := e.rt("exec", id, "sh", "-c", "cat /proc/self/cgroup"); r.Code != 0 {
				t.Errorf("exec in the restored container: %v", r)
			}
			e.mustRT("kill", id, "KILL")
			e.waitStatus(id, "stopped")
			e.mustRT("delete", id)
			assertNoUnit(t, unit, "after delete of the restored container")
		})
	}
	// --leave-running: the unit stays, the container runs on in it.
	t.Run("leave-running", func(t *testing.T) {
		e := newEnv(t)
		c := runCounter(t, e, nil, withMemoryLimit(mem))
		id, vol := c.id, c.vol
		cg := loadSpec(t, c.bundle).Linux.CgroupsPath
		unit := cgUnitOf(cg)
		e.checkpointImage(id, "--leave-running")
		if s := e.state(id); s.Status != "running" {
			t.Errorf("after checkpoint --leave-running: status %q", s.Status)
		}
		sdInitIn(t, e.state(id).Pid, cg, "after checkpoint --leave-running")
		sdUnitState(t, unit, "after checkpoint --leave-running", mem)
		waitCount(t, vol, readCount(t, vol)+2)
		e.mustRT("delete", "-f", id)
		assertNoUnit(t, unit, "after delete -f")
	})
	// strict: criu 3.17.1 refuses to restore into the existing cgroup
	// (the unit's, criu's own): the restore fails and leaves no unit.
	t.Run("strict-fails-clean", func(t *testing.T) {
		e := newEnv(t)
		c := runCounter(t, e, nil, withMemoryLimit(mem))
		id, bundle := c.id, c.bundle
		unit := cgUnitOf(loadSpec(t, bundle).Linux.CgroupsPath)
		img := e.checkpointImage(id, "--manage-cgroups-mode", "strict")
		assertNoUnit(t, unit, "after checkpoint")
		p2 := newPipes(t)
		start := time.Now()
		if code := e.rtPipes(p2, "restore", "-d", "--manage-cgroups-mode", "strict", "--bundle", bundle, "--image-path", img, id); code == 0 {
			t.Logf("restore --manage-cgroups-mode strict succeeded here")
			e.mustRT("delete", "-f", id)
		} else if d := time.Since(start); d > 60*time.Second {
			t.Errorf("the failing restore took %v", d)
		}
		e.assertNotExist(id)
		assertNoUnit(t, unit, "after restore --manage-cgroups-mode strict")
	})
}
