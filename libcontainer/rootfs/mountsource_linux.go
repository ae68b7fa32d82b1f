package rootfs

import (
	"errors"
	"fmt"

	"github.com/hullrt/hull/libcontainer/internal/proto"
	"golang.org/x/sys/unix"
)

// mountSourceFrom is the init's side: it asks the parent for the source of
// spec.Mounts[i] and returns the fd it got.
func mountSourceFrom(conn proto.Conn, i int) (int, error) {
	if err := conn.Send(&proto.Message{Type: proto.MsgMountSource, Mount: &i}); err != nil {
		return -1, err
	}
	m, fd, err := conn.RecvFd()
	if err != nil {
		return -1, err
	}
	switch {
	case m.Type == proto.MsgError:
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, errors.New(m.Error)
	case m.Type != proto.MsgMountSourceFd || fd < 0:
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("unexpected %q message (fd %d) while waiting for a mount source", m.Type, fd)
	}
	return fd, nil
}
