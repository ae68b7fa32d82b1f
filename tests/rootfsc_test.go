package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A created init's setup is done in C from a plan (preinit's rootfs.c,
// issue 18) for the configs rootfs.CPlan takes, and by the Go init
// otherwise or when C gives up. HULL_ROOTFS_IN_GO=1 makes hull use the Go
// init always: these tests compare the two.

// rtEnv is env.rt with extra environment for hull.
func (e *env) rtEnv(extraEnv []string, args ...string) result {
	e.t.Helper()
	return execBinEnv(e.t, runtimeBin, "", extraEnv, append([]string{"--root", e.root}, args...)...)
}

// inGo makes hull set every init up in Go.
var inGo = []string{"HULL_ROOTFS_IN_GO=1"}

// runWith runs a container from bundle with extra environment for hull
// and its global flags.
func (e *env) runWith(extraEnv []string, bundle string, global ...string) result {
	e.t.Helper()
	return e.runBundle(extraEnv, global, bundle)
}

// idleInit creates a container from bundle (with extraEnv for hull)
// and returns its idle init's environment and thread count, then
// deletes it.
func (e *env) idleInit(extraEnv []string, bundle string) (environ, threads string) {
	e.t.Helper()
	id := e.newID()
	// Output to a file: the idle init holds the stdio it was given,
	// and a pipe would not end before it does.
	out, err := os.CreateTemp(e.base, "create-out-")
	if err != nil {
		e.t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(runtimeBin, "--root", e.root, "create", "--bundle", bundle, id)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		e.t.Fatalf("create: %v: %s", err, b)
	}
	s := e.state(id)
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.Pid), "environ"))
	if err != nil {
		e.t.Fatalf("idle init's environ: %v", err)
	}
	st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.Pid), "status"))
	if err != nil {
		e.t.Fatalf("idle init's status: %v", err)
	}
	e.mustRT("delete", "--force", id)
	for _, l := range lines(string(st)) {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			threads = strings.TrimSpace(v)
		}
	}
	return strings.ReplaceAll(string(b), "\x00", " "), threads
}

// rootfsProbe prints what the setup made, in a form that does not change
// from one container to the next (no mount ids, device numbers of
// anonymous filesystems, times or the container's id).
const rootfsProbe = `cut -d' ' -f5- /proc/self/mountinfo | sed 's/master:[0-9]*/master/'
for f in /dev/* /dev/pts/ptmx /new/cwd /etc/hullfile; do stat -c '%n %A %u %g %t:%T' $f; done
echo host=$(hostname) cwd=$(pwd) umask=$(umask) nofile=$(ulimit -n) fwd=$(cat /proc/sys/net/ipv4/ip_forward)
id; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ls /proc/self/fd; echo home=$HOME
grep Cpus_allowed_list /proc/self/status
cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo no-pids-hierarchy
touch /etc/x 2>&1 | sed 's/.*\(Read-only\).*/\1/I'; touch /scratch/x 2>&1 | sed 's/.*\(Read-only\).*/\1/I'`

// cOrGoBundle is a config that the C setup takes: most kinds of mount,
// devices, sysctls, a cwd to make, rlimits, a read-only root.
func cOrGoBundle(e *env, file string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Root.Readonly = true
		s.Hostname = "c-or-go"
		s.Process.Cwd = "/new/cwd"
		s.Process.Args = []string{"sh", "-c", rootfsProbe}
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 512, Soft: 256}}
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		mode := os.FileMode(0o600)
		uid, gid := uint32(1), uint32(2)
		s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/hullnull", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid}}
		s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: int64Ptr(77)},
			Devices: append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: int64Ptr(1), Minor: int64Ptr(3), Access: "rwm"})}
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/etc/hullfile", Type: "bind", Source: file, Options: []string{"bind", "ro"}},
			specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "nosuid", "size=1m"}},
			specs.Mount{Destination: "/hostdir", Type: "bind", Source: filepath.Dir(file), Options: []string{"rbind", "nodev"}})
	}
}

func int64Ptr(v int64) *int64 { return &v }

// pinned runs f on a thread whose affinity is CPU 0 alone.
func pinned(t *testing.T, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		t.Fatal(err)
	}
	one.Set(0)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &old)
	f()
}

// allCPUs is the Cpus_allowed_list line of a process on every CPU.
func allCPUs() string {
	n := runtime.NumCPU()
	if n == 1 {
		return "Cpus_allowed_list:\t0\n"
	}
	return fmt.Sprintf("Cpus_allowed_list:\t0-%d\n", n-1)
}

