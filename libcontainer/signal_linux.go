package libcontainer

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

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
