package process

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/hooks"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/userns"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Bootstrap is what starting a container process (an init or an exec'd
// process) takes. Start clones it; the caller then places the returned
// Child (records its pid, puts it in its cgroup if the clone could not)
// and calls Child.Setup, which runs the rest of the exchange drawn in
// internal/proto's package doc.
type Bootstrap struct {
	Config                *proto.InitConfig
	Spec                  *specs.Spec // ids maps and time offsets
	Stdin, Stdout, Stderr *os.File
	Preserve              []*os.File // become fds 3, 4, ...
	StateDir              *os.File   // create only
	Console               *os.File   // the console socket connection, if any
	SeccompAgent          *os.File   // connection to the seccomp notify agent, if any
	NewFlags              uintptr
	Joins                 []NSJoin
	// CgJoin, if set, is how the process enters its cgroup: cloned into
	// the cgroup2 directory, and into the v1 hierarchies by writing to
	// their tasks files itself before the Go runtime starts (preinit.c).
	CgJoin *cgroups.Join
	// Plan, if set, is the process's last steps for preinit's C to
	// carry out (internal/plan): the process then never starts the Go
	// runtime. Used only where preinit.c enters the namespaces
	// (nsenter); the config is still sent, as the signal to go on.
	Plan []byte
	// RootfsPlan, if set, is a created init's setup for preinit's
	// rootfs.c (rootfs.CPlan), used when Go's clone makes the
	// namespaces; StartPlan then decides the process's last steps once
	// that setup is done (nil: the Go init does it all after all).
	RootfsPlan []byte
	StartPlan  func(pid int) []byte
	// Abort, if set, is the caller's catch of TERM, INT and HUP;
	// otherwise the Child catches them itself until it is closed. Either
	// way a signal kills the process being started and the step that
	// was running fails with a *SignalError.
	Abort *AbortCatch
}

// clonePlan is how the process is cloned, decided from the config alone
// (planClone), so that the two ways into the namespaces and the ways
// into the cgroup are chosen in one place.
type clonePlan struct {
	// nsenter: a namespace is joined by path, or a time namespace is
	// made: preinit.c does what a multithreaded process cannot (setns
	// into a user or mount namespace, the time offsets before the first
	// process of the namespace), and the process Go starts forks the
	// one that goes on. Otherwise Go's clone makes the new namespaces
	// (cloneFlags), and the process it starts is the one that goes on.
	nsenter    bool
	cloneFlags uintptr
	// newCgroupNS: the init unshares its cgroup namespace itself, once
	// it is in its cgroup, so that the namespace's root is the
	// container's cgroup.
	newCgroupNS bool
	// tasksInC: preinit.c writes "0" to the v1 tasks files before
	// anything else, as host root: the credentials an older kernel
	// checks (5.16 and later check the opener's). A process cloned
	// straight into a new user namespace is no longer host root there.
	tasksInC bool
	// intoCgroup: clone3's CLONE_INTO_CGROUP with the cgroup2 directory.
	intoCgroup bool
	// newUser: Go's clone makes a user namespace, and writes its maps;
	// setgroupsDeny: with "deny" in its setgroups (a user's own gid
	// mapped without newgidmap).
	newUser, setgroupsDeny bool
}

// planClone decides the clone of a process with the new namespaces flags,
// joins namespaces joined by path, the cgroup join j (nil: none), and how
// the id maps of a new user namespace get written (maps).
func planClone(flags uintptr, joins int, j *cgroups.Join, maps userns.Plan) clonePlan {
	var pl clonePlan
	if flags&unix.CLONE_NEWCGROUP != 0 {
		pl.newCgroupNS = true
		flags &^= unix.CLONE_NEWCGROUP
	}
	// Maps that only newuidmap/newgidmap may write (a user's subordinate
	// ids) are written by us, not by Go's clone: through preinit.c.
	pl.nsenter = joins > 0 || flags&unix.CLONE_NEWTIME != 0 || (flags&unix.CLONE_NEWUSER != 0 && maps.NeedsHelper())
	if !pl.nsenter {
		pl.cloneFlags = flags
		pl.newUser = flags&unix.CLONE_NEWUSER != 0
		pl.setgroupsDeny = maps.SetgroupsDeny
	}
	if j != nil {
		pl.tasksInC = len(j.Tasks) > 0 && (pl.nsenter || flags&unix.CLONE_NEWUSER == 0)
		pl.intoCgroup = j.FD >= 0
	}
	return pl
}

// inCgroup tells whether a process cloned with pl (intoCgroup as it was
// finally done) is in its cgroup in every hierarchy of j; if not, the
// caller moves it (cgroups.Manager.Apply) before it gets its config.
func (pl clonePlan) inCgroup(j *cgroups.Join) bool {
	return j != nil && (j.FD < 0 || pl.intoCgroup) && (len(j.Tasks) == 0 || pl.tasksInC)
}

// Child is a process that Start cloned, past its namespaces, waiting for
// its config. Pid is the process that will exec the user's command.
type Child struct {
	Pid int
	// InCgroup: the clone put the process in its cgroup in every
	// hierarchy of Bootstrap.CgJoin.
	InCgroup bool

	b         *Bootstrap
	cmd       *spawned
	sock      *os.File // the parent's end of the sync socket
	conn      proto.Conn
	abort     *AbortCatch
	ownAbort  bool
	forkedPid atomic.Int32 // the process preinit.c forked, once named
	// startPlan: the write end of the start plan pipe, while rootfs.c
	// sets the init up (nil otherwise).
	startPlan *os.File
	// planInC: the process got its plan (EnvPlan), so plan.c, not the
	// Go init, reads the config frame, and only as a signal.
	planInC bool
}

// Start clones hull's own binary as "init" in its namespaces (and, where
// the kernel can, its cgroup) and takes it up to the moment it waits for
// its config. On error nothing is left running.
func (b *Bootstrap) Start() (*Child, error) {
	c := &Child{b: b, abort: b.Abort}
	if c.abort == nil {
		c.abort, c.ownAbort = CatchAbort(), true
	}
	if err := c.abort.Err(); err != nil {
		c.Close()
		return nil, err
	}
	maps := userns.Decide(os.Geteuid(), os.Getegid(), b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings)
	pl := planClone(b.NewFlags, len(b.Joins), b.CgJoin, maps)
	b.Config.NewCgroupNS = pl.newCgroupNS
	if err := c.clone(&pl); err != nil {
		err = c.signalOr(err)
		c.Close()
		return nil, err
	}
	c.InCgroup = pl.inCgroup(b.CgJoin)
	if pl.nsenter {
		if err := c.enterNamespaces(); err != nil {
			return nil, c.Fail(err)
		}
	}
	b.Config.HostPid = c.Pid
	return c, nil
}

// Setup runs the rest of the exchange: the config, the mount sources the
// init asks for, the prestart and createRuntime hooks, and the init's
// ready. On error the process is killed (Fail). Either way the child is
// closed: a caller that fails between Start and Setup calls Fail.
func (c *Child) Setup() error {
	if c.b.Config.Exec {
		// A test build may hold an exec here, before the process has
		// its config (TestFaultExecSignalBeforeReady).
		faults.Delay("exec-config-late", 3*time.Second)
	}
	if c.startPlan != nil {
		done, err := c.setupInC()
		if err != nil {
			return c.Fail(err)
		}
		if done {
			c.Close()
			return nil
		}
	}
	if err := c.sendConfig(); err != nil {
		return c.Fail(err)
	}
	if c.b.Config.Exec {
		// A test build may read the exec'd process's ready late, after
		// the process runs (TestFaultExecSignalAfterReady).
		faults.Delay("exec-ready-late", 3*time.Second)
	}
	if err := c.serveUntilReady(); err != nil {
		return c.Fail(err)
	}
	c.Close()
	return nil
}

// Close releases what the start holds (the sync socket, the signal catch
// it made); the process is left as it is.
func (c *Child) Close() {
	if c.startPlan != nil {
		c.startPlan.Close()
		c.startPlan = nil
	}
	if c.sock != nil {
		c.sock.Close()
		c.sock = nil
	}
	if c.abort != nil {
		c.abort.SetKill(nil)
		if c.ownAbort {
			c.abort.Stop()
		}
		c.abort = nil
	}
}

// Fail kills the process (and the one preinit.c forked), closes the child
// and returns err, or the *SignalError if a signal came: whatever failed
// after a signal failed because of it.
func (c *Child) Fail(err error) error {
	if c.cmd != nil {
		if pid := int(c.forkedPid.Load()); pid > 0 && pid != c.cmd.Pid {
			// The forked process is not our child: kill it and wait
			// for it to be gone through a pidfd.
			if _, start, serr := proc.Stat(pid); serr == nil {
				proc.KillAndWait(pid, start)
			}
			// Reaped here if it was reparented to us (a subreaper);
			// otherwise it stays a zombie of the container's init.
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
		c.cmd.Kill()
		c.cmd.Wait()
	}
	err = c.signalOr(err)
	c.Close()
	return err
}

// signalOr is the *SignalError if a signal came, err otherwise.
func (c *Child) signalOr(err error) error {
	if c.abort != nil {
		if serr := c.abort.Err(); serr != nil {
			return serr
		}
	}
	return err
}

// clone starts the process: the fds it gets, its environment (what
// preinit.c reads), and the clone's attributes as pl says.
func (c *Child) clone(pl *clonePlan) error {
	b := c.b
	parentSock, childSock, err := proto.NewPair()
	if err != nil {
		return err
	}
	c.sock = parentSock
	c.conn = proto.Conn{FD: int(parentSock.Fd())}
	defer childSock.Close()
	extra := append([]*os.File{}, b.Preserve...)
	add := func(f *os.File) int {
		if f == nil {
			return -1
		}
		extra = append(extra, f)
		return 2 + len(extra)
	}
	syncFd := add(childSock)
	b.Config.StateDirFd = add(b.StateDir)
	b.Config.ConsoleFd = add(b.Console)
	b.Config.SeccompAgentFd = add(b.SeccompAgent)
	b.Config.PreserveFds = len(b.Preserve)

	env := append([]string{proto.EnvInit + "=" + strconv.Itoa(syncFd)}, faults.Env()...)
	attr := &syscall.SysProcAttr{}
	if pl.tasksInC {
		var fds []string
		for _, f := range b.CgJoin.Tasks {
			fds = append(fds, strconv.Itoa(add(f)))
		}
		env = append(env, proto.EnvCgJoin+"="+strings.Join(fds, ","))
	}
	if pl.intoCgroup {
		attr.UseCgroupFD, attr.CgroupFD = true, b.CgJoin.FD
	}
	if pl.nsenter && b.Plan != nil {
		if planFile := planPipe(b.Plan); planFile != nil {
			defer planFile.Close()
			env = append(env, proto.EnvPlan+"="+strconv.Itoa(add(planFile)))
			c.planInC = true
		}
	}
	if !pl.nsenter && b.RootfsPlan != nil && b.StartPlan != nil && b.StateDir != nil {
		rfs, startRead, err := c.rootfsInC(add, &env)
		if err != nil {
			return err
		}
		defer rfs.Close()
		defer startRead.Close()
	}
	if pl.nsenter {
		var js []string
		for _, j := range b.Joins {
			js = append(js, fmt.Sprintf("%d:%x", add(j.File), j.Flag))
		}
		env = append(env,
			proto.EnvNsenter+"="+strconv.Itoa(syncFd),
			proto.EnvNsJoin+"="+strings.Join(js, ","),
			fmt.Sprintf("%s=%x", proto.EnvNsNew, b.NewFlags&^unix.CLONE_NEWCGROUP),
			proto.EnvTimeNS+"="+timeOffsets(b.Spec))
	} else {
		attr.Cloneflags = pl.cloneFlags
		attr.Setsid = true
		if pl.newUser {
			attr.UidMappings = idMaps(b.Spec.Linux.UIDMappings)
			attr.GidMappings = idMaps(b.Spec.Linux.GIDMappings)
			attr.GidMappingsEnableSetgroups = !pl.setgroupsDeny
			// Host root is not mapped into the namespace: become its
			// root, or execve would drop every capability.
			attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		}
	}
	// The binary's fd travels as the last of the child's fds, so the
	// number the child executes is the one it has after the fd shuffle,
	// whatever the count of fds before it. preinit.c makes it
	// close-on-exec first thing.
	exeFile, err := selfExe()
	if err != nil {
		return err
	}
	defer exeFile.Close()
	n := add(exeFile)
	env = append(env, proto.EnvExeFd+"="+strconv.Itoa(n))
	start := func() (*spawned, error) {
		return spawn("/proc/self/fd/"+strconv.Itoa(n), []string{"hull", "init"}, env,
			[3]*os.File{b.Stdin, b.Stdout, b.Stderr}, extra, attr)
	}
	cmd, err := start()
	if err != nil && pl.intoCgroup {
		// No clone3 or CLONE_INTO_CGROUP (Linux < 5.7), or the cgroup
		// refuses: clone plainly, and Apply says what is wrong.
		attr.UseCgroupFD, pl.intoCgroup = false, false
		cmd, err = start()
	}
	if err != nil {
		return fmt.Errorf("start container init: %w", err)
	}
	c.cmd, c.Pid = cmd, cmd.Pid
	if b.Config.Exec {
		// An exec'd process runs the user's program as soon as it has
		// sent ready, which we may not have read yet: a kill here
		// could kill a program that runs (a SIGTERM meant for it then
		// ended it by SIGKILL: exit 137). So a signal shuts the socket
		// instead; the ready sent before that is still read, and the
		// process then counts as started (the signal is forwarded to
		// it). Otherwise the process can no longer send ready, every
		// wait on the socket ends on both sides, and Fail kills it.
		c.abort.SetKill(func() { shutdownSock(parentSock) })
		return nil
	}
	// From here a signal kills what was started: the first process and,
	// once preinit.c names it, the one that goes on. Their end of the
	// socket closes with them, which ends every wait on it. A created
	// init runs nothing of the user's before start.
	c.abort.SetKill(func() {
		cmd.Kill()
		if pid := int(c.forkedPid.Load()); pid > 0 {
			unix.Kill(pid, unix.SIGKILL)
		}
	})
	return nil
}

// shutdownSock shuts both directions of the parent's end of the sync
// socket, through the *os.File, so that a Close meanwhile cannot hand
// the fd number to another file first. The kernel queues a message the
// child sent before, or refuses it (EPIPE): there is no in-between.
func shutdownSock(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_RDWR) })
	}
}

