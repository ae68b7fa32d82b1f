package tests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var nsNames = []string{"pid", "net", "mnt", "ipc", "uts", "cgroup"}

// containerNS runs a container and returns its /proc/self/ns/<name> links.
func containerNS(t *testing.T, e *env, mutate func(*specs.Spec)) map[string]string {
	t.Helper()
	script := ""
	for _, n := range nsNames {
		script += fmt.Sprintf("echo %s=$(readlink /proc/self/ns/%s); ", n, n)
	}
	return kv(e.mustRun(all(mutate, withShell(script))))
}

func TestNamespacesDiffer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// runc's default spec has no cgroup namespace; ask for one.
	got := containerNS(t, e, withNamespace(specs.CgroupNamespace, ""))
	for _, n := range nsNames {
		if got[n] == "" || got[n] == hostNS(t, n) {
			t.Errorf("%s namespace: container %q, host %q; want a new one", n, got[n], hostNS(t, n))
		}
	}
}

func TestNamespaceNotInConfigIsShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := containerNS(t, e, withoutNamespace(specs.NetworkNamespace))
	if got["net"] != hostNS(t, "net") {
		t.Errorf("net namespace not in config: container %q, want the host's %q", got["net"], hostNS(t, "net"))
	}
	if got["pid"] == hostNS(t, "pid") {
		t.Errorf("pid namespace is in config but the container shares the host's")
	}
}

func TestPid1(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if out := e.mustRun(nil, "sh", "-c", "echo $$"); strings.TrimSpace(out) != "1" {
		t.Errorf("echo $$ in the container = %q, want 1", out)
	}
}

func TestTimeNamespace(t *testing.T) {
	t.Parallel()
	// The kernel has time namespaces (CONFIG_TIME_NS, Linux 5.6) if a
	// process has one: then the run below must succeed.
	if _, err := os.Lstat("/proc/self/ns/time"); errors.Is(err, os.ErrNotExist) {
		t.Skipf("this kernel has no time namespaces (no /proc/self/ns/time): %v", err)
	}
	e := newEnv(t)
	const shift = 10 * 24 * 3600 // ten days
	r := e.run(all(withNamespace(specs.TimeNamespace, ""), withShell("cat /proc/uptime"), func(s *specs.Spec) {
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
			"boottime":  {Secs: shift},
			"monotonic": {Secs: shift},
		}
	}))
	if r.Code != 0 {
		t.Fatalf("run in a new time namespace with timeOffsets: %v", r)
	}
	inside := uptime(t, r.Stdout)
	b, _ := os.ReadFile("/proc/uptime")
	host := uptime(t, string(b))
	if d := inside - host; d < shift-60 || d > shift+60 {
		t.Errorf("uptime inside %.0fs, host %.0fs: shift %.0fs, want about %d", inside, host, d, shift)
	}
}

func uptime(t *testing.T, s string) float64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatalf("bad /proc/uptime %q", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func withUserNS(s *specs.Spec) {
	withNamespace(specs.UserNamespace, "")(s)
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

// userNSBundle makes a bundle whose rootfs is owned by the mapped root and
// whose parent dirs are searchable by it.
func userNSBundle(t *testing.T, e *env, mutate func(*specs.Spec)) string {
	t.Helper()
	needRoot(t, "shifts the rootfs's owners by 100000 (chown)")
	bundle := e.newBundle(all(withUserNS, mutate))
	for _, d := range []string{e.base, bundle} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Shift the ownership of the rootfs by 100000, as an engine would.
	err := filepath.Walk(filepath.Join(bundle, "rootfs"), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		return os.Lchown(p, 100000+int(st.Uid), 100000+int(st.Gid))
	})
	if err != nil {
		t.Fatalf("chown rootfs: %v", err)
	}
	return bundle
}

func TestUserNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Inside: the mappings and the mapped root.
	r := e.rt("run", "--bundle", userNSBundle(t, e, withShell("cat /proc/self/uid_map /proc/self/gid_map; id -u")), e.newID())
	want := []string{"0 100000 65536", "0 100000 65536", "0"}
	got := lines(r.Stdout)
	for i := range got {
		got[i] = strings.Join(strings.Fields(got[i]), " ")
	}
	if r.Code != 0 || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("uid_map, gid_map, id -u = %q (%v), want %q", got, r, want)
	}

	// Outside: the init process runs as host uid 100000.
	id, pid := e.create(userNSBundle(t, e, sleeper))
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d", pid), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 100000 || st.Gid != 100000 {
		t.Errorf("container init runs as host uid:gid %d:%d, want 100000:100000", st.Uid, st.Gid)
	}
	e.mustRT("delete", "--force", id)
}

// TestUserNamespaceWritableRootfs checks that a rootfs shifted to the
// mapped ids is writable by container root.
func TestUserNamespaceWritableRootfs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := userNSBundle(t, e, withShell("touch /made-by-userns-root && stat -c %u /made-by-userns-root"))
	id := e.newID()
	r := e.rt("run", "--bundle", bundle, id)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "0" {
		t.Fatalf("run: %v; want exit 0 and owner 0 inside", r)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(bundle+"/rootfs/made-by-userns-root", &st); err != nil || st.Uid != 100000 {
		t.Errorf("file made by container root: %v, host uid %d, want 100000", err, st.Uid)
	}
}

func TestJoinNetNamespaceByPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	holder := exec.Command("unshare", "--net", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Skipf("cannot start `unshare --net` to make a network namespace: %v", err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	nsPath := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	var want string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if l, err := os.Readlink(nsPath); err == nil && l != hostNS(t, "net") {
			want = l
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare --net did not enter a new network namespace")
		}
	}
	got := containerNS(t, e, withNamespace(specs.NetworkNamespace, nsPath))
	if got["net"] != want {
		t.Errorf("container net namespace %q, want the joined %q", got["net"], want)
	}
	if got["uts"] == hostNS(t, "uts") {
		t.Errorf("uts namespace shared with the host")
	}
}

func TestHostname(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) { s.Hostname = "hull-host" }, "hostname")
	if strings.TrimSpace(out) != "hull-host" {
		t.Errorf("hostname = %q, want hull-host", out)
	}
}

func TestDomainname(t *testing.T) {
	if !isHull {
		t.Skip("runc 1.1.5 deviates: it ignores the domainname field (prints \"(none)\")")
	}
	t.Parallel()
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) { s.Hostname = "hull-host"; s.Domainname = "hull.example" },
		"cat", "/proc/sys/kernel/domainname")
	if strings.TrimSpace(out) != "hull.example" {
		t.Errorf("domainname = %q, want hull.example", out)
	}
}
