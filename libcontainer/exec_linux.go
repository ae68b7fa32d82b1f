package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/internal/unixsock"
	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/process"
	"github.com/hullrt/hull/libcontainer/tty"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ExecOpts are the options of `exec`.
type ExecOpts struct {
	// ProcessFile is --process: a JSON specs.Process replacing the rest.
	ProcessFile   string
	Args          []string
	Tty           bool
	ConsoleSocket string
	Cwd           string
	Env           []string
	User          string // uid[:gid]
	AdditionalGid []uint32
	ProcessLabel  string
	AppArmor      string
	NoNewPrivs    bool
	Caps          []string
	PreserveFds   int
	PidFile       string
	PidfdSocket   string // receives a pidfd of the process (--pidfd-socket)
	Detach        bool
	IgnorePaused  bool
	Cgroup        string   // one --cgroup (kept for callers); Cgroups wins
	Cgroups       []string // every --cgroup given
}

// Exec runs a new process in container id, which it loads and locks. It
// returns the process's exit code in the foreground, 0 once it runs with
// Detach. A foreground exec catches every signal before anything else
// (signalCatch), to forward them once its process runs.
func (r *Runtime) Exec(id string, o ExecOpts) (int, error) {
	var catch *signalCatch
	if !o.Detach {
		var err error
		if catch, err = catchAll(); err != nil {
			return -1, err
		}
	}
	c, err := r.Load(id, true)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	return c.exec(o, catch)
}

// LoadProcess reads a --process file.
func LoadProcess(path string) (*specs.Process, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read process file: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("process file %s: %w", path, err)
	}
	if err := config.ValidateProcess(&p, "process"); err != nil {
		return nil, fmt.Errorf("process file %s: %w", path, err)
	}
	return &p, nil
}

// execProcess builds the process to exec from the container's own process
// and the command line, as runc does.
func (c *Container) execProcess(o *ExecOpts, cspec *specs.Spec) (*specs.Process, error) {
	if o.ProcessFile != "" {
		return LoadProcess(o.ProcessFile)
	}
	if len(o.Args) == 0 {
		return nil, fmt.Errorf("exec: no command given for container %s", c.ID())
	}
	base := cspec.Process
	p := *base
	p.Args = o.Args
	p.Terminal = o.Tty
	p.Env = process.MergeEnv(base.Env, o.Env)
	if o.Cwd != "" {
		p.Cwd = o.Cwd
	}
	if o.User != "" {
		uidS, gidS, hasGid := strings.Cut(o.User, ":")
		uid, err := strconv.ParseUint(uidS, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: want UID[:GID] as numbers", o.User)
		}
		p.User.UID = uint32(uid)
		if hasGid {
			gid, err := strconv.ParseUint(gidS, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: want UID[:GID] as numbers", o.User)
			}
			p.User.GID = uint32(gid)
		}
	}
	if len(o.AdditionalGid) > 0 {
		p.User.AdditionalGids = o.AdditionalGid
	}
	if o.NoNewPrivs {
		p.NoNewPrivileges = true
	}
	if o.ProcessLabel != "" {
		p.SelinuxLabel = o.ProcessLabel
	}
	if o.AppArmor != "" {
		p.ApparmorProfile = o.AppArmor
	}
	if len(o.Caps) > 0 && base.Capabilities != nil {
		caps := *base.Capabilities
		add := func(set []string) []string { return append(append([]string{}, set...), o.Caps...) }
		// Never the inheritable set: a cap there survives execve of any
		// binary (CVE-2022-29162). The ambient set, as runc's, only when
		// the config has an inheritable set (ambient needs its caps
		// there, so only those it already grants are raised).
		caps.Bounding, caps.Effective, caps.Permitted = add(caps.Bounding), add(caps.Effective), add(caps.Permitted)
		if caps.Inheritable != nil {
			caps.Ambient = add(caps.Ambient)
		}
		p.Capabilities = &caps
	}
	if err := config.ValidateProcess(&p, "process"); err != nil {
		return nil, err
	}
	return &p, nil
}

