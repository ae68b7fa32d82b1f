package config

import specs "github.com/opencontainers/runtime-spec/specs-go"

// HasMountNS tells whether the container has a mount namespace of its own
// (new or joined).
func HasMountNS(s *specs.Spec) bool {
	return HasNewNS(s, specs.MountNamespace) || JoinsNS(s, specs.MountNamespace)
}

func HasNewNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path == ""
		}
	}
	return false
}

func JoinsNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path != ""
		}
	}
	return false
}
