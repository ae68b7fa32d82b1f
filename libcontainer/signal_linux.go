package libcontainer

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hullrt/hull/libcontainer/internal/sigcatch"
	"golang.org/x/sys/unix"
)

// signalCatch catches every signal, for a foreground run or exec to
// forward to its process, through sigcatch: os/signal's Notify enables
// signals one at a time, each a round trip to the Go runtime's signal
// thread (2.6 ms of CPU for all of them here, a tenth of a run), which
// sigcatch's C handler does not need. catchAll returns with every signal
// caught, so it is called before the container process exists: no
// signal meant for it kills hull instead.
//
// Nothing stops catching: Run and Exec return only for hull to exit, and
// a signal arriving in between is caught and dropped, so the teardown
// (cgroups, state) is not cut short by a late ^C.
type signalCatch struct {
	c chan os.Signal
}

func catchAll() (*signalCatch, error) {
	s := &signalCatch{c: make(chan os.Signal, 64)}
	if err := sigcatch.Notify(s.c, sigcatch.All()...); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseSignal accepts a number ("9"), a name ("KILL", "SIGKILL", any case),
// or a real-time signal ("RTMIN+3").
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	const rtmin, rtmax = 34, 64
	if rest, ok := strings.CutPrefix(name, "RTMIN"); ok {
		n := 0
		if rest != "" {
			v, err := strconv.Atoi(rest)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("unknown signal %q", s)
			}
			n = v
		}
		if rtmin+n <= rtmax {
			return unix.Signal(rtmin + n), nil
		}
	}
	if rest, ok := strings.CutPrefix(name, "RTMAX"); ok {
		n := 0
		if rest != "" {
			v, err := strconv.Atoi(rest)
			if err != nil || v > 0 {
				return 0, fmt.Errorf("unknown signal %q", s)
			}
			n = v
		}
		if rtmax+n >= rtmin {
			return unix.Signal(rtmax + n), nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}
