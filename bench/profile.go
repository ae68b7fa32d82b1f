package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// profile is what goes into profile.md: where the time of one `run` goes.
type profile struct {
	floor     *row
	floorCmds map[string]string
	inittrace string
	sizes     []string
	stracec   map[string]string
	straceCmd map[string]string
	traces    map[string]*trace
	timeline  map[string]*trace
	tlCmd     map[string]string
	perf      map[string]string
	perfCmd   map[string]string
	hf        map[string]string
	hfCmd     map[string]string
	errors    []string
}

func (b *bench) profRts() []*rt { return b.rts[:3] } // hull, runc, crun

func (b *bench) profile() *profile {
	p := &profile{stracec: map[string]string{}, straceCmd: map[string]string{}, traces: map[string]*trace{},
		timeline: map[string]*trace{}, tlCmd: map[string]string{}, perf: map[string]string{}, perfCmd: map[string]string{},
		hf: map[string]string{}, hfCmd: map[string]string{}, floorCmds: map[string]string{}}
	p.startupFloor(b)
	p.binaries(b)
	strace, err := exec.LookPath("strace")
	if err != nil {
		p.errors = append(p.errors, "strace not found: no syscall profile")
	} else {
		for _, r := range b.profRts() {
			p.straceCount(b, r, strace)
			p.straceFull(b, r, strace)
			p.straceTimeline(b, r, strace)
		}
	}
	if perf, err := exec.LookPath("perf"); err != nil {
		p.errors = append(p.errors, "perf not found: no perf stat")
	} else {
		for _, r := range b.rts {
			p.perfStat(b, r, perf)
		}
	}
	if hf, err := exec.LookPath("hyperfine"); err != nil {
		p.errors = append(p.errors, "hyperfine not found: no cross-check")
	} else {
		for _, r := range b.rts {
			p.hyperfine(b, r, hf)
		}
	}
	return p
}

// cmdline renders a runtime command as a shell would take it (crun with
// the nsenter that enters its namespace).
func (b *bench) cmdline(r *rt, wrap []string, dir string, args ...string) string {
	s := strings.Join(append(append(append([]string{}, wrap...), r.bin), append(append([]string{}, r.global...), args...)...), " ")
	if r.inNS {
		s = b.ns.nsenterArgv() + " " + s
	}
	return "(cd " + dir + " && " + s + ")"
}

func (b *bench) wrapped(r *rt, wrap []string, dir string, args ...string) proc {
	argv := append(append(append([]string{}, wrap...), r.bin), append(append([]string{}, r.global...), args...)...)
	return proc{path: wrap[0], argv: argv, dir: dir, inNS: r.inNS, capture: true, timeout: 120 * time.Second}
}

// startupFloor: the cost of starting each binary at all.
func (p *profile) startupFloor(b *bench) {
	p.floor = &row{name: "startup", unit: "ms", vals: map[string][]float64{}, fails: map[string]int{}, errs: map[string][]string{}, skip: map[string]string{}}
	type c struct {
		key  string
		argv []string
	}
	cmds := []c{
		{"/bin/true", []string{"/bin/true"}},
		{"hull --version", []string{b.cfg.hull, "--version"}},
		{"runc --version", []string{b.cfg.runc, "--version"}},
		{"crun --version", []string{b.cfg.crun, "--version"}},
		{"hull list (empty root)", append([]string{b.cfg.hull}, append(b.rts[0].global, "list")...)},
		{"runc list (empty root)", append([]string{b.cfg.runc}, append(b.rts[1].global, "list")...)},
		{"crun list (empty root)", append([]string{b.cfg.crun}, append(b.rts[2].global, "list")...)},
	}
	for _, x := range cmds {
		p.floorCmds[x.key] = strings.Join(x.argv, " ")
	}
	for i := 0; i < 3+40; i++ {
		for k := range cmds {
			x := cmds[(i+k)%len(cmds)]
			ns := strings.HasPrefix(x.key, "crun list")
			r := b.spawn(proc{path: x.argv[0], argv: x.argv, dir: "/", inNS: ns})
			if r.err != nil {
				p.floor.fail(x.key, r.err)
				continue
			}
			if i >= 3 {
				p.floor.addDur(x.key, r.d)
			}
		}
	}
	// Go's package initialisation in hull, from the runtime itself.
	env := append(append([]string{}, baseEnv...), "GODEBUG=inittrace=1")
	r := b.spawn(proc{path: b.cfg.hull, argv: []string{b.cfg.hull, "--version"}, dir: "/", env: env, capture: true})
	re := regexp.MustCompile(`^init (\S+) @\S+ ms, ([0-9.]+) ms clock, (\d+) bytes, (\d+) allocs`)
	type pk struct {
		name  string
		ms    float64
		bytes int
	}
	var pks []pk
	total, bytes := 0.0, 0
	for _, l := range strings.Split(r.stderr, "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ms, _ := strconv.ParseFloat(m[2], 64)
		by, _ := strconv.Atoi(m[3])
		pks = append(pks, pk{m[1], ms, by})
		total += ms
		bytes += by
	}
	sort.Slice(pks, func(i, j int) bool { return pks[i].ms > pks[j].ms })
	var top []string
	for i := 0; i < len(pks) && i < 5; i++ {
		top = append(top, fmt.Sprintf("%s %.3f ms", pks[i].name, pks[i].ms))
	}
	p.inittrace = fmt.Sprintf("%d packages initialised in %.2f ms (clock), %d KB allocated; slowest: %s", len(pks), total, bytes/1024, strings.Join(top, ", "))
}

