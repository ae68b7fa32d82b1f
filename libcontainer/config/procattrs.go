package config

import (
	"fmt"

	"github.com/hullrt/hull/libcontainer/internal/affinity"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var SchedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: unix.SCHED_NORMAL, specs.SchedFIFO: unix.SCHED_FIFO, specs.SchedRR: unix.SCHED_RR,
	specs.SchedBatch: unix.SCHED_BATCH, specs.SchedIdle: unix.SCHED_IDLE, specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var SchedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10,
	specs.SchedFlagUtilClampMin: 0x20, specs.SchedFlagUtilClampMax: 0x40,
}

var IOPrioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

var MemPolicyModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault: 0, specs.MpolPreferred: 1, specs.MpolBind: 2, specs.MpolInterleave: 3,
	specs.MpolLocal: 4, specs.MpolPreferredMany: 5, specs.MpolWeightedInterleave: 6,
}

var MemPolicyFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFStaticNodes: 1 << 15, specs.MpolFRelativeNodes: 1 << 14, specs.MpolFNumaBalancing: 1 << 13,
}

func validateProcAttrs(s *specs.Spec) error {
	p := s.Process
	if sc := p.Scheduler; sc != nil {
		pol, ok := SchedPolicies[sc.Policy]
		if !ok {
			return FieldErr("process.scheduler.policy", "unknown policy %q", sc.Policy)
		}
		for i, f := range sc.Flags {
			if _, ok := SchedFlags[f]; !ok {
				return FieldErr(fmt.Sprintf("process.scheduler.flags[%d]", i), "unknown flag %q", f)
			}
		}
		if sc.Nice < -20 || sc.Nice > 19 {
			return FieldErr("process.scheduler.nice", "%d is outside -20..19", sc.Nice)
		}
		rt := pol == unix.SCHED_FIFO || pol == unix.SCHED_RR
		if rt && (sc.Priority < 1 || sc.Priority > 99) {
			return FieldErr("process.scheduler.priority", "%s needs a priority in 1..99, got %d", sc.Policy, sc.Priority)
		}
		if !rt && sc.Priority != 0 {
			return FieldErr("process.scheduler.priority", "must be 0 for %s, got %d", sc.Policy, sc.Priority)
		}
		if pol == unix.SCHED_DEADLINE && (sc.Runtime == 0 || sc.Runtime > sc.Deadline || (sc.Period != 0 && sc.Deadline > sc.Period)) {
			return FieldErr("process.scheduler", "SCHED_DEADLINE needs 0 < runtime <= deadline <= period")
		}
	}
	if io := p.IOPriority; io != nil {
		if _, ok := IOPrioClasses[io.Class]; !ok {
			return FieldErr("process.ioPriority.class", "unknown class %q", io.Class)
		}
		if io.Priority < 0 || io.Priority > 7 {
			return FieldErr("process.ioPriority.priority", "%d is outside 0..7", io.Priority)
		}
	}
	if a := p.ExecCPUAffinity; a != nil {
		if _, err := affinity.ParseCPUList(a.Initial); a.Initial != "" && err != nil {
			return FieldErr("process.execCPUAffinity.initial", "%v", err)
		}
		if _, err := affinity.ParseCPUList(a.Final); a.Final != "" && err != nil {
			return FieldErr("process.execCPUAffinity.final", "%v", err)
		}
	}
	if s.Linux == nil {
		return nil
	}
	if per := s.Linux.Personality; per != nil {
		if per.Domain != specs.PerLinux && per.Domain != specs.PerLinux32 {
			return FieldErr("linux.personality.domain", "unknown domain %q (want LINUX or LINUX32)", per.Domain)
		}
		if len(per.Flags) > 0 {
			return FieldErr("linux.personality.flags", "no personality flags are defined, got %v", per.Flags)
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
	mode, ok := MemPolicyModes[mp.Mode]
	if !ok {
		return FieldErr("linux.memoryPolicy.mode", "invalid memory policy mode %q", mp.Mode)
	}
	var nodes []int
	if mp.Nodes != "" {
		var err error
		if nodes, err = affinity.ParseCPUList(mp.Nodes); err != nil {
			return FieldErr("linux.memoryPolicy.nodes", "invalid memory policy nodes %q: %v", mp.Nodes, err)
		}
	}
	for i, f := range mp.Flags {
		if _, ok := MemPolicyFlags[f]; !ok {
			return FieldErr(fmt.Sprintf("linux.memoryPolicy.flags[%d]", i), "invalid memory policy flag %q", f)
		}
	}
	switch mode {
	case 0, 4: // MPOL_DEFAULT, MPOL_LOCAL
		if len(nodes) != 0 {
			return FieldErr("linux.memoryPolicy.nodes", "memory policy mode requires 0 nodes but got %d", len(nodes))
		}
	case 2, 3, 5, 6: // MPOL_BIND, MPOL_INTERLEAVE, MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE
		if len(nodes) == 0 {
			return FieldErr("linux.memoryPolicy.nodes", "memory policy mode requires at least one node but got 0")
		}
	}
	return nil
}
