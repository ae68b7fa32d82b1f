package cgroups

import (
	"strings"
	"testing"
)

func TestInnerPath(t *testing.T) {
	for _, tc := range []struct {
		path, id, want, err string
	}{
		{path: "/a/b", want: "/a/b"},
		{path: "/a//b/./c/", want: "/a/b/c"},
		{path: "rel/ctr", want: "rel/ctr"},
		{path: "", id: "ctr1", want: "/ctr1"},
		{path: "/a/../b", err: `".." components`},
		{path: "../escape", err: `".." components`},
		{path: "a/..", err: `".." components`},
		{path: "", id: "", err: "cannot name a cgroup"},
		{path: "", id: "a/b", err: "cannot name a cgroup"},
		{path: "/", err: "hierarchy root"},
		{path: ".", err: "hierarchy root"},
		{path: "a..b", want: "a..b"}, // dots inside a name are fine
	} {
		got, err := innerPath(tc.path, tc.id)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("innerPath(%q, %q) = %q, %v; want error with %q", tc.path, tc.id, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("innerPath(%q, %q) = %q, %v; want %q", tc.path, tc.id, got, err, tc.want)
		}
	}
}

const hybridMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
90 60 0:32 /x /mnt/elsewhere rw,relatime - cgroup cgroup rw,memory
`

const hybridSelfCgroup = `9:name=systemd:/user.slice/s1
5:devices:/
4:memory:/process_api/abc
3:cpuset:/
2:cpu,cpuacct:/jobs
1:freezer:/
0::/user.slice/s1
`

func TestLayoutHybrid(t *testing.T) {
	hiers, err := parseHierarchies(strings.NewReader(hybridMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	own, err := parseOwnCgroups(strings.NewReader(hybridSelfCgroup))
	if err != nil {
		t.Fatal(err)
	}
	// The bind mount of the memory hierarchy at /mnt/elsewhere must not
	// shadow /sys/fs/cgroup/memory.
	for _, h := range hiers {
		if h.mountpoint == "/mnt/elsewhere" {
			t.Errorf("duplicate mount of the memory hierarchy was kept: %+v", h)
		}
	}
	rel, err := newManager(Hybrid, hiers, own, []string{"hugetlb", "memory"}, "ctr")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory":       "/sys/fs/cgroup/memory/process_api/abc/ctr",
		"cpu":          "/sys/fs/cgroup/cpu,cpuacct/jobs/ctr",
		"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/jobs/ctr",
		"cpuset":       "/sys/fs/cgroup/cpuset/ctr",
		"name=systemd": "/sys/fs/cgroup/systemd/user.slice/s1/ctr",
		"":             "/sys/fs/cgroup/unified/user.slice/s1/ctr",
		// hugetlb has no v1 hierarchy here: cgroup2 serves it.
		"hugetlb": "/sys/fs/cgroup/unified/user.slice/s1/ctr",
		// pids has neither.
		"pids": "",
	}
	for c, p := range want {
		if got := rel.Path(c); got != p {
			t.Errorf("relative: Path(%q) = %q, want %q", c, got, p)
		}
	}
	if !rel.v2ctl["hugetlb"] || rel.v2ctl["memory"] {
		t.Errorf("v2 controllers = %v, want hugetlb only (memory is on v1)", rel.v2ctl)
	}
	abs, err := newManager(Hybrid, hiers, own, nil, "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	for c, p := range map[string]string{"memory": "/sys/fs/cgroup/memory/a/b", "": "/sys/fs/cgroup/unified/a/b", "cpu": "/sys/fs/cgroup/cpu,cpuacct/a/b"} {
		if got := abs.Path(c); got != p {
			t.Errorf("absolute: Path(%q) = %q, want %q", c, got, p)
		}
	}
	if n := len(rel.dirs()); n != 7 {
		t.Errorf("dirs() = %v, want 7 distinct directories (6 v1 + unified)", rel.dirs())
	}
}

func TestLayoutUnified(t *testing.T) {
	mi := "25 20 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	hiers, err := parseHierarchies(strings.NewReader(mi))
	if err != nil {
		t.Fatal(err)
	}
	own, err := parseOwnCgroups(strings.NewReader("0::/user.slice/session-1.scope\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := newManager(Unified, hiers, own, []string{"cpu", "memory", "pids"}, "ctr")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"", "memory", "cpu", "devices", "freezer"} {
		if got, want := m.Path(c), "/sys/fs/cgroup/user.slice/session-1.scope/ctr"; got != want {
			t.Errorf("Path(%q) = %q, want %q", c, got, want)
		}
	}
	if len(m.v1) != 0 || !m.v2ctl["memory"] {
		t.Errorf("unified layout: v1 %v, v2 %v", m.v1, m.v2ctl)
	}
}

func TestLayoutMountRoot(t *testing.T) {
	// Inside a container whose cgroup is bind-mounted: the mount shows
	// /docker/c1 at its mountpoint, and the process's own cgroup is a
	// child of it.
	mi := "35 31 0:32 /docker/c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	hiers, _ := parseHierarchies(strings.NewReader(mi))
	own, _ := parseOwnCgroups(strings.NewReader("4:memory:/docker/c1/sub\n"))
	m, err := newManager(Legacy, hiers, own, nil, "ctr")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Path("memory"), "/sys/fs/cgroup/memory/sub/ctr"; got != want {
		t.Errorf("Path(memory) = %q, want %q", got, want)
	}
	own, _ = parseOwnCgroups(strings.NewReader("4:memory:/elsewhere\n"))
	if _, err := newManager(Legacy, hiers, own, nil, "ctr"); err == nil || !strings.Contains(err.Error(), "not visible") {
		t.Errorf("own cgroup outside the mount root: err = %v, want \"not visible\"", err)
	}
	if m.Path("") != "" {
		t.Errorf("legacy Path(\"\") = %q, want empty", m.Path(""))
	}
}

func TestLayoutHybridNeedsUnified(t *testing.T) {
	hiers, _ := parseHierarchies(strings.NewReader("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"))
	own, _ := parseOwnCgroups(strings.NewReader("4:memory:/\n"))
	if _, err := newManager(Hybrid, hiers, own, nil, "/c"); err == nil {
		t.Error("hybrid layout without a cgroup2 mount was accepted")
	}
}

func TestParseOwnCgroupsMalformed(t *testing.T) {
	if _, err := parseOwnCgroups(strings.NewReader("garbage\n")); err == nil {
		t.Error("malformed /proc/self/cgroup line accepted")
	}
}

// TestNewOnHost resolves paths against the real host: relative paths land
// under the test's own cgroup in each hierarchy.
func TestNewOnHost(t *testing.T) {
	mg, err := New("some/rel", "")
	if err != nil {
		t.Skipf("skipped: no usable cgroup layout here: %v", err)
	}
	m := mg.(*manager)
	own, err := readOwnCgroups()
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := own.v1["memory"]; ok && m.v1["memory"] != "" {
		if !strings.HasSuffix(m.v1["memory"], strings.TrimSuffix(p, "/")+"/some/rel") {
			t.Errorf("memory path %q is not under own cgroup %q", m.v1["memory"], p)
		}
	}
	if _, err := New("/x/../y", ""); err == nil {
		t.Error(`New accepted a path with ".."`)
	}
	if m2, err := New("", "abc"); err == nil && m2.(*manager).unified != "" && !strings.HasSuffix(m2.Path(""), "/abc") {
		t.Errorf("empty path: Path(\"\") = %q, want .../abc", m2.Path(""))
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := &manager{mode: Hybrid, v1: map[string]string{"cpu": "/sys/fs/cgroup/cpu/a"}, v1roots: map[string]string{"cpu": "/sys/fs/cgroup/cpu"},
		unified: "/sys/fs/cgroup/unified/a", uroot: "/sys/fs/cgroup/unified", v2ctl: map[string]bool{"hugetlb": true}}
	got := Load(Save(m)).(*manager)
	if got.Path("cpu") != m.Path("cpu") || got.Path("") != m.Path("") || got.Path("hugetlb") != m.Path("hugetlb") || got.mode != m.mode {
		t.Fatalf("round trip: %+v != %+v", got, m)
	}
}
