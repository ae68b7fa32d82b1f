package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// libseccomp API levels (seccomp_api_get(3)) at which an action or flag
// becomes usable. libseccomp computes the level by probing the kernel, so
// it answers for both the library and the running kernel.
const (
	apiSeccompSyscall = 2 // seccomp(2) and SECCOMP_FILTER_FLAG_TSYNC
	apiLogKillProcess = 3 // SCMP_ACT_LOG, SCMP_ACT_KILL_PROCESS, FLAG_LOG
	// SCMP_ACT_NOTIFY needs 6, not 5: libseccomp-golang always sets TSYNC,
	// and a notifying filter can only be loaded with TSYNC once the kernel
	// has SECCOMP_FILTER_FLAG_TSYNC_ESRCH (level 6).
	apiNotify = 6
)

func apiLevel() uint {
	// An error means pre-2.4 libseccomp, which has no API levels: treat it
	// as level 0 so everything level-gated reads as unsupported.
	level, _ := libseccomp.GetAPI()
	return level
}

var archMap = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86:         libseccomp.ArchX86,
	specs.ArchX86_64:      libseccomp.ArchAMD64,
	specs.ArchX32:         libseccomp.ArchX32,
	specs.ArchARM:         libseccomp.ArchARM,
	specs.ArchAARCH64:     libseccomp.ArchARM64,
	specs.ArchMIPS:        libseccomp.ArchMIPS,
	specs.ArchMIPS64:      libseccomp.ArchMIPS64,
	specs.ArchMIPS64N32:   libseccomp.ArchMIPS64N32,
	specs.ArchMIPSEL:      libseccomp.ArchMIPSEL,
	specs.ArchMIPSEL64:    libseccomp.ArchMIPSEL64,
	specs.ArchMIPSEL64N32: libseccomp.ArchMIPSEL64N32,
	specs.ArchPPC:         libseccomp.ArchPPC,
	specs.ArchPPC64:       libseccomp.ArchPPC64,
	specs.ArchPPC64LE:     libseccomp.ArchPPC64LE,
	specs.ArchS390:        libseccomp.ArchS390,
	specs.ArchS390X:       libseccomp.ArchS390X,
	specs.ArchPARISC:      libseccomp.ArchPARISC,
	specs.ArchPARISC64:    libseccomp.ArchPARISC64,
	specs.ArchRISCV64:     libseccomp.ArchRISCV64,
	specs.ArchLOONGARCH64: libseccomp.ArchLOONGARCH64,
	specs.ArchM68K:        libseccomp.ArchM68K,
	specs.ArchSH:          libseccomp.ArchSH,
	specs.ArchSHEB:        libseccomp.ArchSHEB,
}

var opMap = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// takesErrno reports whether an action carries a return code: the spec
// lets errnoRet be set only for those and says to fail otherwise.
func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

// toAction converts a spec action (already checked to be known) to
// libseccomp's. ERRNO and TRACE without errnoRet return EPERM, as the
// spec and runc say. SCMP_ACT_KILL is the historical name of KILL_THREAD.
func toAction(a specs.LinuxSeccompAction, errnoRet *uint) libseccomp.ScmpAction {
	code := int16(unix.EPERM)
	if errnoRet != nil {
		// Range-checked against maxErrno by the caller; values above
		// 0x7fff wrap to negative int16 but keep their 16 bits, which is
		// all SECCOMP_RET_DATA holds.
		code = int16(uint16(*errnoRet))
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return libseccomp.ActKillThread
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess
	case specs.ActTrap:
		return libseccomp.ActTrap
	case specs.ActErrno:
		return libseccomp.ActErrno.SetReturnCode(code)
	case specs.ActTrace:
		return libseccomp.ActTrace.SetReturnCode(code)
	case specs.ActAllow:
		return libseccomp.ActAllow
	case specs.ActLog:
		return libseccomp.ActLog
	case specs.ActNotify:
		return libseccomp.ActNotify
	}
	return libseccomp.ActInvalid
}

// actionSupported says whether this libseccomp and kernel can use a known
// action; nil means yes.
func actionSupported(a specs.LinuxSeccompAction) error {
	var need uint
	switch a {
	case specs.ActLog, specs.ActKillProcess:
		need = apiLogKillProcess
	case specs.ActNotify:
		need = apiNotify
	default:
		return nil
	}
	if have := apiLevel(); have < need {
		maj, mnr, mic := libseccomp.GetLibraryVersion()
		return fmt.Errorf("needs libseccomp API level %d, have %d (libseccomp %d.%d.%d; the level also reflects the kernel)", need, have, maj, mnr, mic)
	}
	return nil
}

// setFlag applies a known flag to a filter. The setters fail (with a
// libseccomp VersionError or an errno from libseccomp's kernel probe) when
// the library or the kernel lacks the flag, which is what both Load and
// the support checks rely on.
func setFlag(f *libseccomp.ScmpFilter, flag specs.LinuxSeccompFlag) error {
	switch flag {
	case flagTsync:
		// libseccomp-golang turns TSYNC on in NewFilter whenever the
		// kernel has it, so every Go thread gets the filter; there is
		// nothing left to set, only to check.
		if have := apiLevel(); have < apiSeccompSyscall {
			return fmt.Errorf("needs libseccomp API level %d, have %d", apiSeccompSyscall, have)
		}
		return nil
	case specs.LinuxSeccompFlagLog:
		return f.SetLogBit(true)
	case specs.LinuxSeccompFlagSpecAllow:
		return f.SetSSB(true)
	case specs.LinuxSeccompFlagWaitKillableRecv:
		// Needs libseccomp >= 2.6 (API level 7) as well as Linux >= 5.19:
		// libseccomp-golang reports a VersionError naming both levels.
		// runc's wording, which callers (and runc's tests) match.
		if err := f.SetWaitKill(true); err != nil {
			return fmt.Errorf("error adding WaitKill flag to seccomp filter: %w", err)
		}
		return nil
	}
	return fmt.Errorf("unknown flag %q", flag)
}

// makeCondition converts one spec arg (already checked) to libseccomp's.
// For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the datum the
// masked argument must equal, which is libseccomp's order too.
func makeCondition(a specs.LinuxSeccompArg) (libseccomp.ScmpCondition, error) {
	return libseccomp.MakeCondition(a.Index, opMap[a.Op], a.Value, a.ValueTwo)
}
