package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	warmup      = 3 // untimed rounds before each sequential scenario
	giveUpAfter = 5 // consecutive failures after which a runtime sits a scenario out
)

// runner runs a runtime command: b.do hops onto the namespace if needed;
// b.here runs on the current thread (already in the namespace).
type runner func(dir string, args ...string) res

func (b *bench) hop(r *rt) runner {
	return func(dir string, args ...string) res { return b.do(r, dir, args...) }
}

func (b *bench) here(r *rt) runner {
	return func(dir string, args ...string) res { return b.spawnHere(r.proc(dir, args...)) }
}

// createIn creates container id from bundle dir, timed; the init is
// watched (reaped) from then on.
func (b *bench) createIn(r *rt, run runner, id, dir string) (*container, res) {
	c := &container{r: r, id: id, bundle: dir}
	pidFile := filepath.Join(dir, "pid")
	x := run(dir, "create", "--bundle", dir, "--pid-file", pidFile, id)
	if x.err != nil {
		return c, x
	}
	pid, err := readPid(pidFile)
	if err != nil {
		return c, res{err: fmt.Errorf("%s create %s: pid file: %w", r.key, id, err)}
	}
	c.pid = pid
	c.gone = watch(pid)
	return c, x
}

// streak counts consecutive failures per runtime within a scenario.
type streak map[string]int

func (s streak) out(r *rt, rw *row) bool {
	if s[r.key] == giveUpAfter {
		s[r.key]++
		rw.skip[r.key] = fmt.Sprintf("gave up after %d failures in a row", giveUpAfter)
		fmt.Printf("   %s: %s\n", r.key, rw.skip[r.key])
	}
	return s[r.key] > giveUpAfter
}

func cpuMs(ru *syscall.Rusage) float64 {
	if ru == nil {
		return 0
	}
	us := ru.Utime.Sec*1e6 + ru.Utime.Usec + ru.Stime.Sec*1e6 + ru.Stime.Usec
	return float64(us) / 1000
}

// 1. `run --bundle B id` of `true`, sequential.
func (b *bench) scenRun() {
	n := b.cfg.runs
	per := b.newRow("1. run true", "1. `run` of `true`, per run", "ms")
	tot := b.newRow("1. run true", fmt.Sprintf("1. `run` of `true`, total of %d sequential", n), "s")
	tot.total, tot.chart = true, false
	cpu := b.newRow("1. run true", "1. `run`: CPU user+sys of the runtime and the children it reaped", "ms")
	cpu.chart = false
	fails := streak{}
	for i := 0; i < warmup+n && !b.stop.Load(); i++ {
		for _, r := range rotate(b.rts, i) {
			if fails.out(r, per) {
				continue
			}
			id := fmt.Sprintf("%s-run-%d", r.key, i)
			dir, err := b.bundle(id, "true")
			if err != nil {
				per.fail(r.key, err)
				fails[r.key]++
				continue
			}
			x := b.do(r, dir, "run", "--bundle", dir, id)
			if x.err != nil {
				per.fail(r.key, x.err)
				fails[r.key]++
				b.do(r, dir, "delete", "--force", id)
				continue
			}
			fails[r.key] = 0
			if i < warmup {
				continue
			}
			per.addDur(r.key, x.d)
			tot.add(r.key, x.d.Seconds())
			cpu.add(r.key, cpuMs(x.ru))
		}
	}
}