func (p *profile) binaries(b *bench) {
	for _, r := range b.profRts() {
		st, err := os.Stat(r.bin)
		if err != nil {
			continue
		}
		libs := "?"
		if out, err := exec.Command("ldd", r.bin).CombinedOutput(); err == nil {
			var names []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Fields(l)
				if len(f) > 0 && !strings.HasPrefix(f[0], "linux-vdso") && !strings.Contains(f[0], "ld-linux") {
					names = append(names, f[0])
				}
			}
			libs = strings.Join(names, ", ")
		} else {
			libs = "static"
		}
		p.sizes = append(p.sizes, fmt.Sprintf("| %s | %.1f MB | %s |", r.key, float64(st.Size())/(1<<20), libs))
	}
}

func (p *profile) straceCount(b *bench, r *rt, strace string) {
	id := r.key + "-strace-c"
	dir, _ := b.bundle(id, "true")
	out := filepath.Join(dir, "strace-c.txt")
	wrap := []string{strace, "-c", "-f", "-S", "calls", "-o", out}
	p.straceCmd[r.key] = b.cmdline(r, wrap, dir, "run", "--bundle", dir, id)
	x := b.spawn(b.wrapped(r, wrap, dir, "run", "--bundle", dir, id))
	if x.err != nil {
		p.errors = append(p.errors, "strace -c "+r.key+": "+x.err.Error())
		return
	}
	data, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var keep []string
	rows := 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "% time") || strings.HasPrefix(l, "------"):
			keep = append(keep, l)
		case i == len(lines)-1:
			keep = append(keep, l) // total
		case rows < 15:
			keep = append(keep, l)
			rows++
		}
	}
	p.stracec[r.key] = strings.Join(keep, "\n")
}

func (p *profile) straceFull(b *bench, r *rt, strace string) {
	id := r.key + "-strace-f"
	dir, _ := b.bundle(id, "true")
	out := filepath.Join(dir, "strace-full.txt")
	wrap := []string{strace, "-f", "-ttt", "-s", "256", "-o", out}
	x := b.spawn(b.wrapped(r, wrap, dir, "run", "--bundle", dir, id))
	if x.err != nil {
		p.errors = append(p.errors, "strace -f "+r.key+": "+x.err.Error())
		return
	}
	t, err := parseTrace(out, id)
	if err != nil {
		p.errors = append(p.errors, "parse strace "+r.key+": "+err.Error())
		return
	}
	p.traces[r.key] = t
}

