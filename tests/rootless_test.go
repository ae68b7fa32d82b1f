package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rootless containers: these tests run as the rootless lane's user
// (make rootless, HULL_TEST_ROOTLESS=1) and skip as root.

func needRootless(t *testing.T) {
	t.Helper()
	if !rootless {
		t.Skip("rootless only: runs as an unprivileged user (make rootless)")
	}
}

// withSingleMapping is `spec --rootless`'s mapping alone: the user's own
// uid and gid as the container's root.
func withSingleMapping(s *specs.Spec) {
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
}

const mapScript = `echo uid=$(cat /proc/self/uid_map | tr -s ' ' | tr '\n' ';'); echo gid=$(cat /proc/self/gid_map | tr -s ' ' | tr '\n' ';'); echo setgroups=$(cat /proc/self/setgroups); echo id=$(id -u):$(id -g)`

// The user's own ids, written by hull itself: setgroups is denied first
// (the kernel refuses an unprivileged gid_map otherwise).
func TestRootlessSingleMapping(t *testing.T) {
	needRootless(t)
	t.Parallel()
	e := newEnv(t)
	got := kv(e.mustRun(all(withSingleMapping, withShell(mapScript))))
	want := map[string]string{
		"uid":       fmt.Sprintf(" 0 %d 1;", os.Geteuid()),
		"gid":       fmt.Sprintf(" 0 %d 1;", os.Getegid()),
		"setgroups": "deny",
		"id":        "0:0",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// Subordinate ranges go through newuidmap/newgidmap; setgroups stays
// allowed, so a process may run as another user with groups of its own.
func TestRootlessMultiRangeMapping(t *testing.T) {
	needRootless(t)
	t.Parallel()
	su, sg := subIDs()
	if su == 0 || sg == 0 {
		t.Skip("needs the lane's subordinate ids (HULL_ROOTLESS_SUBUID, HULL_ROOTLESS_SUBGID)")
	}
	e := newEnv(t)
	multi := func(s *specs.Spec) {
		withSingleMapping(s)
		s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: su, Size: 65536})
		s.Linux.GIDMappings = append(s.Linux.GIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: sg, Size: 65536})
		s.Process.User = specs.User{UID: 1000, GID: 1000}
	}
	got := kv(e.mustRun(all(multi, withShell(mapScript+"; echo groups=$(id -G)"))))
	want := map[string]string{
		"uid":       fmt.Sprintf(" 0 %d 1; 1 %d 65536;", os.Geteuid(), su),
		"gid":       fmt.Sprintf(" 0 %d 1; 1 %d 65536;", os.Getegid(), sg),
		"setgroups": "allow",
		"id":        "1000:1000",
		"groups":    "1000",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	// Additional groups: runc refuses them for a user whatever the
	// mapping, in the config and in exec, and so does hull.
	r := e.run(all(multi, withArgs("true"), func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{10, 20} }))
	if want := "cannot set any additional groups in a rootless container"; r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("run with additionalGids [10 20]: %v, want exit 1 and %q", r, want)
	}

	// A range the user was not given: newuidmap's refusal is the error.
	r = e.run(func(s *specs.Spec) {
		withSingleMapping(s)
		s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: su + 65536, Size: 10})
		s.Process.Args = []string{"true"}
	})
	if r.Code != 1 || !strings.Contains(r.Stderr, "newuidmap") {
		t.Errorf("a uid range outside /etc/subuid: %v, want exit 1 and newuidmap's error", r)
	}
}

// Without --root, a user's state goes to $XDG_RUNTIME_DIR/hull (0700 and
// sticky); without $XDG_RUNTIME_DIR either, the error says what to do.
func TestRootlessDefaultRoot(t *testing.T) {
	needRootless(t)
	t.Parallel()
	e := newEnv(t)
	xdg := e.mkdir("xdg")
	bundle := e.newBundle(withArgs("sleep", "100"))
	id := e.newID()
	runAt := func(env []string, args ...string) result {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, runtimeBin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Dir = bundle
		// Files, not pipes: the container's init inherits them.
		out, err1 := os.CreateTemp(e.base, "out-")
		errf, err2 := os.CreateTemp(e.base, "err-")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		defer out.Close()
		defer errf.Close()
		cmd.Stdout, cmd.Stderr = out, errf
		err := cmd.Run()
		o, _ := os.ReadFile(out.Name())
		se, _ := os.ReadFile(errf.Name())
		return result{Stdout: string(o), Stderr: string(se), Code: exitCode(err)}
	}
	withXDG := []string{"XDG_RUNTIME_DIR=" + xdg}
	if r := runAt(withXDG, "create", id); r.Code != 0 {
		t.Fatalf("create without --root: %v", r)
	}
	root := filepath.Join(xdg, "hull")
	t.Cleanup(func() { runAt(withXDG, "delete", "--force", id) })
	fi, err := os.Stat(root)
	if err != nil {
		t.Fatalf("$XDG_RUNTIME_DIR/hull: %v", err)
	}
	if fi.Mode().Perm() != 0o700 || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("$XDG_RUNTIME_DIR/hull has mode %v, want 0700 with the sticky bit", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(root, id)); err != nil {
		t.Errorf("the container's state is not in $XDG_RUNTIME_DIR/hull: %v", err)
	}
	if r := runAt(withXDG, "delete", "--force", id); r.Code != 0 {
		t.Errorf("delete without --root: %v", r)
	}

	var noXDG []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") {
			noXDG = append(noXDG, kv)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, "list")
	cmd.Env = noXDG
	out, err := cmd.CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "$XDG_RUNTIME_DIR") || !strings.Contains(string(out), "--root") {
		t.Errorf("list without --root nor $XDG_RUNTIME_DIR: exit %d, %q; want exit 1 and an error naming --root and $XDG_RUNTIME_DIR", exitCode(err), out)
	}
}

