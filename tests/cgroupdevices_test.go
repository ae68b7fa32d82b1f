package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linux.devices creates nodes; it does not allow them in the device
// cgroup. With linux.resources.devices denying everything, the /dev/kmsg
// the config lists exists but cannot be opened (runc: the config's rules
// plus its fixed default list only); a rule that allows c 1:11 opens it.
func TestCgroupDevicesListedNodeStaysDenied(t *testing.T) {
	t.Parallel()
	script := `if (: > /dev/kmsg) 2>/tmp/err; then echo open=ok; else echo open=fail; echo "err=$(cat /tmp/err)"; fi
if [ -c /dev/kmsg ]; then echo node=ok; fi
echo x > /dev/null && echo null=ok`
	cfg := func(allowKmsg bool) func(*specs.Spec) {
		return func(s *specs.Spec) {
			rules := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
			if allowKmsg {
				rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: cgI64(1), Minor: cgI64(11), Access: "w"})
			}
			cgResources(s).Devices = rules
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11})
		}
	}
	t.Run("denied", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		out, code := e.runContainer(all(withShell(script), cfg(false)))
		got := kv(out)
		if code != 0 || got["node"] != "ok" || got["null"] != "ok" || got["open"] != "fail" || !strings.Contains(got["err"], "Operation not permitted") {
			t.Errorf("deny-all + linux.devices /dev/kmsg: exit %d, output %q; want node=ok null=ok open=fail with \"Operation not permitted\"", code, out)
		}
	})
	t.Run("allowed-by-rule", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		out, code := e.runContainer(all(withShell(script), cfg(true)))
		if got := kv(out); code != 0 || got["node"] != "ok" || got["open"] != "ok" {
			t.Errorf("deny-all + allow c 1:11 w + linux.devices /dev/kmsg: exit %d, output %q; want node=ok open=ok", code, out)
		}
	})
}