// 2. create, start (process `true`), wait for the exit (untimed, as a shim
// would reap it), delete: each phase timed.
func (b *bench) scenCycle() {
	cr := b.newRow("2. cycle", "2. `create` (process `true`)", "ms")
	st := b.newRow("2. cycle", "2. `start`, until it returns", "ms")
	de := b.newRow("2. cycle", "2. `delete` of the stopped container", "ms")
	cy := b.newRow("2. cycle", "2. create + start + delete", "ms")
	cy.chart = false
	fails := streak{}
	for i := 0; i < warmup+b.cfg.cycles && !b.stop.Load(); i++ {
		for _, r := range rotate(b.rts, i) {
			if fails.out(r, cy) {
				continue
			}
			fails[r.key]++
			id := fmt.Sprintf("%s-cycle-%d", r.key, i)
			dir, err := b.bundle(id, "true")
			if err != nil {
				cr.fail(r.key, err)
				continue
			}
			c, x := b.createIn(r, b.hop(r), id, dir)
			if x.err != nil {
				cr.fail(r.key, x.err)
				b.forceDelete(c)
				continue
			}
			y := b.do(r, dir, "start", id)
			if y.err != nil {
				st.fail(r.key, y.err)
				b.forceDelete(c)
				continue
			}
			select {
			case <-c.gone:
			case <-time.After(10 * time.Second):
				st.fail(r.key, fmt.Errorf("container %s: `true` did not exit within 10s of start", id))
				b.forceDelete(c)
				continue
			}
			z := b.do(r, dir, "delete", id)
			if z.err != nil {
				de.fail(r.key, z.err)
				b.forceDelete(c)
				continue
			}
			fails[r.key] = 0
			if i < warmup {
				continue
			}
			cr.addDur(r.key, x.d)
			st.addDur(r.key, y.d)
			de.addDur(r.key, z.d)
			cy.addDur(r.key, x.d+y.d+z.d)
		}
	}
}

// 3. `exec true` into a container running `sleep 1000`.
func (b *bench) scenExec() {
	ex := b.newRow("3. exec", "3. `exec true` into a running container", "ms")
	conts := map[string]*container{}
	for _, r := range b.rts {
		id := r.key + "-exec"
		dir, err := b.bundle(id, "sleep", "1000")
		if err != nil {
			ex.fail(r.key, err)
			continue
		}
		c, x := b.createIn(r, b.hop(r), id, dir)
		if x.err == nil {
			x = b.do(r, dir, "start", id)
		}
		if x.err != nil {
			ex.fail(r.key, x.err)
			ex.skip[r.key] = "no container to exec into"
			b.forceDelete(c)
			continue
		}
		conts[r.key] = c
	}
	fails := streak{}
	for i := 0; i < warmup+b.cfg.execs && !b.stop.Load(); i++ {
		for _, r := range rotate(b.rts, i) {
			c := conts[r.key]
			if c == nil || fails.out(r, ex) {
				continue
			}
			x := b.do(r, c.bundle, "exec", c.id, "true")
			if x.err != nil {
				ex.fail(r.key, x.err)
				fails[r.key]++
				continue
			}
			fails[r.key] = 0
			if i >= warmup {
				ex.addDur(r.key, x.d)
			}
		}
	}
	for _, c := range conts {
		b.forceDelete(c)
	}
}

// 4. n containers created and started at once (as `xargs -P n` would),
// then deleted at once; wall times.
func (b *bench) scenParallel() {
	for _, n := range b.cfg.par {
		up := b.newRow("4. parallel", fmt.Sprintf("4. %d containers: create+start, all in parallel (wall)", n), "ms")
		down := b.newRow("4. parallel", fmt.Sprintf("4. %d containers: `delete --force`, all in parallel (wall)", n), "ms")
		down.chart = false
		for rep := 0; rep < b.cfg.parReps && !b.stop.Load(); rep++ {
			for _, r := range rotate(b.rts, rep) {
				if len(up.skip[r.key]) > 0 {
					continue
				}
				b.parallelOnce(r, n, rep, up, down)
			}
		}
	}
}

