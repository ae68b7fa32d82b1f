package seccomp

import (
	"errors"
	"fmt"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Load builds the profile's filter and installs it in the calling process:
// Compile, then Program.Load.
func Load(s *specs.LinuxSeccomp) (notifyFd int, err error) {
	p, err := Compile(s)
	if err != nil || p == nil {
		return -1, err
	}
	return p.Load()
}

// Program is a profile compiled to the BPF program the kernel takes,
// ready to be installed.
type Program struct {
	prog  []unix.SockFilter
	flags uint
}

// Filter returns the BPF program and the flags for seccomp(2), for a
// caller that loads it without this package (the init's plan, in C).
func (p *Program) Filter() ([]unix.SockFilter, uint) { return p.prog, p.flags }

// Compile checks the profile and compiles it (libseccomp, behind runc's
// ENOSYS stub: see enosys_linux.go); nil for no profile. It is separate
// from Load so that the init compiles while nothing limits it: libseccomp
// allocates, and the process's rlimits (RLIMIT_AS) may leave no room for
// that by the time the filter is installed.
func Compile(s *specs.LinuxSeccomp) (*Program, error) {
	if s == nil {
		return nil, nil
	}
	if err := check(s); err != nil {
		return nil, err
	}
	b, err := build(s)
	if err != nil {
		return nil, err
	}
	defer b.filter.Release()
	prog, err := program(s, b)
	if err != nil {
		return nil, err
	}
	return &Program{prog: prog, flags: filterFlags(s, b.notify)}, nil
}

// Load installs the program in the calling thread. It is meant to be the
// last step of the container init before execve, on the locked OS thread,
// the one that execs: nothing after it may need a syscall the profile
// denies. The filter is loaded without forcing no_new_privs (the runtime
// sets that from process.noNewPrivileges), so the caller must either have
// set no_new_privs already or still hold CAP_SYS_ADMIN.
//
// When a rule that was actually added uses SCMP_ACT_NOTIFY, Load returns
// the listener fd (close-on-exec, owned by the caller), which the caller
// sends to the agent; otherwise it returns -1. Unknown syscall names are
// skipped, as Validate reports.
func (p *Program) Load() (notifyFd int, err error) {
	fd, err := loadProgram(p.prog, p.flags)
	if err != nil {
		if errors.Is(err, syscall.EACCES) {
			// The kernel's answer to an unprivileged load without
			// no_new_privs; say so, since the errno alone is cryptic.
			return -1, fmt.Errorf("load seccomp filter: %w (no_new_privs is not set and the process lacks CAP_SYS_ADMIN)", err)
		}
		return -1, fmt.Errorf("load seccomp filter: %w", err)
	}
	return fd, nil
}

type built struct {
	filter  *libseccomp.ScmpFilter
	skipped []SkippedSyscall
	notify  bool // some SCMP_ACT_NOTIFY rule made it into the filter
}

// optimizeAbove is the number of syscall names from which the
// binary-tree layout is used. runc's choice: libseccomp <= 2.5.4
// misbehaves with the tree and no rules, and the tree only pays off for
// long profiles.
const optimizeAbove = 32

// build turns a checked profile into a libseccomp filter context, not yet
// loaded. The caller releases it.
func build(s *specs.LinuxSeccomp) (_ *built, retErr error) {
	defAct := toAction(s.DefaultAction, s.DefaultErrnoRet)
	f, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, pathErr(root+".defaultAction", "create filter with %s: %w", s.DefaultAction, err)
	}
	defer func() {
		if retErr != nil {
			f.Release()
		}
	}()

	// The native architecture is in every new filter; AddArch of it again
	// is a no-op, so the list can name it or not.
	for i, a := range s.Architectures {
		if err := addArch(f, a); err != nil {
			return nil, unsupported(fmt.Sprintf("%s.architectures[%d]", root, i), fmt.Sprintf("architecture %s", a), err)
		}
	}
	for i, flag := range s.Flags {
		if err := setFlag(f, flag); err != nil {
			return nil, unsupported(fmt.Sprintf("%s.flags[%d]", root, i), fmt.Sprintf("flag %s", flag), err)
		}
	}
	rules := 0
	for _, r := range s.Syscalls {
		rules += len(r.Names)
	}
	if rules > optimizeAbove {
		// Only a speed-up, and older libseccomp lacks it: not fatal.
		_ = f.SetOptimize(2)
	}
	// libseccomp sets no_new_privs on load by default; hull decides that
	// from process.noNewPrivileges instead, as runc does.
	if err := f.SetNoNewPrivsBit(false); err != nil {
		return nil, fmt.Errorf("seccomp: clear libseccomp's no_new_privs attribute: %w", err)
	}

	b := &built{filter: f}
	for i := range s.Syscalls {
		if err := b.addRule(i, &s.Syscalls[i], defAct); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *built) addRule(i int, r *specs.LinuxSyscall, defAct libseccomp.ScmpAction) error {
	act := toAction(r.Action, r.ErrnoRet)
	condSets, err := conditionSets(i, r.Args)
	if err != nil {
		return err
	}
	for j, name := range r.Names {
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			// Not known to this libseccomp on any architecture: most
			// likely newer than it. runc skips these too.
			b.skipped = append(b.skipped, SkippedSyscall{Path: namePath(i, j), Name: name})
			continue
		}
		if act == defAct {
			// Redundant with the default action, which libseccomp refuses
			// as a rule; skipping it changes nothing (runc does the same).
			continue
		}
		for _, conds := range condSets {
			if len(conds) == 0 {
				err = b.filter.AddRule(nr, act)
			} else {
				err = b.filter.AddRuleConditional(nr, act, conds)
			}
			if err != nil {
				return pathErr(namePath(i, j), "add %s rule for %q: %w", r.Action, name, err)
			}
		}
		if r.Action == specs.ActNotify {
			b.notify = true
		}
	}
	return nil
}

