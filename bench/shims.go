package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// shimFigures reads what an idle shim holds.
func shimFigures(pid int) string {
	return readShimMem(pid).String()
}

// shimMem is what a shim holds at one moment.
type shimMem struct {
	rss, pss, threads int64 // kB, kB, count
}

func readShimMem(pid int) shimMem {
	st := procStatus(pid)
	return shimMem{rss: exactRSS(pid, st), pss: smapsRollup(pid)["Pss"], threads: st["Threads"]}
}

// exactRSS is smaps_rollup's Rss (kB), which walks the page tables:
// /proc/PID/status's VmRSS comes from counters that, before Linux 6.2,
// each thread updated only every 64 faults (the VM lane's 6.1 guest showed
// 780 kB there for an idle hull-shim whose page tables held 2084 kB).
// VmRSS where smaps_rollup cannot be read.
func exactRSS(pid int, status map[string]int64) int64 {
	if v, ok := smapsRollup(pid)["Rss"]; ok {
		return v
	}
	return status["VmRSS"]
}

func (m shimMem) String() string {
	return fmt.Sprintf("RSS %.2f MB, PSS %.2f MB, %d threads", float64(m.rss)/1024, float64(m.pss)/1024, m.threads)
}

// idleShim is a shim watching a `sleep 1000` container, measured twice:
// 500 ms after the container started, and again after -shim-idle. A Go
// shim can look small at first and grow later (the runtime's periodic GC,
// forced every 2 minutes once one GC ran, runs through code and metadata
// again), so the second figure is the one a long-lived container costs.
type idleShim struct {
	name    string
	pid     int
	started time.Time
	how     string // how it was started
	early   shimMem
	late    shimMem
	stop    func() string // deletes the container, waits for the shim; a problem or ""
}

// measureShims reports the RSS of idle container shims, where one can be
// had simply: hull-shim (built from cmd/hull-shim if need be) and conmon
// (over runc) each watching a running `sleep 1000`, side by side, and
// containerd's shim (measured once, after 500 ms: it is not what issue 18
// compares hull-shim with).
func (b *bench) measureShims() {
	var idle []*idleShim
	repo := b.cfg.repo
	shim := filepath.Join(filepath.Dir(b.cfg.hull), "hull-shim")
	goFiles, _ := filepath.Glob(filepath.Join(repo, "cmd", "hull-shim", "*.go"))
	switch _, err := os.Stat(shim); {
	case err == nil:
	case len(goFiles) > 0:
		shim = filepath.Join(b.tmp, "hull-shim")
		cmd := exec.Command("go", "build", "-o", shim, "./cmd/hull-shim")
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			b.shims = append(b.shims, fmt.Sprintf("hull-shim: cmd/hull-shim does not build: %v: %s", err, lastLines(string(out), 3)))
			shim = ""
		}
	default:
		b.shims = append(b.shims, "hull-shim: not built yet (no bin/hull-shim, no Go files in cmd/hull-shim)")
		shim = ""
	}
	if shim != "" {
		if sh, err := b.startHullShim(shim); err != nil {
			b.shims = append(b.shims, "hull-shim: "+err.Error())
		} else {
			idle = append(idle, sh)
		}
	}
	if _, err := exec.LookPath("conmon"); err != nil {
		b.shims = append(b.shims, "conmon: not measured: not installed (Debian package `conmon`, not a dependency of this bench)")
	} else if sh, err := b.startConmon(); err != nil {
		b.shims = append(b.shims, "conmon: "+err.Error())
	} else {
		idle = append(idle, sh)
	}
	for _, sh := range idle {
		time.Sleep(time.Until(sh.started.Add(500 * time.Millisecond)))
		sh.early = readShimMem(sh.pid)
	}
	if b.cfg.shimIdle > 0 && len(idle) > 0 {
		until := idle[len(idle)-1].started.Add(b.cfg.shimIdle)
		fmt.Printf("   idle shims: measured again at %s (-shim-idle %v)\n", until.Format("15:04:05"), b.cfg.shimIdle)
		for time.Now().Before(until) && !b.stop.Load() {
			time.Sleep(min(time.Second, time.Until(until)))
		}
		for _, sh := range idle {
			sh.late = readShimMem(sh.pid)
		}
	}
	late := b.cfg.shimIdle > 0 && !b.stop.Load()
	for _, sh := range idle {
		line := fmt.Sprintf("%s: idle, watching a running `sleep 1000`: after 500 ms %s", sh.name, sh.early)
		if late {
			line += fmt.Sprintf("; after %v %s", b.cfg.shimIdle, sh.late)
		}
		line += "; " + sh.how
		if p := sh.stop(); p != "" {
			line += "; " + p
		}
		b.shims = append(b.shims, line)
	}
	if len(idle) == 2 && idle[0].early.rss > 0 && idle[1].early.rss > 0 {
		r := fmt.Sprintf("hull-shim/conmon RSS: %.2f× after 500 ms", float64(idle[0].early.rss)/float64(idle[1].early.rss))
		if late && idle[1].late.rss > 0 {
			r += fmt.Sprintf(", %.2f× after %v", float64(idle[0].late.rss)/float64(idle[1].late.rss), b.cfg.shimIdle)
		}
		b.shims = append(b.shims, r+" (issue 18: at most 1)")
	}
	if _, err := exec.LookPath("containerd-shim-runc-v2"); err != nil {
		b.shims = append(b.shims, "containerd-shim-runc-v2: not measured: not installed (Debian package `containerd`, not a dependency of this bench)")
	} else {
		b.shims = append(b.shims, "containerd-shim-runc-v2: "+b.idleContainerdShim())
	}
}