func (p *profile) straceTimeline(b *bench, r *rt, strace string) {
	id := r.key + "-strace-t"
	dir, _ := b.bundle(id, "true")
	out := filepath.Join(dir, "strace-tl.txt")
	wrap := []string{strace, "-f", "--seccomp-bpf", "-ttt", "-s", "128", "-e", "trace=execve,clone,clone3,vfork,fork,unshare,setns,mount,pivot_root,exit_group", "-o", out}
	p.tlCmd[r.key] = b.cmdline(r, wrap, dir, "run", "--bundle", dir, id)
	x := b.spawn(b.wrapped(r, wrap, dir, "run", "--bundle", dir, id))
	if x.err != nil {
		p.errors = append(p.errors, "strace timeline "+r.key+": "+x.err.Error())
		return
	}
	t, err := parseTrace(out, id)
	if err != nil {
		p.errors = append(p.errors, "parse strace "+r.key+": "+err.Error())
		return
	}
	p.timeline[r.key] = t
}

func (p *profile) perfStat(b *bench, r *rt, perf string) {
	id := r.key + "-perf"
	dir, _ := b.bundle(id, "true")
	out := filepath.Join(dir, "perf.txt")
	wrap := []string{perf, "stat", "-e", "task-clock", "-r", "20", "-o", out}
	p.perfCmd[r.key] = b.cmdline(r, wrap, dir, "run", "--bundle", dir, id)
	x := b.spawn(b.wrapped(r, wrap, dir, "run", "--bundle", dir, id))
	if x.err != nil {
		p.errors = append(p.errors, "perf stat "+r.key+": "+x.err.Error())
		return
	}
	data, _ := os.ReadFile(out)
	var keep []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "task-clock") || strings.Contains(l, "time elapsed") {
			keep = append(keep, strings.Join(strings.Fields(l), " "))
		}
	}
	p.perf[r.key] = strings.Join(keep, "; ")
}

func (p *profile) hyperfine(b *bench, r *rt, hf string) {
	id := r.key + "-hf"
	dir, _ := b.bundle(id, "true")
	out := filepath.Join(dir, "hf.json")
	cmd := strings.Join(append([]string{r.bin}, append(append([]string{}, r.global...), "run", "--bundle", dir, id)...), " ")
	argv := []string{hf, "-N", "--warmup", "3", "--runs", "30", "--export-json", out, cmd}
	p.hfCmd[r.key] = fmt.Sprintf("%shyperfine -N --warmup 3 --runs 30 '%s'", map[bool]string{true: b.ns.nsenterArgv() + " ", false: ""}[r.inNS], cmd)
	x := b.spawn(proc{path: hf, argv: argv, dir: dir, inNS: r.inNS, capture: true, timeout: 120 * time.Second})
	if x.err != nil {
		p.errors = append(p.errors, "hyperfine "+r.key+": "+x.err.Error())
		return
	}
	var j struct {
		Results []struct {
			Mean, Stddev, Median, Min, Max float64
		} `json:"results"`
	}
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &j); err != nil || len(j.Results) == 0 {
		p.errors = append(p.errors, "hyperfine "+r.key+": no results")
		return
	}
	h := j.Results[0]
	p.hf[r.key] = fmt.Sprintf("median %.2f ms, mean %.2f ± %.2f ms, min %.2f, max %.2f", h.Median*1000, h.Mean*1000, h.Stddev*1000, h.Min*1000, h.Max*1000)
}

// ---- strace logs ------------------------------------------------------

type sysCall struct {
	pid  int
	t    float64
	name string
	args string
	ret  string
}

type trace struct {
	calls []*sysCall
	t0    float64
	tEnd  float64
}

var (
	lineRe    = regexp.MustCompile(`^(\d+)\s+(\d+\.\d+)\s+(.*)$`)
	resumedRe = regexp.MustCompile(`^<\.\.\. (\w+) resumed>(.*)$`)
	callRe    = regexp.MustCompile(`^(\w+)\((.*)$`)
)

