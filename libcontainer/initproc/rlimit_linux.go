package initproc

import (
	"fmt"
	"syscall"

	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/plan"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setRlimits applies process.rlimits to the calling process. It uses
// syscall.Setrlimit so that the Go runtime forgets the NOFILE soft limit it
// raised at start-up and does not restore it at execve.
func setRlimits(rl []specs.POSIXRlimit) error {
	for _, r := range rl {
		lim := syscall.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := sys.Setrlimit(config.RlimitNames[r.Type], &lim); err != nil {
			return fmt.Errorf("set %s to soft %d hard %d: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}

// raiseHardLimits does the part of setRlimits that can fail, raising a
// hard limit (EPERM without CAP_SYS_RESOURCE, EINVAL for RLIMIT_NOFILE
// above fs.nr_open), and nothing that lowers a limit: an init that sets
// its rlimits only after start still fails create, as runc's, when they
// cannot be set.
func raiseHardLimits(rl []specs.POSIXRlimit) error {
	for _, r := range rl {
		var cur syscall.Rlimit
		if err := sys.Getrlimit(config.RlimitNames[r.Type], &cur); err != nil {
			return fmt.Errorf("get %s: %w", r.Type, err)
		}
		if r.Hard <= cur.Max {
			continue
		}
		lim := syscall.Rlimit{Cur: cur.Cur, Max: r.Hard}
		if err := sys.Setrlimit(config.RlimitNames[r.Type], &lim); err != nil {
			return fmt.Errorf("set %s to soft %d hard %d: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}

// splitRlimits separates the address-space limits (RLIMIT_AS, DATA,
// STACK) from the others: they are the rlimits a Go process cannot be
// trusted to live under. It reserves far more address space than it uses
// (hull's init has over a gigabyte mapped, most of it PROT_NONE, and glibc
// adds 64 MiB per thread arena), so a RLIMIT_AS or RLIMIT_DATA of a
// gigabyte makes its next heap growth fatal, and RLIMIT_STACK is the size
// of every thread it starts from then on. The init sets them last, just
// before the seccomp filter (which may deny setrlimit), when it allocates
// almost nothing more.
func splitRlimits(rl []specs.POSIXRlimit) (others, addrSpace []specs.POSIXRlimit) {
	return plan.SplitRlimits(rl)
}
