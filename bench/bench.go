package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hullconfig "github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rt is one runtime under test, with the global flags it always gets.
type rt struct {
	key     string // column name
	bin     string
	global  []string
	inNS    bool // run in the private mount namespace (crun)
	root    string
	version string
	// cgroups: the runtime puts its containers into cgroups of their own
	// (probed at the start: in cgroupsMade hierarchies).
	cgroups     bool
	cgroupsMade int
}

func (r *rt) argv(args ...string) []string {
	return append(append([]string{filepath.Base(r.bin)}, r.global...), args...)
}

type bench struct {
	cfg      config
	pid      int
	tmp      string // bundles and rootfs
	shm      string // state roots
	rootfs   string
	cgParent string // relative cgroup parent of every container
	rts      []*rt
	ns       *nsHelper
	devnull  *os.File

	stop     atomic.Bool
	mu       sync.Mutex
	problems []string
	rows     []*row
	notes    []string
	shims    []string
	memInfo  map[string]string // per runtime: what its init's exe is

	loadBefore, loadAfter string
	elapsed               time.Duration
	machine               [][2]string
	cleaned               []string
}

func newBench(cfg config) (*bench, error) {
	b := &bench{cfg: cfg, pid: os.Getpid(), memInfo: map[string]string{}}
	b.tmp = fmt.Sprintf("/tmp/hullbench-%d", b.pid)
	b.shm = fmt.Sprintf("/dev/shm/hullbench-%d", b.pid)
	b.cgParent = fmt.Sprintf("hullbench-%d", b.pid)
	b.rootfs = filepath.Join(b.tmp, "rootfs")
	var err error
	if b.devnull, err = os.OpenFile("/dev/null", os.O_RDWR, 0); err != nil {
		return nil, err
	}
	// Container inits outlive the create that made them: as the child
	// subreaper we get them and reap each through watch.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become child subreaper: %w", err)
	}
	for _, bin := range []string{cfg.hull, cfg.runc, cfg.crun} {
		if _, err := os.Stat(bin); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{b.tmp, b.shm} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := b.makeRootfs(); err != nil {
		return b, fmt.Errorf("rootfs: %w", err)
	}
	mk := func(key, bin string, ns bool, extra ...string) *rt {
		root := filepath.Join(b.shm, key)
		return &rt{key: key, bin: bin, inNS: ns, root: root,
			global: append(append([]string{}, extra...), "--root", root)}
	}
	b.rts = []*rt{
		mk("hull", cfg.hull, false),
		mk("runc", cfg.runc, false),
		mk("crun", cfg.crun, true),
		mk("crun-nocg", cfg.crun, true, "--cgroup-manager=disabled"),
	}
	for _, r := range b.rts {
		out, _ := exec.Command(r.bin, "--version").Output()
		r.version = strings.TrimSpace(string(out))
	}
	b.ns, err = startNSHelper()
	if err != nil {
		return b, fmt.Errorf("private mount namespace for crun: %w", err)
	}
	b.machine = machineInfo(b)
	for _, r := range b.rts {
		if err := b.probeCgroups(r); err != nil {
			return b, err
		}
	}
	return b, nil
}

// probeCgroups finds out whether a runtime puts its containers into
// cgroups of their own (hull is gaining that): one container, created,
// looked at, deleted.
func (b *bench) probeCgroups(r *rt) error {
	id := r.key + "-probe"
	dir, err := b.bundle(id, "sleep", "1000")
	if err != nil {
		return err
	}
	c, x := b.createIn(r, b.hop(r), id, dir)
	if x.err != nil {
		b.forceDelete(c)
		return fmt.Errorf("%s cannot create a container: %w", r.key, x.err)
	}
	r.cgroupsMade, _ = b.containerCgroups(c.pid)
	r.cgroups = r.cgroupsMade > 0
	b.forceDelete(c)
	return nil
}