// TestRootfsInCSameAsGo: the C setup makes what the Go init makes, seen
// from inside (mounts with their options, devices, hostname, cwd,
// rlimits, sysctls, credentials, fds, the cgroup mount), and the idle
// init of each is the one expected (C: no Go image waits; Go: the
// re-executed wait image).
func TestRootfsInCSameAsGo(t *testing.T) {
	needRoot(t, "the C setup is for root's containers")
	e := newEnv(t)
	dir := e.mkdir("hostfiles")
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A bundle each: the first setup makes the mount points in the
	// rootfs, which changes what a tmpfs's mode is taken from.
	bundle := e.newBundle(cOrGoBundle(e, file))
	goBundle := e.newBundle(cOrGoBundle(e, file))
	// hull runs pinned to CPU 0 (the forking thread's mask is the
	// child's): the container gets every CPU all the same (as runc's).
	var inC, byGo result
	pinned(t, func() {
		inC = e.runWith(nil, bundle)
		byGo = e.runWith(inGo, goBundle)
	})
	if inC.Code != 0 || byGo.Code != 0 {
		t.Fatalf("C: %v\nGo: %v", inC, byGo)
	}
	if inC.Stdout != byGo.Stdout {
		t.Errorf("the C setup differs from Go's:\n--- C\n%s\n--- Go\n%s", inC.Stdout, byGo.Stdout)
	}
	for _, want := range []string{"/scratch ro,nosuid", "/etc/hullfile ro,", "host=c-or-go cwd=/new/cwd", "nofile=256 fwd=1",
		"/dev/hullnull crw------- 1 2 1:3", "/dev/ptmx lrwxrwxrwx", "\n/sys/fs/cgroup/pids ro,", "\n77\n", "Read-only\nRead-only", allCPUs()} {
		if !strings.Contains(inC.Stdout, want) {
			t.Errorf("C setup: %q missing from:\n%s", want, inC.Stdout)
		}
	}
	// The C setup's init waits where it is, one thread, no Go image;
	// the Go init (with a pids limit: in Go) has not had the plan.
	if env, threads := e.idleInit(nil, bundle); !strings.Contains(env, "_HULL_RFS=") || strings.Contains(env, "_HULL_WAIT=") || threads != "1" {
		t.Errorf("idle init of the C setup: environment %q, %s threads; want _HULL_RFS, no _HULL_WAIT, 1 thread", env, threads)
	}
	if env, _ := e.idleInit(inGo, bundle); strings.Contains(env, "_HULL_RFS=") {
		t.Errorf("idle init of the Go setup: environment %q, want no _HULL_RFS", env)
	}
}

// TestRootfsInCFallsBack: a destination through a dangling symlink, which
// the Go init follows (safepath.MkdirAll) and C does not: C gives up, its
// mount namespace is dropped, and the Go init sets the container up, once
// (no mount of the failed attempt is left, stacked or elsewhere).
func TestRootfsInCFallsBack(t *testing.T) {
	needRoot(t, "the C setup is for root's containers")
	e := newEnv(t)
	bundle := danglingBundle(e)
	inC := e.runWith(nil, bundle, "--debug")
	if inC.Code != 0 {
		t.Fatalf("run: %v", inC)
	}
	if !strings.Contains(inC.Stderr, "init setup in C undone") {
		t.Errorf("no fallback in the debug log: %s", inC.Stderr)
	}
	if n := strings.Count("\n"+inC.Stdout, "\n/data/target/sub "); n != 1 {
		t.Errorf("the tmpfs on /data/target/sub is mounted %d times, want 1:\n%s", n, inC.Stdout)
	}
	// The same on a fresh bundle by the Go init.
	byGo := e.runWith(inGo, danglingBundle(e))
	if byGo.Stdout != inC.Stdout {
		t.Errorf("after the fallback the setup differs from Go's:\n--- fallback\n%s\n--- Go\n%s", inC.Stdout, byGo.Stdout)
	}
}

// danglingBundle prints its mounts; its tmpfs's destination goes
// through /mnt/dangling, a symlink to /data/target, which does not exist.
func danglingBundle(e *env) string {
	bundle := e.newBundle(func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "cut -d' ' -f5- /proc/self/mountinfo | sed 's/master:[0-9]*/master/'"}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/dangling/sub", Type: "tmpfs", Source: "tmpfs"})
	})
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs/mnt"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Symlink("/data/target", filepath.Join(bundle, "rootfs/mnt/dangling")); err != nil {
		e.t.Fatal(err)
	}
	return bundle
}

// TestRootfsInCErrorIsGos: a setup that fails fails in the Go init's
// words (C only gives up), and leaves nothing (the env's cleanup checks).
func TestRootfsInCErrorIsGos(t *testing.T) {
	needRoot(t, "the C setup is for root's containers")
	e := newEnv(t)
	bundle := e.newBundle(func(s *specs.Spec) {
		s.Process.Args = []string{"true"}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/passwd", Type: "proc", Source: "proc"})
	})
	inC := e.runWith(nil, bundle)
	byGo := e.runWith(inGo, bundle)
	ids := regexp.MustCompile(`hulltest-[0-9-]+`)
	if inC.Code != 1 || !strings.Contains(inC.Stderr, `must be mounted on ordinary directory`) {
		t.Errorf("C: want exit 1 and Go's error, got %v", inC)
	}
	if ids.ReplaceAllString(inC.Stderr, "ID") != ids.ReplaceAllString(byGo.Stderr, "ID") || inC.Code != byGo.Code {
		t.Errorf("errors differ:\nC:  %v\nGo: %v", inC, byGo)
	}
}
