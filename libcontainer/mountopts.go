package libcontainer

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// mountOpts is config.json's option list for one mount, decoded.
type mountOpts struct {
	flags       uintptr // MS_* to set
	clear       uintptr // MS_* explicitly cleared (rw, suid, dev, exec, ...)
	propagation []uintptr
	data        []string // fs-specific options passed as data
	bind        bool
	recursive   bool   // rbind
	attrSet     uint64 // MOUNT_ATTR_* applied recursively (rro, rnosuid, ...)
	attrClr     uint64
	tmpcopyup   bool
	atime       bool // an r*atime option was given: the atime bits are replaced
	idmap       bool // idmap or ridmap: an id-mapped bind mount
	ridmap      bool // ridmap: the id mapping applies to the submounts too
}

var flagOpts = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC}, "remount": {false, unix.MS_REMOUNT},
	"mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"atime": {true, unix.MS_NOATIME}, "noatime": {false, unix.MS_NOATIME},
	"diratime": {true, unix.MS_NODIRATIME}, "nodiratime": {false, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"silent": {false, unix.MS_SILENT}, "loud": {true, unix.MS_SILENT},
	"lazytime": {false, unix.MS_LAZYTIME}, "nolazytime": {true, unix.MS_LAZYTIME},
	"iversion": {false, unix.MS_I_VERSION}, "noiversion": {true, unix.MS_I_VERSION},
}

var propagationOpts = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// Recursive mount attributes (mount_setattr(2) with AT_RECURSIVE).
var attrOpts = map[string]struct {
	clear bool
	attr  uint64
}{
	"rro": {false, unix.MOUNT_ATTR_RDONLY}, "rrw": {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid": {false, unix.MOUNT_ATTR_NOSUID}, "rsuid": {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev": {false, unix.MOUNT_ATTR_NODEV}, "rdev": {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec": {false, unix.MOUNT_ATTR_NOEXEC}, "rexec": {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime": {false, unix.MOUNT_ATTR_NODIRATIME}, "rdiratime": {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnoatime": {false, unix.MOUNT_ATTR_NOATIME}, "rrelatime": {false, unix.MOUNT_ATTR_RELATIME},
	"rstrictatime": {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW}, "rsymfollow": {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

func parseMountOptions(opts []string) (*mountOpts, error) {
	m := &mountOpts{}
	for _, o := range opts {
		if f, ok := flagOpts[o]; ok {
			if f.clear {
				m.flags &^= f.flag
				m.clear |= f.flag
			} else {
				m.flags |= f.flag
				m.clear &^= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[o]; ok {
			m.propagation = append(m.propagation, p)
			continue
		}
		if a, ok := attrOpts[o]; ok {
			if strings.HasSuffix(o, "atime") && o != "rnodiratime" && o != "rdiratime" {
				m.atime = true
			}
			if a.clear {
				m.attrClr |= a.attr
			} else {
				m.attrSet |= a.attr
			}
			continue
		}
		switch o {
		case "bind":
			m.bind = true
		case "rbind":
			m.bind, m.recursive = true, true
		case "tmpcopyup":
			m.tmpcopyup = true
		case "idmap":
			m.idmap, m.ridmap = true, false
		case "ridmap":
			m.idmap, m.ridmap = true, true
		case "":
			return nil, fmt.Errorf("empty option")
		default:
			if strings.ContainsRune(o, ',') {
				return nil, fmt.Errorf("option %q contains a comma: give each option separately", o)
			}
			m.data = append(m.data, o)
		}
	}
	return m, nil
}

// msFlagNames names the MS_* bits, in bit order, for error messages
// (runc's names and order).
var msFlagNames = []struct {
	bit  uintptr
	name string
}{
	{unix.MS_RDONLY, "MS_RDONLY"}, {unix.MS_NOSUID, "MS_NOSUID"}, {unix.MS_NODEV, "MS_NODEV"},
	{unix.MS_NOEXEC, "MS_NOEXEC"}, {unix.MS_SYNCHRONOUS, "MS_SYNCHRONOUS"}, {unix.MS_REMOUNT, "MS_REMOUNT"},
	{unix.MS_MANDLOCK, "MS_MANDLOCK"}, {unix.MS_DIRSYNC, "MS_DIRSYNC"}, {unix.MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"},
	{unix.MS_NOATIME, "MS_NOATIME"}, {unix.MS_NODIRATIME, "MS_NODIRATIME"}, {unix.MS_BIND, "MS_BIND"},
	{unix.MS_MOVE, "MS_MOVE"}, {unix.MS_REC, "MS_REC"}, {unix.MS_SILENT, "MS_SILENT"},
	{unix.MS_POSIXACL, "MS_POSIXACL"}, {unix.MS_UNBINDABLE, "MS_UNBINDABLE"}, {unix.MS_PRIVATE, "MS_PRIVATE"},
	{unix.MS_SLAVE, "MS_SLAVE"}, {unix.MS_SHARED, "MS_SHARED"}, {unix.MS_RELATIME, "MS_RELATIME"},
	{unix.MS_I_VERSION, "MS_I_VERSION"}, {unix.MS_STRICTATIME, "MS_STRICTATIME"}, {unix.MS_LAZYTIME, "MS_LAZYTIME"},
}

// msFlagsString is flags as "MS_NOSUID|MS_NODEV|...", unnamed bits last in
// hex.
func msFlagsString(flags uintptr) string {
	var names []string
	left := flags
	for _, f := range msFlagNames {
		if flags&f.bit == f.bit {
			names = append(names, f.name)
			left &^= f.bit
		}
	}
	if left != 0 {
		names = append(names, fmt.Sprintf("%#x", left))
	}
	return strings.Join(names, "|")
}

// mountError is a failed mount(2), told as runc tells it: "mount
// src=S, dst=D, dstFd=F, flags=MS_...: error".
type mountError struct {
	source, target, dstFd, data string
	flags                       uintptr
	err                         error
}

func (e *mountError) Error() string {
	var b strings.Builder
	b.WriteString("mount ")
	if e.source != "" {
		b.WriteString("src=" + e.source + ", ")
	}
	b.WriteString("dst=" + e.target)
	if e.dstFd != "" {
		b.WriteString(", dstFd=" + e.dstFd)
	}
	if e.flags != 0 {
		b.WriteString(", flags=" + msFlagsString(e.flags))
	}
	if e.data != "" {
		b.WriteString(", data=" + e.data)
	}
	b.WriteString(": " + e.err.Error())
	return b.String()
}

func (e *mountError) Unwrap() error { return e.err }
