package libcontainer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/internal/unixsock"
	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/netdev"
	"github.com/hullrt/hull/libcontainer/process"
	"github.com/hullrt/hull/libcontainer/rootfs"
	"github.com/hullrt/hull/libcontainer/store"
	"github.com/hullrt/hull/libcontainer/tty"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Runtime is hull's view of one --root.
type Runtime struct {
	store store.Store
	// rootlessCgroups: --rootless (rootless_linux.go).
	rootlessCgroups bool
}

// New returns the runtime whose containers live under root.
func New(root string) *Runtime { return &Runtime{store: store.Store{Root: root}} }

// Container is a loaded container. Commands that change it hold its lock
// from Load (or Create) until Close.
type Container struct {
	rt  *Runtime
	st  *store.State
	h   *store.Handle
	pty *os.File // pty master of a foreground run with a terminal
}

// ID is the container's id.
func (c *Container) ID() string { return c.st.ID }

// spec is the container's config as kept at create time (decoded on first
// use); nil for a container that has none (its state was recovered).
func (c *Container) spec() (*specs.Spec, error) {
	spec, err := c.st.Config.Spec()
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.ID(), err)
	}
	return spec, nil
}

// Close releases the container's lock.
func (c *Container) Close() {
	if c.h != nil {
		c.h.Close()
		c.h = nil
	}
}

func notExist(id string) error {
	return fmt.Errorf("container %s %w", id, ErrNotExist)
}

// Load reads container id. With lock, it takes the container's lock first
// (giving up on one that a checkpoint's criu keeps: lockCommand) and holds
// it until Close. A damaged state.json is an error: only delete
// (LoadForDelete) may act on such a container.
func (r *Runtime) Load(id string, lock bool) (*Container, error) {
	if !lock {
		return r.load(id, nil, false)
	}
	return r.load(id, r.lockCommand, false)
}

// LoadForDelete locks container id like Load, and for a damaged state.json
// falls back on the recovery record (the init and its cgroups), so that
// delete --force can still kill and remove them.
//
// A checkpoint holding the lock while its criu runs (a --lazy-pages dump
// waits for its restore side) makes delete fail as for a running container,
// and delete --force end that criu first (lockForDelete). With force, a
// criu left by a checkpoint that was killed is ended too.
func (r *Runtime) LoadForDelete(id string, force bool) (*Container, error) {
	if err := store.ValidateID(id); err != nil {
		return nil, err
	}
	c, err := r.load(id, func(id string) (*store.Handle, error) { return r.lockForDelete(id, force) }, true)
	if err != nil {
		return nil, err
	}
	if force {
		if _, err := r.endCheckpoint(id); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (r *Runtime) load(id string, lock func(string) (*store.Handle, error), recover bool) (*Container, error) {
	if err := store.ValidateID(id); err != nil {
		return nil, err
	}
	c := &Container{rt: r}
	if lock != nil {
		h, err := lock(id)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, notExist(id)
			}
			return nil, err
		}
		c.h = h
	}
	st, err := r.store.Load(id)
	if err != nil {
		if c.h != nil && errors.Is(err, store.ErrDamaged) {
			if !recover {
				c.Close()
				return nil, err
			}
			rec, rerr := r.store.LoadRecovery(id)
			if rerr != nil {
				// Nothing known of its process: remove what is ours.
				slog.Warn("container state is damaged and has no recovery record", "id", id, "error", err, "recovery", rerr)
				rec = &store.State{ID: id, Phase: store.PhaseCreating}
			} else {
				slog.Warn("container state is damaged; using its recovery record", "id", id, "error", err)
			}
			c.st = rec
			return c, nil
		}
		if c.h != nil && errors.Is(err, os.ErrNotExist) {
			// A directory without state.json (a delete killed
			// half-way): holding its lock, we may remove it. It
			// shows as stopped with no process.
			c.st = &store.State{ID: id, Phase: store.PhaseCreating}
			return c, nil
		}
		if c.h != nil {
			c.Close()
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, notExist(id)
		}
		return nil, err
	}
	c.st = st
	return c, nil
}

