package libcontainer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/hullrt/hull/libcontainer/safepath"
	"github.com/hullrt/hull/libcontainer/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// initConfig is what the parent sends the init (or an exec'd process) in
// its msgConfig message. Fd fields are numbers in the child.
type initConfig struct {
	ID           string      `json:"id"`
	Spec         *specs.Spec `json:"spec"`
	Rootfs       string      `json:"rootfs"`
	Bundle       string      `json:"bundle"`
	NoPivot      bool        `json:"noPivot,omitempty"`
	NoNewKeyring bool        `json:"noNewKeyring,omitempty"`
	PreserveFds  int         `json:"preserveFds,omitempty"`
	StateDirFd   int         `json:"stateDirFd"`
	ConsoleFd    int         `json:"consoleFd"` // -1: no terminal
	// CgroupDirs maps a hierarchy's mount point to the container's
	// directory in it, for bind-mounting into the container.
	CgroupDirs map[string]string `json:"cgroupDirs,omitempty"`
	// NewCgroupNS: unshare the cgroup namespace first thing.
	NewCgroupNS bool `json:"newCgroupNS,omitempty"`
	// SeccompAgentFd is a connection to the seccomp notify agent, -1 if
	// none.
	SeccompAgentFd int `json:"seccompAgentFd"`
	// HostPid is this process's pid in the runtime's pid namespace, for
	// the state hooks read.
	HostPid int `json:"hostPid"`
	// Exec is set for `hull exec`: namespaces are joined, nothing is set up
	// but the process, and it runs at once instead of waiting for start.
	Exec bool `json:"exec,omitempty"`
	// StartSoon is set by `run`: start follows within milliseconds, so
	// waiting in a fresh C image would save no memory worth the exec and
	// the Go runtime start-up it costs.
	StartSoon bool `json:"startSoon,omitempty"`

	// lateRO: read-only tmpfs and /dev mounts, made writable and
	// remounted read-only last (rootfs_linux.go).
	lateRO []lateRemount
}

const envInit = "_HULL_INIT"

// IsInit tells main that this process is hull's container init.
func IsInit() bool { return os.Getenv(envInit) != "" }

