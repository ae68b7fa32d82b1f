package process

import (
	"fmt"
	"os"

	"github.com/hullrt/hull/internal/unixsock"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

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

// DialSeccompAgent connects, in the runtime's own namespaces, to the
// agent's socket: the init loads its filter after pivot_root, where the
// host path no longer resolves, and sends the listener fd over this
// connection.
func DialSeccompAgent(s *specs.LinuxSeccomp) (*os.File, error) {
	if !usesNotify(s) {
		return nil, nil
	}
	f, err := unixsock.Dial(s.ListenerPath)
	if err != nil {
		// runc's wording, which callers match.
		return nil, fmt.Errorf("linux.seccomp.listenerPath: failed to connect with seccomp agent specified in the seccomp profile: %w", err)
	}
	return f, nil
}
