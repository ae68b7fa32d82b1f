package libcontainer

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Process attributes beyond credentials: scheduler, I/O priority,
// personality, NUMA memory policy and CPU affinity. Validated in the parent
// (errors name the JSON path), applied in the init before execve while it
// still has the capabilities they may need.

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: unix.SCHED_NORMAL, specs.SchedFIFO: unix.SCHED_FIFO, specs.SchedRR: unix.SCHED_RR,
	specs.SchedBatch: unix.SCHED_BATCH, specs.SchedIdle: unix.SCHED_IDLE, specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10,
	specs.SchedFlagUtilClampMin: 0x20, specs.SchedFlagUtilClampMax: 0x40,
}

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

var mpolModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault: 0, specs.MpolPreferred: 1, specs.MpolBind: 2, specs.MpolInterleave: 3,
	specs.MpolLocal: 4, specs.MpolPreferredMany: 5, specs.MpolWeightedInterleave: 6,
}

var mpolFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFStaticNodes: 1 << 15, specs.MpolFRelativeNodes: 1 << 14, specs.MpolFNumaBalancing: 1 << 13,
}

func validateProcAttrs(s *specs.Spec) error {
	p := s.Process
	if sc := p.Scheduler; sc != nil {
		pol, ok := schedPolicies[sc.Policy]
		if !ok {
			return fieldErr("process.scheduler.policy", "unknown policy %q", sc.Policy)
		}
		for i, f := range sc.Flags {
			if _, ok := schedFlags[f]; !ok {
				return fieldErr(fmt.Sprintf("process.scheduler.flags[%d]", i), "unknown flag %q", f)
			}
		}
		if sc.Nice < -20 || sc.Nice > 19 {
			return fieldErr("process.scheduler.nice", "%d is outside -20..19", sc.Nice)
		}
		rt := pol == unix.SCHED_FIFO || pol == unix.SCHED_RR
		if rt && (sc.Priority < 1 || sc.Priority > 99) {
			return fieldErr("process.scheduler.priority", "%s needs a priority in 1..99, got %d", sc.Policy, sc.Priority)
		}
		if !rt && sc.Priority != 0 {
			return fieldErr("process.scheduler.priority", "must be 0 for %s, got %d", sc.Policy, sc.Priority)
		}
		if pol == unix.SCHED_DEADLINE && (sc.Runtime == 0 || sc.Runtime > sc.Deadline || (sc.Period != 0 && sc.Deadline > sc.Period)) {
			return fieldErr("process.scheduler", "SCHED_DEADLINE needs 0 < runtime <= deadline <= period")
		}
	}
	if io := p.IOPriority; io != nil {
		if _, ok := ioprioClasses[io.Class]; !ok {
			return fieldErr("process.ioPriority.class", "unknown class %q", io.Class)
		}
		if io.Priority < 0 || io.Priority > 7 {
			return fieldErr("process.ioPriority.priority", "%d is outside 0..7", io.Priority)
		}
	}
	if a := p.ExecCPUAffinity; a != nil {
		if _, err := parseCPUList(a.Initial); a.Initial != "" && err != nil {
			return fieldErr("process.execCPUAffinity.initial", "%v", err)
		}
		if _, err := parseCPUList(a.Final); a.Final != "" && err != nil {
			return fieldErr("process.execCPUAffinity.final", "%v", err)
		}
	}
	if s.Linux == nil {
		return nil
	}
	if per := s.Linux.Personality; per != nil {
		if per.Domain != specs.PerLinux && per.Domain != specs.PerLinux32 {
			return fieldErr("linux.personality.domain", "unknown domain %q (want LINUX or LINUX32)", per.Domain)
		}
		if len(per.Flags) > 0 {
			return fieldErr("linux.personality.flags", "no personality flags are defined, got %v", per.Flags)
		}
	}
	if mp := s.Linux.MemoryPolicy; mp != nil {
		return validateMemoryPolicy(mp)
	}
	return nil
}

// validateMemoryPolicy checks linux.memoryPolicy with runc's error texts
// ("invalid memory policy ...", "memory policy mode requires ..."), which
// its tests match.
func validateMemoryPolicy(mp *specs.LinuxMemoryPolicy) error {
	mode, ok := mpolModes[mp.Mode]
	if !ok {
		return fieldErr("linux.memoryPolicy.mode", "invalid memory policy mode %q", mp.Mode)
	}
	var nodes []int
	if mp.Nodes != "" {
		var err error
		if nodes, err = parseCPUList(mp.Nodes); err != nil {
			return fieldErr("linux.memoryPolicy.nodes", "invalid memory policy nodes %q: %v", mp.Nodes, err)
		}
	}
	for i, f := range mp.Flags {
		if _, ok := mpolFlags[f]; !ok {
			return fieldErr(fmt.Sprintf("linux.memoryPolicy.flags[%d]", i), "invalid memory policy flag %q", f)
		}
	}
	switch mode {
	case 0, 4: // MPOL_DEFAULT, MPOL_LOCAL
		if len(nodes) != 0 {
			return fieldErr("linux.memoryPolicy.nodes", "memory policy mode requires 0 nodes but got %d", len(nodes))
		}
	case 2, 3, 5, 6: // MPOL_BIND, MPOL_INTERLEAVE, MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE
		if len(nodes) == 0 {
			return fieldErr("linux.memoryPolicy.nodes", "memory policy mode requires at least one node but got 0")
		}
	}
	return nil
}

