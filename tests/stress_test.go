package tests

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// stressN is n in CI, or big with HULL_STRESS=1 (make stress).
func stressN(n, big int) int {
	if os.Getenv("HULL_STRESS") != "" {
		return big
	}
	return n
}

// 100 containers created, started and deleted in parallel: all succeed,
// each has its own consistent state, nothing is left.
func TestStressParallelLifecycles(t *testing.T) {
	e := newEnv(t)
	n := stressN(100, 100)
	bundles := make([]string, n)
	for i := range bundles {
		bundles[i] = e.newBundle(withArgs("sleep", "100"))
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.newID()
	}
	var wg sync.WaitGroup
	errs := make(chan string, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if r := e.rt("create", "--bundle", bundles[i], ids[i]); r.Code != 0 {
				errs <- fmt.Sprintf("create %s: %v", ids[i], r)
				return
			}
			if r := e.rt("start", ids[i]); r.Code != 0 {
				errs <- fmt.Sprintf("start %s: %v", ids[i], r)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	running := 0
	for _, id := range ids {
		st := e.state(id)
		if st.Status == "running" && st.ID == id && st.Pid > 0 {
			running++
		}
		e.trackPid(st.Pid)
	}
	if running != n {
		t.Errorf("%d of %d containers running after a parallel start", running, n)
	}
	errs = make(chan string, n)
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if r := e.rt("delete", "--force", id); r.Code != 0 {
				errs <- fmt.Sprintf("delete %s: %v", id, r)
			}
		}(id)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// 20 concurrent commands against one container are serialized by its
// lock: each gets an answer (exit 0, or an error on stderr), none panics,
// none hangs (rt kills and fails after its timeout).
func TestStressConcurrentCommands(t *testing.T) {
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	id, pid := e.create(bundle)
	e.trackPid(pid)
	cmds := [][]string{
		{"start", id}, {"state", id}, {"kill", id, "0"}, {"exec", id, "true"}, {"pause", id},
		{"resume", id}, {"ps", "--format", "json", id}, {"list"}, {"state", id}, {"start", id},
		{"exec", id, "true"}, {"kill", id, "CONT"}, {"pause", id}, {"resume", id}, {"state", id},
		{"events", "--stats", id}, {"exec", id, "true"}, {"delete", id}, {"state", id}, {"ps", "--format", "json", id},
	}
	// A foreground exec whose process lands in the container just before
	// a pause stays frozen until a resume (runc's exec behaves the same):
	// that is the pause working, not a hang. So the execs are waited for
	// only after the other commands have ended and a last resume has
	// thawed whatever they froze; each still has rt's timeout from then.
	var wg, execs sync.WaitGroup
	var mu sync.Mutex
	for _, c := range cmds {
		group := &wg
		if c[0] == "exec" {
			group = &execs
		}
		group.Add(1)
		go func(c []string) {
			defer group.Done()
			r := e.rt(c...)
			mu.Lock()
			defer mu.Unlock()
			if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine ") {
				t.Errorf("%v panicked: %v", c, r)
			}
			// A foreground exec exits with its process's status: 137
			// when the delete of the still-created container killed
			// it, a right answer that prints nothing.
			killed := c[0] == "exec" && r.Code == 128+9
			if r.Code != 0 && !killed && strings.TrimSpace(r.Stderr) == "" {
				t.Errorf("%v failed without saying why: %v", c, r)
			}
		}(c)
	}
	wg.Wait()
	// Whatever order they ran in, the container is in a state that
	// resume + delete --force can handle.
	e.rt("resume", id)
	execs.Wait()
	e.mustRT("delete", "--force", id)
	e.assertNotExist(id)
}

// Sequential lifecycles leave the host as they found it: the same number
// of mounts, state dirs, zombies of ours and open fds of this process.
func TestStressSequentialLifecycles(t *testing.T) {
	e := newEnv(t)
	n := stressN(100, 1000)
	bundle := e.newBundle(withArgs("true"))
	snapshot := func() (mounts, states, zombies, fds int) {
		b, _ := os.ReadFile("/proc/self/mountinfo")
		mounts = strings.Count(string(b), "\n")
		ents, _ := os.ReadDir(e.root)
		states = len(ents)
		procs, _ := os.ReadDir("/proc")
		me := strconv.Itoa(os.Getpid())
		for _, p := range procs {
			st, err := os.ReadFile("/proc/" + p.Name() + "/stat")
			if err != nil {
				continue
			}
			s := string(st)
			if i := strings.LastIndexByte(s, ')'); i > 0 {
				f := strings.Fields(s[i+1:])
				if len(f) > 1 && f[0] == "Z" && f[1] == me {
					zombies++
				}
			}
		}
		fdEnts, _ := os.ReadDir("/proc/self/fd")
		fds = len(fdEnts)
		return
	}
	m0, s0, z0, f0 := snapshot()
	for i := 0; i < n; i++ {
		id := e.newID()
		if r := e.rt("run", "--bundle", bundle, id); r.Code != 0 {
			t.Fatalf("lifecycle %d: %v", i, r)
		}
	}
	m1, s1, z1, f1 := snapshot()
	if m1 != m0 || s1 != s0 || z1 > z0 || f1 > f0+2 {
		t.Errorf("after %d lifecycles: mounts %d→%d, state dirs %d→%d, zombies %d→%d, fds %d→%d", n, m0, m1, s0, s1, z0, z1, f0, f1)
	}
}
