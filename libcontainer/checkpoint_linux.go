package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	rpc "github.com/checkpoint-restore/go-criu/v8/rpc"
	"github.com/hullrt/hull/internal/procmounts"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/criu"
	"github.com/hullrt/hull/libcontainer/safepath"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CheckpointMarker is made in the state directory once criu has dumped
// the container (criu's post-dump notification), as runc's "checkpoint".
const CheckpointMarker = "checkpoint"

// criuConfigAnnotation names a container's own criu configuration file
// ("" for none); without it criu reads /etc/criu/runc.conf, as with runc.
const criuConfigAnnotation = "org.criu.config"

func ptrTo[T any](v T) *T { return &v }

// Checkpoint dumps the container's processes with criu into
// o.ImagesDirectory. Unless LeaveRunning or PreDump, criu ends them; the
// caller then deletes the container.
func (c *Container) Checkpoint(cl *criu.Client, o *criu.Opts) error {
	const logFile = "dump.log"
	s := c.Status()
	if s != Running && s != Paused {
		return fmt.Errorf("container %s cannot be checkpointed in %s state", c.ID(), s)
	}
	if err := cl.Check(criu.MinVersion, "checkpoint"); err != nil {
		return err
	}
	if o.ImagesDirectory == "" {
		return errors.New("invalid directory to save checkpoint")
	}
	cgMode, err := criu.CgMode(o.ManageCgroupsMode)
	if err != nil {
		return err
	}
	if err := os.Mkdir(o.ImagesDirectory, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("image directory %s: %w", o.ImagesDirectory, err)
	}
	imageDir, err := os.Open(o.ImagesDirectory)
	if err != nil {
		return fmt.Errorf("image directory %s: %w", o.ImagesDirectory, err)
	}
	defer imageDir.Close()
	spec, err := c.spec()
	if err != nil {
		return err
	}
	ro := &rpc.CriuOpts{
		ImagesDirFd:       ptrTo(int32(imageDir.Fd())),
		LogLevel:          ptrTo(int32(4)),
		LogFile:           ptrTo(logFile),
		Root:              ptrTo(c.st.Rootfs),
		ManageCgroups:     ptrTo(true),
		ManageCgroupsMode: &cgMode,
		NotifyScripts:     ptrTo(true),
		Pid:               ptrTo(int32(c.st.Pid)),
		ShellJob:          ptrTo(o.ShellJob),
		LeaveRunning:      ptrTo(o.LeaveRunning),
		TcpEstablished:    ptrTo(o.TCPEstablished),
		TcpSkipInFlight:   ptrTo(o.TCPSkipInFlight),
		LinkRemap:         ptrTo(o.LinkRemap),
		ExtUnixSk:         ptrTo(o.ExternalUnixConnections),
		FileLocks:         ptrTo(o.FileLocks),
		EmptyNs:           ptrTo(o.EmptyNs),
		OrphanPtsMaster:   ptrTo(true),
		AutoDedup:         ptrTo(o.AutoDedup),
		LazyPages:         ptrTo(o.LazyPages),
	}
	logDir := o.ImagesDirectory
	if o.WorkDirectory != "" {
		wd, err := openWorkDir(o.WorkDirectory)
		if err != nil {
			return err
		}
		defer wd.Close()
		ro.WorkDirFd = ptrTo(int32(wd.Fd()))
		logDir = o.WorkDirectory
	}
	criuConfigFile(spec, ro)
	// Namespaces joined by path stay outside the image: restore expects
	// them to exist.
	for _, t := range []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.PIDNamespace} {
		if err := externalNS(cl, spec, t, ro); err != nil {
			return err
		}
	}
	// criu freezes the cgroup rather than ptrace-stopping each task
	// (cgroup v2's freezer from criu 3.14 on).
	if cg := c.cgroup(); cg != nil {
		mode := c.st.Cgroup.Mode
		if mode != cgroups.Unified || cl.AtLeast(criu.VersionCgroup2Frz) {
			if p := cg.Path("freezer"); p != "" {
				ro.FreezeCgroup = ptrTo(p)
			}
		}
	}
	if o.PageServer.Address != "" && o.PageServer.Port != 0 {
		ro.Ps = &rpc.CriuPageServerInfo{Address: ptrTo(o.PageServer.Address), Port: ptrTo(o.PageServer.Port)}
	}
	if o.ParentImage != "" {
		ro.ParentImg = ptrTo(o.ParentImage)
		ro.TrackMem = ptrTo(true)
	}
	t := rpc.CriuReqType_DUMP
	if o.PreDump {
		if err := cl.Features(&rpc.CriuFeatures{MemTrack: ptrTo(true)}); err != nil {
			return err
		}
		t = rpc.CriuReqType_PRE_DUMP
	}
	statusFd := -1
	if o.LazyPages {
		if err := cl.Features(&rpc.CriuFeatures{LazyPages: ptrTo(true)}); err != nil {
			return err
		}
		if fd := o.StatusFd; fd != -1 {
			flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			if err != nil {
				return fmt.Errorf("invalid --status-fd argument %d: %w", fd, err)
			}
			if flags&(unix.O_WRONLY|unix.O_RDWR) == 0 {
				return fmt.Errorf("invalid --status-fd argument %d: not writable", fd)
			}
			if cl.AtLeast(criu.VersionExtPidNS) {
				statusFd = fd // written on criu's status-ready notification
			} else {
				ro.StatusFd = ptrTo(int32(fd))
			}
		}
	}
	if !o.PreDump {
		if err := c.dumpMounts(ro); err != nil {
			return err
		}
		fds := make([]string, 3)
		for i := range fds {
			fds[i], _ = os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", c.st.Pid, i))
		}
		js, _ := json.Marshal(fds)
		if err := os.WriteFile(filepath.Join(o.ImagesDirectory, criu.DescriptorsFile), js, 0o600); err != nil {
			return err
		}
	}
	stateDir := c.rt.store.Dir(c.ID())
	_, err = cl.Run(&criu.Call{
		Req:     &rpc.CriuReq{Type: &t, Opts: ro},
		Started: c.recordCriu,
		Notify: func(n *rpc.CriuNotify, _ []*os.File) error {
			switch n.GetScript() {
			case "post-dump":
				f, err := os.Create(filepath.Join(stateDir, CheckpointMarker))
				if err != nil {
					return err
				}
				f.Close()
			case "status-ready":
				if statusFd != -1 {
					unix.Write(statusFd, []byte{0})
					unix.Close(statusFd)
					statusFd = -1
				}
			}
			return nil
		},
	})
	c.forgetCriu()
	if ro.StatusFd != nil {
		unix.Close(int(*ro.StatusFd))
	}
	if err != nil {
		return fmt.Errorf("container %s: checkpoint: %w", c.ID(), criu.WithLog(err, logDir, logFile))
	}
	slog.Debug("container checkpointed", "id", c.ID(), "images", o.ImagesDirectory, "predump", o.PreDump, "leaveRunning", o.LeaveRunning)
	return nil
}