// startHullShim starts a `sleep 1000` container through hull-shim (which
// detaches once the container runs).
func (b *bench) startHullShim(shim string) (*idleShim, error) {
	r := b.rts[0]
	id := "hull-shim-idle"
	dir, err := b.bundle(id, "sleep", "1000")
	if err != nil {
		return nil, err
	}
	shimPid := filepath.Join(dir, "shim.pid")
	argv := []string{shim, "--id", id, "--bundle", dir, "--root", r.root, "--runtime", r.bin,
		"--shim-pid-file", shimPid, "--pid-file", filepath.Join(dir, "pid")}
	cmdline := strings.Join(argv, " ")
	x := b.spawn(proc{path: shim, argv: argv, dir: dir, timeout: 30 * time.Second})
	if x.err != nil {
		b.do(r, dir, "delete", "--force", id)
		return nil, fmt.Errorf("`%s` failed: %v", cmdline, x.err)
	}
	started := time.Now()
	pid, err := readPid(shimPid)
	if err != nil {
		b.do(r, dir, "delete", "--force", id)
		return nil, fmt.Errorf("`%s`: no shim pid: %v", cmdline, err)
	}
	gone := watch(pid) // the detached shim is ours: we are the subreaper
	return &idleShim{name: "hull-shim", pid: pid, started: started,
		how: fmt.Sprintf("started with `%s` (create+start through it took %.1f ms)", cmdline, float64(x.d.Microseconds())/1000),
		stop: func() string {
			p := ""
			if y := b.do(r, dir, "delete", "--force", id); y.err != nil {
				p = "delete failed: " + y.err.Error()
			}
			if !b.waitGone("hull-shim", pid, gone, 10*time.Second) {
				p += "; the shim did not exit within 10s of the delete and was killed"
			}
			return strings.TrimPrefix(p, "; ")
		}}, nil
}

