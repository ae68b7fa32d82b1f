package tests

import (
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A create that fails after its cgroup was made (here the init cannot
// make a bind mount) removes the cgroup and every level of a nested
// cgroupsPath that it made, in every hierarchy: the leftover checker
// looks for the top level.
func TestCgroupNestedPathRolledBack(t *testing.T) {
	if testSystemd {
		t.Skip("the systemd driver's paths are slice:prefix:name; its unit removal has its own tests")
	}
	e := newEnv(t)
	bundle := e.newBundle(func(s *specs.Spec) {
		if s.Linux.CgroupsPath == "" {
			return // rootless without a cgroup: skipped below
		}
		s.Linux.CgroupsPath = filepath.Join(s.Linux.CgroupsPath, "a", "ctr")
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/x", Type: "bind",
			Source: filepath.Join(e.base, "no-such-source"), Options: []string{"bind"}})
	})
	if loadSpec(t, bundle).Linux.CgroupsPath == "" {
		t.Skip("a rootless create here makes no cgroup (no cgroupsPath)")
	}
	id := e.newID()
	r := e.rt("create", "--bundle", bundle, id)
	if r.Code != 1 || !strings.Contains(r.Stderr, "no-such-source") {
		t.Fatalf("create with a bind mount of a missing source: %v; want exit 1 naming the source", r)
	}
	e.assertNotExist(id)
}
