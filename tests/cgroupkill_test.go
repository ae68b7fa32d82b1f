package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// kill KILL (no --all) of a container that shares the host's pid
// namespace kills every process of its cgroup, as runc does (the suite's
// "kill KILL [host pidns]"): its init is no pid 1 whose death ends the
// rest. Also once the init is gone ("[host pidns + init gone]").
func TestCgroupKillHostPidns(t *testing.T) {
	t.Parallel()
	for _, initGone := range []bool{false, true} {
		name := "running"
		if initGone {
			name = "init-gone"
		}
		initGone := initGone
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			bundle := e.newBundle(all(withArgs("sleep", "1000"), withoutNamespace(specs.PIDNamespace)))
			id, pid := e.create(bundle)
			e.mustRT("start", id)
			for i := 0; i < 3; i++ {
				e.mustRT("exec", "-d", id, "sleep", "1000")
			}
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
			if !cgPoll(5*time.Second, func() bool { return len(procs()) == 4 }) {
				t.Fatalf("cgroup.procs = %v, want the init and three exec'd sleeps", procs())
			}
			for _, p := range procs() {
				e.trackPid(p)
			}
			if initGone {
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil { // the container's init, started by this test
					t.Fatal(err)
				}
				e.waitStatus(id, "stopped")
			}
			if r := e.rt("kill", id, "KILL"); r.Code != 0 {
				t.Errorf("kill %s KILL: %v, want exit 0", id, r)
			}
			if !cgPoll(5*time.Second, func() bool { return len(procs()) == 0 }) {
				t.Errorf("%s/cgroup.procs after kill KILL = %v, want empty", dir, procs())
			}
			e.waitStatus(id, "stopped")
			if r := e.rt("kill", id, "TERM"); r.Code != 1 || !strings.Contains(r.Stderr, "container not running") {
				t.Errorf("kill %s TERM after it stopped: %v, want exit 1 and \"container not running\"", id, r)
			}
			e.mustRT("delete", id)
		})
	}
}