// together runs f(k) for k < n, each in its own goroutine (on a thread in
// the namespace for crun): prepare(k) first, then all f at once. It returns
// the wall time from the release to the last f's end.
func (b *bench) together(r *rt, n int, prepare func(k int), f func(k int, run runner)) time.Duration {
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(n)
	release := make(chan struct{})
	for k := 0; k < n; k++ {
		go func(k int) {
			defer done.Done()
			work := func() {
				prepare(k)
				ready.Done()
				<-release
				f(k, b.here(r))
			}
			if !r.inNS {
				work()
				return
			}
			if err := b.ns.on(work); err != nil {
				b.problem("%s: %v", r.key, err)
				ready.Done()
			}
		}(k)
	}
	ready.Wait()
	t0 := time.Now()
	close(release)
	done.Wait()
	return time.Since(t0)
}

func (b *bench) parallelOnce(r *rt, n, rep int, up, down *row) {
	conts := make([]*container, n)
	dirs := make([]string, n)
	errs := make([]error, n)
	wall := b.together(r, n, func(k int) {
		id := fmt.Sprintf("%s-par%d-%d-%d", r.key, n, rep, k)
		dirs[k], errs[k] = b.bundle(id, "sleep", "1000")
		conts[k] = &container{r: r, id: id, bundle: dirs[k]}
	}, func(k int, run runner) {
		if errs[k] != nil {
			return
		}
		c, x := b.createIn(r, run, conts[k].id, dirs[k])
		conts[k] = c
		if x.err == nil {
			x = run(dirs[k], "start", c.id)
		}
		errs[k] = x.err
	})
	failed := 0
	for k, c := range conts {
		if errs[k] == nil {
			if st, err := procState(c.pid); err != nil || st == 'Z' || st == 'X' {
				errs[k] = fmt.Errorf("container %s: init %d not running after start", c.id, c.pid)
			}
		}
		if errs[k] != nil {
			failed++
			if failed <= 3 {
				up.fail(r.key, errs[k])
			} else {
				up.fails[r.key]++
			}
		}
	}
	if failed == 0 {
		up.addDur(r.key, wall)
	} else {
		fmt.Printf("   %s: %d of %d containers failed; this round's wall time is not counted\n", r.key, failed, n)
	}
	derrs := make([]error, n)
	wall = b.together(r, n, func(int) {}, func(k int, run runner) {
		derrs[k] = run(conts[k].bundle, "delete", "--force", conts[k].id).err
	})
	dfailed := 0
	for k, c := range conts {
		if derrs[k] != nil {
			dfailed++
			down.fail(r.key, derrs[k])
		}
		if c.gone != nil {
			select {
			case <-c.gone:
			case <-time.After(15 * time.Second):
				down.fail(r.key, fmt.Errorf("container %s: init %d still there 15s after delete --force", c.id, c.pid))
				dfailed++
			}
		}
	}
	if dfailed == 0 && failed == 0 {
		down.addDur(r.key, wall)
	}
	if failed > 0 && failed == n {
		up.skip[r.key] = "every container failed"
	}
}

