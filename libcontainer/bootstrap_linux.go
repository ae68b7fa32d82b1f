package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/userns"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace: unix.CLONE_NEWPID, specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace: unix.CLONE_NEWNS, specs.IPCNamespace: unix.CLONE_NEWIPC,
	specs.UTSNamespace: unix.CLONE_NEWUTS, specs.UserNamespace: unix.CLONE_NEWUSER,
	specs.CgroupNamespace: unix.CLONE_NEWCGROUP, specs.TimeNamespace: unix.CLONE_NEWTIME,
}

// nsJoin is a namespace to enter with setns(2).
type nsJoin struct {
	file *os.File
	flag uintptr
}

// procStart is what starting a container process takes.
type procStart struct {
	cfg                   *initConfig
	spec                  *specs.Spec // ids maps and time offsets
	stdin, stdout, stderr *os.File
	preserve              []*os.File // become fds 3, 4, ...
	stateDir              *os.File   // create only
	console               *os.File   // the console socket connection, if any
	seccompAgent          *os.File   // connection to the seccomp notify agent, if any
	newFlags              uintptr
	joins                 []nsJoin
	// cgJoin, if set, is how the process enters its cgroup: cloned into
	// the cgroup2 directory, and into the v1 hierarchies by writing to
	// their tasks files itself before the Go runtime starts (nsenter.c).
	cgJoin *cgroups.Join
	// inCgroup is set by start when cgJoin put the process in its cgroup
	// in every hierarchy; otherwise onPid must Apply it.
	inCgroup bool
	// onPid, if set, is told the pid before the init gets its config.
	onPid func(pid int) error
	// abort, if set, is the caller's catch of TERM, INT and HUP;
	// otherwise start catches them itself while it runs. Either way a
	// signal kills the process being started and start fails with a
	// *SignalError.
	abort *abortCatch
}

// namespacesOf splits spec's namespaces into new ones and ones joined by
// path, opening the paths. The caller closes the files.
func namespacesOf(spec *specs.Spec) (uintptr, []nsJoin, error) {
	var flags uintptr
	var joins []nsJoin
	for i, ns := range spec.Linux.Namespaces {
		if ns.Path == "" {
			flags |= nsFlags[ns.Type]
			continue
		}
		f, err := os.Open(ns.Path)
		if err != nil {
			closeJoins(joins)
			return 0, nil, fieldErr(fmt.Sprintf("linux.namespaces[%d].path", i), "%v", err)
		}
		t, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
		if err != nil || uintptr(t) != nsFlags[ns.Type] {
			f.Close()
			closeJoins(joins)
			return 0, nil, fieldErr(fmt.Sprintf("linux.namespaces[%d].path", i), "%s is not a %s namespace", ns.Path, ns.Type)
		}
		joins = append(joins, nsJoin{file: f, flag: nsFlags[ns.Type]})
	}
	return flags, joins, nil
}

func closeJoins(j []nsJoin) {
	for _, n := range j {
		n.file.Close()
	}
}

