package libcontainer

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRootlessCgroupsFlag(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		euid     int
		inUserNS bool
		want     bool
	}{
		{"auto", 1000, false, true}, {"auto", 0, false, false}, {"auto", 0, true, true}, {"", 1000, false, true},
		{"true", 0, false, true}, {"false", 1000, false, false},
	} {
		got, err := RootlessCgroups(tc.mode, tc.euid, tc.inUserNS)
		if err != nil || got != tc.want {
			t.Errorf("RootlessCgroups(%q, %d, %v) = %v, %v; want %v", tc.mode, tc.euid, tc.inUserNS, got, err, tc.want)
		}
	}
	if _, err := RootlessCgroups("maybe", 0, false); err == nil || !strings.Contains(err.Error(), `"maybe"`) {
		t.Errorf("--rootless=maybe: %v, want an error naming the value", err)
	}
}

func TestValidateRootless(t *testing.T) {
	base := func() *specs.Spec {
		s := config.Default()
		config.ToRootless(s)
		return s
	}
	if err := validateRootless(base(), 1000); err != nil {
		t.Fatalf("spec --rootless refused: %v", err)
	}
	for name, tc := range map[string]struct {
		mutate func(*specs.Spec)
		want   string
	}{
		"no user namespace": {func(s *specs.Spec) {
			var ns []specs.LinuxNamespace
			for _, n := range s.Linux.Namespaces {
				if n.Type != specs.UserNamespace {
					ns = append(ns, n)
				}
			}
			s.Linux.Namespaces = ns
		}, "rootless container requires user namespaces"},
		"additional gids": {func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{10} },
			"cannot set any additional groups in a rootless container"},
		"no gid map": {func(s *specs.Spec) { s.Linux.GIDMappings = nil }, "rootless containers requires at least one GID mapping"},
		"unmapped uid= option": {func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"uid=5000"}})
		}, "cannot specify uid=5000 mount option for rootless container: user namespaces enabled, but no mapping found for uid 5000"},
		"devpts gid=5": {func(s *specs.Spec) {
			for i, m := range s.Mounts {
				if m.Destination == "/dev/pts" {
					s.Mounts[i].Options = append(s.Mounts[i].Options, "gid=5")
				}
			}
		}, "cannot specify gid=5 mount option"},
	} {
		s := base()
		tc.mutate(s)
		err := validateRootless(s, 1000)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err := validateRootless(s, 0); err != nil {
			t.Errorf("%s: refused for root: %v", name, err)
		}
	}
}

// Joining a user namespace by path, without maps in the config: a uid= or
// gid= mount option is checked against the namespace's own maps (runc's
// run.bats "joining existing container namespaces", userns.bats "join other
// container userns"), not refused for want of maps in the config.
func TestValidateRootlessJoinedUserns(t *testing.T) {
	join := func(path string) *specs.Spec {
		s := config.Default()
		config.ToRootless(s)
		s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.UserNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
		// as runc's suite has it in its idmap mode
		for i := range s.Mounts {
			if s.Mounts[i].Type == "devpts" {
				s.Mounts[i].Options = append(s.Mounts[i].Options, "gid=5")
			}
		}
		return s
	}
	// our own user namespace (the test's: the initial one maps every id)
	b, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(b)); len(f) < 3 || f[0] != "0" {
		t.Skipf("our gid_map does not start at 0: %q", b)
	} else if n, _ := strconv.Atoi(f[2]); n <= 5 {
		t.Skipf("gid 5 is not mapped in our user namespace: %q", b)
	}
	s := join("/proc/self/ns/user")
	if err := validateRootless(s, 1000); err != nil {
		t.Errorf("joined user namespace mapping gid 5, gid=5 mount option: %v, want no error", err)
	}
	// a namespace file no process of ours is in (here: none at all) is
	// left to the kernel
	if err := validateRootless(join("/nonexistent/ns/user"), 1000); err != nil {
		t.Errorf("unknown joined user namespace: %v, want no error", err)
	}
}
