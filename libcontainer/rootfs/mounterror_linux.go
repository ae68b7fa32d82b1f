package rootfs

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

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