// makeRootfs makes a busybox-static rootfs as the project's demo does.
func (b *bench) makeRootfs() error {
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(b.rootfs, d), 0o755); err != nil {
			return err
		}
	}
	bb := "/bin/busybox"
	if out, err := exec.Command("cp", bb, filepath.Join(b.rootfs, "bin/busybox")).CombinedOutput(); err != nil {
		return fmt.Errorf("cp %s: %v: %s (is busybox-static installed?)", bb, err, out)
	}
	if out, err := exec.Command("chroot", b.rootfs, "/bin/busybox", "--install", "-s", "/bin").CombinedOutput(); err != nil {
		return fmt.Errorf("busybox --install: %v: %s", err, out)
	}
	os.WriteFile(filepath.Join(b.rootfs, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(b.rootfs, "etc/group"), []byte("root:x:0:\n"), 0o644)
	return nil
}

// benchSpec is the one config all runtimes get: runc's default spec (as
// `hull spec` writes it) with pid, ipc, uts, mount and network namespaces,
// no terminal, no /sys/fs/cgroup mount (it is built differently on a hybrid
// host by each runtime), ociVersion 1.0.2 (crun 1.8.1 wants a 1.0 spec; hull
// and runc accept it), a shared read-only rootfs and a relative cgroupsPath.
func (b *bench) benchSpec(id string, args []string) *specs.Spec {
	s := hullconfig.Default()
	s.Version = "1.0.2"
	s.Root = &specs.Root{Path: b.rootfs, Readonly: true}
	s.Process.Terminal = false
	s.Process.Args = args
	s.Hostname = "bench"
	var mounts []specs.Mount
	for _, m := range s.Mounts {
		if m.Destination != "/sys/fs/cgroup" {
			mounts = append(mounts, m)
		}
	}
	s.Mounts = mounts
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.CgroupNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = ns
	s.Linux.CgroupsPath = b.cgParent + "/" + id
	return s
}

// bundle writes a bundle for container id (config.json only; the rootfs
// is shared, by absolute path).
func (b *bench) bundle(id string, args ...string) (string, error) {
	dir := filepath.Join(b.tmp, "bundles", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(b.benchSpec(id, args), "", "\t")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
}

// res is one timed process.
type res struct {
	d      time.Duration
	ru     *syscall.Rusage
	err    error
	out    string // stdout, when asked for
	stderr string // stderr, when stdout was asked for
}

// proc is what to start.
type proc struct {
	path    string
	argv    []string
	dir     string
	inNS    bool
	env     []string
	capture bool // keep stdout (else /dev/null)
	timeout time.Duration
}

var baseEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C"}

func (r *rt) proc(dir string, args ...string) proc {
	return proc{path: r.bin, argv: r.argv(args...), dir: dir, inNS: r.inNS}
}

// do runs a runtime command and times it from fork to reap.
func (b *bench) do(r *rt, dir string, args ...string) res {
	return b.spawn(r.proc(dir, args...))
}

func (b *bench) spawn(p proc) res {
	var out res
	f := func() { out = b.spawnHere(p) }
	if p.inNS {
		if err := b.ns.on(f); err != nil {
			return res{err: err}
		}
	} else {
		f()
	}
	return out
}

func (b *bench) spawnHere(p proc) res {
	errf, err := os.CreateTemp(b.shm, "stderr-")
	if err != nil {
		return res{err: err}
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	var outf *os.File
	stdout := b.devnull
	if p.capture {
		if outf, err = os.CreateTemp(b.shm, "stdout-"); err != nil {
			return res{err: err}
		}
		defer os.Remove(outf.Name())
		defer outf.Close()
		stdout = outf
	}
	env := p.env
	if env == nil {
		env = baseEnv
	}
	// Files, never pipes, for stdio: a container inherits the runtime's
	// stdio and would hold a pipe open long after the runtime exited.
	cmd := &exec.Cmd{Path: p.path, Args: p.argv, Dir: p.dir, Env: env, Stdin: b.devnull, Stdout: stdout, Stderr: errf}
	timeout := p.timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return res{err: err}
	}
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	werr := cmd.Wait()
	d := time.Since(t0)
	timer.Stop()
	r := res{d: d}
	if cmd.ProcessState != nil {
		r.ru, _ = cmd.ProcessState.SysUsage().(*syscall.Rusage)
	}
	if outf != nil {
		data, _ := os.ReadFile(outf.Name())
		r.out = string(data)
		data, _ = os.ReadFile(errf.Name())
		r.stderr = string(data)
	}
	if werr != nil {
		msg, _ := os.ReadFile(errf.Name())
		if d >= timeout {
			werr = fmt.Errorf("%v (killed after %v)", werr, timeout)
		}
		r.err = fmt.Errorf("`%s`: %v: %s", strings.Join(p.argv, " "), werr, lastLines(string(msg), 3))
	}
	return r
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// watch reaps pid (a container init, our child since its runtime exited)
// and closes the channel when it is gone.
func watch(pid int) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			var ws unix.WaitStatus
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err == nil {
				return
			}
			break // ECHILD: not ours; watch /proc instead
		}
		for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			st, err := procState(pid)
			if err != nil || st == 'Z' || st == 'X' {
				return
			}
		}
	}()
	return ch
}

