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
	// idmap mounts (MOUNT_ATTR_IDMAP) and linux.netDevices, as runc 1.5.
	f.Linux.MountExtensions = &features.MountExtensions{IDMap: &features.IDMap{Enabled: &t}}
	f.Linux.NetDevices = &features.NetDevices{Enabled: &t}
	f.Annotations = map[string]string{"io.github.seccomp.libseccomp.version": seccomp.Version()}
	// Annotations that change what the runtime does to the host.
	f.PotentiallyUnsafeConfigAnnotations = []string{"org.systemd.property."}
	// The cgroupfs driver for both versions and the systemd one, the
	// system's instance and a user's (rootless, over the session bus).
	f.Linux.Cgroup = &features.Cgroup{V1: &t, V2: &t, Systemd: &t, SystemdUser: &t, Rdma: &t}
	return f
}
