package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestMsFlagsString(t *testing.T) {
	for _, c := range []struct {
		flags uintptr
		want  string
	}{
		{unix.MS_NOSUID | unix.MS_NODEV | unix.MS_REMOUNT | unix.MS_BIND, "MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND"},
		{unix.MS_RDONLY, "MS_RDONLY"},
		{unix.MS_NODIRATIME | unix.MS_RELATIME, "MS_NODIRATIME|MS_RELATIME"},
		{unix.MS_RDONLY | 1<<9, "MS_RDONLY|0x200"},
		{0, ""},
	} {
		if got := msFlagsString(c.flags); got != c.want {
			t.Errorf("msFlagsString(%#x) = %q, want %q", c.flags, got, c.want)
		}
	}
}