// subCgroupDirs resolves exec --cgroup, runc's way: one "PATH" (every
// controller) or any number of "CONTROLLER[,CONTROLLER]:PATH", relative
// to the container's cgroup ("/" is the container's cgroup itself). A
// path may not leave the container's cgroup ("bad sub cgroup path"); that
// it exists is found when the process is put there ("error adding pid").
func (c *Container) subCgroupDirs(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	paths := map[string]string{}
	for _, a := range args {
		ctrs, sub, ok := strings.Cut(a, ":")
		if !ok {
			if len(args) != 1 {
				return nil, fmt.Errorf("invalid --cgroup argument: %s (missing <controller>: prefix)", a)
			}
			paths[""] = a
			continue
		}
		for _, ctl := range strings.Split(ctrs, ",") {
			if ctl == "" {
				return nil, fmt.Errorf("invalid --cgroup argument: %s (empty <controller> prefix)", a)
			}
			if _, dup := paths[ctl]; dup {
				return nil, fmt.Errorf("invalid --cgroup argument(s): controller %s specified multiple times", ctl)
			}
			paths[ctl] = sub
		}
	}
	cg := c.cgroup()
	if cg == nil || !cg.Exists() {
		return nil, fmt.Errorf("exec --cgroup: container %s has no cgroup", c.ID())
	}
	var dirs []string
	seen := map[string]bool{}
	add := func(base, sub string) error {
		if base == "" {
			return nil
		}
		d := filepath.Join(base, sub)
		if d != base && !strings.HasPrefix(d, base+"/") {
			return fmt.Errorf("bad sub cgroup path: %s", sub)
		}
		if d != base && !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
		return nil
	}
	if sub, ok := paths[""]; ok {
		for _, base := range c.st.Cgroup.V1 {
			if err := add(base, sub); err != nil {
				return nil, err
			}
		}
		if err := add(c.st.Cgroup.Unified, sub); err != nil {
			return nil, err
		}
		return dirs, nil
	}
	for ctl, sub := range paths {
		base := cg.Path(ctl)
		if base == "" {
			return nil, fmt.Errorf("unknown controller %s in SubCgroupPaths", ctl)
		}
		if err := add(base, sub); err != nil {
			return nil, err
		}
	}
	return dirs, nil
}

// nsOrder is the order namespaces are listed for nsenter; the user
// namespace is joined first by nsenter whatever its place.
var nsOrder = []string{"user", "ipc", "uts", "net", "pid", "cgroup", "time", "mnt"}

var procNSType = map[string]specs.LinuxNamespaceType{
	"user": specs.UserNamespace, "ipc": specs.IPCNamespace, "uts": specs.UTSNamespace,
	"net": specs.NetworkNamespace, "pid": specs.PIDNamespace, "cgroup": specs.CgroupNamespace,
	"time": specs.TimeNamespace, "mnt": specs.MountNamespace,
}

// initNamespaces opens the namespaces of the container's init that differ
// from hull's own (setns into one's own user namespace is refused).
func (c *Container) initNamespaces() ([]process.NSJoin, error) {
	var joins []process.NSJoin
	for _, name := range nsOrder {
		want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", c.st.Pid, name))
		if err != nil {
			if os.IsNotExist(err) {
				continue // the kernel lacks this namespace type
			}
			process.CloseJoins(joins)
			return nil, fmt.Errorf("container %s: %w", c.ID(), err)
		}
		if self, _ := os.Readlink("/proc/self/ns/" + name); self == want && name != "pid" {
			continue
		}
		f, err := sysfile.Open(fmt.Sprintf("/proc/%d/ns/%s", c.st.Pid, name), os.O_RDONLY)
		if err != nil {
			process.CloseJoins(joins)
			return nil, fmt.Errorf("container %s: open %s namespace: %w", c.ID(), name, err)
		}
		joins = append(joins, process.NSJoin{File: f, Flag: process.NSFlags[procNSType[name]]})
	}
	// The pid check above happens after opening so a pid reused meanwhile
	// is caught.
	if !proc.Alive(c.st.Pid, c.st.StartTime) {
		process.CloseJoins(joins)
		return nil, fmt.Errorf("container %s: %w", c.ID(), ErrNotRunning)
	}
	return joins, nil
}

// pausedExecError is runc's refusal of an exec into a paused container;
// it is ErrPaused to errors.Is.
type pausedExecError string

func (e pausedExecError) Error() string {
	return "container " + string(e) + ": cannot exec in a paused container (use --ignore-paused to override)"
}

func (e pausedExecError) Unwrap() error { return ErrPaused }

