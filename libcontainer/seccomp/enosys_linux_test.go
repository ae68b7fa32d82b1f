package seccomp

import (
	"fmt"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runc's ENOSYS stub: a syscall above every one the profile names gets
// ENOSYS, not the default action, so that a libc falls back from a
// syscall newer than the profile.
func TestLoadUnknownSyscallIsENOSYS(t *testing.T) {
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchX86_64},
		Syscalls:      []specs.LinuxSyscall{{Names: goRuntime, Action: specs.ActAllow}},
	}
	r := runChild(t, prof, "raw:1000", "getppid")
	r.mustExit0(t)
	r.expect(t, "raw:1000", fmt.Sprintf("errno:%d", unix.ENOSYS))
	// A known syscall the profile does not allow keeps the default action.
	r.expect(t, "getppid", fmt.Sprintf("errno:%d", unix.EPERM))
}

// No stub when the default action lets calls through, or already answers
// ENOSYS with another errno configured: the default action applies.
func TestLoadNoStubForPermissiveDefault(t *testing.T) {
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno}},
	}
	r := runChild(t, prof, "raw:1000")
	r.mustExit0(t)
	// The kernel itself answers an unknown syscall with ENOSYS.
	r.expect(t, "raw:1000", fmt.Sprintf("errno:%d", unix.ENOSYS))

	prof = &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uintp(uint(unix.ENXIO)),
		Syscalls:        []specs.LinuxSyscall{{Names: goRuntime, Action: specs.ActAllow}},
	}
	r = runChild(t, prof, "raw:1000", "getppid")
	r.mustExit0(t)
	r.expect(t, "raw:1000", fmt.Sprintf("errno:%d", unix.ENOSYS))
	r.expect(t, "getppid", fmt.Sprintf("errno:%d", unix.ENXIO))
}

func TestEnosysStubJumps(t *testing.T) {
	last := lastSyscalls(&specs.LinuxSeccomp{
		Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32, specs.ArchX86_64, specs.ArchAARCH64},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"read", "write", "openat"}, Action: specs.ActAllow}},
	})
	prog, err := enosysStub(last)
	if err != nil {
		t.Fatal(err)
	}
	// Every jump lands inside the stub or right after it (the filter).
	for i, in := range prog {
		switch in.Code {
		case bpfJa:
			if i+1+int(in.K) > len(prog) {
				t.Errorf("insn %d: ja %d leaves the program (%d insns)", i, in.K, len(prog))
			}
		case bpfJeqK, bpfJgtK, bpfJsetK:
			if i+1+int(in.Jt) > len(prog) || i+1+int(in.Jf) > len(prog) {
				t.Errorf("insn %d: jump %d/%d leaves the program", i, in.Jt, in.Jf)
			}
		}
	}
	if last := prog[len(prog)-1]; last.Code != bpfRetK || last.K != retENOSYS {
		t.Errorf("the stub does not end with ret ENOSYS: %+v", last)
	}
}

// runc's values for its "seccomp filter flags" debug line: TSYNC dropped,
// NEW_LISTENER added for a notify rule.
func TestFilterFlags(t *testing.T) {
	for _, tc := range []struct {
		flags  []specs.LinuxSeccompFlag
		notify bool
		want   uint
	}{
		{nil, false, 0},
		{[]specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog}, false, 2},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}, false, 4},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, true, 40},
	} {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: tc.flags,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
		if tc.notify {
			s.Syscalls[0].Action = specs.ActNotify
		}
		if got := FilterFlags(s); got != tc.want {
			t.Errorf("FilterFlags(%v, notify %v) = %d, want %d", tc.flags, tc.notify, got, tc.want)
		}
	}
}
