package seccomp

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ContainerProcessState builds the JSON message the runtime-spec has the
// runtime send to the seccomp agent: the container state, the pid of the
// container process as the runtime sees it, the profile's
// listenerMetadata, and the names of the fds sent with it (only the
// seccomp listener, so fds is ["seccompFd"] matching SendToAgent).
func ContainerProcessState(state specs.State, pid int, metadata string) ([]byte, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("container process state: invalid pid %d", pid)
	}
	b, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: metadata,
		State:    state,
	})
	if err != nil {
		return nil, fmt.Errorf("encode container process state: %w", err)
	}
	return b, nil
}