// parseTrace reads `strace -f -ttt -o` output, joining unfinished calls
// with their resumption; the container id in paths becomes <id>.
func parseTrace(file, id string) (*trace, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	t := &trace{}
	open := map[int]*sysCall{}
	for _, l := range strings.Split(string(data), "\n") {
		m := lineRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		ts, _ := strconv.ParseFloat(m[2], 64)
		if t.t0 == 0 {
			t.t0 = ts
		}
		t.tEnd = ts
		rest := strings.ReplaceAll(m[3], id, "<id>")
		if strings.HasPrefix(rest, "+++") || strings.HasPrefix(rest, "---") {
			continue
		}
		if rm := resumedRe.FindStringSubmatch(rest); rm != nil {
			c, at := open[pid], pid
			if c == nil || c.name != rm[1] {
				// A thread's execve resumes under the leader's pid.
				c = nil
				for p, o := range open {
					if o.name == rm[1] && (c == nil || o.t > c.t) {
						c, at = o, p
					}
				}
			}
			if c != nil {
				c.args += rm[2]
				c.ret = retOf(rm[2])
				delete(open, at)
			}
			continue
		}
		cm := callRe.FindStringSubmatch(rest)
		if cm == nil {
			continue
		}
		c := &sysCall{pid: pid, t: ts, name: cm[1], args: cm[2]}
		if strings.HasSuffix(rest, "<unfinished ...>") {
			open[pid] = c
		} else {
			c.ret = retOf(cm[2])
		}
		t.calls = append(t.calls, c)
	}
	return t, nil
}

func retOf(s string) string {
	i := strings.LastIndex(s, ") = ")
	if i < 0 {
		if j := strings.LastIndex(s, " = "); j >= 0 {
			return strings.TrimSpace(s[j+3:])
		}
		return ""
	}
	return strings.TrimSpace(s[i+4:])
}

func ok(c *sysCall) bool { return c.ret != "" && !strings.HasPrefix(c.ret, "-1") && c.ret != "?" }

func firstQuoted(s string) string {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 {
		return s[i+1:]
	}
	return s[i+1 : i+1+j]
}

func isThread(c *sysCall) bool { return strings.Contains(c.args, "CLONE_THREAD") }

func isFork(c *sysCall) bool {
	switch c.name {
	case "clone", "clone3":
		return !isThread(c)
	case "vfork", "fork":
		return true
	}
	return false
}

var newNSRe = regexp.MustCompile(`CLONE_NEW\w+`)

type traceSummary struct {
	syscalls, procs, threads, opens, openFails, mounts, reads int
	readBytes                                                 int64
	execs                                                     []string
	files                                                     []string
}

var (
	pidPathRe = regexp.MustCompile(`/proc/\d+/`)
	fdPathRe  = regexp.MustCompile(`/fd/\d+`)
	tmpNameRe = regexp.MustCompile(`(\.tmp|\.)[0-9]{4,}|-[0-9]{5,}`)
)

func (t *trace) summary() traceSummary {
	var s traceSummary
	files := map[string]int{}
	fails, succeeded := map[string]bool{}, map[string]bool{}
	for _, c := range t.calls {
		s.syscalls++
		switch {
		case isFork(c):
			s.procs++
		case isThread(c):
			s.threads++
		}
		switch c.name {
		case "execve", "execveat":
			if ok(c) {
				s.execs = append(s.execs, execLabel(c))
			}
		case "open", "openat", "openat2", "open_tree":
			s.opens++
			p := firstQuoted(c.args)
			p = pidPathRe.ReplaceAllString(p, "/proc/N/")
			p = fdPathRe.ReplaceAllString(p, "/fd/N")
			p = tmpNameRe.ReplaceAllString(p, "<n>")
			files[p]++
			if !ok(c) {
				s.openFails++
				fails[p] = true
			} else {
				succeeded[p] = true
			}
		case "mount":
			s.mounts++
		case "read", "pread64", "readv":
			s.reads++
			if n, err := strconv.ParseInt(c.ret, 10, 64); err == nil && n > 0 {
				s.readBytes += n
			}
		}
	}
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range files {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].k < l[j].k
	})
	for _, x := range l {
		e := fmt.Sprintf("%s ×%d", x.k, x.n)
		if fails[x.k] && !succeeded[x.k] {
			e += " (failed)"
		}
		s.files = append(s.files, e)
	}
	return s
}

