package unixsock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dialUnix connects a blocking stream socket to the unix socket at path and
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

// recvFd receives one fd sent with SCM_RIGHTS.
func RecvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
	if err != nil {
		return nil, fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("receive pty master: no fd in the message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("receive pty master: no fd in the message")
	}
	unix.CloseOnExec(fds[0])
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}