// RemoveStale removes what a create of id that was killed before its
// directory got its name left under the root (see store.RemoveStale).
func (r *Runtime) RemoveStale(id string) error {
	removed, err := r.store.RemoveStale(id)
	for _, d := range removed {
		slog.Debug("removed the directory of a create that was killed", "id", id, "dir", d)
	}
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	return nil
}

// List loads every container under the root, without locks.
func (r *Runtime) List() ([]*Container, error) {
	ids, err := r.store.List()
	if err != nil {
		return nil, err
	}
	var cs []*Container
	for _, id := range ids {
		c, err := r.Load(id, false)
		if err != nil {
			if errors.Is(err, store.ErrDamaged) {
				// Listed by runc too as a warning: the caller
				// can still delete --force it.
				slog.Warn("skipping container with damaged state", "id", id, "error", err)
			}
			continue // removed meanwhile, or half-written: not listed
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// Status derives the container's status from its record and the kernel.
func (c *Container) Status() Status {
	st := c.st
	if st.Phase == store.PhaseCreating {
		if c.h == nil && c.rt.store.Busy(st.ID) {
			return Creating
		}
		if c.h != nil && st.Pid == 0 {
			return Stopped
		}
	}
	if !proc.Alive(st.Pid, st.StartTime) {
		return Stopped
	}
	if st.Phase == store.PhaseCreating {
		return Creating
	}
	if _, err := os.Lstat(filepath.Join(c.rt.store.Dir(st.ID), store.FifoName)); err == nil {
		return Created
	}
	if cg := c.cgroup(); cg != nil {
		if fs, err := cg.State(); err == nil && fs == cgroups.Frozen {
			return Paused
		}
	}
	return Running
}

// StateJSON is the output of `state` and of `list --format json`: runc's
// fields and names.
type StateJSON struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      Status            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
	// How the init ended, once hull-shim recorded it (hull's own fields;
	// runc's callers ignore unknown ones).
	ExitStatus *int       `json:"exitStatus,omitempty"`
	OOMKilled  bool       `json:"oomKilled,omitempty"`
	ExitedAt   *time.Time `json:"exitedAt,omitempty"`
}

// State returns the container's state as `hull state` prints it.
func (c *Container) State() StateJSON {
	s := c.Status()
	pid := c.st.Pid
	if s == Stopped {
		pid = 0
	}
	ann, err := c.st.Config.Annotations()
	if err != nil {
		slog.Warn("container state: no annotations", "id", c.ID(), "error", err)
	}
	js := StateJSON{
		Version: specs.Version, ID: c.st.ID, Pid: pid, Status: s,
		Bundle: c.st.Bundle, Rootfs: c.st.Rootfs, Created: c.st.Created,
		Annotations: ann, Owner: c.st.Owner,
	}
	if e := c.st.Exit; e != nil && s == Stopped {
		code, at := e.Code, e.ExitedAt
		js.ExitStatus, js.OOMKilled, js.ExitedAt = &code, e.OOMKill, &at
	}
	return js
}

// CreateOpts are the options of `create` (and of `run`).
type CreateOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	// PidfdSocket, if set, receives a pidfd of the init (--pidfd-socket).
	PidfdSocket string
	// Stdio of the init when there is no terminal; nil means hull's own.
	Stdin, Stdout, Stderr *os.File
	// relayTTY: a terminal without a console socket is relayed by this
	// process (foreground run).
	relayTTY bool
	// startSoon: Start follows at once (run), so the init need not wait
	// in the small C image (see waitInC).
	startSoon bool
}

// Create sets up a container whose init waits for Start. On error nothing
// is left behind: no state directory, no process, no mount.
func (r *Runtime) Create(o CreateOpts) (c *Container, err error) {
	if err := store.ValidateID(o.ID); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, err
	}
	spec, err := config.Load(bundle)
	if err != nil {
		return nil, err
	}
	if err := validateRootless(spec, os.Geteuid()); err != nil {
		return nil, err
	}
	if _, err := capabilities.Parse(spec.Process.Capabilities, "process.capabilities"); err != nil {
		return nil, err
	}
	if err := capabilities.CheckAvailable(spec.Process.Capabilities, "process.capabilities"); err != nil {
		return nil, err
	}
	if spec.Process.Terminal && o.ConsoleSocket == "" && !o.relayTTY {
		return nil, errors.New("cannot allocate a tty for a detached container without --console-socket")
	}
	if !spec.Process.Terminal && o.ConsoleSocket != "" {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	if !config.HasMountNS(spec) && (len(spec.Linux.MaskedPaths) > 0 || len(spec.Linux.ReadonlyPaths) > 0) {
		// runc's check and wording: the masks would be made in the
		// mount namespace hull runs in.
		return nil, errors.New("unable to restrict sys entries without a private MNT namespace")
	}
	newFlags, joins, err := process.NamespacesOf(spec)
	if err != nil {
		return nil, err
	}
	defer process.CloseJoins(joins)
	agent, err := process.DialSeccompAgent(spec.Linux.Seccomp)
	if err != nil {
		return nil, err
	}
	if agent != nil {
		defer agent.Close()
	}
	pidfdSock, err := process.DialPidfdSocket(o.PidfdSocket, process.PidfdKindInit)
	if err != nil {
		return nil, err
	}
	defer pidfdSock.Close()
	var console, consoleOurs *os.File
	switch {
	case o.ConsoleSocket != "":
		if console, err = dialConsole(o.ConsoleSocket); err != nil {
			return nil, err
		}
		defer console.Close()
	case spec.Process.Terminal:
		if consoleOurs, console, err = tty.ConsolePair(); err != nil {
			return nil, err
		}
		defer consoleOurs.Close()
		defer console.Close()
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	if rootfs, err = filepath.EvalSymlinks(rootfs); err != nil {
		return nil, fmt.Errorf("root.path: %w", err)
	}
	cg, err := newCgroup(spec, o.ID, r.rootlessCgroups)
	if err != nil {
		return nil, err
	}
	if r.rootlessCgroups {
		cgroups.Rootless(cg, spec.Linux.CgroupsPath != "")
	}
	st := &store.State{
		ID: o.ID, Bundle: bundle, Rootfs: rootfs, Phase: store.PhaseCreating,
		Created: time.Now().UTC(), Owner: "", Config: store.ConfigOf(spec), Cgroup: cgroups.Save(cg),
	}
	// TERM, INT and HUP from here on abort the create and clean up
	// (process.AbortCatch).
	abort := process.CatchAbort()
	defer abort.Stop()
	h, err := r.store.New(st)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %s: %w", o.ID, ErrExist)
		}
		return nil, err
	}
	// After the id is ours (an existing id is the error, as in runc),
	// before the rollback below is armed: it removes the cgroup and
	// kills what is in it.
	if err := cg.CheckUnused(); err != nil {
		h.Remove()
		h.Close()
		return nil, fmt.Errorf("container %s: %w", o.ID, err)
	}
	c = &Container{rt: r, st: st, h: h}
	faults.Point("after-state-dir")
	defer func() {
		if err != nil {
			if st.Pid > 0 {
				proc.KillAndWait(st.Pid, st.StartTime)
			}
			cgroups.Rollback(cg)
			h.Remove()
			c.Close()
			c = nil
			if sig := process.SignalOf(err); sig != 0 && !o.startSoon {
				process.DieBySignal(sig)
			}
		}
	}()
	if err := cg.Create(); err != nil {
		// runc's wording, which its suite matches.
		return c, fmt.Errorf("container %s: unable to apply cgroup configuration: %w", o.ID, err)
	}
	if cgroups.LostAny(cg) && !privatePidns(spec) {
		slog.Warn("Creating a rootless container with no cgroup and no private pid namespace. " +
			"Such configuration is strongly discouraged (as it is impossible to properly kill all container's processes) " +
			"and will result in an error in a future runc version.")
	}
	st.Cgroup = cgroups.Save(cg) // less what a rootless create left out
	faults.Point("after-cgroup")
	// The init is cloned into its cgroup2 cgroup and joins the v1
	// hierarchies itself (see cgroups.Join).
	cgJoin, err := cg.OpenJoin()
	if err != nil {
		return c, fmt.Errorf("container %s: %w", o.ID, err)
	}
	defer cgJoin.Close()
	if err := unix.Mkfifoat(h.DirFd(), store.FifoName, 0o600); err != nil {
		return c, fmt.Errorf("make %s: %w", store.FifoName, err)
	}
	// The init opens the fifo as the container's root, which in a user
	// namespace is some other host uid: give it the fifo and a way into
	// the directory (search only, 0711).
	if uid, gid := hostRoot(spec); uid != 0 || gid != 0 {
		if err := unix.Fchownat(h.DirFd(), store.FifoName, uid, gid, 0); err != nil {
			return c, fmt.Errorf("chown %s: %w", store.FifoName, err)
		}
		if err := unix.Fchmod(h.DirFd(), 0o711); err != nil {
			return c, fmt.Errorf("chmod %s: %w", h.Dir, err)
		}
	}
	// The init gets its own open of the directory: a dup of the locked fd
	// would share the flock and hold it for as long as the init waits.
	stateDir, err := os.OpenFile(h.Dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return c, err
	}
	defer stateDir.Close()
	p := &process.Bootstrap{
		Config: &proto.InitConfig{
			ID: o.ID, Spec: spec, Rootfs: rootfs, Bundle: bundle,
			NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring,
			CgroupDirs: cgroupDirs(st.Cgroup), StartSoon: o.startSoon,
		},
		Spec:         spec,
		Stdin:        orStd(o.Stdin, os.Stdin),
		Stdout:       orStd(o.Stdout, os.Stdout),
		Stderr:       orStd(o.Stderr, os.Stderr),
		StateDir:     stateDir,
		Console:      console,
		SeccompAgent: agent,
		NewFlags:     newFlags,
		Joins:        joins,
		Abort:        abort,
	}
	var nfds int
	nfds, spec.Process.Env = process.SocketActivation(o.PreserveFds, spec.Process.Env)
	p.Preserve = process.Preserved(nfds)
	p.CgJoin = cgJoin
	p.RootfsPlan, p.StartPlan = initPlans(&o, spec, rootfs, bundle, p.Config.CgroupDirs, newFlags, console != nil, agent != nil, len(p.Preserve))
	child, err := p.Start()
	if err == nil {
		if perr := c.placeInit(child.Pid, child.InCgroup, cg, pidfdSock); perr != nil {
			err = child.Fail(perr)
		} else {
			err = child.Setup()
		}
	}
	if err != nil {
		// runc's words; callers and runc's tests match them.
		return c, fmt.Errorf("unable to start container process: %w", err)
	}
	pid := child.Pid
	// The init is ready: its threads exist (splitPids).
	if _, pids := splitPids(resourcesOf(spec)); pids != nil {
		if err := cg.Set(pids); err != nil {
			return c, fmt.Errorf("container %s: %w", o.ID, err)
		}
	}
	if consoleOurs != nil {
		if c.pty, err = unixsock.RecvFile(consoleOurs, "pty-master"); err != nil {
			return c, fmt.Errorf("container %s: %w", o.ID, err)
		}
	}
	st.Phase = store.PhaseCreated
	if err := h.Save(st); err != nil {
		return c, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, pid); err != nil {
			return c, err
		}
	}
	if err := abort.Err(); err != nil {
		return c, err
	}
	slog.Debug("container created: its init waits for start", "id", o.ID, "pid", pid, "rootfs", rootfs)
	return c, nil
}

