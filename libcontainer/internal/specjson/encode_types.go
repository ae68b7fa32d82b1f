package specjson

import (
	"io/fs"

	jl "github.com/hullrt/hull/libcontainer/internal/jsonlite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The spec's types for Encode, field by field in the order and with the
// omitempty of their json tags (runtime-spec v1.3.0).

func encSpec(e *jl.Enc, s *specs.Spec) {
	w := e.Open()
	jl.S(e, "ociVersion", s.Version)
	jl.OP(e, "process", s.Process, eProcess)
	jl.OP(e, "root", s.Root, func(e *jl.Enc, r *specs.Root) {
		w := e.Open()
		jl.S(e, "path", r.Path)
		jl.OB(e, "readonly", r.Readonly)
		e.Close(w)
	})
	jl.OS(e, "hostname", s.Hostname)
	jl.OS(e, "domainname", s.Domainname)
	jl.OA(e, "mounts", s.Mounts, eMount)
	jl.OP(e, "hooks", s.Hooks, eHooks)
	jl.OM(e, "annotations", s.Annotations, jl.VS[string])
	jl.OP(e, "linux", s.Linux, eLinux)
	e.Close(w)
}

func eProcess(e *jl.Enc, p *specs.Process) {
	w := e.Open()
	jl.OB(e, "terminal", p.Terminal)
	jl.OP(e, "consoleSize", p.ConsoleSize, func(e *jl.Enc, b *specs.Box) {
		w := e.Open()
		jl.U(e, "height", b.Height)
		jl.U(e, "width", b.Width)
		e.Close(w)
	})
	e.Key("user")
	eUser(e, &p.User)
	jl.OStrs(e, "args", p.Args)
	jl.OS(e, "commandLine", p.CommandLine)
	jl.OStrs(e, "env", p.Env)
	jl.S(e, "cwd", p.Cwd)
	jl.OP(e, "capabilities", p.Capabilities, func(e *jl.Enc, c *specs.LinuxCapabilities) {
		w := e.Open()
		jl.OStrs(e, "bounding", c.Bounding)
		jl.OStrs(e, "effective", c.Effective)
		jl.OStrs(e, "inheritable", c.Inheritable)
		jl.OStrs(e, "permitted", c.Permitted)
		jl.OStrs(e, "ambient", c.Ambient)
		e.Close(w)
	})
	jl.OA(e, "rlimits", p.Rlimits, func(e *jl.Enc, r *specs.POSIXRlimit) {
		w := e.Open()
		jl.S(e, "type", r.Type)
		jl.U(e, "hard", r.Hard)
		jl.U(e, "soft", r.Soft)
		e.Close(w)
	})
	jl.OB(e, "noNewPrivileges", p.NoNewPrivileges)
	jl.OS(e, "apparmorProfile", p.ApparmorProfile)
	jl.OP(e, "oomScoreAdj", p.OOMScoreAdj, jl.VI[int])
	jl.OP(e, "scheduler", p.Scheduler, func(e *jl.Enc, s *specs.Scheduler) {
		w := e.Open()
		jl.S(e, "policy", s.Policy)
		jl.OI(e, "nice", s.Nice)
		jl.OI(e, "priority", s.Priority)
		jl.OA(e, "flags", s.Flags, jl.VS[specs.LinuxSchedulerFlag])
		jl.OU(e, "runtime", s.Runtime)
		jl.OU(e, "deadline", s.Deadline)
		jl.OU(e, "period", s.Period)
		e.Close(w)
	})
	jl.OS(e, "selinuxLabel", p.SelinuxLabel)
	jl.OP(e, "ioPriority", p.IOPriority, func(e *jl.Enc, io *specs.LinuxIOPriority) {
		w := e.Open()
		jl.S(e, "class", io.Class)
		jl.I(e, "priority", io.Priority)
		e.Close(w)
	})
	jl.OP(e, "execCPUAffinity", p.ExecCPUAffinity, func(e *jl.Enc, a *specs.CPUAffinity) {
		w := e.Open()
		jl.OS(e, "initial", a.Initial)
		jl.OS(e, "final", a.Final)
		e.Close(w)
	})
	e.Close(w)
}

func eUser(e *jl.Enc, u *specs.User) {
	w := e.Open()
	jl.U(e, "uid", u.UID)
	jl.U(e, "gid", u.GID)
	jl.OP(e, "umask", u.Umask, jl.VU[uint32])
	jl.OA(e, "additionalGids", u.AdditionalGids, jl.VU[uint32])
	jl.OS(e, "username", u.Username)
	e.Close(w)
}

func eMount(e *jl.Enc, m *specs.Mount) {
	w := e.Open()
	jl.S(e, "destination", m.Destination)
	jl.OS(e, "type", m.Type)
	jl.OS(e, "source", m.Source)
	jl.OStrs(e, "options", m.Options)
	jl.OA(e, "uidMappings", m.UIDMappings, eIDMap)
	jl.OA(e, "gidMappings", m.GIDMappings, eIDMap)
	e.Close(w)
}

func eIDMap(e *jl.Enc, m *specs.LinuxIDMapping) {
	w := e.Open()
	jl.U(e, "containerID", m.ContainerID)
	jl.U(e, "hostID", m.HostID)
	jl.U(e, "size", m.Size)
	e.Close(w)
}

func eHooks(e *jl.Enc, h *specs.Hooks) {
	w := e.Open()
	jl.OA(e, "prestart", h.Prestart, eHook)
	jl.OA(e, "createRuntime", h.CreateRuntime, eHook)
	jl.OA(e, "createContainer", h.CreateContainer, eHook)
	jl.OA(e, "startContainer", h.StartContainer, eHook)
	jl.OA(e, "poststart", h.Poststart, eHook)
	jl.OA(e, "poststop", h.Poststop, eHook)
	e.Close(w)
}

func eHook(e *jl.Enc, h *specs.Hook) {
	w := e.Open()
	jl.S(e, "path", h.Path)
	jl.OStrs(e, "args", h.Args)
	jl.OStrs(e, "env", h.Env)
	jl.OP(e, "timeout", h.Timeout, jl.VI[int])
	e.Close(w)
}

func eLinux(e *jl.Enc, l *specs.Linux) {
	w := e.Open()
	jl.OA(e, "uidMappings", l.UIDMappings, eIDMap)
	jl.OA(e, "gidMappings", l.GIDMappings, eIDMap)
	jl.OM(e, "sysctl", l.Sysctl, jl.VS[string])
	jl.OP(e, "resources", l.Resources, eResources)
	jl.OS(e, "cgroupsPath", l.CgroupsPath)
	jl.OA(e, "namespaces", l.Namespaces, func(e *jl.Enc, n *specs.LinuxNamespace) {
		w := e.Open()
		jl.S(e, "type", n.Type)
		jl.OS(e, "path", n.Path)
		e.Close(w)
	})
	jl.OA(e, "devices", l.Devices, func(e *jl.Enc, d *specs.LinuxDevice) {
		w := e.Open()
		jl.S(e, "path", d.Path)
		jl.S(e, "type", d.Type)
		jl.I(e, "major", d.Major)
		jl.I(e, "minor", d.Minor)
		jl.OP(e, "fileMode", d.FileMode, jl.VU[fs.FileMode])
		jl.OP(e, "uid", d.UID, jl.VU[uint32])
		jl.OP(e, "gid", d.GID, jl.VU[uint32])
		e.Close(w)
	})
	jl.OM(e, "netDevices", l.NetDevices, func(e *jl.Enc, n *specs.LinuxNetDevice) {
		w := e.Open()
		jl.OS(e, "name", n.Name)
		e.Close(w)
	})
	jl.OP(e, "seccomp", l.Seccomp, eSeccomp)
	jl.OS(e, "rootfsPropagation", l.RootfsPropagation)
	jl.OStrs(e, "maskedPaths", l.MaskedPaths)
	jl.OStrs(e, "readonlyPaths", l.ReadonlyPaths)
	jl.OS(e, "mountLabel", l.MountLabel)
	jl.OP(e, "intelRdt", l.IntelRdt, func(e *jl.Enc, r *specs.LinuxIntelRdt) {
		w := e.Open()
		jl.OS(e, "closID", r.ClosID)
		jl.OStrs(e, "schemata", r.Schemata)
		jl.OS(e, "l3CacheSchema", r.L3CacheSchema)
		jl.OS(e, "memBwSchema", r.MemBwSchema)
		jl.OB(e, "enableMonitoring", r.EnableMonitoring)
		e.Close(w)
	})
	jl.OP(e, "memoryPolicy", l.MemoryPolicy, func(e *jl.Enc, m *specs.LinuxMemoryPolicy) {
		w := e.Open()
		jl.S(e, "mode", m.Mode)
		jl.S(e, "nodes", m.Nodes)
		jl.OA(e, "flags", m.Flags, jl.VS[specs.MemoryPolicyFlagType])
		e.Close(w)
	})
	jl.OP(e, "personality", l.Personality, func(e *jl.Enc, p *specs.LinuxPersonality) {
		w := e.Open()
		jl.S(e, "domain", p.Domain)
		jl.OA(e, "flags", p.Flags, jl.VS[specs.LinuxPersonalityFlag])
		e.Close(w)
	})
	jl.OM(e, "timeOffsets", l.TimeOffsets, func(e *jl.Enc, t *specs.LinuxTimeOffset) {
		w := e.Open()
		jl.OI(e, "secs", t.Secs)
		jl.OU(e, "nanosecs", t.Nanosecs)
		e.Close(w)
	})
	e.Close(w)
}

func eResources(e *jl.Enc, r *specs.LinuxResources) {
	w := e.Open()
	jl.OA(e, "devices", r.Devices, func(e *jl.Enc, d *specs.LinuxDeviceCgroup) {
		w := e.Open()
		jl.B(e, "allow", d.Allow)
		jl.OS(e, "type", d.Type)
		jl.OP(e, "major", d.Major, jl.VI[int64])
		jl.OP(e, "minor", d.Minor, jl.VI[int64])
		jl.OS(e, "access", d.Access)
		e.Close(w)
	})
	jl.OP(e, "memory", r.Memory, func(e *jl.Enc, m *specs.LinuxMemory) {
		w := e.Open()
		jl.OP(e, "limit", m.Limit, jl.VI[int64])
		jl.OP(e, "reservation", m.Reservation, jl.VI[int64])
		jl.OP(e, "swap", m.Swap, jl.VI[int64])
		jl.OP(e, "kernel", m.Kernel, jl.VI[int64])
		jl.OP(e, "kernelTCP", m.KernelTCP, jl.VI[int64])
		jl.OP(e, "swappiness", m.Swappiness, jl.VU[uint64])
		jl.OP(e, "disableOOMKiller", m.DisableOOMKiller, jl.VB)
		jl.OP(e, "useHierarchy", m.UseHierarchy, jl.VB)
		jl.OP(e, "checkBeforeUpdate", m.CheckBeforeUpdate, jl.VB)
		e.Close(w)
	})
	jl.OP(e, "cpu", r.CPU, func(e *jl.Enc, c *specs.LinuxCPU) {
		w := e.Open()
		jl.OP(e, "shares", c.Shares, jl.VU[uint64])
		jl.OP(e, "quota", c.Quota, jl.VI[int64])
		jl.OP(e, "burst", c.Burst, jl.VU[uint64])
		jl.OP(e, "period", c.Period, jl.VU[uint64])
		jl.OP(e, "realtimeRuntime", c.RealtimeRuntime, jl.VI[int64])
		jl.OP(e, "realtimePeriod", c.RealtimePeriod, jl.VU[uint64])
		jl.OS(e, "cpus", c.Cpus)
		jl.OS(e, "mems", c.Mems)
		jl.OP(e, "idle", c.Idle, jl.VI[int64])
		e.Close(w)
	})
	jl.OP(e, "pids", r.Pids, func(e *jl.Enc, p *specs.LinuxPids) {
		w := e.Open()
		jl.OP(e, "limit", p.Limit, jl.VI[int64])
		e.Close(w)
	})
	jl.OP(e, "blockIO", r.BlockIO, func(e *jl.Enc, b *specs.LinuxBlockIO) {
		w := e.Open()
		jl.OP(e, "weight", b.Weight, jl.VU[uint16])
		jl.OP(e, "leafWeight", b.LeafWeight, jl.VU[uint16])
		jl.OA(e, "weightDevice", b.WeightDevice, func(e *jl.Enc, d *specs.LinuxWeightDevice) {
			w := e.Open()
			jl.I(e, "major", d.Major)
			jl.I(e, "minor", d.Minor)
			jl.OP(e, "weight", d.Weight, jl.VU[uint16])
			jl.OP(e, "leafWeight", d.LeafWeight, jl.VU[uint16])
			e.Close(w)
		})
		jl.OA(e, "throttleReadBpsDevice", b.ThrottleReadBpsDevice, eThrottle)
		jl.OA(e, "throttleWriteBpsDevice", b.ThrottleWriteBpsDevice, eThrottle)
		jl.OA(e, "throttleReadIOPSDevice", b.ThrottleReadIOPSDevice, eThrottle)
		jl.OA(e, "throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice, eThrottle)
		e.Close(w)
	})
	jl.OA(e, "hugepageLimits", r.HugepageLimits, func(e *jl.Enc, h *specs.LinuxHugepageLimit) {
		w := e.Open()
		jl.S(e, "pageSize", h.Pagesize)
		jl.U(e, "limit", h.Limit)
		e.Close(w)
	})
	jl.OP(e, "network", r.Network, func(e *jl.Enc, n *specs.LinuxNetwork) {
		w := e.Open()
		jl.OP(e, "classID", n.ClassID, jl.VU[uint32])
		jl.OA(e, "priorities", n.Priorities, func(e *jl.Enc, p *specs.LinuxInterfacePriority) {
			w := e.Open()
			jl.S(e, "name", p.Name)
			jl.U(e, "priority", p.Priority)
			e.Close(w)
		})
		e.Close(w)
	})
	jl.OM(e, "rdma", r.Rdma, func(e *jl.Enc, v *specs.LinuxRdma) {
		w := e.Open()
		jl.OP(e, "hcaHandles", v.HcaHandles, jl.VU[uint32])
		jl.OP(e, "hcaObjects", v.HcaObjects, jl.VU[uint32])
		e.Close(w)
	})
	jl.OM(e, "unified", r.Unified, jl.VS[string])
	e.Close(w)
}

func eThrottle(e *jl.Enc, t *specs.LinuxThrottleDevice) {
	w := e.Open()
	jl.I(e, "major", t.Major)
	jl.I(e, "minor", t.Minor)
	jl.U(e, "rate", t.Rate)
	e.Close(w)
}

func eSeccomp(e *jl.Enc, s *specs.LinuxSeccomp) {
	w := e.Open()
	jl.S(e, "defaultAction", s.DefaultAction)
	jl.OP(e, "defaultErrnoRet", s.DefaultErrnoRet, jl.VU[uint])
	jl.OA(e, "architectures", s.Architectures, jl.VS[specs.Arch])
	jl.OA(e, "flags", s.Flags, jl.VS[specs.LinuxSeccompFlag])
	jl.OS(e, "listenerPath", s.ListenerPath)
	jl.OS(e, "listenerMetadata", s.ListenerMetadata)
	jl.OA(e, "syscalls", s.Syscalls, func(e *jl.Enc, c *specs.LinuxSyscall) {
		w := e.Open()
		e.Key("names")
		jl.VStrs(e, &c.Names)
		jl.S(e, "action", c.Action)
		jl.OP(e, "errnoRet", c.ErrnoRet, jl.VU[uint])
		jl.OA(e, "args", c.Args, func(e *jl.Enc, a *specs.LinuxSeccompArg) {
			w := e.Open()
			jl.U(e, "index", a.Index)
			jl.U(e, "value", a.Value)
			jl.OU(e, "valueTwo", a.ValueTwo)
			jl.S(e, "op", a.Op)
			e.Close(w)
		})
		e.Close(w)
	})
	e.Close(w)
}
