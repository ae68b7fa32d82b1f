package initproc

import (
	"encoding/binary"
	"strings"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A created container's init waits for start in a fresh image of hull
// (waitInC). Resuming Go there cost a second Go start-up and a decode of
// the whole config on every `start` (issue 18). When the last steps need
// nothing only Go has, the init instead writes them as a plan, and the
// new image's C (preinit's plan.c) carries the plan out after the wait,
// in the order of finisher.drop and finish, and execs the process. All
// decisions stay here: plan.c parses, makes the calls and reports errors
// in the words the Go finisher uses.
//
// planLayout, native byte order:
//
//	0   "HULLPLN1"
//	8   u32 flags (planCaps, planNNP, planSeccomp, planUmask)
//	12  u32 uid, gid, umask, ngroups, nrlimits, naslimits, nfilter,
//	        seccomp flags, nargs, nenv, last capability
//	56  u64 bounding, effective, permitted, inheritable, ambient masks
//	96  ngroups × u32
//	    (nrlimits + naslimits) × {u32 resource, u32 0, u64 soft, u64 hard}
//	    nfilter × struct sock_filter (8 bytes)
//	    NUL-terminated: path, cwd, the rlimits' names, args, env
//
// The nrlimits are set right after the wait (as resume does), the
// naslimits (address space) just before the seccomp filter.
const (
	planMagic   = "HULLPLN1"
	planCaps    = 1
	planNNP     = 2
	planSeccomp = 4
	planUmask   = 8
)

// encodePlan returns the plan for the finisher f, or nil when a last step
// needs the Go runtime: startContainer hooks (they run in the container
// before execve), LSM labels, a seccomp filter with a listener for an
// agent, a fault to inject (tests), or a string C cannot carry.
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
	var filter []unix.SockFilter
	var sflags uint
	if f.prog != nil {
		filter, sflags = f.prog.Filter()
		if sflags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 || len(filter) == 0 || len(filter) > 0xffff {
			return nil
		}
	}
	var others []specs.POSIXRlimit
	if spec.Process != nil {
		others, _ = splitRlimits(spec.Process.Rlimits)
	}
	strs := append([]string{f.path, f.cwd}, rlimitNames(others)...)
	strs = append(strs, rlimitNames(f.addrSpace)...)
	strs = append(strs, f.args...)
	strs = append(strs, f.env...)
	for _, s := range strs {
		if strings.IndexByte(s, 0) >= 0 {
			return nil // Go's execve refuses it with its own error
		}
	}
	if len(f.args) == 0 {
		return nil
	}

	var flags uint32
	var bnd, eff, prm, inh, amb uint64
	if f.caps != nil {
		flags |= planCaps
		bnd, eff, prm, inh, amb = f.caps.Masks()
	}
	if f.noNewPriv {
		flags |= planNNP
	}
	if f.prog != nil {
		flags |= planSeccomp
	}
	var umask uint32
	if f.user.Umask != nil {
		flags |= planUmask
		umask = *f.user.Umask
	}
	b := make([]byte, 0, 4096)
	u32 := func(v uint32) { b = binary.NativeEndian.AppendUint32(b, v) }
	u64 := func(v uint64) { b = binary.NativeEndian.AppendUint64(b, v) }
	b = append(b, planMagic...)
	for _, v := range []uint32{flags, f.user.UID, f.user.GID, umask,
		uint32(len(f.user.AdditionalGids)), uint32(len(others)), uint32(len(f.addrSpace)),
		uint32(len(filter)), uint32(sflags), uint32(len(f.args)), uint32(len(f.env)),
		uint32(capabilities.LastCap())} {
		u32(v)
	}
	for _, v := range []uint64{bnd, eff, prm, inh, amb} {
		u64(v)
	}
	for _, g := range f.user.AdditionalGids {
		u32(g)
	}
	for _, r := range append(append([]specs.POSIXRlimit(nil), others...), f.addrSpace...) {
		u32(uint32(config.RlimitNames[r.Type]))
		u32(0)
		u64(r.Soft)
		u64(r.Hard)
	}
	for _, ins := range filter {
		b = binary.NativeEndian.AppendUint16(b, ins.Code)
		b = append(b, ins.Jt, ins.Jf)
		u32(ins.K)
	}
	for _, s := range strs {
		b = append(b, s...)
		b = append(b, 0)
	}
	return b
}

func rlimitNames(rl []specs.POSIXRlimit) []string {
	names := make([]string, len(rl))
	for i, r := range rl {
		names[i] = r.Type
	}
	return names
}
