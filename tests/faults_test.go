package tests

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var (
	faultBinOnce sync.Once
	faultBin     string
	faultBinErr  error
)

// faultRuntime builds hull with the hullfaults tag: HULL_FAULT=<stage>
// stops it (or its init) at that stage.
func faultRuntime(t *testing.T) string {
	if !isHull {
		t.Skip("fault stages are hull's own test hooks")
	}
	faultBinOnce.Do(func() {
		dir, err := os.MkdirTemp(suiteWork, "hull-faults-")
		if err != nil {
			faultBinErr = err
			return
		}
		faultBin = filepath.Join(dir, "hull")
		cmd := exec.Command("go", "build", "-tags", "hullfaults osusergo netgo", "-ldflags", "-extldflags -static", "-o", faultBin, "github.com/hullrt/hull")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			faultBinErr = err
			faultBin = string(out)
		}
	})
	if faultBinErr != nil {
		if _, err := exec.LookPath("go"); err != nil {
			t.Skipf("no go toolchain to build the fault build: %v", err)
		}
		t.Fatalf("build hull with -tags hullfaults: %v: %s", faultBinErr, faultBin)
	}
	return faultBin
}

// TestFaultKilledAtEachStage SIGKILLs hull at each named stage of create,
// start, exec and delete, then checks that state and list still answer and that
// delete --force leaves nothing (the leftover checker): no state dir, no
// cgroup, no mount, no process.
func TestFaultKilledAtEachStage(t *testing.T) {
	bin := faultRuntime(t)
	stages := []struct{ stage, cmd string }{
		{"after-state-dir", "create"},
		{"after-cgroup", "create"},
		{"after-clone", "create"},
		{"during-mounts", "create"},
		{"before-execve", "start"},
		{"start-fifo-open", "start"},
		{"exec-after-clone", "exec"},
		{"exec-before-execve", "exec"},
		{"mid-delete", "delete"},
	}
	for _, s := range stages {
		t.Run(s.stage, func(t *testing.T) {
			e := newEnv(t)
			bundle := e.newBundle(withArgs("sleep", "100"))
			id := e.newID()
			var initErr string
			switch {
			case s.stage == "before-execve":
				// The stage is in the init, made by create: create it
				// with the fault build, its stderr (the init's) in a file.
				initErr = filepath.Join(e.base, id+".init-stderr")
				f, err := os.Create(initErr)
				if err != nil {
					t.Fatal(err)
				}
				c := exec.Command(bin, "--root", e.root, "create", "--bundle", bundle, id)
				c.Env = append(os.Environ(), "HULL_FAULT="+s.stage)
				c.Stderr = f
				err = c.Run()
				f.Close()
				if err != nil {
					t.Fatalf("create with the fault build: %v", err)
				}
			case s.cmd != "create":
				e.mustRT("create", "--bundle", bundle, id)
			}
			if s.cmd == "delete" || s.cmd == "exec" {
				e.mustRT("start", id)
			}
			args := []string{"--root", e.root, s.cmd}
			switch s.cmd {
			case "create":
				args = append(args, "--bundle", bundle)
			case "delete":
				args = append(args, "--force")
			}
			args = append(args, id)
			if s.cmd == "exec" {
				// Left behind by a killed exec, it must die with
				// the container.
				args = append(args, "sleep", "99")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			if initErr == "" {
				cmd.Env = append(os.Environ(), "HULL_FAULT="+s.stage)
			}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			reached := make(chan bool, 1)
			go func() {
				if initErr != "" {
					for i := 0; i < 150; i++ {
						if b, _ := os.ReadFile(initErr); strings.Contains(string(b), "hull-fault: reached "+s.stage) {
							reached <- true
							return
						}
						time.Sleep(100 * time.Millisecond)
					}
					reached <- false
					return
				}
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "hull-fault: reached "+s.stage) {
						reached <- true
						return
					}
				}
				reached <- false
			}()
			select {
			case ok := <-reached:
				if !ok {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("hull %s ended without reaching stage %s", s.cmd, s.stage)
				}
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("stage %s not reached in 15s", s.stage)
			}
			cmd.Process.Kill() // SIGKILL, mid-command
			cmd.Wait()

			for _, c := range [][]string{{"state", id}, {"list"}, {"list", "--format", "json"}} {
				r := e.rt(c...)
				if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine ") {
					t.Errorf("%v after a kill at %s crashed: %v", c, s.stage, r)
				}
			}
			if r := e.rt("delete", "--force", id); r.Code != 0 {
				t.Errorf("delete --force after a kill at %s: %v", s.stage, r)
			}
			e.assertNotExist(id)
		})
	}
}