func procState(pid int) (byte, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 || i+2 >= len(data) {
		return 0, errors.New("bad stat")
	}
	return data[i+2], nil
}

func readPid(file string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// container is one container made by a scenario.
type container struct {
	r      *rt
	id     string
	bundle string
	pid    int
	gone   <-chan struct{}
}

// forceDelete removes a container after a failure, untimed, and waits for
// its init to be gone.
func (b *bench) forceDelete(c *container) {
	if x := b.do(c.r, c.bundle, "delete", "--force", c.id); x.err != nil {
		b.problem("cleanup: %v", x.err)
	}
	if c.gone != nil {
		select {
		case <-c.gone:
		case <-time.After(15 * time.Second):
			b.problem("cleanup: %s container %s: init %d still there 15s after delete --force", c.r.key, c.id, c.pid)
		}
	}
}

func (b *bench) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.mu.Lock()
	b.problems = append(b.problems, msg)
	b.mu.Unlock()
	fmt.Fprintln(os.Stderr, "   PROBLEM:", msg)
}

// rotate gives the runtimes in the order of round i.
func rotate(rts []*rt, i int) []*rt {
	n := len(rts)
	out := make([]*rt, 0, n)
	for k := 0; k < n; k++ {
		out = append(out, rts[(i+k)%n])
	}
	return out
}

// ---- leftovers and cleanup -------------------------------------------

// cgroupMount is one mounted cgroup hierarchy and our own cgroup in it.
type cgroupMount struct {
	dir   string // mountpoint
	own   string // our cgroup's directory in it
	ctrls string // "memory", "name=systemd", "" for cgroup2
	v2    bool
}

func cgroupMounts() []cgroupMount {
	own := map[string]string{} // controller list -> path
	if data, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			p := strings.SplitN(l, ":", 3)
			if len(p) == 3 {
				own[p[1]] = p[2]
			}
		}
	}
	var out []cgroupMount
	for _, m := range mountsOf("cgroup", "cgroup2") {
		if !strings.HasPrefix(m.point, "/sys/fs/cgroup") {
			continue
		}
		cm := cgroupMount{dir: m.point, v2: m.fstype == "cgroup2"}
		path := ""
		if cm.v2 {
			path = own[""]
		} else {
			for ctrls, p := range own {
				if ctrls == "" {
					continue
				}
				all := true
				for _, c := range strings.Split(ctrls, ",") {
					if !hasOpt(m.super, c) {
						all = false
					}
				}
				if all {
					cm.ctrls, path = ctrls, p
				}
			}
			if cm.ctrls == "" {
				continue
			}
		}
		rel, err := filepath.Rel(m.root, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = "."
		}
		cm.own = filepath.Join(m.point, rel)
		out = append(out, cm)
	}
	return out
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

type mountEnt struct{ root, point, fstype, source, super string }

func mountsOf(types ...string) []mountEnt {
	data, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return nil
	}
	var out []mountEnt
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+4 || len(f) < 5 {
			continue
		}
		m := mountEnt{root: unescape(f[3]), point: unescape(f[4]), fstype: f[sep+1], source: f[sep+2], super: f[sep+3]}
		if len(types) == 0 {
			out = append(out, m)
			continue
		}
		for _, t := range types {
			if m.fstype == t {
				out = append(out, m)
			}
		}
	}
	return out
}

func unescape(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// ourCgroupParents lists the existing directories named b.cgParent: under
// our own cgroup in each hierarchy (runc; crun through the namespace's bind
// mounts) and, in case a runtime took the path from the root, at the root.
func (b *bench) ourCgroupParents() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range cgroupMounts() {
		for _, d := range []string{filepath.Join(m.own, b.cgParent), filepath.Join(m.dir, b.cgParent)} {
			if seen[d] {
				continue
			}
			seen[d] = true
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				out = append(out, d)
			}
		}
	}
	sort.Strings(out)
	return out
}