func execLabel(c *sysCall) string {
	path := firstQuoted(c.args)
	rest := c.args[strings.Index(c.args, path)+len(path):]
	argv := ""
	if i := strings.Index(rest, "["); i >= 0 {
		if j := strings.Index(rest[i:], "]"); j >= 0 {
			argv = rest[i+1 : i+j]
		}
	}
	words := strings.Split(argv, ", ")
	if len(words) > 2 {
		words = append(words[:2], "…")
	}
	return fmt.Sprintf("`%s` %s", path, strings.Join(words, " "))
}

// gaps lists the longest stretches in which no process of the trace made
// a syscall: user-space work (Go runtime start, JSON, …) or all waiting.
func (t *trace) gaps(n int) []string {
	type gap struct {
		d            float64
		before, next *sysCall
	}
	var g []gap
	for i := 1; i < len(t.calls); i++ {
		g = append(g, gap{t.calls[i].t - t.calls[i-1].t, t.calls[i-1], t.calls[i]})
	}
	sort.Slice(g, func(i, j int) bool { return g[i].d > g[j].d })
	short := func(c *sysCall) string {
		a := c.args
		if len(a) > 70 {
			a = a[:70] + "…"
		}
		return fmt.Sprintf("%s(%s) [pid %d]", c.name, strings.ReplaceAll(a, "|", "\\|"), c.pid)
	}
	var out []string
	for i := 0; i < len(g) && i < n; i++ {
		out = append(out, fmt.Sprintf("| %.2f | %.2f | `%s` | `%s` |", (g[i].before.t-t.t0)*1000, g[i].d*1000,
			strings.ReplaceAll(short(g[i].before), "`", "'"), strings.ReplaceAll(short(g[i].next), "`", "'")))
	}
	return out
}

// phases splits a filtered trace of `run` at landmarks every runtime has.
type phase struct {
	name string
	ms   float64
}

func (t *trace) phases() ([]phase, string) {
	ms := func(a, b float64) float64 { return (b - a) * 1000 }
	var tNS, tMount, tPivot, tExec, tExit float64
	execPid := 0
	for _, c := range t.calls {
		switch {
		case tNS == 0 && (c.name == "unshare" || isFork(c)) && newNSRe.MatchString(c.args):
			tNS = c.t
		case tNS != 0 && tMount == 0 && c.name == "mount":
			tMount = c.t
		case c.name == "pivot_root" && tPivot == 0:
			tPivot = c.t
		case tPivot != 0 && tExec == 0 && c.name == "execve" && ok(c) && !strings.HasPrefix(firstQuoted(c.args), "/proc/self/"):
			tExec, execPid = c.t, c.pid
		case tExec != 0 && tExit == 0 && c.name == "exit_group" && c.pid == execPid:
			tExit = c.t
		}
	}
	if tNS == 0 || tMount == 0 || tPivot == 0 || tExec == 0 || tExit == 0 {
		return nil, "landmarks not all found"
	}
	return []phase{
		{"start → first namespace made (CLI, config, fork/exec of the init)", ms(t.t0, tNS)},
		{"→ first mount in the container (init start-up: exec, Go runtime, config)", ms(tNS, tMount)},
		{"→ pivot_root (rootfs mounts)", ms(tMount, tPivot)},
		{"→ exec of the container's `true` (masks, ro paths, caps; re-execs, waits)", ms(tPivot, tExec)},
		{"→ `true` exits", ms(tExec, tExit)},
		{"→ runtime exits (reap, delete: state, cgroups)", ms(tExit, t.tEnd)},
		{"total under strace", ms(t.t0, t.tEnd)},
	}, ""
}