// conditionSets returns the condition lists to add, one rule each.
//
// libseccomp ANDs the conditions of one rule and refuses two conditions
// on the same argument ("two checks on same syscall argument"). runc's
// answer, matched here so that profiles behave the same: if any argument
// index repeats, every condition of the entry becomes a rule of its own,
// so the entry matches when any one of its conditions holds (OR instead of
// AND). Otherwise all conditions go in one rule and must all hold. No args
// gives one unconditional rule.
func conditionSets(i int, args []specs.LinuxSeccompArg) ([][]libseccomp.ScmpCondition, error) {
	if len(args) == 0 {
		return [][]libseccomp.ScmpCondition{nil}, nil
	}
	var counts [maxArgs]int
	conds := make([]libseccomp.ScmpCondition, 0, len(args))
	repeated := false
	for k, a := range args {
		c, err := makeCondition(a)
		if err != nil {
			return nil, pathErr(argPath(i, k), "%w", err)
		}
		counts[a.Index]++
		repeated = repeated || counts[a.Index] > 1
		conds = append(conds, c)
	}
	if !repeated {
		return [][]libseccomp.ScmpCondition{conds}, nil
	}
	sets := make([][]libseccomp.ScmpCondition, len(conds))
	for k := range conds {
		sets[k] = conds[k : k+1]
	}
	return sets, nil
}

// addArch adds an architecture, explaining libseccomp's one refusal that
// is not about the library's version: all architectures of a filter must
// share the native one's byte order (EDOM), so e.g. s390x can never join
// an x86_64 filter.
func addArch(f *libseccomp.ScmpFilter, a specs.Arch) error {
	err := f.AddArch(archMap[a])
	if errors.Is(err, syscall.EDOM) {
		native := "the native architecture"
		if n, nerr := libseccomp.GetNativeArch(); nerr == nil {
			native = n.String()
		}
		return fmt.Errorf("its byte order differs from %s and libseccomp cannot mix byte orders in one filter: %w", native, err)
	}
	return err
}