// enterNamespaces is preinit.c's part of the exchange: the id maps of a
// user namespace it made, then the pid of the process that goes on (the
// one preinit.c forked, or the first process itself).
func (c *Child) enterNamespaces() error {
	for {
		m, err := c.conn.Recv()
		if err != nil {
			if errors.Is(err, proto.ErrClosed) {
				return errors.New("container init exited while entering namespaces")
			}
			return err
		}
		switch m.Type {
		case proto.MsgUsermap:
			if err := writeIDMaps(m.Pid, c.b.Spec); err != nil {
				return err
			}
			if err := c.conn.Send(&proto.Message{Type: proto.MsgUsermapDone}); err != nil {
				return err
			}
		case proto.MsgPid:
			c.forkedPid.Store(int32(m.Pid))
			if m.Pid != c.cmd.Pid {
				// The intermediate process forked and leaves.
				if err := c.cmd.Wait(); err != nil {
					return fmt.Errorf("nsenter: %w", err)
				}
			}
			c.Pid = m.Pid
			return nil
		case proto.MsgError:
			return proto.ErrorOf(m)
		default:
			return fmt.Errorf("unexpected %q message from nsenter", m.Type)
		}
	}
}

// rootfsInC gives the child the setup plan and the read end of the
// start plan pipe (EnvRootfs), which the caller closes once the child
// has them; a plan the pipe cannot hold leaves the setup to Go (nil
// files, nothing to close).
func (c *Child) rootfsInC(add func(*os.File) int, env *[]string) (rfs, startRead *os.File, err error) {
	if rfs = planPipe(c.b.RootfsPlan); rfs == nil {
		return nil, nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		rfs.Close()
		return nil, nil, err
	}
	c.startPlan = w
	*env = append(*env, fmt.Sprintf("%s=%d,%d,%d,%d", proto.EnvRootfs,
		add(rfs), c.b.Config.StateDirFd, add(r), len(c.b.Preserve)))
	return rfs, r, nil
}

