package config

import (
	"fmt"
	"log/slog"

	"github.com/hullrt/hull/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validateSeccomp checks linux.seccomp in the parent; unknown syscall
// names are skipped with a warning, as runc does.
func validateSeccomp(s *specs.Spec) error {
	if s.Linux.Seccomp == nil {
		return nil
	}
	// runc's default: a profile without a flags field (not even an empty
	// one) gets SPEC_ALLOW where libseccomp and the kernel have it. Made
	// explicit here, in the config the container is created from, since
	// an empty list and none look the same once sent to the init.
	if sc := s.Linux.Seccomp; sc.Flags == nil && seccomp.FlagSupported(specs.LinuxSeccompFlagSpecAllow) == nil {
		sc.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}
	}
	skipped, err := seccomp.Validate(s.Linux.Seccomp)
	if err != nil {
		return fmt.Errorf("%s: %w", ConfigName, err)
	}
	for _, sk := range skipped {
		slog.Warn(sk.String())
	}
	// runc's debug line (its init logs it when it loads the filter);
	// callers and runc's tests read the value.
	slog.Debug(fmt.Sprintf("seccomp filter flags: %d", seccomp.FilterFlags(s.Linux.Seccomp)))
	return nil
}