// start starts the process (hull's own binary as "init") in its
// namespaces and cgroups and runs the bootstrap exchange of the package
// doc up to msgReady. It returns the pid of the process that will exec the
// user's command.
func (p *procStart) start() (pid int, err error) {
	abort := p.abort
	if abort == nil {
		abort = catchAbort()
		defer abort.stop()
	}
	defer func() {
		// Whatever failed after a signal failed because of it.
		if serr := abort.err(); err != nil && serr != nil {
			err = serr
		}
	}()
	if err := abort.err(); err != nil {
		return 0, err
	}
	parentSock, childSock, err := newSyncPair()
	if err != nil {
		return 0, err
	}
	defer parentSock.Close()
	extra := append([]*os.File{}, p.preserve...)
	add := func(f *os.File) int {
		if f == nil {
			return -1
		}
		extra = append(extra, f)
		return 2 + len(extra)
	}
	syncFd := add(childSock)
	p.cfg.StateDirFd = add(p.stateDir)
	p.cfg.ConsoleFd = add(p.console)
	p.cfg.SeccompAgentFd = add(p.seccompAgent)
	p.cfg.PreserveFds = len(p.preserve)

	// A new cgroup namespace is made by the init itself, once it is in
	// its cgroup (by the clone, nsenter.c or the parent's Apply), so that
	// the namespace's root is the container's cgroup.
	if p.newFlags&unix.CLONE_NEWCGROUP != 0 {
		p.cfg.NewCgroupNS = true
		p.newFlags &^= unix.CLONE_NEWCGROUP
	}
	// Maps that only newuidmap/newgidmap may write (a user's subordinate
	// ids) are written by us, not by Go's clone: through nsenter.c.
	usermap := userns.Decide(os.Geteuid(), os.Getegid(), p.spec.Linux.UIDMappings, p.spec.Linux.GIDMappings)
	useNsenter := len(p.joins) > 0 || p.newFlags&unix.CLONE_NEWTIME != 0 || (p.newFlags&unix.CLONE_NEWUSER != 0 && usermap.NeedsHelper())
	env := append([]string{envInit + "=" + strconv.Itoa(syncFd)}, faultEnv()...)
	attr := &syscall.SysProcAttr{}
	// The v1 tasks files are written in nsenter.c before anything else,
	// as host root: the credentials an older kernel checks (5.16 and
	// later check the opener's). Only a process cloned straight into a
	// new user namespace is no longer host root there: it is moved by
	// onPid instead.
	var tasksDone, cloneInto bool
	if j := p.cgJoin; j != nil {
		if len(j.Tasks) > 0 && (useNsenter || p.newFlags&unix.CLONE_NEWUSER == 0) {
			var fds []string
			for _, f := range j.Tasks {
				fds = append(fds, strconv.Itoa(add(f)))
			}
			env = append(env, "_HULL_CGJOIN="+strings.Join(fds, ","))
			tasksDone = true
		}
		if j.FD >= 0 {
			attr.UseCgroupFD, attr.CgroupFD = true, j.FD
			cloneInto = true
		}
	}
	if useNsenter {
		var js []string
		for _, j := range p.joins {
			js = append(js, fmt.Sprintf("%d:%x", add(j.file), j.flag))
		}
		env = append(env,
			"_HULL_NSENTER="+strconv.Itoa(syncFd),
			"_HULL_NSJOIN="+strings.Join(js, ","),
			fmt.Sprintf("_HULL_NSNEW=%x", p.newFlags),
			"_HULL_TIMENS="+timeOffsets(p.spec))
	} else {
		attr.Cloneflags = p.newFlags
		attr.Setsid = true
		if p.newFlags&unix.CLONE_NEWUSER != 0 {
			attr.UidMappings = idMaps(p.spec.Linux.UIDMappings)
			attr.GidMappings = idMaps(p.spec.Linux.GIDMappings)
			attr.GidMappingsEnableSetgroups = !usermap.SetgroupsDeny
			// Host root is not mapped into the namespace: become its
			// root, or execve would drop every capability.
			attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		}
	}
	// The binary's fd travels as the last of the child's fds, so the
	// number the child executes is the one it has after the fd shuffle,
	// whatever the count of fds before it. nsenter.c makes it
	// close-on-exec first thing.
	exeFile, err := selfExe()
	if err != nil {
		childSock.Close()
		return 0, err
	}
	defer exeFile.Close()
	n := add(exeFile)
	exePath := "/proc/self/fd/" + strconv.Itoa(n)
	env = append(env, envExeFd+"="+strconv.Itoa(n))
	newCmd := func() *exec.Cmd {
		return &exec.Cmd{
			Path:        exePath,
			Args:        []string{"hull", "init"},
			Env:         env,
			Stdin:       p.stdin,
			Stdout:      p.stdout,
			Stderr:      p.stderr,
			ExtraFiles:  extra,
			SysProcAttr: attr,
		}
	}
	cmd := newCmd()
	err = cmd.Start()
	if err != nil && cloneInto {
		// No clone3 or CLONE_INTO_CGROUP (Linux < 5.7), or the cgroup
		// refuses: clone plainly, and Apply says what is wrong.
		attr.UseCgroupFD, cloneInto = false, false
		cmd = newCmd()
		err = cmd.Start()
	}
	if err != nil {
		childSock.Close()
		return 0, fmt.Errorf("start container init: %w", err)
	}
	childSock.Close()
	// From here a signal kills what was started: the first process and,
	// once nsenter.c names it, the one that goes on. Their end of the
	// socket closes with them, which ends every wait below.
	var later atomic.Int32
	abort.setKill(func() {
		cmd.Process.Kill()
		if pid := int(later.Load()); pid > 0 {
			unix.Kill(pid, unix.SIGKILL)
		}
	})
	defer abort.setKill(nil)
	p.inCgroup = p.cgJoin != nil && (p.cgJoin.FD < 0 || cloneInto) && (len(p.cgJoin.Tasks) == 0 || tasksDone)
	conn := syncConn{fd: int(parentSock.Fd())}
	pid = cmd.Process.Pid
	fail := func(err error) (int, error) {
		if pid != cmd.Process.Pid {
			// The forked init is not our child: kill it and wait for
			// it to be gone through a pidfd.
			if _, start, serr := procStat(pid); serr == nil {
				killAndWait(pid, start)
			}
			// Reaped here if it was reparented to us (a subreaper);
			// otherwise it stays a zombie of the container's init.
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	if useNsenter {
		if pid, err = p.nsenterExchange(conn, cmd, &later); err != nil {
			return fail(err)
		}
	}
	p.cfg.HostPid = pid
	if p.onPid != nil {
		if err := p.onPid(pid); err != nil {
			return fail(err)
		}
	}
	if err := conn.send(&message{Type: msgConfig, Config: p.cfg}); err != nil {
		// An init that failed first thing (nsenter.c) has left its
		// reason in the socket before it exited.
		if m, rerr := conn.recv(); rerr == nil && m.Type == msgError {
			return fail(initError(errorOf(m)))
		}
		return fail(err)
	}
	sources := &mountSources{pid: pid, spec: p.spec, bundle: p.cfg.Bundle}
	defer sources.close()
	m, err := conn.recv()
	for err == nil && m.Type == msgMountSource {
		if err := sources.serve(conn, m); err != nil {
			return fail(err)
		}
		m, err = conn.recv()
	}
	if err == nil && m.Type == msgHooks {
		// prestart hooks see "created", as the validation suite (and
		// crun) have it; createRuntime sees "creating".
		herr := runHooks(p.spec.Hooks, hookPrestart, hookState(p.cfg.ID, Created, pid, p.cfg.Bundle, p.spec))
		if herr == nil {
			herr = runHooks(p.spec.Hooks, hookCreateRuntime, hookState(p.cfg.ID, Creating, pid, p.cfg.Bundle, p.spec))
		}
		if herr != nil {
			conn.send(errorMessage(herr))
			return fail(initError(herr))
		}
		if err := conn.send(&message{Type: msgHooksDone}); err != nil {
			return fail(err)
		}
		m, err = conn.recv()
	}
	switch {
	case err != nil && errors.Is(err, errClosed):
		return fail(initError(errors.New("container init exited during setup")))
	case err != nil:
		return fail(err)
	case m.Type == msgError:
		return fail(initError(errorOf(m)))
	case m.Type != msgReady:
		return fail(fmt.Errorf("unexpected %q message from init", m.Type))
	}
	return pid, nil
}

// initError is an error of the init's setup (or of the hooks run for it),
// in runc's words.
func initError(err error) error { return fmt.Errorf("error during container init: %w", err) }

func (p *procStart) nsenterExchange(conn syncConn, cmd *exec.Cmd, later *atomic.Int32) (int, error) {
	for {
		m, err := conn.recv()
		if err != nil {
			if errors.Is(err, errClosed) {
				return cmd.Process.Pid, errors.New("container init exited while entering namespaces")
			}
			return cmd.Process.Pid, err
		}
		switch m.Type {
		case msgUsermap:
			if err := writeIDMaps(m.Pid, p.spec); err != nil {
				return cmd.Process.Pid, err
			}
			if err := conn.send(&message{Type: msgUsermapDone}); err != nil {
				return cmd.Process.Pid, err
			}
		case msgPid:
			later.Store(int32(m.Pid))
			if m.Pid != cmd.Process.Pid {
				// The intermediate process forked and leaves.
				if err := cmd.Wait(); err != nil {
					return m.Pid, fmt.Errorf("nsenter: %w", err)
				}
			}
			return m.Pid, nil
		case msgError:
			return cmd.Process.Pid, errorOf(m)
		default:
			return cmd.Process.Pid, fmt.Errorf("unexpected %q message from nsenter", m.Type)
		}
	}
}

func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, e := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)}
	}
	return out
}