// Init is the container side of create and exec. It never returns: it
// execs the user's process or exits after reporting its error.
func Init() {
	// Credentials and capabilities (the bounding set, capset, ambient)
	// are per thread: they are set on this thread, which then execs. It
	// must be locked before anything else, in the resumed init too.
	runtime.LockOSThread()
	// The init's stderr is the container's: warnings were already logged
	// by the parent, and nothing of hull's may land in the workload's
	// output.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if os.Getenv(envResume) != "" {
		resume()
	}
	fd, err := strconv.Atoi(os.Getenv(envInit))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hull init: bad", envInit)
		os.Exit(1)
	}
	conn := syncConn{fd: fd}
	m, err := conn.recv()
	if err != nil || m.Type != msgConfig || m.Config == nil {
		// The parent went away (or spoke nonsense): nothing to report to.
		os.Exit(1)
	}
	cfg := m.Config
	fin, err := setupContainer(cfg, conn)
	if err != nil {
		conn.send(errorMessage(err))
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
	if err := conn.send(&message{Type: msgReady}); err != nil {
		os.Exit(1)
	}
	unix.Close(fd)
	// The parent may now return; we wait for `start` on the fifo. A
	// failure from here on is reported to `start` through the fifo.
	if cfg.Exec {
		faultPoint("exec-before-execve")
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
	// a megabyte and one thread instead of a Go runtime. Returns only if
	// that exec is impossible (no /proc in the container); then wait here.
	if !cfg.StartSoon && !pidsLimited(cfg.Spec) {
		waitInC(cfg, fifo)
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

// finish runs after `start`: the process's credentials, capabilities and
// seccomp filter, then the startContainer hooks (which run with all of
// these, as runc's), then execve. Errors go to start through the fifo,
// except the execve's own: as runc's init, the process writes that on its
// stderr and exits 255, and start has succeeded.
func finish(cfg *initConfig, fin *finisher, fifo *os.File) {
	faultPoint("before-execve")
	err := fin.drop()
	if err == nil {
		err = runHooksEnv(cfg.Spec.Hooks, hookStartContainer, hookState(cfg.ID, Created, cfg.HostPid, cfg.Bundle, cfg.Spec), fin.env)
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
	os.Exit(127)
}

const (
	envWait   = "_HULL_WAIT"   // O_PATH fd of exec.fifo; after the wait, its write end
	envResume = "_HULL_RESUME" // read end of a pipe holding the initConfig
)

// pidsLimited tells whether the config limits the container's pids: the
// resumed image's Go runtime must then not start, as it needs threads
// that the limit, written at ready (splitPids), may refuse; the init
// waits where it is, its threads already counted, as runc's.
func pidsLimited(spec *specs.Spec) bool {
	if spec == nil || spec.Linux == nil || spec.Linux.Resources == nil {
		return false
	}
	p := spec.Linux.Resources.Pids
	return p != nil && p.Limit != nil && *p.Limit >= 0
}

// waitInC re-executes hull to wait for start in its C constructor. The
// new image holds no more than runc's idle init does (create.bats checks
// its fds): the config in a pipe, exec.fifo as an O_PATH fd that the
// constructor reopens through /proc/self/fd, the seccomp agent's socket.
func waitInC(cfg *initConfig, fifo int) {
	// A dynamically linked hull would load the container's own dynamic
	// loader and libc into this still privileged process: never.
	if !staticBinary() {
		return
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return
	}
	rfd, wfd := p[0], p[1]
	defer unix.Close(wfd)
	if !fillPipe(wfd, data) {
		unix.Close(rfd)
		return
	}
	if fifo < 0 {
		return // no /proc to reopen it through: wait in Go
	}
	ffd := fifo
	keep := []int{ffd, rfd}
	if cfg.SeccompAgentFd >= 0 {
		keep = append(keep, cfg.SeccompAgentFd)
	}
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			unix.Close(rfd)
			unix.CloseOnExec(ffd)
			return
		}
	}
	env := []string{
		envInit + "=wait",
		envWait + "=" + strconv.Itoa(ffd),
		envResume + "=" + strconv.Itoa(rfd),
	}
	env = append(env, faultEnv()...)
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil && d == 0 {
		// The exec makes us dumpable again: nsenter.c undoes that.
		env = append(env, "_HULL_NODUMP=1")
	}
	// Exec returns only when it failed: then put things back as they
	// were, and the caller waits here.
	_ = unix.Exec("/proc/self/exe", []string{"hull", "init"}, env)
	unix.Close(rfd)
	unix.CloseOnExec(ffd)
}

// fifoPath opens exec.fifo as an O_PATH fd and closes the state directory,
// if the fifo can be reopened through /proc/self/fd; otherwise -1, and the
// state directory stays open for the wait.
func fifoPath(cfg *initConfig) int {
	f, err := unix.Openat(cfg.StateDirFd, store.FifoName, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	if err := unix.Access("/proc/self/fd/"+strconv.Itoa(f), unix.F_OK); err != nil {
		unix.Close(f)
		return -1
	}
	unix.Close(cfg.StateDirFd)
	cfg.StateDirFd = -1
	return f
}

// fillPipe writes all of data into the pipe's buffer, growing it as
// needed; false if it does not fit (nobody reads before the exec).
func fillPipe(wfd int, data []byte) bool {
	if len(data) > 1<<16 {
		if _, err := unix.FcntlInt(uintptr(wfd), unix.F_SETPIPE_SZ, len(data)); err != nil {
			return false
		}
	}
	if err := unix.SetNonblock(wfd, true); err != nil {
		return false
	}
	for len(data) > 0 {
		n, err := unix.Write(wfd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return false
		}
		data = data[n:]
	}
	return true
}

// staticBinary reports whether hull's binary has no ELF interpreter: the
// kernel then passes AT_BASE (where it loaded the interpreter) as 0. This
// reads a few hundred bytes of /proc/self/auxv instead of parsing the
// binary, and keeps an ELF parser out of hull. Without /proc, false.
func staticBinary() bool {
	b, err := readSelfProc("auxv")
	if err != nil {
		return false
	}
	const atBase = 7 // AT_BASE, <linux/auxvec.h>
	base, ok := auxv(b, atBase)
	return ok && base == 0
}

// auxv finds tag in an auxiliary vector: pairs of native words.
func auxv(b []byte, tag uint64) (uint64, bool) {
	const w = int(unsafe.Sizeof(uintptr(0)))
	word := func(p []byte) uint64 {
		if w == 4 {
			return uint64(binary.NativeEndian.Uint32(p))
		}
		return binary.NativeEndian.Uint64(p)
	}
	for i := 0; i+2*w <= len(b); i += 2 * w {
		switch t := word(b[i:]); t {
		case tag:
			return word(b[i+w:]), true
		case 0: // AT_NULL ends the vector
			return 0, false
		}
	}
	return 0, false
}

// resume is the init after the wait in C: `start` has opened the fifo,
// whose write end is now fd _HULL_WAIT.
func resume() {
	fifoFd, err1 := strconv.Atoi(os.Getenv(envWait))
	mfd, err2 := strconv.Atoi(os.Getenv(envResume))
	if err1 != nil || err2 != nil {
		os.Exit(1)
	}
	fifo := os.NewFile(uintptr(fifoFd), store.FifoName)
	unix.CloseOnExec(fifoFd)
	fail := func(err error) {
		fmt.Fprintf(fifo, "%v", err)
		os.Exit(127)
	}
	data, err := readPipe(mfd)
	unix.Close(mfd)
	if err != nil {
		fail(fmt.Errorf("read init config: %w", err))
	}
	cfg := new(initConfig)
	if err := json.Unmarshal(data, cfg); err != nil {
		fail(fmt.Errorf("read init config: %w", err))
	}
	for _, k := range []string{envInit, envWait, envResume, "_HULL_NODUMP"} {
		os.Unsetenv(k)
	}
	if cfg.SeccompAgentFd >= 0 {
		unix.CloseOnExec(cfg.SeccompAgentFd)
	}
	fin, err := prepareFinisher(cfg)
	if err != nil {
		fail(err)
	}
	finish(cfg, fin, fifo)
}

// readPipe reads fd to its end.
func readPipe(fd int) ([]byte, error) {
	var data []byte
	buf := make([]byte, 1<<16)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, err
		case n == 0:
			return data, nil
		}
		data = append(data, buf[:n]...)
	}
}

// finisher holds what is decided during setup and done at the last moment:
// dropping privileges and execve.
type finisher struct {
	path      string
	args, env []string
	cwd       string
	user      specs.User
	caps      *capSets
	noNewPriv bool
	lsm       *specs.Process // apparmor / selinux labels to set
	// seccomp loads the filter: as the very last step with
	// no_new_privs, before the user switch (while CAP_SYS_ADMIN is
	// still there) without.
	seccomp func() error
}

func setupContainer(cfg *initConfig, conn syncConn) (*finisher, error) {
	for _, k := range []string{envInit, "_HULL_NSENTER", "_HULL_NSJOIN", "_HULL_NSNEW", "_HULL_TIMENS"} {
		os.Unsetenv(k)
	}
	// Only the preserved fds (3..3+N-1) may reach the user's process.
	if err := closeExtraFds(3 + cfg.PreserveFds); err != nil {
		return nil, err
	}
	spec := cfg.Spec
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
	if !cfg.Exec && hasNewNS(spec, specs.NetworkNamespace) {
		if err := loopbackUp(); err != nil {
			return nil, err
		}
	}
	// A joined mount namespace gets the rootfs set up too, as runc does;
	// so does a container without any mount namespace, in hull's own
	// (prepareRootfs then chroots).
	if !cfg.Exec {
		if err := prepareRootfs(cfg, conn, func() error { return createHooks(cfg, conn) }); err != nil {
			return nil, err
		}
	}
	if cfg.ConsoleFd >= 0 {
		if err := setupConsole(cfg.ConsoleFd, !cfg.Exec, spec.Process.ConsoleSize); err != nil {
			return nil, err
		}
	}
	if !cfg.Exec {
		if err := finalizeContainer(cfg); err != nil {
			return nil, err
		}
	}
	p := spec.Process
	if err := setRlimits(p.Rlimits); err != nil {
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
	return prepareFinisher(cfg)
}

// prepareFinisher decides what the last steps do: the executable (looked
// up now, so a missing one fails create, not start), the capabilities.
func prepareFinisher(cfg *initConfig) (*finisher, error) {
	spec := cfg.Spec
	p := spec.Process
	if fi, err := os.Stat(p.Cwd); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("process.cwd %q is not a directory", p.Cwd)
	}
	env, err := prepareEnv(p.Env, int(p.User.UID))
	if err != nil {
		return nil, err
	}
	path, err := lookPath(p.Args[0], env)
	if err != nil {
		return nil, err
	}
	caps, err := parseCaps(p.Capabilities, "process.capabilities")
	if err != nil {
		return nil, err
	}
	// The label applies at the next execve: it is set in the process
	// that execs the user's command.
	fin := &finisher{lsm: p,
		path: path, args: p.Args, env: env, cwd: p.Cwd, user: p.User,
		caps: caps, noNewPriv: p.NoNewPrivileges,
		seccomp: func() error {
			st := hookState(cfg.ID, Running, cfg.HostPid, cfg.Bundle, spec)
			return loadSeccomp(spec, cfg.SeccompAgentFd, st)
		},
	}
	return fin, nil
}

// createHooks has the parent run the prestart and createRuntime hooks,
// then runs the createContainer hooks here, in the container's namespaces
// before pivot_root (runtime spec, "Lifecycle").
func createHooks(cfg *initConfig, conn syncConn) error {
	h := cfg.Spec.Hooks
	if len(hooksOf(h, hookPrestart))+len(hooksOf(h, hookCreateRuntime))+len(hooksOf(h, hookCreateContainer)) == 0 {
		return nil
	}
	if err := conn.send(&message{Type: msgHooks}); err != nil {
		return err
	}
	m, err := conn.recv()
	if err != nil {
		return err
	}
	if m.Type == msgError {
		return errorOf(m)
	}
	if m.Type != msgHooksDone {
		return fmt.Errorf("unexpected %q message while waiting for hooks", m.Type)
	}
	if len(hooksOf(h, hookCreateContainer)) == 0 {
		return nil
	}
	// As runc's: createContainer hooks run in the rootfs, so that relative
	// paths resolve in it (pivot_root or chroot follows and leaves it).
	if err := unix.Chdir(cfg.Rootfs); err != nil {
		return fmt.Errorf("chdir to rootfs %s: %w", cfg.Rootfs, err)
	}
	return runHooks(h, hookCreateContainer, hookState(cfg.ID, Creating, cfg.HostPid, cfg.Bundle, cfg.Spec))
}

// finalizeContainer does what needs the container's own root: hostname,
// sysctls, then read-only and masked paths, and last a read-only root.
func finalizeContainer(cfg *initConfig) error {
	spec := cfg.Spec
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("set domainname %q: %w", spec.Domainname, err)
		}
	}
	for k, v := range spec.Linux.Sysctl {
		p := filepath.Join("/proc/sys", sysctlPath(k))
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("linux.sysctl: set %s=%s: %w", k, v, err)
		}
	}
	root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	for i, p := range spec.Linux.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return fmt.Errorf("linux.readonlyPaths[%d]: %s: %w", i, p, err)
		}
	}
	masked := map[string]bool{}
	sharedMask := -1 // the first masked directory's tmpfs, bound on the others
	defer func() {
		if sharedMask >= 0 {
			unix.Close(sharedMask)
		}
	}()
	for i, p := range spec.Linux.MaskedPaths {
		if masked[filepath.Clean(p)] {
			continue
		}
		masked[filepath.Clean(p)] = true
		if err := maskPath(root, p, &sharedMask); err != nil {
			return fmt.Errorf("linux.maskedPaths[%d]: %s: %w", i, p, err)
		}
	}
	if !hasMountNS(spec) {
		// As runc's finalizeRootfs: the read-only remounts (tmpfs, /dev,
		// root.readonly) only in a mount namespace of the container's.
		return nil
	}
	if err := remountLate(cfg.lateRO, hasNewNS(spec, specs.UserNamespace)); err != nil {
		return err
	}
	if spec.Root.Readonly {
		if err := remount(root, "/", unix.MS_RDONLY, hasNewNS(spec, specs.UserNamespace)); err != nil {
			return fmt.Errorf("root.readonly: %w", err)
		}
	}
	return nil
}

