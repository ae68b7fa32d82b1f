package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The init's config (the whole spec) is larger than one socket datagram
// (~208 KiB): 10000 env vars of 50 bytes make ~540 KB. runc runs it;
// hull's create used to hang forever.
func TestBootstrapBigConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 10000
	r := e.run(all(withShell("env | grep -c '^BIG'"), func(s *specs.Spec) {
		for i := 0; i < n; i++ {
			s.Process.Env = append(s.Process.Env, fmt.Sprintf("BIG%05d=%s", i, strings.Repeat("x", 41)))
		}
	}))
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != strconv.Itoa(n) {
		t.Fatalf("run with %d env vars: %v, want exit 0 and %d", n, r, n)
	}
}

// hookSleeper is a createContainer hook that blocks the init's setup:
// the container's process has not started while it sleeps. Its argument
// is unique to the test, to find it in /proc.
func hookSleeper(tag string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		if s.Hooks == nil {
			s.Hooks = &specs.Hooks{}
		}
		s.Hooks.CreateContainer = append(s.Hooks.CreateContainer,
			specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 60; : " + tag}})
	}
}

// A TERM, INT or HUP to create, run or exec before the container's process
// has started aborts: what was started is killed, nothing is left (the
// leftover checker: state dir, cgroup, processes), and the command ends as
// runc's does: create dies by the signal, run and exec exit 128+signal.
func TestBootstrapSignalBeforeStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd string
		sig unix.Signal
	}{{"create", unix.SIGTERM}, {"run", unix.SIGTERM}, {"run", unix.SIGINT}, {"exec", unix.SIGHUP}} {
		t.Run(tc.cmd+"-"+unix.SignalName(tc.sig), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tag := fmt.Sprintf("hulltest-abort-%d-%d", os.Getpid(), idCounter.Add(1))
			var cmd *exec.Cmd
			var id string
			switch tc.cmd {
			case "exec":
				// A running container; exec's process blocks in a
				// hook-less way: its argv waits on nothing, so the
				// signal must come while exec is still setting up.
				// An exec that joins a pid namespace is set up by
				// nsenter.c and the Go init: make its config large so
				// that the window is wide.
				cid, _, _ := e.started(withArgs("sleep", "60"))
				id = cid
				proc := filepath.Join(e.base, "process.json")
				env := []string{"PATH=/bin"}
				for i := 0; i < 20000; i++ {
					env = append(env, fmt.Sprintf("E%05d=%s", i, strings.Repeat("y", 200)))
				}
				writeJSON(t, proc, &specs.Process{Args: []string{"sh", "-c", "sleep 60; : " + tag}, Cwd: "/", Env: env})
				cmd, _, _ = e.rtCommand("exec", "--process", proc, cid)
			default:
				bundle := e.newBundle(all(withArgs("true"), hookSleeper(tag)))
				id = e.newID()
				cmd, _, _ = e.rtCommand(tc.cmd, "--bundle", bundle, id)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.cmd == "exec" {
				// Signal once exec's process exists: it is still
				// being set up (it reads a config of 4 MB), or just
				// started.
				deadline := time.Now().Add(10 * time.Second)
				for len(childrenOf(cmd.Process.Pid)) == 0 {
					if time.Now().After(deadline) {
						cmd.Process.Kill()
						cmd.Wait()
						t.Fatalf("exec never started a process")
					}
					time.Sleep(time.Millisecond)
				}
			} else {
				// Wait until the hook runs: the init is half set up.
				deadline := time.Now().Add(10 * time.Second)
				for len(procsWithArg("sleep 60; : "+tag)) == 0 {
					if time.Now().After(deadline) {
						cmd.Process.Kill()
						cmd.Wait()
						t.Fatalf("the createContainer hook never ran")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			cmd.Process.Signal(tc.sig)
			code := waitCmd(t, cmd)
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
			if tc.cmd == "exec" {
				// The signal may have come after the process
				// started (then it got the signal): either way the
				// code is 128+signal and no process is left.
				if code != 128+int(tc.sig) {
					t.Errorf("exec after %v: exit %d, want %d", tc.sig, code, 128+int(tc.sig))
				}
				deadline := time.Now().Add(5 * time.Second)
				for len(procsWithArg("sleep 60; : "+tag)) > 0 && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if p := procsWithArg("sleep 60; : " + tag); len(p) > 0 {
					t.Errorf("exec's process is left after %v: pids %v", tc.sig, p)
				}
				return
			}
			if want := 128 + int(tc.sig); code != want {
				t.Errorf("%s after %v: exit %d, want %d", tc.cmd, tc.sig, code, want)
			}
			if tc.cmd == "create" {
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != tc.sig {
					t.Errorf("create after %v: %v, want death by the signal (as runc's create)", tc.sig, cmd.ProcessState)
				}
			}
			e.assertNotExist(id)
			if p := procsWithArg("sleep 60; : " + tag); len(p) > 0 {
				t.Errorf("the hook of the aborted %s is left: pids %v", tc.cmd, p)
			}
		})
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A container in a new user namespace that joins a network namespace the
// host owns (what a CNI plugin prepares): runc joins the namespaces given
// by path before it makes the user namespace, since from inside the new
// one the kernel refuses setns into a namespace it does not own (EPERM).
func TestBootstrapJoinHostNetnsFromNewUserns(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) (iproute2) to make a named network namespace")
	}
	e := newEnv(t)
	name := fmt.Sprintf("hulltest-%d-%d", os.Getpid(), idCounter.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	path := "/run/netns/" + name
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	bundle := userNSBundle(t, e, all(withShell("readlink /proc/self/ns/net"), withNamespace(specs.NetworkNamespace, path), func(s *specs.Spec) {
		// sysfs can be mounted only by the netns's owner: bind the
		// host's instead, as runc's own test of this does.
		for i, m := range s.Mounts {
			if m.Type == "sysfs" {
				s.Mounts[i] = specs.Mount{Destination: m.Destination, Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
			}
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	id := e.newID()
	out, err := exec.CommandContext(ctx, runtimeBin, "--root", e.root, "run", "--bundle", bundle, id).CombinedOutput()
	want := fmt.Sprintf("net:[%d]", st.Ino)
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("run in a new userns joining %s: %v: %q, want %q", path, err, out, want)
	}
}

// childrenOf lists the pids whose parent is pid.
func childrenOf(pid int) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, de := range ents {
		p, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		if _, _, ppid, err := procStat(p); err == nil && ppid == pid {
			pids = append(pids, p)
		}
	}
	return pids
}

// Where hull cannot execute its binary from a read-only mount (open_tree
// needs CAP_SYS_ADMIN over the mount namespace: not in a user namespace of
// its own), a container could overwrite the binary through
// /proc/<pid>/exe (CVE-2019-5736): create fails, and leaves nothing.
func TestBootstrapUnprotectedBinaryFails(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1) (util-linux)")
	}
	e := newEnv(t)
	bundle := e.newBundle(withArgs("true"))
	id := e.newID()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "unshare", "-U", "-r", runtimeBin, "--root", e.root, "run", "--bundle", bundle, id).CombinedOutput()
	// The error itself, not a warning followed by some later failure.
	// runc's error chain for run: "hull run failed: unable to start
	// container process: <why>".
	if want := "hull run failed: unable to start container process: cannot protect the hull binary with a read-only mount"; err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("run where the binary cannot be protected: %v: %q, want a failure %q", err, out, want)
	}
	e.assertNotExist(id)
}

// A container that joins another's user namespace by path (and makes its
// other namespaces): its root is some host uid known only from that
// namespace's maps, and its init must still open exec.fifo to wait for
// start. It used to die there (EACCES): "container is stopped, not
// created" at start.
func TestBootstrapJoinUsernsByPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	target, _ := e.create(userNSBundle(t, e, sleeper))
	e.mustRT("start", target)
	pid := e.state(target).Pid
	bundle := userNSBundle(t, e, all(withShell("id -u; cat /proc/self/uid_map"), func(s *specs.Spec) {
		withNamespace(specs.UserNamespace, fmt.Sprintf("/proc/%d/ns/user", pid))(s)
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
	}))
	id, _ := e.create(bundle)
	r := e.rt("start", id)
	if r.Code != 0 {
		t.Fatalf("start of the container in a joined userns: %v", r)
	}
	e.waitStatus(id, "stopped")
}
