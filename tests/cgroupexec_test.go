package tests

// exec into a container whose init left the container's cgroup for a
// sub-cgroup (cgroup v2): runc v1.5.1's cgroups.bats "runc exec (cgroup v2
// + init process in non-root cgroup) succeeds".

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// withCgroupMountRW makes the container's /sys/fs/cgroup mount writable
// (the bats helper set_cgroup_mount_writable).
func withCgroupMountRW(s *specs.Spec) {
	for i, m := range s.Mounts {
		if m.Type != "cgroup" && m.Type != "cgroup2" {
			continue
		}
		var opts []string
		for _, o := range m.Options {
			if o != "ro" {
				opts = append(opts, o)
			}
		}
		s.Mounts[i].Options = opts
	}
}

// TestExecCgroupV2InitSubcgroup: once the init has moved to the sub-cgroup
// /foo and the container's cgroup enables memory for its children, the
// container's cgroup takes no process (EBUSY, cgroup2's "no internal
// processes" rule): an exec joins the init's cgroup instead, and exec
// --cgroup foo goes to /foo. Then delete leaves nothing (the checker).
func TestExecCgroupV2InitSubcgroup(t *testing.T) {
	needRoot(t, "cgroup v2 sub-cgroups made from inside the container")
	if !cgUnifiedHost(t) {
		t.Skip("needs a pure cgroup v2 host (/sys/fs/cgroup is not cgroup2 here); make vm and make systemd run it")
	}
	e := newEnv(t)
	id, _, _ := e.started(all(sleeper, withCgroupMountRW))

	execOut := func(args ...string) string {
		t.Helper()
		r := e.rt(append([]string{"exec", id}, args...)...)
		if r.Code != 0 {
			t.Fatalf("exec %s %v: %v", id, args, r)
		}
		return r.Stdout
	}
	firstLine := func(s string) string {
		l, _, _ := strings.Cut(s, "\n")
		return l
	}

	if out := execOut("cat", "/sys/fs/cgroup/cgroup.controllers"); !strings.Contains(out, "memory") {
		t.Fatalf("the container's cgroup.controllers %q has no memory controller", out)
	}
	if got := firstLine(execOut("cat", "/proc/self/cgroup")); got != "0::/" {
		t.Fatalf("exec's /proc/self/cgroup = %q, want 0::/", got)
	}
	execOut("mkdir", "/sys/fs/cgroup/foo")
	execOut("sh", "-c", "echo 1 > /sys/fs/cgroup/foo/cgroup.procs")
	// No domain controller enabled yet: "/" still takes the exec.
	if got := firstLine(execOut("cat", "/proc/self/cgroup")); got != "0::/" {
		t.Fatalf("init in /foo, no controller enabled: exec's /proc/self/cgroup = %q, want 0::/", got)
	}
	execOut("sh", "-euc", "echo $$ > /sys/fs/cgroup/foo/cgroup.procs; echo +memory > /sys/fs/cgroup/cgroup.subtree_control")
	// "/" now refuses processes: the exec falls back to the init's /foo.
	if got := firstLine(execOut("cat", "/proc/self/cgroup")); got != "0::/foo" {
		t.Errorf("memory enabled for /'s children: exec's /proc/self/cgroup = %q, want 0::/foo (the init's cgroup)", got)
	}
	// Detached, the same.
	if r := e.rt("exec", "-d", id, "sh", "-c", "cat /proc/self/cgroup > /tmp/cg-detached"); r.Code != 0 {
		t.Errorf("exec -d with memory enabled for /'s children: %v", r)
	}
	// A sub-cgroup asked for is where the exec goes, though "/" refuses.
	if r := e.rt("exec", "--cgroup", "foo", id, "cat", "/proc/self/cgroup"); r.Code != 0 || firstLine(r.Stdout) != "0::/foo" {
		t.Errorf("exec --cgroup foo: %v, want exit 0 and 0::/foo", r)
	}
	// A sub-cgroup asked for that does not exist: an error, no fallback.
	if r := e.rt("exec", "--cgroup", "nosuch", id, "true"); r.Code == 0 {
		t.Errorf("exec --cgroup nosuch: %v, want a failure", r)
	}
	for i := 0; i < 50; i++ {
		if r := e.rt("exec", id, "cat", "/tmp/cg-detached"); r.Code == 0 && r.Stdout != "" {
			if got := firstLine(r.Stdout); got != "0::/foo" {
				t.Errorf("exec -d: /proc/self/cgroup = %q, want 0::/foo", got)
			}
			return
		}
		execOut("sleep", "0.1")
	}
	t.Errorf("exec -d wrote nothing to /tmp/cg-detached")
}
