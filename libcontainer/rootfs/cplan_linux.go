package rootfs

import (
	"encoding/binary"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hullrt/hull/internal/procmounts"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/hooks"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The init's setup as a plan for C (issue 18: the init's Go start-up was
// a third of `create`). CPlan flattens what Prepare, the init's network
// and finalizeContainer would do for a config into a list of simple
// operations that preinit's rootfs.c carries out, in the same order and
// with the same calls, before the Go runtime of the init would start. It
// decides everything that does not depend on the rootfs's contents; what
// does (a destination that exists, its type, a symlink on the way) C
// looks at as the Go code does, through openat2(RESOLVE_IN_ROOT).
//
// C never reports an error of its own: it does its work in a mount
// namespace it made for the purpose, and if any step fails it goes back
// to the one it was cloned in, drops its copy and lets the Go runtime
// start, which does the whole setup again and fails (or not) in Go's
// words. A config with anything this list has no operation for gets no
// plan (nil) and the Go init as before.
//
// Layout, native byte order: "HULLRFS1", then operations, each
//
//	u32 op, u32 nstr, u64 a, u64 b, i64 c, i64 d, nstr NUL-terminated strings
//
// and a last op 0.
const CPlanMagic = "HULLRFS1"

// The operations (rootfs.c has the same numbers).
const (
	opEnd        = 0
	opPropagate  = 1  // s0: path; a: flags: mount("", s0, NULL, a)
	opBindRoot   = 2  // s0: rootfs, bound onto itself; root = it
	opMount      = 3  // s0 source, s1 dest, s2 type, s3 data; a flags; b: cpCheckDir|cpTmpfsMode
	opBind       = 4  // s0 source (absolute), s1 dest; a: recursive; b: remount flags, 0 none
	opMkdir      = 5  // s0: a directory in root (process.cwd)
	opDevice     = 6  // s0 path; a mode (S_IF*); b rdev; c uid, d gid (-1: leave)
	opSymlink    = 7  // s0 target, s1 link
	opPtmx       = 8  // /dev/ptmx -> pts/ptmx, if pts/ptmx exists and ptmx does not
	opPivot      = 9  // s0: rootfs; root = the new /
	opDevNull    = 10 // stdio that is the null device -> the container's /dev/null
	opHostname   = 11 // s0
	opDomainname = 12 // s0
	opWrite      = 13 // s0 path (after the root switch), s1 data
	opReadonly   = 14 // s0
	opMask       = 15 // s0
	opRemount    = 16 // s0; a flags (MS_BIND|MS_REMOUNT added)
	opLoopback   = 17 // lo up
	opKeyring    = 18 // s0: session keyring to join
	opUnshare    = 19 // a: CLONE_NEW* flags
	opUmask      = 20 // a: 0: umask 0, the old one kept; 1: the old one back
	opSkipPtmx   = 21 // the next opDevice is skipped if /dev/ptmx is a symlink
	opAffinity   = 22 // every CPU (affinity.Reset: not hull's own mask)
)

// opMount's b.
const (
	cpCheckDir  = 1 // proc, sysfs: an existing destination must be a directory
	cpTmpfsMode = 2 // tmpfs: "mode=" of the existing directory first
)

type cplan struct {
	b   []byte
	nul bool // a string had a NUL
}

func (p *cplan) op(op uint32, a, b uint64, c, d int64, strs ...string) {
	p.b = binary.NativeEndian.AppendUint32(p.b, op)
	p.b = binary.NativeEndian.AppendUint32(p.b, uint32(len(strs)))
	p.b = binary.NativeEndian.AppendUint64(p.b, a)
	p.b = binary.NativeEndian.AppendUint64(p.b, b)
	p.b = binary.NativeEndian.AppendUint64(p.b, uint64(c))
	p.b = binary.NativeEndian.AppendUint64(p.b, uint64(d))
	for _, s := range strs {
		p.nul = p.nul || strings.IndexByte(s, 0) >= 0
		p.b = append(p.b, s...)
		p.b = append(p.b, 0)
	}
}

// CPlanInput is what the plan is made from: the container's config and
// what create decided about it.
type CPlanInput struct {
	ID, Rootfs, Bundle string
	Spec               *specs.Spec
	NoPivot            bool
	NoNewKeyring       bool
	NewFlags           uintptr // the namespaces the clone makes (CLONE_NEWCGROUP: the init unshares it)
	Terminal           bool    // a console: Go sets it up
	Agent              bool    // a seccomp agent: Go talks to it
	// CgroupDirs: the container's cgroup directory under each hierarchy's
	// mount point (InitConfig.CgroupDirs), bound for a cgroup mount.
	CgroupDirs map[string]string
}

// CPlan returns the init's setup as a plan for C, or nil where the Go
// init must do it: a user namespace, hooks run in or for the init, a
// terminal, LSM labels, a mount that is not a plain proc, sysfs, tmpfs,
// devpts, mqueue, bind or cgroup mount (id-mapped or attribute options,
// overlay, a cgroup mount with a v1 cgroup namespace), a bind-mounted
// /dev, process attributes only Go sets, a string with a NUL.
func CPlan(in CPlanInput) []byte {
	spec := in.Spec
	if spec == nil || spec.Process == nil || spec.Linux == nil || spec.Root == nil || in.Terminal || in.Agent || in.NoPivot {
		return nil
	}
	p, l := spec.Process, spec.Linux
	if !config.HasNewNS(spec, specs.MountNamespace) || config.HasNewNS(spec, specs.UserNamespace) || config.JoinsNS(spec, specs.UserNamespace) {
		return nil
	}
	for _, ns := range l.Namespaces {
		if ns.Path != "" || ns.Type == specs.TimeNamespace {
			return nil // preinit.c joins or makes these (nsenter)
		}
	}
	h := spec.Hooks
	for _, k := range []string{hooks.Prestart, hooks.CreateRuntime, hooks.CreateContainer, hooks.StartContainer} {
		if len(hooks.Of(h, k)) > 0 {
			return nil
		}
	}
	if p.ApparmorProfile != "" || p.SelinuxLabel != "" || l.MountLabel != "" || p.Scheduler != nil || p.IOPriority != nil ||
		p.OOMScoreAdj != nil || p.ExecCPUAffinity != nil || l.Personality != nil || l.MemoryPolicy != nil || l.IntelRdt != nil {
		return nil
	}
	if raisesHardLimit(p.Rlimits) {
		return nil
	}
	var c cplan
	c.b = append(c.b, CPlanMagic...)
	// First, as in the Go init: a cgroup2 mount shows the namespace's
	// root. rootfs.c puts the caller's cgroup namespace back if it
	// falls back.
	if in.NewFlags&unix.CLONE_NEWCGROUP != 0 {
		c.op(opUnshare, unix.CLONE_NEWCGROUP, 0, 0, 0)
	}
	c.op(opAffinity, 0, 0, 0, 0)
	if in.NewFlags&unix.CLONE_NEWNET != 0 {
		c.op(opLoopback, 0, 0, 0, 0)
	}
	initial := uint64(unix.MS_SLAVE | unix.MS_REC)
	prop := config.PropagationOpts[l.RootfsPropagation]
	if prop&unix.MS_PRIVATE != 0 {
		initial = unix.MS_PRIVATE | unix.MS_REC
	}
	c.op(opPropagate, initial, 0, 0, 0, "/")
	c.op(opBindRoot, 0, 0, 0, 0, in.Rootfs)
	var late []LateRemount
	for _, m := range spec.Mounts {
		opts, err := config.ParseMountOptions(m.Options)
		if err != nil || len(opts.Propagation) > 0 || opts.AttrSet != 0 || opts.AttrClr != 0 || opts.Atime || opts.Tmpcopyup || opts.IDMap {
			return nil
		}
		dest := config.StripRootfs(in.Rootfs, m.Destination)
		if !filepath.IsAbs(dest) || filepath.Clean(dest) == "/" {
			return nil
		}
		if m.Type == "bind" || opts.Bind {
			if filepath.Clean(dest) == "/dev" || config.IsIDMapped(m, opts) {
				return nil
			}
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(in.Bundle, src)
			}
			var remount uint64
			if opts.Flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 || opts.Clear != 0 {
				remount = uint64(opts.Flags | unix.MS_BIND | unix.MS_REMOUNT)
			}
			rec := uint64(0)
			if opts.Recursive {
				rec = 1
			}
			c.op(opBind, rec, remount, 0, 0, src, dest)
			continue
		}
		if m.Type == "cgroup" {
			if !cpCgroup(&c, in, dest, opts) {
				return nil
			}
			continue
		}
		var kind uint64
		switch m.Type {
		case "proc", "sysfs":
			kind = cpCheckDir
		case "tmpfs":
			kind = cpTmpfsMode
		case "devpts", "mqueue":
		default:
			return nil // cgroup, overlay, ...: Go
		}
		flags := opts.Flags
		if (m.Type == "tmpfs" || filepath.Clean(dest) == "/dev") && flags&unix.MS_RDONLY != 0 {
			flags &^= unix.MS_RDONLY
			late = append(late, LateRemount{dest: dest, flags: flags})
		}
		c.op(opMount, uint64(flags), kind, 0, 0, m.Source, dest, m.Type, strings.Join(opts.Data, ","))
	}
	if p.Cwd != "" {
		c.op(opMkdir, 0, 0, 0, 0, p.Cwd)
	}
	// The default devices, made with umask 0 (createDefaultDevices).
	c.op(opUmask, 0, 0, 0, 0)
	for _, d := range defaultDevices {
		cpDevice(&c, d)
	}
	for _, s := range devSymlinks {
		c.op(opSymlink, 0, 0, 0, 0, s[0], s[1])
	}
	c.op(opPtmx, 0, 0, 0, 0)
	c.op(opUmask, 1, 0, 0, 0)
	for _, d := range l.Devices {
		if filepath.Clean(d.Path) == "/dev/ptmx" {
			c.op(opSkipPtmx, 0, 0, 0, 0)
		}
		cpDevice(&c, d)
	}
	c.op(opPivot, 0, 0, 0, 0, in.Rootfs)
	if prop != 0 {
		c.op(opPropagate, uint64(prop), 0, 0, 0, "/")
	}
	c.op(opDevNull, 0, 0, 0, 0)
	if spec.Hostname != "" {
		c.op(opHostname, 0, 0, 0, 0, spec.Hostname)
	}
	if spec.Domainname != "" {
		c.op(opDomainname, 0, 0, 0, 0, spec.Domainname)
	}
	keys := make([]string, 0, len(l.Sysctl))
	for k := range l.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.op(opWrite, 0, 0, 0, 0, filepath.Join("/proc/sys", config.SysctlPath(k)), l.Sysctl[k])
	}
	for _, path := range l.ReadonlyPaths {
		c.op(opReadonly, 0, 0, 0, 0, path)
	}
	masked := map[string]bool{}
	for _, path := range l.MaskedPaths {
		if !masked[filepath.Clean(path)] {
			masked[filepath.Clean(path)] = true
			c.op(opMask, 0, 0, 0, 0, path)
		}
	}
	for _, r := range late {
		c.op(opRemount, uint64(r.flags|unix.MS_RDONLY), 0, 0, 0, r.dest)
	}
	if spec.Root.Readonly {
		c.op(opRemount, unix.MS_RDONLY, 0, 0, 0, "/")
	}
	if !in.NoNewKeyring {
		c.op(opKeyring, 0, 0, 0, 0, "_ses."+in.ID)
	}
	c.op(opEnd, 0, 0, 0, 0)
	if c.nul {
		return nil // Go refuses such a string with its own error
	}
	return c.b
}

