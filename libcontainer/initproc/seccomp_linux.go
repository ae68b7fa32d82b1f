package initproc

import (
	"fmt"

	"github.com/hullrt/hull/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// compileSeccomp compiles the config's filter, nil if it has none.
func compileSeccomp(s *specs.Spec) (*seccomp.Program, error) {
	if s.Linux == nil || s.Linux.Seccomp == nil {
		return nil, nil
	}
	p, err := seccomp.Compile(s.Linux.Seccomp)
	if err != nil {
		return nil, fmt.Errorf("load seccomp filter: %w", err)
	}
	return p, nil
}

// loadSeccomp loads the compiled filter into this process and, for
// SCMP_ACT_NOTIFY, sends the listener fd with the container process state
// to the agent.
func loadSeccomp(prog *seccomp.Program, s *specs.Spec, agentFd int, st *specs.State) error {
	if prog == nil {
		return nil
	}
	fd, err := prog.Load()
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
