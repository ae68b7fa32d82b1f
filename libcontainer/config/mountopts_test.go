package config

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	m, err := ParseMountOptions([]string{"rbind", "ro", "nosuid", "rprivate", "size=1m", "mode=755", "rnoexec"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Bind || !m.Recursive {
		t.Error("rbind not seen")
	}
	if m.Flags != unix.MS_RDONLY|unix.MS_NOSUID {
		t.Errorf("flags = %#x", m.Flags)
	}
	if len(m.Propagation) != 1 || m.Propagation[0] != unix.MS_PRIVATE|unix.MS_REC {
		t.Errorf("propagation = %v", m.Propagation)
	}
	if len(m.Data) != 2 || m.Data[0] != "size=1m" {
		t.Errorf("data = %v", m.Data)
	}
	if m.AttrSet != unix.MOUNT_ATTR_NOEXEC {
		t.Errorf("attrSet = %#x", m.AttrSet)
	}
	m, _ = ParseMountOptions([]string{"ro", "rw"})
	if m.Flags&unix.MS_RDONLY != 0 || m.Clear&unix.MS_RDONLY == 0 {
		t.Errorf("ro then rw: flags %#x clear %#x", m.Flags, m.Clear)
	}
	for _, bad := range [][]string{{""}, {"a,b"}} {
		if _, err := ParseMountOptions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	m, err = ParseMountOptions([]string{"rbind", "idmap"})
	if err != nil || !m.IDMap || m.RIDMap || len(m.Data) != 0 {
		t.Errorf("idmap: %+v, %v", m, err)
	}
	m, err = ParseMountOptions([]string{"rbind", "ridmap"})
	if err != nil || !m.IDMap || !m.RIDMap || len(m.Data) != 0 {
		t.Errorf("ridmap: %+v, %v", m, err)
	}
}
