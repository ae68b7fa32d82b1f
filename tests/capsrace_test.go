package tests

import (
	"strings"
	"sync"
	"testing"
)

// The capability sets are per thread; the init must set them on the thread
// that execs. A goroutine moved between threads on the way shows up only
// sometimes, so many containers are checked, in parallel (more threads,
// more migrations).
func TestCapabilitiesEveryTime(t *testing.T) {
	e := newEnv(t)
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, code := e.runContainer(nil, "grep", "CapBnd", "/proc/self/status")
			mu.Lock()
			defer mu.Unlock()
			// The default spec's three capabilities: AUDIT_WRITE, KILL,
			// NET_BIND_SERVICE.
			if code != 0 || !strings.Contains(out, "0000000020000420") {
				bad++
				t.Logf("run: exit %d, %q", code, out)
			}
		}()
	}
	wg.Wait()
	if bad > 0 {
		t.Errorf("%d of %d containers had the wrong bounding set", bad, n)
	}
}
