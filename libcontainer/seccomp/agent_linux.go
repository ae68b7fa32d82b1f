package seccomp

import (
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// agentTimeout bounds each send to the agent: an agent that accepts but
// never reads must fail the container start with an error (the spec
// requires one when sending fails) instead of hanging the runtime
// forever. A variable for the tests.
var agentTimeout = 30 * time.Second

// SendToAgent implements the runtime-spec's seccomp notify hand-over: on
// conn, a SOCK_STREAM connection to the agent at listenerPath, it sends
// one container-process-state message (see ContainerProcessState) with fd
// attached as SCM_RIGHTS (the spec allows exactly one state per
// connection: the caller closes conn after).
//
// state is the container's state (as `hull state` and the hooks see it);
// its pid is the container process pid. metadata is the profile's
// listenerMetadata. fd stays open: the caller owns it.
//
// listenerPath is a host path, so the runtime (parent) connects, in its
// own mount namespace, and hands the connection to the init, which loads
// the filter after pivot_root and calls this with the listener fd.
func SendToAgent(conn, fd int, state specs.State, metadata string) error {
	if fd < 0 {
		return fmt.Errorf("invalid fd %d", fd)
	}
	msg, err := ContainerProcessState(state, state.Pid, metadata)
	if err != nil {
		return err
	}
	// Raw syscalls rather than package net: no netpoller, no goroutines,
	// which keeps this usable from the init.
	tv := unix.NsecToTimeval(agentTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(conn, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		return fmt.Errorf("set send timeout: %w", err)
	}
	// The fd goes with the first sendmsg only, as the spec requires when
	// the message takes several calls; the rest is plain stream data.
	oob := unix.UnixRights(fd)
	for len(msg) > 0 {
		var n int
		err := retryEINTR(func() (err error) {
			n, err = unix.SendmsgN(conn, msg, oob, nil, unix.MSG_NOSIGNAL)
			return err
		})
		if errors.Is(err, unix.EAGAIN) {
			return fmt.Errorf("sendmsg: the agent read nothing for %v: %w", agentTimeout, err)
		}
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