// setupInC is the exchange with an init that rootfs.c sets up (see
// internal/proto): true when it is ready; false when it went back to
// the Go init, which then gets its config.
func (c *Child) setupInC() (bool, error) {
	w := c.startPlan
	defer func() {
		w.Close()
		c.startPlan = nil
	}()
	if err := c.conn.Send(&proto.Message{Type: proto.MsgRootfsGo}); err != nil {
		// As sendConfig: preinit.c may have failed (a cgroup join)
		// and left its reason before it exited.
		if m, rerr := c.conn.Recv(); rerr == nil && m.Type == proto.MsgError {
			return false, initError(proto.ErrorOf(m))
		}
		return false, err
	}
	for {
		m, err := c.conn.Recv()
		if err != nil {
			if errors.Is(err, proto.ErrClosed) {
				return false, initError(errors.New("container init exited during setup"))
			}
			return false, err
		}
		switch m.Type {
		case proto.MsgRootfsDone:
			reply := proto.MsgRootfsUndo
			if plan := c.b.StartPlan(c.Pid); plan != nil && proto.FillPipe(int(w.Fd()), plan) {
				reply = proto.MsgPlanWritten
			}
			if err := c.conn.Send(&proto.Message{Type: reply}); err != nil {
				return false, err
			}
		case proto.MsgReady:
			return true, nil
		case proto.MsgError:
			// preinit.c's, from before rootfs.c (rootfs.c sends none)
			return false, initError(proto.ErrorOf(m))
		case proto.MsgRootfsFallback:
			slog.Debug("init setup in C undone: the Go init does it", "pid", c.Pid, "step", m.Error)
			return false, nil
		default:
			return false, fmt.Errorf("unexpected %q message from init", m.Type)
		}
	}
}

