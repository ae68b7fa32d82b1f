package tests

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hullrt/hull/internal/idlemem"
)

// An idle hull-shim gives back the pages of its binary it ran through
// while it started (internal/idlemem): once its container runs, at most
// half of the binary's read-only mappings is resident in it (without that,
// 3.4 of 3.6 MB were). It still does its work afterwards: it logs the
// container's output and records its exit.
func TestShimIdleGivesBackItsBinary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(gate("echo after-idle; exit 3"))
	id := e.newID()
	s := e.startShim(id, bundle).started()
	bin := e.shimBin()
	var rss, size uint64
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		if rss, size, err = readOnlyResident(s.shimPid, bin); err != nil {
			t.Fatal(err)
		}
		if rss*2 <= size || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if size == 0 {
		t.Fatalf("no read-only mapping of %s in the shim's smaps", bin)
	}
	if rss*2 > size {
		t.Errorf("idle shim: %d of the %d kB of its binary's read-only mappings resident, want at most half", rss, size)
	}
	t.Logf("idle shim: %d of %d kB of its binary's read-only mappings resident", rss, size)
	w := e.hullWait(id)
	openGate(t, bundle)
	s.checkExitReported(3, recvWait(t, w))
	waitLogContains(t, s.logFile, "after-idle")
	e.mustRT("delete", id)
	e.assertNotExist(id)
	s.checkGone()
}

// readOnlyResident sums Rss and Size (kB) of pid's read-only mappings of
// the file path.
func readOnlyResident(pid int, path string) (rss, size uint64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	rs, err := idlemem.ParseSmaps(f)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rs {
		if r.Path == path && r.Perms[1] != 'w' {
			rss += r.Rss
			size += (r.End - r.Start) / 1024
		}
	}
	return rss, size, nil
}
