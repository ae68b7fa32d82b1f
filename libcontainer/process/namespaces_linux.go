package process

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/userns"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var NSFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace: unix.CLONE_NEWPID, specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace: unix.CLONE_NEWNS, specs.IPCNamespace: unix.CLONE_NEWIPC,
	specs.UTSNamespace: unix.CLONE_NEWUTS, specs.UserNamespace: unix.CLONE_NEWUSER,
	specs.CgroupNamespace: unix.CLONE_NEWCGROUP, specs.TimeNamespace: unix.CLONE_NEWTIME,
}

// NSJoin is a namespace to enter with setns(2).
type NSJoin struct {
	File *os.File
	Flag uintptr
}

// NamespacesOf splits spec's namespaces into new ones and ones joined by
// path, opening the paths. The caller closes the files.
func NamespacesOf(spec *specs.Spec) (uintptr, []NSJoin, error) {
	var flags uintptr
	var joins []NSJoin
	for i, ns := range spec.Linux.Namespaces {
		if ns.Path == "" {
			flags |= NSFlags[ns.Type]
			continue
		}
		f, err := sysfile.Open(ns.Path, os.O_RDONLY)
		if err != nil {
			CloseJoins(joins)
			return 0, nil, config.FieldErr(fmt.Sprintf("linux.namespaces[%d].path", i), "%v", err)
		}
		t, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
		if err != nil || uintptr(t) != NSFlags[ns.Type] {
			f.Close()
			CloseJoins(joins)
			return 0, nil, config.FieldErr(fmt.Sprintf("linux.namespaces[%d].path", i), "%s is not a %s namespace", ns.Path, ns.Type)
		}
		joins = append(joins, NSJoin{File: f, Flag: NSFlags[ns.Type]})
	}
	return flags, joins, nil
}

func CloseJoins(j []NSJoin) {
	for _, n := range j {
		n.File.Close()
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

// GiveFifoToJoinedRoot makes exec.fifo (in the state directory dirFd)
// openable by the init pid, which joined a user namespace by path: the
// fifo goes to that namespace's root, the directory becomes searchable.
// With a new user namespace Create does this from the spec's maps.
func GiveFifoToJoinedRoot(dirFd, pid int, fifo string) error {
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