// On v1 hierarchies the init and exec processes join their cgroups
// themselves, writing to the tasks files before the Go runtime starts
// (nsenter.c). When such a write fails (HULL_FAULT=cgjoin-fails makes
// it), create and exec say which cgroup and why, exit 1, and create
// leaves nothing behind (the leftover checker).
func TestFaultTasksJoinFails(t *testing.T) {
	bin := faultRuntime(t)
	if cgUnifiedHost(t) {
		t.Skip("a cgroup2-only host joins by CLONE_INTO_CGROUP; there are no tasks files")
	}
	e := newEnv(t)
	run := func(args ...string) result {
		cmd := exec.Command(bin, append([]string{"--root", e.root}, args...)...)
		cmd.Env = append(os.Environ(), "HULL_FAULT=cgjoin-fails")
		var stdout, stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, &stdout, &stderr
		err := cmd.Run()
		code := 0
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		return result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
	}
	// runc's exit statuses: 1 for create, 255 for any exec failure.
	check := func(what string, r result) {
		t.Helper()
		want := map[string]int{"create": 1, "exec": 255}[what]
		if r.Code != want || !strings.Contains(r.Stderr, "join cgroup /sys/fs/cgroup/") || !strings.Contains(r.Stderr, "/tasks: permission denied") {
			t.Errorf("%s with a failing tasks write: %v; want exit %d and \"join cgroup /sys/fs/cgroup/…/tasks: permission denied\"", what, r, want)
		}
	}
	bundle := e.newBundle(withArgs("sleep", "100"))
	id := e.newID()
	check("create", run("create", "--bundle", bundle, id))
	e.assertNotExist(id)

	id, pid, _ := e.started(withArgs("sleep", "100"))
	check("exec", run("exec", id, "true"))
	if s := e.state(id); s.Status != "running" || s.Pid != pid {
		t.Errorf("after the failed exec: status %q pid %d, want running %d", s.Status, s.Pid, pid)
	}
	e.mustRT("delete", "--force", id)
}

// An exec'd process runs its program as soon as it has sent ready; hull
// exec may read that ready later (under load it did: a CI run's
// TestExecForwardsSIGTERM got exit 137). A SIGTERM to exec in between
// must reach the running program, as after ready, not kill it as an
// abort before start does. HULL_FAULT=exec-ready-late holds exec for 3 s
// before it reads the ready; the program's TERM trap must run.
func TestFaultExecSignalAfterReady(t *testing.T) {
	bin := faultRuntime(t)
	t.Parallel()
	e := newEnv(t)
	id, _, bundle := e.started(sleeper)
	ready := filepath.Join(bundle, "rootfs/tmp/trap-ready")
	cmd := exec.Command(bin, "--root", e.root, "exec", id, "sh", "-c",
		`trap "echo got-term; exit 3" TERM; touch /tmp/trap-ready; while :; do sleep 0.1; done`)
	cmd.Env = append(os.Environ(), "HULL_FAULT=exec-ready-late")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	// A file, read while exec runs (a buffer would be written by exec's
	// copying goroutine meanwhile).
	stderr, err := os.Create(filepath.Join(e.base, "exec-stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errText := func() string { b, _ := os.ReadFile(stderr.Name()); return string(b) }
	waitFile(t, ready) // the program runs
	if !strings.Contains(errText(), "hull-fault: reached exec-ready-late") {
		// The ready was read already: the window is not the one tested.
		cmd.Process.Kill()
		waitCmd(t, cmd)
		t.Fatalf("the program ran before exec reached its delay: stderr %q", errText())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitCmd(t, cmd)
	if code != 3 || strings.TrimSpace(stdout.String()) != "got-term" {
		t.Errorf("SIGTERM to exec after its process sent ready, before exec read it: exit %d, stdout %q, stderr %q; want exit 3 and got-term", code, stdout.String(), errText())
	}
}

// The other side of that window: a SIGTERM to exec before its process is
// ready aborts the exec: the process never starts (no pid file), exec
// exits 143 and leaves no process. Two places: exec held before it sends
// the config (HULL_FAULT=exec-config-late, 3 s), and the process held
// before its ready (exec-init-before-ready, 30 s) while exec waits for
// it: the signal must end that wait at once, not when the process goes
// on.
func TestFaultExecSignalBeforeReady(t *testing.T) {
	bin := faultRuntime(t)
	t.Parallel()
	for _, stage := range []string{"exec-config-late", "exec-init-before-ready"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			id, _, bundle := e.started(sleeper)
			ran := filepath.Join(bundle, "rootfs/tmp/ran")
			tag := fmt.Sprintf("hulltest-exec-abort-%d-%d", os.Getpid(), idCounter.Add(1))
			script := "touch /tmp/ran; sleep 60; : " + tag
			// exec writes the pid file once the process has started
			// (were it started, the TERM forwarded to it could end it
			// before its touch).
			pidFile := filepath.Join(e.base, "exec.pid")
			cmd := exec.Command(bin, "--root", e.root, "exec", "--pid-file", pidFile, id, "sh", "-c", script)
			cmd.Env = append(os.Environ(), "HULL_FAULT="+stage)
			// The stage's line comes from exec or from its process:
			// a pipe both write to.
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd.Stderr = w
			err = cmd.Start()
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			reached := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(r)
				var lines []string
				for sc.Scan() {
					lines = append(lines, sc.Text())
					if strings.Contains(sc.Text(), "hull-fault: reached "+stage) {
						reached <- ""
						io.Copy(io.Discard, r)
						return
					}
				}
				reached <- strings.Join(lines, "\n")
			}()
			select {
			case out := <-reached:
				if out != "" {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("exec ended without reaching %s: %s", stage, out)
				}
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("exec did not reach %s in 15s", stage)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := waitCmd(t, cmd); code != 128+int(syscall.SIGTERM) {
				t.Errorf("SIGTERM to exec at %s: exit %d, want %d", stage, code, 128+int(syscall.SIGTERM))
			}
			if d := time.Since(sent); stage == "exec-init-before-ready" && d > 10*time.Second {
				t.Errorf("exec ended %v after the signal: it waited for its process (held 30 s) instead of ending the wait", d.Round(time.Second))
			}
			for _, f := range []string{pidFile, ran} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("the process of the aborted exec started (%s exists)", f)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(procsWithArg(script)) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if p := procsWithArg(script); len(p) > 0 {
				t.Errorf("the aborted exec's process is left: pids %v", p)
			}
			// Before its execve the process is "hull init", with
			// HULL_FAULT in its environment (faults.Env).
			for len(procsWithEnv("HULL_FAULT="+stage)) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if p := procsWithEnv("HULL_FAULT=" + stage); len(p) > 0 {
				t.Errorf("the aborted exec's process is left (before its execve): pids %v", p)
			}
		})
	}
}

// A start that fails in the init's last steps (here its cwd is gone)
// returns once the init is gone, so that state right after says
// stopped. HULL_FAULT=start-fail-exit-late makes the init linger 0.5 s
// after it has written why, with its files (the fifo) closed.
func TestFaultStartFailureWaitsForInit(t *testing.T) {
	bin := faultRuntime(t)
	needRoot(t, "the container's cwd is removed from outside")
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) { s.Process.Cwd = "/gone" }))
	dir := filepath.Join(bundle, "rootfs", "gone")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	id, _, out := e.createWithFault(bin, bundle, "start-fail-exit-late")
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	r := execBin(t, bin, "", "--root", e.root, "start", id)
	if want := `chdir to cwd ("/gone")`; r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("start with the cwd gone: want exit 1 and %q, got %v", want, r)
	}
	if st := e.state(id).Status; st != "stopped" {
		t.Errorf("status right after the failed start: %q, want stopped", st)
	}
	// The init's stderr is create's output file.
	if b, _ := os.ReadFile(out.Name()); !strings.Contains(string(b), "hull-fault: reached start-fail-exit-late") {
		t.Errorf("the init never lingered (its stderr: %q): the window was not tested", b)
	}
	e.mustRT("delete", id)
}

