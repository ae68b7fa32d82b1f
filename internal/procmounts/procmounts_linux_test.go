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