// initPlans returns the init's setup as a plan for preinit's C and the
// function that plans its last steps once that is done (issue 18: the
// init then never starts the Go runtime), or nils where the Go init sets
// it up: a config rootfs.CPlan leaves to Go, a non-root caller, a test
// build's fault stages (they are Go's), or HULL_ROOTFS_IN_GO set (to
// compare the two; the tests do).
func initPlans(o *CreateOpts, spec *specs.Spec, rootfsPath, bundle string, cgroupDirs map[string]string, newFlags uintptr, terminal, agent bool, preserve int) ([]byte, func(int) []byte) {
	if os.Geteuid() != 0 || os.Getenv("HULL_ROOTFS_IN_GO") != "" || len(faults.Env()) > 0 {
		return nil, nil
	}
	plan := rootfs.CPlan(rootfs.CPlanInput{ID: o.ID, Rootfs: rootfsPath, Bundle: bundle, Spec: spec,
		NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring, NewFlags: newFlags, Terminal: terminal, Agent: agent, CgroupDirs: cgroupDirs})
	if plan == nil {
		return nil, nil
	}
	return plan, func(pid int) []byte {
		// The init is our child, not yet waited for: the pid is its.
		root := openInitRoot(pid)
		if root == nil {
			return nil
		}
		defer root.Close()
		return execPlan(spec, root, preserve, false)
	}
}