// A user without delegated cgroups runs containers without them (no
// cgroupsPath), but a limit it cannot apply is runc's error, and the
// failed create leaves nothing.
func TestRootlessCgroupLimitRefused(t *testing.T) {
	needRootless(t)
	t.Parallel()
	if _, err := os.Stat("/sys/fs/cgroup/pids/cgroup.procs"); err != nil {
		t.Skipf("needs a cgroup v1 pids hierarchy: %v", err)
	}
	e := newEnv(t)
	limit := int64(100)
	r := e.run(func(s *specs.Spec) {
		s.Process.Args = []string{"true"}
		s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}
	})
	if r.Code != 1 || !strings.Contains(r.Stderr, "cannot set pids limit: container could not join or create cgroup") {
		t.Errorf("pids limit without a cgroup: %v, want exit 1 and runc's \"cannot set pids limit: container could not join or create cgroup\"", r)
	}
}

// With a cgroupsPath, a cgroup the user may not make is an error, in
// runc's words (its suite matches "unable to apply cgroup configuration"
// and "permission denied"), and the failed run leaves nothing.
func TestRootlessCgroupsPathRefused(t *testing.T) {
	needRootless(t)
	t.Parallel()
	e := newEnv(t)
	path := fmt.Sprintf("/hull-rootless-refused-%d", os.Getpid())
	r := e.run(func(s *specs.Spec) {
		s.Process.Args = []string{"true"}
		s.Linux.CgroupsPath = path
	})
	if r.Code != 1 || !strings.Contains(r.Stderr, "unable to apply cgroup configuration") || !strings.Contains(r.Stderr, "permission denied") {
		t.Errorf("cgroupsPath %s without permission: %v, want exit 1 and runc's \"unable to apply cgroup configuration: ... permission denied\"", path, r)
	}
	for _, h := range []string{"pids", "memory", "freezer", "unified", ""} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", h, path)); err == nil {
			t.Errorf("cgroup %s left behind in /sys/fs/cgroup/%s", path, h)
		}
	}
}

// Without a cgroup and without a pid namespace of its own, a rootless
// container is created with runc's warning (its suite matches "Such
// configuration is strongly discouraged").
func TestRootlessSharedPidnsWarning(t *testing.T) {
	needRootless(t)
	t.Parallel()
	e := newEnv(t)
	r := e.run(func(s *specs.Spec) {
		s.Process.Args = []string{"true"}
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.PIDNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
		// a user cannot mount a proc of the host's pid namespace
		for i, m := range s.Mounts {
			if m.Type == "proc" {
				s.Mounts[i] = specs.Mount{Destination: m.Destination, Type: "none", Source: "/proc", Options: []string{"rbind", "nosuid", "nodev", "noexec"}}
			}
		}
	})
	if r.Code != 0 || !strings.Contains(r.Stderr, "Such configuration is strongly discouraged") {
		t.Errorf("rootless, no cgroup, no pid namespace: %v, want exit 0 and runc's warning \"... Such configuration is strongly discouraged ...\"", r)
	}
}