// 5. memory of create and of the idle init; shims.
func (b *bench) scenMemory() {
	peak := b.newRow("5. memory", "5. peak RSS of the runtime process during `create` (/usr/bin/time %M)", "MB")
	peakRun := b.newRow("5. memory", "5. peak RSS of the runtime process during `run` of `true` (/usr/bin/time %M)", "MB")
	peakRun.chart = false
	irss := b.newRow("5. memory", "5. idle init (created, not started): RSS", "MB")
	ipss := b.newRow("5. memory", "5. idle init: PSS", "MB")
	ipss.chart = false
	ithr := b.newRow("5. memory", "5. idle init: threads", "")
	ithr.chart = false
	mcg := b.newRow("5. memory", "5. charged to the container's memory cgroup right after `create`", "MB")
	ncg := b.newRow("5. memory", "5. cgroup hierarchies the container was put in", "")
	ncg.chart, ncg.noRatio = false, true
	for _, r := range b.rts {
		if !r.cgroups {
			why := "no cgroup: hull did not make one"
			if r.key != "hull" {
				why = "no cgroup (--cgroup-manager=disabled)"
			}
			mcg.skip[r.key] = why
		}
	}
	// ru_maxrss from wait4 in a Go parent is useless here: the child is
	// vforked, and exec records the high-water mark of the mm it leaves,
	// the parent's. GNU time forks a 1 MB C process instead.
	timeBin, terr := exec.LookPath("time")
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		timeBin, terr = "/usr/bin/time", nil
	}
	if terr != nil {
		for _, r := range b.rts {
			peak.skip[r.key] = "/usr/bin/time not installed"
			peakRun.skip[r.key] = "/usr/bin/time not installed"
		}
	} else {
		f := filepath.Join(b.tmp, "time-floor")
		if x := b.spawn(proc{path: timeBin, argv: []string{timeBin, "-f", "%M", "-o", f, "/bin/true"}, dir: "/"}); x.err == nil {
			if kb, err := lastInt(f); err == nil {
				b.notes = append(b.notes, fmt.Sprintf("`/usr/bin/time -f %%M /bin/true` reports %.2f MB: the floor of the peak-RSS row.", float64(kb)/1024))
			}
		}
	}
	fails := streak{}
	for i := 0; i < b.cfg.memReps && !b.stop.Load(); i++ {
		for _, r := range rotate(b.rts, i) {
			if fails.out(r, irss) {
				continue
			}
			id := fmt.Sprintf("%s-mem-%d", r.key, i)
			dir, err := b.bundle(id, "sleep", "1000")
			if err != nil {
				irss.fail(r.key, err)
				fails[r.key]++
				continue
			}
			maxrss := filepath.Join(dir, "maxrss")
			run := b.hop(r)
			if terr == nil {
				run = func(dir string, args ...string) res {
					p := r.proc(dir, args...)
					p.argv = append([]string{timeBin, "-f", "%M", "-o", maxrss, r.bin}, p.argv[1:]...)
					p.path = timeBin
					return b.spawn(p)
				}
			}
			c, x := b.createIn(r, run, id, dir)
			if x.err != nil {
				irss.fail(r.key, x.err)
				fails[r.key]++
				b.forceDelete(c)
				continue
			}
			fails[r.key] = 0
			if terr == nil {
				if kb, err := lastInt(maxrss); err == nil {
					peak.add(r.key, float64(kb)/1024)
				} else {
					peak.fail(r.key, fmt.Errorf("read %s: %v", maxrss, err))
				}
			}
			time.Sleep(300 * time.Millisecond) // let the init settle
			st := procStatus(c.pid)
			irss.add(r.key, float64(exactRSS(c.pid, st))/1024)
			ithr.add(r.key, float64(st["Threads"]))
			if pss, ok := smapsRollup(c.pid)["Pss"]; ok {
				ipss.add(r.key, float64(pss)/1024)
			}
			joined, memDir := b.containerCgroups(c.pid)
			ncg.add(r.key, float64(joined))
			if r.cgroups {
				if memDir == "" {
					mcg.fail(r.key, fmt.Errorf("container %s: no memory cgroup of its own found in /proc/%d/cgroup", id, c.pid))
				} else if v, err := readInt(filepath.Join(memDir, "memory.usage_in_bytes")); err == nil {
					mcg.add(r.key, float64(v)/(1<<20))
				} else if v, err := readInt(filepath.Join(memDir, "memory.current")); err == nil {
					mcg.add(r.key, float64(v)/(1<<20))
				} else {
					mcg.fail(r.key, err)
				}
			}
			if i == 0 {
				exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", c.pid))
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.pid))
				note := fmt.Sprintf("idle init: cmdline `%s`, /proc/PID/exe → `%s`", strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")), exe)
				if memDir != "" {
					ms := memoryStat(memDir)
					if _, v2 := ms["anon"]; v2 { // cgroup2's names
						note += fmt.Sprintf("; its memory cgroup's memory.stat: anon %.2f MB, file %.2f MB, shmem %.2f MB",
							float64(ms["anon"])/(1<<20), float64(ms["file"])/(1<<20), float64(ms["shmem"])/(1<<20))
					} else {
						note += fmt.Sprintf("; its memory cgroup's memory.stat: rss %.2f MB, cache %.2f MB, shmem %.2f MB",
							float64(ms["rss"])/(1<<20), float64(ms["cache"])/(1<<20), float64(ms["shmem"])/(1<<20))
					}
				}
				b.memInfo[r.key] = note
			}
			b.forceDelete(c)
			if terr == nil {
				b.peakOfRun(r, timeBin, i, peakRun)
			}
		}
	}
	b.measureShims()
}

