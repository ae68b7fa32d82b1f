package proto

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func pair(t *testing.T) (Conn, Conn) {
	t.Helper()
	p, c, err := NewPair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(); c.Close() })
	return Conn{FD: int(p.Fd())}, Conn{FD: int(c.Fd())}
}

// A child's error keeps its errno on the parent's side.
func TestErrorKeepsErrno(t *testing.T) {
	parent, child := pair(t)
	if err := child.Send(ErrorMessage(fmt.Errorf("mount /proc: %w", unix.EPERM))); err != nil {
		t.Fatal(err)
	}
	m, err := parent.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != MsgError {
		t.Fatalf("type %q, want %q", m.Type, MsgError)
	}
	cerr := ErrorOf(m)
	if !errors.Is(cerr, unix.EPERM) {
		t.Errorf("errors.Is(%v, EPERM) = false", cerr)
	}
	if cerr.Error() != "mount /proc: "+unix.EPERM.Error() {
		t.Errorf("text %q", cerr)
	}
	// An error without an errno unwraps to nothing.
	child.Send(ErrorMessage(errors.New("no errno")))
	m, _ = parent.Recv()
	if errors.Unwrap(ErrorOf(m)) != nil {
		t.Errorf("%v unwraps to %v, want nil", ErrorOf(m), errors.Unwrap(ErrorOf(m)))
	}
}

// The whole config crosses in one message, whatever its size: far above
// what one datagram could carry.
func TestBigConfigOverStream(t *testing.T) {
	parent, child := pair(t)
	env := make([]string, 40000)
	for i := range env {
		env[i] = fmt.Sprintf("VAR%d=%s", i, strings.Repeat("x", 40))
	}
	cfg := &InitConfig{ID: "big", Spec: &specs.Spec{Process: &specs.Process{Env: env}}}
	errc := make(chan error, 1)
	go func() { errc <- parent.Send(&Message{Type: MsgConfig, Config: cfg}) }()
	m, err := child.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if m.Config == nil || len(m.Config.Spec.Process.Env) != len(env) || m.Config.Spec.Process.Env[len(env)-1] != env[len(env)-1] {
		t.Fatal("config lost on the way")
	}
}

// A peer that died ends the wait: ErrClosed, never a hang.
func TestRecvPeerGone(t *testing.T) {
	p, c, err := NewPair()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c.Close()
	if _, err := (Conn{FD: int(p.Fd())}).Recv(); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv from a closed peer: %v, want ErrClosed", err)
	}
	if err := (Conn{FD: int(p.Fd())}).Send(&Message{Type: MsgReady}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send to a closed peer: %v, want ErrClosed", err)
	}
}
