package tests

// --systemd-cgroup where systemd cannot be reached: create and run fail
// with an error that says why (no systemd; or no bus to it) and leave
// nothing behind: no state, no cgroup, no process.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSystemdUnreachable runs create and run with --systemd-cgroup and a
// systemd-form cgroupsPath on a host without systemd: first as it is
// (runc's "systemd not running on this host"), then in a mount namespace
// whose /run says systemd is booted (/run/systemd/system) but has neither
// its private socket nor the system bus: the error names the bus.
func TestSystemdUnreachable(t *testing.T) {
	needRoot(t, "the systemd driver and a private /run")
	if testSystemd || systemdRunning() {
		t.Skip("systemd runs here: its bus is reachable (the case is a host without systemd)")
	}
	if _, err := os.Stat("/usr/bin/unshare"); err != nil {
		t.Skip("needs unshare(1) for a private /run")
	}
	e := newEnv(t)
	for _, c := range []struct {
		name  string
		argv  []string // before the runtime's own arguments
		wants []string // in stderr, case-insensitive
	}{
		{"no systemd", nil, []string{"systemd not running on this host, cannot use systemd cgroups manager"}},
		{"no bus", []string{"/usr/bin/unshare", "-m", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec "$0" "$@"`},
			[]string{"bus", "/run/systemd/private", "no such file or directory"}},
	} {
		for _, cmd := range []string{"create", "run"} {
			id := e.newID()
			cgPath := "system.slice:hulltest:" + strings.TrimPrefix(id, "hulltest-")
			bundle := e.newBundle(all(sleeper, func(s *specs.Spec) { s.Linux.CgroupsPath = cgPath }))
			argv := append(append([]string{}, c.argv...), runtimeBin, "--root", e.root, "--systemd-cgroup", cmd, "--bundle", bundle, id)
			r := execBin(t, argv[0], bundle, argv[1:]...)
			if r.Code != 1 {
				t.Errorf("%s, %s: %v, want exit 1", c.name, cmd, r)
			}
			for _, w := range c.wants {
				if !strings.Contains(strings.ToLower(r.Stderr), strings.ToLower(w)) {
					t.Errorf("%s, %s: stderr %q lacks %q", c.name, cmd, r.Stderr, w)
				}
			}
			if _, err := os.Lstat(filepath.Join(e.root, id)); !os.IsNotExist(err) {
				t.Errorf("%s, %s: state directory %s left (%v)", c.name, cmd, filepath.Join(e.root, id), err)
			}
			e.assertNotExist(id)
			suffix, _ := cgSystemdSuffix(cgPath)
			for _, d := range cgSystemdDirs(suffix) {
				if _, err := os.Lstat(d); !os.IsNotExist(err) {
					t.Errorf("%s, %s: cgroup %s left (%v)", c.name, cmd, d, err)
				}
			}
			if pids := procsRootedUnder(filepath.Join(bundle, "rootfs")); len(pids) > 0 {
				t.Errorf("%s, %s: container processes left: %v", c.name, cmd, pids)
			}
		}
	}
}