func openWorkDir(dir string) (*os.File, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("work directory %s: %w", dir, err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("work directory %s: %w", dir, err)
	}
	return f, nil
}

// criuConfigFile: the annotation org.criu.config names the container's
// criu configuration ("" for none); otherwise /etc/criu/runc.conf, as runc.
func criuConfigFile(spec *specs.Spec, ro *rpc.CriuOpts) {
	if v, ok := spec.Annotations[criuConfigAnnotation]; ok {
		if v != "" {
			ro.ConfigFile = ptrTo(v)
		}
		return
	}
	ro.ConfigFile = ptrTo("/etc/criu/runc.conf")
}

func nsPath(spec *specs.Spec, t specs.LinuxNamespaceType) string {
	if spec.Linux == nil {
		return ""
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path
		}
	}
	return ""
}

// criuNSName is criu's (and the kernel's) name of a namespace type.
func criuNSName(t specs.LinuxNamespaceType) string {
	switch t {
	case specs.NetworkNamespace:
		return "net"
	case specs.MountNamespace:
		return "mnt"
	}
	return string(t)
}

// extNSKey is the key criu knows an external namespace by: extRootNetNS,
// extRootPidNS (runc's).
func extNSKey(t specs.LinuxNamespaceType) string {
	n := criuNSName(t)
	return "extRoot" + strings.ToUpper(n[:1]) + n[1:] + "NS"
}

func extNSVersion(t specs.LinuxNamespaceType) int {
	if t == specs.NetworkNamespace {
		return criu.VersionExtNetNS
	}
	return criu.VersionExtPidNS
}

func externalNS(cl *criu.Client, spec *specs.Spec, t specs.LinuxNamespaceType, ro *rpc.CriuOpts) error {
	if !cl.AtLeast(extNSVersion(t)) {
		return fmt.Errorf("criu lacks support for external %s namespace during checkpointing process (old criu version?): criu %s needed", criuNSName(t), criu.FormatVersion(extNSVersion(t)))
	}
	p := nsPath(spec, t)
	if p == "" {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return fmt.Errorf("linux.namespaces: %s namespace %s: %w", t, p, err)
	}
	ro.External = append(ro.External, fmt.Sprintf("%s[%d]:%s", criuNSName(t), st.Ino, extNSKey(t)))
	return nil
}

