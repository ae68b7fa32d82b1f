package libcontainer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	rpc "github.com/checkpoint-restore/go-criu/v8/rpc"
	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/criu"
	"github.com/hullrt/hull/libcontainer/hooks"
	"github.com/hullrt/hull/libcontainer/internal/loopback"
	"github.com/hullrt/hull/libcontainer/safepath"
	"github.com/hullrt/hull/libcontainer/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// RestoreOpts are the options of `restore`.
type RestoreOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoSubreaper   bool
	Detach        bool
	Criu          *criu.Opts
	Client        *criu.Client
}

// criuRootDir is where the rootfs is bind-mounted for criu during a
// restore (criu's root must be a mount point whose parent is not
// overmounted), in the container's state directory.
const criuRootDir = "criu-root"

// Restore makes container o.ID from the checkpoint in
// o.Criu.ImagesDirectory and the bundle's config. Detached, it returns 0
// once the restored processes run; in the foreground it waits for the
// init, forwards signals to it, deletes the container and returns the
// init's exit code. On error nothing is left: no state directory, cgroup,
// mount or process.
func (r *Runtime) Restore(o RestoreOpts) (code int, err error) {
	const logFile = "restore.log"
	if err := store.ValidateID(o.ID); err != nil {
		return -1, err
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return -1, err
	}
	spec, err := config.Load(bundle)
	if err != nil {
		return -1, err
	}
	if spec.Process.Terminal && o.ConsoleSocket == "" {
		return -1, errors.New("cannot restore a container with a terminal without --console-socket")
	}
	if !spec.Process.Terminal && o.ConsoleSocket != "" {
		return -1, errors.New("--console-socket given but process.terminal is false")
	}
	cl, co := o.Client, o.Criu
	if co.ImagesDirectory == "" {
		return -1, errors.New("invalid directory to restore checkpoint")
	}
	fds, err := checkpointImage(co.ImagesDirectory)
	if err != nil {
		return -1, err
	}
	if err := cl.Check(criu.MinVersion, "restore"); err != nil {
		return -1, err
	}
	if co.LsmProfile != "" && !cl.AtLeast(criu.VersionLSM) {
		return -1, errors.New("--lsm-profile requires at least CRIU 3.16")
	}
	if co.LsmMountContext != "" && !cl.AtLeast(criu.VersionLSM) {
		return -1, errors.New("--lsm-mount-context requires at least CRIU 3.16")
	}
	cgMode, err := criu.CgMode(co.ManageCgroupsMode)
	if err != nil {
		return -1, err
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path != "" && ns.Type == specs.CgroupNamespace {
			// runc's words: criu cannot join a cgroup namespace.
			return -1, fmt.Errorf("do not know how to handle namespace %s (criu cannot join a cgroup namespace)", ns.Type)
		}
	}
	imageDir, err := os.Open(co.ImagesDirectory)
	if err != nil {
		return -1, err
	}
	defer imageDir.Close()
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	if rootfs, err = filepath.EvalSymlinks(rootfs); err != nil {
		return -1, fmt.Errorf("root.path: %w", err)
	}
	cg, err := newCgroup(spec, o.ID, r.rootlessCgroups)
	if err != nil {
		return -1, err
	}
	var console *os.File
	if o.ConsoleSocket != "" {
		if console, err = dialConsole(o.ConsoleSocket); err != nil {
			return -1, err
		}
		defer console.Close()
	}
	var sigs chan os.Signal
	if !o.Detach {
		if !o.NoSubreaper {
			// The restored init is criu's sibling, our child; what it
			// forks and leaves is ours to reap.
			if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
				return -1, fmt.Errorf("become child subreaper: %w", err)
			}
		}
		catch, err := catchAll()
		if err != nil {
			return -1, err
		}
		sigs = catch.c
	}
	st := &store.State{
		ID: o.ID, Bundle: bundle, Rootfs: rootfs, Phase: store.PhaseCreating,
		Created: time.Now().UTC(), Config: store.ConfigOf(spec), Cgroup: cgroups.Save(cg),
	}
	h, err := r.store.New(st)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return -1, fmt.Errorf("container %s: %w", o.ID, ErrExist)
		}
		return -1, err
	}
	if err := cg.CheckUnused(); err != nil {
		h.Remove()
		h.Close()
		return -1, fmt.Errorf("container %s: %w", o.ID, err)
	}
	c := &Container{rt: r, st: st, h: h}
	var restored int // the restored init, once criu said it
	ok := false
	defer func() {
		if !ok {
			if restored > 0 {
				unix.Kill(restored, unix.SIGKILL)
			}
			if st.Pid > 0 {
				proc.KillAndWait(st.Pid, st.StartTime)
			}
			cg.Destroy()
			h.Remove()
		}
		c.Close()
	}()
	if err := cg.Create(); err != nil {
		return -1, fmt.Errorf("container %s: create cgroup: %w", o.ID, err)
	}
	root := filepath.Join(h.Dir, criuRootDir)
	if err := os.Mkdir(root, 0o755); err != nil {
		return -1, err
	}
	defer os.Remove(root)
	if err := unix.Mount(rootfs, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return -1, fmt.Errorf("bind %s to %s: %w", rootfs, root, err)
	}
	defer unix.Unmount(root, unix.MNT_DETACH)
	ro := &rpc.CriuOpts{
		ImagesDirFd:       ptrTo(int32(imageDir.Fd())),
		EvasiveDevices:    ptrTo(true),
		LogLevel:          ptrTo(int32(4)),
		LogFile:           ptrTo(logFile),
		RstSibling:        ptrTo(true),
		Root:              ptrTo(root),
		ManageCgroups:     ptrTo(true),
		ManageCgroupsMode: &cgMode,
		NotifyScripts:     ptrTo(true),
		ShellJob:          ptrTo(co.ShellJob),
		ExtUnixSk:         ptrTo(co.ExternalUnixConnections),
		TcpEstablished:    ptrTo(co.TCPEstablished),
		FileLocks:         ptrTo(co.FileLocks),
		EmptyNs:           ptrTo(co.EmptyNs),
		OrphanPtsMaster:   ptrTo(true),
		AutoDedup:         ptrTo(co.AutoDedup),
		LazyPages:         ptrTo(co.LazyPages),
	}
	if co.LsmProfile != "" {
		ro.LsmProfile = ptrTo(co.LsmProfile)
	}
	if co.LsmMountContext != "" {
		ro.LsmMountContext = ptrTo(co.LsmMountContext)
	}
	logDir := co.ImagesDirectory
	if co.WorkDirectory != "" {
		wd, err := openWorkDir(co.WorkDirectory)
		if err != nil {
			return -1, err
		}
		defer wd.Close()
		ro.WorkDirFd = ptrTo(int32(wd.Fd()))
		logDir = co.WorkDirectory
	}
	criuConfigFile(spec, ro)
	var extra []*os.File
	defer func() { closeAll(extra) }()
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path == "" {
			continue
		}
		switch ns.Type {
		case specs.NetworkNamespace, specs.PIDNamespace:
			if !cl.AtLeast(extNSVersion(ns.Type)) {
				return -1, fmt.Errorf("criu lacks support for external %s namespace during the restoration process (old criu version?): criu %s needed", criuNSName(ns.Type), criu.FormatVersion(extNSVersion(ns.Type)))
			}
			f, err := os.Open(ns.Path)
			if err != nil {
				return -1, fmt.Errorf("linux.namespaces: %s namespace %s: %w", ns.Type, ns.Path, err)
			}
			ro.InheritFd = append(ro.InheritFd, &rpc.InheritFd{Key: ptrTo(extNSKey(ns.Type)), Fd: ptrTo(int32(4 + len(extra)))})
			extra = append(extra, f)
		default:
			ro.JoinNs = append(ro.JoinNs, &rpc.JoinNamespace{Ns: ptrTo(criuNSName(ns.Type)), NsFile: ptrTo(ns.Path)})
		}
	}
	// The binds made for nested mount points are not criu's business.
	unmount, err := prepareRestoreMounts(spec, rootfs, bundle)
	unmount()
	if err != nil {
		return -1, fmt.Errorf("container %s: %w", o.ID, err)
	}
	for _, m := range c.extMounts(spec, rootfs, bundle, false) {
		ro.ExtMnt = append(ro.ExtMnt, &rpc.ExtMountMap{Key: ptrTo(m.key), Val: ptrTo(m.source)})
	}
	for i, s := range fds {
		if strings.Contains(s, "pipe:") {
			ro.InheritFd = append(ro.InheritFd, &rpc.InheritFd{Key: ptrTo(s), Fd: ptrTo(int32(i))})
		}
	}
	t := rpc.CriuReqType_RESTORE
	_, err = cl.Run(&criu.Call{
		Req:   &rpc.CriuReq{Type: &t, Opts: ro},
		Stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr},
		Extra: extra,
		Started: func(pid int) error {
			// criu restores the processes into its own cgroups (then
			// moves them per --manage-cgroups-mode): the container's.
			if err := cg.Apply(pid); err != nil {
				return fmt.Errorf("container %s: put criu in the container's cgroup: %w", o.ID, err)
			}
			if err := cg.Set(resourcesOf(spec)); err != nil {
				return fmt.Errorf("container %s: %w", o.ID, err)
			}
			roots, err := cgroupRoots(pid)
			if err != nil {
				return err
			}
			ro.CgRoot = roots
			return nil
		},
		Notify: func(n *rpc.CriuNotify, files []*os.File) error {
			switch n.GetScript() {
			case "setup-namespaces":
				if co.EmptyNs&unix.CLONE_NEWNET != 0 && config.HasNewNS(spec, specs.NetworkNamespace) {
					// criu made the network namespace empty (hull, as
					// runc, keeps its properties out of the image):
					// lo is up in it as at create, before criu
					// restores the sockets that use it.
					if err := loopbackUpIn(int(n.GetPid())); err != nil {
						return fmt.Errorf("container %s: %w", o.ID, err)
					}
				}
				// runc's hooks see the status of its container
				// object, which has no init process yet: stopped.
				hs := hooks.State(o.ID, specs.StateStopped, int(n.GetPid()), bundle, spec)
				if err := hooks.Run(spec.Hooks, hooks.Prestart, hs); err != nil {
					return err
				}
				return hooks.Run(spec.Hooks, hooks.CreateRuntime, hs)
			case "post-restore":
				restored = int(n.GetPid())
				_, start, err := proc.Stat(restored)
				if err != nil {
					return fmt.Errorf("restored init pid %d: %w", restored, err)
				}
				st.Pid, st.StartTime = restored, start
				st.Phase = store.PhaseCreated
				st.Created = time.Now().UTC()
				return h.Save(st)
			case "orphan-pts-master":
				if len(files) == 0 {
					return errors.New("criu's orphan-pts-master notification carried no fd")
				}
				if console == nil {
					return errors.New("the checkpoint has a terminal: restore needs --console-socket")
				}
				if err := unix.Sendmsg(int(console.Fd()), []byte("/dev/ptmx"), unix.UnixRights(int(files[0].Fd())), nil, 0); err != nil {
					return fmt.Errorf("send pty master over the console socket: %w", err)
				}
			case "status-ready":
				if co.StatusFd != -1 {
					unix.Write(co.StatusFd, []byte{0})
					unix.Close(co.StatusFd)
					co.StatusFd = -1
				}
			}
			return nil
		},
	})
	if err != nil {
		return -1, fmt.Errorf("container %s: restore: %w", o.ID, criu.WithLog(err, logDir, logFile))
	}
	if st.Pid == 0 {
		return -1, fmt.Errorf("container %s: criu restored nothing (no post-restore notification)", o.ID)
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, st.Pid); err != nil {
			return -1, err
		}
	}
	slog.Debug("container restored", "id", o.ID, "pid", st.Pid, "images", co.ImagesDirectory)
	ok = true
	pid := st.Pid
	c.Close()
	if o.Detach {
		return 0, nil
	}
	code = r.forwardAndWait(pid, sigs, false)
	// Waits for any holder: a checkpoint of this container ends soon
	// after its init does.
	if c, err := r.load(o.ID, r.store.Lock, false); err == nil {
		err = c.Destroy(true)
		c.Close()
		if err != nil {
			return code, err
		}
	}
	return code, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// checkpointImage refuses a directory that holds no checkpoint, before
