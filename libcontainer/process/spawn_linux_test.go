package process

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestSpawnWaitStatus(t *testing.T) {
	for _, c := range []struct {
		script, want string
	}{
		{"exit 0", ""},
		{"exit 3", "exit status 3"},
		{"kill -TERM $$", "signal: terminated"},
	} {
		s, err := spawn("/bin/sh", []string{"sh", "-c", c.script}, nil, [3]*os.File{}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Wait()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%q: Wait says %q, want %q", c.script, got, c.want)
		}
		// A second Wait says the same, without waiting on a pid that
		// is no longer ours.
		if err2 := s.Wait(); (err2 == nil) != (err == nil) {
			t.Errorf("%q: second Wait %v, first %v", c.script, err2, err)
		}
	}
}

func TestSpawnFiles(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// stdin nil: /dev/null, as exec.Cmd gives; fd 3 is the first extra.
	s, err := spawn("/bin/sh", []string{"sh", "-c", "cat; readlink /proc/self/fd/0 >&3"}, nil,
		[3]*os.File{nil, nil, os.Stderr}, []*os.File{w}, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	n, _ := r.Read(b)
	if got := strings.TrimSpace(string(b[:n])); got != "/dev/null" {
		t.Errorf("stdin of the child: %q, want /dev/null", got)
	}
	if _, err := spawn("/nonexistent", []string{"x"}, nil, [3]*os.File{}, nil, nil); err == nil || !strings.Contains(err.Error(), "/nonexistent") {
		t.Errorf("missing binary: %v, want an error naming it", err)
	}
}

// Kill and Wait from different goroutines: the kill lands while the
// child runs, and a Kill after the reap signals nothing.
func TestSpawnKillWait(t *testing.T) {
	s, err := spawn("/bin/sleep", []string{"sleep", "100"}, nil, [3]*os.File{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() { defer wg.Done(); werr = s.Wait() }()
	time.Sleep(50 * time.Millisecond)
	s.Kill()
	wg.Wait()
	if werr == nil || werr.Error() != "signal: killed" {
		t.Fatalf("Wait after Kill: %v, want signal: killed", werr)
	}
	s.Kill() // reaped: must not signal whatever has the pid now
	if !s.reaped {
		t.Fatal("not marked reaped after Wait")
	}
}

// A child reaped by someone else: Wait says so, and Kill no longer
// signals the pid, which may be another process's by then.
func TestSpawnReapedElsewhere(t *testing.T) {
	s, err := spawn("/bin/true", []string{"true"}, nil, [3]*os.File{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(s.Pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err == nil || !errors.Is(err, unix.ECHILD) {
		t.Fatalf("Wait after another reaper: %v, want ECHILD", err)
	}
	if !s.reaped {
		t.Fatal("not marked reaped: Kill would signal a pid that is no longer ours")
	}
}