// exec is Runtime.Exec once the container is loaded; catch is catching
// signals unless o.Detach.
func (c *Container) exec(o ExecOpts, catch *signalCatch) (int, error) {
	s := c.Status()
	if s == Paused && !o.IgnorePaused {
		return -1, pausedExecError(c.ID())
	}
	if s != Running && s != Created && s != Paused {
		return -1, fmt.Errorf("cannot exec in container %s: %w (status %s)", c.ID(), ErrNotRunning, s)
	}
	cgArgs := o.Cgroups
	if len(cgArgs) == 0 && o.Cgroup != "" {
		cgArgs = []string{o.Cgroup}
	}
	subDirs, err := c.subCgroupDirs(cgArgs)
	if err != nil {
		return -1, err
	}
	cspec, err := c.spec()
	if err != nil {
		return -1, err
	}
	if cspec == nil || cspec.Process == nil || cspec.Linux == nil {
		return -1, fmt.Errorf("cannot exec in container %s: its state has no config", c.ID())
	}
	proc, err := c.execProcess(&o, cspec)
	if err != nil {
		return -1, err
	}
	if err := validateRootlessProcess(proc, os.Geteuid()); err != nil {
		return -1, err
	}
	if _, err := capabilities.Parse(proc.Capabilities, "process.capabilities"); err != nil {
		return -1, err
	}
	if err := capabilities.CheckAvailable(proc.Capabilities, "process.capabilities"); err != nil {
		return -1, err
	}
	if proc.Terminal && o.ConsoleSocket == "" && o.Detach {
		return -1, fmt.Errorf("cannot allocate a tty for a detached exec without --console-socket")
	}
	if !proc.Terminal && o.ConsoleSocket != "" {
		return -1, fmt.Errorf("--console-socket given but the process has no terminal")
	}
	// Opened before initNamespaces, whose check that the pid is still
	// the init's then covers it too.
	root := openInitRoot(c.st.Pid)
	defer func() {
		if root != nil {
			root.Close()
		}
	}()
	joins, err := c.initNamespaces()
	if err != nil {
		return -1, err
	}
	defer process.CloseJoins(joins)
	agent, err := process.DialSeccompAgent(cspec.Linux.Seccomp)
	if err != nil {
		return -1, err
	}
	if agent != nil {
		defer agent.Close()
	}
	pidfdSock, err := process.DialPidfdSocket(o.PidfdSocket, process.PidfdKindExec)
	if err != nil {
		return -1, err
	}
	defer pidfdSock.Close()
	var console, consoleOurs *os.File
	switch {
	case o.ConsoleSocket != "":
		if console, err = dialConsole(o.ConsoleSocket); err != nil {
			return -1, err
		}
		defer console.Close()
	case proc.Terminal:
		if consoleOurs, console, err = tty.ConsolePair(); err != nil {
			return -1, err
		}
		defer consoleOurs.Close()
		defer console.Close()
	}
	if !o.Detach {
		// The exec'd process is forked by nsenter and reparented to us.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return -1, fmt.Errorf("become child subreaper: %w", err)
		}
	}
	spec := *cspec
	spec.Process = proc
	p := &process.Bootstrap{
		Config:       &proto.InitConfig{ID: c.ID(), Spec: &spec, Rootfs: c.st.Rootfs, Bundle: c.st.Bundle, Exec: true},
		Spec:         &spec,
		Stdin:        os.Stdin,
		Stdout:       os.Stdout,
		Stderr:       os.Stderr,
		Console:      console,
		SeccompAgent: agent,
		Joins:        joins,
	}
	var nfds int
	nfds, proc.Env = process.SocketActivation(o.PreserveFds, proc.Env)
	p.Preserve = process.Preserved(nfds)
	// The process's root is the init's only when it joins the init's
	// mount namespace (setns puts it at that namespace's root).
	joinsMount := false
	for _, j := range joins {
		joinsMount = joinsMount || j.Flag == unix.CLONE_NEWNS
	}
	if !joinsMount && root != nil {
		root.Close()
		root = nil
	}
	p.Plan = execPlan(&spec, root, len(p.Preserve), console != nil || agent != nil)
	if p.Plan != nil {
		slog.Debug("exec: the process's last steps run from a plan, in C", "id", c.ID())
	} else {
		slog.Debug("exec: the process's last steps run in Go", "id", c.ID())
	}
	cg := c.cgroup()
	if cg != nil && !cg.Exists() {
		cg = nil
	}
	if cg != nil {
		// As the init: cloned into the cgroup2 cgroup, the v1 ones
		// joined by the process itself (see cgroups.Join).
		if p.CgJoin, err = cg.OpenJoin(); err != nil {
			return -1, fmt.Errorf("exec in container %s: %w", c.ID(), err)
		}
		defer p.CgJoin.Close()
	}
	if s == Paused {
		// The new process freezes as soon as it enters the container's
		// cgroup, so start cannot finish before a resume. Holding the
		// lock would make that resume (and kill, delete) wait for us:
		// a deadlock. The namespace fds are already open, and a
		// container deleted meanwhile makes the cgroup move fail.
		c.Close()
	}
	child, err := process.WithInitialAffinity(proc, p.Start)
	if err == nil {
		if perr := placeExec(child.Pid, child.InCgroup, cg, subDirs, len(cgArgs) > 0, c.st.Pid, c.rt.rootlessCgroups, pidfdSock); perr != nil {
			err = child.Fail(perr)
		} else {
			err = child.Setup()
		}
	}
	if sig := process.SignalOf(err); sig != 0 {
		return 128 + int(sig), nil // as runc: the signal is the process's
	}
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", c.ID(), err)
	}
	pid := child.Pid
	var relay *tty.Relay
	if consoleOurs != nil {
		pty, err := unixsock.RecvFile(consoleOurs, "pty-master")
		if err != nil {
			unix.Kill(pid, unix.SIGKILL)
			return -1, err
		}
		relay = tty.StartRelay(pty)
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			return -1, err
		}
	}
	// Other commands (kill, delete) must not wait for an exec to end.
	c.Close()
	if o.Detach {
		return 0, nil
	}
	code := c.rt.forwardAndWait(pid, catch.c, relay != nil)
	if relay != nil {
		relay.Stop()
	}
	return code, nil
}

