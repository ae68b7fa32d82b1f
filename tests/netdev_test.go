package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// linux.netDevices (runtime-spec v1.3.0, runc 1.5): a device of the
// runtime's network namespace moves into the container's, renamed if asked,
// with its MTU, its hardware address and its permanent addresses of global
// scope, and up. The runtime runs in a network namespace the test makes
// (these machines' host network is not ours to change), holding a veth pair
// made there.

var netnsCounter atomic.Int32

// testNetns makes a named network namespace (ip netns) with a veth pair
// hndA/hndB in it, and removes it after the test.
func testNetns(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("hulltest-nd-%d-%d", os.Getpid(), netnsCounter.Add(1))
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	ip("-n", ns, "link", "add", "hndA", "type", "veth", "peer", "name", "hndB")
	ip("-n", ns, "link", "set", "hndA", "mtu", "1400", "address", "02:00:00:00:00:42")
	ip("-n", ns, "addr", "add", "10.77.0.1/24", "dev", "hndA")
	ip("-n", ns, "addr", "add", "10.77.1.1/24", "scope", "link", "dev", "hndA")
	return ns
}

// rtInNetns runs the runtime with the test's --root inside network
// namespace ns (through nsenter: `ip netns exec` would also mount a new
// /sys, without the cgroup hierarchies).
func (e *env) rtInNetns(ns string, args ...string) result {
	e.t.Helper()
	return execBin(e.t, "nsenter", "", append([]string{"--net=/run/netns/" + ns, runtimeBin, "--root", e.root}, args...)...)
}

func withNetDevices(devs map[string]specs.LinuxNetDevice) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.NetDevices = devs }
}

func TestNetDevicesMoveRenamed(t *testing.T) {
	needRoot(t, "moving a network device needs CAP_NET_ADMIN in the host's user namespace")
	t.Parallel()
	e := newEnv(t)
	ns := testNetns(t)
	bundle := e.newBundle(all(
		withNetDevices(map[string]specs.LinuxNetDevice{"hndA": {Name: "ctr0"}}),
		withShell("cat /sys/class/net/ctr0/mtu /sys/class/net/ctr0/address /sys/class/net/ctr0/operstate; ip -o addr show dev ctr0")))
	id := e.newID()
	r := e.rtInNetns(ns, "run", "--bundle", bundle, id)
	if r.Code != 0 {
		t.Fatalf("run with netDevices: %v", r)
	}
	out := r.Stdout
	for _, want := range []string{"1400\n", "02:00:00:00:00:42\n", "inet 10.77.0.1/24", "ctr0"} {
		if !strings.Contains(out, want) {
			t.Errorf("inside the container: no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "10.77.1.1") {
		t.Errorf("the link-scope address moved too (runc moves only permanent global ones):\n%s", out)
	}
	// operstate of a veth whose peer is down is "lowerlayerdown": up was
	// asked for, which is what the flags say.
	if strings.Contains(out, "\ndown\n") {
		t.Errorf("ctr0 is down in the container:\n%s", out)
	}
	// The container's network namespace is gone, and the veth with it
	// (the kernel tears a namespace down in a workqueue: soon, not at
	// once).
	deadline := time.Now().Add(15 * time.Second)
	for exec.Command("ip", "-n", ns, "link", "show", "hndB").Run() == nil {
		if time.Now().After(deadline) {
			t.Errorf("hndB still exists in %s 15s after the container (and its namespace) went", ns)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNetDevicesMovedOutOfRuntimeNetns(t *testing.T) {
	needRoot(t, "moving a network device needs CAP_NET_ADMIN in the host's user namespace")
	t.Parallel()
	e := newEnv(t)
	ns := testNetns(t)
	bundle := e.newBundle(all(withNetDevices(map[string]specs.LinuxNetDevice{"hndA": {}}), withArgs("true")))
	id := e.newID()
	pidFile := filepath.Join(e.base, id+".pid")
	if r := e.rtInNetns(ns, "create", "--bundle", bundle, "--pid-file", pidFile, id); r.Code != 0 {
		t.Fatalf("create with netDevices: %v", r)
	}
	pid := e.readPidFile(pidFile)
	e.trackPid(pid)
	if err := exec.Command("ip", "-n", ns, "link", "show", "hndA").Run(); err == nil {
		t.Errorf("hndA is still in the runtime's namespace %s after create", ns)
	}
	out, err := exec.Command("nsenter", "--net=/proc/"+fmt.Sprint(pid)+"/ns/net", "ip", "-o", "addr", "show", "dev", "hndA").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "inet 10.77.0.1/24") {
		t.Errorf("hndA in the init's network namespace: %v: %s", err, out)
	}
	e.mustRT("delete", "--force", id)
}

func TestNetDevicesBadInput(t *testing.T) {
	needRoot(t, "the last case makes a network namespace")
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name   string
		mutate func(*specs.Spec)
		want   string
	}{
		{"no network namespace", all(withoutNamespace(specs.NetworkNamespace),
			withNetDevices(map[string]specs.LinuxNetDevice{"hndA": {}})),
			"unable to move network devices without a NET namespace"},
		{"bad host name", withNetDevices(map[string]specs.LinuxNetDevice{"a/b": {}}),
			`invalid network device name "a/b"`},
		{"bad new name", withNetDevices(map[string]specs.LinuxNetDevice{"hndA": {Name: "0123456789abcdefg"}}),
			`invalid network device name "0123456789abcdefg"`},
	}
	for _, c := range cases {
		bundle := e.newBundle(all(c.mutate, withArgs("true")))
		id := e.newID()
		r := e.rt("run", "--bundle", bundle, id)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%s: want a failure naming %q, got %v", c.name, c.want, r)
		}
		e.assertNotExist(id)
	}
	// A device the runtime's namespace does not have: runc's words, and
	// nothing left (the init and its namespace go).
	ns := testNetns(t)
	bundle := e.newBundle(all(withNetDevices(map[string]specs.LinuxNetDevice{"nosuchdev0": {}}), withArgs("true")))
	id := e.newID()
	r := e.rtInNetns(ns, "run", "--bundle", bundle, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "move netDevice nosuchdev0 to namespace") ||
		!strings.Contains(r.Stderr, "link not found for interface nosuchdev0") {
		t.Errorf("missing device: want runc's error, got %v", r)
	}
	e.assertNotExist(id)
	if err := exec.Command("ip", "-n", ns, "link", "show", "hndA").Run(); err != nil {
		t.Errorf("hndA left the runtime's namespace although the create failed: %v", err)
	}
}
