package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runc's implicit process behaviour (runc v1.5.1's tests check each).

func withTerminal(s *specs.Spec) { s.Process.Terminal = true }

// A foreground container with a terminal, its stdout a pipe: it runs, and
// its output has no "\r" added before each "\n" (ONLCR is cleared).
func TestTerminalOutputNoCR(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run(all(withShell("echo one; echo two"), withTerminal))
	if r.Code != 0 || r.Stdout != "one\ntwo\n" {
		t.Errorf("run with a terminal: %v, want exit 0 and stdout \"one\\ntwo\\n\"", r)
	}
}

// The pty slave belongs to the process's uid (its group stays devpts' tty
// group), for run and exec -t.
func TestTerminalOwnedByProcessUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := func(s *specs.Spec) { s.Process.User = specs.User{UID: 1000, GID: 100} }
	r := e.run(all(withShell("stat -c %u $(tty)"), withTerminal, user))
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1000" {
		t.Errorf("run: owner of the tty: %v, want 1000", r)
	}
	id, _, _ := e.started(all(sleeper, user))
	r = e.rt("exec", "-t", id, "sh", "-c", "stat -c %u $(tty)")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1000" {
		t.Errorf("exec -t: owner of the tty: %v, want 1000", r)
	}
}

// exec -t -p process.json honours consoleSize.
func TestExecConsoleSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	p := specs.Process{Terminal: true, ConsoleSize: &specs.Box{Height: 10, Width: 110},
		Args: []string{"stty", "size"}, Cwd: "/", Env: []string{"PATH=/bin:/usr/bin"}}
	b, _ := json.Marshal(p)
	file := filepath.Join(e.base, "process.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.rt("exec", "-t", "-p", file, id)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "10 110" {
		t.Errorf("exec -t -p with consoleSize 10x110: %v, want \"10 110\"", r)
	}
}

// HOME comes from the container's /etc/passwd when process.env has none
// (or an empty one), "/" for a uid without an entry; exec too.
func TestHomeFromPasswd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addUser := func(s *specs.Spec) {}
	bundle := e.newBundle(all(sleeper, addUser))
	f, err := os.OpenFile(filepath.Join(bundle, "rootfs/etc/passwd"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("tempuser:x:2000:2000:tempuser:/home/tempuser:/bin/sh\n")
	f.Close()
	id, _ := e.create(bundle)
	e.mustRT("start", id)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-u", "2000"}, "/home/tempuser"},
		{[]string{"-u", "2001"}, "/"},
		{[]string{"-u", "2000", "--env", "HOME="}, "/home/tempuser"},
		{[]string{"-u", "2000", "--env", "HOME=/override"}, "/override"},
	} {
		args := append(append([]string{"exec"}, tc.args...), id, "sh", "-u", "-c", "echo $HOME")
		r := e.rt(args...)
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != tc.want {
			t.Errorf("exec %v: HOME %v, want %q", tc.args, r, tc.want)
		}
	}
	// run: the process's own user (root: /root in the busybox passwd,
	// or "/" when the rootfs has none).
	want := "/"
	if b, err := os.ReadFile(filepath.Join(bundle, "rootfs/etc/passwd")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Split(l, ":"); len(f) >= 6 && f[2] == "0" {
				want = f[5]
				break
			}
		}
	}
	r := e.run(withShell("echo $HOME"))
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != want {
		t.Errorf("run: HOME %v, want %q", r, want)
	}
}

// lo is up in a new network namespace.
func TestLoopbackUpInNewNetns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := strings.TrimSpace(e.mustRun(nil, "cat", "/sys/class/net/lo/flags"))
	flags, err := strconv.ParseUint(strings.TrimPrefix(out, "0x"), 16, 32)
	if err != nil || flags&1 == 0 {
		t.Errorf("lo flags in a new network namespace: %q, want IFF_UP (0x1) set", out)
	}
}

// Ambient capabilities from the config are raised; one not in inheritable
// gives runc's warning and the container still runs. exec --cap adds to
// ambient when the config has an inheritable set.
func TestAmbientCapabilities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	caps := func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Inheritable = []string{"CAP_KILL"}
		c.Ambient = []string{"CAP_KILL", "CAP_CHOWN"}
		c.Permitted = append(c.Permitted, "CAP_KILL", "CAP_CHOWN")
		c.Effective = append(c.Effective, "CAP_KILL", "CAP_CHOWN")
		c.Bounding = append(c.Bounding, "CAP_KILL", "CAP_CHOWN", "CAP_SYSLOG")
	}
	r := e.run(all(withArgs("grep", "CapAmb", "/proc/self/status"), caps))
	if r.Code != 0 || !strings.Contains(r.Stdout, "0000000000000020") {
		t.Errorf("run: %v, want CapAmb 0000000000000020 (CAP_KILL)", r)
	}
	if !strings.Contains(r.Stderr, "can't raise ambient capability CAP_CHOWN: ") {
		t.Errorf("run: stderr %q, want runc's warning about CAP_CHOWN", r.Stderr)
	}
	id, _, _ := e.started(all(sleeper, caps, func(s *specs.Spec) {
		s.Process.Capabilities.Inheritable = append(s.Process.Capabilities.Inheritable, "CAP_SYSLOG")
	}))
	r = e.rt("exec", "--cap", "CAP_SYSLOG", id, "grep", "CapAmb", "/proc/self/status")
	if r.Code != 0 || !strings.Contains(r.Stdout, "0000000400000020") {
		t.Errorf("exec --cap CAP_SYSLOG: %v, want CapAmb 0000000400000020 (CAP_KILL, CAP_SYSLOG)", r)
	}
}