// placeInit records the new init (pid) in the state, so that a create
// killed from here on leaves a record through which delete finds and
// kills it; sends its pidfd; gives a joined user namespace's root the
// fifo; and puts it in its cgroup if the clone could not (inCgroup), with
// the resources set, while it waits for its config: it has run nothing
// of the user's yet.
func (c *Container) placeInit(pid int, inCgroup bool, cg cgroups.Manager, pidfdSock *process.PidfdSocket) error {
	st := c.st
	st.Pid = pid
	_, start, err := proc.Stat(pid)
	if err != nil {
		return fmt.Errorf("init pid %d: %w", pid, err)
	}
	st.StartTime = start
	if err := c.h.Save(st); err != nil {
		return err
	}
	faults.Point("after-clone")
	if err := pidfdSock.Send(pid); err != nil {
		return err
	}
	spec, err := c.spec()
	if err != nil {
		return err
	}
	if config.JoinsNS(spec, specs.UserNamespace) {
		// Its root is known only now (process.GiveFifoToJoinedRoot).
		if err := process.GiveFifoToJoinedRoot(c.h.DirFd(), pid, store.FifoName); err != nil {
			return fmt.Errorf("container %s: %w", st.ID, err)
		}
	}
	if !inCgroup {
		if err := cg.Apply(pid); err != nil {
			return fmt.Errorf("put init in its cgroup: %w", err)
		}
	}
	rest, _ := splitPids(resourcesOf(spec))
	if err := cg.Set(rest); err != nil {
		return err
	}
	// The devices are in place before the init reads its config.
	if err := netdev.MoveAll(spec, netnsPath(spec, pid)); err != nil {
		return fmt.Errorf("error creating network interfaces: %w", err)
	}
	return nil
}

