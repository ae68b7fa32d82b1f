package libcontainer

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// signalCatch catches every signal, for a foreground run or exec to
// forward to its process. signal.Notify enables signals one at a time,
// each a round trip to the Go runtime's signal thread: 1.3-3 ms for all 65
// on these machines, a tenth of a run. So catchAll does it in the
// background while the state is loaded and the spec read; wait returns
// once every signal is caught and must be called before the container
// process exists, so that no signal meant for it kills hull instead.
//
// Nothing stops catching: undoing it is the same 65 round trips again,
// which sat between the container's exit and hull's (about 15 ms of
// run's teardown under strace). Run and Exec return only for hull to
// exit, and a signal arriving in between is caught and dropped, so the
// teardown (cgroups, state) is not cut short by a late ^C.
type signalCatch struct {
	c    chan os.Signal
	done chan struct{}
}

func catchAll() *signalCatch {
	s := &signalCatch{c: make(chan os.Signal, 64), done: make(chan struct{})}
	go func() {
		signal.Notify(s.c)
		close(s.done)
	}()
	return s
}

func (s *signalCatch) wait() { <-s.done }

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
