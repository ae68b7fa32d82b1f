package initproc

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/hooks"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/loopback"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/rootfs"
	"github.com/hullrt/hull/libcontainer/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The init runs, and execs, on its process's main thread: an execve from
// another thread makes the kernel keep the main thread as a zombie until
// the exec is done, and a `start` or `state` reading /proc/PID/stat then
// sees a dead init ("container is stopped, not created", issue 18). Go
// runs the main goroutine on the main thread during package init, but
// may move it after: locked here, it stays there through Init.
func init() {
	if IsInit() {
		runtime.LockOSThread()
	}
}

// IsInit tells main that this process is hull's container init.
func IsInit() bool { return os.Getenv(proto.EnvInit) != "" }

// Init is the container side of create and exec. It never returns: it
// execs the user's process or exits after reporting its error.
func Init() {
	// Credentials and capabilities (the bounding set, capset, ambient)
	// are per thread: they are set on this thread, which then execs. It
	// must be locked before anything else, in the resumed init too.
	faults.Migrate()
	runtime.LockOSThread()
	// The init's stderr is the container's: warnings were already logged
	// by the parent, and nothing of hull's may land in the workload's
	// output.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if os.Getenv(proto.EnvResume) != "" {
		resume()
	}
	fd, err := strconv.Atoi(os.Getenv(proto.EnvInit))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hull init: bad", proto.EnvInit)
		os.Exit(1)
	}
	conn := proto.Conn{FD: fd}
	m, err := conn.Recv()
	if err != nil || m.Type != proto.MsgConfig || m.Config == nil {
		// The parent went away (or spoke nonsense): nothing to report to.
		os.Exit(1)
	}
	cfg := m.Config
	fin, err := setupContainer(cfg, conn)
	if err != nil {
		conn.Send(proto.ErrorMessage(err))
		os.Exit(1)
	}
	// exec.fifo as an O_PATH fd, reopened for writing through
	// /proc/self/fd, and the state directory closed, before ready: when
	// create returns, the init holds only what runc's idle init may
	// (create.bats checks), whether or not it has re-executed yet.
	fifo := -1
	if !cfg.Exec {
		fifo = fifoPath(cfg)
	}
	// Whether it will wait in a fresh image is decided before ready too:
	// the decision reads /proc/self/auxv (staticBinary), an fd runc's
	// idle init never shows (TestIdleInitFds saw it once, open, right
	// after create returned).
	inC := waitsInC(cfg) && staticBinary()
	if cfg.Exec {
		// A test build may hold an exec'd process here, its parent
		// waiting for ready (TestFaultExecSignalBeforeReady).
		faults.Delay("exec-init-before-ready", 30*time.Second)
	}
	if err := conn.Send(&proto.Message{Type: proto.MsgReady}); err != nil {
		os.Exit(1)
	}
	unix.Close(fd)
	// The parent may now return; we wait for `start` on the fifo. A
	// failure from here on is reported to `start` through the fifo.
	if cfg.Exec {
		faults.Point("exec-before-execve")
		err = fin.run()
		// As runc: the exec'd process reports its own failure on its
		// stderr and exits 255 (exec returns that status).
		var ee *execveError
		if errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, err)
		} else {
			fmt.Fprintf(os.Stderr, "hull: %v\n", err)
		}
		os.Exit(255)
	}
	// Wait in a fresh image of hull whose C constructor blocks before
	// the Go runtime exists: an idle created container then costs about
	// half a megabyte and one thread instead of a Go runtime. Returns only if
	// that exec is impossible (no /proc in the container); then wait here.
	if inC {
		waitInC(cfg, fin, fifo)
		// The exec failed: wait here, under the process's rlimits.
		if others, _ := splitRlimits(cfg.Spec.Process.Rlimits); len(others) > 0 {
			if err := setRlimits(others); err != nil {
				os.Exit(1)
			}
		}
	}
	var ffd int
	if fifo >= 0 {
		ffd, err = unix.Open("/proc/self/fd/"+strconv.Itoa(fifo), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		unix.Close(fifo)
	} else {
		ffd, err = unix.Openat(cfg.StateDirFd, store.FifoName, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		unix.Close(cfg.StateDirFd)
	}
	if err != nil {
		os.Exit(1)
	}
	finish(cfg, fin, os.NewFile(uintptr(ffd), store.FifoName))
}

func setupContainer(cfg *proto.InitConfig, conn proto.Conn) (*finisher, error) {
	for _, k := range []string{proto.EnvInit, proto.EnvNsenter, proto.EnvNsJoin, proto.EnvNsNew, proto.EnvTimeNS} {
		os.Unsetenv(k)
	}
	// Only the preserved fds (3..3+N-1) may reach the user's process.
	if err := closeExtraFds(3 + cfg.PreserveFds); err != nil {
		return nil, err
	}
	spec := cfg.Spec
	var late []rootfs.LateRemount
	if cfg.NewCgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return nil, fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	// The process is in the container's cgroups by now.
	if err := setupAffinity(spec.Process, cfg.Exec); err != nil {
		return nil, err
	}
	// A new network namespace has lo, down: runc sets it up.
	if !cfg.Exec && config.HasNewNS(spec, specs.NetworkNamespace) {
		if err := loopback.Up(); err != nil {
			return nil, err
		}
	}
	// A joined mount namespace gets the rootfs set up too, as runc does;
	// so does a container without any mount namespace, in hull's own
	// (rootfs.Prepare then chroots).
	if !cfg.Exec {
		if err := rootfs.Prepare(cfg, conn, func() error { return createHooks(cfg, conn) }, &late); err != nil {
			return nil, err
		}
	}
	if cfg.ConsoleFd >= 0 {
		if err := setupConsole(cfg.ConsoleFd, !cfg.Exec, spec.Process.ConsoleSize); err != nil {
			return nil, err
		}
	}
	if !cfg.Exec {
		if err := finalizeContainer(cfg, late); err != nil {
			return nil, err
		}
	}
	p := spec.Process
	// An init that waits in a fresh image gets its rlimits after that
	// image's Go runtime started (resume): under the process's limits it
	// may not start at all (RLIMIT_STACK is the default thread stack
	// size, so a stack limit above RLIMIT_AS fails every thread). The
	// address-space limits wait for the finisher in any case.
	// The finisher (which compiles the seccomp filter: libseccomp
	// allocates) is made before the rlimits apply.
	fin, err := prepareFinisher(cfg)
	if err != nil {
		return nil, err
	}
	// What can fail of the rest is done now, so that create fails as
	// runc's does.
	others, _ := splitRlimits(p.Rlimits)
	if waitsInC(cfg) {
		others = nil
	}
	if err := setRlimits(others); err != nil {
		return nil, err
	}
	if err := raiseHardLimits(p.Rlimits); err != nil {
		return nil, err
	}
	if err := applyProcAttrs(spec); err != nil {
		return nil, err
	}

	if p.OOMScoreAdj != nil {
		if err := writeSelfProc("oom_score_adj", []byte(strconv.Itoa(*p.OOMScoreAdj))); err != nil {
			return nil, fmt.Errorf("set oom_score_adj: %w", err)
		}
	}
	if !cfg.NoNewKeyring && !cfg.Exec {
		// A keyring of its own, so the container cannot read the host's
		// session keys. EPERM/ENOSYS: the kernel disallows it; go on.
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("join session keyring: %w", err)
		}
	}
	return fin, nil
}

