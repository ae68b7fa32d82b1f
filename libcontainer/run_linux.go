package libcontainer

import (
	"fmt"
	"os"

	"github.com/hullrt/hull/libcontainer/process"
	"github.com/hullrt/hull/libcontainer/tty"
	"golang.org/x/sys/unix"
)

// RunOpts are the options of `run`.
type RunOpts struct {
	CreateOpts
	Detach bool
	Keep   bool
	// GlobalArgs are hull's global flags (--log …) for hull-shim to pass
	// on; with Detach, hull-shim (next to hull) runs the container.
	GlobalArgs []string
}

// Run creates and starts a container. Detached, it returns at once with
// code 0. In the foreground it forwards signals to the container, reaps
// orphans (hull is a child subreaper), and returns the init's exit code
// (128+signal when killed); the container is deleted unless Keep.
func (r *Runtime) Run(o RunOpts) (int, error) {
	if o.Detach {
		code, err := r.runWithShim(o)
		if err != errNoShim {
			return code, err
		}
	}
	var sigs chan os.Signal
	if !o.Detach {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return -1, fmt.Errorf("become child subreaper: %w", err)
		}
		catch, err := catchAll()
		if err != nil {
			return -1, err
		}
		sigs = catch.c
	}
	o.relayTTY = !o.Detach
	o.startSoon = true
	c, err := r.Create(o.CreateOpts)
	if sig := process.SignalOf(err); sig != 0 {
		// As runc's run, which forwards the signal to the process it
		// starts: 128+signal, and nothing left behind.
		return 128 + int(sig), nil
	}
	if err != nil {
		return -1, err
	}
	pid := c.st.Pid
	var relay *tty.Relay
	if c.pty != nil {
		relay = tty.StartRelay(c.pty)
	}
	if err := c.Start(); err != nil {
		c.Destroy(true)
		if relay != nil {
			relay.Stop()
		}
		c.Close()
		return -1, err
	}
	c.Close()
	if o.Detach {
		return 0, nil
	}
	code := r.forwardAndWait(pid, sigs, relay != nil)
	if relay != nil {
		relay.Stop()
	}
	if !o.Keep {
		// Waits for any holder: a checkpoint of this container ends soon
		// after its init does.
		if c, err := r.load(o.ID, r.store.Lock, false); err == nil {
			err = c.Destroy(true)
			c.Close()
			if err != nil {
				return code, err
			}
		}
	}
	return code, nil
}

func (r *Runtime) forwardAndWait(pid int, sigs chan os.Signal, tty bool) int {
	for {
		if code, done := reapUntil(pid); done {
			return code
		}
		s := (<-sigs).(unix.Signal)
		switch s {
		case unix.SIGCHLD:
		case unix.SIGURG:
			// The Go runtime's own preemption signal, not the user's.
		case unix.SIGWINCH:
			if !tty {
				unix.Kill(pid, s)
			} // with a tty, the relay resizes the pty instead
		default:
			unix.Kill(pid, s)
		}
	}
}

// reapUntil reaps every exited child without blocking; done once pid was
// among them.
func reapUntil(pid int) (int, bool) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || got <= 0 {
			return 0, false
		}
		if got == pid {
			return exitCode(ws), true
		}
	}
}
