package config

import (
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// validateNetDevices checks linux.netDevices as runc does, with its words:
// devices move only into a network namespace of the container's own (new
// or joined by path, never the host's), and both the host name and the new
// name must be names the kernel takes (it would refuse them later, with
// the device half-moved).
func validateNetDevices(s *specs.Spec) error {
	if len(s.Linux.NetDevices) == 0 {
		return nil
	}
	hasNet := false
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.NetworkNamespace {
			hasNet = true
		}
	}
	if !hasNet {
		return FieldErr("linux.netDevices", "unable to move network devices without a NET namespace")
	}
	for name, d := range s.Linux.NetDevices {
		if !validDevName(name) {
			return FieldErr("linux.netDevices", "invalid network device name %q", name)
		}
		if d.Name != "" && !validDevName(d.Name) {
			return FieldErr("linux.netDevices."+name+".name", "invalid network device name %q", d.Name)
		}
	}
	return nil
}

// validDevName is the kernel's dev_valid_name: at most IFNAMSIZ-1 bytes
// (the name is NUL-terminated in IFNAMSIZ), not "." or "..", no '/', ':'
// or white space.
func validDevName(name string) bool {
	if name == "" || len(name) >= unix.IFNAMSIZ || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/: \t\n\v\f\r")
}