// events lists the landmarks of a filtered trace, runs of mounts by one
// process folded into one line, thread starts counted.
func (t *trace) events(max int) []string {
	var out []string
	ms := func(x float64) float64 { return (x - t.t0) * 1000 }
	mounts, mountPid := 0, 0
	var mountFirst, mountLast float64
	fold := func() {
		if mounts > 0 {
			out = append(out, fmt.Sprintf("| %.2f | %d | %d × mount (until %.2f) |", ms(mountFirst), mountPid, mounts, ms(mountLast)))
			mounts = 0
		}
	}
	threads := map[int]int{}
	for _, c := range t.calls {
		if isThread(c) {
			threads[c.pid]++
			continue
		}
		if c.name == "mount" {
			if mounts > 0 && c.pid != mountPid {
				fold()
			}
			if mounts == 0 {
				mountFirst, mountPid = c.t, c.pid
			}
			mounts++
			mountLast = c.t
			continue
		}
		var ev string
		nsf := strings.Join(newNSRe.FindAllString(c.args, -1), "|")
		switch {
		case c.name == "execve":
			ev = "execve " + execLabel(c)
			if !ok(c) {
				ev += " → " + c.ret
			}
		case isFork(c):
			ev = fmt.Sprintf("%s %s → child %s", c.name, nsf, c.ret)
		case c.name == "unshare":
			ev = "unshare " + nsf
		case c.name == "setns":
			ev = "setns " + c.args
			if len(ev) > 60 {
				ev = ev[:60] + "…"
			}
		case c.name == "pivot_root":
			ev = "pivot_root"
		case c.name == "exit_group":
			ev = "exit_group(" + strings.SplitN(c.args, ")", 2)[0] + ")"
		default:
			continue
		}
		fold()
		out = append(out, fmt.Sprintf("| %.2f | %d | %s |", ms(c.t), c.pid, strings.ReplaceAll(ev, "|", "\\|")))
	}
	fold()
	var tl []string
	for pid, n := range threads {
		tl = append(tl, fmt.Sprintf("pid %d: %d", pid, n))
	}
	sort.Strings(tl)
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("| | | … %d more |", len(out)-max))
	}
	if len(tl) > 0 {
		out = append(out, "| | | threads started (clone with CLONE_THREAD): "+strings.Join(tl, ", ")+" |")
	}
	return out
}

// ---- profile.md -------------------------------------------------------

