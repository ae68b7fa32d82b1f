package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// pause freezes the container (a counter stops), exec is refused while it
// is paused unless --ignore-paused, resume thaws it.
func TestCgroupPauseResumeExec(t *testing.T) {
	e := newEnv(t)
	dir := e.mkdir("counter")
	// The counter is written to a temporary file and renamed over n: with
	// `echo $i > n` the freezer could stop the shell between the
	// truncation and the write, and n read "" throughout the pause (seen
	// in the VM lane under TCG).
	bundle := e.newBundle(all(
		withShell(`i=0; while :; do i=$((i+1)); echo $i > /counter/n.tmp; mv /counter/n.tmp /counter/n; sleep 0.05; done`),
		withMount(specs.Mount{Destination: "/counter", Type: "bind", Source: dir, Options: []string{"rbind", "rw"}}),
	))
	id, pid := e.create(bundle)
	e.trackPid(pid)
	e.mustRT("start", id)
	read := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "n"))
		return strings.TrimSpace(string(b))
	}
	for i := 0; i < 200 && read() == ""; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if read() == "" {
		t.Fatalf("the container's counter did not start within 10s")
	}
	e.mustRT("pause", id)
	if st := e.state(id); st.Status != "paused" {
		t.Fatalf("status after pause: %q", st.Status)
	}
	a := read()
	time.Sleep(500 * time.Millisecond)
	if b := read(); a != b {
		t.Errorf("counter moved while paused: %q then %q", a, b)
	}
	// runc's words and exit status (the suite's "runc exec should
	// refuse a paused container").
	r := e.rt("exec", id, "true")
	if r.Code != 255 || !strings.Contains(r.Stderr, "cannot exec in a paused container") || !strings.Contains(r.Stderr, id) {
		t.Errorf("exec into a paused container: %v, want exit 255 and \"cannot exec in a paused container\" naming %s", r, id)
	}
	e.mustRT("resume", id)
	if st := e.state(id); st.Status != "running" {
		t.Errorf("status after resume: %q", st.Status)
	}
	moved := false
	for i := 0; i < 40 && !moved; i++ {
		time.Sleep(50 * time.Millisecond)
		moved = read() != a
	}
	if c := read(); !moved {
		t.Errorf("counter did not move after resume: %q", c)
	}
	if r := e.rt("resume", id); r.Code == 0 {
		t.Errorf("resume of a running container succeeded")
	}
	e.mustRT("delete", "--force", id)
}