// Without a cgroup namespace and without cgroups of its own (the user may
// make none), a rootless container on a v1 or hybrid host still sees real
// cgroupfs under /sys/fs/cgroup, read-only: the cgroups its init is in,
// bound as runc binds them. Before, the hierarchies' directories stayed
// empty, and /sys's rbind showed the host's mounts (rw) through them.
func TestRootlessCgroupMountWithoutCgroupns(t *testing.T) {
	needRootless(t)
	t.Parallel()
	if _, err := os.Stat("/sys/fs/cgroup/pids/tasks"); err != nil {
		t.Skipf("needs a cgroup v1 pids hierarchy: %v", err)
	}
	e := newEnv(t)
	script := `cat /sys/fs/cgroup/pids/tasks >/dev/null && echo pids=ok; ` +
		`for f in $(grep /sys/fs/cgroup /proc/mounts | awk '{print $2}' | uniq); do test -e $f && grep -w $f /proc/mounts | tail -n1; done`
	out := e.mustRun(all(withShell(script), func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.CgroupNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
	}))
	if !strings.Contains(out, "pids=ok") {
		t.Errorf("no /sys/fs/cgroup/pids/tasks in the container: %q", out)
	}
	n := 0
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[1], "/sys/fs/cgroup") {
			continue
		}
		n++
		if !strings.HasPrefix(f[3], "ro,") && f[3] != "ro" {
			t.Errorf("%s is not read-only: %q", f[1], l)
		}
	}
	if n < 2 {
		t.Errorf("%d /sys/fs/cgroup mounts seen, want the tmpfs and the hierarchies: %q", n, out)
	}
}

// A /dev/ptmx in linux.devices, redundant with the default one (runc's
// dev.bats): the container's ptmx stays its devpts's, also in a user
// namespace, where binding the host's node over the pts/ptmx link failed
// ("too many levels of symbolic links").
func TestRootlessRedundantPtmx(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run(func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/ptmx", Type: "c", Major: 5, Minor: 2})
		s.Process.Args = []string{"sh", "-c", "ls -lLn /dev/ptmx; readlink /dev/ptmx"}
	})
	if r.Code != 0 || !strings.Contains(r.Stdout, "5,   2") || !strings.Contains(r.Stdout, "pts/ptmx") {
		t.Errorf("redundant /dev/ptmx device: %v, want exit 0, a 5,2 node through the link pts/ptmx", r)
	}
}

// A hull binary the user owns (and so could the container's root) runs
// from a sealed copy; no error, no warning.
func TestRootlessOwnBinary(t *testing.T) {
	needRootless(t)
	t.Parallel()
	e := newEnv(t)
	dir := e.mkdir("bin")
	for _, n := range []string{filepath.Base(runtimeBin), "hull-shim"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(runtimeBin), n))
		if err != nil {
			t.Fatal(err)
		}
		if err := writeExecutable(filepath.Join(dir, n), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, filepath.Base(runtimeBin))
	bundle := e.newBundle(withShell("ls -l /proc/self/exe >/dev/null; echo ok"))
	id := e.newID()
	r := execBin(t, bin, "", "--root", e.root, "run", "--bundle", bundle, id)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "ok" || r.Stderr != "" {
		t.Errorf("run with the user's own copy of hull: %v, want exit 0, \"ok\" and nothing on stderr", r)
	}
}

// runc's checks of a user's config: a user namespace, mount options that
// name mapped ids only; refused before anything is made.
func TestRootlessConfigRefused(t *testing.T) {
	needRootless(t)
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		mutate func(*specs.Spec)
		want   string
	}{
		{all(withoutNamespace(specs.UserNamespace), func(s *specs.Spec) { s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil }), "rootless container requires user namespaces"},
		{all(withSingleMapping, withMount(specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"uid=5000"}})), "cannot specify uid=5000 mount option for rootless container"},
	} {
		r := e.run(all(tc.mutate, withArgs("true")))
		if r.Code != 1 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v, want exit 1 and %q", r, tc.want)
		}
	}
}

// hull itself in a user namespace, with a config that makes none: rootless
// podman runs its runtime so (in the user and mount namespaces of its pause
// process, as root there). mknod is refused in any user namespace but the initial
// one, so the devices are bind-mounted from the host, as runc does when it
// runs in a user namespace.
func TestRootlessInsideUserNamespace(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withoutNamespace(specs.UserNamespace), func(s *specs.Spec) {
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
		// unshare maps one id: devpts's gid=5 (root's spec) is unmapped.
		for i, m := range s.Mounts {
			var o []string
			for _, x := range m.Options {
				if !strings.HasPrefix(x, "gid=") {
					o = append(o, x)
				}
			}
			s.Mounts[i].Options = o
		}
	}, withShell(`echo x > /dev/null && echo null=ok; echo zero=$(head -c 3 /dev/zero | od -An -tx1 | tr -d ' '); echo uidmap=$(tr -s ' ' < /proc/self/uid_map)`)))
	id := e.newID()
	r := execBin(t, "unshare", "", "--user", "--map-root-user", "--mount", runtimeBin, "--root", e.root, "run", "--bundle", bundle, id)
	got := kv(r.Stdout)
	if r.Code != 0 || got["null"] != "ok" || got["zero"] != "000000" {
		t.Fatalf("run in a user namespace (no user namespace in the config): %v, want exit 0, null=ok, zero=000000", r)
	}
	if want := fmt.Sprintf(" 0 %d 1", os.Geteuid()); got["uidmap"] != want {
		t.Errorf("uid_map in the container %q, want unshare's %q (the container shares hull's user namespace)", got["uidmap"], want)
	}
}