// A new container's (and exec'd process's) CPU affinity does not inherit
// the runtime's: it is reset to every CPU (the cgroup's cpuset, if any).
func TestAffinityReset(t *testing.T) {
	t.Parallel()
	if runtime.NumCPU() < 2 {
		t.Skip("needs 2 CPUs to narrow the runtime's affinity")
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		t.Skipf("taskset (util-linux) not found: %v", err)
	}
	e := newEnv(t)
	self, _ := os.ReadFile("/proc/self/status")
	want := ""
	for _, l := range strings.Split(string(self), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			want = strings.TrimSpace(v)
		}
	}
	bundle := e.newBundle(withArgs("grep", "Cpus_allowed_list:", "/proc/self/status"))
	r := execBin(t, taskset, "", "-c", "0", runtimeBin, "--root", e.root, "run", "--bundle", bundle, e.newID())
	got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Stdout), "Cpus_allowed_list:"))
	if r.Code != 0 || got != want {
		t.Errorf("taskset -c 0 run: %v, want Cpus_allowed_list %q", r, want)
	}
	id, _, _ := e.started(sleeper)
	r = execBin(t, taskset, "", "-c", "0", runtimeBin, "--root", e.root, "exec", id, "grep", "Cpus_allowed_list:", "/proc/self/status")
	got = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Stdout), "Cpus_allowed_list:"))
	if r.Code != 0 || got != want {
		t.Errorf("taskset -c 0 exec: %v, want Cpus_allowed_list %q", r, want)
	}
}

// An execve that fails after every check (a bad interpreter): runc's
// message alone on stderr, exit status 255, for run and exec.
func TestExecveError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	script := func(bundle string) {
		if err := writeExecutable(filepath.Join(bundle, "rootfs/run.sh"), []byte("#!/mmnnttbb foo bar\nsh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bundle := e.newBundle(withArgs("/run.sh"))
	script(bundle)
	r := e.rt("run", "--bundle", bundle, e.newID())
	if r.Code != 255 || r.Stderr != "exec /run.sh: no such file or directory\n" {
		t.Errorf("run: %v, want exit 255 and stderr \"exec /run.sh: no such file or directory\"", r)
	}
	id, _, b2 := e.started(sleeper)
	script(b2)
	r = e.rt("exec", id, "/run.sh")
	if r.Code != 255 || !strings.Contains(r.Stderr, "exec /run.sh: no such file or directory") {
		t.Errorf("exec: %v, want exit 255 and \"exec /run.sh: no such file or directory\"", r)
	}
}

// Hooks' working directories, runc's: createContainer in the rootfs (a
// relative path lands there), prestart in the bundle. A startContainer
// hook runs under the seccomp filter, with the process's environment.
func TestHookCwdEnvAndSeccomp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) {
		s.Process.Env = []string{"PATH=/bin:/usr/bin", "ONE=two"}
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "pwd > prestart-cwd"}}},
			CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch ./created-by-hook"}}},
			StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo $ONE > /start-env"}}},
		}
	}))
	if r := e.rt("run", "--bundle", bundle, e.newID()); r.Code != 0 {
		t.Fatalf("run with hooks: %v", r)
	}
	if _, err := os.Stat(filepath.Join(bundle, "rootfs/created-by-hook")); err != nil {
		t.Errorf("createContainer hook's ./created-by-hook is not in the rootfs: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(bundle, "prestart-cwd")); err != nil || strings.TrimSpace(string(b)) != bundle {
		t.Errorf("prestart hook's cwd: %q (%v), want the bundle %s", b, err, bundle)
	}
	if b, err := os.ReadFile(filepath.Join(bundle, "rootfs/start-env")); err != nil || strings.TrimSpace(string(b)) != "two" {
		t.Errorf("startContainer hook's $ONE: %q (%v), want the process's \"two\"", b, err)
	}

	r := e.run(all(withArgs("true"), func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_CORE"}}
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKill}}}
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "mkdir /tmp/foo"}}}}
	}))
	if r.Code == 0 || !strings.Contains(r.Stderr, "error running startContainer hook #0") || !strings.Contains(r.Stderr, "bad system call") {
		t.Errorf("startContainer hook calling a killed syscall: %v, want it failing with SIGSYS", r)
	}
}

