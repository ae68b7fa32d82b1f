package seccomp

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The ENOSYS stub, runc's behaviour: a syscall newer than every syscall
// the profile names (for the architecture of the call) gets ENOSYS rather
// than the default action. A libc probing a new syscall (clone3,
// faccessat2, ...) falls back to the old one only on ENOSYS; with the
// default EPERM it fails instead. The stub is put in front of the program
// libseccomp generates, and the result is loaded with seccomp(2).
//
// As runc's, the stub is left out when the default action lets calls
// through anyway (allow, log, trace) or already answers ENOSYS.

// Classic BPF opcodes (<linux/filter.h>).
const (
	bpfLdWAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJa     = unix.BPF_JMP | unix.BPF_JA
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgtK   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	bpfJsetK  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K

	offNr   = 0 // struct seccomp_data: int nr
	offArch = 4 // __u32 arch

	x32Bit      = 1 << 30 // __X32_SYSCALL_BIT
	retENOSYS   = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	s390Setup   = 0 // s390's multiplexer for unknown large syscall numbers
	labelENOSYS = "enosys"
	labelFilter = "filter"
)

var auditArch = map[libseccomp.ScmpArch]uint32{
	libseccomp.ArchX86: unix.AUDIT_ARCH_I386, libseccomp.ArchAMD64: unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchX32: unix.AUDIT_ARCH_X86_64, libseccomp.ArchARM: unix.AUDIT_ARCH_ARM,
	libseccomp.ArchARM64: unix.AUDIT_ARCH_AARCH64, libseccomp.ArchMIPS: unix.AUDIT_ARCH_MIPS,
	libseccomp.ArchMIPS64: unix.AUDIT_ARCH_MIPS64, libseccomp.ArchMIPS64N32: unix.AUDIT_ARCH_MIPS64N32,
	libseccomp.ArchMIPSEL: unix.AUDIT_ARCH_MIPSEL, libseccomp.ArchMIPSEL64: unix.AUDIT_ARCH_MIPSEL64,
	libseccomp.ArchMIPSEL64N32: unix.AUDIT_ARCH_MIPSEL64N32, libseccomp.ArchPPC: unix.AUDIT_ARCH_PPC,
	libseccomp.ArchPPC64: unix.AUDIT_ARCH_PPC64, libseccomp.ArchPPC64LE: unix.AUDIT_ARCH_PPC64LE,
	libseccomp.ArchS390: unix.AUDIT_ARCH_S390, libseccomp.ArchS390X: unix.AUDIT_ARCH_S390X,
	libseccomp.ArchPARISC: unix.AUDIT_ARCH_PARISC, libseccomp.ArchPARISC64: unix.AUDIT_ARCH_PARISC64,
	libseccomp.ArchRISCV64: unix.AUDIT_ARCH_RISCV64, libseccomp.ArchLOONGARCH64: unix.AUDIT_ARCH_LOONGARCH64,
}

// needsStub says whether the profile gets the ENOSYS stub.
func needsStub(s *specs.LinuxSeccomp) bool {
	if s.DefaultErrnoRet != nil && *s.DefaultErrnoRet == uint(unix.ENOSYS) {
		return false
	}
	switch s.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return false
	}
	return true
}

// lastSyscalls is, per audit architecture, the highest syscall number the
// profile names for each of its ABIs (x86_64 and x32 share one audit
// architecture). The native architecture is always included.
func lastSyscalls(s *specs.LinuxSeccomp) map[uint32]map[libseccomp.ScmpArch]uint32 {
	arches := map[libseccomp.ScmpArch]bool{}
	for _, a := range s.Architectures {
		if sa, ok := archMap[a]; ok {
			arches[sa] = true
		}
	}
	if n, err := libseccomp.GetNativeArch(); err == nil {
		arches[n] = true
	}
	out := map[uint32]map[libseccomp.ScmpArch]uint32{}
	for arch := range arches {
		aa, ok := auditArch[arch]
		if !ok {
			continue // gets the filter's bad-architecture action anyway
		}
		var last uint32
		for _, r := range s.Syscalls {
			for _, name := range r.Names {
				nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
				if err == nil && nr >= 0 && uint32(nr) > last {
					last = uint32(nr)
				}
			}
		}
		if last == 0 {
			continue
		}
		if out[aa] == nil {
			out[aa] = map[libseccomp.ScmpArch]uint32{}
		}
		out[aa][arch] = last
	}
	return out
}

// insn is a BPF instruction whose ja target may be a label.
type insn struct {
	f      unix.SockFilter
	label  string // this instruction starts the block named label
	target string // ja: jump to this label
}

func stmt(code uint16, k uint32) insn { return insn{f: unix.SockFilter{Code: code, K: k}} }

func jmp(code uint16, k uint32, jt, jf uint8) insn {
	return insn{f: unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf}}
}

func ja(label string) insn { return insn{f: unix.SockFilter{Code: bpfJa}, target: label} }

// checkNr is "nr > last: ENOSYS, else the filter": three instructions.
func checkNr(last uint32) []insn {
	return []insn{jmp(bpfJgtK, last, 0, 1), ja(labelENOSYS), ja(labelFilter)}
}

