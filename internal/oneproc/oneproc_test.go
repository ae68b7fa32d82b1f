package oneproc

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// childEnv makes the test binary print its GOMAXPROCS before and after
// Foreground instead of running the tests.
const childEnv = "HULL_ONEPROC_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		before := runtime.GOMAXPROCS(0)
		Foreground()
		os.Stdout.WriteString(strconv.Itoa(before) + " " + strconv.Itoa(runtime.GOMAXPROCS(0)) + "\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// run starts the test binary as a child with env added and returns its
// GOMAXPROCS before and after Foreground.
func run(t *testing.T, env ...string) (before, after int) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{childEnv + "=1"}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOMAXPROCS=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("child printed %q", out)
	}
	before, _ = strconv.Atoi(f[0])
	after, _ = strconv.Atoi(f[1])
	return before, after
}

// TestOneP: without GOMAXPROCS in the environment a process starts on
// one P, and Foreground gives it the runtime's default, more than one P
// on a machine with more than one CPU.
func TestOneP(t *testing.T) {
	before, after := run(t)
	if before != 1 {
		t.Errorf("GOMAXPROCS at start: %d, want 1", before)
	}
	if want := runtime.NumCPU(); after < 1 || after > want {
		t.Errorf("GOMAXPROCS after Foreground: %d, want the default (1..%d)", after, want)
	}
	if runtime.NumCPU() > 1 && after == 1 {
		t.Errorf("GOMAXPROCS after Foreground is still 1 on a %d-CPU machine", runtime.NumCPU())
	}
}

// TestEnvironmentWins: GOMAXPROCS in the environment is kept, and
// Foreground leaves it alone.
func TestEnvironmentWins(t *testing.T) {
	before, after := run(t, "GOMAXPROCS=3")
	if before != 3 || after != 3 {
		t.Errorf("with GOMAXPROCS=3: %d before and %d after Foreground, want 3 and 3", before, after)
	}
}