// placeExec sends the new process's pidfd (runc's init sends it before
// it is ready) and puts it in the container's cgroup (or the --cgroup
// sub-cgroups) if the clone could not (inCgroup), before it runs anything
// of the user's (it waits for its config). cg is nil for a container
// without a cgroup.
//
// Where a write to cgroup.procs is refused, as runc: systemd's driver asks
// systemd to move the process (AttachProcessesToUnit; a user's instance,
// which cannot write there either when the process comes from outside its
// tree, asks the system's); on cgroup2 the process may go to the init's
// own cgroup; and a rootless container (rootless) ignores the failure, the
// process staying where it was.
func placeExec(pid int, inCgroup bool, cg cgroups.Manager, subDirs []string, subAsked bool, initPid int, rootless bool, pidfdSock *process.PidfdSocket) error {
	faults.Point("exec-after-clone")
	if err := pidfdSock.Send(pid); err != nil {
		return err
	}
	if cg == nil {
		return nil
	}
	if !inCgroup {
		if err := cg.Apply(pid); err != nil {
			// As runc: on cgroup2, a container cgroup that refuses the
			// process (its init moved to a sub-cgroup and enabled
			// controllers for its children: EBUSY) sends it to the
			// init's own cgroup, unless exec --cgroup asked for a place.
			// A sub-cgroup asked for is where the process goes anyway:
			// the container's own cgroup2 directory may refuse it first.
			switch {
			case subAsked && len(subDirs) > 0 && (errors.Is(err, unix.EBUSY) || errors.Is(err, os.ErrPermission)):
			case !subAsked && systemdAttach(cg, pid, "") == nil:
				return nil
			case !subAsked && joinInitCgroup(pid, initPid):
				return nil
			case rootless:
				slog.Debug("rootless: the exec'd process stays out of the container's cgroup", "pid", pid, "error", err)
				return nil
			default:
				return fmt.Errorf("put process in the container's cgroup: %w", err)
			}
		}
	}
	for _, d := range subDirs {
		if err := sysfile.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid))); err != nil {
			if base := cg.Path(""); base != "" && strings.HasPrefix(d, base+"/") && systemdAttach(cg, pid, strings.TrimPrefix(d, base)) == nil {
				continue
			}
			if rootless {
				slog.Debug("rootless: the exec'd process stays out of its sub-cgroup", "pid", pid, "dir", d, "error", err)
				continue
			}
			return fmt.Errorf("exec --cgroup: error adding pid %d to cgroups: %w", pid, err)
		}
	}
	return nil
}

// systemdAttach asks systemd to move pid into the unit's cgroup or its
// sub-cgroup sub; an error if cg is not the systemd driver's.
func systemdAttach(cg cgroups.Manager, pid int, sub string) error {
	a, ok := cg.(interface {
		Attach(pid int, sub string) error
	})
	if !ok {
		return errors.New("not the systemd driver")
	}
	return a.Attach(pid, sub)
}

// joinInitCgroup puts pid in the cgroup2 cgroup the container's init
// (initPid) is in, as /proc/INITPID/cgroup says; false if there is none
// (not a unified host) or the write fails (the init may have moved on).
func joinInitCgroup(pid, initPid int) bool {
	d := cgroups.ProcessCgroup2Dir(initPid)
	if d == "" {
		return false
	}
	return sysfile.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid))) == nil
}
