package seccomp

import specs "github.com/opencontainers/runtime-spec/specs-go"

// flagTsync is in the runtime-spec's list of seccomp flags but has no
// constant in specs-go, so it is spelled out here.
const flagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

// The lists below are the names the runtime-spec defines, in the order the
// spec lists them. They are what Validate accepts as well-formed; whether
// the host can honour each one is decided separately (see Features).

var knownActions = []specs.LinuxSeccompAction{
	specs.ActKill,
	specs.ActKillProcess,
	specs.ActKillThread,
	specs.ActTrap,
	specs.ActErrno,
	specs.ActTrace,
	specs.ActAllow,
	specs.ActLog,
	specs.ActNotify,
}

var knownOperators = []specs.LinuxSeccompOperator{
	specs.OpNotEqual,
	specs.OpLessThan,
	specs.OpLessEqual,
	specs.OpEqualTo,
	specs.OpGreaterEqual,
	specs.OpGreaterThan,
	specs.OpMaskedEqual,
}

var knownFlags = []specs.LinuxSeccompFlag{
	flagTsync,
	specs.LinuxSeccompFlagLog,
	specs.LinuxSeccompFlagSpecAllow,
	specs.LinuxSeccompFlagWaitKillableRecv,
}

var knownArchs = []specs.Arch{
	specs.ArchX86,
	specs.ArchX86_64,
	specs.ArchX32,
	specs.ArchARM,
	specs.ArchAARCH64,
	specs.ArchMIPS,
	specs.ArchMIPS64,
	specs.ArchMIPS64N32,
	specs.ArchMIPSEL,
	specs.ArchMIPSEL64,
	specs.ArchMIPSEL64N32,
	specs.ArchPPC,
	specs.ArchPPC64,
	specs.ArchPPC64LE,
	specs.ArchS390,
	specs.ArchS390X,
	specs.ArchPARISC,
	specs.ArchPARISC64,
	specs.ArchRISCV64,
	specs.ArchLOONGARCH64,
	specs.ArchM68K,
	specs.ArchSH,
	specs.ArchSHEB,
}

// maxArgs is the number of syscall arguments seccomp can inspect
// (struct seccomp_data has args[6]).
const maxArgs = 6

// maxErrno is the largest value that fits the 16-bit SECCOMP_RET_DATA
// field; libseccomp would silently truncate anything larger, turning a
// typo into a different errno.
const maxErrno = 0xffff

// notifyForbidden lists syscalls that may not use SCMP_ACT_NOTIFY. As in
// runc: after Load the init still has to write to its parent to hand the
// listener fd over; if write itself waited for the agent, which only gets
// the fd after that write, the container would hang forever.
var notifyForbidden = map[string]bool{"write": true}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