// cpCgroup is mountCgroup as operations, where it needs no decision
// of the init's: a cgroup2 mount on a unified host (the kernel may refuse
// it: C then falls back, and Go binds instead); on a v1 or hybrid host
// without a cgroup namespace, the tmpfs with a bind mount of the
// container's own directory per hierarchy, read from hull's mountinfo,
// which the init's new mount namespace copied. With a cgroup namespace
// there, or a hierarchy the container has no directory in, false: Go.
func cpCgroup(c *cplan, in CPlanInput, dest string, opts *config.MountOpts) bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		c.op(opMount, uint64(opts.Flags), 0, 0, 0, "cgroup2", dest, "cgroup2", strings.Join(opts.Data, ","))
		return true
	}
	if config.HasNewNS(in.Spec, specs.CgroupNamespace) {
		return false
	}
	// hull's mount table, which the init's new mount namespace copied;
	// read once (cgroups.New read it too).
	all, err := procmounts.Cgroups()
	if err != nil {
		return false
	}
	hiers := cgroupHierarchies(all)
	c.op(opMount, uint64(opts.Flags&^unix.MS_RDONLY), 0, 0, 0, "tmpfs", dest, "tmpfs", "mode=755")
	for _, h := range hiers {
		name := filepath.Base(h.Mountpoint)
		src := in.CgroupDirs[h.Mountpoint]
		if src == "" {
			return false
		}
		var remount uint64
		if opts.Flags != 0 {
			remount = uint64(opts.Flags | unix.MS_BIND | unix.MS_REMOUNT)
		}
		c.op(opBind, 1, remount, 0, 0, src, filepath.Join(dest, name))
	}
	if opts.Flags&unix.MS_RDONLY != 0 {
		c.op(opRemount, uint64(opts.Flags|unix.MS_RDONLY), 0, 0, 0, dest)
	}
	return true
}

// cpDevice is createDevice's mknod as an operation.
func cpDevice(c *cplan, d specs.LinuxDevice) {
	mode := deviceMode(d)
	uid, gid := int64(-1), int64(-1)
	if d.UID != nil {
		uid = int64(*d.UID)
	}
	if d.GID != nil {
		gid = int64(*d.GID)
	}
	c.op(opDevice, uint64(mode), unix.Mkdev(uint32(d.Major), uint32(d.Minor)), uid, gid, d.Path)
}

// raisesHardLimit tells whether an rlimit's hard limit is above the one
// hull has (and the init would inherit): the Go init raises it before
// ready (raiseHardLimits), and fails create if it cannot.
func raisesHardLimit(rl []specs.POSIXRlimit) bool {
	for _, r := range rl {
		res, ok := config.RlimitNames[r.Type]
		if !ok {
			return true
		}
		var cur unix.Rlimit
		if unix.Getrlimit(res, &cur) != nil || r.Hard > cur.Max {
			return true
		}
	}
	return false
}