// anything is made, and returns the saved descriptors of the init's stdio.
func checkpointImage(dir string) ([]string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("image directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("image directory %s: %w", dir, unix.ENOTDIR)
	}
	if _, err := os.Stat(filepath.Join(dir, "inventory.img")); err != nil {
		return nil, fmt.Errorf("image directory %s is not a checkpoint (no inventory.img: %w)", dir, err)
	}
	js, err := os.ReadFile(filepath.Join(dir, criu.DescriptorsFile))
	if err != nil {
		return nil, fmt.Errorf("image directory %s is not a container checkpoint: %w", dir, err)
	}
	var fds []string
	if err := json.Unmarshal(js, &fds); err != nil {
		return nil, fmt.Errorf("image directory %s: %s: %w", dir, criu.DescriptorsFile, err)
	}
	return fds, nil
}

// cgroupRoots are the cgroups of pid (criu, placed in the container's) as
// criu's cg_root entries: where it restores the dumped cgroup tree.
func cgroupRoots(pid int) ([]*rpc.CgroupRoot, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var roots []*rpc.CgroupRoot
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			roots = append(roots, &rpc.CgroupRoot{Ctrl: ptrTo(ctl), Path: ptrTo(parts[2])})
		}
	}
	return roots, s.Err()
}

// prepareRestoreMounts makes in the rootfs the mount points the init made
// at create (a restore may use another copy of the rootfs), except on
// tmpfs mounts, whose content criu restores. Bind mounts are mounted for
// the time of the restore so that mount points inside them can be made
// too; unmount undoes them.
func prepareRestoreMounts(spec *specs.Spec, rootfs, bundle string) (unmount func(), err error) {
	var binds []string
	unmount = func() {
		for i := len(binds) - 1; i >= 0; i-- {
			unix.Unmount(binds[i], unix.MNT_DETACH)
		}
	}
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return unmount, fmt.Errorf("open rootfs %s: %w", rootfs, err)
	}
	defer unix.Close(root)
	onTmpfs := func(dest string) bool {
		for _, m := range spec.Mounts {
			if m.Type == "tmpfs" && strings.HasPrefix(dest, filepath.Clean(m.Destination)+"/") {
				return true
			}
		}
		return false
	}
	for i, m := range spec.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			continue
		}
		dest := filepath.Clean("/" + config.StripRootfs(rootfs, m.Destination))
		if onTmpfs(dest) {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		dir := true
		if config.IsBind(m) {
			if fi, err := os.Stat(src); err == nil && !fi.IsDir() {
				dir = false
			}
		}
		var fd int
		if dir {
			fd, err = safepath.MkdirAll(root, dest, 0o755)
		} else {
			fd, err = safepath.MkFileAll(root, dest, 0o644)
		}
		if err != nil {
			return unmount, fmt.Errorf("mounts[%d]: create criu restore mountpoint for %s: %w", i, dest, err)
		}
		if config.IsBind(m) {
			target, rerr := os.Readlink(safepath.ProcPath(fd))
			if rerr == nil {
				if err := unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, ""); err == nil {
					binds = append(binds, target)
				}
			}
		}
		unix.Close(fd)
	}
	return unmount, nil
}

// loopbackUpIn sets lo up in the network namespace of pid, from a thread
// of ours that joins it and is then thrown away.
func loopbackUpIn(pid int) error {
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return fmt.Errorf("network namespace of the restored init: %w", err)
	}
	defer ns.Close()
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with the goroutine, and its
		// namespace with it.
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("join the restored init's network namespace: %w", err)
			return
		}
		errc <- loopback.Up()
	}()
	return <-errc
}
