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
	st := procStatus(pid)
	pss := smapsRollup(pid)["Pss"]
	return fmt.Sprintf("RSS %.2f MB, PSS %.2f MB, %d threads", float64(st["VmRSS"])/1024, float64(pss)/1024, st["Threads"])
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

// idleConmon starts a `sleep 1000` container the way podman drives conmon
// (conmon runs `runc create`, the caller runs `runc start`) and measures the
// conmon that watches it.
func (b *bench) idleConmon() string {
	r := b.rts[1] // runc, which conmon usually drives
	id := "conmon-idle"
	dir, err := b.bundle(id, "sleep", "1000")
	if err != nil {
		return "not measured: " + err.Error()
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
		return fmt.Sprintf("not measured: `%s` failed: %v", cmdline, x.err)
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
		return fmt.Sprintf("not measured: after `%s` no container pid file appeared", cmdline)
	}
	gone := watch(pid) // daemonized conmon is reparented to us
	out := ""
	if y := b.do(r, dir, "start", id); y.err != nil {
		out = fmt.Sprintf("`runc start` after conmon failed: %v; ", y.err)
	}
	time.Sleep(500 * time.Millisecond)
	out += fmt.Sprintf("idle, watching a running `sleep 1000` (runc 1.1.5 underneath): %s; started with `%s` then `runc --root … start %s`", shimFigures(pid), cmdline, id)
	if y := b.do(r, dir, "delete", "--force", id); y.err != nil {
		out += "; delete failed: " + y.err.Error()
	}
	b.waitGone("conmon", pid, gone, 15*time.Second)
	return out
}
