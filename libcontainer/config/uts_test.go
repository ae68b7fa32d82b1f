package config

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The init sets hostname and domainname whenever the config gives them
// (initproc.finalizeContainer): that they need a new UTS namespace is
// decided here.
func TestHostnameNeedsUTSNamespace(t *testing.T) {
	for _, c := range []struct {
		hostname, domainname string
		uts                  bool
		want                 string
	}{
		{"box", "", false, "setting the hostname needs a new uts namespace"},
		{"", "example.org", false, "setting the domainname needs a new uts namespace"},
		{"box", "example.org", true, ""},
		{"", "", false, ""},
	} {
		s := &specs.Spec{Hostname: c.hostname, Domainname: c.domainname, Linux: &specs.Linux{}}
		if c.uts {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UTSNamespace}}
		}
		err := validateNamespaces(s)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("hostname %q domainname %q uts %v: err = %v, want %q", c.hostname, c.domainname, c.uts, err, c.want)
		}
	}
}