func (p *profile) markdown(b *bench) string {
	var s strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	w("# Where the time of one `run` goes: hull vs runc vs crun\n\n")
	w("Made by `make bench` together with results.md (same machine: %s). The bundle is the one of results.md (process `true`). Under strace every syscall costs extra, so the absolute times below are inflated; compare shapes and counts.\n\n", b.machineLine())

	w("## Analysis\n\n")
	for _, l := range p.analysis(b) {
		w("- %s\n", l)
	}

	w("\n## Startup floor (no container): median of 40, interleaved\n\n")
	w("| command | median | p10 / p90 |\n|---|--:|--:|\n")
	for _, k := range []string{"/bin/true", "hull --version", "runc --version", "crun --version", "hull list (empty root)", "runc list (empty root)", "crun list (empty root)"} {
		v := p.floor.vals[k]
		if len(v) == 0 {
			w("| `%s` | failed | |\n", p.floorCmds[k])
			continue
		}
		w("| `%s` | %.2f ms | %.2f / %.2f |\n", p.floorCmds[k], quantile(v, .5), quantile(v, .1), quantile(v, .9))
	}
	w("\nGo package initialisation in hull (`GODEBUG=inittrace=1 hull --version`): %s.\n", p.inittrace)
	w("\n| binary | size | shared libraries |\n|---|--:|---|\n%s\n", strings.Join(p.sizes, "\n"))

	w("\n## Process and syscall counts of one `run` (`strace -f`, all syscalls)\n\n")
	w("| | hull | runc | crun |\n|---|--:|--:|--:|\n")
	sums := map[string]traceSummary{}
	for _, r := range b.profRts() {
		if t := p.traces[r.key]; t != nil {
			sums[r.key] = t.summary()
		}
	}
	line := func(name string, f func(traceSummary) string) {
		w("| %s |", name)
		for _, k := range []string{"hull", "runc", "crun"} {
			if s, ok := sums[k]; ok {
				w(" %s |", f(s))
			} else {
				w(" — |")
			}
		}
		w("\n")
	}
	line("syscalls", func(s traceSummary) string { return fmt.Sprint(s.syscalls) })
	line("successful execve", func(s traceSummary) string { return fmt.Sprint(len(s.execs)) })
	line("processes forked (clone/clone3/vfork without CLONE_THREAD)", func(s traceSummary) string { return fmt.Sprint(s.procs) })
	line("threads started (CLONE_THREAD)", func(s traceSummary) string { return fmt.Sprint(s.threads) })
	line("open/openat/openat2/open_tree (failed)", func(s traceSummary) string { return fmt.Sprintf("%d (%d)", s.opens, s.openFails) })
	line("distinct paths opened", func(s traceSummary) string { return fmt.Sprint(len(s.files)) })
	line("mount", func(s traceSummary) string { return fmt.Sprint(s.mounts) })
	line("read/pread64/readv calls, bytes", func(s traceSummary) string { return fmt.Sprintf("%d, %d KB", s.reads, s.readBytes/1024) })
	for _, k := range []string{"hull", "runc", "crun"} {
		if s, ok := sums[k]; ok {
			w("\n**%s** execs: %s\n", k, strings.Join(s.execs, "; "))
		}
	}
	for _, k := range []string{"hull", "crun"} {
		if t := p.traces[k]; t != nil {
			w("\n**%s**: the longest stretches without any syscall in the whole process tree (user-space work, or everything waiting):\n\n| at ms | gap ms | after | before |\n|--:|--:|---|---|\n%s\n", k, strings.Join(t.gaps(8), "\n"))
		}
	}
	w("\nPaths opened, most often first (pids, fds and temp names folded to N / <n>, the container id to <id>):\n\n")
	for _, k := range []string{"hull", "runc", "crun"} {
		if s, ok := sums[k]; ok {
			f := s.files
			more := ""
			if len(f) > 30 {
				more = fmt.Sprintf(", … %d more", len(f)-30)
				f = f[:30]
			}
			w("- **%s**: %s%s\n", k, strings.Join(f, ", "), more)
		}
	}

	w("\n## Phases of one `run` (`strace -f --seccomp-bpf -ttt`, landmark syscalls only)\n\n")
	w("| phase (ms) | hull | runc | crun |\n|---|--:|--:|--:|\n")
	ph := map[string][]phase{}
	var names []string
	for _, r := range b.profRts() {
		if t := p.timeline[r.key]; t != nil {
			if x, why := t.phases(); x != nil {
				ph[r.key] = x
				if names == nil {
					for _, y := range x {
						names = append(names, y.name)
					}
				}
			} else {
				p.errors = append(p.errors, r.key+" timeline: "+why)
			}
		}
	}
	for i, n := range names {
		w("| %s |", n)
		for _, k := range []string{"hull", "runc", "crun"} {
			if x, ok := ph[k]; ok {
				w(" %.2f |", x[i].ms)
			} else {
				w(" — |")
			}
		}
		w("\n")
	}
	for _, r := range b.profRts() {
		t := p.timeline[r.key]
		if t == nil {
			continue
		}
		w("\n<details><summary>%s timeline</summary>\n\n`%s`\n\n| ms | pid | event |\n|--:|--:|---|\n%s\n\n</details>\n", r.key, p.tlCmd[r.key], strings.Join(t.events(60), "\n"))
	}

	w("\n## `strace -c -f -S calls` of one `run` (top 15 by calls)\n")
	for _, r := range b.profRts() {
		if t, ok := p.stracec[r.key]; ok {
			w("\n**%s**: `%s`\n\n```\n%s\n```\n", r.key, p.straceCmd[r.key], t)
		}
	}

	w("\n## `perf stat -e task-clock -r 20` of `run` (CPU time of the runtime and everything it started)\n\n")
	for _, r := range b.rts {
		if v, ok := p.perf[r.key]; ok {
			w("- **%s**: %s  \n  `%s`\n", labels[r.key], v, p.perfCmd[r.key])
		}
	}
	w("\n## hyperfine cross-check of scenario 1 (not interleaved)\n\n")
	for _, r := range b.rts {
		if v, ok := p.hf[r.key]; ok {
			w("- **%s**: %s  \n  `%s`\n", labels[r.key], v, p.hfCmd[r.key])
		}
	}
	if len(p.errors) > 0 {
		w("\n## Problems while profiling\n\n")
		for _, e := range p.errors {
			w("- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
	}
	return s.String()
}

// analysis states, with this run's numbers, where hull's time and memory go.
func (p *profile) analysis(b *bench) []string {
	var out []string
	get := func(name, key string) (float64, bool) {
		for _, rw := range b.rows {
			if strings.HasPrefix(rw.name, name) {
				return rw.value(key)
			}
		}
		return 0, false
	}
	fl := func(k string) float64 { return quantile(p.floor.vals[k], .5) }
	hr, ok1 := get("1. `run` of `true`, per run", "hull")
	cr, ok2 := get("1. `run` of `true`, per run", "crun-nocg")
	rr, ok3 := get("1. `run` of `true`, per run", "runc")
	if ok1 && ok2 && ok3 {
		out = append(out, fmt.Sprintf("`run` of `true`: hull %.2f ms, runc %.2f ms, crun without cgroups %.2f ms (medians of scenario 1).", hr, rr, cr))
	}
	gs := fl("hull --version")
	ts := fl("/bin/true")
	cs := fl("crun --version")
	selfExecs, failedSelf := 0, []string{}
	if t, found := p.traces["hull"]; found {
		for _, c := range t.calls {
			if c.name != "execve" || !strings.Contains(c.args, `"init"`) {
				continue
			}
			if ok(c) {
				selfExecs++
			} else {
				failedSelf = append(failedSelf, fmt.Sprintf("`execve(\"%s\", [\"hull\", \"init\"])` → %s", firstQuoted(c.args), c.ret))
			}
		}
	}
	if ok1 && gs > 0 {
		n := 1 + selfExecs
		out = append(out, fmt.Sprintf("Process start-up: `/bin/true` %.2f ms, `crun --version` %.2f ms (10 shared libraries to load), `hull --version` %.2f ms (Go runtime, package init, CLI; %s). hull's `run` starts hull's Go binary %d times (its execs are listed below), so about %.1f ms, %.0f%% of hull's `run`, is start-up before any container work; crun is one C process that forks its init without an exec, runc also pays two Go starts (`runc`, `runc init`).",
			ts, cs, gs, p.inittrace, n, float64(n)*gs, 100*float64(n)*gs/hr))
	}
	if len(failedSelf) > 0 {
		out = append(out, "hull's init tried to re-execute itself inside the container and failed: "+strings.Join(failedSelf, "; ")+". That is the wait-in-C idle init; without an ELF interpreter and hull's libraries in the container's rootfs it cannot work (hull is built static for this reason), and the init falls back to waiting as a Go process.")
	}
	if s, ok := p.traces["hull"]; ok {
		hs := s.summary()
		line := fmt.Sprintf("hull's `run`: %d syscalls, %d execs, %d processes forked, %d threads started, %d opens, %d mounts", hs.syscalls, len(hs.execs), hs.procs, hs.threads, hs.opens, hs.mounts)
		if c, ok := p.traces["crun"]; ok {
			cs := c.summary()
			line += fmt.Sprintf("; crun's: %d syscalls, %d execs, %d processes, %d threads, %d opens, %d mounts", cs.syscalls, len(cs.execs), cs.procs, cs.threads, cs.opens, cs.mounts)
		}
		out = append(out, line+". Go's threads (one M per blocked syscall, the GC workers, sysmon) are started again in the init: see the thread rows.")
	}
	if t, ok := p.timeline["hull"]; ok {
		if x, _ := t.phases(); x != nil {
			big := x[0]
			for _, y := range x[:len(x)-1] {
				if y.ms > big.ms {
					big = y
				}
			}
			out = append(out, fmt.Sprintf("Under strace the largest phase of hull's `run` is \"%s\" (%.2f of %.2f ms).", big.name, big.ms, x[len(x)-1].ms))
		}
	}
	if v, ok := get("5. idle init (created, not started): RSS", "hull"); ok {
		c, _ := get("5. idle init (created, not started): RSS", "crun")
		r, _ := get("5. idle init (created, not started): RSS", "runc")
		th, _ := get("5. idle init: threads", "hull")
		out = append(out, fmt.Sprintf("Memory: a created, not started hull container's init has %.1f MB RSS and %.0f thread(s) (runc's `runc init` %.1f MB, crun's %.1f MB and one thread). It lasts until `start` (the exec replaces it), so it is the cost per created-not-started container; the long-lived per-container cost is the shim's (results.md).", v, th, r, c))
	}
	return out
}
