package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/hooks"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/proc"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// procStart is what starting a container process takes.
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
	// their tasks files itself before the Go runtime starts (nsenter.c).
	CgJoin *cgroups.Join
	// inCgroup is set by start when cgJoin put the process in its cgroup
	// in every hierarchy; otherwise onPid must Apply it.
	InCgroup bool
	// OnPid, if set, is told the pid before the init gets its config.
	OnPid func(pid int) error
	// Abort, if set, is the caller's catch of TERM, INT and HUP;
	// otherwise start catches them itself while it runs. Either way a
	// signal kills the process being started and start fails with a
	// *SignalError.
	Abort *AbortCatch
}

// start starts the process (hull's own binary as "init") in its
// namespaces and cgroups and runs the bootstrap exchange of the package
// doc up to msgReady. It returns the pid of the process that will exec the
// user's command.
func (p *Bootstrap) Start() (pid int, err error) {
	abort := p.Abort
	if abort == nil {
		abort = CatchAbort()
		defer abort.Stop()
	}
	defer func() {
		// Whatever failed after a signal failed because of it.
		if serr := abort.Err(); err != nil && serr != nil {
			err = serr
		}
	}()
	if err := abort.Err(); err != nil {
		return 0, err
	}
	parentSock, childSock, err := proto.NewPair()
	if err != nil {
		return 0, err
	}
	defer parentSock.Close()
	extra := append([]*os.File{}, p.Preserve...)
	add := func(f *os.File) int {
		if f == nil {
			return -1
		}
		extra = append(extra, f)
		return 2 + len(extra)
	}
	syncFd := add(childSock)
	p.Config.StateDirFd = add(p.StateDir)
	p.Config.ConsoleFd = add(p.Console)
	p.Config.SeccompAgentFd = add(p.SeccompAgent)
	p.Config.PreserveFds = len(p.Preserve)

	// A new cgroup namespace is made by the init itself, once it is in
	// its cgroup (by the clone, nsenter.c or the parent's Apply), so that
	// the namespace's root is the container's cgroup.
	if p.NewFlags&unix.CLONE_NEWCGROUP != 0 {
		p.Config.NewCgroupNS = true
		p.NewFlags &^= unix.CLONE_NEWCGROUP
	}
	useNsenter := len(p.Joins) > 0 || p.NewFlags&unix.CLONE_NEWTIME != 0
	env := append([]string{proto.EnvInit + "=" + strconv.Itoa(syncFd)}, faults.Env()...)
	attr := &syscall.SysProcAttr{}
	// The v1 tasks files are written in nsenter.c before anything else,
	// as host root: the credentials an older kernel checks (5.16 and
	// later check the opener's). Only a process cloned straight into a
	// new user namespace is no longer host root there: it is moved by
	// onPid instead.
	var tasksDone, cloneInto bool
	if j := p.CgJoin; j != nil {
		if len(j.Tasks) > 0 && (useNsenter || p.NewFlags&unix.CLONE_NEWUSER == 0) {
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
		for _, j := range p.Joins {
			js = append(js, fmt.Sprintf("%d:%x", add(j.File), j.Flag))
		}
		env = append(env,
			"_HULL_NSENTER="+strconv.Itoa(syncFd),
			"_HULL_NSJOIN="+strings.Join(js, ","),
			fmt.Sprintf("_HULL_NSNEW=%x", p.NewFlags),
			"_HULL_TIMENS="+timeOffsets(p.Spec))
	} else {
		attr.Cloneflags = p.NewFlags
		attr.Setsid = true
		if p.NewFlags&unix.CLONE_NEWUSER != 0 {
			attr.UidMappings = idMaps(p.Spec.Linux.UIDMappings)
			attr.GidMappings = idMaps(p.Spec.Linux.GIDMappings)
			attr.GidMappingsEnableSetgroups = true
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
			Stdin:       p.Stdin,
			Stdout:      p.Stdout,
			Stderr:      p.Stderr,
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
	abort.SetKill(func() {
		cmd.Process.Kill()
		if pid := int(later.Load()); pid > 0 {
			unix.Kill(pid, unix.SIGKILL)
		}
	})
	defer abort.SetKill(nil)
	p.InCgroup = p.CgJoin != nil && (p.CgJoin.FD < 0 || cloneInto) && (len(p.CgJoin.Tasks) == 0 || tasksDone)
	conn := proto.Conn{FD: int(parentSock.Fd())}
	pid = cmd.Process.Pid
	fail := func(err error) (int, error) {
		if pid != cmd.Process.Pid {
			// The forked init is not our child: kill it and wait for
			// it to be gone through a pidfd.
			if _, start, serr := proc.Stat(pid); serr == nil {
				proc.KillAndWait(pid, start)
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
	p.Config.HostPid = pid
	if p.OnPid != nil {
		if err := p.OnPid(pid); err != nil {
			return fail(err)
		}
	}
	if err := conn.Send(&proto.Message{Type: proto.MsgConfig, Config: p.Config}); err != nil {
		// An init that failed first thing (nsenter.c) has left its
		// reason in the socket before it exited.
		if m, rerr := conn.Recv(); rerr == nil && m.Type == proto.MsgError {
			return fail(initError(proto.ErrorOf(m)))
		}
		return fail(err)
	}
	sources := &mountSources{pid: pid, spec: p.Spec, bundle: p.Config.Bundle}
	defer sources.close()
	m, err := conn.Recv()
	for err == nil && m.Type == proto.MsgMountSource {
		if err := sources.serve(conn, m); err != nil {
			return fail(err)
		}
		m, err = conn.Recv()
	}
	if err == nil && m.Type == proto.MsgHooks {
		// prestart hooks see "created", as the validation suite (and
		// crun) have it; createRuntime sees "creating".
		herr := hooks.Run(p.Spec.Hooks, hooks.Prestart, hooks.State(p.Config.ID, specs.StateCreated, pid, p.Config.Bundle, p.Spec))
		if herr == nil {
			herr = hooks.Run(p.Spec.Hooks, hooks.CreateRuntime, hooks.State(p.Config.ID, specs.StateCreating, pid, p.Config.Bundle, p.Spec))
		}
		if herr != nil {
			conn.Send(proto.ErrorMessage(herr))
			return fail(initError(herr))
		}
		if err := conn.Send(&proto.Message{Type: proto.MsgHooksDone}); err != nil {
			return fail(err)
		}
		m, err = conn.Recv()
	}
	switch {
	case err != nil && errors.Is(err, proto.ErrClosed):
		return fail(initError(errors.New("container init exited during setup")))
	case err != nil:
		return fail(err)
	case m.Type == proto.MsgError:
		return fail(initError(proto.ErrorOf(m)))
	case m.Type != proto.MsgReady:
		return fail(fmt.Errorf("unexpected %q message from init", m.Type))
	}
	return pid, nil
}

// initError is an error of the init's setup (or of the hooks run for it),
// in runc's words.
func initError(err error) error { return fmt.Errorf("error during container init: %w", err) }

func (p *Bootstrap) nsenterExchange(conn proto.Conn, cmd *exec.Cmd, later *atomic.Int32) (int, error) {
	for {
		m, err := conn.Recv()
		if err != nil {
			if errors.Is(err, proto.ErrClosed) {
				return cmd.Process.Pid, errors.New("container init exited while entering namespaces")
			}
			return cmd.Process.Pid, err
		}
		switch m.Type {
		case proto.MsgUsermap:
			if err := writeIDMaps(m.Pid, p.Spec); err != nil {
				return cmd.Process.Pid, err
			}
			if err := conn.Send(&proto.Message{Type: proto.MsgUsermapDone}); err != nil {
				return cmd.Process.Pid, err
			}
		case proto.MsgPid:
			later.Store(int32(m.Pid))
			if m.Pid != cmd.Process.Pid {
				// The intermediate process forked and leaves.
				if err := cmd.Wait(); err != nil {
					return m.Pid, fmt.Errorf("nsenter: %w", err)
				}
			}
			return m.Pid, nil
		case proto.MsgError:
			return cmd.Process.Pid, proto.ErrorOf(m)
		default:
			return cmd.Process.Pid, fmt.Errorf("unexpected %q message from nsenter", m.Type)
		}
	}
}
