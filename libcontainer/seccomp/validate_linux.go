package seccomp

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Validate checks a profile in the runtime before anything is created.
// It rejects what the runtime-spec calls invalid and what this host's
// libseccomp or kernel cannot do (those errors wrap ErrUnsupported), each
// error naming the JSON path, e.g.
//
//	linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"
//
// It then builds the filter in memory, without loading it, so anything
// libseccomp itself refuses also fails here rather than in the container
// init. Syscall names libseccomp does not know are not errors: they are
// returned, for the caller to log, and Load leaves them out. A nil profile
// is valid (no seccomp).
func Validate(s *specs.LinuxSeccomp) ([]SkippedSyscall, error) {
	if s == nil {
		return nil, nil
	}
	if err := check(s); err != nil {
		return nil, err
	}
	b, err := build(s)
	if err != nil {
		return nil, err
	}
	b.filter.Release()
	return b.skipped, nil
}

// check is the part of validation that needs no filter: names, ranges and
// the cross-field rules of the runtime-spec. Load runs it too, so a caller
// that skipped Validate still cannot load a malformed profile.
func check(s *specs.LinuxSeccomp) error {
	if err := checkAction(root+".defaultAction", s.DefaultAction); err != nil {
		return err
	}
	if s.DefaultAction == specs.ActNotify {
		// runc's rule, for the same reason as notifyForbidden: every
		// syscall the init makes after Load, including the write that
		// hands the listener fd over, would wait for an agent that does
		// not have the fd yet.
		return pathErr(root+".defaultAction", "%s cannot be the default action: the runtime could not hand the listener fd to the agent", specs.ActNotify)
	}
	if err := checkErrnoRet(root+".defaultErrnoRet", s.DefaultErrnoRet, s.DefaultAction); err != nil {
		return err
	}
	for i, a := range s.Architectures {
		if _, ok := archMap[a]; !ok {
			return pathErr(fmt.Sprintf("%s.architectures[%d]", root, i), "unknown architecture %q", a)
		}
	}
	for i, f := range s.Flags {
		if !contains(knownFlags, f) {
			return pathErr(fmt.Sprintf("%s.flags[%d]", root, i), "unknown flag %q", f)
		}
	}
	firstNotify := -1
	for i := range s.Syscalls {
		if err := checkRule(i, &s.Syscalls[i]); err != nil {
			return err
		}
		if firstNotify < 0 && s.Syscalls[i].Action == specs.ActNotify {
			firstNotify = i
		}
	}
	return checkListener(s, firstNotify)
}

func checkAction(path string, a specs.LinuxSeccompAction) error {
	if a == "" {
		return pathErr(path, "an action is required")
	}
	if !contains(knownActions, a) {
		return pathErr(path, "unknown action %q", a)
	}
	if err := actionSupported(a); err != nil {
		return unsupported(path, fmt.Sprintf("action %s", a), err)
	}
	return nil
}

func checkErrnoRet(path string, errnoRet *uint, a specs.LinuxSeccompAction) error {
	if errnoRet == nil {
		return nil
	}
	if !takesErrno(a) {
		// The spec: "When the action doesn't support an errno, the
		// runtime MUST print and error and fail."
		return pathErr(path, "only %s and %s take an errno, not %s", specs.ActErrno, specs.ActTrace, a)
	}
	if *errnoRet > maxErrno {
		return pathErr(path, "%d is out of range (0 to %d)", *errnoRet, maxErrno)
	}
	return nil
}

func checkRule(i int, r *specs.LinuxSyscall) error {
	if len(r.Names) == 0 {
		return pathErr(syscallPath(i)+".names", "at least one syscall name is required")
	}
	for j, name := range r.Names {
		if name == "" {
			return pathErr(namePath(i, j), "empty syscall name")
		}
	}
	if err := checkAction(syscallPath(i)+".action", r.Action); err != nil {
		return err
	}
	if err := checkErrnoRet(syscallPath(i)+".errnoRet", r.ErrnoRet, r.Action); err != nil {
		return err
	}
	if r.Action == specs.ActNotify {
		for j, name := range r.Names {
			if notifyForbidden[name] {
				return pathErr(namePath(i, j), "%s cannot be used for the %s syscall: the runtime needs it to hand the listener fd to the agent", specs.ActNotify, name)
			}
		}
	}
	for k, a := range r.Args {
		if a.Index >= maxArgs {
			return pathErr(argPath(i, k)+".index", "%d is out of range: seccomp sees arguments 0 to %d", a.Index, maxArgs-1)
		}
		if _, ok := opMap[a.Op]; !ok {
			return pathErr(argPath(i, k)+".op", "unknown operator %q", a.Op)
		}
	}
	return nil
}

// checkListener applies the spec's listenerPath/listenerMetadata rules.
// listenerPath matters only when some rule notifies (the spec says it is
// ignored otherwise), so its form is checked only then.
func checkListener(s *specs.LinuxSeccomp, firstNotify int) error {
	if s.ListenerMetadata != "" && s.ListenerPath == "" {
		return pathErr(root+".listenerMetadata", "set without listenerPath")
	}
	if firstNotify < 0 {
		return nil
	}
	path := root + ".listenerPath"
	if s.ListenerPath == "" {
		return pathErr(path, "required because %s.action is %s", syscallPath(firstNotify), specs.ActNotify)
	}
	if !filepath.IsAbs(s.ListenerPath) {
		return pathErr(path, "must be an absolute path, got %q", s.ListenerPath)
	}
	// sun_path holds 108 bytes including the terminating NUL.
	if limit := len(unix.RawSockaddrUnix{}.Path) - 1; len(s.ListenerPath) > limit {
		return pathErr(path, "%q is too long for a unix socket address (%d bytes, at most %d)", s.ListenerPath, len(s.ListenerPath), limit)
	}
	return nil
}