func writeIDMaps(pid int, spec *specs.Spec) error {
	return userns.WriteMaps(pid, spec.Linux.UIDMappings, spec.Linux.GIDMappings)
}

func timeOffsets(spec *specs.Spec) string {
	var b strings.Builder
	for clock, o := range spec.Linux.TimeOffsets {
		fmt.Fprintf(&b, "%s %d %d\n", clock, o.Secs, o.Nanosecs)
	}
	return b.String()
}

// abortSignals end a create, run or exec whose process has not started
// yet: what was started is killed and removed, and the command ends as
// runc's does.
var abortSignals = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP}

// SignalError is the error of a command that a signal aborted before the
// container's process started.
type SignalError struct{ Sig unix.Signal }

func (e *SignalError) Error() string {
	return fmt.Sprintf("interrupted by signal %d (%s) before the process started", int(e.Sig), unix.SignalName(e.Sig))
}

// signalOf is the signal that aborted the command err ends, 0 if none.
func signalOf(err error) unix.Signal {
	var se *SignalError
	if errors.As(err, &se) {
		return se.Sig
	}
	return 0
}

// abortCatch catches abortSignals while a container process is being
// set up; kill, if set, is called once when one arrives.
type abortCatch struct {
	c    chan os.Signal
	done chan struct{}
	mu   sync.Mutex
	sig  unix.Signal
	kill func()
}

