package libcontainer

import (
	"sort"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/hooks"
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
		Hooks:         []string{hooks.Prestart, hooks.CreateRuntime, hooks.CreateContainer, hooks.StartContainer, hooks.Poststart, hooks.Poststop},
		Linux: &features.Linux{
			Capabilities: capabilities.Names(),
			Apparmor:     &features.Apparmor{Enabled: &t},
			Selinux:      &features.Selinux{Enabled: &t},
		},
	}
	var opts []string
	for o := range config.FlagOpts {
		opts = append(opts, o)
	}
	for o := range config.PropagationOpts {
		opts = append(opts, o)
	}
	for o := range config.AttrOpts {
		opts = append(opts, o)
	}
	opts = append(opts, "bind", "rbind", "tmpcopyup")
	sort.Strings(opts)
	f.MountOptions = opts
	for t := range config.NamespaceTypes {
		f.Linux.Namespaces = append(f.Linux.Namespaces, string(t))
	}
	sort.Strings(f.Linux.Namespaces)
	var modes, flags []string
	for m := range config.MemPolicyModes {
		modes = append(modes, string(m))
	}
	for m := range config.MemPolicyFlags {
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
