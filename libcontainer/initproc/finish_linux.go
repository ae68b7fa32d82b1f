package initproc

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/hooks"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/procenv"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/seccomp"
	"github.com/hullrt/hull/libcontainer/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// finish runs after `start`: the process's credentials, capabilities and
// seccomp filter, then the startContainer hooks (which run with all of
// these, as runc's), then execve. Errors go to start through the fifo,
// except the execve's own: as runc's init, the process writes that on its
// stderr and exits 255, and start has succeeded.
func finish(cfg *proto.InitConfig, fin *finisher, fifo *os.File) {
	faults.Point("before-execve")
	err := fin.drop()
	if err == nil {
		err = hooks.RunEnv(cfg.Spec.Hooks, hooks.StartContainer, hooks.State(cfg.ID, specs.StateCreated, cfg.HostPid, cfg.Bundle, cfg.Spec), fin.env)
	}
	if err == nil {
		// Tell start that the process is about to run: start takes an
		// EOF with nothing read for an init that died before execve.
		if _, werr := fifo.Write([]byte{store.FifoExecMark}); werr != nil {
			os.Exit(127)
		}
		err = fin.exec()
		var ee *execveError
		if errors.As(err, &ee) {
			fifo.Close()
			fmt.Fprintln(os.Stderr, err)
			os.Exit(255)
		}
	}
	fmt.Fprintf(fifo, "%v", err)
	// A test build may hold the init here with its end of the fifo
	// closed (TestFaultStartFailureWaitsForInit).
	faults.Linger("start-fail-exit-late", 500*time.Millisecond, fifo)
	os.Exit(127)
}

// finisher holds what is decided during setup and done at the last moment:
// dropping privileges and execve.
type finisher struct {
	path      string
	args, env []string
	cwd       string
	user      specs.User
	caps      *capabilities.Sets
	noNewPriv bool
	lsm       *specs.Process // apparmor / selinux labels to set
	// seccomp loads the filter: as the very last step with
	// no_new_privs, before the user switch (while CAP_SYS_ADMIN is
	// still there) without.
	seccomp func() error
	// prog is the compiled filter seccomp loads, nil for none: the
	// plan (plan_linux.go) carries it to C.
	prog *seccomp.Program
	// addrSpace are the address-space rlimits, set right before the
	// filter (see splitRlimits).
	addrSpace []specs.POSIXRlimit
}

// prepareFinisher decides what the last steps do: the executable (looked
// up now, so a missing one fails create, not start), the capabilities.
func prepareFinisher(cfg *proto.InitConfig) (*finisher, error) {
	spec := cfg.Spec
	p := spec.Process
	if fi, err := os.Stat(p.Cwd); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("process.cwd %q is not a directory", p.Cwd)
	}
	env, err := procenv.PrepareEnv(p.Env, int(p.User.UID), procenv.Host)
	if err != nil {
		return nil, err
	}
	path, err := procenv.LookPath(p.Args[0], env, procenv.Host)
	if err != nil {
		return nil, err
	}
	caps, err := capabilities.Parse(p.Capabilities, "process.capabilities")
	if err != nil {
		return nil, err
	}
	// The label applies at the next execve: it is set in the process
	// that execs the user's command.
	prog, err := compileSeccomp(spec)
	if err != nil {
		return nil, err
	}
	// The state for the seccomp agent, made now: the filter is loaded
	// under the address-space rlimits.
	st := hooks.State(cfg.ID, specs.StateRunning, cfg.HostPid, cfg.Bundle, spec)
	_, addrSpace := splitRlimits(p.Rlimits)
	fin := &finisher{lsm: p,
		path: path, args: p.Args, env: env, cwd: p.Cwd, user: p.User,
		caps: caps, noNewPriv: p.NoNewPrivileges,
		seccomp: func() error {
			return loadSeccomp(prog, spec, cfg.SeccompAgentFd, st)
		},
		prog:      prog,
		addrSpace: addrSpace,
	}
	return fin, nil
}

