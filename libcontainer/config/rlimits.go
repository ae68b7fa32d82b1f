package config

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var RlimitNames = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

func validateRlimits(p *specs.Process) error {
	seen := map[string]bool{}
	for i, r := range p.Rlimits {
		path := fmt.Sprintf("process.rlimits[%d]", i)
		if _, ok := RlimitNames[r.Type]; !ok {
			return FieldErr(path+".type", "unknown rlimit %q", r.Type)
		}
		if seen[r.Type] {
			return FieldErr(path+".type", "duplicate rlimit %q", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return FieldErr(path, "soft limit %d is above hard limit %d", r.Soft, r.Hard)
		}
	}
	return nil
}