// enosysStub builds the stub; it ends by falling into the program that
// follows it (libseccomp's).
func enosysStub(last map[uint32]map[libseccomp.ScmpArch]uint32) ([]unix.SockFilter, error) {
	archs := make([]uint32, 0, len(last))
	for a := range last {
		archs = append(archs, a)
	}
	sort.Slice(archs, func(i, j int) bool { return archs[i] < archs[j] })

	prog := []insn{stmt(bpfLdWAbs, offArch)}
	for _, a := range archs {
		prog = append(prog, jmp(bpfJeqK, a, 0, 1), ja(fmt.Sprintf("arch-%x", a)))
	}
	prog = append(prog, ja(labelFilter))
	for _, a := range archs {
		abis := last[a]
		sec := []insn{stmt(bpfLdWAbs, offNr)}
		sec[0].label = fmt.Sprintf("arch-%x", a)
		if _, ok := abis[libseccomp.ArchS390]; ok {
			sec = append(sec, jmp(bpfJeqK, s390Setup, 0, 1), ja(labelENOSYS))
		} else if _, ok := abis[libseccomp.ArchS390X]; ok {
			sec = append(sec, jmp(bpfJeqK, s390Setup, 0, 1), ja(labelENOSYS))
		}
		if a == unix.AUDIT_ARCH_X86_64 {
			x64, has64 := abis[libseccomp.ArchAMD64]
			x32, has32 := abis[libseccomp.ArchX32]
			switch {
			case has64 && has32:
				// x32 calls carry the x32 bit: check them against the
				// x32 table, the others against x86_64's.
				sec = append(sec, jmp(bpfJsetK, x32Bit, 0, 3))
				sec = append(sec, checkNr(x32)...)
				sec = append(sec, checkNr(x64)...)
			case has64:
				sec = append(sec, jmp(bpfJsetK, x32Bit, 3, 0))
				sec = append(sec, checkNr(x64)...)
				sec = append(sec, ja(labelFilter))
			case has32:
				sec = append(sec, jmp(bpfJsetK, x32Bit, 0, 3))
				sec = append(sec, checkNr(x32)...)
				sec = append(sec, ja(labelFilter))
			}
		} else {
			for _, n := range abis {
				sec = append(sec, checkNr(n)...)
			}
		}
		prog = append(prog, sec...)
	}
	enosys := stmt(bpfRetK, retENOSYS)
	enosys.label = labelENOSYS
	prog = append(prog, enosys)

	// Resolve the labels: the filter starts right after the stub.
	at := map[string]int{labelFilter: len(prog)}
	for i, in := range prog {
		if in.label != "" {
			at[in.label] = i
		}
	}
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		if in.target != "" {
			t, ok := at[in.target]
			if !ok || t <= i {
				return nil, fmt.Errorf("seccomp ENOSYS stub: bad jump to %q", in.target)
			}
			in.f.K = uint32(t - i - 1)
		}
		out[i] = in.f
	}
	return out, nil
}

// exportBPF is libseccomp's program for the filter.
func exportBPF(f *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("hull-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: memfd: %w", err)
	}
	file := os.NewFile(uintptr(fd), "seccomp-bpf")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	raw, err := io.ReadAll(io.NewSectionReader(file, 0, 1<<24))
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	const size = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(raw) == 0 || len(raw)%size != 0 {
		return nil, fmt.Errorf("export seccomp filter: %d bytes is not a BPF program", len(raw))
	}
	prog := make([]unix.SockFilter, len(raw)/size)
	for i := range prog {
		b := raw[i*size:]
		prog[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		}
	}
	return prog, nil
}

// FilterFlags are the seccomp(2) flags the filter of profile s is loaded
// with, as runc computes them (NEW_LISTENER when a rule notifies), for the
// runtime's debug log.
func FilterFlags(s *specs.LinuxSeccomp) uint {
	notify := false
	for _, r := range s.Syscalls {
		notify = notify || r.Action == specs.ActNotify
	}
	return filterFlags(s, notify)
}

// filterFlags are the seccomp(2) flags for the profile, as runc's: TSYNC
// is not used (the filter is loaded by the thread that execs, and the
// process's other threads end with the execve), NEW_LISTENER when a
// notify rule made it into the filter.
func filterFlags(s *specs.LinuxSeccomp, notify bool) uint {
	var flags uint
	for _, f := range s.Flags {
		switch f {
		case specs.LinuxSeccompFlagLog:
			flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagWaitKillableRecv:
			flags |= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
		}
	}
	if notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	return flags
}

// program is the filter to load: libseccomp's, behind the ENOSYS stub
// when the profile gets one.
func program(s *specs.LinuxSeccomp, b *built) ([]unix.SockFilter, error) {
	prog, err := exportBPF(b.filter)
	if err != nil {
		return nil, err
	}
	if !needsStub(s) {
		return prog, nil
	}
	stub, err := enosysStub(lastSyscalls(s))
	if err != nil {
		return nil, err
	}
	full := append(stub, prog...)
	if len(full) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp filter: %d instructions with the ENOSYS stub, the kernel takes %d", len(full), unix.BPF_MAXINSNS)
	}
	return full, nil
}

// loadProgram installs prog in the calling thread. With NEW_LISTENER it
// returns the listener fd, otherwise -1.
func loadProgram(prog []unix.SockFilter, flags uint) (int, error) {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	fd := -1
	var err error
	if flags == 0 {
		err = unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0)
	} else {
		r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
		if errno != 0 {
			err = errno
		} else if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
			// The kernel makes it close-on-exec. No fcntl here: a
			// profile may notify fcntl, and no agent has the fd yet.
			fd = int(r)
		}
	}
	runtime.KeepAlive(prog)
	return fd, err
}
