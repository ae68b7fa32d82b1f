package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// nsHelper holds the private mount namespace crun runs in:
//
//	unshare -m --propagation private sh -c '
//	    mount -t tmpfs none /sys/fs/cgroup/unified     # crun then sees a v1 host
//	    mount --bind /sys/fs/cgroup/memory/<our cgroup> /sys/fs/cgroup/memory
//	    exec cat >/dev/null'                           # lives while we hold its stdin
//
// crun takes a relative cgroupsPath from the root of each hierarchy; runc
// nests it under the caller's own cgroup. The bind mounts (one per
// hierarchy where our cgroup is not the root: here only memory, in
// process_api/<hash>) make crun's cgroups land in the same places as
// runc's, inside our own memory cgroup. All of it is in that namespace
// only; it disappears with the holder process.
type nsHelper struct {
	cmd    *exec.Cmd
	stdin  *os.File
	fd     int
	script string
}

func startNSHelper() (*nsHelper, error) {
	var script []string
	script = append(script, "set -e")
	for _, m := range cgroupMounts() {
		if m.v2 && m.dir != "/sys/fs/cgroup" {
			script = append(script, "mount -t tmpfs none "+m.dir)
			continue
		}
		if m.own != m.dir {
			script = append(script, fmt.Sprintf("mount --bind %s %s", m.own, m.dir))
		}
	}
	script = append(script, "echo ready", "exec cat >/dev/null")
	h := &nsHelper{fd: -1, script: strings.Join(script, "; ")}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	h.cmd = exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", h.script)
	h.cmd.Stdin, h.cmd.Stdout, h.cmd.Stderr = inR, outW, os.Stderr
	if err := h.cmd.Start(); err != nil {
		return nil, err
	}
	inR.Close()
	outW.Close()
	h.stdin = inW
	line, _ := bufio.NewReader(outR).ReadString('\n')
	outR.Close()
	if strings.TrimSpace(line) != "ready" {
		h.close()
		return nil, fmt.Errorf("namespace helper (%s) failed", h.script)
	}
	if h.fd, err = unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", h.cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// on runs f on a new OS thread that has joined the namespace; processes
// f starts are forked from that thread and are born in the namespace. The
// thread is never given back to Go's scheduler: it ends with f.
func (h *nsHelper) on(f func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// setns(CLONE_NEWNS) needs a filesystem context of our own.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare(CLONE_FS): %w", err)
			return
		}
		if err := unix.Setns(h.fd, unix.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("setns(mnt): %w", err)
			return
		}
		f()
		errc <- nil
	}()
	return <-errc
}

// nsenterArgv prefixes a command line to run it in the namespace from a
// shell (for the exact commands printed in the reports).
func (h *nsHelper) nsenterArgv() string {
	return fmt.Sprintf("nsenter --mount=/proc/%d/ns/mnt", h.cmd.Process.Pid)
}

func (h *nsHelper) close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
	if h.stdin != nil {
		h.stdin.Close() // cat reads EOF and exits
		h.stdin = nil
	}
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		h.cmd.Process.Kill() // our own helper, by pid
		<-done
	}
}
