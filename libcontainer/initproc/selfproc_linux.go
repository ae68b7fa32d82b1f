package initproc

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// writeSelfProc writes /proc/self/<name>. A process that joined a user
// namespace is non-dumpable during setup (preinit.c), which makes its
// /proc files owned by host root and unwritable for root in the
// namespace: it is dumpable for the moment of the write.
func writeSelfProc(name string, data []byte) error {
	p := "/proc/self/" + name
	err := os.WriteFile(p, data, 0)
	if errors.Is(err, unix.EACCES) {
		if d, derr := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); derr == nil && d == 0 {
			if unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0) == nil {
				err = os.WriteFile(p, data, 0)
				unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// readSelfProc reads /proc/self/<name>, dumpable for the moment if the
// process is not (see writeSelfProc).
func readSelfProc(name string) ([]byte, error) {
	p := "/proc/self/" + name
	b, err := os.ReadFile(p)
	if errors.Is(err, unix.EACCES) {
		if d, derr := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); derr == nil && d == 0 {
			if unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0) == nil {
				b, err = os.ReadFile(p)
				unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
			}
		}
	}
	return b, err
}
