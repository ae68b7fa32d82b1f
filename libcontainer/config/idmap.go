package config

import (
	"errors"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// IsIDMapped tells whether m is an id-mapped mount.
func IsIDMapped(m specs.Mount, opts *MountOpts) bool {
	return opts.IDMap || m.UIDMappings != nil || m.GIDMappings != nil
}

// validateIDMapMount applies runc's rules to an id-mapped mount: only a
// bind mount, with both mappings, or with none when the container has a
// user namespace whose mappings it then takes.
func validateIDMapMount(s *specs.Spec, m specs.Mount, opts *MountOpts) error {
	if !IsIDMapped(m, opts) {
		return nil
	}
	if !IsBind(m) {
		return errors.New("id-mapped mounts are only supported for bind-mounts")
	}
	if os.Geteuid() != 0 {
		// As runc: mapping a mount needs host root.
		return errors.New("id-mapped mounts are not supported for rootless containers")
	}
	if m.UIDMappings == nil && m.GIDMappings == nil && UserNSOf(s) != nil {
		return nil // the container's user namespace gives the mapping
	}
	if len(m.UIDMappings) == 0 || len(m.GIDMappings) == 0 {
		return errors.New("id-mapped mounts must have both uid and gid mappings specified")
	}
	return nil
}

func UserNSOf(s *specs.Spec) *specs.LinuxNamespace {
	if s.Linux == nil {
		return nil
	}
	for i := range s.Linux.Namespaces {
		if s.Linux.Namespaces[i].Type == specs.UserNamespace {
			return &s.Linux.Namespaces[i]
		}
	}
	return nil
}

// MountIDMapping is the mapping an id-mapped mount gets: its own, else the
// container's user namespace (its mappings, or the path of the one joined).
func MountIDMapping(s *specs.Spec, m specs.Mount) (uids, gids []specs.LinuxIDMapping, nsPath string) {
	if m.UIDMappings != nil || m.GIDMappings != nil {
		return m.UIDMappings, m.GIDMappings, ""
	}
	if ns := UserNSOf(s); ns != nil && ns.Path != "" {
		return nil, nil, ns.Path
	}
	return s.Linux.UIDMappings, s.Linux.GIDMappings, ""
}
