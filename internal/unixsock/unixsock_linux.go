package unixsock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Dial connects a blocking stream socket to the unix socket at path and
// returns it as a file. A few system calls do what net.Dial does here, and
// keep the net package (its poller, resolver and 200 KB of code, paged in
// at every start) out of hull.
func Dial(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect to %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// RecvFd receives the one fd sent with SCM_RIGHTS on conn (runc's
// console-socket protocol: the pty master), close-on-exec. conn may be a
// blocking socket or one Go's poller serves (hull-shim's).
func RecvFd(conn *os.File) (int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("receive pty master: %w", err)
	}
	buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4*4))
	var oobn int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		_, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return -1, fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return -1, fmt.Errorf("receive pty master: %w", err)
	}
	var fds []int
	for i := range msgs {
		if r, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, r...)
		}
	}
	switch len(fds) {
	case 1:
		return fds[0], nil
	case 0:
		return -1, errors.New("receive pty master: no fd in the message")
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return -1, fmt.Errorf("receive pty master: want one fd in the message, got %d", len(fds))
}

// RecvFile is RecvFd with the fd as a file named name.
func RecvFile(conn *os.File, name string) (*os.File, error) {
	fd, err := RecvFd(conn)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}