// netnsPath is the network namespace the init is in: the one the config
// names, or its own new one.
func netnsPath(spec *specs.Spec, pid int) string {
	for _, n := range spec.Linux.Namespaces {
		if n.Type == specs.NetworkNamespace && n.Path != "" {
			return n.Path
		}
	}
	return "/proc/" + strconv.Itoa(pid) + "/ns/net"
}

// hostRoot is the host uid and gid of root in the container's new user
// namespace (0, 0 without one). A joined namespace's root is read from the
// init once it is in it (giveFifoToJoinedRoot).
func hostRoot(spec *specs.Spec) (int, int) {
	if !config.HasNewNS(spec, specs.UserNamespace) {
		return 0, 0
	}
	return hostID(spec.Linux.UIDMappings, 0), hostID(spec.Linux.GIDMappings, 0)
}

func hostID(m []specs.LinuxIDMapping, id uint32) int {
	for _, e := range m {
		if id >= e.ContainerID && id-e.ContainerID < e.Size {
			return int(e.HostID + id - e.ContainerID)
		}
	}
	return 0
}

func orStd(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

func dialConsole(path string) (*os.File, error) {
	f, err := unixsock.Dial(path)
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	return f, nil
}

// writePidFile writes pid to path atomically: callers poll for the file and
// must never read it half-written.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err == nil {
		err = store.WriteFileAtomic(abs, []byte(strconv.Itoa(pid)))
	}
	if err != nil {
		return fmt.Errorf("write pid file %s: %w", path, err)
	}
	return nil
}

// OwnerName is the user owning the container's state directory, as
// `list` shows it.
func OwnerName(root, id string) string {
	fi, err := os.Stat(filepath.Join(root, id))
	if err != nil {
		return ""
	}
	uid := fi.Sys().(*syscall.Stat_t).Uid
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return u.Username
	}
	return "#" + strconv.Itoa(int(uid))
}

// privatePidns tells whether the config makes a new pid namespace (a pid
// entry without a path).
func privatePidns(spec *specs.Spec) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace && ns.Path == "" {
			return true
		}
	}
	return false
}
