package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Mount sources made by the parent.
//
// Some bind mounts cannot be made by the init alone, and it asks the parent
// (hull create/run, still host root in the host's user namespace) for the
// source as an fd (msgMountSource, answered by msgMountSourceFd with the fd
// attached), as runc does:
//
//   - id-mapped mounts (idmap, ridmap, or mappings on the mount): setting
//     MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the filesystem's user
//     namespace, which an init in a user namespace of its own does not have.
//     The parent clones the source (open_tree) and maps it; the init attaches
//     the detached tree.
//   - bind sources the init cannot see: in a user namespace, a source below
//     a directory the container's root may not search. The parent opens it
//     (O_PATH) and the init clones the mount through the fd.
//
// The parent resolves the source in the container's mount namespace (a
// thread of its own joins it), so earlier mounts of the container can be
// sources, exactly as the init would see them.

// mountSources is the parent's side: it answers the init's requests.
type mountSources struct {
	pid    int // the init, whose mount namespace sources are resolved in
	spec   *specs.Spec
	bundle string
	userns map[string]*os.File // user namespaces made for a mapping, by mapping
}

func (ms *mountSources) close() {
	for _, f := range ms.userns {
		f.Close()
	}
}

// serve answers one msgMountSource. An error is the parent's: the init
// is told, and create fails with it.
func (ms *mountSources) serve(conn proto.Conn, m *proto.Message) error {
	if m.Mount == nil {
		return errors.New("mount source request without a mount index")
	}
	fd, err := ms.source(*m.Mount)
	if err != nil {
		err = fmt.Errorf("failed to fulfil mount request: %w", err)
		conn.Send(&proto.Message{Type: proto.MsgError, Error: err.Error()})
		return err
	}
	defer unix.Close(fd)
	return conn.SendFd(&proto.Message{Type: proto.MsgMountSourceFd}, fd)
}

// source makes the source of spec.Mounts[i] and returns its fd (the
// caller closes it).
func (ms *mountSources) source(i int) (int, error) {
	if i < 0 || i >= len(ms.spec.Mounts) {
		return -1, fmt.Errorf("mount source request for mounts[%d]: no such mount", i)
	}
	m := ms.spec.Mounts[i]
	opts, err := config.ParseMountOptions(m.Options)
	if err != nil {
		return -1, err
	}
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(ms.bundle, src)
	}
	var nsFd = -1
	if config.IsIDMapped(m, opts) {
		f, err := ms.usernsFor(m)
		if err != nil {
			return -1, err
		}
		nsFd = int(f.Fd())
		defer runtime.KeepAlive(f)
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread joins the container's mount namespace and is
		// never unlocked: it ends with the goroutine.
		runtime.LockOSThread()
		fd, err := ms.inMountNS(func() (int, error) { return openSource(src, opts, nsFd) })
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

func (ms *mountSources) inMountNS(f func() (int, error)) (int, error) {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return -1, fmt.Errorf("mount source thread: unshare(CLONE_FS): %w", err)
	}
	ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", ms.pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("mount source thread: open container mntns: %w", err)
	}
	err = unix.Setns(ns, unix.CLONE_NEWNS)
	unix.Close(ns)
	if err == unix.EPERM && os.Geteuid() != 0 {
		// A user may not join its container's mount namespace, and sees
		// no more than the container's root does: the source as the
		// user sees it (its error names the source).
		return f()
	}
	if err != nil {
		return -1, fmt.Errorf("mount source thread: join container mntns: %w", err)
	}
	return f()
}

// openSource opens src: a detached, id-mapped clone of it when nsFd is a
// user namespace, else an O_PATH fd.
func openSource(src string, opts *config.MountOpts, nsFd int) (int, error) {
	if nsFd < 0 {
		fd, err := unix.Open(src, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: src, Err: err}
		}
		return fd, nil
	}
	how := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if opts.Recursive {
		how |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, how)
	if err != nil {
		return -1, &os.PathError{Op: "open_tree(OPEN_TREE_CLONE)", Path: src, Err: err}
	}
	flags := uint(unix.AT_EMPTY_PATH)
	if opts.RIDMap {
		flags |= unix.AT_RECURSIVE
	}
	err = unix.MountSetattr(fd, "", flags, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(nsFd)})
	if err != nil {
		unix.Close(fd)
		extra := ""
		if errors.Is(err, unix.EINVAL) {
			extra = " (maybe the filesystem used doesn't support idmap mounts on this kernel?)"
		}
		return -1, fmt.Errorf("failed to set MOUNT_ATTR_IDMAP on %s: %w%s", src, err, extra)
	}
	return fd, nil
}

// usernsFor returns a user namespace with m's mapping: the joined one, or
// one made for it (kept for other mounts with the same mapping).
func (ms *mountSources) usernsFor(m specs.Mount) (*os.File, error) {
	uids, gids, path := config.MountIDMapping(ms.spec, m)
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("failed to open existing userns for %s id-mapping: %w", m.Source, err)
		}
		if ms.userns == nil {
			ms.userns = map[string]*os.File{}
		}
		if old, ok := ms.userns["path:"+path]; ok {
			old.Close()
		}
		ms.userns["path:"+path] = f // closed with the others
		return f, nil
	}
	key := mappingKey(uids, gids)
	if f, ok := ms.userns[key]; ok {
		return f, nil
	}
	f, err := newUserNS(uids, gids)
	if err != nil {
		return nil, fmt.Errorf("failed to create userns for %s id-mapping: %w", m.Source, err)
	}
	if ms.userns == nil {
		ms.userns = map[string]*os.File{}
	}
	ms.userns[key] = f
	return f, nil
}

func mappingKey(uids, gids []specs.LinuxIDMapping) string {
	str := func(ms []specs.LinuxIDMapping) string {
		var s []string
		for _, m := range ms {
			s = append(s, fmt.Sprintf("%d:%d:%d", m.ContainerID, m.HostID, m.Size))
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}
	return "uid=" + str(uids) + ";gid=" + str(gids)
}

// newUserNS makes a user namespace with the given mappings and returns an
// fd of it. A child is started in it, stopped before it runs anything
// (PTRACE_TRACEME stops it at its execve), long enough to open its
// namespace; then it is killed and reaped.
func newUserNS(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	proc, err := os.StartProcess("/proc/self/exe", []string{"hull-userns"}, &os.ProcAttr{
		Sys: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: idMaps(uids),
			GidMappings: idMaps(gids),
			Ptrace:      true,
			Pdeathsig:   unix.SIGKILL,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start a process in a new user namespace: %w", err)
	}
	defer func() {
		proc.Kill()
		proc.Wait()
	}()
	return os.Open(fmt.Sprintf("/proc/%d/ns/user", proc.Pid))
}