// peakOfRun adds to row the peak RSS of a `run` of `true` (the runtime
// and the children it waited for: the container's process is one).
func (b *bench) peakOfRun(r *rt, timeBin string, i int, row *row) {
	id := fmt.Sprintf("%s-memrun-%d", r.key, i)
	dir, err := b.bundle(id, "true")
	if err != nil {
		row.fail(r.key, err)
		return
	}
	maxrss := filepath.Join(dir, "maxrss")
	p := r.proc(dir, "run", "--bundle", dir, id)
	p.argv = append([]string{timeBin, "-f", "%M", "-o", maxrss, r.bin}, p.argv[1:]...)
	p.path = timeBin
	if x := b.spawn(p); x.err != nil {
		row.fail(r.key, x.err)
		b.do(r, dir, "delete", "--force", id)
		return
	}
	kb, err := lastInt(maxrss)
	if err != nil {
		row.fail(r.key, fmt.Errorf("read %s: %v", maxrss, err))
		return
	}
	row.add(r.key, float64(kb)/1024)
}

// lastInt reads the integer on the last line of a file (GNU time's -o
// file may start with "Command exited with non-zero status").
func lastInt(p string) (int64, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
}

func procStatus(pid int) map[string]int64 {
	out := map[string]int64{}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) > 0 {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				out[k] = n
			}
		}
	}
	return out
}

func smapsRollup(pid int) map[string]int64 {
	out := map[string]int64{}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && strings.HasSuffix(f[0], ":") {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				out[strings.TrimSuffix(f[0], ":")] = n
			}
		}
	}
	return out
}

func memoryStat(dir string) map[string]int64 {
	out := map[string]int64{}
	data, _ := os.ReadFile(filepath.Join(dir, "memory.stat"))
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				out[f[0]] = n
			}
		}
	}
	return out
}

func readInt(p string) (int64, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
}

// containerCgroups counts the hierarchies in which pid is in a cgroup under
// our parent, and finds its memory cgroup's directory (on the host).
func (b *bench) containerCgroups(pid int) (int, string) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return 0, ""
	}
	joined, memDir := 0, ""
	mounts := mountsOf("cgroup", "cgroup2")
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		p := strings.SplitN(l, ":", 3)
		if len(p) != 3 || !strings.Contains(p[2], "/"+b.cgParent+"/") {
			continue
		}
		joined++
		if p[0] == "0" && p[1] == "" {
			// cgroup2: the memory controller is there if the cgroup has
			// memory.current (a pure v2 host; on a hybrid one it has none)
			for _, m := range mounts {
				if m.fstype != "cgroup2" {
					continue
				}
				if rel, err := filepath.Rel(m.root, p[2]); err == nil && !strings.HasPrefix(rel, "..") {
					d := filepath.Join(m.point, rel)
					if _, err := os.Stat(filepath.Join(d, "memory.current")); err == nil && memDir == "" {
						memDir = d
					}
				}
			}
			continue
		}
		if !hasOpt(p[1], "memory") {
			continue
		}
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasOpt(m.super, "memory") {
				if rel, err := filepath.Rel(m.root, p[2]); err == nil && !strings.HasPrefix(rel, "..") {
					memDir = filepath.Join(m.point, rel)
				}
			}
		}
	}
	return joined, memDir
}