// runc's refusals, with its messages.
func TestProcessConfigRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		want   string
	}{
		{"kernel.hostname without a UTS namespace", func(s *specs.Spec) {
			withoutNamespace(specs.UTSNamespace)(s)
			s.Hostname = ""
			s.Linux.Sysctl = map[string]string{"kernel.hostname": "x"}
		}, `sysctl "kernel.hostname" is not in a separate kernel namespace`},
		{"kernel.hostname with a UTS namespace", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.hostname": "x"}
		}, `sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field`},
		{"seccomp agent not listening", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: filepath.Join(e.base, "no-agent.sock"),
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
		}, "failed to connect with seccomp agent"},
		{"notify on write", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: filepath.Join(e.base, "no-agent.sock"),
				Syscalls: []specs.LinuxSyscall{{Names: []string{"write"}, Action: specs.ActNotify}}}
		}, "SCMP_ACT_NOTIFY cannot be used for the write syscall"},
		{"memory policy without mode", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Nodes: "0"}
		}, "invalid memory policy mode"},
		{"memory policy default with nodes", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}
		}, "mode requires 0 nodes but got 8"},
	} {
		r := e.run(all(withArgs("true"), tc.mutate))
		if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: %v, want a failure saying %q", tc.name, r, tc.want)
		}
	}
}

// exec --cgroup, runc's way: runc's messages for a path leaving the
// container's cgroup, a missing sub-cgroup and an unknown controller; "/"
// is the container's cgroup; the flag may repeat, one controller each.
func TestExecSubCgroupArgs(t *testing.T) {
	t.Parallel()
	needRoot(t, "exec --cgroup needs the container's cgroups, which a user without delegated cgroups does not get")
	if _, err := os.Stat("/sys/fs/cgroup/pids/cgroup.procs"); err != nil {
		t.Skipf("needs a cgroup v1 pids hierarchy: %v", err)
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/cgroup.procs"); err != nil {
		t.Skipf("needs a cgroup v1 memory hierarchy: %v", err)
	}
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	for _, tc := range []struct {
		args []string
		want []string // substrings of stderr; nil: success
	}{
		{[]string{".."}, []string{"bad sub cgroup path"}},
		{[]string{"nonexistent"}, []string{" adding pid ", "no such file or directory"}},
		{[]string{"pids:nonexistent"}, []string{" adding pid ", "no such file or directory"}},
		{[]string{"whaaat:/"}, []string{"unknown controller "}},
		{[]string{"/"}, nil},
		{[]string{"pids:/", "memory:/"}, nil},
		{[]string{"pids,memory:/"}, nil}, // one flag value, not split on ","
	} {
		args := []string{"exec"}
		for _, a := range tc.args {
			args = append(args, "--cgroup", a)
		}
		r := e.rt(append(args, id, "true")...)
		if tc.want == nil {
			if r.Code != 0 {
				t.Errorf("exec --cgroup %v: %v, want success", tc.args, r)
			}
			continue
		}
		if r.Code == 0 {
			t.Errorf("exec --cgroup %v succeeded, want a failure", tc.args)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("exec --cgroup %v: stderr %q, want it to contain %q", tc.args, r.Stderr, w)
			}
		}
	}
}

// A container joining another's user namespace by /proc/PID/ns/user (no
// mappings of its own): its root is the joined namespace's, so it can
// open its exec.fifo and start (runc reads the joined mappings too).
func TestJoinUserNamespaceByPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	target := userNSBundle(t, e, sleeper)
	tid, _ := e.create(target)
	e.mustRT("start", tid)
	pid := e.state(tid).Pid
	bundle := userNSBundle(t, e, func(s *specs.Spec) {
		s.Process.Args = []string{"echo", "joined"}
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.UserNamespace {
				s.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(pid) + "/ns/user"
			}
		}
	})
	r := e.rt("run", "--bundle", bundle, e.newID())
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "joined" {
		t.Errorf("run joining the user namespace of pid %d: %v, want exit 0 and \"joined\"", pid, r)
	}
}

// exec --env keeps a value with commas whole (runc's CLI splits nothing).
func TestExecEnvWithComma(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.started(sleeper)
	r := e.rt("exec", "--env", "A=1,2", id, "sh", "-c", "echo $A")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1,2" {
		t.Errorf("exec --env A=1,2: %v, want \"1,2\"", r)
	}
}

// --debug names the seccomp filter's flags as runc's debug line does
// ("seccomp filter flags: N", TSYNC not among them).
func TestDebugSeccompFilterFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Flags:    []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
	}))
	r := e.rt("--debug", "run", "--bundle", bundle, e.newID())
	if r.Code != 0 || !strings.Contains(r.Stderr, "seccomp filter flags: 2") {
		t.Errorf("--debug run: %v, want \"seccomp filter flags: 2\" on stderr", r)
	}
}
