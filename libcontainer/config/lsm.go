package config

import (
	"github.com/hullrt/hull/libcontainer/lsm"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validateLSM refuses a label for a security module the host does not run:
// the container would otherwise run unconfined while its config says it
// is confined.
func validateLSM(s *specs.Spec, path string, p *specs.Process) error {
	if p.ApparmorProfile != "" && !lsm.AppArmorEnabled() {
		return FieldErr(path+".apparmorProfile", "profile %q given, but AppArmor is not enabled on this host", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !lsm.SELinuxEnabled() {
		return FieldErr(path+".selinuxLabel", "label %q given, but SELinux is not enabled on this host", p.SelinuxLabel)
	}
	return nil
}
