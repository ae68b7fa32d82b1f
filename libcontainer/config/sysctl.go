package config

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// namespacedSysctl tells which namespace a sysctl belongs to; "" means it
// is not namespaced and must not be set from a container.
func namespacedSysctl(name string) specs.LinuxNamespaceType {
	switch name {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
		"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return specs.IPCNamespace
	case "kernel.hostname", "kernel.domainname":
		return specs.UTSNamespace
	}
	switch {
	case strings.HasPrefix(name, "fs.mqueue."):
		return specs.IPCNamespace
	case strings.HasPrefix(name, "net."):
		return specs.NetworkNamespace
	case strings.HasPrefix(name, "user."):
		return specs.UserNamespace
	}
	return ""
}

// validateSysctl refuses a sysctl that would change the host, with
// runc's messages: each namespaced sysctl needs its namespace in the
// container, kernel.hostname also conflicts with the hostname field.
func validateSysctl(s *specs.Spec) error {
	for k := range s.Linux.Sysctl {
		name := sysctlName(k)
		if !validSysctlPath(SysctlPath(k)) {
			return FieldErr("linux.sysctl."+k, "invalid name")
		}
		ns := namespacedSysctl(name)
		has := ns != "" && (HasNewNS(s, ns) || JoinsNS(s, ns))
		switch {
		case ns == specs.IPCNamespace && !has:
			return FieldErr("linux.sysctl."+k, "sysctl %q is not allowed in the hosts ipc namespace", name)
		case ns == specs.NetworkNamespace && !has:
			return FieldErr("linux.sysctl."+k, "sysctl %q not allowed in host network namespace", name)
		case ns == specs.UserNamespace && !has:
			return FieldErr("linux.sysctl."+k, "setting ucounts without a user namespace not allowed: %v", name)
		case ns == specs.UTSNamespace && has && name == "kernel.hostname":
			return FieldErr("linux.sysctl."+k, "sysctl %q is not allowed as it conflicts with the OCI %q field", name, "hostname")
		case !has:
			return FieldErr("linux.sysctl."+k, "sysctl %q is not in a separate kernel namespace", name)
		}
	}
	return nil
}
