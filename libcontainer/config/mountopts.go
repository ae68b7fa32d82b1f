package config

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// MountOpts is config.json's option list for one mount, decoded.
type MountOpts struct {
	Flags       uintptr // MS_* to set
	Clear       uintptr // MS_* explicitly cleared (rw, suid, dev, exec, ...)
	Propagation []uintptr
	Data        []string // fs-specific options passed as data
	Bind        bool
	Recursive   bool   // rbind
	AttrSet     uint64 // MOUNT_ATTR_* applied recursively (rro, rnosuid, ...)
	AttrClr     uint64
	Tmpcopyup   bool
	Atime       bool // an r*atime option was given: the atime bits are replaced
	IDMap       bool // idmap or ridmap: an id-mapped bind mount
	RIDMap      bool // ridmap: the id mapping applies to the submounts too
}

var FlagOpts = map[string]struct {
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

var PropagationOpts = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// Recursive mount attributes (mount_setattr(2) with AT_RECURSIVE).
var AttrOpts = map[string]struct {
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

func ParseMountOptions(opts []string) (*MountOpts, error) {
	m := &MountOpts{}
	for _, o := range opts {
		if f, ok := FlagOpts[o]; ok {
			if f.clear {
				m.Flags &^= f.flag
				m.Clear |= f.flag
			} else {
				m.Flags |= f.flag
				m.Clear &^= f.flag
			}
			continue
		}
		if p, ok := PropagationOpts[o]; ok {
			m.Propagation = append(m.Propagation, p)
			continue
		}
		if a, ok := AttrOpts[o]; ok {
			if strings.HasSuffix(o, "atime") && o != "rnodiratime" && o != "rdiratime" {
				m.Atime = true
			}
			// The last of rro/rrw (rnosuid/rsuid, ...) wins, as runc's.
			if a.clear {
				m.AttrClr |= a.attr
				m.AttrSet &^= a.attr
			} else {
				m.AttrSet |= a.attr
				m.AttrClr &^= a.attr
			}
			continue
		}
		switch o {
		case "bind":
			m.Bind = true
		case "rbind":
			m.Bind, m.Recursive = true, true
		case "tmpcopyup":
			m.Tmpcopyup = true
		case "idmap":
			m.IDMap, m.RIDMap = true, false
		case "ridmap":
			m.IDMap, m.RIDMap = true, true
		case "":
			return nil, fmt.Errorf("empty option")
		default:
			if strings.ContainsRune(o, ',') {
				return nil, fmt.Errorf("option %q contains a comma: give each option separately", o)
			}
			m.Data = append(m.Data, o)
		}
	}
	return m, nil
}
