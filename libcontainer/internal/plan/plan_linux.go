// Package plan is the last steps of a container process, decided in Go
// and carried out in C (preinit's plan.c) by a process that never starts
// the Go runtime (issue 18: a second Go start-up was half of `start`'s
// and `exec`'s time). A created init writes its plan before ready and
// the image that waits for start carries it out; `exec` writes the plan
// of the process it starts before the clone. All decisions are made
// before: plan.c parses, makes the calls in the order of the Go finisher
// (initproc's finish_linux.go) and reports errors in its words.
//
// Layout, native byte order:
//
//	0   "HULLPLN1"
//	8   u32 flags (Caps, NNP, Seccomp, Umask)
//	12  u32 uid, gid, umask, ngroups, nrlimits, naslimits, nfilter,
//	        seccomp flags, nargs, nenv, last capability, npreserve, 0
//	64  u64 bounding, effective, permitted, inheritable, ambient masks
//	104 ngroups × u32
//	    (nrlimits + naslimits) × {u32 resource, u32 0, u64 soft, u64 hard}
//	    nfilter × struct sock_filter (8 bytes)
//	    NUL-terminated: path, cwd, the rlimits' names, args, env
//
// The nrlimits are set first, the naslimits (address space) just before
// the seccomp filter. npreserve is the number of fds from 3 on that the
// process keeps (exec --preserve-fds); every other fd is closed on exec.
package plan

import (
	"encoding/binary"
	"strings"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Magic opens every plan.
const Magic = "HULLPLN1"

// HeaderSize is where the variable part starts (plan.c's PLAN_HDR).
const HeaderSize = 104

// The flags.
const (
	Caps    = 1
	NNP     = 2
	Seccomp = 4
	Umask   = 8
)

// Plan is what the process does after its setup: its rlimits, the
// credentials, capabilities and seccomp filter it drops to, then execve.
type Plan struct {
	Path, Cwd  string
	Args, Env  []string
	User       specs.User
	Caps       *capabilities.Sets // nil: leave them
	NoNewPrivs bool
	// Filter and SeccompFlags: the compiled seccomp filter, none if nil.
	Filter       []unix.SockFilter
	SeccompFlags uint
	// Rlimits are set first; AddrSpace (RLIMIT_AS, DATA, STACK) just
	// before the filter.
	Rlimits, AddrSpace []specs.POSIXRlimit
	Preserve           int
}

// Encode returns the plan's bytes, or nil if C cannot carry it out
// (a string with a NUL, no args, a filter with a listener or too long):
// the caller then lets Go do the steps.
func (p *Plan) Encode() []byte {
	if len(p.Args) == 0 || len(p.Filter) > 0xffff || p.SeccompFlags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return nil
	}
	strs := append([]string{p.Path, p.Cwd}, rlimitNames(p.Rlimits)...)
	strs = append(strs, rlimitNames(p.AddrSpace)...)
	strs = append(strs, p.Args...)
	strs = append(strs, p.Env...)
	for _, s := range strs {
		if strings.IndexByte(s, 0) >= 0 {
			return nil // Go's execve refuses it with its own error
		}
	}
	var flags uint32
	var bnd, eff, prm, inh, amb uint64
	if p.Caps != nil {
		flags |= Caps
		bnd, eff, prm, inh, amb = p.Caps.Masks()
	}
	if p.NoNewPrivs {
		flags |= NNP
	}
	if p.Filter != nil {
		flags |= Seccomp
	}
	var umask uint32
	if p.User.Umask != nil {
		flags |= Umask
		umask = *p.User.Umask
	}
	b := make([]byte, 0, 4096)
	u32 := func(v uint32) { b = binary.NativeEndian.AppendUint32(b, v) }
	u64 := func(v uint64) { b = binary.NativeEndian.AppendUint64(b, v) }
	b = append(b, Magic...)
	for _, v := range []uint32{flags, p.User.UID, p.User.GID, umask,
		uint32(len(p.User.AdditionalGids)), uint32(len(p.Rlimits)), uint32(len(p.AddrSpace)),
		uint32(len(p.Filter)), uint32(p.SeccompFlags), uint32(len(p.Args)), uint32(len(p.Env)),
		uint32(capabilities.LastCap()), uint32(p.Preserve), 0} {
		u32(v)
	}
	for _, v := range []uint64{bnd, eff, prm, inh, amb} {
		u64(v)
	}
	for _, g := range p.User.AdditionalGids {
		u32(g)
	}
	for _, r := range append(append([]specs.POSIXRlimit(nil), p.Rlimits...), p.AddrSpace...) {
		u32(uint32(config.RlimitNames[r.Type]))
		u32(0)
		u64(r.Soft)
		u64(r.Hard)
	}
	for _, ins := range p.Filter {
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

// addressSpace are the rlimits set last, just before the seccomp filter:
// a process's address-space limits (see initproc's splitRlimits).
var addressSpace = map[string]bool{"RLIMIT_AS": true, "RLIMIT_DATA": true, "RLIMIT_STACK": true}

// SplitRlimits separates the address-space limits from the others.
func SplitRlimits(rl []specs.POSIXRlimit) (others, addrSpace []specs.POSIXRlimit) {
	for _, r := range rl {
		if addressSpace[r.Type] {
			addrSpace = append(addrSpace, r)
		} else {
			others = append(others, r)
		}
	}
	return others, addrSpace
}

func rlimitNames(rl []specs.POSIXRlimit) []string {
	names := make([]string, len(rl))
	for i, r := range rl {
		names[i] = r.Type
	}
	return names
}