// sendConfig sends the InitConfig. An init that failed first thing
// (preinit.c) has left its reason in the socket before it exited.
func (c *Child) sendConfig() error {
	m := &proto.Message{Type: proto.MsgConfig, Config: c.b.Config}
	if c.planInC {
		// plan.c drops the frame unread: encoding the spec for it
		// (encoding/json's first Marshal of the spec's types) was 9%
		// of an exec's CPU samples (issue 18).
		m.Config = nil
	}
	err := c.conn.Send(m)
	if err != nil {
		if m, rerr := c.conn.Recv(); rerr == nil && m.Type == proto.MsgError {
			return initError(proto.ErrorOf(m))
		}
	}
	return err
}

// serveUntilReady answers the init's requests in the order it makes them
// (mount sources, then the hooks) until it is ready or fails.
func (c *Child) serveUntilReady() error {
	b := c.b
	sources := &mountSources{pid: c.Pid, spec: b.Spec, bundle: b.Config.Bundle}
	defer sources.close()
	m, err := c.conn.Recv()
	for err == nil && m.Type == proto.MsgMountSource {
		if err := sources.serve(c.conn, m); err != nil {
			return err
		}
		m, err = c.conn.Recv()
	}
	if err == nil && m.Type == proto.MsgHooks {
		if err := c.runCreateHooks(); err != nil {
			return err
		}
		m, err = c.conn.Recv()
	}
	switch {
	case err != nil && errors.Is(err, proto.ErrClosed):
		return initError(errors.New("container init exited during setup"))
	case err != nil:
		return err
	case m.Type == proto.MsgError:
		return initError(proto.ErrorOf(m))
	case m.Type != proto.MsgReady:
		return fmt.Errorf("unexpected %q message from init", m.Type)
	}
	return nil
}

