package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestTerminalSession runs a terminal=true container in the foreground on a
// real terminal: a pty made by script(1) from util-linux. The runtime must
// relay the terminal, pass the outer window size to the container's pty,
// put the outer terminal in raw mode while it relays, and restore its
// settings when it exits.
func TestTerminalSession(t *testing.T) {
	t.Parallel()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skipf("script (util-linux) not found, so no terminal session can be made: %v", err)
	}
	e := newEnv(t)
	wait := ""
	if !isHull {
		// runc 1.1.5 sets the pty's size from a goroutine after the
		// start, racing with the container's first command.
		wait = "sleep 0.3; "
	}
	bundle := e.newBundle(all(
		withShell(wait+"echo TTY=$(tty); echo SIZE=$(stty size); sleep 1.5"),
		func(s *specs.Spec) { s.Process.Terminal = true }))
	during := filepath.Join(e.base, "stty-during")
	// Runs in the script session, on its pty. The background job samples
	// the outer terminal's settings while the runtime relays.
	inner := fmt.Sprintf(`stty rows 33 cols 101
before=$(stty -g)
( sleep 0.7; stty -g </dev/tty >'%s' ) &
'%s' --root '%s' run --bundle '%s' '%s'
echo "RC=$?"
wait
after=$(stty -g)
if [ "$before" = "$after" ]; then echo STTY=same; else echo "STTY=changed before=$before after=$after"; fi
echo "BEFORE=$before"`, during, runtimeBin, e.root, bundle, e.newID())
	out := inScriptSession(t, scriptBin, inner)
	got := kv(out)
	if got["RC"] != "0" {
		t.Errorf("run in the terminal exited %q: %q", got["RC"], out)
	}
	if got["TTY"] != "/dev/pts/0" {
		t.Errorf("tty in the container = %q, want /dev/pts/0 (output %q)", got["TTY"], out)
	}
	if got["SIZE"] != "33 101" {
		t.Errorf("stty size in the container = %q, want \"33 101\" from the outer terminal (output %q)", got["SIZE"], out)
	}
	if got["STTY"] != "same" {
		t.Errorf("outer terminal settings not restored after the runtime exited: %s", got["STTY"])
	}
	if d, err := os.ReadFile(during); err != nil {
		t.Errorf("no sample of the terminal settings during the run: %v", err)
	} else if strings.TrimSpace(string(d)) == got["BEFORE"] {
		t.Errorf("the outer terminal was not in raw mode while the runtime relayed (settings %s unchanged)", got["BEFORE"])
	}
}

// A foreground run relaying a terminal follows the outer terminal's size:
// resized while the container runs, the kernel sends SIGWINCH to the
// runtime (in the terminal's foreground process group), which sets the
// new size on the container's pty, as runc does. The container reads its
// size before and after.
func TestTerminalResize(t *testing.T) {
	t.Parallel()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skipf("script (util-linux) not found, so no terminal session can be made: %v", err)
	}
	e := newEnv(t)
	bundle := e.newBundle(all(
		withShell("sleep 0.3; echo SIZE1=$(stty size); touch /tmp/sized; i=0; "+
			"while [ \"$(stty size)\" = \"20 80\" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; "+
			"echo SIZE2=$(stty size)"),
		func(s *specs.Spec) { s.Process.Terminal = true }))
	sized := filepath.Join(bundle, "rootfs/tmp/sized")
	// The background job resizes the session's terminal once the
	// container has read its first size.
	inner := fmt.Sprintf(`stty rows 20 cols 80
( i=0; while [ ! -e '%s' ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; stty rows 41 cols 123 </dev/tty ) &
'%s' --root '%s' run --bundle '%s' '%s'
echo "RC=$?"
wait`, sized, runtimeBin, e.root, bundle, e.newID())
	out := inScriptSession(t, scriptBin, inner)
	got := kv(out)
	if got["RC"] != "0" || got["SIZE1"] != "20 80" || got["SIZE2"] != "41 123" {
		t.Errorf("terminal resized from 20x80 to 41x123 during a run: RC=%q SIZE1=%q SIZE2=%q, want 0, \"20 80\", \"41 123\" (output %q)",
			got["RC"], got["SIZE1"], got["SIZE2"], out)
	}
}

// inScriptSession runs the shell script inner in a terminal session of
// its own (util-linux's script) and returns its output, "\r"s removed.
func inScriptSession(t *testing.T, scriptBin, inner string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, scriptBin, "-qec", inner, "/dev/null")
	cmd.Env = append(os.Environ(), "SHELL=/bin/sh")
	// script's stdin stays open and silent: at EOF script would type an
	// EOF character into the session.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	cmd.Stdin = stdinR
	b, err := cmd.CombinedOutput()
	stdinR.Close()
	out := strings.ReplaceAll(string(b), "\r", "")
	if ctx.Err() != nil {
		t.Fatalf("script session timed out: %q", out)
	}
	if err != nil {
		t.Fatalf("script -qec: %v: %q", err, out)
	}
	return out
}