// leftoverCgroups lists container cgroups still under our parents.
func (b *bench) leftoverCgroups() []string {
	var out []string
	for _, p := range b.ourCgroupParents() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			if e.IsDir() {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	return out
}

// checkNoLeftovers is run after each scenario: every container must be
// deleted and every container cgroup removed by the runtime that made it.
func (b *bench) checkNoLeftovers(step string) {
	for _, r := range b.rts {
		ids := b.listIDs(r)
		for _, id := range ids {
			b.problem("after %s: %s still lists container %s; deleting it", step, r.key, id)
			b.do(r, "/", "delete", "--force", id)
		}
	}
	// A cgroup may take a moment to be removable after its last process.
	deadline := time.Now().Add(2 * time.Second)
	for {
		left := b.leftoverCgroups()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, d := range left {
				b.problem("after %s: cgroup %s was left behind by its runtime; removing it", step, d)
				b.removeCgroup(d)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listIDs lists the containers a runtime knows in its --root.
func (b *bench) listIDs(r *rt) []string {
	if _, err := os.Stat(r.root); err != nil {
		return nil
	}
	p := r.proc("/", "list", "-q")
	p.capture = true
	x := b.spawn(p)
	if x.err != nil {
		b.problem("%s list: %v", r.key, x.err)
		return nil
	}
	return strings.Fields(x.out)
}

// removeCgroup removes a cgroup directory we made (a container's, under
// hullbench-PID), killing what still runs in it: only our containers can.
func (b *bench) removeCgroup(d string) {
	if !strings.Contains(d, "/"+b.cgParent) {
		return
	}
	for i := 0; i < 50; i++ {
		if err := unix.Rmdir(d); err == nil || errors.Is(err, unix.ENOENT) {
			return
		}
		data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.problem("cannot remove cgroup %s", d)
}

// cleanup removes everything the bench made: containers (each runtime's
// list), cgroups, the namespace helper, state roots, bundles.
func (b *bench) cleanup() {
	if b.rts != nil && b.ns != nil {
		b.checkNoLeftovers("the end")
		for _, r := range b.rts {
			if ids := b.listIDs(r); len(ids) > 0 {
				b.problem("%s still lists %v after cleanup", r.key, ids)
			} else {
				b.cleaned = append(b.cleaned, fmt.Sprintf("`%s list` (--root %s): no containers", r.key, r.root))
			}
		}
	}
	for _, d := range b.leftoverCgroups() {
		b.removeCgroup(d)
	}
	parents := b.ourCgroupParents()
	for _, p := range parents {
		if err := unix.Rmdir(p); err != nil && !errors.Is(err, unix.ENOENT) {
			b.problem("rmdir %s: %v", p, err)
		}
	}
	if left := b.ourCgroupParents(); len(left) > 0 {
		b.problem("cgroups left: %v", left)
	} else {
		b.cleaned = append(b.cleaned, fmt.Sprintf("cgroups: removed the %d empty `%s` parent dirs the runtimes leave (their `delete` removes only the container's own cgroup); none left", len(parents), b.cgParent))
	}
	if b.ns != nil {
		b.ns.close()
	}
	runtime.GC()
	reapStray()
	for _, m := range mountsOf() {
		if strings.HasPrefix(m.point, b.tmp) || strings.HasPrefix(m.point, b.shm) {
			b.problem("mount left on the host: %s (%s)", m.point, m.fstype)
			unix.Unmount(m.point, unix.MNT_DETACH)
		}
	}
	os.RemoveAll(b.shm)
	os.RemoveAll(b.tmp)
	_, e1 := os.Stat(b.shm)
	_, e2 := os.Stat(b.tmp)
	if e1 == nil || e2 == nil {
		b.problem("could not remove %s / %s", b.shm, b.tmp)
	} else {
		b.cleaned = append(b.cleaned, fmt.Sprintf("removed %s and %s; no mounts under them; private mount namespace gone with its holder process", b.tmp, b.shm))
	}
}
