package initproc

import (
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/plan"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"golang.org/x/sys/unix"
)

// encodePlan returns the last steps of the created init (finisher f) as
// a plan that the image waiting for start carries out in C
// (internal/plan), or nil when a step needs the Go runtime:
// startContainer hooks (they run in the container before execve), LSM
// labels, a seccomp agent, a fault to inject (tests).
func encodePlan(cfg *proto.InitConfig, f *finisher) []byte {
	spec := cfg.Spec
	if spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0 {
		return nil
	}
	if f.lsm != nil && (f.lsm.ApparmorProfile != "" || f.lsm.SelinuxLabel != "") {
		return nil
	}
	if cfg.SeccompAgentFd >= 0 || len(faults.Env()) > 0 {
		return nil
	}
	p := &plan.Plan{Path: f.path, Cwd: f.cwd, Args: f.args, Env: f.env, User: f.user,
		Caps: f.caps, NoNewPrivs: f.noNewPriv, AddrSpace: f.addrSpace}
	if f.prog != nil {
		p.Filter, p.SeccompFlags = f.prog.Filter()
		if len(p.Filter) == 0 || p.SeccompFlags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
			return nil
		}
	}
	if spec.Process != nil {
		p.Rlimits, _ = splitRlimits(spec.Process.Rlimits)
	}
	return p.Encode()
}
