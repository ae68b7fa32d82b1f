package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// agentTimeout bounds each send to the agent and the connect: an agent
// that accepts but never reads must fail the container start with an
// error (the spec requires one when sending fails) instead of hanging the
// runtime forever.
const agentTimeout = 30 * time.Second

// SendToAgent implements the runtime-spec's seccomp notify hand-over: it
// connects to the SOCK_STREAM unix socket at listenerPath and sends one
// container-process-state message (see ContainerProcessState) with fd
// attached as SCM_RIGHTS, then closes the connection (the spec allows
// exactly one state per connection).
//
// state is the container's state JSON (specs.State, as `hull state` and
// the hooks see it); its pid is used as the container process pid.
// metadata is the profile's listenerMetadata. fd stays open: the caller
// still owns it and closes it once sent.
//
// listenerPath is a host path: it is resolved in the caller's mount
// namespace and root, so the natural caller is the runtime (parent) once
// it has the fd from the init, not the init after pivot_root.
func SendToAgent(listenerPath string, fd int, state []byte, metadata string) error {
	if fd < 0 {
		return fmt.Errorf("send seccomp fd to agent %s: invalid fd %d", listenerPath, fd)
	}
	var st specs.State
	if err := json.Unmarshal(state, &st); err != nil {
		return fmt.Errorf("send seccomp fd to agent %s: decode container state: %w", listenerPath, err)
	}
	msg, err := ContainerProcessState(st, st.Pid, metadata)
	if err != nil {
		return fmt.Errorf("send seccomp fd to agent %s: %w", listenerPath, err)
	}
	if err := sendWithFd(listenerPath, msg, fd); err != nil {
		return fmt.Errorf("send seccomp fd to agent %s: %w", listenerPath, err)
	}
	return nil
}

func sendWithFd(path string, msg []byte, fd int) (retErr error) {
	// Raw syscalls rather than package net: no netpoller, no goroutines,
	// which keeps this usable from the init as well as the runtime.
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer func() {
		if err := unix.Close(sock); err != nil && retErr == nil {
			retErr = fmt.Errorf("close: %w", err)
		}
	}()
	tv := unix.NsecToTimeval(agentTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(sock, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		return fmt.Errorf("set send timeout: %w", err)
	}
	if err := retryEINTR(func() error { return unix.Connect(sock, &unix.SockaddrUnix{Name: path}) }); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// The fd goes with the first sendmsg only, as the spec requires when
	// the message takes several calls; the rest is plain stream data.
	oob := unix.UnixRights(fd)
	for len(msg) > 0 {
		var n int
		err := retryEINTR(func() (err error) {
			n, err = unix.SendmsgN(sock, msg, oob, nil, unix.MSG_NOSIGNAL)
			return err
		})
		if err != nil {
			return fmt.Errorf("sendmsg: %w", err)
		}
		msg, oob = msg[n:], nil
	}
	return nil
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
