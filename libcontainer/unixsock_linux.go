package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dialUnix connects a blocking stream socket to the unix socket at path and
// returns it as a file. A few system calls do what net.Dial does here, and
// keep the net package (its poller, resolver and 200 KB of code, paged in
// at every start) out of hull.
func dialUnix(path string) (*os.File, error) {
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