// startConmon starts a `sleep 1000` container the way podman drives conmon
// (conmon runs `runc create`, the caller runs `runc start`).
func (b *bench) startConmon() (*idleShim, error) {
	r := b.rts[1] // runc, which conmon usually drives
	id := "conmon-idle"
	dir, err := b.bundle(id, "sleep", "1000")
	if err != nil {
		return nil, fmt.Errorf("not measured: %w", err)
	}
	for _, d := range []string{"exits", "sock"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	conmonPid := filepath.Join(dir, "conmon.pid")
	path, _ := exec.LookPath("conmon")
	argv := []string{path, "--api-version", "1", "-c", id, "-u", id, "-n", id, "-r", r.bin,
		"--runtime-arg", "--root", "--runtime-arg", r.root, "-b", dir, "-p", filepath.Join(dir, "pid"),
		"-P", conmonPid, "--exit-dir", filepath.Join(dir, "exits"), "--socket-dir-path", filepath.Join(dir, "sock"),
		"-l", "k8s-file:" + filepath.Join(dir, "ctr.log"), "--log-level", "error"}
	cmdline := strings.Join(argv, " ")
	x := b.spawn(proc{path: path, argv: argv, dir: dir, timeout: 30 * time.Second})
	if x.err != nil {
		b.do(r, dir, "delete", "--force", id)
		return nil, fmt.Errorf("not measured: `%s` failed: %v", cmdline, x.err)
	}
	var pid int
	for i := 0; i < 100; i++ {
		if pid, err = readPid(conmonPid); err == nil {
			if _, err = readPid(filepath.Join(dir, "pid")); err == nil {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || pid <= 1 {
		b.do(r, dir, "delete", "--force", id)
		return nil, fmt.Errorf("not measured: after `%s` no container pid file appeared", cmdline)
	}
	gone := watch(pid) // daemonized conmon is reparented to us
	how := ""
	if y := b.do(r, dir, "start", id); y.err != nil {
		how = fmt.Sprintf("`runc start` after conmon failed: %v; ", y.err)
	}
	return &idleShim{name: "conmon", pid: pid, started: time.Now(),
		how: how + fmt.Sprintf("runc 1.1.5 underneath; started with `%s` then `runc --root … start %s`", cmdline, id),
		stop: func() string {
			p := ""
			if y := b.do(r, dir, "delete", "--force", id); y.err != nil {
				p = "delete failed: " + y.err.Error()
			}
			b.waitGone("conmon", pid, gone, 15*time.Second)
			return p
		}}, nil
}

func ppidOf(pid int) int {
	return int(procStatus(pid)["PPid"])
}

// waitGone waits for a watched process; after the timeout it is killed
// (it is one we started) and reported.
func (b *bench) waitGone(what string, pid int, gone <-chan struct{}, d time.Duration) bool {
	select {
	case <-gone:
		return true
	case <-time.After(d):
		unix.Kill(pid, unix.SIGKILL)
		<-gone
		b.problem("%s (pid %d) was still there after %v; killed it", what, pid, d)
		return false
	}
}

// idleContainerdShim runs a private containerd (its own root, state and
// socket under our temp dir, the CRI plugin off), starts a `sleep 1000`
// container with `ctr run -d --rootfs` (no image, no snapshotter) and no
// cgroup, and measures the containerd-shim-runc-v2 that watches it.
func (b *bench) idleContainerdShim() string {
	dir := filepath.Join(b.tmp, "containerd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "not measured: " + err.Error()
	}
	sock := filepath.Join(dir, "c.sock")
	conf := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n[ttrpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	confFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		return "not measured: " + err.Error()
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return "not measured: " + err.Error()
	}
	defer logf.Close()
	daemon := exec.Command("containerd", "--config", confFile)
	daemon.Stdin, daemon.Stdout, daemon.Stderr = b.devnull, logf, logf
	if err := daemon.Start(); err != nil {
		return "not measured: cannot start containerd: " + err.Error()
	}
	dpid := daemon.Process.Pid
	dgone := make(chan struct{})
	go func() { daemon.Wait(); close(dgone) }()
	defer func() {
		unix.Kill(dpid, unix.SIGTERM) // our own containerd, by pid
		b.waitGone("containerd", dpid, dgone, 10*time.Second)
	}()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ns, id := b.cgParent, "shim-idle"
	ctr := func(args ...string) res {
		argv := append([]string{"ctr", "-a", sock, "-n", ns}, args...)
		path, _ := exec.LookPath("ctr")
		return b.spawn(proc{path: path, argv: argv, dir: dir, capture: true, timeout: 30 * time.Second})
	}
	runCmd := fmt.Sprintf("containerd --config %s; ctr -a %s -n %s run -d --rootfs --cgroup \"\" %s %s /bin/sleep 1000", confFile, sock, ns, b.rootfs, id)
	x := ctr("run", "-d", "--rootfs", "--cgroup", "", b.rootfs, id, "/bin/sleep", "1000")
	if x.err != nil {
		return fmt.Sprintf("not measured: `%s` failed: %v", runCmd, x.err)
	}
	out := "not measured: no shim found"
	initPid, err := readPid(filepath.Join(dir, "state", "io.containerd.runtime.v2.task", ns, id, "init.pid"))
	shim := 0
	if err == nil {
		shim = ppidOf(initPid)
	}
	var gone <-chan struct{}
	if shim > 1 {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", shim))
		if strings.Contains(string(cmdline), "containerd-shim-runc-v2") {
			gone = watch(shim) // reparented to us, the subreaper
			time.Sleep(500 * time.Millisecond)
			out = fmt.Sprintf("idle, watching a running `sleep 1000` (runc 1.1.5 underneath): %s; started with `%s` (ctr run took %.1f ms)", shimFigures(shim), runCmd, float64(x.d.Microseconds())/1000)
		}
	}
	ctr("task", "kill", "-s", "KILL", id)
	for i := 0; i < 50; i++ {
		if ctr("task", "delete", id).err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if y := ctr("container", "delete", id); y.err != nil {
		b.problem("containerd: %v", y.err)
	}
	if gone != nil {
		b.waitGone("containerd-shim-runc-v2", shim, gone, 15*time.Second)
	}
	return out
}
