package config

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSysctlKey(t *testing.T) {
	for _, c := range []struct{ key, name, path string }{
		{"kernel.shmmax", "kernel.shmmax", "kernel/shmmax"},
		{"kernel/shmmax", "kernel.shmmax", "kernel/shmmax"},
		{"kernel", "kernel", "kernel"},
		// A dot in an interface name: with '/' separators it stays a dot;
		// with '.' separators it is written as a '/'.
		{"net/ipv4/conf/eth0.100/forwarding", "net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding"},
		{"net.ipv4.conf.eth0/100.forwarding", "net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding"},
		{"net.ipv4.conf.eth0.forwarding", "net.ipv4.conf.eth0.forwarding", "net/ipv4/conf/eth0/forwarding"},
	} {
		if got := sysctlName(c.key); got != c.name {
			t.Errorf("sysctlName(%q) = %q, want %q", c.key, got, c.name)
		}
		if got := SysctlPath(c.key); got != c.path {
			t.Errorf("SysctlPath(%q) = %q, want %q", c.key, got, c.path)
		}
	}
	for key, ok := range map[string]bool{
		"net/ipv4/conf/eth0.100/forwarding": true,
		"net/../../x":                       false,
		"net.ipv4..x":                       false,
		".net.ipv4":                         false,
		"net/ipv4/":                         false,
		"net/ipv4/conf/./x":                 false,
		"net/ipv4/conf/a..b/x":              true, // "a..b" is a valid link name
	} {
		if got := validSysctlPath(SysctlPath(key)); got != ok {
			t.Errorf("validSysctlPath(SysctlPath(%q)) = %v, want %v", key, got, ok)
		}
	}
}

// The spec is refused with runc's messages, which name the key in its
// dotted form.
func TestSysctlValidateNames(t *testing.T) {
	for key, want := range map[string]string{
		"net/ipv4/conf/eth0.100/forwarding": `sysctl "net.ipv4.conf.eth0/100.forwarding" not allowed in host network namespace`,
		"kernel/shmmax":                     `sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace`,
		"net/../../x":                       "invalid name",
	} {
		s := &specs.Spec{Linux: &specs.Linux{Sysctl: map[string]string{key: "1"}}}
		err := validateSysctl(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validateSysctl(%q) = %v, want an error with %q", key, err, want)
		}
	}
}