// A TERM sent to a created init while it execs into the image that waits
// for start (initproc's waitInC) ends it, as it ends runc's (a Go process
// then). The init of a pid namespace drops a signal whose action is
// SIG_DFL, as every action is right after an exec: create returned, the
// caller's TERM was lost and the container stayed created (runc's suite,
// pidfd-socket.bats, in CI). HULL_FAULT=wait-late holds the new image
// 0.5 s before it catches the signals.
func TestFaultTermWhileInitExecs(t *testing.T) {
	bin := faultRuntime(t)
	needRoot(t, "the init is the first process of a pid namespace")
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "100"))
	id, pid, out := e.createWithFault(bin, bundle, "wait-late")
	defer e.rt("delete", "-f", id)
	// The init's stderr is create's output file: the line says the new
	// image is in the window.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(out.Name())
		if strings.Contains(string(b), "hull-fault: reached wait-late") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the init never reached the window (its stderr: %q)", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("kill -TERM %d: %v", pid, err)
	}
	var st string
	for deadline = time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st = e.state(id).Status; st == "stopped" {
			break
		}
	}
	if st != "stopped" {
		t.Fatalf("status 5 s after TERM to the init during its exec: %q, want stopped", st)
	}
}

// createWithFault creates a container of bundle with the fault build bin
// and HULL_FAULT=stage, and returns its id, its init's pid and the file
// that has create's output and the init's stdio: a file, since the
// created init keeps its stdio and a pipe would not end before it does.
func (e *env) createWithFault(bin, bundle, stage string) (id string, pid int, out *os.File) {
	e.t.Helper()
	id = e.newID()
	pidFile := filepath.Join(e.base, id+".pid")
	out, err := os.Create(filepath.Join(e.base, id+"-create-out"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { out.Close() })
	create := exec.Command(bin, "--root", e.root, "create", "--bundle", bundle, "--pid-file", pidFile, id)
	create.Env = append(os.Environ(), "HULL_FAULT="+stage)
	create.Stdout, create.Stderr = out, out
	create.WaitDelay = cmdTimeout
	if err := create.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		e.t.Fatalf("create: %v: %s", err, b)
	}
	return id, e.readPidFile(pidFile), out
}