// inRoot is dest as the container sees it, with the symlinks in the rootfs
// resolved inside it (as the init mounted it); dest itself if it cannot be
// resolved.
func inRoot(rootfs, dest string) string {
	dest = filepath.Clean("/" + dest)
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return dest
	}
	defer unix.Close(root)
	fd, err := safepath.Open(root, dest, unix.O_PATH)
	if err != nil {
		return dest
	}
	defer unix.Close(fd)
	p, err := os.Readlink(safepath.ProcPath(fd))
	if err != nil {
		return dest
	}
	rel, err := filepath.Rel(rootfs, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return dest
	}
	return filepath.Clean("/" + rel)
}

// extMounts are the mounts criu must treat as external (their source is
// outside the container): bind mounts, device nodes bind-mounted from the
// host, masked files (bound to /dev/null). Dump keys them by their
// destination; restore maps each key to a source on this host.
type extMount struct{ key, source string }

func (c *Container) extMounts(spec *specs.Spec, rootfs, bundle string, dump bool) []extMount {
	var ms []extMount
	for _, m := range spec.Mounts {
		if m.Type == "cgroup" {
			ms = append(ms, c.cgroupBinds(spec, rootfs, m, dump)...)
			continue
		}
		if !config.IsBind(m) {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		ms = append(ms, extMount{inRoot(rootfs, m.Destination), src})
	}
	for _, d := range allDevices(spec) {
		ms = append(ms, extMount{d, d})
	}
	if dump {
		for _, p := range spec.Linux.MaskedPaths {
			fi, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", c.st.Pid, p))
			if err != nil || fi.IsDir() {
				continue
			}
			ms = append(ms, extMount{p, "/dev/null"})
		}
	} else if len(spec.Linux.MaskedPaths) > 0 {
		ms = append(ms, extMount{"/dev/null", "/dev/null"})
	}
	return ms
}

// cgroupBinds: on a v1 or hybrid host, a mount of type "cgroup" of a
// container without a cgroup namespace of its own is a tmpfs holding, per
// hierarchy, a bind mount of the container's cgroup directory
// (rootfs.mountCgroup). Their sources are outside the container: criu
// takes them as external mounts keyed by their place in the container,
// and restore binds the new container's directories there (runc's
// getCgroupMounts). On a unified host, or with a cgroup namespace, the
// mounts are cgroup mounts of the container's own, which criu dumps and
// restores itself.
func (c *Container) cgroupBinds(spec *specs.Spec, rootfs string, m specs.Mount, dump bool) []extMount {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type == unix.CGROUP2_SUPER_MAGIC {
		return nil
	}
	if config.HasNewNS(spec, specs.CgroupNamespace) {
		return nil
	}
	hiers, err := procmounts.Self(func(i *mountinfo.Info) (bool, bool) {
		ok := (i.FSType == "cgroup" || i.FSType == "cgroup2") && strings.HasPrefix(i.Mountpoint, "/sys/fs/cgroup/")
		return !ok, false
	})
	if err != nil {
		slog.Warn("cgroup hierarchies not declared to criu", "id", c.ID(), "error", err)
		return nil
	}
	dirs := cgroupDirs(c.st.Cgroup)
	dest := inRoot(rootfs, m.Destination)
	seen := map[string]bool{}
	var ms []extMount
	for _, h := range hiers {
		name := filepath.Base(h.Mountpoint)
		if seen[name] {
			continue
		}
		seen[name] = true
		src := dirs[h.Mountpoint]
		if src == "" && !dump {
			continue // no cgroup of the container there: nothing to bind
		}
		ms = append(ms, extMount{filepath.Join(dest, name), src})
	}
	return ms
}

func allDevices(spec *specs.Spec) []string {
	seen := map[string]bool{}
	var ds []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			ds = append(ds, p)
		}
	}
	for _, p := range []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/urandom", "/dev/random"} {
		add(p)
	}
	if spec.Linux != nil {
		for _, d := range spec.Linux.Devices {
			add(d.Path)
		}
	}
	return ds
}

func (c *Container) dumpMounts(ro *rpc.CriuOpts) error {
	spec, err := c.spec()
	if err != nil {
		return err
	}
	for _, m := range c.extMounts(spec, c.st.Rootfs, c.st.Bundle, true) {
		val := m.key
		if m.source == "/dev/null" && m.key != "/dev/null" {
			val = "/dev/null"
		}
		ro.ExtMnt = append(ro.ExtMnt, &rpc.ExtMountMap{Key: ptrTo(m.key), Val: ptrTo(val)})
	}
	return nil
}
