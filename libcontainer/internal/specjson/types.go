package specjson

import (
	"io/fs"

	jl "github.com/hullrt/hull/libcontainer/internal/jsonlite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The spec's types for Decode, field by field with their json names
// (runtime-spec v1.3.0). A key not listed here makes Decode decline.

func specObj(d *jl.Dec, s *specs.Spec) {
	d.Obj(func(k string) bool {
		switch k {
		case "ociVersion":
			jl.Str(d, &s.Version)
		case "process":
			jl.Ptr(d, &s.Process, fProcess)
		case "root":
			jl.Ptr(d, &s.Root, func(d *jl.Dec, r *specs.Root) {
				d.Obj(func(k string) bool {
					switch k {
					case "path":
						jl.Str(d, &r.Path)
					case "readonly":
						jl.Bool(d, &r.Readonly)
					default:
						return false
					}
					return true
				})
			})
		case "hostname":
			jl.Str(d, &s.Hostname)
		case "domainname":
			jl.Str(d, &s.Domainname)
		case "mounts":
			jl.Arr(d, &s.Mounts, fMount)
		case "hooks":
			jl.Ptr(d, &s.Hooks, fHooks)
		case "annotations":
			jl.Map(d, &s.Annotations, jl.Str[string])
		case "linux":
			jl.Ptr(d, &s.Linux, fLinux)
		default:
			return false
		}
		return true
	})
}

func fProcess(d *jl.Dec, p *specs.Process) {
	d.Obj(func(k string) bool {
		switch k {
		case "terminal":
			jl.Bool(d, &p.Terminal)
		case "consoleSize":
			jl.Ptr(d, &p.ConsoleSize, func(d *jl.Dec, b *specs.Box) {
				d.Obj(func(k string) bool {
					switch k {
					case "height":
						jl.Uint(d, &b.Height)
					case "width":
						jl.Uint(d, &b.Width)
					default:
						return false
					}
					return true
				})
			})
		case "user":
			if !d.Null() {
				fUser(d, &p.User)
			}
		case "args":
			d.Strs(&p.Args)
		case "commandLine":
			jl.Str(d, &p.CommandLine)
		case "env":
			d.Strs(&p.Env)
		case "cwd":
			jl.Str(d, &p.Cwd)
		case "capabilities":
			jl.Ptr(d, &p.Capabilities, fCaps)
		case "rlimits":
			jl.Arr(d, &p.Rlimits, func(d *jl.Dec, r *specs.POSIXRlimit) {
				d.Obj(func(k string) bool {
					switch k {
					case "type":
						jl.Str(d, &r.Type)
					case "hard":
						jl.Uint(d, &r.Hard)
					case "soft":
						jl.Uint(d, &r.Soft)
					default:
						return false
					}
					return true
				})
			})
		case "noNewPrivileges":
			jl.Bool(d, &p.NoNewPrivileges)
		case "apparmorProfile":
			jl.Str(d, &p.ApparmorProfile)
		case "oomScoreAdj":
			jl.Ptr(d, &p.OOMScoreAdj, jl.Int[int])
		case "scheduler":
			jl.Ptr(d, &p.Scheduler, fScheduler)
		case "selinuxLabel":
			jl.Str(d, &p.SelinuxLabel)
		case "ioPriority":
			jl.Ptr(d, &p.IOPriority, func(d *jl.Dec, io *specs.LinuxIOPriority) {
				d.Obj(func(k string) bool {
					switch k {
					case "class":
						jl.Str(d, &io.Class)
					case "priority":
						jl.Int(d, &io.Priority)
					default:
						return false
					}
					return true
				})
			})
		case "execCPUAffinity":
			jl.Ptr(d, &p.ExecCPUAffinity, func(d *jl.Dec, a *specs.CPUAffinity) {
				d.Obj(func(k string) bool {
					switch k {
					case "initial":
						jl.Str(d, &a.Initial)
					case "final":
						jl.Str(d, &a.Final)
					default:
						return false
					}
					return true
				})
			})
		default:
			return false
		}
		return true
	})
}

func fUser(d *jl.Dec, u *specs.User) {
	d.Obj(func(k string) bool {
		switch k {
		case "uid":
			jl.Uint(d, &u.UID)
		case "gid":
			jl.Uint(d, &u.GID)
		case "umask":
			jl.Ptr(d, &u.Umask, jl.Uint[uint32])
		case "additionalGids":
			jl.Arr(d, &u.AdditionalGids, jl.Uint[uint32])
		case "username":
			jl.Str(d, &u.Username)
		default:
			return false
		}
		return true
	})
}

func fCaps(d *jl.Dec, c *specs.LinuxCapabilities) {
	d.Obj(func(k string) bool {
		switch k {
		case "bounding":
			d.Strs(&c.Bounding)
		case "effective":
			d.Strs(&c.Effective)
		case "inheritable":
			d.Strs(&c.Inheritable)
		case "permitted":
			d.Strs(&c.Permitted)
		case "ambient":
			d.Strs(&c.Ambient)
		default:
			return false
		}
		return true
	})
}

func fScheduler(d *jl.Dec, s *specs.Scheduler) {
	d.Obj(func(k string) bool {
		switch k {
		case "policy":
			jl.Str(d, &s.Policy)
		case "nice":
			jl.Int(d, &s.Nice)
		case "priority":
			jl.Int(d, &s.Priority)
		case "flags":
			jl.Arr(d, &s.Flags, jl.Str[specs.LinuxSchedulerFlag])
		case "runtime":
			jl.Uint(d, &s.Runtime)
		case "deadline":
			jl.Uint(d, &s.Deadline)
		case "period":
			jl.Uint(d, &s.Period)
		default:
			return false
		}
		return true
	})
}

func fMount(d *jl.Dec, m *specs.Mount) {
	d.Obj(func(k string) bool {
		switch k {
		case "destination":
			jl.Str(d, &m.Destination)
		case "type":
			jl.Str(d, &m.Type)
		case "source":
			jl.Str(d, &m.Source)
		case "options":
			d.Strs(&m.Options)
		case "uidMappings":
			jl.Arr(d, &m.UIDMappings, fIDMap)
		case "gidMappings":
			jl.Arr(d, &m.GIDMappings, fIDMap)
		default:
			return false
		}
		return true
	})
}

func fIDMap(d *jl.Dec, m *specs.LinuxIDMapping) {
	d.Obj(func(k string) bool {
		switch k {
		case "containerID":
			jl.Uint(d, &m.ContainerID)
		case "hostID":
			jl.Uint(d, &m.HostID)
		case "size":
			jl.Uint(d, &m.Size)
		default:
			return false
		}
		return true
	})
}

func fHooks(d *jl.Dec, h *specs.Hooks) {
	d.Obj(func(k string) bool {
		switch k {
		case "prestart":
			jl.Arr(d, &h.Prestart, fHook)
		case "createRuntime":
			jl.Arr(d, &h.CreateRuntime, fHook)
		case "createContainer":
			jl.Arr(d, &h.CreateContainer, fHook)
		case "startContainer":
			jl.Arr(d, &h.StartContainer, fHook)
		case "poststart":
			jl.Arr(d, &h.Poststart, fHook)
		case "poststop":
			jl.Arr(d, &h.Poststop, fHook)
		default:
			return false
		}
		return true
	})
}

func fHook(d *jl.Dec, h *specs.Hook) {
	d.Obj(func(k string) bool {
		switch k {
		case "path":
			jl.Str(d, &h.Path)
		case "args":
			d.Strs(&h.Args)
		case "env":
			d.Strs(&h.Env)
		case "timeout":
			jl.Ptr(d, &h.Timeout, jl.Int[int])
		default:
			return false
		}
		return true
	})
}

func fLinux(d *jl.Dec, l *specs.Linux) {
	d.Obj(func(k string) bool {
		switch k {
		case "uidMappings":
			jl.Arr(d, &l.UIDMappings, fIDMap)
		case "gidMappings":
			jl.Arr(d, &l.GIDMappings, fIDMap)
		case "sysctl":
			jl.Map(d, &l.Sysctl, jl.Str[string])
		case "resources":
			jl.Ptr(d, &l.Resources, fResources)
		case "cgroupsPath":
			jl.Str(d, &l.CgroupsPath)
		case "namespaces":
			jl.Arr(d, &l.Namespaces, func(d *jl.Dec, n *specs.LinuxNamespace) {
				d.Obj(func(k string) bool {
					switch k {
					case "type":
						jl.Str(d, &n.Type)
					case "path":
						jl.Str(d, &n.Path)
					default:
						return false
					}
					return true
				})
			})
		case "devices":
			jl.Arr(d, &l.Devices, fDevice)
		case "netDevices":
			jl.Map(d, &l.NetDevices, func(d *jl.Dec, n *specs.LinuxNetDevice) {
				d.Obj(func(k string) bool {
					if k != "name" {
						return false
					}
					jl.Str(d, &n.Name)
					return true
				})
			})
		case "seccomp":
			jl.Ptr(d, &l.Seccomp, fSeccomp)
		case "rootfsPropagation":
			jl.Str(d, &l.RootfsPropagation)
		case "maskedPaths":
			d.Strs(&l.MaskedPaths)
		case "readonlyPaths":
			d.Strs(&l.ReadonlyPaths)
		case "mountLabel":
			jl.Str(d, &l.MountLabel)
		case "intelRdt":
			jl.Ptr(d, &l.IntelRdt, fIntelRdt)
		case "memoryPolicy":
			jl.Ptr(d, &l.MemoryPolicy, func(d *jl.Dec, m *specs.LinuxMemoryPolicy) {
				d.Obj(func(k string) bool {
					switch k {
					case "mode":
						jl.Str(d, &m.Mode)
					case "nodes":
						jl.Str(d, &m.Nodes)
					case "flags":
						jl.Arr(d, &m.Flags, jl.Str[specs.MemoryPolicyFlagType])
					default:
						return false
					}
					return true
				})
			})
		case "personality":
			jl.Ptr(d, &l.Personality, func(d *jl.Dec, p *specs.LinuxPersonality) {
				d.Obj(func(k string) bool {
					switch k {
					case "domain":
						jl.Str(d, &p.Domain)
					case "flags":
						jl.Arr(d, &p.Flags, jl.Str[specs.LinuxPersonalityFlag])
					default:
						return false
					}
					return true
				})
			})
		case "timeOffsets":
			jl.Map(d, &l.TimeOffsets, func(d *jl.Dec, t *specs.LinuxTimeOffset) {
				d.Obj(func(k string) bool {
					switch k {
					case "secs":
						jl.Int(d, &t.Secs)
					case "nanosecs":
						jl.Uint(d, &t.Nanosecs)
					default:
						return false
					}
					return true
				})
			})
		default:
			return false
		}
		return true
	})
}

func fDevice(d *jl.Dec, v *specs.LinuxDevice) {
	d.Obj(func(k string) bool {
		switch k {
		case "path":
			jl.Str(d, &v.Path)
		case "type":
			jl.Str(d, &v.Type)
		case "major":
			jl.Int(d, &v.Major)
		case "minor":
			jl.Int(d, &v.Minor)
		case "fileMode":
			jl.Ptr(d, &v.FileMode, jl.Uint[fs.FileMode])
		case "uid":
			jl.Ptr(d, &v.UID, jl.Uint[uint32])
		case "gid":
			jl.Ptr(d, &v.GID, jl.Uint[uint32])
		default:
			return false
		}
		return true
	})
}

func fResources(d *jl.Dec, r *specs.LinuxResources) {
	d.Obj(func(k string) bool {
		switch k {
		case "devices":
			jl.Arr(d, &r.Devices, func(d *jl.Dec, v *specs.LinuxDeviceCgroup) {
				d.Obj(func(k string) bool {
					switch k {
					case "allow":
						jl.Bool(d, &v.Allow)
					case "type":
						jl.Str(d, &v.Type)
					case "major":
						jl.Ptr(d, &v.Major, jl.Int[int64])
					case "minor":
						jl.Ptr(d, &v.Minor, jl.Int[int64])
					case "access":
						jl.Str(d, &v.Access)
					default:
						return false
					}
					return true
				})
			})
		case "memory":
			jl.Ptr(d, &r.Memory, fMemory)
		case "cpu":
			jl.Ptr(d, &r.CPU, fCPU)
		case "pids":
			jl.Ptr(d, &r.Pids, func(d *jl.Dec, p *specs.LinuxPids) {
				d.Obj(func(k string) bool {
					if k != "limit" {
						return false
					}
					jl.Ptr(d, &p.Limit, jl.Int[int64])
					return true
				})
			})
		case "blockIO":
			jl.Ptr(d, &r.BlockIO, fBlockIO)
		case "hugepageLimits":
			jl.Arr(d, &r.HugepageLimits, func(d *jl.Dec, h *specs.LinuxHugepageLimit) {
				d.Obj(func(k string) bool {
					switch k {
					case "pageSize":
						jl.Str(d, &h.Pagesize)
					case "limit":
						jl.Uint(d, &h.Limit)
					default:
						return false
					}
					return true
				})
			})
		case "network":
			jl.Ptr(d, &r.Network, func(d *jl.Dec, n *specs.LinuxNetwork) {
				d.Obj(func(k string) bool {
					switch k {
					case "classID":
						jl.Ptr(d, &n.ClassID, jl.Uint[uint32])
					case "priorities":
						jl.Arr(d, &n.Priorities, func(d *jl.Dec, p *specs.LinuxInterfacePriority) {
							d.Obj(func(k string) bool {
								switch k {
								case "name":
									jl.Str(d, &p.Name)
								case "priority":
									jl.Uint(d, &p.Priority)
								default:
									return false
								}
								return true
							})
						})
					default:
						return false
					}
					return true
				})
			})
		case "rdma":
			jl.Map(d, &r.Rdma, func(d *jl.Dec, v *specs.LinuxRdma) {
				d.Obj(func(k string) bool {
					switch k {
					case "hcaHandles":
						jl.Ptr(d, &v.HcaHandles, jl.Uint[uint32])
					case "hcaObjects":
						jl.Ptr(d, &v.HcaObjects, jl.Uint[uint32])
					default:
						return false
					}
					return true
				})
			})
		case "unified":
			jl.Map(d, &r.Unified, jl.Str[string])
		default:
			return false
		}
		return true
	})
}

func fMemory(d *jl.Dec, m *specs.LinuxMemory) {
	d.Obj(func(k string) bool {
		switch k {
		case "limit":
			jl.Ptr(d, &m.Limit, jl.Int[int64])
		case "reservation":
			jl.Ptr(d, &m.Reservation, jl.Int[int64])
		case "swap":
			jl.Ptr(d, &m.Swap, jl.Int[int64])
		case "kernel":
			jl.Ptr(d, &m.Kernel, jl.Int[int64])
		case "kernelTCP":
			jl.Ptr(d, &m.KernelTCP, jl.Int[int64])
		case "swappiness":
			jl.Ptr(d, &m.Swappiness, jl.Uint[uint64])
		case "disableOOMKiller":
			jl.Ptr(d, &m.DisableOOMKiller, jl.Bool)
		case "useHierarchy":
			jl.Ptr(d, &m.UseHierarchy, jl.Bool)
		case "checkBeforeUpdate":
			jl.Ptr(d, &m.CheckBeforeUpdate, jl.Bool)
		default:
			return false
		}
		return true
	})
}

func fCPU(d *jl.Dec, c *specs.LinuxCPU) {
	d.Obj(func(k string) bool {
		switch k {
		case "shares":
			jl.Ptr(d, &c.Shares, jl.Uint[uint64])
		case "quota":
			jl.Ptr(d, &c.Quota, jl.Int[int64])
		case "burst":
			jl.Ptr(d, &c.Burst, jl.Uint[uint64])
		case "period":
			jl.Ptr(d, &c.Period, jl.Uint[uint64])
		case "realtimeRuntime":
			jl.Ptr(d, &c.RealtimeRuntime, jl.Int[int64])
		case "realtimePeriod":
			jl.Ptr(d, &c.RealtimePeriod, jl.Uint[uint64])
		case "cpus":
			jl.Str(d, &c.Cpus)
		case "mems":
			jl.Str(d, &c.Mems)
		case "idle":
			jl.Ptr(d, &c.Idle, jl.Int[int64])
		default:
			return false
		}
		return true
	})
}

func fBlockIO(d *jl.Dec, b *specs.LinuxBlockIO) {
	d.Obj(func(k string) bool {
		switch k {
		case "weight":
			jl.Ptr(d, &b.Weight, jl.Uint[uint16])
		case "leafWeight":
			jl.Ptr(d, &b.LeafWeight, jl.Uint[uint16])
		case "weightDevice":
			jl.Arr(d, &b.WeightDevice, func(d *jl.Dec, w *specs.LinuxWeightDevice) {
				d.Obj(func(k string) bool {
					switch k {
					case "major":
						jl.Int(d, &w.Major)
					case "minor":
						jl.Int(d, &w.Minor)
					case "weight":
						jl.Ptr(d, &w.Weight, jl.Uint[uint16])
					case "leafWeight":
						jl.Ptr(d, &w.LeafWeight, jl.Uint[uint16])
					default:
						return false
					}
					return true
				})
			})
		case "throttleReadBpsDevice":
			jl.Arr(d, &b.ThrottleReadBpsDevice, fThrottle)
		case "throttleWriteBpsDevice":
			jl.Arr(d, &b.ThrottleWriteBpsDevice, fThrottle)
		case "throttleReadIOPSDevice":
			jl.Arr(d, &b.ThrottleReadIOPSDevice, fThrottle)
		case "throttleWriteIOPSDevice":
			jl.Arr(d, &b.ThrottleWriteIOPSDevice, fThrottle)
		default:
			return false
		}
		return true
	})
}

func fThrottle(d *jl.Dec, t *specs.LinuxThrottleDevice) {
	d.Obj(func(k string) bool {
		switch k {
		case "major":
			jl.Int(d, &t.Major)
		case "minor":
			jl.Int(d, &t.Minor)
		case "rate":
			jl.Uint(d, &t.Rate)
		default:
			return false
		}
		return true
	})
}

func fSeccomp(d *jl.Dec, s *specs.LinuxSeccomp) {
	d.Obj(func(k string) bool {
		switch k {
		case "defaultAction":
			jl.Str(d, &s.DefaultAction)
		case "defaultErrnoRet":
			jl.Ptr(d, &s.DefaultErrnoRet, jl.Uint[uint])
		case "architectures":
			jl.Arr(d, &s.Architectures, jl.Str[specs.Arch])
		case "flags":
			jl.Arr(d, &s.Flags, jl.Str[specs.LinuxSeccompFlag])
		case "listenerPath":
			jl.Str(d, &s.ListenerPath)
		case "listenerMetadata":
			jl.Str(d, &s.ListenerMetadata)
		case "syscalls":
			jl.Arr(d, &s.Syscalls, fSyscall)
		default:
			return false
		}
		return true
	})
}

func fSyscall(d *jl.Dec, s *specs.LinuxSyscall) {
	d.Obj(func(k string) bool {
		switch k {
		case "names":
			d.Strs(&s.Names)
		case "action":
			jl.Str(d, &s.Action)
		case "errnoRet":
			jl.Ptr(d, &s.ErrnoRet, jl.Uint[uint])
		case "args":
			jl.Arr(d, &s.Args, func(d *jl.Dec, a *specs.LinuxSeccompArg) {
				d.Obj(func(k string) bool {
					switch k {
					case "index":
						jl.Uint(d, &a.Index)
					case "value":
						jl.Uint(d, &a.Value)
					case "valueTwo":
						jl.Uint(d, &a.ValueTwo)
					case "op":
						jl.Str(d, &a.Op)
					default:
						return false
					}
					return true
				})
			})
		default:
			return false
		}
		return true
	})
}

func fIntelRdt(d *jl.Dec, r *specs.LinuxIntelRdt) {
	d.Obj(func(k string) bool {
		switch k {
		case "closID":
			jl.Str(d, &r.ClosID)
		case "schemata":
			d.Strs(&r.Schemata)
		case "l3CacheSchema":
			jl.Str(d, &r.L3CacheSchema)
		case "memBwSchema":
			jl.Str(d, &r.MemBwSchema)
		case "enableMonitoring":
			jl.Bool(d, &r.EnableMonitoring)
		default:
			return false
		}
		return true
	})
}
