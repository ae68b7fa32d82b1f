package process

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// userExe is selfExe for a process that may not make a mount (a user, or
// root without CAP_SYS_ADMIN over its mount namespace), where open_tree
// fails with EPERM. The protection is then one that needs no privilege:
//   - a binary that only host root may write (owned by root, not writable
//     by group or others) is executed as it is: no process of a user's
//     container is host root, and the container's root is the user or one
//     of its subordinate ids, neither of which can open it for writing;
//   - any other binary (the user's own copy, say) is copied into a sealed
//     memfd (no write, grow, shrink, nor further seal), as runc does: the
//     container's /proc/<pid>/exe then leads to that copy, which nobody
//     can change.
func userExe() (*os.File, error) {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("cannot protect the hull binary: open /proc/self/exe: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot protect the hull binary: fstat /proc/self/exe: %w", err)
	}
	if rootOnlyWritable(st) {
		return f, nil
	}
	defer f.Close()
	fd, err := unix.MemfdCreate("hull-exe", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("cannot protect the hull binary: memfd_create: %w", err)
	}
	m := os.NewFile(uintptr(fd), "hull-exe")
	if _, err := io.Copy(m, f); err != nil {
		m.Close()
		return nil, fmt.Errorf("cannot protect the hull binary: copy into a memfd: %w", err)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(m.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		m.Close()
		return nil, fmt.Errorf("cannot protect the hull binary: seal its memfd copy: %w", err)
	}
	return m, nil
}

// rootOnlyWritable: a regular file owned by uid 0 that neither its group
// (unless that is gid 0) nor others may write.
func rootOnlyWritable(st unix.Stat_t) bool {
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Mode&0o002 != 0 {
		return false
	}
	return st.Gid == 0 || st.Mode&0o020 == 0
}
