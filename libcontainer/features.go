package libcontainer

import (
	"sort"

	"github.com/hullrt/hull/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// Features is what `hull features` prints: the runtime-spec features
// document, built from the tables the runtime itself uses, so it cannot
// claim what hull does not do.
func Features() *features.Features {
	t := true
	f := &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{hookPrestart, hookCreateRuntime, hookCreateContainer, hookStartContainer, hookPoststart, hookPoststop},
		Linux: &features.Linux{
			Capabilities: CapabilityNames(),
			Apparmor:     &features.Apparmor{Enabled: &t},
			Selinux:      &features.Selinux{Enabled: &t},
		},
	}
	var opts []string
	for o := range flagOpts {
		opts = append(opts, o)
	}
	for o := range propagationOpts {
		opts = append(opts, o)
	}
	for o := range attrOpts {
		opts = append(opts, o)
	}
	opts = append(opts, "bind", "rbind", "tmpcopyup")
	sort.Strings(opts)
	f.MountOptions = opts
	for t := range namespaceTypes {
		f.Linux.Namespaces = append(f.Linux.Namespaces, string(t))
	}
	sort.Strings(f.Linux.Namespaces)
	var modes, flags []string
	for m := range mpolModes {
		modes = append(modes, string(m))
	}
	for m := range mpolFlags {
		flags = append(flags, string(m))
	}
	sort.Strings(modes)
	sort.Strings(flags)
	f.Linux.MemoryPolicy = &features.MemoryPolicy{Modes: modes, Flags: flags}
	f.Linux.Seccomp = seccomp.Features()
	// The cgroupfs driver for both versions and the systemd one (system
	// instance only: no rootless systemd driver).
	no := false
	f.Linux.Cgroup = &features.Cgroup{V1: &t, V2: &t, Systemd: &t, SystemdUser: &no, Rdma: &t}
	return f
}
