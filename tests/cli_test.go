package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := rt(t, "--version")
	if code != 0 {
		t.Fatalf("--version: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "version") {
		t.Errorf("--version output %q does not mention a version", stdout)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := rt(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d, stderr %q", code, stderr)
	}
	for _, cmd := range []string{"create", "start", "run", "state", "kill", "delete", "list", "spec"} {
		if !strings.Contains(stdout, cmd) {
			t.Errorf("--help does not list the %q command:\n%s", cmd, stdout)
		}
	}
}

// specIn runs `spec` (with extra flags) in a fresh dir and parses the result.
func specIn(t *testing.T, extra ...string) (dir string, spec specs.Spec) {
	t.Helper()
	dir = t.TempDir()
	r := execRuntime(t, dir, append([]string{"spec"}, extra...)...)
	if r.Code != 0 {
		t.Fatalf("spec %v: %v", extra, r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatalf("spec did not write config.json: %v", err)
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatalf("config.json does not parse: %v\n%s", err, b)
	}
	return dir, spec
}

func TestSpec(t *testing.T) {
	t.Parallel()
	dir, spec := specIn(t)
	if !strings.HasPrefix(spec.Version, "1.") {
		t.Errorf("ociVersion = %q, want 1.x", spec.Version)
	}
	if spec.Process == nil || len(spec.Process.Args) == 0 || spec.Root == nil || spec.Root.Path == "" {
		t.Errorf("spec lacks process.args or root.path: %+v", spec)
	}
	if spec.Linux == nil || len(spec.Linux.Namespaces) == 0 {
		t.Errorf("spec has no linux namespaces")
	}

	before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	r := execRuntime(t, dir, "spec")
	if r.Code == 0 {
		t.Errorf("spec over an existing config.json succeeded, want failure: %v", r)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if string(before) != string(after) {
		t.Errorf("failed spec modified the existing config.json")
	}
}

func TestSpecRootless(t *testing.T) {
	t.Parallel()
	_, spec := specIn(t, "--rootless")
	hasUser := false
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			hasUser = true
		}
	}
	if !hasUser {
		t.Errorf("spec --rootless has no user namespace: %+v", spec.Linux.Namespaces)
	}
	if len(spec.Linux.UIDMappings) == 0 || len(spec.Linux.GIDMappings) == 0 {
		t.Errorf("spec --rootless has no uid/gid mappings: uid %+v gid %+v", spec.Linux.UIDMappings, spec.Linux.GIDMappings)
	}
}

// Both spellings of the global --root flag select the same state dir.
func TestRootFlagForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _ := e.create(e.newBundle(withArgs("sleep", "1000")))
	for _, args := range [][]string{
		{"--root", e.root, "state", id},
		{"--root=" + e.root, "state", id},
		{"--root=" + e.root, "list", "-q"},
	} {
		stdout, stderr, code := rt(t, args...)
		if code != 0 || !strings.Contains(stdout, id) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 mentioning %s", args, code, stdout, stderr, id)
		}
	}
	// And a different root does not see it. (It must exist: list in a
	// --root that does not is an error, as with runc.)
	other := e.mkdir("other-root")
	if stdout, _, code := rt(t, "--root="+other, "list", "-q"); code != 0 || strings.Contains(stdout, id) {
		t.Errorf("list in another root: exit %d, stdout %q", code, stdout)
	}
	e.mustRT("delete", "--force", id)
}

// TestSpecCgroupNamespace: like runc spec, spec has a cgroup namespace only
// on a pure cgroup v2 host, so a config written for runc that adds one
// (runc's delete.bats: .linux.namespaces += [{"type": "cgroup"}]) runs.
func TestSpecCgroupNamespace(t *testing.T) {
	t.Parallel()
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	unified := st.Type == unix.CGROUP2_SUPER_MAGIC
	_, spec := specIn(t)
	has := false
	for _, ns := range spec.Linux.Namespaces {
		has = has || ns.Type == specs.CgroupNamespace
	}
	if has != unified {
		t.Errorf("spec on a host with cgroup2 unified=%v: cgroup namespace %v, want %v (runc's rule)", unified, has, unified)
	}
	if unified {
		return
	}
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}, "sh", "-c", "grep -c ':/$' /proc/self/cgroup")
	if n := strings.TrimSpace(out); n == "0" || n == "" {
		t.Errorf("with the cgroup namespace added, /proc/self/cgroup has no root paths: %q", out)
	}
}