func catchAbort() *abortCatch {
	a := &abortCatch{c: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(a.c, abortSignals...)
	go func() {
		select {
		case s := <-a.c:
			a.mu.Lock()
			a.sig = s.(unix.Signal)
			kill := a.kill
			a.mu.Unlock()
			if kill != nil {
				kill()
			}
		case <-a.done:
		}
	}()
	return a
}

// setKill sets what a signal must kill (nil: nothing); if one already
// came, it is killed at once.
func (a *abortCatch) setKill(kill func()) {
	a.mu.Lock()
	a.kill = kill
	sig := a.sig
	a.mu.Unlock()
	if sig != 0 && kill != nil {
		kill()
	}
}

// err is a *SignalError once a signal came, nil before.
func (a *abortCatch) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sig == 0 {
		return nil
	}
	return &SignalError{Sig: a.sig}
}

// stop stops catching: the signals have their previous effect again.
func (a *abortCatch) stop() {
	signal.Stop(a.c)
	close(a.done)
}

// dieBySignal ends hull by sig with its default action, as a runc killed
// by it ends (after the caller cleaned up).
func dieBySignal(sig unix.Signal) {
	signal.Reset(sig)
	unix.Kill(unix.Getpid(), sig)
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}

// writeSelfProc writes /proc/self/<name>. A process that joined a user
// namespace is non-dumpable during setup (nsenter.c), which makes its
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

// nsRootOf is the host uid and gid of root in the user namespace of
// process pid, read from its id maps; -1 if root is not mapped.
func nsRootOf(pid int) (int, int, error) {
	read := func(name string) (int, error) {
		p := fmt.Sprintf("/proc/%d/%s", pid, name)
		b, err := os.ReadFile(p)
		if err != nil {
			return -1, fmt.Errorf("read %s: %w", p, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) != 3 {
				continue
			}
			in, err1 := strconv.ParseUint(f[0], 10, 32)
			out, err2 := strconv.ParseUint(f[1], 10, 32)
			n, err3 := strconv.ParseUint(f[2], 10, 32)
			if err1 == nil && err2 == nil && err3 == nil && in == 0 && n > 0 {
				return int(out), nil
			}
		}
		return -1, nil
	}
	uid, err := read("uid_map")
	if err != nil {
		return -1, -1, err
	}
	gid, err := read("gid_map")
	return uid, gid, err
}

// giveFifoToJoinedRoot makes exec.fifo (in the state directory dirFd)
// openable by the init pid, which joined a user namespace by path: the
// fifo goes to that namespace's root, the directory becomes searchable.
// With a new user namespace Create does this from the spec's maps.
func giveFifoToJoinedRoot(dirFd, pid int, fifo string) error {
	uid, gid, err := nsRootOf(pid)
	if err != nil {
		return err
	}
	if uid <= 0 && gid <= 0 {
		return nil // root is host root (or unmapped: nothing to give)
	}
	if err := unix.Fchownat(dirFd, fifo, uid, gid, 0); err != nil {
		return fmt.Errorf("chown %s to %d:%d: %w", fifo, uid, gid, err)
	}
	if err := unix.Fchmod(dirFd, 0o711); err != nil {
		return fmt.Errorf("chmod the state directory: %w", err)
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
