package sigcatch

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// got waits (bounded) for want on c.
func got(t *testing.T, c chan os.Signal, want unix.Signal) {
	t.Helper()
	select {
	case s := <-c:
		if s != want {
			t.Fatalf("got %v, want %v", s, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%v not relayed within 5 s", want)
	}
}

func TestNotifyRelays(t *testing.T) {
	c := make(chan os.Signal, 8)
	rt := unix.Signal(40)
	if err := Notify(c, unix.SIGUSR1, rt); err != nil {
		t.Fatal(err)
	}
	defer Stop(c)
	for _, s := range []unix.Signal{unix.SIGUSR1, rt, unix.SIGUSR1} {
		if err := unix.Kill(os.Getpid(), s); err != nil {
			t.Fatal(err)
		}
		got(t, c, s)
	}
	// A second channel for the same signal gets it too.
	c2 := make(chan os.Signal, 1)
	if err := Notify(c2, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	defer Stop(c2)
	unix.Kill(os.Getpid(), unix.SIGUSR1)
	got(t, c, unix.SIGUSR1)
	got(t, c2, unix.SIGUSR1)
}

func TestRefusesRuntimeSignals(t *testing.T) {
	c := make(chan os.Signal, 1)
	for _, s := range []unix.Signal{unix.SIGURG, unix.SIGPROF, unix.SIGSEGV, unix.SIGBUS, unix.SIGKILL, unix.SIGSTOP, 32, 33, 0, 65} {
		if err := Notify(c, unix.SIGUSR1, s); err == nil {
			Stop(c)
			t.Errorf("Notify accepted signal %d", int(s))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if _, ok := subs[c]; ok {
		t.Error("a refused Notify subscribed the channel")
	}
}

func TestAll(t *testing.T) {
	all := All()
	for _, s := range []unix.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGCHLD, unix.SIGWINCH, unix.SIGPIPE, unix.SIGCONT, unix.SIGTSTP, rtmin, 64} {
		if !slices.Contains(all, s) {
			t.Errorf("All() lacks %d (%s)", int(s), unix.SignalName(s))
		}
	}
	for _, s := range all {
		if !Catchable(s) {
			t.Errorf("All() has %d", int(s))
		}
	}
	// glibc keeps 32 and 33 (SIGRTMIN 34), musl 32 to 34 (SIGRTMIN 35).
	if rtmin != 34 && rtmin != 35 {
		t.Fatalf("the C library's SIGRTMIN is %d, want 34 (glibc) or 35 (musl)", int(rtmin))
	}
	if want := 64 - 2 - 9 - int(rtmin-32); len(all) != want {
		t.Errorf("All() has %d signals, want %d (1-64 less KILL, STOP, 9 of the runtime's, 32 to %d)", len(all), want, int(rtmin-1))
	}
}

// After Stop, a signal is the Go runtime's again: os/signal gets it.
func TestStopGivesBackToGo(t *testing.T) {
	c := make(chan os.Signal, 1)
	if err := Notify(c, unix.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	Stop(c)
	g := make(chan os.Signal, 1)
	signal.Notify(g, unix.SIGUSR2)
	defer signal.Stop(g)
	unix.Kill(os.Getpid(), unix.SIGUSR2)
	got(t, g, unix.SIGUSR2)
	select {
	case <-c:
		t.Fatal("a stopped channel got a signal")
	default:
	}
}

// The child side of TestReset: catch SIGTERM, Reset it if asked, then
// send it to ourselves. Caught, the process exits 7; reset, the runtime
// lets it end the process.
func init() {
	mode := os.Getenv("SIGCATCH_TEST_CHILD")
	if mode == "" {
		return
	}
	c := make(chan os.Signal, 1)
	if err := Notify(c, unix.SIGTERM); err != nil {
		os.Exit(3)
	}
	if mode == "reset" {
		Reset(unix.SIGTERM)
	}
	unix.Kill(os.Getpid(), unix.SIGTERM)
	select {
	case <-c:
		os.Exit(7)
	case <-time.After(5 * time.Second):
		os.Exit(4)
	}
}

func TestReset(t *testing.T) {
	for _, tc := range []struct {
		mode string
		code int // -1: killed by SIGTERM
	}{{"catch", 7}, {"reset", -1}} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SIGCATCH_TEST_CHILD="+tc.mode)
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		switch {
		case tc.code == -1 && !(ws.Signaled() && ws.Signal() == syscall.SIGTERM):
			t.Errorf("%s: %v, want killed by SIGTERM", tc.mode, cmd.ProcessState)
		case tc.code >= 0 && ws.ExitStatus() != tc.code:
			t.Errorf("%s: %v, want exit %d", tc.mode, cmd.ProcessState, tc.code)
		}
	}
}