// run drops privileges to what the config grants and execs the process.
// It returns only on failure.
func (f *finisher) run() error {
	if err := f.drop(); err != nil {
		return err
	}
	return f.exec()
}

// execveError is the failure of the execve itself, after every other step
// succeeded.
type execveError struct{ err error }

func (e *execveError) Error() string { return e.err.Error() }

func (e *execveError) Unwrap() error { return e.err }

// exec is the last step: execve, retried on EINTR.
func (f *finisher) exec() error {
	for {
		err := unix.Exec(f.path, f.args, f.env)
		if err == unix.EINTR {
			continue
		}
		// runc's wording: "exec /run.sh: no such file or directory".
		return &execveError{&os.PathError{Op: "exec", Path: f.path, Err: err}}
	}
}

// drop sets the process's security attributes, credentials,
// capabilities and seccomp filter: everything but the execve.
func (f *finisher) drop() error {
	if err := sys.ApplyLSM(f.lsm); err != nil {
		return err
	}
	// chdir first, still as root (the user may not be allowed to look up
	// the path, yet may work in it), and before any seccomp filter.
	if err := sys.Chdir(f.cwd); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json: %w", f.cwd, err)
	}
	// A cwd reached through a leaked fd (/proc/self/fd/N) would be outside
	// the container's root; getcwd then fails (CVE-2024-21626).
	if wd, err := sys.Getwd(); err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("cwd %q is outside the container's root", f.cwd)
	}
	if !f.noNewPriv {
		if err := f.limitAndFilter(); err != nil {
			return err
		}
	}
	if f.caps != nil {
		if err := sys.DropBounding(f.caps.Bounding()); err != nil {
			return err
		}
		// Keep the permitted set across the uid change; capset below
		// then sets exactly the configured sets.
		if err := sys.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set keepcaps: %w", err)
		}
	}
	if err := setUser(f.user); err != nil {
		return err
	}
	if f.caps != nil {
		if err := sys.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
			return fmt.Errorf("clear keepcaps: %w", err)
		}
		if err := sys.ApplyCaps(f.caps); err != nil {
			return err
		}
	}
	if f.user.Umask != nil {
		sys.Umask(int(*f.user.Umask))
	} else {
		sys.Umask(0o022)
	}
	if f.noNewPriv {
		if err := sys.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		if err := f.limitAndFilter(); err != nil {
			return err
		}
	}
	return nil
}

// limitAndFilter sets the address-space rlimits, then loads the seccomp
// filter (which may deny setrlimit).
func (f *finisher) limitAndFilter() error {
	if err := setRlimits(f.addrSpace); err != nil {
		return err
	}
	return f.seccomp()
}

func setUser(u specs.User) error {
	if err := fixStdioOwner(int(u.UID)); err != nil {
		return err
	}
	gids := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		gids = append(gids, int(g))
	}
	if err := sys.Setgroups(gids); err != nil && !(len(gids) == 0 && errors.Is(err, unix.EPERM)) {
		return fmt.Errorf("setgroups %v: %w", gids, err)
	}
	if err := sys.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("setgid %d: %w", u.GID, err)
	}
	if err := sys.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("setuid %d: %w", u.UID, err)
	}
	return nil
}

// fixStdioOwner gives the process's user the ownership of its stdio (the
// pty slave above all), as runc does, so that it can reopen them
// (/dev/stdout, $(tty)). Only the uid changes: the group is devpts' (tty).
// /dev/null is left alone; EPERM (an owner not mapped in the user
// namespace) and EROFS leave the fd as it is.
func fixStdioOwner(uid int) error {
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if err := sys.Fstat(fd, &st); err != nil {
			if errors.Is(err, unix.EBADF) {
				continue
			}
			return fmt.Errorf("fstat stdio fd %d: %w", fd, err)
		}
		if int(st.Uid) == uid || (st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)) {
			continue
		}
		if err := sys.Fchown(fd, uid, -1); err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS) || errors.Is(err, unix.EINVAL) {
				continue
			}
			return fmt.Errorf("chown stdio fd %d to uid %d: %w", fd, uid, err)
		}
	}
	return nil
}
