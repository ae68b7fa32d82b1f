package tests

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// `spec` has a cgroup namespace only on a cgroup v2 only host, as runc's:
// on a v1 or hybrid host a process of the default container (the init or
// one exec'd) sees its cgroup path as the host names it (the suite's
// "runc exec (cgroup v1+hybrid joins correct cgroup)").
func TestCgroupSpecNamespaceByHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(withArgs("sleep", "1000"))
	spec := loadSpec(t, bundle)
	hasNS := false
	for _, ns := range spec.Linux.Namespaces {
		hasNS = hasNS || ns.Type == specs.CgroupNamespace
	}
	v2 := cgUnifiedHost(t)
	if hasNS != v2 {
		t.Errorf("spec on a host with /sys/fs/cgroup unified=%v: cgroup namespace %v, want %v (runc's spec)", v2, hasNS, v2)
	}
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	r := e.mustRT("exec", id, "cat", "/proc/self/cgroup")
	ls := lines(r.Stdout)
	if len(ls) == 0 {
		t.Fatalf("exec cat /proc/self/cgroup printed nothing")
	}
	last := ls[len(ls)-1]
	want := "0::/"
	if !v2 {
		dir, err := cgProcDir(pid, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(dir, "/"+cgSuffix(spec.Linux.CgroupsPath)) {
			t.Fatalf("init's cgroup2 dir %s does not end in %s", dir, spec.Linux.CgroupsPath)
		}
		want = fmt.Sprintf("0::%s", strings.TrimSpace(strings.SplitN(cgReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)), "0::", 2)[1]))
	}
	if last != want {
		t.Errorf("exec's /proc/self/cgroup ends in %q, want %q (the init's, seen from the host)", last, want)
	}
	if !v2 && !strings.Contains(last, cgSuffix(spec.Linux.CgroupsPath)) {
		t.Errorf("exec's cgroup2 line %q lacks the cgroupsPath %s", last, spec.Linux.CgroupsPath)
	}
	e.mustRT("delete", "--force", id)
}