// runCreateHooks runs the prestart and createRuntime hooks the init asked
// for (its mounts are made) and tells it they ran.
func (c *Child) runCreateHooks() error {
	b := c.b
	// prestart hooks see "created", as the validation suite (and crun)
	// have it; createRuntime sees "creating".
	herr := hooks.Run(b.Spec.Hooks, hooks.Prestart, hooks.State(b.Config.ID, specs.StateCreated, c.Pid, b.Config.Bundle, b.Spec))
	if herr == nil {
		herr = hooks.Run(b.Spec.Hooks, hooks.CreateRuntime, hooks.State(b.Config.ID, specs.StateCreating, c.Pid, b.Config.Bundle, b.Spec))
	}
	if herr != nil {
		c.conn.Send(proto.ErrorMessage(herr))
		return initError(herr)
	}
	return c.conn.Send(&proto.Message{Type: proto.MsgHooksDone})
}

// initError is an error of the init's setup (or of the hooks run for it),
// in runc's words.
func initError(err error) error { return fmt.Errorf("error during container init: %w", err) }

// planPipe returns the read end of a pipe holding plan whole, written
// before the clone (nobody reads it until the child runs); nil when the
// pipe cannot hold it (a user over fs.pipe-user-pages-soft gets pipes of
// one page): the process then does its steps in Go.
func planPipe(plan []byte) *os.File {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil
	}
	r, w := p[0], p[1]
	defer unix.Close(w)
	if !proto.FillPipe(w, plan) {
		unix.Close(r)
		return nil
	}
	return os.NewFile(uintptr(r), "plan")
}