func readonlyPath(root int, path string) error {
	fd, err := safepath.Open(root, path, unix.O_PATH|unix.O_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	err = unix.Mount(safepath.ProcPath(fd), safepath.ProcPath(fd), "", unix.MS_BIND|unix.MS_REC, "")
	unix.Close(fd)
	if err != nil {
		return err
	}
	return remount(root, path, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, true)
}

// maskPath hides path: a directory under an empty read-only tmpfs, a file
// under /dev/null. The /dev/null used is checked to be the real device, so
// a container that replaced it (CVE-2025-31133) makes masking fail instead
// of binding an arbitrary file.
//
// Masked directories share one tmpfs, as in runc: the first gets it, the
// others a bind mount of it (*shared, once set).
func maskPath(root int, path string, shared *int) error {
	fd, err := safepath.Open(root, path, unix.O_PATH|unix.O_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if *shared >= 0 {
			return unix.Mount(safepath.ProcPath(*shared), safepath.ProcPath(fd), "", unix.MS_BIND, "")
		}
		if err := unix.Mount("tmpfs", safepath.ProcPath(fd), "tmpfs", unix.MS_RDONLY, "size=0k"); err != nil {
			return err
		}
		if top, err := safepath.Open(root, path, unix.O_PATH|unix.O_NOFOLLOW); err == nil {
			*shared = top
		}
		return nil
	}
	null, err := safepath.Open(root, "/dev/null", unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("open /dev/null: %w", err)
	}
	defer unix.Close(null)
	var ns unix.Stat_t
	if err := unix.Fstat(null, &ns); err != nil {
		return err
	}
	if ns.Mode&unix.S_IFMT != unix.S_IFCHR || ns.Rdev != unix.Mkdev(1, 3) {
		return errors.New("/dev/null is not the null device: refusing to mask with it")
	}
	return unix.Mount(safepath.ProcPath(null), safepath.ProcPath(fd), "", unix.MS_BIND, "")
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
	if err := applyLSM(f.lsm); err != nil {
		return err
	}
	// chdir first, still as root (the user may not be allowed to look up
	// the path, yet may work in it), and before any seccomp filter.
	if err := unix.Chdir(f.cwd); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json: %w", f.cwd, err)
	}
	// A cwd reached through a leaked fd (/proc/self/fd/N) would be outside
	// the container's root; getcwd then fails (CVE-2024-21626).
	if wd, err := unix.Getwd(); err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("cwd %q is outside the container's root", f.cwd)
	}
	if !f.noNewPriv {
		if err := f.seccomp(); err != nil {
			return err
		}
	}
	if f.caps != nil {
		if err := dropBounding(f.caps.bounding); err != nil {
			return err
		}
		// Keep the permitted set across the uid change; capset below
		// then sets exactly the configured sets.
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set keepcaps: %w", err)
		}
	}
	if err := setUser(f.user); err != nil {
		return err
	}
	if f.caps != nil {
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
			return fmt.Errorf("clear keepcaps: %w", err)
		}
		if err := applyCaps(f.caps); err != nil {
			return err
		}
	}
	if f.user.Umask != nil {
		unix.Umask(int(*f.user.Umask))
	} else {
		unix.Umask(0o022)
	}
	if f.noNewPriv {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		if err := f.seccomp(); err != nil {
			return err
		}
	}
	return nil
}

func setUser(u specs.User) error {
	if err := fixStdioOwner(int(u.UID)); err != nil {
		return err
	}
	gids := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		gids = append(gids, int(g))
	}
	if err := unix.Setgroups(gids); err != nil && !(len(gids) == 0 && errors.Is(err, unix.EPERM)) {
		return fmt.Errorf("setgroups %v: %w", gids, err)
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("setgid %d: %w", u.GID, err)
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
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
		if err := unix.Fstat(fd, &st); err != nil {
			if errors.Is(err, unix.EBADF) {
				continue
			}
			return fmt.Errorf("fstat stdio fd %d: %w", fd, err)
		}
		if int(st.Uid) == uid || (st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)) {
			continue
		}
		if err := unix.Fchown(fd, uid, -1); err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS) || errors.Is(err, unix.EINVAL) {
				continue
			}
			return fmt.Errorf("chown stdio fd %d to uid %d: %w", fd, uid, err)
		}
	}
	return nil
}
