package libcontainer

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/hullrt/hull/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

func usesNotify(s *specs.LinuxSeccomp) bool {
	if s == nil {
		return false
	}
	for _, r := range s.Syscalls {
		if r.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

// dialSeccompAgent connects, in the runtime's own namespaces, to the
// agent's socket: the init loads its filter after pivot_root, where the
// host path no longer resolves, and sends the listener fd over this
// connection.
func dialSeccompAgent(s *specs.LinuxSeccomp) (*os.File, error) {
	if !usesNotify(s) {
		return nil, nil
	}
	f, err := dialUnix(s.ListenerPath)
	if err != nil {
		// runc's wording, which callers match.
		return nil, fmt.Errorf("linux.seccomp.listenerPath: failed to connect with seccomp agent specified in the seccomp profile: %w", err)
	}
	return f, nil
}

// loadSeccomp loads the filter into this process and, for SCMP_ACT_NOTIFY,
// sends the listener fd with the container process state to the agent.
func loadSeccomp(s *specs.Spec, agentFd int, st *specs.State) error {
	if s.Linux == nil || s.Linux.Seccomp == nil {
		return nil
	}
	fd, err := seccomp.Load(s.Linux.Seccomp)
	if err != nil {
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	if agentFd < 0 {
		return fmt.Errorf("seccomp notify: no connection to the agent")
	}
	if err := seccomp.SendToAgent(agentFd, fd, *st, s.Linux.Seccomp.ListenerMetadata); err != nil {
		return fmt.Errorf("send seccomp fd to agent %s: %w", s.Linux.Seccomp.ListenerPath, err)
	}
	unix.Close(agentFd)
	return nil
}