// parseCPUList reads "0-3,5,7-8" (the kernel's list format).
func parseCPUList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q in %q", part, s)
			}
		}
		if b > 8191 {
			return nil, fmt.Errorf("%d is too large in %q", b, s)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

func setAffinity(list string) error {
	cpus, err := parseCPUList(list)
	if err != nil {
		return err
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("set cpu affinity %q: %w", list, err)
	}
	return nil
}

// resetAffinity allows every CPU the kernel may ever have, as runc does
// for a new process once it is in its cgroup: the process does not keep
// the runtime's own affinity (taskset hull ...), and the kernel narrows
// the mask to the cgroup's cpuset while remembering the request for a
// later cpuset change. A failure only leaves the inherited mask.
func resetAffinity() {
	const maxCPUs = 64 * 1024
	mask := make([]byte, maxCPUs/8)
	for i := range mask {
		mask[i] = 0xff
	}
	unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, 0, uintptr(len(mask)), uintptr(unsafe.Pointer(&mask[0])))
}

// setupAffinity runs in the new process once it is in the container's
// cgroups: the init's affinity is reset; an exec'd process's too unless
// process.execCPUAffinity is set, and then it gets its final mask (its
// initial one it inherited from the thread that cloned it).
func setupAffinity(p *specs.Process, exec bool) error {
	a := p.ExecCPUAffinity
	if !exec || a == nil || (a.Initial == "" && a.Final == "") {
		resetAffinity()
		return nil
	}
	if a.Final != "" {
		return setAffinity(a.Final)
	}
	return nil
}

// withInitialAffinity runs start on a thread of its own whose affinity is
// process.execCPUAffinity.initial, so that the process it clones starts
// with that mask, before it joins the container's cgroup (runc's
// semantics). The thread is not reused afterwards: the goroutine ends
// locked to it, and Go ends the thread with it.
func withInitialAffinity(p *specs.Process, start func() (int, error)) (int, error) {
	a := p.ExecCPUAffinity
	if a == nil || a.Initial == "" {
		return start()
	}
	type result struct {
		pid int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := setAffinity(a.Initial); err != nil {
			ch <- result{-1, fmt.Errorf("process.execCPUAffinity.initial: %w", err)}
			return
		}
		pid, err := start()
		ch <- result{pid, err}
	}()
	r := <-ch
	return r.pid, r.err
}

// applyProcAttrs runs in the init, before the user switch.
func applyProcAttrs(s *specs.Spec) error {
	p := s.Process
	if sc := p.Scheduler; sc != nil {
		attr := &unix.SchedAttr{
			Size: unix.SizeofSchedAttr, Policy: schedPolicies[sc.Policy], Nice: sc.Nice,
			Priority: uint32(sc.Priority), Runtime: sc.Runtime, Deadline: sc.Deadline, Period: sc.Period,
		}
		for _, f := range sc.Flags {
			attr.Flags |= schedFlags[f]
		}
		if err := unix.SchedSetAttr(0, attr, 0); err != nil {
			// sched_setattr(2): EPERM when the affinity mask does not hold
			// every CPU; runc names the cause.
			if errors.Is(err, unix.EPERM) && s.Linux != nil && s.Linux.Resources != nil &&
				s.Linux.Resources.CPU != nil && s.Linux.Resources.CPU.Cpus != "" {
				return fmt.Errorf("process.scheduler: process scheduler can't be used together with AllowedCPUs: %w", err)
			}
			return fmt.Errorf("process.scheduler: sched_setattr: %w", err)
		}
	}
	if io := p.IOPriority; io != nil {
		const ioprioWhoProcess = 1
		prio := ioprioClasses[io.Class]<<13 | io.Priority
		if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(prio)); e != 0 {
			return fmt.Errorf("process.ioPriority: ioprio_set: %w", e)
		}
	}
	if s.Linux == nil {
		return nil
	}
	if per := s.Linux.Personality; per != nil {
		dom := uintptr(0) // PER_LINUX
		if per.Domain == specs.PerLinux32 {
			dom = 0x0008 // PER_LINUX32
		}
		if _, _, e := unix.Syscall(unix.SYS_PERSONALITY, dom, 0, 0); e != 0 {
			return fmt.Errorf("linux.personality: %w", e)
		}
	}
	if mp := s.Linux.MemoryPolicy; mp != nil {
		mode := mpolModes[mp.Mode]
		for _, f := range mp.Flags {
			mode |= mpolFlags[f]
		}
		var mask [128]uint64 // 8192 nodes
		maxnode := 0
		if mp.Nodes != "" {
			nodes, _ := parseCPUList(mp.Nodes)
			for _, n := range nodes {
				mask[n/64] |= 1 << (uint(n) % 64)
				if n+2 > maxnode {
					maxnode = n + 2
				}
			}
		}
		var mptr uintptr
		if maxnode > 0 {
			mptr = uintptr(unsafe.Pointer(&mask[0]))
		}
		if _, _, e := unix.Syscall(unix.SYS_SET_MEMPOLICY, uintptr(mode), mptr, uintptr(maxnode)); e != 0 {
			return fmt.Errorf("linux.memoryPolicy: set_mempolicy: %w", e)
		}
	}
	return nil
}
