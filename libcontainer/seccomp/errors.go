package seccomp

import (
	"errors"
	"fmt"
)

// root is the JSON path of the seccomp section in config.json; every
// error this package returns about the profile starts with it.
const root = "linux.seccomp"

// ErrUnsupported is wrapped by errors about things the profile spells
// correctly but this host's libseccomp or kernel cannot do, so that a
// caller can tell "fix your config" from "use another host".
var ErrUnsupported = errors.New("not supported by this host's libseccomp or kernel")

// PathError is a problem with one field of the profile. Path is the JSON
// path in config.json, e.g. linux.seccomp.syscalls[3].action.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *PathError) Unwrap() error { return e.Err }

func pathErr(path string, format string, args ...any) error {
	return &PathError{Path: path, Err: fmt.Errorf(format, args...)}
}

// unsupported wraps ErrUnsupported and the reason libseccomp gave, so the
// message says both that the host is the problem and why.
func unsupported(path, what string, cause error) error {
	if cause == nil {
		return &PathError{Path: path, Err: fmt.Errorf("%s is %w", what, ErrUnsupported)}
	}
	return &PathError{Path: path, Err: fmt.Errorf("%s is %w: %w", what, ErrUnsupported, cause)}
}

// SkippedSyscall is a syscall name that libseccomp does not know. Like
// runc, hull leaves it out of the filter rather than failing, since
// profiles list syscalls newer than some hosts; the caller should warn.
type SkippedSyscall struct {
	Path string // e.g. linux.seccomp.syscalls[3].names[1]
	Name string
}

func (s SkippedSyscall) String() string {
	return fmt.Sprintf("%s: unknown syscall %q skipped", s.Path, s.Name)
}

func syscallPath(i int) string { return fmt.Sprintf("%s.syscalls[%d]", root, i) }

func namePath(i, j int) string { return fmt.Sprintf("%s.names[%d]", syscallPath(i), j) }

func argPath(i, k int) string { return fmt.Sprintf("%s.args[%d]", syscallPath(i), k) }