// createHooks has the parent run the prestart and createRuntime hooks,
// then runs the createContainer hooks here, in the container's namespaces
// before pivot_root (runtime spec, "Lifecycle").
func createHooks(cfg *proto.InitConfig, conn proto.Conn) error {
	h := cfg.Spec.Hooks
	if len(hooks.Of(h, hooks.Prestart))+len(hooks.Of(h, hooks.CreateRuntime))+len(hooks.Of(h, hooks.CreateContainer)) == 0 {
		return nil
	}
	if err := conn.Send(&proto.Message{Type: proto.MsgHooks}); err != nil {
		return err
	}
	m, err := conn.Recv()
	if err != nil {
		return err
	}
	if m.Type == proto.MsgError {
		return proto.ErrorOf(m)
	}
	if m.Type != proto.MsgHooksDone {
		return fmt.Errorf("unexpected %q message while waiting for hooks", m.Type)
	}
	if len(hooks.Of(h, hooks.CreateContainer)) == 0 {
		return nil
	}
	// As runc's: createContainer hooks run in the rootfs, so that relative
	// paths resolve in it (pivot_root or chroot follows and leaves it).
	if err := unix.Chdir(cfg.Rootfs); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", cfg.Rootfs, err)
	}
	return hooks.Run(h, hooks.CreateContainer, hooks.State(cfg.ID, specs.StateCreating, cfg.HostPid, cfg.Bundle, cfg.Spec))
}

// finalizeContainer does what needs the container's own root: hostname,
// sysctls, then read-only and masked paths, and last a read-only root.
func finalizeContainer(cfg *proto.InitConfig, late []rootfs.LateRemount) error {
	spec := cfg.Spec
	if spec.Hostname != "" {
		if err := sys.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := sys.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("set domainname %q: %w", spec.Domainname, err)
		}
	}
	for k, v := range spec.Linux.Sysctl {
		p := filepath.Join("/proc/sys", config.SysctlPath(k))
		if err := sys.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("linux.sysctl: set %s=%s: %w", k, v, err)
		}
	}
	return sys.FinalizeRootfs(spec, late)
}

// closeExtraFds marks every fd from first on close-on-exec.
func closeExtraFds(first int) error {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list fds: %w", err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < first {
			continue
		}
		unix.CloseOnExec(fd)
	}
	return nil
}
