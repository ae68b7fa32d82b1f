package procmounts

import (
	"testing"

	"github.com/moby/sys/mountinfo"
)

// TestSelf: the process's mount table has its root, and a filter keeps
// only what it selects.
func TestSelf(t *testing.T) {
	all, err := Self(nil)
	if err != nil {
		t.Fatal(err)
	}
	root := false
	for _, m := range all {
		root = root || m.Mountpoint == "/"
	}
	if !root {
		t.Fatalf("no mount on / among %d mounts", len(all))
	}
	procs, err := Self(func(i *mountinfo.Info) (bool, bool) { return i.FSType != "proc", false })
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) == 0 || len(procs) >= len(all) {
		t.Fatalf("proc filter kept %d of %d mounts", len(procs), len(all))
	}
	for _, m := range procs {
		if m.FSType != "proc" {
			t.Errorf("filter kept %s (%s)", m.Mountpoint, m.FSType)
		}
	}
}

// TestCgroups: the cgroup mounts Self finds, read once: a second call
// gives the same Info values.
func TestCgroups(t *testing.T) {
	want, err := Self(func(i *mountinfo.Info) (bool, bool) {
		return i.FSType != "cgroup" && i.FSType != "cgroup2", false
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Skip("no cgroup mounts in this mount namespace to compare")
	}
	got, err := Cgroups()
	if err != nil || len(got) != len(want) {
		t.Fatalf("Cgroups: %d mounts, %v; Self: %d", len(got), err, len(want))
	}
	for i := range got {
		if *got[i] != *want[i] {
			t.Errorf("mount %d: %+v, want %+v", i, *got[i], *want[i])
		}
	}
	again, _ := Cgroups()
	if len(again) != len(got) || again[0] != got[0] {
		t.Errorf("second call read again")
	}
}
