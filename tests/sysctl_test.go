package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A sysctl of a link whose name has a dot (a VLAN's eth0.100): the key
// names it with '/' separators, or with '.' separators and the link's dot
// written as '/' (sysctl(8)). Both reach /proc/sys/net/ipv4/conf/br.100/.
// The link is a bridge named br.100 in a network namespace the test makes,
// which the container joins.
func TestSysctlDottedLinkName(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8) (iproute2) to make a named network namespace")
	}
	e := newEnv(t)
	name := fmt.Sprintf("hulltest-%d-%d", os.Getpid(), idCounter.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "-n", name, "link", "add", "br.100", "type", "bridge").CombinedOutput(); err != nil {
		t.Skipf("cannot make a bridge named br.100 in netns %s (no bridge support in this kernel?): %v: %s", name, err, out)
	}
	conf := "/proc/sys/net/ipv4/conf/br.100/"
	read := func(file string) string {
		out, err := exec.Command("ip", "netns", "exec", name, "cat", conf+file).CombinedOutput()
		if err != nil {
			t.Fatalf("read %s%s in netns %s: %v: %s", conf, file, name, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// Values the link does not have yet (a new netns copies them from the
	// host's defaults).
	fwd, rpf := "1", "2"
	if read("forwarding") == "1" {
		fwd = "0"
	}
	if read("rp_filter") == "2" {
		rpf = "1"
	}
	out := e.mustRun(all(withNamespace(specs.NetworkNamespace, "/run/netns/"+name), func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{
			"net/ipv4/conf/br.100/forwarding": fwd,
			"net.ipv4.conf.br/100.rp_filter":  rpf,
		}
	}), "sh", "-c", "echo FWD=$(cat "+conf+"forwarding); echo RPF=$(cat "+conf+"rp_filter)")
	if got := kv(out); got["FWD"] != fwd || got["RPF"] != rpf {
		t.Errorf("inside: forwarding %q, rp_filter %q of br.100; want %s and %s", got["FWD"], got["RPF"], fwd, rpf)
	}
	if f, r := read("forwarding"), read("rp_filter"); f != fwd || r != rpf {
		t.Errorf("netns %s after the run: forwarding %s, rp_filter %s of br.100; want %s and %s", name, f, r, fwd, rpf)
	}
}
