package libcontainer

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	m, err := parseMountOptions([]string{"rbind", "ro", "nosuid", "rprivate", "size=1m", "mode=755", "rnoexec"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.bind || !m.recursive {
		t.Error("rbind not seen")
	}
	if m.flags != unix.MS_RDONLY|unix.MS_NOSUID {
		t.Errorf("flags = %#x", m.flags)
	}
	if len(m.propagation) != 1 || m.propagation[0] != unix.MS_PRIVATE|unix.MS_REC {
		t.Errorf("propagation = %v", m.propagation)
	}
	if len(m.data) != 2 || m.data[0] != "size=1m" {
		t.Errorf("data = %v", m.data)
	}
	if m.attrSet != unix.MOUNT_ATTR_NOEXEC {
		t.Errorf("attrSet = %#x", m.attrSet)
	}
	m, _ = parseMountOptions([]string{"ro", "rw"})
	if m.flags&unix.MS_RDONLY != 0 || m.clear&unix.MS_RDONLY == 0 {
		t.Errorf("ro then rw: flags %#x clear %#x", m.flags, m.clear)
	}
	for _, bad := range [][]string{{""}, {"a,b"}} {
		if _, err := parseMountOptions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	m, err = parseMountOptions([]string{"rbind", "idmap"})
	if err != nil || !m.idmap || m.ridmap || len(m.data) != 0 {
		t.Errorf("idmap: %+v, %v", m, err)
	}
	m, err = parseMountOptions([]string{"rbind", "ridmap"})
	if err != nil || !m.idmap || !m.ridmap || len(m.data) != 0 {
		t.Errorf("ridmap: %+v, %v", m, err)
	}
}

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
