package initproc

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/affinity"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Process attributes beyond credentials: scheduler, I/O priority,
// personality, NUMA memory policy and CPU affinity. Validated in the parent
// (errors name the JSON path), applied in the init before execve while it
// still has the capabilities they may need.

// setupAffinity runs in the new process once it is in the container's
// cgroups: the init's affinity is reset; an exec'd process's too unless
// process.execCPUAffinity is set, and then it gets its final mask (its
// initial one it inherited from the thread that cloned it).
func setupAffinity(p *specs.Process, exec bool) error {
	a := p.ExecCPUAffinity
	if !exec || a == nil || (a.Initial == "" && a.Final == "") {
		affinity.Reset()
		return nil
	}
	if a.Final != "" {
		return affinity.Set(a.Final)
	}
	return nil
}

// applyProcAttrs runs in the init, before the user switch.
func applyProcAttrs(s *specs.Spec) error {
	p := s.Process
	if sc := p.Scheduler; sc != nil {
		attr := &unix.SchedAttr{
			Size: unix.SizeofSchedAttr, Policy: config.SchedPolicies[sc.Policy], Nice: sc.Nice,
			Priority: uint32(sc.Priority), Runtime: sc.Runtime, Deadline: sc.Deadline, Period: sc.Period,
		}
		for _, f := range sc.Flags {
			attr.Flags |= config.SchedFlags[f]
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
		prio := config.IOPrioClasses[io.Class]<<13 | io.Priority
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
		mode := config.MemPolicyModes[mp.Mode]
		for _, f := range mp.Flags {
			mode |= config.MemPolicyFlags[f]
		}
		var mask [128]uint64 // 8192 nodes
		maxnode := 0
		if mp.Nodes != "" {
			nodes, _ := affinity.ParseCPUList(mp.Nodes)
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
