package config

import (
	"testing"

	"github.com/hullrt/hull/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runc's default flags: none given means SPEC_ALLOW (where supported); an
// empty list stays empty.
func TestSeccompDefaultFlags(t *testing.T) {
	if err := seccomp.FlagSupported(specs.LinuxSeccompFlagSpecAllow); err != nil {
		t.Skipf("SECCOMP_FILTER_FLAG_SPEC_ALLOW not supported here: %v", err)
	}
	mk := func(flags []specs.LinuxSeccompFlag) *specs.Spec {
		return &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow, Flags: flags,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}},
		}}}
	}
	s := mk(nil)
	if err := validateSeccomp(s); err != nil {
		t.Fatal(err)
	}
	if f := s.Linux.Seccomp.Flags; len(f) != 1 || f[0] != specs.LinuxSeccompFlagSpecAllow {
		t.Errorf("flags of a profile without any: %v, want [SECCOMP_FILTER_FLAG_SPEC_ALLOW]", f)
	}
	s = mk([]specs.LinuxSeccompFlag{})
	if err := validateSeccomp(s); err != nil {
		t.Fatal(err)
	}
	if f := s.Linux.Seccomp.Flags; len(f) != 0 {
		t.Errorf("flags of a profile with an empty list: %v, want none", f)
	}
}
