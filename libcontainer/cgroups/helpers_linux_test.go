package cgroups

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testPrefix marks every cgroup the tests make, so that the leak check
// (and nothing else) can find them.
const testPrefix = "hullcgtest-"

func testName(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return testPrefix + hex.EncodeToString(b)
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to create cgroups")
	}
}

// needV1 gives a manager for a fresh relative cgroup on a hybrid or legacy
// host; t.Cleanup destroys it and checks that no directory is left.
func needV1(t *testing.T) *manager {
	t.Helper()
	needRoot(t)
	if mode := DetectMode(); mode == Unified {
		t.Skip("skipped: the host is unified (cgroup2 only); the v1 tests need v1 hierarchies")
	}
	mg, err := New(testName(t), "")
	if err != nil {
		t.Fatal(err)
	}
	m := mg.(*manager)
	if len(m.v1) == 0 {
		t.Skip("skipped: no cgroup v1 hierarchy is mounted")
	}
	t.Cleanup(func() { cleanupManager(t, m) })
	return m
}

// needV2 gives a manager for a fresh cgroup2 directory nested under the
// test's own cgroup2 cgroup: /sys/fs/cgroup on a unified host,
// /sys/fs/cgroup/unified on a hybrid one, used as if the host were
// unified (with no controllers taken from it, so that no
// subtree_control above the test's own directory is written).
func needV2(t *testing.T) *manager {
	t.Helper()
	needRoot(t)
	root := ""
	switch DetectMode() {
	case Unified:
		root = cgroupRoot
	case Hybrid:
		root = hybridUnified
	default:
		t.Skip("skipped: no cgroup2 hierarchy on this host")
	}
	own, err := readOwnCgroups()
	if err != nil {
		t.Fatal(err)
	}
	if !own.hasV2 {
		t.Skip("skipped: /proc/self/cgroup has no cgroup2 entry")
	}
	dir := filepath.Join(root, own.v2, testName(t))
	var ctrls []string
	if DetectMode() == Unified {
		// Only what is already enabled for our own cgroup's children.
		if on, err := readFile(filepath.Join(root, own.v2), "cgroup.subtree_control"); err == nil {
			ctrls = strings.Fields(on)
		}
	}
	m := newUnifiedManager(root, dir, ctrls)
	t.Cleanup(func() { cleanupManager(t, m) })
	return m
}

// cleanupManager removes whatever the test left and fails the test when
// a directory survives.
func cleanupManager(t *testing.T, m *manager) {
	t.Helper()
	if err := m.Destroy(); err != nil {
		t.Errorf("cleanup: Destroy: %v", err)
	}
	for _, d := range m.dirs() {
		if !strings.Contains(d, testPrefix) {
			t.Errorf("cleanup: refusing to touch %s", d)
			continue
		}
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cleanup: %s is left after Destroy", d)
			_ = removeCgroup(d)
		}
	}
}

// child is a process the test started: it waits for a line on stdin
// before running its script, so that the test can move it into a cgroup
// first.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *syncBuffer
	done  chan struct{}
	err   error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startChild(t *testing.T, script string, attr *syscall.SysProcAttr) *child {
	t.Helper()
	c := &child{out: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command("/bin/sh", "-c", "read go; "+script)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = attr
	// Grandchildren may hold the output pipe after the child is killed;
	// the cgroup's Destroy (a later cleanup) takes care of them.
	c.cmd.WaitDelay = time.Second
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		// Only this child, by its own PID.
		_ = c.cmd.Process.Kill()
		select {
		case <-c.done:
		case <-time.After(3 * time.Second):
			// Still frozen, most likely: the cgroup's Destroy, a later
			// cleanup, thaws and kills it.
			t.Logf("child %d did not die on SIGKILL within 3s", c.pid())
		}
	})
	return c
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// release lets the child run its script.
func (c *child) release(t *testing.T) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the child to exit and returns its output.
func (c *child) wait(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		t.Fatalf("child %d did not exit within %v; output so far: %q", c.pid(), d, c.out.String())
	}
	return c.out.String()
}

func mustRead(t *testing.T, dir, file string) string {
	t.Helper()
	s, err := readFile(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

// procCgroupLine returns the /proc/<pid>/cgroup line of a hierarchy
// ("0::" for cgroup2, or a controller name).
func procCgroup(t *testing.T, pid int, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := parseOwnCgroups(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if key == "" {
		return o.v2
	}
	return o.v1[key]
}

func p64(v int64) *int64    { return &v }
func pu64(v uint64) *uint64 { return &v }
func pu16(v uint16) *uint16 { return &v }
func pbool(v bool) *bool    { return &v }
