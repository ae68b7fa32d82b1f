package cgroups

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The cgroup2 device controller is an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE. The kernel runs it for every device access
// with a struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32
// minor; } in R1, where access_type is (access << 16) | type; the program
// returns 1 to allow and 0 to deny.
//
// The program implements the rule list in order: for each access bit
// asked for (mknod, read, write) the last rule that matches the device
// and names that bit decides, and with no such rule access is denied.
// Deciding per bit keeps a deny of "w" effective for an open that asks
// for read and write at once, which a whole-request match would let
// through. A rule of type "a" matches every device, so rules before it
// never decide anything.

// bpfInsn is one eBPF instruction (struct bpf_insn).
type bpfInsn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
	// target is the label a jump goes to, resolved by assemble.
	target string
}

const (
	opLdxW    = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W
	opAnd32K  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opRsh32K  = unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K
	opMov32K  = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_K
	opMov32X  = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X
	opJeqK    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJneK    = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K
	opJa      = unix.BPF_JMP | unix.BPF_JA
	opExit    = unix.BPF_JMP | unix.BPF_EXIT
	devBlock  = 1 // BPF_DEVCG_DEV_BLOCK
	devChar   = 2 // BPF_DEVCG_DEV_CHAR
	regCtx    = 1
	regType   = 2
	regAccess = 3
	regMajor  = 4
	regMinor  = 5
)

// program collects instructions and the labels that name positions.
type program struct {
	insns  []bpfInsn
	labels map[string]int
}

func (p *program) emit(i ...bpfInsn) { p.insns = append(p.insns, i...) }

func (p *program) label(name string) { p.labels[name] = len(p.insns) }

func (p *program) ret(v int32) {
	p.emit(bpfInsn{code: opMov32K, dst: 0, imm: v}, bpfInsn{code: opExit})
}

// deviceFilter compiles rules into the filter's instructions.
func deviceFilter(rules []devRule) ([]bpfInsn, error) {
	p := &program{labels: map[string]int{}}
	p.emit(
		bpfInsn{code: opLdxW, dst: regType, src: regCtx, off: 0},
		bpfInsn{code: opAnd32K, dst: regType, imm: 0xffff},
		bpfInsn{code: opLdxW, dst: regAccess, src: regCtx, off: 0},
		bpfInsn{code: opRsh32K, dst: regAccess, imm: 16},
		bpfInsn{code: opLdxW, dst: regMajor, src: regCtx, off: 4},
		bpfInsn{code: opLdxW, dst: regMinor, src: regCtx, off: 8},
	)
	for _, bit := range []perms{permMknod, permRead, permWrite} {
		done := fmt.Sprintf("bit%d-done", bit)
		// Skip this bit's block when the access does not ask for it.
		p.emit(
			bpfInsn{code: opMov32X, dst: regCtx, src: regAccess},
			bpfInsn{code: opAnd32K, dst: regCtx, imm: int32(bit)},
			bpfInsn{code: opJeqK, dst: regCtx, imm: 0, target: done},
		)
		decided := false
		for i := len(rules) - 1; i >= 0 && !decided; i-- {
			r := rules[i]
			if r.perms&bit == 0 {
				continue
			}
			next := fmt.Sprintf("bit%d-rule%d", bit, i)
			conditional := false
			if r.typ != 'a' {
				t := int32(devChar)
				if r.typ == 'b' {
					t = devBlock
				}
				p.emit(bpfInsn{code: opJneK, dst: regType, imm: t, target: next})
				conditional = true
				if r.major != wildcard {
					p.emit(bpfInsn{code: opJneK, dst: regMajor, imm: int32(r.major), target: next})
				}
				if r.minor != wildcard {
					p.emit(bpfInsn{code: opJneK, dst: regMinor, imm: int32(r.minor), target: next})
				}
			}
			if r.allow {
				p.emit(bpfInsn{code: opJa, target: done})
			} else {
				p.ret(0)
			}
			p.label(next)
			// A rule that matches every device decides the bit for good;
			// the verifier refuses the unreachable code after it.
			decided = !conditional
		}
		if !decided {
			p.ret(0)
		}
		p.label(done)
	}
	p.ret(1)
	return p.assemble()
}

// assemble resolves jump labels into offsets.
func (p *program) assemble() ([]bpfInsn, error) {
	out := make([]bpfInsn, len(p.insns))
	for i, in := range p.insns {
		if in.target != "" {
			at, ok := p.labels[in.target]
			if !ok || at <= i || at-i-1 > 0x7fff {
				return nil, fmt.Errorf("device filter: bad jump from %d to %q", i, in.target)
			}
			in.off = int16(at - i - 1)
			in.target = ""
		}
		out[i] = in
	}
	return out, nil
}

// encodeInsns lays instructions out as the kernel reads them: struct
// bpf_insn is native endian, and its two register nibbles swap places on
// big-endian machines (bit-fields fill from the top there).
func encodeInsns(insns []bpfInsn) []byte {
	little := binary.NativeEndian.Uint16([]byte{1, 0}) == 1
	b := make([]byte, 8*len(insns))
	for i, in := range insns {
		o := b[8*i:]
		o[0] = in.code
		if little {
			o[1] = in.dst&0xf | in.src<<4
		} else {
			o[1] = in.dst<<4 | in.src&0xf
		}
		binary.NativeEndian.PutUint16(o[2:], uint16(in.off))
		binary.NativeEndian.PutUint32(o[4:], uint32(in.imm))
	}
	return b
}
